"""The user's tables: CSV (UTF-8), TSV or Parquet, one row an example.

``read_table`` gives a DataFrame with clear errors; ``read`` gives a ``Source``
whose features are the raw columns (encoded later by ``columns.TableEncoder``,
fitted on the training rows only). A missing target is refused with the lines.
"""

from __future__ import annotations

import re
import shlex
import unicodedata
from pathlib import Path

import numpy as np

from mlpkit import files, labels
from mlpkit.data.columns import TableEncoder, decimal_commas, decimal_points
from mlpkit.data.dataset import Rows, Source
from mlpkit.errors import ConfigError, DataError, did_you_mean

SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".pq")


def read_table(path, notes: list | None = None, literal=()):
    """A DataFrame from a CSV, TSV or Parquet file, with clear errors.

    ``literal``: columns of text kept as written, "NA" (North America) and "null"
    included (pandas reads those as missing); only an empty value is missing there.

    The delimiter of a text table is sniffed among , ; tab and |, and header names are
    stripped of surrounding spaces; ``notes`` (if given) says when either mattered.
    ``df.attrs["delimiter"]`` is the delimiter (``read`` looks for decimal commas; beside
    a comma, only where most values with a comma are no thousands grouping).
    """
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path} not found. Check the path.")
    suffix = path.suffix.lower()
    with open(path, "rb") as f:
        head = f.read(65536)  # enough to tell a binary file and sniff the delimiter
    if suffix not in (".parquet", ".pq"):
        if head.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode Text"
            raise DataError(f"{path} is UTF-16 text; save it as UTF-8 (Excel: CSV UTF-8), "
                            "e.g. `iconv -f utf-16 -t utf-8`.")
        kind = _binary_kind(head)
        if kind:
            raise DataError(f"{path} is {kind}, not a CSV table. Pass a CSV, TSV or Parquet "
                            "file of rows.")
    try:
        if suffix in (".parquet", ".pq"):
            df = pd.read_parquet(path)
        else:
            sep = _delimiter(head, suffix)
            df = pd.read_csv(path, sep=sep, encoding="utf-8", encoding_errors="strict")
            if sep != "," and notes is not None and suffix != ".tsv":
                notes.append(f"{path.name}: columns separated by {_SEPS[sep]} (sniffed)")
            df.attrs["delimiter"] = sep
    except UnicodeDecodeError as e:
        try:  # the parser counts in its own chunks: the offset in the file
            path.read_bytes().decode("utf-8")
        except UnicodeDecodeError as whole:
            e = whole
        raise DataError(f"{path} is not UTF-8 text (byte {e.start}: {e.reason}). Save it as "
                        "UTF-8, e.g. `iconv -f latin1 -t utf-8`.") from None
    except pd.errors.EmptyDataError:
        raise DataError(f"{path} is empty; a table needs a header row and data rows.") from None
    except ImportError as e:
        raise DataError(f"reading {path} needs pyarrow: pip install pyarrow ({e}).") from None
    except (pd.errors.ParserError, ValueError, OSError) as e:
        raise DataError(f"{path} is not a readable table: {str(e).splitlines()[0]}") from None
    if "delimiter" in df.attrs and any(re.fullmatch(r".+\.\d+", str(c)) for c in df.columns):
        # pandas renames a repeated name ("score", "score.1"): the header as written
        header = pd.read_csv(path, sep=df.attrs["delimiter"], header=None, nrows=1, dtype=str,
                             encoding="utf-8").iloc[0].tolist()
        if len(header) == len(df.columns):
            df.columns = [c if isinstance(c, str) else str(df.columns[i])
                          for i, c in enumerate(header)]
    stripped = [str(c).strip() for c in df.columns]
    if stripped != [str(c) for c in df.columns]:
        if notes is not None:
            notes.append(f"{path.name}: spaces around column names removed")
        df.columns = stripped
    if len(set(stripped)) != len(stripped):
        raise DataError(f"{path} has repeated column names: "
                        f"{sorted({c for c in stripped if stripped.count(c) > 1})}; rename them.")
    filled = np.flatnonzero(df.notna().any(axis=1).to_numpy())
    if len(df) and (not filled.size or filled[-1] < len(df) - 1):  # ",,,," lines at the end
        kept = int(filled[-1]) + 1 if filled.size else 0
        if notes is not None and kept:
            notes.append(f"{path.name}: {len(df) - kept} empty rows at the end skipped")
        attrs, df = dict(df.attrs), df.iloc[:kept].copy()
        df.attrs.update(attrs)
    if len(df) == 0:
        raise DataError(f"{path} has a header but no rows; add data rows.")
    if "delimiter" in df.attrs:
        _codes_as_written(df, path, df.attrs["delimiter"])
        _as_written(df, path, df.attrs["delimiter"], literal)
    return df


