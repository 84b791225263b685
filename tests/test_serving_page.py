"""The page at ``/``, in a real browser: Debian's chromium driven by Playwright
(``executable_path``: Playwright's own browser download cannot work offline).
A person uploads a Fashion-MNIST test image, draws on the canvas, fills the table
form, and reads the answers the server gives.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import numpy as np
import pytest

import mlpkit
from test_serving import (  # noqa: F401  (the servers are shared fixtures)
    CLASSES,
    band_server,
    fashion_server,
    fashion_test_png,
    price_server,
    trained,
)

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.is_file():
        pytest.fail(f"chromium not found at {CHROMIUM}; install it with: apt-get install -y "
                    "chromium (or scripts/setup.sh)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    page = browser.new_page(viewport={"width": 1000, "height": 900})
    page.problems = []
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    page.on("console", lambda m: page.problems.append(m.text) if m.type == "error" else None)
    yield page
    page.close()
    assert page.problems == []  # no script error, no refused resource (CSP), no failed load


def open_ready(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("body[data-state=ready]", timeout=30_000)


def predicted(page) -> dict:
    page.wait_for_selector("body[data-state=predicted]", timeout=30_000)
    bars = page.eval_on_selector_all(
        ".bar", "bars => bars.map(b => [b.dataset.class, Number(b.dataset.probability), "
                "b.classList.contains('top')])")
    return {"prediction": page.inner_text("#prediction"), "bars": bars,
            "notes": page.eval_on_selector_all("#notes li",
                                               "items => items.map(i => i.textContent)")}


def predict_row(page, row: dict) -> dict:
    """Fill the table form with ``row`` (rooms, area, city), press predict, read the answer."""
    page.fill("#col-rooms", str(row["rooms"]))
    page.fill("#col-area", f"{row['area']:g}")
    page.select_option("#col-city", row["city"])
    page.click("#predict-row")
    return predicted(page)


def test_upload_a_fashion_mnist_test_image_and_read_its_class(page, fashion_server, tmp_path):
    png, name, _ = fashion_test_png()
    path = tmp_path / "test-image.png"
    path.write_bytes(png)
    open_ready(page, fashion_server.url)
    assert page.inner_text("#title") == "fashion"
    assert page.is_visible("#image-input") and not page.is_visible("#table-input")
    page.set_input_files("#file", str(path))
    shown = predicted(page)
    assert shown["prediction"] == name
    assert [c for c, _, _ in shown["bars"]] == fashion_server.served.class_names
    assert [c for c, _, top in shown["bars"] if top] == [name]
    assert sum(p for _, p, _ in shown["bars"]) == pytest.approx(1, abs=1e-3)
    assert page.inner_text("#probability").endswith("%)")


def test_draw_on_the_canvas_and_see_every_class(page, fashion_server):
    open_ready(page, fashion_server.url)
    box = page.locator("#sketch").bounding_box()
    page.mouse.move(box["x"] + 100, box["y"] + 40)  # two legs: a pair of trousers
    page.mouse.down()
    for y in range(40, 260, 20):
        page.mouse.move(box["x"] + 100, box["y"] + y)
    page.mouse.up()
    page.wait_for_selector("body[data-state=predicted]", timeout=30_000)
    page.evaluate("document.body.dataset.state = 'ready'")
    page.mouse.move(box["x"] + 180, box["y"] + 40)
    page.mouse.down()
    for y in range(40, 260, 20):
        page.mouse.move(box["x"] + 180, box["y"] + y)
    page.mouse.up()
    shown = predicted(page)
    assert len(shown["bars"]) == 10 and shown["prediction"] in fashion_server.served.class_names
    assert sum(p for _, p, _ in shown["bars"]) == pytest.approx(1, abs=1e-3)
    # dark strokes on white: inverted and scaled as `mlpkit predict` does to a photo
    assert any("inverted" in n for n in shown["notes"])
    assert any("280x280 to 28x28" in n for n in shown["notes"])


def painted(page) -> int:
    """How many pixels of the upload's preview are drawn."""
    return page.evaluate("""() => { const c = document.querySelector('#preview');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 3; i < d.length; i += 4) n += d[i] > 0; return n; }""")


def test_a_file_that_is_not_an_image_shows_the_error(page, fashion_server, tmp_path):
    png, _, _ = fashion_test_png()
    (tmp_path / "good.png").write_bytes(png)
    path = tmp_path / "notes.png"
    path.write_text("not an image")
    open_ready(page, fashion_server.url)
    page.set_input_files("#file", str(tmp_path / "good.png"))
    assert predicted(page)["bars"] and painted(page) > 0
    page.set_input_files("#file", str(path))
    page.wait_for_selector("body[data-state=error]", timeout=30_000)
    assert "not a readable image" in page.inner_text("#error")
    # the good image's answer and picture went: they would read as this file's
    assert page.inner_text("#prediction") == "" and page.inner_text("#notes") == ""
    assert page.eval_on_selector_all("#bars .bar", "b => b.length") == 0
    assert painted(page) == 0
    page.problems.remove("Failed to load resource: the server responded with a status of 400 "
                         "(Bad Request)")  # the refusal itself, shown above


