"""The prediction server, talked to as its clients would: a real uvicorn on a free
loopback port, ``tritonclient`` for the Open Inference Protocol, plain HTTP for the
rest. The helpers at the top (tiny trained runs, a running server) are shared with
``test_serving_page.py`` (the page in chromium) and ``test_serving_fuzz.py``.
"""

from __future__ import annotations

import asyncio
import atexit
import base64
import contextlib
import functools
import gzip
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pytest

import mlpkit

os.environ.setdefault("KERAS_BACKEND", "jax")
WORK = Path(tempfile.mkdtemp(prefix="mlpkit-serving-tests-"))
atexit.register(shutil.rmtree, WORK, ignore_errors=True)
CLASSES = ("cheap", "mid", "dear")


# --- shared: tiny runs of each kind, trained once per test process ----------------------

def _houses(n=240, seed=0):
    import pandas as pd

    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"rooms": rng.integers(1, 8, n), "area": rng.normal(100, 30, n).round(1),
                       "city": rng.choice(["Lyon", "Nice", "Paris"], n)})
    df["price"] = (df.rooms * 10 + df.area * 0.5 + df.city.map({"Paris": 50, "Lyon": 20,
                                                                  "Nice": 30})
                   + rng.normal(0, 3, n)).round(2)
    df.loc[3, "area"] = np.nan  # a missing number: the median stands in
    return df


@functools.cache
def trained(kind: str) -> Path:
    """A run folder: "fashion" (images), "price" (table regression), "two-targets" (table
    regression of price and the rent in 2021, "2021"), "band" (table, three classes), "arrays" (.npz feature
    vectors, binary)."""
    out = WORK / kind
    if kind == "fashion":
        from mlpkit.data.dataset import Dataset

        ds = mlpkit.load_dataset("fashion-mnist")
        small = Dataset(ds.name, ds.task, ds.x_train[:3000], ds.y_train[:3000],
                        ds.x_valid[:300], ds.y_valid[:300], ds.x_test[:300], ds.y_test[:300],
                        ds.class_names, source=ds.source, image=ds.image, kind=ds.kind)
        mlpkit.train(small, epochs=3, hidden="32", optimizer="adam", learning_rate=0.003,
                     out=out, verbose=0)
    elif kind in ("price", "band"):
        df = _houses()
        if kind == "band":
            df["band"] = np.array(CLASSES)[np.digitize(df.price, df.price.quantile([1 / 3, 2 / 3]))]
            df = df.drop(columns="price")
        path = WORK / f"{kind}.csv"
        df.to_csv(path, index=False)
        mlpkit.train(str(path), target=kind, epochs=2, hidden="16", out=out, verbose=0)
    elif kind == "visits":  # a table with every kind of column the page has a field for
        import pandas as pd

        rng = np.random.default_rng(2)
        df = _houses()
        n = len(df)
        df["garden"] = rng.choice(["yes", "no"], n)
        df["built"] = (pd.Timestamp("1990-01-01")
                       + pd.to_timedelta(rng.integers(0, 12000, n), "D")).strftime("%Y-%m-%d")
        words = ["quiet", "sunny", "street", "near", "park", "old", "new", "roof", "view"]
        # free text under a name a JavaScript object keeps as its prototype if assigned
        df["__proto__"] = [" ".join(rng.choice(words, 3)) for i in range(n)]
        df["price"] += np.where(df.garden == "yes", 15, 0)
        path = WORK / f"{kind}.csv"
        df.to_csv(path, index=False)
        mlpkit.train(str(path), target="price", epochs=2, hidden="16", out=out, verbose=0)
    elif kind == "two-targets":  # a multi-output regression
        # a name like "2021" comes before "price" among a JavaScript object's keys
        df = _houses().assign(**{"2021": lambda d: (d.price * 0.04).round(2)})
        path = WORK / f"{kind}.csv"
        df.to_csv(path, index=False)
        mlpkit.train(str(path), target="price,2021", epochs=2, hidden="16", out=out, verbose=0)
    elif kind == "arrays":
        rng = np.random.default_rng(1)
        x = rng.random((200, 5)).astype("float32")
        path = WORK / "arrays.npz"
        np.savez(path, x_train=x, y_train=(x.sum(1) > 2.5).astype(int))
        mlpkit.train(str(path), epochs=1, hidden="8", out=out, verbose=0)
    return out


def fashion_test_png(index: int | None = None) -> tuple[bytes, str, int]:
    """A Fashion-MNIST test image as PNG bytes, its class name and index: by default
    one the small fashion run gets right with the highest confidence."""
    from PIL import Image

    ds = mlpkit.load_dataset("fashion-mnist")
    x, y = ds.x_test[300:600], ds.y_test[300:600]  # images the run never saw
    if index is None:
        proba = mlpkit.load_run(trained("fashion")).predict(x)
        right = np.flatnonzero(proba.argmax(1) == y)
        index = int(right[np.argmax(proba[right].max(1))])
    buf = io.BytesIO()
    Image.fromarray(np.round(x[index] * 255).astype(np.uint8), mode="L").save(buf, "PNG")
    return buf.getvalue(), ds.class_names[y[index]], index


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A real uvicorn serving a run on a free loopback port, in a thread."""

    def __init__(self, run, lifespan: str = "on", **settings):
        import uvicorn

        from mlpkit.serving import create_app

        self.app = create_app(run, **settings)
        self.served = self.app.state.served
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.lifespan = lifespan  # "off": the model is never warmed up
        self.server = uvicorn.Server(uvicorn.Config(self.app, log_level="warning",
                                                    access_log=False, lifespan=lifespan))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]},
                                       daemon=True)

    def __enter__(self) -> "Server":
        self.thread.start()
        wait_ready(self.url, path="/v2/health/ready" if self.lifespan == "on" else
                   "/v2/health/live")
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


def wait_ready(url: str, timeout: float = 120, path: str = "/v2/health/ready") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}{path}", timeout=2).status_code == 200:
                return
        time.sleep(0.1)
    raise AssertionError(f"{url} not ready after {timeout} s")


def assert_error(response, status: int, *words: str) -> dict:
    """The one error shape: exactly {"error": "<one line>", "status": status}."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error", "status"} and body["status"] == status, body
    assert isinstance(body["error"], str) and "\n" not in body["error"] and body["error"]
    for word in words:
        assert word in body["error"], body["error"]
    return body


