"""The application: ``create_app(run)`` builds it, ``serve(run)`` runs it with uvicorn.

    from mlpkit.serving import create_app
    app = create_app("runs/fashion", name="fashion")   # any ASGI server can run it

The model is loaded (in Keras's safe mode) when the app is made, so a bad run
folder fails at once; it is warmed up (every batch size compiled) after the
server starts, and ``/v2/health/ready`` answers 200 from then on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from mlpkit.serving import errors
from mlpkit.serving.model import ServedModel
from mlpkit.serving.routes import STATIC, add_inference_routes, add_page_routes
from mlpkit.serving.settings import ServeSettings

log = logging.getLogger("mlpkit.serving")


def create_app(run, name: str | None = None, settings: ServeSettings | None = None,
               **overrides) -> FastAPI:
    """The FastAPI app serving one run.

    Args:
        run: a ``Run`` or the path of a run folder.
        name: the model's name in the URLs (default: the run folder's name).
        settings: a ``ServeSettings``; else read from ``MLPKIT_SERVE_*`` variables,
            with ``overrides`` (e.g. ``max_body_bytes=...``) winning.

    Raises:
        RunError: not a complete run folder, or a model Keras's safe mode refuses.
    """
    if settings is None:
        settings = _settings(name=name, **overrides)
    served = ServedModel(run, settings)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI):
        task = asyncio.get_running_loop().run_in_executor(None, _warm_up, served)
        yield
        task.cancel()
        served.batcher.close()

    from mlpkit import __version__

    app = FastAPI(title=f"mlpkit: {served.name}", version=__version__, docs_url=None,
                  redoc_url=None, lifespan=lifespan,
                  description="A model trained with mlpkit: the Open Inference Protocol "
                              "(/v2), TensorFlow Serving's REST API (/v1), /predict and a "
                              "page at /.")
    app.state.served = served
    errors.install(app)
    # a malformed multipart body is answered 400; python-multipart's own warning
    # ("Expected boundary character ...") would only repeat it in the server's log
    for logger in ("python_multipart", "multipart"):  # its name from 0.0.13 on, and before
        logging.getLogger(logger).setLevel(logging.ERROR)
    app.add_middleware(errors.BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(errors.HeadAsGet)
    add_inference_routes(app, served)
    add_page_routes(app, served)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


def _warm_up(served: ServedModel) -> None:
    import gc

    try:
        served.warm_up()
    except Exception:  # stays not ready: /v2/health/ready keeps answering 503
        log.exception("warming up %r failed", served.name)
        return
    # Keras, JAX and pandas leave ~350,000 objects that live as long as the server; a
    # full collection walking them all paused every request for ~0.1-0.5 s under
    # load. Frozen, the collector never walks them again.
    gc.collect()
    gc.freeze()
    log.info("model %r ready", served.name)


def _settings(**given) -> ServeSettings:
    """``ServeSettings`` from the arguments given (``None``: not given) and the environment;
    a bad value is a one-line ``ConfigError``."""
    from pydantic import ValidationError

    from mlpkit.errors import ConfigError

    try:
        return ServeSettings(**{k: v for k, v in given.items() if v is not None})
    except ValidationError as e:
        first = e.errors()[0]
        key = ".".join(map(str, first["loc"]))
        raise ConfigError(f"{key}: {first['msg']}. Received: {key}="
                          f"{first.get('input')!r}") from None


def serve(run, host: str | None = None, port: int | None = None, name: str | None = None,
          **overrides) -> None:
    """Serve a run over HTTP until interrupted (see ``create_app``).

    Binds ``127.0.0.1`` unless ``host`` says otherwise. The model is loaded and the
    port bound before anything is served, so each fails with a one-line error.

    Raises:
        RunError: see ``create_app``. ConfigError: a bad setting, or a port in use.
    """
    import socket

    import uvicorn

    from mlpkit.errors import ConfigError

    settings = _settings(host=host, port=port, name=name, **overrides)
    app = create_app(run, settings=settings)
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    sock = socket.socket(family)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((settings.host, settings.port))
    except OSError as e:
        sock.close()
        raise ConfigError(f"cannot listen on {settings.host}:{settings.port} ({e.strerror}). "
                          f"Pass another --port or --host. Received: port={settings.port}"
                          ) from None
    host, port = sock.getsockname()[:2]
    if settings.host not in ("127.0.0.1", "localhost", "::1"):
        log.warning("listening on %s: anyone who can reach this machine can use the model",
                    settings.host)
    log.info("serving %r at http://%s:%d/ (Ctrl-C stops)", app.state.served.name,
             f"[{host}]" if family == socket.AF_INET6 else host, port)
    config = uvicorn.Config(app, log_level="warning", access_log=False,
                            timeout_graceful_shutdown=5)
    uvicorn.Server(config).run(sockets=[sock])
