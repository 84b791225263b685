"""A run that dies at any moment continues where it stopped and ends exactly as if it had
not (issue 11): same weights bit for bit, same optimizer state, same history.

Cheap first, in this process on a tiny data set: the checkpoint files (two kept, damage
detected), an interrupt at a step boundary, Keras's fit, damaged checkpoints, and what
``--resume`` refuses. Then the real command in subprocesses: killed at random moments
(SIGKILL, and once each SIGTERM and a truncated latest checkpoint), resumed each time,
against one uninterrupted run. JAX on CPU is deterministic: two runs with one seed
give bitwise-equal weights, so every comparison here is exact.
"""

from __future__ import annotations

import csv
import glob
import json
import logging
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import mlpkit
from mlpkit import checkpoints
from mlpkit.data.dataset import Dataset
from mlpkit.errors import Interrupted, RunError
from mlpkit.jax_loop import Position

from conftest import run_cli

# dropout (the model's random state), Adam (optimizer slots), a cosine schedule (its
# position is the iteration count), early stopping (its counters and best weights)
SETTINGS = dict(epochs=6, hidden=(8,), batch_size=16, dropout=0.2, patience=3,
                optimizer="adam", learning_rate=0.01, schedule="cosine", checkpoint_steps=5,
                verbose=0)


def toy() -> Dataset:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 6)).astype("float32")
    y = ((x[:, 0] + x[:, 1] + rng.normal(scale=1.0, size=300)) > 0).astype("int64")
    # a Dataset made in memory takes a built-in name for its presets
    return Dataset("fashion-mnist", "multiclass", x[:200], y[:200], x[200:250], y[200:250],
                   x[250:], y[250:], ["a", "b"])


def assert_same_run(a: mlpkit.Run, b: mlpkit.Run):
    """Bit for bit: weights, optimizer variables (iterations, slots), history, metrics."""
    for wa, wb in zip(a.model.get_weights(), b.model.get_weights(), strict=True):
        np.testing.assert_array_equal(wb, wa)
    for va, vb in zip(a.model.optimizer.variables, b.model.optimizer.variables, strict=True):
        np.testing.assert_array_equal(np.asarray(vb.value), np.asarray(va.value))
    assert b.history == a.history
    assert b.metrics == a.metrics


def history_rows(path: Path) -> list[dict]:
    with open(path / "history.csv", newline="") as f:
        return list(csv.DictReader(f))


def assert_continuous_history(path: Path, baseline: Path):
    rows, base = history_rows(path), history_rows(baseline)
    assert [r["epoch"] for r in rows] == [str(i + 1) for i in range(len(rows))]
    strip = lambda rs: [{k: v for k, v in r.items() if not k.endswith("_seconds")}  # noqa: E731
                        for r in rs]
    assert strip(rows) == strip(base)
    elapsed = [float(r["elapsed_seconds"]) for r in rows]
    assert all(e2 > e1 for e1, e2 in zip(elapsed, elapsed[1:]))  # carried over, not reset


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    """The uninterrupted run of ``toy()``, in this process."""
    return mlpkit.train(toy(), out=tmp_path_factory.mktemp("base") / "run", **SETTINGS)


def interrupt_at(monkeypatch, call: int):
    """Press Ctrl-C after the ``call``-th compiled call of the jitted loop."""
    original = checkpoints.Checkpointer.on_block_end
    calls = []

    def on_block_end(self, position, interrupted):
        calls.append(position)
        if len(calls) == call:
            os.kill(os.getpid(), signal.SIGINT)
        return original(self, position, interrupted)

    monkeypatch.setattr(checkpoints.Checkpointer, "on_block_end", on_block_end)


# --- the checkpoint files -----------------------------------------------------------------

