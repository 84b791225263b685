"""Image files -> arrays shaped as a model expects (PNG, JPEG, .npy)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mlpkit.errors import DataError


def load_image_file(path: str | Path, size: tuple[int, int] = (28, 28),
                    invert: str = "auto") -> tuple[np.ndarray, list[str]]:
    """Read one image as float32 grayscale in 0-1, light on dark like Fashion-MNIST.

    Args:
        path: a PNG/JPEG (any size or mode) or a ``.npy`` array of one image.
        size: (height, width) the model expects.
        invert: "auto" inverts images with a light background (a photo of a shirt
            on white paper), "yes" always, "no" never.

    Returns:
        ``(image, notes)``: notes say what was changed ("resized from 100x80", ...).

    Raises:
        DataError: the file is not an image or array, or has the wrong shape.
    """
    path = Path(path)
    notes: list[str] = []
    if not path.is_file():
        raise DataError(f"{path} not found. Pass PNG/JPEG images or .npy arrays.")
    if path.suffix.lower() == ".npy":
        try:
            arr = np.load(path, allow_pickle=False)
        except (ValueError, OSError) as e:
            raise DataError(f"{path} is not a NumPy .npy array ({e}).") from None
        if arr.shape == (size[0] * size[1],):
            arr = arr.reshape(size)
        if arr.shape != tuple(size):
            raise DataError(f"{path} holds an array of shape {arr.shape}; expected "
                            f"{size[0]}x{size[1]} (or {size[0] * size[1]} values).")
        if not np.issubdtype(arr.dtype, np.number):
            raise DataError(f"{path} holds {arr.dtype} values; expected numbers.")
        arr = arr.astype(np.float32)
        if arr.max(initial=0) > 1.0:
            arr = arr / 255.0
            notes.append("scaled 0-255 to 0-1")
        return arr, notes
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            img.load()
            if img.mode != "L":
                notes.append(f"converted {img.mode} to grayscale")
                img = img.convert("L")
            if img.size != (size[1], size[0]):
                notes.append(f"resized from {img.size[0]}x{img.size[1]} to {size[1]}x{size[0]}")
                img = img.resize((size[1], size[0]), Image.Resampling.LANCZOS)
            arr = np.asarray(img, dtype=np.float32) / 255.0
    except (UnidentifiedImageError, OSError) as e:
        raise DataError(f"{path} is not a readable image ({type(e).__name__}). "
                        "Pass PNG/JPEG images or .npy arrays.") from None
    border = np.concatenate([arr[0], arr[-1], arr[:, 0], arr[:, -1]])
    if invert == "yes" or (invert == "auto" and border.mean() > 0.5):
        arr = 1.0 - arr
        notes.append("inverted (light background; the model expects light on dark)")
    return arr, notes
