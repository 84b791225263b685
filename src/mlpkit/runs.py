"""The run folder, a contract: what a run wrote is what a reopened run uses.

    runs/<name>/
      config.toml         resolved config (``mlpkit train --config`` repeats the run)
      manifest.json       status, versions, machine, seed, data checksums, timings
      split.npz           the rows of each split, as indices into the data's parts
      preprocessing.json  fitted on the training rows: classes, table encoding, image conversion
      summary.txt  history.csv  metrics.json  model.keras  plots/*.png  report.html
      checkpoints/        while unfinished: the latest and previous checkpoint (``checkpoints``)

Reopening (``Run``) never re-derives anything from files that may have changed:
the split and the preprocessing are read from the folder, and the data's
checksums are compared with the manifest; a run whose data changed refuses to
evaluate on it (``Run.evaluate(data=...)`` evaluates on other data explicitly).

``--out`` never overwrites a run, with one exception: a folder whose run never
finished an epoch (its manifest says failed, interrupted or running, nothing
holds its lock, and it has neither history.csv nor a checkpoint) is replaced, so
that the corrected command can be run again with the same ``--out``.
"""

from __future__ import annotations

import csv
import functools
import logging
import os
import shlex
from datetime import datetime
from pathlib import Path

import numpy as np

from mlpkit import files
from mlpkit.errors import DataError, ModelError, RunError, did_you_mean

MANIFEST = "manifest.json"
log = logging.getLogger("mlpkit")


def check_out(out: str | Path | None, runs_dir: str | Path = "runs") -> None:
    """Refuse, before any data is loaded, a run folder that cannot be made: ``out``
    naming an existing run (one that never finished an epoch excepted, see above) or
    anything else that is not an empty folder, or a folder that is not writable.

    Raises:
        RunError: with the fix, e.g. ``mlpkit train --resume RUN`` for an unfinished run.
    """
    path = Path(out) if out else Path(runs_dir)
    if out and path.exists():
        if not path.is_dir():
            raise RunError(f"{path} exists and is not a folder. Pass a new --out.")
    if out and path.is_dir() and any(path.iterdir()):
        if not (path / MANIFEST).is_file():
            raise RunError(f"run folder {path} already exists and is not empty. "
                           "Pass a new --out or remove it.")
        from mlpkit import checkpoints

        manifest = read_json(path / MANIFEST)
        check_version(manifest, path)
        status = manifest.get("status")
        if status == "completed":
            raise RunError(f"run folder {path} holds a completed run. Pass a new --out, "
                           "or remove it.")
        if checkpoints.holder(path):
            raise RunError(f"{path} is being trained by another process "
                           f"(pid {checkpoints.holder(path)}). Pass a new --out.")
        if (path / "history.csv").exists() or checkpoints.listed(checkpoints.folder_of(path)):
            raise RunError(f"run folder {path} holds an unfinished run ({status}). Continue it "
                           f"with: mlpkit train --resume {path} (or pass a new --out)")
        return  # a run that never finished an epoch: `create` replaces it
    while not path.exists() and path != path.parent:
        path = path.parent
    if not os.access(path, os.W_OK | os.X_OK):
        raise RunError(f"cannot create a run folder in {path}: it is not writable. "
                       "Pass a writable --out.")


def create(runs_dir: str | Path, dataset: str, preset: str, out: str | Path | None) -> Path:
    """Create the run folder: ``out`` if given (new, empty, or a run that never finished
    an epoch, which is replaced), else a fresh name."""
    if out:
        path = Path(out)
        check_out(path)
        if path.is_dir() and any(path.iterdir()):
            import logging
            import shutil

            logging.getLogger("mlpkit").info(
                f"replacing {path}: its run ({read_json(path / MANIFEST).get('status')}) "
                "never finished an epoch")
            shutil.rmtree(path)
    else:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        base = f"{Path(dataset).stem if Path(dataset).suffix else Path(dataset).name}-{preset}"
        path = Path(runs_dir) / f"{base}-{stamp}"
        n = 1
        while path.exists():
            n += 1
            path = Path(runs_dir) / f"{base}-{stamp}-{n}"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise RunError(f"cannot create run folder {path}: {e.strerror}. Pass a writable --out.")
    return path