def _as_written(df, path: Path, sep: str, names) -> None:
    """The columns ``names`` of ``df`` as the file writes them: "NA" is a value."""
    import pandas as pd

    where = [i for i, c in enumerate(df.columns) if str(c).strip() in set(names)]
    if not where or not isinstance(df.index, pd.RangeIndex):
        return
    text = pd.read_csv(path, sep=sep, usecols=where, dtype=str, keep_default_na=False,
                       encoding="utf-8")
    for i, written in zip(where, text.columns):
        values = text[written].iloc[:len(df)]
        df[df.columns[i]] = values.where(values.str.strip() != "").astype(object)


_LEADING_ZERO = re.compile(rb'(?:^|[,;\t|])[ "]*0\d+[ "]*(?:[,;\t|\r]|$)', re.MULTILINE)


def _codes_as_written(df, path: Path, sep: str) -> None:
    """Columns pandas read as numbers although the file writes some of their values
    with leading zeros (zip codes 02134, product codes 003), as the text written: a
    code, not a quantity (``columns.infer`` says so). Read again only when the file
    holds a field starting 0 and a digit."""
    import pandas as pd

    numeric = [i for i, c in enumerate(df.columns) if df[c].dtype.kind in "iuf"]
    if (not numeric or not isinstance(df.index, pd.RangeIndex)  # (a first column as index)
            or not _LEADING_ZERO.search(path.read_bytes())):
        return
    text = pd.read_csv(path, sep=sep, usecols=numeric, dtype=str, encoding="utf-8")
    for i, written in zip(numeric, text.columns):
        # 10001.0 beside them (a spreadsheet's float): the whole number it is
        values = text[written].str.strip().str.replace(r"^(\d+)\.0+$", r"\1", regex=True)
        if values.str.fullmatch(r"0\d+").any() and values.dropna().str.fullmatch(r"\d+").all():
            df[df.columns[i]] = values.astype(object)


_SEPS = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "vertical bars"}


def _delimiter(head: bytes, suffix: str) -> str:
    if suffix == ".tsv":
        return "\t"
    import csv

    text = head.decode("utf-8", errors="ignore")
    lines = text.splitlines()[:20]
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def _binary_kind(head: bytes) -> str | None:
    """What a file is when it is plainly not text: an image, an archive, ..."""
    signatures = {b"\x89PNG": "a PNG image", b"\xff\xd8\xff": "a JPEG image",
                  b"GIF8": "a GIF image", b"PK\x03\x04": "a zip archive (.npz, .xlsx, ...)",
                  b"\x1f\x8b": "a gzip file", b"PAR1": "a Parquet file (name it .parquet)",
                  b"\x93NUMPY": "a NumPy .npy array", b"%PDF": "a PDF document"}
    for magic, what in signatures.items():
        if head.startswith(magic):
            return what
    if b"\x00" in head[:4096]:
        return "binary data"
    return None


