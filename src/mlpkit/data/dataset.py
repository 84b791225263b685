"""What the loaders return: ``Source`` (rows as read) and ``Dataset`` (split, encoded)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Rows:
    """Examples as read from a file, before any encoding.

    ``x`` is an array (images, feature vectors) or a DataFrame (a table's raw
    columns); ``y`` the raw labels; ``w`` optional per-row loss weights.
    """

    x: object
    y: np.ndarray
    w: np.ndarray | None = None
    names: np.ndarray | None = None  # each row's name where it has one (an image's file)

    def __len__(self) -> int:
        return len(self.y)


@dataclass
class Source:
    """One data set as read: its parts, what it is, and where it came from.

    Attributes:
        name: "fashion-mnist", or the file or folder name.
        parts: "rows" always; "valid" and "test" when given separately.
        source: location, folder and sha256 checksums, for the manifest; a run
            reopened later compares them with the files as they are then.
        kind: "images", "table" or "arrays" (what ``predict`` takes).
        task, class_names: fixed by a built-in data set, else inferred.
        feature_names: column names of feature vectors, if known.
        table: a ``columns.TableEncoder`` class to fit on the training rows.
        column_types, decimal_commas: what it is told of the columns (forced types; the
            columns of numbers written with a decimal comma).
        image: how image files are converted for this data (size, color, invert).
        lecture_split: the built-in data set's own split, when it has one.
    """

    name: str
    parts: dict[str, Rows]
    source: dict = field(default_factory=dict)
    kind: str = "arrays"
    task: str | None = None
    class_names: list[str] | None = None
    feature_names: list[str] | None = None
    table: type | None = None
    column_types: dict | None = None
    decimal_commas: list | None = None  # table columns of numbers written 82,5
    image: dict | None = None
    lecture_split: object = None
    notes: list[str] = field(default_factory=list)


@dataclass
class Dataset:
    """Train / valid / test arrays and what they mean.

    Attributes:
        name: e.g. "fashion-mnist".
        task: "multiclass", "binary", "multilabel" or "regression".
        class_names: label names by index (classification), else ``None``.
        feature_names: column names (tables), else ``None``.
        source: where the files came from and their checksums, for the manifest.
        labels: the fitted ``labels.Labels`` (classes from the training rows).
        split: the ``split.Split`` the arrays were taken with.
        table: the fitted ``TableEncoder`` spec (tables), else ``None``.
        image: how image files are converted for this model, else ``None``.
    """

    name: str
    task: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_valid: np.ndarray
    y_valid: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: list[str] | None = None
    feature_names: list[str] | None = None
    source: dict = field(default_factory=dict)
    one_hot: bool = False  # labels are one-hot rows: categorical_crossentropy
    w_train: np.ndarray | None = None  # per-sample weights (the sample_weight column)
    labels: object = None
    split: object = None
    table: dict | None = None
    image: dict | None = None
    kind: str = "arrays"
    notes: list[str] = field(default_factory=list)  # what mlpkit did that a user should know
    # the test rows' names where the data names its rows (an image folder: each image's
    # path in it), for the report; else None
    test_names: list[str] | None = None

    def __post_init__(self):
        if self.labels is None:  # a Dataset made by hand: its classes are as given
            from mlpkit.labels import Labels

            names = self.class_names
            self.labels = Labels(self.task, names, list(range(len(names))) if names else None)

    @property
    def outputs(self) -> int:
        """Units of the output layer."""
        if self.task == "regression":
            return int(np.prod(self.y_train.shape[1:])) or 1
        return 1 if self.task == "binary" else len(self.class_names)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])

    @property
    def sizes(self) -> dict[str, int]:
        return {"train": len(self.x_train), "valid": len(self.x_valid), "test": len(self.x_test)}

    def preset_family(self) -> str:
        """The presets for this data when its name is neither a built-in data set nor a
        file (a ``Dataset`` made in memory): "images" for inputs of two or more
        dimensions, "table" for feature vectors, as for files."""
        return family_of(self.image, self.input_shape)

    def split_matches(self) -> bool:
        """Do the arrays still have the sizes of the split they were taken with? A copy
        cut down or extended by hand (``dataclasses.replace``) does not."""
        return self.split is None or all(
            len(idx) == self.sizes[name] for name, (_, idx) in self.split.items())

    def preprocessing(self) -> dict:
        """Everything fitted on the training rows that turns raw input into model input:
        written to the run folder's ``preprocessing.json``."""
        return {"kind": self.kind, "input_shape": list(self.input_shape),
                "one_hot": self.one_hot, "labels": self.labels.spec() if self.labels else None,
                "feature_names": self.feature_names, "table": self.table, "image": self.image}

    def __repr__(self) -> str:
        return (f"Dataset(name={self.name!r}, task={self.task!r}, sizes={self.sizes}, "
                f"input_shape={self.input_shape})")


def family_of(image, input_shape) -> str:
    """"images" or "table": the presets for inputs of this shape (see ``preset_family``)."""
    return "images" if image or len(input_shape) >= 2 else "table"
