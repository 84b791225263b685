"""Compile and fit: the optimizer, the loss the labels call for, callbacks, weights.

``fit`` trains a compiled model on a ``Dataset``'s training rows with its
validation rows, as the lecture does; on the JAX backend through mlpkit's jitted
loop (``jax_loop``), otherwise Keras's ``fit``. It knows nothing of run folders
or reports: ``mlpkit.api`` puts the whole job together.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import logging
import math
import shlex
import time
from pathlib import Path

import keras
import numpy as np

from mlpkit import config as cfg
from mlpkit import (distribution, errors, files, jax_loop, labels, layers, metrics, models,
                    precision)
from mlpkit.data.dataset import Dataset
from mlpkit.errors import ConfigError

log = logging.getLogger("mlpkit")


def make_optimizer(training: cfg.TrainingConfig,
                   steps_per_epoch: int | None = None) -> keras.optimizers.Optimizer:
    """The Keras optimizer for ``training.optimizer`` with its learning rate.

    With ``schedule = "cosine"`` the rate follows ``CosineDecay`` to 0 over
    ``epochs * steps_per_epoch`` steps.
    """
    lr = training.learning_rate
    if training.schedule == "cosine":
        if not steps_per_epoch:
            raise ValueError("a cosine schedule needs steps_per_epoch")
        lr = keras.optimizers.schedules.CosineDecay(lr, training.epochs * steps_per_epoch)
    # weight decay: Keras's decoupled one, which every Keras optimizer takes (unset:
    # AdamW's default 0.004, none for the others)
    decay = {} if training.weight_decay is None else {"weight_decay": training.weight_decay}
    if training.optimizer == "sgd":
        return keras.optimizers.SGD(learning_rate=lr, momentum=training.momentum,
                                    nesterov=training.nesterov, **decay)
    return {
        "adam": keras.optimizers.Adam,
        "adamw": keras.optimizers.AdamW,
        "rmsprop": keras.optimizers.RMSprop,
        "nadam": keras.optimizers.Nadam,
    }[training.optimizer](learning_rate=lr, **decay)


OUTPUT_ACTIVATION = {"multiclass": "softmax", "binary": "sigmoid", "multilabel": "sigmoid",
                     "regression": None}


def build_model(ds: Dataset, config: cfg.RunConfig) -> keras.Model:
    """The MLP for ``ds``: Flatten for images, Normalization for feature vectors.

    Built under ``training.precision``'s dtype policy (see ``precision.py``); with
    ``training.devices`` other than 1, inside ``distribution.use`` (the variables are
    then replicated on the devices), as ``mlpkit.train`` does.
    """
    m = config.model
    distribution.check_scope(config.training.devices)
    vectors = ds.x_train.ndim == 2
    categorical = categorical_columns(ds)
    with precision.use(config.training.precision):
        model = models.build_mlp(ds.input_shape, m.hidden, m.activation, ds.outputs,
                                 OUTPUT_ACTIVATION[ds.task], dropout=m.dropout,
                                 normalize=ds.x_train if vectors else None,
                                 categorical=categorical,
                                 embedding=(m.embedding, m.embedding_size, m.embedding_sigma),
                                 members=m.members, target=target_scale(ds, m),
                                 augment=(m.random_flip, m.random_shift),
                                 coordinates=coordinate_columns(ds, m, categorical,
                                                                config.data.target),
                                 feature_names=ds.feature_names)
    return precision.finish_model(model, config.training.precision)


def categorical_columns(ds: Dataset) -> dict[int, int] | None:
    """``{input column: codes}`` of a table's category columns; ``None`` for other data."""
    if not ds.table:
        return None
    from mlpkit.data.columns import TableEncoder

    return TableEncoder.from_spec(ds.table).categorical()


