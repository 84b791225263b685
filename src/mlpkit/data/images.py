"""Images: one reader for every image mlpkit opens (training folders and ``predict``).

``read_image`` converts any PNG/JPEG to the size and channels a model expects and
says what it changed. ``read`` reads a folder with one subfolder per class.
``load_for_model`` prepares a file given to ``predict`` as the run's training
images were prepared (its ``image`` spec: size, color, and whether light
backgrounds are inverted to Fashion-MNIST's light-on-dark look).
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import numpy as np

from mlpkit import files
from mlpkit.data.dataset import Rows, Source
from mlpkit.errors import DataError

# mean brightness of the border above which an image has a light background
LIGHT_BACKGROUND = 0.5


def parse_size(text: str) -> tuple[int, int] | None:
    """"28x28" -> (28, 28) (height x width); "native" -> None."""
    if text == "native":
        return None
    h, w = text.lower().split("x")
    return int(h), int(w)


def _resized(img, size) -> str:
    """The note of a resize, height x width as ``--image-size`` says it (PIL's ``size`` is
    width, height)."""
    return f"resized from {img.size[1]}x{img.size[0]} to {size[0]}x{size[1]} (height x width)"


class ImageTooLarge(ValueError):
    """An image over PIL's limit of pixels (its guard against decompression bombs)."""


def read_image(path: Path, size: tuple[int, int] | None, color: str) -> tuple[np.ndarray, list]:
    """One image as float32 in 0-1: (h, w) grayscale or (h, w, 3) RGB, resized to ``size``.

    16-bit images are scaled by 65535 (not clipped to 8 bits); palette images are
    expanded; transparency is composited on white. Notes say what was converted.

    Returns:
        ``(image, notes)``.

    Raises:
        PIL.UnidentifiedImageError, OSError, ValueError: not a readable image
            (``ImageTooLarge``, a ``ValueError``: too many pixels to open).
    """
    from PIL import Image

    notes = []
    try:
        img = Image.open(path)
    except Image.DecompressionBombError as e:  # PIL's guard, over about 179 million pixels
        raise ImageTooLarge(str(e).split(",")[0]) from None
    with img:
        img.load()
        if img.mode in ("I;16", "I;16B", "I;16L", "I"):  # 16-bit (or 32-bit) grayscale
            arr = np.asarray(img, dtype=np.float32)
            arr = arr / np.float32(65535 if img.mode.startswith("I;16") or arr.max() > 255
                                   else 255)
            notes.append(f"{'16' if img.mode.startswith('I;16') else '32'}-bit scaled to 0-1")
            img = Image.fromarray(arr, mode="F")
            if size is not None and img.size != (size[1], size[0]):
                notes.append(_resized(img, size))
                img = img.resize((size[1], size[0]), Image.Resampling.LANCZOS)
            out = np.clip(np.asarray(img, dtype=np.float32), 0, 1)
            return (np.repeat(out[..., None], 3, axis=-1) if color == "rgb" else out), notes
        original = img.mode
        if img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info:
            rgba = img.convert("RGBA")
            if rgba.getextrema()[3][0] < 255:
                notes.append("transparency composited on white")
            white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            img = Image.alpha_composite(white, rgba)
        mode = "L" if color == "grayscale" else "RGB"
        if img.mode != mode:
            # a change of colors is said; a palette's or an alpha channel's own colors
            # (P, RGBA, LA: composited above) as RGB or gray are the same picture
            same = {"RGB": ("RGB", "RGBA", "P", "PA"), "L": ("L", "LA", "1")}[mode]
            if original not in same:
                notes.append(f"converted {original}{' (palette)' * original.startswith('P')} "
                             f"to {color}")
            img = img.convert(mode)
        if size is not None and img.size != (size[1], size[0]):
            notes.append(_resized(img, size))
            img = img.resize((size[1], size[0]), Image.Resampling.LANCZOS)
        return np.asarray(img, dtype=np.float32) / np.float32(255), notes


