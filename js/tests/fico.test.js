// The FICO display's ES module under Node's test runner: the arithmetic against numbers Python
// computed (AdditiveRiskModel.computation), then render() in a jsdom DOM against a fake widget
// model that behaves like anywidget's (get/set/on/off/save_changes).
//
// With FICO_VECTORS=path (written by tests/test_fico_display.py: the fitted HELOC model's
// structure and Python's computation of many rows), every row is recomputed here and compared;
// with FICO_RESULTS=path the numbers computed here are written back for Python to compare too.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { afterEach, beforeEach, describe, test } from "node:test";

import { JSDOM } from "jsdom";

import display, {
  activeRegion, compute, formatPercent, formatPoints, invalidReason, riskColour, share, sigmoid, stepValue,
  subscaleRange, subscaleRisk,
} from "../fico.js";

// A small model written by nbexplain.widgets.fico.fico_structure (hand-set weights): "Age" (<, cuts
// 10, 20) and "Late" (>, cuts 1, 3) in subscale History, "Trades" (bins 0, 5) in subscale Trades;
// special values -7 and -9.
const region = (label, value, meaning) => ({ label, value, special: meaning !== undefined, meaning: meaning || "" });
const column = (name, feature, low, high, strict, weight, condition) => ({ name, feature, low, high, strict, weight, condition });
const SPECIALS = [region("-7", -7, "condition not met"), region("-9", -9, "no record")];
const NEXT_7 = -6.999999999999999; // the next double above -7: [-7, NEXT_7) = {-7}
const NEXT_9 = -8.999999999999998;
const SMALL = {
  outcome: "P(Bad)",
  outcomes: ["Good", "Bad"],
  threshold: 0.5,
  special_values: [{ value: -7, meaning: "condition not met" }, { value: -9, meaning: "no record" }],
  features: [
    { name: "Age", kind: "<", subscale: 0, integer: true, columns: [0, 1, 2, 3, 4], typical: 12,
      regions: [region("0\u20139", 0), region("10\u201319", 10), region("\u226520", 20), ...SPECIALS] },
    { name: "Late", kind: ">", subscale: 0, integer: true, columns: [5, 6, 7, 8, 9], typical: 1,
      regions: [region("0\u20131", 0), region("2\u20133", 2), region("\u22654", 4), ...SPECIALS] },
    { name: "Trades", kind: "bins", subscale: 1, integer: true, columns: [10, 11, 12, 13], typical: 3,
      regions: [region("0\u20134", 0), region("\u22655", 5), ...SPECIALS] },
  ],
  columns: [
    column("Age=-7", 0, -7, NEXT_7, false, 0.3, "Age: condition not met (-7)"),
    column("Age=-9", 0, -9, NEXT_9, false, -0.2, "Age: no record (-9)"),
    column("Age<10", 0, 0, 10, false, 0.7, "Age is 9 or less"),
    column("Age<20", 0, 0, 20, false, 0.25, "Age is 19 or less"),
    column("Age>=0", 0, 0, null, false, 0.1, "Age is recorded (0 or more)"),
    column("Late=-7", 1, -7, NEXT_7, false, 0.05, "Late: condition not met (-7)"),
    column("Late=-9", 1, -9, NEXT_9, false, -0.4, "Late: no record (-9)"),
    column("Late>1", 1, 1, null, true, 0.5, "Late is 2 or more"),
    column("Late>3", 1, 3, null, true, 0.9, "Late is 4 or more"),
    column("Late>=0", 1, 0, null, false, -0.15, "Late is recorded (0 or more)"),
    column("Trades=-7", 2, -7, NEXT_7, false, 0.2, "Trades: condition not met (-7)"),
    column("Trades=-9", 2, -9, NEXT_9, false, 0.0, "Trades: no record (-9)"),
    column("Trades in [0, 5)", 2, 0, 5, false, 0.6, "Trades is 0 to 4"),
    column("Trades in [5, inf)", 2, 5, null, false, -0.35, "Trades is 5 or more"),
  ],
  subscales: [
    { name: "History", intercept: -0.8, weight: 1.5, features: [0, 1], columns: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] },
    { name: "Trades", intercept: 0.4, weight: 0.75, features: [2], columns: [10, 11, 12, 13] },
  ],
  output_intercept: -1.1,
};

