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
                  help="Build, train, judge, tune and serve multilayer perceptrons (Keras 3).")
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
    from mlpkit.api import format_table

    for line in format_table(rows):
        typer.echo(line)


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
    drop: Optional[str] = typer.Option(None, help="Tables: columns not to use, e.g. id,notes."),
    columns: Optional[str] = typer.Option(None, help="Tables: use only these feature columns."),
    column_types: Optional[str] = typer.Option(
        None, help="Tables: force column types, e.g. zip=category,when=datetime (number, "
                   "boolean, datetime, category, text, drop)."),
    epochs: Optional[int] = typer.Option(None, help="Epochs to train."),
    batch_size: Optional[int] = typer.Option(None, help="Batch size (lecture: 32)."),
    learning_rate: Optional[float] = typer.Option(None, help="Optimizer learning rate."),
    optimizer: Optional[str] = typer.Option(None, help="sgd, adam, adamw, rmsprop, nadam."),
    momentum: Optional[float] = typer.Option(None, help="SGD momentum."),
    nesterov: Optional[bool] = typer.Option(None, "--nesterov", help="SGD with Nesterov momentum."),
    weight_decay: Optional[float] = typer.Option(
        None, help="Decoupled weight decay (any optimizer; AdamW's default 0.004)."),
    label_smoothing: Optional[float] = typer.Option(
        None, help="Classification: smooth the labels in the loss, e.g. 0.1 (0: none)."),
    schedule: Optional[str] = typer.Option(None, help="Learning rate: constant or cosine."),
    patience: Optional[int] = typer.Option(None, help="Early stopping patience (restores the "
                                                      "best weights); 0: off."),
    train_on_validation: Optional[bool] = typer.Option(
        None, "--train-on-validation/--no-train-on-validation", help="The final fit, "
        "settings chosen: train on the training and validation rows together (no "
        "validation figures, no --patience)."),
    hidden: Optional[str] = typer.Option(None, help="Hidden layer sizes, e.g. 300,100."),
    activation: Optional[str] = typer.Option(None, help="Hidden activation, e.g. relu, selu."),
    dropout: Optional[float] = typer.Option(None, help="Dropout rate after each hidden layer."),
    members: Optional[int] = typer.Option(None, help="Train an ensemble of N (1-64) such "
                                                     "MLPs, each on its own loss, averaged."),
    random_flip: Optional[str] = typer.Option(
        None, help="Images: flip at random in training: horizontal, vertical, "
                   "horizontal_and_vertical (default none)."),
    random_shift: Optional[int] = typer.Option(
        None, help="Images: shift by up to N whole pixels at random in training (0: none)."),
    coordinates: Optional[str] = typer.Option(
        None, help="Tables: two coordinate columns in one unit, e.g. Latitude,Longitude: the "
                   "model also sees them rotated (--coordinate-rotations views, default 10; "
                   "\"\" for none)."),
    coordinate_rotations: Optional[int] = typer.Option(
        None, help="Tables: how many rotated views of --coordinates (1-90)."),
    seed: Optional[int] = typer.Option(None, help="Random seed."),
    out: Optional[Path] = typer.Option(None, help="Run folder (default: a new one in runs/)."),
    data_dir: Optional[Path] = typer.Option(None, help="Folder to look for the data in first."),
    config: Optional[Path] = typer.Option(None, help="TOML config; flags override it."),
    checkpoint_steps: Optional[int] = typer.Option(
        None, help="Save a checkpoint every N steps too (default: each epoch's end only)."),
    devices: Optional[str] = typer.Option(
        None, help="Split each batch across N devices, or all (keras.distribution."
                   "DataParallel); --batch-size and --learning-rate stay the global ones."),
    precision: Optional[str] = typer.Option(
        None, help="float32 (default), mixed_bfloat16 or mixed_float16 (Keras dtype "
                   "policies; float16 with loss scaling)."),
    resume: Optional[Path] = typer.Option(
        None, help="Continue this unfinished run folder from its last checkpoint, with its "
                   "own settings (config.toml)."),
    verbose: int = typer.Option(1, help="Keras progress: 1 bar, 2 a line per epoch, 0 none."),
):
    """Train an MLP and write a run folder with its report."""
    import signal

    from mlpkit import api, errors
    from mlpkit.errors import ConfigError

    settings = {k: v for k, v in locals().items()
                if k not in ("dataset", "preset", "config", "verbose", "api", "resume", "signal",
                             "errors", "ConfigError")}

    # SIGTERM as Ctrl-C: the loop stops at a step boundary and saves; neither is lost
    # where Python drops a handler's exception, nor raised inside an import (errors.py)
    with errors.stopping_on(signal.SIGINT, signal.SIGTERM):
        try:
            if resume is not None:
                given = [f"--{k.replace('_', '-')}" for k, v in settings.items()
                         if v is not None]
                given += [f for f, v in (("DATASET", dataset), ("--preset", preset),
                                         ("--config", config)) if v is not None]
                if given:
                    raise ConfigError(f"--resume continues a run with its own settings "
                                      f"({resume}/config.toml); drop {', '.join(given)}.")
                run = api.resume(resume, verbose=verbose)
            else:
                run = api.train(dataset, preset, config, verbose=verbose, **settings)
        except KeyboardInterrupt as e:  # Interrupted: what was saved, and how to resume
            # on a line of its own, after a progress bar's (which ends without a newline)
            typer.echo(("\n" if verbose else "") + (
                f"Interrupted: {e}" if str(e) else "Interrupted before training began; "
                "nothing was saved."), err=True)
            raise typer.Exit(getattr(e, "exit_code", 130))
    m = run.manifest
    typer.echo("")
    _print_table([{**run.metrics, "epochs": m["epochs_run"],
                   "fit_seconds": m["timings"]["fit_seconds"]}])
    typer.echo(f"run folder: {run.path}")
    typer.echo(f"report: {run.path / 'report.html'}")