def load_for_model(path, image: dict, stack: bool = False) -> tuple[np.ndarray, list[str]]:
    """A PNG/JPEG or ``.npy`` file as the model's input, converted as in training.

    Args:
        image: the run's image spec: ``{"size": [h, w], "color": ..., "invert": "auto"|"no"}``.
            "auto" inverts an image with a light background (a photo of a shirt on
            white paper), as Fashion-MNIST is light on dark.
        stack: return a batch, ``(n, *shape)``: one image for a picture, and for a
            ``.npy`` file either one image or a stack of them (``(n, h, w)``, or ``(n,
            h*w)`` rows as in ``x_test.reshape(n, -1)``).

    Raises:
        DataError: not an image or array, or an array of the wrong shape.
    """
    from PIL import UnidentifiedImageError

    path = Path(path)
    size = tuple(image["size"])
    shape = size if image["color"] == "grayscale" else (*size, 3)
    if not path.is_file():
        raise DataError(f"{path} not found. Pass PNG/JPEG images or .npy arrays.")
    if path.suffix.lower() == ".npy":
        return _array_file(path, shape, stack)
    try:
        arr, notes = read_image(path, size, image["color"])
    except (UnidentifiedImageError, OSError, ValueError) as e:
        from mlpkit.data.tables import SUFFIXES

        if path.suffix.lower() in SUFFIXES:  # what the reverse mistake is told, too
            what = "a text file" if path.suffix.lower() == ".txt" else "a table"
            raise DataError(f"{path} is {what}; this model takes images: pass PNG/JPEG "
                            "images or .npy arrays.") from None
        if isinstance(e, ImageTooLarge):
            raise DataError(f"{path} is too large an image to open ({e}); shrink it, e.g. "
                            "to the model's size.") from None
        why = ("PIL cannot identify it" if isinstance(e, UnidentifiedImageError)
               else " ".join(str(e).split())[:120] or type(e).__name__)
        raise DataError(f"{path} is not a readable image ({why}). "
                        "Pass PNG/JPEG images or .npy arrays.") from None
    border = np.concatenate([arr[0], arr[-1], arr[:, 0], arr[:, -1]])
    if image.get("invert") == "auto" and border.mean() > LIGHT_BACKGROUND:
        arr = 1.0 - arr
        notes.append("inverted (light background; the model expects light on dark)")
    return (arr[None] if stack else arr), notes


def scaled_pixels(arr: np.ndarray, where: str, whole: bool = False) -> tuple[np.ndarray, list]:
    """Pixels as the model learned them, 0-1: values in 0-1 as they are, 0-255 divided by
    255 (whole numbers, ``whole``, or any values above 2: an image of 0-255 pixels that
    all stay under 2 is black); others are refused, as the server refuses them (1.01 or
    -0.5 would give confident nonsense).

    Returns ``(pixels, notes)``."""
    low, high = (float(arr.min()), float(arr.max())) if arr.size else (0.0, 0.0)
    if low >= -1e-3 and high <= 1 + 1e-3:
        return arr, []
    if low >= -1e-3 and high <= 255 and (whole or high > 2):
        return arr / np.float32(255), ["scaled 0-255 to 0-1"]
    raise DataError(f"{where} holds pixels from {low:g} to {high:g}; pass pixels scaled to "
                    "0-1, as in training, or 0-255.")


def _array_file(path: Path, shape: tuple, stack: bool) -> tuple[np.ndarray, list[str]]:
    arr = files.load_npy(path)
    size = int(np.prod(shape))
    if arr.shape in (shape, (size,)):
        arr = arr.reshape((1, *shape) if stack else shape)
    elif stack and arr.ndim >= 2 and arr.shape[1:] in (shape, (size,)):
        if not len(arr):
            raise DataError(f"{path} holds no images (an array of shape {arr.shape}).")
        arr = arr.reshape((len(arr), *shape))
    else:
        many = f", or n of them stacked ((n, {', '.join(map(str, shape))}) or (n, {size}))"
        raise DataError(f"{path} holds an array of shape {arr.shape}; expected "
                        f"{'x'.join(map(str, shape))} (or {size} values{many if stack else ''}).")
    if arr.dtype.kind not in "fiu":  # bool, complex, text: not pixels
        raise DataError(f"{path} holds {arr.dtype} values; expected real numbers.")
    whole = not np.issubdtype(arr.dtype, np.floating)
    arr = arr.astype(np.float32)
    if not np.isfinite(arr).all():
        raise DataError(f"{path} holds {int((~np.isfinite(arr)).sum())} NaN or infinite "
                        "values; pass finite pixel values (0-1, or 0-255).")
    arr, notes = scaled_pixels(arr, str(path), whole)
    return arr, notes


def _check_memory(n: int, size, color: str, path: Path) -> None:
    """Refuse before reading when the converted images cannot fit in memory."""
    if size is None:
        return
    need = n * size[0] * size[1] * (3 if color == "rgb" else 1) * 4 * 3  # float32, copies
    try:
        with open("/proc/meminfo") as f:
            info = {line.split(":")[0]: int(line.split()[1]) * 1024 for line in f}
        available = info.get("MemAvailable", 0)
    except (OSError, ValueError, IndexError):
        return
    if available and need > 0.8 * available:
        raise DataError(f"{n} images of {size[0]}x{size[1]} {color} need about "
                        f"{need / 2**30:.1f} GiB in memory, more than the "
                        f"{available / 2**30:.1f} GiB available; pass a smaller --image-size "
                        f"(e.g. 64x64){' or grayscale' if color == 'rgb' else ''}.")


PICTURES = {".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tif", ".tiff"}