def read_json(path: Path):
    try:
        return files.read_json(path)
    except FileNotFoundError:
        raise RunError(f"{path} not found. Is {Path(path).parent} a complete run folder?") from None
    except ValueError as e:
        raise RunError(f"{path} is not valid JSON ({e}).") from None


def save_heldout(path: Path, ds) -> None:
    """``heldout.npz``: the validation and test rows of a data set made in memory (no
    file to take them from again), so that the run can be reopened."""
    with files.atomic_open(path / "heldout.npz") as f:
        np.savez_compressed(f, x_valid=ds.x_valid, y_valid=ds.y_valid, x_test=ds.x_test,
                            y_test=ds.y_test)


def _load_heldout(path: Path, prep: dict, name: str):
    from mlpkit.data.dataset import Dataset
    from mlpkit.labels import Labels

    labels = Labels.from_spec(prep["labels"])
    with np.load(path, allow_pickle=False) as f:
        held = {k: f[k] for k in f.files}
    empty = held["x_test"][:0]
    return Dataset(name, labels.task, empty, held["y_test"][:0], held["x_valid"],
                   held["y_valid"], held["x_test"], held["y_test"], labels.class_names,
                   prep.get("feature_names"), one_hot=prep.get("one_hot", False),
                   labels=labels, table=prep.get("table"), image=prep.get("image"),
                   kind=prep.get("kind", "arrays"))


def _numbers(x, hint: str) -> np.ndarray:
    """``x`` as a float32 array of finite numbers, or a one-line ``DataError`` with ``hint``."""
    try:
        with np.errstate(over="ignore"):
            arr = np.asarray(x, dtype=np.float32)
    except (ValueError, TypeError) as e:
        raise DataError(f"the input is not numbers ({str(e)[:80]}); {hint}.") from None
    bad = ~np.isfinite(arr)
    if bad.any():
        raise DataError(f"the input holds {int(bad.sum())} NaN or infinite values (or numbers "
                        f"beyond float32's range), the first at index "
                        f"{tuple(int(i) for i in np.argwhere(bad)[0])}; replace them (a table "
                        "model's DataFrame may hold missing values: the training median).")
    return arr


IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tif", ".tiff", ".npy"}


def _expand_folders(paths, image: bool, table: bool) -> tuple[list, set]:
    """``paths`` with each folder replaced by its image files (an image model), sorted,
    and the set of those found in folders; a folder for any other model, or one without
    images, is refused with the fix."""
    out, found_in = [], set()
    for p in paths:
        if not Path(p).is_dir():
            out.append(p)
            continue
        if not image:
            raise DataError(f"{p} is a folder; this model takes files of rows: pass them, "
                            f"e.g. {Path(p) / ('*.csv' if table else '*.npy')}.")
        from mlpkit.data.images import visible_files

        visible = visible_files(p)
        found = [f for f in visible if f.suffix.lower() in IMAGE_SUFFIXES]
        others = [f.name for f in visible if f.suffix.lower() not in IMAGE_SUFFIXES]
        if found and others:
            many = len(others) > 1
            log.info(f"{p}: {len(others)} file{'s' * many} that {'are' if many else 'is'} "
                     f"not an image skipped (by the suffix: {', '.join(others[:3])}"
                     f"{', ...' if len(others) > 3 else ''})")
        if not found:
            kinds = ", ".join(sorted(IMAGE_SUFFIXES))
            raise DataError(f"{p} is a folder without images ({kinds} files); pass image "
                            "files or a folder of them.")
        out += found
        found_in.update(found)
    return out, found_in


def _npy_rows(path, shape: list) -> np.ndarray:
    """Rows of a ``.npy`` file for a model whose input has ``shape``."""
    path = Path(path)
    if path.suffix.lower() == ".npy" and not path.is_file():
        raise DataError(f"{path} not found. Pass .npy files of rows of shape {shape}.")
    if path.suffix.lower() != ".npy":
        raise DataError(f"{path}: this run was trained on arrays of shape {shape}; pass .npy "
                        "files of such rows.")
    rows = files.load_npy(path)
    if list(rows.shape) == list(shape):
        rows = rows[None]
    if list(rows.shape[1:]) != list(shape) or rows.dtype.kind not in "fiub":
        raise DataError(f"{path} holds {rows.dtype} rows of shape {list(rows.shape[1:])}; the "
                        f"model takes numeric rows of shape {shape}.")
    return finite_input(rows.astype(np.float32), path)


