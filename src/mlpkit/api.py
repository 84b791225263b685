"""The public Python API; the command line calls these and nothing else.

    import mlpkit
    ds = mlpkit.load_dataset("fashion-mnist")
    run = mlpkit.train(ds, preset="seed", epochs=5)
    run.history["val_accuracy"], run.evaluate(), run.predict(ds.x_test[:3])
    run = mlpkit.load_run(run.path)

``train_config`` is the one place the whole job is put together: data, model,
fit, evaluation, run folder, report. Keras is imported only when a function here
needs it, so ``import mlpkit`` stays cheap.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import shlex
import signal
from pathlib import Path

from mlpkit import config as cfg
from mlpkit import errors
from mlpkit.config import resolve as resolve_config
from mlpkit.errors import RunError
from mlpkit.runs import Run

log = logging.getLogger("mlpkit")

__all__ = ["Run", "compare", "data_locations", "describe", "evaluate_run", "format_table",
           "load_dataset", "load_run", "lr_find",
           "predict_files", "rebuild_report", "resolve_config", "resume", "serve", "train",
           "train_config", "tune", "verify_data"]


def load_dataset(name: str, data_dir: str | Path | None = None):
    """A built-in data set with the lecture's split (see ``mlpkit.data``)."""
    from mlpkit import data

    return data.load(name, data_dir=data_dir)


def _loaded(dataset, function: str):
    """The ``Dataset`` passed to ``function``; ``None`` for a name or path (or nothing).

    Raises:
        ConfigError: for anything else (a DataFrame, an array), saying what to pass.
    """
    if dataset is None or isinstance(dataset, (str, Path)):
        return None
    if not hasattr(dataset, "preset_family"):
        kind = type(dataset).__name__
        save = ("save it with df.to_csv('table.csv', index=False) and pass the path"
                if hasattr(dataset, "columns") else
                "save arrays with np.savez('data.npz', x_train=x, y_train=y) and pass the path")
        raise errors.ConfigError(
            f"mlpkit.{function} takes a data set's name or path, or an mlpkit Dataset "
            f"(mlpkit.load_dataset's); this is a {kind}: {save} (mlpkit.sklearn's "
            "estimators fit arrays in memory)")
    return dataset


# the [data] settings that say how a file is read and split: nothing for a Dataset
READING = ("validation_split", "test_split", "split_order", "task", "one_hot", "image_size",
           "color", "target", "sample_weight", "validation_data", "drop", "columns",
           "column_types", "data_dir")


def train(dataset=None, preset: str | None = None, config_file=None,
          verbose="auto", **settings) -> Run:
    """Train an MLP and write its run folder.

    Args:
        dataset: a data set name or path, or a loaded ``Dataset``; ``None``: the one
            the config file names, else "fashion-mnist".
        preset: "seed" (the lecture's recipe) or another shipped preset.
        config_file: a TOML file of settings; ``settings`` override it.
        verbose: Keras's ``fit`` verbosity.
        **settings: any config value by name: ``epochs``, ``batch_size``,
            ``learning_rate``, ``optimizer``, ``hidden``, ``seed``, ``out``, ...

    Returns:
        The ``Run``, with ``model``, ``history``, ``evaluate()`` and ``predict()``.

    Example:
        >>> run = mlpkit.train("fashion-mnist", preset="seed", epochs=5)
    """
    loaded = _loaded(dataset, "train")
    if loaded is not None:  # read and split already: a reading or split setting would be lost
        given = sorted(k for k in set(settings) & set(READING) if settings[k] is not None)
        if given:
            raise errors.ConfigError(
                f"{given[0]} applies when mlpkit reads and splits the data; this Dataset is "
                f"read and split already. Pass the data's name or path instead, e.g. "
                f"mlpkit.train({loaded.name!r}, {given[0]}=...). Received: {given[0]}="
                f"{settings[given[0]]!r}")
    name = loaded.name if loaded is not None else (str(dataset) if dataset else None)
    family = None if loaded is None else loaded.preset_family()  # a name of its own
    return train_config(resolve_config(name, preset, config_file, family=family, **settings),
                        loaded, verbose)


