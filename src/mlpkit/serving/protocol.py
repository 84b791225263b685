"""The Open Inference Protocol (KServe V2) and TensorFlow Serving's REST ``:predict``:
bodies in, model input out; model output in, bodies out.

V2 tensors come as JSON (``data``, flat or nested, row-major) or, with the binary
tensor data extension that ``tritonclient`` uses by default, as raw little-endian
bytes after the JSON header (its length in ``Inference-Header-Content-Length``).
Outputs go back the same two ways, and as Triton's classification extension
(``"classification": k`` on an output: the top k as ``"score:index:label"``).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pydantic_core
from pydantic import ValidationError

from mlpkit.serving.errors import ApiError
from mlpkit.serving.schemas import InferenceRequest, PredictRows, V1PredictRequest

INPUT, OUTPUT = "input", "output"
FLOATS = {"FP16": "<f2", "FP32": "<f4", "FP64": "<f8"}
EXTENSIONS = ["binary_tensor_data", "classification"]


def parse_json(model, body: bytes):
    """A pydantic model from JSON bytes; one-line 400 on any problem (bad JSON,
    nesting too deep, missing or mistyped fields)."""
    try:
        return model.model_validate_json(body)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "body"
        raise ApiError(400, f"invalid request body: {where}: {first.get('msg')}"
                            + (f" (and {e.error_count() - 1} more)" if e.error_count() > 1
                               else "")) from None


def _accepted(served) -> str:
    return "FP32 (or FP16/FP64)" + (", or UINT8 pixels 0-255" if served.image else "")


def infer_input(served, body: bytes, header_length: str | None):
    """A V2 inference request's input as a float32 batch, and the parsed request.

    Raises:
        ApiError: 400 for anything the model cannot take, with what it takes.
    """
    binary = b""
    if header_length is not None:
        try:
            n = int(header_length)
        except ValueError:
            n = -1
        if not 0 < n <= len(body):
            raise ApiError(400, "Inference-Header-Content-Length must be the length of the "
                                f"JSON header (1-{len(body)}). Received: {header_length[:40]!r}")
        body, binary = body[:n], body[n:]
    request = parse_json(InferenceRequest, body)
    if len(request.inputs) != 1 or request.inputs[0].name != INPUT:
        raise ApiError(400, f"model {served.name!r} takes one input named {INPUT!r}. "
                            f"Received: inputs={[t.name for t in request.inputs][:16]}")
    tensor = request.inputs[0]
    shape, dtype = tensor.shape, tensor.datatype
    if dtype not in FLOATS and not (dtype == "UINT8" and served.image):
        raise ApiError(400, f"input datatype must be {_accepted(served)}. "
                            f"Received: datatype={dtype[:20]!r}")
    expected = list(served.input_shape)
    if len(shape) < 2 or (shape[1:] != expected and shape[1:] != [math.prod(expected)]):
        raise ApiError(400, f"input shape must be [n, {', '.join(map(str, expected))}]. "
                            f"Received: shape={shape}")
    if not 1 <= shape[0] <= served.settings.max_batch_rows:
        raise ApiError(400, f"a request takes 1-{served.settings.max_batch_rows} rows. "
                            f"Received: shape={shape}")
    count = math.prod(shape)
    size = (tensor.parameters or {}).get("binary_data_size")
    np_dtype = np.dtype(FLOATS.get(dtype, "u1"))
    if size is not None:
        if tensor.data is not None or not isinstance(size, int) or isinstance(size, bool):
            raise ApiError(400, "binary_data_size must be an integer, and the input then has "
                                "no data in JSON.")
        if size != count * np_dtype.itemsize or size != len(binary):
            raise ApiError(400, f"binary input must hold {count} {dtype} values "
                                f"({count * np_dtype.itemsize} bytes). Received: "
                                f"binary_data_size={size}, {len(binary)} bytes after the header")
        x = np.frombuffer(binary, dtype=np_dtype)
    else:
        if binary:
            raise ApiError(400, "binary data after the header, but no input has "
                                "parameters.binary_data_size.")
        if tensor.data is None:
            raise ApiError(400, "the input has no data; send it in \"data\" (JSON) or as "
                                "binary data.")
        x = _json_data(tensor.data, dtype, count)
    if dtype == "UINT8":
        x = x.astype(np.float32) / np.float32(255)  # as the training pixels were scaled
    with np.errstate(over="ignore"):  # 1e300 becomes inf, which valid() refuses
        x = x.astype(np.float32, copy=False)
    x = served.valid(x.reshape(shape[0], *served.input_shape))
    return x, request


def _holds_bool(data) -> bool:
    """Whether JSON ``true``/``false`` sits among the values of regular nested lists
    (about as fast as ``np.asarray`` of them)."""
    if data and isinstance(data[0], list):
        return any(_holds_bool(row) for row in data)
    return any(v.__class__ is bool for v in data)


def _json_data(data: list, dtype: str, count: int) -> np.ndarray:
    try:
        arr = np.asarray(data)
    except (ValueError, TypeError, OverflowError, RecursionError):
        raise ApiError(400, "input data must be numbers, flat or nested row-major "
                            "(ragged or mixed values received).") from None
    if arr.dtype.kind not in "iuf" or _holds_bool(data):  # numpy reads true as 1
        received = ("bool" if arr.dtype.kind in "iuf" else "integers too large for any "
                    "number type" if arr.dtype.kind == "O" and isinstance(
                        arr.reshape(-1)[0], int) else arr.dtype)
        raise ApiError(400, f"{dtype} input data must hold numbers only. Received: values of "
                            f"type {received}")
    if arr.size != count:
        raise ApiError(400, f"input data must hold {count} values (the product of its shape). "
                            f"Received: {arr.size} values")
    if dtype == "UINT8" and (arr.dtype.kind == "f" or arr.min() < 0 or arr.max() > 255):
        raise ApiError(400, "UINT8 input data must be whole numbers 0-255.")
    return arr.reshape(-1)


def infer_response(served, outputs: np.ndarray, request) -> tuple[bytes, dict]:
    """The V2 response body and its extra headers, for the outputs requested."""
    params = request.parameters or {}
    default_binary = params.get("binary_data_output") is True
    wanted = request.outputs or [None]
    tensors, blobs = [], []
    for out in wanted:
        name = out.name if out is not None else OUTPUT
        p = (out.parameters if out is not None else None) or {}
        if name != OUTPUT:
            raise ApiError(400, f"model {served.name!r} has one output named {OUTPUT!r}. "
                                f"Received: outputs={[o.name for o in wanted][:16]}")
        binary = p.get("binary_data", default_binary) is True
        k = p.get("classification")
        if k is not None:
            tensor, data = _classification(served, outputs, k)
        else:
            tensor = {"name": OUTPUT, "datatype": "FP32", "shape": [len(outputs), served.outputs]}
            data = np.ascontiguousarray(outputs, dtype="<f4").reshape(len(outputs), -1)
        if binary:
            blob = data.tobytes() if tensor["datatype"] == "FP32" else b"".join(
                len(s).to_bytes(4, "little") + s for s in (v.encode() for v in data.ravel()))
            tensor["parameters"] = {"binary_data_size": len(blob)}
            blobs.append(blob)
        else:
            tensor["data"] = data.ravel().tolist()
        tensors.append(tensor)
    head = {"model_name": served.name, "model_version": "1", "outputs": tensors}
    if request.id is not None:
        head["id"] = request.id
    header = json.dumps(head, separators=(",", ":")).encode()
    if not blobs:
        return header, {}
    return header + b"".join(blobs), {"Inference-Header-Content-Length": str(len(header))}


def _classification(served, outputs: np.ndarray, k) -> tuple[dict, np.ndarray]:
    """Triton's classification extension: the top ``k`` classes of each row."""
    if served.task not in ("multiclass", "binary"):
        raise ApiError(400, f"classification needs a classifier; model {served.name!r} is "
                            f"{served.task}.")
    names = served.class_names
    if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= len(names):
        raise ApiError(400, f"classification takes a class count 1-{len(names)}. "
                            f"Received: classification={k!r}"[:200])
    proba = np.asarray(outputs, np.float64)
    if served.task == "binary":
        proba = np.concatenate([1.0 - proba[:, :1], proba[:, :1]], axis=1)
    top = np.argsort(-proba, axis=1, kind="stable")[:, :k]
    data = np.array([[f"{row[i]:f}:{i}:{names[i]}" for i in idx] for row, idx in zip(proba, top)],
                    dtype=object)
    return {"name": OUTPUT, "datatype": "BYTES", "shape": [len(outputs), k]}, data


