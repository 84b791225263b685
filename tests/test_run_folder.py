"""The run folder is a contract: reopening a run uses what it stored, never the data
files as they are now."""

import html
import json
import shutil

import numpy as np
import pandas as pd
import pytest

import mlpkit
from mlpkit.errors import DataError, RunError

from conftest import run_cli


def table(path, n=160, seed=0):
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    colour = rng.choice(["red", "green", "blue"], size=n)
    df = pd.DataFrame({"x1": x1, "x2": rng.normal(size=n), "colour": colour,
                       "label": np.where(x1 + (colour == "red") > 0.3, "yes", "no")})
    df.loc[::9, "x2"] = np.nan
    df.to_csv(path, index=False)
    return df


@pytest.fixture(scope="module")
def table_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("contract")
    table(root / "t.csv")
    run = mlpkit.train(str(root / "t.csv"), target="label", epochs=3, out=root / "run",
                       verbose=0)
    return root, run


def test_the_folder_stores_split_and_preprocessing(table_run):
    root, run = table_run
    names = {p.name for p in run.path.iterdir()}
    assert {"split.npz", "preprocessing.json", "config.toml", "manifest.json"} <= names
    prep = json.loads((run.path / "preprocessing.json").read_text())
    assert prep["labels"]["class_names"] == ["no", "yes"]
    columns = {c["name"]: c for c in prep["table"]["columns"]}
    assert columns["colour"]["vocab"] == ["blue", "green", "red"]
    assert columns["x2"]["kind"] == "number" and "median" in columns["x2"]
    with np.load(run.path / "split.npz") as f:
        rows = np.concatenate([f["train"], f["valid"], f["test"]])
    assert sorted(rows.tolist()) == list(range(160))  # every row once, in one split


def test_reopening_uses_the_stored_preprocessing_not_the_file(table_run):
    """Medians and vocabularies come from preprocessing.json: a reopened run encodes its
    test rows exactly as in training, even if the code that fits them would now differ."""
    root, run = table_run
    loaded = mlpkit.load_run(run.path)
    np.testing.assert_array_equal(loaded.dataset.x_test, run.dataset.x_test)
    np.testing.assert_array_equal(loaded.dataset.y_test, run.dataset.y_test)
    prep = json.loads((run.path / "preprocessing.json").read_text())
    x2 = next(c for c in prep["table"]["columns"] if c["name"] == "x2")
    x2["median"] = 1234.5  # tamper: the reopened run must use it
    (root / "tampered").mkdir()
    for f in run.path.iterdir():
        if f.is_file():
            shutil.copy(f, root / "tampered" / f.name)
    (root / "tampered" / "preprocessing.json").write_text(json.dumps(prep))
    tampered = mlpkit.load_run(root / "tampered").dataset
    col = prep["table"]["features"].index("x2")
    assert 1234.5 in tampered.x_test[:, col] or 1234.5 in tampered.x_train[:, col]


def test_changed_data_is_refused_and_restored_data_gives_the_same_figures(table_run):
    root, run = table_run
    recorded = json.loads((run.path / "metrics.json").read_text())
    original = (root / "t.csv").read_bytes()
    with open(root / "t.csv", "a") as f:
        f.write("0.5,0.1,red,yes\n1.5,0.2,blue,no\n")
    r = run_cli("evaluate", run.path, "--json")
    assert r.returncode == 2 and "the data changed since this run was trained" in r.stderr
    assert "mlpkit evaluate" in r.stderr and "--data FILE" in r.stderr
    with pytest.raises(RunError, match="data changed"):
        mlpkit.load_run(run.path).evaluate()
    (root / "t.csv").write_bytes(original)
    r = run_cli("evaluate", run.path, "--json")
    assert r.returncode == 0, r.stderr
    figures = json.loads(r.stdout)
    assert figures.pop("data") == "test set"
    assert figures == recorded  # exactly the recorded figures


