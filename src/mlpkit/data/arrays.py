"""NumPy ``.npz`` files: ``x_train``, ``y_train`` and optionally ``x_valid``/``y_valid``,
``x_test``/``y_test``. Loaded without pickles."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from mlpkit.data import user
from mlpkit.errors import DataError


def load(path: Path, data, seed: int):
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
    x = _floats(x)
    pairs = {}
    for part in ("valid", "test"):
        if f"x_{part}" in arrays:
            if f"y_{part}" not in arrays:
                raise DataError(f"{path} has x_{part} but no y_{part}.")
            pairs[part] = (_floats(arrays[f"x_{part}"]), arrays[f"y_{part}"])
            if pairs[part][0].shape[1:] != x.shape[1:]:
                raise DataError(f"{path}: x_{part} rows have shape {pairs[part][0].shape[1:]}, "
                                f"x_train rows {x.shape[1:]}; they must match.")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return user.assemble(path.name, x, y, data, seed, test=pairs.get("test"),
                         valid=pairs.get("valid"),
                         source={"location": "file", "folder": str(path.parent),
                                 "sha256": {path.name: digest}})


def _floats(x: np.ndarray) -> np.ndarray:
    """uint8 pixels to 0-1 floats, as the lecture scales Fashion-MNIST; others as float32."""
    if x.dtype == np.uint8:
        return x.astype(np.float32) / np.float32(255)
    if x.dtype.kind not in "fiub":
        raise DataError(f"x holds {x.dtype} values; an .npz for mlpkit needs numbers.")
    return x.astype(np.float32)
