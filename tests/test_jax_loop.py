"""mlpkit's jitted loop must do the same arithmetic as Keras's fit and keep its contracts.

What "the same" means. The equivalence tests train twin models (same initial
weights, no shuffling), one with ``model.fit`` and one with the loop, and compare
histories and weights. Both sides run under
``jax.default_matmul_precision("highest")``: on NVIDIA GPUs JAX's default lets XLA
multiply float32 matrices in TF32 (10-bit mantissas), about 1e-3 off float32,
which is why the H200 missed rtol 1e-4. With float32 products everywhere what
remains is the order of the floating-point operations: XLA fuses the loop's
program (many steps in one ``fori_loop``) differently from Keras's one-step
program. On CPU that stays near float32 rounding, so the tolerance is tight
(rtol 1e-4 on weights). On a GPU, reductions are split across threads in an
order that depends on the program and a few steps amplify the differences, so
rtol is 1e-3: still well below what a learning rate not applied, a padded batch
or a lost update would show (those move weights by percents). Backends other
than cpu get the GPU tolerances.
"""

import logging
import os
import signal

import jax
import keras
import numpy as np
import pytest

from mlpkit import config as cfg
from mlpkit import jax_loop, metrics, models, training
from mlpkit.data.dataset import Dataset
from mlpkit.errors import ConfigError

TOLERANCE = {  # (rtol, atol) by jax.default_backend(): see the module docstring
    "cpu": {"history": (2e-4, 1e-6), "weights": (1e-4, 1e-6)},
    "gpu": {"history": (1e-3, 1e-5), "weights": (1e-3, 1e-5)},
}


def assert_close(actual, expected, what: str):
    rtol, atol = TOLERANCE.get(jax.default_backend(), TOLERANCE["gpu"])[what]
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)


def twin_models(build, optimizer="sgd", lr=0.05):
    """Two compiled copies of one model with identical initial weights."""
    t = cfg.TrainingConfig(optimizer=optimizer, learning_rate=lr)
    keras.utils.set_random_seed(1)
    a = build()
    b = build()
    b.set_weights(a.get_weights())
    return a, b, t


def fit_twins(a, b, x, y, callbacks=list, **kwargs):
    """Keras's fit on ``a``, the loop on ``b``, without shuffling, in float32 products."""
    with jax.default_matmul_precision("highest"):
        ha = a.fit(x, y, shuffle=False, callbacks=callbacks(), verbose=0, **kwargs)
        hb = jax_loop.fit(b, x, y, shuffle=False, callbacks=callbacks(), verbose=0, **kwargs)
    return ha, hb


def assert_same_training(a, ha, b, hb, keys):
    for key in keys:
        assert_close(hb.history[key], ha.history[key], "history")
    for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
        assert_close(wb, wa, "weights")


class WeightsAtEpochEnd(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(self.model.get_weights())


def classes(n, features=(4, 4), k=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, *features)).astype("float32"), rng.integers(0, k, n)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_same_history_as_keras_fit_without_shuffle(optimizer):
    x, y = classes(70)  # 70 = 2 batches of 32 + one of 6
    a, b, t = twin_models(lambda: models.build_mlp((4, 4), (8,), "relu", 3), optimizer)
    for m in (a, b):
        training.compile_model(m, "multiclass", t)
    ha, hb = fit_twins(a, b, x, y, epochs=3, batch_size=32, validation_data=(x[:20], y[:20]))
    assert hb.params["steps"] == 3
    assert_same_training(a, ha, b, hb, ("loss", "accuracy", "val_loss", "val_accuracy"))


def test_random_augmentation_draws_as_in_keras_fit():
    # the loop carries the layers' seed state as fit does: same flips, shifts, history
    x, y = classes(70, (6, 6))
    a, b, t = twin_models(lambda: models.build_mlp((6, 6), (8,), "relu", 3,
                                                   augment=("horizontal", 1)), "adam", 0.01)
    for va, vb in zip(a.non_trainable_variables, b.non_trainable_variables, strict=True):
        vb.assign(np.array(va))  # the seed generators' states (copied: fit donates buffers)
    start = a.get_weights()
    for m in (a, b):
        training.compile_model(m, "multiclass", t)
    ha, hb = fit_twins(a, b, x, y, epochs=3, batch_size=32)
    assert_same_training(a, ha, b, hb, ("loss", "accuracy"))
    plain = models.build_mlp((6, 6), (8,), "relu", 3)  # the same start, not augmented
    plain.set_weights(start)
    training.compile_model(plain, "multiclass", t)
    hp = jax_loop.fit(plain, x, y, shuffle=False, epochs=3, batch_size=32, verbose=0)
    assert not np.allclose(hp.history["loss"], hb.history["loss"]), "augmentation did nothing"


