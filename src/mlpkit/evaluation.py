"""Metrics, predictions, confusion matrix and errors by class or range."""

from __future__ import annotations

import weakref
from pathlib import Path

import keras
import numpy as np

from mlpkit.errors import ModelError, RunError


def load_model(path: Path) -> keras.Model:
    """Load a ``.keras`` file in Keras's safe mode."""
    import mlpkit.layers  # noqa: F401  (registers OneHotColumns for loading)

    if not Path(path).is_file():
        raise RunError(f"{path} not found; the run did not finish. Train it again.")
    try:
        return keras.saving.load_model(path, safe_mode=True)
    except Exception as e:  # Keras raises many kinds here
        raise RunError(f"cannot load {path}: {e}") from None


class Predictor:
    """Fast inference for one model: a jitted ``stateless_call`` on the JAX backend.

    Keras's ``predict`` builds a data pipeline and a progress bar on every call,
    costing milliseconds; this costs one dispatch. Batches are padded to a power
    of two (at most ``MAX_BATCH`` rows a call) so only a few shapes are compiled.
    The model's current weights are read on every call. Other backends fall back
    to ``model.predict``.
    """

    MAX_BATCH = 4096

    def __init__(self, model: keras.Model):
        self.model = model
        self.expected = tuple(model.input_shape[1:])
        self._fn = None
        if keras.backend.backend() == "jax":
            import jax

            def forward(tv, ntv, x):
                return model.stateless_call(tv, ntv, x, training=False)[0]

            self._fn = jax.jit(forward)

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


def predictor(model: keras.Model) -> Predictor:
    """The cached ``Predictor`` of ``model``."""
    if model not in _PREDICTORS:
        _PREDICTORS[model] = Predictor(model)
    return _PREDICTORS[model]


def predict(model: keras.Model, x) -> np.ndarray:
    """Probabilities (or values) for one instance or a batch, without Keras's overhead."""
    return predictor(model)(x)


def evaluate(model: keras.Model, ds) -> dict:
    """Flat test metrics: ``test_loss`` plus ``test_accuracy`` or ``test_rmse``.

    Computed from one pass of predictions with the Keras loss functions: the
    values ``model.evaluate`` returns.
    """
    y_pred = predict(model, ds.x_test)
    y = np.asarray(ds.y_test)
    loss_name = getattr(model, "loss", None)
    if ds.task == "regression":
        err = y_pred.reshape(len(y), -1) - y.reshape(len(y), -1)
        mse = float(np.mean(np.mean(err.astype(np.float64) ** 2, axis=1)))
        return {"test_loss": mse, "test_rmse": float(np.sqrt(mse))}
    if ds.task in ("binary", "multilabel"):
        y2 = y.reshape(y_pred.shape).astype(np.float32)
        loss = keras.losses.binary_crossentropy(y2, y_pred)
        accuracy = np.mean((y_pred > 0.5) == (y2 > 0.5))
    elif ds.one_hot or loss_name == "categorical_crossentropy":
        loss = keras.losses.categorical_crossentropy(y.astype(np.float32), y_pred)
        accuracy = np.mean(np.argmax(y_pred, -1) == np.argmax(y, -1))
    else:
        loss = keras.losses.sparse_categorical_crossentropy(y, y_pred)
        accuracy = np.mean(np.argmax(y_pred, axis=-1) == y)
    return {"test_loss": float(np.mean(keras.ops.convert_to_numpy(loss))),
            "test_accuracy": float(accuracy)}


def predicted_classes(proba: np.ndarray, task: str) -> np.ndarray:
    """Class indices from probabilities: argmax, or threshold 0.5 for binary."""
    if task == "binary":
        return (proba.reshape(len(proba)) > 0.5).astype(int)
    return np.argmax(proba, axis=-1)


def classification_details(y_true, proba, class_names: list[str], task: str = "multiclass") -> dict:
    """Per-class precision/recall/F1/support and the confusion matrix."""
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    y_true = np.asarray(y_true)
    if y_true.ndim == 2:  # one-hot
        y_true = y_true.argmax(axis=1)
    y_pred = predicted_classes(proba, task)
    labels = list(range(len(class_names)))
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels,
                                                 zero_division=0)
    per_class = [{"class": name, "precision": float(p[i]), "recall": float(r[i]),
                  "f1": float(f[i]), "support": int(s[i])} for i, name in enumerate(class_names)]
    return {"y_true": y_true, "y_pred": y_pred, "per_class": per_class,
            "confusion_matrix": confusion_matrix(y_true, y_pred, labels=labels)}


def multilabel_details(y_true, proba, class_names: list[str]) -> list[dict]:
    """Per-label precision, recall, F1 and support at the 0.5 threshold."""
    from sklearn.metrics import precision_recall_fscore_support

    y_pred = (np.asarray(proba) > 0.5).astype(int)
    p, r, f, s = precision_recall_fscore_support(np.asarray(y_true).astype(int), y_pred,
                                                 zero_division=0)
    return [{"label": name, "precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]),
             "support": int(s[i])} for i, name in enumerate(class_names)]


def regression_details(y_true, y_pred, bins: int = 5) -> dict:
    """RMSE/MAE overall and by target range (quantile bins of the true value)."""
    y_true = np.asarray(y_true, dtype=np.float64).ravel()
    y_pred = np.asarray(y_pred, dtype=np.float64).ravel()
    err = y_pred - y_true
    edges = np.unique(np.quantile(y_true, np.linspace(0, 1, bins + 1)))
    which = np.clip(np.searchsorted(edges, y_true, side="right") - 1, 0, len(edges) - 2)
    by_range = []
    for b in range(len(edges) - 1):
        m = which == b
        if m.any():
            by_range.append({"low": float(edges[b]), "high": float(edges[b + 1]),
                             "count": int(m.sum()), "rmse": float(np.sqrt(np.mean(err[m] ** 2))),
                             "mae": float(np.mean(np.abs(err[m]))), "bias": float(np.mean(err[m]))})
    return {"rmse": float(np.sqrt(np.mean(err ** 2))), "mae": float(np.mean(np.abs(err))),
            "residuals": err, "by_range": by_range}
