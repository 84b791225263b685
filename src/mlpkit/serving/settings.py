"""Server settings: arguments of ``mlpkit serve`` and ``MLPKIT_SERVE_*`` variables.

A setting given to ``create_app``/``serve`` wins over the environment, which wins
over the defaults here (``MLPKIT_SERVE_MAX_BODY_BYTES=8388608 mlpkit serve RUN``).
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServeSettings(BaseSettings):
    """How the server listens, what it accepts and how it batches.

    Attributes:
        host: the address to bind; loopback unless told otherwise, so a model is
            never exposed to the network by accident.
        port: the TCP port.
        name: the model's name in the URLs (default: the run folder's name).
        max_body_bytes: larger request bodies get 413 before they are read whole.
        max_batch_rows: the most rows one request may carry, and one model call runs.
        batch_window_ms: under load (when the previous model call served more than
            one request), wait this long for more requests to join a batch; a lone
            request never waits.
        max_image_pixels: larger uploaded images are refused before decoding.
    """

    model_config = SettingsConfigDict(env_prefix="MLPKIT_SERVE_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    name: str | None = Field(None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
    max_body_bytes: int = Field(4 * 1024 * 1024, ge=1024)
    max_batch_rows: int = Field(1024, ge=1, le=4096)
    batch_window_ms: float = Field(0.0, ge=0.0, le=100.0)
    max_image_pixels: int = Field(4096 * 4096, ge=1)
