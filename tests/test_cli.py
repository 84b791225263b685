"""Every command, through the real ``mlpkit`` process."""

import csv
import io
import json
import os
import subprocess
import sys
import threading

import mlpkit
import numpy as np
import pytest
from PIL import Image

from conftest import SYSTEM_FASHION, require, run_cli


def test_version():
    r = run_cli("--version")
    assert r.returncode == 0 and r.stdout.startswith("mlpkit ")


def test_help_lists_the_commands():
    r = run_cli("--help")
    assert r.returncode == 0
    for cmd in ("train", "evaluate", "predict", "report", "data"):
        assert cmd in r.stdout


def test_train_prints_results_and_the_run_folder(fashion_run):
    out, result = fashion_run
    assert "1719/1719" in result.stdout  # Keras's progress bar: 1,719 steps of 32
    assert "test_accuracy" in result.stdout and f"run folder: {out}" in result.stdout
    assert json.loads((out / "manifest.json").read_text())["status"] == "completed"


def test_evaluate(fashion_run):
    out, _ = fashion_run
    r = run_cli("evaluate", out, "--json")
    assert r.returncode == 0, r.stderr
    metrics = json.loads(r.stdout)
    saved = json.loads((out / "metrics.json").read_text())
    assert metrics["test_accuracy"] == pytest.approx(saved["test_accuracy"], abs=1e-6)
    r = run_cli("evaluate", out)
    assert r.stdout.startswith("on the run's test set\n") and "test_accuracy" in r.stdout


