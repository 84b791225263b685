"""Judging a model: test metrics, per-class figures, errors by range.

The loss and metric come from ``mlpkit.metrics`` (the definitions the training
loop uses); the per-class and per-range details from scikit-learn's metrics.
"""

from __future__ import annotations

import numpy as np

from mlpkit import inference, labels, metrics
from mlpkit.errors import DataError


def evaluate(model, x, y, preprocessing: dict, prefix: str = "test_",
             target: str | None = None, finite: bool = False) -> dict:
    """Flat metrics of ``model`` on ``(x, y)``: ``test_loss`` plus ``test_accuracy`` or
    ``test_rmse``, the values ``model.evaluate`` returns. With several regression targets
    ``test_loss`` is the scaled loss they were trained with (``metrics.ScaledMeanSquaredError``;
    the plain mean squared error for a model trained before it), ``test_rmse`` pools them
    in their units, as Keras's metric does, and ``test_rmse[name]`` is each target's own.

    Args:
        preprocessing: the run's ``preprocessing.json`` (or ``Dataset.preprocessing()``):
            its task and label form choose the loss.
        target: the target columns as configured ("price,rooms"): their names where
            ``preprocessing`` has none (runs from before they were saved).
        finite: refuse outputs that are not finite (``mlpkit evaluate``) instead of
            giving NaN figures (the end of training, which then still saves its model).

    Raises:
        DataError: with ``finite``, an output that is not finite, naming its rows.
    """
    loss = metrics.loss_for(preprocessing["labels"]["task"], preprocessing.get("one_hot", False))
    y_pred = inference.predict(model, x)
    why = inference.not_finite(y_pred) if finite else None
    if why:  # no figure to give: NaN is none, and strict JSON cannot hold it
        raise DataError(f"cannot evaluate: {why}")
    # the loss as trained, for several regression targets each on its scale (the
    # smoothing of a classifier's loss is left out: the test loss is the plain one)
    scale = metrics.loss_options(getattr(model, "loss", None)).get("scale")
    figures = metrics.compute(loss, y, y_pred, scale=scale)
    if loss == "mse":
        figures.update(rmse_by_target(y, y_pred, preprocessing["labels"], target))
    return {f"{prefix}{k}": v for k, v in figures.items()}


def rmse_by_target(y, y_pred, label_spec: dict, target: str | None = None) -> dict:
    """``{"rmse[name]": ...}``, each regression target's RMSE in its units, for several
    targets (named as ``labels.target_names`` says); ``{}`` for one."""
    y = np.asarray(y)
    if y.ndim != 2 or y.shape[1] < 2:
        return {}
    y_pred = np.asarray(y_pred, np.float64).reshape(y.shape)
    errors = np.sqrt(np.mean((y_pred - y.astype(np.float64)) ** 2, axis=0))
    names = labels.target_names(target, y.shape[1], label_spec)
    return {f"rmse[{name}]": float(rmse) for name, rmse in zip(names, errors)}


def classification_details(y_true, proba, class_names: list[str], task: str = "multiclass") -> dict:
    """Per-class precision/recall/F1/support and the confusion matrix."""
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    y_true = np.asarray(y_true)
    if y_true.ndim == 2:  # one-hot
        y_true = y_true.argmax(axis=1)
    y_pred = metrics.predicted_classes(proba, task)
    labels = list(range(len(class_names)))
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels,
                                                 zero_division=0)
    per_class = [{"class": name, "precision": float(p[i]), "recall": float(r[i]),
                  "f1": float(f[i]), "support": int(s[i])} for i, name in enumerate(class_names)]
    return {"y_true": y_true, "y_pred": y_pred, "per_class": per_class,
            "confusion_matrix": confusion_matrix(y_true, y_pred, labels=labels)}


def multilabel_details(y_true, proba, class_names: list[str]) -> list[dict]:
    """Per-label precision, recall, F1 and support at ``metrics.THRESHOLD``."""
    from sklearn.metrics import precision_recall_fscore_support

    y_pred = metrics.predicted_labels(proba)
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
