"""Data sets: find, verify, download, split. One module a data set."""

from __future__ import annotations

from mlpkit.data.dataset import Dataset
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


def load_for(config) -> Dataset:
    """The data set a ``RunConfig`` names, split as its ``[data]`` section says.

    Built-in data sets keep their lecture splits unless ``validation_split`` is
    given (then train and valid are pooled and split again); anything else is a
    path to the user's data (``mlpkit.data.user``).
    """
    import dataclasses

    import numpy as np

    from mlpkit.config import DATASETS
    from mlpkit.data import split as sp
    from mlpkit.data import user
    from mlpkit.errors import ConfigError

    d, seed = config.data, config.training.seed
    if d.name not in DATASETS:
        return user.load(d.name, d, seed)
    for key in ("test_split", "validation_data", "target", "sample_weight"):
        if getattr(d, key):
            raise ConfigError(f"{key} applies to your own data; {d.name} has its own "
                              f"columns and test set. Received: {key}={getattr(d, key)!r}")
    ds = load(d.name, d.data_dir)
    if d.validation_split:
        x = np.concatenate([ds.x_train, ds.x_valid])
        y = np.concatenate([ds.y_train, ds.y_valid])
        (x, y), (xv, yv) = sp.split([x, y], d.validation_split, d.split_order, seed)
        note = user._split_note("validation", d.validation_split, d.split_order, seed)
        ds = dataclasses.replace(ds, x_train=x, y_train=y, x_valid=xv, y_valid=yv,
                                 notes=[*ds.notes, note])
    return ds


def verify(name: str, data_dir=None) -> dict:
    return _loader(name).verify(data_dir=data_dir)
