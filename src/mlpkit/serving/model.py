"""The served model: one run, loaded once in Keras's safe mode, warmed up, and
every kind of input it takes turned into model input as in training.

The server serves only the run it was started on: a request names a model only
to be checked against this one's name, never to load anything.
"""

from __future__ import annotations

import asyncio
import difflib
import io
import json
import math
import re
import tempfile
from pathlib import Path

import numpy as np

from mlpkit import Run, load_run
from mlpkit.errors import MlpkitError
from mlpkit.serving.batching import MicroBatcher
from mlpkit.serving.errors import ApiError
from mlpkit.serving.settings import ServeSettings

IMAGE_FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WEBP", "TIFF")  # what the server decodes
UPLOAD = "a PNG, JPEG, GIF, BMP, WebP or TIFF file"


def model_name(run: Run, name: str | None) -> str:
    """``name``, or the run folder's name made URL-safe."""
    return name or re.sub(r"[^A-Za-z0-9_.-]+", "-", run.path.resolve().name).strip("-.") or "model"


class ServedModel:
    """A run and what the server needs to answer for it.

    Args:
        run: a ``Run`` or the path of a run folder. Its model is loaded here, with
            ``safe_mode`` (a ``.keras`` file that would run code is refused).
        settings: limits and batching (``ServeSettings``).

    Raises:
        RunError: not a complete run folder, or a model that cannot be loaded safely.
    """

    def __init__(self, run, settings: ServeSettings):
        self.run = run if isinstance(run, Run) else load_run(run)
        self.settings = settings
        self.prep = self.run.preprocessing
        self.name = model_name(self.run, settings.name)
        self.labels = self.prep["labels"]
        self.task = self.labels["task"]
        self.class_names = self.labels.get("class_names")
        self.table = self.prep.get("table")
        self.image = self.prep.get("image")
        self.kind = "table" if self.table else "images" if self.image else "arrays"
        self.model = self.run.model  # loads now: a bad model fails before serving
        self.input_shape = tuple(int(d) for d in self.model.input_shape[1:])
        self.outputs = int(np.prod(self.model.output_shape[1:]))
        self.columns = table_columns(self.table) if self.table else None
        # every column training read, those it dropped (identifiers, constants) too:
        # sent again, they are expected, not noted as ignored
        self.trained_columns = {c["name"] for c in (self.table or {}).get("columns", [])}
        self.ready = False
        # every request's input is checked and encoded before it queues, so batches are
        # plain arrays for the model (not run.predict's checks of what a user passes)
        from functools import partial

        from mlpkit.inference import predict

        self.batcher = MicroBatcher(partial(predict, self.model), np.concatenate,
                                    settings.max_batch_rows,
                                    settings.batch_window_ms / 1000)

    # --- readiness ------------------------------------------------------------------

    def warm_up(self) -> None:
        """Compile every batch size a call can have (powers of two up to the limit),
        so that no request waits for a compilation."""
        size = 1
        while True:
            n = min(size, self.settings.max_batch_rows)
            self.run.predict(np.zeros((n, *self.input_shape), np.float32))
            if n >= self.settings.max_batch_rows:
                break
            size *= 2
        self.ready = True

    # --- predictions ----------------------------------------------------------------

    async def predict(self, payload, rows: int) -> np.ndarray:
        """Outputs for model input (a float32 array of ``rows`` rows), batched with
        other requests' rows."""
        if not self.ready:
            raise ApiError(503, "the model is still warming up; retry when "
                                "/v2/health/ready answers 200.")
        if rows > self.settings.max_batch_rows:
            raise ApiError(400, f"at most {self.settings.max_batch_rows} rows a request. "
                                f"Received: rows={rows}")
        return await self.batcher(payload, rows)

    def records(self, outputs: np.ndarray, probabilities: bool = False) -> list[dict]:
        """``mlpkit predict --json``'s records; with ``probabilities``, every class's
        probability as well (``{"probabilities": {class: p}}``)."""
        out = self.run.records(outputs)
        if probabilities and self.task in ("multiclass", "binary"):
            for record, row in zip(out, np.asarray(outputs, np.float64)):
                if "error" in record:  # no figure to give (and no NaN in JSON)
                    continue
                p = row if self.task == "multiclass" else [1.0 - row[0], row[0]]
                record["probabilities"] = {n: float(v) for n, v in zip(self.class_names, p)}
        return out

    # --- input checks and conversion --------------------------------------------------

    def array(self, values, what: str = "input") -> np.ndarray:
        """Rows of numbers of the model's input shape (nested or flat per row) as a
        float32 batch; refuses text, ragged rows, NaN and infinity."""
        try:
            arr = np.asarray(values)
        except (ValueError, TypeError, OverflowError, RecursionError):
            raise ApiError(400, f"{what} must be rows of numbers of shape "
                                f"{list(self.input_shape)} (ragged or mixed values received)."
                           ) from None
        if arr.dtype.kind not in "iuf":
            raise ApiError(400, f"{what} must hold numbers only. Received: values of "
                                f"type {arr.dtype}")
        n = len(arr) if arr.ndim else 0
        if n == 0 or (arr.shape[1:] != self.input_shape
                      and arr.shape[1:] != (math.prod(self.input_shape),)):
            raise ApiError(400, f"{what} must have shape [n, "
                                f"{', '.join(map(str, self.input_shape))}]. "
                                f"Received: shape={list(arr.shape)}")
        with np.errstate(over="ignore"):  # beyond float32: inf, refused by valid()
            x = arr.reshape(n, *self.input_shape).astype(np.float32)
        return self.valid(x, what)

    def valid(self, x: np.ndarray, what: str = "input") -> np.ndarray:
        """``x``, a batch of the model's input, once it holds finite numbers and (a table's
        encoded rows) a code of its vocabulary in each category column, the vocabulary's
        index or its size for "unknown"."""
        self.finite(x, what)
        if self.image and x.size and (x.min() < -1e-3 or x.max() > 1 + 1e-3):
            # the model learned pixels scaled to 0-1: 0-255 would give confident nonsense
            raise ApiError(400, f"{what} holds pixels from {x.min():g} to {x.max():g}; this "
                                "model takes pixels scaled to 0-1, as in training: divide by "
                                "255 (or send a UINT8 tensor of pixels 0-255).")
        if not self.table:
            return x
        encoder = self.run.table_encoder
        for column, codes in encoder.categorical().items():
            values = x[:, column]
            bad = np.flatnonzero((values != np.round(values)) | (values < 0) | (values >= codes))
            if bad.size:
                raise ApiError(400, f"{what}: column {column} ({encoder.features[column]!r}) "
                                    f"is a category code, a whole number from 0 to {codes - 1} "
                                    f"({codes - 1}: unknown). Received: {values[bad[0]]:g} in "
                                    f"row {bad[0] + 1}. Or send raw rows: "
                                    '{"rows": [{"column": value, ...}]} to /predict.')
        return x

    @staticmethod
    def finite(x: np.ndarray, what: str = "input") -> np.ndarray:
        if x.dtype.kind == "f" and not np.isfinite(x).all():
            raise ApiError(400, f"{what} holds NaN or infinite values, or numbers beyond "
                                "float32's range (about 3.4e38), which the model computes in; "
                                "send finite numbers within it.")
        return x

    def table_rows(self, rows: list) -> tuple[np.ndarray, list[list[str]]]:
        """Raw table rows (one object a row, column -> value) encoded as in training:
        each row must name every training column, with a number, text, true/false or
        ``null`` (a missing value, replaced as in training). A number column's text is
        read as ``mlpkit predict`` reads it in a CSV ("$46,552", "?"). Returns the model input
        and each row's notes (ignored columns, categories never seen in training)."""
        import pandas as pd

        names = [c["name"] for c in self.columns]
        kinds = {c["name"]: c for c in self.columns}
        notes = []
        for i, row in enumerate(rows, 1):
            if not isinstance(row, dict):
                raise ApiError(400, f"row {i} must be an object of column values, e.g. "
                                    f"{{{names[0]!r}: ...}}. Received: {type(row).__name__}")
            if any(isinstance(k, str) and k != k.strip() for k in row):  # as CSV headers
                row = rows[i - 1] = {k.strip() if isinstance(k, str) else k: v
                                     for k, v in row.items()}
            missing = [c for c in names if c not in row]
            if missing:
                others = [str(k) for k in row if k not in kinds]
                sent = ([k for k in others if k.lower() == missing[0].lower()]  # "ZIP"
                        or difflib.get_close_matches(missing[0], others, n=1))
                hint = (f" {sent[0]!r} was sent: is it {missing[0]!r}? Names are "
                        "case-sensitive." if sent else "")
                raise ApiError(400, f"row {i} lacks the columns {missing[:20]} (send null for "
                                    f"a missing value).{hint} Received: columns="
                                    f"{list(row)[:20]}"[:500])
            note = []
            extra = [c for c in row if c not in kinds and c not in self.trained_columns]
            if extra:
                note.append(f"ignored columns not used in training: {extra[:10]}"[:300])
            for c in names:
                v, col = row[c], kinds[c]
                if v is None:
                    continue
                if isinstance(v, (int, float)) and not _finite_number(v):  # 1e400: inf
                    what = ("NaN" if isinstance(v, float) and math.isnan(v) else
                            "an infinite number or one too large for a float")
                    raise ApiError(400, f"row {i}: column {c!r} holds {what}; send a finite "
                                        "number, or null for a missing value. Received: "
                                        f"{_sent(c, v)}")
                if not isinstance(v, (str, int, float)):
                    raise ApiError(400, f"row {i}: column {c!r} takes a number, text, true/false "
                                        f"or null. Received: {_sent(c, v)}")
                if col["type"] == "number" and isinstance(v, bool):
                    raise ApiError(400, f"row {i}: column {c!r} takes a number or null. "
                                        f"Received: {_sent(c, v)}")
            notes.append(note)

        def column(c):  # numbers as float64; text ("$46,552", "?") parsed as from a CSV
            values = [r[c] for r in rows]
            numbers = kinds[c]["type"] == "number" and not any(isinstance(v, str)
                                                                 for v in values)
            return pd.Series(values, dtype="float64" if numbers else "object")

        frame = pd.DataFrame({c: column(c) for c in names})
        try:
            x = self.run.encode_rows(frame)
        except MlpkitError as e:
            raise ApiError(400, str(e)) from None
        # values never seen in training, noted as `mlpkit predict` notes them
        notes = [note + more for note, more in zip(notes, self.run.table_encoder.unseen(frame))]
        return self.finite(np.asarray(x, np.float32)), notes

    def decode_image(self, data: bytes, filename: str,
                     stack: bool = False) -> tuple[np.ndarray, list[str]]:
        """An uploaded PNG/JPEG (or ``.npy``) as a batch of the model's input, converted
        as in training (size, color, inversion of light backgrounds): one image, or with
        ``stack`` every image of a ``.npy`` stack, as ``mlpkit predict`` takes it."""
        from PIL import Image, UnidentifiedImageError

        if not self.image:
            raise ApiError(400, f"model {self.name!r} takes "
                                f"{'table rows' if self.table else 'arrays'}, not image files; "
                                'send JSON: {"rows": [...]}.')
        suffix = ".npy" if filename.lower().endswith(".npy") else ".img"
        if suffix != ".npy":
            try:
                with Image.open(io.BytesIO(data), formats=IMAGE_FORMATS) as img:
                    w, h = img.size
            except Image.DecompressionBombError:  # PIL refuses to open it at all
                raise ApiError(413, f"{filename!r} has more pixels than the limit of "
                                    f"{self.settings.max_image_pixels}; send a smaller "
                                    "image.") from None
            except (UnidentifiedImageError, OSError, ValueError):
                raise ApiError(400, f"{filename!r} is not a readable image; upload "
                                    f"{UPLOAD} (or a .npy array).") from None
            if w * h > self.settings.max_image_pixels:
                raise ApiError(413, f"{filename!r} has {w}x{h} pixels, over the limit of "
                                    f"{self.settings.max_image_pixels}; send a smaller image.")
        with tempfile.TemporaryDirectory(prefix="mlpkit-upload-") as folder:
            path = Path(folder) / f"upload{suffix}"
            path.write_bytes(data)
            try:
                arr, notes = self.run.image_input(path, stack=True)
            except MlpkitError as e:
                raise ApiError(400, str(e).replace(str(path), repr(filename))) from None
            except Exception as e:  # what a crafted file can make PIL raise
                raise ApiError(400, f"{filename!r} cannot be read as an image "
                                    f"({type(e).__name__}); upload {UPLOAD}.") from None
        if len(arr) > 1 and not stack:
            raise ApiError(400, f"{filename!r} holds {len(arr)} images; send one here (or "
                                "the stack as a file to POST /predict).")
        return self.finite(arr.astype(np.float32), filename), notes

    async def decode_image_async(self, data: bytes, filename: str, stack: bool = False):
        return await asyncio.to_thread(self.decode_image, data, filename, stack)

    def describe(self) -> dict:
        """What the page needs: the kind of input, the classes, the table's columns,
        several regression targets' names."""
        out = {"name": self.name, "kind": self.kind, "task": self.task,
               "class_names": self.class_names, "input_shape": list(self.input_shape),
               "image": self.image, "ready": self.ready,
               "max_batch_rows": self.settings.max_batch_rows,
               "report": (self.run.path / "report.html").is_file()}
        try:
            out["metrics"] = self.run.metrics
        except Exception:  # an incomplete run folder still serves
            out["metrics"] = None
        if self.columns:
            out["columns"] = self.columns
        if self.task == "regression" and self.outputs > 1:  # in the order of "prediction"
            out["target_names"] = self.run.target_names(self.outputs)
        return out


