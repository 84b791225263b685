"""Fixtures, from cheap to shared.

- ``offline_home``: an empty HOME, cache and system data folder, downloads off;
  nothing outside ``tmp_path`` is searched but the data shipped inside mlpkit.
- ``idx_files``: generated Fashion-MNIST-format IDX files (small) and their hashes.
- ``fashion``: the real Fashion-MNIST (Debian's ``dataset-fashion-mnist``), loaded once.
- ``housing_dir``: a folder with the real California housing table:
  ``$MLPKIT_TEST_DATA`` / ``../shared/datasets`` when present, else the table
  mlpkit ships, decompressed into a temporary folder (so it is never missing).
- ``fashion_run``: a real 1-epoch run of ``mlpkit train fashion-mnist``, shared.

No test skips for missing data: what the suite needs either ships with mlpkit or
is installed by ``scripts/setup.sh``, and ``require`` fails with the command.
"""

from __future__ import annotations

import gzip
import hashlib
import http.server
import lzma
import os
import signal
import subprocess
import sys
import threading
from functools import partial
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "jax")

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("MLPKIT_TEST_DATA", ROOT.parent / "shared" / "datasets"))
SYSTEM_FASHION = Path("/usr/share/datasets/fashion-mnist")
FASHION_INSTALL = "sudo apt-get install -y dataset-fashion-mnist (or scripts/setup.sh)"


def require(path: Path, what: str, install: str = FASHION_INSTALL) -> Path:
    """``path``, or a failure that says how to install it: a test never skips for
    missing data, so a green run always means every test ran."""
    if not path.exists():
        pytest.fail(f"{what} not found at {path}; install it with: {install}")
    return path


def run_cli(*args, env=None, cwd=None, timeout=600) -> subprocess.CompletedProcess:
    """Run the real ``mlpkit`` command in a subprocess."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "mlpkit.cli", *map(str, args)],
                          capture_output=True, text=True, env=full_env, cwd=cwd,
                          timeout=timeout)


@pytest.fixture
def offline_home(tmp_path, monkeypatch):
    env = {"HOME": str(tmp_path / "home"), "MLPKIT_CACHE": str(tmp_path / "cache"),
           "MLPKIT_SYSTEM_DATA": str(tmp_path / "system"), "MLPKIT_OFFLINE": "1"}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("MLPKIT_DATA", raising=False)
    return env


def write_idx(path: Path, array: np.ndarray, gz: bool = True) -> bytes:
    header = b"\x00\x00\x08" + bytes([array.ndim])
    header += b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    content = header + array.astype(np.uint8).tobytes()
    if gz:
        with gzip.open(path, "wb") as f:
            f.write(content)
    else:
        path.write_bytes(content)
    return content


@pytest.fixture
def idx_files(tmp_path):
    """Generated IDX files: 5,100 training images (100 train + 5,000 valid), 50 test."""
    rng = np.random.default_rng(0)
    folder = tmp_path / "idx"
    folder.mkdir()
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (5100, 28, 28)),
        "train-labels-idx1-ubyte": rng.integers(0, 10, 5100),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (50, 28, 28)),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, 50),
    }
    hashes = {}
    for stem, arr in arrays.items():
        content = write_idx(folder / f"{stem}.gz", arr)
        hashes[stem] = hashlib.sha256(content).hexdigest()
    return folder, hashes, arrays


@pytest.fixture(scope="session")
def fashion():
    require(SYSTEM_FASHION, "Fashion-MNIST (apt-get install dataset-fashion-mnist)")
    from mlpkit.data import fashion_mnist

    return fashion_mnist.load(SYSTEM_FASHION)


@pytest.fixture(scope="session")
def housing_dir(tmp_path_factory) -> Path:
    shared = SHARED_DATA / "california_housing"
    if (shared / "cal_housing.data").is_file():
        return shared
    from mlpkit.data import california_housing as ch
    from mlpkit.data import sources

    packaged = require(sources.package_folder() / ch.PACKAGED, "the packaged housing table",
                       install="pip install -e . (mlpkit ships it in mlpkit/data/files)")
    folder = tmp_path_factory.mktemp("california_housing")
    (folder / ch.DATA_FILE).write_bytes(lzma.decompress(packaged.read_bytes()))
    return folder


@pytest.fixture(scope="session")
def fashion_run(tmp_path_factory):
    require(SYSTEM_FASHION, "Fashion-MNIST (apt-get install dataset-fashion-mnist)")
    out = tmp_path_factory.mktemp("runs") / "fashion"
    result = run_cli("train", "fashion-mnist", "--epochs", "1", "--out", out,
                     "--data-dir", SYSTEM_FASHION)
    assert result.returncode == 0, result.stderr
    return out, result


@pytest.fixture
def http_server(tmp_path):
    """A real HTTP server on loopback serving ``tmp_path / 'www'``."""
    www = tmp_path / "www"
    www.mkdir()
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(www))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield www, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def pytest_configure(config):
    # A test run started in the background by a non-interactive shell (`cmd &`) inherits
    # SIGINT ignored, and mlpkit then leaves Ctrl-C alone; the tests that press Ctrl-C
    # (here and in their subprocesses) need Python's own handler.
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
