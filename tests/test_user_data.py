"""The user's own data: tables, image folders and .npz files, end to end."""

import json

import keras
import numpy as np
import pandas as pd
import pytest
from PIL import Image

import mlpkit
from mlpkit import config as cfg
from mlpkit.errors import ConfigError, DataError

from conftest import run_cli


def make_table(path, n=240, seed=0, missing=False):
    """Label depends on x1 and the colour, so a model can learn it."""
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    colour = rng.choice(["red", "green", "blue"], size=n)
    label = np.where(x1 + (colour == "red") * 1.5 > 0.5, "yes", "no")
    df = pd.DataFrame({"x1": x1, "x2": rng.normal(5, 2, n), "colour": colour,
                       "weight": rng.uniform(0.5, 2, n), "label": label})
    if missing:
        df.loc[::10, "x2"] = np.nan  # 24 rows: some land in the training rows
        df.loc[5::10, "colour"] = None
    df.to_csv(path, index=False)
    return df


def data_config(**kw):
    return cfg.DataConfig(name="x", **kw)


# ---- tables ------------------------------------------------------------------------

def test_table_end_to_end_with_categories_and_missing(tmp_path, caplog):
    make_table(tmp_path / "t.csv", missing=True)
    run = mlpkit.train(str(tmp_path / "t.csv"), target="label", epochs=30,
                       learning_rate=0.01, out=tmp_path / "run", verbose=0)
    m, prep = run.manifest, run.preprocessing
    assert m["task"] == "binary" and prep["labels"]["class_names"] == ["no", "yes"]
    colour = next(c for c in prep["table"]["columns"] if c["name"] == "colour")
    assert colour["kind"] == "category" and colour["vocab"] == ["blue", "green", "red"]
    assert any(n.startswith("column 'x2':") and "replaced by the training median" in n
               for n in m["notes"])
    assert any(n.startswith("column 'colour':") and '"unknown" category' in n
               for n in m["notes"])
    # Normalization then one-hot inside the model; sigmoid output for binary
    kinds = [type(layer).__name__ for layer in run.model.layers]
    assert kinds[:2] == ["Normalization", "OneHotColumns"]
    assert run.model.layers[-1].units == 1 and run.model.loss == "binary_crossentropy"
    assert run.metrics["test_accuracy"] > 0.75
    # the saved run predicts from raw rows, unknown categories included
    loaded = mlpkit.load_run(tmp_path / "run")
    rows = pd.DataFrame({"x1": [3.0, -3.0], "x2": [5.0, np.nan], "colour": ["red", "purple"],
                         "weight": [1.0, 1.0]})
    assert loaded.predict_labels(rows) == ["yes", "no"]


def test_table_regression_is_inferred(tmp_path):
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200)})
    df["y"] = 2 * df.a - df.b + 0.1 * rng.normal(size=200)
    df.to_csv(tmp_path / "r.csv", index=False)
    run = mlpkit.train(str(tmp_path / "r.csv"), target="y", epochs=40,
                       out=tmp_path / "run", verbose=0)
    assert run.manifest["task"] == "regression"
    output = [layer for layer in run.model.layers if isinstance(layer, keras.layers.Dense)][-1]
    assert output.activation.__name__ == "linear"
    assert run.metrics["test_rmse"] < 1.0


def test_a_large_scale_target_trains_in_its_own_units(tmp_path):
    """Prices around 250,000 with noise of 10,000: the table preset standardizes the target
    for the model and a Rescaling layer gives back dollars, so the test RMSE comes near the
    noise; without it the same MLP is still far off after the same epochs."""
    rng = np.random.default_rng(0)
    n = 600
    a, b, c = rng.normal(size=n), rng.normal(size=n), rng.choice(["x", "y", "z"], n)
    price = 250_000 + 60_000 * a - 30_000 * b + 40_000 * (c == "x") + rng.normal(0, 10_000, n)
    pd.DataFrame({"a": a, "b": b, "c": c, "price": price}).to_csv(tmp_path / "h.csv",
                                                                  index=False)
    run = mlpkit.train(str(tmp_path / "h.csv"), target="price", epochs=40,
                       out=tmp_path / "run", verbose=0)
    assert run.config.model.target_scaling == "standardize"
    assert isinstance(run.model.layers[-1], keras.layers.Rescaling)
    assert run.metrics["test_rmse"] < 15_000
    again = mlpkit.load_run(tmp_path / "run")  # the units come back with the saved model
    assert again.evaluate()["test_rmse"] == pytest.approx(run.metrics["test_rmse"], rel=1e-6)
    assert 150_000 < float(np.median(again.predict(again.dataset.x_test))) < 350_000
    shown = run_cli("predict", tmp_path / "run", tmp_path / "h.csv")  # 6 significant digits
    first = shown.stdout.splitlines()[0].split(": ")[1]
    assert shown.returncode == 0 and first == f"{float(first):.6g}" and len(first) <= 12, first
    raw = mlpkit.train(str(tmp_path / "h.csv"), target="price", epochs=40,
                       out=tmp_path / "raw", verbose=0, target_scaling="none")
    assert raw.metrics["test_rmse"] > 5 * run.metrics["test_rmse"]


def test_parquet(tmp_path):
    df = make_table(tmp_path / "t.csv")
    df.to_parquet(tmp_path / "t.parquet")
    c = cfg.resolve(str(tmp_path / "t.parquet"), target="label")
    from mlpkit import data
    assert data.load_for(c).task == "binary"


@pytest.mark.parametrize("content,args,message", [
    ("a,b\n1,2\n", ["--target", "c"], "target column 'c' not found in t.csv. Columns: a, b"),
    ('a,"b, c","d""e"\n1,2,3\n', ["--target", "c"],
     'not found in t.csv. Columns: a, "b, c", "d""e"'),  # each name reads as one
    ("a,b\n1,2\n", ["--target", "b,"], "target 'b,' has an empty name: name columns separated "
     "by single commas, e.g. --target b. Columns of t.csv: a, b"),
    ("a,b\n", ["--target", "b"], "has a header but no rows"),
    ("", ["--target", "b"], "is empty"),
    ("a,b\n1,x\n2,x\n3,x\n", ["--target", "b"], "one class only"),
    ("a,b\n1,2\n", [], "pass --target COLUMN"),
])
def test_bad_tables(tmp_path, content, args, message):
    (tmp_path / "t.csv").write_text(content)
    r = run_cli("train", tmp_path / "t.csv", *args, "--epochs", "1", "--out", tmp_path / "run")
    assert r.returncode == 2, r.stderr
    assert message in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "run").exists()


