"""The run folder: every file written through a temp file and ``os.replace``.

    runs/<name>/
      config.toml  manifest.json  summary.txt  history.csv  metrics.json
      model.keras  plots/*.png  report.html

A crash at any point leaves only complete files behind; ``manifest.json`` says
whether the run completed (``status``).
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from mlpkit.errors import RunError


_UMASK = os.umask(0)
os.umask(_UMASK)


@contextmanager
def atomic_path(dest: Path):
    """Yield a temporary path beside ``dest``; rename it onto ``dest`` on success."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.stem}.", suffix=f".tmp{dest.suffix}",
                               dir=dest.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the file the usual mode
    try:
        yield Path(tmp)
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_text(dest: Path, text: str) -> Path:
    with atomic_path(dest) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(dest)


def write_bytes(dest: Path, data: bytes) -> Path:
    with atomic_path(dest) as tmp:
        tmp.write_bytes(data)
    return Path(dest)


def write_json(dest: Path, obj) -> Path:
    return write_text(dest, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def read_json(path: Path) -> dict:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunError(f"{path} not found. Is {Path(path).parent} a run folder?") from None
    except json.JSONDecodeError as e:
        raise RunError(f"{path} is not valid JSON ({e}).") from None


def new_run_dir(runs_dir: str | Path, dataset: str, preset: str, out: str | Path | None) -> Path:
    """Create the run folder: ``out`` if given (must be new or empty), else a fresh name."""
    if out:
        path = Path(out)
        if path.exists() and (not path.is_dir() or any(path.iterdir())):
            raise RunError(f"run folder {path} already exists and is not empty. "
                           "Pass a new --out or remove it.")
    else:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        path = Path(runs_dir) / f"{dataset}-{preset}-{stamp}"
        n = 1
        while path.exists():
            n += 1
            path = Path(runs_dir) / f"{dataset}-{preset}-{stamp}-{n}"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise RunError(f"cannot create run folder {path}: {e.strerror}. Pass a writable --out.")
    return path


def require_run(path: str | Path) -> Path:
    path = Path(path)
    if not (path / "manifest.json").is_file():
        raise RunError(f"{path} is not a run folder (no manifest.json). "
                       "Pass a folder written by `mlpkit train`.")
    return path


def machine() -> dict:
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
    import importlib.metadata as md

    out = {}
    for pkg in ("mlpkit", "keras", "jax", "jaxlib", "tensorflow", "tensorflow-cpu", "torch", "numpy",
                "scikit-learn", "pandas", "matplotlib"):
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


class Run:
    """A run folder and, once loaded, its model, history and data.

    Made by ``mlpkit.train`` (everything in memory) or ``mlpkit.load_run(path)``
    (loaded from the folder on first use).
    """

    def __init__(self, path, model=None, dataset=None, history: dict | None = None):
        self.path = Path(path)
        self._model = model
        self._dataset = dataset
        self._history = history

    def __repr__(self) -> str:
        return f"Run({str(self.path)!r}, status={self.manifest.get('status')!r})"

    @property
    def manifest(self) -> dict:
        return read_json(self.path / "manifest.json")

    @property
    def metrics(self) -> dict:
        return read_json(self.path / "metrics.json")

    @property
    def config(self):
        from mlpkit import config

        return config.resolve(config_file=self.path / "config.toml")

    @property
    def model(self):
        if self._model is None:
            from mlpkit.evaluation import load_model

            self._model = load_model(self.path / "model.keras")
        return self._model

    @property
    def history(self) -> dict[str, list[float]]:
        """Per-epoch metrics, as ``History.history`` (from history.csv when loaded)."""
        if self._history is None:
            import csv

            try:
                with open(self.path / "history.csv", newline="") as f:
                    rows = list(csv.DictReader(f))
            except FileNotFoundError:
                raise RunError(f"{self.path / 'history.csv'} not found; the run did not "
                               "finish an epoch.") from None
            skip = {"epoch", "epoch_seconds", "elapsed_seconds"}
            keys = [k for k in (rows[0] if rows else {}) if k not in skip]
            self._history = {k: [float(r[k]) for r in rows] for k in keys}
        return self._history

    @property
    def dataset(self):
        if self._dataset is None:
            from mlpkit import data

            self._dataset = data.load_for(self.config)
        return self._dataset

    @property
    def class_names(self) -> list[str] | None:
        return self.manifest.get("class_names")

    def evaluate(self, dataset=None) -> dict:
        """Test-set metrics (``test_loss``, ``test_accuracy`` or ``test_rmse``, ...)."""
        from mlpkit import evaluation

        return evaluation.evaluate(self.model, dataset or self.dataset)

    def predict(self, x):
        """Class probabilities (classification) or values (regression) for ``x``.

        For a run trained on a table, ``x`` may be a DataFrame of raw rows: the
        columns are encoded as in training (category codes, missing values).
        """
        from mlpkit import evaluation

        if hasattr(x, "columns"):
            from mlpkit.data.csv import TableEncoder

            table = self.manifest.get("table")
            if not table:
                raise RunError(f"{self.path} was not trained on a table; pass an array.")
            x = TableEncoder.from_spec(table).transform(x)
        return evaluation.predict(self.model, x)

    def predict_labels(self, x) -> list:
        """Class names (classification) or values (regression), one per instance."""
        from mlpkit import evaluation

        out = self.predict(x)
        task = self.manifest.get("task")
        if task == "regression":
            return [float(v[0]) if len(v) == 1 else [float(a) for a in v] for v in out]
        if task == "multilabel":
            return [[n for n, p in zip(self.class_names, row) if p > 0.5] for row in out]
        return [self.class_names[i] for i in evaluation.predicted_classes(out, task)]

    def predict_classes(self, x) -> list[str]:
        """The most probable class name for each instance (argmax, as the lecture)."""
        if not self.class_names:
            raise RunError(f"{self.path} holds a regression model; use predict().")
        return self.predict_labels(x)