def pixels_scaled(ds):
    """``ds`` with raw pixels (0-255) put in a Dataset by hand divided by 255, as predict
    scales an image model's input (``arrays.pixel_scale``), said in its notes."""
    import numpy as np

    from mlpkit.data.arrays import pixel_scale
    from mlpkit.data.dataset import Rows

    parts = {name: Rows(np.asarray(getattr(ds, f"x_{part}")), None) for name, part in (
        ("rows", "train"), ("valid", "valid"), ("test", "test"))}
    scaled = pixel_scale(parts, ds.image is not None)
    if not scaled:
        return ds
    return dataclasses.replace(ds, notes=[*ds.notes, *scaled], x_train=parts["rows"].x,
                               x_valid=parts["valid"].x, x_test=parts["test"].x)


def train_config(config: cfg.RunConfig, dataset=None, verbose="auto",
                 resume: str | Path | None = None) -> Run:
    """The whole job for a resolved ``RunConfig``; returns the ``Run``.

    Everything that can be refused (data, settings, class weights, activations) is
    checked before the run folder exists, so a bad command leaves no folder; an
    ``--out`` naming an existing run is refused before the data is loaded.

    Args:
        resume: continue this run folder (whose config is ``config``) from its last
            checkpoint instead of making a new one; see ``resume``.

    Raises:
        MlpkitError: bad config, missing data or an unwritable run folder.
        errors.Interrupted: Ctrl-C or SIGTERM; a checkpoint was saved and the
            message says how to resume.
    """
    from mlpkit import runs

    if resume is None:  # before Keras and the data load: refusing is quick
        runs.check_out(config.output.out, config.output.runs_dir)
    with errors.deferred_stop():  # a signal during these imports is raised after them
        import keras

        from mlpkit import checkpoints, data, distribution, evaluation, files, jax_loop
        from mlpkit import labels, models, precision, report, system, training

    models.check_activations(config.model.activation)  # before the data: refusing is quick
    distribution.initialize_from_environment()  # a multi-host run: before JAX computes
    timer = system.Timer()
    with timer("load_data"):
        if dataset is None:
            dataset = Run(resume).dataset if resume else data.load_for(config)
        ds = pixels_scaled(dataset)
        if not ds.split_matches():  # changed by hand: its split no longer says which rows
            ds = dataclasses.replace(ds, split=None, test_names=None, notes=[*ds.notes, (
                f"the data set's rows ({ds.sizes}) differ from the split it was loaded with "
                f"({ {k: v['rows'] for k, v in ds.split.summary().items()} }): the run keeps "
                "its validation and test rows themselves (heldout.npz)")])
    described = describe(ds)
    for line in [*ds.notes, *described]:
        log.info(line)
    # what is said from here to the model's compilation (the task's loss, class weights,
    # targets standardized, ...) is a note of the run too, in its manifest and report
    said = _Said()
    with said:
        said.lines.append(described[-1])  # the task's loss and output layer
        if config.training.label_smoothing:
            log.info(f"label smoothing {config.training.label_smoothing:g} in the training loss "
                     "(the test loss reported is the plain one)")
        fit_ds = ds  # what the model is fitted on
        if config.training.train_on_validation:
            fit_ds = training.with_validation_rows(ds)
            log.info(f"train_on_validation: the final fit trains on the training and validation "
                     f"rows together ({len(fit_ds.x_train)}), with no validation figures; the "
                     "settings must have been chosen on the validation rows before")
        class_weight = labels.class_weights(config.training.class_weight, fit_ds.y_train,
                                            ds.labels)
        if class_weight:
            log.info("class weights: " + ", ".join(f"{ds.class_names[i]} {w:.3g}"
                                                   for i, w in class_weight.items()))
        fitting = within_budget(config.training, len(fit_ds.x_train))
        if keras.backend.backend() == "jax":
            jax_loop.enable_compilation_cache()  # before the initializers compile
        keras.utils.set_random_seed(config.training.seed)
        t = config.training
        scale = contextlib.ExitStack()  # several devices (distribution.py): until the run ends
        try:
            devices = scale.enter_context(distribution.use(t.devices, t.batch_size))
            model = training.build_model(fit_ds, config)  # under t.precision's dtype policy
            training.compile_model(model, ds.task, fitting, len(fit_ds.x_train), ds.one_hot,
                                   training.target_loss_scale(fit_ds, config.model))
            if config.model.members > 1:
                log.info(f"model: an ensemble of {config.model.members} such MLPs, each trained on "
                         "its own loss; it predicts their mean")
        except BaseException:
            scale.close()
            raise

    errors.check_stop()  # a signal during start-up whose exception Python dropped
    if resume is None:
        path = runs.create(config.output.runs_dir, ds.name, config.preset, config.output.out)
        manifest = {
            "status": "running", "started": system.now(), "dataset": ds.name, "task": ds.task,
            "preset": config.preset, "seed": config.training.seed,
            "members": config.model.members, "backend": keras.backend.backend(), "versions": system.versions(),
            "machine": system.machine(), "data": {"sizes": ds.sizes, **ds.source},
            "split": ds.split.summary() if ds.split is not None else None,
            "notes": [*ds.notes, *said.lines],
            "devices": distribution.describe(devices, t.batch_size, t.learning_rate),
            "precision": precision.describe(model, t.precision),
        }
    else:
        path = Path(resume)
        manifest = runs.read_json(path / runs.MANIFEST)
    lock = checkpoints.RunLock(path)  # held while training; freed by the system if we die
    if resume is not None:
        lock.acquire()  # another process trains it: refused before anything changes
    checkpointer = None
    try:
        if resume is None:
            files.write_json(path / runs.MANIFEST, manifest)
            lock.acquire()
            files.write_text(path / "config.toml", cfg.to_toml(config))
            files.write_json(path / "preprocessing.json", ds.preprocessing())
            if ds.split is not None:
                ds.split.save(path / "split.npz")
            else:  # a Dataset made in memory: keep its held-out rows themselves
                runs.save_heldout(path, ds)
            checkpointer = checkpoints.Checkpointer(path, config)
        else:
            latest = checkpoints.latest(path)
            checkpointer = checkpoints.Checkpointer(path, config, latest)
            where = (checkpoints.describe(latest.position, fitting.epochs,
                                          latest.meta.get("steps")) if latest else None)
            log.info(f"resuming {path} {where}" if where else
                     f"resuming {path}: no checkpoint yet, so from the first epoch")
            manifest.pop("error", None)
            manifest.update(status="running")
            manifest.setdefault("resumed", []).append({"at": system.now(),
                                                       "from": where or "the start"})
            files.write_json(path / runs.MANIFEST, manifest)
        files.write_text(path / "summary.txt", models.summary_text(model))
        with timer("fit"):
            history = training.fit(model, fit_ds, fitting, path / "history.csv", verbose,
                                   class_weight, checkpointer)
        errors.check_stop()  # a signal at the last step whose exception Python dropped
        with timer("evaluate"):
            figures = evaluation.evaluate(model, ds.x_test, ds.y_test, ds.preprocessing(),
                                          target=config.data.target)
        with files.atomic_path(path / "model.keras") as tmp:
            model.save(tmp)
        files.write_json(path / "metrics.json", figures)
        manifest.update(epochs_run=len(history.epoch), params=int(model.count_params()))
        if getattr(history, "restored_epoch", None):  # early stopping took an earlier epoch's
            manifest["restored_epoch"] = history.restored_epoch
            manifest["notes"] = [*manifest.get("notes", []), (
                f"early stopping (patience {config.training.patience}): the weights of epoch "
                f"{history.restored_epoch}, the best val_loss, restored; the last "
                f"{history.epoch[-1] + 1 - history.restored_epoch} epoch(s) did not improve "
                "it")]
            files.write_json(path / runs.MANIFEST, manifest)  # (the report reads its notes)
        run = Run(path, model=model, dataset=ds, history=history.history)
        with timer("report"):
            report.build(run)
        errors.check_stop()  # ... or while the model and report were written
        timings = timer.total()
        if resume is not None and history.history:  # the fit of every session, not this one's
            timings["fit_seconds_this_session"] = timings["fit_seconds"]
            timings["fit_seconds"] = max(timings["fit_seconds"],
                                         training.elapsed_seconds(path / "history.csv"))
        manifest.update(status="completed", finished=system.now(), timings=timings)
        files.write_json(path / runs.MANIFEST, manifest)
        checkpoints.remove(path)  # model.keras is the result now
    except BaseException as e:
        interrupted = isinstance(e, KeyboardInterrupt)
        if checkpointer is not None:
            checkpointer.close()  # the checkpoint being written: on disk before we say so
        last = checkpointer.last if checkpointer is not None else None
        manifest.update(status="interrupted" if interrupted else "failed",
                        error=f"{type(e).__name__}: {e}", timings=timer.total(),
                        checkpoint=checkpoints.name_for(last) if last else None)
        try:
            files.write_json(path / runs.MANIFEST, manifest)
        except OSError:  # a full disk: the error below says so
            pass
        resume_cmd = (f"mlpkit train --resume {shlex.quote(str(path))} (in Python: "
                      f"mlpkit.resume({str(path)!r}))" if ds.split is not None
                      else f"mlpkit.resume({str(path)!r}, dataset=ds)")
        if interrupted:
            from mlpkit.errors import Interrupted

            where = (f"checkpoint saved {checkpoints.describe(last, fitting.epochs, None)}"
                     if last else "no checkpoint yet: resuming starts from the first epoch")
            raise Interrupted(getattr(e, "signum", signal.SIGINT),
                              f"{where}. Resume with: {resume_cmd}") from e
        if isinstance(e, OSError):
            raise RunError(f"cannot write in {path}: {e.strerror or e}"
                           f"{f' ({e.filename})' if e.filename else ''}. Free some space or "
                           f"fix the folder's permissions, then: {resume_cmd}") from e
        raise
    finally:
        if checkpointer is not None:
            checkpointer.close()
        lock.release()
        scale.close()
    return run


