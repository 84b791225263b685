"""Run configuration: frozen dataclasses, presets, TOML files and validation.

A run is described by four sections, named as in the config file:

    [data]      which data set and where to find it
    [model]     the layers of the MLP
    [training]  compile and fit arguments, with Keras's own names
    [output]    where the run folder goes

Presets are small TOML files in ``mlpkit/presets/`` (``<dataset>.<preset>.toml``).
Settings are resolved in this order, later winning: the dataclass defaults, the
preset, the user's config file, the command-line flags. Every value is checked
against one table, ``CONSTRAINTS``, so the library, the CLI and the server all
print the same message.
"""

from __future__ import annotations

import dataclasses
import numbers
import os
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from mlpkit.errors import ConfigError, did_you_mean
from mlpkit.labels import split_names

DATASETS = ("fashion-mnist", "california-housing")
OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop", "nadam")
ENGINES = ("auto", "keras")
SCHEDULES = ("constant", "cosine")
TASKS = ("auto", "multiclass", "binary", "multilabel", "regression")
FLIPS = ("none", "horizontal", "vertical", "horizontal_and_vertical")
PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")


@dataclass(frozen=True)
class DataConfig:
    # a built-in data set, or a path: a CSV/Parquet table, an .npz file, an image folder
    name: str = "fashion-mnist"
    data_dir: str | None = None
    target: str | None = None  # tables: the column to predict
    task: str = "auto"  # auto, multiclass, binary, multilabel, regression
    one_hot: bool = False  # labels as one-hot vectors: categorical_crossentropy
    # None: the built-in split (the lecture's), or 0.2 / 0.2 for the user's data
    validation_split: float | None = None
    test_split: float | None = None
    split_order: str = "shuffle"  # "keep": the last fraction in file order, as Keras
    validation_data: str | None = None  # a separate file, as fit's validation_data
    sample_weight: str | None = None  # tables: a column of per-row weights
    image_size: str = "28x28"  # HxW, or "native" (all images must share one size)
    color: str = "grayscale"  # or "rgb"
    drop: tuple[str, ...] = ()  # tables: columns not to use
    columns: tuple[str, ...] = ()  # tables: use only these feature columns
    # tables: force a column's type, {"zip": "category"} or "zip=category,when=datetime"
    column_types: dict | None = None


@dataclass(frozen=True)
class ModelConfig:
    hidden: tuple[int, ...] = (300, 100)
    activation: str = "relu"
    dropout: float = 0.0
    # Feature vectors (tables): "periodic" embeds each numeric feature on its own
    # (periodic -> linear -> ReLU, see layers.PeriodicEmbedding) before the Dense layers.
    embedding: str = "none"
    embedding_size: int = 16
    embedding_sigma: float = 0.1
    # More than 1: an ensemble of that many MLPs of this spec, trained together (each on
    # its own loss) and averaged (see models.build_mlp; mlpkit's jitted loop only).
    members: int = 1
    # Images, in training only: flip at random ("horizontal", "vertical",
    # "horizontal_and_vertical": Keras's RandomFlip) and shift by up to this many whole
    # pixels (layers.RandomShift), before Flatten.
    random_flip: str = "none"
    random_shift: int = 0
    # Tables: two numeric columns of coordinates (latitude, longitude) whose rotated
    # views (coordinate_rotations directions spread over the half turn) the model also
    # sees (layers.RotatedCoordinates, before the normalization).
    coordinates: tuple[str, ...] = ()
    coordinate_rotations: int = 10
    # Regression: "standardize" fits the model to the targets standardized with the
    # training rows' mean and standard deviation, and a fixed Rescaling layer after its
    # output gives values in the targets' own units (the table preset sets it).
    target_scaling: str = "none"


