"""The `best` presets and the time-to-0.90 `sprint` preset, over SEEDS (mean and spread).

Each run is the real command, `mlpkit train DATA --preset NAME --seed S`, and reads its
run folder: the test figure (metrics.json), the fit seconds (manifest.json) and, for the
sprint, the epoch and second at which the validation accuracy first reached 0.90
(history.csv). The presets were chosen on validation data by `mlpkit tune` (the
studies are summarized in benchmarks/search/); these seeds only measure them.
The anchors are the figures the goals are set against (issue 10).

    python benchmarks/bench_best.py [best-fashion|sprint|best-housing|best-fashion-lecture-rows ...]
"""

from __future__ import annotations

import csv
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

from common import emit, load_average, mlpkit_cmd, run

SEEDS = (42, 43, 44)
HERE = Path(__file__).resolve().parent


def train(dataset: str, preset: str, seed: int, *flags: str) -> dict:
    """One run of the preset (with these flags); its figures."""
    folder = Path(tempfile.mkdtemp(prefix="mlpkit-best-")) / "run"
    load = [load_average()]
    wall, _, _ = run(mlpkit_cmd("train", dataset, "--preset", preset, "--seed", seed,
                                "--out", folder, "--verbose", "0", *flags), timeout=3600)
    load.append(load_average())
    manifest = json.loads((folder / "manifest.json").read_text())
    metrics = json.loads((folder / "metrics.json").read_text())
    history = list(csv.DictReader(open(folder / "history.csv")))
    out = {"seed": seed, "fit_seconds": manifest["timings"]["fit_seconds"],
           "command_seconds": round(wall, 2), "epochs": len(history),
           "load_average": load, **{k.removeprefix("test_"): round(v, 4)
                                    for k, v in metrics.items() if k != "test_loss"}}
    if "val_accuracy" in history[0]:
        out["val_accuracy"] = round(float(history[-1]["val_accuracy"]), 4)
        first = next((r for r in history if float(r["val_accuracy"]) >= 0.90), None)
        out["val_0.90_epoch"] = int(first["epoch"]) if first else None
        out["val_0.90_seconds"] = round(float(first["elapsed_seconds"]), 2) if first else None
    elif "val_rmse" in history[0]:  # (none with train_on_validation: those rows were fitted)
        out["val_rmse"] = round(float(history[-1]["val_rmse"]), 4)
    return out


def preset_settings(dataset: str, preset: str) -> dict:
    from mlpkit import config as cfg

    c = cfg.resolve(dataset, preset)
    m, t = c.model, c.training
    return {"hidden": list(m.hidden), "members": m.members, "activation": m.activation,
            "dropout": m.dropout,
            "embedding": m.embedding, "random_flip": m.random_flip,
            "random_shift": m.random_shift, "coordinates": list(m.coordinates),
            "coordinate_rotations": m.coordinate_rotations, "optimizer": t.optimizer,
            "learning_rate": t.learning_rate, "weight_decay": t.weight_decay,
            "label_smoothing": t.label_smoothing,
            "schedule": t.schedule, "epochs": t.epochs, "batch_size": t.batch_size,
            "train_on_validation": t.train_on_validation}


def search_record(*names: str) -> list[dict]:
    """How the preset was found: the studies' summaries in benchmarks/search/."""
    out = []
    for name in names:
        s = json.loads((HERE / "search" / f"{name}.study.json").read_text())
        out.append({"study": s["study"], "trials": s["trials"], "metric": s["metric"],
                    "best_trial": s.get("best", {}).get("number"),
                    "best_validation": s.get("best", {}).get(s["metric"])})
    return out


def spread(values) -> dict:
    return {"mean": round(statistics.mean(values), 4), "min": min(values), "max": max(values),
            "std": round(statistics.stdev(values), 4) if len(values) > 1 else 0.0}


def measure(dataset, preset, seeds, *flags):
    runs = [train(dataset, preset, s, *flags) for s in seeds]
    load = [x for r in runs for x in r.pop("load_average")]
    return runs, load


