"""Compile and fit: the optimizer, the loss the labels call for, callbacks, weights.

``fit`` trains a compiled model on a ``Dataset``'s training rows with its
validation rows, as the lecture does; on the JAX backend through mlpkit's jitted
loop (``jax_loop``), otherwise Keras's ``fit``. It knows nothing of run folders
or reports: ``mlpkit.api`` puts the whole job together.
"""

from __future__ import annotations

import csv
import io
import logging
import time
from pathlib import Path

import keras

from mlpkit import config as cfg
from mlpkit import files, jax_loop, metrics, models
from mlpkit.data.dataset import Dataset

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
    if training.optimizer == "sgd":
        return keras.optimizers.SGD(learning_rate=lr, momentum=training.momentum,
                                    nesterov=training.nesterov)
    return {
        "adam": keras.optimizers.Adam,
        "adamw": keras.optimizers.AdamW,
        "rmsprop": keras.optimizers.RMSprop,
        "nadam": keras.optimizers.Nadam,
    }[training.optimizer](learning_rate=lr)


OUTPUT_ACTIVATION = {"multiclass": "softmax", "binary": "sigmoid", "multilabel": "sigmoid",
                     "regression": None}


def build_model(ds: Dataset, config: cfg.RunConfig) -> keras.Sequential:
    """The MLP for ``ds``: Flatten for images, Normalization for feature vectors."""
    m = config.model
    vectors = ds.x_train.ndim == 2
    categorical = None
    if ds.table and ds.table["vocab"]:
        from mlpkit.data.columns import TableEncoder

        categorical = TableEncoder.from_spec(ds.table).categorical()
    return models.build_mlp(ds.input_shape, m.hidden, m.activation, ds.outputs,
                            OUTPUT_ACTIVATION[ds.task], dropout=m.dropout,
                            normalize=ds.x_train if vectors else None, categorical=categorical)


def compile_model(model: keras.Model, task: str, training: cfg.TrainingConfig,
                  n_train: int | None = None, one_hot: bool = False) -> keras.Model:
    """Compile with the task's loss and metric and the configured optimizer.

    ``n_train`` (training rows) sizes a learning-rate schedule.
    """
    loss = metrics.loss_for(task, one_hot)
    steps = -(-n_train // training.batch_size) if n_train else None
    model.compile(loss=loss, optimizer=make_optimizer(training, steps),
                  metrics=[metrics.keras_metric(metrics.metric_for(loss))],
                  steps_per_execution=training.steps_per_execution)
    return model


class HistoryCSV(keras.callbacks.Callback):
    """Rewrites ``history.csv`` atomically after every epoch.

    Each row: epoch (1-based), every metric Keras logged, ``epoch_seconds`` (the
    epoch including its validation pass) and ``elapsed_seconds`` since fit began.
    """

    def __init__(self, path: Path | None):
        super().__init__()
        self.path = path
        self.rows: list[dict] = []

    def on_train_begin(self, logs=None):
        self.start = time.perf_counter()

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        t = time.perf_counter()
        row = {"epoch": epoch + 1}
        row.update({k: float(v) for k, v in (logs or {}).items()})
        row["epoch_seconds"] = round(t - self.epoch_start, 4)
        row["elapsed_seconds"] = round(t - self.start, 4)
        self.rows.append(row)
        if self.path is not None:
            files.write_text(self.path, rows_to_csv(self.rows))


def rows_to_csv(rows: list[dict]) -> str:
    buf = io.StringIO()
    fields = list(rows[0])
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def fit(model: keras.Model, ds: Dataset, training: cfg.TrainingConfig,
        history_path: Path | None = None, verbose="auto",
        class_weight: dict[int, float] | None = None) -> keras.callbacks.History:
    """``model.fit`` on the training set with the validation set, as the lecture does.

    On the JAX backend (``engine="auto"``) the same fit runs in mlpkit's jitted
    loop (``jax_loop``), about 1.4x faster per epoch at batch 32 than Keras's;
    a model that loop cannot train (another loss or metric) gets Keras's fit and
    a note in the log saying why.
    """
    callbacks: list = [HistoryCSV(history_path)]
    if training.patience:
        callbacks.append(keras.callbacks.EarlyStopping(
            patience=training.patience, restore_best_weights=True))
    if training.engine == "auto":
        why = jax_loop.unsupported(model)
        if why is None:
            return jax_loop.fit(model, ds.x_train, ds.y_train, epochs=training.epochs,
                                batch_size=training.batch_size,
                                validation_data=(ds.x_valid, ds.y_valid),
                                callbacks=callbacks, verbose=verbose, seed=training.seed,
                                sample_weight=ds.w_train, class_weight=class_weight)
        log.info("Training uses Keras's fit: %s", why)
    # The lecture: "if both class_weight and sample_weight are provided, Keras
    # multiplies them". Keras 3's fit refuses both at once, so mlpkit multiplies.
    weights = None
    if ds.w_train is not None or class_weight:
        weights = jax_loop.sample_weights(ds.y_train, ds.w_train, class_weight)
    return model.fit(ds.x_train, ds.y_train, epochs=training.epochs,
                     batch_size=training.batch_size,
                     validation_data=(ds.x_valid, ds.y_valid), sample_weight=weights,
                     callbacks=callbacks, verbose=verbose)
