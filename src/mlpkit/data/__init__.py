"""Data sets: find, verify, read, split. One module a data set or form.

``read`` turns a name or path into a ``Source`` (rows as read, with checksums);
``load_for`` splits and encodes it into a ``Dataset`` as a run's config says,
or as a reopened run stored it.
"""

from __future__ import annotations

from pathlib import Path

from mlpkit.config import DATASETS as BUILT_IN
from mlpkit.data.dataset import Dataset, Rows, Source
from mlpkit.errors import ConfigError, DataError, did_you_mean

__all__ = ["BUILT_IN", "Dataset", "Rows", "Source", "load", "load_for", "locate", "read",
           "verify"]


def _module(name: str):
    if name == "fashion-mnist":
        from mlpkit.data import fashion_mnist as module
    elif name == "california-housing":
        from mlpkit.data import california_housing as module
    else:
        raise DataError(f"unknown data set {name!r}.{did_you_mean(name, BUILT_IN)} "
                        f"Known data sets: {', '.join(BUILT_IN)}")
    return module


def read(name: str, data, evaluation: bool = False) -> Source:
    """A built-in data set by name, or the user's table, ``.npz`` file or image folder.

    ``evaluation``: rows to evaluate a trained model on (an image folder of one class,
    an ``.npz`` of ``x_test``, ``y_test`` alone will do)."""
    if name in BUILT_IN:
        for key in ("test_split", "validation_data", "target", "sample_weight", "drop",
                    "columns", "column_types"):
            if getattr(data, key):
                raise ConfigError(f"{key} applies to your own data; {name} has its own "
                                  f"columns and test set. Received: {key}={getattr(data, key)!r}")
        defaults = type(data)()  # what its own files fix: its task, its images' size, color
        for key in ("task", "image_size", "color"):
            if getattr(data, key) != getattr(defaults, key):
                raise ConfigError(f"{key} applies to your own data; {name} has its own "
                                  f"({'its task' if key == 'task' else 'its images'}). Drop "
                                  f"it. Received: {key}={getattr(data, key)!r}")
        return _module(name).read(data.data_dir)
    path = Path(name)
    suffix = path.suffix.lower()
    if path.is_dir() or suffix == ".npz":  # what only a table has would be ignored: refuse it
        what = ("an image folder, whose labels are its subfolders" if path.is_dir() else
                "an .npz file, whose labels and held-out rows are its own arrays")
        for key in ("target", "sample_weight", "validation_data", "drop", "columns",
                    "column_types"):
            if getattr(data, key):
                raise ConfigError(f"{key} applies to tables (CSV/Parquet); {name} is {what}. "
                                  f"Drop it. Received: {key}={getattr(data, key)!r}")
    if path.is_dir():
        from mlpkit.data import images

        return images.read(path, data, evaluation)
    if suffix == ".npz":
        from mlpkit.data import arrays

        return arrays.read(path, data, evaluation)
    from mlpkit.data import tables

    if suffix in tables.SUFFIXES:
        defaults = type(data)()  # image settings would be ignored on a table: refuse them
        for key in ("image_size", "color"):
            if getattr(data, key) != getattr(defaults, key):
                raise ConfigError(f"{key} applies to image folders; {name} is a table "
                                  f"(CSV/Parquet). Drop it. Received: {key}="
                                  f"{getattr(data, key)!r}")
        return tables.read(path, data)
    if not path.exists():
        raise DataError(f"{path} not found. Check the path.")
    raise DataError(f"{path}: unknown kind of file {suffix!r}. Pass a CSV or Parquet table, "
                    "an .npz file, or a folder of images with one subfolder per class.")


def load_for(config, stored: dict | None = None) -> Dataset:
    """The data set a ``RunConfig`` names, split and encoded as its ``[data]`` says.

    Args:
        config: the run's ``RunConfig``.
        stored: a reopened run's ``{"split": Split, "preprocessing": dict}``; then
            nothing is split or fitted again.
    """
    from mlpkit.data.assemble import assemble

    return assemble(read(config.data.name, config.data), config.data, config.training.seed,
                    stored)


def load(name: str, data_dir=None) -> Dataset:
    """A built-in data set with the lecture's split (``mlpkit.load_dataset``)."""
    from mlpkit.config import DataConfig
    from mlpkit.data.assemble import assemble

    data = DataConfig(name=name, data_dir=str(data_dir) if data_dir else None)
    return assemble(read(name, data), data, seed=42)


def locate(name: str, data_dir=None) -> tuple[str, Path]:
    """Where a built-in data set is found, without reading or downloading it:
    ``(location kind, folder)``."""
    kind, paths = _module(name).locate(data_dir, download=False)
    return kind, paths[0].parent


def verify(name: str, data_dir=None) -> dict:
    """Check the checksums of a built-in data set's files where they are found."""
    return _module(name).verify(data_dir=data_dir)