def test_regression_rmse_matches_keras():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(50, 3)).astype("float32")
    y = (x @ np.array([1.0, -2.0, 0.5]) + 0.1).astype("float32")
    a, b, t = twin_models(lambda: models.build_mlp((3,), (6,), "relu", 1, None, normalize=x),
                          "adam", 0.01)
    for m in (a, b):
        training.compile_model(m, "regression", t)
    ha, hb = fit_twins(a, b, x, y, epochs=2, batch_size=16, validation_data=(x, y))
    assert_same_training(a, ha, b, hb, ("loss", "rmse", "val_loss", "val_rmse"))


def test_several_targets_train_on_their_own_scales_as_keras_fit_does():
    """Several regression targets: the loop's loss is mlpkit's ScaledMeanSquaredError,
    each target's squared error over its variance, as Keras's fit computes it."""
    rng = np.random.default_rng(2)
    x = rng.normal(size=(60, 3)).astype("float32")
    y = np.stack([x @ np.array([1.0, -2.0, 0.5]) * 1000, x[:, 0] * 0.01], 1).astype("float32")
    scale = [float(v) for v in y.std(axis=0)]
    a, b, t = twin_models(lambda: models.build_mlp((3,), (6,), "relu", 2, None, normalize=x),
                          "adam", 0.01)
    for m in (a, b):
        training.compile_model(m, "regression", t, scale=scale)
    assert jax_loop.supported(b)
    w = rng.uniform(0.5, 2.0, size=60).astype("float32")  # weights scale each row's loss
    ha, hb = fit_twins(a, b, x, y, epochs=2, batch_size=16, sample_weight=w,
                       validation_data=(x, y))
    assert_same_training(a, ha, b, hb, ("loss", "rmse", "val_loss", "val_rmse"))
    p = b.predict(x, verbose=0)
    own = np.mean(((p - y) / np.asarray(scale)) ** 2)  # each target on its own scale
    assert hb.history["val_loss"][-1] == pytest.approx(own, rel=1e-4)
    assert hb.history["val_rmse"][-1] == pytest.approx(np.sqrt(np.mean((p - y) ** 2)), rel=1e-4)
    assert np.mean((p - y) ** 2) > 100 * own  # not the plain mean squared error


@pytest.mark.parametrize("task", ["multiclass", "onehot", "binary", "multilabel"])
def test_label_smoothing_trains_as_keras_fit_does(task):
    """The loop's smoothed loss is Keras's: CategoricalCrossentropy / BinaryCrossentropy
    with label_smoothing, and for class indices mlpkit's SparseCategoricalCrossentropy,
    which is Keras's categorical loss of the one-hot labels."""
    x, y, w, units, activation, one_hot = _task_data(task)
    a, b, _ = twin_models(lambda: models.build_mlp((4, 4), (8,), "relu", units, activation))
    t = cfg.TrainingConfig(optimizer="adam", learning_rate=0.01, label_smoothing=0.2)
    for m in (a, b):
        training.compile_model(m, task if task in ("binary", "multilabel") else "multiclass",
                               t, one_hot=one_hot)
    assert jax_loop.supported(b)
    ha, hb = fit_twins(a, b, x, y, epochs=2, batch_size=32, sample_weight=w,
                       validation_data=(x[:20], y[:20]))
    assert_same_training(a, ha, b, hb, ("loss", "accuracy", "val_loss", "val_accuracy"))
    if task == "multilabel":  # accuracy per label (Keras's "accuracy" would be categorical)
        p = b.predict(x[:20], verbose=0)
        assert hb.history["val_accuracy"][-1] == pytest.approx(
            float(np.mean((p > 0.5) == (y[:20] > 0.5))), abs=1e-6)
    if task == "multiclass":  # the sparse loss is the categorical one of one-hot labels
        p = b.predict(x, verbose=0)
        smoothed = keras.losses.CategoricalCrossentropy(label_smoothing=0.2)(
            np.eye(3)[y], p)
        np.testing.assert_allclose(b.loss(y, p), smoothed, rtol=1e-6)
        plain = keras.losses.SparseCategoricalCrossentropy()(y, p)
        assert abs(float(b.loss(y, p)) - float(plain)) > 1e-3  # it does smooth


