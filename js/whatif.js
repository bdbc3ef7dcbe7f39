// What-if editor: one compact row per feature. Numeric features draw the data's distribution small
// behind a draggable value marker; categorical features are choices. A row's colour comes from the
// local importance of its feature (red raises the output, blue lowers it). One synced trait,
// `values`, carries the edited values back to Python.
//
// Synced traits (Python: nbexplain.widgets.whatif.WhatIfWidget):
//   features  [{name, kind: "number", min, max, step, integer, bins: [counts]}
//              | {name, kind: "choice", options: [{value, label, share}]}]
//   values    {name: number}   edited here, read by Python
//   original  {name: number}   the picked row as it is (markers, reset)
//   importance {name: [share in %, gradient]}
//   prediction, original_prediction (numbers), outcome (text)

const SVG = "http://www.w3.org/2000/svg";
export const TRACK_WIDTH = 160;
export const TRACK_HEIGHT = 22;
const RAISES = [192, 57, 43];
const LOWERS = [46, 109, 164];

/** Keep `value` within [low, high]. */
export function clamp(value, low, high) {
  return Math.min(high, Math.max(low, value));
}

/** Round a numeric feature's value to its step (and to an integer for integer features). */
export function snap(value, spec) {
  let snapped = value;
  if (spec.step > 0) {
    snapped = spec.min + Math.round((value - spec.min) / spec.step) * spec.step;
  }
  if (spec.integer) {
    snapped = Math.round(snapped);
  }
  return Number(snapped.toPrecision(12));
}

/** Horizontal position of `value` on a track of `width` pixels (clamped to the track). */
export function valueToX(value, spec, width = TRACK_WIDTH) {
  const span = spec.max - spec.min;
  if (!(span > 0)) {
    return width / 2;
  }
  return clamp((value - spec.min) / span, 0, 1) * width;
}

/** The value at pixel `x` of the track, snapped to the feature's step. */
export function xToValue(x, spec, width = TRACK_WIDTH) {
  const share = clamp(x / width, 0, 1);
  return snap(spec.min + share * (spec.max - spec.min), spec);
}

/** Background colour of a row: hue from the gradient's sign, strength from the share. */
export function rowColour(entry, largestShare) {
  if (!entry || !(largestShare > 0)) {
    return "transparent";
  }
  const [share, gradient] = entry;
  const rgb = gradient > 0 ? RAISES : gradient < 0 ? LOWERS : [127, 140, 141];
  const alpha = 0.06 + 0.5 * clamp(share / largestShare, 0, 1);
  return `rgba(${rgb[0]}, ${rgb[1]}, ${rgb[2]}, ${alpha.toFixed(3)})`;
}

/** A short readable number: 200,000 or 0.125. */
export function formatValue(value) {
  if (!Number.isFinite(value)) {
    return String(value);
  }
  return Math.abs(value) >= 1000 ? Math.round(value).toLocaleString("en-US") : String(Number(value.toPrecision(4)));
}

function svgElement(name, attributes) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) {
    node.setAttribute(key, String(value));
  }
  return node;
}

function trackWidth(svg) {
  const width = svg.getBoundingClientRect().width;
  return width > 0 ? width : TRACK_WIDTH;
}

const STYLE = `
.nbexplain-whatif { font: 12px/1.3 var(--jp-ui-font-family, system-ui, sans-serif); color: var(--jp-ui-font-color1, #222); }
.nbexplain-whatif .wi-head { display: flex; align-items: baseline; gap: 10px; padding: 4px 2px 6px; flex-wrap: wrap; }
.nbexplain-whatif .wi-score { font-size: 20px; font-weight: 600; }
.nbexplain-whatif .wi-was { color: #666; }
.nbexplain-whatif .wi-rows { display: grid; grid-template-columns: minmax(90px, max-content) ${TRACK_WIDTH}px 92px 42px; gap: 1px 8px; align-items: center; }
.nbexplain-whatif .wi-row { display: contents; }
.nbexplain-whatif .wi-name, .nbexplain-whatif .wi-share { padding: 2px 4px; border-radius: 3px; white-space: nowrap; }
.nbexplain-whatif .wi-share { color: #555; text-align: right; font-variant-numeric: tabular-nums; }
.nbexplain-whatif .wi-edited .wi-name { font-weight: 600; }
.nbexplain-whatif svg { display: block; cursor: ew-resize; touch-action: none; outline: none; }
.nbexplain-whatif svg:focus .wi-marker { stroke: #f1c40f; stroke-width: 3; }
.nbexplain-whatif input, .nbexplain-whatif select { width: 88px; font: inherit; box-sizing: border-box; }
.nbexplain-whatif input.wi-invalid { outline: 2px solid #c0392b; }
.nbexplain-whatif button { font: inherit; cursor: pointer; }
`;

