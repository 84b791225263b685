import csv
import dataclasses
import json
import tomllib

import numpy as np
import pytest

import mlpkit
from mlpkit import config as cfg
from mlpkit import training
from mlpkit.data.dataset import Dataset


def small(ds, n=2000):
    return Dataset(ds.name, ds.task, ds.x_train[:n], ds.y_train[:n], ds.x_valid[:500],
                   ds.y_valid[:500], ds.x_test[:1000], ds.y_test[:1000], ds.class_names,
                   source=ds.source)


def test_short_run_writes_the_whole_run_folder(fashion, tmp_path):
    run = mlpkit.train(small(fashion), preset="seed", epochs=2, out=tmp_path / "run", verbose=0)
    names = sorted(p.name for p in run.path.iterdir())
    # a Dataset made in memory keeps its held-out rows (heldout.npz) instead of a split
    assert names == ["config.toml", "heldout.npz", "history.csv", "manifest.json",
                     "metrics.json", "model.keras", "plots", "preprocessing.json",
                     "report.html", "summary.txt"]
    assert sorted(p.name for p in (run.path / "plots").iterdir()) == [
        "confusion_matrix.png", "learning_curves.png", "misclassified.png",
        "sample_predictions.png"]
    manifest = json.loads((run.path / "manifest.json").read_text())
    assert manifest["status"] == "completed" and manifest["backend"] == "jax"
    assert set(manifest["timings"]) == {"load_data_seconds", "fit_seconds",
                                        "evaluate_seconds", "report_seconds", "total_seconds"}
    assert manifest["versions"]["keras"] and manifest["machine"]["cores"]
    assert len(manifest["data"]["sha256"]) == 4
    with open(run.path / "history.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["epoch"] for r in rows] == ["1", "2"]
    assert {"loss", "accuracy", "val_loss", "val_accuracy", "epoch_seconds",
            "elapsed_seconds"} <= set(rows[0])
    assert float(rows[1]["elapsed_seconds"]) > float(rows[0]["elapsed_seconds"])
    metrics = json.loads((run.path / "metrics.json").read_text())
    assert set(metrics) == {"test_loss", "test_accuracy"}
    assert metrics["test_accuracy"] > 0.5  # 2 epochs on 2,000 images learn something
    assert tomllib.loads((run.path / "config.toml").read_text())["training"]["epochs"] == 2
    page = (run.path / "report.html").read_text()
    for part in ("Per-class precision and recall", "Confusion matrix", "Misclassified",
                 "Sample predictions", "266,610", "data:image/png;base64,"):
        assert part in page
    assert "src=\"plots/" not in page  # self-contained
    assert not list(run.path.rglob(".*tmp*"))  # no temp files left


def test_history_and_run_api(fashion, tmp_path):
    run = mlpkit.train(small(fashion, 1000), epochs=1, out=tmp_path / "r", verbose=0)
    assert set(run.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    loaded = mlpkit.load_run(tmp_path / "r")
    assert loaded.history["loss"] == pytest.approx(run.history["loss"], rel=1e-6)
    x = fashion.x_test[:3]
    np.testing.assert_allclose(loaded.predict(x), run.predict(x), atol=1e-6)
    assert loaded.predict(x).shape == (3, 10)
    assert loaded.predict_classes(x)[0] in fashion.class_names
    assert loaded.config.training.epochs == 1


def test_label_smoothing_run_reports_the_plain_loss_and_reopens(fashion, tmp_path):
    """Label smoothing changes the training loss only: the run's test loss is the plain
    cross-entropy of its predictions, and the saved model (with mlpkit's smoothed sparse
    loss compiled in) reopens in safe mode."""
    ds = small(fashion, 1000)
    run = mlpkit.train(ds, epochs=2, optimizer="adam", learning_rate=0.002,
                       label_smoothing=0.2, out=tmp_path / "r", verbose=0)
    assert tomllib.loads((run.path / "config.toml").read_text())["training"][
        "label_smoothing"] == 0.2
    loaded = mlpkit.load_run(tmp_path / "r")
    p = loaded.predict(ds.x_test)
    plain = float(np.mean(-np.log(p[np.arange(len(p)), ds.y_test])))
    assert run.metrics["test_loss"] == pytest.approx(plain, rel=1e-4)
    assert loaded.model.loss.label_smoothing == 0.2
    # smoothing pulls probabilities off 1: less confident than the same run without it
    other = mlpkit.train(ds, epochs=2, optimizer="adam", learning_rate=0.002,
                         out=tmp_path / "plain", verbose=0)
    confidence = lambda q: float(q.max(axis=1).mean())  # noqa: E731
    assert confidence(p) < confidence(other.predict(ds.x_test)) - 0.02


def test_same_seed_same_result(fashion, tmp_path):
    ds = small(fashion, 500)
    a = mlpkit.train(ds, epochs=1, seed=7, out=tmp_path / "a", verbose=0)
    b = mlpkit.train(ds, epochs=1, seed=7, out=tmp_path / "b", verbose=0)
    assert a.history["loss"] == b.history["loss"]


def test_batch_size_sets_the_steps(fashion):
    c = cfg.resolve("fashion-mnist", epochs=1, batch_size=100)
    ds = small(fashion, 1000)
    model = training.compile_model(training.build_model(ds, c), ds.task, c.training)
    history = training.fit(model, ds, c.training, verbose=0)
    assert history.params["steps"] == 10


def test_failure_marks_the_manifest_and_leaves_complete_files(fashion, tmp_path, monkeypatch):
    def boom(*a, **k):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(training, "fit", boom)
    with pytest.raises(RuntimeError):
        mlpkit.train(small(fashion, 200), epochs=1, out=tmp_path / "f", verbose=0)
    manifest = json.loads((tmp_path / "f" / "manifest.json").read_text())
    assert manifest["status"] == "failed" and "disk on fire" in manifest["error"]
    assert not (tmp_path / "f" / "model.keras").exists()
    assert not list((tmp_path / "f").glob(".*"))
    from mlpkit.errors import RunError  # evaluated: the failure, not a missing file

    for written_later in ("split.npz", "heldout.npz"):  # as when config.toml failed
        (tmp_path / "f" / written_later).unlink(missing_ok=True)
    with pytest.raises(RunError, match=r"did not complete \(RuntimeError: disk on fire\)"):
        mlpkit.load_run(tmp_path / "f").evaluate()


def test_run_folder_must_be_new(fashion, tmp_path):
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "x").write_text("keep me")
    with pytest.raises(mlpkit.RunError, match="already exists"):
        mlpkit.train(small(fashion, 100), epochs=1, out=tmp_path / "used", verbose=0)
    assert (tmp_path / "used" / "x").read_text() == "keep me"


def test_regression_run(housing_dir, tmp_path):
    ds = mlpkit.load_dataset("california-housing", data_dir=housing_dir)
    run = mlpkit.train(ds, epochs=2, out=tmp_path / "h", verbose=0)
    metrics = run.metrics
    assert set(metrics) == {"test_loss", "test_rmse"}
    assert metrics["test_rmse"] == pytest.approx(np.sqrt(metrics["test_loss"]), rel=1e-3)
    assert metrics["test_rmse"] < 1.0
    names = sorted(p.name for p in (run.path / "plots").iterdir())
    assert names == ["error_by_range.png", "learning_curves.png", "predicted_vs_actual.png",
                     "residuals.png"]
    assert "Error by target range" in (run.path / "report.html").read_text()


@pytest.mark.parametrize("engine", ["auto", "keras"])
def test_cosine_schedule_decays_the_learning_rate_to_zero(engine):
    """The schedule must act: the rate the optimizer uses falls to 0 by the last step,
    and training differs from the same run at a constant rate."""
    rng = np.random.default_rng(0)
    x = rng.random((64, 5)).astype("float32")
    ds = Dataset("t", "multiclass", x, rng.integers(0, 3, 64), x[:8], np.zeros(8, int),
                 x[:8], np.zeros(8, int), ["a", "b", "c"])
    results = {}
    for schedule in ("constant", "cosine"):
        c = cfg.resolve("fashion-mnist", epochs=3, batch_size=16, optimizer="sgd",
                        learning_rate=0.5, schedule=schedule, engine=engine)
        import keras
        keras.utils.set_random_seed(0)
        model = training.build_model(ds, dataclasses_replace_hidden(c))
        training.compile_model(model, ds.task, c.training, len(ds.x_train))
        training.fit(model, ds, c.training, verbose=0)
        results[schedule] = (float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)),
                             model.get_weights())
    assert results["constant"][0] == pytest.approx(0.5)
    assert results["cosine"][0] == pytest.approx(0.0, abs=1e-7)  # 12 steps of 12: decayed
    assert any(not np.allclose(a, b) for a, b in zip(results["constant"][1],
                                                     results["cosine"][1]))


