"""The user's tables: CSV (UTF-8), TSV or Parquet, one row an example.

``read_table`` gives a DataFrame with clear errors; ``read`` gives a ``Source``
whose features are the raw columns (encoded later by ``columns.TableEncoder``,
fitted on the training rows only). A missing target is refused with the lines.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mlpkit import files
from mlpkit.data.columns import TableEncoder
from mlpkit.data.dataset import Rows, Source
from mlpkit.errors import DataError

SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".pq")


def read_table(path):
    """A DataFrame from a CSV, TSV or Parquet file, with clear errors."""
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


def read(path: Path, data) -> Source:
    """The table at ``path``; ``data.target`` names the label column."""
    df = read_table(path)
    target = data.target
    if not target:
        raise DataError(f"pass --target COLUMN to say what to predict. Columns of {path.name}: "
                        f"{', '.join(map(str, df.columns))}")
    if target not in df.columns:
        raise DataError(f"target column {target!r} not found in {path.name}. Columns: "
                        f"{', '.join(map(str, df.columns))}")
    drop = [target]
    w = None
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
    parts = {"rows": Rows(x, _labels(df, target, path), w)}
    checksums = {path.name: files.sha256_file(path)}
    if data.validation_data:
        vpath = Path(data.validation_data)
        vdf = read_table(vpath)
        if target not in vdf.columns:
            raise DataError(f"target column {target!r} not found in {vpath.name}. Columns: "
                            f"{', '.join(map(str, vdf.columns))}")
        parts["valid"] = Rows(vdf.drop(columns=[c for c in drop if c in vdf.columns]),
                              _labels(vdf, target, vpath))
        checksums[vpath.name] = files.sha256_file(vpath)
    return Source(name=path.name, parts=parts, kind="table", table=TableEncoder,
                  source={"location": "file", "folder": str(path.parent), "sha256": checksums})


def _labels(df, target, path) -> np.ndarray:
    y = df[target]
    n = int(y.isna().sum())
    if n:
        rows = (np.flatnonzero(y.isna().to_numpy())[:5] + 2).tolist()  # +2: header, 1-based
        raise DataError(f"target column {target!r} of {Path(path).name} has {n} missing "
                        f"values (lines {rows}...); fill or drop those rows.")
    return y.to_numpy()