@dataclass(frozen=True)
class TrainingConfig:
    optimizer: str = "sgd"
    learning_rate: float = 0.01
    momentum: float = 0.0
    epochs: int = 30
    batch_size: int = 32
    nesterov: bool = False
    # Keras's decoupled weight decay, for any optimizer (unset: AdamW's default 0.004,
    # none for the others)
    weight_decay: float | None = None
    # Classification: the loss's label smoothing, as Keras's cross-entropies take it
    # (0: none); training only, the reported figures compare with the labels themselves.
    label_smoothing: float = 0.0
    seed: int = 42
    # "balanced", or a mapping such as "0:1,1:3" (class index or name: weight)
    class_weight: str | dict | None = None  # "balanced", "0:1,1:3" or {"0": 1, "1": 3}
    patience: int = 0  # 0: no early stopping
    # The final fit, once the settings are chosen on the validation rows: train on the
    # training and validation rows together (as scikit-learn's refit does); the run has
    # no validation figures, so no early stopping. A tuning study's trials never do.
    train_on_validation: bool = False
    # "constant", or "cosine": the learning rate decays to 0 over all epochs
    schedule: str = "constant"
    # A budget of training steps (0: none): fewer epochs when the data is large.
    max_steps: int = 0
    # How many batches Keras runs per compiled call (engine "keras" only).
    steps_per_execution: int = 1
    # "auto": mlpkit's jitted JAX loop on the JAX backend, Keras's fit otherwise;
    # "keras": always Keras's fit. Same arithmetic either way (see jax_loop.py).
    engine: str = "auto"
    # Save a checkpoint every this many training steps too (0: only at each epoch's
    # end); the jitted loop only. `mlpkit train --resume RUN` continues from the last.
    checkpoint_steps: int = 0
    # Devices each batch is split across (keras.distribution.DataParallel): a count or
    # "all". batch_size and learning_rate stay the global ones (see distribution.py).
    devices: int | str = 1
    # float32, mixed_bfloat16 or mixed_float16: Keras's dtype policy (see precision.py).
    precision: str = "float32"


@dataclass(frozen=True)
class OutputConfig:
    out: str | None = None
    runs_dir: str = "runs"


@dataclass(frozen=True)
class RunConfig:
    preset: str = "seed"
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    output: OutputConfig = field(default_factory=OutputConfig)


SECTIONS = {
    "data": DataConfig,
    "model": ModelConfig,
    "training": TrainingConfig,
    "output": OutputConfig,
}

