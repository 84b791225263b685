"""Choose an ensemble's size for a preset on validation data, never on the test set.

For one preset (``best-housing``: california-housing best, ``best-fashion``:
fashion-mnist best), trains the preset with ``members`` = each of its MEMBERS (an ensemble
of that many MLPs of the preset's spec, each trained on its own loss, averaged: see
``models.build_mlp``) at SEED (1: not one of the seeds bench_best.py measures), and
scores each only on the validation rows. The test rows are dropped right after
loading, before any model exists.

The rule, fixed before it ran: among the sizes whose fit took at most BUDGET_SECONDS
(the issue's 15 minutes of training on 2 cores), the best validation figure wins; a
size that is not better than a smaller one by at least MIN_GAIN (accuracy points or
RMSE) does not win over it (fit time counts too).

Prints one line per size and the chosen one, and records them as the
``members_selection_<preset>`` figure in ``benchmarks/results.jsonl``. The chosen
size goes into the preset's TOML by hand, with a comment; bench_best.py then measures
the preset's test figure over its seeds.

    python benchmarks/select_members.py best-housing|best-fashion [SIZES, e.g. 1,3,5]
"""

from __future__ import annotations

import dataclasses
import sys
import time

import numpy as np

import mlpkit
from common import emit, load_average

import keras  # noqa: E402

from mlpkit import config as cfg  # noqa: E402
from mlpkit import jax_loop, training  # noqa: E402

PRESETS = {"best-housing": ("california-housing", "best", "val_rmse"),
           "best-fashion": ("fashion-mnist", "best", "val_accuracy")}
# sizes tried; housing's 8 and 12 were added after 1, 3 and 5 had run, the validation
# RMSE still falling at 5 (fashion's one member takes 2-6 min: 8 would be over budget)
MEMBERS = {"best-housing": (1, 3, 5, 8, 12), "best-fashion": (1, 3, 5)}
SEED = 1
BUDGET_SECONDS = 15 * 60
MIN_GAIN = 0.001


def without_test(dataset: str):
    """The dataset's training and validation rows; the test rows are dropped here."""
    ds = mlpkit.load_dataset(dataset)
    none = np.zeros((0, *ds.x_train.shape[1:]), ds.x_train.dtype)
    return dataclasses.replace(ds, x_test=none, y_test=np.zeros((0,), ds.y_train.dtype))


def one_run(ds, dataset: str, preset: str, seed: int = SEED, **settings) -> dict:
    """Build, compile and fit ``preset`` with ``settings`` (e.g. ``members=3``) as ``mlpkit
    train`` does, at ``seed``; the settings and the validation figures."""
    c = cfg.resolve(dataset, preset, seed=seed, **settings)
    keras.utils.set_random_seed(seed)
    model = training.build_model(ds, c)
    training.compile_model(model, ds.task, c.training, len(ds.x_train), ds.one_hot)
    t = time.perf_counter()
    history = training.fit(model, ds, c.training, None, verbose=0)
    return {**settings, "fit_seconds": round(time.perf_counter() - t, 1),
            "params": model.count_params(),
            **{k: round(float(v[-1]), 5) for k, v in history.history.items()
               if k.startswith("val_")}}


def against_the_preset(ds, candidates, base: dict, runs=(), load=()) -> tuple:
    """Fit fashion-mnist's `best` preset with each of ``candidates`` (settings) at SEED,
    scored on the validation images, and apply the rule of select_fashion_ensemble.py
    and select_fashion_width.py: among the runs (``runs``, earlier ones, included) whose
    fit took at most BUDGET_SECONDS, the highest validation accuracy, kept only where it
    beats ``base`` (the preset's run) by at least MIN_GAIN.

    Returns ``(runs, load averages, the chosen run or base)``."""
    runs, load = list(runs), list(load)
    for settings in candidates:
        load.append(load_average())
        r = one_run(ds, "fashion-mnist", "best", **settings)
        runs.append({**settings, **{k: r[k] for k in ("fit_seconds", "val_accuracy")}})
        print(runs[-1], flush=True)
    load.append(load_average())
    within = [r for r in runs if r["fit_seconds"] <= BUDGET_SECONDS]
    best = max(within, key=lambda r: r["val_accuracy"]) if within else base
    chosen = best if best["val_accuracy"] - base["val_accuracy"] >= MIN_GAIN else base
    print("chosen:", chosen, flush=True)
    return runs, load, chosen


def selection(figure: str, title: str, candidates, base: dict, runs=(), load=()) -> dict:
    """A whole selection of fashion-mnist's `best` preset (select_fashion_*.py): fit
    each of ``candidates`` with the test images dropped (``against_the_preset``), and
    record the runs and the choice as ``figure`` in ``benchmarks/results.jsonl``."""
    from mlpkit import jax_loop

    jax_loop.enable_compilation_cache()
    ds = without_test("fashion-mnist")
    assert len(ds.x_test) == 0
    print("the preset:", base, flush=True)
    runs, load, chosen = against_the_preset(ds, candidates, base, runs, load)
    return emit({
        "figure": figure, "title": f"{title} of `fashion-mnist --preset best`, chosen on "
                                   "validation data",
        "goal": f"best val_accuracy at seed {SEED} with fit <= {BUDGET_SECONDS} s; a change "
                f"must gain >= {MIN_GAIN} over the preset",
        "holds": True, "seed": SEED, "baseline": base, "runs": runs, "chosen": chosen,
        "train_rows": len(ds.x_train), "validation_rows": len(ds.x_valid),
    }, load)


def choose(runs: list[dict], metric: str) -> dict | None:
    """The rule in the module docstring."""
    sign = -1 if metric == "val_accuracy" else 1  # lower is better for RMSE
    chosen = None
    for r in sorted((r for r in runs if r["fit_seconds"] <= BUDGET_SECONDS),
                    key=lambda r: r["members"]):
        if chosen is None or sign * (chosen[metric] - r[metric]) >= MIN_GAIN:
            chosen = r
    return chosen


def main(name: str, sizes=None) -> dict:
    dataset, preset, metric = PRESETS[name]
    sizes = sizes or MEMBERS[name]
    jax_loop.enable_compilation_cache()
    ds = without_test(dataset)
    assert len(ds.x_test) == 0
    runs, load = [], []
    for members in sizes:
        load.append(load_average())
        r = one_run(ds, dataset, preset, members=members)
        load.append(load_average())
        runs.append(r)
        print(f"{name} members {members}: {metric} {r[metric]:.4f}  fit {r['fit_seconds']} s",
              flush=True)
    chosen = choose(runs, metric)
    print("chosen:", chosen, flush=True)
    return emit({
        "figure": f"members_selection_{name.replace('-', '_')}",
        "title": f"ensemble size of `{dataset} --preset {preset}`, chosen on validation data",
        "goal": f"best {metric} at seed {SEED} with fit <= {BUDGET_SECONDS} s; a larger "
                f"ensemble must gain >= {MIN_GAIN}",
        "holds": chosen is not None, "seed": SEED, "metric": metric, "runs": runs,
        "chosen_members": chosen and chosen["members"],
        "train_rows": len(ds.x_train), "validation_rows": len(ds.x_valid),
    }, load)


if __name__ == "__main__":
    sizes = tuple(int(s) for s in sys.argv[2].split(",")) if len(sys.argv) > 2 else None
    main(sys.argv[1], sizes)
