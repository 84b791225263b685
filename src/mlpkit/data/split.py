"""Task inference, label encoding and splits for the user's data."""

from __future__ import annotations

import numpy as np

from mlpkit.errors import DataError

MAX_CLASSES = 50  # integer labels with at most this many values are classes


def infer_task(y: np.ndarray, forced: str = "auto") -> str:
    """multiclass / binary / multilabel / regression from the labels, unless forced.

    Integer or string labels with few distinct values are classes (two: binary);
    floats are a regression target; a 0/1 matrix is one-hot (one 1 a row, so
    multiclass) or multilabel.
    """
    if forced != "auto":
        return forced
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        values = np.unique(y)
        if np.isin(values, (0, 1)).all():
            return "multiclass" if (y.sum(axis=1) == 1).all() else "multilabel"
        return "regression"
    y = y.reshape(len(y))
    if y.dtype.kind in "OUSb":
        return "binary" if len(np.unique(y.astype(str))) == 2 else "multiclass"
    if y.dtype.kind in "iu":
        k = len(np.unique(y))
        if k <= MAX_CLASSES:
            return "binary" if k == 2 else "multiclass"
    return "regression"


def encode_labels(y: np.ndarray, task: str, class_names: list[str] | None = None,
                  where: str = "the labels"):
    """Labels -> (targets for Keras, class names).

    Class names are the sorted distinct labels, as text; targets are their
    indices (multiclass, binary), the 0/1 matrix (multilabel, one-hot), or floats.

    Raises:
        DataError: one class only, or labels never seen in ``class_names``.
    """
    y = np.asarray(y)
    if task == "regression":
        return y.astype(np.float32), None
    if y.ndim == 2 and y.shape[1] > 1:  # one-hot or multilabel matrix
        names = class_names or [str(i) for i in range(y.shape[1])]
        return y.astype(np.float32), names
    text = y.reshape(len(y)).astype(str)
    if class_names is None:
        class_names = sorted((str(v) for v in np.unique(text)), key=_natural)
        if len(class_names) < 2:
            raise DataError(f"{where} hold one class only ({class_names[0] if class_names else 'none'!r}); "
                            "a classifier needs at least two. Check the target column or folders.")
    index = {name: i for i, name in enumerate(class_names)}
    unseen = sorted(str(v) for v in set(text) - set(index))
    if unseen:
        raise DataError(f"{where} hold labels never seen in training: {unseen[:10]}. "
                        f"Known classes: {class_names[:20]}")
    codes = np.array([index[t] for t in text], dtype=np.int32)
    if task == "binary" and len(class_names) != 2:
        raise DataError(f"task binary needs exactly two classes; {where} hold "
                        f"{len(class_names)}. Use --task multiclass.")
    return codes, class_names


def _natural(name: str):
    """Sort "2" before "10" when labels are numbers."""
    try:
        return (0, float(name), name)
    except ValueError:
        return (1, 0.0, name)


def split(arrays: list, fraction: float, order: str, seed: int) -> tuple[list, list]:
    """Split each array the same way; returns (kept, held out).

    ``order="keep"`` holds out the last ``fraction`` of the rows in file order, as
    Keras's ``validation_split`` does; ``"shuffle"`` shuffles with ``seed`` first.
    """
    n = len(arrays[0])
    held = int(round(n * fraction))
    if held < 1 or held >= n:
        raise DataError(f"a split of {fraction} leaves {n - held} of {n} rows for training and "
                        f"{held} held out; use a fraction that leaves rows on both sides.")
    idx = np.arange(n) if order == "keep" else np.random.default_rng(seed).permutation(n)
    keep, out = idx[:n - held], idx[n - held:]
    return [_take(a, keep) for a in arrays], [_take(a, out) for a in arrays]


def _take(a, idx):
    if a is None:
        return None
    return a.iloc[idx].reset_index(drop=True) if hasattr(a, "iloc") else a[idx]


def class_weights(spec: str | dict | None, y: np.ndarray, class_names: list[str] | None,
                  task: str = "multiclass") -> dict | None:
    """``"balanced"`` (n / (classes * count), as scikit-learn) or a mapping -> {index: weight}.

    For binary labels the classes are the two label values (0 and 1).
    """
    if not spec:
        return None
    if task not in ("multiclass", "binary"):
        raise DataError(f"class_weight applies to multiclass and binary tasks; this one is {task}.")
    y = np.asarray(y)
    if y.ndim == 2:  # one-hot rows: the class is the argmax, as Keras does
        y = y.argmax(axis=1)
    if isinstance(spec, str) and spec == "balanced":
        counts = np.bincount(np.asarray(y).astype(int), minlength=len(class_names))
        return {i: float(len(y) / (len(class_names) * c)) for i, c in enumerate(counts) if c}
    if isinstance(spec, str):
        try:
            pairs = [item.split(":") for item in spec.split(",") if item.strip()]
            spec = {k.strip(): float(v) for k, v in pairs}
        except ValueError:
            raise DataError(f"class_weight must be 'balanced' or a mapping like '0:1,1:3'. "
                            f"Received: class_weight={spec!r}") from None
    out = {}
    for key, weight in spec.items():
        key = str(key)
        if key in class_names:
            out[class_names.index(key)] = float(weight)
        elif key.isdigit() and int(key) < len(class_names):
            out[int(key)] = float(weight)
        else:
            raise DataError(f"class_weight names an unknown class {key!r}. Known classes: "
                            f"{class_names[:20]}")
    return {i: out.get(i, 1.0) for i in range(len(class_names))}
