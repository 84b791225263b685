"""Table columns: what each one is, and how it becomes model input.

Each column gets a type by rules a person can read (``infer``), checked in this
order:

- empty: no value at all; constant: one value only. Both are dropped.
- number: numbers, also when written as text with thousands separators ("1,234.5") or
  a currency or percent sign ("$279,655", "12.5%")
  or with a few placeholders ("?", "n/a", "-"), which become missing values.
- boolean: two values such as true/false, yes/no, y/n, t/f.
- datetime: text that parses as dates; becomes year, month, day, day of week
  (and hour when times are given).
- identifier: a distinct value on (nearly) every row, short text or whole numbers
  counting up, or a name such as "id" or "customer_id": dropped, as it cannot
  generalize.
- text: long free text (three words or more on average); category: the rest.
  Both are coded by their most frequent training values (at most
  ``MAX_CATEGORIES``; the others share the "unknown" code) and one-hot encoded
  inside the model (``mlpkit.layers.OneHotColumns``).

Numbers are normalized inside the model by a Keras ``Normalization`` layer
adapted on the training rows, as the lecture does; a missing or non-finite
number becomes the training median. The user can drop columns, keep only some,
or force a column's type. The fitted encoder is plain JSON in the run folder
(``preprocessing.json``): nothing is unpickled when a run is reopened.
"""

from __future__ import annotations

import re
import shlex
import unicodedata
import warnings

import numpy as np

from mlpkit.errors import ConfigError, DataError, did_you_mean
from mlpkit.labels import join_names, listing

KINDS = ("number", "boolean", "datetime", "category", "text", "identifier", "constant",
         "empty")
FORCIBLE = ("number", "boolean", "datetime", "datetime_dayfirst", "datetime_monthfirst",
            "category", "text", "drop")
DROPPED = ("identifier", "constant", "empty", "drop")
PLACEHOLDERS = {"", "?", "-", "--", ".", "n/a", "na", "nan", "null", "none", "missing",
                "#n/a", "#na", "nil", "undefined", "inf", "-inf", "infinity"}
TRUE = {"true", "yes", "y", "t"}
FALSE = {"false", "no", "n", "f"}
BOOLEANS = TRUE | FALSE | {"1", "0", "1.0", "0.0"}  # what a yes/no column may hold
MAX_CATEGORIES = 50
NUMBER_SHARE = 0.95  # of the non-placeholder values, to call a text column numbers
DATE_SHARE = 0.9
# whole numbers with leading zeros are codes (zip 02134, product 003) when there are few
# of them, or the column is named as codes are; else zero-padded numbers (minutes 007)
CODES_AT_MOST = 20
CODE_NAME = re.compile(r"zip|postal|post_?code|plz|code|sku|\bean\b|upc|isbn|fips", re.I)
ID_NAME = re.compile(r"^(id|uuid|guid|key|index)$|(_|\b)id$|^id_", re.IGNORECASE)
# a comma between thousands: 1,234 and 12,345,678 (not 0,125, a decimal comma's number)
THOUSANDS = re.compile(r"(?:(?<=[1-9])|(?<=\d\d)),(?=\d{3}(?:[^\d]|$))")
# a currency sign before or after a number, a percent sign after: "$279,655", "-€5",
# "5 €", "12.5 %"
SYMBOLS = re.compile(r"^([-+]?)\s*[$€£¥]\s*(?=[-+]?[\d.])|(?<=[\d.])\s*[%$€£¥]$")
DATE_PARTS = ("year", "month", "day", "day_of_week")
# accounting's negative: (1,200.00), ($365.14)
PARENTHESES = re.compile(r"^\(\s*([$€£¥]?\s*[\d.,\s]+?)\s*\)$")
# a currency code before or after a number: "USD -365.14", "365.14 EUR"
CODES = ("USD|EUR|GBP|JPY|CHF|CAD|AUD|NZD|CNY|HKD|SGD|INR|KRW|SEK|NOK|DKK|PLN|CZK|HUF|RUB|"
         "BRL|MXN|ZAR|TRY|ILS|AED|SAR|THB|IDR|MYR|TWD")
CURRENCY_CODE = re.compile(rf"^({CODES})\s*(?=[-+(]?\s*[$€£¥]?\s*[\d.])|(?<=[\d.)])\s*({CODES})$",
                           re.IGNORECASE)
# spaces between thousands: 1 465.23, and the no-break spaces French software writes
# (several groups only with decimals: 612 345 678 is a phone number, not 612 million)
SPACED = r"[-+]?\d{1,3}(?:[ \u00a0\u202f]\d{3})(?:\.\d+)?|[-+]?\d{1,3}(?:[ \u00a0\u202f]\d{3}){2,}\.\d+"
# a unit after a number: "365.1 kg", "12 m²", "3.5 km/h", "3 bedrooms"
UNIT = re.compile(r"^\s*([-+]?[\d.,]+(?:[eE][-+]?\d+)?)\s*((?:[^\W\d_]|°)[^\d]{0,9}?)\.?$")
# the units known as such (a plural's "s" and the case of a word aside): "10 M" is a
# size and "1A" a class, not numbers
UNITS = {"g", "t", "m", "h", "s", "l", "L", "W", "V", "x", "°", "kg", "mg", "lb", "oz", "km",
         "cm", "mm", "mi", "ft", "in", "sqft", "sq ft", "m²", "m2", "km²", "ha", "acre",
         "km/h", "mph", "m/s", "hr", "hour", "min", "minute", "sec", "second", "ms", "day",
         "week", "month", "yr", "year", "ml", "cl", "gal", "kwh", "wh", "kw", "mw", "mah",
         "hz", "khz", "mhz", "ghz", "kb", "mb", "gb", "tb", "px", "°c", "°f", "bedroom",
         "room", "bed", "bath", "bathroom", "floor", "pc", "piece", "item", "unit",
         "people", "person", "time", "star", "point", "pt", "km/l", "mpg", "l/100km", "sqm"}


def _text(series):
    return series.astype("string").str.strip()


