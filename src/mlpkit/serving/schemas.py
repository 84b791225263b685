"""Request and response bodies: parsed with pydantic, and described in ``/openapi.json``.

Routes read their bodies themselves (``protocol.py``): an inference request may be
JSON followed by binary tensors, and a hot path cannot afford FastAPI's generic
body handling. These models are what they parse JSON with, and ``request_body``
puts them into the OpenAPI document, so clients and fuzzers see the real shapes.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

Dim = Annotated[int, Field(strict=True, ge=0)]


class TensorInput(BaseModel):
    """One input tensor of the Open Inference Protocol."""

    name: str
    shape: list[Dim] = Field(max_length=16)
    datatype: str
    parameters: dict[str, Any] | None = None
    data: list[Any] | None = None


class RequestedOutput(BaseModel):
    name: str
    parameters: dict[str, Any] | None = None


class InferenceRequest(BaseModel):
    """``POST /v2/models/{name}/infer`` (JSON part; binary tensors may follow it)."""

    id: str | None = None
    parameters: dict[str, Any] | None = None
    inputs: list[TensorInput] = Field(min_length=1, max_length=16)
    outputs: list[RequestedOutput] | None = Field(None, max_length=16)


class TensorOutput(BaseModel):
    name: str
    shape: list[int]
    datatype: str
    parameters: dict[str, Any] | None = None
    data: list[Any] | None = None


class InferenceResponse(BaseModel):
    model_config = ConfigDict(protected_namespaces=())

    model_name: str
    model_version: str | None = None
    id: str | None = None
    outputs: list[TensorOutput]


class TensorMetadata(BaseModel):
    name: str
    datatype: str
    shape: list[int]


class ModelMetadata(BaseModel):
    name: str
    versions: list[str]
    platform: str
    inputs: list[TensorMetadata]
    outputs: list[TensorMetadata]


class ServerMetadata(BaseModel):
    name: str
    version: str
    extensions: list[str]


class V1PredictRequest(BaseModel):
    """TensorFlow Serving's REST ``:predict``: ``instances`` (rows) or ``inputs`` (columns)."""

    signature_name: str | None = None
    instances: list[Any] | None = None
    inputs: Any = None


class V1PredictResponse(BaseModel):
    predictions: list[Any] | None = None
    outputs: list[Any] | None = None


class PredictRows(BaseModel):
    """``POST /predict`` as JSON: table rows of raw column values, or input arrays."""

    rows: list[Any] = Field(min_length=1)


class Record(BaseModel):
    """One prediction, as ``mlpkit predict --json`` prints it."""

    file: str | None = None
    row: int | None = None
    prediction: Any
    probability: float | None = None
    probabilities: dict[str, float] | None = None
    predictions: dict[str, float] | None = None  # several regression targets, named
    error: str | None = None  # why there is no prediction (an output that is not finite)
    notes: list[str]


class ErrorBody(BaseModel):
    """Every refusal: a one-line message and the HTTP status."""

    error: str
    status: int


def _inline(schema: dict, defs: dict) -> dict | list:
    if isinstance(schema, dict):
        if "$ref" in schema:
            return _inline(defs[schema["$ref"].rsplit("/", 1)[-1]], defs)
        return {k: _inline(v, defs) for k, v in schema.items() if k != "$defs"}
    if isinstance(schema, list):
        return [_inline(v, defs) for v in schema]
    return schema


def schema_of(model: type[BaseModel]) -> dict:
    """A model's JSON schema with its definitions inlined (no ``$ref``s to resolve)."""
    schema = model.model_json_schema()
    return _inline(schema, schema.get("$defs", {}))


def request_body(*content: tuple[str, dict]) -> dict:
    """``openapi_extra`` for a route that reads its body itself."""
    return {"requestBody": {"required": True,
                            "content": {media: {"schema": schema} for media, schema in content}}}


def path_parameters(path: str) -> list[dict]:
    """OpenAPI parameters for the ``{name}`` parts of a path."""
    import re

    return [{"name": n, "in": "path", "required": True, "schema": {"type": "string"}}
            for n in re.findall(r"{(\w+)}", path)]


ERRORS = {code: {"model": ErrorBody, "description": text} for code, text in (
    (400, "invalid input"), (404, "unknown model or route"), (413, "body over the limit"),
    (415, "unsupported content type"), (503, "model not ready yet"))}