def model_metadata(served) -> dict:
    """``GET /v2/models/{name}``: the input and output tensors."""
    inputs = [{"name": INPUT, "datatype": "FP32", "shape": [-1, *served.input_shape]}]
    return {"name": served.name, "versions": ["1"], "platform": "mlpkit_keras",
            "inputs": inputs,
            "outputs": [{"name": OUTPUT, "datatype": "FP32", "shape": [-1, served.outputs]}]}


def v1_request(served, body: bytes) -> tuple[object, int, list, str]:
    """TensorFlow Serving's ``{"instances": [...]}`` (rows) or ``{"inputs": ...}``
    (columns) as model input: ``(payload, rows, notes, key of the answer)``."""
    request = parse_json(V1PredictRequest, body)
    if (request.instances is None) == (request.inputs is None):
        raise ApiError(400, 'send exactly one of "instances" (a list, one item a row) or '
                            '"inputs" (columns).')
    if request.instances is not None:
        rows, key = request.instances, "predictions"
    elif served.table and isinstance(request.inputs, dict):
        cols = request.inputs
        lengths = {len(v) if isinstance(v, list) else -1 for v in cols.values()}
        if len(lengths) != 1 or -1 in lengths:
            raise ApiError(400, '"inputs" must map each column to a list of values, all of '
                                "one length.")
        n = lengths.pop()
        rows, key = [{c: v[i] for c, v in cols.items()} for i in range(n)], "outputs"
    else:
        rows, key = request.inputs, "outputs"
        if isinstance(rows, dict) and len(rows) == 1:
            rows = next(iter(rows.values()))
        if not isinstance(rows, list):
            raise ApiError(400, '"inputs" must be a list of rows.')
    payload, count, notes = rows_payload(served, rows)
    return payload, count, notes, key


