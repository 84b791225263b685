"""A ``Source`` into a ``Dataset``: split, then fit labels and preprocessing on the
training rows only, then encode every split.

Order of work: hold out the test rows (a test part, or ``test_split``), then the
validation rows (a validation part, or ``validation_split``), and only then fit
anything: the classes come from the training labels, table encoders (medians,
vocabularies) from the training rows, so nothing leaks from held-out rows. A
reopened run passes its stored split and preprocessing instead, and nothing is
fitted or split again.
"""

from __future__ import annotations

import numpy as np

from mlpkit import labels as lb
from mlpkit.data import split as sp
from mlpkit.data.dataset import Dataset, Source
from mlpkit.errors import ConfigError, DataError

DEFAULT_SPLIT = 0.2
WHAT = {"train": "training", "valid": "validation", "test": "test"}


def make_split(src: Source, data, seed: int, task: str) -> tuple[sp.Split, list[str]]:
    """The split for a fresh run, and notes saying how it was made."""
    rows = src.parts["rows"]
    classes = task != "regression"
    notes = []
    if src.lecture_split is not None and not data.validation_split:
        return src.lecture_split, notes
    if src.lecture_split is not None:  # pool the lecture's train and valid, split again
        pool = np.concatenate([src.lecture_split.train[1], src.lecture_split.valid[1]])
        train, valid, note = sp.holdout(pool, data.validation_split, data.split_order, seed,
                                        rows.y[pool] if classes else None)
        return sp.Split(("rows", train), ("rows", valid), src.lecture_split.test), [note]
    idx = np.arange(len(rows))
    if "test" in src.parts:
        test = ("test", np.arange(len(src.parts["test"])))
    else:
        idx, held, note = sp.holdout(idx, data.test_split or DEFAULT_SPLIT, data.split_order,
                                     seed, rows.y[idx] if classes else None, "test")
        test = ("rows", held)
        notes.append(note)
    if "valid" in src.parts:
        valid = ("valid", np.arange(len(src.parts["valid"])))
    else:
        idx, held, note = sp.holdout(idx, data.validation_split or DEFAULT_SPLIT,
                                     data.split_order, seed + 1,
                                     rows.y[idx] if classes else None, "validation")
        valid = ("rows", held)
        notes.append(note)
    return sp.Split(("rows", idx), valid, test), notes


def assemble(src: Source, data, seed: int, stored: dict | None = None) -> Dataset:
    """Split and encode ``src`` as the run's ``[data]`` settings say.

    Args:
        data: the run's ``DataConfig``.
        stored: a reopened run's ``{"split": Split, "preprocessing": dict}``.
    """
    notes = list(src.notes)
    rows = src.parts["rows"]
    if stored:
        prep = stored["preprocessing"]
        labels = lb.Labels.from_spec(prep["labels"])
        split = stored["split"]
    else:
        task, why = (src.task, "the data set's own") if src.task else lb.infer_task(rows.y,
                                                                                   data.task)
        if task in ("multiclass", "binary") and np.asarray(rows.y).ndim == 1:
            distinct = np.unique(np.asarray(rows.y).astype(str))
            if len(distinct) < 2:
                raise DataError(f"the labels of {src.name} hold one class only "
                                f"({distinct[:1].tolist()}); a classifier needs at least two. "
                                "Check the target column or folders.")
        split, split_notes = make_split(src, data, seed, task)
        notes += split_notes
        train_part, train_idx = split.train
        train_y = sp.take(src.parts[train_part].y, train_idx)
        if task in ("multiclass", "binary") and np.asarray(train_y).ndim == 1:
            left = np.unique(np.asarray(train_y).astype(str))
            if len(left) < 2:  # the data has two or more (above): the split left one
                shares = [f"--{k.replace('_', '-')} (now {getattr(data, k) or DEFAULT_SPLIT})"
                          for k, part in (("test_split", "test"), ("validation_split", "valid"))
                          if part not in src.parts]
                fix = ("the rows are in order and --split-order keep takes the last ones "
                       "out: use --split-order shuffle" if data.split_order == "keep" else
                       f"lower {' or '.join(shares) or 'the held-out rows'}, or give more rows")
                raise DataError(f"the {len(train_y)} training rows the split leaves hold one "
                                f"class only ({left[:1].tolist()}) of the {len(distinct)} in "
                                f"{src.name}; {fix}.")
        labels = lb.Labels.fit(train_y, task, src.class_names, data.target)
        if task in ("multiclass", "binary") and np.asarray(rows.y).ndim == 1:
            absent = sorted(set(map(str, distinct)) - set(map(str, labels.class_names or [])))
            if absent:  # a class too rare for the split: the model has one output fewer
                why += (f"; {len(distinct) - len(absent)} of them in the training rows, the "
                        f"model's classes (not {absent[:5]}{', ...' if len(absent) > 5 else ''})")
        if not src.task:
            notes.append(f"task: {task} ({why}); --task changes it")
        split = _drop_unknown(src, split, labels, notes, data.split_order == "keep")
    x, y, w = {}, {}, {}
    test_part, test_idx = split.test
    test_names = src.parts[test_part].names
    test_names = None if test_names is None else [str(n) for n in test_names[test_idx]]
    for name, (part, idx) in split.items():
        chunk = src.parts[part]
        x[name] = sp.take(chunk.x, idx)
        y[name] = labels.encode(sp.take(chunk.y, idx), where=f"the {WHAT[name]} labels")
        w[name] = sp.take(chunk.w, idx)
    table = None
    if src.table is not None:
        encoder = (src.table.from_spec(stored["preprocessing"]["table"]) if stored
                   else src.table.fit(x["train"], notes, src.column_types,
                                      tuple(src.decimal_commas or ())))
        raw, x = x, {name: encoder.transform(a) for name, a in x.items()}
        table = encoder.spec()
        for name in ([] if stored else ["valid", "test"]):  # read as the training rows were
            said = [n for row in encoder.unseen(raw[name]) for n in row
                    if " is not a number " in n or " is not a date " in n]
            if said:
                notes.append(f"{WHAT[name]} rows: {len(said)} value(s) that the training "
                             f"rows' way of writing them does not read, taken as missing "
                             f"(e.g. {said[0]})")
    one_hot = bool(data.one_hot) or (labels.task == "multiclass" and y["train"].ndim == 2)
    if data.one_hot and y["train"].ndim == 1:
        if labels.task != "multiclass":
            raise ConfigError(f"one_hot applies to multiclass labels; these are {labels.task}. "
                              "Received: one_hot=True")
        eye = np.eye(len(labels.class_names), dtype=np.float32)
        y = {name: eye[a] for name, a in y.items()}
        if not stored:
            notes.append("labels one-hot encoded (to_categorical): loss "
                         "categorical_crossentropy")
    return Dataset(name=src.name, task=labels.task, x_train=x["train"], y_train=y["train"],
                   x_valid=x["valid"], y_valid=y["valid"], x_test=x["test"], y_test=y["test"],
                   class_names=labels.class_names,
                   feature_names=table["features"] if table else src.feature_names,
                   source=src.source, one_hot=one_hot,
                   w_train=None if w["train"] is None else np.asarray(w["train"], np.float32),
                   labels=labels, split=split, table=table, image=src.image, kind=src.kind,
                   notes=notes, test_names=test_names)