def category_text(series):
    """A category's values as text, a whole number the same however it came: 10001 in
    a column pandas read as floats (a missing value beside it) is 10001.0, in JSON rows
    10001; both are "10001". Text stays as written ("2.0" is not "2"), in Unicode's
    composed form (NFC)."""
    import pandas as pd

    def whole(v) -> bool:
        return isinstance(v, (float, np.floating)) and abs(v) < 1e15 and v == int(v)

    if series.dtype.kind in "fO" and any(map(whole, series)):
        series = pd.Series([int(v) if whole(v) else v for v in series], index=series.index,
                           dtype=object)
    return _text(series).str.normalize("NFC")  # "café" typed on a Mac is the same word


def leading_zero_codes(series) -> str | None:
    """A value of ``series`` written with leading zeros when all its values are text of
    digits (zip codes 02134, product codes 003, or zero-padded numbers), else None."""
    if series.dtype.kind != "O":
        return None
    text = _text(series.dropna())
    text = text[~text.str.lower().isin(PLACEHOLDERS)]
    if not len(text) or not text.str.fullmatch(r"\d+").all():
        return None
    zeros = text[text.str.fullmatch(r"0\d+")]
    return str(zeros.iloc[0]) if len(zeros) else None


def _absent(column: dict, text):
    """Where a column's ``_text`` values are missing: in a column the user said is
    category or text, only an empty value ("NA" may be North America); else ``_missing``."""
    if column.get("literal"):
        return text.isna() | (text == "")
    return _missing(text)


def _missing(text):
    """Where ``_text`` values are missing: NaN, or a placeholder ("?", "n/a", "")."""
    return text.isna() | text.str.lower().isin(PLACEHOLDERS)


def _unit(token) -> str | None:
    """A unit's one spelling: "Bedrooms" and "bedroom" alike, "KG" as "kg"; None for a
    word that is no known unit (``UNITS``)."""
    if not isinstance(token, str):
        return None
    if len(token) == 1:
        return token if token in UNITS else None
    word = token.lower()
    if word not in UNITS and len(word) > 2 and word.endswith("s"):  # lbs, kgs, bedrooms
        word = word[:-1]
    return word if word in UNITS else None


def to_numbers(series, least: float = NUMBER_SHARE, rules: dict | None = None):
    """A column's values as float64, parsing text with thousands separators (commas,
    spaces), currency signs, percent signs, and, found in the column: one currency code
    ("USD 5"), one unit after the numbers ("5 kg", a known one), accounting's
    parentheses for a negative ("(1,200.00)", beside values without them or with
    cents); placeholders ("?", "n/a", "", ...) and non-finite values become NaN (a
    column of nothing else too).

    Args:
        least: the share of the values that must be numbers; the others become NaN
            (said in ``info["unparsed"]``).
        rules: how the training rows wrote the numbers (``info["rules"]``: "unit",
            "code", "parentheses"), for later rows: a value written otherwise is no
            number. None: found in ``series`` itself.

    Returns:
        ``(values, info)``: info counts what was changed ("separators", "placeholders",
        "unparsed" with examples) and the ``rules`` found, or ``(None, info)`` when
        the column is not numbers.
    """
    import pandas as pd

    if series.dtype.kind in "iufb":
        values = series.astype(np.float64)
        bad = ~within_float32(values.to_numpy()) & values.notna().to_numpy()
        return values.where(~bad), {"nonfinite": int(bad.sum())}
    text = _text(series)
    placeholder = _missing(text)
    present = ~placeholder
    if not present.any():  # nothing but missing values: missing numbers
        return pd.Series(np.nan, index=series.index, dtype=np.float64), {
            "placeholders": int((placeholder & series.notna()).sum())}
    found = text.str.extract(UNIT)
    units = found[1].map(_unit).where(present)
    codes = text.str.extract(CURRENCY_CODE).bfill(axis=1)[0].str.upper().where(present)
    if rules is None:  # each the column's only one, on most values: kg, m², USD
        share = min(NUMBER_SHARE, max(least, 0.5)) * present.sum()
        rules = {}
        for key, seen in (("unit", units), ("code", codes)):
            counts = seen.value_counts()
            if len(counts) == 1 and counts.iloc[0] >= share:
                rules[key] = str(counts.index[0])
        bracketed = text.str.fullmatch(PARENTHESES).fillna(False) & present
        signed = text.str.match(r"\s*[-−]").fillna(False) & present  # writes its own negatives
        if bracketed.any() and not signed.any() and (
                (~bracketed & present).any() or text[bracketed].str.contains(
                    r"[$€£¥]|\.\d\d\)$", regex=True).any()):
            rules["parentheses"] = True
    bare = text.where((units != rules.get("unit")).fillna(True), found[0])
    if rules.get("code"):
        bare = bare.where((codes != rules["code"]).fillna(True),
                          bare.str.replace(CURRENCY_CODE, "", regex=True).str.strip())
    if rules.get("parentheses"):
        bare = bare.str.replace(PARENTHESES, r"-\1", regex=True)
    unsigned = bare.str.replace(SYMBOLS, r"\1", regex=True)
    cleaned = unsigned.str.replace(THOUSANDS, "", regex=True)
    spaced = cleaned.str.fullmatch(SPACED).fillna(False)
    cleaned = cleaned.where(~spaced, cleaned.str.replace(r"[ \u00a0\u202f]", "", regex=True))
    values = pd.to_numeric(cleaned.where(present), errors="coerce").astype(np.float64)
    parsed = values.notna() & present
    if not parsed.any() or parsed[present].mean() < least:
        return None, {}
    unparsed = present & ~parsed
    beyond = parsed & ~within_float32(values.to_numpy())  # 1e300: inf to the model
    parsed &= ~beyond
    return values.where(parsed), {
        "nonfinite": int(beyond.sum()),
        "separators": int((cleaned != unsigned)[parsed].sum()),
        "symbols": int((unsigned != bare)[parsed].sum()),
        "placeholders": int((placeholder & series.notna()).sum()),
        "unparsed": int(unparsed.sum()),
        "examples": text[unparsed].head(3).tolist(),
        "rules": rules}