def read(path: Path, data) -> Source:
    """The table at ``path``; ``data.target`` names the label column (or columns,
    comma-separated, for a multi-output regression)."""
    notes: list[str] = []
    literal = [c for c, kind in (data.column_types or {}).items() if kind in ("category",
                                                                               "text")]
    df = read_table(path, notes, literal=literal)
    comma = _decimal_comma_columns(df, data.column_types, path.name, notes)
    targets = _targets(df, data.target, path)
    for name in {*targets, data.sample_weight} & set(comma):  # read here, not by the encoder
        df[name] = decimal_points(df[name])
    drop = list(targets)
    w = None
    if data.sample_weight:
        if data.sample_weight in targets:
            raise ConfigError(f"sample_weight names {data.sample_weight!r}, the target: name "
                              "a column of per-row weights (numbers >= 0), or drop "
                              "--sample-weight.")
        if data.sample_weight not in df.columns:
            raise DataError(f"sample_weight column {data.sample_weight!r} not found in "
                            f"{path.name}.{did_you_mean(data.sample_weight, df.columns)} "
                            f"Columns: {labels.listing(df.columns)}")
        import pandas as pd

        w = pd.to_numeric(df[data.sample_weight], errors="coerce").to_numpy(np.float64)
        bad = np.flatnonzero(~np.isfinite(w) | (w < 0))
        if bad.size:
            raise DataError(f"sample_weight column {data.sample_weight!r} must hold numbers "
                            f">= 0 on every row; lines {[int(i) + 2 for i in bad[:5]]} hold "
                            f"{df[data.sample_weight].iloc[bad[:3]].tolist()}.")
        if not w.any():
            raise DataError(f"sample_weight column {data.sample_weight!r} is 0 on every row: "
                            "no row would count. Give some rows a weight above 0.")
        notes.append(f"sample weights: column {data.sample_weight!r} ({w.min():g} to "
                     f"{w.max():g}) weighs each row's training loss; the figures reported "
                     "are unweighted")
        drop.append(data.sample_weight)
    x = _features(df.drop(columns=drop), data, path)
    left_out = [c for c in df.columns if c not in x.columns and c not in drop]
    if left_out:  # --drop, --columns: said, as the columns mlpkit drops itself
        notes.append(f"columns left out as asked (--drop, --columns): {labels.listing(left_out)}")
    parts = {"rows": Rows(x, _labels(df, targets, path, notes), w)}
    checksums = {path.name: files.sha256_file(path)}
    if data.validation_data:
        vpath = Path(data.validation_data)
        if data.validation_split:
            raise ConfigError(f"validation_data ({vpath.name}) and validation_split "
                              f"({data.validation_split:g}) both choose the validation rows; "
                              "give one of them")
        if vpath.exists() and vpath.resolve() == Path(path).resolve():
            raise ConfigError(f"validation_data is the training file itself ({path.name}): "
                              "its rows would validate what they trained. Give another file, "
                              "or --validation-split to hold out a share of these rows")
        vdf = read_table(vpath, literal=literal)
        _targets(vdf, data.target, vpath)
        for name in set(targets) & set(comma):  # as the training file's (features: the encoder)
            vdf[name] = decimal_points(vdf[name])
        parts["valid"] = Rows(vdf[[c for c in x.columns if c in vdf.columns]],
                              _labels(vdf, targets, vpath, []))
        checksums[vpath.name] = files.sha256_file(vpath)
    # several 0/1 target columns (multilabel, one-hot): the labels are named by them
    return Source(name=path.name, parts=parts, kind="table", table=TableEncoder,
                  class_names=list(targets) if len(targets) > 1 else None,
                  column_types=data.column_types, notes=notes,
                  decimal_commas=[c for c in comma if c in x.columns],
                  source={"location": "file", "folder": str(path.parent), "sha256": checksums})


def _decimal_comma_columns(df, column_types, name: str, notes: list) -> list[str]:
    """The columns of numbers written with a decimal comma ("82,5", as European
    spreadsheets write beside ";"), said in ``notes``, never a column the user says is a
    category or text. Beside a comma delimiter, where such numbers had to be quoted,
    only a column with a value that is no thousands grouping ("82,5", not only "1,234").
    Their values stay as written: ``TableEncoder`` reads them so, here and at predict
    time."""
    thousands = df.attrs.get("delimiter", ",") == ","
    text = {c for c, kind in (column_types or {}).items() if kind in ("category", "text")}
    comma = [c for c in df.columns if c not in text and decimal_commas(df[c], thousands)]
    if comma:
        shown = ", ".join(map(str, comma[:5])) + (", ..." if len(comma) > 5 else "")
        undo = labels.join_names([comma[0]])
        notes.append(f"{name}: numbers with decimal commas (82,5) read as numbers (sniffed; "
                     f"columns {shown}); --column-types {shlex.quote(undo + '=category')} "
                     "keeps one as text")
    return comma


