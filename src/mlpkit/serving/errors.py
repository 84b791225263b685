"""One JSON error shape for every refusal: ``{"error": "<one line>", "status": 400}``.

``"error"`` is the key the Open Inference Protocol and TensorFlow Serving use, so
their clients (``tritonclient`` raises it as ``InferenceServerException``) show
the message as it is. Every error the server can produce passes through here:
mlpkit's own (``MlpkitError`` -> 400), FastAPI's validation, Starlette's 404/405,
the body limit (413) and, as a last resort, anything unexpected (500, logged).
"""

from __future__ import annotations

import json
import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from mlpkit.errors import MlpkitError

log = logging.getLogger("mlpkit.serving")


class ApiError(Exception):
    """A refused request: its HTTP status and a one-line message with the fix."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def error_response(status: int, message: str, headers: dict | None = None) -> Response:
    body = json.dumps({"error": message, "status": status}).encode()
    return Response(body, status, headers=headers, media_type="application/json")


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for e in exc.errors()[:3]:
        where = ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "body"
        parts.append(f"{where}: {e.get('msg', 'invalid')}")
    return "invalid request: " + "; ".join(parts)


def install(app: FastAPI) -> None:
    """Route every exception to the one error shape."""

    @app.exception_handler(ApiError)
    async def _api(_: Request, exc: ApiError):
        return error_response(exc.status, exc.message)

    @app.exception_handler(MlpkitError)
    async def _mlpkit(_: Request, exc: MlpkitError):
        return error_response(400, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError):
        return error_response(400, _validation_message(exc))

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException):
        if exc.status_code == 404:
            message = f"no route {request.url.path}. See /openapi.json for the routes."
        elif exc.status_code == 405:
            method = request.scope.get("mlpkit.method", request.method)  # HEAD (HeadAsGet)
            message = f"{method} is not allowed on {request.url.path}."
        else:
            message = str(exc.detail)
        return error_response(exc.status_code, message, getattr(exc, "headers", None))

    from starlette.requests import ClientDisconnect

    # its own handler (Starlette's ExceptionMiddleware), not the Exception one, after
    # which Starlette's ServerErrorMiddleware logs a traceback and raises again
    @app.exception_handler(ClientDisconnect)
    async def _gone(request: Request, exc: ClientDisconnect):  # left mid-body: nobody to answer
        log.info("%s %s: the client went away before sending its whole body",
                 request.method, request.url.path)
        return error_response(400, "the request body ended early.")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(500, f"internal error ({type(exc).__name__}); see the "
                                   "server's log.")


class BodyTooLarge(Exception):
    pass


class HeadAsGet:
    """ASGI middleware: HEAD answered as GET is, without the body (headers, status and
    Content-Length as GET's), for the link checkers and monitors that send HEAD."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "HEAD":
            return await self.app(scope, receive, send)

        async def headers_only(message):
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET", "mlpkit.method": "HEAD"}, receive,
                       headers_only)


class BodyLimit:
    """ASGI middleware: 413 for a body over ``limit`` bytes, by its Content-Length
    before reading it, or while it streams in (chunked bodies). The refused body is read
    and dropped first (up to ``DRAIN`` bytes): a client that sends it all before it
    reads the answer (Python's urllib) would otherwise see the connection reset."""

    DRAIN = 64 * 1024 * 1024

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def _drain(self, scope, receive) -> None:
        """Read and drop the body, for up to ``DRAIN`` bytes and 10 seconds; none from a
        client waiting for "100 Continue" (it sends nothing until told to)."""
        import asyncio

        if (b"expect", b"100-continue") in [(k, v.lower()) for k, v in scope["headers"]]:
            return

        async def drop():
            read = 0
            while read < self.DRAIN:
                message = await receive()
                if message["type"] != "http.request":
                    return  # the client went away
                read += len(message.get("body", b""))
                if not message.get("more_body", False):
                    return

        try:
            await asyncio.wait_for(drop(), timeout=10)
        except asyncio.TimeoutError:  # a slow client: answered (and closed) anyway
            pass

    def _refuse(self) -> Response:
        return error_response(413, f"request body over the limit of {self.limit} bytes. "
                                   "Send fewer rows a request (or raise "
                                   "MLPKIT_SERVE_MAX_BODY_BYTES).")

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        for key, value in scope["headers"]:
            if key == b"content-length":
                try:
                    too_large = int(value) > self.limit
                except ValueError:
                    too_large = False  # the server itself refuses a malformed length
                if too_large:
                    await self._drain(scope, receive)
                    return await self._refuse()(scope, receive, send)
        received, started = 0, False

        async def counted_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLarge
            return message

        async def tracked_send(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except BodyTooLarge:
            if not started:
                await self._drain(scope, receive)
                await self._refuse()(scope, receive, send)