def within_float32(values: np.ndarray) -> np.ndarray:
    """Where ``values`` are finite in float32, the model's dtype (1e300 is not)."""
    with np.errstate(invalid="ignore"):
        return np.abs(values) <= np.finfo(np.float32).max


def decimal_commas(series, thousands: bool = False) -> bool:
    """Whether a column read as text holds numbers written with a decimal comma ("82,5",
    "-0,25"; whole numbers may sit beside them), and at least one such.

    ``thousands``: a comma may also separate thousands in this file (it is the
    delimiter, so its numbers holding one were quoted: "1,234" is more likely a
    thousand than a decimal); then most of the values with a comma must be no thousands
    grouping ("82,5", "4.230,62"): a stray "12,5" among thousands is a typo."""
    if series.dtype.kind != "O":
        return False
    text = series.dropna().astype(str).str.strip()
    text = text[~text.str.lower().isin(PLACEHOLDERS)]  # missing values: no evidence
    if not len(text):
        return False
    text = text.str.replace(_EURO, r"\1", regex=True)  # 487.642,36 €  12,8 % (not $1,234)
    comma = text.str.fullmatch(_COMMA)
    # beside a comma delimiter: most comma values no grouping, or one such as 0,750 (a
    # grouping never starts with 0, so the column's 1,250 is a decimal too)
    if thousands and (comma & ~text.str.fullmatch(_GROUPED)).sum() <= 0.5 * comma.sum() \
            and not text.str.fullmatch(r"[+-]?0,\d{3}").any():
        return False
    return bool(comma.any()) and float((comma | text.str.fullmatch(_WHOLE)).mean()) >= 0.95


# a decimal comma, with or without points between thousands: 82,5  -0,25  4.230,62
# 82,5 4.230,62 and, as French software groups thousands, 1 465,23 (a space or no-break one)
_COMMA = r"[+-]?(\d{1,3}(\.\d{3})+|\d{1,3}([ \u00a0\u202f]\d{3})+|\d*),\d+([eE][+-]?\d+)?"
_WHOLE = r"[+-]?(\d{1,3}(\.\d{3})+|\d{1,3}([ \u00a0\u202f]\d{3})+|\d+)"  # beside: 82, 4.230
# the signs beside numbers written with a decimal comma (a $ amount is US: 1,234 thousands)
_EURO = re.compile(r"^([-+]?)\s*€\s*(?=[-+]?[\d.])|(?<=\d)\s*[%€]$")
_GROUPED = r"[+-]?[1-9]\d{0,2}(,\d{3})+"  # 1,234 and 12,345,678: thousands (THOUSANDS)


def decimal_points(series):
    """A decimal-comma column's numbers written as Python reads them (4.230,62: 4230.62);
    numbers given as numbers (1.234 from JSON) and other values (placeholders, typos) as
    they were, for the column reader to judge."""
    if series.dtype.kind != "O":
        return series
    written = series.map(lambda v: isinstance(v, str)).to_numpy(bool)
    text = series.astype("string").str.strip()
    bare = text.str.replace(_EURO, r"\1", regex=True)  # signs stay, for to_numbers to say
    number = (bare.str.fullmatch(_COMMA) | bare.str.fullmatch(_WHOLE)).fillna(False) & written
    points = text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    return series.where(~number.to_numpy(bool), points.astype(object))


def _written(column: dict, series):
    """A column's values as ``TableEncoder`` parses them, numbers written with a decimal
    comma given a point: all of them in a column the training file wrote so (82,5 and
    4.230,62); in another number column, each value that can be nothing else ("2,5",
    "4.230,62": not "2,629", a thousands grouping, nor "4.500"), whatever the rows
    beside it hold (a ";" file for a model trained on a "," one, JSON rows)."""
    if column.get("decimal_comma"):
        return decimal_points(series)
    if column["kind"] != "number":
        return series
    comma = _only_decimal_commas(series)
    return decimal_points(series.where(comma)).where(comma, series) if comma.any() else series


def _only_decimal_commas(series):
    """Where the values of ``series`` are text that reads only as a decimal comma's number."""
    import pandas as pd

    if series.dtype.kind != "O":
        return pd.Series(False, index=series.index)
    written = series.map(lambda v: isinstance(v, str))
    text = series.astype("string").str.strip().str.replace(_EURO, r"\1", regex=True)
    return (written & text.str.fullmatch(_COMMA).fillna(False)
            & ~text.str.fullmatch(_GROUPED).fillna(False)).astype(bool)


def _non_numbers(series, n: int = 2, rules: dict | None = None) -> list[str]:
    """Up to ``n`` distinct values of ``series`` that are neither numbers (written as
    ``rules`` say, as ``to_numbers`` takes them) nor placeholders."""
    import pandas as pd

    out = []
    for v in _text(series).dropna().unique():
        if v.lower() not in PLACEHOLDERS and to_numbers(pd.Series([v], dtype=object),
                                                        rules=rules)[0] is None:
            out.append(v)
            if len(out) == n:
                break
    return out


_DAY_MONTH = r"^\s*(\d{1,2})[./-](\d{1,2})[./-]\d{2,4}\b.*"


def day_first(series) -> bool:
    """Whether a column's dates such as 02.01.2023 put the day first: yes when a first
    number is above 12 (13.01.2023), no when a second one is (01.13.2023); when none
    tells, yes with dots (German, Russian: 02.01.2023) and no with slashes (US: 01/02/2023).
    ISO dates (2023-01-02) are never read day first."""
    text = _text(series).dropna()
    parts = text.str.extract(_DAY_MONTH).dropna().astype(int)
    if parts.empty:
        return False
    if (parts[0] > 12).any():
        return True
    if (parts[1] > 12).any():
        return False
    return bool(text[text.str.fullmatch(_DAY_MONTH)].str.contains(".", regex=False).mean() > 0.5)


# year first (2023-01-02, 2023/01/02, with a time or not): never read day first
_YEAR_FIRST = r"\s*[+-]?\d{4}[-/.]\d{1,2}[-/.]\d{1,2}([T ].*)?"
_DOTTED = r"\s*\d{1,2}\.\d{1,2}\.\d{2,4}\b.*"  # 02.01.2023: day first, unless shown otherwise
# a time zone after a time: dropped, so the hour is the clock time as written
_ZONE = re.compile(r"(\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:\s*[AaPp][Mm])?)\s*"
                   r"(?:Z|UTC|GMT|[+-]\d{2}:?\d{2})$")


