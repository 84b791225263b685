// The page: reads /model, shows the inputs the model takes, posts to /predict and
// draws every class's probability as a bar. Plain JavaScript, no build step.
"use strict";

const $ = (selector) => document.querySelector(selector);
let model = null;

async function call(url, options) {
  const response = await fetch(url, options);
  let body = null;
  try { body = await response.json(); } catch (e) { /* not JSON */ }
  if (!response.ok) throw new Error((body && body.error) || `${response.status} ${response.statusText}`);
  return body;
}

function element(tag, props = {}, children = []) {
  const node = Object.assign(document.createElement(tag), props);
  for (const child of children) node.append(child);
  return node;
}

function clearResult() {
  for (const id of ["#prediction", "#probability"]) $(id).textContent = "";
  $("#notes").replaceChildren();
  $("#bars").replaceChildren();
}

function showError(message) {
  // an earlier answer must not read as this input's
  clearResult();
  $("#error").textContent = message;
  $("#error").hidden = false;
  $("#status").textContent = "";
}

function percent(p) { return `${(100 * p).toFixed(1)}%`; }

function show(record, count = 1) {
  $("#error").hidden = true;
  // a .npy stack: one record per image; the page shows the first
  $("#status").textContent = count > 1
    ? `The file holds ${count} images; this is the first (row 1). mlpkit predict or POST /predict gives them all.`
    : "";
  const value = record.prediction;
  // several targets: each by its name, in the model's order (as `mlpkit predict` prints
  // them; an object's integer-like keys, "2021", would come first)
  $("#prediction").textContent = record.predictions
    ? (model.target_names || Object.keys(record.predictions))
      .map((k) => `${k} = ${record.predictions[k].toPrecision(6)}`).join(", ")
    : record.error ? `no prediction: ${record.error}`
    : Array.isArray(value) ? (value.join(", ") || "(no label)")
    : typeof value === "number" ? value.toPrecision(6) : String(value);
  $("#probability").textContent = record.probability != null ? `(${percent(record.probability)})` : "";
  $("#notes").replaceChildren(...record.notes.map((n) => element("li", { textContent: n })));
  const bars = $("#bars");
  bars.replaceChildren();
  const probabilities = record.probabilities || {};
  const top = Math.max(...Object.values(probabilities));
  for (const [name, p] of Object.entries(probabilities)) {
    const fill = element("span", { className: "fill" });
    fill.style.width = percent(p);
    const bar = element("div", { className: p === top ? "bar top" : "bar" }, [
      element("span", { className: "name", textContent: name }),
      element("span", { className: "track" }, [fill]),
      element("span", { className: "value", textContent: percent(p) }),
    ]);
    bar.dataset.class = name;
    bar.dataset.probability = String(p);
    bars.append(bar);
  }
  document.body.dataset.state = "predicted";
}

async function predict(options) {
  $("#status").textContent = "Predicting…";
  document.body.dataset.state = "busy";
  try {
    const records = await call("/predict?probabilities=true", { method: "POST", ...options });
    show(records[0], records.length);
  } catch (e) {
    showError(e.message);
    document.body.dataset.state = "error";
  }
}

function predictFile(blob, name) {
  const form = new FormData();
  form.append("file", blob, name);
  return predict({ body: form });
}

function predictRows(rows) {
  return predict({ body: JSON.stringify({ rows }), headers: { "Content-Type": "application/json" } });
}

// --- image models: upload or draw -----------------------------------------------------

function setupImage() {
  $("#image-input").hidden = false;
  const [h, w] = model.image.size;
  $("#input-size").textContent = `${w}x${h} ${model.image.color}`;
  const preview = $("#preview");
  $("#file").addEventListener("change", async (event) => {
    const file = event.target.files[0];
    if (!file) return;
    // the previous picture goes: a .npy or a file the browser cannot draw shows none
    const ctx = preview.getContext("2d");
    ctx.clearRect(0, 0, preview.width, preview.height);
    clearResult();
    if (!file.name.toLowerCase().endsWith(".npy")) {
      try {
        const bitmap = await createImageBitmap(file);
        ctx.imageSmoothingEnabled = false;
        ctx.drawImage(bitmap, 0, 0, preview.width, preview.height);
      } catch (e) { /* the server says what is wrong with it */ }
    }
    predictFile(file, file.name);
  });

  const sketch = $("#sketch");
  const ctx = sketch.getContext("2d");
  const clear = () => { ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, sketch.width, sketch.height); };
  clear();
  ctx.lineWidth = sketch.width / 12;
  ctx.lineCap = ctx.lineJoin = "round";
  ctx.strokeStyle = "#000";
  let drawing = false;
  const at = (event) => {
    const box = sketch.getBoundingClientRect();
    return [(event.clientX - box.left) * sketch.width / box.width,
            (event.clientY - box.top) * sketch.height / box.height];
  };
  sketch.addEventListener("pointerdown", (event) => {
    drawing = true;
    sketch.setPointerCapture(event.pointerId);
    ctx.beginPath();
    ctx.moveTo(...at(event));
  });
  sketch.addEventListener("pointermove", (event) => {
    if (!drawing) return;
    ctx.lineTo(...at(event));
    ctx.stroke();
  });
  const finish = () => {
    if (!drawing) return;
    drawing = false;
    sendSketch();
  };
  sketch.addEventListener("pointerup", finish);
  sketch.addEventListener("pointercancel", finish);
  const sendSketch = () => sketch.toBlob((blob) => predictFile(blob, "drawing.png"), "image/png");
  $("#clear").addEventListener("click", clear);
  $("#predict-sketch").addEventListener("click", sendSketch);
}

