"""Fuzzing the server: hypothesis generates requests, near-valid and plainly wrong,
to every route of a real server; none may get a 5xx, every refusal has the one
error shape, and the server answers correctly afterwards. At least 1,000 requests.
"""

from __future__ import annotations

import gzip
import io
import json
import math

import httpx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from test_serving import Server, assert_error, trained

SENT = {"requests": 0}
EXAMPLES = 180  # per test below; seven tests: 1,260 requests
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def servers():
    with Server(trained("fashion"), name="fashion", max_body_bytes=256 * 1024) as images, \
            Server(trained("band"), name="band", max_body_bytes=256 * 1024) as table, \
            httpx.Client(timeout=30) as client:
        yield {"images": images, "table": table, "client": client}


def check(response: httpx.Response) -> None:
    """No 5xx, ever; a refusal in the one error shape."""
    SENT["requests"] += 1
    assert response.status_code < 500, (response.status_code, response.text[:500])
    if response.status_code >= 400 and response.request.method != "HEAD":  # HEAD: no body
        assert_error(response, response.status_code)


def send(servers, which: str, method: str, path: str, **kwargs) -> None:
    server = servers[which]
    check(servers["client"].request(method, server.url + path, **kwargs))


# --- strategies -----------------------------------------------------------------------

numbers = st.one_of(st.integers(-2**70, 2**70), st.floats(allow_nan=True, allow_infinity=True),
                    st.integers(0, 255), st.floats(0, 1))
scalars = st.one_of(st.none(), st.booleans(), numbers, st.text(max_size=20))
json_values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=6), st.dictionaries(st.text(max_size=8), inner, max_size=6)),
    max_leaves=40)
names = st.one_of(st.just("input"), st.just("output"), st.text(max_size=10))
datatypes = st.sampled_from(["FP32", "FP16", "FP64", "UINT8", "INT64", "BYTES", "BOOL", "fp32",
                             ""])
shapes = st.one_of(st.just([1, 28, 28]), st.just([2, 784]), st.just([1, 3]),
                   st.lists(st.integers(-3, 3000), max_size=5))


@st.composite
def tensors(draw):
    shape = draw(shapes)
    size = math.prod(s for s in shape if s > 0) if shape else 0
    data = draw(st.one_of(
        st.lists(st.floats(0, 1, width=32), min_size=min(size, 1600), max_size=min(size, 1600)),
        st.lists(numbers, max_size=20), json_values, st.none()))
    tensor = {"name": draw(names), "shape": shape, "datatype": draw(datatypes)}
    if data is not None:
        tensor["data"] = data
    if draw(st.booleans()):
        tensor["parameters"] = draw(st.one_of(
            st.fixed_dictionaries({"binary_data_size": st.one_of(st.integers(-5, 5000),
                                                                 json_values)}),
            st.dictionaries(st.text(max_size=8), json_values, max_size=3)))
    return tensor


@st.composite
def infer_bodies(draw):
    body = {"inputs": draw(st.lists(tensors(), min_size=0, max_size=2))}
    if draw(st.booleans()):
        body["outputs"] = draw(st.lists(st.fixed_dictionaries(
            {"name": names}, optional={"parameters": st.dictionaries(
                st.sampled_from(["binary_data", "classification", "x"]),
                st.one_of(st.booleans(), st.integers(-2, 12), json_values), max_size=2)}),
            max_size=2))
    if draw(st.booleans()):
        body["parameters"] = draw(st.dictionaries(st.sampled_from(["binary_data_output", "x"]),
                                                  json_values, max_size=2))
    if draw(st.booleans()):
        body["id"] = draw(st.one_of(st.text(max_size=10), json_values))
    return body


def as_json(value) -> bytes:
    return json.dumps(value, allow_nan=True).encode()


rows = st.lists(st.one_of(
    st.fixed_dictionaries({"rooms": scalars, "area": scalars, "city": scalars},
                          optional={"extra": json_values}),
    st.dictionaries(st.sampled_from(["rooms", "area", "city", "x"]), json_values, max_size=4),
    json_values), max_size=5)


# --- the fuzz tests ---------------------------------------------------------------------

@FUZZ
@given(body=infer_bodies(), which=st.sampled_from(["images", "table"]))
def test_fuzz_infer_json(servers, body, which):
    name = servers[which].served.name
    send(servers, which, "POST", f"/v2/models/{name}/infer", content=as_json(body),
         headers={"Content-Type": "application/json"})


@FUZZ
@given(header=infer_bodies(), blob=st.binary(max_size=4000),
       length=st.one_of(st.none(), st.integers(-10, 5000),
                        st.from_regex(r"[0-9a-z+.-]{1,6}", fullmatch=True)),
       encoding=st.sampled_from([None, "gzip", "deflate", "identity", "br"]),
       compress=st.booleans())