def test_label_smoothing_is_refused_for_regression():
    model = models.build_mlp((3,), (4,), "relu", 1, None)
    with pytest.raises(ConfigError, match="label_smoothing applies to classification"):
        training.compile_model(model, "regression", cfg.TrainingConfig(label_smoothing=0.1))


def test_batch_normalization_never_sees_padding():
    """The last batch (6 rows) runs at its real size: no padding rows in the batch
    statistics, so the moving mean and variance match Keras's too."""
    x, y = classes(70, (5,))

    def build():
        return keras.Sequential([keras.Input((5,)), keras.layers.Dense(8),
                                 keras.layers.BatchNormalization(),
                                 keras.layers.Activation("relu"),
                                 keras.layers.Dense(3, activation="softmax")])

    a, b, t = twin_models(build)
    for m in (a, b):
        training.compile_model(m, "multiclass", t)
    ha, hb = fit_twins(a, b, x, y, epochs=2, batch_size=32)
    assert len(a.get_weights()) == 8  # moving mean and variance included
    assert_same_training(a, ha, b, hb, ("loss", "accuracy"))


def test_reduce_lr_on_plateau_takes_effect():
    x, y = classes(70)
    a, b, t = twin_models(lambda: models.build_mlp((4, 4), (8,), "relu", 3))
    for m in (a, b):
        training.compile_model(m, "multiclass", t)

    def callbacks():  # mode "max" on a falling loss: every epoch after the first is a plateau
        return [keras.callbacks.ReduceLROnPlateau("loss", factor=0.5, patience=1, mode="max")]

    ha, hb = fit_twins(a, b, x, y, epochs=4, batch_size=32, callbacks=callbacks)
    # logged before the callback lowers it: the rate each epoch trained with
    assert hb.history["learning_rate"] == pytest.approx([0.05, 0.05, 0.025, 0.0125])
    assert float(b.optimizer.learning_rate) == pytest.approx(0.00625)
    # trained with the reduced rates: the same weights as Keras's fit
    assert_same_training(a, ha, b, hb, ("loss", "accuracy", "learning_rate"))


def test_learning_rate_scheduler_takes_effect():
    x, y = classes(70)
    a, b, t = twin_models(lambda: models.build_mlp((4, 4), (8,), "relu", 3))
    for m in (a, b):
        training.compile_model(m, "multiclass", t)
    rates = [0.05, 0.0, 0.02]
    records = []

    def callbacks():
        records.append(WeightsAtEpochEnd())
        return [keras.callbacks.LearningRateScheduler(lambda epoch, lr: rates[epoch]),
                records[-1]]

    ha, hb = fit_twins(a, b, x, y, epochs=3, batch_size=32, callbacks=callbacks)
    assert float(b.optimizer.learning_rate) == pytest.approx(0.02)
    assert_same_training(a, ha, b, hb, ("loss", "accuracy"))
    # the rate of 0 in the second epoch: plain SGD leaves every weight as it was
    first, second, third = records[-1].weights  # the loop's
    for w1, w2 in zip(first, second):
        np.testing.assert_array_equal(w2, w1)
    assert any(not np.array_equal(w3, w2) for w2, w3 in zip(second, third))


def test_shuffles_with_the_seed():
    rng = np.random.default_rng(2)
    x = rng.random((64, 5)).astype("float32")
    y = rng.integers(0, 2, 64)

    def run(seed, shuffle=True):
        keras.utils.set_random_seed(0)
        m = training.compile_model(models.build_mlp((5,), (4,), "relu", 2),
                                   "multiclass", cfg.TrainingConfig(learning_rate=0.1))
        return jax_loop.fit(m, x, y, epochs=2, batch_size=8, seed=seed, shuffle=shuffle,
                            verbose=0).history["loss"]

    assert run(1) == run(1)
    assert run(1) != run(2)
    assert run(1, shuffle=False) == run(2, shuffle=False)


