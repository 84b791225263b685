"""mlpkit: build, train, judge and serve multilayer perceptrons with Keras 3.

Importing mlpkit is cheap: Keras and JAX load only when a function needs them.
mlpkit picks the JAX backend unless the user already chose one with
``KERAS_BACKEND``.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")
# Keras prints a line per backend on import; keep JAX quiet about the lack of GPUs.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from mlpkit.api import (  # noqa: E402
    Run,
    compare,
    evaluate_run,
    load_dataset,
    load_run,
    lr_find,
    predict_files,
    resolve_config,
    resume,
    train,
    tune,
)
from mlpkit.errors import (  # noqa: E402
    ConfigError,
    DataError,
    MlpkitError,
    ModelError,
    RunError,
)

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "DataError",
    "MlpkitError",
    "ModelError",
    "Run",
    "RunError",
    "compare",
    "evaluate_run",
    "load_dataset",
    "load_run",
    "lr_find",
    "predict_files",
    "resolve_config",
    "resume",
    "train",
    "tune",
]