def test_evaluate_on_other_data_explicitly(table_run):
    root, run = table_run
    other = table(root / "other.csv", n=50, seed=9)
    r = run_cli("evaluate", run.path, "--data", root / "other.csv", "--json")
    assert r.returncode == 0, r.stderr
    figures = json.loads(r.stdout)
    assert figures["data"] == str(root / "other.csv")  # what the test_* figures measured
    proba = run.predict(other.drop(columns=["label"]))
    accuracy = np.mean((proba[:, 0] > 0.5) == (other["label"] == "yes").to_numpy())
    assert figures["test_accuracy"] == pytest.approx(accuracy)


def test_report_and_predict_work_from_the_folder_alone(table_run, tmp_path):
    root, run = table_run
    moved = tmp_path / "moved"
    shutil.copytree(run.path, moved)
    notes = [html.escape(n) for n in json.loads((moved / "manifest.json").read_text())["notes"]]
    assert notes and all(n in (moved / "report.html").read_text() for n in notes)
    r = run_cli("report", moved)
    assert r.returncode == 0, r.stderr
    page = (moved / "report.html").read_text()
    assert "Notes on the data" in page and all(n in page for n in notes)  # kept on a rebuild
    pd.DataFrame({"x1": [3.0, -3.0], "x2": [0.0, np.nan], "colour": ["red", "purple"]}).to_csv(
        tmp_path / "new.csv", index=False)
    r = run_cli("predict", moved, tmp_path / "new.csv", "--json")
    assert r.returncode == 0, r.stderr
    records = json.loads(r.stdout)
    assert [row["prediction"] for row in records] == ["yes", "no"]
    median = next(c["median"] for c in run.dataset.table["columns"] if c["name"] == "x2")
    assert [row["notes"] for row in records] == [
        [], [f"x2: missing (the training median {median:g} is used)",
             "colour: 'purple' not seen in training (coded as unknown)"]]
    loaded = mlpkit.load_run(moved)  # rows as dicts, in the API: as the DataFrame's
    rows = [{"x1": 3.0, "x2": 0.0, "colour": "red"}, {"x1": -3.0, "colour": "purple"}]
    frame = pd.read_csv(tmp_path / "new.csv")
    np.testing.assert_allclose(loaded.predict(rows), loaded.predict(frame), rtol=1e-6)
    np.testing.assert_allclose(loaded.predict(rows[0]), loaded.predict(frame)[:1], rtol=1e-6)
    assert loaded.predict([]).shape == loaded.predict(frame.iloc[:0]).shape == (0, 1)
    with pytest.raises(DataError, match=r"'x1' held numbers in training but holds "
                                        r"true/false here \(row 2\)"):  # not read as 1
        loaded.predict([{"x1": 1.0, "x2": 0.0, "colour": "red"},
                        {"x1": True, "x2": 0.0, "colour": "red"}])
    for column in (pd.Series([True, False]), pd.Series([True, None], dtype="boolean"),
                   pd.Series([False, True], dtype="category")):
        with pytest.raises(DataError, match="true/false here"):
            loaded.predict(pd.DataFrame({"x1": column, "x2": 0.0, "colour": "red"}))
    assert loaded.predict(pd.DataFrame({"x1": pd.Series([1, None], dtype="Int64"), "x2": 0.0,
                                        "colour": "red"})).shape == (2, 1)
    # what it cannot take: one line that says what to pass instead
    for wrong, words in ((str(tmp_path / "new.csv"), "not paths"),
                         ([str(tmp_path / "new.csv"), tmp_path / "x.csv"], "not paths"),
                         (np.array([[3.0, "red", 1.0]], dtype=object), "takes a DataFrame"),
                         (np.array([[np.nan, 0.0, 1.0, 0.0, 0.0]]), "1 NaN or infinite"),
                         (np.array([[1e300, 0.0, 1.0, 0.0, 0.0]]), "beyond float32's range")):
        with pytest.raises(DataError, match=words):
            loaded.predict(wrong)
    with pytest.raises(DataError, match="evaluate takes a file path"):
        loaded.evaluate(frame)
    # one path is one file, not its characters (as "/" would walk the whole disk)
    for one in (str(tmp_path / "new.csv"), tmp_path / "new.csv"):
        assert loaded.predict_files(one) == loaded.predict_files([tmp_path / "new.csv"])


