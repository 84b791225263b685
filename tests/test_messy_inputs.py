"""A catalogue of messy but ordinary inputs: each one either trains correctly and says
what mlpkit did (a note), or stops with one line (an ``MlpkitError``: exit status 2
on the command line) and leaves no run folder. None is silently wrong.

Most cases run in-process (``mlpkit.train``) to stay quick; a few go through the
real command line to pin the exit status and the one-line message.
"""

import csv as csv_module
import json
import re
import subprocess
import sys
import unicodedata

import keras
import numpy as np
import pandas as pd
import pytest
from PIL import Image

import mlpkit
from mlpkit.errors import MlpkitError

from conftest import run_cli

RNG = np.random.default_rng(0)
N = 120


def base(n=N, seed=0):
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    return pd.DataFrame({"x1": x1, "x2": rng.normal(size=n),
                         "label": np.where(x1 > 0, "yes", "no")})


def columns_of(run_folder) -> dict:
    """A table run's fitted columns by name, as preprocessing.json keeps them."""
    spec = json.loads((run_folder / "preprocessing.json").read_text())["table"]
    return {c["name"]: c for c in spec["columns"]}


def csv(tmp, df, name="t.csv", **kw):
    path = tmp / name
    df.to_csv(path, index=False, **kw)
    return path


def with_column(name, values):
    def make(tmp):
        df = base()
        df.insert(0, name, values)
        return csv(tmp, df)
    return make


def text_file(content, name="t.csv", mode="w"):
    def make(tmp):
        path = tmp / name
        if mode == "w":
            path.write_text(content)
        else:
            path.write_bytes(content)
        return path
    return make


def npz(**arrays):
    def make(tmp):
        path = tmp / "d.npz"
        np.savez(path, **arrays)
        return path
    return make


def folder(mode="L", per_class=8, classes=("a", "b"), empty=(), nested=False, alpha=False,
           bad=False, unreadable=()):
    def make(tmp):
        root = tmp / "imgs"
        for c, name in enumerate(classes):
            sub = root / name / ("deeper" if nested and c == 0 else "")
            sub.mkdir(parents=True)
            for i in range(per_class):
                level = 40 if c == 0 else 200
                if mode == "I;16":
                    arr = np.full((12, 12), level * 257, np.uint16)
                    Image.fromarray(arr).save(sub / f"{i}.png")
                elif alpha:
                    arr = np.zeros((12, 12, 4), np.uint8)
                    arr[..., :3], arr[..., 3] = level, 128
                    Image.fromarray(arr, "RGBA").save(sub / f"{i}.png")
                elif mode == "P":
                    Image.fromarray(np.full((12, 12, 3), level, np.uint8)).convert(
                        "P", palette=Image.Palette.ADAPTIVE).save(sub / f"{i}.png")
                elif name in unreadable:
                    (sub / f"{i}.png").write_bytes(b"not an image")
                else:
                    Image.fromarray(np.full((12, 12), level, np.uint8)).save(sub / f"{i}.png")
        for name in empty:
            (root / name).mkdir()
        if bad:
            (root / classes[0] / "broken.png").write_bytes(b"not an image")
        return root
    return make


TRAINS = [
    # (id, make input, extra settings, a note that must be said, check on the run)
    ("thousands-separators", with_column("price", [f"{v:,.1f}" for v in
                                                   RNG.uniform(1000, 9000, N)]),
     {}, "thousands separators removed", lambda r: kind(r, "price") == "number"),
    ("placeholders", with_column("age", ["?" if i % 10 == 0 else str(20 + i % 50)
                                         for i in range(N)]),
     {}, "placeholders as missing", lambda r: kind(r, "age") == "number"),
    ("identifier", with_column("customer_id", np.arange(N) + 1000), {},
     "dropped: identifier", lambda r: "customer_id" not in features(r)),
    # a row number under any name, seen through the default shuffled split (gaps in it)
    ("row-number", with_column("Kunde", np.arange(N)), {},
     "dropped: identifier", lambda r: "Kunde" not in features(r)),
    ("years-kept", with_column("year", 1900 + np.arange(N)), {}, None,  # no row number
     lambda r: kind(r, "year") == "number"),
    ("text-identifier", with_column("code", [f"K{i:05d}x" for i in range(N)]), {},
     "dropped: identifier", lambda r: "code" not in features(r)),
    ("dates", with_column("when", pd.date_range("2024-01-01", periods=N, freq="7h")
                          .astype(str)), {}, None,
     lambda r: kind(r, "when") == "datetime" and "when.hour" in features(r)),
    ("free-text", with_column("notes", [f"item {i % 80} was {'red' if i % 2 else 'blue'} and "
                                        "big" for i in range(N)]), {}, None,
     lambda r: kind(r, "notes") == "text"),
    ("free-text-never-twice", with_column("notes", [f"item {i} was here" for i in range(N)]),
     {}, "column 'notes' dropped: identifier (free text (4.0 words a value on average) of "
     "which no value comes twice)", lambda r: "notes" not in features(r)),
    ("yes-no-written-many-ways", with_column("flag", np.array(
        ["yes", "no", "1", "0", "TRUE", "FALSE", "Y", "N"])[np.arange(N) % 8]), {},
     "yes/no written 8 ways", lambda r: kind(r, "flag") == "boolean"),
    ("constant", with_column("site", ["paris"] * N), {}, "dropped: constant",
     lambda r: "site" not in features(r)),
    ("empty-column", with_column("blank", [np.nan] * N), {}, "dropped: empty",
     lambda r: "blank" not in features(r)),
    ("booleans", with_column("member", RNG.choice(["Yes", "No"], N)), {}, None,
     lambda r: kind(r, "member") == "boolean"),
    ("boolean-forced-on-0/1", with_column("flag", RNG.choice([0, 1], N)),
     {"column_types": "flag=boolean"}, None, lambda r: kind(r, "flag") == "boolean"),
    ("infinite-feature", with_column("ratio", np.where(np.arange(N) % 15 == 0, np.inf,
                                                       RNG.normal(size=N))), {},
     "infinite values or values beyond float32's range as missing",
     lambda r: kind(r, "ratio") == "number"),
    ("many-categories", with_column("city", [f"city{i % 90}" for i in range(N)]),
     {"column_types": "city=category"}, "most frequent kept",
     lambda r: kind(r, "city") == "category"),
    ("float-0-1-target", lambda tmp: csv(tmp, base().assign(
        label=(base().x1 > 0).astype(float))), {}, "task: binary",
     lambda r: r.task == "binary"),
    ("semicolons", lambda tmp: csv(tmp, base(), sep=";"), {}, "semicolons (sniffed)",
     lambda r: r.task == "binary"),
    ("decimal-commas", lambda tmp: csv(tmp, base().assign(x2=base().x2.round(2)), sep=";",
                                       decimal=","), {}, "decimal commas (82,5) read as numbers",
     lambda r: kind(r, "x1") == kind(r, "x2") == "number"
     and abs(r.dataset.x_train[:, 1]).max() < 10),
    ("spaces-after-commas", text_file("x1, x2, label\n" + "".join(
        f"{i / 10}, {i % 3}, {'yes' if i % 2 else 'no'}\n" for i in range(N))), {},
     "spaces around column names removed", lambda r: r.task == "binary"),
    ("target-with-separators", lambda tmp: csv(tmp, base().assign(
        label=[f"{v:,.0f}" for v in RNG.uniform(1000, 90000, N)])), {},
     "target 'label' read as numbers", lambda r: r.task == "regression"),
    ("target-in-dollars", lambda tmp: csv(tmp, base().assign(
        label=[f"${v:,.0f}" for v in RNG.uniform(100_000, 900_000, N)])), {},
     "currency or percent signs removed", lambda r: r.task == "regression"),
    ("percent-feature", with_column("rate", [f"{v:.1f}%" for v in RNG.uniform(0, 30, N)]),
     {}, "currency or percent signs removed", lambda r: kind(r, "rate") == "number"),
    ("columns-and-drop", with_column("id", np.arange(N)), {"columns": "x1,x2", "drop": "id"},
     None, lambda r: r.preprocessing["input_shape"] == [2]),
    ("balanced-class-weights", lambda tmp: csv(tmp, base().assign(
        label=np.where(np.arange(N) % 4 == 0, "yes", "no"))), {"class_weight": "balanced"},
     "class weights: no 0.66", lambda r: True),
    ("target-as-a-list", lambda tmp: csv(tmp, base().assign(
        y2=RNG.normal(size=N), label=RNG.normal(size=N))), {"target": ["label", "y2"]}, None,
     lambda r: r.config.data.target == "label,y2" and r.dataset.outputs == 2),
    ("two-numeric-targets", lambda tmp: csv(tmp, base().assign(
        y2=RNG.normal(size=N), label=RNG.normal(size=N))), {"target": "label,y2"}, None,
     lambda r: r.task == "regression" and [l for l in r.model.layers if isinstance(l, keras.layers.Dense)][-1].units == 2),
    ("drop-option", lambda tmp: csv(tmp, base()), {"drop": "x2"}, None,
     lambda r: features(r) == ["x1"]),
    ("columns-option", lambda tmp: csv(tmp, base()), {"columns": "x2"}, None,
     lambda r: features(r) == ["x2"]),
    ("forced-category", with_column("zip", RNG.choice([75001, 69002, 13003], N)),
     {"column_types": "zip=category"}, None, lambda r: kind(r, "zip") == "category"),
    ("npz-nan-features", npz(x_train=np.where(RNG.random((N, 3)) < 0.05, np.nan,
                                              RNG.random((N, 3))),
                             y_train=np.arange(N) % 2), {}, "non-finite values",
     lambda r: np.isfinite(r.dataset.x_train).all()),
    ("16-bit-images", folder("I;16"), {}, "16-bit scaled",
     lambda r: 0.1 < r.dataset.x_train.max() <= 1.0),
    ("transparent-images", folder(alpha=True), {}, "transparency composited on white",
     lambda r: r.dataset.x_train.max() <= 1.0),
    ("empty-class-folder", folder(classes=("a", "b"), empty=("c",)), {},
     "empty class folders ignored: c", lambda r: r.class_names == ["a", "b"]),
    ("palette-images", folder("P"), {}, "images converted P (palette) to grayscale",
     lambda r: abs(r.dataset.x_train.max() - 200 / 255) < 0.02),
    ("class-folder-of-unreadable-files", folder(classes=("a", "b", "c"), unreadable=("c",)),
     {}, "class folders without a readable image ignored: c",
     lambda r: r.class_names == ["a", "b"]),
    ("decomposed-unicode-class-names", folder(classes=(unicodedata.normalize("NFD", "café"),
                                                       "thé")), {}, None,
     lambda r: r.class_names == [unicodedata.normalize("NFC", "café"), "thé"]),
    ("target-typos-far-from-the-rest", lambda tmp: csv(tmp, base().assign(
        label=np.where(np.isin(np.arange(N), [4, 60]), 5e9, RNG.uniform(1e5, 7e5, N)))), {},
     "target 'label': 2 values more than 50 median absolute deviations from the median",
     lambda r: "lines 6: 5e+09, 62: 5e+09" in " ".join(r.manifest["notes"])),
    ("labels-with-spaces-and-case", lambda tmp: csv(tmp, base().assign(
        label=np.array(["yes ", "yes", " no", "no", "YES"])[np.arange(N) % 5])), {},
     "labels that differ only in case are separate classes (YES / yes)",
     lambda r: sorted(r.class_names) == ["YES", "no", "yes"]),
    ("empty-rows-at-the-end", text_file("x1,x2,label\n" + "".join(
        f"{i % 7},{i % 3},{'yes' if i % 7 > 3 else 'no'}\n" for i in range(N)) + ",,\n,,\n"),
     {}, "t.csv: 2 empty rows at the end skipped", lambda r: sum(r.dataset.sizes.values()) == N),
    ("a-class-the-split-leaves-out-of-training", lambda tmp: csv(tmp, base().assign(
        label=np.where(np.arange(N) == N - 1, "rare", base()["label"]))),
     {"split_order": "keep"}, "task: multiclass (3 text labels; 2 of them in the training "
     "rows, the model's classes (not ['rare'])); --task changes it",
     lambda r: sorted(r.class_names) == ["no", "yes"]),
    ("a-class-of-one-row", lambda tmp: csv(tmp, base().assign(
        label=np.where(np.arange(N) == 7, "rare", base()["label"]))), {},
     "stratified by class, shuffled with seed 42 (1 class of one row kept for training)",
     lambda r: sorted(r.class_names) == ["no", "rare", "yes"]),
    ("french-amounts", lambda tmp: csv(tmp, base().assign(montant=[
        f"{v:,.2f}".replace(",", "\u202f").replace(".", ",") for v in RNG.uniform(0, 9e4, N)]),
        sep=";"), {}, "numbers with decimal commas (82,5) read as numbers",
     lambda r: kind(r, "montant") == "number"),
    ("float-pixels-0-255", npz(x_train=np.round(RNG.uniform(0, 255, (N, 8, 8))).astype(
        "float32"), y_train=np.arange(N) % 2), {}, "pixels of 0-255 divided by 255 (x_train "
     "holds 0 to 255), as the lecture scales them", lambda r: r.dataset.x_train.max() <= 1),
    ("arrays-like-pixels-not-images", npz(x_train=np.round(RNG.uniform(0, 255, (N, 8, 8, 1)))
                                          .astype("float32"), y_train=np.arange(N) % 2), {},
     "x_train holds 0 to 255, like pixels of 0-255, left as they are",
     lambda r: r.dataset.x_train.max() > 1),  # predict takes such arrays as they are
    ("nested-folders", folder(nested=True), {}, "subfolders",
     lambda r: r.dataset.sizes["train"] > 0),
    ("unreadable-image", folder(bad=True), {}, "unreadable files skipped",
     lambda r: r.class_names == ["a", "b"]),
]