TRAIN_OPTIONS = {"allow_extra_args": True, "ignore_unknown_options": True}


def _train_options(dataset: str | None, args: list[str]) -> tuple[str | None, dict]:
    """The data argument, and ``--epochs 5 --hidden 300,100 --nesterov``: the options of
    ``mlpkit train``, as settings (checked with the same messages when the config is
    resolved).

    Click passes the options it does not know through: the first in ``dataset`` when no
    data path came before it (``tune --config c.toml --out s``), the others in ``args``,
    in their order; a path among them is the data.
    """
    from mlpkit.config import CONSTRAINTS, SETTING_SECTION
    from mlpkit.errors import ConfigError, did_you_mean

    if dataset is not None and dataset.startswith("--"):
        dataset, args = None, [dataset, *args]
    options = {"--" + k.replace("_", "-") for k in SETTING_SECTION}
    out, i = {}, 0
    while i < len(args):
        key, eq, value = args[i].partition("=")
        name = key[2:].replace("-", "_")
        negated = name.removeprefix("no_")  # --no-train-on-validation: a flag set false
        if (name != negated and not eq and negated in SETTING_SECTION
                and CONSTRAINTS.get(negated, (None,))[0] is bool):
            out[negated], i = False, i + 1
            continue
        if not key.startswith("-") and dataset is None:  # the data, after an option
            dataset, i = args[i], i + 1
            continue
        if key in ("--verbose", "--resume"):
            raise ConfigError(f"{key} is an option of mlpkit train alone (one run); this "
                              "command takes the settings of a run. Drop it.")
        if not key.startswith("--") or name not in SETTING_SECTION:
            raise ConfigError(f"unknown option {key!r}.{did_you_mean(key, options)} See "
                              "mlpkit train --help for the options of a run.")
        if CONSTRAINTS.get(name, (None,))[0] is bool and not eq:  # a flag: --nesterov
            out[name], i = True, i + 1
            continue
        if not eq:
            if i + 1 >= len(args):
                raise ConfigError(f"option {key} needs a value, e.g. {key} VALUE")
            value, i = args[i + 1], i + 1
        out[name], i = value, i + 1
    return dataset, out


