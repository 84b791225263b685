"""Write the measured figures into the READMEs from ``benchmarks/results.jsonl``.

Every number the READMEs quote from a measurement sits between two marker
comments, ``<!-- NAME:begin -->`` and ``<!-- NAME:end -->``, and is written here
from the results file; the text around them is prose. ``tests/test_evidence.py``
checks that the committed READMEs are exactly what this writes, so a hand edit of
a figure, or a results file newer than the tables, fails the tests.

    python benchmarks/render.py            # rewrite README.md and benchmarks/README.md
    python benchmarks/render.py --check    # exit 1, naming the files, if either is stale

Standard library only: the tests import it without Keras.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results.jsonl"
TARGETS = (ROOT / "README.md", HERE / "README.md")
MARKER = re.compile(r"<!-- ([a-z0-9-]+):begin -->(.*?)<!-- \1:end -->", re.S)


def read_results(path: Path = RESULTS) -> dict[str, dict]:
    """The figures of a results file by name (one JSON object a line)."""
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    figs = {r["figure"]: r for r in records}
    return figs


LECTURE_ROWS = "best_preset_fashion_mnist_lecture_rows"


# --- formatting --------------------------------------------------------------------

def holds_text(holds) -> str:
    if isinstance(holds, dict):
        return "; ".join(f"{k} {'yes' if v else 'no'}" for k, v in holds.items())
    return "yes" if holds else "no"


def span(values, unit: str = "", digits: int = 2) -> str:
    """``a`` or ``a-b`` (lowest to highest), with a unit."""
    lo, hi = min(values), max(values)
    text = f"{lo:.{digits}f}" if round(lo, digits) == round(hi, digits) else \
        f"{lo:.{digits}f}-{hi:.{digits}f}"
    return text + unit


def hidden(h) -> str:
    return "-".join(map(str, h))


def preset_text(p: dict) -> str:
    return (f"{hidden(p['hidden'])} hidden units, {p['optimizer'].capitalize()} "
            f"{p['learning_rate']:g} with {p['schedule']} decay, batch {p['batch_size']}, "
            f"{p['epochs']} epochs")


# --- the rows of the figures table ---------------------------------------------------

def measured_throughput(r: dict) -> str:
    ref, ours = r["reference_test_accuracy"], r["mlpkit_test_accuracy"]
    return (f"reference {r['reference_tf_keras_seconds']:.2f} s, mlpkit "
            f"{r['mlpkit_seconds']:.3f} s: **{r['speedup']:.2f}x** (median of "
            f"{r['measured_epochs']} epochs each, {r['reps']} alternating runs of "
            f"{r['epochs_per_run']} epochs); test accuracy after {r['epochs_per_run']} epochs "
            f"{span(ref, digits=3)} (reference) vs {span(ours, digits=3)} (mlpkit)")


def measured_loop(r: dict) -> str:
    return (f"mlpkit {r['mlpkit_epoch_seconds']:.3f} s, Keras `fit` "
            f"{r['keras_fit_epoch_seconds']:.3f} s a training epoch: **{r['speedup']:.2f}x** "
            f"(median of {r['measured_epochs']} epochs each)")


def measured_gflops(r: dict) -> str:
    return (f"NumPy {r['numpy_peak_gflops']:.1f} GFLOP/s; mlpkit {r['mlpkit_gflops']:.1f} "
            f"(**{r['mlpkit_fraction_of_peak']:.1%}**); Keras `fit` {r['keras_fit_gflops']:.1f} "
            f"({r['keras_fit_fraction_of_peak']:.1%})")


def measured_fast(r: dict) -> str:
    runs = r["runs"]
    cold = [x for x in runs if x["cache"] == "cold"]
    warm = [x for x in runs if x["cache"] == "warm"]

    def times(key):
        parts = [f"{x[key]:.2f} s cold" for x in cold]
        if warm:
            parts.append(" and ".join(f"{x[key]:.2f}" for x in warm) + " s warm")
        return ", ".join(parts)

    accuracy = " / ".join(f"{x['test_accuracy']:.4f}" for x in runs)
    seeds = ", ".join(str(x["seed"]) for x in runs)
    return (f"{preset_text(r['preset'])}: accuracy **{accuracy}** (seeds {seeds}); "
            f"fit {times('fit_seconds')}; command {times('command_seconds')}")


def measured_predict(r: dict) -> str:
    return (f"mlpkit **{r['mlpkit_one_image_ms']:.3f} ms**; `model.predict` "
            f"{r['keras_predict_one_image_ms']:.3f} ms; 10,000 images: "
            f"{r['mlpkit_images_per_second'] / 1000:.0f}k/s vs "
            f"{r['keras_predict_images_per_second'] / 1000:.0f}k/s")


def measured_memory(r: dict) -> str:
    return (f"mlpkit **{r['mlpkit_mib']:,} MiB**, reference {r['reference_tf_keras_mib']:,} MiB "
            f"({r['ratio']:.2f}x)")


def measured_startup(r: dict) -> str:
    imported = {r["help_imported"], r["data_list_imported"]}
    what = ("neither imports Keras, JAX or TF" if imported == {"[]"}
            else f"imported: `--help` {r['help_imported']}, `data list` {r['data_list_imported']}")
    return f"`--help` **{r['help_seconds']:.2f} s**, `data list` **{r['data_list_seconds']:.2f} s**; {what}"


def measured_selection(r: dict) -> str:
    c = r["chosen"]
    if c is None:
        return f"{len(r['candidates'])} candidates, none within the budget"
    return (f"{len(r['candidates'])} candidates; chosen {hidden(c['hidden'])}, lr "
            f"{c['learning_rate']:g}, {c['epochs']} epochs, batch {c['batch_size']}: validation "
            f"accuracy **{c['val_accuracy']:.4f}**, fit {c['fit_seconds']:.2f} s "
            "(table below)")


def _runs_span(values, digits=4) -> str:
    return span(values, digits=digits)


def best_text(r: dict, key: str, what: str) -> str:
    """A preset's figure over seeds: mean, lowest-highest and sd; validation; fit; search."""
    f = r[key]
    seeds = ", ".join(str(x["seed"]) for x in r["runs"])
    fit = [x["fit_seconds"] for x in r["runs"]]
    studies = r.get("search") or []
    studies = [studies] if isinstance(studies, dict) else studies
    found = ("; chosen on validation data by " + " then ".join(
        f"study `{s['study']}` ({', '.join(f'{v} {k}' for k, v in sorted(s['trials'].items()))}"
        " trials)" for s in studies) if studies else "")
    valid = r.get("validation_" + key.removeprefix("test_"))
    return (f"{what} **{f['mean']:.4f}** ({_runs_span([f['min'], f['max']])}, sd {f['std']:.4f};"
            f" seeds {seeds})"
            + (f", validation {valid['mean']:.4f}" if valid else "")
            + f"; fit {span(fit, ' s', 0)}{found}; "
            + ("anchors: " + ", ".join(f"{ANCHORS.get(k, k)} {v:g}"
                                       for k, v in r["anchors"].items())
               if r.get("anchors") else ""))


