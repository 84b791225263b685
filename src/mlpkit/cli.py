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


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"mlpkit {version('mlpkit')}")
        raise typer.Exit()


@app.callback()
def _root(debug: bool = typer.Option(False, "--debug", help="Show tracebacks on errors."),
          _: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit.")):
    import logging

    STATE["debug"] = debug
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("note: %(message)s"))
    logger = logging.getLogger("mlpkit")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)


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
    dataset: Optional[str] = typer.Argument(
        None, help="fashion-mnist, california-housing, or the path of a CSV/Parquet table, "
                   "an .npz file or an image folder (or set [data] name in --config)."),
    preset: Optional[str] = typer.Option(None, help="seed (the lecture's recipe), fast, ..."),
    target: Optional[str] = typer.Option(None, help="Tables: the column to predict."),
    task: Optional[str] = typer.Option(None, help="auto, multiclass, binary, multilabel, "
                                                  "regression."),
    one_hot: Optional[bool] = typer.Option(None, "--one-hot", help="One-hot labels "
                                           "(to_categorical): categorical_crossentropy."),
    validation_split: Optional[float] = typer.Option(None, help="Fraction held out to validate."),
    test_split: Optional[float] = typer.Option(None, help="Fraction held out to test."),
    split_order: Optional[str] = typer.Option(None, help="shuffle (default, with --seed) or "
                                                         "keep (the last rows, as Keras)."),
    validation_data: Optional[Path] = typer.Option(None, help="A separate validation file."),
    sample_weight: Optional[str] = typer.Option(None, help="Tables: column of row weights."),
    class_weight: Optional[str] = typer.Option(None, help="balanced, or e.g. 0:1,1:3."),
    image_size: Optional[str] = typer.Option(None, help="Images: HxW (default 28x28) or native."),
    color: Optional[str] = typer.Option(None, help="Images: grayscale or rgb."),
    epochs: Optional[int] = typer.Option(None, help="Epochs to train."),
    batch_size: Optional[int] = typer.Option(None, help="Batch size (lecture: 32)."),
    learning_rate: Optional[float] = typer.Option(None, help="Optimizer learning rate."),
    optimizer: Optional[str] = typer.Option(None, help="sgd, adam, adamw, rmsprop, nadam."),
    momentum: Optional[float] = typer.Option(None, help="SGD momentum."),
    nesterov: Optional[bool] = typer.Option(None, "--nesterov", help="SGD with Nesterov momentum."),
    schedule: Optional[str] = typer.Option(None, help="Learning rate: constant or cosine."),
    patience: Optional[int] = typer.Option(None, help="Early stopping patience (restores the "
                                                      "best weights); 0: off."),
    hidden: Optional[str] = typer.Option(None, help="Hidden layer sizes, e.g. 300,100."),
    activation: Optional[str] = typer.Option(None, help="Hidden activation, e.g. relu, selu."),
    dropout: Optional[float] = typer.Option(None, help="Dropout rate after each hidden layer."),
    seed: Optional[int] = typer.Option(None, help="Random seed."),
    out: Optional[Path] = typer.Option(None, help="Run folder (default: a new one in runs/)."),
    data_dir: Optional[Path] = typer.Option(None, help="Folder to look for the data in first."),
    config: Optional[Path] = typer.Option(None, help="TOML config; flags override it."),
    verbose: int = typer.Option(1, help="Keras progress: 1 bar, 2 a line per epoch, 0 none."),
):
    """Train an MLP and write a run folder with its report."""
    from mlpkit import api

    settings = {k: v for k, v in locals().items()
                if k not in ("dataset", "preset", "config", "verbose", "api")}
    run = api.train(dataset, preset, config, verbose=verbose, **settings)
    m = run.manifest
    typer.echo("")
    _print_table([{**run.metrics, "epochs": m["epochs_run"],
                   "fit_seconds": m["timings"]["fit_seconds"]}])
    typer.echo(f"run folder: {run.path}")
    typer.echo(f"report: {run.path / 'report.html'}")


@app.command()
def evaluate(run_dir: Path,
             data: Optional[Path] = typer.Option(None, help="Evaluate on every row of this "
                                                 "file or folder instead of the run's test set."),
             as_json: bool = typer.Option(False, "--json", help="Print JSON.")):
    """Evaluate a run's model on its test set (or on other data with --data)."""
    from mlpkit import api

    metrics = api.evaluate_run(run_dir, data)
    if as_json:
        typer.echo(json.dumps(metrics))
    else:
        _print_table([metrics])


@app.command()
def predict(run_dir: Path, files: List[Path],
            as_json: bool = typer.Option(False, "--json", help="Print JSON.")):
    """Predict with a run's model: PNG/JPEG images or .npy arrays for an image model,
    CSV/Parquet rows for a table model."""
    from mlpkit import api

    results = api.predict_files(run_dir, files)
    if as_json:
        typer.echo(json.dumps(results))
        return
    for r in results:
        where = f"{r['file']}:{r['row']}" if "row" in r else r["file"]
        shown = f"{r['prediction']}" + (f" ({r['probability']:.3f})" if "probability" in r
                                        else "")
        note = f"  ({'; '.join(r['notes'])})" if r["notes"] else ""
        typer.echo(f"{where}: {shown}{note}")


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
    from mlpkit import api

    rows = api.compare(dataset, preset, data_dir, max_iter=max_iter, epochs=epochs)
    if as_json:
        typer.echo(json.dumps(rows))
    else:
        _print_table(rows)


@app.command()
def report(run_dir: Path):
    """Rebuild a run's report.html (and its plots)."""
    from mlpkit import api

    typer.echo(str(api.rebuild_report(run_dir)))


@data_app.command("list")
def data_list(data_dir: Optional[Path] = typer.Option(None, help="Folder to look in first.")):
    """Show where each data set was found (without reading it)."""
    from mlpkit import api

    for r in api.data_locations(data_dir):
        typer.echo(f"{r['name']}: {r['error']}" if "error" in r
                   else f"{r['name']}: {r['location']} {r['folder']}")


@data_app.command("verify")
def data_verify(name: Optional[str] = typer.Argument(None, help="One data set (default: all "
                                                                  "that are found)."),
                data_dir: Optional[Path] = typer.Option(None, help="Folder to look in first.")):
    """Check the sha256 checksums of the data set files where they are found."""
    from mlpkit import api

    for r in api.verify_data(name, data_dir):
        typer.echo(f"{r['name']}: ok ({r['location']} {r['folder']}: {', '.join(r['files'])})")


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
