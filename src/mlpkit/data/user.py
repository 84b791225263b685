"""The user's data, whatever its form, into a ``Dataset`` with train/valid/test.

Order of work: infer the task, encode the labels, hold out the test rows (a test
file or ``test_split``), then the validation rows (``validation_data`` or
``validation_split``), and only then fit anything on the training rows (table
encoders: medians, vocabularies), so nothing leaks from held-out rows.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mlpkit.data import split as sp
from mlpkit.data.dataset import Dataset
from mlpkit.errors import DataError

DEFAULT_SPLIT = 0.2


def assemble(name: str, x, y, data, seed: int, *, w=None, test=None, valid=None,
             encoder=None, source=None, notes=None) -> Dataset:
    """Split and encode. ``x`` may be an array or a DataFrame (with ``encoder``).

    Args:
        data: the run's ``DataConfig``.
        test, valid: optional ``(x, y)`` given separately (files, npz keys).
        encoder: a class with ``fit(x_train) -> instance`` and ``transform(x)``.
    """
    notes = list(notes or [])
    y = np.asarray(y)
    task = sp.infer_task(y, data.task)
    y_enc, class_names = sp.encode_labels(y, task, where=f"the labels of {name}")
    if test is None:
        fraction = data.test_split or DEFAULT_SPLIT
        (x, y_enc, w), (x_test, y_test, _) = sp.split([x, y_enc, w], fraction, data.split_order, seed)
        notes.append(_split_note("test", fraction, data.split_order, seed))
    else:
        x_test, y_test = test[0], sp.encode_labels(np.asarray(test[1]), task, class_names,
                                                   where="the test data")[0]
    if valid is None:
        fraction = data.validation_split or DEFAULT_SPLIT
        (x, y_enc, w), (x_valid, y_valid, _) = sp.split([x, y_enc, w], fraction,
                                                        data.split_order, seed + 1)
        notes.append(_split_note("validation", fraction, data.split_order, seed + 1))
    else:
        x_valid, y_valid = valid[0], sp.encode_labels(np.asarray(valid[1]), task, class_names,
                                                      where="the validation data")[0]
    table = None
    if encoder is not None:
        fitted = encoder.fit(x, notes)
        x, x_valid, x_test = (fitted.transform(a) for a in (x, x_valid, x_test))
        table = fitted.spec()
    one_hot = bool(data.one_hot) or (task == "multiclass" and y_enc.ndim == 2)
    if data.one_hot and y_enc.ndim == 1:
        import keras

        k = len(class_names)
        y_enc, y_valid, y_test = (keras.utils.to_categorical(a, k).astype(np.float32)
                                  for a in (y_enc, y_valid, y_test))
        notes.append("labels one-hot encoded (to_categorical): loss categorical_crossentropy")
    return Dataset(name=name, task=task, x_train=x, y_train=y_enc, x_valid=x_valid,
                   y_valid=y_valid, x_test=x_test, y_test=y_test, class_names=class_names,
                   feature_names=table["features"] if table else None, source=source or {},
                   one_hot=one_hot, w_train=None if w is None else np.asarray(w, np.float32),
                   table=table, notes=notes)


def _split_note(what: str, fraction: float, order: str, seed: int) -> str:
    if order == "keep":
        return f"{what}: the last {fraction:g} of the rows in file order (as Keras's validation_split)"
    return (f"{what}: {fraction:g} of the rows, shuffled with seed {seed} before splitting "
            "(--split-order keep takes the last rows in file order, as Keras does)")


def load(path: str | Path, data, seed: int) -> Dataset:
    """Load a CSV/Parquet table, an .npz file or an image folder per ``data``."""
    path = Path(path)
    if path.is_dir():
        from mlpkit.data import images

        return images.load_folder(path, data, seed)
    suffix = path.suffix.lower()
    if suffix == ".npz":
        from mlpkit.data import arrays

        return arrays.load(path, data, seed)
    if suffix in (".csv", ".parquet", ".pq", ".tsv", ".txt"):
        from mlpkit.data import csv

        return csv.load(path, data, seed)
    raise DataError(f"{path}: unknown kind of file {suffix!r}. Pass a CSV or Parquet table, "
                    "an .npz file, or a folder of images with one subfolder per class.")