# --- fixtures -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def fashion_server():
    with Server(trained("fashion"), name="fashion") as server:
        yield server


@pytest.fixture(scope="module")
def band_server():
    with Server(trained("band"), name="band") as server:
        yield server


@pytest.fixture(scope="module")
def price_server():
    with Server(trained("price"), name="price") as server:
        yield server


@pytest.fixture(scope="module")
def arrays_server():
    with Server(trained("arrays"), name="arrays") as server:
        yield server


def infer_json(server, x, name=None, **extra):
    body = {"inputs": [{"name": "input", "shape": list(x.shape), "datatype": "FP32",
                        "data": np.asarray(x).ravel().tolist()}], **extra}
    return httpx.post(f"{server.url}/v2/models/{name or server.served.name}/infer", json=body)


# --- the Open Inference Protocol, with tritonclient ------------------------------------

def test_tritonclient_health_metadata_and_infer(fashion_server):
    import tritonclient.http as th

    client = th.InferenceServerClient(fashion_server.url.removeprefix("http://"))
    assert client.is_server_live() and client.is_server_ready()
    assert client.is_model_ready("fashion") and client.is_model_ready("fashion", "1")
    assert not client.is_model_ready("other")
    assert client.get_server_metadata()["extensions"] == ["binary_tensor_data",
                                                          "classification"]
    assert client.get_model_metadata("fashion") == {
        "name": "fashion", "versions": ["1"], "platform": "mlpkit_keras",
        "inputs": [{"name": "input", "datatype": "FP32", "shape": [-1, 28, 28]}],
        "outputs": [{"name": "output", "datatype": "FP32", "shape": [-1, 10]}]}

    x = mlpkit.load_dataset("fashion-mnist").x_test[:8]
    expected = mlpkit.load_run(trained("fashion")).predict(x)
    binary = th.InferInput("input", list(x.shape), "FP32")
    binary.set_data_from_numpy(x)  # the binary tensor extension, tritonclient's default
    result = client.infer("fashion", [binary], request_id="r1")
    assert result.get_response()["id"] == "r1"
    np.testing.assert_allclose(result.as_numpy("output"), expected, atol=1e-5)

    as_json = th.InferInput("input", list(x.shape), "FP32")
    as_json.set_data_from_numpy(x, binary_data=False)
    out = th.InferRequestedOutput("output", binary_data=False)
    np.testing.assert_allclose(client.infer("fashion", [as_json], outputs=[out],
                                            model_version="1").as_numpy("output"),
                               expected, atol=1e-5)

    # Triton's classification extension: the top k as "score:index:label"
    top = client.infer("fashion", [binary], outputs=[th.InferRequestedOutput(
        "output", class_count=3)]).as_numpy("output")
    assert top.shape == (8, 3)
    for row, proba in zip(top, expected):
        score, index, label = row[0].decode().split(":", 2)
        assert int(index) == proba.argmax()
        assert label == fashion_server.served.class_names[proba.argmax()]
        assert float(score) == pytest.approx(proba.max(), abs=1e-5)

    # UINT8 pixels, scaled as the training pixels were; a gzip-compressed request
    pixels = th.InferInput("input", [8, 28, 28], "UINT8")
    pixels.set_data_from_numpy(np.round(x * 255).astype(np.uint8))
    np.testing.assert_allclose(client.infer("fashion", [pixels]).as_numpy("output"), expected,
                               atol=1e-3)
    zipped = client.infer("fashion", [binary], request_compression_algorithm="gzip")
    np.testing.assert_allclose(zipped.as_numpy("output"), expected, atol=1e-5)


def test_tritonclient_sees_refusals_as_errors(fashion_server):
    import tritonclient.http as th
    from tritonclient.utils import InferenceServerException

    client = th.InferenceServerClient(fashion_server.url.removeprefix("http://"))
    wrong = th.InferInput("input", [1, 27, 28], "FP32")
    wrong.set_data_from_numpy(np.zeros((1, 27, 28), np.float32))
    with pytest.raises(InferenceServerException, match=r"shape must be \[n, 28, 28\]"):
        client.infer("fashion", [wrong])
    nan = th.InferInput("input", [1, 28, 28], "FP32")
    nan.set_data_from_numpy(np.full((1, 28, 28), np.nan, np.float32))
    with pytest.raises(InferenceServerException, match="NaN or infinite"):
        client.infer("fashion", [nan])
    with pytest.raises(InferenceServerException, match="not served here"):
        client.infer("elsewhere", [nan])
    raw = th.InferInput("input", [1, 28, 28], "FP32")  # 0-255 where 0-1 was learned
    raw.set_data_from_numpy(np.full((1, 28, 28), 200, np.float32))
    with pytest.raises(InferenceServerException, match="scaled to 0-1, as in training"):
        client.infer("fashion", [raw])
    ints = th.InferInput("input", [1, 28, 28], "INT64")
    ints.set_data_from_numpy(np.zeros((1, 28, 28), np.int64))
    with pytest.raises(InferenceServerException, match="datatype must be FP32"):
        client.infer("fashion", [ints])