@app.command("lr-find", context_settings=TRAIN_OPTIONS)
def lr_find(
    ctx: typer.Context,
    dataset: Optional[str] = typer.Argument(None, help="As for mlpkit train."),
    preset: Optional[str] = typer.Option(None, help="seed (the lecture's recipe), fast, ..."),
    config: Optional[Path] = typer.Option(None, help="TOML config; options override it."),
    min_lr: float = typer.Option(1e-6, help="Learning rate of the first step."),
    max_lr: float = typer.Option(10.0, help="Learning rate of the last step."),
    steps: int = typer.Option(300, help="Steps (batches) from --min-lr to --max-lr."),
):
    """Find a learning rate: train a few hundred steps while it grows exponentially,
    plot the loss against it and suggest one. Takes the options of mlpkit train
    (--optimizer, --batch-size, --hidden, --out, ...)."""
    from mlpkit import api

    dataset, settings = _train_options(dataset, ctx.args)
    path, found = api.lr_find(dataset, preset, config, min_lr=min_lr, max_lr=max_lr,
                              steps=steps, **settings)
    if found.suggestion is None:
        typer.echo(f"no suggestion: the loss never fell below its start (rule: {found.rule})."
                   " Try a lower --min-lr.")
    else:
        typer.echo(f"suggested learning rate: {found.suggestion:.3g} ({found.rule})")
    if found.steepest:
        typer.echo(f"steepest fall of the loss at {found.steepest:.3g}")
    typer.echo(f"{len(found.losses)} steps ({found.stopped}); plot: "
               f"{path / 'plots' / 'lr_find.png'}")


@app.command(context_settings=TRAIN_OPTIONS)
def tune(
    ctx: typer.Context,
    dataset: Optional[str] = typer.Argument(None, help="As for mlpkit train."),
    trials: int = typer.Option(20, help="Finished trials the study needs (all workers)."),
    timeout: Optional[float] = typer.Option(None, help="Stop this worker after S seconds."),
    storage: Optional[str] = typer.Option(
        None, help="Database URL shared by workers (postgresql://user@host/db) or a journal "
                   "file; default: journal.log in the study folder."),
    study: Optional[str] = typer.Option(None, help="Study name (default: the folder's)."),
    preset: Optional[str] = typer.Option(None, help="Settings the trials start from."),
    config: Optional[Path] = typer.Option(None, help="TOML config; a \\[tune] table in it "
                                          "narrows or widens the search space."),
    final: bool = typer.Option(True, "--final/--no-final", help="Train the best config "
                               "once at the end and report its test figures."),
    sampler_seed: Optional[int] = typer.Option(None, help="Seed of the TPE sampler."),
):
    """Search hyperparameters with Optuna (TPE, pruning) on the validation set; write a
    study folder with trials.csv, best.toml and plots. Takes the options of mlpkit
    train (--epochs, --out for the study folder, ...)."""
    import signal

    from mlpkit import api, errors

    dataset, settings = _train_options(dataset, ctx.args)
    out = settings.pop("out", None)
    try:  # SIGTERM as Ctrl-C: the running trial ends failed
        with errors.stopping_on(signal.SIGINT, signal.SIGTERM):
            s = api.tune(dataset, preset, config, trials=trials, timeout=timeout,
                         storage=storage, study=study, out=out, final=final,
                         sampler_seed=sampler_seed, **settings)
    except KeyboardInterrupt as e:
        typer.echo("Interrupted: the running trial, if any, is marked failed; the same "
                   "command continues the study.", err=True)
        raise typer.Exit(getattr(e, "exit_code", 130))
    n = s["trials"]
    typer.echo(f"study {s['study']}: " + ", ".join(f"{v} {k}" for k, v in sorted(n.items())))
    typer.echo(f"study folder: {s['folder']}")
    if "best" not in s:
        typer.echo("no trial completed: no best config yet.")
        return
    b = s["best"]
    typer.echo(f"best: trial {b['number']}, {s['metric']} {b[s['metric']]:.4f} "
               f"({', '.join(f'{k} {v}' for k, v in b['params'].items())})")
    typer.echo(f"best config: {Path(s['folder']) / 'best.toml'}")
    if "final" in s:
        figures = ", ".join(f"{k} {v:.4f}" for k, v in s["final"]["test"].items())
        typer.echo(f"best config trained once: test {figures} (run {s['final']['run']})")


@app.command()
def evaluate(run_dir: Path,
             data: Optional[Path] = typer.Option(None, help="Evaluate on every row of this "
                                                 "file or folder instead of the run's test set."),
             as_json: bool = typer.Option(False, "--json", help="Print JSON.")):
    """Evaluate a run's model on its test set (or on other data with --data)."""
    from mlpkit import api

    metrics = api.evaluate_run(run_dir, data)
    if as_json:  # "data": what the figures (named test_*, as in metrics.json) measured
        typer.echo(json.dumps({"data": str(data) if data else "test set", **metrics}))
    else:  # the figures keep their test_ names; say what they were measured on
        typer.echo(f"on every row of {data}" if data else "on the run's test set")
        _print_table([metrics])


