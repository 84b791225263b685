"""Image files -> arrays shaped as a model expects (PNG, JPEG, .npy)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mlpkit.errors import DataError


def load_image_file(path: str | Path, shape: tuple[int, ...] = (28, 28),
                    invert: str = "auto") -> tuple[np.ndarray, list[str]]:
    """Read one image as float32 in 0-1, shaped as a model expects.

    Args:
        path: a PNG/JPEG (any size or mode) or a ``.npy`` array of one image.
        shape: (height, width) for grayscale, (height, width, 3) for RGB.
        invert: "auto" inverts images with a light background (a photo of a shirt
            on white paper) to Fashion-MNIST's light on dark, "yes" always, "no"
            never (for models trained on the user's own images).

    Returns:
        ``(image, notes)``: notes say what was changed ("resized from 100x80", ...).

    Raises:
        DataError: the file is not an image or array, or has the wrong shape.
    """
    path = Path(path)
    shape = tuple(shape)
    notes: list[str] = []
    if not path.is_file():
        raise DataError(f"{path} not found. Pass PNG/JPEG images or .npy arrays.")
    if path.suffix.lower() == ".npy":
        try:
            arr = np.load(path, allow_pickle=False)
        except (ValueError, OSError) as e:
            raise DataError(f"{path} is not a NumPy .npy array ({e}).") from None
        if arr.shape == (int(np.prod(shape)),):
            arr = arr.reshape(shape)
        if arr.shape != shape:
            raise DataError(f"{path} holds an array of shape {arr.shape}; expected "
                            f"{'x'.join(map(str, shape))} (or {int(np.prod(shape))} values).")
        if not np.issubdtype(arr.dtype, np.number):
            raise DataError(f"{path} holds {arr.dtype} values; expected numbers.")
        arr = arr.astype(np.float32)
        if arr.max(initial=0) > 1.0:
            arr = arr / 255.0
            notes.append("scaled 0-255 to 0-1")
        return arr, notes
    from PIL import Image, UnidentifiedImageError

    mode = "RGB" if len(shape) == 3 else "L"
    h, w = shape[:2]
    try:
        with Image.open(path) as img:
            img.load()
            if img.mode != mode:
                notes.append(f"converted {img.mode} to {'RGB' if mode == 'RGB' else 'grayscale'}")
                img = img.convert(mode)
            if img.size != (w, h):
                notes.append(f"resized from {img.size[0]}x{img.size[1]} to {w}x{h}")
                img = img.resize((w, h), Image.Resampling.LANCZOS)
            arr = np.asarray(img, dtype=np.float32) / 255.0
    except (UnidentifiedImageError, OSError) as e:
        raise DataError(f"{path} is not a readable image ({type(e).__name__}). "
                        "Pass PNG/JPEG images or .npy arrays.") from None
    border = np.concatenate([arr[0], arr[-1], arr[:, 0], arr[:, -1]])
    if invert == "yes" or (invert == "auto" and border.mean() > 0.5):
        arr = 1.0 - arr
        notes.append("inverted (light background; the model expects light on dark)")
    return arr, notes


def parse_size(text: str) -> tuple[int, int] | None:
    """"28x28" -> (28, 28) (height x width); "native" -> None."""
    if text == "native":
        return None
    h, w = text.lower().split("x")
    return int(h), int(w)


def read_image(path: Path, size: tuple[int, int] | None, color: str) -> np.ndarray:
    """One image as float32 in 0-1: (h, w) grayscale or (h, w, 3) RGB, resized to ``size``."""
    from PIL import Image

    with Image.open(path) as img:
        img = img.convert("L" if color == "grayscale" else "RGB")
        if size is not None and img.size != (size[1], size[0]):
            img = img.resize((size[1], size[0]), Image.Resampling.LANCZOS)
        return np.asarray(img, dtype=np.float32) / np.float32(255)


def load_folder(path: Path, data, seed: int):
    """A folder with one subfolder per class, images of any size or mode inside.

    Every image is converted to ``data.image_size`` and ``data.color``; with
    ``image_size = "native"`` all images must share one size. Unreadable files
    are listed in the notes and skipped, unless no image is readable.
    """
    from PIL import UnidentifiedImageError

    from mlpkit.data import user

    classes = sorted(d.name for d in Path(path).iterdir() if d.is_dir())
    if len(classes) < 2:
        raise DataError(f"{path} has {len(classes)} class folder(s); a classifier needs at "
                        "least two subfolders, one per class, with images inside.")
    size = parse_size(data.image_size)
    images, labels, bad, sizes = [], [], [], set()
    for name in classes:
        for f in sorted((Path(path) / name).rglob("*")):
            if not f.is_file() or f.name.startswith("."):
                continue
            try:
                img = read_image(f, size, data.color)
            except (UnidentifiedImageError, OSError, ValueError):
                bad.append(str(f.relative_to(path)))
                continue
            sizes.add(img.shape[:2])
            images.append(img)
            labels.append(name)
    if not images:
        raise DataError(f"no readable image in {path} ({len(bad)} unreadable files, e.g. "
                        f"{bad[:3]}). Put PNG or JPEG files in one subfolder per class.")
    if len(sizes) > 1:
        raise DataError(f"the images in {path} have {len(sizes)} different sizes (e.g. "
                        f"{sorted(sizes)[:3]}) and image_size is native; pass --image-size "
                        "HxW (e.g. 28x28) to resize them all.")
    notes = []
    if bad:
        notes.append(f"{len(bad)} unreadable files skipped: {', '.join(bad[:10])}"
                     + (" ..." if len(bad) > 10 else ""))
    if size:
        notes.append(f"images converted to {size[0]}x{size[1]} {data.color}")
    used = set(labels)
    if len(used) < 2:
        raise DataError(f"only the class folder {sorted(used)} of {path} has readable images; "
                        "a classifier needs at least two classes.")
    x = np.stack(images)
    return user.assemble(Path(path).name, x, np.array(labels), data, seed, notes=notes,
                         source={"location": "folder", "folder": str(path),
                                 "images": len(images), "unreadable": len(bad)})
