"""The ``Dataset`` every loader returns."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Dataset:
    """Train / valid / test arrays and what they mean.

    Attributes:
        name: e.g. "fashion-mnist".
        task: "multiclass" or "regression".
        class_names: label names by index (classification), else ``None``.
        feature_names: column names (tables), else ``None``.
        source: where the files came from and their checksums, for the manifest.
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
    class_weight: dict[int, float] | None = None
    table: dict | None = None  # how raw table rows become model inputs (csv.TableEncoder)
    notes: list[str] = field(default_factory=list)  # what mlpkit did that a user should know

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

    def __repr__(self) -> str:
        return (f"Dataset(name={self.name!r}, task={self.task!r}, sizes={self.sizes}, "
                f"input_shape={self.input_shape})")