def test_non_utf8_table(tmp_path):
    (tmp_path / "t.csv").write_bytes("name,y\ncaf\xe9,1\nthe,0\n".encode("latin-1"))
    r = run_cli("train", tmp_path / "t.csv", "--target", "y", "--out", tmp_path / "run")
    assert r.returncode == 2 and "is not UTF-8 text (byte 10: invalid" in r.stderr  # café: 0-based
    assert not (tmp_path / "run").exists()
    head = "name,y\n" + "abc,1\n" * 20_000  # past the parser's first chunk
    (tmp_path / "t.csv").write_bytes((head + "caf\xe9,1\n").encode("latin-1"))
    r = run_cli("train", tmp_path / "t.csv", "--target", "y", "--out", tmp_path / "run")
    assert f"is not UTF-8 text (byte {len(head) + 3}: invalid" in r.stderr, r.stderr


def test_missing_target_values_are_refused(tmp_path):
    (tmp_path / "t.csv").write_text("a,y\n1,0\n2,\n3,1\n")
    with pytest.raises(DataError, match=r"target column 'y' of t.csv has 1 values that are "
                                        r"missing, not numbers, non-finite or beyond float32's "
                                        r"range \(lines \[3\]: empty\); fill"):
        c = cfg.resolve(str(tmp_path / "t.csv"), target="y")
        from mlpkit import data
        data.load_for(c)
    (tmp_path / "w.csv").write_text("a,y\n" + "".join(f"{i},{i * 1.5}\n" for i in range(40))
                                    + "9,yes\n")  # a word among numbers: said as written
    with pytest.raises(DataError, match=r"\(lines \[42\]: 'yes'\)"):
        data.load_for(cfg.resolve(str(tmp_path / "w.csv"), target="y"))
    (tmp_path / "q.csv").write_text('a,"b, c",y\n1,2,3\n4,5,6\n')
    with pytest.raises(DataError, match="unbalanced double quote"):
        from mlpkit import data
        data.load_for(cfg.resolve(str(tmp_path / "q.csv"), target='"b, c,y'))


# ---- weights -----------------------------------------------------------------------

def test_weighted_loss_equals_the_hand_computed_one():
    """Keras multiplies class_weight and sample_weight; the batch loss is the mean of
    weight x loss over the batch. Checked on mlpkit's loop and on Keras's fit."""
    from mlpkit import jax_loop, models, training

    rng = np.random.default_rng(0)
    x = rng.random((6, 3)).astype("float32")
    y = np.array([0, 1, 2, 0, 1, 2])
    sw = np.array([1.0, 2.0, 0.5, 1.0, 3.0, 1.0], "float32")
    cw = {0: 1.0, 1: 2.0, 2: 4.0}
    keras.utils.set_random_seed(0)
    model = models.build_mlp((3,), (4,), "relu", 3)
    t = cfg.TrainingConfig(learning_rate=1e-12)  # weights stay put during the epoch
    training.compile_model(model, "multiclass", t)
    proba = model.predict(x, verbose=0)
    per_sample = -np.log(proba[np.arange(6), y])
    expected = np.sum(per_sample * sw * np.array([cw[c] for c in y])) / 6
    unweighted = per_sample.mean()
    h = jax_loop.fit(model, x, y, epochs=1, batch_size=6, shuffle=False, sample_weight=sw,
                     class_weight=cw, verbose=0)
    assert h.history["loss"][0] == pytest.approx(expected, rel=1e-5)
    assert abs(expected - unweighted) > 0.1  # the weights really change the loss
    # Keras 3 refuses class_weight with sample_weight, so mlpkit multiplies them itself
    with pytest.raises(ValueError, match="class_weight"):
        model.fit(x, y, epochs=1, sample_weight=sw, class_weight=cw, verbose=0)
    keras_h = model.fit(x, y, epochs=1, batch_size=6, shuffle=False, verbose=0,
                        sample_weight=jax_loop.sample_weights(y, sw, cw))
    assert keras_h.history["loss"][0] == pytest.approx(expected, rel=1e-4)


def test_evaluate_and_predict_a_table_run_through_the_cli(tmp_path):
    make_table(tmp_path / "t.csv")
    r = run_cli("train", tmp_path / "t.csv", "--target", "label", "--epochs", "3",
                "--out", tmp_path / "run", "--verbose", "0")
    assert r.returncode == 0, r.stderr
    assert "note: test: 48 of 240 rows (0.2), stratified by class, shuffled with seed 42" in r.stderr
    r = run_cli("evaluate", tmp_path / "run", "--json")
    saved = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert json.loads(r.stdout)["test_accuracy"] == pytest.approx(saved["test_accuracy"])
    pd.DataFrame({"x1": [2.0, -2.0], "x2": [5.0, 5.0], "colour": ["red", "blue"],
                  "weight": [1.0, 1.0]}).to_csv(tmp_path / "new.csv", index=False)
    r = run_cli("predict", tmp_path / "run", tmp_path / "new.csv", "--json")
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert [row["row"] for row in rows] == [1, 2]
    assert {row["prediction"] for row in rows} <= {"yes", "no"}


def test_sample_weight_column_through_the_cli(tmp_path):
    make_table(tmp_path / "t.csv")
    r = run_cli("train", tmp_path / "t.csv", "--target", "label", "--sample-weight", "weight",
                "--class-weight", "balanced", "--epochs", "2", "--out", tmp_path / "run",
                "--verbose", "0")
    assert r.returncode == 0, r.stderr
    prep = json.loads((tmp_path / "run" / "preprocessing.json").read_text())
    assert "weight" not in prep["table"]["features"]  # a weight, not a feature
    assert "sample weights: column 'weight' (0.5" in r.stderr
    # evaluated on other rows: unweighted figures, so the weights need not be there; what
    # predict would say of a row (a colour never seen) is said once for the file
    other = make_table(tmp_path / "other.csv", n=40, seed=1).drop(columns="weight")
    other.loc[:2, "colour"] = "purple"
    other.to_csv(tmp_path / "other.csv", index=False)
    r = run_cli("evaluate", tmp_path / "run", "--data", tmp_path / "other.csv")
    assert r.returncode == 0, r.stderr
    assert ("other.csv: 3 values not taken as they are: colour: 'purple' not seen in "
            "training (coded as unknown)") in r.stderr


# ---- one-hot, binary, multilabel -------------------------------------------------------

