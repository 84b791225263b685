"""Figures for the report, drawn as the lecture draws them (matplotlib, Agg)."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from mlpkit import files  # noqa: E402


def _save(fig, dest: Path) -> Path:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return files.write_bytes(dest, buf.getvalue())


def learning_curves(history: dict[str, list[float]], dest: Path) -> Path:
    """The lecture's plot: ``pd.DataFrame(history.history).plot(...)``.

    Training curves dashed red, validation solid blue, grid, x = epoch; for
    accuracy-like metrics y runs from 0 to 1 as in the lecture.
    """
    # Keras 3 logs metrics alphabetically; order them as the lecture's styles expect:
    # loss, metric, val_loss, val_metric -> "r--", "r--.", "b-", "b-*".
    train_keys = sorted((k for k in history if not k.startswith("val_")),
                        key=lambda k: (k != "loss", k))
    keys = train_keys + [f"val_{k}" for k in train_keys if f"val_{k}" in history]
    df = pd.DataFrame({k: history[k] for k in keys})
    styles = {0: "r--", 1: "r--."}
    style = [styles.get(i, "r:") for i in range(len(train_keys))]
    style += [{0: "b-", 1: "b-*"}.get(i, "b:") for i in range(len(keys) - len(train_keys))]
    bounded = all(np.nanmax(df[k]) <= 1.0 for k in keys)
    ax = df.plot(figsize=(8, 5), xlim=[0, max(len(df) - 1, 1)],
                 ylim=[0, 1] if bounded else None, grid=True, xlabel="Epoch", style=style)
    return _save(ax.figure, dest)


TEXT_CLASSES = 30  # past this many classes, no numbers in the cells nor names on the axes


def confusion_matrix(cm: np.ndarray, class_names: list[str], dest: Path) -> Path:
    """The confusion matrix as a heat map; with many classes, a plain image (drawing a
    number in each of 300 x 300 cells took about a minute)."""
    k = len(class_names)
    fig, ax = plt.subplots(figsize=(8, 7))
    im = ax.imshow(cm, cmap="Blues", interpolation="nearest")
    if k <= TEXT_CLASSES:
        ax.set_xticks(range(k), class_names, rotation=45, ha="right")
        ax.set_yticks(range(k), class_names)
        limit = cm.max() / 2 if cm.size else 0
        for (i, j), v in np.ndenumerate(cm):
            ax.text(j, i, str(v), ha="center", va="center", fontsize=7,
                    color="white" if v > limit else "black")
    ax.set_xlabel("Predicted")
    ax.set_ylabel("True")
    fig.colorbar(im, ax=ax, fraction=0.046)
    return _save(fig, dest)


def image_grid(images, titles: list[str], dest: Path, cols: int = 6,
               negative: bool = False) -> Path:
    """Images with a caption each (misclassified or sample predictions). Grayscale ones
    as they are (0 black), or, ``negative``, dark on light as the lecture draws
    Fashion-MNIST (``cmap="binary"``).

    Drawn as one mosaic on one axes: a subplot per image costs about 20 ms each.
    """
    images = np.asarray(images, dtype=np.float32)
    n = max(len(images), 1)
    cols = min(cols, n)
    rows = (n + cols - 1) // cols
    h, w = images.shape[1:3] if len(images) else (28, 28)
    pad_top, gap = int(h * 0.6), int(w * 0.15)
    cell_h, cell_w = h + pad_top, w + gap
    # background: white in every case (RGB and gray 1.0; 0.0 under the "binary" colormap)
    mosaic = np.full((rows * cell_h, cols * cell_w, *images.shape[3:]),
                     0.0 if images.ndim == 3 and negative else 1.0, np.float32)
    fig, ax = plt.subplots(figsize=(cols * 1.8, rows * 2.1))
    for i, (img, title) in enumerate(zip(images, titles)):
        r, c = divmod(i, cols)
        y, x = r * cell_h + pad_top, c * cell_w
        mosaic[y:y + h, x:x + w] = img
        ax.text(x + w / 2, y - 1, title, ha="center", va="bottom", fontsize=7)
    if images.ndim == 4:
        ax.imshow(mosaic.clip(0, 1))
    else:
        ax.imshow(mosaic, cmap="binary" if negative else "gray", vmin=0, vmax=1)
    ax.axis("off")
    return _save(fig, dest)


def _per_target(y_true, y_pred, names):
    """Columns of several targets, each standardized by its actual values' mean and
    standard deviation (so targets in different units share the axes), with names;
    one target as it is."""
    y_true, y_pred = np.asarray(y_true, np.float64), np.asarray(y_pred, np.float64)
    if y_true.ndim == 1 or y_true.shape[1] == 1:
        return [(None, y_true.ravel(), y_pred.ravel())], ""
    mean, std = y_true.mean(axis=0), y_true.std(axis=0)
    std[std == 0] = 1.0
    t, p = (y_true - mean) / std, (y_pred - mean) / std
    return [(n, t[:, j], p[:, j]) for j, n in enumerate(names)], " (standardized per target)"


def predicted_vs_actual(y_true, y_pred, dest: Path, names=None) -> Path:
    """Predicted against actual values; several targets (columns, named ``names``) each
    in its own colour, standardized."""
    fig, ax = plt.subplots(figsize=(6, 6))
    columns, unit = _per_target(y_true, y_pred, names)
    for name, t, p in columns:
        ax.scatter(t, p, s=3, alpha=0.3, label=name)
    lo = float(min(min(np.min(t), np.min(p)) for _, t, p in columns))
    hi = float(max(max(np.max(t), np.max(p)) for _, t, p in columns))
    ax.plot([lo, hi], [lo, hi], "r--")
    ax.set_xlabel("Actual" + unit)
    ax.set_ylabel("Predicted" + unit)
    if unit:
        ax.legend(markerscale=4)
    ax.grid(True)
    return _save(fig, dest)


def residuals(y_true, y_pred, dest: Path, names=None) -> Path:
    """Errors against actual values and their histogram; several targets as in
    ``predicted_vs_actual``."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    columns, unit = _per_target(y_true, y_pred, names)
    for name, t, p in columns:
        a.scatter(t, p - t, s=3, alpha=0.3, label=name)
        b.hist(p - t, bins=60, alpha=0.6 if unit else 1.0, label=name)
    a.axhline(0, color="r", ls="--")
    a.set_xlabel("Actual" + unit)
    a.set_ylabel("Predicted - actual" + unit)
    a.grid(True)
    b.set_xlabel("Predicted - actual" + unit)
    if unit:
        b.legend()
    b.grid(True)
    return _save(fig, dest)


def error_by_range(by_range: list[dict], dest: Path) -> Path:
    fig, ax = plt.subplots(figsize=(7, 4))
    labels = [f"{r['low']:.2f}-{r['high']:.2f}" for r in by_range]
    ax.bar(labels, [r["rmse"] for r in by_range], label="RMSE")
    ax.plot(labels, [r["bias"] for r in by_range], "r*-", label="mean error")
    ax.set_xlabel("Actual value range")
    ax.grid(True, axis="y")
    ax.legend()
    return _save(fig, dest)
