"""The search space of ``mlpkit tune``: the lecture's list, and a ``[tune]`` table over it.

A dimension is a ``Param``: a choice, an integer or float range (log-uniform where
asked), or a fixed value (narrowing the search). ``suggest`` turns one Optuna trial's
draws into the ``RunConfig`` it trains; settings that only mean something with one
optimizer or embedding (``ONLY_WHEN``) are drawn only then, so the sampler never wastes
trials on them.
"""

from __future__ import annotations

import dataclasses

from mlpkit import config as cfg
from mlpkit.errors import ConfigError

DEFAULT_SPACE = {
    "learning_rate": {"low": 1e-4, "high": 1e-1, "log": True},
    "optimizer": ["sgd", "adam", "adamw", "rmsprop", "nadam"],
    "layers": {"low": 1, "high": 4},
    "units": {"low": 16, "high": 512, "log": True},
    "activation": ["relu", "elu", "selu", "tanh"],
    "batch_size": [32, 64, 128, 256],
    "dropout": {"low": 0.0, "high": 0.5},
}
# a setting searched only where it means something
ONLY_WHEN = {"momentum": ("optimizer", "sgd"), "nesterov": ("optimizer", "sgd"),
             "weight_decay": ("optimizer", "adamw"),
             "embedding_size": ("embedding", "periodic"),
             "embedding_sigma": ("embedding", "periodic"),
             "coordinate_rotations": ("coordinates", bool)}  # a test: any coordinates
NOT_SEARCHED = {"seed", "engine", "checkpoint_steps", "steps_per_execution", "class_weight",
                "devices"}


@dataclasses.dataclass(frozen=True)
class Param:
    """One dimension of the space: ``kind`` "categorical" (``choices``), "float" or
    "int" (``low``, ``high``, ``log``, ``step``), or "fixed" (``value``: not searched)."""

    kind: str
    choices: tuple = ()
    low: float = 0
    high: float = 0
    log: bool = False
    step: float | None = None
    value: object = None


def _setting_kind(name: str) -> type:
    if name in ("layers", "units"):
        return int
    return cfg.CONSTRAINTS[name][0] if name in cfg.CONSTRAINTS else str


def _check(name: str, value):
    if name in ("layers", "units"):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"[tune] {name} must be whole numbers >= 1. "
                              f"Received: {name}={value!r}")
        return value
    if name == "coordinates" and value == "none":  # a choice without them
        value = ""
    return cfg.check_value(name, value)


