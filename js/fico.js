// The whole computation of a two-layer additive risk model (Chen et al. 2018, the FICO entry) for
// one applicant: inputs -> each feature's step function (its intervals, the active one and its
// points) -> the subscales (points coloured from low to high risk; click one for its feature
// points, bias, logit and sigmoid) -> the output (weights, intercept, sigmoid, P(Bad)).
//
// Python sends the model's structure ONCE; every edit is recomputed here, in the page, so the
// whole view follows an edit at once whatever the kernel is doing (a consistent rule can take a
// second to solve). The edit then goes to Python in `values`, which recomputes the same numbers
// with AdditiveRiskModel.computation and sends them back in `kernel` (the "Python agrees" mark).
//
// Synced traits (Python: nbexplain.widgets.fico.FicoWidget):
//   structure {outcome, outcomes, threshold, special_values: [{value, meaning}],
//              features: [{name, kind, subscale, integer, columns: [c], regions: [{label, value,
//                          special, meaning}], typical}],
//              columns: [{name, feature, low, high (null: no upper bound), strict, weight, condition}],
//              subscales: [{name, intercept, weight, features: [j], columns: [c]}],
//              output_intercept}
//   cases     [{label, note, values: {feature: number}}]    the demo applicants
//   values    {feature: number}  the applicant: edited here, read by Python (and set by it)
//   case      label of the demo applicant shown ("" once edited)
//   kernel    {values, probability, logit, predicted} or {values, error}: Python's own result
//   marks     {factors: {feature: rank}, rule: [feature]}  features named by the side panels

// --------------------------------------------------------------------------- arithmetic
/** The logistic function, as scipy.special.expit evaluates it (no overflow either side). */
export function sigmoid(z) {
  if (z < 0) {
    const e = Math.exp(z);
    return e / (1 + e);
  }
  return 1 / (1 + Math.exp(-z));
}

/** b_c(x) = [low <= x < high], or [low < x < high] for a strict column (high null: no upper
 * bound), as StepRecipe.steps_from_raw; a special value's column has high = the next double above
 * it, so it is 1 exactly at that value. */
export function stepValue(column, x) {
  const above = column.strict ? x > column.low : x >= column.low;
  return above && (column.high === null || x < column.high) ? 1 : 0;
}

/** Why `x` cannot be feature `feature`'s value (null when it can): not a finite number, or a
 * negative number that is not one of the special values. */
export function invalidReason(structure, feature, x) {
  if (typeof x !== "number" || !Number.isFinite(x)) {
    return `${feature.name} must be a number`;
  }
  if (x < 0 && !structure.special_values.some((s) => s.value === x)) {
    const codes = structure.special_values.map((s) => s.value).join(", ");
    return `${feature.name} = ${x}: a negative value must be a special value (${codes})`;
  }
  return null;
}

/**
 * Every quantity of the model for one applicant `values` ({feature name: number}), in the order
 * Python computes them (AdditiveRiskModel.computation):
 *   steps b_c, column points w_c b_c, feature points, subscale logits z_s = sum w_c b_c + c_s,
 *   subscale probabilities p_s = sigma(z_s), subscale points v_s p_s, logit L = sum v_s p_s + c_0,
 *   probability sigma(L) and the predicted outcome (P(Bad) above the threshold).
 * `errors` names the features whose value cannot be computed (then the numbers are null).
 */
export function compute(structure, values) {
  const { features, columns, subscales } = structure;
  const raw = features.map((f) => (values ? values[f.name] : undefined));
  const errors = {};
  features.forEach((f, j) => {
    const reason = invalidReason(structure, f, raw[j]);
    if (reason) {
      errors[f.name] = reason;
    }
  });
  if (Object.keys(errors).length) {
    return { raw, errors, valid: false };
  }
  const steps = columns.map((c) => stepValue(c, raw[c.feature]));
  const columnPoints = columns.map((c, i) => c.weight * steps[i]);
  const featurePoints = features.map((f) => f.columns.reduce((total, i) => total + columnPoints[i], 0));
  const subscaleLogits = subscales.map((s) => s.columns.reduce((total, i) => total + columnPoints[i], 0) + s.intercept);
  const subscaleProbabilities = subscaleLogits.map(sigmoid);
  const subscalePoints = subscaleProbabilities.map((p, s) => p * subscales[s].weight);
  const logit = subscalePoints.reduce((total, v) => total + v, 0) + structure.output_intercept;
  const probability = sigmoid(logit);
  const predicted = structure.outcomes[probability > structure.threshold ? 1 : 0];
  const regions = features.map((f, j) => activeRegion(structure, j, steps));
  return {
    raw, errors, valid: true, steps, columnPoints, featurePoints, subscaleLogits, subscaleProbabilities,
    subscalePoints, logit, probability, predicted, regions,
  };
}