def coordinate_columns(ds: Dataset, m: cfg.ModelConfig, categorical: dict | None = None,
                       target: str | None = None) -> tuple | None:
    """``((y, x), rotations)``: the input columns ``m.coordinates`` names, for
    ``models.build_mlp``; ``None`` when it names none.

    Raises:
        ConfigError: when the data is not a table, or a name is not one of its numeric
            feature columns (``target``: the run's target, named as such).
    """
    if not m.coordinates:
        if m.coordinate_rotations != cfg.ModelConfig.coordinate_rotations:
            log.warning("coordinate_rotations = %d does nothing without coordinates: name the "
                        "two columns, e.g. --coordinates Latitude,Longitude",
                        m.coordinate_rotations)
        return None
    names = list(ds.feature_names or [])
    given = f"Received: coordinates={','.join(m.coordinates)}"
    if ds.x_train.ndim != 2 or not names:
        raise ConfigError("coordinates names two columns of a table (e.g. Latitude,"
                          f"Longitude); {ds.name!r} has no named feature columns: drop "
                          f"--coordinates. {given}")
    kinds = {c["name"]: c["kind"] for c in (ds.table or {}).get("columns", [])}
    index = []
    for name in m.coordinates:
        if name not in names and name in (target, *labels.split_names(target)):
            raise ConfigError(f"coordinates names {name!r}, the target: name two feature "
                              f"columns, e.g. Latitude,Longitude. {given}")
        if name not in names and name in kinds:  # a column mlpkit does not use as a feature
            raise ConfigError(f"coordinates names {name!r}, a column not used as a feature "
                              f"(read as {kinds[name]}): name two numeric feature columns, or "
                              f"force its type with --column-types {shlex.quote(name + '=number')}. "
                              f"{given}")
        if name not in names:
            raise ConfigError(f"coordinates names {name!r}, which is not a feature column of "
                              f"{ds.name!r}.{errors.did_you_mean(name, names)} Its columns: "
                              f"{', '.join(names)}. {given}")
        date = name.rpartition(".")[0]
        if name not in kinds and kinds.get(date) == "datetime":  # "Sold On.year"
            raise ConfigError(f"coordinates names {name!r}, a part of the date column "
                              f"{date!r}, not an axis of a map: name two numeric columns, "
                              f"e.g. Latitude,Longitude. {given}")
        if kinds.get(name) == "boolean":
            raise ConfigError(f"coordinates names {name!r}, a yes/no column: name two "
                              f"numeric columns instead, e.g. Latitude,Longitude. {given}")
        if names.index(name) in (categorical or {}):
            raise ConfigError(f"coordinates names {name!r}, a {kinds.get(name, 'category')} "
                              "column: name two numeric columns instead, e.g. Latitude,"
                              f"Longitude. {given}")
        index.append(names.index(name))
    angles = layers.RotatedCoordinates.angles_for(m.coordinate_rotations)
    log.info("coordinates: %s and %s, and %d views of them rotated by %s degrees "
             "(layers.RotatedCoordinates, before the normalization)", *m.coordinates,
             len(angles), ", ".join(f"{a:g}" for a in angles))
    return tuple(index), m.coordinate_rotations


def target_scale(ds: Dataset, m: cfg.ModelConfig) -> tuple | None:
    """``(mean, std)`` lists of the training targets for ``target_scaling =
    "standardize"`` on a regression task (a constant target keeps std 1), else None."""
    if m.target_scaling != "standardize" or ds.task != "regression":
        return None
    import numpy as np

    y = np.asarray(ds.y_train, np.float64).reshape(len(ds.y_train), -1)
    mean, std = _spread(y)
    names = (ds.labels.target_names if ds.labels is not None else None) or []
    if len(names) == len(mean):  # several named targets: each its own figures
        log.info("regression targets standardized with the training rows' mean and standard "
                 "deviation (%s); the model's last layer (Rescaling) gives back their units",
                 "; ".join(f"{n}: {a:.6g}, {b:.6g}" for n, a, b in zip(names, mean, std)))
    else:
        log.info("regression targets standardized with the training rows' mean %s and "
                 "standard deviation %s; the model's last layer (Rescaling) gives back their "
                 "units", ", ".join(f"{v:.6g}" for v in mean), ", ".join(f"{v:.6g}" for v in std))
    return [float(v) for v in mean], [float(v) for v in std]


def _spread(y) -> tuple:
    """Each column's mean and standard deviation; 1 for a constant column (its float
    std can be a rounding error, 1e-16, not 0)."""
    import numpy as np

    mean, std = y.mean(axis=0), y.std(axis=0)
    if not np.isfinite(std).all():
        raise ValueError("regression targets must be finite")
    constant = std <= 1e-7 * np.maximum(np.abs(mean), 1.0)
    return mean, np.where(constant, 1.0, std)