@app.command()
def predict(run_dir: Path, files: List[Path],
            id_column: Optional[str] = typer.Option(
                None, "--id", help="A table's column to print beside each prediction (and "
                                   "as \"id\" in --json), e.g. PassengerId."),
            as_json: bool = typer.Option(False, "--json", help="Print JSON."),
            output: Optional[Path] = typer.Option(
                None, "--output", "-o", help="Write the predictions to this CSV file (a "
                "row each: --id's value or the file and row, the prediction under the "
                "target's name, its probability)."),):
    """Predict with a run's model: PNG/JPEG images (or a folder of them) or .npy arrays
    for an image model, CSV/Parquet rows for a table model; - reads standard input."""
    import contextlib
    import tempfile

    from mlpkit import api
    from mlpkit.errors import MlpkitError

    if output is not None:  # before the model loads
        if not output.parent.is_dir():
            raise MlpkitError(f"--output {output}: the folder {output.parent} does not exist; "
                              "create it first or choose another path")
        if output.is_dir():
            raise MlpkitError(f"--output {output} is a folder; name a file in it, e.g. "
                              f"{output / 'predictions.csv'}")
        if any(str(f) != "-" and Path(f).exists() and output.exists()
               and output.samefile(f) for f in files):
            raise MlpkitError(f"--output {output} is also an input: writing it would lose "
                              "the rows it holds; choose another path")
    with contextlib.ExitStack() as stack:
        saved = {}  # "-" (standard input) or a pipe (<(...), /dev/fd/63): its saved file
        for f in files:
            name = str(f)
            if name not in saved and (name == "-" or (Path(f).exists() and not Path(f).is_file()
                                                      and not Path(f).is_dir())):
                folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
                saved[name] = _stdin_file(folder, None if name == "-" else Path(f))
        try:
            run = api.load_run(run_dir)
            results = run.predict_files([saved.get(str(f), f) for f in files], id_column)
        except MlpkitError as e:
            for name, path in saved.items():  # say "-", not the temporary file's path
                shown = "- (standard input)" if name == "-" else name
                e.args = (str(e).replace(str(path), shown), *e.args[1:])
            raise
    for r in results:
        r["file"] = next((name for name, path in saved.items() if r["file"] == str(path)),
                         r["file"])
    if output is not None:
        from mlpkit.files import write_text

        try:
            write_text(output, run.predictions_csv(results, id_column))
        except OSError as e:
            raise MlpkitError(f"--output {output}: cannot write it ({e.strerror or e}); "
                              "choose another path") from None
        failed = sum("error" in r for r in results)
        typer.echo(f"wrote {len(results) - failed} prediction(s) to {output}"
                   + (f", and {failed} file(s) with no prediction and why" if failed else ""),
                   err=True)
        if not as_json:
            return
    if as_json:
        typer.echo(json.dumps(results))
        return
    for r in results:
        where = f"{r['file']}:{r['row']}" if "row" in r else r["file"]
        where += f" [{r['id']}]" if "id" in r else ""
        shown = (", ".join(f"{_plain_name(k)}={v:.6g}" for k, v in r["predictions"].items())
                 if "predictions" in r else f"{r['prediction']:.6g}"
                 if isinstance(r["prediction"], float) else f"{r['prediction']}")
        shown = f"no prediction ({r['error']})" if "error" in r else shown
        shown += f" ({r['probability']:.3f})" if "probability" in r else ""
        note = f"  ({'; '.join(r['notes'])})" if r["notes"] else ""
        typer.echo(f"{where}: {shown}{note}")