def _targets(df, target, path) -> list[str]:
    columns = labels.listing(df.columns)
    if not target:
        raise DataError(f"pass --target COLUMN to say what to predict. Columns of {path.name}: "
                        f"{columns}")
    if target not in df.columns and target.count('"') % 2:
        raise DataError(f"target {target!r} has an unbalanced double quote: quote a name "
                        'holding a comma whole, e.g. --target \'"rooms, total",price\'.')
    names = [target] if target in df.columns else labels.split_names(target)
    if "" in names:
        example = labels.join_names(n for n in names if n) or df.columns[-1]
        raise DataError(f"target {target!r} has an empty name: name columns separated by "
                        f"single commas, e.g. --target {example}. Columns of {path.name}: "
                        f"{columns}")
    for name in names:
        if name not in df.columns:
            raise DataError(f"target column {name!r} not found in {path.name}."
                            f"{did_you_mean(name, df.columns)} Columns: {columns}")
    if len(set(names)) < len(names):
        raise DataError(f"target names a column twice ({target}); name each column once.")
    return names


def _features(x, data, path):
    """The feature columns the user asked for (``columns``, ``drop``)."""
    for key in ("columns", "drop"):
        absent = [c for c in getattr(data, key) if c not in x.columns]
        if absent:
            raise DataError(f"{key} names columns that are not features of {path.name}: "
                            f"{absent}.{did_you_mean(absent[0], x.columns)} Features: "
                            f"{labels.listing(x.columns)}")
    both = [c for c in data.columns if c in set(data.drop)]
    if both:
        raise ConfigError(f"columns keeps and drop leaves out the same columns {both}: name "
                          "each in one of them. Received: columns="
                          f"{list(data.columns)}, drop={list(data.drop)}")
    if data.columns:
        x = x[list(data.columns)]
    x = x.drop(columns=[c for c in data.drop if c in x.columns])  # (columns may leave it out)
    if x.shape[1] == 0:
        raise DataError(f"{path.name} has no feature columns left besides the target.")
    return x


def _text_placeholder(y) -> np.ndarray:
    from mlpkit.data.columns import PLACEHOLDERS

    if y.dtype.kind != "O":
        return np.zeros(len(y), bool)
    return y.astype("string").str.strip().str.lower().isin(PLACEHOLDERS - {"none"}).to_numpy()


def _labels(df, targets: list[str], path, notes: list) -> np.ndarray:
    """The target column(s); text that is numbers (thousands separators, currency or
    percent signs) is parsed, and
    missing or non-finite targets are refused with their lines."""
    import pandas as pd

    from mlpkit.data.columns import (CODES_AT_MOST, leading_zero_codes, to_numbers,
                                     within_float32)

    out = []
    for name in targets:
        y = df[name]
        if y.dtype.kind == "f":
            bad = ~within_float32(y.to_numpy())  # 1e300: inf in the model's float32
        else:
            code = leading_zero_codes(y)  # a few codes: classes; many: zero-padded numbers
            code = code if code and y.nunique() <= CODES_AT_MOST else None
            numbers, info = to_numbers(y) if y.dtype.kind == "O" and not code else (None, {})
            if code:
                notes.append(f"target {name!r} read as text: codes written with leading "
                             f"zeros (e.g. {code!r}), each a class")
            if numbers is not None:
                changed = [f"{info[k]} {what} removed" for k, what in (
                    ("separators", "thousands separators"),
                    ("symbols", "currency or percent signs")) if info.get(k)]
                notes.append(f"target {name!r} read as numbers"
                             + (f" ({', '.join(changed)})" if changed else ""))
                y = numbers
                bad = y.isna().to_numpy()
            else:
                bad = y.isna().to_numpy() | _text_placeholder(y)
                if y.dtype.kind == "O":
                    y = _label_text(name, y, notes)
        if bad.any():
            text = Path(path).suffix.lower() not in (".parquet", ".pq")
            # a CSV's lines (+2: the header, 1-based); a Parquet file's rows (1-based)
            first = np.flatnonzero(bad)[:5]
            rows = (first + (2 if text else 1)).tolist()
            more = "..." if bad.sum() > len(rows) else ""
            written = ", ".join("empty" if pd.isna(v) or not str(v).strip() else repr(str(v))
                                for v in df[name].iloc[first])  # a word is no number either
            raise DataError(f"target column {name!r} of {Path(path).name} has {int(bad.sum())} "
                            f"values that are missing, not numbers, non-finite or beyond "
                            f"float32's range ({'lines' if text else 'rows'} {rows}{more}: "
                            f"{written}); fill or drop those rows.")
        if y.dtype.kind in "iuf":
            _far_values(name, y.to_numpy(np.float64), path, notes)
        out.append(y.to_numpy())
    if len(out) == 1:
        return out[0]
    for i, (name, v) in enumerate(zip(targets, out)):  # true/false labels: 1/0
        out[i] = _true_false_as_numbers(name, np.asarray(v))
    return np.column_stack(out).astype(np.float64)


