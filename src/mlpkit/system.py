"""Facts about the machine and the software a run used, and a wall-clock timer."""

from __future__ import annotations

import os
import platform
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

PACKAGES = ("mlpkit", "keras", "jax", "jaxlib", "tensorflow", "tensorflow-cpu", "torch",
            "numpy", "scikit-learn", "pandas", "matplotlib")


def machine() -> dict:
    """Platform, Python, CPU model, core count and host name."""
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"platform": platform.platform(), "python": platform.python_version(),
            "cpu": cpu, "cores": os.cpu_count(), "hostname": platform.node()}


def versions() -> dict:
    """Installed versions of the packages that can change a run's result."""
    import importlib.metadata as md

    out = {}
    for pkg in PACKAGES:
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            pass
    return out


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class Timer:
    """Named wall-clock timings, in seconds."""

    def __init__(self):
        self.start = time.perf_counter()
        self.timings: dict[str, float] = {}

    @contextmanager
    def __call__(self, name: str):
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.timings[f"{name}_seconds"] = round(time.perf_counter() - t0, 3)

    def total(self) -> dict:
        return {**self.timings, "total_seconds": round(time.perf_counter() - self.start, 3)}