def _stdin_file(folder: Path, pipe: Path | None = None) -> Path:
    """Standard input (or a ``pipe``, as a shell's <(...) gives) saved in ``folder`` as a
    file named for what it holds (CSV rows, a PNG/JPEG image, a .npy array or a Parquet
    file), for ``predict -``: the readers open a file more than once."""
    from mlpkit.errors import DataError

    if pipe is None and sys.stdin.isatty():
        raise DataError("- reads standard input, which is a terminal here: pipe a file (CSV "
                        "rows with their header, an image or a .npy array), e.g. "
                        "cat rows.csv | mlpkit predict RUN -")
    data = pipe.read_bytes() if pipe is not None else sys.stdin.buffer.read()
    if not data.strip():
        raise DataError(f"nothing came from {pipe}: it is empty." if pipe is not None else
                        "nothing came on standard input (-): pipe a file (CSV rows with "
                        "their header, an image or a .npy array), e.g. "
                        "cat rows.csv | mlpkit predict RUN -")
    magic = {b"\x89PNG": ".png", b"\xff\xd8\xff": ".jpg", b"\x93NUMPY": ".npy",
             b"PAR1": ".parquet"}
    path = folder / ("stdin" + next((s for m, s in magic.items() if data.startswith(m)), ".csv"))
    path.write_bytes(data)
    return path


def _plain_name(name: str) -> str:
    """A target's name in a plain ``name=value`` list: in double quotes (JSON's) when it
    holds "=", ",", a quote or spaces at its ends, so each pair reads one way."""
    plain = name == name.strip() and not any(c in name for c in '=,"')
    return name if plain and name else json.dumps(name, ensure_ascii=False)


@app.command(context_settings=TRAIN_OPTIONS)
def compare(
    ctx: typer.Context,
    dataset: str = typer.Argument(..., help="california-housing, fashion-mnist, or your data "
                                            "as for mlpkit train (with --target ...)."),
    preset: str = typer.Option("seed", help="Preset of the Keras model."),
    epochs: Optional[int] = typer.Option(None, help="Epochs of the Keras model."),
    max_iter: Optional[int] = typer.Option(
        None, help="Iteration cap of the scikit-learn MLP (default: 20 for a classifier, "
                   "scikit-learn's 200 for the regressor)."),
    data_dir: Optional[Path] = typer.Option(None, help="Folder to look for the data in first."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
):
    """Train the lecture's scikit-learn baseline and the Keras MLP on the same split. Takes
    the setting options of mlpkit train (--target, --hidden, ...)."""
    from mlpkit import api
    from mlpkit.errors import ConfigError

    dataset, settings = _train_options(dataset, ctx.args)
    for key in ("out", "runs_dir"):
        if key in settings:
            raise ConfigError(f"compare writes no run folder; drop --{key.replace('_', '-')} "
                              "(mlpkit train writes one).")
    rows = api.compare(dataset, preset, data_dir, max_iter=max_iter, epochs=epochs, **settings)
    if as_json:
        typer.echo(json.dumps(rows))
    else:
        _print_table(rows)


@app.command()
def report(run_dir: Path):
    """Rebuild a run's report.html (and its plots)."""
    from mlpkit import api

    typer.echo(str(api.rebuild_report(run_dir)))


@app.command()
def serve(run_dir: Path = typer.Argument(..., help="A run folder written by mlpkit train."),
          host: str = typer.Option("127.0.0.1", help="Address to bind (loopback: this "
                                                    "machine only)."),
          port: int = typer.Option(8000, help="TCP port."),
          name: Optional[str] = typer.Option(None, help="Model name in the URLs (default: "
                                                        "the run folder's name).")):
    """Serve a run's model over HTTP: the Open Inference Protocol (/v2), TensorFlow
    Serving's REST API (/v1), /predict, and a page to try the model at /."""
    from mlpkit import api

    api.serve(run_dir, host, port, name)


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
        # standalone_mode=False: the parser's errors come here, to be printed on one line
        code = app(standalone_mode=False)
    except typer.Abort:
        typer.echo("Aborted.", err=True)
        sys.exit(1)
    except typer.TyperException as e:  # a usage error (click's, as vendored by Typer)
        ctx = getattr(e, "ctx", None)
        if type(e).__name__ == "NoArgsIsHelpError":  # no arguments: the help, as it is
            e.show()  # (with Rich, printed already: the message is then empty)
        else:
            message = e.format_message().strip()
            message += "" if message.endswith((".", "?", "!")) else "."
            where = ctx.command_path if ctx is not None else "mlpkit"
            typer.echo(f"Error: {message} Try '{where} --help'.", err=True)
        sys.exit(getattr(e, "exit_code", 2))
    except MlpkitError as e:
        if STATE["debug"]:
            raise
        typer.echo(f"Error: {e}", err=True)
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        typer.echo("Interrupted.", err=True)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