// Python's AdditiveRiskModel.computation of the same model (numbers printed by Python).
const PYTHON = [
  { values: { Age: 5, Late: 0, Trades: 3 }, steps: [0, 0, 1, 1, 1, 0, 0, 0, 0, 1, 0, 0, 1, 0],
    logit: 0.2357627151909134, probability: 0.5586691743215272, subscale: [0.5249791874789399, 0.7310585786300049] },
  { values: { Age: 15, Late: 2, Trades: 7 }, steps: [0, 0, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 0, 1],
    logit: -0.003095733855252414, probability: 0.49922606715427337, subscale: [0.47502081252106, 0.5124973964842103] },
  { values: { Age: -9, Late: -7, Trades: 0 }, steps: [0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0],
    logit: -0.1333788330617911, probability: 0.46670463723974315, subscale: [0.2788848219771369, 0.7310585786300049] },
  { values: { Age: 25, Late: 4, Trades: -9 }, steps: [0, 0, 0, 0, 1, 0, 0, 1, 1, 1, 0, 1, 0, 0],
    logit: 0.30021913160054003, probability: 0.574496084478717, subscale: [0.6341355910108007, 0.598687660112452] },
];
const TOLERANCE = 1e-12;

function close(actual, expected, what) {
  assert.ok(Math.abs(actual - expected) <= TOLERANCE, `${what}: ${actual} here, ${expected} in Python`);
}

describe("arithmetic", () => {
  test("step columns: one-sided, strict, bins and special values", () => {
    const [age7, , ageBelow10, , agePresent] = SMALL.columns;
    assert.equal(stepValue(age7, -7), 1);
    assert.equal(stepValue(age7, -6.5), 0);
    assert.equal(stepValue(age7, 0), 0);
    assert.equal(stepValue(ageBelow10, 9.999), 1);
    assert.equal(stepValue(ageBelow10, 10), 0);
    assert.equal(stepValue(ageBelow10, -7), 0, "a special value sets only its own indicator");
    assert.equal(stepValue(agePresent, 0), 1);
    const lateAbove1 = SMALL.columns[7];
    assert.equal(stepValue(lateAbove1, 1), 0, "'>' columns are strict");
    assert.equal(stepValue(lateAbove1, 1.5), 1);
  });

  test("every quantity equals Python's computation of the same rows", () => {
    for (const expected of PYTHON) {
      const result = compute(SMALL, expected.values);
      assert.ok(result.valid);
      assert.deepEqual(result.steps, expected.steps);
      close(result.logit, expected.logit, "logit");
      close(result.probability, expected.probability, "probability");
      expected.subscale.forEach((p, s) => close(result.subscaleProbabilities[s], p, `subscale ${s}`));
      const sum = result.subscalePoints.reduce((a, b) => a + b, 0);
      close(result.logit, sum + SMALL.output_intercept, "logit = points + intercept");
      assert.equal(result.predicted, expected.probability > 0.5 ? "Bad" : "Good");
    }
  });

  test("the sigmoid is scipy's expit on both sides of zero", () => {
    assert.equal(sigmoid(0), 0.5);
    assert.equal(sigmoid(-800), 0);
    assert.equal(sigmoid(800), 1);
    close(sigmoid(-2) + sigmoid(2), 1, "symmetry");
  });

  test("each value falls in the interval whose step columns it has", () => {
    const steps = (values) => compute(SMALL, values).steps;
    const base = { Age: 5, Late: 0, Trades: 3 };
    assert.equal(activeRegion(SMALL, 0, steps({ ...base, Age: 19 })), 1);
    assert.equal(activeRegion(SMALL, 0, steps({ ...base, Age: 20 })), 2);
    assert.equal(activeRegion(SMALL, 0, steps({ ...base, Age: -9 })), 4);
    assert.equal(activeRegion(SMALL, 1, steps({ ...base, Late: 1 })), 0);
    assert.equal(activeRegion(SMALL, 1, steps({ ...base, Late: 3 })), 1);
    assert.equal(activeRegion(SMALL, 2, steps({ ...base, Trades: 5 })), 1);
  });

  test("invalid values are named, not computed", () => {
    assert.equal(invalidReason(SMALL, SMALL.features[0], -7), null);
    assert.match(invalidReason(SMALL, SMALL.features[0], -3), /special value \(-7, -9\)/);
    assert.match(invalidReason(SMALL, SMALL.features[0], null), /must be a number/);
    const result = compute(SMALL, { Age: -3, Late: 0, Trades: 1 });
    assert.equal(result.valid, false);
    assert.deepEqual(Object.keys(result.errors), ["Age"]);
  });

  test("risk colours run from the subscale's lowest to its highest probability", () => {
    const [history] = subscaleRange(SMALL);
    // History: Age points in {0.3, -0.2, 1.05, 0.35, 0.1}, Late in {-0.15, 0.35, 1.25, 0.05, -0.4}
    close(history[0], sigmoid(-0.8 - 0.2 - 0.4), "lowest");
    close(history[1], sigmoid(-0.8 + 1.05 + 1.25), "highest");
    const ranges = subscaleRange(SMALL);
    assert.equal(subscaleRisk(SMALL, 0, 1.5 * history[0], ranges), 0);
    assert.equal(subscaleRisk(SMALL, 0, 1.5 * history[1], ranges), 1);
    const silent = { ...SMALL, subscales: [{ ...SMALL.subscales[0], weight: 0 }, SMALL.subscales[1]] };
    assert.equal(subscaleRisk(silent, 0, 0, ranges), 0.5, "a subscale with weight 0 adds nothing: neutral");
    assert.equal(riskColour(0), "rgb(145, 207, 96)");
    assert.equal(riskColour(1), "rgb(252, 141, 89)");
    assert.equal(share(5, 5, 5), 0.5);
    assert.equal(formatPoints(-1.2345), "\u22121.234");
    assert.equal(formatPoints(-0.0001), "0.000");
    assert.equal(formatPercent(0.7981), "79.8 %");
  });
});

