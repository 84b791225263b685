import hashlib
import io
import tarfile

import numpy as np
import pytest

from mlpkit.data import california_housing as ch
from mlpkit.errors import DataError


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


def test_download(housing_dir, offline_home, monkeypatch, http_server, tmp_path):
    www, url = http_server
    sha = make_tgz(www / "5976036", (housing_dir / "cal_housing.data").read_bytes())
    monkeypatch.setattr(ch, "ARCHIVE_SHA256", sha)
    monkeypatch.setattr(ch, "URLS", [url + "5976036"])
    monkeypatch.delenv("MLPKIT_OFFLINE")
    ds = ch.load()
    assert ds.source["location"] == "downloaded"
    assert (tmp_path / "cache" / "california-housing" / "cal_housing.tgz").is_file()


def test_missing(offline_home):
    with pytest.raises(DataError, match="california-housing not found.*--data-dir"):
        ch.load()