REFUSED = [
    # (id, make input, extra settings, words of the one-line message)
    ("nan-target", lambda tmp: csv(tmp, base().assign(label=np.where(
        np.arange(N) == 3, np.nan, 1.5 * np.arange(N)))), {}, "missing, not numbers, non-finite"),
    ("inf-target", lambda tmp: csv(tmp, base().assign(label=np.where(
        np.arange(N) == 3, np.inf, 1.5 * np.arange(N)))), {}, "missing, not numbers, non-finite"),
    ("two-text-targets", lambda tmp: csv(tmp, base().assign(y2="a")), {"target": "label,y2"},
     "several target columns"),
    ("one-class", lambda tmp: csv(tmp, base().assign(label="yes")), {}, "one class only"),
    ("text-labels-all-distinct", lambda tmp: csv(tmp, base().assign(
        label=[f"item {i}" for i in range(N)])), {}, "too many to be classes"),
    ("classes-too-rare-to-score", lambda tmp: csv(tmp, base().assign(
        label=[f"item {i}" for i in range(N)])), {"task": "multiclass"},
     "classes are too rare to learn and to score"),
    ("regression-on-text", lambda tmp: csv(tmp, base()), {"task": "regression"},
     "the task is regression"),
    ("multilabel-on-single", lambda tmp: csv(tmp, base()), {"task": "multilabel"},
     "multilabel needs a 0/1 matrix"),
    ("binary-with-three", lambda tmp: csv(tmp, base().assign(
        label=np.arange(N) % 3)), {"task": "binary"}, "exactly two classes"),
    ("drop-unknown", lambda tmp: csv(tmp, base()), {"drop": "nope"},
     "drop names columns that are not features"),
    ("text-sample-weights", lambda tmp: csv(tmp, base().assign(
        w=np.where(np.arange(N) == 4, "heavy", "1"))), {"sample_weight": "w"},
     "must hold numbers >= 0 on every row; lines [6] hold ['heavy']"),
    ("zero-sample-weights", lambda tmp: csv(tmp, base().assign(w=0.0)), {"sample_weight": "w"},
     "is 0 on every row"),
    ("target-as-sample-weights", lambda tmp: csv(tmp, base().assign(label=np.arange(N) % 2)),
     {"sample_weight": "label"}, "sample_weight names 'label', the target"),
    ("missing-target-in-parquet", lambda tmp: parquet(tmp, base().assign(
        label=lambda d: d.label.where(np.arange(N) != 4, None))), {"target": "label"},
     "(rows [5]: empty); fill or drop"),
    ("negative-class-weight", lambda tmp: csv(tmp, base()), {"class_weight": "yes:-1"},
     "class_weight 'yes' must be a number >= 0"),
    ("binary-on-fractions", lambda tmp: csv(tmp, base().assign(label=RNG.normal(size=N))),
     {"task": "binary"}, "Use --task regression (they are numbers with fractions)"),
    ("split-leaves-one-class", lambda tmp: csv(tmp, base().assign(
        label=np.where(np.arange(N) < 3, "rare", "common"))), {"test_split": 0.97},
     "training rows the split leaves hold one class only (['common']) of the 2 in t.csv; "
     "lower --test-split (now 0.97) or --validation-split (now 0.2), or give more rows."),
    ("sorted-rows-kept-in-order", lambda tmp: csv(tmp, base().assign(
        label=np.where(np.arange(N) < 80, "a", "b"))), {"split_order": "keep"},
     "hold one class only (['a']) of the 2 in t.csv; the rows are in order and --split-order "
     "keep takes the last ones out: use --split-order shuffle."),
    ("image-options-on-table", lambda tmp: csv(tmp, base()), {"image_size": "8x8"},
     "image_size applies to image folders; "),
    ("color-on-table", lambda tmp: csv(tmp, base()), {"color": "rgb"},
     "color applies to image folders; "),
    ("table-options-on-npz", npz(x_train=RNG.random((N, 3)), y_train=np.arange(N) % 2),
     {"sample_weight": "w"}, "sample_weight applies to tables (CSV/Parquet)"),
    ("target-of-wrong-type", lambda tmp: csv(tmp, base()), {"target": 5},
     "target must be a column name or a list of them"),
    ("bad-column-type", lambda tmp: csv(tmp, base()), {"column_types": "x1=colour"},
     "column_types must map columns"),
    ("boolean-on-words", with_column("city", RNG.choice(["Lyon", "Nice", "Paris"], N)),
     {"column_types": "city=boolean"}, "'city' was set to boolean but holds values that are "
     "not yes/no"),
    ("only-identifiers", lambda tmp: csv(tmp, pd.DataFrame({
        "id": np.arange(N), "label": np.arange(N) % 2})), {}, "no usable feature column"),
    ("repeated-column-names", text_file("score,score,label\n" + "1,2,yes\n3,4,no\n" * 60), {},
     "has repeated column names: ['score']; rename them."),
    ("target-in-another-case", lambda tmp: csv(tmp, base()), {"target": "Label"},
     "target column 'Label' not found in t.csv. Did you mean 'label'?"),
    ("regression-on-text-said-plainly", lambda tmp: csv(tmp, base()), {"task": "regression"},
     "hold text (e.g. ['"),
    ("utf-16-table", text_file("x1,x2,label\n1,2,yes\n".encode("utf-16"), mode="b"), {},
     "t.csv is UTF-16 text; save it as UTF-8 (Excel: CSV UTF-8)"),
    ("png-as-table", text_file(b"\x89PNG\r\n\x1a\n" + bytes(64), mode="b"), {},
     "is a PNG image, not a CSV table"),
    ("duplicate-headers", text_file("a, a,label\n1,2,yes\n3,4,no\n"), {},
     "repeated column names"),
    ("empty-file", text_file(""), {}, "is empty"),
    ("header-only", text_file("x1,label\n"), {}, "has a header but no rows"),
    ("not-utf8", text_file("name,label\ncaf\xe9,1\nthe,0\n".encode("latin-1"), mode="b"), {},
     "is not UTF-8"),
    ("ragged-rows", text_file("a,b,label\n1,2,yes\n3,4,no,extra,more\n"), {},
     "is not a readable table"),
    ("missing-target-column", lambda tmp: csv(tmp, base()), {"target": "price"},
     "target column 'price' not found"),
    ("npz-nan-labels", npz(x_train=RNG.random((N, 3)), y_train=np.where(
        np.arange(N) == 5, np.nan, 1.0 * np.arange(N))), {}, "NaN or inf labels"),
    ("npz-random-bytes", text_file(bytes(RNG.integers(0, 256, 500, dtype=np.uint8)),
                                   name="d.npz", mode="b"), {}, "is not an .npz file"),
    ("npz-truncated", lambda tmp: truncated_npz(tmp), {}, "corrupted or truncated"),
    ("npz-objects", npz(x_train=np.array([{"a": 1}] * N, dtype=object),
                        y_train=np.arange(N) % 2), {}, "never unpickles"),
    ("npz-mismatch", npz(x_train=RNG.random((N, 3)), y_train=np.arange(N - 1) % 2), {},
     "they must match"),
    ("npz-no-labels", npz(x_train=RNG.random((N, 3))), {}, "lacks y_train"),
    ("one-image-class", folder(classes=("a",)), {}, "class folder(s)"),
    ("huge-images", folder(), {"image_size": "60000x60000", "color": "rgb"},
     "in memory, more than"),
]


