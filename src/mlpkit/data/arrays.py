"""NumPy ``.npz`` files: ``x_train``, ``y_train`` and optionally ``x_valid``/``y_valid``,
``x_test``/``y_test``. Loaded without pickles."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mlpkit import files
from mlpkit.data.dataset import Rows, Source
from mlpkit.errors import DataError


def read(path: Path, data=None) -> Source:
    """The arrays of ``path``; rows of 2 or more dimensions are images."""
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except (OSError, ValueError, EOFError) as e:
        raise DataError(f"{path} is not a readable .npz file ({e}).") from None
    missing = [k for k in ("x_train", "y_train") if k not in arrays]
    if missing:
        raise DataError(f"{path} lacks {', '.join(missing)}; it holds {sorted(arrays)}. "
                        "Save it with np.savez(path, x_train=..., y_train=...).")
    x, y = arrays["x_train"], arrays["y_train"]
    if len(x) != len(y) or len(x) == 0:
        raise DataError(f"{path}: x_train has {len(x)} rows and y_train {len(y)}; they must "
                        "match and not be empty.")
    parts = {"rows": Rows(floats(x), y)}
    for part in ("valid", "test"):
        if f"x_{part}" in arrays:
            if f"y_{part}" not in arrays:
                raise DataError(f"{path} has x_{part} but no y_{part}.")
            parts[part] = Rows(floats(arrays[f"x_{part}"]), arrays[f"y_{part}"])
            if parts[part].x.shape[1:] != x.shape[1:]:
                raise DataError(f"{path}: x_{part} rows have shape {parts[part].x.shape[1:]}, "
                                f"x_train rows {x.shape[1:]}; they must match.")
    image = None
    if x.ndim == 3 or (x.ndim == 4 and x.shape[-1] == 3):  # images: predict takes PNG/JPEG
        image = {"size": list(x.shape[1:3]), "color": "grayscale" if x.ndim == 3 else "rgb",
                 "invert": "no"}
    return Source(name=path.name, parts=parts, kind="arrays", image=image,
                  source={"location": "file", "folder": str(path.parent),
                          "sha256": {path.name: files.sha256_file(path)}})


def floats(x: np.ndarray) -> np.ndarray:
    """uint8 pixels to 0-1 floats, as the lecture scales Fashion-MNIST; others as float32."""
    if x.dtype == np.uint8:
        return x.astype(np.float32) / np.float32(255)
    if x.dtype.kind not in "fiub":
        raise DataError(f"x holds {x.dtype} values; an .npz for mlpkit needs numbers.")
    return x.astype(np.float32)
