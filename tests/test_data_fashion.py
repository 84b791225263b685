import gzip
import shutil

import numpy as np
import pytest

from mlpkit.data import fashion_mnist, sources
from mlpkit.errors import DataError

from conftest import SYSTEM_FASHION, require, write_idx


def test_real_split_shapes_and_scaling(fashion):
    assert fashion.sizes == {"train": 55000, "valid": 5000, "test": 10000}
    assert fashion.x_train.shape == (55000, 28, 28) and fashion.x_train.dtype == np.float32
    assert 0.0 <= fashion.x_train.min() and fashion.x_train.max() == 1.0
    assert fashion.class_names[fashion.y_train[0]] == "Ankle boot"  # as the lecture shows
    assert len(fashion.source["sha256"]) == 4


def test_unscaled_is_uint8_and_valid_is_the_last_5000():
    require(SYSTEM_FASHION, "Fashion-MNIST")
    raw = fashion_mnist.load(SYSTEM_FASHION, scale=False)
    assert raw.x_train.dtype == np.uint8 and raw.x_train.max() == 255
    # y_train_full[-5000:] is the validation set: labels of the training file's tail
    with gzip.open(SYSTEM_FASHION / "train-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    np.testing.assert_array_equal(raw.y_valid, labels[-5000:])
    np.testing.assert_array_equal(raw.y_train, labels[:-5000])


def test_search_order_explicit_first(idx_files, offline_home, tmp_path):
    folder, hashes, arrays = idx_files
    ds = fashion_mnist.load(folder, files=hashes, scale=False)
    assert ds.source["location"] == "explicit"
    assert ds.sizes == {"train": 100, "valid": 5000, "test": 50}
    np.testing.assert_array_equal(ds.x_test, arrays["t10k-images-idx3-ubyte"])


def test_search_order_cache_before_system(idx_files, offline_home, monkeypatch, tmp_path):
    folder, hashes, _ = idx_files
    shutil.copytree(folder, tmp_path / "system" / "fashion-mnist")
    assert fashion_mnist.locate(files=hashes)[0] == "system package"
    shutil.copytree(folder, tmp_path / "home" / ".keras" / "datasets" / "fashion-mnist")
    assert fashion_mnist.locate(files=hashes)[0] == "keras cache"
    shutil.copytree(folder, tmp_path / "cache" / "fashion-mnist")
    assert fashion_mnist.locate(files=hashes)[0] == "mlpkit cache"
    monkeypatch.setenv("MLPKIT_DATA", str(folder))
    assert fashion_mnist.locate(files=hashes)[0] == "explicit"


def test_uncompressed_files_are_accepted(tmp_path, offline_home):
    rng = np.random.default_rng(1)
    hashes = {}
    import hashlib
    for stem, shape in [("train-images-idx3-ubyte", (5010, 28, 28)),
                        ("train-labels-idx1-ubyte", (5010,)),
                        ("t10k-images-idx3-ubyte", (3, 28, 28)), ("t10k-labels-idx1-ubyte", (3,))]:
        content = write_idx(tmp_path / stem, rng.integers(0, 10, shape), gz=False)
        hashes[stem] = hashlib.sha256(content).hexdigest()
    assert fashion_mnist.load(tmp_path, files=hashes).sizes["train"] == 10


def test_missing_names_every_place_and_the_fix(offline_home):
    with pytest.raises(DataError) as e:
        fashion_mnist.load()
    msg = str(e.value)
    for place in sources.locations("fashion-mnist"):
        assert str(place.path) in msg
    assert "apt-get install dataset-fashion-mnist" in msg and "--data-dir" in msg
    assert "\n" not in msg


def test_corrupted_file_names_the_file(idx_files, offline_home):
    folder, hashes, _ = idx_files
    bad = folder / "t10k-labels-idx1-ubyte.gz"
    write_idx(bad, np.zeros(50, dtype=np.uint8))  # valid IDX, wrong content
    with pytest.raises(DataError, match=r"checksum mismatch for .*t10k-labels-idx1-ubyte\.gz"):
        fashion_mnist.load(folder, files=hashes)


def test_verified_arrays_are_reused_until_a_file_changes(idx_files, offline_home, tmp_path):
    folder, hashes, arrays = idx_files
    first = fashion_mnist.load(folder, files=hashes, scale=False)
    kept = list((tmp_path / "cache" / "fashion-mnist").glob("verified-*.npz"))
    assert len(kept) == 1
    second = fashion_mnist.load(folder, files=hashes, scale=False)
    np.testing.assert_array_equal(second.x_test, first.x_test)
    # a changed file is verified again, not served from the kept arrays
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", np.zeros(50, dtype=np.uint8))
    with pytest.raises(DataError, match="checksum mismatch"):
        fashion_mnist.load(folder, files=hashes)


def test_truncated_file_is_reported(idx_files, offline_home):
    folder, hashes, _ = idx_files
    bad = folder / "train-images-idx3-ubyte.gz"
    bad.write_bytes(bad.read_bytes()[:1000])
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte\.gz.*corrupted or truncated"):
        fashion_mnist.load(folder, files=hashes)


def test_bad_idx_header():
    with pytest.raises(DataError, match="bad header"):
        fashion_mnist.parse_idx(b"\x00\x00\x09\x01" + b"\x00" * 10, "f", 1)
    with pytest.raises(DataError, match="truncated"):
        fashion_mnist.parse_idx(b"\x00\x00\x08\x01" + (5).to_bytes(4, "big") + b"\x00", "f", 1)


def test_download_into_cache_atomically(idx_files, offline_home, monkeypatch, http_server, tmp_path):
    folder, hashes, arrays = idx_files
    www, url = http_server
    for f in folder.iterdir():
        shutil.copy(f, www / f.name)
    monkeypatch.delenv("MLPKIT_OFFLINE")
    ds = fashion_mnist.load(files=hashes, mirrors=[url + "missing/", url], scale=False)
    assert ds.source["location"] == "downloaded"
    cached = sorted(p.name for p in (tmp_path / "cache" / "fashion-mnist").iterdir()
                    if not p.name.startswith("verified-"))
    assert cached == sorted(f"{s}.gz" for s in hashes)  # no .part files left
    np.testing.assert_array_equal(ds.y_test, arrays["t10k-labels-idx1-ubyte"])
    # the second load finds the cache, without the server
    assert fashion_mnist.locate(files=hashes, mirrors=["http://127.0.0.1:9/"])[0] == "mlpkit cache"


def test_download_with_bad_checksum_leaves_nothing(idx_files, offline_home, monkeypatch,
                                                   http_server, tmp_path):
    folder, hashes, _ = idx_files
    www, url = http_server
    for f in folder.iterdir():
        shutil.copy(f, www / f.name)
    hashes = dict(hashes, **{"train-labels-idx1-ubyte": "0" * 64})
    monkeypatch.delenv("MLPKIT_OFFLINE")
    with pytest.raises(DataError, match="checksum mismatch"):
        fashion_mnist.load(files=hashes, mirrors=[url])
    cache = tmp_path / "cache" / "fashion-mnist"
    assert "train-labels-idx1-ubyte.gz" not in [p.name for p in cache.iterdir()]
    assert not [p for p in cache.iterdir() if p.name.endswith(".part")]
