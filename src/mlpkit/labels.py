"""Labels: which task they describe, how they are encoded, how classes are weighted.

Built on scikit-learn's own tools: ``type_of_target`` names the kind of target,
``LabelEncoder`` codes class labels, ``compute_class_weight`` gives "balanced"
weights. mlpkit adds one rule of its own: integer labels with more than
``MAX_CLASSES`` distinct values are a quantity to predict (regression), not classes.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass

import numpy as np

from mlpkit.errors import ConfigError, DataError

MAX_CLASSES = 50  # integer labels with at most this many values are classes
TASKS = ("multiclass", "binary", "multilabel", "regression")


def split_names(target: str | None) -> list[str]:
    """The column names a target string holds: "price,rooms" is two; a name holding a
    comma is quoted as in a CSV row: '"rooms, total",price'. Spaces around names go."""
    if not target:
        return []
    return [n.strip() for n in next(csv.reader([target], skipinitialspace=True))]


def join_names(names) -> str:
    """The target string of several column names: the inverse of ``split_names``."""
    import io

    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(list(names))
    return out.getvalue()


def listing(names) -> str:
    """Column names for a message, separated by ", ": a name holding a comma or a double
    quote, or with spaces at its ends, is quoted as in a CSV row, so each one reads
    unambiguously (and can be passed back as a target)."""
    def shown(name: str) -> str:
        if "," in name or '"' in name or name != name.strip():
            return '"' + name.replace('"', '""') + '"'
        return name

    return ", ".join(shown(str(n)) for n in names)


def figure(v: float) -> str:
    """A figure for a table (the command line's, the report's): 4 decimals, or 4
    significant digits where decimals would hide it (an RMSE of 2.5e-07 is not 0.0000)."""
    return f"{v:.4g}" if v and not 1e-3 <= abs(v) < 1e7 else f"{v:.4f}"


def target_names(target: str | None, count: int, spec: dict | None = None) -> list[str]:
    """The names of ``count`` regression targets: those a run's label ``spec`` saved,
    else the configured columns (``target``, "price,rooms"), else "target 1",
    "target 2"... (arrays: no names)."""
    names = list((spec or {}).get("target_names") or [])
    if len(names) != count:
        names = split_names(target)
    return names if len(names) == count else [f"target {j + 1}" for j in range(count)]


def _is_number(v) -> bool:
    try:
        float(v)
        return True
    except (TypeError, ValueError):
        return False


def _plain(y) -> np.ndarray:
    """Labels as a NumPy array; mixed or object columns become text."""
    y = np.asarray(y)
    if y.dtype.kind == "O":
        y = y.astype(str)
    return y


def infer_task(y, forced: str = "auto") -> tuple[str, str]:
    """The task the labels describe, and why, in words for a note.

    Returns:
        ``(task, reason)``, task one of ``TASKS``.

    Raises:
        DataError: labels scikit-learn cannot classify (``type_of_target`` "unknown").
    """
    y = _plain(y)
    if forced != "auto":
        return forced, f"--task {forced}"
    from sklearn.utils.multiclass import type_of_target

    kind = type_of_target(y)
    values = np.unique(y) if y.ndim == 1 or y.shape[1] == 1 else None
    if kind == "binary":
        return "binary", f"two label values ({', '.join(map(str, values[:2]))})"
    if kind == "multiclass":
        if y.dtype.kind in "USb":
            if len(values) > MAX_CLASSES and len(values) > len(y) / 2:
                raise DataError(
                    f"the labels hold {len(values)} distinct text values in {len(y)} rows "
                    f"(e.g. {', '.join(map(repr, values[:3].tolist()))}): too many to be "
                    "classes. If they are numbers with other signs or words, make the column "
                    "numbers; to classify, choose a column with fewer values (or pass "
                    "--task multiclass to insist).")
            return "multiclass", f"{len(values)} text labels"
        if y.dtype.kind in "iu" and len(values) <= MAX_CLASSES:
            return "multiclass", f"{len(values)} integer labels (at most {MAX_CLASSES} are classes)"
        if y.dtype.kind in "iu":
            return "regression", f"{len(values)} distinct integers (over {MAX_CLASSES}: a quantity)"
        return "regression", "numbers with a fractional type"
    if kind == "multilabel-indicator":
        if (y.sum(axis=1) == 1).all():
            return "multiclass", f"one-hot rows of {y.shape[1]} classes"
        return "multilabel", f"0/1 rows of {y.shape[1]} labels"
    if kind in ("continuous", "continuous-multioutput", "multiclass-multioutput"):
        return "regression", "numbers" if y.ndim == 1 else f"{y.shape[1]} numeric targets"
    raise DataError(f"cannot tell what the labels mean (scikit-learn's type_of_target says "
                    f"{kind!r}); pass --task {'|'.join(TASKS)}.")


@dataclass(frozen=True)
class Labels:
    """How labels become the model's targets, fitted on the training rows.

    Attributes:
        task: one of ``TASKS``.
        class_names: class names by index (classification), else ``None``.
        values: the label values as written in the data, by class index (for
            Fashion-MNIST 0-9; for text labels the names themselves).
        kind: "names" (text labels) or "indices" (numbers or 0/1 rows).
        target_names: the names of several regression targets (the table's columns).
    """

    task: str
    class_names: list[str] | None = None
    values: list | None = None
    kind: str = "indices"
    target_names: list[str] | None = None

    @classmethod
    def fit(cls, y, task: str, class_names: list[str] | None = None,
            target: str | None = None) -> "Labels":
        """Learn the classes from the training labels ``y``.

        ``class_names`` names integer labels 0..k-1 (a built-in data set's own names);
        ``target`` ("price,rooms") names the columns of several regression targets.

        Raises:
            DataError: a classifier with fewer than two classes in its training rows.
        """
        y = _plain(y)
        if task == "regression":
            names = split_names(target)
            if y.ndim == 2 and 1 < y.shape[1] == len(names):  # several named columns
                return cls(task, target_names=names)
            return cls(task)
        if y.ndim == 2 and y.shape[1] > 1:  # one-hot or multilabel matrix
            k = y.shape[1]
            if task in ("multiclass", "binary") and not (y.sum(axis=1) == 1).all():
                raise DataError(f"task {task} with several label columns needs one-hot rows "
                                "(exactly one 1 a row); some rows hold several 1s or none. "
                                "Use --task multilabel.")
            names = class_names or [str(i) for i in range(k)]
            return cls(task, list(names), list(range(k)), "indices")
        if task == "multilabel":
            raise DataError("task multilabel needs a 0/1 matrix of labels, one column a "
                            "label; these labels are a single column. Use --task multiclass "
                            "or binary.")
        y = y.reshape(len(y))
        if class_names is not None:
            return cls(task, list(class_names), list(range(len(class_names))), "indices")
        from sklearn.preprocessing import LabelEncoder

        values = LabelEncoder().fit(y).classes_.tolist()
        if len(values) < 2:
            raise DataError(f"the training labels hold one class only ({values[:1]}); a "
                            "classifier needs at least two. Check the target column or folders.")
        if task == "binary" and len(values) != 2:
            fractions = y.dtype.kind == "f" and not np.all(np.mod(y, 1) == 0)
            many = y.dtype.kind in "iuf" and len(values) > MAX_CLASSES
            hint = ("--task regression (they are numbers with fractions)" if fractions else
                    f"--task regression (they are {len(values)} distinct numbers), or drop "
                    "--task" if many else "--task multiclass")
            raise DataError(f"task binary needs exactly two classes; the training labels hold "
                            f"{len(values)}. Use {hint}.")
        kind = "names" if y.dtype.kind in "USb" else "indices"
        return cls(task, [str(v) for v in values], values, kind)

    def _named(self, y: np.ndarray) -> np.ndarray:
        """Class names given for a model whose labels are indices (a built-in data set,
        such as a folder named Pullover for Fashion-MNIST): their indices; a name that is
        no class stays as it is, to be said unseen."""
        if (self.kind != "indices" or not self.class_names or y.dtype.kind not in "US"
                or self.class_names == [str(v) for v in self.values or []]):
            return y  # (class names that are the values as text: "2" is the value 2)
        index = {name: str(i) for i, name in enumerate(self.class_names)}
        named = np.array([index.get(v) for v in y.reshape(-1)], dtype=object)
        if any(v is None for v in named):
            return y
        return named.astype(np.int64).reshape(y.shape)

    def known(self, y) -> np.ndarray:
        """Mask of the rows whose label is one of the training classes."""
        y = self._named(_plain(y))
        if self.task == "regression" or (y.ndim == 2 and y.shape[1] > 1):
            return np.ones(len(y), bool)
        y = y.reshape(len(y))
        try:
            values = np.asarray(self.values, dtype=y.dtype)
        except (ValueError, TypeError, OverflowError):  # numbers given for class names
            return np.isin(y.astype(str), np.asarray(self.values).astype(str))
        return np.isin(y, values)

    def encode(self, y, where: str = "the labels") -> np.ndarray:
        """Targets for Keras: class indices, the 0/1 matrix, or float values.

        Raises:
            DataError: labels that are not among the training classes.
        """
        y = _plain(y)
        if self.task == "regression":
            if y.dtype.kind == "f":
                return y  # as given: scikit-learn's baselines see the same float64 values
            try:
                return y.astype(np.float32)
            except ValueError:
                text = [str(v) for v in y.reshape(-1)[:1000] if not _is_number(v)][:3]
                raise DataError(f"{where} hold text (e.g. {text}), but the task is "
                                "regression: make them numbers (or, in training, pass --task "
                                "multiclass for classes).") from None
        if y.ndim == 2 and y.shape[1] > 1:
            if y.shape[1] != len(self.class_names):
                raise DataError(f"{where} have {y.shape[1]} columns; the model has "
                                f"{len(self.class_names)} classes.")
            return y.astype(np.float32)
        y = self._named(y)
        unseen = sorted({str(v) for v in y[~self.known(y)]})
        if unseen:
            raise DataError(f"{where} hold labels never seen in training: {unseen[:10]}. "
                            f"Known classes: {self.class_names[:20]}")
        y = y.reshape(len(y))
        order = np.argsort(np.asarray(self.values, dtype=y.dtype))
        codes = order[np.searchsorted(np.asarray(self.values, dtype=y.dtype)[order], y)]
        return codes.astype(np.int32)

    def spec(self) -> dict:
        values = [v.item() if hasattr(v, "item") else v for v in self.values or []]
        spec = {"task": self.task, "class_names": self.class_names,
                "values": values if self.values is not None else None, "kind": self.kind}
        if self.target_names:
            spec["target_names"] = list(self.target_names)
        return spec

    @classmethod
    def from_spec(cls, spec: dict) -> "Labels":
        return cls(spec["task"], spec.get("class_names"), spec.get("values"),
                   spec.get("kind", "indices"), spec.get("target_names"))


def class_weights(spec, y_train: np.ndarray, labels: Labels) -> dict[int, float] | None:
    """``class_weight`` for Keras: ``{class index: weight}``.

    Args:
        spec: ``"balanced"`` (scikit-learn's ``compute_class_weight``: n / (classes x
            count)), a mapping, or text such as ``"0:1,1:3"``. A key is a class
            name when the labels are names, and a label value when they are
            numbers (for Fashion-MNIST, 0-9; its class names are accepted too,
            as no name there is a number). Classes not named weigh 1.
        y_train: encoded training targets (indices, or one-hot rows).
        labels: the fitted ``Labels``.

    Raises:
        ConfigError: a bad mapping, or a class that does not exist.
    """
    if not spec:
        return None
    if labels.task not in ("multiclass", "binary"):
        raise ConfigError(f"class_weight applies to multiclass and binary tasks; this one is "
                          f"{labels.task}. Received: class_weight={spec!r}")
    y = np.asarray(y_train)
    if y.ndim == 2 and y.shape[1] > 1:  # one-hot rows: the class is the argmax, as Keras
        y = y.argmax(axis=1)
    k = len(labels.class_names)
    if spec == "balanced":
        from sklearn.utils.class_weight import compute_class_weight

        present = np.unique(y)
        weights = compute_class_weight("balanced", classes=present, y=y)
        out = {int(c): float(w) for c, w in zip(present, weights)}
        return {i: out.get(i, 1.0) for i in range(k)}
    if isinstance(spec, str):
        try:
            pairs = [item.split(":") for item in spec.split(",") if item.strip()]
            spec = {key.strip(): float(value) for key, value in pairs}
        except ValueError:
            raise ConfigError("class_weight must be 'balanced' or a mapping like '0:1,1:3'. "
                              f"Received: class_weight={spec!r}") from None
    out = {}
    for key, weight in spec.items():
        if not (float(weight) >= 0 and np.isfinite(float(weight))):
            raise ConfigError(f"class_weight {key!r} must be a number >= 0 (a negative weight "
                              f"would push the model away from that class). Received: "
                              f"class_weight={key}:{weight}")
        out[_class_index(str(key), labels)] = float(weight)
    return {i: out.get(i, 1.0) for i in range(k)}


def _class_index(key: str, labels: Labels) -> int:
    if labels.kind == "names":
        if key in labels.class_names:
            return labels.class_names.index(key)
        what = "class names"
    else:
        try:
            number = float(key)
        except ValueError:
            number = None
        if number is not None and number in labels.values:
            return labels.values.index(number)
        if number is None and key in labels.class_names:  # a name, never a number
            return labels.class_names.index(key)
        what = "label values"
    known = labels.class_names if labels.kind == "names" else labels.values
    raise ConfigError(f"class_weight names a class that does not exist: {key!r}. Known "
                      f"{what}: {', '.join(map(str, known[:20]))}. Received: class_weight key "
                      f"{key!r}")
