"""Hyperparameter search with Optuna: the lecture's tuning advice, as a study.

The lecture: tune the learning rate first, then the optimizer, then the number of
layers, the neurons per layer and the activations, then the batch size; on the
validation set, looking at the test set once, at the end. The default search space is
that list (plus dropout). Trials are sampled by TPE and judged on the validation metric
(accuracy, or RMSE for regression); after every epoch a Keras callback reports it to
the trial, and the median pruner stops a trial that is worse than the median of the
earlier trials at the same epoch (from a quarter of the epochs on, at least the second). The data every trial sees has its test rows
removed before any model exists.

A study lives in a storage: by default a journal file in the study folder (no
server; several processes on one machine can share it), or any database URL Optuna
takes (``postgresql://user@host/db``), through which processes on many machines work
on one study: each runs ``mlpkit tune`` with the same ``--storage`` and ``--study``,
and ``--trials N`` counts the finished trials of the whole study. A worker killed in
the middle of a trial does not harm the study: on a database its trial stops beating
(``HEARTBEAT_SECONDS``), another worker marks it failed and runs it again once
(Optuna's retry callback, ``retry_once``); in a journal file, the next worker on the same
machine marks the trials of dead processes failed and runs them again once too.

The search space is ``search_space``'s; what a study found goes into its folder
through ``study_folder`` (beside ``journal.log``, the default storage).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import socket
import time
import warnings
from pathlib import Path

import numpy as np

from mlpkit import config as cfg
from mlpkit import study_folder
from mlpkit.errors import ConfigError, Diverged
from mlpkit.search_space import Param, suggest
from mlpkit.study_folder import counts, redact

log = logging.getLogger("mlpkit")

# seconds between a worker's heartbeats on a database; a trial is stale after two missed
HEARTBEAT_SECONDS = int(os.environ.get("MLPKIT_TUNE_HEARTBEAT", "10"))


def objective_metric(task: str, targets: int = 1) -> tuple[str, str]:
    """The validation figure trials are judged on, and its direction: for several
    regression targets their loss, each on its own scale (``training.target_loss_scale``), not
    the pooled RMSE, in which the target in the largest units dominates."""
    if task == "regression":
        return ("val_loss", "minimize") if targets > 1 else ("val_rmse", "minimize")
    return "val_accuracy", "maximize"


def pruning_callback(trial, monitor: str):
    """A Keras callback: ``trial.report(logs[monitor], epoch)`` after each epoch (1-based),
    then ``optuna.TrialPruned`` if ``trial.should_prune()``."""
    import keras
    import optuna

    class _Pruning(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.pruned_at = None

        def on_epoch_end(self, epoch, logs=None):
            value = (logs or {}).get(monitor)
            if value is None:
                return
            if not math.isfinite(float(value)):
                raise optuna.TrialPruned(f"{monitor} is {value} at epoch {epoch + 1}")
            trial.report(float(value), epoch + 1)
            if trial.should_prune():
                self.pruned_at = epoch + 1
                raise optuna.TrialPruned(f"pruned at epoch {epoch + 1}: {monitor} {value:.4f}")

    return _Pruning()


def trial_value(history: dict, monitor: str, patience: int) -> float:
    """The trial's figure: the last epoch's, or with early stopping (which restores the
    best weights by validation loss) the epoch with the lowest validation loss."""
    values = history[monitor]
    if patience and history.get("val_loss"):
        return float(values[int(np.nanargmin(history["val_loss"]))])
    return float(values[-1])


def without_test(ds):
    """``ds`` with its test rows removed: what every trial sees."""
    return dataclasses.replace(ds, x_test=ds.x_test[:0], y_test=ds.y_test[:0])


def worker_id() -> dict:
    return {"host": socket.gethostname(), "pid": os.getpid()}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def fail_dead_local_trials(study) -> int:
    """Mark failed the running trials of processes on this machine that are gone (for
    storages without heartbeats, such as the journal file), and queue each to run again
    once, as a database's heartbeats do (``retry_once``); returns
    how many."""
    import optuna

    retry = retry_once()

    me = socket.gethostname()
    n = 0
    for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        w = t.user_attrs.get("worker") or {}
        if w.get("host") == me and w.get("pid") != os.getpid() and not _alive(w.get("pid", 0)):
            study.tell(t.number, state=optuna.trial.TrialState.FAIL)
            retry(study, t)
            log.info(f"trial {t.number} of process {w['pid']} (gone) marked failed; its "
                     "settings run again once")
            n += 1
    return n


def retry_once():
    """Optuna's callback that queues a dead worker's trial to run once more (renamed
    ``RetryHeartbeatStaleTrialCallback`` in Optuna 4.9)."""
    import optuna.storages as storages

    cls = (getattr(storages, "RetryHeartbeatStaleTrialCallback", None)
           or storages.RetryFailedTrialCallback)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # experimental in some releases
        return cls(max_retry=1)


def open_storage(storage: str | None, folder: Path):
    """Optuna's storage for ``--storage``: a database URL (with heartbeats and one retry
    of a trial whose worker died), or a journal file path (default: the study folder's)."""
    from optuna.storages import JournalStorage, RDBStorage
    from optuna.storages.journal import JournalFileBackend

    if storage and "://" in storage:
        from optuna.exceptions import ExperimentalWarning

        try:
            with warnings.catch_warnings():  # heartbeats: "experimental" since Optuna 2.9
                warnings.simplefilter("ignore", ExperimentalWarning)
                return RDBStorage(storage, heartbeat_interval=HEARTBEAT_SECONDS,
                                  grace_period=2 * HEARTBEAT_SECONDS,
                                  heartbeat_stale_trial_callback=retry_once(),
                                  engine_kwargs={"pool_pre_ping": True})
        except (ImportError, ModuleNotFoundError) as e:
            raise ConfigError(f"cannot use storage {redact(storage)}: {str(e).rstrip('.')}. "
                              "Install its driver (PostgreSQL: pip install "
                              "'psycopg[binary]').") from None
        except Exception as e:  # sqlalchemy's errors: a wrong host, user or database
            raise ConfigError(f"cannot open storage {redact(storage)}: "
                              f"{str(e).splitlines()[0]}. Check the URL and that the "
                              "server is running.") from None
    path = Path(storage) if storage else folder / "journal.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    return JournalStorage(JournalFileBackend(str(path)))


class _Once(logging.Filter):
    """Lets each distinct note (INFO or below) through once, a note of %-arguments
    once whatever its figures (early stopping's epoch in each trial); warnings and
    errors pass every time."""

    def __init__(self):
        super().__init__()
        self.seen: set[str] = set()

    def filter(self, record) -> bool:
        if record.levelno > logging.INFO:
            return True
        message = str(record.msg) if record.args else record.getMessage()
        if message in self.seen:
            return False
        self.seen.add(message)
        return True


def sampler_for(seed: int | None, existing: int, startup: int):
    """The TPE sampler (``startup`` random trials first), seeded by ``seed`` and the
    number of trials the study already has: a new study is drawn as ``seed`` alone draws
    it, and a study continued with the same seed draws new points, not the first ones
    again. Two workers that start on the same count with the same seed still draw alike
    (``run`` says so). ``None``: a random seed."""
    import optuna

    if seed is not None and existing:
        seed = int(np.random.SeedSequence([seed, existing]).generate_state(1)[0])
    return optuna.samplers.TPESampler(seed=seed, constant_liar=True, n_startup_trials=startup)


def trial_settings(base: cfg.RunConfig, space: dict) -> dict:
    """What a study's trials share besides their drawn values: the space, and the data,
    model and training settings it does not search (no paths, no data-set name: those
    the study checks apart); JSON-shaped, to keep in the study."""
    import json

    from mlpkit.search_space import space_toml

    drawn = set(space) | ({"hidden"} if {"layers", "units"} & set(space) else set())
    whole = cfg.to_dict(base)
    out = {"space": space_toml(space)["tune"]}
    for section in ("data", "model", "training"):
        out[section] = {k: v for k, v in whole[section].items() if k not in drawn
                        and k not in ("name", "data_dir", "target", "validation_data",
                                      # how it runs, not what it learns
                                      "devices", "steps_per_execution", "checkpoint_steps",
                                      "engine")}
    return json.loads(json.dumps(out))  # as the storage gives it back: lists, not tuples


def settings_changed(earlier: dict, now: dict) -> list[str]:
    """``key: was, now`` for each setting that differs between two ``trial_settings``."""
    out = []
    for section in sorted(set(earlier) | set(now)):
        a, b = earlier.get(section) or {}, now.get(section) or {}
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                name = key if section != "space" else f"searched {key}"
                out.append(f"{name}: {a.get(key, 'unset')} then, {b.get(key, 'unset')} now")
    return out


def check_budget(trials: int, timeout: float | None,
                 sampler_seed: int | None = None) -> None:
    """Refuse a study budget that cannot run a trial, or a sampler seed NumPy cannot
    take, with the fix."""
    if sampler_seed is not None and not 0 <= sampler_seed < 2**32:
        raise ConfigError("sampler_seed must be a whole number from 0 to 4294967295 "
                          f"(2**32 - 1). Received: sampler_seed={sampler_seed!r}")
    if trials < 1:
        raise ConfigError(f"trials must be >= 1. Received: trials={trials!r}")
    if timeout is not None and timeout <= 0:
        raise ConfigError(f"timeout must be > 0 seconds. Received: timeout={timeout!r}")


def run(base: cfg.RunConfig, ds, space: dict[str, Param], *, trials: int, folder: Path,
        study_name: str, storage: str | None = None, timeout: float | None = None,
        budget=None, sampler_seed: int | None = None) -> dict:
    """Run this worker's share of a study; returns the study's summary (``study.json``).

    Args:
        base: the settings every trial starts from (preset, config file, flags).
        ds: the loaded ``Dataset``; its test rows are removed before any trial.
        space: from ``space_from``.
        trials: the study's target of finished (complete or pruned) trials, over all
            workers; this worker stops once the study has them, or after ``timeout``
            seconds, and runs at most ``trials`` trials itself.
        folder: the study folder (trials.csv, best.toml, plots, the default journal).
        budget: ``budget(training, n_train) -> training`` (the ``max_steps`` cut).
    """
    import keras
    import optuna
    from optuna.study import MaxTrialsCallback

    from mlpkit import labels, training

    check_budget(trials, timeout, sampler_seed)
    # errors only: mlpkit says each trial's end itself (``after``), a failed one included
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    # what can be refused is refused before the study folder exists (no folder is left)
    class_weight = labels.class_weights(base.training.class_weight, ds.y_train, ds.labels)
    targets = 1 if ds.y_train.ndim < 2 else ds.y_train.shape[1]
    metric, direction = objective_metric(ds.task, targets)
    storage_obj = open_storage(storage, folder)  # (a journal file: made here)
    heartbeats = bool(storage and "://" in storage)
    startup = max(3, min(10, trials // 3))  # random trials before TPE's model
    # early epochs say little under a decaying schedule: judge from a quarter of the way on
    warmup = max(2, base.training.epochs // 4)
    pruner = optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=warmup)
    pruner_said = f"median (after 5 trials, from epoch {warmup})"
    study = optuna.create_study(storage=storage_obj, study_name=study_name,
                                sampler=sampler_for(None, 0, startup),
                                pruner=pruner, direction=direction, load_if_exists=True)
    if study.direction.name.lower() != direction:
        raise ConfigError(f"study {study_name!r} {study.direction.name.lower()}s; this data "
                          f"needs {direction} ({metric}). Pass another --study.")
    # one problem a study: trials on another data set, target or task are not comparable
    for key, value in (("metric", metric), ("dataset", ds.name), ("task", ds.task),
                       ("target", labels.join_names(labels.split_names(base.data.target)))):
        if study.user_attrs.get(key, value) != value:
            raise ConfigError(f"study {study_name!r} was made for {key} "
                              f"{study.user_attrs[key]!r}, not {value!r}: its trials would "
                              "be ranked with these. Pass another --study (or --out).")
        study.set_user_attr(key, value)
    settings = trial_settings(base, space)
    earlier = study.user_attrs.get("settings")
    if earlier is not None and earlier != settings:
        changed = settings_changed(earlier, settings)
        log.warning(f"study {study_name!r} has trials made with other settings "
                    f"({'; '.join(changed[:4])}{'; ...' if len(changed) > 4 else ''}): they are "
                    "ranked together with these. Pass another --study (or --out) to keep "
                    "them apart.")
    study.set_user_attr("settings", settings)
    folder.mkdir(parents=True, exist_ok=True)
    if sampler_seed is not None:
        existing = study.get_trials(deepcopy=False)
        study.sampler = sampler_for(sampler_seed, len(existing), startup)
        if any(t.state == optuna.trial.TrialState.RUNNING for t in existing):
            log.info(f"another worker is running study {study_name!r}: a worker given the "
                     f"same --sampler-seed ({sampler_seed}) at the same time draws the same "
                     "first trials; give each worker its own seed, or none")
    trial_ds = without_test(ds)
    scale = training.target_loss_scale(trial_ds)  # several regression targets, else None
    states = optuna.trial.TrialState
    finished = (states.COMPLETE, states.PRUNED)

    def objective(trial) -> float:
        config = suggest(trial, space, base)
        trial.set_user_attr("worker", worker_id())
        trial.set_user_attr("config", cfg.to_dict(config))
        fitting = budget(config.training, len(trial_ds.x_train)) if budget else config.training
        keras.backend.clear_session()
        keras.utils.set_random_seed(config.training.seed)
        model = training.build_model(trial_ds, config)
        training.compile_model(model, trial_ds.task, fitting, len(trial_ds.x_train),
                               trial_ds.one_hot, scale)
        start = time.perf_counter()
        pruning = pruning_callback(trial, metric)
        try:
            history = training.fit(model, trial_ds, fitting, None, 0, class_weight,
                                   callbacks=[pruning])
        except Diverged as e:  # a rate too high for this trial: a poor trial, not an error
            raise optuna.TrialPruned(str(e)) from None
        finally:
            trial.set_user_attr("fit_seconds", round(time.perf_counter() - start, 2))
            done = getattr(model, "history", None)
            trial.set_user_attr("epochs", pruning.pruned_at or (len(done.epoch) if done else 0))
        value = trial_value(history.history, metric, fitting.patience)
        if not math.isfinite(value):
            raise optuna.TrialPruned(f"{metric} is {value}")
        return value

    def after(study, t) -> None:
        shown = ", ".join(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}"
                          for k, v in t.params.items())
        what = (f"{metric} {t.value:.4f}" if t.state == states.COMPLETE
                else f"pruned at epoch {t.user_attrs.get('epochs')}"
                if t.state == states.PRUNED else t.state.name.lower())
        log.info(f"trial {t.number}: {what} ({t.user_attrs.get('fit_seconds', 0):.1f} s); "
                 f"{shown}")
        study_folder.write_tables(study, folder, metric)

    if not heartbeats:  # a database's heartbeats find dead workers, and retry their trials
        fail_dead_local_trials(study)
    done = sum(counts(study).get(s.name.lower(), 0) for s in finished)
    if done >= trials:
        log.info(f"study {study_name!r} already has {done} finished trials (--trials {trials})")
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            once = _Once()  # a note every trial would repeat (targets scaled) is said once
            log.addFilter(once)
            try:
                study.optimize(objective, n_trials=trials, timeout=timeout,
                               gc_after_trial=True,
                               callbacks=[MaxTrialsCallback(trials, states=finished), after])
            except BaseException:  # Ctrl-C: the trial it ended, failed, in the table too,
                try:  # and the best trial so far in best.toml
                    study_folder.write_folder(study, folder, base, space, metric, storage,
                                              pruner_said, plots=False)
                except Exception as e:  # (a storage gone): the first error is the one said
                    log.debug(f"the study folder not written: {e}")
                raise
            finally:
                log.removeFilter(once)
    if not heartbeats:
        fail_dead_local_trials(study)
    return study_folder.write_folder(study, folder, base, space, metric, storage,
                                     pruner_said)