def dataclasses_replace_hidden(c):
    import dataclasses

    return dataclasses.replace(c, model=dataclasses.replace(c.model, hidden=(8,)))


def test_a_step_budget_cuts_the_epochs_and_says_so(caplog):
    from mlpkit.api import within_budget

    t = cfg.TrainingConfig(epochs=200, batch_size=10, max_steps=100)
    caplog.set_level("INFO", logger="mlpkit")
    assert within_budget(t, n_train=100).epochs == 10  # 10 steps an epoch
    assert "10 epochs at most (not 200)" in caplog.text
    assert within_budget(t, n_train=50).epochs == 20
    assert within_budget(t, n_train=100_000).epochs == 1  # never zero, and said
    assert "max_steps 100 is less than one epoch (10000 steps): one whole epoch runs" \
        in caplog.text
    assert within_budget(cfg.TrainingConfig(epochs=7), n_train=10**6).epochs == 7  # no budget


def test_the_task_loss_and_output_are_said_on_every_run(fashion, tmp_path, caplog):
    caplog.set_level("INFO", logger="mlpkit")
    mlpkit.train(small(fashion, 300), epochs=1, out=tmp_path / "r", verbose=0)
    assert ("multiclass: loss sparse_categorical_crossentropy, output layer Dense(10, "
            "activation=softmax), metric accuracy") in caplog.text


