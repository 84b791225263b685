"""Predictions: a jitted forward pass, and model outputs turned into answers.

Keras's ``predict`` builds a data pipeline and a progress bar on every call,
costing milliseconds; ``Predictor`` costs one dispatch. ``records`` turns
outputs into the JSON records that ``mlpkit predict --json`` prints.
"""

from __future__ import annotations

import weakref

import keras
import numpy as np

from mlpkit import metrics
from mlpkit.errors import ModelError
from mlpkit.labels import target_names


class Predictor:
    """Fast inference for one model: a jitted ``stateless_call`` on the JAX backend.

    Batches are padded to a power of two (at most ``MAX_BATCH`` rows a call) so
    only a few shapes are compiled. The model's current weights are read on every
    call. Other backends fall back to ``model.predict``.
    """

    MAX_BATCH = 4096

    def __init__(self, model: keras.Model):
        # weak: the cache below maps models to predictors, and must not keep them alive
        self._model = weakref.ref(model)
        self.expected = tuple(model.input_shape[1:])
        self._fn = None
        if keras.backend.backend() == "jax":
            import jax

            ref = self._model

            def forward(tv, ntv, x):
                return ref().stateless_call(tv, ntv, x, training=False)[0]

            self._fn = jax.jit(forward)

    @property
    def model(self) -> keras.Model:
        return self._model()

    def check(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32)
        if x.shape[1:] != self.expected:
            if x.shape == self.expected:
                return x[None]
            raise ModelError(f"input has shape {x.shape}, the model expects (n, "
                             f"{', '.join(map(str, self.expected))}). Received: shape={x.shape}")
        return x

    def __call__(self, x) -> np.ndarray:
        x = self.check(x)
        if self._fn is None:
            return np.asarray(self.model.predict(x, batch_size=2048, verbose=0))
        tv = [v.value for v in self.model.trainable_variables]
        ntv = [v.value for v in self.model.non_trainable_variables]
        out = []
        for start in range(0, len(x), self.MAX_BATCH):
            chunk = x[start:start + self.MAX_BATCH]
            size = 1 << max(len(chunk) - 1, 0).bit_length()  # next power of two
            if size != len(chunk):
                chunk = np.concatenate([chunk, np.zeros((size - len(chunk), *self.expected),
                                                        np.float32)])
            out.append(np.asarray(self._fn(tv, ntv, chunk))[:len(x) - start])
        return np.concatenate(out) if out else np.zeros((0, *self.model.output_shape[1:]))


_PREDICTORS: "weakref.WeakKeyDictionary[keras.Model, Predictor]" = weakref.WeakKeyDictionary()


def predict(model: keras.Model, x) -> np.ndarray:
    """Probabilities (or values) for one instance or a batch, through the model's
    cached ``Predictor``."""
    if model not in _PREDICTORS:
        _PREDICTORS[model] = Predictor(model)
    return _PREDICTORS[model](x)


def labels_of(outputs: np.ndarray, labels: dict) -> list:
    """Class labels (classification: as written in training, see ``label_values``), label
    lists (multilabel) or values (regression).

    Args:
        labels: the run's label spec (``preprocessing.json``'s "labels").
    """
    task, names = labels["task"], labels.get("class_names")
    if task == "regression":
        return [float(v[0]) if len(v) == 1 else [float(a) for a in v] for v in outputs]
    if task == "multilabel":
        return [[n for n, hit in zip(names, row) if hit] for row in
                metrics.predicted_labels(outputs)]
    values = label_values(labels)
    return [values[i] for i in metrics.predicted_classes(outputs, task)]


def label_values(labels: dict) -> list:
    """What a class prediction is: the training labels as they were written, their type
    kept (3, 7, 9; True/False; "yes"/"no"), or the class names where the labels were
    codes given names (Fashion-MNIST's 0-9: "T-shirt/top", ...)."""
    names, values = labels.get("class_names"), labels.get("values")
    if values and len(values) == len(names) and [str(v) for v in values] == list(names):
        return list(values)
    return list(names)


NOT_FINITE = ("the model's output is not finite: an input far outside the training rows' "
              "range overflowed; check this row's values")


def not_finite(outputs: np.ndarray) -> str | None:
    """``None`` when every output is finite; else ``NOT_FINITE`` naming the rows (1-based)."""
    outputs = np.asarray(outputs)
    rows = np.flatnonzero(~np.isfinite(outputs.reshape(len(outputs), -1)).all(axis=1)
                          if len(outputs) else [])
    if not len(rows):
        return None
    shown = ", ".join(str(r + 1) for r in rows[:10]) + (", ..." if len(rows) > 10 else "")
    return f"{NOT_FINITE} (rows {shown} of {len(outputs)})"


def records(outputs: np.ndarray, labels: dict, target: str | None = None) -> list[dict]:
    """``{"prediction": ..., "probability": ...}`` per row (no probability for regression;
    for multilabel, the probability of each label). Several regression targets: the
    prediction is the list of values, and ``"predictions"`` names them (``target``: the
    configured columns, "price,rooms", where ``labels`` has no names; "target 1"...
    without any). A row whose output is not finite: ``{"prediction": None, "error": ...}``."""
    task = labels["task"]
    out = []
    outputs = np.asarray(outputs)
    names = (target_names(target, outputs.shape[1], labels)
             if task == "regression" and outputs.ndim == 2 and outputs.shape[1] > 1 else None)
    for value, row in zip(labels_of(outputs, labels), outputs):
        if not np.isfinite(row).all():  # strict JSON has no NaN; say why there is none
            out.append({"prediction": None, "error": NOT_FINITE})
            continue
        record = {"prediction": value}
        if names:
            record["predictions"] = dict(zip(names, value))
        if task == "binary":
            p = float(row[0])
            record["probability"] = p if p > metrics.THRESHOLD else 1.0 - p
        elif task == "multiclass":
            record["probability"] = float(np.max(row))
        elif task == "multilabel":
            record["probabilities"] = {n: float(p) for n, p in zip(labels["class_names"], row)}
        out.append(record)
    return out