# name -> (type, test, wording of the rule)
CONSTRAINTS: dict[str, tuple[type, Any, str]] = {
    "epochs": (int, lambda v: v >= 1, "must be >= 1"),
    "batch_size": (int, lambda v: v >= 1, "must be >= 1"),
    "learning_rate": (float, lambda v: v > 0, "must be > 0"),
    "momentum": (float, lambda v: 0 <= v < 1, "must be in [0, 1)"),
    "dropout": (float, lambda v: 0 <= v < 1, "must be in [0, 1)"),
    "embedding": (str, lambda v: v in ("none", "periodic"), "must be none or periodic"),
    "embedding_size": (int, lambda v: v >= 1, "must be >= 1"),
    "embedding_sigma": (float, lambda v: v > 0, "must be > 0"),
    "random_flip": (str, lambda v: v in FLIPS, f"must be one of {', '.join(FLIPS)}"),
    "random_shift": (int, lambda v: v >= 0, "must be >= 0 (pixels; 0: none)"),
    "coordinates": (list, lambda v: not v or (len(v) == 2 and v[0] != v[1]),
                    "must name two different numeric columns, e.g. Latitude,Longitude "
                    '(none: --coordinates "", or [] in a file)'),
    "coordinate_rotations": (int, lambda v: 1 <= v <= 90, "must be between 1 and 90"),
    "members": (int, lambda v: 1 <= v <= 64, "must be between 1 and 64"),
    "target_scaling": (str, lambda v: v in ("none", "standardize"),
                       "must be none or standardize"),
    "weight_decay": (float, lambda v: v >= 0, "must be >= 0"),
    "label_smoothing": (float, lambda v: 0 <= v < 1, "must be in [0, 1)"),
    "seed": (int, lambda v: v >= 0, "must be >= 0"),
    "patience": (int, lambda v: v >= 0, "must be >= 0"),
    "train_on_validation": (bool, lambda v: isinstance(v, bool), "must be true or false"),
    "steps_per_execution": (int, lambda v: v >= 1, "must be >= 1"),
    "checkpoint_steps": (int, lambda v: v >= 0, "must be >= 0"),
    "devices": (lambda v: _devices(v), lambda v: v == "all" or v >= 1,
                "must be a number of devices >= 1, or all"),
    "precision": (str, lambda v: v in PRECISIONS, f"must be one of {', '.join(PRECISIONS)}"),
    "max_steps": (int, lambda v: v >= 0, "must be >= 0 (0: no budget)"),
    "optimizer": (str, lambda v: v in OPTIMIZERS, f"must be one of {', '.join(OPTIMIZERS)}"),
    "schedule": (str, lambda v: v in SCHEDULES, f"must be one of {', '.join(SCHEDULES)}"),
    "engine": (str, lambda v: v in ENGINES, f"must be one of {', '.join(ENGINES)}"),
    "name": (str, lambda v: v in DATASETS or Path(v).exists(),
             f"must be one of {', '.join(DATASETS)}, or the path of a CSV/Parquet table, "
             "an .npz file or an image folder"),
    "task": (str, lambda v: v in TASKS, f"must be one of {', '.join(TASKS)}"),
    "split_order": (str, lambda v: v in ("shuffle", "keep"), "must be shuffle or keep"),
    "validation_split": (float, lambda v: 0 < v < 1,
                         "must be above 0 and below 1 (a share of the rows, e.g. 0.1)"),
    "test_split": (float, lambda v: 0 < v < 1,
                   "must be above 0 and below 1 (a share of the rows, e.g. 0.2)"),
    "color": (str, lambda v: v in ("grayscale", "rgb"), "must be grayscale or rgb"),
    "image_size": (str, lambda v: v == "native" or _is_size(v),
                   "must be HxW (e.g. 28x28; 28 for a square) or native"),
    "one_hot": (bool, lambda v: isinstance(v, bool), "must be true or false"),
    # a column name, or several ("a,b,c" or a list): kept as one comma-separated string
    "target": (lambda v: _names(v), lambda v: bool(v),
               'must be a column name or a list of them, e.g. "price" or ["a", "b"]'),
    "sample_weight": (str, lambda v: bool(v), "must be a column name"),
    # {6: 3.0}, as Keras takes it: a TOML table's keys are text, {"6": 3.0}
    "class_weight": (lambda v: v if isinstance(v, str) else {str(k): w for k, w in v.items()}
                     if isinstance(v, dict) else None, lambda v: bool(v) or v == {},
                     "must be 'balanced' or a mapping like '0:1,1:3' (or {0: 1, 1: 3})"),
    "validation_data": (str, lambda v: bool(v), "must be a file path"),
    "nesterov": (bool, lambda v: isinstance(v, bool), "must be true or false"),
    "out": (str, lambda v: bool(v), "must be a folder path"),
    "data_dir": (str, lambda v: bool(v), "must be a folder path"),
    "runs_dir": (str, lambda v: bool(v), "must be a folder path"),
    "hidden": (tuple, lambda v: len(v) >= 1 and all(n >= 1 for n in v),
               "must be one or more positive layer sizes, e.g. 300,100"),
    "drop": (list, lambda v: all(v), "must be column names, e.g. id,notes"),
    "columns": (list, lambda v: all(v), "must be column names, e.g. age,income"),
    "column_types": (dict, lambda v: all(t in COLUMN_TYPES for t in v.values()),
                     "must map columns to one of number, boolean, datetime (or "
                     "datetime_dayfirst, datetime_monthfirst), category, text, drop, e.g. "
                     "zip=category"),
}
COLUMN_TYPES = ("number", "boolean", "datetime", "datetime_dayfirst", "datetime_monthfirst",
                "category", "text", "drop")


def _names(value) -> str | None:
    """A target given as a name, "a,b" or a list of names, as "a,b" (a name holding a
    comma in double quotes, see ``labels.split_names``); ``None`` otherwise."""
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, str) for v in value):
        from mlpkit.labels import join_names

        return join_names(value)
    return None


def _devices(value):
    from mlpkit.distribution import devices_value

    return devices_value(value)


def _is_size(v: str) -> bool:
    parts = v.lower().split("x")
    return len(parts) == 2 and all(p.isdigit() and int(p) > 0 for p in parts)


# what a value of the wrong type is told: `epochs = "ten"` "must be an integer"
TYPE_RULES = {int: "must be an integer", float: "must be a number", str: "must be a string"}