/** The step columns of feature `j` at value `x`. */
function featureSteps(structure, j, x) {
  return structure.features[j].columns.map((i) => stepValue(structure.columns[i], x));
}

/** Each region's step columns and points (the value of the feature's step function there). */
export function regionTable(structure) {
  return structure.features.map((f, j) => f.regions.map((region) => {
    const steps = featureSteps(structure, j, region.value);
    const points = f.columns.reduce((total, i, k) => total + structure.columns[i].weight * steps[k], 0);
    return { steps, points };
  }));
}

const tables = new WeakMap();
function regionsOf(structure) {
  if (!tables.has(structure)) {
    tables.set(structure, regionTable(structure));
  }
  return tables.get(structure);
}

/** Which region of feature `j` the applicant's step columns `steps` fall in (-1: none). */
export function activeRegion(structure, j, steps) {
  const own = structure.features[j].columns.map((i) => steps[i]);
  return regionsOf(structure)[j].findIndex((region) => region.steps.every((b, k) => b === own[k]));
}

/** The lowest and highest probability each subscale can give (every feature anywhere in its
 * range, special values included): the ends of its risk colour scale. */
export function subscaleRange(structure) {
  const table = regionsOf(structure);
  return structure.subscales.map((s) => {
    let low = s.intercept;
    let high = s.intercept;
    for (const j of s.features) {
      const points = table[j].map((r) => r.points);
      low += Math.min(...points);
      high += Math.max(...points);
    }
    return [sigmoid(low), sigmoid(high)];
  });
}

/** A subscale's risk level in [0, 1]: its points v_s p_s between the fewest and the most it can
 * give (0.5, neutral, for a subscale whose output weight is 0: it adds nothing). */
export function subscaleRisk(structure, s, points, ranges) {
  const weight = structure.subscales[s].weight;
  return share(points, weight * ranges[s][0], weight * ranges[s][1]);
}

/** Position of `value` between `low` and `high`, within [0, 1] (0.5 when they are equal). */
export function share(value, low, high) {
  if (!(high > low)) {
    return 0.5;
  }
  return Math.min(1, Math.max(0, (value - low) / (high - low)));
}

// Green (low risk) -> yellow -> red (high risk): light enough for dark text.
const SCALE = [[145, 207, 96], [217, 239, 139], [255, 255, 191], [254, 224, 139], [252, 141, 89]];

/** Colour of a risk level in [0, 1]: green (lowest) to red (highest). */
export function riskColour(level) {
  const t = Math.min(1, Math.max(0, Number.isFinite(level) ? level : 0.5)) * (SCALE.length - 1);
  const i = Math.min(SCALE.length - 2, Math.floor(t));
  const f = t - i;
  const rgb = SCALE[i].map((a, k) => Math.round(a + f * (SCALE[i + 1][k] - a)));
  return `rgb(${rgb[0]}, ${rgb[1]}, ${rgb[2]})`;
}

/** Points as the display writes them: three decimals, a true minus sign. */
export function formatPoints(value) {
  if (!Number.isFinite(value)) {
    return "";
  }
  const text = Math.abs(value) < 5e-4 ? "0.000" : value.toFixed(3);
  return text.replace("-", "\u2212");
}

/** A probability as a percentage with one decimal: "79.8 %". */
export function formatPercent(p) {
  return Number.isFinite(p) ? `${(100 * p).toFixed(1)} %` : "";
}

/** A raw value as people read it: 29, 7.5, -7. */
export function formatValue(x) {
  return Number.isFinite(x) ? String(Number(x.toPrecision(10))) : "";
}

