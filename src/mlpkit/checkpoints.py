"""Checkpoints: the whole training state, saved so that a run continues exactly.

    RUN/checkpoints/
      epoch-0003-step-000000.npz   the latest: after 3 epochs
      epoch-0002-step-000512.npz   the previous one, kept until the latest is complete
      .lock                        held by the process that trains the run

A checkpoint is one ``.npz`` file (NumPy arrays, loaded without pickles) holding
everything the next step depends on:

- the model's variables: trainable, non-trainable (Normalization statistics,
  BatchNormalization averages, and the dropout layers' seed-generator state: the
  model's random state) and the optimizer's (the iteration count, which is where a
  learning-rate schedule stands; the learning rate; momentums);
- the callbacks' state: EarlyStopping's counters and best weights, history.csv's
  rows and the seconds spent so far;
- where the loop stands (``jax_loop.Position``: epoch, step, the running sums of
  the epoch's loss), whether training stopped early, and NumPy's global random
  state (Keras's ``fit`` shuffles with it; the jitted loop draws each epoch's
  shuffle from ``(seed, epoch)`` and needs none);
- the sha256 of every array, and a fingerprint of the run's settings.

Written as Orbax's ``CheckpointManager`` writes (``max_to_keep=2``): to a temporary
name, fsynced, renamed into place and the folder fsynced (``mlpkit.files``), and
only then is the oldest deleted, so a crash at any moment leaves the previous
checkpoint whole. Reading checks the zip's CRCs and every array's sha256; a
checkpoint that fails is set aside as ``NAME.corrupt`` with a warning and the
previous one is used; with none left, training starts again from the first epoch
(deterministic, so the result is the same, only later). Orbax itself is not used:
it brings tensorstore and nine other packages (about 90 MB) and takes ~85 ms a
save where this takes a few, for state that fits in one small file.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import re
import shutil
import threading
from pathlib import Path

import keras
import numpy as np

from mlpkit import files, metrics
from mlpkit.errors import RunError
from mlpkit.jax_loop import Position

log = logging.getLogger("mlpkit")

FOLDER = "checkpoints"
KEEP = 2  # the latest and the previous
FORMAT = 1
NAME = re.compile(r"^epoch-(\d+)-step-(\d+)\.npz$")
# the counters of Keras's callbacks, by class name (arrays are saved apart)
CALLBACK_STATE = {"EarlyStopping": ("wait", "stopped_epoch", "best", "best_epoch"),
                  "ReduceLROnPlateau": ("wait", "cooldown_counter", "best")}


class CheckpointError(ValueError):
    """A checkpoint file that cannot be used: truncated, corrupted, or of another format."""


@dataclasses.dataclass
class Checkpoint:
    path: Path
    meta: dict
    arrays: dict

    @property
    def position(self) -> Position:
        return Position(**self.meta["position"])


def folder_of(run: str | os.PathLike) -> Path:
    return Path(run) / FOLDER


def name_for(position: Position) -> str:
    return f"epoch-{position.epoch:04d}-step-{position.step:06d}.npz"


def listed(folder: Path) -> list[Path]:
    """The checkpoint files in ``folder``, latest first."""
    if not folder.is_dir():
        return []
    found = [(tuple(map(int, m.groups())), p) for p in folder.iterdir()
             if (m := NAME.match(p.name))]
    return [p for _, p in sorted(found, reverse=True)]


# Settings added after checkpoints were first written: left out of the fingerprint at
# their default, so that a run saved before they existed still resumes.
NEW_AT_DEFAULT = (("model", "members", 1), ("model", "target_scaling", "none"),
                  ("training", "label_smoothing", 0.0), ("model", "random_flip", "none"),
                  ("model", "random_shift", 0), ("model", "coordinates", []),
                  ("model", "coordinate_rotations", 10))


def fingerprint(config) -> str:
    """What must not change between a run and its resumption: every setting but
    ``[output]`` (the folder may move)."""
    from mlpkit import config as cfg

    settings = {k: v for k, v in cfg.to_dict(config).items() if k != "output"}
    for section, name, default in NEW_AT_DEFAULT:  # fingerprints from before they existed
        if settings.get(section, {}).get(name) == default:
            del settings[section][name]
    return files.sha256_bytes(json.dumps(settings, sort_keys=True).encode())


# --- writing and reading one file ------------------------------------------------------

def write(folder: Path, position: Position, arrays: dict, meta: dict) -> Path:
    """Write one checkpoint atomically, then delete all but the ``KEEP`` latest."""
    meta = {**meta, "format": FORMAT, "position": dataclasses.asdict(position),
            "sha256": {k: _sha(a) for k, a in arrays.items()}}
    path = folder / name_for(position)
    with files.atomic_open(path) as f:
        np.savez(f, meta=np.frombuffer(json.dumps(meta).encode(), np.uint8), **arrays)
    for old in listed(folder)[KEEP:]:
        old.unlink(missing_ok=True)
    return path


def _sha(a: np.ndarray) -> str:
    return files.sha256_bytes(np.ascontiguousarray(a).tobytes())


def read(path: Path) -> Checkpoint:
    """One checkpoint, verified.

    Raises:
        CheckpointError: the file is truncated or corrupted, or of a newer format.
    """
    try:
        with np.load(path, allow_pickle=False) as f:
            meta = json.loads(bytes(f["meta"]).decode("utf-8"))
            arrays = {k: f[k] for k in f.files if k != "meta"}
    except Exception as e:  # zipfile, zlib, json and NumPy raise many kinds here
        raise CheckpointError(f"{type(e).__name__}: {e}") from None
    if meta.get("format", FORMAT + 1) > FORMAT:
        raise CheckpointError(f"format {meta.get('format')} is newer than this mlpkit's")
    hashes = meta.get("sha256", {})
    if set(hashes) != set(arrays):
        raise CheckpointError("its arrays are not those it lists")
    bad = [k for k, a in arrays.items() if _sha(a) != hashes[k]]
    if bad:
        raise CheckpointError(f"sha256 mismatch in {', '.join(bad)}")
    try:
        Position(**meta["position"])
        missing = [k for k in ("callbacks", "numpy_random", "fingerprint") if k not in meta]
    except (KeyError, TypeError):
        missing = ["position"]
    if missing or "numpy_random" not in arrays:
        raise CheckpointError(f"incomplete: no {', '.join(missing or ['numpy_random'])}")
    return Checkpoint(Path(path), meta, arrays)


def latest(run: str | os.PathLike) -> Checkpoint | None:
    """The latest usable checkpoint of a run folder, or ``None``. One that cannot be
    read is renamed ``NAME.corrupt`` with a warning, and the previous one is tried.
    Call it holding the run's lock: it also deletes the temporary files a killed
    process left (``mlpkit.files`` names them ``.NAME.*.tmp.EXT``), as Orbax does."""
    for stale in Path(run).rglob(".*.tmp*"):
        stale.unlink(missing_ok=True)
    for path in listed(folder_of(run)):
        try:
            return read(path)
        except CheckpointError as e:
            aside = path.with_name(path.name + ".corrupt")
            os.replace(path, aside)
            log.warning("checkpoint %s is damaged (%s); set aside as %s, using the previous "
                        "one", path, e, aside.name)
    return None


def describe(position: Position, epochs: int, steps: int | None = None) -> str:
    """"after epoch 3 of 30" or "at epoch 4 of 30, step 512 of 1719"."""
    if position.step == 0:
        return f"after epoch {position.epoch} of {epochs}"
    of = f" of {steps}" if steps else ""
    return f"at epoch {position.epoch + 1} of {epochs}, step {position.step}{of}"


def remove(run: str | os.PathLike) -> None:
    """Delete a run's checkpoints (a completed run needs none: model.keras is its result)."""
    shutil.rmtree(folder_of(run), ignore_errors=True)