SMALL_SPREAD = 1e-2  # a target's standard deviation below which its loss is scaled


def target_loss_scale(ds: Dataset, m: cfg.ModelConfig | None = None) -> list[float] | None:
    """Several regression targets, or one of a small spread (below ``SMALL_SPREAD``): each
    one's standard deviation over the training rows (1 for a constant one), the
    ``scale`` of their loss (``compile_model``); else None.
    ``m``: the model's settings, to warn when its targets are not standardized."""
    import numpy as np

    y = np.asarray(ds.y_train, np.float64)
    if ds.task != "regression":
        return None
    if y.ndim == 1 or y.shape[1] == 1:  # one target: its loss as it is, unless too small
        std = float(_spread(y.reshape(len(y), 1))[1][0])
        if std >= SMALL_SPREAD:
            return None
        log.info("a regression target of small spread (standard deviation %.3g): the loss "
                 "divides its squared error by its training variance, or the optimizer's "
                 "steps would vanish (below Adam's epsilon); the RMSE stays in its units", std)
        return [std]
    scale = [float(v) for v in _spread(y)[1]]
    names = labels.target_names(None, len(scale),
                                ds.labels.spec() if ds.labels is not None else None)
    log.info("several regression targets: the loss divides each one's squared error by its "
             "training variance, so each weighs the same whatever its units (standard "
             "deviations %s); the RMSE figures stay in their units",
             ", ".join(f"{n}: {v:.6g}" for n, v in zip(names, scale)))
    if m is not None and m.target_scaling != "standardize":
        log.warning("several regression targets with target_scaling = %s: the loss's steps "
                    "grow as 1/variance for a target of small spread, which SGD may not "
                    "survive; set target_scaling = \"standardize\" under [model]",
                    m.target_scaling)
    return scale


