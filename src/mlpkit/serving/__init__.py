"""Serve a trained run over HTTP: the Open Inference Protocol (KServe V2), TensorFlow
Serving's REST ``:predict``, a plain ``/predict``, and a page to try the model.

    mlpkit serve runs/fashion --port 8000          # or: mlpkit.serve("runs/fashion")

Modules: ``settings`` (limits, from arguments and ``MLPKIT_SERVE_*``), ``model`` (the
served run: loading, warm-up, input checks), ``batching`` (concurrent requests share
model calls), ``protocol`` (V2 and V1 bodies), ``schemas`` (pydantic models, the
OpenAPI document), ``errors`` (one JSON error shape, the body limit), ``routes``,
``app`` (``create_app``, ``serve``), ``static/`` (the page: HTML, CSS, JS; no build).
"""

from mlpkit.serving.app import create_app, serve
from mlpkit.serving.settings import ServeSettings

__all__ = ["ServeSettings", "create_app", "serve"]