def parse_space(values: dict) -> dict[str, Param]:
    """The ``[tune]`` table of a config file (merged over ``DEFAULT_SPACE``) as ``Param``s.

    Each key is a ``[model]`` or ``[training]`` setting, or ``layers`` / ``units`` (the
    number of hidden layers and the units of each); its value is a list (choices), a
    table ``{low, high, log, step}`` (a range: integers for integer settings), or a
    single value (fixed: narrows the search); ``false`` removes a default dimension.

    Raises:
        ConfigError: an unknown setting, or a value its setting refuses.
    """
    known = {f.name for s in ("model", "training") for f in
             dataclasses.fields(cfg.SECTIONS[s])} - NOT_SEARCHED - {"hidden"}
    out: dict[str, Param] = {}
    for name, spec in values.items():
        if name not in known | {"layers", "units", "hidden"}:
            from mlpkit.errors import did_you_mean

            raise ConfigError(f"unknown key {name!r} in [tune].{did_you_mean(name, known)} "
                              "Search [model] and [training] settings, or layers and units.")
        if spec is False and _setting_kind(name) is not bool:
            continue
        if isinstance(spec, list):
            if not spec:
                raise ConfigError(f"[tune] {name} lists no choices. Received: {name}=[]")
            if name == "coordinates" and all(isinstance(c, str) and "," not in c
                                             for c in spec):  # one pair of names: fixed
                out[name] = Param("fixed", value=_check(name, spec))
                continue
            if name in ("hidden", "coordinates"):  # as text: Optuna's choices are plain values
                choices = tuple(",".join(map(str, _check(name, c))) or "none" for c in spec)
            else:
                choices = tuple(_check(name, c) for c in spec)
            out[name] = Param("categorical", choices=choices)
        elif isinstance(spec, dict):
            unknown = set(spec) - {"low", "high", "log", "step"}
            if unknown or not {"low", "high"} <= set(spec):
                raise ConfigError(f"[tune] {name} must be a list of choices, a value, or "
                                  f"{{low, high, log, step}}. Received: {name}={spec!r}")
            kind = _setting_kind(name)
            if kind not in (int, float):
                raise ConfigError(f"[tune] {name} takes choices, not a range. "
                                  f"Received: {name}={spec!r}")
            low, high = _check(name, spec["low"]), _check(name, spec["high"])
            if not low < high:
                raise ConfigError(f"[tune] {name}: low must be < high. Received: {name}={spec!r}")
            log_scale = bool(spec.get("log", False))
            if log_scale and low <= 0:
                raise ConfigError(f"[tune] {name}: a log range needs low > 0. "
                                  f"Received: {name}={spec!r}")
            out[name] = Param("int" if kind is int else "float", low=low, high=high,
                              log=log_scale, step=spec.get("step"))
        else:
            out[name] = Param("fixed", value=_check(name, spec))
    if "hidden" in out and ({"layers", "units"} & set(out)):
        for key in ("layers", "units"):
            out.pop(key, None)  # hidden names whole architectures
    return out


def space_from(tune_table: dict | None) -> dict[str, Param]:
    """``DEFAULT_SPACE`` with a config file's ``[tune]`` table over it."""
    values = dict(DEFAULT_SPACE)
    table = dict(tune_table or {})
    if "hidden" in table:
        values.pop("layers")
        values.pop("units")
    values.update(table)
    return parse_space(values)


def space_toml(space: dict[str, Param]) -> dict:
    """A space as a ``[tune]`` table again (written to the study folder)."""
    out = {}
    for name, p in space.items():
        if p.kind == "categorical":
            out[name] = list(p.choices)
        elif p.kind == "fixed":
            out[name] = list(p.value) if isinstance(p.value, tuple) else p.value
        else:
            out[name] = {"low": p.low, "high": p.high, "log": p.log,
                         **({"step": p.step} if p.step else {})}
    return {"tune": out}


def fixed_settings(space: dict[str, Param]) -> dict:
    """The settings a space fixes (they go into every trial's config)."""
    out = {n: p.value for n, p in space.items() if p.kind == "fixed" and n not in ("layers",
                                                                                   "units")}
    return out


def suggest(trial, space: dict[str, Param], base: cfg.RunConfig) -> cfg.RunConfig:
    """The config of one trial: ``base`` with the trial's draws from ``space``."""
    settings: dict = {}

    def draw(name: str, p: Param):
        if p.kind == "fixed":
            return p.value
        if p.kind == "categorical":
            return trial.suggest_categorical(name, list(p.choices))
        if p.kind == "int":
            return trial.suggest_int(name, int(p.low), int(p.high), log=p.log,
                                     step=int(p.step or 1))
        return trial.suggest_float(name, p.low, p.high, log=p.log, step=p.step)

    order = [n for n in space if n not in ("layers", "units")]
    drawn = {}
    for name in sorted(order, key=lambda n: n in ONLY_WHEN):  # conditions are drawn first
        p = space[name]
        if name in ONLY_WHEN:
            key, wanted = ONLY_WHEN[name]
            current = drawn.get(key, getattr(getattr(base, cfg.SETTING_SECTION[key]), key))
            if not (wanted(current) if callable(wanted) else current == wanted):
                continue
        drawn[name] = draw(name, p)
        if name == "coordinates":  # drawn as text; "none": without
            drawn[name] = _check(name, drawn[name])
    if "hidden" in drawn:
        drawn["hidden"] = cfg.check_value("hidden", drawn["hidden"])
    elif "layers" in space or "units" in space:
        layers = draw("layers", space["layers"]) if "layers" in space else len(base.model.hidden)
        units = space.get("units")
        drawn["hidden"] = tuple(
            draw(f"units_{i + 1}", units) if units else base.model.hidden[
                min(i, len(base.model.hidden) - 1)] for i in range(layers))
    settings.update(drawn)
    return cfg.merge(base, cfg.group(settings))


