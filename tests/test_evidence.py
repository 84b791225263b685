"""The READMEs' figures are the measured ones: rendered from benchmarks/results.jsonl.

``make bench`` measures, writes ``benchmarks/results.jsonl`` and runs
``benchmarks/render.py``; these tests fail when a README differs from what
render.py writes from the committed results (a figure edited by hand, or results
newer than the tables), or when a figure lacks its machine or date. No timings
are asserted here.
"""

from __future__ import annotations

import datetime
import importlib.util
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("render", ROOT / "benchmarks" / "render.py")
render = importlib.util.module_from_spec(spec)
spec.loader.exec_module(render)

FIGURES = render.read_results()
# a measured-looking number: a time, a rate, a size, a ratio, a percentage or an accuracy
MEASURED = re.compile(r"\b\d+(\.\d+)?\s?(ms|s|seconds|min|minutes|GFLOP/s|MiB|GiB|%)(?!\w)"
                      r"|\b\d+(\.\d+)?x(?!\w)|\b0\.[89]\d{1,3}\b")


@pytest.mark.parametrize("path", render.TARGETS, ids=lambda p: str(p.relative_to(ROOT)))
def test_readme_is_what_render_writes(path):
    text = path.read_text()
    assert render.MARKER.search(text), f"{path} has no generated figures"
    assert render.render(text, FIGURES) == text, (
        f"{path.relative_to(ROOT)} differs from the results file: run "
        "`python benchmarks/render.py` (never edit a figure between its markers by hand)")


@pytest.mark.parametrize("path", render.TARGETS, ids=lambda p: str(p.relative_to(ROOT)))
def test_prose_quotes_no_measured_number(path):
    prose = render.MARKER.sub("", path.read_text())
    found = [m.group(0) for m in MEASURED.finditer(prose)]
    assert not found, f"{path.relative_to(ROOT)} quotes figures outside the markers: {found}"


def test_every_table_figure_is_measured():
    missing = [name for name, _ in render.ROWS if name not in FIGURES]
    assert not missing


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_figure_carries_machine_date_goal(name):
    r = FIGURES[name]
    date = datetime.datetime.strptime(r["date"], "%Y-%m-%dT%H:%M:%SZ")
    assert date.year >= 2024
    machine = r["machine"]
    assert machine["cpu"] and machine["cores"] >= 1 and machine["python"] and machine["platform"]
    assert {"keras", "jax", "numpy"} <= set(machine["versions"])
    assert set(r["load_average"]) == {"min", "max"}
    assert r["title"] and r["goal"]
    holds = r["holds"]
    assert isinstance(holds, bool) or all(isinstance(v, bool) for v in holds.values())


def test_fast_preset_is_the_one_chosen_and_measured():
    preset = tomllib.loads((ROOT / "src/mlpkit/presets/fashion-mnist.fast.toml").read_text())
    settings = {"hidden": preset["model"]["hidden"], **{
        k: preset["training"][k] for k in ("learning_rate", "epochs", "batch_size")}}
    chosen = FIGURES["fast_preset_selection"]["chosen"]
    assert chosen is not None and not FIGURES["fast_preset_selection"]["quick"]
    assert {k: chosen[k] for k in settings} == settings
    measured = FIGURES["fast_preset_time_to_accuracy"]["preset"]
    assert {k: measured[k] for k in settings} == settings
    assert (measured["optimizer"], measured["schedule"]) == (
        preset["training"]["optimizer"], preset["training"]["schedule"])