def test_fill_the_table_form_and_read_the_prediction(page, price_server, band_server):
    import pandas as pd

    row = {"rooms": 5, "area": 120.0, "city": "Paris"}
    expected = float(mlpkit.load_run(trained("price")).predict(pd.DataFrame([row]))[0, 0])
    open_ready(page, price_server.url)
    assert page.is_visible("#table-input") and not page.is_visible("#image-input")
    # the fields start at the training medians, with the training ranges and categories
    columns = {c["name"]: c for c in price_server.served.describe()["columns"]}
    assert float(page.input_value("#col-rooms")) == columns["rooms"]["median"]
    assert page.eval_on_selector("#col-rooms ~ input[type=range]", "s => [s.min, s.max]") == [
        f"{columns['rooms']['min']:g}", f"{columns['rooms']['max']:g}"]
    assert page.eval_on_selector_all("#col-city option", "o => o.map(x => x.textContent)") == [
        "Lyon", "Nice", "Paris", "(missing)"]
    shown = predict_row(page, row)
    assert float(shown["prediction"]) == pytest.approx(expected, rel=1e-4)
    assert shown["bars"] == []  # a regression: a value, no classes

    run = mlpkit.load_run(trained("band"))
    open_ready(page, band_server.url)
    row = {"rooms": 2, "area": 40.0, "city": "Lyon"}
    shown = predict_row(page, row)
    proba = run.predict(pd.DataFrame([row]))[0]
    assert shown["prediction"] == run.class_names[int(np.argmax(proba))]
    assert sorted(c for c, _, _ in shown["bars"]) == sorted(CLASSES)


def test_a_stack_of_images_says_which_one_is_shown(page, fashion_server, tmp_path):
    ds = mlpkit.load_dataset("fashion-mnist")
    np.save(tmp_path / "three.npy", ds.x_test[300:303])
    run = mlpkit.load_run(trained("fashion"))
    open_ready(page, fashion_server.url)
    page.set_input_files("#file", str(tmp_path / "three.npy"))
    shown = predicted(page)
    assert shown["prediction"] == run.class_names[int(np.argmax(run.predict(ds.x_test[300:301])))]
    assert "holds 3 images; this is the first (row 1)" in page.inner_text("#status")
    assert painted(page) == 0  # a .npy has no picture the browser can draw


def test_the_form_has_a_field_for_every_kind_of_column(page):
    """Yes/no, date and free-text columns get a field each (the page once built them all
    as category lists and never loaded), and their values reach the model as typed."""
    import pandas as pd
    from test_serving import Server

    run = trained("visits")
    with Server(run, name="visits") as server:
        columns = {c["name"]: c for c in httpx.get(f"{server.url}/model").json()["columns"]}
        assert [columns[c]["type"] for c in ("garden", "built", "__proto__")] == [
            "boolean", "datetime", "text"]
        # the training rows' medians of year, month and day, as one day
        spec = {c["name"]: c for c in mlpkit.load_run(run).preprocessing["table"]["columns"]}
        y, m, d = (int(spec["built"]["medians"][p] + 0.5) for p in ("year", "month", "day"))
        assert columns["built"]["median"] == f"{y:04d}-{m:02d}-{d:02d}"
        assert columns["built"]["time"] is False
        open_ready(page, server.url)
        assert page.get_attribute("#col-built", "type") == "date"
        assert page.input_value("#col-built") == columns["built"]["median"]
        # yes and no as the training rows wrote them (not true/false)
        assert columns["garden"]["values"] == ["yes", "no"]
        assert page.eval_on_selector_all("#col-garden option", "o => o.map(x => x.value)") == [
            "yes", "no", ""]
        assert page.get_attribute("#col-__proto__", "list") == "values-__proto__"
        rows = [{"rooms": 5, "area": 120.0, "city": "Paris", "garden": "yes",
                 "built": "2001-04-30", "__proto__": "sunny roof with a view"},
                {"rooms": 5, "area": 120.0, "city": "Paris", "garden": "no",
                 "built": "1992-11-02", "__proto__": "quiet street near park 7"}]
        shown = []
        for row in rows:
            page.select_option("#col-garden", row["garden"])
            page.fill("#col-built", row["built"])
            page.fill("#col-__proto__", row["__proto__"])  # sent as a column
            shown.append(float(predict_row(page, row)["prediction"]))
    expected = mlpkit.load_run(run).predict(pd.DataFrame(rows))[:, 0]
    assert shown == pytest.approx(expected.tolist(), rel=1e-4)
    assert shown[0] != pytest.approx(shown[1], rel=1e-4)  # garden and date were read


def test_several_targets_show_each_by_its_name(page):
    import pandas as pd
    from test_serving import Server

    run = trained("two-targets")
    row = {"rooms": 5, "area": 120.0, "city": "Paris"}
    price, rent = mlpkit.load_run(run).predict(pd.DataFrame([row]))[0]  # rent: "2021"
    with Server(run, name="two") as server:
        open_ready(page, server.url)
        shown = predict_row(page, row)
    named = dict(part.split(" = ") for part in shown["prediction"].split(", "))
    assert list(named) == ["price", "2021"]  # as --target named them, not as JS orders keys
    assert [float(named["price"]), float(named["2021"])] == pytest.approx([price, rent], rel=1e-4)


def test_the_report_is_one_click_away(page, fashion_server):
    open_ready(page, fashion_server.url)
    page.click("#report-link")
    page.wait_for_load_state()
    assert page.url.endswith("/report")
    assert "Confusion matrix" in page.content()