def visible_files(folder: Path) -> list[Path]:
    """The files in ``folder`` and its subfolders, by name, none hidden and none in a
    hidden folder (``.DS_Store``, ``.thumbnails/``)."""
    folder = Path(folder)
    return [f for f in sorted(folder.rglob("*")) if f.is_file()
            and not any(p.startswith(".") for p in f.relative_to(folder).parts)]


def read(path: Path, data, evaluation: bool = False) -> Source:
    """A folder with one subfolder per class, images of any size or mode inside.

    Every image is converted to ``data.image_size`` and ``data.color``; with
    ``image_size = "native"`` all images must share one size. Unreadable files
    are listed in the notes and skipped, unless no image is readable.
    ``evaluation``: images to evaluate a trained model on; one class folder will do.
    """
    from PIL import UnidentifiedImageError

    path = Path(path)
    classes = sorted(d.name for d in path.iterdir()  # hidden folders (.git): not classes
                     if d.is_dir() and not d.name.startswith("."))
    least = 1 if evaluation else 2  # evaluating: a subset of the classes will do
    if evaluation and not classes:
        raise DataError(f"{path} has no class folder; put the images in a subfolder named "
                        "after their class, as in training.")
    if len(classes) < least:
        raise DataError(f"{path} has {len(classes)} class folder(s); a classifier needs at "
                        "least two subfolders, one per class, with images inside.")
    size = parse_size(data.image_size)
    found = {name: visible_files(path / name) for name in classes}
    _check_memory(sum(map(len, found.values())), size, data.color, path)
    images, labels, bad, sizes, read_paths = [], [], [], set(), []
    conversions: dict[str, int] = {}
    for name in classes:
        for f in found[name]:
            try:
                img, said = read_image(f, size, data.color)
            except (UnidentifiedImageError, OSError, ValueError):
                bad.append(str(f.relative_to(path)))
                continue
            for note in said:
                if not note.startswith("resized"):
                    conversions[note] = conversions.get(note, 0) + 1
            sizes.add(img.shape[:2])
            images.append(img)
            labels.append(unicodedata.normalize("NFC", name))  # as macOS names may differ
            read_paths.append(f)
    if not images:
        raise DataError(f"no readable image in {path} ({len(bad)} unreadable files, e.g. "
                        f"{bad[:3]}). Put PNG or JPEG files in one subfolder per class.")
    if len(sizes) > 1:
        raise DataError(f"the images in {path} have {len(sizes)} different sizes (e.g. "
                        f"{sorted(sizes)[:3]}) and image_size is native; pass --image-size "
                        "HxW (e.g. 28x28) to resize them all.")
    if len(set(labels)) < least:
        raise DataError(f"only the class folder {sorted(set(labels))} of {path} has readable "
                        "images; a classifier needs at least two classes.")
    notes = [f"{count} images {note}" for note, count in sorted(conversions.items())]
    empty = [name for name in classes if not found[name]]
    if empty:
        notes.append(f"empty class folders ignored: {', '.join(empty)}")
    named = set(labels)
    unread = [name for name in classes if found[name]
              and unicodedata.normalize("NFC", name) not in named]
    if unread:
        notes.append(f"class folders without a readable image ignored: {', '.join(unread)}")
    nested = sorted({str(f.parent.relative_to(path)) for fs in found.values() for f in fs
                     if f.parent.parent != path})
    if nested:
        notes.append(f"images in subfolders counted for their class folder: "
                     f"{', '.join(nested[:5])}" + (" ..." if len(nested) > 5 else ""))
    others = [b for b in bad if Path(b).suffix.lower() not in PICTURES]  # notes.txt
    bad = [b for b in bad if Path(b).suffix.lower() in PICTURES]
    if bad:
        notes.append(f"{len(bad)} unreadable files skipped: {', '.join(bad[:10])}"
                     + (" ..." if len(bad) > 10 else ""))
    if others:
        notes.append(f"{len(others)} files that are not images skipped: {', '.join(others[:10])}"
                     + (" ..." if len(others) > 10 else ""))
    stray = sorted(f.name for f in path.iterdir() if f.is_file() and not f.name.startswith("."))
    if stray:
        notes.append(f"files beside the class folders ignored (an image goes in the folder "
                     f"of its class): {', '.join(stray[:10])}" + (" ..." if len(stray) > 10
                                                                   else ""))
    if size:
        notes.append(f"images converted to {size[0]}x{size[1]} (height x width) {data.color}")
    h, w = next(iter(sizes))
    row_names = np.array([f.relative_to(path).as_posix() for f in read_paths])
    return Source(name=path.name, parts={"rows": Rows(np.stack(images), np.array(labels),
                                                      names=row_names)},
                  kind="images", notes=notes,
                  image={"size": [h, w], "color": data.color, "invert": "no"},
                  source={"location": "folder", "folder": str(path), "images": len(images),
                          "unreadable": len(bad), "not_images": len(others),
                          "sha256": {path.name + "/": files.sha256_tree(path, read_paths)}})