def test_infer_json_matches_the_run_for_every_kind(fashion_server, band_server, arrays_server):
    for server in (fashion_server, band_server, arrays_server):
        run = mlpkit.load_run(server.served.run.path)
        shape = server.served.input_shape
        x = np.random.default_rng(0).random((5, *shape)).astype(np.float32)
        if server is band_server:  # the table's encoded input: numbers, then a category code
            x[:, -1] = [0, 1, 2, 3, 1]
        r = infer_json(server, x)
        assert r.status_code == 200, r.text
        out = r.json()["outputs"][0]
        assert out["name"] == "output" and out["shape"] == [5, server.served.outputs]
        np.testing.assert_allclose(np.reshape(out["data"], out["shape"]), run.predict(x),
                                   atol=1e-5)
    flat = infer_json(fashion_server, np.zeros((2, 784), np.float32))  # flattened rows
    assert flat.json()["outputs"][0]["shape"] == [2, 10]


def test_encoded_table_rows_must_hold_category_codes(band_server):
    """A category column's value in an encoded row (the Open Inference Protocol's tensor;
    the other routes take a table's raw rows) is a code: a number outside the vocabulary,
    or a fraction, is refused."""
    encoder = band_server.served.run.table_encoder
    (column, codes), = encoder.categorical().items()
    x = np.zeros((3, *band_server.served.input_shape), np.float32)
    x[:, column] = [0, codes - 1, codes - 1]  # codes - 1: "unknown", a valid code
    assert infer_json(band_server, x).status_code == 200
    for bad in (codes, -1, 0.5):
        x[2, column] = bad
        r = infer_json(band_server, x)
        assert r.status_code == 400, r.text
        message = r.json()["error"]
        assert f"{encoder.features[column]!r}" in message and "row 3" in message, message
        assert f"from 0 to {codes - 1}" in message, message


BAD_INFER = [  # (body, status, words in the message)
    ({"inputs": [{"name": "input", "shape": [1, 28, 28], "datatype": "FP32", "data": [1, 2]}]},
     400, ["784 values"]),
    ({"inputs": [{"name": "x", "shape": [1, 28, 28], "datatype": "FP32", "data": [0] * 784}]},
     400, ["one input named 'input'"]),
    ({"inputs": [{"name": "input", "shape": [1, 28, 28], "datatype": "FP32",
                  "data": ["a"] * 784}]}, 400, ["numbers only"]),
    ({"inputs": [{"name": "input", "shape": [1, 28, 28], "datatype": "FP32",
                  "data": [[True] + [0] * 27] + [[0] * 28] * 27}]}, 400,
     ["numbers only. Received: values of type bool"]),  # true is no FP32 value
    ({"inputs": [{"name": "input", "shape": [1, 28, 28], "datatype": "FP32",
                  "data": [10 ** 400] + [0] * 783}]}, 400, ["integers too large"]),
    ({"inputs": [{"name": "input", "shape": [1, 28, 28], "datatype": "BYTES",
                  "data": [0] * 784}]}, 400, ["datatype"]),
    ({"inputs": [{"name": "input", "shape": [0, 28, 28], "datatype": "FP32", "data": []}]},
     400, ["1-1024 rows"]),
    ({"inputs": [{"name": "input", "shape": [2000, 28, 28], "datatype": "FP32", "data": [0]}]},
     400, ["1-1024 rows"]),
    ({"inputs": [{"name": "input", "shape": [1, 28, 28], "datatype": "FP32",
                  "data": [[0] * 28] * 27 + [[0] * 27]}]}, 400, ["ragged"]),
    ({"inputs": [{"name": "input", "shape": [1, 28, 28], "datatype": "UINT8",
                  "data": [300] * 784}]}, 400, ["0-255"]),
    ({"inputs": [{"name": "input", "datatype": "FP32", "data": [0] * 784}]}, 400, ["shape"]),
    ({"inputs": []}, 400, ["inputs"]),
    ({"inputs": [{"name": "input", "shape": [1, 28, 28], "datatype": "FP32",
                  "data": [0] * 784}], "outputs": [{"name": "probs"}]}, 400, ["one output"]),
    ({"inputs": [{"name": "input", "shape": [1, 28, 28], "datatype": "FP32",
                  "data": [0] * 784}], "outputs": [{"name": "output",
                                                    "parameters": {"classification": 11}}]},
     400, ["classification takes a class count 1-10"]),
    ([1, 2, 3], 400, ["invalid request body"]),
]


@pytest.mark.parametrize("body,status,words", BAD_INFER)
def test_bad_infer_requests_get_one_error_shape(fashion_server, body, status, words):
    r = httpx.post(f"{fashion_server.url}/v2/models/fashion/infer", json=body)
    assert_error(r, status, *words)


