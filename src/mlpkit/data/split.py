"""Splits: which rows train, which validate, which test.

A split is three lists of row indices, each into one *part* of a source: "rows"
(the file or folder), or "valid"/"test" when those were given separately (a
validation file, ``x_test`` in an ``.npz``, Fashion-MNIST's test file). The run
folder keeps the split (``split.npz``), so reopening a run takes exactly the
rows it was trained and tested on, and never splits again.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlpkit.errors import DataError

NAMES = ("train", "valid", "test")


@dataclass(frozen=True)
class Split:
    """``{"train": (part, indices), "valid": ..., "test": ...}``."""

    train: tuple[str, np.ndarray]
    valid: tuple[str, np.ndarray]
    test: tuple[str, np.ndarray]

    def items(self):
        return ((name, getattr(self, name)) for name in NAMES)

    def save(self, dest) -> None:
        """Write ``split.npz`` (indices, and each split's part as a 0-d string array)."""
        from mlpkit import files

        arrays = {}
        for name, (part, idx) in self.items():
            arrays[name] = np.asarray(idx, np.int64)
            arrays[f"{name}_part"] = np.array(part)
        with files.atomic_open(dest) as f:
            np.savez_compressed(f, **arrays)

    @classmethod
    def load(cls, path) -> "Split":
        with np.load(path, allow_pickle=False) as f:
            return cls(**{name: (str(f[f"{name}_part"]), f[name]) for name in NAMES})

    def summary(self) -> dict:
        return {name: {"part": part, "rows": int(len(idx))} for name, (part, idx) in self.items()}


def holdout(idx: np.ndarray, fraction: float, order: str, seed: int, labels=None,
            what: str = "validation") -> tuple[np.ndarray, np.ndarray, str]:
    """Hold out ``fraction`` of the rows ``idx``; returns (kept, held out, note).

    ``order="keep"`` holds out the last rows in file order, as Keras's
    ``validation_split`` does. ``"shuffle"`` shuffles with ``seed`` and, when
    ``labels`` are given (classification), stratifies so that each class keeps
    its share on both sides (scikit-learn's ``train_test_split``); classes too
    rare to stratify fall back to a plain shuffle, said in the note.
    """
    from sklearn.model_selection import train_test_split

    n = len(idx)
    held = int(round(n * fraction))
    if held < 1 or held >= n:
        raise DataError(f"a {what} split of {fraction} leaves {n - held} of {n} rows for "
                        f"training and {held} held out; use a fraction that leaves rows on "
                        "both sides.")
    if order == "keep":
        return idx[:n - held], idx[n - held:], (
            f"{what}: the last {held} of {n} rows ({fraction:g}) in file order (as Keras's "
            "validation_split)")
    stratify, why = None, ""
    multi_hot = (labels is not None and np.ndim(labels) == 2 and np.shape(labels)[1] > 1
                 and not (np.asarray(labels).sum(axis=1) == 1).all())
    if multi_hot:  # several labels a row: no one class to stratify by
        why = " (not stratified: several labels a row)"
    elif labels is not None:
        labels = np.asarray(labels)
        key = labels.argmax(axis=1) if labels.ndim == 2 and labels.shape[1] > 1 else labels
        key = key.reshape(n) if key.ndim > 1 else key
        names, inverse, counts = np.unique(key.astype(str), return_inverse=True,
                                           return_counts=True)
        # a class of one row cannot be on both sides: it stays in training (the model
        # learns it; it could not be scored anyway), and the others are stratified
        single = counts[inverse.reshape(n)] == 1
        others = counts[counts >= 2]
        if others.size and min(held, n - single.sum() - held) >= len(others):
            stratify = key
            if single.any():
                why = (f" ({int(single.sum())} class{'es' * bool(single.sum() > 1)} of one row "
                       "kept for training)")
        else:
            rows = "1 row" if counts.min() == 1 else f"{counts.min()} rows"
            why = (f" (not stratified: the rarest class has {rows})"
                   if counts.min() < 2 else " (not stratified: too few rows for the classes)")
    if stratify is not None and why:
        kept, out = train_test_split(idx[~single], test_size=held, random_state=seed,
                                     stratify=stratify[~single])
        kept = np.concatenate([kept, idx[single]])
    else:
        kept, out = train_test_split(idx, test_size=held, random_state=seed, stratify=stratify)
    how = "stratified by class, " if stratify is not None else ""
    note = (f"{what}: {held} of {n} rows ({fraction:g}), {how}shuffled with seed {seed}{why} "
            "(--split-order keep takes the last rows in file order, as Keras does)")
    return np.sort(kept), np.sort(out), note


def take(a, idx: np.ndarray):
    """Rows ``idx`` of an array or DataFrame; a contiguous run of rows is a view."""
    if a is None:
        return None
    idx = np.asarray(idx)
    if len(idx) and idx[-1] - idx[0] + 1 == len(idx) and np.all(np.diff(idx) == 1):
        sl = slice(int(idx[0]), int(idx[-1]) + 1)
        return a.iloc[sl].reset_index(drop=True) if hasattr(a, "iloc") else a[sl]
    return a.iloc[idx].reset_index(drop=True) if hasattr(a, "iloc") else a[idx]