// --------------------------------------------------------------------------- the view
const STYLE = `
.nbexplain-fico { font: 12px/1.35 var(--jp-ui-font-family, system-ui, sans-serif); color: var(--jp-ui-font-color1, #222); }
.nbexplain-fico .fx-head { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 16px; padding: 2px 0 8px; }
.nbexplain-fico .fx-head select { font: inherit; max-width: 440px; }
.nbexplain-fico .fx-score { display: flex; align-items: baseline; gap: 10px; padding: 3px 10px; border-radius: 5px; }
.nbexplain-fico .fx-prob { font-size: 22px; font-weight: 650; font-variant-numeric: tabular-nums; }
.nbexplain-fico .fx-pred { font-weight: 600; }
.nbexplain-fico .fx-check { color: #2e7d32; }
.nbexplain-fico .fx-check.fx-pending { color: #777; }
.nbexplain-fico .fx-check.fx-refused { color: #b71c1c; }
.nbexplain-fico .fx-legend { color: #555; margin: 0 0 6px; }
.nbexplain-fico .fx-legend i { display: inline-block; width: 90px; height: 9px; vertical-align: middle; border-radius: 2px;
  background: linear-gradient(90deg, rgb(145,207,96), rgb(217,239,139), rgb(255,255,191), rgb(254,224,139), rgb(252,141,89)); }
.nbexplain-fico .fx-scroll { overflow-x: auto; }
.nbexplain-fico .fx-net { display: flex; flex-wrap: wrap; align-items: flex-start; gap: 14px; }
.nbexplain-fico .fx-blocks { flex: 1 1 900px; min-width: 900px; display: flex; flex-direction: column; gap: 5px; }
.nbexplain-fico .fx-titles { display: grid; grid-template-columns: 240px 128px 1fr 58px 214px; gap: 6px; color: #555;
  font-weight: 600; border-bottom: 1px solid #ccc; padding: 0 0 3px; margin-bottom: 2px; }
.nbexplain-fico .fx-block { display: flex; align-items: stretch; gap: 8px; border: 1px solid #d5dbe0; border-radius: 5px; padding: 3px 4px; }
.nbexplain-fico .fx-feats { flex: 1 1 auto; display: flex; flex-direction: column; gap: 2px; }
.nbexplain-fico .fx-feature { display: grid; grid-template-columns: 236px 128px 1fr 54px; gap: 6px; align-items: center; }
.nbexplain-fico .fx-fname { cursor: pointer; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.nbexplain-fico .fx-fname:hover { text-decoration: underline; }
.nbexplain-fico .fx-tag { display: inline-block; font-size: 10px; line-height: 13px; padding: 0 3px; margin-left: 3px; border-radius: 3px; color: white; vertical-align: 1px; }
.nbexplain-fico .fx-tag-factor { background: #6a1b9a; }
.nbexplain-fico .fx-tag-rule { background: #1f4e79; }
.nbexplain-fico .fx-input { display: flex; gap: 3px; }
.nbexplain-fico .fx-input input { width: 64px; font: inherit; box-sizing: border-box; }
.nbexplain-fico .fx-input input.fx-invalid { outline: 2px solid #c0392b; background: #fdecea; }
.nbexplain-fico .fx-input select { width: 58px; font: inherit; }
.nbexplain-fico .fx-strip { display: flex; gap: 2px; }
.nbexplain-fico .fx-region { flex: 1 1 0; min-width: 34px; max-width: 62px; text-align: center; border: 1px solid #e0e0e0; border-radius: 3px;
  cursor: pointer; padding: 0 1px; font-variant-numeric: tabular-nums; }
.nbexplain-fico .fx-region .fx-rl { font-size: 10px; color: #333; white-space: nowrap; }
.nbexplain-fico .fx-region .fx-rp { font-size: 10px; color: #555; }
.nbexplain-fico .fx-region.fx-special { border-style: dashed; }
.nbexplain-fico .fx-region.fx-active { border: 2px solid #1b2631; font-weight: 700; }
.nbexplain-fico .fx-region.fx-active .fx-rp { color: #111; }
.nbexplain-fico .fx-fpts { text-align: right; font-variant-numeric: tabular-nums; font-weight: 600; }
.nbexplain-fico .fx-columns { margin: 2px 0 4px 20px; border-collapse: collapse; font-size: 11px; }
.nbexplain-fico .fx-columns td, .nbexplain-fico .fx-columns th { padding: 1px 6px; border-bottom: 1px solid #eee; text-align: right; }
.nbexplain-fico .fx-columns td:first-child, .nbexplain-fico .fx-columns th:first-child { text-align: left; }
.nbexplain-fico .fx-columns tr.fx-on td { font-weight: 600; background: #f3f6f9; }
.nbexplain-fico .fx-sub { flex: 0 0 206px; min-width: 0; box-sizing: border-box; border-radius: 5px; padding: 4px 7px; cursor: pointer; display: flex; flex-direction: column;
  justify-content: center; border: 1px solid rgba(0,0,0,0.15); font-variant-numeric: tabular-nums; }
.nbexplain-fico .fx-sub .fx-sname { font-weight: 650; }
.nbexplain-fico .fx-sub .fx-sline { white-space: nowrap; }
.nbexplain-fico .fx-sdetail { margin-top: 4px; border-top: 1px solid rgba(0,0,0,0.2); padding-top: 3px; }
.nbexplain-fico .fx-sdetail table { border-collapse: collapse; width: 100%; table-layout: fixed; font-size: 11px; }
.nbexplain-fico .fx-sdetail td { padding: 0 2px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.nbexplain-fico .fx-sdetail td:last-child { width: 52px; }
.nbexplain-fico .fx-sdetail td:last-child { text-align: right; }
.nbexplain-fico .fx-sdetail tr.fx-total td { border-top: 1px solid rgba(0,0,0,0.3); font-weight: 600; }
.nbexplain-fico .fx-output { flex: 0 0 auto; border: 1px solid #b0bec5; border-radius: 5px; padding: 6px 8px; align-self: flex-start;
  font-variant-numeric: tabular-nums; position: sticky; top: 4px; background: var(--jp-layout-color0, white); }
.nbexplain-fico .fx-output h4 { margin: 0 0 4px; font-size: 13px; }
.nbexplain-fico .fx-output table { border-collapse: collapse; width: 100%; }
.nbexplain-fico .fx-output td, .nbexplain-fico .fx-output th { padding: 1px 3px; text-align: right; white-space: nowrap; }
.nbexplain-fico .fx-output td:first-child, .nbexplain-fico .fx-output th:first-child { text-align: left; }
.nbexplain-fico .fx-output th { color: #555; font-weight: 600; border-bottom: 1px solid #ccc; }
.nbexplain-fico .fx-output tr.fx-total td { border-top: 1px solid #999; font-weight: 650; }
.nbexplain-fico .fx-output .fx-final { font-size: 15px; }
.nbexplain-fico .fx-output .fx-decision { margin-top: 4px; }
.nbexplain-fico .fx-output .fx-bar { display: inline-block; height: 8px; background: #c0392b; opacity: 0.55; vertical-align: middle; }
.nbexplain-fico .fx-stale { opacity: 0.45; }
.nbexplain-fico .fx-message { color: #b71c1c; font-weight: 600; }
`;

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}