def test_malformed_bodies_and_headers(fashion_server):
    url = f"{fashion_server.url}/v2/models/fashion/infer"
    assert_error(httpx.post(url, content=b'{"inputs": [{"name": '), 400, "Invalid JSON")
    assert_error(httpx.post(url, content=b"\xff\xfe\x00garbage"), 400)
    assert_error(httpx.post(url, content=b"[" * 100_000 + b"]" * 100_000), 400)  # deep nesting
    assert_error(httpx.post(url, content=b'{"inputs": [{"name": "input", "shape": [1, 28, 28],'
                            b' "datatype": "FP32", "data": [NaN' + b", 0" * 783 + b"]}]}"),
                 400, "NaN")
    header = json.dumps({"inputs": [{"name": "input", "shape": [1, 28, 28], "datatype": "FP32",
                                     "parameters": {"binary_data_size": 3136}}]}).encode()
    short = header + b"\0" * 100
    assert_error(httpx.post(url, content=short, headers={
        "Inference-Header-Content-Length": str(len(header))}), 400, "3136 bytes")
    assert_error(httpx.post(url, content=short, headers={
        "Inference-Header-Content-Length": "999999"}), 400, "Inference-Header-Content-Length")
    assert_error(httpx.post(url, content=b"x", headers={"Content-Encoding": "br"}), 415)
    assert_error(httpx.post(url, content=b"not gzip", headers={"Content-Encoding": "gzip"}), 400)
    ok = header + np.zeros(784, "<f4").tobytes()
    r = httpx.post(url, content=gzip.compress(ok), headers={
        "Inference-Header-Content-Length": str(len(header)), "Content-Encoding": "gzip"})
    assert r.status_code == 200 and r.json()["outputs"][0]["shape"] == [1, 10]
    assert_error(httpx.get(f"{fashion_server.url}/no/such/route"), 404, "no route")
    assert_error(httpx.put(f"{fashion_server.url}/v2/health/live"), 405)
    assert_error(httpx.get(f"{fashion_server.url}/v2/models/other"), 404, "'other'")
    assert_error(httpx.get(f"{fashion_server.url}/v2/models/fashion/versions/2"), 404)
    assert httpx.get(f"{fashion_server.url}/v2/health/live").json() == {"live": True}


# --- TensorFlow Serving's REST API -----------------------------------------------------

def test_v1_predict_rows_columns_and_images(fashion_server, band_server):
    png, name, _ = fashion_test_png()
    x = mlpkit.load_dataset("fashion-mnist").x_test[:2]
    run = mlpkit.load_run(trained("fashion"))
    base = f"{fashion_server.url}/v1/models/fashion"
    assert httpx.get(base).json()["model_version_status"][0]["state"] == "AVAILABLE"
    r = httpx.post(f"{base}:predict", json={"instances": x.tolist()})
    np.testing.assert_allclose(r.json()["predictions"], run.predict(x), atol=1e-5)
    r = httpx.post(f"{base}:predict", json={"inputs": x.tolist()})
    np.testing.assert_allclose(r.json()["outputs"], run.predict(x), atol=1e-5)
    r = httpx.post(f"{base}:predict", json={"instances": [{"b64": base64.b64encode(png).decode()}]})
    top = int(np.argmax(r.json()["predictions"][0]))
    assert fashion_server.served.class_names[top] == name
    assert_error(httpx.post(f"{base}:predict", json={"instances": [[1, 2]]}), 400, "shape")
    assert_error(httpx.post(f"{base}:predict", json={}), 400, "exactly one of")
    assert_error(httpx.post(f"{base}:predict", json={"instances": [{"b64": "@@"}]}), 400, "b64")
    mixed = {"instances": [{"b64": base64.b64encode(png).decode()}, x[0].tolist()]}
    assert_error(httpx.post(f"{base}:predict", json=mixed), 400,
                 "keys ['b64'] mixed with other rows; send one kind of row in a request")
    assert_error(httpx.post(f"{fashion_server.url}/predict", json={"b64": "AAAA"}), 400,
                 'POST /predict takes {"rows": [...]}')

    rows = [{"rooms": 3, "area": 80.5, "city": "Nice"}, {"rooms": 6, "area": None, "city": "Paris"}]
    band = mlpkit.load_run(trained("band"))
    expected = band.predict(__import__("pandas").DataFrame(rows))
    r = httpx.post(f"{band_server.url}/v1/models/band:predict", json={"instances": rows})
    np.testing.assert_allclose(r.json()["predictions"], expected, atol=1e-5)
    columns = {k: [row[k] for row in rows] for k in rows[0]}
    r = httpx.post(f"{band_server.url}/v1/models/band:predict", json={"inputs": columns})
    np.testing.assert_allclose(r.json()["outputs"], expected, atol=1e-5)


# --- /predict: files and rows, as `mlpkit predict --json` ----------------------------------