def test_fuzz_infer_binary(servers, header, blob, length, encoding, compress):
    head = as_json(header)
    body = head + blob
    headers = {"Inference-Header-Content-Length": str(len(head) if length is None else length)}
    if encoding:
        headers["Content-Encoding"] = encoding
        if compress and encoding == "gzip":
            body = gzip.compress(body)
    send(servers, "images", "POST", "/v2/models/fashion/infer", content=body, headers=headers)


@FUZZ
@given(raw=st.one_of(st.binary(max_size=3000), st.text(max_size=3000).map(str.encode)),
       path=st.sampled_from(["/v2/models/fashion/infer", "/v2/models/fashion/versions/1/infer",
                             "/v1/models/fashion:predict", "/predict"]),
       kind=st.sampled_from(["application/json", "text/plain", "multipart/form-data",
                             "multipart/form-data; boundary=x", "",
                             "application/x-www-form-urlencoded"]))
def test_fuzz_raw_bodies(servers, raw, path, kind):
    send(servers, "images", "POST", path, content=raw, headers={"Content-Type": kind})


@FUZZ
@given(body=st.one_of(
    st.fixed_dictionaries({}, optional={"instances": st.one_of(rows, json_values),
                                        "inputs": json_values,
                                        "signature_name": json_values}), json_values),
       which=st.sampled_from(["images", "table"]))
def test_fuzz_tf_serving_predict(servers, body, which):
    name = servers[which].served.name
    send(servers, which, "POST", f"/v1/models/{name}:predict", content=as_json(body),
         headers={"Content-Type": "application/json"})


@FUZZ
@given(body=st.one_of(st.fixed_dictionaries({"rows": rows}), rows, json_values),
       which=st.sampled_from(["images", "table"]),
       query=st.sampled_from(["", "?probabilities=true", "?probabilities=maybe", "?x=1"]))
def test_fuzz_predict_rows(servers, body, which, query):
    send(servers, which, "POST", f"/predict{query}", content=as_json(body),
         headers={"Content-Type": "application/json"})


def _image(draw_size, mode, fmt) -> bytes:
    from PIL import Image

    w, h = draw_size
    img = Image.fromarray(np.random.default_rng(w * h).integers(0, 256, (h, w), np.uint8), "L")
    buf = io.BytesIO()
    try:
        img.convert(mode).save(buf, fmt)
    except OSError:  # a mode this format cannot hold
        buf = io.BytesIO()
        img.convert(mode).save(buf, "PNG")
    return buf.getvalue()


@FUZZ
@given(content=st.one_of(
    st.builds(_image, st.tuples(st.integers(1, 300), st.integers(1, 300)),
              st.sampled_from(["L", "RGB", "RGBA", "P", "I;16", "1"]),
              st.sampled_from(["PNG", "GIF", "BMP", "TIFF"])),
    st.binary(max_size=2000)),
    cut=st.integers(0, 400), filename=st.one_of(st.text(max_size=30), st.sampled_from(
        ["a.png", "b.npy", "c.jpg", ""])),
    field=st.sampled_from(["file", "image", "files"]), which=st.sampled_from(["images", "table"]))
def test_fuzz_uploads(servers, content, cut, filename, field, which):
    if cut and cut < len(content):
        content = content[:-cut]  # truncated files too
    send(servers, which, "POST", "/predict", files={field: (filename, content)})


url_chars = st.characters(min_codepoint=33, max_codepoint=126, exclude_characters="?#%")


@FUZZ
@given(path=st.one_of(
    st.sampled_from(["/", "/report", "/model", "/v2", "/v2/health/live", "/v2/health/ready",
                     "/openapi.json", "/v1/models/fashion", "/static/page.js"]),
    st.builds(lambda a, b: f"/v2/models/{a}/{b}", st.text(url_chars.filter(
        lambda c: c != "/"), max_size=12), st.sampled_from(
        ["ready", "infer", "versions/1", "versions/x/ready", ""])),
    st.text(url_chars, max_size=30).map(lambda t: "/" + t)),
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS"]))
def test_fuzz_routes_and_methods(servers, path, method):
    send(servers, "images", method, path)


def test_the_fuzzing_sent_enough_and_the_server_still_serves(servers):
    assert SENT["requests"] >= 1000, SENT  # run with the tests above
    client = servers["client"]
    for which in ("images", "table"):
        url = servers[which].url
        assert client.get(f"{url}/v2/health/ready").status_code == 200
    x = np.zeros((1, 28, 28), np.float32)
    r = client.post(f"{servers['images'].url}/v2/models/fashion/infer", json={"inputs": [
        {"name": "input", "shape": [1, 28, 28], "datatype": "FP32", "data": x.ravel().tolist()}]})
    assert r.status_code == 200 and len(r.json()["outputs"][0]["data"]) == 10
    r = client.post(f"{servers['table'].url}/predict",
                    json={"rows": [{"rooms": 3, "area": 90, "city": "Nice"}]})
    assert r.status_code == 200 and r.json()[0]["prediction"]