ANCHORS = {"zalando_benchmark_mlp": "Zalando's benchmark MLP",
           "lecture_model": "the lecture's model",
           "tuned_hist_gradient_boosting": "tuned HistGradientBoosting"}


def crossed_090(r: dict) -> str:
    if not any("val_0.90_epoch" in x for x in r["runs"]):  # (no validation rows watched)
        return ""
    crossed = [f"epoch {x['val_0.90_epoch']} ({x['val_0.90_seconds']:.0f} s)"
               if x.get("val_0.90_epoch") else "never" for x in r["runs"]]
    return f"; validation accuracy first >= 0.90: {', '.join(crossed)}"


def measured_fashion_preset(r: dict) -> str:
    return best_text(r, "test_accuracy", "test accuracy").rstrip("; ") + crossed_090(r)


def measured_best_housing(r: dict) -> str:
    return best_text(r, "test_rmse", "test RMSE").rstrip("; ")


def measured_sklearn_speed(r: dict) -> str:
    return (f"scikit-learn {r['sklearn_fit_seconds']:.2f} s, mlpkit {r['mlpkit_fit_seconds']:.2f} s "
            f"(**{r['sklearn_fit_seconds'] / r['mlpkit_fit_seconds']:.2f}x**, median); mlpkit's "
            f"first fit in a process {r['mlpkit_first_fit_seconds']:.2f} s")