def test_predict_images_and_arrays(fashion_run, fashion, tmp_path):
    out, _ = fashion_run
    # test image 1 is a pullover in the lecture; save it as .npy, as a 28x28 PNG,
    # and as a big white-background RGB JPEG that must be resized and inverted
    img = fashion.x_test[1]
    np.save(tmp_path / "a.npy", img)
    Image.fromarray((img * 255).astype(np.uint8)).save(tmp_path / "b.png")
    big = Image.fromarray(((1 - img) * 255).astype(np.uint8)).resize((112, 112)).convert("RGB")
    big.save(tmp_path / "c.jpg", quality=95)
    r = run_cli("predict", out, tmp_path / "a.npy", tmp_path / "b.png", tmp_path / "c.jpg",
                "--json")
    assert r.returncode == 0, r.stderr
    results = json.loads(r.stdout)
    assert [x["prediction"] for x in results[:2]] == ["Pullover", "Pullover"]
    assert results[2]["prediction"] == "Pullover"
    assert any("resized from 112x112" in n for n in results[2]["notes"])
    Image.fromarray(np.zeros((60, 40), np.uint8)).save(tmp_path / "tall.png")  # 60 high
    r = run_cli("predict", out, tmp_path / "tall.png", "--json")
    assert "resized from 60x40 to 28x28 (height x width)" in json.loads(r.stdout)[0]["notes"]
    assert any("inverted" in n for n in results[2]["notes"])
    r = run_cli("predict", out, tmp_path / "b.png")
    assert r.stdout.startswith(f"{tmp_path / 'b.png'}: Pullover (")
    r = run_cli("predict", out, tmp_path / "a.npy", tmp_path / "c.jpg", "-o", tmp_path / "p.csv")
    assert r.returncode == 0, r.stderr
    with open(tmp_path / "p.csv") as f:
        rows = list(csv.DictReader(f))
    assert [(x["file"], x["prediction"]) for x in rows] == [
        (str(tmp_path / "a.npy"), "Pullover"), (str(tmp_path / "c.jpg"), "Pullover")]
    assert float(rows[0]["probability"]) == pytest.approx(results[0]["probability"], rel=1e-5)
    assert "resized from 112x112" in rows[1]["notes"] and rows[0]["notes"] == ""
    run = mlpkit.load_run(out)  # the API takes pixels in 0-255 as the CLI does
    np.testing.assert_allclose(run.predict(img * 255), run.predict(img), atol=1e-6)
    for bad in (img * 510, img * 1.01 + 0.01, img - 0.5):  # neither 0-1 nor 0-255
        with pytest.raises(mlpkit.errors.DataError, match="the input holds pixels from "):
            run.predict(bad)
    flat = run.predict(fashion.x_test[:3].reshape(3, -1))  # rows of flat images, or one image
    np.testing.assert_allclose(flat, run.predict(fashion.x_test[:3]), atol=1e-6)
    np.testing.assert_allclose(run.predict(img), run.predict(img[None]), atol=1e-6)
    # a stack of images in one .npy (as x_test[:n] is saved), or its rows 0-255
    # (x_test.reshape(n, -1)): one record per image, numbered
    stack = fashion.x_test[:6]
    np.save(tmp_path / "stack.npy", stack)
    np.save(tmp_path / "rows.npy", np.round(stack * 255).astype(np.uint8).reshape(6, -1))
    r = run_cli("predict", out, tmp_path / "stack.npy", tmp_path / "b.png",
                tmp_path / "rows.npy", "--json")
    assert r.returncode == 0, r.stderr
    results = json.loads(r.stdout)
    expected = mlpkit.load_run(out).predict_classes(stack)
    assert [x["prediction"] for x in results] == expected + ["Pullover"] + expected
    assert [x.get("row") for x in results] == [1, 2, 3, 4, 5, 6, None] + [1, 2, 3, 4, 5, 6]
    assert results[7]["notes"] == ["scaled 0-255 to 0-1"]
    np.save(tmp_path / "empty.npy", stack[:0])
    r = run_cli("predict", out, tmp_path / "empty.npy")
    assert r.returncode == 2 and "holds no images" in r.stderr, r.stderr
    # a folder stands for its images, by name; "-" for standard input
    (tmp_path / "f" / "sub").mkdir(parents=True)
    (tmp_path / "f" / "sub" / "b.png").write_bytes((tmp_path / "b.png").read_bytes())
    (tmp_path / "f" / "a.jpg").write_bytes((tmp_path / "c.jpg").read_bytes())
    (tmp_path / "f" / "notes.txt").write_text("not an image")
    r = run_cli("predict", out, tmp_path / "f", "--json")
    assert r.returncode == 0, r.stderr
    assert [(x["file"], x["prediction"]) for x in json.loads(r.stdout)] == [
        (str(tmp_path / "f" / "a.jpg"), "Pullover"), (str(tmp_path / "f" / "sub" / "b.png"),
                                                      "Pullover")]
    assert "1 file that is not an image skipped (by the suffix: notes.txt)" in r.stderr
    (tmp_path / "f" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(40))
    r = run_cli("predict", out, tmp_path / "f")  # one unreadable file does not stop the rest
    assert r.returncode == 0, r.stderr
    assert f"{tmp_path / 'f' / 'broken.png'}: no prediction (" in r.stdout
    assert f"{tmp_path / 'f' / 'a.jpg'}: Pullover" in r.stdout
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(40))
    np.save(tmp_path / "bad" / "nan.npy", np.full((28, 28), np.nan, "float32"))
    r = run_cli("predict", out, tmp_path / "bad")  # nothing predicted: said, and status 2
    assert r.returncode == 2 and "none of the 2 files could be read" in r.stderr, r.stderr
    assert "broken.png: " in r.stderr and "nan.npy: " in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    r = run_cli("predict", out, tmp_path / "f" / "broken.png")  # named on its own: refused
    assert r.returncode == 2 and "is not a readable image" in r.stderr
    (tmp_path / "empty").mkdir()
    r = run_cli("predict", out, tmp_path / "empty")
    assert r.returncode == 2 and "is a folder without images" in r.stderr, r.stderr
    piped = subprocess.run([sys.executable, "-m", "mlpkit.cli", "predict", str(out), "-",
                            "--json"], input=(tmp_path / "b.png").read_bytes(),
                           capture_output=True)
    assert piped.returncode == 0, piped.stderr
    assert json.loads(piped.stdout)[0]["file"] == "-"
    assert json.loads(piped.stdout)[0]["prediction"] == "Pullover"
    # a pipe named as a file (a shell's <(...)): read once, as standard input is
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_bytes((tmp_path / "b.png").read_bytes()))
    writer.start()
    r = run_cli("predict", out, fifo, "--json")
    writer.join(10)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)[0]["file"] == str(fifo)
    assert json.loads(r.stdout)[0]["prediction"] == "Pullover"