def finite_input(x: np.ndarray, path) -> np.ndarray:
    """``x`` once it holds no NaN or infinite value (a model's output would be NaN)."""
    bad = ~np.isfinite(x)
    if bad.any():
        where = np.argwhere(bad)[0]
        raise DataError(f"{path} holds {int(bad.sum())} NaN or infinite values (the first at "
                        f"index {tuple(int(i) for i in where)}); pass finite numbers.")
    return x


def load_model(path: Path):
    """Load a ``.keras`` file in Keras's safe mode."""
    import keras

    import mlpkit.layers  # noqa: F401  (registers mlpkit's layers for loading)
    import mlpkit.metrics  # noqa: F401  (and its loss)

    if not Path(path).is_file():
        raise RunError(f"{path} not found; the run did not finish. Train it again.")
    import zipfile

    if not zipfile.is_zipfile(path):
        raise RunError(f"{path} is corrupted or truncated (not a .keras archive). Train the "
                       "run again.")
    try:
        return keras.saving.load_model(path, safe_mode=True)
    except Exception as e:  # Keras raises many kinds here
        if "safe_mode" in str(e) or "unsafe" in str(e).lower():
            raise RunError(f"{path} holds Python code (a Lambda layer or the like) that "
                           "Keras's safe_mode refuses to load; mlpkit never runs code from a "
                           "model file. Train the run again.") from None
        raise RunError(f"cannot load {path}: {' '.join(str(e).split())[:300]}") from None


def require(path: str | Path) -> Path:
    path = Path(path)
    if not (path / MANIFEST).is_file():
        raise RunError(f"{path} is not a run folder (no {MANIFEST}). "
                       "Pass a folder written by `mlpkit train`.")
    check_version(read_json(path / MANIFEST), path)
    return path


def check_version(manifest: dict, path: Path) -> None:
    """Refuse a run folder written by a newer mlpkit: it may hold what this one misreads."""
    from importlib.metadata import version

    from packaging.version import InvalidVersion, Version

    written = (manifest.get("versions") or {}).get("mlpkit") if isinstance(manifest, dict) \
        else None
    mine = version("mlpkit")
    try:
        newer = written is not None and Version(str(written)) > Version(mine)
    except InvalidVersion:
        newer = True  # not a version this mlpkit knows
    if newer:
        raise RunError(f"{path} was written by mlpkit {written}, newer than this one ({mine}). "
                       "Upgrade mlpkit to open it: pip install -U mlpkit")


def unfinished(path: Path, manifest: dict) -> str:
    """Why a run folder has no model, and what to do, in one line."""
    status = manifest.get("status")
    error = " ".join(str(manifest.get("error") or "").split())[:200]
    if status == "failed":
        return (f"{path} did not complete ({error or 'failed'}), so it has no model. Fix the "
                f"cause, then run the command again (the same --out is accepted when no epoch "
                f"finished) or resume it: mlpkit train --resume {path}")
    if status == "running":
        from mlpkit.checkpoints import holder

        pid = holder(path)
        if pid:
            return (f"{path} is still being trained (process {pid}), so it has no model yet. "
                    "Wait for it to finish.")
        return (f"{path} did not complete: its process ended without saying so (killed, or "
                f"the machine stopped), so it has no model. Resume it: mlpkit train --resume "
                f"{path}")
    return (f"{path} did not complete (status: {status}), so it has no finished model yet. "
            f"Resume it: mlpkit train --resume {path}")