def parse_dates(text, dayfirst: bool = False, told: bool = False):
    """``pd.to_datetime`` of text values, each format on its own; what does not parse is
    NaT. Dates written year first (2023-01-02) are never read day first (pandas reads
    2019-09-01 as 9 January when told ``dayfirst``), and 2023-13-02 is no date; dates
    with dots (02.01.2023) day first, unless they show the month first (01.13.2023);
    others (01/02/2023) in the order ``dayfirst`` says, the column's; all of them so when
    the user ``told`` the order. Times keep their clock time as written, without their
    time zone."""
    import pandas as pd

    text = pd.Series(text, dtype="string") if not isinstance(text, pd.Series) else text
    text = text.astype("string").str.replace(_ZONE, r"\1", regex=True)
    year_first = text.str.fullmatch(_YEAR_FIRST).fillna(False).astype(bool)
    dotted = text.str.fullmatch(_DOTTED).fillna(False).astype(bool) & ~year_first
    dotted_first = dayfirst if told else True
    if dotted.any() and not dayfirst and not told:  # month first, shown: 01.13.2023
        parts = text[dotted].str.extract(_DAY_MONTH).dropna().astype(int)
        dotted_first = not ((parts[1] > 12).any() and not (parts[0] > 12).any())
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us]")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for where, first in ((year_first, False), (dotted, dotted_first),
                             (~year_first & ~dotted, dayfirst)):
            if not where.any():
                continue
            try:
                dates = pd.to_datetime(text[where], errors="coerce", format="mixed",
                                       dayfirst=first)
            except (ValueError, TypeError, OverflowError):  # time zones pandas cannot mix
                dates = text[where].map(lambda v: _one_date(v, first))
                dates = pd.to_datetime(dates, errors="coerce")
            if getattr(dates.dt, "tz", None) is not None:
                dates = dates.dt.tz_localize(None)
            out[where] = dates.astype("datetime64[us]")
    return out


def _one_date(value, dayfirst: bool):
    import pandas as pd

    try:
        date = pd.to_datetime(value, dayfirst=dayfirst)
        return date.tz_localize(None) if date.tzinfo is not None else date
    except (ValueError, TypeError, OverflowError):
        return pd.NaT


def to_dates(series, dayfirst: bool | None = None, told: bool = False):
    """Dates parsed from text (``None`` if fewer than ``DATE_SHARE`` of the values parse),
    day first as ``day_first`` says unless ``dayfirst`` is given."""
    if series.dtype.kind == "M":
        return series
    import pandas as pd

    text = _text(series)
    present = text.notna() & (text != "")
    # a number ("82", "82.5", a decimal comma "82,5") is no date, though dateutil reads one;
    # digits of dates (20221129) beside dates written otherwise (2022-02-10) are
    number = text.str.fullmatch(r"[-+]?\d+([.,]\d+)?").fillna(False) & present
    compact = _compact_format(text[number]) if number.any() else None
    if not present.any() or (number.any() and (compact is None or number[present].all())):
        return None
    dates = parse_dates(text.where(present & ~number),
                        day_first(series) if dayfirst is None else dayfirst, told)
    if compact:
        digits = pd.to_datetime(text.where(number), format=compact, errors="coerce")
        dates = dates.astype("datetime64[us]").where(~number, digits.astype("datetime64[us]"))
    if dates.isna()[present].mean() > 1 - DATE_SHARE:
        return None
    if (dates.dt.year[present] < 1000).mean() > 0.5:  # "10 M", "1st", "3/5": the year 1
        return None
    return dates


def ambiguous_order(series) -> bool:
    """Whether a column's dates such as 03/04/2023 say nothing of their order: none has
    a first or second number above 12 (day_first guessed from the separator)."""
    parts = _text(series).dropna().str.extract(_DAY_MONTH).dropna().astype(int)
    return not parts.empty and not (parts > 12).any().any()


def _epoch_unit(series) -> str | None:
    """"s" or "ms" when a column's values are Unix timestamps of the years 1973 to
    2096 (seconds, or milliseconds), else None."""
    import pandas as pd

    values = pd.to_numeric(series, errors="coerce").dropna()
    if not len(values) or len(values) < 0.9 * series.notna().sum():
        return None
    for unit, low, high in (("s", 1e8, 4e9), ("ms", 1e11, 4e12)):
        if values.between(low, high).all():
            return unit
    return None


COMPACT_DATES = {8: "%Y%m%d", 10: "%Y%m%d%H", 12: "%Y%m%d%H%M", 14: "%Y%m%d%H%M%S"}


def _compact_format(series) -> str | None:
    """The format of a column's dates written as digits alone, when every value written
    so is one, of one length, the year first (20240131, 2024013112 with the hour, ... to
    the second), of the years 1800 to 2199, else None; values written otherwise
    (2024-01-31) are left to the date parser. A Unix timestamp (1706659200) is no such
    date: its month would be 06 of the year 1706, or 00."""
    import pandas as pd

    text = category_text(series).dropna()  # 20240131.0, as pandas reads it beside a gap
    text = text[~_missing(text)]
    text = text[text.str.fullmatch(r"\d+").fillna(False)]
    if not len(text):
        return None
    lengths = text.str.len().unique()
    if len(lengths) != 1 or int(lengths[0]) not in COMPACT_DATES:
        return None
    fmt = COMPACT_DATES[int(lengths[0])]
    dates = pd.to_datetime(text, format=fmt, errors="coerce")
    if dates.isna().any() or not dates.dt.year.between(1800, 2199).all():
        return None
    return fmt


