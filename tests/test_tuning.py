"""The learning-rate finder and the Optuna search: tiny data, 1-2 epochs, real storages.

The shared-study test starts a real PostgreSQL server (Debian's ``postgresql``
package: initdb into a temporary folder, pg_ctl on a free loopback port, as the
``postgres`` user when the tests run as root), runs two ``mlpkit tune`` workers on one
study and kills one in the middle of a trial.
"""

from __future__ import annotations

import csv
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mlpkit
from mlpkit import api
from mlpkit import config as cfg
from mlpkit import lr_range, search_space, tuning
from mlpkit.errors import ConfigError
from conftest import run_cli

PG_INSTALL = "apt-get install -y postgresql (or scripts/setup.sh)"


def blobs(path: Path, rows: int = 240, features: int = 6, seed: int = 0,
          spread: float = 3.0) -> Path:
    """An .npz of three classes (overlapping as ``spread`` is small), with test rows."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, spread, (3, features))

    def draw(n):
        y = rng.integers(0, 3, n)
        return (centers[y] + rng.normal(0, 1, (n, features))).astype("float32"), y

    x, y = draw(rows)
    xt, yt = draw(60)
    np.savez(path, x_train=x, y_train=y, x_test=xt, y_test=yt)
    return path


# --- the search space ------------------------------------------------------------------

def test_default_space_is_the_lectures_list():
    space = search_space.space_from(None)
    assert set(space) == {"learning_rate", "optimizer", "layers", "units", "activation",
                          "batch_size", "dropout"}
    assert space["learning_rate"].kind == "float" and space["learning_rate"].log
    assert space["layers"].kind == "int" and space["batch_size"].kind == "categorical"


def test_a_tune_table_narrows_and_widens_the_space():
    space = search_space.space_from({"optimizer": "sgd", "batch_size": [64], "dropout": False,
                                     "momentum": {"low": 0.5, "high": 0.99}})
    assert space["optimizer"] == search_space.Param("fixed", value="sgd")
    assert space["momentum"].kind == "float" and "dropout" not in space
    assert search_space.fixed_settings(space) == {"optimizer": "sgd"}
    hidden = search_space.space_from({"hidden": ["300,100", [64, 64, 64]]})
    assert hidden["hidden"].choices == ("300,100", "64,64,64")
    assert "layers" not in hidden and "units" not in hidden


@pytest.mark.parametrize("table, message", [
    ({"epochz": [1, 2]}, "unknown key 'epochz' in [tune]. Did you mean 'epochs'?"),
    ({"learning_rate": {"low": 0.1, "high": 0.01}}, "low must be < high"),
    ({"learning_rate": {"low": 0, "high": 1, "log": True}}, "learning_rate must be > 0"),
    ({"optimizer": ["adam", "adamax"]}, "optimizer must be one of"),
    ({"activation": {"low": 1, "high": 2}}, "activation takes choices, not a range"),
    ({"seed": [1, 2]}, "unknown key 'seed' in [tune]"),
    ({"layers": 0}, "layers must be whole numbers >= 1"),
])
def test_a_bad_tune_table_is_refused_with_the_fix(table, message):
    with pytest.raises(ConfigError) as e:
        search_space.space_from(table)
    assert message in str(e.value)


def test_a_trial_config_and_its_conditions():
    import optuna

    base = cfg.resolve("california-housing", "seed")
    space = search_space.space_from({
        "optimizer": ["sgd", "adamw"], "momentum": {"low": 0.5, "high": 0.9},
        "weight_decay": {"low": 1e-4, "high": 1e-1, "log": True}})
    params = {"learning_rate": 0.01, "optimizer": "sgd", "momentum": 0.8, "layers": 2,
              "units_1": 64, "units_2": 32, "activation": "elu", "batch_size": 64,
              "dropout": 0.1}
    c = search_space.suggest(optuna.trial.FixedTrial(params), space, base)
    assert c.model.hidden == (64, 32) and c.training.momentum == 0.8
    assert c.training.weight_decay is None  # AdamW's only: not drawn for SGD
    c = search_space.suggest(optuna.trial.FixedTrial({**params, "optimizer": "adamw",
                                                "weight_decay": 0.01}), space, base)
    assert c.training.weight_decay == 0.01 and c.training.momentum == 0.0


# --- learning-rate finder ----------------------------------------------------------------

def test_the_suggestion_follows_its_rule():
    lrs = np.geomspace(1e-5, 1, 100)
    smoothed = (np.log10(lrs) + 2) ** 2  # lowest at 1e-2
    suggestion, steepest = lr_range.suggest(lrs, smoothed)
    best = lrs[np.argmin(smoothed)]
    assert suggestion == pytest.approx(best / 10)
    assert steepest is not None and steepest < best
    assert lr_range.suggest(lrs, -smoothed)[0] is None  # never fell: no suggestion


def test_lr_find_writes_a_folder_with_the_plot_and_the_rule(tmp_path):
    data = blobs(tmp_path / "b.npz", spread=0.5)
    path, found = api.lr_find(data, optimizer="sgd", batch_size=16, steps=120,
                                 max_lr=100.0, out=tmp_path / "lr")
    assert path == tmp_path / "lr"
    rows = list(csv.DictReader(open(path / "lr_find.csv")))
    assert 10 < len(rows) <= 120 and float(rows[0]["learning_rate"]) == pytest.approx(1e-6)
    rates = [float(r["learning_rate"]) for r in rows]
    assert rates == sorted(rates)
    assert found.stopped in ("diverged", "not finite", "max_lr reached")
    assert 1e-6 < found.suggestion < 1.0
    summary = json.loads((path / "lr_find.json").read_text())
    assert summary["rule"] == lr_range.RULE and summary["suggested_learning_rate"] == \
        found.suggestion
    assert (path / "plots" / "lr_find.png").stat().st_size > 10_000
    assert cfg.read_toml(path / "config.toml")["training"]["optimizer"] == "sgd"


def test_several_targets_are_tuned_on_their_scaled_loss(tmp_path):
    """The pooled RMSE of a price beside a rate is the price's alone: trials of several
    regression targets are judged on their loss, each target on its own scale."""
    assert tuning.objective_metric("regression") == ("val_rmse", "minimize")
    assert tuning.objective_metric("regression", 2) == ("val_loss", "minimize")
    rng = np.random.default_rng(1)
    x = rng.random((200, 2))
    table = tmp_path / "t.csv"
    pd.DataFrame(x, columns=["a", "b"]).assign(price=1e5 * x[:, 0], rate=x[:, 1] / 10).to_csv(
        table, index=False)
    r = run_cli("tune", table, "--target", "price,rate", "--trials", "2", "--epochs", "2",
                "--out", tmp_path / "study", "--no-final", "--sampler-seed", "0")
    assert r.returncode == 0, r.stderr
    assert r.stderr.count("regression targets standardized") == 1  # said once, not a trial
    assert json.loads((tmp_path / "study" / "study.json").read_text())["metric"] == "val_loss"
    rows = list(csv.DictReader(open(tmp_path / "study" / "trials.csv")))
    # on the targets' own scales: a poor trial's loss is some units, the plain mean squared
    # error of a price of spread 3e4 would be about 1e9
    assert len(rows) == 2 and all(0 < float(row["val_loss"]) < 1e4 for row in rows)
    # the same study on another target: refused before any trial, the study unchanged
    r = run_cli("tune", table, "--target", "rate", "--trials", "1", "--epochs", "1",
                "--out", tmp_path / "study", "--no-final")
    assert r.returncode == 2 and "was made for metric 'val_loss'" in r.stderr, r.stderr
    r = run_cli("tune", table, "--target", "rate,price", "--trials", "1", "--epochs", "1",
                "--out", tmp_path / "study", "--no-final")
    assert r.returncode == 2 and "was made for target 'price,rate'" in r.stderr, r.stderr
    assert len(list(csv.DictReader(open(tmp_path / "study" / "trials.csv")))) == 2
    r = run_cli("tune", table, "--target", "price, rate", "--trials", "2", "--epochs", "2",
                "--out", tmp_path / "study", "--no-final")  # the same target, spaced
    assert r.returncode == 0 and "2 complete" in r.stdout, r.stderr


def test_lr_find_command_on_a_table(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(300, 3))
    table = tmp_path / "t.csv"
    table.write_text("a,b,c,price\n" + "\n".join(
        f"{a:.4f},{b:.4f},{c:.4f},{2 * a - b + 0.1 * rng.normal():.4f}" for a, b, c in x))
    r = run_cli("lr-find", table, "--target", "price", "--steps", "80", "--batch-size", "16",
                "--out", tmp_path / "lr")
    assert r.returncode == 0, r.stderr
    assert "suggested learning rate: " in r.stdout
    assert lr_range.RULE in r.stdout and "lr_find.png" in r.stdout
    bad = run_cli("lr-find", table, "--target", "price", "--bach-size", "16")
    assert bad.returncode == 2
    assert "unknown option '--bach-size'. Did you mean '--batch-size'?" in bad.stderr


# --- the search --------------------------------------------------------------------------

def test_pruning_callback_stops_a_poor_trial():
    import keras
    import optuna

    class Trial:
        reported = []

        def report(self, value, step):
            self.reported.append((step, value))

        def should_prune(self):
            return len(self.reported) >= 2

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(64, 4)).astype("float32"), rng.integers(0, 2, 64)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam",
                  metrics=["accuracy"])
    from mlpkit import jax_loop

    callback = tuning.pruning_callback(Trial(), "val_accuracy")
    with pytest.raises(optuna.TrialPruned, match="pruned at epoch 2"):
        jax_loop.fit(model, x, y, epochs=5, batch_size=16, validation_data=(x, y),
                     callbacks=[callback], verbose=0)
    assert [s for s, _ in Trial.reported] == [1, 2] and callback.pruned_at == 2
    assert model.predict(x[:2], verbose=0).shape == (2, 2)  # the model stays usable


def test_tune_never_shows_the_test_set_to_a_trial(tmp_path, monkeypatch):
    from mlpkit import training

    seen = []
    fit = training.fit

    def spy(model, ds, *args, **kwargs):
        seen.append(len(ds.x_test))
        return fit(model, ds, *args, **kwargs)

    monkeypatch.setattr(training, "fit", spy)
    summary = api.tune(blobs(tmp_path / "b.npz"), trials=2, epochs=1, sampler_seed=0,
                          out=tmp_path / "study")
    assert seen[:2] == [0, 0]  # the trials
    assert len(seen) == 3 and seen[2] == 60  # the final run: the best config, once
    assert summary["final"]["test"] and Path(summary["final"]["run"]).parent == \
        tmp_path / "study"
    assert summary["test_set"] == "not used by any trial"


def test_tune_command_writes_the_study_folder(tmp_path):
    data = blobs(tmp_path / "b.npz")
    (tmp_path / "space.toml").write_text(
        '[training]\nepochs = 2\n[tune]\noptimizer = ["adam", "nadam"]\n'
        'layers = {low = 1, high = 2}\nunits = [8, 16]\nbatch_size = 32\n')
    study = tmp_path / "study"
    r = run_cli("tune", data, "--trials", "3", "--config", tmp_path / "space.toml",
                "--out", study, "--sampler-seed", "0")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert lines[-1].startswith("best config trained once: test ")  # the final line
    assert "accuracy" in lines[-1] and "study study: 3 complete" in r.stdout
    rows = list(csv.DictReader(open(study / "trials.csv")))
    assert [r["state"] for r in rows] == ["complete"] * 3
    assert {r["optimizer"] for r in rows} <= {"adam", "nadam"}
    assert "batch_size" not in rows[0]  # fixed, not drawn
    assert all(0 <= float(r["val_accuracy"]) <= 1 for r in rows)
    for name in ("optimization_history", "param_importances"):
        assert (study / "plots" / f"{name}.png").stat().st_size > 5_000
    assert (study / "journal.log").is_file() and (study / "space.toml").is_file()
    best = study / "best.toml"
    assert "chosen on the validation set" in best.read_text()
    # best.toml is a config `mlpkit train --config` runs, with the fixed settings in it
    config = cfg.resolve(config_file=best)
    assert config.training.batch_size == 32 and config.training.epochs == 2
    run = mlpkit.train(config_file=best, out=tmp_path / "again", verbose=0)
    assert run.metrics and run.config.model.hidden == config.model.hidden
    # the same folder again: the study continues (it already has its 3 trials)
    r = run_cli("tune", data, "--trials", "4", "--config", tmp_path / "space.toml",
                "--out", study, "--no-final")
    assert r.returncode == 0, r.stderr
    assert "study study: 4 complete" in r.stdout


def test_a_seeded_study_continued_draws_new_trials_and_keeps_only_its_own_final(tmp_path):
    data = blobs(tmp_path / "b.npz")
    study = tmp_path / "study"
    first = api.tune(data, trials=1, epochs=1, sampler_seed=7, out=study)
    assert first["final"]["trial"] == 0
    # the same seed again, as a second call (or a second worker) would pass it: the
    # study goes on from where it is rather than drawing its first trial again
    for n in (2, 3):
        api.tune(data, trials=n, epochs=1, sampler_seed=7, out=study, final=False)
    rows = list(csv.DictReader(open(study / "trials.csv")))
    drawn = [tuple(r[k] for k in r if k not in ("number", "state", "val_accuracy", "epochs_run",
                                                 "fit_seconds", "worker", "started", "retry_of"))
             for r in rows]
    assert len(drawn) == 3 and len(set(drawn)) == 3
    # a new study in the seed's first state draws what the first one drew
    again = api.tune(data, trials=1, epochs=1, sampler_seed=7, out=tmp_path / "again",
                     final=False)
    assert again["best"]["params"] == first["best"]["params"]
    # another study in the same folder: the first study's final run is not its own
    other = api.tune(data, trials=1, epochs=1, study="other", out=study, final=False)
    assert "final" not in other and other["study"] == "other"
    for seed in (-1, 2**32):  # NumPy's range, said before the data is read
        with pytest.raises(ConfigError, match="sampler_seed must be a whole number from 0"):
            api.tune(data, trials=1, sampler_seed=seed, out=tmp_path / "never")
    assert not (tmp_path / "never").exists()


def test_a_study_continued_with_other_settings_says_so(tmp_path, caplog):
    """Trials of other fixed settings (epochs, layer sizes) are ranked together with
    the new ones: said once, with the settings that changed; the same again: nothing."""
    data = blobs(tmp_path / "b.npz")
    study = tmp_path / "study"
    api.tune(data, trials=1, epochs=1, out=study, final=False)
    caplog.set_level("WARNING", logger="mlpkit")
    api.tune(data, trials=2, epochs=1, out=study, final=False)
    assert "other settings" not in caplog.text
    api.tune(data, trials=3, epochs=2, out=study, final=False)
    said = [r.getMessage() for r in caplog.records if "other settings" in r.getMessage()]
    assert len(said) == 1 and "(epochs: 1 then, 2 now): they are ranked together" in said[0]


def test_a_refused_tune_leaves_no_study_folder(tmp_path):
    data = blobs(tmp_path / "b.npz")
    for flags, message in ((["--class-weight", "9:3"], "class_weight names a class"),
                           (["--devices", "2"], "devices applies to mlpkit train"),
                           (["--storage", "nosuchdb://x/y"], "cannot")):
        r = run_cli("tune", data, "--trials", "1", "--epochs", "1", "--out",
                    tmp_path / "study", *flags, cwd=tmp_path)
        assert r.returncode == 2 and message in r.stderr, r.stderr
        assert not (tmp_path / "study").exists() and not (tmp_path / "runs").exists()


def test_an_interrupted_study_lists_its_failed_trial(tmp_path, monkeypatch):
    from mlpkit import training

    fit, calls = training.fit, []

    def interrupted(*args, **kwargs):  # Ctrl-C in the second trial
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return fit(*args, **kwargs)

    monkeypatch.setattr(training, "fit", interrupted)
    with pytest.raises(KeyboardInterrupt):
        api.tune(blobs(tmp_path / "b.npz"), trials=3, epochs=1, out=tmp_path / "study")
    rows = list(csv.DictReader(open(tmp_path / "study" / "trials.csv")))
    assert [r["state"] for r in rows] == ["complete", "fail"]
    # the trial that finished is the best so far: its settings, ready to train
    assert "trial 0 of 2 (1 complete, 0 pruned, 1 failed)" in (
        tmp_path / "study" / "best.toml").read_text()
    assert json.loads((tmp_path / "study" / "study.json").read_text())["best"]["number"] == 0


def test_a_journal_study_fails_the_trials_of_dead_local_workers(tmp_path):
    import optuna

    study = optuna.create_study(storage=tuning.open_storage(None, tmp_path), study_name="s")
    gone = subprocess.Popen(["true"])
    gone.wait()  # a process id that no longer runs
    for pid in (gone.pid, os.getpid()):
        trial = study.ask({"learning_rate": optuna.distributions.FloatDistribution(1e-4, 1)})
        trial.set_user_attr("worker", {"host": socket.gethostname(), "pid": pid})
    assert tuning.fail_dead_local_trials(study) == 1
    states = optuna.trial.TrialState
    trials = study.get_trials()
    assert [t.state for t in trials] == [states.FAIL, states.RUNNING, states.WAITING]
    # the dead trial runs again once, with its settings, as a database's heartbeats do
    assert trials[2].params == trials[0].params
    assert trials[2].system_attrs["failed_trial"] == trials[0].number
    assert tuning.fail_dead_local_trials(study) == 0


def test_trials_csv_keeps_each_parameter_beside_its_kind(tmp_path):
    """A deeper trial's units_3 comes after units_2, not after the timings, whichever
    trial came first."""
    import optuna
    from mlpkit import study_folder

    d = optuna.distributions
    study = optuna.create_study(direction="maximize")
    for n in (2, 4, 3):
        params = {"learning_rate": 0.01, "hidden_layers": n,
                  **{f"units_{i}": 10 * i for i in range(1, n + 1)}}
        dists = {"learning_rate": d.FloatDistribution(1e-4, 1, log=True),
                 "hidden_layers": d.IntDistribution(1, 4),
                 **{f"units_{i}": d.IntDistribution(8, 64) for i in range(1, n + 1)}}
        study.add_trial(optuna.trial.create_trial(
            params=params, distributions=dists, value=0.5, user_attrs={"epochs": 3}))
    study_folder.write_tables(study, tmp_path, "val_accuracy")
    header = open(tmp_path / "trials.csv").readline().strip().split(",")
    assert header[:9] == ["number", "state", "val_accuracy", "learning_rate", "hidden_layers",
                          "units_1", "units_2", "units_3", "units_4"]
    rows = list(csv.DictReader(open(tmp_path / "trials.csv")))
    assert [r["units_4"] for r in rows] == ["", "40", ""]
    assert [r["epochs_run"] for r in rows] == ["3", "3", "3"]


def test_tune_refuses_a_bad_storage_url(tmp_path):
    r = run_cli("tune", blobs(tmp_path / "b.npz"), "--trials", "1", "--storage",
                "postgresql://nobody@127.0.0.1:1/none", "--out", tmp_path / "s")
    assert r.returncode == 2
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: cannot open storage postgresql://nobody@127.0.0.1:1/none: ")
    assert last.endswith("Check the URL and that the server is running.")


def test_tune_refuses_augmentation_the_data_cannot_take_before_any_trial(tmp_path):
    space = tmp_path / "space.toml"
    space.write_text("[tune]\nrandom_shift = [0, 1]\n")
    with pytest.raises(ConfigError, match="random_shift augments images; this data is "
                                          "feature vectors.*from the \\[tune\\] table"):
        api.tune(blobs(tmp_path / "b.npz"), config_file=space, trials=1, out=tmp_path / "s")
    rng = np.random.default_rng(0)
    images = tmp_path / "i.npz"
    np.savez(images, x_train=rng.random((40, 6, 6)), y_train=np.arange(40) % 2)
    space.write_text("[tune]\nrandom_shift = {low = 0, high = 6}\n")
    with pytest.raises(ConfigError, match="smaller than the images.*up to 6"):
        api.tune(images, config_file=space, trials=1, out=tmp_path / "s")
    with pytest.raises(ConfigError, match="random_flip augments images.*from the settings "
                                          "\\(--random-flip or \\[model\\] random_flip\\)"):
        api.tune(blobs(tmp_path / "b.npz"), trials=1, out=tmp_path / "s",
                 random_flip="horizontal")
    assert not (tmp_path / "s").exists()


def test_tune_searches_coordinates_and_refuses_bad_names_before_any_trial(tmp_path):
    import optuna

    space = search_space.space_from({"coordinates": ["lat,lon", ""],
                                     "coordinate_rotations": [2, 4]})
    assert space["coordinates"].choices == ("lat,lon", "none")  # plain values for Optuna
    again = search_space.parse_space(search_space.space_toml(space)["tune"])
    assert again["coordinates"] == space["coordinates"]  # as the study folder writes it
    assert search_space.space_from(  # one pair of names: fixed, not two choices
        {"coordinates": ["lat", "lon"]})["coordinates"].value == ("lat", "lon")
    base = cfg.resolve("california-housing", "seed")
    drawn = []
    for wanted in ("lat,lon", "none"):
        trial = optuna.trial.FixedTrial({"coordinates": wanted, "coordinate_rotations": 4,
                                         "learning_rate": 0.01, "optimizer": "adam",
                                         "layers": 1, "units_1": 16, "activation": "relu",
                                         "batch_size": 32, "dropout": 0.0})
        drawn.append(search_space.suggest(trial, space, base).model)
    assert drawn[0].coordinates == ("lat", "lon") and drawn[0].coordinate_rotations == 4
    assert drawn[1].coordinates == () and drawn[1].coordinate_rotations == 10  # not drawn
    table = tmp_path / "g.csv"
    rng = np.random.default_rng(0)
    import pandas as pd

    pd.DataFrame({"lat": rng.uniform(32, 42, 60), "lon": rng.uniform(-124, -114, 60),
                  "y": rng.normal(size=60)}).to_csv(table, index=False)
    conf = tmp_path / "space.toml"
    conf.write_text('[data]\ntarget = "y"\n[tune]\ncoordinates = ["lat,lng", "none"]\n')
    with pytest.raises(ConfigError, match="coordinates names 'lng', which is not a feature "
                                          "column of 'g.csv'. Did you mean 'lon'?"):
        api.tune(table, config_file=conf, trials=1, out=tmp_path / "s")
    assert not (tmp_path / "s").exists()


def test_tune_and_lr_find_take_run_options_after_a_config_file_without_a_data_path(tmp_path):
    """``tune --config c.toml --out s``: the data comes from the file; click hands the
    first option it does not know over as the data argument, which must not eat it."""
    data = blobs(tmp_path / "b.npz")
    conf = tmp_path / "c.toml"
    conf.write_text(f'[data]\nname = "{data}"\n[training]\nepochs = 1\n')
    r = run_cli("lr-find", "--config", conf, "--out", tmp_path / "lr", "--steps", "20",
                "--batch-size", "16")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "lr" / "plots" / "lr_find.png").exists()
    r = run_cli("tune", "--config", conf, "--trials", "1", "--epochs", "1", "--out",
                tmp_path / "s", "--no-final")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "s" / "best.toml").exists()
    r = run_cli("tune", "--epochs", "1", data, "--trials", "1", "--out", tmp_path / "s2",
                "--no-final")  # the data path after an option
    assert r.returncode == 0, r.stderr
    r = run_cli("tune", "--config", conf, "--epochs", "1", "other.csv", "--out", tmp_path / "s3")
    assert r.returncode == 2 and "other.csv not found" in r.stderr  # the data: the file's no more
    r = run_cli("tune", "--epochs", "1", data, "extra.csv", "--out", tmp_path / "s3")
    assert r.returncode == 2 and "unknown option 'extra.csv'" in r.stderr
    r = run_cli("tune", data, "--verbose", "0", "--out", tmp_path / "s4")
    assert r.returncode == 2 and "--verbose is an option of mlpkit train alone" in r.stderr
    assert not (tmp_path / "s4").exists()


# --- several workers, one study, a real PostgreSQL ---------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_url():
    """A PostgreSQL server of its own on a free loopback port, stopped after the tests."""
    found = shutil.which("initdb") or next(iter(sorted(glob.glob(
        "/usr/lib/postgresql/*/bin/initdb"))), None)
    if not found:
        pytest.fail(f"PostgreSQL's initdb not found; install it with: {PG_INSTALL}")
    bindir = Path(found).resolve().parent
    root = Path(tempfile.mkdtemp(prefix="mlpkit-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root
        import pwd

        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            pytest.fail(f"no postgres user; install PostgreSQL with: {PG_INSTALL}")
        os.chown(root, pw.pw_uid, pw.pw_gid)
        as_user = [shutil.which("runuser") or "/usr/sbin/runuser", "-u", "postgres", "--"]
    data, port = root / "data", _free_port()
    subprocess.run([*as_user, bindir / "initdb", "-D", data, "-U", "postgres",
                    "--auth=trust", "-E", "UTF8", "--no-sync"], check=True,
                   capture_output=True)
    subprocess.run([*as_user, bindir / "pg_ctl", "-D", data, "-l", root / "server.log", "-w",
                    "-o", f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off",
                    "start"], check=True, capture_output=True)
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*as_user, bindir / "pg_ctl", "-D", data, "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def _worker(data, url, out, seed, env):
    return subprocess.Popen(
        # enough trials that b still has work to do once a's killed trial goes stale (2 s),
        # however busy the machine: b fails and reruns it at the start of its next trial
        [sys.executable, "-m", "mlpkit.cli", "tune", str(data), "--trials", "10", "--storage",
         url, "--study", "shared", "--out", str(out), "--no-final", "--epochs", "2",
         "--batch-size", "8", "--sampler-seed", str(seed)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def test_two_workers_share_a_study_on_postgresql_and_survive_a_kill(tmp_path, postgres_url):
    import optuna

    data = blobs(tmp_path / "b.npz", rows=400)
    env = {**os.environ, "MLPKIT_TUNE_HEARTBEAT": "1"}  # a dead worker is noticed in 2 s
    a = _worker(data, postgres_url, tmp_path / "a", 1, env)
    b = _worker(data, postgres_url, tmp_path / "b", 2, env)
    killed = None
    try:
        deadline = time.monotonic() + 240
        while killed is None and time.monotonic() < deadline:
            time.sleep(0.2)
            if a.poll() is not None:
                pytest.fail(f"worker a ended before it could be killed: {a.stderr.read()}")
            try:
                study = optuna.load_study(study_name="shared", storage=postgres_url)
            except KeyError:  # not created yet
                continue
            trials = study.get_trials(deepcopy=False)
            of_a = [t for t in trials if (t.user_attrs.get("worker") or {}).get("pid") == a.pid]
            done = [t for t in of_a if t.state == optuna.trial.TrialState.COMPLETE]
            mine = [t for t in of_a if t.state == optuna.trial.TrialState.RUNNING]
            if done and mine:  # a finished a trial and is in the middle of the next
                a.send_signal(signal.SIGKILL)  # in the middle of its trial
                killed = mine[0].number
        assert killed is not None, "worker a never ran a trial"
        a.wait(30)
        out, err = b.communicate(timeout=300)
    finally:
        for p in (a, b):
            if p.poll() is None:
                p.kill()
    assert b.returncode == 0, err
    study = optuna.load_study(study_name="shared", storage=postgres_url)
    states = optuna.trial.TrialState
    by_number = {t.number: t for t in study.get_trials()}
    assert by_number[killed].state == states.FAIL  # marked failed by worker b
    finished = [t for t in by_number.values() if t.state in (states.COMPLETE, states.PRUNED)]
    assert len(finished) >= 10
    workers = {t.user_attrs["worker"]["pid"] for t in finished}
    assert workers == {a.pid, b.pid}  # both did a share of the work
    retried = [t for t in by_number.values() if t.system_attrs.get("failed_trial") == killed]
    # run again by worker b, to its end: the pruner may stop the rerun as it may any trial
    assert retried and retried[0].state in (states.COMPLETE, states.PRUNED)
    assert retried[0].user_attrs["worker"]["pid"] == b.pid
    assert retried[0].params == by_number[killed].params
    rows = list(csv.DictReader(open(tmp_path / "b" / "trials.csv")))
    assert len(rows) == len(by_number) and "fail" in {r["state"] for r in rows}
    assert "study shared:" in out and (tmp_path / "b" / "best.toml").is_file()


def test_lr_find_on_an_ensemble_tests_one_member(tmp_path):
    data = blobs(tmp_path / "b.npz", spread=0.5)
    path, found = api.lr_find(data, members=3, optimizer="sgd", batch_size=16, steps=60,
                              max_lr=100.0, out=tmp_path / "lr")
    summary = json.loads((path / "lr_find.json").read_text())
    assert summary["members_tested"] == 1 and found.suggestion is not None
    assert cfg.read_toml(path / "config.toml")["model"]["members"] == 3  # the run's own
    # the same test as on one MLP: each member trains as if alone
    _, single = api.lr_find(data, optimizer="sgd", batch_size=16, steps=60, max_lr=100.0,
                            out=tmp_path / "lr1")
    assert single.losses == found.losses


def test_an_option_given_to_tune_holds_in_every_trial(tmp_path, caplog):
    """``tune --hidden 16``: the layers are not searched (nor the rate with --learning-rate);
    a note says so."""
    from mlpkit import search_space

    caplog.set_level("INFO", logger="mlpkit")
    data = blobs(tmp_path / "b.npz")
    base, space = search_space.resolve(data, hidden="16", learning_rate=0.01)
    assert base.model.hidden == (16,) and base.training.learning_rate == 0.01
    assert not {"layers", "units", "learning_rate"} & set(space)
    assert {"optimizer", "activation", "batch_size"} <= set(space)  # the rest still searched
    assert "not searched, set by an option: learning_rate, layers, units" in caplog.text
    _, full = search_space.resolve(data)
    assert {"layers", "units", "learning_rate"} <= set(full)


def test_a_trials_note_is_said_once_whatever_its_figures():
    """Early stopping's note names each trial's epoch: said once a study, not once a trial;
    warnings pass every time."""
    import logging

    once = tuning._Once()

    def record(level, msg, *args):
        return logging.LogRecord("mlpkit", level, __file__, 1, msg, args, None)

    kept = [once.filter(record(logging.INFO, "early stopping: epoch %d restored", n))
            for n in (3, 5)]
    assert kept == [True, False]
    assert [once.filter(record(logging.INFO, "plain note")) for _ in range(2)] == [True, False]
    assert once.filter(record(logging.WARNING, "w %d", 1)) and once.filter(
        record(logging.WARNING, "w %d", 1))