def test_predict_upload_answers_as_predict_json(fashion_server, tmp_path):
    png, name, _ = fashion_test_png()
    path = tmp_path / "boot.png"
    path.write_bytes(png)
    expected = mlpkit.load_run(trained("fashion")).predict_files([path])
    r = httpx.post(f"{fashion_server.url}/predict", files={"file": ("boot.png", png, "image/png")})
    assert r.status_code == 200, r.text
    [record] = r.json()
    assert record == {**expected[0], "file": "boot.png"}
    assert record["prediction"] == name
    # a light-background photo is inverted as in `mlpkit predict`, and says so
    light = io.BytesIO()
    from PIL import Image

    Image.fromarray(255 - np.asarray(Image.open(io.BytesIO(png))), mode="L").resize(
        (100, 100)).convert("RGB").save(light, "JPEG")
    r = httpx.post(f"{fashion_server.url}/predict?probabilities=true",
                   files=[("file", ("a.jpg", light.getvalue(), "image/jpeg")),
                          ("file", ("b.png", png, "image/png"))])
    first, second = r.json()
    assert any("inverted" in n for n in first["notes"]) and any("resized" in n
                                                                 for n in first["notes"])
    assert set(second["probabilities"]) == set(fashion_server.served.class_names)
    assert sum(second["probabilities"].values()) == pytest.approx(1, abs=1e-4)
    assert second["prediction"] == name
    # a .npy stack of images: one record per image, with its row, as `mlpkit predict` gives
    stack = mlpkit.load_dataset("fashion-mnist").x_test[:3]
    np.save(tmp_path / "s.npy", stack)
    expected = mlpkit.load_run(trained("fashion")).predict_files([tmp_path / "s.npy"])
    r = httpx.post(f"{fashion_server.url}/predict",
                   files={"file": ("s.npy", (tmp_path / "s.npy").read_bytes())})
    assert r.status_code == 200, r.text
    assert [(x["file"], x["row"], x["prediction"]) for x in r.json()] == [
        ("s.npy", x["row"], x["prediction"]) for x in expected] and len(expected) == 3


def test_predict_refuses_what_is_not_an_image(fashion_server, band_server, caplog):
    url = f"{fashion_server.url}/predict"
    assert_error(httpx.post(url, files={"file": ("x.png", b"not an image", "image/png")}), 400,
                 "not a readable image; upload a PNG, JPEG, GIF, BMP, WebP or TIFF file")
    ico = io.BytesIO()
    from PIL import Image

    Image.new("L", (16, 16)).save(ico, "ICO")  # mlpkit predict reads it; the server does not
    assert_error(httpx.post(url, files={"file": ("x.ico", ico.getvalue())}), 400,
                 "not a readable image")
    with caplog.at_level("WARNING"):  # a broken multipart body: the 400 says it, once
        assert_error(httpx.post(url, content=b"garbage", headers={
            "Content-Type": "multipart/form-data; boundary=xyz"}), 400)
    assert not [r for r in caplog.records if r.name.startswith("python_multipart")]
    assert_error(httpx.post(url, files={"file": ("x.npy", b"\x93NUMPY garbage")}), 400)
    assert_error(httpx.post(url, files={"note": (None, "no file")}), 400, "no file")
    assert_error(httpx.post(url, content=b"hello", headers={"Content-Type": "text/plain"}), 415)
    assert_error(httpx.post(url, json={"rows": [[0.5, 0.5]]}), 400, "shape")
    assert_error(httpx.post(url, json={"rows": [{"area": 1}]}), 400,  # a table's row
                 "was not trained on a table", "multipart field", "keys ['area']")
    huge = io.BytesIO()
    Image.new("L", (5000, 5000)).save(huge, "PNG")  # 25 megapixels, a small file
    assert_error(httpx.post(url, files={"file": ("big.png", huge.getvalue())}), 413, "pixels")
    assert_error(httpx.post(f"{band_server.url}/predict",
                            files={"file": ("x.png", fashion_test_png()[0])}), 400, "table rows")


