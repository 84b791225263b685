"""``report.html``: one self-contained page per run (images embedded as data URIs).

``build(run)`` predicts the test set once, draws the plots into ``plots/`` and
writes the page; ``mlpkit report RUN_DIR`` calls it again on a finished run.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

import numpy as np

from mlpkit import evaluation, files, inference, labels, metrics, plots

SAMPLES = 3  # the lecture shows the first three test images
MISCLASSIFIED = 24

STYLE = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1000px;color:#222}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .6em;
text-align:right}th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}
pre{background:#f7f7f7;padding:.8em;overflow-x:auto}img{max-width:100%}
"""


def _img(path: Path, alt: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _table(rows: list[dict]) -> str:
    """Rows of dicts as an HTML table, floats as the command line prints them."""
    if not rows:
        return ""
    head = "".join(f"<th>{html.escape(str(k))}</th>" for k in rows[0])
    body = "".join(
        "<tr>" + "".join(
            f"<td>{labels.figure(v) if isinstance(v, float) else html.escape(str(v))}</td>"
            for v in r.values()) + "</tr>"
        for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _classification(run, ds, proba, plot_dir: Path) -> list[str]:
    names = ds.class_names
    if ds.task == "multilabel":
        return [f"<h2>Per-label precision and recall (threshold {metrics.THRESHOLD})</h2>",
                _table(evaluation.multilabel_details(ds.y_test, proba, names))]
    d = evaluation.classification_details(ds.y_test, proba, names, ds.task)
    y_true, y_pred = d["y_true"], d["y_pred"]
    cm_png = plots.confusion_matrix(d["confusion_matrix"], names, plot_dir / "confusion_matrix.png")
    parts = ["<h2>Per-class precision and recall</h2>", _table(d["per_class"]),
             "<h2>Confusion matrix</h2>", _img(cm_png, "confusion matrix")]
    if len(names) > plots.TEXT_CLASSES:
        parts += ["<h2>Most frequent confusions</h2>", _table(top_confusions(
            d["confusion_matrix"], names))]
    images = ds.x_test.ndim >= 3
    negative = ds.name == "fashion-mnist"  # the lecture's look; the user's images as they are
    wrong = np.flatnonzero(y_pred != y_true)[:MISCLASSIFIED]
    if images and not wrong.size:
        parts += ["<h2>Misclassified test images</h2>",
                  "<p>None: every test image was classified correctly.</p>"]
    elif images:
        mis_png = plots.image_grid(
            ds.x_test[wrong],
            [f"true: {names[y_true[i]]}\npred: {names[y_pred[i]]}" for i in wrong],
            plot_dir / "misclassified.png", negative=negative)
        parts += [f"<h2>Misclassified test images (first {len(wrong)})</h2>",
                  _img(mis_png, "misclassified test images")]
        if ds.test_names is not None:  # which files: to look at, or to relabel
            parts.append(_table([{"file": ds.test_names[i], "true class": names[y_true[i]],
                                  "predicted class": names[y_pred[i]],
                                  "probability": float(_probabilities(proba[i], ds.task)[
                                      y_pred[i]])} for i in wrong]))
    samples = []
    for i in range(min(SAMPLES, len(ds.x_test))):
        top = int(y_pred[i])
        p = _probabilities(proba[i], ds.task)
        samples.append({**({"file": ds.test_names[i]} if ds.test_names is not None else {}),
                        "test row": i, "true class": names[y_true[i]],
                        "predicted class": names[top], "probability": float(p[top]),
                        "probabilities (rounded)": " ".join(f"{v:.2f}" for v in p)})
    parts += ["<h2>Sample predictions</h2>", _table(samples)]
    if images:
        sample_png = plots.image_grid(ds.x_test[:SAMPLES], [s["predicted class"] for s in samples],
                                      plot_dir / "sample_predictions.png", cols=SAMPLES,
                                      negative=negative)
        parts.append(_img(sample_png, "sample predictions"))
    return parts


def _probabilities(p: np.ndarray, task: str) -> np.ndarray:
    """A row of the model's outputs as one probability per class (binary: its one
    output is the second class's)."""
    return p if task != "binary" else np.array([1 - p[0], p[0]])


def top_confusions(cm: np.ndarray, names: list[str], n: int = 20) -> list[dict]:
    """The ``n`` largest off-diagonal cells of a confusion matrix."""
    off = cm.copy()
    np.fill_diagonal(off, 0)
    flat = np.argsort(off, axis=None)[::-1][:n]
    rows = []
    for i, j in zip(*np.unravel_index(flat, off.shape)):
        if off[i, j]:
            rows.append({"true class": names[i], "predicted class": names[j],
                         "count": int(off[i, j])})
    return rows


def _regression(run, ds, y_pred, plot_dir: Path) -> list[str]:
    # several targets: the plots show each in its own colour, standardized; the errors
    # and error-by-range tables are each target's own, in its units
    y_true = np.asarray(ds.y_test).reshape(len(ds.y_test), -1)
    y_pred = np.asarray(y_pred).reshape(y_true.shape)
    names = labels.target_names(run.config.data.target, y_true.shape[1],
                                run.preprocessing["labels"])
    pva = plots.predicted_vs_actual(y_true, y_pred, plot_dir / "predicted_vs_actual.png", names)
    res = plots.residuals(y_true, y_pred, plot_dir / "residuals.png", names)
    if y_true.shape[1] == 1:
        samples = [{"test row": i, "actual": float(y_true[i, 0]),
                    "predicted": float(y_pred[i, 0])} for i in range(min(SAMPLES, len(y_true)))]
    else:  # each target's actual and predicted value under its name
        samples = [{"test row": i, **{f"{w} {n}": float(v[i, j]) for j, n in enumerate(names)
                                      for w, v in (("actual", y_true), ("predicted", y_pred))}}
                   for i in range(min(SAMPLES, len(y_true)))]
    if y_true.shape[1] == 1:
        d = evaluation.regression_details(y_true[:, 0], y_pred[:, 0])
        rng = plots.error_by_range(d["by_range"], plot_dir / "error_by_range.png")
        by_target, ranges = [], [_table(d["by_range"]), _img(rng, "error by range")]
    else:  # the test RMSE pools them (as Keras's metric does): each apart
        rows, by_range = [], []
        for j, name in enumerate(names):
            one = evaluation.regression_details(y_true[:, j], y_pred[:, j])
            rows.append({"target": name, "rmse": one["rmse"], "mae": one["mae"],
                         "mean": float(y_true[:, j].mean()), "std": float(y_true[:, j].std())})
            by_range += [{"target": name, **r} for r in one["by_range"]]
        by_target = ["<h2>Error by target (test set)</h2>", _table(rows)]
        ranges = [_table(by_range)]
    return by_target + [
        "<h2>Predicted against actual (test set)</h2>", _img(pva, "predicted vs actual"),
        "<h2>Residuals</h2>", _img(res, "residuals"),
        "<h2>Error by target range</h2>", *ranges,
        "<h2>Sample predictions</h2>", _table(samples),
    ]


def _train_on_validation(config_text: str) -> bool:
    import tomllib

    return bool(tomllib.loads(config_text).get("training", {}).get("train_on_validation"))


def build(run) -> Path:
    """Draw the plots and write ``report.html`` for ``run``; returns the page's path."""
    ds, model, path = run.dataset, run.model, run.path
    plot_dir = path / "plots"
    curves = plots.learning_curves(run.history, plot_dir / "learning_curves.png")
    out = inference.predict(model, ds.x_test)
    manifest = run.manifest
    metrics = [{"metric": k, "value": v} for k, v in run.metrics.items()]
    config_text = (path / "config.toml").read_text(encoding="utf-8")
    summary = (path / "summary.txt").read_text(encoding="utf-8")
    timings = manifest.get("timings", {})
    parts = [
        f"<h1>mlpkit run: {html.escape(path.name)}</h1>",
        f"<p>{html.escape(ds.name)}, preset <b>{html.escape(str(manifest.get('preset')))}</b>, "
        f"backend {html.escape(str(manifest.get('backend')))}, data from "
        f"{html.escape(str(manifest.get('data', {}).get('folder')))}; rows: "
        f"{html.escape(', '.join(f'{k} {v:,}' for k, v in ds.sizes.items()))}"
        + (f" (the model fitted on train and valid together, "
           f"{ds.sizes['train'] + ds.sizes['valid']:,} rows: train_on_validation)"
           if _train_on_validation(config_text) else "") + "</p>",
        "<h2>Test metrics</h2>", _table(metrics),
        "<h2>Learning curves</h2>", _img(curves, "learning curves"),
    ]
    if ds.task == "regression":
        parts += _regression(run, ds, out, plot_dir)
    else:
        parts += _classification(run, ds, out, plot_dir)
    parts += [
        "<h2>Model summary</h2>", f"<pre>{html.escape(summary)}</pre>",
        "<h2>Config</h2>", f"<pre>{html.escape(config_text)}</pre>",
    ]
    if ds.table:
        from mlpkit.data.columns import TableEncoder

        parts += ["<h2>Columns, as mlpkit understood them</h2>",
                  _table(TableEncoder.from_spec(ds.table).summary())]
    notes = manifest.get("notes") or ds.notes  # a reopened run's data: read, not re-noted
    if notes:
        parts += ["<h2>Notes on the data</h2>",
                  "<ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in notes) + "</ul>"]
    if timings:
        parts += ["<h2>Timings (seconds)</h2>", _table([{k: v for k, v in timings.items()}])]
    page = ("<!doctype html><html><head><meta charset='utf-8'>"
            f"<title>mlpkit report: {html.escape(path.name)}</title><style>{STYLE}</style>"
            "</head><body>" + "\n".join(parts) + "</body></html>\n")
    return files.write_text(path / "report.html", page)
