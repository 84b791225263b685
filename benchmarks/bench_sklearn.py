"""scikit-learn's ``MLPRegressor`` against ``mlpkit.sklearn.MLPRegressor`` in the
lecture's pipeline, ``make_pipeline(StandardScaler(), MLPRegressor(hidden_layer_sizes=
[50, 50, 50], random_state=42))``, on the lecture's California housing split. Both
sides are measured in this one run, alternating.

Two figures:

- ``sklearn_estimator_fit_speed``: fit seconds of the pipeline with each estimator,
  for the same architecture and the same EPOCHS epochs (the stopping rule is turned
  off on both sides, ``n_iter_no_change=np.inf``, so both run every epoch; batch
  "auto", 200 rows, and Adam 1e-3 on both, their defaults). The median of REPS
  alternating fits; mlpkit's first fit in the process (tracing and compiling its
  loop, or reading it from the XLA cache) is reported apart. Goal: mlpkit faster.
- ``sklearn_estimator_rmse``: the lecture's pipeline as written (default settings,
  each estimator stopping by its own rule) at random_state 42, the lecture's, and at
  SEEDS: validation RMSE (the figure the lecture computes) and test RMSE, beside
  scikit-learn's. Goal: mlpkit's median validation RMSE over the seeds within 5%
  of scikit-learn's.

    python benchmarks/bench_sklearn.py [REPS] [EPOCHS]
"""

import statistics
import sys
import time
import warnings

import numpy as np

import mlpkit
from common import emit, load_average, median

from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.metrics import root_mean_squared_error  # noqa: E402
from sklearn.neural_network import MLPRegressor as SklearnMLPRegressor  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from mlpkit.sklearn import MLPRegressor  # noqa: E402

HIDDEN = [50, 50, 50]
SEEDS = (42, 1, 2, 3, 4)  # 42: the lecture's
RMSE_TOLERANCE = 1.05


def pipeline(side: str, seed: int = 42, **settings):
    if side == "sklearn":
        if "epochs" in settings:
            settings["max_iter"] = settings.pop("epochs")
        reg = SklearnMLPRegressor(hidden_layer_sizes=HIDDEN, random_state=seed, **settings)
    else:
        reg = MLPRegressor(hidden_layer_sizes=HIDDEN, random_state=seed, **settings)
    return make_pipeline(StandardScaler(), reg)


def fit(ds, side: str, seed: int = 42, **settings) -> dict:
    p = pipeline(side, seed, **settings)
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # every epoch run on purpose
        p.fit(ds.x_train, ds.y_train)
    seconds = time.perf_counter() - t
    rmse = {part: round(float(root_mean_squared_error(getattr(ds, f"y_{part}"), p.predict(
        getattr(ds, f"x_{part}")))), 4) for part in ("valid", "test")}
    return {"fit_seconds": round(seconds, 3), "epochs": int(p[-1].n_iter_),
            "valid_rmse": rmse["valid"], "test_rmse": rmse["test"]}


def fit_speed(ds, reps: int, epochs: int) -> dict:
    same = {"epochs": epochs, "n_iter_no_change": np.inf}
    load = [load_average()]
    first = fit(ds, "mlpkit", **same)
    runs = {"sklearn": [], "mlpkit": []}
    for _ in range(reps):
        for side in ("sklearn", "mlpkit"):
            load.append(load_average())
            runs[side].append(fit(ds, side, **same))
    assert all(r["epochs"] == epochs for side in runs.values() for r in side)
    seconds = {side: median(r["fit_seconds"] for r in rs) for side, rs in runs.items()}
    return emit({
        "figure": "sklearn_estimator_fit_speed",
        "title": "scikit-learn estimator: fit of the lecture's California pipeline",
        "goal": (f"mlpkit.sklearn.MLPRegressor fits faster than scikit-learn's MLPRegressor, "
                 f"same architecture {HIDDEN} and {epochs} epochs (median of {reps})"),
        "holds": {"median": seconds["mlpkit"] < seconds["sklearn"],
                  "first fit": first["fit_seconds"] < seconds["sklearn"]},
        "hidden_layer_sizes": HIDDEN, "epochs": epochs, "batch_size": 200, "reps": reps,
        "train_rows": len(ds.x_train),
        "sklearn_fit_seconds": round(seconds["sklearn"], 3),
        "mlpkit_fit_seconds": round(seconds["mlpkit"], 3),
        "speedup": round(seconds["sklearn"] / seconds["mlpkit"], 2),
        "mlpkit_first_fit_seconds": first["fit_seconds"],
        "sklearn_runs": runs["sklearn"], "mlpkit_runs": runs["mlpkit"],
    }, load)


def rmse(ds, seeds=SEEDS) -> dict:
    load, rows = [], []
    for seed in seeds:
        row = {"seed": seed}
        for side in ("sklearn", "mlpkit"):
            load.append(load_average())
            row[side] = fit(ds, side, seed)
        rows.append(row)
    valid = {side: statistics.median(r[side]["valid_rmse"] for r in rows)
             for side in ("sklearn", "mlpkit")}
    lecture = rows[0]
    return emit({
        "figure": "sklearn_estimator_rmse",
        "title": "scikit-learn estimator: RMSE of the lecture's California pipeline",
        "goal": (f"mlpkit's median validation RMSE (seeds {', '.join(map(str, seeds))}) "
                 f"<= {RMSE_TOLERANCE:g} x scikit-learn's"),
        "holds": valid["mlpkit"] <= RMSE_TOLERANCE * valid["sklearn"],
        "hidden_layer_sizes": HIDDEN, "settings": "defaults of each (up to 200 epochs, "
        "each stopping by its own rule)",
        "sklearn_median_valid_rmse": round(valid["sklearn"], 4),
        "mlpkit_median_valid_rmse": round(valid["mlpkit"], 4),
        "lecture_seed": {"seed": lecture["seed"],
                         "sklearn_valid_rmse": lecture["sklearn"]["valid_rmse"],
                         "sklearn_test_rmse": lecture["sklearn"]["test_rmse"],
                         "mlpkit_valid_rmse": lecture["mlpkit"]["valid_rmse"],
                         "mlpkit_test_rmse": lecture["mlpkit"]["test_rmse"]},
        "runs": rows,
    }, load)


def main(reps: int = 3, epochs: int = 100) -> list[dict]:
    ds = mlpkit.load_dataset("california-housing")
    return [fit_speed(ds, reps, epochs), rmse(ds)]


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