def test_predict_table_rows_as_the_cli_does(band_server, price_server, tmp_path):
    import pandas as pd

    rows = [{"rooms": 2, "area": 55.0, "city": "Lyon"},
            {"rooms": 7, "area": 180.0, "city": "Paris"},
            {"rooms": 4, "area": None, "city": "Nice"}]
    pd.DataFrame(rows).to_csv(tmp_path / "rows.csv", index=False)
    for server in (band_server, price_server):
        expected = mlpkit.load_run(server.served.run.path).predict_files([tmp_path / "rows.csv"])
        r = httpx.post(f"{server.url}/predict", json={"rows": rows})
        assert r.status_code == 200, r.text
        got = r.json()
        assert [g.pop("row") for g in got] == [1, 2, 3]
        assert [g["notes"] for g in got] == [e["notes"] for e in expected]
        assert got[0]["notes"] == [] and got[2]["notes"][0].startswith("area: missing")
        for g, e in zip(got, expected):
            if server is band_server:
                assert g["prediction"] == e["prediction"] in CLASSES
                assert g["probability"] == pytest.approx(e["probability"], abs=1e-5)
            else:
                assert g["prediction"] == pytest.approx(e["prediction"], rel=1e-5)
                assert "probability" not in g and "predictions" not in g  # one target
    # a bare list of rows works too; unknown categories and extra columns are noted
    r = httpx.post(f"{band_server.url}/predict?probabilities=true",
                   json=[{"rooms": 3, "area": 70, "city": "Berlin", "price": 1}])
    [record] = r.json()
    assert set(record["probabilities"]) == set(CLASSES)
    assert any("Berlin" in n and "unknown" in n for n in record["notes"])
    assert any("price" in n for n in record["notes"])
    url = f"{band_server.url}/predict"
    assert_error(httpx.post(url, json={"rows": [{"rooms": 3, "city": "Lyon"}]}), 400,
                 "lacks the columns ['area']")
    assert_error(httpx.post(url, json={"rows": [{"rooms": 3, "Area": 70, "city": "Lyon"}]}),
                 400, "'Area' was sent: is it 'area'? Names are case-sensitive.")
    spaced = httpx.post(url, json={"rows": [{" rooms ": 3, "area": 70, "city": "Lyon"}]})
    assert spaced.status_code == 200 and spaced.json()[0]["notes"] == []  # as CSV headers
    marked = httpx.post(url, content=b"\xef\xbb\xbf" + json.dumps(  # a byte order mark
        {"rows": [{"rooms": 3, "area": 70, "city": "Lyon"}]}).encode(),
        headers={"Content-Type": "application/json"})
    assert marked.status_code == 200 and marked.json() == spaced.json()
    # text in a number column reads as in a CSV: numbers with signs, placeholders noted
    texts = [{"rooms": "2", "area": "$55.0", "city": "Lyon"},
             {"rooms": "7", "area": "180", "city": "Paris"},
             {"rooms": "4", "area": "?", "city": "Nice"}]
    pd.DataFrame(texts).to_csv(tmp_path / "texts.csv", index=False)
    expected = mlpkit.load_run(band_server.served.run.path).predict_files([tmp_path / "texts.csv"])
    got = httpx.post(url, json={"rows": texts}).json()
    assert [g["prediction"] for g in got] == [e["prediction"] for e in expected]
    assert [g["probability"] for g in got] == pytest.approx([e["probability"] for e in expected],
                                                            abs=1e-5)
    assert [g["notes"] for g in got] == [e["notes"] for e in expected]
    three = httpx.post(url, json={"rows": [{"rooms": "three", "area": 1, "city": "Lyon"}]})
    assert three.status_code == 200, three.text  # a row alone, as in a file: said on it
    assert three.json()[0]["notes"][0].startswith("rooms: 'three' is not a number")
    # a row alone whose number is a placeholder is a missing value, as null is
    alone = [httpx.post(url, json={"rows": [{"rooms": 3, "area": v, "city": "Lyon"}]}).json()
             for v in (None, "?", "", "n/a")]
    assert all(a[0]["prediction"] == alone[0][0]["prediction"] for a in alone), alone
    assert all(a[0]["probability"] == pytest.approx(alone[0][0]["probability"]) for a in alone)
    assert all(len(a[0]["notes"]) == 1 and a[0]["notes"][0].startswith(
        "area: missing (the training median ") for a in alone), alone  # said, as predict says
    assert_error(httpx.post(url, json={"rows": [{"rooms": True, "area": 1, "city": "Lyon"}]}),
                 400, "'rooms' takes a number or null. Received: {\"rooms\": true}")
    assert_error(httpx.post(url, json={"rows": [{"rooms": [1], "area": 1, "city": "Lyon"}]}),
                 400, "rooms")
    assert_error(httpx.post(url, content=b'{"rows": [{"rooms": 1e999, "area": 1, "city": "L"}]}',
                            headers={"Content-Type": "application/json"}), 400,
                 "'rooms' holds an infinite number or one too large for a float")
    assert_error(httpx.post(url, content=b'{"rows": [{"rooms": NaN, "area": 1, "city": "L"}]}',
                            headers={"Content-Type": "application/json"}), 400,
                 "'rooms' holds NaN; send a finite number, or null for a missing value")
    # 1e300 fits a JSON number but not float32: the training median, said, as for a CSV
    big = httpx.post(url, json={"rows": [{"rooms": 3, "area": 1e300, "city": "Lyon"}]})
    assert big.status_code == 200 and big.json()[0]["notes"] == [
        "area: '1e+300' is beyond float32's range (the training median is used)"]
    assert_error(httpx.post(url, json={"rows": []}), 400)
    assert_error(httpx.post(url, json={"rows": [[1, 2, 3]]}), 400, "object of column values")
    assert_error(httpx.post(url, json={"rows": "all"}), 400)


def test_several_targets_are_named_in_each_prediction(tmp_path):
    import pandas as pd

    rows = [{"rooms": 2, "area": 55.0, "city": "Lyon"}, {"rooms": 7, "area": 180.0, "city": "Nice"}]
    pd.DataFrame(rows).to_csv(tmp_path / "rows.csv", index=False)
    run = trained("two-targets")
    expected = mlpkit.load_run(run).predict_files([tmp_path / "rows.csv"])
    with Server(run, name="two") as server:
        r = httpx.post(f"{server.url}/predict", json={"rows": rows})
        described = httpx.get(f"{server.url}/model").json()
    assert described["target_names"] == ["price", "2021"]  # for the page, in this order
    assert r.status_code == 200, r.text
    for got, want in zip(r.json(), expected):
        assert list(got["predictions"]) == ["price", "2021"]  # the order of --target
        assert list(got["predictions"].values()) == pytest.approx(got["prediction"], rel=1e-6)
        assert got["prediction"] == pytest.approx(want["prediction"], rel=1e-5)


