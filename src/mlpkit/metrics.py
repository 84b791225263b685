"""Losses and metrics: one definition each, for training, evaluation and ``compare``.

The jitted training loop, ``evaluation.evaluate`` and the comparison with
scikit-learn all reduce predictions to figures through ``per_sample`` and
``finish``, written with ``keras.ops`` so that the same code runs on NumPy
arrays and inside a compiled JAX function. The figures are the ones Keras's
``fit`` and ``evaluate`` report: the loss is Keras's loss function averaged over
the samples (weighted losses: the sum of weight x loss over the samples, divided
by their count, Keras's "sum_over_batch_size"); the metric is accuracy (Keras's
``accuracy``/``binary_accuracy``) or the root of the mean squared error
(``RootMeanSquaredError``). Metrics are never weighted.

Several regression targets are trained with ``ScaledMeanSquaredError``: each target's
squared error divided by its training variance, so that a target in far larger units
than the others (a price in dollars beside a rate) does not drown them in the loss.
The RMSE metric stays in the targets' own units.
"""

from __future__ import annotations

import math

import keras
import numpy as np

# Probability above which a sigmoid output counts as the positive class (binary and
# multilabel tasks): Keras's binary_accuracy default, used everywhere in mlpkit.
THRESHOLD = 0.5

LOSSES = {
    "sparse_categorical_crossentropy": keras.losses.sparse_categorical_crossentropy,
    "categorical_crossentropy": keras.losses.categorical_crossentropy,
    "binary_crossentropy": keras.losses.binary_crossentropy,
    "mse": keras.losses.mean_squared_error,
}
METRICS = ("accuracy", "rmse")


def loss_for(task: str, one_hot: bool = False) -> str:
    """The loss the lecture prescribes for the labels.

    Sparse labels, exclusive classes: sparse categorical cross-entropy; one-hot
    labels: categorical cross-entropy; binary and multilabel: binary
    cross-entropy (sigmoid outputs); regression: mean squared error.
    """
    if task == "regression":
        return "mse"
    if task in ("binary", "multilabel"):
        return "binary_crossentropy"
    return "categorical_crossentropy" if one_hot else "sparse_categorical_crossentropy"


def smoothed_sparse_categorical_crossentropy(y, y_pred, label_smoothing: float = 0.0):
    """Sparse categorical cross-entropy with label smoothing (Keras's sparse loss has
    none): Keras's categorical cross-entropy of the one-hot labels, smoothed."""
    ops = keras.ops
    y = ops.one_hot(ops.cast(ops.reshape(y, (-1,)), "int32"), ops.shape(y_pred)[-1],
                    dtype=y_pred.dtype)
    return keras.losses.categorical_crossentropy(y, y_pred, label_smoothing=label_smoothing)


def scaled_mean_squared_error(y, y_pred, scale):
    """The mean squared error of ``(y_pred - y) / scale``: the mean over the outputs of
    each one's squared error divided by ``scale[j] ** 2``."""
    ops = keras.ops
    scale = ops.convert_to_tensor(scale, dtype=y_pred.dtype)
    y = ops.reshape(ops.cast(y, y_pred.dtype), ops.shape(y_pred))  # (n,) beside (n, 1)
    return ops.mean(ops.square((y_pred - y) / scale), axis=-1)