def _drop_unknown(src: Source, split: sp.Split, labels: lb.Labels, notes: list,
                  keep: bool = False) -> sp.Split:
    """Rows that mlpkit held out itself, whose class never appears in the training rows
    (a class too rare to stratify), cannot be scored: drop them, and say so. A
    validation or test set the user gave is never changed (unknown labels are refused)."""
    parts = {}
    for name, (part, idx) in split.items():
        if name != "train" and part == "rows":
            known = labels.known(sp.take(src.parts[part].y, idx))
            if not known.all():
                gone = sorted({str(v) for v in sp.take(src.parts[part].y, idx[~known])})
                if not known.any():
                    fix = ("the rows are in order and --split-order keep holds out the last "
                           "ones" + (" (an image folder's rows come class by class)"
                                     if src.kind == "images" else "")
                           + ": use --split-order shuffle" if keep else
                           "the classes are too rare to learn and to score. Choose a target "
                           "with fewer classes, or give more rows per class")
                    raise DataError(
                        f"none of the {len(idx)} {name} rows has a class that the training "
                        f"rows hold ({len(labels.class_names)} classes there): {fix}.")
                dropped = int((~known).sum())
                notes.append(f"{name}: {dropped} row{'s' if dropped > 1 else ''} dropped, "
                             f"their classes never appear in the training rows: {gone[:10]}")
                idx = idx[known]
        parts[name] = (part, idx)
    return sp.Split(**parts)


def encode_all(src: Source, prep: dict) -> tuple[np.ndarray, np.ndarray]:
    """Every row of ``src`` (all its parts), encoded with a run's stored preprocessing:
    for evaluating a trained model on other data."""
    labels = lb.Labels.from_spec(prep["labels"])
    encoder = None
    if prep.get("table"):
        from mlpkit.data.columns import TableEncoder

        encoder = TableEncoder.from_spec(prep["table"])
    xs, ys = [], []
    for name, rows in src.parts.items():
        xs.append(encoder.transform(rows.x) if encoder else np.asarray(rows.x))
        ys.append(labels.encode(rows.y, where=f"the labels of {src.name}"))
    x, y = np.concatenate(xs), np.concatenate(ys)
    if prep.get("one_hot") and y.ndim == 1:
        y = np.eye(len(labels.class_names), dtype=np.float32)[y]
    if list(x.shape[1:]) != list(prep["input_shape"]):
        raise DataError(f"{src.name} gives inputs of shape {list(x.shape[1:])}; the model was "
                        f"trained on {prep['input_shape']}. Pass data of the training kind.")
    return x, y