def test_predict_array_rows(arrays_server, tmp_path):
    x = np.random.default_rng(3).random((4, 5)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    run = mlpkit.load_run(trained("arrays"))
    expected = run.predict_files([tmp_path / "x.npy"])
    r = httpx.post(f"{arrays_server.url}/predict", json={"rows": x.tolist()})
    got = r.json()
    assert [g["prediction"] for g in got] == [e["prediction"] for e in expected]
    assert [g["probability"] for g in got] == pytest.approx([e["probability"] for e in expected],
                                                            abs=1e-5)
    assert_error(httpx.post(f"{arrays_server.url}/predict", json={"rows": [[1, 2]]}), 400,
                 "shape [n, 5]")
    # finite in JSON, infinite in float32: said so, not "send finite numbers" alone
    assert_error(httpx.post(f"{arrays_server.url}/predict", json={"rows": [[1e308, 0, 0, 0, 0]]}),
                 400, "beyond float32's range")


# --- limits ---------------------------------------------------------------------------

def test_bodies_over_the_limit_get_413_and_the_server_goes_on():
    with Server(trained("fashion"), name="small", max_body_bytes=64 * 1024) as server:
        url = f"{server.url}/v2/models/small/infer"
        big = b"{" + b" " * (200 * 1024) + b"}"
        assert_error(httpx.post(url, content=big), 413, "limit of 65536 bytes")

        def chunks():  # no Content-Length: counted as it streams in
            for _ in range(20):
                yield b" " * 16384

        assert_error(httpx.post(url, content=chunks()), 413)
        assert_error(httpx.post(f"{server.url}/predict", files={"file": ("a.png", big)}), 413)
        bomb = gzip.compress(b" " * (1024 * 1024))  # small on the wire, 1 MiB inflated
        assert_error(httpx.post(url, content=bomb, headers={"Content-Encoding": "gzip"}), 413)
        # a client that sends its whole body before it reads (urllib) gets the 413 too,
        # not a connection reset: the server reads the body it refuses
        import urllib.error
        import urllib.request

        for _ in range(3):
            with pytest.raises(urllib.error.HTTPError) as e:
                urllib.request.urlopen(urllib.request.Request(
                    url, data=b"{" + b" " * (5 * 1024 * 1024) + b"}",
                    headers={"Content-Type": "application/json"}), timeout=30)
            assert e.value.code == 413 and b"limit of 65536 bytes" in e.value.read()
        # a client that waits for "100 Continue" before its body gets the 413 at once
        host, port = server.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=5) as s:
            s.sendall(f"POST /v2/models/small/infer HTTP/1.1\r\nHost: x\r\nContent-Type: "
                      f"application/json\r\nContent-Length: {5 * 1024 * 1024}\r\nExpect: "
                      "100-continue\r\n\r\n".encode())
            assert s.recv(64).startswith(b"HTTP/1.1 413")
        assert infer_json(server, np.zeros((1, 28, 28), np.float32)).status_code == 200


def test_not_ready_until_warmed_up():
    with Server(trained("arrays"), name="cold", lifespan="off") as server:  # never warmed up
        assert_error(httpx.get(f"{server.url}/v2/health/ready"), 503, "warming up")
        assert_error(httpx.get(f"{server.url}/v2/models/cold/ready"), 503)
        assert httpx.get(f"{server.url}/v1/models/cold").json()["model_version_status"][0][
            "state"] == "LOADING"
        assert_error(httpx.post(f"{server.url}/predict", json={"rows": [[0] * 5]}), 503)


# --- micro-batching ---------------------------------------------------------------------

def test_concurrent_single_rows_share_model_calls(fashion_server):
    x = mlpkit.load_dataset("fashion-mnist").x_test[:64]
    expected = mlpkit.load_run(trained("fashion")).predict(x)
    batcher = fashion_server.served.batcher
    calls, requests = batcher.calls, batcher.requests

    async def all_at_once():
        limits = httpx.Limits(max_connections=64)
        async with httpx.AsyncClient(base_url=fashion_server.url, limits=limits) as client:
            return await asyncio.gather(*[client.post("/v2/models/fashion/infer", json={
                "inputs": [{"name": "input", "shape": [1, 28, 28], "datatype": "FP32",
                            "data": x[i].ravel().tolist()}]}) for i in range(64)])

    responses = asyncio.run(all_at_once())
    got = np.array([r.json()["outputs"][0]["data"] for r in responses])
    np.testing.assert_allclose(got, expected, atol=1e-5)  # each answer is its own row's
    assert batcher.requests - requests == 64
    assert batcher.calls - calls < 64  # some requests shared a call


def test_a_lone_request_never_waits_for_the_window():
    with Server(trained("arrays"), name="w", batch_window_ms=100) as server:
        url = f"{server.url}/v2/models/w/infer"
        body = {"inputs": [{"name": "input", "shape": [1, 5], "datatype": "FP32",
                            "data": [0.1] * 5}]}
        with httpx.Client() as client:
            client.post(url, json=body)
            times = []
            for _ in range(5):
                start = time.perf_counter()
                assert client.post(url, json=body).status_code == 200
                times.append(time.perf_counter() - start)
        assert min(times) < 0.1  # the 100 ms window applies only under load


# --- the page, the report, the model's description ---------------------------------------

def test_the_page_starts_a_date_field_at_the_medians_rounded_half_up():
    from mlpkit.serving.model import _median_date

    assert _median_date({"year": 2004.5, "month": 6.5, "day": 14.5}) == "2005-07-15"
    assert _median_date({"year": 2005.5, "month": 7.5, "day": 15.5}) == "2006-08-16"
    assert _median_date({"year": 2023, "month": 2, "day": 30.6}) == "2023-02-28"  # in Feb
    assert _median_date({"year": 2020, "month": 12.7, "day": 1, "hour": 23.6}) == \
        "2020-12-01T23:00"
    assert _median_date({"year": 2020, "month": 1, "day": 1, "hour": 8, "minute": 44.5}) == \
        "2020-01-01T08:45"


