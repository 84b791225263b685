"""The ``mlpkit`` command. Thin: each command parses, calls one function, prints.

Errors mlpkit raises (``MlpkitError``) become one line on stderr and exit status
2; ``--debug`` shows the traceback instead. Keras and JAX are imported only by
commands that train or predict, so ``mlpkit --help`` and ``mlpkit data list``
start quickly.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import List, Optional

import typer

from mlpkit.errors import MlpkitError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Build, train, judge and serve multilayer perceptrons (Keras 3).")
data_app = typer.Typer(no_args_is_help=True, help="Find and verify data sets.")
app.add_typer(data_app, name="data")
STATE = {"debug": False}


@app.callback()
def _root(debug: bool = typer.Option(False, "--debug", help="Show tracebacks on errors.")):
    STATE["debug"] = debug


def _print_table(rows: list[dict]) -> None:
    if not rows:
        return
    cols = list(rows[0])
    cells = [[f"{r[c]:.4f}" if isinstance(r[c], float) else str(r[c]) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    typer.echo("  ".join(c.ljust(w) for c, w in zip(cols, widths)))
    for row in cells:
        typer.echo("  ".join(v.ljust(w) for v, w in zip(row, widths)))


@app.command()
def train(
    dataset: Optional[str] = typer.Argument(None, help="fashion-mnist or california-housing "
                                                       "(or set [data] name in --config)."),
    preset: Optional[str] = typer.Option(None, help="seed (the lecture's recipe), fast, ..."),
    epochs: Optional[int] = typer.Option(None, help="Epochs to train."),
    batch_size: Optional[int] = typer.Option(None, help="Batch size (lecture: 32)."),
    learning_rate: Optional[float] = typer.Option(None, help="Optimizer learning rate."),
    optimizer: Optional[str] = typer.Option(None, help="sgd, adam, adamw, rmsprop, nadam."),
    hidden: Optional[str] = typer.Option(None, help="Hidden layer sizes, e.g. 300,100."),
    seed: Optional[int] = typer.Option(None, help="Random seed."),
    out: Optional[Path] = typer.Option(None, help="Run folder (default: a new one in runs/)."),
    data_dir: Optional[Path] = typer.Option(None, help="Folder to look for the data in first."),
    config: Optional[Path] = typer.Option(None, help="TOML config; flags override it."),
    verbose: int = typer.Option(1, help="Keras progress: 1 bar, 2 a line per epoch, 0 none."),
):
    """Train an MLP and write a run folder with its report."""
    from mlpkit import config as cfg
    from mlpkit import training

    overrides = {
        "data": {"data_dir": str(data_dir) if data_dir else None},
        "model": {"hidden": hidden},
        "training": {"epochs": epochs, "batch_size": batch_size, "learning_rate": learning_rate,
                     "optimizer": optimizer, "seed": seed},
        "output": {"out": str(out) if out else None},
    }
    config_ = cfg.resolve(dataset, preset, config, overrides)
    run = training.train(config_, verbose=verbose)
    m = run.manifest
    typer.echo("")
    _print_table([{**run.metrics, "epochs": m["epochs_run"],
                   "fit_seconds": m["timings"]["fit_seconds"]}])
    typer.echo(f"run folder: {run.path}")
    typer.echo(f"report: {run.path / 'report.html'}")


@app.command()
def evaluate(run_dir: Path, as_json: bool = typer.Option(False, "--json", help="Print JSON.")):
    """Evaluate a run's model on its test set."""
    from mlpkit.api import load_run

    metrics = load_run(run_dir).evaluate()
    if as_json:
        typer.echo(json.dumps(metrics))
    else:
        _print_table([metrics])


@app.command()
def predict(run_dir: Path, files: List[Path],
            as_json: bool = typer.Option(False, "--json", help="Print JSON.")):
    """Predict the class of PNG/JPEG images or .npy arrays with a run's model."""
    import numpy as np

    from mlpkit.api import load_run
    from mlpkit.data.images import load_image_file
    from mlpkit.errors import RunError

    run = load_run(run_dir)
    shape = tuple(run.manifest.get("input_shape") or ())
    names = run.class_names
    if len(shape) != 2 or not names:
        raise RunError(f"{run_dir} holds a model for {shape}-shaped rows; predict on image "
                       "files needs an image classifier run.")
    loaded = [load_image_file(f, size=shape) for f in files]
    proba = run.predict(np.stack([img for img, _ in loaded]))
    results = []
    for f, (_, notes), p in zip(files, loaded, proba):
        top = int(np.argmax(p))
        results.append({"file": str(f), "class": names[top], "probability": float(p[top]),
                        "notes": notes})
    if as_json:
        typer.echo(json.dumps(results))
        return
    for r in results:
        note = f"  ({'; '.join(r['notes'])})" if r["notes"] else ""
        typer.echo(f"{r['file']}: {r['class']} ({r['probability']:.3f}){note}")


@app.command()
def compare(
    dataset: str = typer.Argument(..., help="california-housing or fashion-mnist."),
    preset: str = typer.Option("seed", help="Preset of the Keras model."),
    epochs: Optional[int] = typer.Option(None, help="Epochs of the Keras model."),
    max_iter: int = typer.Option(20, help="Iteration cap of the scikit-learn classifier."),
    data_dir: Optional[Path] = typer.Option(None, help="Folder to look for the data in first."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
):
    """Train the lecture's scikit-learn baseline and the Keras MLP on the same split."""
    from mlpkit.compare import compare as compare_

    rows = compare_(dataset, preset, data_dir, max_iter=max_iter,
                    **({"epochs": epochs} if epochs else {}))
    if as_json:
        typer.echo(json.dumps(rows))
    else:
        _print_table(rows)


@app.command()
def report(run_dir: Path):
    """Rebuild a run's report.html (and its plots)."""
    from mlpkit import report as report_
    from mlpkit.api import load_run

    typer.echo(str(report_.build(load_run(run_dir))))


@data_app.command("list")
def data_list(data_dir: Optional[Path] = typer.Option(None, help="Folder to look in first.")):
    """Show where each data set was found (without reading it)."""
    from mlpkit import data
    from mlpkit.config import DATASETS
    from mlpkit.errors import DataError

    for name in DATASETS:
        try:
            kind, paths = data._loader(name).locate(data_dir, download=False)
            typer.echo(f"{name}: {kind} {paths[0].parent}")
        except DataError as e:
            typer.echo(f"{name}: {e}")


@data_app.command("verify")
def data_verify(name: Optional[str] = typer.Argument(None, help="One data set (default: all "
                                                                  "that are found)."),
                data_dir: Optional[Path] = typer.Option(None, help="Folder to look in first.")):
    """Check the sha256 checksums of the data set files where they are found."""
    from mlpkit import data
    from mlpkit.config import DATASETS

    for n in [name] if name else DATASETS:
        r = data.verify(n, data_dir)
        typer.echo(f"{n}: ok ({r['location']} {r['folder']}: {', '.join(r['files'])})")


def main() -> None:
    try:
        app()
    except MlpkitError as e:
        if STATE["debug"]:
            raise
        typer.echo(f"Error: {e}", err=True)
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        typer.echo("Interrupted.", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