def measured_sklearn_rmse(r: dict) -> str:
    s = r["lecture_seed"]
    return (f"median validation RMSE mlpkit **{r['mlpkit_median_valid_rmse']:.4f}**, "
            f"scikit-learn {r['sklearn_median_valid_rmse']:.4f}; at seed 42 "
            f"{s['mlpkit_valid_rmse']:.4f} vs {s['sklearn_valid_rmse']:.4f}")


def measured_resume(r: dict) -> str:
    same = all(r[k] for k in ("weights_equal", "optimizer_equal", "metrics_equal",
                              "history_equal"))
    return (f"{r['kills']} kills, {r['resumes_recorded']} resumes: weights, optimizer, metrics "
            f"and history {'**equal**' if same else '**different**'}; checkpoint "
            f"{r['checkpoint_mib']:.2f} MiB in {r['checkpoint_ms']:.0f} ms")


def measured_serving(r: dict) -> str:
    ours, plain = r["mlpkit_serve"], r["plain_model_predict"]
    cells = [f"c={c[1:]}: {ours[c]['requests_per_second']:,.0f} req/s, p99 "
             f"{ours[c]['p99_ms']:.1f} ms" for c in ("c1", "c16", "c64")]
    return ("; ".join(cells) + f" (a plain `model.predict` endpoint at c=16: "
            f"{plain['c16']['requests_per_second']:,.0f} req/s, p99 "
            f"{plain['c16']['p99_ms']:.0f} ms)")


def measured_tables(r: dict) -> str:
    behind = [s["table"] for s in r["summary"] if not s["holds"]]
    return (f"{len(r['summary']) - len(behind)} of {len(r['summary'])} tables within the goal "
            f"over {r['seeds']} seeds" + (f"; behind on {', '.join(behind)}" if behind else ""))


def tables_table(figs: dict) -> str:
    r = figs["tables_no_flags"]
    lines = ["| table | task | mlpkit | linear | HGB | gap to the best | within? |",
             "|---|---|---|---|---|---|---|"]
    for s in r["summary"]:
        metric = "accuracy" if s["task"] == "class" else "RMSE"
        gap = (f"{100 * s['gap']:+.1f} points" if s["task"] == "class"
               else f"{100 * s['gap']:+.1f}%")
        lines.append(f"| {s['table']} | {metric} | {s['mlpkit']:.4f} | {s['linear']:.4f} | "
                     f"{s['hgb']:.4f} | {gap} | {'yes' if s['holds'] else 'no'} |")
    return "\n".join(lines)


def measured_devices(r: dict) -> str:
    runs = "; ".join(f"{x['devices']}: {x['epoch_seconds']:.2f} s "
                     f"({x['relative_to_one']:.2f}x of 1)" for x in r["runs"])
    diff = ", ".join(f"{x['relative_weight_difference']:.1e}" for x in r["runs"][1:])
    acc = "/".join(f"{x['test_accuracy']:.4f}" for x in r["runs"])
    return (f"s a training epoch by devices: {runs}; weights vs 1 device {diff} (relative; "
            f"1 device from weights 1 ulp off: {r['rounding_drift']:.1e}), test accuracy {acc}; "
            f"virtual devices share the {r['cores']} cores, so **no speed-up**")


