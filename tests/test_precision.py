"""``--precision``: Keras's dtype policies, loss scaling for float16, recorded in the run.

mlpkit's jitted loop must do what Keras's ``fit`` does under a mixed policy: layers
compute in bfloat16 or float16, variables and the output layer stay float32, and for
float16 the ``LossScaleOptimizer`` scales the loss before the gradients, unscales
them after and skips a step whose gradients overflow (halving the scale). On CPU both
run the same program pieces, so the twins below agree bit for bit.
"""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

import mlpkit
from mlpkit import config as cfg
from mlpkit import jax_loop, models, precision, training
from mlpkit.data.dataset import Dataset
from mlpkit.errors import ConfigError


def toy(n: int = 96):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 8)).astype("float32")
    y = ((x[:, 0] + x[:, 1] > 0).astype("int64") + (x[:, 2] > 0.5)).astype("int64")
    return x, y


def twins(policy: str, initial_scale: float | None = None):
    """Two compiled copies of one small MLP built under ``policy``, same initial weights."""
    t = cfg.TrainingConfig(optimizer="adam", learning_rate=0.01, batch_size=16,
                           precision=policy)
    out = []
    for _ in range(2):
        keras.utils.set_random_seed(1)
        with precision.use(policy):
            m = precision.finish_model(models.build_mlp((8,), (16,), "relu", 3, "softmax"),
                                       policy)
        training.compile_model(m, "multiclass", t)
        if initial_scale:
            m.optimizer.initial_scale = initial_scale  # read when the optimizer is built
        out.append(m)
    return out


def variables(m) -> list[tuple[str, np.ndarray]]:
    """The optimizer's variables, in order, with their names (which name the model)."""
    return [(v.name, np.asarray(v.value)) for v in m.optimizer.variables]


def assert_same_variables(a, b, **tolerance):
    va, vb = variables(a), variables(b)
    assert len(va) == len(vb)
    for (_, x), (_, y) in zip(va, vb):
        np.testing.assert_allclose(y, x, **tolerance)


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
def test_jitted_loop_matches_keras_fit(policy):
    a, b = twins(policy)
    assert jax_loop.supported(b)  # the loop trains it, no fallback to fit
    assert precision.loss_scaled(b) == (policy == "mixed_float16")
    x, y = toy()
    ha = a.fit(x, y, epochs=2, batch_size=16, shuffle=False, verbose=0)
    hb = jax_loop.fit(b, x, y, epochs=2, batch_size=16, shuffle=False, verbose=0)
    for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_allclose(wb, wa, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(hb.history["loss"], ha.history["loss"], rtol=1e-6)
    assert_same_variables(a, b, rtol=1e-6, atol=1e-7)  # the loss scale and its counter too


def test_overflowing_float16_steps_are_skipped_and_the_scale_halved():
    """A loss scale of 2**40 overflows float16 in the backward pass: every step is
    skipped and the scale halved, in the loop as in fit. A loop that forgot to scale
    the loss would not overflow and would move the weights."""
    a, b = twins("mixed_float16", initial_scale=2.0 ** 40)
    start = b.get_weights()
    x, y = toy()
    a.fit(x, y, epochs=1, batch_size=16, shuffle=False, verbose=0)
    jax_loop.fit(b, x, y, epochs=1, batch_size=16, shuffle=False, verbose=0)
    for w0, wb in zip(start, b.get_weights(), strict=True):
        np.testing.assert_array_equal(wb, w0)
    assert [v for n, v in variables(b) if n == "dynamic_scale"] == [2.0 ** 34]  # 6 halvings
    assert_same_variables(a, b, rtol=0, atol=0)


@pytest.mark.parametrize("policy,compute,scaling", [
    ("float32", "float32", None),
    ("mixed_bfloat16", "bfloat16", None),
    ("mixed_float16", "float16", "dynamic (keras.optimizers.LossScaleOptimizer)")])
def test_run_records_the_policy_and_reloads_it(tmp_path, policy, compute, scaling):
    x, y = toy(120)
    ds = Dataset("fashion-mnist", "multiclass", x[:80], y[:80], x[80:100], y[80:100],
                 x[100:], y[100:], ["a", "b", "c"])
    run = mlpkit.train(ds, out=tmp_path / "run", epochs=1, hidden=(8,), batch_size=16,
                       optimizer="adam", verbose=0, precision=policy)
    assert keras.config.dtype_policy().name == "float32"  # put back after the build
    recorded = json.loads((tmp_path / "run" / "manifest.json").read_text())["precision"]
    assert recorded == {"policy": policy, "compute_dtype": compute,
                        "variable_dtype": "float32", "output_dtype": "float32",
                        "loss_scaling": scaling}
    assert f'precision = "{policy}"' in (tmp_path / "run" / "config.toml").read_text()
    dense = [layer for layer in run.model.layers if isinstance(layer, keras.layers.Dense)]
    assert [layer.compute_dtype for layer in dense] == [compute, "float32"]
    assert all(v.dtype == "float32" for v in run.model.trainable_weights)
    assert all(np.isfinite(run.history["loss"]))
    loaded = mlpkit.load_run(tmp_path / "run")
    assert [layer.dtype_policy.name for layer in loaded.model.layers] == [
        layer.dtype_policy.name for layer in run.model.layers]
    assert type(loaded.model.optimizer) is type(run.model.optimizer)  # LossScaleOptimizer too
    np.testing.assert_allclose(loaded.predict(x[:5]), run.predict(x[:5]), rtol=1e-6)


@pytest.mark.parametrize("policy,compute", [("mixed_bfloat16", "bfloat16"),
                                            ("mixed_float16", "float16")])
def test_an_ensemble_under_a_mixed_policy(tmp_path, policy, compute):
    """Members compute in the policy's dtype; their outputs and the mean stay float32."""
    x, y = toy(120)
    ds = Dataset("fashion-mnist", "multiclass", x[:80], y[:80], x[80:100], y[80:100],
                 x[100:], y[100:], ["a", "b", "c"])
    run = mlpkit.train(ds, out=tmp_path / "run", epochs=2, hidden=(8,), batch_size=16,
                       optimizer="adam", verbose=0, precision=policy, members=3)
    model = run.model
    assert [model.get_layer(f"member{i}_dense_0").compute_dtype for i in range(3)] == [compute] * 3
    assert [model.get_layer(f"member{i}_output").compute_dtype for i in range(3)] == ["float32"] * 3
    assert model.get_layer("mean").compute_dtype == "float32"
    assert all(np.isfinite(run.history["loss"])) and all(np.isfinite(run.history["val_loss"]))
    proba = run.model.predict(x[:5], verbose=0)
    assert proba.dtype == np.float32
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(mlpkit.load_run(tmp_path / "run").predict(x[:5]),
                               run.predict(x[:5]), rtol=1e-6)


def test_unknown_precision_is_refused_with_the_options():
    with pytest.raises(ConfigError, match=r"^precision must be one of float32, mixed_bfloat16, "
                                          r"mixed_float16\. Received: precision='half'$"):
        mlpkit.resolve_config("fashion-mnist", precision="half")