def test_page_report_and_model_description(fashion_server, price_server):
    page = httpx.get(f"{fashion_server.url}/")
    assert page.status_code == 200 and "/static/page.js" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert httpx.get(f"{fashion_server.url}/static/page.js").status_code == 200
    report = httpx.get(f"{fashion_server.url}/report")
    assert report.status_code == 200 and "Confusion matrix" in report.text
    assert "default-src 'none'" in report.headers["content-security-policy"]
    for path in ("/", "/report", "/v2/health/ready", "/static/page.js"):  # monitors' HEAD
        head = httpx.head(f"{fashion_server.url}{path}")
        got = httpx.get(f"{fashion_server.url}{path}")
        assert head.status_code == 200 and head.content == b"", path
        assert head.headers["content-length"] == got.headers["content-length"] == str(
            len(got.content)), path
    assert httpx.head(f"{fashion_server.url}/nowhere").status_code == 404
    head = httpx.head(f"{fashion_server.url}/predict")  # a POST route: said as sent
    got = httpx.get(f"{fashion_server.url}/predict")
    assert head.status_code == got.status_code == 405 and head.content == b""
    assert got.json()["error"] == "GET is not allowed on /predict."
    # the body HEAD would get says HEAD, not the GET it was answered as
    assert head.headers["content-length"] == str(len(got.content.replace(b"GET", b"HEAD")))
    info = httpx.get(f"{fashion_server.url}/model").json()
    assert info["kind"] == "images" and info["image"]["size"] == [28, 28]
    assert len(info["class_names"]) == 10 and info["ready"] is True
    columns = {c["name"]: c for c in httpx.get(f"{price_server.url}/model").json()["columns"]}
    df = _houses()
    assert columns["rooms"]["type"] == "number"
    assert (columns["rooms"]["min"], columns["rooms"]["max"]) == (df.rooms.min(), df.rooms.max())
    assert columns["city"] == {"name": "city", "type": "category",
                               "categories": ["Lyon", "Nice", "Paris"]}
    spec = httpx.get(f"{price_server.url}/openapi.json").json()
    assert {"/v2/models/{name}/infer", "/v1/models/{name}:predict",
            "/predict"} <= set(spec["paths"])


# --- the command: loopback, safe mode --------------------------------------------------

def _cli(*args, **kwargs):
    return subprocess.Popen([sys.executable, "-m", "mlpkit.cli", *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def _listening(port: int) -> list[str]:
    """Local addresses listening on ``port`` (from /proc/net/tcp, IPv4)."""
    out = []
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        host, p = local.split(":")
        if int(p, 16) == port and state == "0A":
            out.append(socket.inet_ntoa(bytes.fromhex(host)[::-1]))
    return out


def test_cli_serves_on_loopback_only(tmp_path):
    port = free_port()
    proc = _cli("serve", trained("arrays"), "--port", port, "--name", "cli")
    try:
        wait_ready(f"http://127.0.0.1:{port}")
        assert _listening(port) == ["127.0.0.1"]
        r = httpx.post(f"http://127.0.0.1:{port}/predict", json={"rows": [[0.9] * 5]})
        # (the labels as written in training: integers)
        assert r.status_code == 200 and r.json()[0]["prediction"] in (0, 1)
    finally:
        proc.terminate()
        proc.wait(30)


def test_cli_refuses_a_model_safe_mode_would_not_load(tmp_path):
    import keras

    run = tmp_path / "unsafe"
    shutil.copytree(trained("arrays"), run)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Lambda(lambda v: v * 2),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.save(run / "model.keras")  # a lambda: code that would run on loading
    proc = _cli("serve", run, "--port", free_port())
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2, err
    assert err.startswith("Error: ") and "safe_mode" in err
    assert "Traceback" not in err


def test_an_output_that_is_not_finite_is_said_never_sent_as_nan(band_server):
    """A row whose output is not finite (an input near float32's limit can overflow a
    model) gets an error in its /predict record, with no probabilities: strict JSON."""
    from mlpkit.serving.routes import json_response

    served = band_server.served
    outputs = np.array([[0.2, 0.5, 0.3], [np.nan, np.nan, np.nan]], np.float32)
    good, bad = served.records(outputs, probabilities=True)
    assert good["prediction"] == served.class_names[1] and len(good["probabilities"]) == 3
    assert bad == {"prediction": None, "error": bad["error"]}
    assert bad["error"].startswith("the model's output is not finite")
    body = json_response([good, bad]).body.decode()
    json.loads(body, parse_constant=lambda c: pytest.fail(f"not strict JSON: {c}"))


def test_a_client_that_leaves_mid_body_is_no_server_error(caplog, capfd):
    """A client that closes its connection before sending the body it announced is
    normal traffic: a line at INFO, no traceback, and the server goes on."""
    with Server(trained("arrays"), name="leaving") as server:
        host, port = server.url.removeprefix("http://").split(":")
        caplog.set_level("INFO", logger="mlpkit")
        for _ in range(3):
            with socket.create_connection((host, int(port))) as s:
                s.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
                          b"\r\nContent-Length: 5000\r\n\r\n{\"rows\": [[0.1,")
            time.sleep(0.2)
        assert httpx.get(f"{server.url}/v2/health/ready").status_code == 200
    assert "unexpected error" not in caplog.text and "Traceback" not in caplog.text
    assert "the client went away before sending its whole body" in caplog.text
    printed = capfd.readouterr()  # uvicorn's own log (Starlette raising it again)
    assert "ClientDisconnect" not in printed.err + printed.out