def test_the_prediction_cache_does_not_keep_models_alive():
    import gc
    import weakref

    from mlpkit import inference, models

    model = models.build_mlp((4,), (8,), "relu", 3)
    assert inference.predict(model, np.zeros((2, 4))).shape == (2, 3)
    ref = weakref.ref(model)
    del model
    gc.collect()
    assert ref() is None


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "adamw", "rmsprop", "nadam"])
def test_weight_decay_reaches_every_optimizer(optimizer):
    made = training.make_optimizer(cfg.TrainingConfig(optimizer=optimizer, weight_decay=0.05))
    assert made.weight_decay == 0.05
    unset = training.make_optimizer(cfg.TrainingConfig(optimizer=optimizer))
    assert unset.weight_decay == (0.004 if optimizer == "adamw" else None)


def test_a_constant_target_weighs_as_variance_one_not_as_a_rounding_error(caplog):
    """A column constant at 0.1 has a float std of about 1e-17, not 0: as a scale it would
    multiply that target's loss by 1e34 and leave the others unlearned."""
    rng = np.random.default_rng(0)
    price, constant = rng.normal(4e5, 1e5, size=100), np.full(100, 0.1)
    assert 0 < constant.std() < 1e-15  # the rounding error this is about
    y = np.stack([price, constant], 1)
    x = rng.random((100, 2)).astype("float32")
    ds = Dataset("t", "regression", x, y, x[:5], y[:5], x[:5], y[:5], None)
    with caplog.at_level("INFO", logger="mlpkit"):
        scale = training.target_loss_scale(ds, cfg.ModelConfig())  # target_scaling "none"
    assert scale == pytest.approx([price.std(), 1.0])
    assert "target_scaling = none: the loss's steps grow as 1/variance" in caplog.text
    m = cfg.ModelConfig(target_scaling="standardize")
    assert training.target_scale(ds, m)[1] == pytest.approx([price.std(), 1.0])
    caplog.clear()
    with caplog.at_level("INFO", logger="mlpkit"):
        training.target_loss_scale(ds, m)
    assert "SGD may not survive" not in caplog.text  # standardized: nothing to warn of
    one = Dataset("t", "regression", x, price, x[:5], price[:5], x[:5], price[:5], None)
    assert training.target_loss_scale(one) is None  # one target: the plain MSE


def test_report_images_are_drawn_as_the_model_sees_them(tmp_path):
    """The lecture draws Fashion-MNIST dark on light (cmap "binary"); the user's grayscale
    images are drawn as they are: a black image is black, not white."""
    from PIL import Image

    from mlpkit import plots

    black = np.zeros((1, 28, 28), np.float32)
    shades = {}
    for negative in (False, True):
        path = plots.image_grid(black, [""], tmp_path / f"{negative}.png", negative=negative)
        shades[negative] = np.asarray(Image.open(path).convert("L"))
    assert shades[False].min() < 30 and shades[False].mean() < shades[True].mean()
    assert shades[True].min() > 200  # all white: the lecture's look