def test_early_stopping_restores_the_best_epochs_weights():
    rng = np.random.default_rng(3)
    x = rng.random((40, 5)).astype("float32")
    y = rng.integers(0, 2, 40)
    keras.utils.set_random_seed(0)
    m = training.compile_model(models.build_mlp((5,), (16,), "relu", 2), "multiclass",
                               cfg.TrainingConfig(learning_rate=0.5))
    record = WeightsAtEpochEnd()
    stop = keras.callbacks.EarlyStopping(patience=1, restore_best_weights=True)
    # validating on shuffled labels: val_loss soon stops improving
    h = jax_loop.fit(m, x, y, epochs=50, batch_size=8, validation_data=(x, rng.permutation(y)),
                     callbacks=[record, stop], verbose=0)
    assert len(h.epoch) < 50
    best = int(np.argmin(h.history["val_loss"]))
    assert best < len(h.epoch) - 1  # the last epoch was worse: restoring matters
    for w, expected in zip(m.get_weights(), record.weights[best], strict=True):
        np.testing.assert_array_equal(w, expected)
    assert any(not np.array_equal(w, last) for w, last in zip(m.get_weights(),
                                                                record.weights[-1]))


def test_progress_bar_counts_the_lecture_steps(capsys):
    x = np.zeros((70, 2), "float32")
    y = np.zeros(70, "int64")
    m = training.compile_model(models.build_mlp((2,), (2,), "relu", 2), "multiclass",
                               cfg.TrainingConfig())
    jax_loop.fit(m, x, y, epochs=2, batch_size=32, verbose=2)
    out = capsys.readouterr().out
    assert "Epoch 2/2" in out and "3/3" in out


class CtrlC(keras.callbacks.Callback):
    """Presses Ctrl-C ``times`` times after training batch ``at`` of the first epoch."""

    def __init__(self, at: int, times: int = 1):
        super().__init__()
        self.at, self.times, self.batches = at, times, []

    def on_train_batch_end(self, batch, logs=None):
        self.batches.append(batch)
        if batch == self.at and self.batches.count(batch) == 1:
            for _ in range(self.times):
                os.kill(os.getpid(), signal.SIGINT)


@pytest.mark.parametrize("times, batches_run", [(1, [1, 3]), (2, [1])])
def test_ctrl_c_mid_epoch_leaves_a_usable_model(monkeypatch, times, batches_run):
    """One Ctrl-C stops at the end of the running block (2 steps here); a second one
    interrupts at once. Either way the model holds the latest weights."""
    monkeypatch.setattr(jax_loop, "BLOCK", 2)
    x, y = classes(40, (5,))  # 10 batches of 4: 5 blocks
    keras.utils.set_random_seed(0)
    m = training.compile_model(models.build_mlp((5,), (8,), "relu", 3), "multiclass",
                               cfg.TrainingConfig(learning_rate=0.1))
    initial = m.get_weights()
    handler = signal.getsignal(signal.SIGINT)
    ctrl_c = CtrlC(at=batches_run[-1], times=times)
    with pytest.raises(KeyboardInterrupt):
        jax_loop.fit(m, x, y, epochs=3, batch_size=4, callbacks=[ctrl_c], verbose=0)
    assert ctrl_c.batches == batches_run
    assert signal.getsignal(signal.SIGINT) is handler
    assert int(m.optimizer.iterations) == 2 * len(batches_run)  # every step that ran
    assert np.isfinite(m.predict(x, verbose=0)).all()
    assert any(not np.array_equal(w, w0) for w, w0 in zip(m.get_weights(), initial))
    h = jax_loop.fit(m, x, y, epochs=1, batch_size=4, verbose=0)  # and it trains on
    assert len(h.epoch) == 1


def compiled(**kwargs):
    model = models.build_mlp((3,), (4,), "relu", 1, None)
    model.compile(optimizer="sgd", **kwargs)
    return model