def _sent(column: str, value) -> str:
    """A row's value as the client sent it, in JSON, for a message."""
    return json.dumps({column: value}, default=str)[:200]


def _finite_number(v) -> bool:
    try:
        return math.isfinite(float(v))
    except OverflowError:  # an integer too large for a float
        return False


def _median_date(medians: dict) -> str:
    """The training medians of a date column's year, month, day (and hour), each rounded
    half up, as one ISO date (``2019-06-15``, ``2019-06-15T13:00``), the day kept within
    its month: where the page's date field starts."""
    import calendar

    def part(name, low, high, default):
        return min(max(math.floor(medians.get(name, default) + 0.5), low), high)

    year, month = part("year", 1, 9999, 2000), part("month", 1, 12, 1)
    day = part("day", 1, calendar.monthrange(year, month)[1], 1)
    text = f"{year:04d}-{month:02d}-{day:02d}"
    if "hour" in medians or "minute" in medians:
        text += f"T{part('hour', 0, 23, 0):02d}:{part('minute', 0, 59, 0):02d}"
    return text


def table_columns(table: dict) -> list[dict]:
    """The raw columns a table model takes, from its encoder spec: ``{"name", "type",
    ...}`` with ``median``/``min``/``max`` (numbers), ``categories`` (category, text),
    ``values`` (boolean: what to send, yes then no, as the training rows wrote them) or ``median`` and ``time`` (datetime: the median
    day, ISO, and whether the training dates had times).
    Reads both spec layouts: ``{"columns": [...]}`` and the earlier
    ``{"features", "numeric", "vocab", "medians"}``."""
    out = []
    if "columns" in table:
        for c in table["columns"]:
            kind = c["kind"]
            if kind in ("identifier", "constant", "empty", "drop"):
                continue
            col = {"name": c["name"], "type": kind}
            if kind == "number":
                col.update(median=c.get("median"), min=c.get("min"), max=c.get("max"))
            elif kind in ("category", "text"):
                col.update(categories=c["vocab"])
            elif kind == "boolean":  # as the training rows wrote them (a run before: true)
                col.update(values=list(c.get("words", ["true", "false"])))
            elif kind == "datetime":  # the training medians as a day (and hour)
                col.update(time=bool({"hour", "minute"} & set(c["parts"])),
                           median=_median_date(c["medians"]))
            out.append(col)
        return out
    ranges = table.get("ranges", {})
    for name in table["features"]:
        if name in table["medians"]:
            lo, hi = ranges.get(name, [None, None])
            out.append({"name": name, "type": "number", "median": table["medians"][name],
                        "min": lo, "max": hi})
        else:
            vocab = table["vocab"][name]
            out.append({"name": name, "type": "category", "categories": vocab})
    return out