def measured_precision(r: dict) -> str:
    runs = "; ".join(f"{x['precision']} {x['epoch_seconds']:.2f} s ({x['speed_vs_float32']:.2f}x"
                     f" of float32), accuracy {x['test_accuracy']:.4f}" for x in r["runs"])
    return f"s a training epoch: {runs}; **slower on CPU**, as expected"


def measured_members(r: dict) -> str:
    metric = r["metric"].removeprefix("val_").replace("rmse", "RMSE")
    runs = ", ".join(f"{x['members']}: {x[r['metric']]:.4f} ({x['fit_seconds']:.0f} s)"
                     for x in r["runs"])
    return (f"validation {metric} by members (fit seconds): {runs}; chosen: "
            f"**{r['chosen_members']}**")


def measured_sprint_selection(r: dict) -> str:
    def name(c):
        dropout = f", dropout {c['dropout']:g}" if "dropout" in c else ""
        return (f"{'-'.join(map(str, c['hidden']))}, {c['epochs']} epochs{dropout}, smoothing "
                f"{c['label_smoothing']:g}")

    runs = "; ".join(f"{name(c)}: {c['val_accuracy']:.4f} ({c['fit_seconds']:.1f} s"
                     f"{'' if c['in_budget'] else ', over budget'})" for c in r["candidates"])
    chosen = r["chosen"]
    return (f"mean validation accuracy (fit seconds): {runs}; chosen: "
            f"**{name(chosen) if chosen else 'none'}**")


def measured_smoothing(r: dict) -> str:
    runs = ", ".join(f"{x['label_smoothing']:g}: {x['val_accuracy']:.4f} ({x['fit_seconds']:.0f} s)"
                     for x in r["runs"])
    return (f"validation accuracy by label smoothing (fit seconds): {runs}; chosen: "
            f"**{r['chosen']['label_smoothing']:g}**")


def measured_augmentation(r: dict) -> str:
    def name(x):
        parts = ([f"{x['random_flip']} flips"] if x["random_flip"] != "none" else []) + (
            [f"{x['random_shift']}-pixel shifts"] if x["random_shift"] else [])
        aug = " and ".join(parts) or "no augmentation"
        return f"{aug}, {x['epochs']} epochs"

    runs = "; ".join(f"{name(x)}: {x['val_accuracy']:.4f} ({x['fit_seconds']:.0f} s)"
                     for x in r["runs"])
    return (f"validation accuracy (fit seconds): {runs}; chosen: **{name(r['chosen'])}**")


def against_the_preset(r: dict, name) -> str:
    """A selection run against the preset (select_members.against_the_preset): each run
    named by ``name(run)``, the preset's first."""
    runs = "; ".join(f"{name(x)}: {x['val_accuracy']:.4f} ({x['fit_seconds']:.0f} s)"
                     for x in [r["baseline"], *r["runs"]])
    return (f"validation accuracy (fit seconds), the preset first: {runs}; chosen: "
            f"**{name(r['chosen'])}**")


def measured_ensemble(r: dict) -> str:
    def name(x):
        who = f"an ensemble of {x['members']}" if x["members"] > 1 else "one MLP"
        return f"{who}, dropout {x['dropout']:g}, {x['epochs']} epochs"

    return against_the_preset(r, name)


def measured_width(r: dict) -> str:
    return against_the_preset(r, lambda x: f"{x['members']} x "
                              f"{'-'.join(map(str, x['hidden']))}, {x['epochs']} epochs")


def measured_decay(r: dict) -> str:
    return against_the_preset(r, lambda x: f"weight decay {x['weight_decay']}")


def measured_coordinates(r: dict) -> str:
    def name(x):
        return f"{x['rotations']} rotated views" if x["rotations"] else "none"

    runs = "; ".join(f"{name(x)}: {x['val_rmse']:.4f} ({x['fit_seconds']:.0f} s)"
                     for x in r["runs"])
    e = r["ensemble"]
    return (f"mean validation RMSE of one member, seeds {', '.join(map(str, r['seeds']))} "
            f"(fit seconds): {runs}; chosen: **{name(r['chosen'])}**; the {e['members']}-member "
            f"ensemble with them at seed 1: {e['val_rmse']:.4f} ({e['fit_seconds']:.0f} s)")