def check_for_data(space: dict[str, Param], ds, model: cfg.ModelConfig,
                   target: str | None = None) -> None:
    """Refuse, before any trial, a space that draws image augmentation the data cannot
    take (a table, or shifts as large as the images), or coordinates that are not two
    of its numeric columns, rather than fail trials later.

    Raises:
        ConfigError: naming the ``[tune]`` setting and what the data is.
    """
    x_train = ds.x_train

    def values(p: Param) -> list:
        if p.kind == "fixed":
            return [p.value]
        return list(p.choices) if p.kind == "categorical" else [p.low, p.high]

    def drawn(name: str) -> list:  # the values trials can take; the base's if not searched
        p = space.get(name, Param("fixed", value=getattr(model, name)))
        return [v for v in values(p) if v not in ("none", 0)]

    flips, shifts = drawn("random_flip"), drawn("random_shift")
    images = 3 <= x_train.ndim <= 4
    if (flips or shifts) and not images:
        name = "random_flip" if flips else "random_shift"
        where = ("the [tune] table" if name in space else
                 f"the settings (--{name.replace('_', '-')} or [model] {name})")
        raise ConfigError(f"{name} augments images; this data is feature vectors (rows of "
                          f"{x_train.shape[1:]}): remove {name} from {where}. "
                          f"Received: {name}={(flips or shifts)[0]!r}")
    if shifts and max(shifts) >= min(x_train.shape[1:3]):
        raise ConfigError(f"random_shift must stay smaller than the images "
                          f"({x_train.shape[1]}x{x_train.shape[2]} pixels). Received: "
                          f"random_shift up to {max(shifts)}")
    for pair in drawn("coordinates"):
        if pair:
            from mlpkit import training  # Keras: loaded by then, for the trials

            training.coordinate_columns(ds, dataclasses.replace(
                model, coordinates=_check("coordinates", pair)),
                training.categorical_columns(ds), target)


def resolve(dataset=None, preset: str | None = None, config_file=None,
            **settings) -> tuple[cfg.RunConfig, dict[str, Param]]:
    """The settings trials start from and the space they draw from: ``config.resolve``
    of the preset, the config file without its ``[tune]`` table, and ``settings``; the
    values the ``[tune]`` table fixes go into the settings too."""
    import tempfile
    from pathlib import Path

    import tomli_w

    dataset = str(dataset) if dataset else None
    file_values = cfg.read_toml(config_file) if config_file else {}
    if "tune" in file_values:  # the search space: not a setting of a run
        with tempfile.TemporaryDirectory(prefix="mlpkit-tune-") as tmp:
            rest = Path(tmp) / "base.toml"
            rest.write_text(tomli_w.dumps({k: v for k, v in file_values.items()
                                           if k != "tune"}))
            base = cfg.resolve(dataset, preset, rest, **settings)
    else:
        base = cfg.resolve(dataset, preset, config_file, **settings)
    space = space_from(file_values.get("tune"))
    # an option given for a run (--hidden 16, learning_rate=...) holds in every trial
    given = {k for k, v in settings.items() if v is not None}
    held = [n for n in space if n in given or (n in ("layers", "units") and "hidden" in given)]
    for name in held:
        del space[name]
    if held:
        import logging

        logging.getLogger("mlpkit").info(
            f"not searched, set by an option: {', '.join(held)} (drop the option to search it)")
    fixed = fixed_settings(space)
    return (cfg.merge(base, cfg.group(fixed)) if fixed else base), space