@keras.saving.register_keras_serializable(package="mlpkit")
class ScaledMeanSquaredError(keras.losses.Loss):
    """The mean squared error with each output on its own scale: the mean over the outputs
    of ``((y_pred[j] - y[j]) / scale[j]) ** 2``. With ``scale`` the training targets'
    standard deviations, each target weighs the same in the loss, whatever its units."""

    def __init__(self, scale, name="scaled_mean_squared_error",
                 reduction="sum_over_batch_size", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.scale = [float(v) for v in scale]

    def call(self, y_true, y_pred):
        return scaled_mean_squared_error(y_true, y_pred, self.scale)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


@keras.saving.register_keras_serializable(package="mlpkit")
class SparseCategoricalCrossentropy(keras.losses.Loss):
    """``keras.losses.SparseCategoricalCrossentropy`` with ``label_smoothing``."""

    def __init__(self, label_smoothing: float = 0.0, name="sparse_categorical_crossentropy",
                 reduction="sum_over_batch_size", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.label_smoothing = label_smoothing

    def call(self, y_true, y_pred):
        return smoothed_sparse_categorical_crossentropy(y_true, y_pred, self.label_smoothing)

    def get_config(self):
        return {**super().get_config(), "label_smoothing": self.label_smoothing}


def keras_loss(loss: str, label_smoothing: float = 0.0, scale=None):
    """What to pass to ``model.compile(loss=...)``: the name, or with label smoothing
    (classification), Keras's loss object that takes it (mlpkit's for sparse labels), or
    with ``scale`` (one value per regression target) a ``ScaledMeanSquaredError``."""
    if scale is not None:
        if loss != "mse" or label_smoothing:
            raise ValueError("scale applies to the mean squared error (regression) only")
        return ScaledMeanSquaredError(scale)
    if not label_smoothing:
        return loss
    if loss == "mse":
        raise ValueError("label_smoothing applies to classification, not regression")
    if loss == "sparse_categorical_crossentropy":
        return SparseCategoricalCrossentropy(label_smoothing=label_smoothing)
    cls = {"categorical_crossentropy": keras.losses.CategoricalCrossentropy,
           "binary_crossentropy": keras.losses.BinaryCrossentropy}[loss]
    return cls(label_smoothing=label_smoothing)


def metric_for(loss: str) -> str:
    """The metric reported beside ``loss``: RMSE for regression, accuracy otherwise."""
    return "rmse" if loss == "mse" else "accuracy"


def keras_metric(metric: str, loss: str | None = None):
    """What to pass to ``model.compile(metrics=[...])`` for ``metric``: for sigmoid outputs
    (``binary_crossentropy``) Keras's ``BinaryAccuracy`` at ``THRESHOLD`` by name, as
    "accuracy" would pick ``CategoricalAccuracy`` for several labels (multilabel)."""
    if metric == "rmse":
        return keras.metrics.RootMeanSquaredError(name="rmse")
    if loss == "binary_crossentropy":
        return keras.metrics.BinaryAccuracy(name="accuracy", threshold=THRESHOLD)
    return "accuracy"


def loss_options(compiled) -> dict:
    """The settings of a compiled loss (``model.loss``) that ``per_sample`` takes:
    ``{"scale": [...]}`` of a ``ScaledMeanSquaredError``, ``{"label_smoothing": ...}`` of a
    smoothed cross-entropy, else ``{}`` (a name, an unsmoothed loss, or none)."""
    if isinstance(compiled, ScaledMeanSquaredError):
        return {"scale": compiled.scale}
    smoothing = getattr(compiled, "get_config", dict)().get("label_smoothing")
    return {"label_smoothing": float(smoothing)} if smoothing else {}


def per_sample(loss: str, y, y_pred, label_smoothing: float = 0.0, scale=None):
    """Per-sample loss and per-sample metric numerator.

    Args:
        loss: a name in ``LOSSES``.
        y: labels as given to ``fit`` (class indices, one-hot or 0/1 rows, values).
        y_pred: the model's outputs, shape (n, outputs).
        label_smoothing: of the loss, as Keras's cross-entropies take it (the metric
            compares with the labels themselves).
        scale: for "mse", one value per output: the loss is ``ScaledMeanSquaredError``'s
            (the metric stays in the outputs' units).

    Returns:
        ``(losses, stats)``, each of shape (n,): the loss of each sample (averaged
        over its outputs), and 1/0 hits (accuracy; the mean over labels for
        binary and multilabel) or the mean squared error (rmse).
    """
    ops = keras.ops
    n = ops.shape(y_pred)[0]
    if loss != "sparse_categorical_crossentropy":
        y = ops.cast(ops.reshape(y, ops.shape(y_pred)), y_pred.dtype)
    if scale is not None and loss == "mse":
        per_output = scaled_mean_squared_error(y, y_pred, scale)
    elif not label_smoothing:
        per_output = LOSSES[loss](y, y_pred)
    elif loss == "sparse_categorical_crossentropy":
        per_output = smoothed_sparse_categorical_crossentropy(y, y_pred, label_smoothing)
    else:
        per_output = LOSSES[loss](y, y_pred, label_smoothing=label_smoothing)
    losses = ops.mean(ops.reshape(per_output, (n, -1)), axis=1)
    if loss == "mse":
        diff = ops.reshape(y_pred - y, (n, -1))
        stats = ops.mean(diff * diff, axis=1)
    elif loss == "binary_crossentropy":
        hits = ops.equal(y_pred > THRESHOLD, y > THRESHOLD)
        stats = ops.mean(ops.reshape(ops.cast(hits, "float32"), (n, -1)), axis=1)
    elif loss == "categorical_crossentropy":
        stats = ops.cast(ops.equal(ops.argmax(y_pred, -1), ops.argmax(y, -1)), "float32")
    else:
        labels = ops.cast(ops.reshape(y, (n,)), "int32")
        stats = ops.cast(ops.equal(ops.cast(ops.argmax(y_pred, -1), "int32"), labels), "float32")
    return losses, stats


def finish(loss_sum: float, stat_sum: float, n: int, metric: str) -> tuple[float, float]:
    """Mean loss and the metric from sums over ``n`` samples."""
    stat = stat_sum / n
    return loss_sum / n, math.sqrt(stat) if metric == "rmse" else stat


def compute(loss: str, y, y_pred, **options) -> dict[str, float]:
    """``{"loss": ..., metric: ...}`` of predictions, as ``model.evaluate`` reports them
    (``options``: ``per_sample``'s, e.g. the ``scale`` of several regression targets)."""
    y_pred = np.asarray(y_pred, np.float32)
    if y_pred.ndim == 1:  # one output per row, as scikit-learn's regressors give it
        y_pred = y_pred[:, None]
    losses, stats = per_sample(loss, np.asarray(y), y_pred, **options)
    n = len(y_pred)
    total_loss = float(np.sum(keras.ops.convert_to_numpy(losses), dtype=np.float64))
    total_stat = float(np.sum(keras.ops.convert_to_numpy(stats), dtype=np.float64))
    metric = metric_for(loss)
    value_loss, value_metric = finish(total_loss, total_stat, n, metric)
    return {"loss": value_loss, metric: value_metric}


def predicted_classes(proba: np.ndarray, task: str) -> np.ndarray:
    """Class indices from probabilities: argmax, or the threshold for binary."""
    if task == "binary":
        return (np.asarray(proba).reshape(len(proba)) > THRESHOLD).astype(int)
    return np.argmax(proba, axis=-1)


def predicted_labels(proba: np.ndarray) -> np.ndarray:
    """0/1 label matrix of a multilabel model's probabilities."""
    return (np.asarray(proba) > THRESHOLD).astype(int)