FAR = 50  # median absolute deviations from the median: a value that far is said


def _far_values(name: str, y: np.ndarray, path, notes: list) -> None:
    """Say the numeric target values far from all the others (a price of 5e9 among
    hundreds of thousands: a typo, or a unit slip), which would dominate a squared error;
    with their lines. Far: more than ``FAR`` median absolute deviations from the median
    and ten times further than any other value (a long tail, as of incomes, is not far).
    Targets of 20 values or fewer (classes, most likely) are left."""
    if len(np.unique(y)) <= 20:
        return
    median = np.median(y)
    distance = np.abs(y - median)
    spread = np.median(distance)
    order = np.argsort(distance)
    far = []  # the most values (5, or 1% of them) set apart by a gap of 10x from the rest
    for k in range(1, min(max(5, len(y) // 100), len(y) // 4) + 1):
        inner, outer = distance[order[-k - 1]], distance[order[-k]]
        if outer > FAR * spread and outer > 10 * inner:
            far = np.sort(order[-k:])
    if len(far):
        text = Path(path).suffix.lower() not in (".parquet", ".pq")
        rows = ", ".join(f"{i + (2 if text else 1)}: {y[i]:g}" for i in far[:5])
        notes.append(f"target {name!r}: {len(far)} value{'s' * (len(far) > 1)} more than {FAR} "
                     f"median absolute deviations from the median {median:g} "
                     f"({'lines' if text else 'rows'} {rows}{', ...' if len(far) > 5 else ''}); "
                     "a regression's squared error is ruled by them: fix or drop them if they "
                     "are typos")


def _label_text(name: str, y, notes: list):
    """Text labels without the spaces around them ("yes " is "yes"), said, in Unicode's
    composed form (NFC: "café" typed on a Mac is the same label); labels that differ
    only in case are said, and stay apart (a code may be "a" and "A")."""
    stripped = y.map(lambda v: v.strip() if isinstance(v, str) else v)
    spaced = (stripped != y) & y.notna()
    text = stripped.map(lambda v: unicodedata.normalize("NFC", v) if isinstance(v, str) else v)
    if spaced.any():
        notes.append(f"target {name!r}: spaces around {int(spaced.sum())} labels removed "
                     f"(e.g. {y[spaced].iloc[0]!r})")
    groups: dict[str, set] = {}
    for v in text.dropna().unique():
        groups.setdefault(str(v).lower(), set()).add(str(v))
    alike = [sorted(g) for g in groups.values() if len(g) > 1]
    if alike:
        notes.append(f"target {name!r}: labels that differ only in case are separate classes "
                     f"({', '.join(' / '.join(g) for g in alike[:3])}); write them alike if "
                     "each pair is one class")
    return text


def _true_false_as_numbers(name: str, values: np.ndarray) -> np.ndarray:
    """One of several target columns as numbers: true/false (yes/no) labels as 1/0, as a
    multilabel table's columns may be written; other text is refused with the fix."""
    from mlpkit.data.columns import FALSE, TRUE

    if values.dtype.kind in "iuf":
        return values
    if values.dtype.kind == "b":
        return values.astype(np.float64)
    words = np.array([str(v).strip().lower() for v in values])
    known = np.isin(words, list(TRUE | FALSE))
    if known.all():
        return np.isin(words, list(TRUE)).astype(np.float64)
    odd = [str(v) for v in values[~known][:3]]
    raise DataError(f"target column {name!r} holds text ({odd}); several target columns take "
                    "numbers (a multi-output regression) or 0/1, true/false labels "
                    "(multilabel: one column a label). Pass one target column for "
                    "classification into classes named by text.")