def parquet(tmp, df):
    path = tmp / "t.parquet"
    df.to_parquet(path)
    return path


def truncated_npz(tmp):
    path = tmp / "d.npz"
    np.savez(path, x_train=RNG.random((N, 3)), y_train=np.arange(N) % 2)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def kind(run, column):
    return next(c["kind"] for c in run.preprocessing["table"]["columns"]
                if c["name"] == column)


def features(run):
    return run.preprocessing["table"]["features"]


def settings_for(path, extra):
    out = dict(epochs=1, hidden="8", verbose=0)
    if path.suffix == ".csv":
        out["target"] = "label"
    out.update(extra)
    return out


@pytest.mark.parametrize("case", TRAINS, ids=[c[0] for c in TRAINS])
def test_trains_and_says_what_it_did(case, tmp_path, caplog):
    _, make, extra, note, check = case
    path = make(tmp_path)
    caplog.set_level("INFO", logger="mlpkit")
    run = mlpkit.train(str(path), out=tmp_path / "run", **settings_for(path, extra))
    said = run.manifest["notes"] + [r.getMessage() for r in caplog.records]
    if note:
        assert any(note in line for line in said), said
    assert any(line.startswith(f"{run.task}: loss ") for line in said)  # said out loud
    assert check(run)
    assert np.isfinite(run.history["loss"]).all()
    assert run.manifest["status"] == "completed"


@pytest.mark.parametrize("case", REFUSED, ids=[c[0] for c in REFUSED])
def test_refused_in_one_line_and_no_folder(case, tmp_path):
    _, make, extra, words = case
    path = make(tmp_path)
    with pytest.raises(MlpkitError) as e:
        mlpkit.train(str(path), out=tmp_path / "run", **settings_for(path, extra))
    assert words in str(e.value) and "\n" not in str(e.value)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("case", [c for c in REFUSED if c[0] in (
    "nan-target", "png-as-table", "npz-random-bytes")], ids=lambda c: c[0])
def test_the_command_line_exits_2_with_the_line(case, tmp_path):
    _, make, extra, words = case
    path = make(tmp_path)
    args = ["--target", "label"] if path.suffix == ".csv" else []
    r = run_cli("train", path, *args, "--epochs", "1", "--out", tmp_path / "run")
    assert r.returncode == 2 and words in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "run").exists()


def test_predict_takes_what_the_run_was_trained_on(tmp_path):
    """.npy rows for an .npz run; one JSON shape for every kind of run; an image given
    to a table run and a truncated model are named for what they are."""
    x = RNG.random((N, 3)).astype("float32")
    np.savez(tmp_path / "d.npz", x_train=x, y_train=(x[:, 0] > 0.5).astype(int))
    r = run_cli("train", tmp_path / "d.npz", "--epochs", "1", "--out", tmp_path / "run",
                "--verbose", "0")
    assert r.returncode == 0, r.stderr
    np.save(tmp_path / "rows.npy", x[:4])
    r = run_cli("predict", tmp_path / "run", tmp_path / "rows.npy", "--json")
    assert r.returncode == 0, r.stderr
    records = json.loads(r.stdout)
    assert [rec["row"] for rec in records] == [1, 2, 3, 4]
    assert set(records[0]) == {"file", "row", "prediction", "probability", "notes"}
    bad = x[:2].copy()
    bad[1, 2] = np.nan
    np.save(tmp_path / "nan.npy", bad)
    for args, words in ((["predict", tmp_path / "run", tmp_path / "nan.npy", "--json"],
                         "holds 1 NaN or infinite values (the first at index (1, 2))"),
                        (["predict", tmp_path / "run", tmp_path / "nothere.npy"],
                         "nothere.npy not found"),
                        (["evaluate", tmp_path / "run", "--data", csv(tmp_path, base())],
                         "is a table; this run was trained on arrays (.npz)")):
        r = run_cli(*args)
        assert r.returncode == 2 and words in r.stderr and not r.stdout, (r.stderr, r.stdout)

    csv(tmp_path, base())
    r = run_cli("train", tmp_path / "t.csv", "--target", "label", "--epochs", "1", "--out",
                tmp_path / "table", "--verbose", "0")
    assert r.returncode == 0, r.stderr
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "img.png")
    (tmp_path / "img.csv").write_bytes((tmp_path / "img.png").read_bytes())
    r = run_cli("predict", tmp_path / "table", tmp_path / "img.csv")
    assert r.returncode == 2 and "is a PNG image, not a CSV table" in r.stderr
    # each row on its own, one row as in two thousand: a word is a missing number, said
    # on its row, never a refusal of the file
    (tmp_path / "forty.csv").write_text("x1,x2\n0.5,forty\n0.1,0.2\n")
    r = run_cli("predict", tmp_path / "table", tmp_path / "forty.csv")
    assert r.returncode == 0, r.stderr
    assert "forty.csv:1: " in r.stdout and "(x2: 'forty' is not a number (the training " \
        "median is used))" in r.stdout.splitlines()[0], r.stdout
    (tmp_path / "forty.csv").write_text("x1,x2\n0.5,forty\n")
    r = run_cli("predict", tmp_path / "table", tmp_path / "forty.csv")
    assert r.returncode == 0 and "(x2: 'forty' is not a number" in r.stdout, r.stderr

    model = tmp_path / "table" / "model.keras"
    model.write_bytes(model.read_bytes()[:1000])
    r = run_cli("evaluate", tmp_path / "table")
    assert r.returncode == 2 and "corrupted or truncated" in r.stderr


