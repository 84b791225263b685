"""The routes: each parses its input, calls the served model, returns its answer.

- Open Inference Protocol (KServe V2): ``/v2``, ``/v2/health/live``, ``/v2/health/ready``,
  ``/v2/models/{name}[/versions/1]``, ``.../ready``, ``.../infer``.
- TensorFlow Serving's REST API: ``GET /v1/models/{name}``, ``POST /v1/models/{name}:predict``.
- For people and scripts: ``POST /predict`` (image files or JSON rows; answers as
  ``mlpkit predict --json``), ``GET /model``, ``GET /`` (the page), ``GET /report``.
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import numpy as np
from fastapi import Query, Request
from starlette.datastructures import UploadFile
from starlette.responses import FileResponse, Response

from mlpkit.serving import protocol
from mlpkit.serving import schemas as s
from mlpkit.serving.errors import ApiError, error_response

STATIC = Path(__file__).parent / "static"
JSON = "application/json"
PAGE_POLICY = ("default-src 'self'; img-src 'self' data: blob:; style-src 'self'; "
               "script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
REPORT_POLICY = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
                 "base-uri 'none'; frame-ancestors 'none'")


def json_response(value, status: int = 200, headers: dict | None = None) -> Response:
    return Response(json.dumps(value, separators=(",", ":")).encode(), status,
                    headers=headers, media_type=JSON)


def finite(outputs: np.ndarray) -> np.ndarray:
    """``outputs`` if all finite; else a 422 naming the rows (JSON has no NaN, and a
    tensor answer has no place for a row's note)."""
    from mlpkit.inference import not_finite

    why = not_finite(outputs)
    if why:
        raise ApiError(422, why)
    return outputs


async def read_body(request: Request, limit: int) -> bytes:
    """The body, decompressed when the client compressed it (``tritonclient`` can),
    never past ``limit`` bytes."""
    body = await request.body()
    encoding = request.headers.get("content-encoding", "identity").lower()
    if encoding in ("identity", ""):
        return body
    if encoding not in ("gzip", "deflate"):
        raise ApiError(415, f"Content-Encoding must be gzip, deflate or none. "
                            f"Received: {encoding[:30]!r}")
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS)
    try:
        out = inflate.decompress(body, limit + 1)
    except zlib.error:
        raise ApiError(400, f"the body is not valid {encoding} data.") from None
    if len(out) > limit:
        raise ApiError(413, f"the decompressed body is over the limit of {limit} bytes.")
    return out


def hot_route(app, path: str, endpoint, **documented) -> None:
    """A POST route on the prediction path: described in the OpenAPI document as a
    FastAPI route, served by a plain Starlette route placed first, which skips
    FastAPI's per-request parameter machinery (a quarter of the CPU time a small
    request costs). The endpoint reads its path parameters from the request."""
    from starlette.routing import Route

    app.add_api_route(path, endpoint, methods=["POST"], responses=s.ERRORS, **documented)
    app.router.routes.insert(0, Route(path, endpoint, methods=["POST"]))


def add_inference_routes(router, served) -> None:
    limit = served.settings.max_body_bytes

    def check(name: str, version: str | None = None) -> None:
        if name != served.name or version not in (None, "1"):
            what = f"model {name!r}" + (f" version {version!r}" if version else "")
            raise ApiError(404, f"{what[:200]} is not served here; this server serves "
                                f"{served.name!r} (version 1).")

    def ready_or_503() -> Response:
        if served.ready:
            return json_response({"ready": True})
        return error_response(503, "the model is still warming up.")

    @router.get("/v2", response_model=s.ServerMetadata, tags=["v2"])
    async def server_metadata():
        from mlpkit import __version__

        return json_response({"name": "mlpkit", "version": __version__,
                              "extensions": protocol.EXTENSIONS})

    @router.get("/v2/health/live", tags=["v2"])
    async def live():
        return json_response({"live": True})

    @router.get("/v2/health/ready", tags=["v2"], responses=s.ERRORS)
    async def ready():
        return ready_or_503()

    @router.get("/v2/models/{name}", response_model=s.ModelMetadata, responses=s.ERRORS,
                tags=["v2"])
    @router.get("/v2/models/{name}/versions/{version}", response_model=s.ModelMetadata,
                responses=s.ERRORS, tags=["v2"])
    async def model_metadata(name: str, version: str | None = None):
        check(name, version)
        return json_response(protocol.model_metadata(served))

    @router.get("/v2/models/{name}/ready", responses=s.ERRORS, tags=["v2"])
    @router.get("/v2/models/{name}/versions/{version}/ready", responses=s.ERRORS, tags=["v2"])
    async def model_ready(name: str, version: str | None = None):
        check(name, version)
        return ready_or_503()

    async def infer(request: Request):
        params = request.path_params
        check(params["name"], params.get("version"))
        body = await read_body(request, limit)
        x, parsed = protocol.infer_input(served, body,
                                         request.headers.get("inference-header-content-length"))
        outputs = finite(await served.predict(x, len(x)))
        content, headers = protocol.infer_response(served, outputs, parsed)
        return Response(content, headers=headers,
                        media_type="application/octet-stream" if headers else JSON)

    for path in ("/v2/models/{name}/infer", "/v2/models/{name}/versions/{version}/infer"):
        hot_route(router, path, infer, response_model=s.InferenceResponse, tags=["v2"],
                  openapi_extra={**s.request_body((JSON, s.schema_of(s.InferenceRequest))),
                                 "parameters": s.path_parameters(path)})

    @router.get("/v1/models/{name}", responses=s.ERRORS, tags=["v1"])
    async def v1_status(name: str):
        check(name)
        state = "AVAILABLE" if served.ready else "LOADING"
        return json_response({"model_version_status": [
            {"version": "1", "state": state, "status": {"error_code": "OK", "error_message": ""}}]})

    async def v1_predict(request: Request):
        check(request.path_params["name"])
        payload, rows, _, key = protocol.v1_request(served, await read_body(request, limit))
        outputs = finite(await served.predict(payload, rows))
        return json_response({key: np.asarray(outputs, np.float64).tolist()})

    path = "/v1/models/{name}:predict"
    hot_route(router, path, v1_predict, response_model=s.V1PredictResponse, tags=["v1"],
              openapi_extra={**s.request_body((JSON, s.schema_of(s.V1PredictRequest))),
                             "parameters": s.path_parameters(path)})