// --- table models: one field per column -------------------------------------------

// each field: the column's label, its control (id col-NAME) and what follows it
function field(column, control, ...more) {
  return element("div", { className: "field" },
    [element("label", { htmlFor: control.id, textContent: column.name }), control, ...more]);
}

function hint(text) { return element("span", { className: "hint", textContent: text }); }

function choice(column, values) {
  const select = element("select", { id: `col-${column.name}`, name: column.name },
    values.map((v) => element("option", { value: v, textContent: v })));
  select.append(element("option", { value: "", textContent: "(missing)" }));
  return select;
}

function numberField(column) {
  const input = element("input", { type: "number", step: "any", id: `col-${column.name}`,
                                   name: column.name, value: String(column.median) });
  if (!(column.min != null && column.max != null && column.min < column.max)) {
    return field(column, input);
  }
  const slider = element("input", { type: "range", min: String(column.min),
                                    max: String(column.max), step: "any",
                                    value: String(column.median) });
  slider.setAttribute("aria-label", `${column.name} within the training range`);
  slider.addEventListener("input", () => { input.value = slider.value; });
  input.addEventListener("input", () => { slider.value = input.value; });
  return field(column, input, slider,
    hint(`training range ${column.min} – ${column.max}, median ${column.median}`));
}

function categoryField(column) {
  return field(column, choice(column, column.categories),
    hint(`${column.categories.length} categories in training`));
}

function booleanField(column) {
  return field(column, choice(column, column.values), hint("yes/no"));
}

function textField(column) {
  // free text: any words; the frequent training values are offered as suggestions
  const list = `values-${column.name}`;  // ("col-" ids cannot collide with it)
  const values = column.categories || [];
  const input = element("input", { type: "text", id: `col-${column.name}`, name: column.name,
                                   value: values[0] ?? "" });
  input.setAttribute("list", list);
  return field(column, input,
    element("datalist", { id: list }, values.map((c) => element("option", { value: c }))),
    hint(`text; ${values.length} frequent values in training, others coded as unknown`));
}

function dateField(column) {
  const input = element("input", { type: column.time ? "datetime-local" : "date",
                                   id: `col-${column.name}`, name: column.name,
                                   value: column.median });
  return field(column, input,
    hint(`date${column.time ? " and time" : ""}; starts at the training medians of its parts`));
}

const FIELDS = { number: numberField, boolean: booleanField, datetime: dateField,
                 text: textField, category: categoryField };

function setupTable() {
  $("#table-input").hidden = false;
  $("#fields").replaceChildren(...model.columns.map(
    (c) => (FIELDS[c.type] || textField)(c)));  // a kind this page does not know: text
  $("#row-form").addEventListener("submit", (event) => {
    event.preventDefault();
    // entries, not assignments: a column may be named "__proto__"
    const row = Object.fromEntries(model.columns.map((c) => {
      const value = $(`#col-${CSS.escape(c.name)}`).value;
      return [c.name, value === "" ? null : c.type === "number" ? Number(value) : value];
    }));
    predictRows([row]);
  });
}

// --- array models: a JSON row -----------------------------------------------------

function setupArrays() {
  $("#array-input").hidden = false;
  const size = model.input_shape.reduce((a, b) => a * b, 1);
  $("#array").value = JSON.stringify(new Array(size).fill(0));
  $("#array-form").addEventListener("submit", (event) => {
    event.preventDefault();
    let row;
    try { row = JSON.parse($("#array").value); } catch (e) { return showError(`not JSON: ${e.message}`); }
    predictRows([row]);
  });
}

async function waitUntilReady() {
  for (;;) {
    const response = await fetch("/v2/health/ready");
    if (response.ok) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function main() {
  try {
    model = await call("/model");
  } catch (e) {
    return showError(e.message);
  }
  document.title = `${model.name} · mlpkit`;
  $("#title").textContent = model.name;
  const metrics = Object.entries(model.metrics || {})
    .map(([k, v]) => `${k.replace("test_", "test ")} ${Number(v).toFixed(4)}`).join(", ");
  const on = { images: "images", table: "a table", arrays: "arrays" }[model.kind];
  $("#summary").textContent = `${model.task} model on ${on}` + (metrics ? `; ${metrics}` : "");
  $("#report-link").hidden = !model.report;
  ({ images: setupImage, table: setupTable, arrays: setupArrays })[model.kind]();
  await waitUntilReady();
  $("#status").textContent = "Ready.";
  document.body.dataset.state = "ready";
}

main();
