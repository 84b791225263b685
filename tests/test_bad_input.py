"""Bad files and bad options never hurt (issue 11): each case ends with one clear line
on stderr (after any notes on what mlpkit understood of the data), exit status 2, no
traceback, and no change to any existing run folder.

Most cases run the real command in this process (``mlpkit.cli.main`` with its argv:
the same parsing, messages and exit status as the console script, without starting
Python and Keras again for each); the read-only folder runs it in a subprocess as
another user when the tests run as root (root writes anywhere).
"""

from __future__ import annotations

import errno
import gzip
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlpkit import files

from conftest import ROOT, SYSTEM_FASHION, require


def cli(capsys, *args) -> tuple[int, str]:
    """``mlpkit ARGS`` in this process: (exit status, stderr)."""
    from mlpkit import cli as command

    logger = logging.getLogger("mlpkit")
    handlers, level = list(logger.handlers), logger.level
    term = signal.getsignal(signal.SIGTERM)
    argv, sys.argv = sys.argv, ["mlpkit", *map(str, args)]
    capsys.readouterr()
    try:
        command.main()
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else int(e.code is not None)
    finally:
        sys.argv = argv
        signal.signal(signal.SIGTERM, term)
        for h in logger.handlers[len(handlers):]:
            logger.removeHandler(h)
        logger.setLevel(level)
    return code, capsys.readouterr().err


def assert_one_line(code: int, err: str, *parts: str):
    assert code == 2, err
    assert "Traceback" not in err, err
    # what mlpkit understood of the data before it failed is said in notes ("note: ...")
    lines = [line for line in err.strip().splitlines() if not line.startswith("note: ")]
    assert len(lines) == 1 and lines[0].startswith("Error: "), err
    for part in parts:
        assert part in lines[0], err