def resume(path: str | Path, dataset=None, verbose="auto") -> Run:
    """Continue an unfinished run (killed, interrupted, failed) from its last checkpoint,
    with the settings in its ``config.toml``: ``mlpkit train --resume RUN``.

    The run ends with the same weights, bit for bit, and the same history.csv (but
    for the seconds) as the run would have without the interruption; a damaged
    latest checkpoint falls back to the previous one, with a warning.

    Args:
        path: the run folder.
        dataset: the ``Dataset`` a run trained on a data set made in memory used.

    Raises:
        RunError: not a run folder, a completed run, or one another process trains.
    """
    from mlpkit import checkpoints, runs

    path = runs.require(path)
    manifest = runs.read_json(path / runs.MANIFEST)
    if manifest.get("status") == "completed":
        raise RunError(f"{path} already completed: nothing to resume. Its results: "
                       f"mlpkit evaluate {path}")
    if checkpoints.holder(path):
        raise RunError(f"{path} is being trained by another process "
                       f"(pid {checkpoints.holder(path)}); wait for it or stop it.")
    if not (path / "config.toml").is_file():
        raise RunError(f"{path / 'config.toml'} not found: the run stopped before it began. "
                       "Run the original command again (the same --out is accepted).")
    if dataset is None and (path / "heldout.npz").is_file():
        raise RunError(f"{path} was trained on a Dataset made in memory; resume it in Python: "
                       "mlpkit.resume(path, dataset=ds)")
    return train_config(cfg.resolve(config_file=path / "config.toml"), dataset, verbose,
                        resume=path)


