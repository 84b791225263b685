"""California housing (StatLib, 1990 census) as scikit-learn derives it.

Reads the raw ``cal_housing.data`` (or the ``cal_housing.tgz`` archive
scikit-learn downloads) and derives the same eight features and target as
``sklearn.datasets.fetch_california_housing``; never loads a pickle. Splits as
the lecture: ``train_test_split(random_state=42)`` into train+valid and test,
then again into train and valid (11,610 / 3,870 / 5,160 rows).
"""

from __future__ import annotations

import lzma
import tarfile
from pathlib import Path

import numpy as np

from mlpkit.data import sources
from mlpkit.data.dataset import Dataset, Rows, Source
from mlpkit.data.split import Split
from mlpkit.errors import DataError
from mlpkit.files import sha256_bytes

NAME = "california-housing"
FEATURE_NAMES = ["MedInc", "HouseAge", "AveRooms", "AveBedrms", "Population", "AveOccup",
                 "Latitude", "Longitude"]
DATA_FILE = "cal_housing.data"
PACKAGED = "cal_housing.data.xz"  # DATA_FILE, xz -9e; shipped in mlpkit/data/files/
ARCHIVE = "cal_housing.tgz"
MEMBER = "CaliforniaHousing/cal_housing.data"
DATA_SHA256 = "d3d8a1a722ae78f91134862727d27a70b1415e7d512a89140406248687f4b902"
ARCHIVE_SHA256 = "aaa5c9a6afe2225cc2aed2723682ae403280c4a3695a2ddda4ffb5d8215ea681"
URLS = ["https://ndownloader.figshare.com/files/5976036"]  # what scikit-learn uses
ROWS = 20640
FIX = ("Pass --data-dir (or set MLPKIT_DATA) to a folder with cal_housing.data or "
       "cal_housing.tgz, or connect to the internet so mlpkit can download it.")


def locate(data_dir=None, download: bool = True, urls: list[str] | None = None):
    """Find (or download) the table or its archive; returns ``(location_kind, [path])``.

    Accepted in any location: ``cal_housing.data``, scikit-learn's ``cal_housing.tgz``
    or ``cal_housing.data.xz`` (the form mlpkit ships, found as location "package"
    when nothing earlier holds a file). ``urls`` defaults to ``URLS``; the download
    is tried only when no location has a file.
    """
    hit = sources.find(NAME, [[DATA_FILE, ARCHIVE, PACKAGED]], data_dir)
    if hit:
        return hit[0].kind, hit[1]
    if not download or sources.offline():
        raise sources.not_found(NAME, data_dir, "downloads are off" if download else "no download tried", FIX)
    dest = sources.cache_root() / NAME / ARCHIVE
    try:
        sources.download(urls or URLS, dest, ARCHIVE_SHA256)
    except DataError as e:
        raise sources.not_found(NAME, data_dir, str(e), FIX) from None
    return "downloaded", [dest]


def _raw_bytes(path: Path) -> bytes:
    """The table's bytes; from an archive or .xz, read in memory (nothing is extracted)."""
    if path.name.endswith((".tgz", ".tar.gz")):
        sources.verify(path, ARCHIVE_SHA256)
        try:
            with tarfile.open(path, "r:gz") as tar:
                member = tar.extractfile(MEMBER)
                if member is None:
                    raise KeyError(MEMBER)
                return member.read()
        except (tarfile.TarError, KeyError, OSError, EOFError) as e:
            raise DataError(f"{path} is not the expected archive (no readable {MEMBER}: "
                            f"{e}). Delete it and load again.") from None
    if path.suffix == ".xz":
        try:
            with lzma.open(path, "rb") as f:
                return f.read()
        except (lzma.LZMAError, OSError, EOFError) as e:
            raise DataError(f"cannot read {path}: {e}. The file is corrupted or truncated; "
                            "delete it (or reinstall mlpkit, which ships it).") from None
    return path.read_bytes()


def parse(raw: bytes, path) -> np.ndarray:
    """The 9-column table as float64, with a clear error naming the file."""
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        raise DataError(f"{path} is not the California housing table (not plain text).") from None
    lines = [ln for ln in text.splitlines() if ln.strip()]
    rows = []
    for n, line in enumerate(lines, 1):
        fields = line.split(",")
        if len(fields) != 9:
            raise DataError(f"{path} line {n} has {len(fields)} columns, expected 9 "
                            "(longitude, latitude, ..., medianHouseValue).")
        try:
            rows.append([float(f) for f in fields])
        except ValueError:
            raise DataError(f"{path} line {n} has a non-numeric field: {line.strip()[:60]!r}."
                            ) from None
    if not rows:
        raise DataError(f"{path} is empty; expected {ROWS} rows of 9 numbers.")
    return np.array(rows, dtype=np.float64)


def derive(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's eight features and target (in $100,000) from the raw table."""
    lon, lat, age, rooms, bedrooms, pop, households, income, value = table.T
    x = np.column_stack([income, age, rooms / households, bedrooms / households, pop,
                         pop / households, lat, lon])
    return x, value / 100_000.0


def read(data_dir=None, download: bool = True) -> Source:
    """The 20,640 rows in file order, with the lecture's split.

    Raises:
        DataError: missing file, wrong columns, non-numeric fields, checksum mismatch.
    """
    from sklearn.model_selection import train_test_split

    kind, (path,) = locate(data_dir, download)
    raw = _raw_bytes(path)
    table = parse(raw, path)
    actual = sha256_bytes(raw)
    if actual != DATA_SHA256:
        raise DataError(f"checksum mismatch for {path}: sha256 of the table is {actual[:16]}..., "
                        f"expected {DATA_SHA256[:16]}.... It is not the StatLib table; "
                        "delete it and load again.")
    x, y = derive(table)
    # the lecture: train_test_split(X, y, random_state=42), then again on the first part
    full, test = train_test_split(np.arange(len(x)), random_state=42)
    train, valid = train_test_split(full, random_state=42)
    lecture = Split(("rows", train), ("rows", valid), ("rows", test))
    return Source(NAME, {"rows": Rows(x, y)}, kind="table", task="regression",
                  feature_names=list(FEATURE_NAMES), lecture_split=lecture,
                  source={"location": kind, "folder": str(path.parent),
                          "sha256": {DATA_FILE: actual}})


def load(data_dir=None, download: bool = True) -> Dataset:
    """California housing with the lecture's splits (11,610 / 3,870 / 5,160 rows)."""
    from mlpkit.config import DataConfig
    from mlpkit.data.assemble import assemble

    return assemble(read(data_dir, download), DataConfig(name=NAME), seed=42)


def verify(data_dir=None) -> dict:
    """Check the file where it is found; for the .xz, the sha256 of its content."""
    kind, (path,) = locate(data_dir, download=False)
    if path.name == ARCHIVE:
        sources.verify(path, ARCHIVE_SHA256)
    else:
        sources.verify(path, DATA_SHA256, decompress=path.suffix == ".xz")
    return {"name": NAME, "location": kind, "folder": str(path.parent),
            "files": [path.name], "ok": True}
