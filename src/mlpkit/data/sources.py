"""Where data sets are found, how they are checked, and how they are downloaded.

Search order for a data set called NAME (first folder holding every file wins):

1. the explicit data folder: ``data_dir`` (``--data-dir``) or env ``MLPKIT_DATA``
   (the folder itself, or its ``NAME/`` or ``NAME_WITH_UNDERSCORES/`` subfolder);
2. the mlpkit cache: ``$MLPKIT_CACHE/NAME`` (default ``~/.cache/mlpkit/NAME``);
3. the Keras cache: ``~/.keras/datasets/NAME``;
4. the system package: ``/usr/share/datasets/NAME`` (``MLPKIT_SYSTEM_DATA`` moves it);
5. the package: files shipped inside mlpkit, ``mlpkit/data/files/`` (California
   housing, xz-compressed, so it loads offline everywhere with no set-up).

If none holds the files, they are downloaded into the mlpkit cache: each file goes
to a temporary name in the same folder, is verified, then renamed into place, so a
broken download never looks like a good file. ``MLPKIT_OFFLINE=1`` forbids it.

Because the package comes last, a data set shipped with mlpkit is downloaded only
from an install that lacks the shipped file. To use the upstream file instead, put
it earlier in the order: pass ``--data-dir`` (or set ``MLPKIT_DATA``) to a folder
holding it, or place it in the mlpkit cache (for California housing, scikit-learn's
``cal_housing.tgz`` in ``~/.cache/mlpkit/california-housing/``). Every location is
checked against the same checksums of the content, so either source gives the
same table.
"""

from __future__ import annotations

import gzip
import lzma
import os
import shutil
import urllib.request
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from mlpkit import files
from mlpkit.errors import DataError


@dataclass(frozen=True)
class Location:
    kind: str  # "explicit", "mlpkit cache", "keras cache", "system package", "package"
    path: Path


def cache_root() -> Path:
    return Path(os.environ.get("MLPKIT_CACHE") or Path.home() / ".cache" / "mlpkit")


def package_folder() -> Path | None:
    """``mlpkit/data/files/``, where data shipped inside mlpkit lives.

    ``None`` when mlpkit is not installed as plain files (imported from a zip):
    the loaders then fall back to downloading, as without the shipped file.
    """
    folder = resources.files("mlpkit.data") / "files"
    return folder if isinstance(folder, Path) else None


def locations(name: str, data_dir: str | os.PathLike | None = None) -> list[Location]:
    """The folders searched for data set ``name``, in order."""
    found: list[Location] = []
    explicit = data_dir or os.environ.get("MLPKIT_DATA")
    if explicit:
        explicit = Path(explicit).expanduser()
        found += [Location("explicit", explicit), Location("explicit", explicit / name)]
        if "-" in name:  # e.g. datasets/california_housing
            found.append(Location("explicit", explicit / name.replace("-", "_")))
    found.append(Location("mlpkit cache", cache_root() / name))
    found.append(Location("keras cache", Path.home() / ".keras" / "datasets" / name))
    system = Path(os.environ.get("MLPKIT_SYSTEM_DATA", "/usr/share/datasets"))
    found.append(Location("system package", system / name))
    package = package_folder()
    if package is not None:
        found.append(Location("package", package))
    return found


def find(name: str, filenames: list[list[str]], data_dir=None) -> tuple[Location, list[Path]] | None:
    """First location holding every file; each entry of ``filenames`` lists accepted names.

    Returns:
        ``(location, paths)`` or ``None`` when no location holds them all.
    """
    for loc in locations(name, data_dir):
        paths = []
        for choices in filenames:
            hit = next((loc.path / c for c in choices if (loc.path / c).is_file()), None)
            if hit is None:
                break
            paths.append(hit)
        else:
            return loc, paths
    return None


def sha256_of(path: Path, decompress: bool = False) -> str:
    """sha256 of a file's bytes, or of its .gz/.xz-decompressed content."""
    try:
        return files.sha256_file(path, decompress=decompress)
    except (OSError, EOFError, gzip.BadGzipFile, lzma.LZMAError) as e:
        raise DataError(
            f"cannot read {path}: {e}. The file is corrupted or truncated; delete it "
            "and load again (or reinstall the package it came from)."
        ) from None


def verify(path: Path, expected: str, decompress: bool = False) -> str:
    actual = sha256_of(path, decompress=decompress)
    if actual != expected:
        what = "decompressed content" if decompress else "file"
        raise DataError(
            f"checksum mismatch for {path}: sha256 of the {what} is {actual[:16]}..., "
            f"expected {expected[:16]}.... The file is corrupted or not the expected "
            "one; delete it and load again."
        )
    return actual


def offline() -> bool:
    return os.environ.get("MLPKIT_OFFLINE", "").lower() in ("1", "true", "yes")


def download(urls: list[str], dest: Path, expected: str, decompress: bool = False,
             timeout: float = 30.0) -> Path:
    """Download the first working URL to ``dest`` atomically, verifying its sha256.

    Raises:
        DataError: when every URL fails or the checksum does not hold.
    """
    if offline():
        raise DataError(f"MLPKIT_OFFLINE is set, so {dest.name} was not downloaded")
    errors = []
    for url in urls:
        try:
            # atomic_path renames the temporary file onto dest only if the block
            # ends normally; a failed download or check deletes it.
            with files.atomic_path(dest) as tmp:
                with open(tmp, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:
                    shutil.copyfileobj(resp, out, files.CHUNK)
                verify(tmp, expected, decompress=decompress)
            return dest
        except (OSError, ValueError, DataError) as e:
            errors.append(f"{url}: {e}")
    raise DataError(f"could not download {dest.name} ({'; '.join(errors)})")


def not_found(name: str, data_dir, why: str, fix: str) -> DataError:
    looked = ", ".join(str(loc.path) for loc in locations(name, data_dir))
    return DataError(f"{name} not found (looked in {looked}; {why}). {fix}")