function numberTrack(spec, row) {
  const svg = svgElement("svg", { width: TRACK_WIDTH, height: TRACK_HEIGHT, tabindex: 0, role: "slider",
    "aria-label": spec.name, "aria-valuemin": spec.min, "aria-valuemax": spec.max });
  const bins = spec.bins || [];
  const tallest = Math.max(1, ...bins);
  const barWidth = TRACK_WIDTH / Math.max(1, bins.length);
  bins.forEach((count, i) => {
    const height = (count / tallest) * (TRACK_HEIGHT - 4);
    svg.appendChild(svgElement("rect", { class: "wi-bin", x: i * barWidth, y: TRACK_HEIGHT - height,
      width: Math.max(barWidth - 0.5, 0.5), height, fill: "#b8c2cc" }));
  });
  row.originalMarker = svgElement("line", { class: "wi-original", y1: 2, y2: TRACK_HEIGHT, stroke: "#555",
    "stroke-dasharray": "2,2", "stroke-width": 1 });
  row.marker = svgElement("rect", { class: "wi-marker", y: 0, width: 6, height: TRACK_HEIGHT, rx: 2,
    fill: "#1f2d3a", stroke: "white", "stroke-width": 1 });
  svg.appendChild(row.originalMarker);
  svg.appendChild(row.marker);
  return svg;
}

function choiceTrack(spec, row) {
  const svg = svgElement("svg", { width: TRACK_WIDTH, height: TRACK_HEIGHT, role: "listbox", "aria-label": spec.name });
  const tallest = Math.max(1e-9, ...spec.options.map((o) => o.share));
  const width = TRACK_WIDTH / spec.options.length;
  row.optionBars = spec.options.map((option, i) => {
    const height = 3 + (option.share / tallest) * (TRACK_HEIGHT - 5);
    const bar = svgElement("rect", { class: "wi-option", x: i * width + 1, y: TRACK_HEIGHT - height,
      width: Math.max(width - 2, 1), height, fill: "#b8c2cc", "data-value": option.value });
    const title = svgElement("title", {});
    title.textContent = `${option.label}: ${(100 * option.share).toFixed(1)} % of rows`;
    bar.appendChild(title);
    svg.appendChild(bar);
    return bar;
  });
  return svg;
}

