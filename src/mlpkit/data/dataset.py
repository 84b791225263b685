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

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])

    @property
    def sizes(self) -> dict[str, int]:
        return {"train": len(self.x_train), "valid": len(self.x_valid), "test": len(self.x_test)}

    def __repr__(self) -> str:
        return (f"Dataset(name={self.name!r}, task={self.task!r}, sizes={self.sizes}, "
                f"input_shape={self.input_shape})")