ROWS = [  # figure name -> how its "measured" cell reads, in table order
    ("lecture_recipe_seconds_per_epoch", measured_throughput),
    ("jitted_loop_vs_fit", measured_loop),
    ("training_gflops_batch_512", measured_gflops),
    ("fast_preset_selection", measured_selection),
    ("fast_preset_time_to_accuracy", measured_fast),
    ("prediction", measured_predict),
    ("peak_memory_mib", measured_memory),
    ("startup_seconds", measured_startup),
    ("sklearn_estimator_fit_speed", measured_sklearn_speed),
    ("sklearn_estimator_rmse", measured_sklearn_rmse),
    ("resume_after_kills", measured_resume),
    ("serving_load", measured_serving),
    ("tables_no_flags", measured_tables),
    ("devices_virtual_cpu", measured_devices),
    ("precision_modes_cpu", measured_precision),
    ("best_preset_fashion_mnist", measured_fashion_preset),
    (LECTURE_ROWS, measured_fashion_preset),
    ("sprint_preset_fashion_mnist", measured_fashion_preset),
    ("best_preset_california_housing", measured_best_housing),
    ("members_selection_best_fashion", measured_members),
    ("members_selection_best_housing", measured_members),
    ("sprint_preset_selection", measured_sprint_selection),
    ("sprint_dropout_selection", measured_sprint_selection),
    ("smoothing_selection_best_fashion", measured_smoothing),
    ("augmentation_selection_best_fashion", measured_augmentation),
    ("ensemble_selection_best_fashion", measured_ensemble),
    ("width_selection_best_fashion", measured_width),
    ("decay_selection_best_fashion", measured_decay),
    ("coordinates_selection_best_housing", measured_coordinates),
]


def figures_table(figs: dict) -> str:
    lines = ["| figure | goal | measured | holds? |", "|---|---|---|---|"]
    for name, measured in ROWS:
        r = figs[name]
        load = span([r["load_average"]["min"], r["load_average"]["max"]], digits=1)
        lines.append(f"| {r['title']} | {r['goal']} | {measured(r)} (load {load}) | "
                     f"{holds_text(r['holds'])} |")
    return "\n".join(lines)


def measured_on(figs: dict) -> str:
    records = [figs[name] for name, _ in ROWS]
    days = sorted(r["date"][:10] for r in records)
    when = days[0] if days[0] == days[-1] else f"{days[0]} to {days[-1]}"
    machines = []
    for r in records:
        m, v = r["machine"], r["machine"]["versions"]
        text = (f"{m['cpu']}, {m['cores']} cores, Python {m['python']}, Keras {v['keras']}, "
                f"JAX {v['jax']}, NumPy {v['numpy']}")
        if text not in machines:
            machines.append(text)
    tf = figs["lecture_recipe_seconds_per_epoch"].get("reference_tensorflow")
    load = [x for r in records for x in (r["load_average"]["min"], r["load_average"]["max"])]
    commits = sorted({r["source"]["commit"] for r in records if "source" in r})
    dirty = [r["title"] for r in records if r.get("source", {}).get("uncommitted_src")]
    return (f"Measured {when} on {'; and on '.join(machines)}"
            + (f"; TensorFlow {tf} for the reference" if tf else "")
            + (f"; mlpkit at commit {', '.join(commits)}" if commits else "")
            + (f" (with uncommitted changes in src/ for: {', '.join(dirty)})" if dirty else "")
            + f". The 1-minute load average while measuring was {span(load)}.")