def test_a_data_set_cut_by_hand_keeps_its_own_rows(tmp_path):
    """A built-in data set cut down with dataclasses.replace keeps the split object it was
    loaded with; the run must not store that split as its rows."""
    import dataclasses

    ds = mlpkit.load_dataset("california-housing")
    small = dataclasses.replace(ds, x_train=ds.x_train[:300], y_train=ds.y_train[:300],
                                x_valid=ds.x_valid[:100], y_valid=ds.y_valid[:100],
                                x_test=ds.x_test[:100], y_test=ds.y_test[:100])
    run = mlpkit.train(small, epochs=2, out=tmp_path / "run", verbose=0)
    assert (tmp_path / "run" / "heldout.npz").is_file()
    assert not (tmp_path / "run" / "split.npz").exists()
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["split"] is None
    assert any("differ from the split" in note for note in manifest["notes"])
    again = mlpkit.load_run(tmp_path / "run").evaluate()
    assert again["test_rmse"] == pytest.approx(run.metrics["test_rmse"], rel=1e-6)


def test_a_run_whose_data_has_moved_still_opens(tmp_path):
    """The run's settings, model and predictions need only its folder; what needs the
    data (its own test rows) says where the file was and how to go on."""
    table(tmp_path / "t.csv")
    mlpkit.train(str(tmp_path / "t.csv"), target="label", epochs=1, out=tmp_path / "run",
                 verbose=0)
    (tmp_path / "t.csv").rename(tmp_path / "elsewhere.csv")
    run = mlpkit.load_run(tmp_path / "run")
    assert run.config.data.name == str(tmp_path / "t.csv")
    assert run.config.model.hidden == (128, 64)  # the table preset's, as recorded
    assert len(run.predict(pd.read_csv(tmp_path / "elsewhere.csv").drop(columns="label"))) == 160
    r = run_cli("evaluate", tmp_path / "run")
    assert r.returncode == 2 and r.stderr.strip() == (
        f"Error: this run's data, {tmp_path / 't.csv'}, is not found (moved or deleted): its "
        f"test rows come from it. Put it back, or evaluate on another file: mlpkit evaluate "
        f"{tmp_path / 'run'} --data FILE")
    r = run_cli("evaluate", tmp_path / "run", "--data", tmp_path / "elsewhere.csv")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"on every row of {tmp_path / 'elsewhere.csv'}\n")


def test_a_data_set_made_in_memory_with_its_own_name(tmp_path):
    """A Dataset built in Python under any name gets the presets of its kind of data and
    reopens from its own held-out rows."""
    from mlpkit.data.dataset import Dataset

    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 5)).astype("float32")
    y = (x[:, 0] > 0).astype(int)
    ds = Dataset("my-sensors", "binary", x[:200], y[:200], x[200:250], y[200:250], x[250:],
                 y[250:], ["low", "high"])
    run = mlpkit.train(ds, epochs=2, out=tmp_path / "run", verbose=0)
    assert run.config.data.name == "my-sensors" and run.config.model.hidden == (128, 64)
    again = mlpkit.load_run(tmp_path / "run")
    assert again.config == run.config
    assert again.evaluate() == run.metrics
    images = Dataset("my-pictures", "multiclass", rng.random((60, 8, 8)), np.arange(60) % 3,
                     rng.random((20, 8, 8)), np.arange(20) % 3, rng.random((20, 8, 8)),
                     np.arange(20) % 3, ["a", "b", "c"])
    assert ds.preset_family() == "table" and images.preset_family() == "images"


def test_a_relative_validation_file_is_found_from_any_folder(tmp_path):
    table(tmp_path / "t.csv", seed=1)
    table(tmp_path / "v.csv", n=40, seed=2)
    r = run_cli("train", "t.csv", "--target", "label", "--validation-data", "v.csv",
                "--epochs", "1", "--out", "run", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r = run_cli("evaluate", tmp_path / "run", cwd="/")
    assert r.returncode == 0, r.stderr
    assert mlpkit.load_run(tmp_path / "run").config.data.validation_data == str(tmp_path / "v.csv")
