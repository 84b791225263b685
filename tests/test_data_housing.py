import hashlib
import io
import lzma
import tarfile

import numpy as np
import pytest

from mlpkit.data import california_housing as ch
from mlpkit.data import sources
from mlpkit.errors import DataError

from conftest import run_cli


@pytest.fixture
def no_package(monkeypatch):
    """An mlpkit install without the shipped table: nothing is found locally."""
    monkeypatch.setattr(sources, "package_folder", lambda: None)


def test_features_and_target_as_scikit_learn(housing_dir, offline_home):
    table = ch.parse((housing_dir / "cal_housing.data").read_bytes(), "f")
    x, y = ch.derive(table)
    np.testing.assert_allclose(x[0], [8.3252, 41, 6.98412698, 1.02380952, 322, 2.55555556,
                                      37.88, -122.23], rtol=1e-8)
    assert y[0] == pytest.approx(4.526)
    assert x[:, 0].mean() == pytest.approx(3.8707, abs=1e-4)
    assert x[:, 1].mean() == pytest.approx(28.6395, abs=1e-4)
    assert y.mean() == pytest.approx(2.0686, abs=1e-4)


def test_splits(housing_dir, offline_home):
    ds = ch.load(housing_dir)
    assert ds.sizes == {"train": 11610, "valid": 3870, "test": 5160}
    assert ds.task == "regression" and ds.feature_names[0] == "MedInc"
    # train_test_split(random_state=42) twice, as the lecture
    from sklearn.model_selection import train_test_split
    x, y = ch.derive(ch.parse((housing_dir / "cal_housing.data").read_bytes(), "f"))
    _, x_test, _, _ = train_test_split(x, y, random_state=42)
    np.testing.assert_array_equal(ds.x_test, x_test)


def make_tgz(path, data: bytes, member=ch.MEMBER):
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo(member)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_archive_read_in_memory(housing_dir, offline_home, tmp_path, monkeypatch):
    sha = make_tgz(tmp_path / "cal_housing.tgz", (housing_dir / "cal_housing.data").read_bytes())
    monkeypatch.setattr(ch, "ARCHIVE_SHA256", sha)
    ds = ch.load(tmp_path)
    assert ds.sizes["test"] == 5160
    assert [p.name for p in tmp_path.iterdir()] == ["cal_housing.tgz"]  # nothing extracted


def test_archive_that_is_not_expected(offline_home, tmp_path):
    make_tgz(tmp_path / "cal_housing.tgz", b"1,2,3\n")
    with pytest.raises(DataError, match=r"checksum mismatch for .*cal_housing\.tgz"):
        ch.load(tmp_path)


def test_archive_without_the_member(offline_home, tmp_path, monkeypatch):
    sha = make_tgz(tmp_path / "cal_housing.tgz", b"x", member="../../evil.data")
    monkeypatch.setattr(ch, "ARCHIVE_SHA256", sha)
    with pytest.raises(DataError, match="not the expected archive"):
        ch.load(tmp_path)
    assert not (tmp_path.parent / "evil.data").exists()


@pytest.mark.parametrize("content,message", [
    (b"1,2,3\r\n", "line 1 has 3 columns, expected 9"),
    (b"1,2,3,4,5,6,7,8,9\r\n1,2,3,4,x,6,7,8,9\r\n", "line 2 has a non-numeric field"),
    (b"1,2,3,4,5,6,7,8,9\r\n", "checksum mismatch"),
    (b"", "is empty"),
])
def test_bad_tables(offline_home, tmp_path, content, message):
    (tmp_path / "cal_housing.data").write_bytes(content)
    with pytest.raises(DataError, match=message) as e:
        ch.load(tmp_path)
    assert "cal_housing.data" in str(e.value)


def test_packaged_file_is_the_checksummed_table():
    packaged = sources.package_folder() / ch.PACKAGED
    assert packaged.stat().st_size < 400_000  # the 2.1 MB table, xz -9e
    raw = lzma.decompress(packaged.read_bytes())
    assert hashlib.sha256(raw).hexdigest() == ch.DATA_SHA256
    assert len(ch.parse(raw, packaged)) == ch.ROWS