def test_predict_notes_every_value_it_could_not_take_as_it_is(tmp_path):
    """A yes/no, date or number value that is none, and a category never seen, each get a
    note on their row (the row is still predicted, as training treats missing values)."""
    n = 80
    df = base(n).assign(member=np.where(np.arange(n) % 2, "yes", "no"),
                        signup=pd.date_range("2020-01-01", periods=n).astype(str),
                        city=np.array(["a", "b", "c"])[np.arange(n) % 3],
                        rooms=np.arange(n) % 5)
    r = run_cli("train", csv(tmp_path, df), "--target", "label", "--epochs", "1", "--out",
                tmp_path / "run", "--verbose", "0")
    assert r.returncode == 0, r.stderr
    rows = df.drop(columns="label").head(21).astype(object)
    rows.loc[0, ["member", "signup", "city", "rooms"]] = ["maybe", "not a date", "zz", "four"]
    rows.loc[1, ["member", "signup", "city", "rooms"]] = ["", "n/a", None, "?"]  # missing
    r = run_cli("predict", tmp_path / "run", csv(tmp_path, rows, "new.csv"), "--json")
    assert r.returncode == 0, r.stderr
    records = json.loads(r.stdout)
    assert len(records) == 21 and all(rec["notes"] == [] for rec in records[2:])
    median = columns_of(tmp_path / "run")["rooms"]["median"]  # the training rows'
    assert records[1]["notes"] == [
        "member: missing (read as false)", "signup: missing (the training medians are used)",
        "city: missing (coded as unknown)",
        f"rooms: missing (the training median {median:g} is used)"]
    assert records[0]["notes"] == [
        "member: 'maybe' is not yes/no or true/false (read as false)",
        "signup: 'not a date' is not a date (the training medians are used)",
        "city: 'zz' not seen in training (coded as unknown)",
        "rooms: 'four' is not a number (the training median is used)"]
    # a number far outside the training rows' range (0 to 4 rooms): the answer is a guess
    run = mlpkit.load_run(tmp_path / "run")
    far = df.drop(columns="label").head(3).assign(rooms=[4, 8, -40])  # 8: 4 + the span
    assert run.table_encoder.unseen(far) == [
        [], [], ["rooms: -40 is far outside the training rows' 0 to 4 (the answer is a guess "
                 "there)"]]
    # a category in another case or spacing is still unknown, and the note names the one
    cased = df.drop(columns="label").head(2).assign(city=["A", " c "])
    assert run.table_encoder.unseen(cased) == [
        ["city: 'A' not seen in training (coded as unknown); training wrote 'a'"], []]


def _strict_json(text):
    def refuse(constant):
        raise ValueError(f"not strict JSON: {constant}")
    return json.loads(text, parse_constant=refuse)


def test_numbers_beyond_float32_are_missing_values_not_infinities(tmp_path):
    """1e300 is a finite float64 but infinite in the model's float32: in training and at
    predict time it is taken as the README says of infinite values (the training median,
    with a note), never as inf that turns the loss or the prediction into NaN."""
    df = base()
    df["x2"] = df["x2"].astype(object)
    df.loc[3, "x2"], df.loc[4, "x2"] = "1e300", "-1e39"
    r = run_cli("train", csv(tmp_path, df), "--target", "label", "--epochs", "2", "--out",
                tmp_path / "run", "--verbose", "0")
    assert r.returncode == 0, r.stderr
    assert "2 infinite values or values beyond float32's range as missing" in r.stderr
    assert "RuntimeWarning" not in r.stderr
    rows = df.drop(columns="label").head(3).astype(object)
    rows.loc[0, "x2"], rows.loc[1, "x2"] = "1e300", "inf"
    r = run_cli("predict", tmp_path / "run", csv(tmp_path, rows, "new.csv"), "--json")
    assert r.returncode == 0 and "RuntimeWarning" not in r.stderr, r.stderr
    records = _strict_json(r.stdout)
    assert [rec["prediction"] in ("yes", "no") for rec in records] == [True] * 3
    assert records[0]["notes"] == ["x2: '1e+300' is beyond float32's range (the training "
                                   "median is used)"]  # as pandas reads the column
    assert records[1]["notes"][0].startswith("x2: infinite (the training median ")
    piped = subprocess.run([sys.executable, "-m", "mlpkit.cli", "predict", str(tmp_path / "run"),
                            "-"], input=(tmp_path / "new.csv").read_text(), text=True,
                           capture_output=True)  # the same rows on standard input
    assert piped.returncode == 0 and piped.stdout.startswith("-:1: "), piped.stderr
    r = run_cli("predict", tmp_path / "run", tmp_path)
    assert r.returncode == 2 and "is a folder; this model takes files of rows" in r.stderr
    r = run_cli("evaluate", tmp_path / "run", "--data", csv(tmp_path, df, "all.csv"), "--json")
    assert r.returncode == 0, r.stderr
    assert 0 <= _strict_json(r.stdout)["test_accuracy"] <= 1


def test_outputs_that_are_not_finite_are_said_not_printed_as_nan():
    from mlpkit import inference

    labels = {"task": "regression"}
    out = np.array([[1.5], [np.inf], [np.nan]], np.float32)
    records = inference.records(out, labels)
    assert records[0] == {"prediction": 1.5}
    assert records[1] == records[2] == {"prediction": None, "error": inference.NOT_FINITE}
    _strict_json(json.dumps(records))
    assert inference.not_finite(out).endswith("(rows 2, 3 of 3)")
    assert inference.not_finite(out[:1]) is None
    from mlpkit.serving.errors import ApiError
    from mlpkit.serving.routes import finite

    with pytest.raises(ApiError) as refused:  # the server's tensor answers (/v1, /v2)
        finite(out)
    assert refused.value.status == 422 and "rows 2, 3 of 3" in refused.value.message


def test_decimal_commas_beside_placeholders_and_a_code_column_kept_as_text(tmp_path):
    df = base()
    df.insert(0, "rate", [("?" if i % 10 == 0 else f"{i % 7},{i % 4}5") for i in range(len(df))])
    df.insert(0, "code", [["1,5", "2,10", "2,1"][i % 3] for i in range(len(df))])
    df.insert(0, "price", [f"{1 + i % 5}.{i:03d},{i % 100:02d}" for i in range(len(df))])
    path = csv(tmp_path, df, sep=";")
    r = run_cli("train", path, "--target", "label", "--epochs", "1", "--column-types",
                "code=category", "--out", tmp_path / "run", "--verbose", "0")
    assert r.returncode == 0, r.stderr
    assert "decimal commas (82,5) read as numbers (sniffed; columns price, rate)" in r.stderr
    columns = columns_of(tmp_path / "run")
    assert columns["rate"]["kind"] == "number" and columns["rate"]["max"] == pytest.approx(6.35)
    assert columns["code"]["kind"] == "category"
    assert columns["price"]["kind"] == "number" and columns["price"]["min"] == 1000.0
    assert columns["rate"]["decimal_comma"] and "decimal_comma" not in columns["code"]
    # rows given as text elsewhere (the API, the server's JSON) are read as in the file
    run = mlpkit.load_run(tmp_path / "run")
    row = {"price": "4.230,62", "code": "2,10", "rate": "1,25", "x1": 0.5, "x2": -0.3}
    same = {**row, "price": 4230.62, "rate": 1.25}
    np.testing.assert_allclose(run.predict(row), run.predict(same), rtol=1e-6)
    # a number sent as a number stays that number (1.234 is not "1.234", four thousand)
    one, four_thousand = (run.predict([{**same, "price": v} for v in pair])
                          for pair in ((1.234, "1,234"), (1234.0, "1.234")))
    np.testing.assert_allclose(one[0], one[1], rtol=1e-6)
    np.testing.assert_allclose(four_thousand[0], four_thousand[1], rtol=1e-6)
    assert not np.allclose(one[0], four_thousand[0], rtol=1e-6)
    assert run.table_encoder.unseen(pd.DataFrame([row])) == [[]]
    assert sorted(columns["code"]["vocab"]) == ["1,5", "2,1", "2,10"]  # three codes, not 2.1


def test_day_first_dates_are_read_one_way_in_every_row(tmp_path):
    """02.01.2023 beside 13.01.2023: both day first (2 and 13 January), at training and
    at predict time; US dates with slashes stay month first; ISO dates are ISO."""
    from mlpkit.data.columns import day_first, to_dates

    german = pd.Series(["02.01.2023", "13.01.2023", "28.02.2023"])
    assert day_first(german) and list(to_dates(german).dt.month) == [1, 1, 2]
    assert not day_first(pd.Series(["01/02/2023", "12/25/2023"]))
    assert day_first(pd.Series(["01.02.2023", "03.04.2023"]))  # dots, nothing tells: day first
    assert not day_first(pd.Series(["2023-01-02", "2023-02-13"]))
    assert list(to_dates(pd.Series(["2023-01-02"])).dt.day) == [2]
    df = base().assign(when=[f"{1 + i % 28:02d}.{1 + i % 3:02d}.2023" for i in range(N)])
    r = run_cli("train", csv(tmp_path, df), "--target", "label", "--epochs", "1", "--out",
                tmp_path / "run", "--verbose", "0")
    assert r.returncode == 0, r.stderr
    assert "(read day first)" in r.stderr
    when = columns_of(tmp_path / "run")["when"]
    assert when["dayfirst"] and when["medians"]["month"] == 2.0  # months 1-3, not 1-28
    run = mlpkit.load_run(tmp_path / "run")
    rows = df.drop(columns="label").head(2).assign(when=["02.01.2023", "02.03.2023"])
    encoded = run.table_encoder.transform(rows)
    month = run.table_encoder.features.index("when.month")
    assert list(encoded[:, month]) == [1.0, 3.0]