describe("the fitted HELOC model, with Python's test vectors", () => {
  const path = process.env.FICO_VECTORS;
  test("every row recomputed here equals Python's computation", { skip: path ? false : "FICO_VECTORS not set" }, () => {
    const vectors = JSON.parse(readFileSync(path, "utf8"));
    const structure = vectors.structure;
    const results = [];
    for (const expected of vectors.rows) {
      const result = compute(structure, expected.values);
      assert.ok(result.valid, JSON.stringify(result.errors));
      assert.deepEqual(result.steps, expected.steps);
      assert.deepEqual(result.regions, expected.regions);
      expected.column_points.forEach((v, i) => close(result.columnPoints[i], v, `column ${i}`));
      expected.subscale_logits.forEach((v, s) => close(result.subscaleLogits[s], v, `logit ${s}`));
      expected.subscale_probabilities.forEach((v, s) => close(result.subscaleProbabilities[s], v, `p ${s}`));
      expected.subscale_points.forEach((v, s) => close(result.subscalePoints[s], v, `points ${s}`));
      close(result.logit, expected.logit, "logit");
      close(result.probability, expected.probability, "probability");
      assert.equal(result.predicted, expected.predicted);
      assert.equal(formatPercent(result.probability), expected.probability_text);
      results.push({ logit: result.logit, probability: result.probability, subscale_logits: result.subscaleLogits,
        subscale_probabilities: result.subscaleProbabilities, predicted: result.predicted, regions: result.regions });
    }
    if (process.env.FICO_RESULTS) {
      writeFileSync(process.env.FICO_RESULTS, JSON.stringify(results));
    }
  });
});

class FakeModel {
  constructor(state) {
    this.state = { ...state };
    this.handlers = new Map();
    this.saved = [];
  }
  get(name) { return this.state[name]; }
  set(name, value) {
    this.state[name] = value;
    for (const handler of this.handlers.get(`change:${name}`) || []) handler();
  }
  on(event, handler) { this.handlers.set(event, [...(this.handlers.get(event) || []), handler]); }
  off(event, handler) { this.handlers.set(event, (this.handlers.get(event) || []).filter((h) => h !== handler)); }
  save_changes() { this.saved.push({ values: { ...this.state.values }, case: this.state.case }); }
  /** What Python does: push new trait values, as the kernel would. */
  push(changes) { for (const [name, value] of Object.entries(changes)) this.set(name, value); }
}