function row(cells, className) {
  const tr = element("tr", className);
  for (const cell of cells) {
    tr.appendChild(element("td", "", cell));
  }
  return tr;
}

/** Build the display inside `el` for the widget `model`; returns the clean-up function. (Only the
 * default export names it: anywidget warns about a named `render`.) */
function render({ model, el }) {
  el.classList.add("nbexplain-fico");
  el.replaceChildren();
  const style = document.createElement("style");
  style.textContent = STYLE;

  // ------------------------------------------------------------------ head
  const head = element("div", "fx-head");
  const caseLabel = element("label", "", "Applicant ");
  const caseSelect = element("select", "fx-case");
  caseSelect.setAttribute("aria-label", "demo applicant");
  caseLabel.appendChild(caseSelect);
  const reset = element("button", "fx-reset", "reset");
  reset.title = "back to the demo applicant as it is";
  const scoreBox = element("div", "fx-score");
  const outcomeName = element("span", "fx-outcome");
  const prob = element("span", "fx-prob");
  const pred = element("span", "fx-pred");
  scoreBox.append(outcomeName, prob, pred);
  const check = element("span", "fx-check fx-pending");
  const message = element("span", "fx-message");
  head.append(caseLabel, reset, scoreBox, check, message);
  const legend = element("div", "fx-legend");
  const scroll = element("div", "fx-scroll");
  el.append(style, head, legend, scroll);

  let structure = null;
  let values = {};
  let lastCase = model.get("case") || "";
  let shown = null;
  let views = null;
  const open = { features: new Set(), subscales: new Set() };

  function commit() {
    model.set("values", { ...values });
    model.set("case", caseSelect.value);
    model.save_changes();
  }

  function setValue(name, x) {
    values = { ...values, [name]: x };
    caseSelect.value = "";
    refresh();
    commit();
  }

  // ------------------------------------------------------------------ build
  function buildFeature(j) {
    const f = structure.features[j];
    const view = { j };
    view.box = element("div", "fx-feature");
    view.box.dataset.feature = f.name;
    view.name = element("div", "fx-fname");
    view.name.title = `${f.name}: click to see its step columns (condition, b, weight, points)`;
    view.label = element("span", "", f.name);
    view.tags = element("span", "");
    view.name.append(view.label, view.tags);
    view.name.addEventListener("click", () => {
      if (open.features.has(f.name)) {
        open.features.delete(f.name);
      } else {
        open.features.add(f.name);
      }
      showColumns(view);
    });

    const inputs = element("div", "fx-input");
    view.input = element("input");
    view.input.type = "number";
    view.input.step = f.integer ? "1" : "any";
    view.input.setAttribute("aria-label", f.name);
    view.special = element("select");
    view.special.setAttribute("aria-label", `${f.name} special value`);
    const ordinary = element("option", "", "value");
    ordinary.value = "";
    view.special.appendChild(ordinary);
    for (const s of structure.special_values) {
      const option = element("option", "", String(s.value));
      option.value = String(s.value);
      option.title = s.meaning;
      view.special.appendChild(option);
    }
    view.special.title = structure.special_values.map((s) => `${s.value}: ${s.meaning}`).join("\n");
    inputs.append(view.input, view.special);

    const parse = () => (view.input.value.trim() === "" ? null : Number(view.input.value));
    view.input.addEventListener("input", () => {
      const x = parse();
      if (invalidReason(structure, f, x) === null) {
        values = { ...values, [f.name]: x };
        caseSelect.value = "";
        refresh();
      } else {
        view.input.classList.add("fx-invalid");
      }
    });
    const send = () => {
      const x = parse();
      values = { ...values, [f.name]: x };
      caseSelect.value = "";
      refresh();
      commit(); // an invalid value goes too: Python names what is wrong in the error area
    };
    view.input.addEventListener("change", send);
    view.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        // JupyterLab takes Enter for its own shortcuts (no change event follows): commit here
        event.preventDefault();
        event.stopPropagation();
        send();
      }
    });
    view.special.addEventListener("change", () => {
      const chosen = view.special.value;
      if (chosen === "") {
        const last = view.lastOrdinary;
        setValue(f.name, Number.isFinite(last) ? last : f.typical);
      } else {
        setValue(f.name, Number(chosen));
      }
    });

    view.strip = element("div", "fx-strip");
    view.regions = f.regions.map((region, r) => {
      const cell = element("div", `fx-region${region.special ? " fx-special" : ""}`);
      cell.dataset.region = String(r);
      const label = element("div", "fx-rl", region.label);
      const points = element("div", "fx-rp");
      cell.append(label, points);
      cell.addEventListener("click", () => setValue(f.name, region.value));
      view.strip.appendChild(cell);
      return { cell, points, region };
    });
    view.points = element("div", "fx-fpts");
    view.box.append(view.name, inputs, view.strip, view.points);
    view.columns = element("table", "fx-columns");
    view.columns.hidden = true;
    const table = regionsOf(structure)[j];
    const lowest = Math.min(...table.map((r) => r.points));
    const highest = Math.max(...table.map((r) => r.points));
    view.regions.forEach((entry, r) => {
      entry.points.textContent = formatPoints(table[r].points);
      entry.cell.style.background = riskColour(share(table[r].points, lowest, highest));
      entry.cell.title = `${f.name} ${entry.region.label}${entry.region.meaning ? ` (${entry.region.meaning})` : ""}: `
        + `${formatPoints(table[r].points)} points on ${structure.subscales[f.subscale].name}; click to set ${formatValue(entry.region.value)}`;
    });
    return view;
  }

  function showColumns(view) {
    const f = structure.features[view.j];
    const isOpen = open.features.has(f.name);
    view.columns.hidden = !isOpen;
    if (!isOpen || !shown || !shown.valid) {
      return;
    }
    view.columns.replaceChildren();
    const headRow = element("tr");
    for (const name of ["step column (condition when 1)", "b", "weight w", "points w\u00b7b"]) {
      headRow.appendChild(element("th", "", name));
    }
    view.columns.appendChild(headRow);
    for (const i of f.columns) {
      const c = structure.columns[i];
      view.columns.appendChild(row([c.condition, String(shown.steps[i]), formatPoints(c.weight),
        formatPoints(shown.columnPoints[i])], shown.steps[i] ? "fx-on" : ""));
    }
  }

  function buildSubscale(s) {
    const sub = structure.subscales[s];
    const view = { s };
    view.box = element("div", "fx-sub");
    view.box.dataset.subscale = sub.name;
    view.box.title = "click for the subscale's computation: feature points, bias, logit, sigmoid";
    view.name = element("div", "fx-sname", sub.name);
    view.probability = element("div", "fx-sline");
    view.points = element("div", "fx-sline");
    view.detail = element("div", "fx-sdetail");
    view.detail.hidden = true;
    view.box.append(view.name, view.probability, view.points, view.detail);
    view.box.addEventListener("click", () => {
      if (open.subscales.has(sub.name)) {
        open.subscales.delete(sub.name);
      } else {
        open.subscales.add(sub.name);
      }
      showSubscale(view);
    });
    return view;
  }

  function showSubscale(view) {
    const s = view.s;
    const sub = structure.subscales[s];
    const isOpen = open.subscales.has(sub.name);
    view.detail.hidden = !isOpen;
    view.box.setAttribute("aria-expanded", String(isOpen));
    if (!shown || !shown.valid) {
      return;
    }
    const p = shown.subscaleProbabilities[s];
    view.box.style.background = riskColour(subscaleRisk(structure, s, shown.subscalePoints[s], views.ranges));
    view.probability.textContent = `p = ${formatPercent(p)}`;
    view.points.textContent = `\u00d7 ${formatPoints(sub.weight)} = ${formatPoints(shown.subscalePoints[s])} points`;
    if (!isOpen) {
      return;
    }
    const table = element("table");
    for (const j of sub.features) {
      table.appendChild(row([structure.features[j].name, formatPoints(shown.featurePoints[j])]));
    }
    table.appendChild(row(["bias c", formatPoints(sub.intercept)]));
    table.appendChild(row(["logit z = sum + c", formatPoints(shown.subscaleLogits[s])], "fx-total"));
    table.appendChild(row([`p = \u03c3(z)`, p.toFixed(4)]));
    table.appendChild(row([`points = ${formatPoints(sub.weight)} \u00d7 p`, formatPoints(shown.subscalePoints[s])], "fx-total"));
    view.detail.replaceChildren(table);
  }

  function buildOutput() {
    const box = element("div", "fx-output");
    box.appendChild(element("h4", "", `Output: ${structure.outcome}`));
    const table = element("table");
    const headRow = element("tr");
    for (const name of ["subscale", "p", "\u00d7 v", "= points", ""]) {
      headRow.appendChild(element("th", "", name));
    }
    table.appendChild(headRow);
    const cells = structure.subscales.map((sub) => {
      const tr = element("tr");
      tr.dataset.subscale = sub.name;
      const values = ["name", "p", "v", "points", "bar"].map(() => element("td"));
      values[0].textContent = sub.name;
      values[2].textContent = formatPoints(sub.weight);
      const bar = element("span", "fx-bar");
      values[4].appendChild(bar);
      tr.append(...values);
      table.appendChild(tr);
      return { p: values[1], points: values[3], bar, name: values[0] };
    });
    const total = row(["sum of points", "", "", ""], "fx-total");
    const intercept = row(["+ intercept c\u2080", "", "", formatPoints(structure.output_intercept)]);
    const logit = row(["= logit L", "", "", ""], "fx-total");
    const final = row([`${structure.outcome} = \u03c3(L)`, "", "", ""], "fx-total fx-final");
    for (const tr of [total, intercept, logit, final]) {
      tr.appendChild(element("td"));
      table.appendChild(tr);
    }
    const decision = element("div", "fx-decision");
    box.append(table, decision);
    return { box, cells, total, logit, final, decision };
  }

  function build() {
    structure = model.get("structure");
    scroll.replaceChildren();
    views = null;
    if (!structure || !structure.features) {
      return;
    }
    const net = element("div", "fx-net");
    const blocks = element("div", "fx-blocks");
    const titles = element("div", "fx-titles");
    for (const name of ["feature (click: its step columns)", "input", "step function: points on its subscale by interval",
      "points", "subscale (click: its computation)"]) {
      titles.appendChild(element("div", "", name));
    }
    blocks.appendChild(titles);
    const features = [];
    const subscales = structure.subscales.map((sub, s) => {
      const block = element("div", "fx-block");
      block.dataset.subscale = sub.name;
      const feats = element("div", "fx-feats");
      for (const j of sub.features) {
        const view = buildFeature(j);
        features[j] = view;
        feats.append(view.box, view.columns);
      }
      const view = buildSubscale(s);
      block.append(feats, view.box);
      blocks.appendChild(block);
      return view;
    });
    const output = buildOutput();
    net.append(blocks, output.box);
    scroll.appendChild(net);
    views = { features, subscales, output, ranges: subscaleRange(structure) };
    legend.replaceChildren(
      document.createTextNode(
        `${structure.features.length} features \u2192 ${structure.columns.length} step columns \u2192 `
        + `${structure.subscales.length} subscales \u2192 ${structure.outcome}. Colour: risk from low `),
      element("i"),
      element("span", "", " to high, the fewest to the most points that interval (or subscale) can give. "
        + `Special values: ${structure.special_values.map((s) => `${s.value} ${s.meaning}`).join("; ")}.`),
    );
    buildCases();
    refresh();
    showMarks();
  }

  function buildCases() {
    const cases = model.get("cases") || [];
    const chosen = model.get("case") || "";
    caseSelect.replaceChildren();
    const edited = element("option", "", "(edited)");
    edited.value = "";
    caseSelect.appendChild(edited);
    for (const entry of cases) {
      const option = element("option", "", entry.note ? `${entry.label} \u00b7 ${entry.note}` : entry.label);
      option.value = entry.label;
      caseSelect.appendChild(option);
    }
    caseSelect.value = cases.some((c) => c.label === chosen) ? chosen : "";
  }

  caseSelect.addEventListener("change", () => {
    const entry = (model.get("cases") || []).find((c) => c.label === caseSelect.value);
    if (entry) {
      lastCase = entry.label;
      values = { ...entry.values };
      refresh();
      commit();
    }
  });

  reset.addEventListener("click", () => {
    const cases = model.get("cases") || [];
    const entry = cases.find((c) => c.label === lastCase) || cases[0];
    if (entry) {
      caseSelect.value = entry.label;
      values = { ...entry.values };
      refresh();
      commit();
    }
  });

  // ------------------------------------------------------------------ refresh
  function refresh() {
    if (!views) {
      return;
    }
    const result = compute(structure, values);
    const problems = Object.values(result.errors);
    message.textContent = problems.length ? `${problems.join("; ")} (not computed)` : "";
    scroll.classList.toggle("fx-stale", !result.valid);
    for (const view of views.features) {
      const f = structure.features[view.j];
      const x = result.raw[view.j];
      const bad = f.name in result.errors;
      if (document.activeElement !== view.input) {
        view.input.value = Number.isFinite(x) ? formatValue(x) : "";
      }
      view.input.classList.toggle("fx-invalid", bad);
      const special = structure.special_values.some((s) => s.value === x);
      view.special.value = special ? String(x) : "";
      if (Number.isFinite(x) && x >= 0) {
        view.lastOrdinary = x;
      }
    }
    if (!result.valid) {
      check.textContent = "";
      return;
    }
    shown = result;
    for (const view of views.features) {
      const active = result.regions[view.j];
      view.regions.forEach((entry, r) => entry.cell.classList.toggle("fx-active", r === active));
      view.points.textContent = formatPoints(result.featurePoints[view.j]);
      showColumns(view);
    }
    views.subscales.forEach(showSubscale);
    const out = views.output;
    const largest = Math.max(1e-12, ...structure.subscales.map((sub, s) => sub.weight * views.ranges[s][1]));
    out.cells.forEach((cell, s) => {
      cell.p.textContent = formatPercent(result.subscaleProbabilities[s]);
      cell.points.textContent = formatPoints(result.subscalePoints[s]);
      cell.bar.style.width = `${Math.max(0, (44 * result.subscalePoints[s]) / largest).toFixed(1)}px`;
      cell.name.style.background = riskColour(subscaleRisk(structure, s, result.subscalePoints[s], views.ranges));
    });
    const sum = result.subscalePoints.reduce((total, v) => total + v, 0);
    out.total.children[3].textContent = formatPoints(sum);
    out.logit.children[3].textContent = result.logit.toFixed(4);
    out.final.children[3].textContent = result.probability.toFixed(4);
    out.decision.textContent = `predicted ${result.predicted}: ${structure.outcome} `
      + `${result.probability > structure.threshold ? ">" : "\u2264"} ${structure.threshold}`;
    outcomeName.textContent = structure.outcome;
    prob.textContent = formatPercent(result.probability);
    pred.textContent = `predicted ${result.predicted}`;
    scoreBox.style.background = riskColour(result.probability);
    showCheck();
  }

  function sameValues(a, b) {
    return Boolean(structure && a && b) && structure.features.every((f) => a[f.name] === b[f.name]);
  }

  /** "Python agrees" once the kernel's own computation of the same applicant has come back. */
  function showCheck() {
    const kernel = model.get("kernel") || {};
    check.classList.remove("fx-pending", "fx-refused");
    if (!structure || !kernel.values || !sameValues(kernel.values, values)) {
      check.textContent = "\u2026 Python is checking";
      check.classList.add("fx-pending");
      return;
    }
    if (kernel.error) {
      check.textContent = "Python refused this input (see the message)";
      check.classList.add("fx-refused");
      return;
    }
    if (!shown || !shown.valid) {
      check.textContent = "";
      return;
    }
    const difference = Math.abs(kernel.probability - shown.probability);
    if (difference <= 1e-12 && kernel.predicted === shown.predicted) {
      check.textContent = `\u2713 Python agrees ${difference === 0 ? "to the last digit" : `(|\u0394| = ${difference.toExponential(0)})`}`;
      check.title = `AdditiveRiskModel.computation: ${structure.outcome} ${kernel.probability}, logit ${kernel.logit}`;
    } else {
      check.textContent = `\u2717 Python computes ${kernel.probability.toFixed(6)}`;
      check.classList.add("fx-refused");
    }
  }

  function showMarks() {
    if (!views) {
      return;
    }
    const marks = model.get("marks") || {};
    const factors = marks.factors || {};
    const rule = new Set(marks.rule || []);
    for (const view of views.features) {
      const name = structure.features[view.j].name;
      view.tags.replaceChildren();
      if (name in factors) {
        const tag = element("span", "fx-tag fx-tag-factor", `factor ${factors[name]}`);
        tag.title = "named by the most important contributing factors";
        view.tags.appendChild(tag);
      }
      if (rule.has(name)) {
        const tag = element("span", "fx-tag fx-tag-rule", "rule");
        tag.title = "a condition of the globally consistent rule";
        view.tags.appendChild(tag);
      }
    }
  }

  function fromPython() {
    const incoming = model.get("values") || {};
    if (!sameValues(incoming, values)) {
      values = { ...incoming };
      const chosen = model.get("case") || "";
      if ([...caseSelect.options].some((o) => o.value === chosen)) {
        caseSelect.value = chosen;
      }
      refresh();
    }
  }

  const handlers = [
    ["change:structure", build],
    ["change:cases", buildCases],
    ["change:values", fromPython],
    ["change:case", () => {
      lastCase = model.get("case") || lastCase;
      buildCases();
    }],
    ["change:kernel", showCheck],
    ["change:marks", showMarks],
  ];
  for (const [event, handler] of handlers) {
    model.on(event, handler);
  }
  values = { ...(model.get("values") || {}) };
  build();
  return () => {
    for (const [event, handler] of handlers) {
      model.off(event, handler);
    }
  };
}

export default { render };