def test_quoted_decimal_commas_beside_a_comma_delimiter_and_thousands_kept_apart(tmp_path):
    df = base()  # to_csv quotes each value holding the delimiter: "82,5", "1,234"
    df.insert(0, "rate", [f"{i % 7},{i % 4}5" for i in range(len(df))])
    df.insert(0, "count", [f"{1 + i % 5},{i:03d}" for i in range(len(df))])
    path = csv(tmp_path, df)
    assert '"0,05"' in path.read_text() and '"1,000"' in path.read_text()
    r = run_cli("train", path, "--target", "label", "--epochs", "1", "--out", tmp_path / "run",
                "--verbose", "0")
    assert r.returncode == 0, r.stderr
    assert "decimal commas (82,5) read as numbers (sniffed; columns rate)" in r.stderr
    columns = columns_of(tmp_path / "run")
    assert columns["rate"]["kind"] == "number" and columns["rate"]["max"] == pytest.approx(6.35)
    assert columns["count"]["kind"] == "number" and columns["count"]["min"] == 1000.0
    assert "decimal_comma" not in columns["count"]
    assert "--column-types rate=category keeps one as text" in r.stderr
    from mlpkit.data import tables

    notes = []  # a name a shell would split is quoted in the hint, ready to paste
    odd = pd.DataFrame({"Mean Radius (µm)": ["82,5", "1,25", "3,5"]})
    assert tables._decimal_comma_columns(odd, None, "t.csv", notes) == ["Mean Radius (µm)"]
    assert "--column-types 'Mean Radius (µm)=category' keeps one as text" in notes[0]
    df["count"] = df["count"].where(np.arange(len(df)) != 7, "12,5")  # a stray typo
    r = run_cli("train", csv(tmp_path, df), "--target", "label", "--epochs", "1", "--out",
                tmp_path / "typo", "--verbose", "0")
    columns = columns_of(tmp_path / "typo")
    assert columns["count"]["min"] >= 1000.0 and "decimal_comma" not in columns["count"]


def test_a_value_is_read_the_same_whatever_rows_come_with_it():
    from mlpkit.data.columns import TableEncoder

    encoder = TableEncoder([{"name": "area", "kind": "number", "median": 1000.0, "why": ""}])

    def read(*values, delimiter=","):
        frame = pd.DataFrame({"area": list(values)})
        frame.attrs["delimiter"] = delimiter
        return encoder.transform(frame).ravel().tolist(), encoder.unseen(frame)

    assert read("4,500") == ([4500.0], [[]])  # a thousands grouping, as in training
    assert read("4,500", "2,5") == ([4500.0, 2.5],
                                    [[], ["area: '2,5' read as 2.5 (a decimal comma)"]])
    assert read("4.500", delimiter=";")[0] == read("4.500", "0,125", delimiter=";")[0][:1]
    assert read("0,125")[0] == [0.125]  # a lone 0 before the comma: no thousands
    assert read(3.5, "1.234")[0] == pytest.approx([3.5, 1.234])  # as they are


def test_a_semicolon_file_with_decimal_commas_for_a_model_trained_on_decimal_points(tmp_path):
    df = base()
    r = run_cli("train", csv(tmp_path, df), "--target", "label", "--epochs", "1", "--out",
                tmp_path / "run", "--verbose", "0")
    assert r.returncode == 0, r.stderr
    europe = csv(tmp_path, df, "europe.csv", sep=";", decimal=",")
    assert ";" in europe.read_text() and "," in europe.read_text().splitlines()[1]
    points, commas = (_strict_json(run_cli("predict", tmp_path / "run", f, "--json").stdout)
                      for f in (tmp_path / "t.csv", europe))
    assert [r["probability"] for r in commas] == pytest.approx([r["probability"] for r in points])
    assert all(note.endswith("(a decimal comma)") for r in commas for note in r["notes"])
    assert commas[0]["notes"][0].startswith("x1: '" + f"{df.x1[0]}".replace(".", ","))
    scored = run_cli("evaluate", tmp_path / "run", "--data", europe, "--json")
    assert scored.returncode == 0, scored.stderr
    run = mlpkit.load_run(tmp_path / "run")  # rows without a file: "0,25" is no thousands
    row = df.drop(columns="label").iloc[0].to_dict()
    written = {k: str(v).replace(".", ",") for k, v in row.items()}
    np.testing.assert_allclose(run.predict(written), run.predict(row), rtol=1e-6)


def test_dates_read_alike_whatever_their_format_and_the_training_files():
    from mlpkit.data.columns import TableEncoder, parse_dates

    written = pd.Series(["2019-09-01", "01.09.2019", "2019-09-01T10:30", "2019-13-09", "x"],
                        dtype="string")
    for dayfirst in (True, False):  # the column's order: for slashes only
        got = parse_dates(written, dayfirst)
        assert got[:3].dt.strftime("%m-%d").tolist() == ["09-01"] * 3, dayfirst
        assert got[3:].isna().all()  # month 13 is no date, not 13 September
    assert parse_dates(pd.Series(["09/01/2019"], dtype="string"), True)[0].month == 1
    rows = pd.DataFrame({"built": ["09/01/2019", "01/30/2020"] * 20, "x1": np.arange(40.0)})
    encoder = TableEncoder.fit(rows, [])  # US dates: month first
    same = pd.DataFrame({"built": ["2019-09-01", "01.09.2019", "09/01/2019",
                                   pd.Timestamp("2019-09-01")], "x1": 1.0})
    encoded = encoder.transform(same)
    assert (encoded == encoded[0]).all()


def test_european_amounts_with_signs_and_a_stray_decimal_comma(tmp_path):
    df = base()
    df.insert(0, "price", [f"{1 + i % 5}.{i:03d},{i % 100:02d} €" for i in range(len(df))])
    df.insert(0, "discount", [f"{i % 7},{i % 10} %" for i in range(len(df))])
    r = run_cli("train", csv(tmp_path, df, sep=";"), "--target", "label", "--epochs", "1",
                "--drop", "x2", "--out", tmp_path / "run", "--verbose", "0")
    assert r.returncode == 0, r.stderr
    columns = columns_of(tmp_path / "run")
    assert columns["price"]["kind"] == "number" and columns["price"]["min"] == 1000.0
    assert columns["discount"]["kind"] == "number" and columns["discount"]["max"] == 6.9
    assert "columns left out as asked (--drop, --columns): x2" in r.stderr
    us = base().assign(area=[f"{1 + i % 5},{i:03d}" for i in range(N)])  # thousands
    us.loc[4, "area"] = "12,5"  # a typo: read as the decimal it can only be, and said
    r = run_cli("train", csv(tmp_path, us, "us.csv"), "--target", "label", "--epochs", "1",
                "--out", tmp_path / "us", "--verbose", "0")
    assert r.returncode == 0 and "'area': 1 value read with a decimal comma" in r.stderr
    columns = columns_of(tmp_path / "us")
    assert columns["area"]["min"] == 12.5 and "decimal_comma" not in columns["area"]


def test_dates_with_zones_sentinels_and_dollar_amounts_beside_tabs():
    from mlpkit.data.columns import decimal_commas, infer, parse_dates

    dates = pd.Series(["2019-09-01 10:00:00 UTC", "2019-09-01T10:00:00+05:30",
                       "2019-09-01 10:00:00 -05:00", "9999-12-31", "2019/09/01"] * 8)
    assert infer(dates, "when")[0] == "datetime"
    got = parse_dates(dates.astype("string"), dayfirst=True)
    assert got[:3].dt.hour.tolist() == [10, 10, 10]  # the clock time as written
    assert got[3].year == 9999 and (got[4].month, got[4].day) == (9, 1)
    dollars = pd.Series(["$24,209", "$10,639", "$999"], dtype=object)
    assert not decimal_commas(dollars)  # a $ amount is US: thousands, beside any delimiter
    assert decimal_commas(pd.Series(["12,8 %", "487.642,36 €"], dtype=object))
    assert decimal_commas(pd.Series(["0,750"] + ["1,250"] * 39, dtype=object), thousands=True)


def test_integer_labels_given_as_text_keep_their_values():
    from mlpkit.labels import Labels

    quality = Labels.fit(np.array([3, 5, 6, 8, 5]), "multiclass")
    assert quality.encode(np.array(["5", "8"], dtype=object)).tolist() == \
        quality.encode(np.array([5, 8])).tolist()


def test_codes_with_leading_zeros_stay_codes(tmp_path):
    """Zip codes 02134 and product codes 003 are codes, not quantities: a feature
    column of them is a category, a target of them gives classes back as written, and
    new rows give the same code whichever way they write it (10001 beside a missing
    value, read as 10001.0; 10001 in JSON rows)."""
    n = 120
    df = base(n).assign(zip=np.array(["02134", "02139", "10001"])[np.arange(n) % 3])
    df["label"] = np.array(["003", "017", "120"])[(df["x1"] > -0.3).astype(int)
                                                  + (df["x1"] > 0.3).astype(int)]
    r = run_cli("train", csv(tmp_path, df), "--target", "label", "--epochs", "1", "--out",
                tmp_path / "run", "--verbose", "0")
    assert r.returncode == 0, r.stderr
    assert "target 'label' read as text: codes written with leading zeros (e.g. '017')" \
        in r.stderr
    columns = columns_of(tmp_path / "run")
    assert columns["zip"]["kind"] == "category"
    assert columns["zip"]["vocab"] == ["02134", "02139", "10001"]
    run = mlpkit.load_run(tmp_path / "run")
    assert sorted(run.class_names) == ["003", "017", "120"]
    rows = df.drop(columns="label").head(3).copy()
    rows.loc[1, "zip"] = None  # the file then reads 10001 as 10001.0
    rows.loc[2, "zip"] = "10001"
    r = run_cli("predict", tmp_path / "run", csv(tmp_path, rows, "new.csv"), "--json")
    assert r.returncode == 0, r.stderr
    records = json.loads(r.stdout)
    assert {rec["prediction"] for rec in records} <= {"003", "017", "120"}
    assert records[0]["notes"] == [] and records[2]["notes"] == []
    assert records[1]["notes"] == ["zip: missing (coded as unknown)"]
    r = run_cli("predict", tmp_path / "run", csv(tmp_path, df.head(2), "labelled.csv"))
    assert r.returncode == 0 and "labelled.csv: columns not used in training ignored: label" \
        in r.stderr, r.stderr
    as_json = [{**rows.iloc[2].to_dict(), "zip": z} for z in (10001, 10001.0, "10001")]
    assert run.table_encoder.unseen(pd.DataFrame(as_json)) == [[], [], []]
    encoded = run.table_encoder.transform(pd.DataFrame(as_json))
    assert (encoded == encoded[0]).all()
    # told it is a number, the column is read as one
    r = run_cli("train", tmp_path / "t.csv", "--target", "label", "--epochs", "1",
                "--column-types", "zip=number", "--out", tmp_path / "numbers", "--verbose", "0")
    assert r.returncode == 0, r.stderr
    columns = columns_of(tmp_path / "numbers")
    assert columns["zip"]["kind"] == "number" and columns["zip"]["min"] == 2134.0


