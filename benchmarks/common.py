"""Shared helpers: machine description, JSON output, subprocess timing."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
# the tf.keras reference script runs in .venv-bench (make bench creates it)
REF_PYTHON = str(ROOT / ".venv-bench" / "bin" / "python") if (
    ROOT / ".venv-bench" / "bin" / "python").exists() else sys.executable
FASHION = Path("/usr/share/datasets/fashion-mnist")


def machine() -> dict:
    from mlpkit.runs import machine as m, versions

    info = m()
    info.pop("hostname", None)
    return {**info, "versions": versions()}


def emit(figure: dict) -> dict:
    """Print one figure as one JSON line, with the machine it was measured on."""
    figure = {**figure, "machine": MACHINE}
    print(json.dumps(figure), flush=True)
    out = os.environ.get("MLPKIT_BENCH_OUT")
    if out:
        with open(out, "a") as f:
            f.write(json.dumps(figure) + "\n")
    return figure


def median(values) -> float:
    return float(statistics.median(values))


def run(cmd: list[str], env: dict | None = None, timeout: int = 1800) -> tuple[float, str, int]:
    """Run a command; returns (wall seconds, stdout, peak RSS in MiB of that process tree)."""
    wrapper = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
               "r = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
               "w = time.perf_counter() - t; sys.stderr.write(r.stderr); "
               "print(r.stdout); print('@@', w, r.returncode, "
               "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    proc = subprocess.run([PYTHON, "-c", wrapper, *cmd], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=timeout)
    lines = proc.stdout.rstrip().splitlines()
    marker = lines[-1].split()
    wall, rc, rss_kib = float(marker[1]), int(marker[2]), int(marker[3])
    if rc != 0:
        raise RuntimeError(f"{cmd} failed ({rc}):\n{proc.stderr[-3000:]}")
    return wall, "\n".join(lines[:-1]), rss_kib / 1024


def keras_home_with_fashion() -> str:
    """A KERAS_HOME whose datasets/fashion-mnist holds the local files, so the
    reference script's ``tf.keras.datasets.fashion_mnist.load_data()`` finds them
    instead of downloading."""
    home = Path(tempfile.mkdtemp(prefix="keras-home-"))
    folder = home / "datasets" / "fashion-mnist"
    folder.mkdir(parents=True)
    for f in FASHION.iterdir():
        (folder / f.name).symlink_to(f)
    return str(home)


def mlpkit_cmd(*args) -> list[str]:
    return [PYTHON, "-m", "mlpkit.cli", *map(str, args)]


MACHINE = machine()