def test_early_stopping_says_which_epoch_it_kept(tmp_path, caplog):
    """Labels of noise: validation loss is lowest early, then rises as the model learns
    the noise; early stopping restores the best epoch's weights, and says which."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 10)).astype("float32")
    y = rng.integers(0, 2, 400)
    ds = Dataset("noise", "binary", x[:300], y[:300], x[300:350], y[300:350], x[350:],
                 y[350:], ["a", "b"])
    caplog.set_level("INFO", logger="mlpkit")
    run = mlpkit.train(ds, epochs=40, patience=3, hidden="64", optimizer="adam",
                       learning_rate=0.01, out=tmp_path / "run", verbose=0)
    kept = run.manifest["restored_epoch"]
    losses = run.history["val_loss"]
    assert kept < run.manifest["epochs_run"] == len(losses)
    assert losses[kept - 1] == min(losses)
    assert f"early stopping (patience 3): the weights of epoch {kept}, the best val_loss" \
        in caplog.text
    said = (f"early stopping (patience 3): the weights of epoch {kept}, the best val_loss, "
            "restored")
    assert any(n.startswith(said) for n in run.manifest["notes"])  # the report's notes too
    assert said in (run.path / "report.html").read_text()


def test_train_on_validation_fits_the_validation_rows_too(tmp_path, caplog):
    """The final fit, settings chosen: the model is fitted on the training and validation
    rows together (its Normalization adapted on both), the run has no validation figures,
    and the run folder still keeps which rows validated (heldout.npz)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 3)).astype("float32")
    x[200:250] += 10.0  # the validation rows lie elsewhere: their mean moves the statistics
    y = x.sum(1)
    ds = Dataset("shifted", "regression", x[:200], y[:200], x[200:250], y[200:250], x[250:],
                 y[250:], None)
    caplog.set_level("INFO", logger="mlpkit")
    run = mlpkit.train(ds, epochs=2, hidden="8", patience=0, train_on_validation=True,
                       out=tmp_path / "run", verbose=0)
    norm = next(layer for layer in run.model.layers if "normalization" in layer.name)
    np.testing.assert_allclose(np.ravel(norm.mean), x[:250].mean(0), rtol=1e-4)
    assert not any(k.startswith("val_") for k in run.history)
    assert "trains on the training and validation rows together (250)" in caplog.text
    with np.load(run.path / "heldout.npz") as held:
        assert len(held["x_valid"]) == 50
    assert "(the model fitted on train and valid together, 250 rows: train_on_validation)" \
        in (run.path / "report.html").read_text()
    assert tomllib.loads((run.path / "config.toml").read_text())[
        "training"]["train_on_validation"] is True
    plain = mlpkit.train(ds, epochs=1, hidden="8", out=tmp_path / "plain", verbose=0)
    norm = next(layer for layer in plain.model.layers if "normalization" in layer.name)
    np.testing.assert_allclose(np.ravel(norm.mean), x[:200].mean(0), rtol=1e-4)


def test_train_on_validation_refuses_early_stopping_before_the_run_folder(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 2)).astype("float32")
    ds = Dataset("t", "regression", x[:40], x[:40, 0], x[40:50], x[40:50, 0], x[50:],
                 x[50:, 0], None)
    with pytest.raises(mlpkit.ConfigError, match="no validation rows for early stopping "
                       r"\(patience 3\): set patience = 0"):
        mlpkit.train(ds, patience=3, train_on_validation=True, out=tmp_path / "run",
                     verbose=0)
    with pytest.raises(mlpkit.ConfigError, match="the validation rows carry no weights"):
        mlpkit.train(dataclasses.replace(ds, w_train=np.ones(40)), patience=0,
                     train_on_validation=True, out=tmp_path / "run", verbose=0)
    assert not (tmp_path / "run").exists()
    # a tuning study is refused before its first trial (its final run would be)
    with pytest.raises(mlpkit.ConfigError, match="no validation rows for early stopping"):
        mlpkit.tune("california-housing", trials=1, patience=5, train_on_validation=True,
                    out=tmp_path / "study")
    assert not (tmp_path / "study").exists()
    with pytest.raises(mlpkit.ConfigError, match=r"\(patience 20, the preset's\)"):
        mlpkit.train(ds, train_on_validation=True, out=tmp_path / "run", verbose=0)