# --- the state of a model and its callbacks -------------------------------------------

def _variables(model) -> dict[str, list]:
    return {"trainable": model.trainable_variables,
            "non_trainable": model.non_trainable_variables,
            "optimizer": model.optimizer.variables}


class Checkpointer(keras.callbacks.Callback):
    """Saves the training state at every epoch's end, every ``every_steps`` steps
    (the jitted loop) and when a signal stops the loop; restores ``resume`` first.

    Used by ``training.fit`` as the last callback, so that it saves the others'
    state after their hooks ran (``attach``), and by the jitted loop through
    ``on_block_end``.
    """

    def __init__(self, run: str | os.PathLike, config, resume: Checkpoint | None = None):
        super().__init__()
        self.folder = folder_of(run)
        self.every_steps = config.training.checkpoint_steps
        self.fingerprint = fingerprint(config)
        self.resume = resume
        # the last checkpoint on disk, and the last one asked for (maybe being written)
        self.last: Position | None = resume.position if resume else None
        self.requested = self.last
        self._writer: threading.Thread | None = None
        self._error: BaseException | None = None
        self.callbacks: list = []
        if resume is not None and resume.meta.get("fingerprint") != self.fingerprint:
            raise RunError(f"{resume.path} was saved with other settings than "
                           f"{Path(run) / 'config.toml'} now holds; restore that file to resume.")

    # called by training.fit before training
    def attach(self, model, callbacks: list, epochs: int) -> Position | None:
        """Keep the state of ``callbacks`` too; put a resumed checkpoint's variables
        into ``model``. Returns the position to resume at (``None``: the start)."""
        self.callbacks = list(callbacks)
        if self.resume is None:
            return None
        # several regression targets: the loss's scale (metrics.ScaledMeanSquaredError);
        # a checkpoint from before it trained them on the plain mean squared error
        scale = metrics.loss_options(model.loss).get("scale")
        if self.resume.meta.get("loss_scale") != scale:
            raise RunError(f"{self.resume.path} was trained with another loss ("
                           f"{'the plain' if scale else 'a scaled'} mean squared error); it was "
                           "written by another version of mlpkit. Train the run again.")
        if not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
        arrays = self.resume.arrays
        for part, variables in _variables(model).items():
            stored = sorted(k for k in arrays if k.startswith(f"{part}/"))
            if len(stored) != len(variables) or any(
                    arrays[f"{part}/{i}"].shape != tuple(v.shape)
                    for i, v in enumerate(variables)):
                raise RunError(f"{self.resume.path} does not fit this model ({part} variables "
                               "differ); it was written by another version of mlpkit.")
            for i, v in enumerate(variables):
                v.assign(arrays[f"{part}/{i}"])
        if self.resume.meta.get("stopped"):  # early stopping ended it: no more epochs
            return Position(epochs)
        return self.resume.position

    def on_train_begin(self, logs=None):  # after the others reset themselves
        if self.resume is None:
            return
        meta, arrays = self.resume.meta, self.resume.arrays
        position = self.resume.position
        for i, cb in enumerate(self.callbacks):
            state = meta["callbacks"].get(str(i))
            if state is None or state["class"] != type(cb).__name__:
                raise RunError(f"{self.resume.path} holds other callbacks than this run "
                               "uses; it was written by another version of mlpkit.")
            if hasattr(cb, "restore"):
                cb.restore(state["state"], mid_epoch=position.step > 0)
                continue
            for key, value in state["state"].items():
                setattr(cb, key, value)
            weights = sorted((k for k in arrays if k.startswith(f"callback/{i}/")),
                             key=lambda k: int(k.rsplit("/", 1)[1]))
            if state.get("best_weights"):
                cb.best_weights = [arrays[k] for k in weights]
        name, pos, has_gauss, gauss = meta["numpy_random"]
        np.random.set_state((name, arrays["numpy_random"], pos, has_gauss, gauss))

    def on_epoch_end(self, epoch, logs=None):
        self.save(Position(epoch + 1))

    def on_block_end(self, position: Position, interrupted: bool) -> None:
        """The jitted loop's hook: save on an interrupt and every ``every_steps`` steps
        (not at an epoch's last step: its end, a moment later, is saved)."""
        if position == self.requested:
            if interrupted:
                self.wait()
            return
        steps = self.params.get("steps") or 0
        at_cut = (self.every_steps and position.step < steps
                  and (position.epoch * steps + position.step) % self.every_steps == 0)
        if interrupted or at_cut:
            self.save(position, wait=interrupted)

    def on_train_end(self, logs=None):
        """A resumed run's History holds the epochs before the checkpoint too."""
        self.wait()
        history = getattr(self.model, "history", None)
        if self.resume is None or history is None:
            return
        rows = self.resume.meta["callbacks"]
        rows = next((s["state"]["rows"] for s in rows.values() if "rows" in s["state"]), [])
        skip = {"epoch", "epoch_seconds", "elapsed_seconds"}
        history.epoch = [r["epoch"] - 1 for r in rows] + list(history.epoch)
        for key in {k for r in rows for k in r} - skip:
            history.history[key] = [r[key] for r in rows if key in r] + \
                list(history.history.get(key, []))

    def save(self, position: Position, wait: bool = False) -> None:
        """Take the model's and the callbacks' state at ``position`` now, and write it in
        a thread (as Orbax's asynchronous checkpoints: training goes on while the file
        is hashed, written and fsynced). One write at a time, in order; a write's error
        is raised by the next ``save`` or ``wait``. ``wait``: return once it is on disk."""
        arrays: dict[str, np.ndarray] = {}
        for part, variables in _variables(self.model).items():
            for i, v in enumerate(variables):  # copies: the loop reuses the buffers
                arrays[f"{part}/{i}"] = np.array(keras.ops.convert_to_numpy(v.value))
        states = {}
        for i, cb in enumerate(self.callbacks):
            if hasattr(cb, "state"):
                state = cb.state()
            else:
                state = {k: _plain(getattr(cb, k, None))
                         for k in CALLBACK_STATE.get(type(cb).__name__, ())}
            entry = {"class": type(cb).__name__, "state": state}
            best = getattr(cb, "best_weights", None)
            if best is not None:
                entry["best_weights"] = True
                for j, w in enumerate(best):
                    arrays[f"callback/{i}/{j}"] = np.array(w)
            states[str(i)] = entry
        name, keys, pos, has_gauss, gauss = np.random.get_state()
        arrays["numpy_random"] = np.array(keys)
        meta = {"fingerprint": self.fingerprint, "stopped": bool(self.model.stop_training),
                "callbacks": states, "numpy_random": [name, int(pos), int(has_gauss),
                                                      float(gauss)],
                "epochs": self.params.get("epochs"), "steps": self.params.get("steps"),
                "loss_scale": metrics.loss_options(self.model.loss).get("scale")}
        meta = json.loads(json.dumps(meta))  # a copy: the callbacks' rows go on growing
        self.wait()
        self.requested = position
        self._writer = threading.Thread(target=self._write, args=(position, arrays, meta),
                                        name="mlpkit-checkpoint")  # not a daemon: finishes
        self._writer.start()
        if wait:
            self.wait()

    def _write(self, position: Position, arrays: dict, meta: dict) -> None:
        try:
            write(self.folder, position, arrays, meta)
            self.last = position
        except BaseException as e:  # raised in the training thread by `wait`
            self._error = e

    def wait(self) -> None:
        """Return once the checkpoint being written is on disk; raise its error."""
        if self._writer is not None:
            self._writer.join()
            self._writer = None
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def close(self) -> None:
        """Wait for the write under way, whatever became of it (training has ended)."""
        try:
            self.wait()
        except Exception:
            pass


def _plain(value):
    """A callback's counter as JSON holds it (NumPy and JAX scalars to Python)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return np.asarray(value).item()


# --- who is training a run -------------------------------------------------------------

class RunLock:
    """An exclusive lock on a run folder (``checkpoints/.lock``, ``flock``), held while
    a process trains it: no second process resumes it meanwhile, and a run whose lock
    is free is not being trained, whatever its manifest says. Released by the
    system when the process dies, even by SIGKILL."""

    def __init__(self, run: str | os.PathLike):
        self.run = Path(run)
        self.path = folder_of(run) / ".lock"
        self.fd: int | None = None

    def acquire(self) -> RunLock:
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise RunError(f"{self.run} is being trained by another process "
                           f"(pid {holder(self.run) or '?'}); wait for it or stop it.") from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self.fd = fd
        return self

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def holder(run: str | os.PathLike) -> int | None:
    """The pid of the process training ``run`` now, or ``None``."""
    import fcntl

    path = folder_of(run) / ".lock"
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return None  # nobody holds it
    except BlockingIOError:
        text = path.read_text().strip()
        return int(text) if text.isdigit() else -1
    finally:
        os.close(fd)