def _number(kind: type, value: Any) -> int | float | None:
    """``value`` as ``kind`` (int or float); ``None`` when it is of another type
    ("ten", true, or 2.5 for an integer)."""
    if isinstance(value, bool) or (kind is int and isinstance(value, float)
                                   and not value.is_integer()):
        return None
    try:
        return kind(value)
    except (TypeError, ValueError, OverflowError):
        return None


def _whole(v) -> int:
    """A whole number from a list setting: 16, 16.0 or "16"; never 16.9 or true."""
    if isinstance(v, bool) or (isinstance(v, float) and not v.is_integer()):
        raise ValueError(f"not a whole number: {v!r}")
    return int(v)


def check_value(name: str, value: Any) -> Any:
    """Coerce ``value`` to the type declared for ``name`` and check its range.

    Returns:
        The coerced value.

    Raises:
        ConfigError: "learning_rate must be > 0. Received: learning_rate=-1"; a value
            of the wrong type: "epochs must be an integer. Received: epochs='ten'".
    """
    if name not in CONSTRAINTS:
        return value
    kind, test, rule = CONSTRAINTS[name]
    received = value
    if name == "image_size" and isinstance(value, (tuple, list)) and len(value) == 2:
        value = "x".join(map(str, value))  # (height, width), as "HxW"
    elif name == "optimizer" and isinstance(value, str):
        value = value.strip().lower()  # "SGD", "Adam": as Keras's class names write them
    elif name == "image_size" and not isinstance(value, bool) and str(value).strip().isdigit():
        value = f"{str(value).strip()}x{str(value).strip()}"  # 28: a square, 28x28
    try:
        if kind is list:  # names: "a,b" (a name holding a comma quoted: '"a, b",c') or a list
            if isinstance(value, str):
                value = [v for v in split_names(value) if v]
            value = tuple(str(v) for v in value)
        elif kind is dict:  # "col=type,col2=type" ('"a, b"=category' quoted) or a mapping
            if isinstance(value, str):
                # the type is after the last "=": a column may be named "a=b"
                value = dict(item.rsplit("=", 1) for item in split_names(value) if item)
            value = {str(k).strip(): str(v).strip() for k, v in value.items()}
        elif kind is tuple:
            if isinstance(value, str):
                value = [v for v in value.replace(" ", "").split(",") if v]
            elif isinstance(value, numbers.Integral) and not isinstance(value, bool):
                value = [value]  # hidden=32: one layer of 32, as scikit-learn takes it
            value = tuple(_whole(v) for v in value)
        elif kind in (int, float):
            value = _number(kind, value)
        elif kind is str and isinstance(value, os.PathLike):
            value = os.fspath(value)
        elif kind is bool and isinstance(value, str):
            value = {"true": True, "false": False}.get(value.lower(), value)
        elif not isinstance(kind, type):  # a converter: the value, or None when it is not one
            value = kind(value)
        if value is None or (kind is str and not isinstance(value, str)):
            shown = list(received) if isinstance(received, tuple) else received
            raise ConfigError(f"{name} {TYPE_RULES.get(kind, rule)}. "
                              f"Received: {name}={shown!r}")
        ok = test(value)
    except (TypeError, ValueError) as e:
        if isinstance(e, ConfigError):
            raise
        ok = False
    if not ok:  # lists as the config file writes them: [300, 100], not (300, 100)
        shown = list(value) if isinstance(value, tuple) else value
        raise ConfigError(f"{name} {rule}. Received: {name}={shown!r}")
    return value


def _section(cls, values: dict, where: str):
    names = {f.name for f in dataclasses.fields(cls)}
    for key in values:
        if key not in names:
            home = [s for s, c in SECTIONS.items()
                    if s != where and key in {f.name for f in dataclasses.fields(c)}]
            hint = (f" {key!r} belongs in [{home[0]}]." if home
                    else did_you_mean(key, names))
            raise ConfigError(
                f"unknown key {key!r} in [{where}].{hint} "
                f"Known keys: {', '.join(sorted(names))}"
            )
    return {k: check_value(k, v) for k, v in values.items()}


