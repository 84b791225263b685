"""Kill and resume: the lecture's recipe killed 20 times, ending exactly where an
uninterrupted run ends.

`mlpkit train fashion-mnist --preset seed` (SGD 0.01, batch 32, 30 epochs) runs
beside the same command that is killed with SIGKILL 20 times and continued with
`mlpkit train --resume RUN` each time. Each kill comes at a random moment after
the process saved its first checkpoint (so that every session moves the run on),
up to nine tenths of an epoch later: mid-epoch, between epochs, while a checkpoint is
written. Checkpoints are taken at every epoch's end and every CHECKPOINT_STEPS
steps. The figure: the kills survived, and whether the final weights, optimizer
state, test metrics and history.csv (all but its seconds) are equal, bit for bit,
to the uninterrupted run's; also the size and the time of one checkpoint of the
lecture's model.

    python benchmarks/bench_resume.py [KILLS] [EPOCHS]
"""

import csv
import glob
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import PYTHON, emit, load_average

KILLS = 20
CHECKPOINT_STEPS = 500
SEED = 20  # the random moments


def command(*args) -> list[str]:
    return [PYTHON, "-m", "mlpkit.cli", "train", *map(str, args)]


def saved(run: Path) -> set:
    return {(p, os.stat(p).st_mtime_ns) for p in glob.glob(f"{run}/checkpoints/*.npz")}


def kill_once(run: Path, args: list, delay: float) -> tuple[int, float]:
    """Start a session, SIGKILL it ``delay`` seconds after its first checkpoint;
    returns (exit status, seconds it ran)."""
    before, t0 = saved(run), time.monotonic()
    proc = subprocess.Popen(command(*args), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    while proc.poll() is None and not saved(run) - before:
        time.sleep(0.01)
    try:
        proc.wait(delay)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
    _, err = proc.communicate()
    if proc.returncode not in (0, -signal.SIGKILL):
        raise RuntimeError(f"session failed ({proc.returncode}):\n{err[-3000:]}")
    return proc.returncode, time.monotonic() - t0


def same_run(a: Path, b: Path) -> dict:
    import keras
    import numpy as np

    import mlpkit

    ra, rb = mlpkit.load_run(a), mlpkit.load_run(b)
    ma, mb = ra.model, rb.model
    weights = all(np.array_equal(x, y) for x, y in zip(ma.get_weights(), mb.get_weights(),
                                                       strict=True))
    optimizer = all(np.array_equal(keras.ops.convert_to_numpy(x.value),
                                   keras.ops.convert_to_numpy(y.value))
                    for x, y in zip(ma.optimizer.variables, mb.optimizer.variables, strict=True))

    def rows(run):
        with open(run / "history.csv", newline="") as f:
            return [{k: v for k, v in r.items() if not k.endswith("_seconds")}
                    for r in csv.DictReader(f)]

    return {"weights_equal": weights, "optimizer_equal": optimizer,
            "metrics_equal": ra.metrics == rb.metrics, "history_equal": rows(a) == rows(b),
            "epochs": len(rows(b)), "test_accuracy": round(rb.metrics["test_accuracy"], 4)}


def checkpoint_cost(reps: int = 20) -> dict:
    """Size and median seconds of one checkpoint of the lecture's model (SGD state),
    written to the end (training goes on meanwhile: a thread writes it)."""
    import numpy as np

    from mlpkit import checkpoints
    from mlpkit import config as cfg
    from mlpkit.data.dataset import Dataset
    from mlpkit.jax_loop import Position
    from mlpkit.training import build_model, compile_model

    config = cfg.resolve("fashion-mnist", "seed")
    x = np.zeros((64, 28, 28), "float32")
    y = np.zeros(64, "int64")
    ds = Dataset("fashion-mnist", "multiclass", x, y, x, y, x, y, [str(i) for i in range(10)])
    model = compile_model(build_model(ds, config), "multiclass", config.training, 55_000)
    model.optimizer.build(model.trainable_variables)
    folder = Path(tempfile.mkdtemp())
    saver = checkpoints.Checkpointer(folder, config)
    saver.set_model(model)
    saver.set_params({"epochs": 30, "steps": 1719})
    model.stop_training = False
    times = []
    for i in range(reps):
        t = time.perf_counter()
        saver.save(Position(i + 1), wait=True)  # in training, a thread writes it
        times.append(time.perf_counter() - t)
    path = checkpoints.listed(folder / checkpoints.FOLDER)[0]
    return {"checkpoint_mib": round(path.stat().st_size / 2**20, 2),
            "checkpoint_ms": round(statistics.median(times) * 1000, 1)}


def main(kills: int = KILLS, epochs: int | None = None) -> dict:
    work = Path(tempfile.mkdtemp(prefix="mlpkit-resume-"))
    recipe = ["fashion-mnist", "--preset", "seed", "--checkpoint-steps", CHECKPOINT_STEPS,
              "--verbose", "0", *(["--epochs", epochs] if epochs else [])]
    load = [load_average()]
    t0 = time.monotonic()
    base = subprocess.Popen(command(*recipe, "--out", work / "base"),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    run, chance = work / "run", random.Random(SEED)
    killed, sessions, epoch_seconds = 0, 0, 3.0
    while True:
        began = (run / "config.toml").exists()
        args = ["--resume", run] if began else [*recipe, "--out", run]
        if killed == kills:  # the last session runs to the end
            _, seconds = kill_once(run, args, 1e9)
            sessions += 1
            break
        rc, seconds = kill_once(run, args, chance.uniform(0, 0.9 * epoch_seconds))
        sessions += 1
        load.append(load_average())
        if rc == 0:
            break  # finished before its kill: fewer kills than planned, said below
        killed += 1
        history = run / "history.csv"
        if history.exists():  # learn how long an epoch takes, to spread the kills
            with open(history, newline="") as f:
                rows = list(csv.DictReader(f))
            if len(rows) > 1:
                epoch_seconds = statistics.median(float(r["epoch_seconds"]) for r in rows[1:])
    _, err = base.communicate()
    if base.returncode != 0:
        raise RuntimeError(f"the uninterrupted run failed:\n{err[-3000:]}")
    wall = time.monotonic() - t0
    same = same_run(work / "base", run)
    manifest = json.loads((run / "manifest.json").read_text())
    holds = killed == kills and all(same[k] for k in ("weights_equal", "optimizer_equal",
                                                      "metrics_equal", "history_equal"))
    return emit({
        "figure": "resume_after_kills", "title": "killed and resumed (lecture's recipe)",
        "goal": f"{kills} SIGKILLs at random moments, each followed by `--resume`: final "
                "weights, optimizer state, metrics and history equal to an uninterrupted "
                "run's, bit for bit",
        "holds": holds, "kills": killed, "sessions": sessions,
        "resumes_recorded": len(manifest.get("resumed", [])),
        "recipe": {"preset": "seed", "epochs": epochs or 30, "batch_size": 32,
                   "checkpoint_steps": CHECKPOINT_STEPS},
        **same, **checkpoint_cost(), "wall_seconds": round(wall, 1),
        "median_epoch_seconds": round(epoch_seconds, 2), "quick": kills < KILLS,
    }, load)


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
