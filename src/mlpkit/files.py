"""File primitives: the only place that writes through a temporary file, and the
only place that hashes.

A file written here is complete or absent: it is written to a temporary name in
the same folder, flushed and fsynced, renamed over the destination with
``os.replace`` (atomic on POSIX), and the folder is fsynced so that the rename
itself survives a power cut. A crash at any point leaves the old file (or none),
never half of a new one.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import lzma
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Iterator

CHUNK = 1 << 20

_UMASK = os.umask(0)
os.umask(_UMASK)


def fsync_dir(folder: Path) -> None:
    """Make a rename or creation in ``folder`` durable (a no-op where unsupported)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextmanager
def atomic_path(dest: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``dest``; on success, fsync it and rename it onto
    ``dest``. For writers that want a path (``model.save``, ``np.savez``).

    Example:
        >>> with atomic_path(run / "model.keras") as tmp:
        ...     model.save(tmp)
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.stem}.", suffix=f".tmp{dest.suffix}",
                               dir=dest.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the file the usual mode
    try:
        yield Path(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, dest)
        fsync_dir(dest.parent)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@contextmanager
def atomic_open(dest: str | os.PathLike) -> Iterator[BinaryIO]:
    """Yield a binary file object whose content replaces ``dest`` atomically on success."""
    with atomic_path(dest) as tmp, open(tmp, "wb") as f:
        yield f


def write_bytes(dest: str | os.PathLike, data: bytes) -> Path:
    with atomic_open(dest) as f:
        f.write(data)
    return Path(dest)


def write_text(dest: str | os.PathLike, text: str) -> Path:
    return write_bytes(dest, text.encode("utf-8"))


def write_json(dest: str | os.PathLike, obj) -> Path:
    return write_text(dest, json.dumps(obj, indent=2) + "\n")


def _opener(path: Path, decompress: bool):
    if not decompress:
        return open(path, "rb")
    if path.suffix == ".xz":
        return lzma.open(path, "rb")
    if path.suffix == ".gz":
        return gzip.open(path, "rb")
    return open(path, "rb")


def sha256_stream(f: BinaryIO) -> str:
    """sha256 of everything left in a binary file object, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    while chunk := f.read(CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def sha256_file(path: str | os.PathLike, decompress: bool = False) -> str:
    """sha256 of a file's bytes or, with ``decompress``, of its .gz/.xz content.

    Raises:
        OSError, EOFError, gzip.BadGzipFile, lzma.LZMAError: unreadable or
            truncated files; callers turn these into their own messages.
    """
    path = Path(path)
    with _opener(path, decompress) as f:
        return sha256_stream(f)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_tree(folder: str | os.PathLike, paths: list[Path]) -> str:
    """One sha256 for a set of files: their relative names and contents, in order."""
    digest = hashlib.sha256()
    folder = Path(folder)
    for path in paths:
        digest.update(str(Path(path).relative_to(folder)).encode("utf-8") + b"\0")
        digest.update(bytes.fromhex(sha256_file(path)))
    return digest.hexdigest()


def read_json(path: str | os.PathLike):
    """Parsed JSON; ``FileNotFoundError``/``ValueError`` for the caller to explain."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def load_npy(path: str | os.PathLike):
    """The array in a ``.npy`` file (never unpickled), or a one-line ``DataError``
    saying what the file is instead: not a ``.npy`` file, or an array of Python
    objects."""
    import numpy as np

    from mlpkit.errors import DataError

    path = Path(path)
    fmt = np.lib.format
    try:
        with open(path, "rb") as f:
            if f.read(6) != b"\x93NUMPY":
                raise DataError(f"{path} is not a .npy file (it lacks NumPy's header); save "
                                "arrays with numpy.save.")
            f.seek(0)
            version = fmt.read_magic(f)
            read_header = {(1, 0): fmt.read_array_header_1_0,
                           (2, 0): fmt.read_array_header_2_0}.get(version)
            if read_header is not None:  # what the header claims, before anything is made
                shape, _, dtype = read_header(f)
                need = int(np.prod(shape, dtype=object)) * dtype.itemsize
                held = path.stat().st_size - f.tell()
                if not dtype.hasobject and need > held:
                    raise DataError(f"{path} is cut short or corrupt: its header says an array "
                                    f"of shape {shape} ({need} bytes of {dtype}), the file "
                                    f"holds {held} bytes.")
    except OSError as e:
        raise DataError(f"{path} cannot be read ({e.strerror or e}).") from None
    except ValueError as e:  # a header NumPy cannot parse
        raise DataError(f"{path} is not a readable .npy array ({e}).") from None
    try:
        return np.load(path, allow_pickle=False)
    except ValueError as e:
        if "pickle" in str(e):
            raise DataError(f"{path} holds an array of Python objects, which mlpkit does not "
                            "unpickle; save a numeric array (x.astype('float32')).") from None
        raise DataError(f"{path} is not a readable .npy array ({e}).") from None
    except OSError as e:
        raise DataError(f"{path} is not a readable .npy array ({e}).") from None