/** Build the editor inside `el` for the widget `model`; returns the clean-up function. */
export function render({ model, el }) {
  el.classList.add("nbexplain-whatif");
  el.replaceChildren();
  const style = document.createElement("style");
  style.textContent = STYLE;
  el.appendChild(style);

  const head = document.createElement("div");
  head.className = "wi-head";
  const title = document.createElement("b");
  title.textContent = "What if?";
  const outcome = document.createElement("span");
  const score = document.createElement("span");
  score.className = "wi-score";
  const was = document.createElement("span");
  was.className = "wi-was";
  const reset = document.createElement("button");
  reset.className = "wi-reset";
  reset.textContent = "reset";
  reset.title = "back to the row as it is";
  head.append(title, outcome, score, was, reset);
  const grid = document.createElement("div");
  grid.className = "wi-rows";
  el.append(head, grid);

  const rows = new Map();

  function commit(name, value) {
    const values = { ...model.get("values"), [name]: value };
    model.set("values", values);
    model.save_changes();
  }

  function showNumber(row, value) {
    const x = valueToX(value, row.spec);
    row.marker.setAttribute("x", String(clamp(x - 3, 0, TRACK_WIDTH - 6)));
    row.track.setAttribute("aria-valuenow", String(value));
    if (document.activeElement !== row.input) {
      row.input.value = String(value);
    }
    row.input.classList.remove("wi-invalid");
  }

  function showChoice(row, value) {
    row.select.value = String(value);
    row.optionBars.forEach((bar) => {
      const chosen = Number(bar.getAttribute("data-value")) === Number(value);
      bar.setAttribute("fill", chosen ? "#1f2d3a" : "#b8c2cc");
    });
  }

  function buildRow(spec) {
    const row = { spec };
    row.name = document.createElement("div");
    row.name.className = "wi-name";
    row.name.textContent = spec.name;
    row.share = document.createElement("div");
    row.share.className = "wi-share";
    const box = document.createElement("div");
    box.className = "wi-row";
    box.dataset.feature = spec.name;
    row.box = box;
    if (spec.kind === "choice") {
      row.track = choiceTrack(spec, row);
      row.select = document.createElement("select");
      row.select.setAttribute("aria-label", spec.name);
      for (const option of spec.options) {
        const item = document.createElement("option");
        item.value = String(option.value);
        item.textContent = `${option.value} · ${option.label}`;
        row.select.appendChild(item);
      }
      row.select.addEventListener("change", () => commit(spec.name, Number(row.select.value)));
      row.optionBars.forEach((bar) => bar.addEventListener("click", () => {
        commit(spec.name, Number(bar.getAttribute("data-value")));
      }));
      row.show = (value) => showChoice(row, value);
      box.append(row.name, row.track, row.select, row.share);
    } else {
      row.track = numberTrack(spec, row);
      row.input = document.createElement("input");
      row.input.type = "number";
      row.input.step = String(spec.step || "any");
      row.input.setAttribute("aria-label", spec.name);
      row.input.addEventListener("change", () => {
        const value = Number(row.input.value);
        if (row.input.value.trim() === "" || !Number.isFinite(value)) {
          row.input.classList.add("wi-invalid");
          return;
        }
        commit(spec.name, spec.integer ? Math.round(value) : value);
      });
      let dragging = false;
      const valueAt = (event) => {
        const rect = row.track.getBoundingClientRect();
        return xToValue(event.clientX - rect.left, spec, trackWidth(row.track));
      };
      row.track.addEventListener("pointerdown", (event) => {
        dragging = true;
        if (row.track.setPointerCapture && event.pointerId !== undefined) {
          try { row.track.setPointerCapture(event.pointerId); } catch { /* synthetic events have no live pointer */ }
        }
        showNumber(row, valueAt(event));
      });
      row.track.addEventListener("pointermove", (event) => {
        if (dragging) {
          showNumber(row, valueAt(event));
        }
      });
      row.track.addEventListener("pointerup", (event) => {
        if (dragging) {
          dragging = false;
          commit(spec.name, valueAt(event));
        }
      });
      row.track.addEventListener("keydown", (event) => {
        const step = spec.step > 0 ? spec.step : (spec.max - spec.min) / 100;
        const current = Number(model.get("values")[spec.name]);
        const moves = { ArrowRight: step, ArrowUp: step, ArrowLeft: -step, ArrowDown: -step,
          PageUp: 10 * step, PageDown: -10 * step };
        let next;
        if (event.key in moves) {
          next = snap(current + moves[event.key], spec);
        } else if (event.key === "Home") {
          next = spec.min;
        } else if (event.key === "End") {
          next = spec.max;
        } else {
          return;
        }
        event.preventDefault();
        commit(spec.name, next);
      });
      row.show = (value) => showNumber(row, value);
      box.append(row.name, row.track, row.input, row.share);
    }
    return row;
  }

  function build() {
    grid.replaceChildren();
    rows.clear();
    for (const spec of model.get("features")) {
      const row = buildRow(spec);
      rows.set(spec.name, row);
      grid.appendChild(row.box);
    }
    showValues();
    showImportance();
  }

  function showValues() {
    const values = model.get("values") || {};
    const original = model.get("original") || {};
    for (const [name, row] of rows) {
      if (name in values) {
        row.show(Number(values[name]));
      }
      if (row.originalMarker && name in original) {
        const x = valueToX(Number(original[name]), row.spec);
        row.originalMarker.setAttribute("x1", String(x));
        row.originalMarker.setAttribute("x2", String(x));
      }
      const edited = name in values && name in original && Number(values[name]) !== Number(original[name]);
      row.box.classList.toggle("wi-edited", edited);
    }
  }

  function showImportance() {
    const importance = model.get("importance") || {};
    const largest = Math.max(0, ...Object.values(importance).map((entry) => entry[0]));
    for (const [name, row] of rows) {
      const entry = importance[name];
      const colour = rowColour(entry, largest);
      row.name.style.background = colour;
      row.share.style.background = colour;
      row.share.textContent = entry ? `${entry[0].toFixed(0)} %` : "";
      row.name.title = entry ? `local importance ${entry[0].toFixed(1)} %, gradient ${entry[1].toPrecision(3)}` : "";
    }
  }

  function showPrediction() {
    const prediction = model.get("prediction");
    const original = model.get("original_prediction");
    outcome.textContent = model.get("outcome");
    score.textContent = Number.isFinite(prediction) ? prediction.toFixed(3) : "";
    const changed = Number.isFinite(original) && Math.abs(prediction - original) > 5e-4;
    was.textContent = changed ? `was ${original.toFixed(3)} (${prediction >= original ? "+" : ""}${(prediction - original).toFixed(3)})` : "";
    score.style.color = changed ? (prediction > original ? "#c0392b" : "#2e6da4") : "";
  }

  reset.addEventListener("click", () => {
    model.set("values", { ...model.get("original") });
    model.save_changes();
  });

  const handlers = [
    ["change:features", build],
    ["change:values", showValues],
    ["change:original", showValues],
    ["change:importance", showImportance],
    ["change:prediction", showPrediction],
    ["change:original_prediction", showPrediction],
    ["change:outcome", showPrediction],
  ];
  for (const [event, handler] of handlers) {
    model.on(event, handler);
  }
  build();
  showPrediction();
  return () => {
    for (const [event, handler] of handlers) {
      model.off(event, handler);
    }
  };
}

export default { render };