def _npy_bytes(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, a)
    return buf.getvalue()


@pytest.mark.parametrize("content,name,message", [
    (b"not an image", "x.png", "is not a readable image"),
    (None, "wrong.npy", "holds an array of shape (5, 5)"),
    (b"hello", "x.txt", "is a text file; this model takes images"),
    (b"a,b\n1,2\n", "rows.csv", "is a table; this model takes images"),
    (b"\x89PNG\r\n\x1a\n" + bytes(40), "cut.png", "is not a readable image (PIL cannot"),
    (b"not numpy\n", "text.npy", "is not a .npy file (it lacks NumPy's header)"),
    (np.array([{"a": 1}] * 784, dtype=object), "objects.npy", "holds an array of Python objects"),
    (np.zeros((28, 28), np.complex64), "complex.npy", "holds complex64 values; expected real"),
    (_npy_bytes(np.zeros((28, 28), np.float32))[:-100], "cut.npy", "is cut short or corrupt"),
])
def test_predict_bad_input(fashion_run, tmp_path, content, name, message):
    out, _ = fashion_run
    path = tmp_path / name
    if content is None:
        np.save(path, np.zeros((5, 5)))
    elif isinstance(content, np.ndarray):
        np.save(path, content, allow_pickle=True)
    else:
        path.write_bytes(content)
    r = run_cli("predict", out, path)
    assert r.returncode == 2
    assert message in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_report_rebuilds(fashion_run):
    out, _ = fashion_run
    page = out / "report.html"
    page.unlink()
    r = run_cli("report", out)
    assert r.returncode == 0, r.stderr
    assert "Confusion matrix" in page.read_text()


def test_data_list_and_verify(offline_home, idx_files, housing_dir):
    r = run_cli("data", "list", env={"MLPKIT_DATA": str(housing_dir)})
    assert r.returncode == 0
    assert f"california-housing: explicit {housing_dir}" in r.stdout
    assert "fashion-mnist: fashion-mnist not found" in r.stdout
    r = run_cli("data", "verify", "california-housing", "--data-dir", housing_dir)
    assert r.returncode == 0 and "california-housing: ok" in r.stdout


def test_data_verify_catches_corruption(offline_home, tmp_path):
    (tmp_path / "cal_housing.data").write_bytes(b"1,2,3,4,5,6,7,8,9\r\n")
    r = run_cli("data", "verify", "california-housing", "--data-dir", tmp_path)
    assert r.returncode == 2 and "checksum mismatch" in r.stderr


def test_data_verify_real_fashion():
    require(SYSTEM_FASHION, "Fashion-MNIST (apt-get install dataset-fashion-mnist)")
    r = run_cli("data", "verify", "fashion-mnist")
    assert r.returncode == 0 and "fashion-mnist: ok" in r.stdout