def predict_rows(body: bytes) -> list:
    """``POST /predict``'s JSON: ``{"rows": [...]}``, or the list of rows itself."""
    try:  # a byte order mark (Windows tools write one) is ignored, as RFC 8259 allows
        value = pydantic_core.from_json(body.removeprefix(b"\xef\xbb\xbf"))
    except ValueError as e:
        raise ApiError(400, f"the body is not valid JSON ({str(e)[:100]}).") from None
    if isinstance(value, list):
        value = {"rows": value}
    if isinstance(value, dict) and "rows" not in value:  # {"b64": ...}, {"instances": ...}
        raise ApiError(400, 'POST /predict takes {"rows": [...]} (a table\'s rows as objects, '
                            'or arrays; {"b64": ...} objects for image files), or image '
                            "files as multipart/form-data (field \"file\"). Received: an "
                            f"object with keys {list(value)[:10]}"[:400])
    try:
        return PredictRows.model_validate(value).rows
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "body"
        raise ApiError(400, f"invalid request body: {where}: {first.get('msg')}") from None


def rows_payload(served, rows: list) -> tuple[object, int, list]:
    """Rows of raw values (table models: objects of column values; image and array
    models: arrays of the input's shape, or ``{"b64": ...}`` image files) as model
    input: ``(payload, rows, notes per row)``."""
    if not rows:
        raise ApiError(400, "send at least one row.")
    if len(rows) > served.settings.max_batch_rows:
        raise ApiError(400, f"a request takes 1-{served.settings.max_batch_rows} rows. "
                            f"Received: {len(rows)} rows")
    if served.table:
        checked, notes = served.table_rows(rows)
        return checked, len(checked), notes
    if served.image and all(isinstance(r, dict) and set(r) == {"b64"} for r in rows):
        import base64
        import binascii

        images, notes = [], []
        for i, r in enumerate(rows, 1):
            try:
                data = base64.b64decode(str(r["b64"]), validate=True)
            except (binascii.Error, ValueError):
                raise ApiError(400, f"row {i}: b64 must be base64-encoded image bytes.") from None
            img, note = served.decode_image(data, f"row {i}")
            images.append(img)
            notes.append(note)
        return np.concatenate(images), len(images), notes
    rows = [r["input"] if isinstance(r, dict) and set(r) == {"input"} else r for r in rows]
    named = next((r for r in rows if isinstance(r, dict)), None)
    if named is not None:  # column values: for a table model only
        what = ('image files (multipart field "file"), {"b64": ...} rows or arrays of shape '
                if served.image else "arrays of shape ")
        mixed = (" mixed with other rows; send one kind of row in a request" if
                 served.image and set(named) == {"b64"} else "")
        raise ApiError(400, f"model {served.name!r} was not trained on a table: its rows are "
                            f"{what}{list(served.input_shape)}. Received: a row with keys "
                            f"{list(named)[:10]}{mixed}"[:400])
    x = served.array(rows, "rows")
    return x, len(x), [[] for _ in range(len(x))]