def add_page_routes(router, served) -> None:
    limit = served.settings.max_body_bytes
    page = (STATIC / "index.html").read_bytes()
    upload = {"type": "object", "properties": {"file": {
        "type": "array", "items": {"type": "string", "format": "binary"}}}, "required": ["file"]}

    @router.get("/", include_in_schema=False)
    async def index():
        return Response(page, media_type="text/html; charset=utf-8",
                        headers={"Content-Security-Policy": PAGE_POLICY})

    @router.get("/model", tags=["page"])
    async def describe():
        """The served model: its kind, classes and (tables) columns with their
        training ranges and categories."""
        return json_response(served.describe())

    @router.get("/report", include_in_schema=False)
    async def report():
        path = served.run.path / "report.html"
        if not path.is_file():
            raise ApiError(404, f"this run has no report.html; write it with: "
                                f"mlpkit report {served.run.path.name}")
        return FileResponse(path, media_type="text/html; charset=utf-8",
                            headers={"Content-Security-Policy": REPORT_POLICY})

    @router.post("/predict", response_model=list[s.Record], responses=s.ERRORS, tags=["page"],
                 openapi_extra=s.request_body(("multipart/form-data", upload),
                                              (JSON, s.schema_of(s.PredictRows))))
    async def predict(request: Request, probabilities: bool = Query(
            False, description="Add every class's probability to each record.")):
        """Image files (multipart, field ``file``) or JSON rows (``{"rows": [...]}``):
        one record per file or row, as ``mlpkit predict --json`` prints."""
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind == "multipart/form-data":
            where, x, notes = await _uploads(served, request)
        elif kind == JSON:
            rows = protocol.predict_rows(await read_body(request, limit))
            x, _, notes = protocol.rows_payload(served, rows)
            where = [{"row": i + 1} for i in range(len(notes))]
        else:
            raise ApiError(415, "send image files as multipart/form-data (field \"file\") "
                                'or JSON rows as application/json ({"rows": [...]}). '
                                f"Received: Content-Type={kind[:60]!r}")
        outputs = await served.predict(x, len(notes))
        records = served.records(outputs, probabilities)
        return json_response([{**w, **r, "notes": n} for w, r, n in zip(where, records, notes)])



async def _uploads(served, request: Request):
    form = await request.form(max_files=served.settings.max_batch_rows, max_fields=100)
    files = [v for _, v in form.multi_items() if isinstance(v, UploadFile)]
    if not files:
        raise ApiError(400, 'no file uploaded; send image files in the multipart field "file".')
    where, images, notes = [], [], []
    for f in files:  # a .npy stack: one record per image, with its row, as the CLI's
        name = (f.filename or "upload")[:200]
        img, note = await served.decode_image_async(await f.read(), name, stack=True)
        where += ([{"file": name, "row": i + 1} for i in range(len(img))] if len(img) > 1
                  else [{"file": name}])
        images.append(img)
        notes += [note] * len(img)
        if len(where) > served.settings.max_batch_rows:
            raise ApiError(400, f"a request takes 1-{served.settings.max_batch_rows} images; "
                                f"these files hold more ({name!r} reaches {len(where)}).")
    await form.close()
    return where, np.concatenate(images), notes
