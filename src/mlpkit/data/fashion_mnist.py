"""Fashion-MNIST (Zalando, MIT licence) with the lecture's split.

Training file: the first 55,000 images train, the last 5,000 validate; the test
file's 10,000 images test. Pixels are uint8 0-255 as stored; ``scale=True``
(the default) gives float32 in 0-1, as the lecture's ``X / 255.``.
"""

from __future__ import annotations

import gzip

import numpy as np

from mlpkit.data import sources
from mlpkit.data.dataset import Dataset, Rows, Source
from mlpkit.data.split import Split
from mlpkit.errors import DataError
from mlpkit.files import atomic_path, sha256_bytes

NAME = "fashion-mnist"
CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
# sha256 of the decompressed IDX content: Debian recompressed the .gz files, so
# only the content is the same everywhere.
FILES = {
    "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}
MIRRORS = [
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
]
VALID_SIZE = 5000
FIX = ("Install it with `apt-get install dataset-fashion-mnist`, pass --data-dir "
       "(or set MLPKIT_DATA) to a folder with the four IDX files, or connect to "
       "the internet so mlpkit can download them.")


def _read(path) -> bytes:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                return f.read()
        return path.read_bytes()
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        raise DataError(f"cannot read {path}: {e}. The file is corrupted or truncated; "
                        "delete or reinstall it.") from None


def parse_idx(data: bytes, path, expect_dims: int) -> np.ndarray:
    """Parse an IDX file of unsigned bytes (magic 0x0801 labels, 0x0803 images)."""
    if len(data) < 4 + 4 * expect_dims or data[:3] != b"\x00\x00\x08" or data[3] != expect_dims:
        raise DataError(f"{path} is not an IDX file with {expect_dims} dimensions of "
                        "unsigned bytes (bad header). Delete it and load again.")
    dims = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(expect_dims))
    offset = 4 + 4 * expect_dims
    if len(data) - offset != int(np.prod(dims)):
        raise DataError(f"{path} is truncated: header says {dims}, file holds "
                        f"{len(data) - offset} bytes of data. Delete it and load again.")
    return np.frombuffer(data, dtype=np.uint8, offset=offset).reshape(dims)


def locate(data_dir=None, download: bool = True, files: dict | None = None,
           mirrors: list[str] | None = None):
    """Find (or download) the four files; returns ``(location_kind, paths)``.

    ``files`` (stem -> sha256 of the content) and ``mirrors`` (base URLs) default
    to the real Fashion-MNIST; tests pass their own to serve generated files.
    """
    files = files or FILES
    wanted = [[f"{stem}.gz", stem] for stem in files]
    hit = sources.find(NAME, wanted, data_dir)
    if hit:
        return hit[0].kind, hit[1]
    if not download or sources.offline():
        raise sources.not_found(NAME, data_dir, "downloads are off" if download else "no download tried", FIX)
    folder = sources.cache_root() / NAME
    paths = []
    try:
        for stem, sha in files.items():
            dest = folder / f"{stem}.gz"
            if not dest.is_file():
                sources.download([m + dest.name for m in mirrors or MIRRORS], dest, sha,
                                 decompress=True)
            paths.append(dest)
    except DataError as e:
        raise sources.not_found(NAME, data_dir, str(e), FIX) from None
    return "downloaded", paths


def _verified_cache(paths, files: dict):
    """Where the arrays of these exact files (path, size, mtime, expected sha256) are
    kept once verified: later loads skip decompressing and hashing (~0.8 s)."""
    key = "".join(f"{path.resolve()}:{path.stat().st_size}:{path.stat().st_mtime_ns}:{sha};"
                  for path, sha in zip(paths, files.values()))
    return sources.cache_root() / NAME / f"verified-{sha256_bytes(key.encode())[:24]}.npz"


def _save_verified(dest, arrays: dict) -> None:
    try:
        with atomic_path(dest) as tmp, open(tmp, "wb") as f:
            np.savez(f, **arrays)
    except OSError:
        pass  # a read-only cache only costs speed


def read(data_dir=None, scale: bool = True, download: bool = True, files: dict | None = None,
         mirrors: list[str] | None = None) -> Source:
    """Fashion-MNIST as read: the training file's 60,000 images ("rows", in file
    order) and the test file's 10,000 ("test"), with the lecture's split.

    Args:
        data_dir: a folder to look in first (the four IDX files, .gz or not).
        scale: float32 pixels in 0-1 if True, else uint8 as stored.
        download: download into the mlpkit cache when not found locally.
        files, mirrors: see ``locate``.

    Raises:
        DataError: missing, corrupted or truncated files.
    """
    files = files or FILES
    kind, paths = locate(data_dir, download, files, mirrors)
    cached = _verified_cache(paths, files)
    if cached.is_file():
        with np.load(cached) as f:
            arrays = [f[stem] for stem in files]
    else:
        arrays = []
        for (stem, expected), path in zip(files.items(), paths):
            data = _read(path)
            actual = sha256_bytes(data)
            if actual != expected:
                raise DataError(f"checksum mismatch for {path}: sha256 of its content is "
                                f"{actual[:16]}..., expected {expected[:16]}.... The file is "
                                "corrupted or not Fashion-MNIST; delete or reinstall it.")
            arrays.append(parse_idx(data, path, 3 if "images" in stem else 1))
        _save_verified(cached, dict(zip(files, arrays)))
    checksums = {path.name: sha for path, sha in zip(paths, files.values())}
    x_full, y_full, x_test, y_test = arrays
    if scale:
        # One float32 conversion up front; the lecture's X / 255. gives float64.
        x_full = x_full.astype(np.float32) / np.float32(255)
        x_test = x_test.astype(np.float32) / np.float32(255)
    n = len(x_full)
    lecture = Split(("rows", np.arange(n - VALID_SIZE)), ("rows", np.arange(n - VALID_SIZE, n)),
                    ("test", np.arange(len(x_test))))
    return Source(NAME, {"rows": Rows(x_full, y_full), "test": Rows(x_test, y_test)},
                  source={"location": kind, "folder": str(paths[0].parent),
                          "sha256": checksums},
                  kind="images", task="multiclass", class_names=list(CLASS_NAMES),
                  image={"size": [28, 28], "color": "grayscale", "invert": "auto"},
                  lecture_split=lecture)


def load(data_dir=None, scale: bool = True, **kwargs) -> Dataset:
    """Fashion-MNIST with the lecture's 55,000 / 5,000 / 10,000 split: images of
    shape (n, 28, 28), labels 0-9 (arguments as ``read``)."""
    from mlpkit.config import DataConfig
    from mlpkit.data.assemble import assemble

    return assemble(read(data_dir, scale, **kwargs), DataConfig(name=NAME), seed=42)


def verify(data_dir=None) -> dict:
    """Check the files where they are found; returns what was checked."""
    kind, paths = locate(data_dir, download=False)
    for (stem, expected), path in zip(FILES.items(), paths):
        sources.verify(path, expected, decompress=path.suffix == ".gz")
    return {"name": NAME, "location": kind, "folder": str(paths[0].parent),
            "files": [p.name for p in paths], "ok": True}