def test_what_was_constant_in_training_cannot_blow_up_a_prediction(tmp_path):
    """Dates all in one year: the year is left out of the features (said), so a row of
    another year gets the answer of its month and day. A feature vector constant in
    training passes its later values unscaled, not divided by Normalization's epsilon."""
    n = 120
    days = pd.Timestamp("2023-01-01") + pd.to_timedelta(np.arange(n) * 3 % 365, unit="D")
    df = base(n).assign(signup=days.strftime("%Y-%m-%d"))
    r = run_cli("train", csv(tmp_path, df), "--target", "label", "--epochs", "1", "--out",
                tmp_path / "run", "--verbose", "0")
    assert r.returncode == 0, r.stderr
    assert "column 'signup': year (2023) the same in every training row, left out" in r.stderr
    run = mlpkit.load_run(tmp_path / "run")
    assert "signup.year" not in run.table_encoder.features
    row = df.drop(columns="label").iloc[:1]
    later = row.assign(signup=row["signup"].str.replace("2023", "2034"))  # the same weekdays
    np.testing.assert_allclose(run.predict(row), run.predict(later), rtol=1e-6)
    assert run.table_encoder.unseen(row) == [[]]
    assert run.table_encoder.unseen(later)[0][0].startswith(
        "signup: '2034-01-01' is far outside the training rows' 2023-")
    from mlpkit.serving.model import table_columns  # the page's date field starts in 2023

    signup = next(c for c in table_columns(run.preprocessing["table"]) if c["name"] == "signup")
    assert signup["median"].startswith("2023-")

    x = RNG.normal(size=(N, 3)).astype("float32")
    x[:, 1] = 2023.0  # one feature the same in every row
    np.savez(tmp_path / "d.npz", x_train=x, y_train=(x[:, 0] > 0).astype(int))
    r = run_cli("train", tmp_path / "d.npz", "--epochs", "1", "--out", tmp_path / "arrays",
                "--verbose", "0")
    assert r.returncode == 0, r.stderr
    assert "1 of 3 input features constant in the training rows: not scaled" in r.stderr
    norm = next(layer for layer in mlpkit.load_run(tmp_path / "arrays").model.layers
                if isinstance(layer, keras.layers.Normalization))
    shifted = np.asarray(norm(np.array([[0.0, 2024.0, 0.0]], np.float32)))
    assert abs(shifted[0, 1] - 1.0) < 1e-3  # its distance from 2023, not 1e7


def test_numbers_as_accountants_and_spreadsheets_write_them(tmp_path, caplog):
    """Accounting's parentheses for a negative, currency codes, spaces between thousands
    and one unit after every number are numbers; a column of numbers and words says how
    to read it as numbers, and told so, reads the words as missing, at predict time too."""
    n = 120
    v = np.round(RNG.uniform(-2000, 2000, n), 2)
    df = base(n).assign(
        spend=[f"({abs(x):,.2f})" if x < 0 else f"{x:,.2f}" for x in v],
        price=[f"USD {x:.2f}" for x in v],
        amount=[f"{x:,.2f}".replace(",", "\u00a0") for x in v],
        weight=[f"{abs(x):.1f} kg" for x in v],
        count=[["unknown", "lots"][i % 2] if i % 10 == 0 else str(i) for i in range(n)])
    path = csv(tmp_path, df)
    r = run_cli("train", path, "--target", "label", "--epochs", "1", "--out", tmp_path / "run",
                "--verbose", "0")
    assert r.returncode == 0, r.stderr
    assert "column 'weight' read as numbers: unit 'kg' removed" in r.stderr
    columns = columns_of(tmp_path / "run")
    for name, written in (("spend", v), ("price", v), ("amount", v),
                          ("weight", np.round(abs(v), 1))):  # the training rows' least
        assert columns[name]["kind"] == "number", columns[name]
        assert np.isclose(written, columns[name]["min"]).any(), (name, columns[name]["min"])
        assert (columns[name]["min"] < -100) == (name != "weight")  # negatives read as such
    assert columns["count"]["kind"] != "number"
    assert re.search(r"; [89]\d% of them numbers: --column-types count=number reads the others "
                     "as missing$", columns["count"]["why"])

    r = run_cli("train", path, "--target", "label", "--epochs", "1", "--column-types",
                "count=number", "--out", tmp_path / "told", "--verbose", "0")
    assert r.returncode == 0, r.stderr
    assert re.search(r"column 'count' read as numbers: \d+ unreadable values as missing "
                     r"\(e\.g\. \['(unknown|lots)', ", r.stderr), r.stderr
    run = mlpkit.load_run(tmp_path / "told")
    row = df.drop(columns="label").iloc[[1]]
    records = run.predict_files(csv(tmp_path, pd.concat([row, row.assign(count="many")]),
                                    "new.csv"))
    assert records[0]["notes"] == []
    assert records[1]["notes"] == ["count: 'many' is not a number (the training median is used)"]
    alone = run.predict_files(csv(tmp_path, row.assign(count="many"), "alone.csv"))
    assert alone[0]["notes"] == records[1]["notes"]  # told numbers: a row of a word, too
    assert alone[0]["prediction"] == records[1]["prediction"]
    # another unit is no number: a row alone is missing there and says so, as in a file,
    # and the API warns it (the CLI and the server put it on the row)
    with caplog.at_level("WARNING", logger="mlpkit"):
        run.predict(row.assign(weight="3.0 g"))  # not kg
    assert "row 1: weight: '3.0 g' is not a number (the training median is used)" \
        in caplog.text


@pytest.mark.parametrize("values, expected", [
    (["(1,200.00)", "($365.14)", "189.41"], [-1200.0, -365.14, 189.41]),  # accounting
    (["(1,234)", "(56)", "(7)"], None),  # all in parentheses: footnotes, counts
    (["USD -365.14", "USD 12"], [-365.14, 12.0]),
    (["5 USD", "6 EUR", "7 JPY"], None),  # several currencies are not one quantity
    (["1 465.23", "-2\u00a0000", "12"], [1465.23, -2000.0, 12.0]),
    (["12.5 100", "3.5 200"], None),  # two numbers, not thousands
    (["5 kg"] * 24 + ["7"], [5.0] * 24 + [7.0]),  # a number without the unit is one
    (["2 bedrooms", "3 Bedrooms", "1 bedroom"], [2.0, 3.0, 1.0]),
    (["10 M", "12 M"], None), (["1A", "2A"], None), (["10 am", "11 am"], None),  # no units
    (["12 kg", "500 g"], None),  # two units
    (["612 345 678", "699 123 456"], None),  # phone numbers, not millions
    (["154 lbs", "70 lbs"], [154.0, 70.0]), (["20°C", "21 °C"], [20.0, 21.0]),
    (["usd 10", "USD 5"], [10.0, 5.0]),
    (["(2)", "3", "-1", "(4)"], None),  # a column writing its own minus: notes, not negatives
])
def test_numbers_written_with_units_signs_and_spaces(values, expected):
    from mlpkit.data.columns import to_numbers

    numbers, _ = to_numbers(pd.Series(values, dtype=object))
    assert (None if numbers is None else numbers.tolist()) == expected