describe("render", () => {
  let dom;
  let el;
  let model;
  let cleanup;
  const first = PYTHON[0];

  beforeEach(() => {
    dom = new JSDOM("<!doctype html><body></body>");
    globalThis.document = dom.window.document;
    el = document.createElement("div");
    document.body.appendChild(el);
    model = new FakeModel({
      structure: SMALL,
      cases: [
        { label: "Demo 1", note: "predicted Bad", values: { ...first.values } },
        { label: "Demo 2", note: "special values", values: { ...PYTHON[2].values } },
      ],
      values: { ...first.values },
      case: "Demo 1",
      kernel: {},
      marks: {},
    });
    cleanup = display.render({ model, el });
  });

  afterEach(() => {
    cleanup();
    delete globalThis.document;
  });

  const q = (selector) => el.querySelector(selector);
  const all = (selector) => [...el.querySelectorAll(selector)];
  const feature = (name) => q(`.fx-feature[data-feature="${name}"]`);
  const edit = (name, text, events = ["input", "change"]) => {
    const input = feature(name).querySelector("input");
    input.value = text;
    for (const kind of events) {
      input.dispatchEvent(new dom.window.Event(kind, { bubbles: true }));
    }
  };

  test("renders every feature, interval, subscale and the output", () => {
    assert.equal(all(".fx-feature").length, 3);
    assert.equal(all(".fx-block").length, 2, "one block per subscale");
    assert.deepEqual(all(".fx-block")[0].querySelectorAll(".fx-feature").length, 2);
    assert.deepEqual(all('.fx-feature[data-feature="Age"] .fx-region .fx-rl').map((n) => n.textContent),
      ["0\u20139", "10\u201319", "\u226520", "-7", "-9"]);
    assert.equal(all(".fx-sub").length, 2);
    assert.equal(all(".fx-output tr[data-subscale]").length, 2);
    assert.equal(q(".fx-prob").textContent, formatPercent(first.probability));
    assert.equal(q(".fx-pred").textContent, "predicted Bad");
    assert.equal(q(".fx-case").value, "Demo 1");
  });

  test("the active interval and its points are marked", () => {
    const age = feature("Age");
    assert.equal(age.querySelector(".fx-region.fx-active .fx-rl").textContent, "0\u20139");
    assert.equal(age.querySelector(".fx-fpts").textContent, formatPoints(0.7 + 0.25 + 0.1));
  });

  test("an edit recomputes everything at once and sends the values to Python", () => {
    const expected = PYTHON[1];
    edit("Age", "15");
    edit("Late", "2");
    edit("Trades", "7");
    assert.equal(q(".fx-prob").textContent, formatPercent(expected.probability));
    assert.equal(q(".fx-pred").textContent, "predicted Good");
    assert.equal(feature("Trades").querySelector(".fx-region.fx-active .fx-rl").textContent, "\u22655");
    const sent = model.saved.at(-1);
    assert.deepEqual(sent.values, expected.values);
    assert.equal(sent.case, "", "an edited applicant is no longer the demo one");
    const logit = all(".fx-output tr.fx-total").find((tr) => tr.textContent.startsWith("= logit"));
    assert.equal(logit.children[3].textContent, expected.logit.toFixed(4));
  });

  test("typing recomputes at once; the value goes to Python on change or Enter", () => {
    edit("Age", "25", ["input"]);
    assert.equal(feature("Age").querySelector(".fx-region.fx-active .fx-rl").textContent, "\u226520");
    assert.equal(model.saved.length, 0);
    edit("Age", "25", ["change"]);
    assert.equal(model.saved.length, 1);
    edit("Age", "12", ["input"]);
    const enter = new dom.window.KeyboardEvent("keydown", { key: "Enter", bubbles: true, cancelable: true });
    let reached = false;
    el.addEventListener("keydown", () => { reached = true; });
    feature("Age").querySelector("input").dispatchEvent(enter);
    assert.equal(model.saved.at(-1).values.Age, 12, "Enter commits (JupyterLab fires no change event on it)");
    assert.ok(enter.defaultPrevented && !reached, "and the notebook's shortcuts do not see it");
  });

  test("special values are chosen from the list or by clicking their interval", () => {
    const select = feature("Late").querySelector("select");
    select.value = "-7";
    select.dispatchEvent(new dom.window.Event("change"));
    assert.equal(model.saved.at(-1).values.Late, -7);
    assert.equal(feature("Late").querySelector(".fx-region.fx-active .fx-rl").textContent, "-7");
    assert.equal(feature("Late").querySelector("input").value, "-7");
    select.value = "";
    select.dispatchEvent(new dom.window.Event("change"));
    assert.equal(model.saved.at(-1).values.Late, 0, "back to the last ordinary value");
    all('.fx-feature[data-feature="Age"] .fx-region')[4].dispatchEvent(new dom.window.Event("click"));
    assert.equal(model.saved.at(-1).values.Age, -9);
    edit("Trades", "0");
    const expected = PYTHON[2];
    assert.deepEqual(model.saved.at(-1).values, { Age: -9, Late: 0, Trades: 0 });
    edit("Late", "-7");
    assert.equal(q(".fx-prob").textContent, formatPercent(expected.probability));
  });

  test("an invalid value is marked, not computed, and still sent (Python explains it)", () => {
    const before = q(".fx-prob").textContent;
    edit("Age", "-3");
    assert.ok(feature("Age").querySelector("input").classList.contains("fx-invalid"));
    assert.match(q(".fx-message").textContent, /special value/);
    assert.equal(q(".fx-prob").textContent, before);
    assert.equal(model.saved.at(-1).values.Age, -3);
    model.push({ kernel: { values: { ...model.get("values") }, error: "negative values ..." } });
    assert.match(q(".fx-check").textContent, /refused/);
    edit("Age", "5");
    assert.equal(q(".fx-message").textContent, "");
  });

  test("Python's own result is checked against the page's", () => {
    assert.match(q(".fx-check").textContent, /checking/);
    model.push({ kernel: { values: { ...first.values }, probability: first.probability, logit: first.logit, predicted: "Bad" } });
    assert.match(q(".fx-check").textContent, /Python agrees/);
    model.push({ kernel: { values: { ...first.values }, probability: first.probability + 1e-6, logit: 0, predicted: "Bad" } });
    assert.match(q(".fx-check").textContent, /Python computes/);
    edit("Age", "15");
    assert.match(q(".fx-check").textContent, /checking/, "an answer for other values is not a check");
  });

  test("a subscale opens to its feature points, bias, logit and sigmoid", () => {
    const sub = q('.fx-sub[data-subscale="History"]');
    assert.ok(sub.querySelector(".fx-sdetail").hidden);
    sub.dispatchEvent(new dom.window.Event("click"));
    const rows = [...sub.querySelectorAll(".fx-sdetail tr")].map((tr) => tr.children[0].textContent);
    assert.deepEqual(rows, ["Age", "Late", "bias c", "logit z = sum + c", "p = \u03c3(z)", "points = 1.500 \u00d7 p"]);
    const p = [...sub.querySelectorAll(".fx-sdetail tr")][4].children[1].textContent;
    assert.equal(p, first.subscale[0].toFixed(4));
  });

  test("a feature opens to its step columns", () => {
    feature("Age").querySelector(".fx-fname").dispatchEvent(new dom.window.Event("click"));
    const table = feature("Age").nextElementSibling;
    assert.ok(!table.hidden);
    assert.equal(table.querySelectorAll("tr").length, 1 + 5);
    assert.equal(table.querySelectorAll("tr.fx-on").length, 3);
  });

  test("a demo applicant is picked from the list; reset goes back to it", () => {
    const select = q(".fx-case");
    select.value = "Demo 2";
    select.dispatchEvent(new dom.window.Event("change"));
    assert.deepEqual(model.saved.at(-1), { values: PYTHON[2].values, case: "Demo 2" });
    assert.equal(q(".fx-prob").textContent, formatPercent(PYTHON[2].probability));
    edit("Trades", "9");
    q(".fx-reset").dispatchEvent(new dom.window.Event("click"));
    assert.deepEqual(model.saved.at(-1).values, PYTHON[2].values);
  });

  test("values set by Python are shown", () => {
    model.push({ values: { ...PYTHON[3].values }, case: "" });
    assert.equal(q(".fx-prob").textContent, formatPercent(PYTHON[3].probability));
    assert.equal(feature("Trades").querySelector("select").value, "-9");
  });

  test("features named by the factors and the rule are tagged", () => {
    model.push({ marks: { factors: { Late: 1 }, rule: ["Age", "Late"] } });
    assert.equal(feature("Late").querySelector(".fx-tag-factor").textContent, "factor 1");
    assert.equal(all(".fx-tag-rule").length, 2);
  });
});
