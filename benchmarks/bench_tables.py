"""mlpkit on tables with no flags but --target, beside scikit-learn's linear model and
HistGradientBoosting on the same split.

Tables: scikit-learn's bundled breast cancer, wine, iris, digits (as a table) and
diabetes, and two generated messy tables (numbers with thousands separators and
placeholders, dates, an identifier, free text, a constant column). Each is written
as a CSV and given to ``mlpkit train CSV --target y``; the split mlpkit made is read
back from the run's ``split.npz`` and the baselines train on the same training and
validation rows and are scored on the same test rows. The baselines get the clean
version of the messy tables (numbers as numbers, no junk columns): what mlpkit must
understand by itself, they are handed.

Goal: mlpkit never more than 1 point of accuracy (or 3% of RMSE) behind the best
baseline, per table, averaged over 3 seeds.

    python benchmarks/bench_tables.py [seeds]
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from common import emit, load_average, mlpkit_cmd, run


def bundled() -> dict[str, tuple[pd.DataFrame, str]]:
    from sklearn import datasets

    out = {}
    for name, loader, task in [("breast_cancer", datasets.load_breast_cancer, "class"),
                               ("wine", datasets.load_wine, "class"),
                               ("iris", datasets.load_iris, "class"),
                               ("digits", datasets.load_digits, "class"),
                               ("diabetes", datasets.load_diabetes, "regression")]:
        b = loader(as_frame=True)
        df = b.frame.rename(columns={b.frame.columns[-1]: "y"})
        if task == "class":
            df["y"] = df["y"].astype(int)
        out[name] = (df, task)
    return out


def messy(seed: int, task: str, n: int = 1500) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(messy CSV content, clean features and target for the baselines)."""
    rng = np.random.default_rng(seed)
    income = rng.lognormal(10, 0.5, n)
    age = rng.integers(18, 80, n).astype(float)
    city = rng.choice(["lyon", "paris", "nice", "lille"], n)
    signup = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 1500, n), "D")
    score = (np.log(income) - 10) * 2 + (age - 50) / 15 + (city == "paris") * 1.0 \
        + (signup.month.to_numpy() > 6) * 0.5 + rng.normal(0, 0.5, n)
    y = (score > np.median(score)).astype(int) if task == "class" else score * 10 + 100
    clean = pd.DataFrame({"income": income, "age": age, "city": city,
                          "signup_month": signup.month, "signup_year": signup.year, "y": y})
    bad_age = rng.random(n) < 0.05
    dirty = pd.DataFrame({
        "customer_id": np.arange(n) + 10_000,
        "income": [f"{v:,.2f}" for v in income],
        "age": np.where(bad_age, "?", age.astype(int).astype(str)),
        "city": city,
        "signup": signup.strftime("%Y-%m-%d"),
        "comment": [f"customer {i} wrote {rng.choice(['a', 'some', 'the'])} long remark"
                    for i in range(n)],
        "source": "web",
        "y": y,
    })
    clean.loc[bad_age, "age"] = np.nan
    return dirty, clean


def baselines(clean: pd.DataFrame, task: str, train, test, seed: int) -> dict[str, float]:
    from sklearn.compose import make_column_transformer
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression, RidgeCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    x, y = clean.drop(columns=["y"]), clean["y"].to_numpy()
    text = [c for c in x.columns if not pd.api.types.is_numeric_dtype(x[c])]
    numbers = [c for c in x.columns if c not in text]
    prep = make_column_transformer(
        (make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numbers),
        (OneHotEncoder(handle_unknown="ignore"), text))
    xh = x.copy()
    for c in text:
        xh[c] = xh[c].astype("category")
    if task == "class":
        models = {"linear": make_pipeline(prep, LogisticRegression(max_iter=5000)),
                  "hgb": HistGradientBoostingClassifier(random_state=seed,
                                                        categorical_features="from_dtype")}
    else:
        models = {"linear": make_pipeline(prep, RidgeCV()),
                  "hgb": HistGradientBoostingRegressor(random_state=seed,
                                                       categorical_features="from_dtype")}
    out = {}
    for name, model in models.items():
        data = xh if name == "hgb" else x
        model.fit(data.iloc[train], y[train])
        pred = model.predict(data.iloc[test])
        out[name] = float(np.mean(pred == y[test])) if task == "class" else \
            float(np.sqrt(np.mean((pred - y[test]) ** 2)))
    return out


def one(name: str, frame: pd.DataFrame, clean: pd.DataFrame, task: str, seed: int,
        folder: Path) -> dict:
    path = folder / f"{name}.csv"
    frame.to_csv(path, index=False)
    out = folder / f"run-{name}-{seed}"
    wall, _, _ = run(mlpkit_cmd("train", path, "--target", "y", "--seed", seed, "--out", out,
                                "--verbose", "0"))
    figures = json.loads((out / "metrics.json").read_text())
    with np.load(out / "split.npz") as f:
        train = np.concatenate([f["train"], f["valid"]])
        test = f["test"]
    row = {"table": name, "seed": seed, "task": task, "mlpkit_seconds": round(wall, 1),
           "mlpkit": figures["test_accuracy" if task == "class" else "test_rmse"]}
    row.update(baselines(clean, task, train, test, seed))
    return row


def main(seeds: int = 3) -> dict:
    load = [load_average()]
    tables = {name: (df, df, task) for name, (df, task) in bundled().items()}
    for task in ("class", "regression"):
        dirty, clean = messy(7, task)
        tables[f"messy_{task}"] = (dirty, clean, task)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, (frame, clean, task) in tables.items():
            for seed in range(1, seeds + 1):
                rows.append(one(name, frame, clean, task, seed, Path(tmp)))
                print(json.dumps(rows[-1]), flush=True)
                load.append(load_average())
    summary = []
    for name, (_, _, task) in tables.items():
        mine = [r for r in rows if r["table"] == name]
        mean = {k: float(np.mean([r[k] for r in mine])) for k in ("mlpkit", "linear", "hgb")}
        if task == "class":
            best = max(mean["linear"], mean["hgb"])
            gap, holds = best - mean["mlpkit"], best - mean["mlpkit"] <= 0.01
        else:
            best = min(mean["linear"], mean["hgb"])
            gap, holds = mean["mlpkit"] / best - 1, mean["mlpkit"] <= 1.03 * best
        summary.append({"table": name, "task": task, **{k: round(v, 4) for k, v in mean.items()},
                        "gap": round(gap, 4), "holds": bool(holds)})
    return emit({"figure": "tables_no_flags",
                 "title": "tables with no flags but --target, vs linear and HGB",
                 "goal": "never > 1 point of accuracy (or 3% of RMSE) behind the best baseline",
                 "holds": all(s["holds"] for s in summary), "seeds": seeds,
                 "summary": summary, "runs": rows}, load)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