def merge(config: RunConfig, values: dict) -> RunConfig:
    """Return ``config`` with the sections in ``values`` (a TOML-shaped dict) applied."""
    changes: dict[str, Any] = {}
    for key, value in values.items():
        if key == "preset":
            changes["preset"] = str(value)
            continue
        if key not in SECTIONS:
            if key in SETTING_SECTION:  # a setting written before any section
                raise ConfigError(f"{key!r} must be under [{SETTING_SECTION[key]}] (a setting "
                                  f"outside a section). Received: {key}={value!r}")
            raise ConfigError(
                f"unknown section [{key}].{did_you_mean(key, SECTIONS)} "
                f"Known sections: {', '.join(SECTIONS)}"
            )
        if not isinstance(value, dict):
            raise ConfigError(f"[{key}] must be a table of settings. Received: {key}={value!r}")
        checked = _section(SECTIONS[key], value, key)
        changes[key] = dataclasses.replace(getattr(config, key), **checked)
    return dataclasses.replace(config, **changes)


def read_toml(path: str | Path) -> dict:
    path = Path(path)
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}. Check the path.") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"config file {path} is not valid TOML: {e}") from None


def presets(dataset: str) -> list[str]:
    """Names of the presets shipped for ``dataset``."""
    folder = resources.files("mlpkit") / "presets"
    prefix = f"{dataset}."
    return sorted(
        p.name[len(prefix):-len(".toml")]
        for p in folder.iterdir()
        if p.name.startswith(prefix) and p.name.endswith(".toml")
    )


def preset_family(dataset: str) -> str:
    """Which presets apply: a built-in data set's own, "images" or "table" for files."""
    if dataset in DATASETS:
        return dataset
    path = Path(dataset)
    if path.is_dir():
        return "images"
    if path.is_file():
        if path.suffix.lower() == ".npz":
            import numpy as np

            try:
                with np.load(path, allow_pickle=False) as f:
                    ndim = len(f["x_train"].shape) if "x_train" in f.files else 2
            except Exception:  # the loader reports a bad file properly
                ndim = 2
            return "images" if ndim >= 3 else "table"
        return "table"
    if path.suffix or os.sep in dataset or "/" in dataset:  # meant as a file or a folder
        raise ConfigError(f"{dataset} not found (from {os.getcwd()}). Check the path; built-in "
                          f"data sets: {', '.join(DATASETS)}.")
    raise ConfigError(
        f"unknown data set {dataset!r}.{did_you_mean(dataset, DATASETS)} Known data sets: "
        f"{', '.join(DATASETS)}, or pass the path of a CSV/Parquet table, an .npz file or "
        "an image folder"
    )


def preset_values(dataset: str, preset: str, family: str | None = None) -> dict:
    family = family or preset_family(dataset)
    known = presets(family)
    if preset not in known:
        raise ConfigError(
            f"unknown preset {preset!r} for {dataset}.{did_you_mean(preset, known)} "
            f"Known presets: {', '.join(known)}"
        )
    text = (resources.files("mlpkit") / "presets" / f"{family}.{preset}.toml").read_text()
    return tomllib.loads(text)


# setting name -> config section, e.g. "epochs" -> "training"
SETTING_SECTION = {f.name: section for section, cls in SECTIONS.items()
                   for f in dataclasses.fields(cls) if f.name != "name"}


def group(settings: dict) -> dict[str, dict]:
    """Flat settings (``epochs=5``) grouped into config sections (``{"training": ...}``);
    ``None`` values (a flag not given) are dropped.

    Raises:
        ConfigError: an unknown setting, with the closest known one.
    """
    out: dict[str, dict] = {}
    for key, value in settings.items():
        if key not in SETTING_SECTION:
            raise ConfigError(f"unknown setting {key!r}.{did_you_mean(key, SETTING_SECTION)} "
                              f"Known settings: {', '.join(sorted(SETTING_SECTION))}")
        if value is not None:
            if isinstance(value, os.PathLike):
                value = os.fspath(value)
            out.setdefault(SETTING_SECTION[key], {})[key] = value
    return out