def _dates(column: dict, series):
    """A datetime column's values as dates, as its training rows were read."""
    import pandas as pd

    text = _text(series)
    if column.get("compact"):  # digits in the training rows' format; a date as text too
        digits = category_text(series)
        stamps = pd.to_datetime(digits.where(digits.str.fullmatch(r"\d+").fillna(False)),
                                format=column["compact"], errors="coerce")
        written = parse_dates(text.where(stamps.isna()), column.get("dayfirst", False),
                              column.get("order_told", False))
        return stamps.astype("datetime64[us]").where(stamps.notna(), written)
    if not column.get("epoch"):
        return parse_dates(text, column.get("dayfirst", False), column.get("order_told", False))
    numbers = pd.to_numeric(series, errors="coerce")  # timestamps; a date as text is one too
    stamps = pd.to_datetime(numbers, unit=column["epoch"], errors="coerce")
    written = parse_dates(text.where(numbers.isna()), column.get("dayfirst", False),
                          column.get("order_told", False))
    return stamps.astype("datetime64[us]").where(numbers.notna(), written)


def infer(series, name: str) -> tuple[str, str]:
    """A column's type and the reason, in words."""
    values = series.dropna()
    if series.dtype.kind == "O":
        values = values[_text(values).str.lower().isin(PLACEHOLDERS) == False]  # noqa: E712
    n, distinct = len(values), values.astype(str).nunique()
    if n == 0:
        return "empty", "no values"
    if distinct == 1:
        return "constant", f"one value ({str(values.iloc[0])[:20]!r})"
    if series.dtype.kind == "b":
        return "boolean", "true/false"
    code = leading_zero_codes(values)
    if code is not None and (distinct <= CODES_AT_MOST or CODE_NAME.search(str(name))):
        if distinct >= 0.9 * n and n >= 20:
            return "identifier", f"codes with leading zeros (e.g. {code!r}), {distinct} distinct"
        return "category", f"codes written with leading zeros (e.g. {code!r})"
    if series.dtype.kind == "O":  # yes/no, also beside 1/0: before numbers
        words = set(_text(values).str.lower().unique())
        if words <= TRUE | FALSE and len(words) == 2:
            return "boolean", f"two values ({', '.join(sorted(words))})"
        if (words <= BOOLEANS and words & (TRUE | FALSE) and words & (TRUE | {"1", "1.0"})
                and words & (FALSE | {"0", "0.0"}) and len(words) > 2):
            return "boolean", f"yes/no written {len(words)} ways ({', '.join(sorted(words))})"
    numbers, _ = to_numbers(series)
    if numbers is not None:
        whole = np.all(np.mod(numbers.dropna(), 1) == 0)
        if whole and distinct == n and n >= 20 and ID_NAME.search(str(name)):
            return "identifier", "a distinct whole number on every row"
        # a row number: distinct whole numbers counting from 0 or 1 and filling most of
        # their range. These are the training rows, a shuffled share of the file's, so
        # the count has gaps in them. (Years or ages start elsewhere.)
        span = float(numbers.max() - numbers.min()) + 1 if whole else np.inf
        if (whole and distinct == n and n >= 20 and span <= 2 * n
                and numbers.min() <= 1 + 0.05 * span):
            return "identifier", "a row number (distinct, counting from 0 or 1)"
        if ID_NAME.search(str(name)) and distinct >= 0.95 * n and n >= 20:
            return "identifier", f"named like an identifier, {distinct} distinct values"
        if code is not None:  # zero-padded numbers (007, 119): many values, no code's name
            return "number", (f"numbers, some written with leading zeros (e.g. {code!r}); "
                              f"--column-types {shlex.quote(join_names([str(name)]) + '=category')}"
                              " keeps them as codes")
        if whole and _compact_format(values) is not None:  # 20240131: a date, perhaps
            return "number", (f"numbers, written like dates (e.g. "
                              f"{category_text(values).iloc[0]}); --column-types "
                              f"{shlex.quote(join_names([str(name)]) + '=datetime')} reads them "
                              "as dates")
        return "number", "numbers"
    if to_dates(series) is not None:
        return "datetime", "dates"
    words = _text(values).str.split().str.len().mean()
    if words >= 3 and distinct == n and n >= 20:  # no value twice: nothing to learn from
        return "identifier", (f"free text ({words:.1f} words a value on average) of which no "
                              "value comes twice")
    if words >= 3 and distinct > 0.5 * n:
        return "text", f"free text ({words:.1f} words a value on average)"
    mostly, _ = to_numbers(values, least=0.8)  # mostly numbers: say how to read them so
    hint = ("" if mostly is None else f"; {mostly.notna().mean():.0%} of them numbers: "
            f"--column-types {shlex.quote(join_names([str(name)]) + '=number')} reads the "
            "others as missing")
    if (distinct >= 0.9 * n and n >= 20) or (ID_NAME.search(str(name)) and distinct >= 0.95 * n):
        return "identifier", f"{distinct} distinct values in {n} rows{hint}"
    return "category", f"{distinct} values{hint}"


def _true_false(series) -> int | None:
    """The position of the first true/false value (a Python or NumPy bool, a bool or
    "boolean" column) in ``series``, or ``None``; columns of numbers are not looked at
    value by value."""
    import pandas as pd

    if pd.api.types.is_bool_dtype(series.dtype):
        return 0 if len(series) else None
    if isinstance(series.dtype, pd.CategoricalDtype):
        if not any(isinstance(v, (bool, np.bool_)) for v in series.cat.categories):
            return None
    elif series.dtype != object:
        return None
    flags = series.map(lambda v: isinstance(v, (bool, np.bool_))).to_numpy(bool)
    return int(np.argmax(flags)) if flags.any() else None