def test_supported_names_what_the_loop_cannot_train():
    assert jax_loop.supported(compiled(loss="mse",
                                       metrics=[keras.metrics.RootMeanSquaredError("rmse")]))
    assert jax_loop.supported(compiled(loss="mse"))
    assert "loss='huber'" in jax_loop.unsupported(compiled(loss="huber"))
    assert "Huber" in jax_loop.unsupported(compiled(loss=keras.losses.Huber()))
    assert "metrics=['mae']" in jax_loop.unsupported(compiled(loss="mse", metrics=["mae"]))
    assert "metrics" in jax_loop.unsupported(compiled(loss="binary_crossentropy",
                                                      metrics=["accuracy", "mse"]))
    # Keras's cross-entropy objects themselves, at their defaults but label_smoothing
    assert jax_loop.supported(compiled(loss=keras.losses.BinaryCrossentropy(
        label_smoothing=0.1), metrics=["accuracy"]))
    assert jax_loop.supported(compiled(loss=metrics.keras_loss(
        "sparse_categorical_crossentropy", 0.1), metrics=["accuracy"]))
    for other in (keras.losses.BinaryCrossentropy(from_logits=True),
                  keras.losses.BinaryCrossentropy(dtype="bfloat16"),
                  keras.losses.BinaryCrossentropy(reduction="sum"),
                  keras.losses.SparseCategoricalCrossentropy(ignore_class=0)):
        assert jax_loop.unsupported(compiled(loss=other)), other

    class CategoricalCrossentropy(keras.losses.CategoricalCrossentropy):  # a user's own
        def call(self, y_true, y_pred):
            return 2 * super().call(y_true, y_pred)

    assert "CategoricalCrossentropy" in jax_loop.unsupported(
        compiled(loss=CategoricalCrossentropy()))
    with pytest.raises(ValueError, match="Received: loss='huber'. Train this model with"):
        jax_loop.fit(compiled(loss="huber"), np.zeros((4, 3)), np.zeros(4), epochs=1,
                     batch_size=2)


@pytest.mark.parametrize("compile_args", [{"loss": "huber"},
                                          {"loss": "mse", "metrics": ["mae"]}])
def test_what_the_loop_cannot_train_gets_keras_fit_and_a_note(caplog, compile_args):
    rng = np.random.default_rng(4)
    x = rng.normal(size=(40, 3)).astype("float32")
    y = x.sum(axis=1)
    ds = Dataset("toy", "regression", x[:30], y[:30], x[30:], y[30:], x[:0], y[:0])
    model = compiled(**compile_args)
    with caplog.at_level(logging.INFO, logger="mlpkit"):
        h = training.fit(model, ds, cfg.TrainingConfig(epochs=2, batch_size=8), verbose=0)
    assert h.epoch == [0, 1] and len(h.history["val_loss"]) == 2
    assert "uses Keras's fit" in caplog.text
    assert ("huber" if compile_args["loss"] == "huber" else "mae") in caplog.text


def _task_data(task, n=70):
    """Features, labels, sample weights, output units and activation for ``task``."""
    rng = np.random.default_rng(3)
    x = rng.random((n, 4, 4)).astype("float32")
    w = rng.uniform(0.5, 2.0, n).astype("float32")
    if task == "multiclass":
        return x, rng.integers(0, 3, n), None, 3, "softmax", False
    if task == "onehot":
        return x, np.eye(3, dtype="float32")[rng.integers(0, 3, n)], w, 3, "softmax", True
    if task == "binary":
        return x, rng.integers(0, 2, n).astype("float32"), w, 1, "sigmoid", False
    if task == "multilabel":
        return x, rng.integers(0, 2, (n, 3)).astype("float32"), w, 3, "sigmoid", False
    return x, (x.sum(axis=(1, 2)) + rng.normal(0, 0.1, n)).astype("float32"), w, 1, None, False


@pytest.mark.parametrize("optimizer,task", [("sgd", "multiclass"), ("adam", "multiclass"),
                                            ("sgd", "onehot"), ("sgd", "binary"),
                                            ("sgd", "regression")])