def test_checkpoints_are_kept_two_at_a_time_and_damage_is_found(tmp_path, caplog):
    folder = tmp_path / "checkpoints"
    assert checkpoints.latest(tmp_path) is None
    arrays = {"trainable/0": np.arange(1000, dtype="float32"),
              "numpy_random": np.arange(624, dtype="uint32")}
    meta = {"x": 1, "callbacks": {}, "numpy_random": ["MT19937", 0, 0, 0.0], "fingerprint": ""}
    for position in (Position(1), Position(1, 5, 1.5, 0.5, 80), Position(2)):
        checkpoints.write(folder, position, arrays, meta)
    assert [p.name for p in checkpoints.listed(folder)] == [
        "epoch-0002-step-000000.npz", "epoch-0001-step-000005.npz"]  # the oldest deleted
    assert not list(folder.glob(".*tmp*"))
    ckpt = checkpoints.read(folder / "epoch-0001-step-000005.npz")
    assert ckpt.position == Position(1, 5, 1.5, 0.5, 80) and ckpt.meta["x"] == 1
    np.testing.assert_array_equal(ckpt.arrays["trainable/0"], arrays["trainable/0"])

    latest = folder / "epoch-0002-step-000000.npz"
    data = latest.read_bytes()
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0xFF  # inside the array's bytes: the zip's CRC says so
    latest.write_bytes(bytes(flipped))
    with pytest.raises(checkpoints.CheckpointError):
        checkpoints.read(latest)
    latest.write_bytes(data[:len(data) // 3])  # truncated
    with caplog.at_level(logging.WARNING, logger="mlpkit"):
        found = checkpoints.latest(tmp_path)
    assert found.position == Position(1, 5, 1.5, 0.5, 80)  # the previous one
    assert "damaged" in caplog.text and "using the previous" in caplog.text
    assert (folder / "epoch-0002-step-000000.npz.corrupt").exists()


# --- interrupts and resuming, in this process ---------------------------------------------

def test_ctrl_c_stops_at_a_step_boundary_and_resume_is_exact(baseline, tmp_path, monkeypatch):
    ds = toy()
    # 13 steps an epoch, cut every 5 steps: the 10th call ends at step 9 of epoch 3
    interrupt_at(monkeypatch, 10)
    with pytest.raises(Interrupted, match=r"checkpoint saved at epoch 3 of 6, step 9\. "
                                          r"Resume with: mlpkit\.resume\("):
        mlpkit.train(ds, out=tmp_path / "run", **SETTINGS)
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["status"] == "interrupted"
    saved = checkpoints.latest(tmp_path / "run")
    assert saved.position.epoch == 2 and saved.position.step == 9
    assert manifest["checkpoint"] == saved.path.name
    assert [r["epoch"] for r in history_rows(tmp_path / "run")] == ["1", "2"]
    monkeypatch.undo()

    run = mlpkit.resume(tmp_path / "run", dataset=ds, verbose=0)
    assert_same_run(baseline, run)
    assert_same_run(baseline, mlpkit.load_run(tmp_path / "run"))  # and as saved
    assert_continuous_history(tmp_path / "run", baseline.path)
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["status"] == "completed" and len(manifest["resumed"]) == 1
    assert not (tmp_path / "run" / "checkpoints").exists()  # model.keras is the result
    # the fit seconds of both sessions, as history.csv carries them over
    timings = manifest["timings"]
    elapsed = float(history_rows(tmp_path / "run")[-1]["elapsed_seconds"])
    assert timings["fit_seconds"] == max(timings["fit_seconds_this_session"], elapsed)


def test_a_run_interrupted_after_its_model_was_saved_is_not_used_until_resumed(baseline,
                                                                             tmp_path):
    """An interrupt while a run is evaluated and reported leaves model.keras but no
    finished run: evaluate and predict say so, as for any unfinished run."""
    import shutil

    shutil.copytree(baseline.path, tmp_path / "run")
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    manifest["status"] = "interrupted"
    (tmp_path / "run" / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(RunError, match=r"did not complete \(status: interrupted\).*"
                                       r"mlpkit train --resume"):
        mlpkit.load_run(tmp_path / "run").model
    r = run_cli("evaluate", tmp_path / "run")
    assert r.returncode == 2 and "did not complete (status: interrupted)" in r.stderr, r.stderr


def test_a_signal_during_the_imports_is_raised_after_them(monkeypatch):
    """Inside ``deferred_stop`` (importing Keras and JAX, where an exception raised in a
    native callback aborts the process) a signal is only recorded; it is raised after."""
    from mlpkit import errors

    monkeypatch.setattr(errors, "_STOP_REQUESTS", [])
    reached = []
    with pytest.raises(Interrupted):
        with errors.deferred_stop():
            errors.stop(signal.SIGINT)
            reached.append("after the signal")
    assert reached == ["after the signal"]
    with pytest.raises(Interrupted):  # outside: at once
        errors.stop(signal.SIGINT)


def test_a_dropped_stop_prints_no_traceback(monkeypatch):
    """Python prints "Exception ignored in ..." for an exception it drops; a stop it
    dropped is kept in the requests, so the command's hook leaves it unsaid, and passes
    on any other."""
    import gc

    from mlpkit import errors

    said = []
    monkeypatch.setattr(sys, "unraisablehook", said.append)

    def drop(exception):
        def callback(phase, info):
            gc.callbacks.remove(callback)
            raise exception
        gc.callbacks.append(callback)
        gc.collect()

    with errors.stopping_on(signal.SIGUSR1):
        drop(errors.Interrupted(signal.SIGTERM))
        drop(ValueError("another"))
    assert [type(info.exc_value) for info in said] == [ValueError]
    assert sys.unraisablehook == said.append


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_signal_whose_exception_python_dropped_still_stops_training(baseline, tmp_path,
                                                                     monkeypatch):
    """SIGTERM's handler raises, but Python drops an exception raised in a garbage-collector
    callback (JAX has one): the request is kept, and training stops at its next safe point,
    before the run folder exists or at a step boundary with a checkpoint."""
    import gc

    from mlpkit import errors

    def drop_a_stop(phase, info):  # SIGTERM landing in a gc callback, as it can
        gc.callbacks.remove(drop_a_stop)
        errors.stop(signal.SIGTERM)

    monkeypatch.setattr(errors, "_STOP_REQUESTS", [])
    gc.callbacks.append(drop_a_stop)
    gc.collect()  # returns: Python passed the exception to sys.unraisablehook
    assert errors._STOP_REQUESTS == [signal.SIGTERM]
    with pytest.raises(Interrupted):
        mlpkit.train(toy(), out=tmp_path / "early", **SETTINGS)
    assert not (tmp_path / "early").exists()

    # lost once training has begun: the loop stops at its next block and saves
    monkeypatch.setattr(errors, "_STOP_REQUESTS", [])
    original = checkpoints.Checkpointer.on_block_end
    calls = []

    def on_block_end(self, position, interrupted):
        calls.append(position)
        if len(calls) == 3:
            errors._STOP_REQUESTS.append(signal.SIGTERM)  # what a dropped stop() leaves
        return original(self, position, interrupted)

    monkeypatch.setattr(checkpoints.Checkpointer, "on_block_end", on_block_end)
    with pytest.raises(Interrupted, match="Resume with"):
        mlpkit.train(toy(), out=tmp_path / "run", **SETTINGS)
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["status"] == "interrupted" and manifest["checkpoint"]
    monkeypatch.undo()
    assert_same_run(baseline, mlpkit.resume(tmp_path / "run", dataset=toy(), verbose=0))

    # lost after the last step, or while the report was written: not "completed"
    from mlpkit import report, training

    for module, name in ((training, "fit"), (report, "build")):
        where = f"{module.__name__}.{name}"
        monkeypatch.setattr(errors, "_STOP_REQUESTS", [])
        monkeypatch.setattr(module, name, lambda *a, f=getattr(module, name), **k: (
            f(*a, **k), errors._STOP_REQUESTS.append(signal.SIGTERM))[0])
        with pytest.raises(Interrupted, match="Resume with"):
            mlpkit.train(toy(), out=tmp_path / where, **SETTINGS)
        manifest = json.loads((tmp_path / where / "manifest.json").read_text())
        assert manifest["status"] == "interrupted", where
        monkeypatch.undo()
        assert_same_run(baseline, mlpkit.resume(tmp_path / where, dataset=toy(), verbose=0))

    # Keras's fit (engine keras): at the epoch's end, once the epoch is checkpointed
    monkeypatch.setattr(errors, "_STOP_REQUESTS", [])
    original_end = training.HistoryCSV.on_epoch_end

    def on_epoch_end(self, epoch, logs=None):
        original_end(self, epoch, logs)
        if epoch == 2:
            errors._STOP_REQUESTS.append(signal.SIGTERM)

    monkeypatch.setattr(training.HistoryCSV, "on_epoch_end", on_epoch_end)
    with pytest.raises(Interrupted, match="checkpoint saved after epoch 3 of 6"):
        mlpkit.train(toy(), out=tmp_path / "fit", engine="keras", **SETTINGS)
    assert [r["epoch"] for r in history_rows(tmp_path / "fit")] == ["1", "2", "3"]
    monkeypatch.undo()


def test_an_ensemble_resumes_exactly(tmp_path, monkeypatch):
    """Its members' dropout states, slots and weights come back bit for bit."""
    ds, settings = toy(), {**SETTINGS, "members": 3}
    base = mlpkit.train(ds, out=tmp_path / "base", **settings)
    interrupt_at(monkeypatch, 7)
    with pytest.raises(Interrupted):
        mlpkit.train(ds, out=tmp_path / "run", **settings)
    monkeypatch.undo()
    run = mlpkit.resume(tmp_path / "run", dataset=ds, verbose=0)
    assert_same_run(base, run)
    assert_continuous_history(tmp_path / "run", base.path)


def test_damaged_checkpoints_fall_back_then_start_over(baseline, tmp_path, monkeypatch, caplog):
    ds = toy()
    interrupt_at(monkeypatch, 19)  # epoch 5, step 8
    with pytest.raises(Interrupted):
        mlpkit.train(ds, out=tmp_path / "run", **SETTINGS)
    monkeypatch.undo()
    latest, _ = checkpoints.listed(tmp_path / "run" / "checkpoints")
    latest.write_bytes(latest.read_bytes()[:100])  # truncated
    with caplog.at_level(logging.WARNING, logger="mlpkit"):
        run = mlpkit.resume(tmp_path / "run", dataset=ds, verbose=0)
    assert f"{latest.name} is damaged" in caplog.text.replace(str(latest), latest.name)
    assert_same_run(baseline, run)

    # both damaged: nothing to resume from, so from the first epoch; the same result
    interrupt_at(monkeypatch, 19)  # epoch 5, step 8
    with pytest.raises(Interrupted):
        mlpkit.train(ds, out=tmp_path / "again", **SETTINGS)
    monkeypatch.undo()
    for path in checkpoints.listed(tmp_path / "again" / "checkpoints"):
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="mlpkit"):
        run = mlpkit.resume(tmp_path / "again", dataset=ds, verbose=0)
    assert caplog.text.count("is damaged") == 2 and "from the first epoch" in caplog.text
    assert_same_run(baseline, run)


def test_keras_fit_resumes_at_epoch_boundaries(tmp_path, monkeypatch):
    """engine = "keras": a checkpoint at each epoch's end; Keras shuffles with NumPy's
    global random state, which the checkpoint restores."""
    ds = toy()
    settings = {**SETTINGS, "engine": "keras", "checkpoint_steps": 0}
    base = mlpkit.train(ds, out=tmp_path / "base", **settings)
    original = checkpoints.Checkpointer.on_epoch_end

    def crash_after_epoch_3(self, epoch, logs=None):
        original(self, epoch, logs)
        if epoch == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(checkpoints.Checkpointer, "on_epoch_end", crash_after_epoch_3)
    with pytest.raises(Interrupted, match="checkpoint saved after epoch 3 of 6"):
        mlpkit.train(ds, out=tmp_path / "run", **settings)
    monkeypatch.undo()
    assert_same_run(base, mlpkit.resume(tmp_path / "run", dataset=ds, verbose=0))


def test_several_targets_resume_exactly_and_a_checkpoint_of_the_plain_loss_is_refused(
        tmp_path, monkeypatch):
    """Several regression targets train on their scaled loss; a checkpoint from before it
    (no loss_scale in its meta: the plain mean squared error) is refused, not resumed on
    another loss with the old loss's best value and optimizer moments."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(300, 4)).astype("float32")
    y = np.stack([x[:, 0] * 1e4, x[:, 1] / 100], 1).astype("float32")
    ds = Dataset("california-housing", "regression", x[:200], y[:200], x[200:250], y[200:250],
                 x[250:], y[250:], None)
    settings = {k: v for k, v in SETTINGS.items() if k != "dropout"}
    base = mlpkit.train(ds, out=tmp_path / "base", **settings)
    assert type(base.model.loss).__name__ == "ScaledMeanSquaredError"
    interrupt_at(monkeypatch, 7)
    with pytest.raises(Interrupted):
        mlpkit.train(ds, out=tmp_path / "run", **settings)
    monkeypatch.undo()
    for path in checkpoints.listed(tmp_path / "run" / "checkpoints"):  # as written before
        with np.load(path) as f:
            arrays = {k: f[k] for k in f.files}
        meta = json.loads(bytes(arrays.pop("meta")).decode())
        assert meta.pop("loss_scale") == pytest.approx(y[:200].std(axis=0), rel=1e-5)
        np.savez(path, meta=np.frombuffer(json.dumps(meta).encode(), np.uint8), **arrays)
    with pytest.raises(RunError, match="trained with another loss .the plain mean squared"):
        mlpkit.resume(tmp_path / "run", dataset=ds, verbose=0)
    interrupt_at(monkeypatch, 7)  # written now: it resumes to the uninterrupted run
    with pytest.raises(Interrupted):
        mlpkit.train(ds, out=tmp_path / "again", **settings)
    monkeypatch.undo()
    assert_same_run(base, mlpkit.resume(tmp_path / "again", dataset=ds, verbose=0))


def test_what_resume_refuses(baseline, tmp_path, monkeypatch):
    ds = toy()
    with pytest.raises(RunError, match="already completed: nothing to resume"):
        mlpkit.resume(baseline.path, dataset=ds)
    interrupt_at(monkeypatch, 3)
    with pytest.raises(Interrupted):
        mlpkit.train(ds, out=tmp_path / "run", **SETTINGS)
    monkeypatch.undo()
    with pytest.raises(RunError, match="made in memory; resume it in Python"):
        mlpkit.resume(tmp_path / "run")
    lock = checkpoints.RunLock(tmp_path / "run").acquire()
    try:
        with pytest.raises(RunError, match=f"being trained by another process .pid {os.getpid()}"):
            mlpkit.resume(tmp_path / "run", dataset=ds)
    finally:
        lock.release()
    config = tmp_path / "run" / "config.toml"
    config.write_text(config.read_text().replace("learning_rate = 0.01", "learning_rate = 0.02"))
    with pytest.raises(RunError, match="saved with other settings than .*config.toml now holds"):
        mlpkit.resume(tmp_path / "run", dataset=ds)
    r = run_cli("train", "--resume", tmp_path / "run", "--epochs", "3")
    assert r.returncode == 2 and "drop --epochs" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


# --- the real command, killed at random moments ---------------------------------------------

# early stopping ends this run after 6 epochs of 80 steps (it restores epoch 3's weights)
CLI_ARGS = ["--epochs", "12", "--hidden", "32", "--batch-size", "8", "--checkpoint-steps", "7",
            "--dropout", "0.1", "--patience", "3", "--optimizer", "adam", "--learning-rate",
            "0.002", "--schedule", "cosine", "--verbose", "0"]


def start(args, env) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "mlpkit.cli", "train", *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def saved(run: Path) -> set:
    """The checkpoints now in the folder, with their times. The running process keeps two
    and deletes older ones, so a file listed may be gone before it is looked at."""
    found = set()
    for p in glob.glob(f"{run}/checkpoints/*.npz"):
        try:
            found.add((p, os.stat(p).st_mtime_ns))
        except FileNotFoundError:
            pass
    return found


def stop(proc: subprocess.Popen, run: Path, signum: int, delay: float,
         after_progress: bool) -> tuple[int, str]:
    """Send ``signum`` ``delay`` seconds after the start or, with ``after_progress``,
    after this process saved its first checkpoint (it is training)."""
    before, t0 = saved(run), time.monotonic()
    while after_progress and proc.poll() is None and time.monotonic() - t0 < 60:
        if saved(run) - before:
            break
        time.sleep(0.005)
    try:
        proc.wait(delay)
    except subprocess.TimeoutExpired:
        proc.send_signal(signum)
    _, err = proc.communicate(timeout=120)
    return proc.returncode, err


def test_killed_at_random_moments_resumes_to_the_same_run(tmp_path):
    """SIGKILL at random moments (once at any moment, then twice while it trains),
    SIGTERM once, and once a truncated latest checkpoint; each time
    `mlpkit train --resume`.
    The final weights, optimizer state, metrics and history equal an uninterrupted
    run's, which runs beside it meanwhile."""
    rng = np.random.default_rng(11)
    # 3,000 rows: enough steps that the planned signals land before training ends, even
    # when early stopping ends it after a few epochs
    x = rng.normal(size=(3000, 8)).astype("float32")
    y = ((x[:, :3].sum(axis=1) + rng.normal(scale=1.5, size=3000)) > 0).astype("int64")
    np.savez(tmp_path / "toy.npz", x_train=x, y_train=y)
    env = {**os.environ, "MLPKIT_CACHE": str(tmp_path / "cache")}
    base = start([tmp_path / "toy.npz", *CLI_ARGS, "--out", tmp_path / "base"], env)

    run = tmp_path / "run"
    chance = random.Random(1)
    plan = [(signal.SIGKILL, chance.uniform(0.3, 4.0), False),  # maybe before training
            (signal.SIGKILL, chance.uniform(0.0, 0.3), True),
            (signal.SIGTERM, chance.uniform(0.0, 0.3), True),
            ("truncate", 0, False),
            (signal.SIGKILL, chance.uniform(0.0, 0.3), True)]
    stopped, warned, truncated = [], "", False
    for signum, delay, after_progress in [*plan, (None, 0, False)]:
        if signum == "truncate":
            latest = checkpoints.listed(run / "checkpoints")[0]
            latest.write_bytes(latest.read_bytes()[:200])
            truncated = True
            continue
        began = (run / "config.toml").exists()
        args = ["--resume", run] if began else [tmp_path / "toy.npz", *CLI_ARGS, "--out", run]
        proc = start(args, env)
        if signum is None:
            _, err = proc.communicate(timeout=300)
            assert proc.returncode == 0, err
            warned = warned or (err if truncated else "")
            break
        rc, err = stop(proc, run, signum, delay, after_progress)
        if truncated:
            warned, truncated = err, False
        if rc == 0:  # finished before the signal
            break
        stopped.append(rc)
        if signum == signal.SIGTERM and rc == 143:
            assert "Interrupted: checkpoint saved" in err
            assert f"Resume with: mlpkit train --resume {run} (in Python: mlpkit.resume(" in err
            assert json.loads((run / "manifest.json").read_text())["status"] == "interrupted"
        else:
            assert rc == -signal.SIGKILL, err
    assert len(stopped) >= 4, f"training ended before the signals: {stopped}"
    assert "is damaged" in warned  # the truncated one, said by the next session
    _, err = base.communicate(timeout=300)
    assert base.returncode == 0, err

    a, b = mlpkit.load_run(tmp_path / "base"), mlpkit.load_run(run)
    assert b.manifest["status"] == "completed" and b.manifest["resumed"]
    assert_same_run(a, b)
    assert_continuous_history(run, tmp_path / "base")
    assert not list(run.rglob(".*tmp*"))  # what the kills left half-written is gone


def test_a_setting_added_later_keeps_older_runs_resumable():
    """A run saved before ``members``, ``target_scaling``, ``label_smoothing``,
    ``random_flip``, ``random_shift``, ``coordinates`` and ``coordinate_rotations`` existed
    has a fingerprint without them; at their defaults they stay out, any other value is a
    different run."""
    import dataclasses

    from mlpkit import config as cfg
    from mlpkit import files

    c = cfg.resolve("fashion-mnist", "seed")
    before = {k: v for k, v in cfg.to_dict(c).items() if k != "output"}
    del before["model"]["members"], before["model"]["target_scaling"]
    del before["model"]["random_flip"], before["model"]["random_shift"]
    del before["model"]["coordinates"], before["model"]["coordinate_rotations"]
    del before["training"]["label_smoothing"]
    assert checkpoints.fingerprint(c) == files.sha256_bytes(
        json.dumps(before, sort_keys=True).encode())
    for section, change in (("model", {"members": 2}),
                            ("model", {"target_scaling": "standardize"}),
                            ("training", {"label_smoothing": 0.1}),
                            ("model", {"random_flip": "vertical"}),
                            ("model", {"random_shift": 1}),
                            ("model", {"coordinates": ("lat", "lon")}),
                            ("model", {"coordinate_rotations": 3})):
        part = dataclasses.replace(getattr(c, section), **change)
        other = dataclasses.replace(c, **{section: part})
        assert checkpoints.fingerprint(other) != checkpoints.fingerprint(c)
