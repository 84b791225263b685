"""The study folder of ``mlpkit tune``: what a study found, as files a person reads.

    trials.csv       one row a trial (all workers'): state, value, parameters, epochs_run,
                     seconds, worker, the trial it retries
    best.toml        the best trial's settings, saying how they were found:
                     `mlpkit train --config best.toml`
    study.json       the study, its storage, metric, counts, best trial and final test run
    space.toml       the search space the trials were drawn from
    plots/optimization_history.png, plots/param_importances.png
"""

from __future__ import annotations

import logging
import re
import warnings
from pathlib import Path

from mlpkit import config as cfg
from mlpkit.search_space import Param, space_toml

log = logging.getLogger("mlpkit")


def redact(url: str) -> str:
    """A storage URL without its password (for files and messages)."""
    import re

    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


def choose(base: cfg.RunConfig, study: str | None, out) -> Path:
    """The study folder: ``out``; else ``<runs_dir>/<study>``; else a new
    ``<runs_dir>/<data>-tune-<time>``."""
    from datetime import datetime

    if out:
        return Path(out)
    if study:
        return Path(base.output.runs_dir) / study
    name = Path(base.data.name)
    stem = name.stem if name.suffix else name.name
    return Path(base.output.runs_dir) / f"{stem}-tune-{datetime.now():%Y%m%d-%H%M%S}"


def counts(study) -> dict[str, int]:
    """Trials of the study by state (all workers)."""
    out: dict[str, int] = {}
    for t in study.get_trials(deepcopy=False):
        out[t.state.name.lower()] = out.get(t.state.name.lower(), 0) + 1
    return out


def _fmt(v) -> str:
    return f"{v:.3g}" if isinstance(v, float) else str(v)


def best_config(study) -> cfg.RunConfig | None:
    """The settings of the study's best trial (as that trial recorded them)."""
    try:
        best = study.best_trial
    except ValueError:  # no complete trial yet
        return None
    return cfg.merge(cfg.RunConfig(), best.user_attrs["config"])


def _numbered(name: str) -> tuple[str, int]:
    """A parameter's name as its stem and the number it ends with (``units_3``:
    ``("units", 3)``; ``("learning_rate", 0)``)."""
    m = re.fullmatch(r"(.+)_(\d+)", name)
    return (m.group(1), int(m.group(2))) if m else (name, 0)


def write_tables(study, folder: Path, metric: str) -> None:
    """``trials.csv``: one row a trial of the study, all workers'."""
    import csv
    import io

    from mlpkit import files

    rows, params = [], []  # params: every trial's (a deeper net's units_3 too)
    for t in study.get_trials(deepcopy=False):
        params += [k for k in t.params if k not in params]
        worker = t.user_attrs.get("worker") or {}
        rows.append({"number": t.number, "state": t.state.name.lower(),
                     metric: "" if t.value is None else round(t.value, 6),
                     **{k: _fmt(v) if isinstance(v, float) else v for k, v in t.params.items()},
                     # the epochs it ran (pruned: fewer); a searched "epochs" is a parameter
                     "epochs_run": t.user_attrs.get("epochs", ""),
                     "fit_seconds": t.user_attrs.get("fit_seconds", ""),
                     "worker": f"{worker.get('host', '')}:{worker.get('pid', '')}",
                     "retry_of": t.system_attrs.get("failed_trial", ""),
                     "started": t.datetime_start.isoformat(timespec="seconds")
                     if t.datetime_start else ""})
    # the parameters beside each other, in the order first seen, units_1, units_2, ...
    # in number order
    first: dict[str, int] = {}
    for k in params:
        first.setdefault(_numbered(k)[0], len(first))
    params.sort(key=lambda k: (first[_numbered(k)[0]], _numbered(k)[1]))
    fields = ["number", "state", metric, *params]
    for r in rows:
        fields += [k for k in r if k not in fields]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    files.write_text(folder / "trials.csv", buf.getvalue())


