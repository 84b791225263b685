"""The user's tables: CSV (UTF-8) or Parquet, one row an example.

Numeric columns become floats, normalized inside the model by a Keras
``Normalization`` layer adapted on the training rows (as the lecture does).
Text and category columns become integer codes that the model one-hot encodes
itself (``mlpkit.layers.OneHotColumns``); codes come from each column's
vocabulary of training values, kept in the run's manifest, so a saved run
predicts from raw rows. Missing values: a missing number is replaced by the
training median and a missing category by the "unknown" code, each with a note
naming the column and count; a missing target is refused.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from mlpkit.data import user
from mlpkit.errors import DataError


def read_table(path: Path):
    """A DataFrame from a CSV or Parquet file, with clear errors."""
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path} not found. Check the path.")
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            df = pd.read_parquet(path)
        else:
            sep = "\t" if path.suffix.lower() == ".tsv" else ","
            df = pd.read_csv(path, sep=sep, encoding="utf-8", encoding_errors="strict")
    except UnicodeDecodeError as e:
        raise DataError(f"{path} is not UTF-8 text (byte {e.start}: {e.reason}). Save it as "
                        "UTF-8, e.g. `iconv -f latin1 -t utf-8`.") from None
    except pd.errors.EmptyDataError:
        raise DataError(f"{path} is empty; a table needs a header row and data rows.") from None
    except ImportError as e:
        raise DataError(f"reading {path} needs pyarrow: pip install pyarrow ({e}).") from None
    except (pd.errors.ParserError, ValueError, OSError) as e:
        raise DataError(f"{path} is not a readable table: {str(e).splitlines()[0]}") from None
    if len(df) == 0:
        raise DataError(f"{path} has a header but no rows; add data rows.")
    return df


class TableEncoder:
    """DataFrame -> float32 matrix: numbers as they are, categories as codes."""

    def __init__(self, features: list[str], numeric: list[str], vocab: dict[str, list[str]],
                 medians: dict[str, float]):
        self.features, self.numeric, self.vocab, self.medians = features, numeric, vocab, medians

    @classmethod
    def fit(cls, df, notes: list[str]) -> "TableEncoder":
        numeric, vocab, medians = [], {}, {}
        for col in df.columns:
            values = df[col]
            if values.dtype.kind in "iuf":
                numeric.append(col)
                medians[col] = float(values.median()) if values.notna().any() else 0.0
            else:
                vocab[col] = sorted(values.dropna().astype(str).unique().tolist())
        return cls(list(df.columns), numeric, vocab, medians)._noting(df, notes)

    def _noting(self, df, notes):
        for col in self.features:
            n = int(df[col].isna().sum())
            if n:
                how = (f"the training median {self.medians[col]:g}" if col in self.medians
                       else 'the "unknown" category')
                notes.append(f"column {col!r}: {n} missing values in the training rows "
                             f"replaced by {how}")
        return self

    def transform(self, df) -> np.ndarray:
        import pandas as pd

        missing = [c for c in self.features if c not in df.columns]
        if missing:
            raise DataError(f"the table lacks the columns {missing} the model was trained on.")
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

    def spec(self) -> dict:
        return {"features": self.features, "numeric": self.numeric, "vocab": self.vocab,
                "medians": self.medians}

    @classmethod
    def from_spec(cls, spec: dict) -> "TableEncoder":
        return cls(spec["features"], spec["numeric"], spec["vocab"], spec["medians"])


def load(path: Path, data, seed: int):
    """Train/valid/test from a table; ``data.target`` names the label column."""
    df = read_table(path)
    target = data.target
    if not target:
        raise DataError(f"pass --target COLUMN to say what to predict. Columns of {path.name}: "
                        f"{', '.join(map(str, df.columns))}")
    if target not in df.columns:
        raise DataError(f"target column {target!r} not found in {path.name}. Columns: "
                        f"{', '.join(map(str, df.columns))}")
    y = _labels(df, target, path)
    w = None
    drop = [target]
    if data.sample_weight:
        if data.sample_weight not in df.columns:
            raise DataError(f"sample_weight column {data.sample_weight!r} not found in "
                            f"{path.name}. Columns: {', '.join(map(str, df.columns))}")
        w = df[data.sample_weight].to_numpy(np.float64)
        if not np.isfinite(w).all() or (w < 0).any():
            raise DataError(f"sample_weight column {data.sample_weight!r} must hold numbers "
                            ">= 0 on every row.")
        drop.append(data.sample_weight)
    x = df.drop(columns=drop)
    if x.shape[1] == 0:
        raise DataError(f"{path.name} has no feature columns besides {target!r}.")
    valid = None
    if data.validation_data:
        vdf = read_table(Path(data.validation_data))
        if target not in vdf.columns:
            raise DataError(f"target column {target!r} not found in {data.validation_data}.")
        valid = (vdf.drop(columns=[c for c in drop if c in vdf.columns]),
                 _labels(vdf, target, data.validation_data))
    return user.assemble(path.name, x, y, data, seed, w=w, valid=valid,
                         encoder=TableEncoder,
                         source={"location": "file", "folder": str(path.parent),
                                 "sha256": {path.name: hashlib.sha256(path.read_bytes())
                                            .hexdigest()}})


def _labels(df, target, where):
    y = df[target]
    n = int(y.isna().sum())
    if n:
        rows = (np.flatnonzero(y.isna().to_numpy())[:5] + 2).tolist()  # +2: header, 1-based
        raise DataError(f"target column {target!r} of {Path(str(where)).name} has {n} missing "
                        f"values (lines {rows}...); fill or drop those rows.")
    return y.to_numpy()