class Run:
    """A run folder and, once loaded, its model, history and data.

    Made by ``mlpkit.train`` (everything in memory) or ``mlpkit.load_run(path)``
    (loaded from the folder on first use).
    """

    def __init__(self, path, model=None, dataset=None, history: dict | None = None):
        self.path = require(path) if model is None else Path(path)
        self._model = model
        self._dataset = dataset
        self._history = history

    def __repr__(self) -> str:
        return f"Run({str(self.path)!r}, status={self.manifest.get('status')!r})"

    @property
    def manifest(self) -> dict:
        return read_json(self.path / MANIFEST)

    @property
    def metrics(self) -> dict:
        return read_json(self.path / "metrics.json")

    @functools.cached_property
    def preprocessing(self) -> dict:
        """``preprocessing.json``, read once (it is written before training and never
        changes)."""
        return read_json(self.path / "preprocessing.json")

    @property
    def config(self):
        from mlpkit import config

        from mlpkit.data.dataset import family_of

        prep = self.preprocessing  # the presets' family, if the data has moved since
        return config.resolve(config_file=self.path / "config.toml",
                              family=family_of(prep.get("image"), prep["input_shape"]))

    @property
    def model(self):
        if self._model is None:
            manifest = self.manifest
            # an interrupt after model.keras was written, while the run was evaluated and
            # reported, leaves the model but no finished run: resume finishes it
            if manifest.get("status") != "completed":
                raise RunError(unfinished(self.path, manifest))
            self._model = load_model(self.path / "model.keras")
        return self._model

    @property
    def task(self) -> str:
        return self.preprocessing["labels"]["task"]

    @property
    def class_names(self) -> list[str] | None:
        return self.preprocessing["labels"].get("class_names")

    @property
    def history(self) -> dict[str, list[float]]:
        """Per-epoch metrics, as ``History.history`` (from history.csv when loaded)."""
        if self._history is None:
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
        """The run's data, split and encoded exactly as in training (from ``split.npz``
        and ``preprocessing.json``), after checking the files still hold what they held.

        Raises:
            RunError: the data changed since training.
        """
        if self._dataset is None:
            from mlpkit import data
            from mlpkit.config import DATASETS
            from mlpkit.data.split import Split

            split_file = self.path / "split.npz"
            if (self.path / "heldout.npz").is_file():
                self._dataset = _load_heldout(self.path / "heldout.npz", self.preprocessing,
                                              self.manifest.get("dataset", self.path.name))
                return self._dataset
            if not split_file.is_file():
                raise RunError(f"{split_file} not found; the run folder is incomplete.")
            stored = {"split": Split.load(split_file), "preprocessing": self.preprocessing}
            config = self.config
            name = config.data.name
            if name not in DATASETS and not Path(name).exists():
                raise RunError(f"this run's data, {name}, is not found (moved or deleted): "
                               "its test rows come from it. Put it back, or evaluate on "
                               f"another file: mlpkit evaluate {shlex.quote(str(self.path))} "
                               "--data FILE")
            ds = data.load_for(config, stored)
            recorded = self.manifest.get("data", {}).get("sha256", {})
            changed = [f"{name} (sha256 now {ds.source['sha256'].get(name, 'missing')[:12]}..., "
                       f"recorded {sha[:12]}...)" for name, sha in recorded.items()
                       if ds.source.get("sha256", {}).get(name) != sha]
            if changed:
                raise RunError(f"the data changed since this run was trained: "
                               f"{', '.join(changed)}. Restore it, or evaluate on other data "
                               f"explicitly: mlpkit evaluate {self.path} --data FILE")
            self._dataset = ds
        return self._dataset

    def evaluate(self, data=None) -> dict:
        """Test metrics (``test_loss``, ``test_accuracy`` or ``test_rmse``; with several
        regression targets, each one's ``test_rmse[name]`` too).

        Args:
            data: ``None`` for the run's own test set; a path (table, ``.npz``, image
                folder, encoded as in training; every row is scored) or a ``Dataset``
                (its test set) to evaluate on other data.
        """
        from mlpkit import evaluation

        if hasattr(data, "columns") or isinstance(data, (np.ndarray, list, dict)):
            raise DataError(f"evaluate takes a file path (a table, .npz or image folder) or a "
                            f"Dataset, not a {type(data).__name__}: save the rows with their "
                            "target column first, e.g. df.to_csv('rows.csv', index=False).")

        model = self.model  # an unfinished run says so before its data is looked for
        if data is None:
            ds = self.dataset
            x, y = ds.x_test, ds.y_test
        elif hasattr(data, "x_test"):
            x, y = data.x_test, data.y_test
            if self.preprocessing.get("image"):  # pixels of 0-255, as training scaled them
                from mlpkit.data.arrays import pixels_0_255

                if pixels_0_255(np.asarray(x)):
                    x = np.asarray(x, np.float32) / np.float32(255)
        else:
            x, y = self.encode(data)
        return evaluation.evaluate(model, x, y, self.preprocessing,
                                   target=self._target_if_unnamed(np.shape(y)), finite=True)

    def encode(self, path) -> tuple[np.ndarray, np.ndarray]:
        """Every row of another data file, encoded as in training: ``(x, y)``."""
        import dataclasses

        from mlpkit import data
        from mlpkit.data.assemble import encode_all

        from mlpkit.data.tables import SUFFIXES

        if not Path(path).exists():
            raise DataError(f"{path} not found. Check the path.")
        is_table = Path(path).suffix.lower() in SUFFIXES
        if is_table != bool(self.preprocessing.get("table")):
            trained = "a table" if self.preprocessing.get("table") else (
                "images" if self.preprocessing.get("image") else "arrays (.npz)")
            raise DataError(f"{path} is {'a table' if is_table else 'not a table'}; this run "
                            f"was trained on {trained}. Evaluate it on data of that kind, "
                            "with the same columns or shape.")
        config = self.config
        # no weights: the figures are unweighted (a file without the column will do)
        d = dataclasses.replace(config.data, name=str(path), validation_data=None,
                                sample_weight=None)
        source = data.read(str(path), d, evaluation=True)
        for line in source.notes:  # files skipped, a delimiter other than a comma, ...
            log.info(line)
        if is_table:  # what predict says row by row, said once for the file
            said = [n for part in source.parts.values()
                    for row in self.table_encoder.unseen(part.x) for n in row]
            if said:
                shown = list(dict.fromkeys(said))
                log.info(f"{Path(path).name}: {len(said)} values not taken as they are: "
                         + "; ".join(shown[:3]) + ("; ..." if len(shown) > 3 else ""))
        return encode_all(source, self.preprocessing)

    @functools.cached_property
    def table_encoder(self):
        """The ``TableEncoder`` fitted on the training rows (from ``preprocessing.json``)."""
        from mlpkit.data.columns import TableEncoder

        table = self.preprocessing.get("table")
        if not table:
            raise ModelError(f"{self.path} was not trained on a table; pass an array.")
        return TableEncoder.from_spec(table)

    def encode_rows(self, frame) -> np.ndarray:
        """Raw table rows (a DataFrame) as the model's input, encoded as in training."""
        return self.table_encoder.transform(frame)

    def image_input(self, path, stack: bool = False) -> tuple[np.ndarray, list[str]]:
        """A PNG/JPEG or ``.npy`` file as the model's input, converted as the training
        images were; returns ``(array, notes)``. ``stack``: a batch, as
        ``images.load_for_model`` gives it (a ``.npy`` file may hold several images)."""
        from mlpkit.data.images import load_for_model

        image = self.preprocessing.get("image")
        if not image:
            raise DataError(f"{self.path} was not trained on images; it takes "
                            f"{self.preprocessing['input_shape']}-shaped rows.")
        return load_for_model(path, image, stack=stack)

    def records(self, outputs) -> list[dict]:
        """Model outputs as ``{"prediction", "probability"?, "predictions"?}`` records (the
        last: several regression targets, by name), the shape ``mlpkit predict --json``
        prints."""
        from mlpkit import inference

        return inference.records(outputs, self.preprocessing["labels"],
                                 self._target_if_unnamed(np.shape(outputs)))

    def target_names(self, count: int) -> list[str]:
        """The names of a regression model's ``count`` targets, in the order of its
        outputs (``labels.target_names``)."""
        from mlpkit.labels import target_names

        return target_names(self._target_if_unnamed((1, count)), count,
                            self.preprocessing["labels"])

    def _target_if_unnamed(self, shape) -> str | None:
        """The configured target columns ("price,rooms") for several regression targets
        of a run from before their names were saved in ``preprocessing.json``; else
        ``None`` (the config is read only then, once)."""
        labels = self.preprocessing["labels"]
        if (labels["task"] != "regression" or len(shape) != 2 or shape[1] < 2
                or labels.get("target_names")):
            return None
        return self._configured_target

    @functools.cached_property
    def _configured_target(self) -> str | None:
        return self.config.data.target

    def predict(self, x) -> np.ndarray:
        """Class probabilities (classification) or values (regression) for ``x``.

        For a run trained on a table, ``x`` may be a DataFrame of raw rows, a list of
        rows as dicts, or one row as a dict (``{"area": 96, "city": "Lyon"}``): the
        columns are encoded as in training (category codes, missing values).
        """
        from mlpkit import inference

        if isinstance(x, dict) or (isinstance(x, (list, tuple)) and x
                                   and all(isinstance(r, dict) for r in x)):
            if not self.preprocessing.get("table"):
                raise DataError("rows as dicts are for a model trained on a table; this "
                                f"one takes arrays of shape {self.preprocessing['input_shape']}.")
            import pandas as pd

            x = pd.DataFrame([x] if isinstance(x, dict) else list(x))
        elif isinstance(x, (list, tuple)) and not x:  # no rows: no predictions, of any model
            x = np.zeros((0, *self.preprocessing["input_shape"]), np.float32)
        paths = [x] if isinstance(x, (str, os.PathLike)) else list(x) if (
            isinstance(x, (list, tuple)) and x
            and all(isinstance(v, (str, os.PathLike)) for v in x)) else []
        if paths:
            raise DataError(f"run.predict takes arrays or rows, not paths ({str(paths[0])[:100]}"
                            f"{', ...' if len(paths) > 1 else ''}); for files use "
                            "run.predict_files(paths) (or mlpkit predict).")
        if type(x).__module__.startswith("PIL."):
            raise DataError("run.predict takes arrays, not a PIL image: pass "
                            "run.predict_files([path]) to have it converted as in training "
                            "(size, color), or np.asarray(image) already converted.")
        if hasattr(x, "columns"):
            frame, x = x, self.encode_rows(x)
            said = [(i, n) for i, row in enumerate(self.table_encoder.unseen(frame))
                    for n in row]  # what the CLI and the server say on each row
            for i, note in said[:5]:
                log.warning(f"row {i + 1}: {note}")
            if len(said) > 5:
                log.warning(f"... and {len(said) - 5} more such notes "
                            "(run.predict_files gives each row's)")
        elif self.preprocessing.get("table"):
            x = _numbers(x, "a table model takes a DataFrame of raw rows (or dicts); an "
                            "array must hold the encoded features")
        else:
            whole = not np.issubdtype(np.asarray(x).dtype, np.floating)
            x = _numbers(x, "pass numbers")
            if self.preprocessing.get("image"):  # as `mlpkit predict` takes a .npy's pixels
                from mlpkit.data.images import scaled_pixels

                x, scaled = scaled_pixels(x, "the input", whole)
                if scaled:
                    log.info("images scaled 0-255 to 0-1, as in training")
                shape = tuple(self.preprocessing["input_shape"])
                size = int(np.prod(shape))  # one image, or rows of flat ones, as predict takes
                if x.shape in (shape, (size,)) or (x.ndim == 2 and x.shape[1] == size != shape[-1]):
                    x = x.reshape((-1, *shape))
        return inference.predict(self.model, x)

    def predict_labels(self, x) -> list:
        """Class names (classification), label lists (multilabel) or values, one per row."""
        from mlpkit import inference

        return inference.labels_of(self.predict(x), self.preprocessing["labels"])

    def predict_classes(self, x) -> list:
        """The most probable class for each instance (argmax, as the lecture): its name,
        or its label as written in training (an integer label stays an integer)."""
        if not self.class_names:
            raise RunError(f"{self.path} holds a regression model; use predict().")
        return self.predict_labels(x)

    def predictions_csv(self, records: list[dict], id_column: str | None = None) -> str:
        """``predict_files``'s records as CSV text, a row each: the ``id_column``'s value
        under its name (a Kaggle submission's first two columns are then the id and the
        target), or the file and its row; the prediction under the target's name (for
        a table model; several regression targets: one column each, else
        "prediction"); then the probability (classification), a file's error where one
        has one, and the notes (empty where none)."""
        from mlpkit.training import rows_to_csv

        target = self._configured_target if self.preprocessing.get("table") else None
        name = target if target and "," not in target else "prediction"
        several = any("predictions" in r for r in records)  # regression targets, by name
        rows = []
        for r in records:
            row = ({id_column: r.get("id")} if id_column else
                   {"file": r["file"], **({"row": r["row"]} if "row" in r else {})})
            if "predictions" in r:
                row.update(r["predictions"])
            elif not several:  # (a row of several targets with no prediction: empty cells)
                shown = r["prediction"]
                row[name] = ("; ".join(map(str, shown)) if isinstance(shown, list)
                             else shown)  # a multilabel row's labels
            for key in ("probability", "error"):
                if key in r:
                    row[key] = r[key]
            for label, p in (r.get("probabilities") or {}).items():  # multilabel: each label's
                row[f"probability {label}"] = p
            row["notes"] = "; ".join(r.get("notes") or [])  # a column always: scripts read it
            rows.append(row)
        return rows_to_csv(rows, last=("notes",))  # last, whichever row brought the others

    def predict_files(self, paths, id_column: str | None = None) -> list[dict]:
        """Predictions for files (a path or a list of them): PNG/JPEG/.npy for image
        models, CSV/Parquet rows for table models. One record per image or row:
        ``{"file", "row"?, "id"?, "prediction", "probability"?, "predictions"? (several
        regression targets, named), "notes"}``, the shape ``mlpkit predict --json``
        prints. A folder, for an image model, stands for the images in it and its
        subfolders (by name). ``id_column``: a table's column whose value each record
        carries as ``"id"`` (a Kaggle submission's PassengerId)."""
        prep = self.preprocessing
        if id_column is not None and not prep.get("table"):
            raise DataError(f"id_column applies to a table model's rows; this model takes "
                            f"{'images' if prep.get('image') else 'arrays'}. Received: "
                            f"id_column={id_column!r}")
        if isinstance(paths, (str, os.PathLike)):  # one path, not its characters
            paths = [paths]
        paths, found_in = _expand_folders(paths, bool(prep.get("image")),
                                          bool(prep.get("table")))
        if prep.get("table"):
            from mlpkit.data.tables import read_table
            from mlpkit.labels import listing

            out = []
            for f in paths:
                frame = read_table(f, literal=[  # as written: the encoder reads "82,5"
                    c["name"] for c in self.table_encoder.columns if c.get("literal")])
                known = {c["name"] for c in self.table_encoder.columns}
                extra = [str(c) for c in frame.columns if str(c).strip() not in known]
                if extra:  # a target column, notes: as the server says it on each row
                    log.info(f"{Path(f).name}: columns not used in training ignored: "
                             f"{listing(extra)}")
                ids = None
                if id_column is not None:
                    if id_column not in frame.columns:
                        raise DataError(f"id column {id_column!r} not found in {Path(f).name}."
                                        f"{did_you_mean(id_column, frame.columns)} Columns: "
                                        f"{listing(frame.columns)}")
                    ids = [v.item() if hasattr(v, "item") else v
                           for v in frame[id_column].astype(object).where(
                               frame[id_column].notna(), None)]
                try:
                    encoded = self.encode_rows(frame)
                except DataError as e:  # which of the files
                    raise DataError(f"{Path(f).name}: {e}") from None
                unseen = self.table_encoder.unseen(frame)
                for i, record in enumerate(self.records(self.predict(encoded))):
                    out.append({"file": str(f), "row": i + 1,
                                **({"id": ids[i]} if ids is not None else {}), **record,
                                "notes": unseen[i]})
            return out
        if not prep.get("image"):  # feature vectors from an .npz: .npy files of rows
            out = []
            for f in paths:
                rows = _npy_rows(f, prep["input_shape"])
                for i, record in enumerate(self.records(self.predict(rows))):
                    out.append({"file": str(f), "row": i + 1, **record, "notes": []})
            return out
        from mlpkit.data.images import load_for_model

        # a .npy file may hold a stack of images: one record per image, with its row. A
        # file found in a folder that cannot be read gets a record with its error; a file
        # named on its own is refused.
        loaded = []
        for f in paths:
            try:
                loaded.append((f, *load_for_model(f, prep["image"], stack=True)))
            except DataError as e:
                if f not in found_in:
                    raise
                loaded.append((f, str(e), None))
        good = [images for _, images, notes in loaded if notes is not None]
        if not good:  # a folder of files none of which could be read
            said = "; ".join(f"{f}: {error}" for f, error, _ in loaded[:3])
            raise DataError(f"no prediction: none of the {len(loaded)} files could be read "
                            f"({said}{'; ...' if len(loaded) > 3 else ''}).")
        records = iter(self.records(self.predict(np.concatenate(good))))
        out = []
        for f, images, notes in loaded:
            if notes is None:  # images holds the error
                out.append({"file": str(f), "prediction": None, "error": images, "notes": []})
                continue
            out += [{"file": str(f), **({"row": i + 1} if len(images) > 1 else {}),
                     **next(records), "notes": notes} for i in range(len(images))]
        return out