def best_fashion(seeds=SEEDS) -> dict:
    runs, load = measure("fashion-mnist", "best", seeds)
    valid = [r["val_accuracy"] for r in runs if "val_accuracy" in r]
    acc = spread([r["accuracy"] for r in runs])
    fit = max(r["fit_seconds"] for r in runs)
    return emit({
        "figure": "best_preset_fashion_mnist", "title": "`fashion-mnist --preset best`",
        "goal": "test accuracy >= 0.92 (mean of 3 seeds), a pure MLP, fit <= 15 min on 2 cores",
        "holds": {"accuracy": acc["mean"] >= 0.92, "fit": fit <= 900},
        "preset": preset_settings("fashion-mnist", "best"), "runs": runs,
        "test_accuracy": acc, "validation_accuracy": spread(valid) if valid else None,
        "search": search_record("fashion-mnist"),
        "anchors": {"zalando_benchmark_mlp": 0.8833, "lecture_model": 0.886},
    }, load)


def best_fashion_lecture_rows(seeds=SEEDS) -> dict:
    """The `best` preset fitted on the lecture's 55,000 training rows alone (its
    validation rows watched, not fitted): the figure before train_on_validation."""
    runs, load = measure("fashion-mnist", "best", seeds, "--no-train-on-validation")
    acc = spread([r["accuracy"] for r in runs])
    return emit({
        "figure": "best_preset_fashion_mnist_lecture_rows",
        "title": "`fashion-mnist --preset best --no-train-on-validation`",
        "goal": "the same figures fitted on the lecture's 55,000 training rows alone",
        "holds": {"accuracy": acc["mean"] >= 0.92,
                  "fit": max(r["fit_seconds"] for r in runs) <= 900},
        "preset": {**preset_settings("fashion-mnist", "best"), "train_on_validation": False},
        "runs": runs, "test_accuracy": acc,
        "validation_accuracy": spread([r["val_accuracy"] for r in runs]),
        "anchors": {"zalando_benchmark_mlp": 0.8833, "lecture_model": 0.886},
    }, load)


def sprint_fashion(seeds=SEEDS) -> dict:
    runs, load = measure("fashion-mnist", "sprint", seeds)
    acc = spread([r["accuracy"] for r in runs])
    return emit({
        "figure": "sprint_preset_fashion_mnist", "title": "`fashion-mnist --preset sprint`",
        "goal": "test accuracy >= 0.90 within 30 s of fit on 2 cores (every seed)",
        "holds": {"accuracy": min(r["accuracy"] for r in runs) >= 0.90,
                  "fit": max(r["fit_seconds"] for r in runs) <= 30},
        "preset": preset_settings("fashion-mnist", "sprint"), "runs": runs,
        "test_accuracy": acc, "validation_accuracy": spread([r["val_accuracy"] for r in runs]),
        "fit_seconds": spread([r["fit_seconds"] for r in runs]),
        "search": search_record("fashion-mnist-sprint", "fashion-mnist-sprint-2"),
    }, load)


def best_housing(seeds=SEEDS) -> dict:
    runs, load = measure("california-housing", "best", seeds)
    rmse = spread([r["rmse"] for r in runs])
    return emit({
        "figure": "best_preset_california_housing", "title": "`california-housing --preset best`",
        "goal": "test RMSE <= 0.44 (mean of 3 seeds), an MLP-family Keras model",
        "holds": rmse["mean"] <= 0.44,
        "preset": preset_settings("california-housing", "best"), "runs": runs,
        "test_rmse": rmse, "validation_rmse": spread([r["val_rmse"] for r in runs]),
        "search": search_record("california-housing", "california-housing-2"),
        "anchors": {"lecture_model": 0.52, "tuned_hist_gradient_boosting": 0.454},
    }, load)


JOBS = {"best-fashion": best_fashion, "sprint": sprint_fashion, "best-housing": best_housing,
        "best-fashion-lecture-rows": best_fashion_lecture_rows}


def main(names=None) -> list[dict]:
    os.environ.setdefault("KERAS_BACKEND", "jax")
    return [JOBS[n]() for n in (names or JOBS)]


if __name__ == "__main__":
    main(sys.argv[1:] or None)
