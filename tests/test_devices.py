"""Training on several devices (``--devices``, ``keras.distribution.DataParallel``) gives
the weights one device gives, for the same global batch.

JAX fixes its device count when it starts, so the work runs in subprocesses with
``XLA_FLAGS=--xla_force_host_platform_device_count=4`` (4 virtual CPU devices; they
share the same cores, so nothing here is about speed). One subprocess (this file run
as a script, ``worker``) trains everything once; the tests read its report:

- mlpkit's jitted loop on 1, 2 and 4 devices, with dropout, sample weights, a
  shuffled order, a last batch that does not split evenly and validation: the same
  history and weights, up to the order of float additions (the gradients of each
  device's share are added up across devices);
- the compiled training program splits the batch (its HLO has 2 partitions and an
  all-reduce), and the variables stay replicated on every device;
- Keras's own ``fit`` under the same distribution (``engine = "keras"``), 2 devices
  against 1;
- a run on 2 devices interrupted at a step boundary and resumed ends bit for bit as
  the uninterrupted one, as on one device;
- what is refused: more devices than there are, a batch that does not split.

Then the command line (``mlpkit train --devices all``) and ``scripts/launch_hosts.sh``
with two processes on this machine joined by ``keras.distribution.initialize`` (JAX's
coordinator on loopback; CPU collectives through Gloo).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
# same weights "within float tolerance": the sums over the batch are split across devices
RTOL, ATOL = 1e-5, 1e-6


def virtual_env(devices: int, **more) -> dict:
    env = {**os.environ, "KERAS_BACKEND": "jax", "PYTHONUNBUFFERED": "1",
           "XLA_FLAGS": f"--xla_force_host_platform_device_count={devices}", **more}
    env.pop("KERAS_DISTRIBUTION_NUM_PROCESSES", None)
    return env


def toy(n: int = 101, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 8)).astype("float32")
    y = ((x[:, 0] + x[:, 1] > 0).astype("int64") + (x[:, 2] > 0.5)).astype("int64")
    return x, y


# --- the worker: runs in a subprocess with 4 virtual devices ------------------------------

def worker(dump: str) -> dict:
    import jax
    import keras

    import mlpkit
    from mlpkit import checkpoints, distribution, jax_loop, models, training
    from mlpkit import config as cfg
    from mlpkit.data.dataset import Dataset
    from mlpkit.errors import ConfigError, Interrupted

    report: dict = {"devices": len(jax.devices())}
    x, y = toy()  # 101 rows, batches of 16: the last of 5 does not split over 2 or 4
    xv, yv = toy(30, seed=1)
    w = np.linspace(0.5, 1.5, len(x)).astype("float32")
    t = cfg.TrainingConfig(optimizer="adam", learning_rate=0.01, batch_size=16)

    def build():
        keras.utils.set_random_seed(1)
        m = models.build_mlp((8,), (16, 16), "relu", 3, "softmax", dropout=0.2)
        return training.compile_model(m, "multiclass", t)

    loop = {}
    for n in (1, 2, 4):
        with distribution.use(n, 16):
            m = build()
            initial = [v.tolist() for v in m.get_weights()]
            h = jax_loop.fit(m, x, y, epochs=2, batch_size=16, validation_data=(xv, yv),
                             verbose=0, seed=3, sample_weight=w)
            kernel = m.trainable_variables[0].value.sharding
            loop[n] = {"initial": initial, "weights": [v.tolist() for v in m.get_weights()],
                       "history": h.history, "kernel_devices": len(kernel.device_set),
                       "kernel_replicated": bool(kernel.is_fully_replicated)}
        report["distribution_after"] = repr(keras.distribution.distribution())
    report["loop"] = loop
    report["hlo"] = [p.read_text() for p in Path(dump).glob("*train_block*after_optimizations.txt")]

    fit = {}
    for n in (1, 2):
        with distribution.use(n, 16):
            m = build()
            m.fit(x[:96], y[:96], epochs=2, batch_size=16, shuffle=False, verbose=0)
            fit[n] = [v.tolist() for v in m.get_weights()]
    report["keras_fit"] = fit

    ds = Dataset("fashion-mnist", "multiclass", x[:80], y[:80], xv, yv, x[80:], y[80:],
                 ["a", "b", "c"])
    settings = dict(epochs=3, hidden=(8,), batch_size=16, optimizer="adam",
                    learning_rate=0.01, checkpoint_steps=2, verbose=0, devices=2)
    tmp = Path(dump).parent
    base = mlpkit.train(ds, out=tmp / "base", **settings)
    original, calls = checkpoints.Checkpointer.on_block_end, []

    def on_block_end(self, position, interrupted):  # Ctrl-C after the 4th compiled call
        calls.append(position)
        if len(calls) == 4:
            os.kill(os.getpid(), signal.SIGINT)
        return original(self, position, interrupted)

    checkpoints.Checkpointer.on_block_end = on_block_end
    try:
        mlpkit.train(ds, out=tmp / "cut", **settings)
        report["interrupted"] = False
    except Interrupted as e:
        report["interrupted"] = str(e)
    checkpoints.Checkpointer.on_block_end = original
    resumed = mlpkit.resume(tmp / "cut", dataset=ds, verbose=0)
    report["resume"] = {
        "base": [v.tolist() for v in base.model.get_weights()],
        "resumed": [v.tolist() for v in resumed.model.get_weights()],
        "base_optimizer": [np.asarray(v.value).tolist() for v in base.model.optimizer.variables],
        "resumed_optimizer": [np.asarray(v.value).tolist()
                              for v in resumed.model.optimizer.variables],
        "history_equal": base.history == resumed.history,
        "manifest": json.loads((tmp / "cut" / "manifest.json").read_text()),
    }
    errors = {}
    for name, extra in (("too_many", dict(devices=8)), ("uneven", dict(devices=4,
                                                                      batch_size=30))):
        try:
            mlpkit.train(ds, out=tmp / name, **{**settings, **extra})
        except ConfigError as e:
            errors[name] = {"message": str(e), "folder": (tmp / name).exists()}
    report["errors"] = errors
    return report


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("devices")
    dump = tmp / "hlo"
    env = virtual_env(4)
    env["XLA_FLAGS"] += f" --xla_dump_to={dump} --xla_dump_hlo_module_re=.*train_block.*"
    env["MLPKIT_JAX_CACHE"] = "0"  # a cached program is not compiled, so not dumped
    r = subprocess.run([sys.executable, __file__, str(dump)], capture_output=True, text=True,
                       env=env, cwd=tmp, timeout=600)
    assert r.returncode == 0, r.stderr[-4000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


def assert_same_weights(actual, expected):
    for a, e in zip(actual, expected, strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(e), rtol=RTOL, atol=ATOL)


# --- the tests -----------------------------------------------------------------------------

@pytest.mark.parametrize("n", ["2", "4"])
def test_jitted_loop_on_n_devices_gives_the_weights_of_one(report, n):
    assert report["devices"] == 4
    one, many = report["loop"]["1"], report["loop"][n]
    assert many["initial"] == one["initial"]  # same seed, same start
    assert_same_weights(many["weights"], one["weights"])
    for key, values in one["history"].items():
        np.testing.assert_allclose(many["history"][key], values, rtol=RTOL, atol=ATOL)
    # and training did move the weights: the comparison means something
    assert max(np.max(np.abs(np.asarray(a) - np.asarray(b)))
               for a, b in zip(one["weights"], one["initial"])) > 1e-2


def test_variables_replicated_and_batch_split(report):
    loop = report["loop"]
    assert (loop["1"]["kernel_devices"], loop["2"]["kernel_devices"],
            loop["4"]["kernel_devices"]) == (1, 2, 4)
    assert loop["2"]["kernel_replicated"] and loop["4"]["kernel_replicated"]
    assert report["distribution_after"] == "None"  # put back after the block
    split = [h for h in report["hlo"] if "num_partitions=2" in h]
    assert split, "no training program compiled for 2 devices"
    assert all("all-reduce" in h for h in split)  # the gradients are added across devices


def test_keras_fit_under_the_distribution_too(report):
    assert_same_weights(report["keras_fit"]["2"], report["keras_fit"]["1"])


def test_resume_on_two_devices_is_exact(report):
    r = report["resume"]
    assert r["manifest"]["status"] == "completed" and len(r["manifest"]["resumed"]) == 1
    assert "checkpoint saved" in report["interrupted"]
    for a, b in zip(r["resumed"], r["base"], strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    for a, b in zip(r["resumed_optimizer"], r["base_optimizer"], strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert r["history_equal"]
    d = r["manifest"]["devices"]
    assert (d["count"], d["global_batch_size"], d["per_device_batch_size"],
            d["learning_rate"], d["strategy"]) == (2, 16, 8, 0.01,
                                                   "keras.distribution.DataParallel")


def test_refused_before_a_run_folder_exists(report):
    e = report["errors"]
    assert e["too_many"]["message"] == (
        "devices must be at most the 4 cpu devices JAX sees, or all. On CPU, XLA_FLAGS="
        "--xla_force_host_platform_device_count=N (set before mlpkit starts) makes N virtual "
        "devices. Received: devices=8")
    assert e["uneven"]["message"].startswith("batch_size must be a multiple of the 4 devices")
    assert e["uneven"]["message"].endswith("(e.g. 28 or 32). Received: batch_size=30")
    assert not e["too_many"]["folder"] and not e["uneven"]["folder"]


def test_cli_devices_all_records_the_global_batch(tmp_path):
    x, y = toy(120)
    np.savez(tmp_path / "d.npz", x_train=x, y_train=y)
    r = subprocess.run([sys.executable, "-m", "mlpkit", "train", str(tmp_path / "d.npz"),
                        "--devices", "all", "--epochs", "1", "--batch-size", "8",
                        "--learning-rate", "0.003", "--verbose", "0", "--out",
                        str(tmp_path / "run")], capture_output=True, text=True,
                       env=virtual_env(2), timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    d = manifest["devices"]
    assert (d["count"], d["names"], d["processes"]) == (2, ["cpu:0", "cpu:1"], 1)
    assert (d["global_batch_size"], d["per_device_batch_size"], d["learning_rate"]) == (
        8, 4, 0.003)
    assert 'devices = "all"' in (tmp_path / "run" / "config.toml").read_text()


def test_two_processes_joined_by_the_launcher(tmp_path):
    """scripts/launch_hosts.sh --local 2: two processes, one CPU device each, joined by
    keras.distribution.initialize; each batch split across both; both end with the
    weights of one process on one device."""
    x, y = toy(120)
    np.savez(tmp_path / "d.npz", x_train=x, y_train=y)
    args = ["train", str(tmp_path / "d.npz"), "--epochs", "2", "--batch-size", "8",
            "--verbose", "0"]
    env = virtual_env(1, MLPKIT_JAX_CACHE="0")
    launched = subprocess.run(
        [str(ROOT / "scripts" / "launch_hosts.sh"), "--local", "2", "--", sys.executable,
         "-m", "mlpkit", *args, "--devices", "all", "--out", str(tmp_path / "p{process_id}")],
        capture_output=True, text=True, env=env, timeout=600)
    assert launched.returncode == 0, launched.stdout[-2000:] + launched.stderr[-3000:]
    # the same run in one process on one device, and the three models' weights
    code = ("import json, sys, keras, mlpkit; one = mlpkit.train(sys.argv[1], epochs=2, "
            "batch_size=8, verbose=0, out=sys.argv[2]).model; load = keras.saving.load_model; "
            "print(json.dumps({k: [w.tolist() for w in m.get_weights()] for k, m in "
            "(('one', one), ('p0', load(sys.argv[3])), ('p1', load(sys.argv[4])))}))")
    r = subprocess.run([sys.executable, "-c", code, str(tmp_path / "d.npz"),
                        str(tmp_path / "one"), str(tmp_path / "p0" / "model.keras"),
                        str(tmp_path / "p1" / "model.keras")],
                       capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    weights = json.loads(r.stdout.strip().splitlines()[-1])
    for i in (0, 1):
        d = json.loads((tmp_path / f"p{i}" / "manifest.json").read_text())["devices"]
        assert (d["count"], d["processes"], d["process_id"]) == (2, 2, i)
    for a, b in zip(weights["p0"], weights["p1"], strict=True):  # one computation
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert_same_weights(weights["p0"], weights["one"])


if __name__ == "__main__":
    print(json.dumps(worker(sys.argv[1])))