def npz(path, x, y, **more):
    np.savez(path, x_train=x, y_train=y, **more)
    return str(path)


def test_one_hot_switches_the_loss(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.random((120, 4)).astype("float32")
    y = (x[:, 0] * 3).astype(int)
    f = npz(tmp_path / "d.npz", x, y)
    sparse = mlpkit.train(f, epochs=1, out=tmp_path / "a", verbose=0)
    onehot = mlpkit.train(f, epochs=1, one_hot=True, out=tmp_path / "b", verbose=0)
    assert sparse.model.loss == "sparse_categorical_crossentropy"
    assert onehot.model.loss == "categorical_crossentropy"
    assert onehot.dataset.y_train.shape[1] == 3
    # one-hot labels given in the file switch it too
    f2 = npz(tmp_path / "e.npz", x, np.eye(3)[y])
    assert mlpkit.train(f2, epochs=1, out=tmp_path / "c", verbose=0).model.loss == \
        "categorical_crossentropy"


def test_multilabel_uses_sigmoid_and_binary_crossentropy(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.random((150, 4)).astype("float32")
    y = (x[:, :3] > 0.5).astype(int)
    run = mlpkit.train(npz(tmp_path / "m.npz", x, y), epochs=2, out=tmp_path / "m", verbose=0)
    assert run.manifest["task"] == "multilabel"
    assert run.model.layers[-1].activation.__name__ == "sigmoid"
    assert run.model.layers[-1].units == 3 and run.model.loss == "binary_crossentropy"
    assert "Per-label precision and recall" in (run.path / "report.html").read_text()
    assert all(isinstance(labels, list) for labels in run.predict_labels(x[:4]))


def test_a_multilabel_table_names_its_labels_by_their_columns(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.random((150, 4))
    df = pd.DataFrame(x, columns=["f1", "f2", "f3", "f4"]).assign(
        sports=(x[:, 0] > 0.5).astype(int), music=(x[:, 1] > 0.5).astype(int),
        travel=(x[:, 2] > 0.5).astype(int))
    df.to_csv(tmp_path / "t.csv", index=False)
    run = mlpkit.train(str(tmp_path / "t.csv"), target="sports,music,travel", epochs=2,
                       out=tmp_path / "m", verbose=0)
    assert run.manifest["task"] == "multilabel"
    assert run.class_names == ["sports", "music", "travel"]
    labels = run.predict_labels(df.drop(columns=["sports", "music", "travel"]).head(20))
    assert all(set(row) <= {"sports", "music", "travel"} for row in labels)
    assert "<td>music</td>" in (run.path / "report.html").read_text()
    for target, task, words in (("sports,music,travel", "multiclass", "needs one-hot rows"),
                                ("sports,sports", "auto", "names a column twice")):
        with pytest.raises(DataError, match=words):
            mlpkit.train(str(tmp_path / "t.csv"), target=target, task=task, epochs=1,
                         out=tmp_path / "no", verbose=0)
    assert not (tmp_path / "no").exists()
    # the labels written true/false (or yes/no): the same task, the same labels
    words = df.assign(sports=df.sports.map({1: True, 0: False}),
                      music=df.music.map({1: "yes", 0: "no"}))
    words.to_csv(tmp_path / "w.csv", index=False)
    again = mlpkit.train(str(tmp_path / "w.csv"), target="sports,music,travel", epochs=2,
                         out=tmp_path / "w", verbose=0)
    assert again.manifest["task"] == "multilabel"
    np.testing.assert_array_equal(again.dataset.y_train, run.dataset.y_train)
    words.assign(music=["jazz"] * len(words)).to_csv(tmp_path / "text.csv", index=False)
    with pytest.raises(DataError, match=r"target column 'music' holds text \(\['jazz'"):
        mlpkit.train(str(tmp_path / "text.csv"), target="sports,music,travel", epochs=1,
                     out=tmp_path / "no", verbose=0)


def test_class_predictions_come_back_as_the_labels_were_written(tmp_path):
    """Integer labels 3, 7, 9 come back as integers (not "7"), booleans as booleans, so
    they compare with the table's own column; a text label stays text."""
    df = make_table(tmp_path / "t.csv")
    features = df.drop(columns=["label"])
    for labels, kind in ((df.label.map({"yes": 7, "no": 3}), int), (df.label == "yes", bool),
                         (df.label, str)):
        df.assign(label=labels).to_csv(tmp_path / "l.csv", index=False)
        run = mlpkit.train(str(tmp_path / "l.csv"), target="label", epochs=20, hidden="16",
                           learning_rate=0.01, out=tmp_path / kind.__name__, verbose=0)
        predicted = run.predict_labels(features)
        assert {type(v) for v in predicted} == {kind}
        assert np.mean(np.asarray(predicted) == labels.to_numpy()) > 0.8
        r = run_cli("predict", run.path, tmp_path / "l.csv", "--json")
        assert [rec["prediction"] for rec in json.loads(r.stdout)] == predicted


def test_several_regression_targets_each_get_their_error_in_the_report(tmp_path, caplog):
    caplog.set_level("INFO", logger="mlpkit")
    rng = np.random.default_rng(0)
    x = rng.random((150, 3))
    df = pd.DataFrame(x, columns=["f1", "f2", "f3"]).assign(
        price=1000 * x[:, 0] + 500, rooms=x[:, 1] * 3)  # units far apart: pooled hides rooms
    df.to_csv(tmp_path / "t.csv", index=False)
    run = mlpkit.train(str(tmp_path / "t.csv"), target="price,rooms", epochs=2,
                       out=tmp_path / "m", verbose=0)
    assert run.manifest["task"] == "regression"
    assert "standard deviation (price: " in caplog.text and "; rooms: " in caplog.text
    page = (run.path / "report.html").read_text()
    assert "Error by target" in page and "<td>price</td>" in page and "<td>rooms</td>" in page
    ranges = page.split("Error by target range")[1].split("<h2>")[0]
    assert ranges.count("<td>rooms</td>") >= 2  # each target's ranges in its own units
    assert not (run.path / "plots" / "error_by_range.png").exists()
    samples = page.split("Sample predictions")[1]  # each value under its target's name
    assert "<th>actual price</th>" in samples and "<th>predicted rooms</th>" in samples
    assert (run.path / "plots" / "predicted_vs_actual.png").stat().st_size > 0
    prep = json.loads((run.path / "preprocessing.json").read_text())
    assert prep["labels"]["target_names"] == ["price", "rooms"]
    figures = json.loads((run.path / "metrics.json").read_text())
    price, rooms = figures["test_rmse[price]"], figures["test_rmse[rooms]"]
    pred = np.asarray(run.predict(run.dataset.x_test)).reshape(-1, 2)
    np.testing.assert_allclose([price, rooms], np.sqrt(
        ((pred - run.dataset.y_test) ** 2).mean(axis=0)), rtol=1e-4)
    assert rooms < 10 < price  # each in its own units; the pooled figure hides rooms
    np.testing.assert_allclose(figures["test_rmse"], np.sqrt((price ** 2 + rooms ** 2) / 2),
                               rtol=1e-4)
    assert mlpkit.load_run(run.path).evaluate() == pytest.approx(figures, rel=1e-5)
    first = run.predict_files([tmp_path / "t.csv"])[0]  # each value under its target's name
    assert list(first["predictions"]) == ["price", "rooms"]
    assert list(first["predictions"].values()) == first["prediction"]
    shown = run_cli("predict", run.path, tmp_path / "t.csv")
    assert shown.returncode == 0 and "t.csv:1: price=" in shown.stdout and ", rooms=" in shown.stdout
    del prep["labels"]["target_names"]  # a run from before the names were saved
    (run.path / "preprocessing.json").write_text(json.dumps(prep))
    old = mlpkit.load_run(run.path)
    assert list(old.predict_files([tmp_path / "t.csv"])[0]["predictions"]) == ["price", "rooms"]
    assert "test_rmse[rooms]" in old.evaluate()  # named from config.toml's target


def test_target_names_holding_commas_and_equals_signs(tmp_path):
    """Several targets whose names hold a comma or "=": --target names them as a CSV row
    does (double quotes), a config file as a list, and the plain predict line quotes them."""
    rng = np.random.default_rng(0)
    x = rng.random((120, 2))
    pd.DataFrame({"f1": x[:, 0], "f2": x[:, 1], "rooms, total": 3 * x[:, 0],
                  "a=b": x[:, 1]}).to_csv(tmp_path / "t.csv", index=False)
    r = run_cli("train", tmp_path / "t.csv", "--target", '"rooms, total",a=b', "--epochs", "1",
                "--out", tmp_path / "run", "--verbose", "0")
    assert r.returncode == 0, r.stderr
    prep = json.loads((tmp_path / "run" / "preprocessing.json").read_text())
    assert prep["labels"]["target_names"] == ["rooms, total", "a=b"]
    shown = run_cli("predict", tmp_path / "run", tmp_path / "t.csv")
    assert shown.returncode == 0, shown.stderr
    assert 't.csv:1: "rooms, total"=' in shown.stdout and ', "a=b"=' in shown.stdout
    r = run_cli("predict", tmp_path / "run", tmp_path / "t.csv", "--json")
    assert list(json.loads(r.stdout)[0]["predictions"]) == ["rooms, total", "a=b"]
    (tmp_path / "c.toml").write_text('[data]\ntarget = ["rooms, total", "a=b"]\n')
    run = mlpkit.train(str(tmp_path / "t.csv"), config_file=tmp_path / "c.toml", epochs=1,
                       out=tmp_path / "run2", verbose=0)
    assert "test_rmse[rooms, total]" in run.evaluate()
    assert mlpkit.load_run(run.path).evaluate().keys() == run.evaluate().keys()


def test_several_targets_each_weigh_the_same_in_the_loss_whatever_their_units(tmp_path, caplog):
    """A price around 4e5 beside a rate around 0.4, both functions of the features: the
    loss divides each target's squared error by its training variance, so the rate is
    learned too (with the plain pooled MSE the price's errors drowned it: the rate's test
    RMSE stayed at about its standard deviation)."""
    caplog.set_level("INFO", logger="mlpkit")
    rng = np.random.default_rng(0)
    x = rng.random((600, 3))
    pd.DataFrame(x, columns=["f1", "f2", "f3"]).assign(
        price=1e5 * np.sin(3 * x[:, 0]) + 4e5, rate=0.4 * np.cos(4 * x[:, 1])).to_csv(
        tmp_path / "t.csv", index=False)
    run = mlpkit.train(str(tmp_path / "t.csv"), target="price,rate", epochs=60, seed=1,
                       out=tmp_path / "m", verbose=0)
    assert "divides each one's squared error by its training variance" in caplog.text
    std = run.dataset.y_train.std(axis=0)
    figures = json.loads((run.path / "metrics.json").read_text())
    assert figures["test_rmse[price]"] < 0.3 * std[0]
    assert figures["test_rmse[rate]"] < 0.3 * std[1]  # learned, not drowned
    reopened = mlpkit.load_run(run.path)
    assert type(reopened.model.loss).__name__ == "ScaledMeanSquaredError"
    np.testing.assert_allclose(reopened.model.loss.scale, std, rtol=1e-6)
    pred = np.asarray(run.predict(run.dataset.x_test)).reshape(-1, 2)
    own = np.mean(((pred - run.dataset.y_test) / std) ** 2)  # the loss as trained
    assert figures["test_loss"] == pytest.approx(own, rel=1e-4)
    assert reopened.evaluate() == pytest.approx(figures, rel=1e-5)


def test_npz_test_labels_unseen(tmp_path):
    x = np.random.rand(40, 2, 2)
    f = npz(tmp_path / "d.npz", x, np.arange(40) % 2, x_test=x[:3], y_test=np.array([0, 1, 5]))
    r = run_cli("train", f, "--epochs", "1", "--out", tmp_path / "run")
    assert r.returncode == 2 and "never seen in training: ['5']" in r.stderr
    assert not (tmp_path / "run").exists()


def test_npz_images_use_the_image_presets(tmp_path):
    x = (np.random.rand(60, 8, 8) * 255).astype(np.uint8)
    f = npz(tmp_path / "i.npz", x, np.arange(60) % 3, x_test=x[:9], y_test=np.arange(9) % 3)
    c = cfg.resolve(f)
    assert c.training.optimizer == "sgd" and c.model.hidden == (300, 100)
    run = mlpkit.train(f, epochs=1, hidden="16", out=tmp_path / "run", verbose=0)
    assert run.dataset.x_train.max() <= 1.0  # uint8 scaled as the lecture does
    assert type(run.model.layers[0]).__name__ == "Flatten"


# ---- image folders -------------------------------------------------------------------

def make_folder(root, sizes=((30, 20), (28, 28), (50, 50)), per_class=12, bad=True):
    rng = np.random.default_rng(0)
    for c, name in enumerate(["boots", "shirts"]):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            w, h = sizes[i % len(sizes)]
            base = 40 if c == 0 else 200
            arr = np.clip(rng.normal(base, 20, (h, w, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(arr).save(root / name / f"{i}.png")
    if bad:
        (root / "boots" / "broken.png").write_bytes(b"not a png")
    return root


def test_image_folder_end_to_end(tmp_path):
    folder = make_folder(tmp_path / "imgs")
    run = mlpkit.train(str(folder), epochs=30, hidden="16", learning_rate=0.1,
                       out=tmp_path / "run", verbose=0)
    ds = run.dataset
    assert ds.class_names == ["boots", "shirts"] and ds.task == "binary"
    assert ds.x_train.shape[1:] == (28, 28)  # every size converted
    assert any("1 unreadable files skipped: boots/broken.png" in n for n in ds.notes)
    assert run.metrics["test_accuracy"] == 1.0  # dark vs light: easy
    # a text file among the images, and an image beside the class folders: said apart
    (folder / "shirts" / "notes.txt").write_text("taken in May")
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(folder / "stray.png")
    from mlpkit import data
    notes = data.load_for(cfg.resolve(str(folder))).notes
    assert "1 unreadable files skipped: boots/broken.png" in notes
    assert "1 files that are not images skipped: shirts/notes.txt" in notes
    assert ("files beside the class folders ignored (an image goes in the folder of its "
            "class): stray.png") in notes


def test_split_order_keep_on_an_image_folder_says_why_no_test_class_is_known(tmp_path):
    folder = tmp_path / "imgs"
    for c, name in enumerate(["a", "b", "c", "d"]):  # the last fifth: all d, none trains
        (folder / name).mkdir(parents=True)
        for i in range(5):
            Image.fromarray(np.full((8, 8), 80 * c, np.uint8)).save(folder / name / f"{i}.png")
    r = run_cli("train", folder, "--split-order", "keep", "--epochs", "1",
                "--validation-split", "0.1")
    assert r.returncode == 2 and "--split-order keep holds out the last ones (an image " \
        "folder's rows come class by class): use --split-order shuffle" in r.stderr, r.stderr


def test_the_report_names_the_files_of_the_misclassified_test_images(tmp_path):
    """An image folder's test rows keep their files' names: the report lists which
    files were misclassified (to look at, or to relabel) and names its sample rows."""
    folder = make_folder(tmp_path / "imgs", bad=False)
    for i in range(8):  # light images filed as boots: a model calls them shirts
        Image.fromarray(np.full((28, 28, 3), 200, np.uint8)).save(
            folder / "boots" / f"light{i}.png")
    run = mlpkit.train(str(folder), epochs=20, hidden="16", learning_rate=0.1,
                       out=tmp_path / "run", verbose=0)
    ds = run.dataset
    assert len(ds.test_names) == len(ds.x_test)
    for name, image in zip(ds.test_names, ds.x_test):  # each name is its row's file
        np.testing.assert_allclose(run.image_input(folder / name)[0], image, atol=1e-6)
    truth = np.asarray(ds.class_names)[ds.y_test]
    assert [n.split("/")[0] for n in ds.test_names] == truth.tolist()  # its class folder
    wrong = [n for n, p, t in zip(ds.test_names, run.predict_labels(ds.x_test), truth)
             if p != t]
    assert wrong  # the light boots confuse it
    page = (run.path / "report.html").read_text()
    assert all(f"<td>{n}</td>" in page for n in wrong)
    assert f"<td>{ds.test_names[0]}</td>" in page  # the sample predictions, too
    again = mlpkit.load_run(run.path).dataset  # reopened from the run folder: the same
    assert again.test_names == ds.test_names


def test_image_folder_rgb_and_size(tmp_path):
    folder = make_folder(tmp_path / "imgs", bad=False)
    c = cfg.resolve(str(folder), image_size="16x12", color="rgb")
    from mlpkit import data
    assert data.load_for(c).x_train.shape[1:] == (16, 12, 3)
    # hidden folders (a .git, a .thumbnails inside a class) hold no class and no images
    for hidden in (folder / ".git", folder / "boots" / ".thumbnails"):
        hidden.mkdir()
        Image.new("RGB", (8, 8)).save(hidden / "x.png")
    ds = data.load_for(c)
    assert ds.class_names == ["boots", "shirts"] and len(ds.x_train) + len(ds.x_valid) + len(
        ds.x_test) == 24
    assert not any("empty" in n or "subfolders" in n for n in ds.notes), ds.notes


def test_image_folder_bad_inputs(tmp_path):
    one = make_folder(tmp_path / "a", bad=False)
    import shutil
    shutil.rmtree(one / "shirts")
    r = run_cli("train", one, "--epochs", "1")
    assert r.returncode == 2 and "1 class folder(s)" in r.stderr
    mixed = make_folder(tmp_path / "b", bad=False)
    r = run_cli("train", mixed, "--image-size", "native", "--epochs", "1")
    assert r.returncode == 2 and "different sizes" in r.stderr
    empty = tmp_path / "c"
    for name in ("x", "y"):
        (empty / name).mkdir(parents=True)
        (empty / name / "bad.png").write_bytes(b"nope")
    r = run_cli("train", empty, "--epochs", "1")
    assert r.returncode == 2 and "no readable image" in r.stderr


# ---- config files and options ----------------------------------------------------------

def test_config_file_sections_and_repeat(tmp_path):
    make_table(tmp_path / "t.csv")
    (tmp_path / "c.toml").write_text(
        f'[data]\nname = "{tmp_path / "t.csv"}"\ntarget = "label"\n'
        '[model]\nhidden = [8]\ndropout = 0.1\n'
        '[training]\noptimizer = "sgd"\nmomentum = 0.9\nnesterov = true\nepochs = 2\n'
        f'[output]\nout = "{tmp_path / "first"}"\n')
    r = run_cli("train", "--config", tmp_path / "c.toml", "--epochs", "3", "--verbose", "0")
    assert r.returncode == 0, r.stderr
    first = mlpkit.load_run(tmp_path / "first")
    assert first.config.training.epochs == 3  # the flag won over the file
    assert first.config.training.nesterov and first.config.model.dropout == 0.1
    r = run_cli("train", "--config", tmp_path / "first" / "config.toml", "--out",
                tmp_path / "again", "--verbose", "0")
    assert r.returncode == 0, r.stderr
    again = mlpkit.load_run(tmp_path / "again")
    assert again.history["loss"] == pytest.approx(first.history["loss"], rel=1e-5)


def test_config_file_messages(tmp_path):
    (tmp_path / "c.toml").write_text('[training]\nepochs = 0\n')
    r = run_cli("train", "fashion-mnist", "--config", tmp_path / "c.toml")
    assert r.returncode == 2 and "epochs must be >= 1. Received: epochs=0" in r.stderr
    (tmp_path / "c.toml").write_text('[trainig]\nepochs = 2\n')
    r = run_cli("train", "fashion-mnist", "--config", tmp_path / "c.toml")
    assert r.returncode == 2 and "Did you mean 'training'" in r.stderr


def test_early_stopping_and_schedule_options(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.random((100, 3)).astype("float32")
    f = npz(tmp_path / "d.npz", x, rng.integers(0, 2, 100))  # labels are noise
    run = mlpkit.train(f, epochs=60, patience=2, optimizer="adam", learning_rate=0.05,
                       schedule="cosine", out=tmp_path / "run", verbose=0)
    assert run.manifest["epochs_run"] < 60


def test_builtin_rejects_options_for_files():
    from mlpkit import data
    c = cfg.resolve("fashion-mnist", test_split=0.1)
    with pytest.raises(ConfigError, match="test_split applies to your own data"):
        data.load_for(c)


def test_validation_data_file_replaces_the_split(tmp_path):
    df = make_table(tmp_path / "t.csv", n=200)
    make_table(tmp_path / "v.csv", n=37, seed=5)
    run = mlpkit.train(str(tmp_path / "t.csv"), target="label", epochs=1,
                       validation_data=str(tmp_path / "v.csv"), out=tmp_path / "run", verbose=0)
    sizes = run.dataset.sizes
    assert sizes["valid"] == 37 and sizes["train"] + sizes["test"] == len(df)
    assert not any(n.startswith("validation:") for n in run.manifest["notes"])
    (tmp_path / "bad.csv").write_text("x1,x2,colour,weight,label\n1,2,red,1,maybe\n")
    with pytest.raises(DataError, match=r"the validation labels hold labels never seen in training"):
        mlpkit.train(str(tmp_path / "t.csv"), target="label", epochs=1,
                     validation_data=str(tmp_path / "bad.csv"), out=tmp_path / "r2", verbose=0)
    assert not (tmp_path / "r2").exists()
    # two ways of choosing the validation rows, or the training file as its own: refused
    for settings, words in (({"validation_split": 0.3}, "both choose the validation rows"),
                            ({"validation_data": str(tmp_path / "t.csv")},
                             "validation_data is the training file itself")):
        with pytest.raises(mlpkit.ConfigError, match=words):
            mlpkit.train(str(tmp_path / "t.csv"), target="label", epochs=1, verbose=0,
                         **{"validation_data": str(tmp_path / "v.csv"), **settings},
                         out=tmp_path / "r3")
    assert not (tmp_path / "r3").exists()
    with pytest.raises(mlpkit.ConfigError, match=r"columns keeps and drop leaves out the same "
                                                 r"columns \['x1'\]"):
        mlpkit.train(str(tmp_path / "t.csv"), target="label", columns="x1,x2", drop="x1",
                     out=tmp_path / "r3", verbose=0)


def test_parquet_trains(tmp_path):
    make_table(tmp_path / "t.csv").to_parquet(tmp_path / "t.parquet")
    run = mlpkit.train(str(tmp_path / "t.parquet"), target="label", epochs=2,
                       out=tmp_path / "run", verbose=0)
    assert run.manifest["task"] == "binary" and run.path.joinpath("model.keras").is_file()


def geo_table(path, n=800, seed=0, kind=True):
    """Prices in bands along a diagonal of a map (north-west to south-east): a function
    of longitude plus latitude, a direction on neither axis (and, with ``kind``, of a
    category column)."""
    rng = np.random.default_rng(seed)
    lat, lon = rng.uniform(32, 42, n), rng.uniform(-124, -114, n)
    df = pd.DataFrame({"lat": lat, "lon": lon})
    df["price"] = np.sin(1.5 * (lon + lat)) + rng.normal(0, 0.05, n)
    if kind:
        df.insert(1, "kind", rng.choice(["flat", "house"], n))
        df["price"] += 0.5 * (df["kind"] == "house")
    df.to_csv(path, index=False)


def test_coordinates_add_rotated_views_that_a_diagonal_pattern_needs(tmp_path):
    """Periodic embeddings see each column on its own: bands along a diagonal are
    products of them; the rotated view at 135 degrees, -(lon + lat) / sqrt(2), makes them
    a function of one input (45 degrees, the other diagonal, would not)."""
    geo_table(tmp_path / "g.csv", kind=False)
    common = dict(target="price", epochs=40, hidden="64,64", embedding="periodic",
                  embedding_sigma=1.0, verbose=0)
    rotated = mlpkit.train(str(tmp_path / "g.csv"), coordinates="lat,lon",
                           coordinate_rotations=2, out=tmp_path / "rot", **common)
    plain = mlpkit.train(str(tmp_path / "g.csv"), out=tmp_path / "plain", **common)
    assert type(rotated.model.layers[0]).__name__ == "RotatedCoordinates"
    assert rotated.model.layers[0].angles == [45.0, 135.0]
    assert rotated.history["val_rmse"][-1] < 0.8 * plain.history["val_rmse"][-1]


def test_coordinates_with_a_category_column_train_save_and_predict(tmp_path):
    geo_table(tmp_path / "g.csv", n=300)
    r = run_cli("train", tmp_path / "g.csv", "--target", "price", "--coordinates", "lat,lon",
                "--epochs", "30", "--out", tmp_path / "run", "--verbose", "0")
    assert r.returncode == 0, r.stderr
    again = mlpkit.load_run(tmp_path / "run")  # config.toml and the saved model keep them
    assert again.config.model.coordinates == ("lat", "lon")
    kinds = [type(layer).__name__ for layer in again.model.layers]
    assert kinds[:3] == ["RotatedCoordinates", "Normalization", "OneHotColumns"]
    assert len(again.model.layers[0].angles) == 10  # the default
    rows = pd.DataFrame({"lat": [35.0, 35.0], "kind": ["house", "flat"], "lon": [-120.0] * 2})
    got = np.ravel(again.predict(rows))
    assert got[0] - got[1] == pytest.approx(0.5, abs=0.3)  # the category still counts


@pytest.mark.parametrize("coordinates, message", [
    ("lat,lng", "coordinates names 'lng', which is not a feature column of 'g.csv'. Did "
                "you mean 'lon'?"),
    ("lat,kind", "coordinates names 'kind', a category column"),
    ("lat,lat", "coordinates must name two different numeric columns"),
    ("lat", "coordinates must name two different numeric columns"),
])
def test_coordinates_that_cannot_apply_are_refused(tmp_path, coordinates, message):
    geo_table(tmp_path / "g.csv", n=60)
    with pytest.raises(ConfigError, match=message):
        mlpkit.train(str(tmp_path / "g.csv"), target="price", coordinates=coordinates,
                     epochs=1, out=tmp_path / "run", verbose=0)
    assert not (tmp_path / "run").exists()


def test_coordinates_name_what_is_wrong_with_a_column_and_say_when_they_apply(tmp_path,
                                                                              caplog):
    rng = np.random.default_rng(0)
    n = 80
    pd.DataFrame({"id": np.arange(n), "lat": rng.uniform(32, 42, n),
                  "lon": rng.uniform(-124, -114, n),
                  "notes": [f"a note {i % 60} about house {i % 60 * 7}" for i in range(n)],
                  "sold": pd.date_range("2020-01-01", periods=n, freq="7D").astype(str),
                  "pool": np.where(np.arange(n) % 3, "yes", "no"),
                  "price": rng.normal(size=n)}).to_csv(tmp_path / "t.csv", index=False)
    for pair, message in (("lat,price", "coordinates names 'price', the target: name two "
                                        "feature columns"),
                          ("lat,id", "coordinates names 'id', a column not used as a feature "
                                     r"\(read as identifier\).*--column-types id=number"),
                          ("lat,notes", "coordinates names 'notes', a text column: name two "
                                        "numeric columns instead"),
                          ("sold.year,sold.month", "coordinates names 'sold.year', a part of "
                                                   "the date column 'sold', not an axis"),
                          ("lat,pool", "coordinates names 'pool', a yes/no column")):
        with pytest.raises(ConfigError, match=message):
            mlpkit.train(str(tmp_path / "t.csv"), target="price", coordinates=pair, epochs=1,
                         out=tmp_path / "run", verbose=0)
    assert not (tmp_path / "run").exists()
    caplog.set_level("INFO", logger="mlpkit")
    mlpkit.train(str(tmp_path / "t.csv"), target="price", coordinates="lat,lon",
                 coordinate_rotations=2, epochs=1, out=tmp_path / "a", verbose=0)
    assert ("coordinates: lat and lon, and 2 views of them rotated by 45, 135 degrees"
            in caplog.text)
    caplog.clear()
    mlpkit.train(str(tmp_path / "t.csv"), target="price", coordinate_rotations=4, epochs=1,
                 out=tmp_path / "b", verbose=0)
    assert "coordinate_rotations = 4 does nothing without coordinates" in caplog.text


def test_a_dataframe_is_refused_in_one_line(tmp_path):
    with pytest.raises(ConfigError, match="this is a DataFrame: save it with df.to_csv"):
        mlpkit.train(pd.DataFrame({"a": [1.0, 2.0], "y": [0, 1]}), target="y",
                     out=tmp_path / "run")
    with pytest.raises(ConfigError, match=r"this is a tuple: save arrays with np.savez\("):
        mlpkit.train((np.zeros((2, 3)), np.zeros(2)), out=tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_predict_names_a_column_whose_case_differs(tmp_path):
    make_table(tmp_path / "t.csv")
    mlpkit.train(str(tmp_path / "t.csv"), target="label", epochs=1, out=tmp_path / "run",
                 verbose=0)
    rows = pd.DataFrame({"X1": [1.0], "x2": [5.0], "colour": ["red"], "weight": [1.0]})
    with pytest.raises(DataError, match="Names are case-sensitive: 'x1' is 'X1' there"):
        mlpkit.load_run(tmp_path / "run").predict(rows)


def test_coordinates_on_images_are_refused(tmp_path):
    x = np.random.default_rng(0).random((30, 6, 6)).astype("float32")
    np.savez(tmp_path / "i.npz", x_train=x, y_train=np.arange(30) % 3)
    with pytest.raises(ConfigError, match="has no named feature columns: drop --coordinates"):
        mlpkit.train(str(tmp_path / "i.npz"), coordinates="a,b", epochs=1,
                     out=tmp_path / "run", verbose=0)


def test_compare_takes_a_table_and_the_options_of_train(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.random((200, 3))
    pd.DataFrame(x, columns=["a", "b", "c"]).assign(price=3 * x[:, 0] + x[:, 1]).to_csv(
        tmp_path / "t.csv", index=False)
    r = run_cli("compare", tmp_path / "t.csv", "--target", "price", "--epochs", "2",
                "--hidden", "8", "--json")
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert [row["model"].split()[0] for row in rows] == ["scikit-learn", "Keras"]
    # Normalization (mean, variance, count), Dense(8), Dense(1)
    assert rows[1]["params"] == (3 + 3 + 1) + (3 * 8 + 8) + (8 + 1) and rows[1]["epochs"] == 2
    assert all(np.isfinite(row["test_rmse"]) for row in rows)
    pd.DataFrame(x, columns=["a", "b", "c"]).assign(price=3e5 * x[:, 0], rate=x[:, 1]).to_csv(
        tmp_path / "two.csv", index=False)
    r = run_cli("compare", tmp_path / "two.csv", "--target", "price,rate", "--epochs", "2",
                "--json")
    assert r.returncode == 0, r.stderr
    for row in json.loads(r.stdout):  # each target's RMSE in its units, in both rows
        assert row["test_rmse[rate]"] < 1 < row["test_rmse[price]"], row
    r = run_cli("compare", tmp_path / "two.csv", "--target", "price", "--epochs", "2", "--json")
    baseline = json.loads(r.stdout)[0]  # learns the price standardized, as the Keras model
    assert baseline["model"].endswith("targets standardized"), baseline
    assert baseline["test_rmse"] < 0.5 * np.std(3e5 * x[:, 0]), baseline
    r = run_cli("compare", tmp_path / "t.csv", "--trget", "price")
    assert r.returncode == 2 and "unknown option '--trget'" in r.stderr
    make_table(tmp_path / "c.csv")  # a binary task (yes/no), then three classes
    for target, task in (("label", "binary"), ("colour", "multiclass")):
        r = run_cli("compare", tmp_path / "c.csv", "--target", target, "--epochs", "2",
                    "--max-iter", "5", "--json")
        assert r.returncode == 0, r.stderr
        rows = json.loads(r.stdout)
        assert rows[0]["model"].startswith("scikit-learn MLPClassifier"), task
        assert all(0 <= row["test_accuracy"] <= 1 for row in rows), rows
        if target == "label":  # colour one-hot as the Keras model has it: 3 inputs, not 1
            features = 3 + 3  # x1, x2, weight (a feature here); colour's three codes
            assert rows[0]["params"] == (features + 1) * 300 + 301 * 100 + 101 * 1, rows[0]
    r = run_cli("compare", tmp_path / "c.csv", "--target", "label", "--out", tmp_path / "o")
    assert r.returncode == 2 and "compare writes no run folder" in r.stderr
    # one-hot columns as the target; class weights weigh both models, the Keras one as
    # `mlpkit train` does
    y = rng.choice(3, 300, p=[0.8, 0.15, 0.05])
    x = rng.normal(size=(300, 3)) + y[:, None]
    frame = pd.DataFrame(x, columns=["a", "b", "c"]).assign(
        **{f"is_{k}": (y == k).astype(int) for k in range(3)})
    frame.to_csv(tmp_path / "hot.csv", index=False)
    args = ["--target", "is_0,is_1,is_2", "--epochs", "3", "--hidden", "8",
            "--class-weight", "balanced"]
    r = run_cli("compare", tmp_path / "hot.csv", *args, "--max-iter", "5", "--json")
    assert r.returncode == 0, r.stderr
    baseline, keras_row = json.loads(r.stdout)
    assert baseline["model"].endswith(", weighted") and 0 < baseline["test_accuracy"] <= 1
    assert "note: task: multiclass" in r.stderr  # the data's notes, as train says them
    run = mlpkit.train(str(tmp_path / "hot.csv"), target="is_0,is_1,is_2", epochs=3,
                       hidden="8", class_weight="balanced", out=tmp_path / "hot", verbose=0)
    assert run.dataset.one_hot
    # what train said of the task and the weights is a note of the run, in its report too
    notes = run.manifest["notes"]
    assert any(n.startswith("multiclass: loss categorical_crossentropy") for n in notes), notes
    assert any(n.startswith("class weights: ") for n in notes), notes
    page = (run.path / "report.html").read_text()
    assert "class weights: " in page and "multiclass: loss categorical_crossentropy" in page
    assert keras_row["test_accuracy"] == pytest.approx(run.metrics["test_accuracy"], abs=1e-6)


def test_settings_are_refused_before_the_data_is_read(tmp_path):
    """An unknown activation, or a study of no trials, is refused before the table is read
    and described (no column table first), and leaves no folder."""
    make_table(tmp_path / "t.csv")
    for args, message in ((["train", "--activation", "relux"], "unknown activation 'relux'"),
                          (["lr-find", "--activation", "relux"], "unknown activation 'relux'"),
                          (["tune", "--trials", "0"], "trials must be >= 1")):
        r = run_cli(args[0], tmp_path / "t.csv", "--target", "label", *args[1:], "--out",
                    tmp_path / "no")
        assert r.returncode == 2 and message in r.stderr, (args, r.stderr)
        assert "note:" not in r.stderr and not (tmp_path / "no").exists()


def test_predict_carries_an_id_column_beside_each_prediction(tmp_path):
    """A Kaggle-style submission: the ID column (dropped from the features) is printed
    beside each row's prediction and is each record's "id"."""
    df = make_table(tmp_path / "t.csv").assign(PassengerId=np.arange(1000, 1240))
    df.to_csv(tmp_path / "t.csv", index=False)
    r = run_cli("train", tmp_path / "t.csv", "--target", "label", "--epochs", "1", "--out",
                tmp_path / "run", "--verbose", "0")
    assert r.returncode == 0, r.stderr
    df.drop(columns="label").tail(3).to_csv(tmp_path / "new.csv", index=False)
    r = run_cli("predict", tmp_path / "run", tmp_path / "new.csv", "--id", "PassengerId",
                "--json")
    assert r.returncode == 0, r.stderr
    records = json.loads(r.stdout)
    assert [rec["id"] for rec in records] == [1237, 1238, 1239]
    r = run_cli("predict", tmp_path / "run", tmp_path / "new.csv", "--id", "PassengerId")
    assert r.stdout.splitlines()[0].startswith(f"{tmp_path / 'new.csv'}:1 [1237]: ")
    r = run_cli("predict", tmp_path / "run", tmp_path / "new.csv", "--id", "passengerid")
    assert r.returncode == 2 and "id column 'passengerid' not found in new.csv. Did you mean " \
        "'PassengerId'?" in r.stderr, r.stderr
    # a submission file: the id and the prediction under the target's name, then more
    r = run_cli("predict", tmp_path / "run", tmp_path / "new.csv", "--id", "PassengerId",
                "--output", tmp_path / "submission.csv")
    assert r.returncode == 0 and r.stdout == "", r.stderr
    assert "wrote 3 prediction(s) to" in r.stderr
    sub = pd.read_csv(tmp_path / "submission.csv")
    assert list(sub.columns[:2]) == ["PassengerId", "label"]
    assert sub["PassengerId"].tolist() == [1237, 1238, 1239]
    assert sub["label"].tolist() == [rec["prediction"] for rec in records]
    assert sub["probability"].tolist() == pytest.approx([rec["probability"] for rec in records])
    r = run_cli("predict", tmp_path / "run", tmp_path / "new.csv", "-o",
                tmp_path / "nowhere" / "p.csv")
    assert r.returncode == 2 and "the folder" in r.stderr and "does not exist" in r.stderr
    assert not (tmp_path / "nowhere").exists()
    assert list(sub.columns) == ["PassengerId", "label", "probability", "notes"]  # always
    before = (tmp_path / "new.csv").read_bytes()
    r = run_cli("predict", tmp_path / "run", tmp_path / "new.csv", "-o", tmp_path / "new.csv")
    assert r.returncode == 2 and "is also an input" in r.stderr, r.stderr
    assert (tmp_path / "new.csv").read_bytes() == before  # its rows kept
    r = run_cli("predict", tmp_path / "run", tmp_path / "new.csv", "-o", tmp_path)
    assert r.returncode == 2 and "is a folder; name a file in it" in r.stderr, r.stderr