def lr_find(dataset=None, preset: str | None = None, config_file=None, *,
            min_lr: float = 1e-6, max_lr: float = 10.0, steps: int = 300, **settings):
    """The learning-rate range test: train for ``steps`` batches while the learning rate
    grows exponentially from ``min_lr`` to ``max_lr``; plot the loss against the rate
    and suggest one (the rate at the lowest smoothed loss, divided by 10).

    Args:
        dataset, preset, config_file, **settings: as ``train`` (the model, optimizer
            and batch size tested); ``out`` names the folder.

    Returns:
        ``(folder, finding)``: the folder holding ``lr_find.csv``, ``lr_find.json`` and
        ``plots/lr_find.png``; the ``lr_range.LRFinding`` (``suggestion``, ``rule``).

    Example:
        >>> path, found = mlpkit.api.lr_find("fashion-mnist", optimizer="adam")
        >>> found.suggestion
    """
    from mlpkit import lr_range, models

    loaded = _loaded(dataset, "lr_find")
    name = loaded.name if loaded is not None else (str(dataset) if dataset else None)
    family = None if loaded is None else loaded.preset_family()  # a name of its own
    config = resolve_config(name, preset, config_file, family=family, **settings)
    models.check_activations(config.model.activation)  # before the data: refusing is quick
    if loaded is not None:  # the pixels train would see
        loaded = pixels_scaled(loaded)
    return lr_range.run(config, loaded, min_lr=min_lr, max_lr=max_lr, steps=steps)