def test_ensemble_members_train_as_if_alone(optimizer, task):
    """Each member of an ensemble ends with the weights it reaches trained alone on the
    same batches (with the same sample weights); the loop logs their mean training loss
    and the ensemble's validation figures."""
    x, y, w, outputs, activation, one_hot = _task_data(task)
    kind = {"onehot": "multiclass"}.get(task, task)
    t = cfg.TrainingConfig(optimizer=optimizer, learning_rate=0.05)
    keras.utils.set_random_seed(1)
    ens = models.build_mlp((4, 4), (8, 5), "relu", outputs, activation, members=3)
    alone = [models.build_mlp((4, 4), (8, 5), "relu", outputs, activation) for _ in range(3)]
    for i, m in enumerate(alone):
        m.set_weights([v for name in ("dense_0", "dense_1", "output")
                       for v in ens.get_layer(f"member{i}_{name}").get_weights()])
    hist = {}
    with jax.default_matmul_precision("highest"):
        for key, m in [("ensemble", ens), *enumerate(alone)]:
            training.compile_model(m, kind, t, one_hot=one_hot)
            hist[key] = jax_loop.fit(m, x, y, shuffle=False, verbose=0, epochs=3, batch_size=32,
                                     sample_weight=w, validation_data=(x[:30], y[:30])).history
    for i, m in enumerate(alone):
        mine = [v for name in ("dense_0", "dense_1", "output")
                for v in ens.get_layer(f"member{i}_{name}").get_weights()]
        for got, want in zip(mine, m.get_weights(), strict=True):
            assert_close(got, want, "weights")
    metric = "rmse" if task == "regression" else "accuracy"
    assert_close(hist["ensemble"]["loss"], np.mean([hist[i]["loss"] for i in range(3)], axis=0),
                 "history")
    if metric == "accuracy":
        assert_close(hist["ensemble"][metric],
                     np.mean([hist[i][metric] for i in range(3)], axis=0), "history")
    pred = np.mean([m.predict(x[:30], verbose=0) for m in alone], axis=0)
    np.testing.assert_allclose(ens.predict(x[:30], verbose=0), pred, rtol=1e-4, atol=1e-6)
    expected = metrics.compute(metrics.loss_for(kind, one_hot), y[:30], pred)
    assert_close(hist["ensemble"]["val_loss"][-1], expected["loss"], "history")
    assert_close(hist["ensemble"][f"val_{metric}"][-1], expected[metric], "history")


@pytest.mark.parametrize("shift", [0, 1])
def test_ensemble_members_draw_their_own_shifts_in_the_loop(shift):
    """Members started from the same weights stay equal on the same batches without
    augmentation, and part with it: each draws its own shifts (its seed state moves on)."""
    x, y = classes(64)
    x = np.pad(x.reshape(-1, 4, 4), ((0, 0), (1, 1), (1, 1)))  # 6x6 images, room to move
    keras.utils.set_random_seed(2)
    ens = models.build_mlp((6, 6), (8,), "relu", 3, members=2, augment=("none", shift))
    for kind in ("dense_0", "output"):
        ens.get_layer(f"member1_{kind}").set_weights(ens.get_layer(f"member0_{kind}").get_weights())
    states = ([np.asarray(ens.get_layer(f"member{i}_random_shift").seed_generator.state.value)
               for i in range(2)] if shift else [])
    training.compile_model(ens, "multiclass", cfg.TrainingConfig(optimizer="adam"))
    jax_loop.fit(ens, x, y, shuffle=False, verbose=0, epochs=2, batch_size=16)
    w0, w1 = (ens.get_layer(f"member{i}_dense_0").get_weights()[0] for i in range(2))
    if not shift:
        np.testing.assert_allclose(w0, w1, rtol=1e-6, atol=1e-7)
        return
    assert not np.allclose(w0, w1, atol=1e-4)
    after = [np.asarray(ens.get_layer(f"member{i}_random_shift").seed_generator.state.value)
             for i in range(2)]
    assert not np.array_equal(states[0], states[1])  # each its own stream of draws
    assert all(not np.array_equal(a, b) for a, b in zip(states, after))  # and they moved on


def test_keras_fit_refuses_an_ensemble():
    from mlpkit.errors import ConfigError

    x, y = classes(40)
    ds = Dataset(name="blobs", x_train=x, y_train=y, x_valid=x[:10], y_valid=y[:10], x_test=x[:10],
                 y_test=y[:10], task="multiclass", class_names=["a", "b", "c"])
    t = cfg.TrainingConfig(engine="keras", epochs=1)
    model = training.compile_model(models.build_mlp((4, 4), (8,), members=2, outputs=3),
                                   "multiclass", t)
    with pytest.raises(ConfigError, match="members > 1.*jitted loop only"):
        training.fit(model, ds, t, verbose=0)