def test_zero_padded_numbers_are_numbers_and_a_few_codes_are_codes():
    from mlpkit.data.columns import infer

    padded = pd.Series([f"{i:03d}" for i in range(7, 120)] * 2, dtype=object)
    assert infer(padded, "minutes")[0] == "number"
    assert "--column-types minutes=category keeps them as codes" in infer(padded, "minutes")[1]
    assert infer(padded, "zip")[0] == "category"  # named as codes are
    assert infer(pd.Series(["003", "017", "120"] * 10, dtype=object), "product")[0] == \
        "category"
    from mlpkit.data.tables import _labels

    notes = []
    frame = pd.DataFrame({"minutes": padded, "label": ["003", "017"] * (len(padded) // 2)})
    assert _labels(frame, ["minutes"], "t.csv", notes).tolist()[:2] == [7.0, 8.0]
    assert _labels(frame, ["label"], "t.csv", notes).tolist()[:2] == ["003", "017"]


def test_na_is_a_value_in_a_column_told_it_is_a_category(tmp_path):
    """pandas reads "NA" as missing; in a column the user says is a category, it is a
    value as written (North America), in training and at predict time; only an empty
    value is missing there."""
    n = 120
    region = np.array(["EU", "NA", "APAC", ""], dtype=object)[np.arange(n) % 4]
    df = base(n).assign(region=region)
    path = csv(tmp_path, df)
    r = run_cli("train", path, "--target", "label", "--epochs", "1", "--column-types",
                "region=category", "--out", tmp_path / "run", "--verbose", "0")
    assert r.returncode == 0, r.stderr
    column = columns_of(tmp_path / "run")["region"]
    assert column["vocab"] == ["APAC", "EU", "NA"]
    assert 0 < column["missing"] < 40  # the empty values of the training rows only
    run = mlpkit.load_run(tmp_path / "run")
    records = run.predict_files(csv(tmp_path, df.drop(columns="label").head(4), "new.csv"))
    assert [rec["notes"] for rec in records] == [
        [], [], [], ["region: missing (coded as unknown)"]]
    rows = df.drop(columns="label").head(2).assign(region=["NA", None])  # as JSON sends them
    assert run.table_encoder.unseen(rows) == [[], ["region: missing (coded as unknown)"]]
    codes = run.table_encoder.transform(rows)[:, run.table_encoder.features.index("region")]
    assert codes.tolist() == [2.0, 3.0]  # "NA" its own code; None the unknown one
    # not told: "NA" is missing, as pandas and most tools read it; said, with the way out
    r = run_cli("train", path, "--target", "label", "--epochs", "1", "--out",
                tmp_path / "default", "--verbose", "0")
    assert r.returncode == 0, r.stderr
    assert ('where a missing value means none (as "NA" often does), --column-types '
            'region=category keeps "NA" a value') in r.stderr
    column = columns_of(tmp_path / "default")["region"]
    assert column["vocab"] == ["APAC", "EU"]


def test_a_word_in_unicodes_decomposed_form_is_the_same_category_and_label():
    """ "café" typed on a Mac (e + a combining accent) is the word of the training rows."""
    from mlpkit.data.columns import TableEncoder
    from mlpkit.data.tables import _label_text

    composed, decomposed = "café", unicodedata.normalize("NFD", "café")
    encoder = TableEncoder.fit(pd.DataFrame({"drink": [composed, "tea", "tea", composed]}), [])
    rows = pd.DataFrame({"drink": [composed, decomposed, "mate"]})
    codes = encoder.transform(rows).ravel().tolist()
    assert codes[0] == codes[1] != codes[2]
    assert encoder.unseen(rows)[:2] == [[], []]
    labels = _label_text("t", pd.Series([composed, decomposed], dtype=object), [])
    assert labels.nunique() == 1


def test_raw_pixels_put_in_a_data_set_by_hand_are_scaled_as_the_lecture_does(tmp_path):
    """Whole-number pixels 0-255 in a Dataset made by hand train as the lecture's 0-1
    pixels do (left raw, the loss is 14 and the accuracy chance), said in the notes."""
    from mlpkit.data.dataset import Dataset

    rng = np.random.default_rng(0)
    y = np.arange(300) % 2
    x = (rng.random((300, 8, 8)) * 100 + 120 * y[:, None, None]).astype(np.uint8)
    ds = Dataset("pixels", "binary", x[:200], y[:200], x[200:250], y[200:250], x[250:],
                 y[250:], ["a", "b"], image={"size": [8, 8], "color": "grayscale",
                                             "invert": "no"})
    run = mlpkit.train(ds, epochs=5, hidden="8", optimizer="adam", learning_rate=0.01,
                       out=tmp_path / "run", verbose=0)
    assert any("pixels of 0-255 divided by 255 (x_train holds" in n
               for n in run.manifest["notes"])
    assert run.evaluate()["test_accuracy"] >= 0.9
    # predict and evaluate take the raw pixels as training did
    assert run.evaluate(ds) == pytest.approx(run.evaluate())
    np.testing.assert_allclose(run.predict(x[250:]), run.predict(x[250:] / 255), rtol=1e-5)
    # and so does the learning-rate finder (raw, its first losses are in the tens)
    folder, _ = mlpkit.api.lr_find(ds, hidden="8", optimizer="adam", steps=20,
                                   out=tmp_path / "lr")
    first = float(next(csv_module.DictReader(open(folder / "lr_find.csv")))["loss"])
    assert first < 2, first


def test_a_target_of_small_spread_trains_and_its_figures_show(tmp_path):
    """A target of standard deviation 1e-6: in its own units the loss's gradients fall
    below Adam's epsilon and nothing is learned; scaled, it learns, and its RMSE prints
    as a figure, not 0.0000."""
    rng = np.random.default_rng(0)
    a = rng.normal(size=600)
    df = pd.DataFrame({"a": a, "b": rng.normal(size=600),
                       "y": 2e-6 + 1e-6 * a + 1e-8 * rng.normal(size=600)})
    r = run_cli("train", csv(tmp_path, df), "--target", "y", "--epochs", "20", "--hidden",
                "16", "--out", tmp_path / "run", "--verbose", "0")
    assert r.returncode == 0, r.stderr
    assert re.search(r"a regression target of small spread \(standard deviation 1\.0\de-06\)",
                     r.stderr), r.stderr
    rmse = json.loads((tmp_path / "run" / "metrics.json").read_text())["test_rmse"]
    assert rmse < 0.5e-6  # half the spread: learned (unscaled, it stayed at 1.3e-06)
    assert f"{rmse:.4g}" in r.stdout and "0.0000" not in r.stdout


def test_reading_settings_on_data_read_already_are_refused():
    """A loaded Dataset is read and split: a split or reading setting would be ignored
    (and written to config.toml, so --config would not repeat the run): refused. A
    built-in data set's own task and images are refused as its columns are."""
    ds = mlpkit.load_dataset("california-housing")
    for key, value in (("validation_split", 0.1), ("task", "multiclass"), ("target", "y")):
        with pytest.raises(MlpkitError, match=f"^{key} applies when mlpkit reads and splits "
                                              "the data; this Dataset is read and split"):
            mlpkit.train(ds, epochs=1, **{key: value})
    assert mlpkit.resolve_config(None, target=None, validation_split=None).data.target is None
    with pytest.raises(MlpkitError, match="^epochs must be"):  # None is not given: passes on
        mlpkit.train(ds, epochs=0, target=None, validation_split=None)
    for key, value in (("task", "multiclass"), ("image_size", "10x10"), ("color", "rgb")):
        with pytest.raises(MlpkitError, match=f"^{key} applies to your own data; "
                                              "california-housing has its own"):
            mlpkit.train("california-housing", epochs=1, **{key: value})


def test_features_of_any_magnitude_train_alike(tmp_path):
    """A feature of values near 1e20 or 1e-20 (or 5e-8 +- 1e-8) learns as the same
    feature near 1 does: rescaled by a power of ten before the Normalization, whose
    float32 statistics overflow and whose epsilon (1e-7) swallows them."""
    rng = np.random.default_rng(0)
    u, v = rng.normal(size=600), rng.normal(size=600)
    y = 3 * u + 0.1 * rng.normal(size=600)
    figures = {}
    for name, factor, shift in (("one", 1.0, 0), ("huge", 1e20, 0), ("tiny", 1e-20, 0),
                                ("molar", 1e-8, 5e-8)):
        path = csv(tmp_path, pd.DataFrame({"x": u * factor + shift, "v": v, "y": y}),
                   f"{name}.csv")
        r = run_cli("train", path, "--target", "y", "--epochs", "5", "--out",
                    tmp_path / name, "--verbose", "0")
        assert r.returncode == 0 and "overflow" not in r.stderr, r.stderr
        assert ("1 input feature of very small or large spread rescaled" in r.stderr) == (
            name != "one")
        figures[name] = json.loads((tmp_path / name / "metrics.json").read_text())["test_rmse"]
    assert figures["huge"] == pytest.approx(figures["one"], rel=0.02)
    assert figures["tiny"] == pytest.approx(figures["one"], rel=0.02)
    assert figures["molar"] == pytest.approx(figures["one"], rel=0.02)


def test_dates_as_unix_timestamps_and_in_an_order_no_date_tells(tmp_path):
    """Unix timestamps are numbers until told they are dates; dates such as 03/04/2023
    whose days never pass 12 are read in the order guessed, said, and the other when told."""
    n = 120
    stamps = 1_672_531_200 + np.arange(n) * 86_400 * 3  # from 2023-01-01, every 3 days
    df = base(n).assign(seen=stamps, d=pd.to_datetime(stamps, unit="s").strftime("%d/%m/%Y"))
    df = df[pd.to_datetime(df["seen"], unit="s").dt.day <= 12]  # no day tells the order
    path = csv(tmp_path, df)
    r = run_cli("train", path, "--target", "label", "--epochs", "1", "--column-types",
                "seen=datetime", "--out", tmp_path / "run", "--verbose", "0")
    assert r.returncode == 0, r.stderr
    assert "column 'seen': Unix timestamps (seconds since 1970) read as dates" in r.stderr
    assert ("column 'd': no date tells whether the day or the month comes first (as in "
            "03/04/2023); read month first, --column-types d=datetime_dayfirst reads it the "
            "other way") in r.stderr
    run = mlpkit.load_run(tmp_path / "run")
    assert "seen.year" in run.table_encoder.features or "seen.month" in run.table_encoder.features
    assert run.table_encoder.unseen(df.drop(columns="label").head(2)) == [[], []]
    r = run_cli("train", path, "--target", "label", "--epochs", "1", "--column-types",
                "d=datetime_dayfirst", "--out", tmp_path / "dayfirst", "--verbose", "0")
    assert r.returncode == 0 and "no date tells" not in r.stderr, r.stderr
    assert columns_of(tmp_path / "dayfirst")["d"]["dayfirst"] is True
    r = run_cli("train", path, "--target", "label", "--epochs", "1", "--column-types",
                "x1=datetime", "--out", tmp_path / "never", "--verbose", "0")
    assert r.returncode == 2 and "numbers are dates only as Unix timestamps" in r.stderr


def test_dates_told_their_order_or_as_timestamps_read_so_later_too():
    """Told month first, dotted dates (which read day first when nothing tells) are read
    month first; a timestamp column takes a date written as text too (the page sends
    one), in training's way."""
    from mlpkit.data.columns import TableEncoder

    df = pd.DataFrame({"ts": 1_680_000_000 + np.arange(40) * 86_400 * 3,
                       "dd": [f"{i % 12 + 1:02d}.{i % 9 + 1:02d}.2023" for i in range(40)]})
    encoder = TableEncoder.fit(df, [], types={"ts": "datetime", "dd": "datetime_monthfirst"})
    rows = pd.DataFrame({"ts": ["2023-06-01T08:00", 1_690_000_000],
                         "dd": ["03.04.2023", "12.05.2023"]})
    assert encoder.unseen(rows) == [[], []]
    got = [dict(zip(encoder.features, row)) for row in encoder.transform(rows)]
    assert (got[0]["dd.month"], got[0]["dd.day"]) == (3, 4)
    assert (got[0]["ts.month"], got[0]["ts.day"]) == (6, 1)
    assert (got[1]["ts.month"], got[1]["ts.day"]) == (7, 22)  # 1,690,000,000 s: 22 July 2023


def test_powers_of_ten_leave_what_is_constant_up_to_rounding():
    """A column of 1e-3 and the next float up (std 5.8e-11) is constant, not a tiny
    spread to blow up by 1e10: left to the Normalization's constant-feature rule."""
    from mlpkit.models import _powers_of_ten

    one = np.float32(1e-3)
    x = np.column_stack([np.where(np.arange(50) % 2, one, np.nextafter(one, np.float32(1))),
                         RNG.normal(size=50) * 1e-9]).astype(np.float32)
    assert _powers_of_ten(x, []).tolist() == pytest.approx([1.0, 1e9])


def test_the_powers_of_ten_note_names_the_features(caplog):
    from mlpkit.models import _powers_of_ten

    x = np.column_stack([RNG.normal(size=50), RNG.normal(size=50) * 1e-9,
                         RNG.normal(size=50) * 1e8])
    with caplog.at_level("INFO", logger="mlpkit"):
        _powers_of_ten(x, [], ["rooms", "molar", "price"])
    assert ("2 input features of very small or large spread rescaled by powers of ten before "
            "the normalization: molar (x 1e9), price (x 1e-8)") in caplog.text


@pytest.mark.parametrize("values, kind", [
    (["1", "0", "0", "1"] * 14 + ["yes", "yes"], "boolean"),  # "yes" is 1, not missing
    (["10 M", "12 M", "14 M", "16 M"] * 5, "category"),  # sizes, not times of the year 1
    (["1st", "2nd", "3rd", "4th", "5th"] * 5, "category"),
    (["2023-01-05", "2023-02-07", "2023-03-09"] * 5, "datetime"),
])
def test_what_a_person_reads_a_column_as(values, kind):
    from mlpkit.data.columns import infer

    assert infer(pd.Series(values, dtype=object), "c")[0] == kind


def test_a_zip_written_once_as_a_float_keeps_the_column_codes(tmp_path):
    """10001.0 in one row (a spreadsheet's float) does not turn 02134 into 2134."""
    from mlpkit.data.tables import read_table

    zips = ["02134", "90210", "10001"] * 33 + ["10001.0"]
    (tmp_path / "z.csv").write_text("zip,x\n" + "".join(f"{z},{i}\n" for i, z in enumerate(zips)))
    frame = read_table(tmp_path / "z.csv")
    assert frame["zip"].tolist()[:3] == ["02134", "90210", "10001"]
    assert frame["zip"].iloc[-1] == "10001"


@pytest.mark.parametrize("written, fmt, shown", [
    ("%Y%m%d", "YYYYMMDD", None), ("%Y%m%d%H", "YYYYMMDDhh", "hour")])
def test_dates_written_as_digits_read_as_dates_when_told(written, fmt, shown):
    """20240131 (and 2024013112, with the hour) told to be dates are dates of their
    digits, in training and later rows, though 2024013112 would pass as Unix seconds
    (of the year 2034); a column of Unix timestamps stays timestamps."""
    from mlpkit.data.columns import TableEncoder, infer

    days = pd.date_range("2023-01-01", periods=40, freq="3D") + pd.to_timedelta(
        np.arange(40) % 24, unit="h")
    df = pd.DataFrame({"d": days.strftime(written).astype(int)})
    kind, why = infer(df["d"], "d")  # not told: numbers, with the hint
    assert kind == "number" and why.endswith("--column-types d=datetime reads them as dates")
    notes = []
    encoder = TableEncoder.fit(df, notes, types={"d": "datetime"})
    assert f"column 'd': dates written as digits ({fmt}) read as dates" in notes
    assert ("d.hour" in encoder.features) == (shown == "hour")
    rows = pd.DataFrame({"d": [int(pd.Timestamp("2023-06-01 08:00").strftime(written)),
                               "2023-07-22"]})  # the page sends a date as text
    assert encoder.unseen(rows) == [[], []]
    got = [dict(zip(encoder.features, row)) for row in encoder.transform(rows)]
    assert (got[0]["d.month"], got[0]["d.day"]) == (6, 1)
    assert (got[1]["d.month"], got[1]["d.day"]) == (7, 22)
    if shown == "hour":
        assert got[0]["d.hour"] == 8
    stamps = pd.DataFrame({"d": 1_700_000_000 + np.arange(40) * 86_400})  # 2023-11-14 on
    notes = []
    TableEncoder.fit(stamps, notes, types={"d": "datetime"})
    assert "column 'd': Unix timestamps (seconds since 1970) read as dates" in notes


def test_clock_times_keep_their_minutes():
    """Timestamps with minutes (a booking at 08:45) keep the minute as well as the hour;
    dates at midnight get neither."""
    from mlpkit.data.columns import TableEncoder

    when = pd.date_range("2023-01-01 08:00", periods=40, freq="1D") + pd.to_timedelta(
        (np.arange(40) * 17) % 600, unit="min")
    df = pd.DataFrame({"at": when.strftime("%Y-%m-%d %H:%M"),
                       "day": when.strftime("%Y-%m-%d")})
    encoder = TableEncoder.fit(df, [], types={"at": "datetime"})
    assert {"at.hour", "at.minute"} <= set(encoder.features)
    assert not {"day.hour", "day.minute"} & set(encoder.features)
    got = dict(zip(encoder.features, encoder.transform(
        pd.DataFrame({"at": ["2023-06-01 13:45"], "day": ["2023-06-01"]}))[0]))
    assert (got["at.hour"], got["at.minute"]) == (13, 45)


def test_dates_as_digits_beside_dates_written_otherwise():
    """A column of 2022-02-10 and 20221129 is dates, found or told, each read as written,
    in training and later rows; digits beside plain numbers are no dates."""
    from mlpkit.data.columns import TableEncoder, infer

    days = pd.date_range("2022-01-01", periods=60, freq="5D")
    written = [d.strftime("%Y%m%d" if i % 2 else "%Y-%m-%d") for i, d in enumerate(days)]
    df = pd.DataFrame({"when": written})
    assert infer(df["when"], "when")[0] == "datetime"
    for types in (None, {"when": "datetime"}):
        encoder = TableEncoder.fit(df, [], types=types)
        got = [dict(zip(encoder.features, row)) for row in encoder.transform(
            pd.DataFrame({"when": ["20230315", "2023-07-22"]}))]
        assert [(g["when.month"], g["when.day"]) for g in got] == [(3, 15), (7, 22)]
        assert encoder.unseen(df.head(4)) == [[], [], [], []]
    plain = pd.DataFrame({"x": ["2022-02-10", "82"] * 30})
    assert infer(plain["x"], "x")[0] != "datetime"


def test_validation_rows_written_otherwise_are_said(tmp_path):
    """A separate validation file whose numbers carry another unit than the training
    rows' is read as the training rows were (those values missing), and said."""
    from mlpkit import config as cfg
    from mlpkit import data

    rng = np.random.default_rng(3)
    train = pd.DataFrame({"weight": [f"{v:.1f} kg" for v in rng.uniform(1, 9, 60)],
                          "label": rng.integers(0, 2, 60)})
    valid = pd.DataFrame({"weight": [f"{v:.1f} lb" for v in rng.uniform(1, 9, 20)],
                          "label": rng.integers(0, 2, 20)})
    train.to_csv(tmp_path / "t.csv", index=False)
    valid.to_csv(tmp_path / "v.csv", index=False)
    ds = data.load_for(cfg.resolve(str(tmp_path / "t.csv"), target="label",
                                   validation_data=str(tmp_path / "v.csv")))
    said = [n for n in ds.notes if n.startswith("validation rows: 20 value(s)")]
    assert said and "weight: '" in said[0] and " lb' is not a number" in said[0], ds.notes