def selection_table(figs: dict) -> str:
    r = figs["fast_preset_selection"]
    lines = [f"Budget: fit <= {r['budget_seconds']:g} s; seeds {', '.join(map(str, r['seeds']))}; "
             f"{r['train_images']:,} training images, scored on {r['validation_images']:,} "
             "validation images.", "",
             "| hidden | learning rate | epochs | batch | validation accuracy (by seed) | "
             "fit s (by seed) | in budget |", "|---|---|---|---|---|---|---|"]
    for c in r["candidates"]:
        mark = "**" if c == r["chosen"] else ""
        lines.append(
            f"| {mark}{hidden(c['hidden'])}{mark} | {c['learning_rate']:g} | {c['epochs']} | "
            f"{c['batch_size']} | {mark}{c['val_accuracy']:.4f}{mark} ("
            f"{', '.join(f'{a:.4f}' for a in c['val_accuracy_by_seed'])}) | "
            f"{c['fit_seconds']:.2f} ({', '.join(f'{s:.2f}' for s in c['fit_seconds_by_seed'])}) | "
            f"{'yes' if c['in_budget'] else 'no'} |")
    return "\n".join(lines)


def fast_preset(figs: dict) -> str:
    r = figs["fast_preset_time_to_accuracy"]
    warm = [x["fit_seconds"] for x in r["runs"] if x["cache"] == "warm"]
    seeds = ", ".join(str(x["seed"]) for x in r["runs"])
    return (f"{preset_text(r['preset'])}; {r['test_accuracy_mean']:.3f} mean test accuracy "
            f"(seeds {seeds}), in {span(warm)} seconds of training (warm)")


def whole_command(figs: dict) -> str:
    w = figs["fast_preset_time_to_accuracy"]["warm_mean"]
    named = {"fit_seconds": "training", "load_data_seconds": "loading the data",
             "evaluate_seconds": "evaluating", "report_seconds": "the report (four plots)"}
    parts = [f"{what} {w[k]:.2f} s" for k, what in named.items() if k in w]
    rest = w["command_seconds"] - sum(w[k] for k in named if k in w)
    return (f"Of a warm command's {w['command_seconds']:.2f} s (mean): "
            f"{', '.join(parts)}; the other {rest:.2f} s")


def gflops_ratio(r: dict) -> float:
    return r["mlpkit_gflops"] / r["keras_fit_gflops"]


def gflops(figs: dict, key: str) -> str:
    return f"{figs['training_gflops_batch_512'][key]:.1f} GFLOP/s"


def best_presets(figs: dict) -> str:
    """The `best` and `sprint` presets: what each is, and its figures over three seeds."""
    lines = []
    for name, key, what in (("best_preset_fashion_mnist", "test_accuracy", "test accuracy"),
                            ("sprint_preset_fashion_mnist", "test_accuracy", "test accuracy"),
                            ("best_preset_california_housing", "test_rmse", "test RMSE")):
        r = figs[name]
        p, f = r["preset"], r[key]
        fit = [x["fit_seconds"] for x in r["runs"]]
        ensemble = (f"an ensemble of {p['members']} MLPs " if p.get("members", 1) > 1 else "")
        shifts = (("each with its own " if ensemble else "") +
                  f"random {p['random_shift']}-pixel shifts in training, "
                  if p.get("random_shift") else "")
        extras = ([f"dropout {p['dropout']:.2g}"] if p["dropout"] else []) + (
            ["periodic embeddings"] if p["embedding"] != "none" else []) + (
            [f"{' and '.join(p['coordinates'])} also seen in {p['coordinate_rotations']} "
             "rotated views"] if p.get("coordinates") else []) + (
            [f"label smoothing {p['label_smoothing']:g}"] if p.get("label_smoothing") else []
        ) + (["fitted on the training and validation rows together"]
             if p.get("train_on_validation") else [])
        lines.append(
            f"- {r['title']}: {ensemble}{hidden(p['hidden'])} {p['activation']}, {shifts}"
            f"{''.join(e + ', ' for e in extras)}"
            f"{p['optimizer']} {p['learning_rate']:.3g}, {p['schedule']}, batch "
            f"{p['batch_size']}, {p['epochs']} epochs: {what} {f['mean']:.4f} (seeds "
            f"{', '.join(str(x['seed']) for x in r['runs'])}: "
            f"{span([f['min'], f['max']], '', 4)}), fit {span(fit, ' s', 0)}; "
            f"goal {r['goal']}: {holds_text(r['holds'])}")
        if name == "best_preset_fashion_mnist" and p.get("train_on_validation"):
            b = figs[LECTURE_ROWS]
            g = b["test_accuracy"]
            lines.append(
                f"- the same preset fitted on the lecture's 55,000 training rows alone "
                f"(`--no-train-on-validation`): test accuracy {g['mean']:.4f} (seeds "
                f"{', '.join(str(x['seed']) for x in b['runs'])}: "
                f"{span([g['min'], g['max']], '', 4)}), validation accuracy "
                f"{b['validation_accuracy']['mean']:.4f}, fit "
                f"{span([x['fit_seconds'] for x in b['runs']], ' s', 0)}")
    return "\n" + "\n".join(lines) + "\n"