def write_folder(study, folder: Path, base: cfg.RunConfig, space: dict[str, Param],
                 metric: str, storage: str | None, pruner: str = "", plots: bool = True) -> dict:
    """Write the study folder (see the module's docstring); returns ``study.json``'s dict.
    ``plots=False``: all but the plots (a study stopped by Ctrl-C, on its way out)."""
    import tomli_w

    from mlpkit import files, system

    write_tables(study, folder, metric)
    files.write_text(folder / "space.toml", tomli_w.dumps(space_toml(space)))
    summary_path = folder / "study.json"
    old = files.read_json(summary_path) if summary_path.exists() else {}
    n = counts(study)
    best = best_config(study)
    summary = {
        "study": study.study_name,
        "storage": redact(storage) if storage else str(folder / "journal.log"),
        "dataset": base.data.name, "metric": metric,
        "direction": study.direction.name.lower(), "trials": n,
        "sampler": "TPE", "pruner": pruner,
        "base": cfg.to_dict(base), "updated": system.now(),
        "test_set": "not used by any trial",
    }
    if best is not None:
        t = study.best_trial
        summary["best"] = {"number": t.number, metric: t.value, "params": t.params,
                           "epochs": t.user_attrs.get("epochs"),
                           "fit_seconds": t.user_attrs.get("fit_seconds")}
        header = (f"# Found by `mlpkit tune`: study {study.study_name!r}, trial {t.number} of "
                  f"{sum(n.values())} ({n.get('complete', 0)} complete, {n.get('pruned', 0)} "
                  f"pruned, {n.get('fail', 0)} failed),\n# chosen on the validation set: "
                  f"{metric} {t.value:.4f}. The test set was not used.\n"
                  f"# Repeat: mlpkit train --config {folder / 'best.toml'}\n")
        files.write_text(folder / "best.toml", header + cfg.to_toml(best))
    same_study = all(old.get(k) == summary[k] for k in ("study", "storage"))
    if ("final" in old and same_study
            and old["final"].get("trial") == summary.get("best", {}).get("number")):
        summary["final"] = old["final"]  # still the best config's (another study's is not)
    files.write_json(summary_path, summary)
    if plots:
        plot_study(study, folder / "plots", metric)
    return summary


def record_final(folder: Path, run_path: Path, figures: dict) -> dict:
    """Add the best config's one test run to ``study.json``."""
    from mlpkit import files, system

    summary = files.read_json(folder / "study.json")
    summary["final"] = {"trial": summary["best"]["number"], "run": str(run_path),
                        "test": {k.removeprefix("test_"): v for k, v in figures.items()},
                        "at": system.now()}
    files.write_json(folder / "study.json", summary)
    return summary


def plot_study(study, plots: Path, metric: str = "value") -> list[Path]:
    """Optimization history and parameter importances (when there are enough trials)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import optuna
    from optuna.visualization import matplotlib as ovm

    from mlpkit import files

    plots.mkdir(parents=True, exist_ok=True)
    made = []
    complete = [t for t in study.get_trials(deepcopy=False)
                if t.state == optuna.trial.TrialState.COMPLETE]
    jobs = [("optimization_history", ovm.plot_optimization_history)]
    if len(complete) >= 2 and any(len({str(t.params.get(k)) for t in complete}) > 1
                                  for k in complete[0].params):
        jobs.append(("param_importances", ovm.plot_param_importances))
    for name, draw in jobs:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                ax = draw(study, target_name=metric)
            except (ValueError, RuntimeError) as e:  # e.g. too few trials for importances
                log.info(f"no {name} plot: {e}")
                continue
        fig = ax.figure
        fig.set_size_inches(8, 5)
        fig.tight_layout()
        with files.atomic_path(plots / f"{name}.png") as tmp:
            fig.savefig(tmp, format="png", dpi=100)
        plt.close(fig)
        made.append(plots / f"{name}.png")
    return made