def _far_outside(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """Where ``values`` lie further from the training range ``low``-``high`` than its
    own width (there the answer is a guess); none when the range is a single value."""
    width = high - low
    with np.errstate(invalid="ignore"):
        return (values < low - width) | (values > high + width) if width > 0 else \
            np.zeros(len(values), bool)


def _later_numbers(column: dict, series):
    """A number column's later values, written as its training rows were (the same unit,
    currency code, parentheses; none for a run saved before them). Each later row stands
    on its own, one row as in two thousand: a value that is not a number is missing
    (with a note on its row, from ``unseen``), never a refusal of the others."""
    import pandas as pd

    values, _ = to_numbers(series, 0.0, column.get("rules", {}))
    if values is None:  # no value is a number: each row's is missing
        return pd.Series(np.nan, index=series.index, dtype=np.float64)
    return values


def _vocabulary(column: dict) -> list[str]:
    """A category column's vocabulary as ``category_text`` writes values: a run saved
    before it holds "10001.0" for a column of whole numbers pandas read as floats."""
    vocab = [unicodedata.normalize("NFC", str(v)) for v in column["vocab"]]
    if vocab and all(re.fullmatch(r"[-+]?\d+\.0", v) for v in vocab):
        return [v[:-2] for v in vocab]
    return vocab


class TableEncoder:
    """DataFrame -> float32 matrix, by column type; fitted on the training rows."""

    def __init__(self, columns: list[dict]):
        self.columns = columns  # one dict a column: name, kind, why, missing, parameters

    # ---- fitting ---------------------------------------------------------------------
    @classmethod
    def fit(cls, df, notes: list[str], types: dict | None = None,
            decimal: tuple = ()) -> "TableEncoder":
        """Learn each column's type, medians and vocabularies from the training rows;
        notes say what was dropped, parsed or replaced.

        Args:
            types: ``{column: type}`` forced by the user (a type of ``FORCIBLE``).
            decimal: columns whose numbers are written with a decimal comma (82,5), as
                ``decimal_commas`` found them in the file (beside ``;``, tab or ``|``,
                or quoted beside ``,`` where most are no thousands grouping): read so at
                training and predict time alike.
        """
        types = dict(types or {})
        unknown = sorted(set(types) - set(map(str, df.columns)))
        if unknown:
            raise ConfigError(f"column_types names columns that are not features: {unknown}."
                              f"{did_you_mean(unknown[0], map(str, df.columns))} "
                              f"Columns: {listing(df.columns)}")
        columns = []
        for name in df.columns:
            series = df[name]
            comma = str(name) in decimal and types.get(str(name), "number") == "number"
            if comma:
                series = decimal_points(series)
            if str(name) in types:
                kind, why = types[str(name)], "set by column_types"
                if kind not in FORCIBLE:
                    raise ConfigError(f"column_types: {name!r} must be one of "
                                      f"{', '.join(FORCIBLE)}. Received: {kind!r}")
            else:
                kind, why = infer(series, name)
            if kind == "number" and not comma:  # each value as transform reads it: 12,5
                single = _only_decimal_commas(series)
                if single.any():
                    k = int(single.sum())
                    notes.append(f"column {name!r}: {k} value{'s' * (k != 1)} read with a "
                                 f"decimal comma (e.g. {_text(series[single]).head(2).tolist()})")
                    series = _written({"kind": "number"}, series)
            order = None  # told which comes first in 03/04/2023: the day, or the month
            if kind in ("datetime_dayfirst", "datetime_monthfirst"):
                kind, order = "datetime", kind == "datetime_dayfirst"
            columns.append(cls._fit_column(str(name), kind, why, series, notes, order))
            if comma and kind == "number":
                columns[-1]["decimal_comma"] = True
        if all(c["kind"] in DROPPED for c in columns):
            raise DataError("no usable feature column is left: "
                            + "; ".join(f"{c['name']} ({c['kind']}: {c['why']})" for c in columns)
                            + ". Pass --column-types COLUMN=category to keep one.")
        return cls(columns)

    @staticmethod
    def _fit_column(name, kind, why, series, notes, dayfirst: bool | None = None) -> dict:
        col = {"name": name, "kind": kind, "why": why, "missing": int(series.isna().sum())}
        if kind in DROPPED:
            notes.append(f"column {name!r} dropped: {kind} ({why})")
            return col
        if kind == "number":
            values, info = to_numbers(series)
            if values is None and why == "set by column_types":  # told: others missing
                values, info = to_numbers(series, least=0.0)
                col["text_as_missing"] = True
            if values is None:
                raise DataError(f"column {name!r} was set to number but none of its values is "
                                f"a number (e.g. {_non_numbers(series, 3)}).")
            rules = info.get("rules") or {}
            if rules:
                col["rules"] = rules
            said = [f"{what} {rules[key]!r} removed" for key, what in (
                ("unit", "unit"), ("code", "currency code")) if rules.get(key)]
            if rules.get("parentheses"):
                said.append("values in parentheses read as negative")
            if info.get("separators"):
                said.append(f"{info['separators']} thousands separators removed")
            if info.get("symbols"):
                said.append(f"{info['symbols']} currency or percent signs removed")
            if info.get("placeholders"):
                said.append(f"{info['placeholders']} placeholders as missing")
            if info.get("unparsed"):
                said.append(f"{info['unparsed']} unreadable values as missing "
                            f"(e.g. {info['examples']})")
            if info.get("nonfinite"):
                said.append(f"{info['nonfinite']} infinite values or values beyond "
                            "float32's range as missing")
            if said:
                notes.append(f"column {name!r} read as numbers: {', '.join(said)}")
            col["missing"] = int(values.isna().sum())
            col["median"] = float(values.median()) if values.notna().any() else 0.0
            col["min"], col["max"] = (float(values.min()), float(values.max())) \
                if values.notna().any() else (0.0, 0.0)
        elif kind == "boolean":
            col["true"] = sorted(TRUE | {"1", "1.0"})
            text = _text(series)
            missing = _missing(text)
            col["missing"] = int(missing.sum())
            other = text[~missing & ~text.str.lower().isin(BOOLEANS)]
            if len(other):  # they would all read as false
                raise DataError(f"column {name!r} was set to boolean but holds values that are "
                                f"not yes/no, true/false or 1/0 (e.g. "
                                f"{other.unique()[:3].tolist()}). Set it to category.")
            present = text[~missing]  # how the training rows write yes and no: "Yes", "N"
            truth = present.str.lower().isin(col["true"])
            col["words"] = [present[truth].mode().iloc[0] if truth.any() else "true",
                            present[~truth].mode().iloc[0] if (~truth).any() else "false"]
        elif kind == "datetime":
            told = why == "set by column_types"
            compact = _compact_format(series)  # (not told: beside dates written otherwise)
            unit = _epoch_unit(series) if told and not compact else None
            if compact:  # told they are dates: 20240131 is the 31st of January 2024
                col["compact"] = compact
                shown = compact
                for code, part in (("%Y", "YYYY"), ("%m", "MM"), ("%d", "DD"), ("%H", "hh"),
                                   ("%M", "mm"), ("%S", "ss")):
                    shown = shown.replace(code, part)
                notes.append(f"column {name!r}: dates written as digits ({shown}) read as "
                             "dates")
            if unit:  # told they are dates: numbers are seconds (or ms) since 1970
                col["epoch"] = unit
                notes.append(f"column {name!r}: Unix timestamps ({'milli' * (unit == 'ms')}"
                             "seconds since 1970) read as dates")
            unit = unit or compact  # (either reads through _dates)
            col["dayfirst"] = day_first(series) if dayfirst is None else dayfirst
            if dayfirst is not None:
                col["order_told"] = True
            dates = (_dates(col, series) if unit else
                     to_dates(series, col["dayfirst"], dayfirst is not None))
            if dates is None:
                raise DataError(f"column {name!r} was set to datetime but its values are not "
                                f"dates (e.g. {_text(series).dropna().head(3).tolist()}); "
                                "numbers are dates only as Unix timestamps (seconds or "
                                "milliseconds since 1970) or digits such as 20240131.")
            if dayfirst is None and not unit and ambiguous_order(series):
                other = "datetime_monthfirst" if col["dayfirst"] else "datetime_dayfirst"
                notes.append(f"column {name!r}: no date tells whether the day or the month "
                             f"comes first (as in 03/04/2023); read "
                             f"{'day' if col['dayfirst'] else 'month'} first, "
                             f"--column-types {shlex.quote(join_names([name]) + '=' + other)} "
                             "reads it the other way")
            parts = list(DATE_PARTS) + [  # a clock time: its hour, and minute if any
                p for p in ("hour", "minute") if (getattr(dates.dt, p).fillna(0) != 0).any()]
            # a part with one value in every training row (dates all in 2023) is left out:
            # the model could learn nothing of it, and another value later would be noise
            flat = {p: getattr(dates.dt, p).dropna() for p in parts}
            flat = {p: int(v.iloc[0]) for p, v in flat.items() if v.nunique() == 1}
            if flat and len(flat) < len(parts):
                notes.append(f"column {name!r}: " + ", ".join(
                    f"{p} ({v})" for p, v in flat.items()) + " the same in every training "
                    "row, left out")
                parts = [p for p in parts if p not in flat]
            col["parts"] = parts
            col["medians"] = {p: float(getattr(dates.dt, p).median()) if dates.notna().any()
                              else 0.0 for p in col["parts"]}
            # a part left out keeps its one value (the page's date field starts in 2023)
            col["medians"].update({p: float(v) for p, v in flat.items()
                                   if p not in ("hour", "minute")})
            col["missing"] = int(dates.isna().sum())
            if dates.notna().any():  # the training rows' first and last day
                col["span"] = [dates.min().strftime("%Y-%m-%d"), dates.max().strftime("%Y-%m-%d")]
        else:  # category, text; placeholders ("?", "n/a") are missing: "unknown"
            text = category_text(series)
            if why == "set by column_types":  # told it is text: "NA" is a value (the file's)
                col["literal"] = True
            missing = _absent(col, text)
            col["missing"] = int(missing.sum())
            counts = text[~missing].value_counts()
            vocab = sorted(counts.index[:MAX_CATEGORIES].tolist())
            col["vocab"] = vocab
            if len(counts) > MAX_CATEGORIES:
                notes.append(f"column {name!r}: {len(counts)} distinct values, the "
                             f"{MAX_CATEGORIES} most frequent kept, the others coded as "
                             '"unknown"')
        if col["missing"]:
            how = {"number": f"the training median {col.get('median', 0):g}",
                   "datetime": "the training medians of its parts",
                   "boolean": "false"}.get(kind, 'the "unknown" category')
            often = (kind in ("category", "text") and not col.get("literal")
                     and col["missing"] > 0.3 * len(series))
            notes.append(f"column {name!r}: {col['missing']} missing values in the training "
                         f"rows replaced by {how}" + (
                             "; where a missing value means none (as \"NA\" often does), "
                             f"--column-types {shlex.quote(join_names([name]) + '=category')} "
                             "keeps \"NA\" a value" if often else ""))
        return col

    # ---- applying --------------------------------------------------------------------
    @property
    def features(self) -> list[str]:
        """Names of the model's input columns."""
        out = []
        for c in self.columns:
            if c["kind"] == "datetime":
                out += [f"{c['name']}.{p}" for p in c["parts"]]
            elif c["kind"] not in DROPPED:
                out.append(c["name"])
        return out

    def categorical(self) -> dict[int, int]:
        """``{input column: codes}`` of the coded columns (vocabulary + "unknown")."""
        index, out = 0, {}
        for c in self.columns:
            if c["kind"] in ("category", "text"):
                out[index] = len(c["vocab"]) + 1
            if c["kind"] == "datetime":
                index += len(c["parts"])
            elif c["kind"] not in DROPPED:
                index += 1
        return out

    def transform(self, df) -> np.ndarray:
        """Raw rows -> the model's input matrix."""
        import pandas as pd

        df = df.rename(columns=lambda c: str(c).strip())
        needed = [c["name"] for c in self.columns if c["kind"] not in DROPPED]
        missing = [c for c in needed if c not in df.columns]
        if missing:
            lower = {str(c).lower(): c for c in df.columns}
            cased = [f"{m!r} is {lower[m.lower()]!r} there" for m in missing
                     if m.lower() in lower]
            hint = f" Names are case-sensitive: {'; '.join(cased)}." if cased else ""
            raise DataError(f"the table lacks the columns {missing} the model was trained on. "
                            f"Pass rows with the columns {needed}.{hint}")
        parts = []
        for c in self.columns:
            kind = c["kind"]
            if kind in DROPPED:
                continue
            series = _written(c, df[c["name"]])
            if kind == "number":
                flag = _true_false(series)
                if flag is not None:  # True would pass as 1: the server refuses it too
                    raise DataError(f"column {c['name']!r} held numbers in training but holds "
                                    f"true/false here (row {flag + 1}). Pass numbers (1 or "
                                    "0), or leave a value empty (None) for a missing one.")
                values = _later_numbers(c, series)
                parts.append(values.fillna(c["median"]).to_numpy()[:, None])
            elif kind == "boolean":
                text = _text(series).str.lower()
                parts.append(text.isin(c["true"]).to_numpy(np.float64)[:, None])
            elif kind == "datetime":
                dates = _dates(c, series)
                parts.append(np.column_stack([
                    getattr(dates.dt, p).astype(np.float64).fillna(c["medians"][p]).to_numpy()
                    for p in c["parts"]]))
            else:
                vocab = _vocabulary(c)
                index = {v: i for i, v in enumerate(vocab)}
                unknown = len(vocab)
                parts.append(np.array([[unknown if pd.isna(v) else index.get(v, unknown)]
                                       for v in category_text(series)],
                                      np.float64).reshape(-1, 1))
        return np.concatenate(parts, axis=1).astype(np.float32)

    def unseen(self, df) -> list[list[str]]:
        """For each row: a note for each value ``transform`` could not take as it is: a
        category or text value the training rows never held (coded as unknown), a
        number, date or yes/no value that is none (the training median, or false), and a
        missing value (empty or a placeholder such as "n/a").
        Column by column, vectorized: a note is built only for a row that needs one."""
        import pandas as pd

        df = df.rename(columns=lambda c: str(c).strip())
        notes: list[list[str]] = [[] for _ in range(len(df))]
        for c in self.columns:
            if c["kind"] in DROPPED or c["name"] not in df.columns:
                continue
            kind = c["kind"]
            series = _written(c, df[c["name"]])
            text = _text(series)
            present = ~_absent(c, text).to_numpy()
            if "vocab" in c:
                bad = ~category_text(series).isin(_vocabulary(c)).to_numpy()
                why = "not seen in training (coded as unknown)"
            elif kind == "boolean":
                bad = ~text.str.lower().isin(BOOLEANS).to_numpy()
                why = "is not yes/no or true/false (read as false)"
            elif kind == "number":
                values = _later_numbers(c, series)
                bad, why = values.isna().to_numpy(), "is not a number (the training median is used)"
                if not c.get("decimal_comma"):  # what _written read so, unlike training
                    raw = _text(df[c["name"]])
                    for i in np.flatnonzero((text != raw).fillna(False).to_numpy()):
                        notes[i].append(f"{c['name']}: {str(raw.iloc[i])[:50]!r} read as "
                                        f"{values.iloc[i]:g} (a decimal comma)")
                suspects = np.flatnonzero(bad & present)  # a number after all? 1e300
                number = pd.to_numeric(text.iloc[suspects], errors="coerce").notna().to_numpy()
                for i in suspects[number]:
                    notes[i].append(f"{c['name']}: {str(text.iloc[i])[:50]!r} is beyond "
                                    "float32's range (the training median is used)")
                bad = bad.copy()
                bad[suspects[number]] = False
                if "min" in c:
                    v = values.to_numpy(np.float64)
                    for i in np.flatnonzero(_far_outside(v, c["min"], c["max"])):
                        notes[i].append(f"{c['name']}: {v[i]:g} is far outside the training "
                                        f"rows' {c['min']:g} to {c['max']:g} (the answer is "
                                        "a guess there)")
            elif kind == "datetime":
                dates = _dates(c, series)
                bad = dates.isna().to_numpy()
                why = "is not a date (the training medians are used)"
                if c.get("span"):  # in days from the first training day (NaT: NaN)
                    first, last = (pd.Timestamp(d) for d in c["span"])
                    days = ((dates - first) / pd.Timedelta(days=1)).to_numpy(np.float64)
                    width = (last - first) / pd.Timedelta(days=1)
                    for i in np.flatnonzero(_far_outside(days, 0.0, width)):
                        notes[i].append(f"{c['name']}: {str(text.iloc[i])[:30]!r} is far "
                                        f"outside the training rows' {c['span'][0]} to "
                                        f"{c['span'][1]} (the answer is a guess there)")
            else:
                continue
            cased = {}  # a category written in another case or spacing: say which one
            if "vocab" in c:
                for v in _vocabulary(c):
                    cased.setdefault(" ".join(v.casefold().split()), v)
            for i in np.flatnonzero(bad & present):
                said = str(text.iloc[i])
                near = cased.get(" ".join(said.casefold().split()))
                notes[i].append(f"{c['name']}: {said[:50]!r} {why}" + (
                    f"; training wrote {near!r}" if near is not None else ""))
            if (~present).any():  # empty, or a placeholder: as training treats them
                used = {"number": f"the training median {c.get('median', 0):g} is used",
                        "datetime": "the training medians are used",
                        "boolean": "read as false"}.get(kind, "coded as unknown")
                infinite = text.str.lower().str.lstrip("+-").isin({"inf", "infinity"})
                for i in np.flatnonzero(~present):
                    what = "infinite" if infinite.iloc[i] else "missing"
                    notes[i].append(f"{c['name']}: {what} ({used})")
        return notes

    # ---- saying it -------------------------------------------------------------------
    def summary(self) -> list[dict]:
        """One row a column: name, type, encoding, missing values, why."""
        rows = []
        for c in self.columns:
            kind = c["kind"]
            encoding = {"number": "normalized", "boolean": "0/1, normalized",
                        "datetime": f"{'/'.join(c.get('parts', []))}, normalized"
                                    + (" (read day first)" if c.get("dayfirst") else "")
                        }.get(kind)
            if kind in ("category", "text"):
                encoding = f"one-hot, {len(c['vocab'])} values + unknown"
            if kind in DROPPED:
                encoding = "dropped"
            rows.append({"column": c["name"], "type": kind, "encoding": encoding,
                         "missing": c["missing"], "why": c["why"]})
        return rows

    def spec(self) -> dict:
        return {"columns": self.columns, "features": self.features}

    @classmethod
    def from_spec(cls, spec: dict) -> "TableEncoder":
        return cls(spec["columns"])
