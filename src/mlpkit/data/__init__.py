"""Data sets: find, verify, download, split. One module a data set."""

from __future__ import annotations

from mlpkit.errors import DataError


def _loader(name: str):
    if name == "fashion-mnist":
        from mlpkit.data import fashion_mnist as module
    elif name == "california-housing":
        from mlpkit.data import california_housing as module
    else:
        from mlpkit.config import DATASETS, _did_you_mean

        raise DataError(f"unknown data set {name!r}.{_did_you_mean(name, DATASETS)} "
                        f"Known data sets: {', '.join(DATASETS)}")
    return module


def load(name: str, data_dir=None, **kwargs):
    """Load a named data set with the lecture's split; see each module's ``load``."""
    return _loader(name).load(data_dir=data_dir, **kwargs)


def verify(name: str, data_dir=None) -> dict:
    return _loader(name).verify(data_dir=data_dir)