SECTIONS = {  # marker name -> its text; "\n" around blocks
    "best-presets": best_presets,
    "measured-on": lambda f: "\n" + measured_on(f) + "\n",
    "figures": lambda f: "\n" + figures_table(f) + "\n",
    "selection": lambda f: "\n" + selection_table(f) + "\n",
    "tables": lambda f: "\n" + tables_table(f) + "\n",
    "fast-preset": fast_preset,
    "whole-command": whole_command,
    "reference-epoch": lambda f: f"{f['lecture_recipe_seconds_per_epoch']['reference_tf_keras_seconds']:.2f} s",
    "mlpkit-epoch": lambda f: f"{f['lecture_recipe_seconds_per_epoch']['mlpkit_seconds']:.3f} s",
    "tf-ratio": lambda f: f"{f['lecture_recipe_seconds_per_epoch']['speedup']:.2f}x",
    "loop-vs-fit": lambda f: f"{f['jitted_loop_vs_fit']['speedup']:.2f}x",
    "epoch-gflop": lambda f: (f"{f['training_gflops_batch_512']['flop_per_sample'] * 55_000 / 1e9:.0f}"
                              " GFLOP"),
    "xla-gflops": lambda f: gflops(f, "mlpkit_gflops"),
    "numpy-gflops": lambda f: gflops(f, "numpy_peak_gflops"),
    "loop-vs-fit-512": lambda f: f"{gflops_ratio(f['training_gflops_batch_512']):.2f}x",
    "predict-ms": lambda f: f"{f['prediction']['mlpkit_one_image_ms']:.3f} ms",
    "devices-cpu": lambda f: ", ".join(
        f"{x['devices']} device{'s' if x['devices'] > 1 else ''} {x['epoch_seconds']:.2f} s"
        for x in f["devices_virtual_cpu"]["runs"]),
    "precision-cpu": lambda f: ", ".join(
        f"{x['precision']} {x['epoch_seconds']:.2f} s" for x in f["precision_modes_cpu"]["runs"]),
}


def render(text: str, figs: dict) -> str:
    """``text`` with every marked section rewritten from ``figs``."""
    def replace(m: re.Match) -> str:
        name = m.group(1)
        if name not in SECTIONS:
            raise KeyError(f"unknown marker {name!r}; known: {', '.join(SECTIONS)}")
        return f"<!-- {name}:begin -->{SECTIONS[name](figs)}<!-- {name}:end -->"

    return MARKER.sub(replace, text)


def main(argv: list[str]) -> int:
    figs = read_results()
    stale = []
    for path in TARGETS:
        old = path.read_text()
        new = render(old, figs)
        if new != old:
            stale.append(path)
            if "--check" not in argv:
                path.write_text(new)
    if "--check" in argv and stale:
        print("stale:", ", ".join(str(p.relative_to(ROOT)) for p in stale), file=sys.stderr)
        return 1
    for p in stale:
        print("rendered", p.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