def snapshot(folder: Path) -> dict:
    return {str(p.relative_to(folder)): (files.sha256_file(p), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def npz(path: Path, n: int = 120, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype("float32")
    np.savez(path, x_train=x, y_train=(x[:, 0] > 0).astype("int64"))
    return path


TRAIN = ["--epochs", "1", "--hidden", "4", "--verbose", "0"]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A data file and a completed run trained on it (never to be changed)."""
    folder = tmp_path_factory.mktemp("world")
    data = npz(folder / "data.npz")
    import mlpkit

    mlpkit.train(str(data), out=folder / "done", epochs=1, hidden=(4,), verbose=0)
    return folder


@pytest.fixture
def untouched(world):
    """Asserts after the test that the completed run did not change at all."""
    before = snapshot(world / "done")
    yield world
    assert snapshot(world / "done") == before


def copy_run(world: Path, to: Path) -> Path:
    shutil.copytree(world / "done", to)
    return to


# --- options and config files --------------------------------------------------------------

@pytest.mark.parametrize("toml, message", [
    ('[training]\nepochs = "ten"\n', "epochs must be an integer. Received: epochs='ten'"),
    ("[training]\nepochs = 2.5\n", "epochs must be an integer"),
    ("[training]\nlearning_rate = \"fast\"\n", "learning_rate must be a number"),
    ("[training]\nnesterov = \"yes\"\n", "nesterov must be true or false"),
    ("[training]\noptimizer = 3\n", "optimizer must be a string"),
    ("[training]\nepoch = 3\n", "unknown key 'epoch' in [training]. Did you mean 'epochs'?"),
    ("[training]\nmembers = 3\n", "unknown key 'members' in [training]. 'members' belongs "
                                  "in [model]."),
    ("[model]\nmembers = 0\n", "members must be between 1 and 64. Received: members=0"),
    ("[training]\nlearning_rate = -1.0\n", "learning_rate must be > 0"),
    ("[training]\ncheckpoint_steps = -5\n", "checkpoint_steps must be >= 0"),
    ("[model]\nhidden = [300, 0]\n", "hidden must be one or more positive layer sizes"),
    ("[trainig]\nepochs = 2\n", "unknown section [trainig]. Did you mean 'training'?"),
    ("[training\nepochs = 2\n", "is not valid TOML"),
])
def test_config_files(untouched, tmp_path, capsys, toml, message):
    (tmp_path / "c.toml").write_text(toml)
    code, err = cli(capsys, "train", untouched / "data.npz", "--config", tmp_path / "c.toml",
                    "--out", tmp_path / "run")
    assert_one_line(code, err, message)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("args, message", [
    (["--activation", "nope"], "nope"),
    (["--class-weight", "7:2"], "7"),
    (["--optimizer", "sgdd"], "optimizer must be one of"),
    (["--checkpoint-steps", "-1"], "checkpoint_steps must be >= 0"),
    # the parser's own errors: one line too, with where to look
    (["--members", "two"], "Invalid value for '--members'"),
    (["--epochs", "2.5"], "Invalid value for '--epochs'"),
    (["--no-such-flag"], "No such option: --no-such-flag"),
    (["--epochs"], "Option '--epochs' requires an argument"),
])
def test_bad_options_leave_no_run_folder(untouched, tmp_path, capsys, args, message):
    code, err = cli(capsys, "train", untouched / "data.npz", *TRAIN, "--out", tmp_path / "run",
                    *args)
    assert_one_line(code, err, message)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("args, message", [
    (["nosuch"], "No such command 'nosuch'. Try '"),
    (["trian"], "No such command 'trian'. Did you mean 'train'? Try '"),
    (["evaluate"], "Missing argument"),
    (["data", "verify", "a", "b"], "unexpected extra argument"),
])
def test_usage_errors_are_one_line(capsys, args, message):
    code, err = cli(capsys, *args)
    assert_one_line(code, err, message)
    assert "╭" not in err


# --- data files ----------------------------------------------------------------------------

def bad_npz(tmp_path: Path, how: str) -> Path:
    good = npz(tmp_path / "good.npz", n=400).read_bytes()
    path = tmp_path / "bad.npz"
    if how == "truncated":
        path.write_bytes(good[:len(good) // 2])
    elif how == "corrupted":
        data = bytearray(good)
        for i in range(200, len(data) - 200, 97):
            data[i] ^= 0x5A
        path.write_bytes(bytes(data))
    elif how == "not an npz":
        path.write_bytes(b"hello, I am text\n" * 20)
    elif how == "no x_train":
        np.savez(path, features=np.zeros((10, 2)))
    return path


def idx_folder(tmp_path: Path, how: str) -> Path:
    """The real Fashion-MNIST files, one of them truncated or with a wrong magic number."""
    folder = tmp_path / "fashion"
    shutil.copytree(require(SYSTEM_FASHION, "Fashion-MNIST"), folder)
    target = folder / "t10k-labels-idx1-ubyte.gz"
    content = gzip.decompress(target.read_bytes())
    if how == "truncated":
        target.write_bytes(gzip.compress(content[:len(content) // 2]))
    else:  # the magic number of an image file (0x0803) in the labels file (0x0801)
        target.write_bytes(gzip.compress(content[:2] + b"\x08\x03" + content[4:]))
    return folder


@pytest.mark.parametrize("how", ["truncated", "corrupted", "not an npz", "no x_train"])
def test_bad_npz_files(untouched, tmp_path, capsys, how):
    code, err = cli(capsys, "train", bad_npz(tmp_path, how), *TRAIN, "--out", tmp_path / "run")
    assert_one_line(code, err, "bad.npz")
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("how", ["truncated", "wrong magic"])
def test_bad_idx_files(untouched, tmp_path, capsys, offline_home, how):
    code, err = cli(capsys, "train", "fashion-mnist", "--data-dir", idx_folder(tmp_path, how),
                    *TRAIN, "--out", tmp_path / "run")
    assert_one_line(code, err, "t10k-labels-idx1-ubyte.gz")
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("content, message", [
    ("a,b,y\n1,2,0\n3,4,1,9\n5,6,0\n", "t.csv"),  # a ragged row
    (b"a,y\n\xff\xfe,1\n\x80,0\n", "is not UTF-8"),
    ("", "is empty"),
])
def test_bad_tables(untouched, tmp_path, capsys, content, message):
    path = tmp_path / "t.csv"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    code, err = cli(capsys, "train", path, "--target", "y", *TRAIN, "--out", tmp_path / "run")
    assert_one_line(code, err, message)
    assert not (tmp_path / "run").exists()


def test_images_that_are_not_images(untouched, tmp_path, capsys):
    for name in ("boots", "shirts"):
        (tmp_path / "photos" / name).mkdir(parents=True)
        (tmp_path / "photos" / name / "a.png").write_bytes(b"not a png at all")
        (tmp_path / "photos" / name / "b.jpg").write_bytes(b"\xff\xd8\xff truncated")
    code, err = cli(capsys, "train", tmp_path / "photos", *TRAIN, "--out", tmp_path / "run")
    assert_one_line(code, err, "no readable image")
    assert not (tmp_path / "run").exists()


# --- run folders ----------------------------------------------------------------------------

def test_out_naming_an_existing_run_is_refused_before_the_data_loads(untouched, tmp_path, capsys,
                                                                     monkeypatch):
    from mlpkit import data

    def never(*a, **k):
        raise AssertionError("the data was loaded")

    monkeypatch.setattr(data, "load_for", never)
    code, err = cli(capsys, "train", untouched / "data.npz", *TRAIN, "--out", untouched / "done")
    assert_one_line(code, err, "holds a completed run. Pass a new --out")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    code, err = cli(capsys, "train", untouched / "data.npz", *TRAIN, "--out", tmp_path / "mine")
    assert_one_line(code, err, "already exists and is not empty")
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


def test_a_run_folder_from_a_newer_mlpkit(untouched, tmp_path, capsys):
    run = copy_run(untouched, tmp_path / "newer")
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["versions"]["mlpkit"] = "99.0.0"
    (run / "manifest.json").write_text(json.dumps(manifest))
    before = snapshot(run)
    np.save(tmp_path / "x.npy", np.zeros((2, 4), "float32"))
    for args in (["evaluate", run], ["report", run], ["predict", run, tmp_path / "x.npy"],
                 ["train", "--resume", run],
                 ["train", untouched / "data.npz", *TRAIN, "--out", run]):
        code, err = cli(capsys, *args)
        assert_one_line(code, err, "written by mlpkit 99.0.0, newer than this one",
                        "pip install -U mlpkit")
    assert snapshot(run) == before


def test_damaged_run_files(untouched, tmp_path, capsys):
    run = copy_run(untouched, tmp_path / "broken")
    (run / "manifest.json").write_text("{ not json")
    code, err = cli(capsys, "evaluate", run)
    assert_one_line(code, err, "is not valid JSON")
    run = copy_run(untouched, tmp_path / "cut")
    (run / "model.keras").write_bytes((run / "model.keras").read_bytes()[:500])
    code, err = cli(capsys, "evaluate", run)
    assert_one_line(code, err, "model.keras")


def test_a_run_whose_process_was_killed_says_so(untouched, tmp_path, capsys):
    """SIGKILL leaves the manifest at "running"; with nobody holding the run's lock,
    evaluate says the process ended and how to resume, not that it is running."""
    from mlpkit import checkpoints

    run = copy_run(untouched, tmp_path / "killed")
    manifest = json.loads((run / "manifest.json").read_text())
    (run / "manifest.json").write_text(json.dumps({**manifest, "status": "running"}))
    (run / "model.keras").unlink()
    code, err = cli(capsys, "evaluate", run)
    assert_one_line(code, err, "its process ended without saying so",
                    f"mlpkit train --resume {run}")
    lock = checkpoints.RunLock(run).acquire()  # a live trainer holds it
    try:
        code, err = cli(capsys, "evaluate", run)
        assert_one_line(code, err, f"is still being trained (process {os.getpid()})")
    finally:
        lock.release()


def test_a_model_file_carrying_code_is_refused_by_safe_mode(untouched, tmp_path, capsys):
    import keras

    run = copy_run(untouched, tmp_path / "lambda")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Lambda(lambda t: t * 2),
                              keras.layers.Dense(2, activation="softmax")])
    model.save(run / "model.keras")
    before = snapshot(run)
    np.save(tmp_path / "x.npy", np.zeros((2, 4), "float32"))
    for args in (["evaluate", run], ["predict", run, tmp_path / "x.npy"]):
        code, err = cli(capsys, *args)
        assert_one_line(code, err, "safe_mode", "Lambda")
    assert snapshot(run) == before


def test_a_diverging_run_stops_with_one_line_and_no_nan_results(tmp_path, capsys):
    """SGD at 0.01 on prices in the hundreds of thousands: the loss is NaN after the first
    epoch. The run stops there, says why and what to change, and writes no NaN figures."""
    rng = np.random.default_rng(0)
    area, rooms = rng.uniform(50, 200, 300), rng.integers(1, 6, 300)
    price = 1500 * area + 20000 * rooms + rng.normal(0, 10000, 300)
    pd.DataFrame({"area": area, "rooms": rooms, "price": price}).to_csv(tmp_path / "h.csv",
                                                                       index=False)
    code, err = cli(capsys, "train", tmp_path / "h.csv", "--target", "price", "--optimizer",
                    "sgd", "--learning-rate", "0.01", "--epochs", "3", "--verbose", "0",
                    "--out", tmp_path / "run")
    assert_one_line(code, err, "training diverged: the loss was nan in epoch 1",
                    "Lower the learning rate (now 0.01", "target's own units")
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["status"] == "failed" and "Diverged" in manifest["error"]
    assert not (tmp_path / "run" / "metrics.json").exists()
    assert not (tmp_path / "run" / "model.keras").exists()
    assert not list((tmp_path / "run").glob("checkpoints/*.npz"))  # no NaN epoch kept


def test_read_only_output_folder(untouched, tmp_path, capsys):
    """Refused before the data loads, with one line. Root writes anywhere, so as root
    the command runs without the capability to override file permissions."""
    ro = Path(tempfile.mkdtemp(prefix="mlpkit-ro-"))
    try:
        os.chmod(ro, 0o555)
        args = ["train", "california-housing", *TRAIN, "--out", ro / "run"]
        if os.geteuid() != 0:
            code, err = cli(capsys, *args)
        else:  # root without the capability to override file permissions
            setpriv = shutil.which("setpriv")
            assert setpriv, "setpriv (util-linux) is needed to test as root"
            r = subprocess.run([setpriv, "--bounding-set=-dac_override,-dac_read_search",
                                "--inh-caps=-all", sys.executable, "-m", "mlpkit.cli",
                                *map(str, args)], capture_output=True, text=True, timeout=300)
            code, err = r.returncode, r.stderr
        assert_one_line(code, err, f"cannot create a run folder in {ro}: it is not writable")
        assert not (ro / "run").exists()
    finally:
        os.chmod(ro, 0o755)
        shutil.rmtree(ro)


def full_disk_at(monkeypatch, name: str, after: int = 0):
    """The write of a file called ``name`` fails as on a full disk, once, after
    ``after`` writes of it succeeded."""
    write_bytes, count = files.write_bytes, [0]

    def failing(dest, data):
        if Path(dest).name == name:
            count[0] += 1
            if count[0] == after + 1:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(dest))
        return write_bytes(dest, data)

    monkeypatch.setattr(files, "write_bytes", failing)


def test_a_full_disk_then_the_same_command_again(untouched, tmp_path, capsys, monkeypatch):
    """The disk fills at the end of the first epoch: one line, the manifest says
    failed; the run never finished an epoch, so the same command (same --out) runs
    again once there is room, replacing it."""
    full_disk_at(monkeypatch, "history.csv")
    args = ["train", untouched / "data.npz", *TRAIN, "--out", tmp_path / "run"]
    code, err = cli(capsys, *args)
    assert_one_line(code, err, f"cannot write in {tmp_path / 'run'}: No space left on device",
                    "history.csv")
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["status"] == "failed" and "No space left" in manifest["error"]

    code, err = cli(capsys, "report", tmp_path / "run")  # nothing to report: one line
    assert_one_line(code, err, "did not complete", "No space left on device",
                    "the same --out is accepted")
    monkeypatch.undo()
    code, err = cli(capsys, *args)
    assert code == 0, err
    assert "replacing" in err and "never finished an epoch" in err
    assert json.loads((tmp_path / "run" / "manifest.json").read_text())["status"] == "completed"


def test_a_full_disk_mid_run_is_resumed(untouched, tmp_path, capsys, monkeypatch):
    """After an epoch, the folder is not replaced (its epochs are worth keeping):
    the message and --out both point to --resume."""
    full_disk_at(monkeypatch, "history.csv", after=1)  # the second epoch's row
    args = ["train", untouched / "data.npz", "--epochs", "3", "--hidden", "4", "--verbose", "0",
            "--out", tmp_path / "run"]
    code, err = cli(capsys, *args)
    assert_one_line(code, err, "No space left on device",
                    f"then: mlpkit train --resume {tmp_path / 'run'}")
    monkeypatch.undo()
    code, err = cli(capsys, *args)
    assert_one_line(code, err, "holds an unfinished run (failed)", "--resume")
    code, err = cli(capsys, "train", "--resume", tmp_path / "run", "--verbose", "0")
    assert code == 0, err
    assert [int(r.split(",")[0]) for r in
            (tmp_path / "run" / "history.csv").read_text().splitlines()[1:]] == [1, 2, 3]


def test_keras_is_pinned_to_a_release_with_the_loading_fixes():
    from importlib.metadata import version

    from packaging.version import Version

    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert "keras>=3.15.1" in [d.replace(" ", "") for d in deps]
    assert Version(version("keras")) >= Version("3.15.1")