def resolve(
    dataset: str | None = None,
    preset: str | None = None,
    config_file: str | Path | None = None,
    *,
    family: str | None = None,
    **settings,
) -> RunConfig:
    """Build a validated ``RunConfig``: the one place settings are resolved, for the
    command line, the Python API and everything else.

    Order, later winning: the dataclass defaults, the preset, the config file, the
    settings given here (the command line's flags, ``mlpkit.train``'s keywords).

    Args:
        dataset: data set name or path; may come from the config file instead.
        preset: preset name; default "seed", or the one the config file names.
        config_file: a TOML file with [data], [model], [training], [output].
        family: the presets to use ("images" or "table") for data that is neither a
            built-in data set nor a path that exists: a ``Dataset`` made in memory, or
            a run whose data file has moved since. Its name is then not checked.
        **settings: any setting by name (``epochs=5``); ``None`` means "not given".

    Raises:
        ConfigError: on unknown names or out-of-range values.
    """
    overrides = group(settings)
    file_values = read_toml(config_file) if config_file else {}
    for key, value in file_values.items():
        if key in SECTIONS and not isinstance(value, dict):
            raise ConfigError(f"[{key}] must be a table of settings. Received: {key}={value!r}")
    if file_values.get("data"):
        _beside(file_values["data"], Path(config_file).resolve().parent)
    dataset = os.fspath(dataset) if dataset else None
    dataset = dataset or file_values.get("data", {}).get("name") or "fashion-mnist"
    preset = preset or file_values.get("preset") or "seed"
    if dataset not in DATASETS and Path(dataset).exists():
        dataset = str(Path(dataset).resolve())  # config.toml must work from any folder
    for values in (overrides, file_values):  # so must a separate validation file
        section = values.get("data")
        given = section.get("validation_data") if isinstance(section, dict) else None
        if isinstance(given, (str, os.PathLike)) and Path(os.fspath(given)).exists():
            section["validation_data"] = str(Path(os.fspath(given)).resolve())
    unchecked = family is not None and dataset not in DATASETS and not Path(dataset).exists()
    config = RunConfig()
    config = merge(config, preset_values(dataset, preset, family if unchecked else None))
    config = merge(config, {"preset": preset, "data": {} if unchecked else {"name": dataset}})
    if file_values:
        file_values = {k: v for k, v in file_values.items() if k != "preset"}
        file_values.setdefault("data", {})["name"] = dataset
        if unchecked:
            del file_values["data"]["name"]
        config = merge(config, file_values)
    if overrides:
        config = merge(config, overrides)
    if unchecked:  # a name, not a file mlpkit reads
        config = dataclasses.replace(config, data=dataclasses.replace(config.data, name=dataset))
    if config.model.members > 1 and config.training.engine == "keras":
        raise ConfigError("an ensemble (members > 1) trains in mlpkit's jitted loop, each "
                          "member on its own loss; Keras's fit would fit their mean. Set "
                          f"engine = auto or members = 1. Received: members="
                          f"{config.model.members}, engine='keras'")
    if config.training.train_on_validation and config.training.patience:
        given = any("patience" in v.get("training", {}) for v in (overrides, file_values))
        preset_s = "" if given else ", the preset's"
        raise ConfigError(f"train_on_validation leaves no validation rows for early stopping "
                          f"(patience {config.training.patience}{preset_s}): set "
                          "patience = 0 (--patience 0) and the epochs chosen on the validation "
                          "rows, or drop train_on_validation")
    return config


def _beside(data: dict, folder: Path) -> None:
    """A config file's relative data paths, taken from its own folder where they exist
    there (else from the current folder, as before): ``--config project/run.toml`` with
    ``name = "houses.csv"`` reads ``project/houses.csv``."""
    for key in ("name", "validation_data", "data_dir"):
        value = data.get(key)
        if (not isinstance(value, str) or not value or value in DATASETS
                or Path(value).is_absolute()):
            continue
        if (folder / value).exists():
            data[key] = str(folder / value)
        elif not Path(value).exists() and (key != "name" or Path(value).suffix or "/" in value):
            raise ConfigError(f"[data] {key} = {value!r} not found beside the config file "
                              f"({folder}) nor in the current folder ({os.getcwd()}). Check "
                              "the path, or give it in full.")


def to_dict(config: RunConfig) -> dict:
    """TOML-shaped dict, without ``None`` values (TOML has no null)."""
    out: dict[str, Any] = {"preset": config.preset}
    for name in SECTIONS:
        section = dataclasses.asdict(getattr(config, name))
        out[name] = {
            k: list(v) if isinstance(v, tuple) else v for k, v in section.items() if v is not None
        }
    return out


def to_toml(config: RunConfig) -> str:
    import tomli_w

    return tomli_w.dumps(to_dict(config))
