"""Table columns into model inputs, fitted on the training rows.

Numeric columns stay numbers (normalized later inside the model by a Keras
``Normalization`` layer, as the lecture does); a missing number becomes the
training median. Text and category columns become integer codes from their
vocabulary of training values, one-hot encoded inside the model
(``mlpkit.layers.OneHotColumns``); a missing or never-seen category gets the
extra "unknown" code. The fitted encoder is kept in the run folder
(``preprocessing.json``), so a saved run predicts from raw rows.
"""

from __future__ import annotations

import numpy as np

from mlpkit.errors import DataError


class TableEncoder:
    """DataFrame -> float32 matrix: numbers as they are, categories as codes."""

    def __init__(self, features: list[str], numeric: list[str], vocab: dict[str, list[str]],
                 medians: dict[str, float]):
        self.features, self.numeric, self.vocab, self.medians = features, numeric, vocab, medians

    @classmethod
    def fit(cls, df, notes: list[str]) -> "TableEncoder":
        """Learn column kinds, medians and vocabularies from the training rows ``df``;
        add a note for each column with missing values."""
        numeric, vocab, medians = [], {}, {}
        for col in df.columns:
            values = df[col]
            if values.dtype.kind in "iuf":
                numeric.append(col)
                medians[col] = float(values.median()) if values.notna().any() else 0.0
            else:
                vocab[col] = sorted(values.dropna().astype(str).unique().tolist())
        encoder = cls(list(df.columns), numeric, vocab, medians)
        for col in encoder.features:
            n = int(df[col].isna().sum())
            if n:
                how = (f"the training median {medians[col]:g}" if col in medians
                       else 'the "unknown" category')
                notes.append(f"column {col!r}: {n} missing values in the training rows "
                             f"replaced by {how}")
        return encoder

    def transform(self, df) -> np.ndarray:
        import pandas as pd

        missing = [c for c in self.features if c not in df.columns]
        if missing:
            raise DataError(f"the table lacks the columns {missing} the model was trained on. "
                            f"Pass rows with the columns {self.features}.")
        out = np.empty((len(df), len(self.features)), np.float32)
        for j, col in enumerate(self.features):
            if col in self.vocab:
                index = {v: i for i, v in enumerate(self.vocab[col])}
                unknown = len(self.vocab[col])
                out[:, j] = [unknown if pd.isna(v) else index.get(str(v), unknown)
                             for v in df[col]]
            else:
                try:
                    values = df[col].astype(np.float64)
                except (TypeError, ValueError):
                    raise DataError(f"column {col!r} held numbers in training but has text "
                                    "here; check the file.") from None
                out[:, j] = values.fillna(self.medians[col]).to_numpy()
        return out

    def categorical(self) -> dict[int, int]:
        """``{column index: codes}`` of the category columns (vocabulary + "unknown")."""
        return {self.features.index(c): len(v) + 1 for c, v in self.vocab.items()}

    def spec(self) -> dict:
        return {"features": self.features, "numeric": self.numeric, "vocab": self.vocab,
                "medians": self.medians}

    @classmethod
    def from_spec(cls, spec: dict) -> "TableEncoder":
        return cls(spec["features"], spec["numeric"], spec["vocab"], spec["medians"])
