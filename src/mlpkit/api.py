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

import logging
from pathlib import Path

from mlpkit import config as cfg
from mlpkit.config import resolve as resolve_config
from mlpkit.runs import Run

log = logging.getLogger("mlpkit")

__all__ = ["Run", "compare", "data_locations", "evaluate_run", "load_dataset", "load_run",
           "predict_files", "rebuild_report", "resolve_config", "train", "train_config",
           "verify_data"]


def load_dataset(name: str, data_dir: str | Path | None = None):
    """A built-in data set with the lecture's split (see ``mlpkit.data``)."""
    from mlpkit import data

    return data.load(name, data_dir=data_dir)


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
    loaded = None if dataset is None or isinstance(dataset, (str, Path)) else dataset
    name = loaded.name if loaded is not None else (str(dataset) if dataset else None)
    return train_config(resolve_config(name, preset, config_file, **settings), loaded, verbose)


def train_config(config: cfg.RunConfig, dataset=None, verbose="auto") -> Run:
    """The whole job for a resolved ``RunConfig``; returns the ``Run``.

    Everything that can be refused (data, settings, class weights, activations) is
    checked before the run folder exists, so a bad command leaves no folder.

    Raises:
        MlpkitError: bad config, missing data or an unwritable run folder.
    """
    import keras

    from mlpkit import data, evaluation, files, jax_loop, labels, models, report, runs
    from mlpkit import system, training

    timer = system.Timer()
    with timer("load_data"):
        ds = dataset if dataset is not None else data.load_for(config)
    for note in ds.notes:
        log.info(note)
    class_weight = labels.class_weights(config.training.class_weight, ds.y_train, ds.labels)
    if keras.backend.backend() == "jax":
        jax_loop.enable_compilation_cache()  # before the initializers compile
    keras.utils.set_random_seed(config.training.seed)
    model = training.build_model(ds, config)
    training.compile_model(model, ds.task, config.training, len(ds.x_train), ds.one_hot)

    path = runs.create(config.output.runs_dir, ds.name, config.preset, config.output.out)
    manifest = {
        "status": "running", "started": system.now(), "dataset": ds.name, "task": ds.task,
        "preset": config.preset, "seed": config.training.seed,
        "backend": keras.backend.backend(), "versions": system.versions(),
        "machine": system.machine(), "data": {"sizes": ds.sizes, **ds.source},
        "split": ds.split.summary() if ds.split is not None else None, "notes": ds.notes,
    }
    files.write_text(path / "config.toml", cfg.to_toml(config))
    files.write_json(path / runs.MANIFEST, manifest)
    files.write_json(path / "preprocessing.json", ds.preprocessing())
    if ds.split is not None:
        ds.split.save(path / "split.npz")
    else:  # a Dataset made in memory: keep its held-out rows themselves
        runs.save_heldout(path, ds)
    try:
        files.write_text(path / "summary.txt", models.summary_text(model))
        with timer("fit"):
            history = training.fit(model, ds, config.training, path / "history.csv", verbose,
                                   class_weight)
        with timer("evaluate"):
            figures = evaluation.evaluate(model, ds.x_test, ds.y_test, ds.preprocessing())
        with files.atomic_path(path / "model.keras") as tmp:
            model.save(tmp)
        files.write_json(path / "metrics.json", figures)
        manifest.update(epochs_run=len(history.epoch), params=int(model.count_params()))
        run = Run(path, model=model, dataset=ds, history=history.history)
        with timer("report"):
            report.build(run)
        manifest.update(status="completed", finished=system.now(), timings=timer.total())
        files.write_json(path / runs.MANIFEST, manifest)
    except BaseException as e:
        manifest.update(status="interrupted" if isinstance(e, KeyboardInterrupt) else "failed",
                        error=f"{type(e).__name__}: {e}", timings=timer.total())
        files.write_json(path / runs.MANIFEST, manifest)
        raise
    return run


def load_run(path: str | Path) -> Run:
    """Open a run folder written by ``train``."""
    return Run(path)


def evaluate_run(path: str | Path, data: str | Path | None = None) -> dict:
    """Test metrics of a saved run, on its own test set or, with ``data``, on every row
    of another file encoded as in training."""
    return load_run(path).evaluate(data)


def predict_files(path: str | Path, inputs: list) -> list[dict]:
    """Predictions of a saved run for image, array or table files (see ``Run.predict_files``)."""
    return load_run(path).predict_files(inputs)


def rebuild_report(path: str | Path) -> Path:
    """Draw a run's plots and write its ``report.html`` again; returns the page's path."""
    from mlpkit import report

    return report.build(load_run(path))


def compare(dataset: str, preset: str = "seed", data_dir=None, max_iter: int = 20,
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
