"""The public Python API, in a few lines:

    import mlpkit
    ds = mlpkit.load_dataset("fashion-mnist")
    run = mlpkit.train(ds, preset="seed", epochs=5)
    run.history["val_accuracy"], run.evaluate(), run.predict(ds.x_test[:3])
    run = mlpkit.load_run(run.path)

Keras is imported only when a function here needs it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from mlpkit import config as cfg
from mlpkit.errors import ConfigError
from mlpkit.runs import Run, require_run

# setting name -> config section, e.g. "epochs" -> "training"
SETTING_SECTION = {f.name: section for section, cls in cfg.SECTIONS.items()
                   for f in dataclasses.fields(cls) if f.name != "name"}


def load_dataset(name: str, data_dir: str | Path | None = None, **kwargs):
    """Load a data set by name with the lecture's split (see ``mlpkit.data``)."""
    from mlpkit import data

    return data.load(name, data_dir=data_dir, **kwargs)


def overrides_from(settings: dict) -> dict[str, dict]:
    """Group flat settings (``epochs=5``) into config sections (``{"training": ...}``)."""
    out: dict[str, dict] = {}
    for key, value in settings.items():
        if key not in SETTING_SECTION:
            raise ConfigError(f"unknown setting {key!r}.{cfg._did_you_mean(key, SETTING_SECTION)} "
                              f"Known settings: {', '.join(sorted(SETTING_SECTION))}")
        out.setdefault(SETTING_SECTION[key], {})[key] = value
    return out


def train(dataset="fashion-mnist", preset: str | None = None, config_file=None,
          verbose="auto", **settings) -> Run:
    """Train an MLP and write its run folder.

    Args:
        dataset: a data set name or a loaded ``Dataset``.
        preset: "seed" (the lecture's recipe) or another shipped preset.
        config_file: a TOML file of settings; ``settings`` override it.
        verbose: Keras's ``fit`` verbosity.
        **settings: any config value by name: ``epochs``, ``batch_size``,
            ``learning_rate``, ``optimizer``, ``hidden``, ``seed``, ``out``, ...

    Returns:
        The ``Run``, with ``model``, ``history``, ``evaluate()`` and ``predict()``.

    Example:
        >>> run = mlpkit.train("fashion-mnist", preset="seed", epochs=5)
    """
    from mlpkit import training

    ds = None if isinstance(dataset, str) else dataset
    name = dataset if isinstance(dataset, str) else dataset.name
    config = cfg.resolve(name, preset, config_file, overrides_from(settings))
    return training.train(config, dataset=ds, verbose=verbose)


def load_run(path: str | Path) -> Run:
    """Open a run folder written by ``train``."""
    return Run(require_run(path))