@pytest.mark.parametrize("args,message", [
    (["train", "mnist"], "unknown data set 'mnist'"),
    (["train", "fashion-mnist", "--preset", "turbo"], "unknown preset 'turbo'"),
    (["train", "fashion-mnist", "--epochs", "0"], "epochs must be >= 1. Received: epochs=0"),
    (["train", "fashion-mnist", "--learning-rate", "-1"],
     "learning_rate must be > 0. Received: learning_rate=-1.0"),
    (["evaluate", "/nonexistent/run"], "is not a run folder"),
])
def test_bad_input_is_one_line_and_exit_2(args, message, tmp_path):
    r = run_cli(*args, cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert message in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_missing_data_leaves_no_run_folder(offline_home, tmp_path):
    r = run_cli("train", "fashion-mnist", "--epochs", "1", "--out", tmp_path / "run")
    assert r.returncode == 2
    assert "fashion-mnist not found" in r.stderr and "apt-get install" in r.stderr
    assert not (tmp_path / "run").exists()


def test_debug_shows_the_traceback():
    r = run_cli("--debug", "train", "fashion-mnist", "--epochs", "0")
    assert r.returncode != 0 and "Traceback" in r.stderr


def test_config_file_repeats_a_run(fashion_run, tmp_path):
    out, _ = fashion_run
    r = run_cli("train", "--config", out / "config.toml", "--out", tmp_path / "again",
                "--verbose", "0")
    assert r.returncode == 0, r.stderr
    first = (out / "history.csv").read_text().splitlines()
    again = (tmp_path / "again" / "history.csv").read_text().splitlines()
    column = lambda rows, name: [row.split(",")[rows[0].split(",").index(name)]  # noqa: E731
                                 for row in rows[1:]]
    for name in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert column(again, name) == column(first, name)  # same data, split, seed: same run
    assert (tmp_path / "again" / "metrics.json").read_text() == (out / "metrics.json").read_text()


def test_compare_california_housing(housing_dir):
    r = run_cli("compare", "california-housing", "--data-dir", housing_dir, "--json")
    assert r.returncode == 0, r.stderr
    baseline, keras_row = json.loads(r.stdout)
    # the lecture's figure, reproduced to four decimals
    assert baseline["valid_rmse"] == pytest.approx(0.5053, abs=5e-5)
    assert baseline["params"] == 8 * 50 + 50 + 2 * (50 * 50 + 50) + 51
    assert keras_row["params"] == 8168 and keras_row["epochs"] == 20
    assert 0.45 < keras_row["test_rmse"] < 0.6
    r = run_cli("compare", "california-housing", "--data-dir", housing_dir, "--epochs", "1")
    assert "valid_rmse" in r.stdout.splitlines()[0] and "MLPRegressor" in r.stdout
    # --max-iter caps the regressor too; a cap below 1 is one line, before any data
    r = run_cli("compare", "california-housing", "--data-dir", housing_dir, "--epochs", "1",
                "--max-iter", "3", "--json")
    assert r.returncode == 0, r.stderr
    baseline = json.loads(r.stdout)[0]
    assert baseline["epochs"] == 3 and baseline["model"].endswith("max_iter=3")
    for wrong in ("0", "-2"):
        r = run_cli("compare", "california-housing", "--data-dir", housing_dir,
                    "--max-iter", wrong)
        assert r.returncode == 2 and r.stderr.strip() == (
            f"Error: max_iter must be a whole number >= 1 (the scikit-learn MLP's "
            f"iterations). Received: max_iter={wrong}")


def test_compare_fashion_mnist_short():
    require(SYSTEM_FASHION, "Fashion-MNIST (apt-get install dataset-fashion-mnist)")
    r = run_cli("compare", "fashion-mnist", "--epochs", "1", "--max-iter", "1", "--json")
    assert r.returncode == 0, r.stderr
    baseline, keras_row = json.loads(r.stdout)
    assert baseline["epochs"] == 1 and keras_row["epochs"] == 1
    assert baseline["params"] == keras_row["params"] == 266_610
    assert baseline["test_accuracy"] > 0.7 and keras_row["test_accuracy"] > 0.7


def test_train_california_housing_cli(housing_dir, tmp_path):
    r = run_cli("train", "california-housing", "--epochs", "2", "--data-dir", housing_dir,
                "--out", tmp_path / "h", "--verbose", "0")
    assert r.returncode == 0, r.stderr
    assert set(json.loads((tmp_path / "h" / "metrics.json").read_text())) == {
        "test_loss", "test_rmse"}


def test_train_an_ensemble_and_use_its_run_folder(housing_dir, tmp_path):
    out = tmp_path / "ens"
    r = run_cli("train", "california-housing", "--members", "3", "--hidden", "16,8",
                "--epochs", "2", "--data-dir", housing_dir, "--out", out, "--verbose", "0")
    assert r.returncode == 0, r.stderr
    assert "members = 3" in (out / "config.toml").read_text()
    assert "an ensemble of 3 such MLPs" in r.stderr + r.stdout
    assert json.loads((out / "manifest.json").read_text())["members"] == 3
    summary = (out / "summary.txt").read_text()
    assert "member2_output" in summary and "MemberMean" in summary
    metrics = json.loads((out / "metrics.json").read_text())
    r = run_cli("evaluate", out, "--json")  # the saved ensemble reloads to the same figures
    assert r.returncode == 0, r.stderr
    again = json.loads(r.stdout)
    assert again["test_rmse"] == pytest.approx(metrics["test_rmse"], rel=1e-5)
    rows = np.random.default_rng(0).normal([3, 30, 5, 1, 1000, 3, 35, -119], 1, (4, 8))
    np.save(tmp_path / "rows.npy", rows.astype("float32"))
    r = run_cli("predict", out, tmp_path / "rows.npy", "--json")
    assert r.returncode == 0, r.stderr
    assert len(json.loads(r.stdout)) == 4


def test_members_out_of_range_is_one_line():
    r = run_cli("train", "california-housing", "--members", "0")
    assert r.returncode == 2 and "members must be between 1 and 64" in r.stderr


def test_an_image_over_pils_limit_of_pixels_is_refused_in_one_line(tmp_path, monkeypatch):
    from PIL import Image

    from mlpkit.data.images import load_for_model

    Image.fromarray(np.zeros((40, 40), np.uint8)).save(tmp_path / "big.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # PIL refuses over twice this
    with pytest.raises(mlpkit.errors.DataError, match=r"big.png is too large an image to open "
                                                      r"\(Image size \(1600 pixels\) exceeds"):
        load_for_model(tmp_path / "big.png", {"size": [28, 28], "color": "grayscale"})


def test_evaluate_on_one_class_folder_and_on_test_arrays_alone(fashion_run, fashion, tmp_path):
    out, _ = fashion_run
    run = mlpkit.load_run(out)
    x, y = fashion.x_test[:20], fashion.y_test[:20]
    expected = float(np.mean(np.argmax(run.predict(x), axis=1) == y))
    np.savez(tmp_path / "test.npz", x_test=x, y_test=y)  # no x_train: evaluation needs none
    r = run_cli("evaluate", out, "--data", tmp_path / "test.npz", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["test_accuracy"] == pytest.approx(expected, abs=1e-6)
    (tmp_path / "ev" / "Pullover").mkdir(parents=True)  # a subset of the classes: one
    Image.fromarray((fashion.x_test[1] * 255).astype(np.uint8)).save(
        tmp_path / "ev" / "Pullover" / "a.png")
    r = run_cli("evaluate", out, "--data", tmp_path / "ev", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["test_accuracy"] in (0.0, 1.0)
    (tmp_path / "ev" / "Pullover" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(40))
    r = run_cli("evaluate", out, "--data", tmp_path / "ev")  # skipped, and said, as in train
    assert r.returncode == 0 and "note: 1 unreadable files skipped: " in r.stderr, r.stderr
    r = run_cli("evaluate", out, "--data", tmp_path / "nowhere")
    assert r.returncode == 2 and "nowhere not found. Check the path." in r.stderr, r.stderr


def test_tune_options_take_a_flag_and_its_negation():
    """``tune DATA --no-train-on-validation``: the preset's true turned off, as ``train``
    takes it; ``--no-`` of a setting that is not a flag is still unknown."""
    from mlpkit import cli
    from mlpkit.errors import ConfigError

    assert cli._train_options("d.csv", ["--no-train-on-validation", "--nesterov"]) == (
        "d.csv", {"train_on_validation": False, "nesterov": True})
    with pytest.raises(ConfigError, match="unknown option '--no-epochs'"):
        cli._train_options("d.csv", ["--no-epochs", "3"])
