"""Metrics, predictions, confusion matrix and errors by class or range."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np

from mlpkit.errors import ModelError, RunError


def load_model(path: Path) -> keras.Model:
    """Load a ``.keras`` file in Keras's safe mode."""
    if not Path(path).is_file():
        raise RunError(f"{path} not found; the run did not finish. Train it again.")
    try:
        return keras.saving.load_model(path, safe_mode=True)
    except Exception as e:  # Keras raises many kinds here
        raise RunError(f"cannot load {path}: {e}") from None


def predict(model: keras.Model, x, batch_size: int = 2048) -> np.ndarray:
    """Probabilities (or values) for a batch of instances, without Keras's progress bar."""
    x = np.asarray(x, dtype=np.float32)
    expected = tuple(model.input_shape[1:])
    if x.shape[1:] != expected:
        if x.shape == expected:
            x = x[None]
        else:
            raise ModelError(f"input has shape {x.shape}, the model expects (n, "
                             f"{', '.join(map(str, expected))}). Received: shape={x.shape}")
    return np.asarray(model.predict(x, batch_size=batch_size, verbose=0))


def evaluate(model: keras.Model, ds) -> dict:
    """Flat test metrics: ``test_loss`` plus ``test_accuracy`` or ``test_rmse``."""
    result = model.evaluate(ds.x_test, ds.y_test, batch_size=1024, verbose=0,
                            return_dict=True)
    return {f"test_{k}": float(v) for k, v in result.items()}


def classification_details(y_true, proba, class_names: list[str]) -> dict:
    """Per-class precision/recall/F1/support and the confusion matrix."""
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    y_pred = np.argmax(proba, axis=-1)
    labels = list(range(len(class_names)))
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels,
                                                 zero_division=0)
    per_class = [{"class": name, "precision": float(p[i]), "recall": float(r[i]),
                  "f1": float(f[i]), "support": int(s[i])} for i, name in enumerate(class_names)]
    return {"y_pred": y_pred, "per_class": per_class,
            "confusion_matrix": confusion_matrix(y_true, y_pred, labels=labels)}


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