def tune(dataset=None, preset: str | None = None, config_file=None, *, trials: int = 20,
         timeout: float | None = None, storage: str | None = None, study: str | None = None,
         out=None, final: bool = True, sampler_seed: int | None = None, **settings) -> dict:
    """Search hyperparameters with Optuna on the validation set (see ``mlpkit.tuning``).

    Trials start from the settings of ``preset``, ``config_file`` and ``settings``, and
    draw the rest from the search space (the lecture's list; a ``[tune]`` table in the
    config file narrows or widens it). The test set is removed before any trial; with
    ``final``, the best config is trained once at the end and its test figures reported.

    Args:
        dataset: a built-in data set's name or a data path (default: the config file's).
        trials: the study's target of finished trials, over all its workers.
        timeout: stop this worker after this many seconds.
        storage: a database URL shared by several workers (``postgresql://...``), or
            a journal file; default: ``journal.log`` in the study folder.
        study: the study's name (default: the study folder's name).
        out: the study folder (default: ``runs/<study>``, or a new
            ``runs/<data>-tune-<time>``); an existing one continues its study.
        final: train the best config once and report its test figures.
        sampler_seed: seed of the TPE sampler (default: random).

    Returns:
        The study's summary (``study.json``): counts, the best trial, and ``final``
        (the run folder and its test figures) when trained; ``folder`` its path.

    Raises:
        ConfigError: a bad setting, ``[tune]`` table or storage URL.
    """
    import dataclasses

    from mlpkit import data, search_space, study_folder, tuning

    tuning.check_budget(trials, timeout, sampler_seed)  # before the data: refusing is quick
    base, space = search_space.resolve(dataset, preset, config_file, **settings)
    if "activation" not in space:  # (a searched one: the [tune] table's check)
        from mlpkit import models

        models.check_activations(base.model.activation)  # before the data
    from mlpkit import distribution

    distribution.check_scope(base.training.devices)  # one device a trial
    folder = study_folder.choose(base, study, out)
    base = dataclasses.replace(base, output=dataclasses.replace(base.output, out=None))
    ds = data.load_for(base)
    search_space.check_for_data(space, ds, base.model, base.data.target)
    for line in ds.notes:
        log.info(line)
    summary = tuning.run(base, ds, space, trials=trials, folder=folder,
                         study_name=study or folder.name, storage=storage, timeout=timeout,
                         budget=within_budget, sampler_seed=sampler_seed)
    summary["folder"] = str(folder)
    if final and "best" in summary:
        best = cfg.resolve(config_file=folder / "best.toml")
        best = dataclasses.replace(best, output=dataclasses.replace(
            best.output, out=None, runs_dir=str(folder)))
        log.info(f"training the best config once: {folder / 'best.toml'}")
        run = train_config(best, ds, verbose=0)
        summary = {**study_folder.record_final(folder, run.path, run.metrics),
                   "folder": str(folder)}
    return summary


class _Said(logging.Filter):
    """The notes (INFO) logged on mlpkit's logger within ``with``, as lines: kept even
    where the logger would drop them (the API, whose logger says warnings only), and
    shown or not as they would be without it."""

    def __init__(self):
        super().__init__()
        self.lines: list[str] = []
        self._level = self._shown = logging.NOTSET

    def __enter__(self) -> "_Said":
        self._level, self._shown = log.level, log.getEffectiveLevel()
        log.setLevel(min(self._shown, logging.INFO))
        log.addFilter(self)
        return self

    def __exit__(self, *exc) -> None:
        log.removeFilter(self)
        log.setLevel(self._level)

    def filter(self, record) -> bool:
        if record.levelno == logging.INFO:
            self.lines.append(record.getMessage())
        return record.levelno >= self._shown