def compile_model(model: keras.Model, task: str, training: cfg.TrainingConfig,
                  n_train: int | None = None, one_hot: bool = False,
                  scale: list[float] | None = None) -> keras.Model:
    """Compile with the task's loss and metric and the configured optimizer.

    ``n_train`` (training rows) sizes a learning-rate schedule. ``scale`` (one value per
    regression target, ``target_loss_scale``): the loss is ``metrics.ScaledMeanSquaredError``.
    """
    loss = metrics.loss_for(task, one_hot)
    if training.label_smoothing and task == "regression":
        raise ConfigError("label_smoothing applies to classification; this task is "
                          "regression: drop --label-smoothing (label_smoothing = 0). "
                          f"Received: label_smoothing={training.label_smoothing}")
    steps = -(-n_train // training.batch_size) if n_train else None
    optimizer = precision.wrap_optimizer(make_optimizer(training, steps), training.precision)
    model.compile(loss=metrics.keras_loss(loss, training.label_smoothing, scale),
                  optimizer=optimizer,
                  metrics=[metrics.keras_metric(metrics.metric_for(loss), loss)],
                  steps_per_execution=training.steps_per_execution)
    return model


class HistoryCSV(keras.callbacks.Callback):
    """Rewrites ``history.csv`` atomically after every epoch.

    Each row: epoch (1-based), every metric Keras logged, ``epoch_seconds`` (the
    epoch including its validation pass) and ``elapsed_seconds`` since fit began
    (in a resumed run: carried over from the checkpoint, see ``state``).
    """

    def __init__(self, path: Path | None):
        super().__init__()
        self.path = path
        self.rows: list[dict] = []
        self.epoch_offset = 0.0  # seconds of the running epoch spent before a resume

    def on_train_begin(self, logs=None):
        self.start = self.epoch_start = time.perf_counter()

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_start = time.perf_counter() - self.epoch_offset
        self.epoch_offset = 0.0

    def state(self) -> dict:
        """What a checkpoint keeps: the rows, the seconds since fit began and since the
        running epoch began."""
        t = time.perf_counter()
        return {"rows": self.rows, "elapsed": t - self.start,
                "epoch_elapsed": t - self.epoch_start}

    def restore(self, state: dict, mid_epoch: bool) -> None:
        """Continue from ``state`` (after ``on_train_begin``): its rows, and its seconds
        carried over; history.csv is written again with exactly those rows."""
        t = time.perf_counter()
        self.rows = [dict(r) for r in state["rows"]]
        self.start = t - state["elapsed"]
        self.epoch_offset = state["epoch_elapsed"] if mid_epoch else 0.0
        if self.path is not None:
            if self.rows:
                files.write_text(self.path, rows_to_csv(self.rows))
            else:
                Path(self.path).unlink(missing_ok=True)

    def on_epoch_end(self, epoch, logs=None):
        t = time.perf_counter()
        row = {"epoch": epoch + 1}
        row.update({k: float(v) for k, v in (logs or {}).items()})
        row["epoch_seconds"] = round(t - self.epoch_start, 4)
        row["elapsed_seconds"] = round(t - self.start, 4)
        self.rows.append(row)
        if self.path is not None:
            files.write_text(self.path, rows_to_csv(self.rows))


class Divergence(keras.callbacks.Callback):
    """Stops training when an epoch's loss is NaN or infinite (``errors.Diverged``),
    before that epoch is checkpointed: the weights are no use past that point."""

    def __init__(self, training: cfg.TrainingConfig, task: str | None):
        super().__init__()
        self.training, self.task = training, task

    def on_epoch_end(self, epoch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None or math.isfinite(loss):
            return
        t = self.training
        units = (" The loss is in the target's own units, so with SGD a target of large "
                 "values needs a far smaller rate." if self.task == "regression"
                 and t.optimizer == "sgd" else "")
        raise errors.Diverged(
            f"training diverged: the loss was {loss} in epoch {epoch + 1}. Lower the learning "
            f"rate (now {t.learning_rate:g}; `mlpkit lr-find` suggests one) or use "
            f"--optimizer adam.{units}")


class StopCheck(keras.callbacks.Callback):
    """Keras's fit: stop at an epoch's end for a signal whose exception Python dropped
    (``errors.check_stop``). Last of the callbacks, so the epoch is checkpointed first."""

    def on_epoch_end(self, epoch, logs=None):
        errors.check_stop()


def elapsed_seconds(path: Path) -> float:
    """Seconds of fit up to the last epoch in ``history.csv`` (carried over resumes)."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return float(rows[-1]["elapsed_seconds"]) if rows else 0.0


def rows_to_csv(rows: list[dict], last: tuple[str, ...] = ()) -> str:
    """Rows as CSV text: the columns of every row, in the order they first come, those
    in ``last`` at the end; a row without one of them leaves its cell empty."""
    buf = io.StringIO()
    fields = [k for k in dict.fromkeys(k for row in rows for k in row) if k not in last]
    writer = csv.DictWriter(buf, fieldnames=[*fields, *last], restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def with_validation_rows(ds: Dataset) -> Dataset:
    """The final fit's data (``train_on_validation``): the training rows followed by the
    validation rows, and no validation rows left to watch.

    The split itself is unchanged (``split.npz`` still says which rows validated the
    settings); only what the model is fitted on grows.

    Raises:
        ConfigError: row weights (the validation rows have none); early stopping with it
            is refused when the config is resolved.
    """
    if ds.w_train is not None:
        raise ConfigError("train_on_validation with a sample_weight column: the validation "
                          "rows carry no weights in mlpkit; drop one of the two")
    if not len(ds.x_valid):
        return ds
    return dataclasses.replace(
        ds, x_train=np.concatenate([ds.x_train, ds.x_valid]),
        y_train=np.concatenate([ds.y_train, ds.y_valid]),
        x_valid=ds.x_valid[:0], y_valid=ds.y_valid[:0], notes=[])


def fit(model: keras.Model, ds: Dataset, training: cfg.TrainingConfig,
        history_path: Path | None = None, verbose="auto",
        class_weight: dict[int, float] | None = None,
        checkpointer=None, callbacks=()) -> keras.callbacks.History:
    """``model.fit`` on the training set with the validation set, as the lecture does.

    On the JAX backend (``engine="auto"``) the same fit runs in mlpkit's jitted
    loop (``jax_loop``), faster per epoch than Keras's (see benchmarks/README.md);
    a model that loop cannot train (another loss or metric) gets Keras's fit and
    a note in the log saying why.

    ``checkpointer`` (a ``checkpoints.Checkpointer``) saves the training state at
    every epoch's end, every ``checkpoint_steps`` steps and on an interrupt, and
    restores a checkpoint's state first when it holds one (a resumed run).
    ``callbacks``: more Keras callbacks (e.g. a tuning trial's pruning), after these.
    """
    extra = list(callbacks)
    callbacks: list = [HistoryCSV(history_path)]
    stopping = None
    if training.patience:
        stopping = keras.callbacks.EarlyStopping(patience=training.patience,
                                                 restore_best_weights=True)
        callbacks.append(stopping)
    history = _fit(model, ds, training, verbose, class_weight, checkpointer, callbacks, extra)
    last = history.epoch[-1] + 1 if history.epoch else 0  # (a resumed run's, counted whole)
    if stopping is not None and stopping.best_epoch + 1 < last:
        history.restored_epoch = stopping.best_epoch + 1  # (the manifest keeps it)
        log.info("early stopping (patience %d): the weights of epoch %d, the best val_loss "
                 "(%.4g), restored; the last %d epoch(s) did not improve it",
                 training.patience, history.restored_epoch, stopping.best,
                 last - history.restored_epoch)
    return history


def _fit(model, ds: Dataset, training: cfg.TrainingConfig, verbose, class_weight,
         checkpointer, callbacks: list, extra: list) -> keras.callbacks.History:
    """``fit``'s loop: mlpkit's jitted one, or Keras's ``fit``."""
    callbacks += extra
    start = None
    if checkpointer is not None:  # last: it saves the others' state after their hooks
        start = checkpointer.attach(model, callbacks, training.epochs)
    # stateless, so not in checkpoints (whose callbacks older runs fixed); before the
    # checkpointer, so that a NaN epoch is never saved
    callbacks.append(Divergence(training, ds.task))
    if checkpointer is not None:
        callbacks.append(checkpointer)
    validation = (ds.x_valid, ds.y_valid) if len(ds.x_valid) else None  # (train_on_validation)
    if training.engine == "auto":
        why = jax_loop.unsupported(model)
        if why is None:
            return jax_loop.fit(model, ds.x_train, ds.y_train, epochs=training.epochs,
                                batch_size=training.batch_size, validation_data=validation,
                                callbacks=callbacks, verbose=verbose, seed=training.seed,
                                sample_weight=ds.w_train, class_weight=class_weight,
                                start=start, cut_every=training.checkpoint_steps,
                                on_block_end=checkpointer and checkpointer.on_block_end)
        if layers.members(model) > 1:
            raise ConfigError(f"an ensemble (members > 1) trains in mlpkit's jitted loop "
                              f"only, which cannot train this model: {why}")
        log.info("Training uses Keras's fit: %s", why)
    elif layers.members(model) > 1:
        raise ConfigError("an ensemble (members > 1) trains in mlpkit's jitted loop only; "
                          "set engine = auto or members = 1. Received: engine='keras'")
    distribution.check_keras_fit(training.batch_size, training=len(ds.x_train),
                                 validation=len(ds.x_valid))
    if checkpointer is not None and training.checkpoint_steps:
        log.info("checkpoint_steps applies to mlpkit's jitted loop; Keras's fit saves a "
                 "checkpoint at each epoch's end only")
    callbacks.append(StopCheck())  # (the jitted loop checks before each of its blocks)
    # The lecture: "if both class_weight and sample_weight are provided, Keras
    # multiplies them". Keras 3's fit refuses both at once, so mlpkit multiplies.
    weights = None
    if ds.w_train is not None or class_weight:
        weights = jax_loop.sample_weights(ds.y_train, ds.w_train, class_weight)
    return model.fit(ds.x_train, ds.y_train, epochs=training.epochs,
                     batch_size=training.batch_size,
                     validation_data=validation, sample_weight=weights,
                     callbacks=callbacks, verbose=verbose,
                     initial_epoch=start.epoch if start is not None else 0)
