"""Shared helpers: machine description, the results file, subprocess timing.

Every figure is one JSON object with its goal, whether it holds (computed here,
by the script that measured it), the date and the machine. ``emit`` prints it
and puts it into ``benchmarks/results.jsonl`` (committed), replacing the earlier
record of the same figure; ``render.py`` writes the READMEs' figures from that file.
"""

from __future__ import annotations

import datetime
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
# MLPKIT_BENCH_OUT moves the results file (e.g. for a --quick run)
RESULTS = Path(os.environ.get("MLPKIT_BENCH_OUT") or ROOT / "benchmarks" / "results.jsonl")


def machine() -> dict:
    """Platform, Python, CPU model, cores and the versions that change a figure
    (no host name: the file is committed)."""
    from mlpkit import system

    info = system.machine()
    info.pop("hostname", None)
    wanted = ("mlpkit", "keras", "jax", "jaxlib", "numpy", "scikit-learn")
    return {**info, "versions": {k: v for k, v in system.versions().items() if k in wanted}}


def source() -> dict:
    """The commit measured, and whether src/ had changes not yet committed."""
    def git(*args):
        r = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True)
        return r.stdout.strip() if r.returncode == 0 else None

    status = git("status", "--porcelain", "--", "src")
    return {"commit": git("rev-parse", "--short", "HEAD"),
            "uncommitted_src": bool(status) if status is not None else None}


def load_average() -> float:
    """The 1-minute load average: how busy the machine was (others' work included)."""
    return round(os.getloadavg()[0], 2)


def emit(figure: dict, load: list[float] | None = None) -> dict:
    """Print one figure as one JSON line and put it into the results file.

    Args:
        figure: ``figure`` (its key), ``title``, ``goal``, ``holds`` and the numbers.
        load: load averages sampled while it was measured (default: now).
    """
    load = load or [load_average()]
    figure = {**figure, "date": datetime.datetime.now(datetime.timezone.utc)
              .strftime("%Y-%m-%dT%H:%M:%SZ"),
              "load_average": {"min": min(load), "max": max(load)}, "source": source(),
              "machine": MACHINE}
    print(json.dumps(figure), flush=True)
    records = read_results(RESULTS)
    names = [r["figure"] for r in records]
    if figure["figure"] in names:  # keep the file's order: smaller diffs
        records[names.index(figure["figure"])] = figure
    else:
        records.append(figure)
    tmp = RESULTS.with_suffix(".tmp")
    tmp.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in records))
    os.replace(tmp, RESULTS)
    return figure


def read_results(path: Path = RESULTS) -> list[dict]:
    """The figures in a results file, one JSON object a line."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def latest(figure: str, path: Path = RESULTS) -> dict:
    """The record of ``figure`` in a results file (matched on its name: another record
    may name it inside, as the baseline it started from)."""
    return [r for r in read_results(path) if r["figure"] == figure][-1]


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