def within_budget(t: cfg.TrainingConfig, n_train: int) -> cfg.TrainingConfig:
    """``t`` with its epochs cut to fit ``max_steps`` training steps (said in a note)."""
    import dataclasses
    import math

    if not t.max_steps:
        return t
    steps = math.ceil(n_train / t.batch_size)
    epochs = max(1, min(t.epochs, t.max_steps // steps))
    if epochs < t.epochs:
        log.info(f"{epochs} epochs at most (not {t.epochs}): {steps} steps an epoch, a budget "
                 f"of {t.max_steps} steps (max_steps)")
    if t.max_steps < steps:  # whole epochs only: the budget is over by the first one's end
        log.info(f"max_steps {t.max_steps} is less than one epoch ({steps} steps): one whole "
                 "epoch runs (the budget counts whole epochs)")
    return dataclasses.replace(t, epochs=epochs)


def format_table(rows: list[dict]) -> list[str]:
    """Rows of dicts as aligned text lines (floats to 4 decimals, ``labels.figure``)."""
    from mlpkit.labels import figure

    if not rows:
        return []
    cols = list(rows[0])
    cells = [[figure(r[c]) if isinstance(r[c], float) else str(r[c]) for c in cols]
             for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    return ["  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip()
            for row in [cols, *cells]]


def describe(ds) -> list[str]:
    """What mlpkit understood of a data set, said before training: each table column's
    type, encoding and missing values; the task, the loss and the output layer."""
    from mlpkit import metrics
    from mlpkit.training import OUTPUT_ACTIVATION

    lines = []
    if ds.table:
        from mlpkit.data.columns import TableEncoder

        lines += format_table(TableEncoder.from_spec(ds.table).summary())
    loss = metrics.loss_for(ds.task, ds.one_hot)
    shown = loss
    if loss == "mse" and ds.outputs > 1:  # several targets (training.target_loss_scale)
        shown = "mse with each target's squared error over its training variance"
    lines.append(f"{ds.task}: loss {shown}, output layer Dense({ds.outputs}, "
                 f"activation={OUTPUT_ACTIVATION[ds.task]}), metric {metrics.metric_for(loss)}")
    return lines


def load_run(path: str | Path) -> Run:
    """Open a run folder written by ``train``."""
    return Run(path)


def evaluate_run(path: str | Path, data: str | Path | None = None) -> dict:
    """Test metrics of a saved run, on its own test set or, with ``data``, on every row
    of another file encoded as in training."""
    return load_run(path).evaluate(data)


def predict_files(path: str | Path, inputs: list, id_column: str | None = None) -> list[dict]:
    """Predictions of a saved run for image, array or table files (see ``Run.predict_files``)."""
    return load_run(path).predict_files(inputs, id_column)


def serve(run, host: str = "127.0.0.1", port: int = 8000, name: str | None = None) -> None:
    """Serve a run's model over HTTP until interrupted: the Open Inference Protocol
    (``/v2``), TensorFlow Serving's REST ``:predict`` (``/v1``), ``/predict`` and a page
    at ``/`` (see ``mlpkit.serving``).

    Args:
        run: a ``Run`` or the path of a run folder; its model is loaded in Keras's
            safe mode, and it is the only model this server ever loads.
        host: the address to bind (loopback by default).
        port: the TCP port.
        name: the model's name in the URLs (default: the run folder's name).

    Raises:
        MlpkitError: not a complete run folder, a model safe mode refuses, or a bad setting.
    """
    from mlpkit import serving

    serving.serve(run, host=host, port=port, name=name)


def rebuild_report(path: str | Path) -> Path:
    """Draw a run's plots and write its ``report.html`` again; returns the page's path."""
    from mlpkit import report, runs

    run = load_run(path)
    if run.manifest.get("status") != "completed":  # nothing to report on: one line, no traceback
        raise RunError(runs.unfinished(run.path, run.manifest))
    return report.build(run)


def compare(dataset: str, preset: str = "seed", data_dir=None, max_iter: int | None = None,
            **settings) -> list[dict]:
    """The lecture's scikit-learn baseline and the Keras MLP on one split (see ``baselines``)."""
    from mlpkit import baselines

    return baselines.compare(dataset, preset, data_dir, max_iter=max_iter, **settings)


def data_locations(data_dir=None) -> list[dict]:
    """Where each built-in data set is found, without reading it:
    ``[{"name", "location", "folder"} or {"name", "error"}]``."""
    from mlpkit import data
    from mlpkit.errors import DataError

    out = []
    for name in data.BUILT_IN:
        try:
            kind, folder = data.locate(name, data_dir)
            out.append({"name": name, "location": kind, "folder": str(folder)})
        except DataError as e:
            out.append({"name": name, "error": str(e)})
    return out


def verify_data(name: str | None = None, data_dir=None) -> list[dict]:
    """Check the checksums of the built-in data sets (or one) where they are found."""
    from mlpkit import data

    return [data.verify(n, data_dir) for n in ([name] if name else data.BUILT_IN)]