def test_loads_offline_from_the_package(housing_dir, offline_home, tmp_path):
    assert not (tmp_path / "home").exists() and not (tmp_path / "cache").exists()
    ds = ch.load()
    assert ds.source["location"] == "package"
    assert ds.source["folder"] == str(sources.package_folder())
    assert ds.sizes == {"train": 11610, "valid": 3870, "test": 5160}
    np.testing.assert_array_equal(ds.x_test, ch.load(housing_dir).x_test)
    assert ch.verify()["location"] == "package"


def test_data_list_and_verify_show_the_package(offline_home):
    folder = sources.package_folder()
    r = run_cli("data", "list")
    assert r.returncode == 0, r.stderr
    assert f"california-housing: package {folder}" in r.stdout
    r = run_cli("data", "verify", "california-housing")
    assert r.returncode == 0, r.stderr
    assert f"california-housing: ok (package {folder}: {ch.PACKAGED})" in r.stdout


def test_earlier_locations_win_over_the_package(housing_dir, offline_home, tmp_path):
    # how a user gets the upstream file instead: --data-dir, or the archive in the cache
    assert ch.locate(housing_dir)[0] == "explicit"
    cache = tmp_path / "cache" / "california-housing"
    cache.mkdir(parents=True)
    make_tgz(cache / ch.ARCHIVE, b"")
    assert ch.locate() == ("mlpkit cache", [cache / ch.ARCHIVE])


def test_package_is_searched_before_any_download(offline_home, monkeypatch):
    monkeypatch.delenv("MLPKIT_OFFLINE")
    assert ch.locate(urls=["http://127.0.0.1:9/never"])[0] == "package"


def test_corrupted_xz_in_data_dir_is_refused(housing_dir, offline_home, tmp_path):
    table = (housing_dir / ch.DATA_FILE).read_bytes()
    changed = table.replace(b"41.000000", b"42.000000", 1)  # parses; not the table
    (tmp_path / ch.PACKAGED).write_bytes(lzma.compress(changed, preset=9))
    with pytest.raises(DataError, match=r"checksum mismatch for .*cal_housing\.data\.xz"):
        ch.load(tmp_path)
    with pytest.raises(DataError, match=r"checksum mismatch .* decompressed content"):
        ch.verify(tmp_path)
    (tmp_path / ch.PACKAGED).write_bytes(lzma.compress(table)[:5000])
    with pytest.raises(DataError, match=r"cal_housing\.data\.xz.*corrupted or truncated"):
        ch.load(tmp_path)


def test_download(housing_dir, offline_home, no_package, monkeypatch, http_server, tmp_path):
    www, url = http_server
    sha = make_tgz(www / "5976036", (housing_dir / "cal_housing.data").read_bytes())
    monkeypatch.setattr(ch, "ARCHIVE_SHA256", sha)
    monkeypatch.delenv("MLPKIT_OFFLINE")
    kind, (path,) = ch.locate(urls=[url + "missing", url + "5976036"])
    assert kind == "downloaded"
    cache = tmp_path / "cache" / "california-housing"
    assert path == cache / "cal_housing.tgz"
    assert [p.name for p in cache.iterdir()] == ["cal_housing.tgz"]  # no temporary file
    ds = ch.load()  # found in the cache now, without the server
    assert ds.source["location"] == "mlpkit cache"
    assert ds.sizes["test"] == 5160


def test_download_with_bad_checksum_leaves_nothing(offline_home, no_package, monkeypatch,
                                                   http_server, tmp_path):
    www, url = http_server
    make_tgz(www / "5976036", b"1,2,3,4,5,6,7,8,9\r\n")  # not the archive ARCHIVE_SHA256 names
    monkeypatch.delenv("MLPKIT_OFFLINE")
    with pytest.raises(DataError, match="checksum mismatch"):
        ch.locate(urls=[url + "5976036"])
    cache = tmp_path / "cache" / "california-housing"
    assert not cache.exists() or not list(cache.iterdir())


def test_missing(offline_home, no_package):
    with pytest.raises(DataError, match="california-housing not found.*--data-dir"):
        ch.load()
