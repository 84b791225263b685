"""NumPy ``.npz`` files: ``x_train``, ``y_train`` and optionally ``x_valid``/``y_valid``,
``x_test``/``y_test``. Loaded without pickles."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mlpkit import files
from mlpkit.data.dataset import Rows, Source
from mlpkit.errors import DataError


def read(path: Path, data=None, evaluation: bool = False) -> Source:
    """The arrays of ``path``; rows of 2 or more dimensions are images.

    ``evaluation``: rows to evaluate a trained model on: any of the pairs ``x_train,
    y_train``, ``x_valid, y_valid``, ``x_test, y_test`` will do (parts named after them)."""
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic != b"PK\x03\x04":
        raise DataError(f"{path} is not an .npz file (a .npz is a zip archive of arrays, this "
                        "file does not start like one). Save it with np.savez(path, "
                        "x_train=..., y_train=...).")
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except ValueError as e:
        if "pickle" in str(e):
            raise DataError(f"{path} holds Python objects (arrays of dtype object), which "
                            "mlpkit never unpickles; save plain numeric arrays.") from None
        raise DataError(f"{path} is not a readable .npz file ({e}).") from None
    except (OSError, EOFError, Exception) as e:  # zipfile.BadZipFile and friends
        raise DataError(f"{path} is a corrupted or truncated .npz file "
                        f"({type(e).__name__}); save it again.") from None
    if evaluation and "x_train" not in arrays:  # x_test, y_test alone will do
        pairs = [p for p in ("valid", "test") if f"x_{p}" in arrays and f"y_{p}" in arrays]
        if pairs:
            notes: list[str] = []
            parts = {p: _rows(arrays, p, f"x_{p}", path, notes) for p in pairs}
            return Source(name=path.name, parts=parts, kind="arrays", notes=notes,
                          source=_file_source(path))
    missing = [k for k in ("x_train", "y_train") if k not in arrays]
    if missing:
        raise DataError(f"{path} lacks {', '.join(missing)}; it holds {sorted(arrays)}. "
                        "Save it with np.savez(path, x_train=..., y_train=...).")
    notes: list[str] = []
    parts = {"rows": _rows(arrays, "train", path.name, path, notes)}
    x = arrays["x_train"]
    for part in ("valid", "test"):
        if f"x_{part}" in arrays:
            if f"y_{part}" not in arrays:
                raise DataError(f"{path} has x_{part} but no y_{part}.")
            parts[part] = Rows(finite(floats(arrays[f"x_{part}"]), f"x_{part}", notes),
                               labels(arrays[f"y_{part}"], f"y_{part}", path))
            if parts[part].x.shape[1:] != x.shape[1:]:
                raise DataError(f"{path}: x_{part} rows have shape {parts[part].x.shape[1:]}, "
                                f"x_train rows {x.shape[1:]}; they must match.")
    image = None
    if x.ndim == 3 or (x.ndim == 4 and x.shape[-1] == 3):  # images: predict takes PNG/JPEG
        image = {"size": list(x.shape[1:3]), "color": "grayscale" if x.ndim == 3 else "rgb",
                 "invert": "no"}
    notes += pixel_scale(parts, image is not None)
    return Source(name=path.name, parts=parts, kind="arrays", image=image, notes=notes,
                  source=_file_source(path))


def pixel_scale(parts: dict, image: bool) -> list[str]:
    """Rows of images holding pixels of 0-255 (``pixels_0_255``): divided by 255 in
    place, as the lecture does and as predict scales an image model's input, for an
    image model (``image``); for other arrays, which predict takes as they are, only
    said. Returns the note."""
    x = parts["rows"].x
    if not pixels_0_255(x):
        return []
    held = f"x_train holds {float(x.min()):g} to {float(x.max()):g}"
    if not image:
        return [f"{held}, like pixels of 0-255, left as they are (these arrays are no "
                "grayscale or RGB images, which predict would scale too): the lecture divides "
                "pixels by 255 (X / 255.0), without which training may learn nothing"]
    for part in parts.values():
        part.x = part.x / np.float32(255)
    return [f"pixels of 0-255 divided by 255 ({held}), as the lecture scales them"]


def _rows(arrays: dict, part: str, where: str, path: Path, notes: list) -> Rows:
    """``x_<part>`` and ``y_<part>`` as rows, once their lengths match and are not 0."""
    x, y = arrays[f"x_{part}"], arrays[f"y_{part}"]
    if len(x) != len(y) or len(x) == 0:
        raise DataError(f"{path}: x_{part} has {len(x)} rows and y_{part} {len(y)}; they must "
                        "match and not be empty.")
    return Rows(finite(floats(x), where, notes), labels(y, f"y_{part}", path))


def _file_source(path: Path) -> dict:
    return {"location": "file", "folder": str(path.parent),
            "sha256": {path.name: files.sha256_file(path)}}


def pixels_0_255(x: np.ndarray) -> bool:
    """Whether images ``x`` hold pixels of 0-255 rather than 0-1: none below 0, some above
    2 (above 1, whole numbers), none above 255. The lecture divides them by 255; left so, they train
    to chance (a loss of 14 after an epoch), and predict would scale them anyway."""
    if x.dtype.kind not in "fiu" or x.ndim < 3 or not x.size:
        return False
    return float(x.min()) >= 0 and (2 if x.dtype.kind == "f" else 1) < float(x.max()) <= 255


def floats(x: np.ndarray) -> np.ndarray:
    """uint8 pixels to 0-1 floats, as the lecture scales Fashion-MNIST; others as float32."""
    if x.dtype == np.uint8:
        return x.astype(np.float32) / np.float32(255)
    if x.dtype.kind not in "fiub":
        raise DataError(f"x holds {x.dtype} values; an .npz for mlpkit needs numbers.")
    return x.astype(np.float32)


def finite(x: np.ndarray, where: str, notes: list) -> np.ndarray:
    """Non-finite feature values (NaN, inf) never reach training: they become 0 (the
    value mlpkit's normalization and pixels treat as neutral), with a note."""
    bad = ~np.isfinite(x)
    if bad.any():
        rows = int(bad.reshape(len(x), -1).any(axis=1).sum())
        notes.append(f"{where}: {int(bad.sum())} non-finite values (NaN or inf) in {rows} rows "
                     "replaced by 0")
        x = np.where(bad, np.float32(0), x)
    return x


def labels(y: np.ndarray, name: str, path) -> np.ndarray:
    """Labels with NaN or inf are refused, with the rows."""
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        rows = np.flatnonzero(~np.isfinite(y.reshape(len(y), -1)).all(axis=1))
        raise DataError(f"{path}: {name} has {len(rows)} rows with NaN or inf labels (rows "
                        f"{rows[:5].tolist()}...); fix or drop them.")
    return y
