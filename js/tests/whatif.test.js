// The what-if editor's ES module under Node's test runner: the pure geometry, then render() in a
// jsdom DOM against a fake widget model that behaves like anywidget's (get/set/on/off/save_changes).
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";

import { JSDOM } from "jsdom";

import editor, { clamp, formatValue, rowColour, snap, TRACK_WIDTH, valueToX, xToValue } from "../whatif.js";

const AGE = { name: "AGE", kind: "number", min: 20, max: 80, step: 1, integer: true, bins: [1, 4, 2] };
const AMOUNT = { name: "AMOUNT", kind: "number", min: 0, max: 1000, step: 20, integer: false, bins: [5, 1] };
const SEX = {
  name: "SEX", kind: "choice",
  options: [{ value: 1, label: "male", share: 0.4 }, { value: 2, label: "female", share: 0.6 }],
};

describe("geometry", () => {
  test("value and pixel are inverse on the track, clamped at the ends", () => {
    assert.equal(valueToX(20, AGE, 120), 0);
    assert.equal(valueToX(80, AGE, 120), 120);
    assert.equal(valueToX(50, AGE, 120), 60);
    assert.equal(valueToX(500, AGE, 120), 120, "beyond the range sits at the end");
    for (const value of [20, 33, 50, 79]) {
      assert.equal(xToValue(valueToX(value, AGE, 160), AGE, 160), value);
    }
    assert.equal(xToValue(-40, AGE, 160), 20);
  });

  test("snap rounds to the step from the minimum, and to integers", () => {
    assert.equal(snap(29, AMOUNT), 20);
    assert.equal(snap(31, AMOUNT), 40);
    assert.equal(snap(33.6, AGE), 34);
    assert.equal(snap(0.1 + 0.2, { min: 0, step: 0.1 }), 0.3, "no floating-point tails");
  });

  test("a constant feature puts its marker in the middle", () => {
    assert.equal(valueToX(5, { min: 5, max: 5 }, 100), 50);
  });

  test("row colour: hue from the gradient sign, strength from the share", () => {
    assert.match(rowColour([50, 0.2], 50), /^rgba\(192, 57, 43, 0\.560\)$/);
    assert.match(rowColour([25, -0.2], 50), /^rgba\(46, 109, 164, 0\.310\)$/);
    assert.equal(rowColour(undefined, 50), "transparent");
    assert.equal(rowColour([0, 0], 0), "transparent");
    assert.equal(clamp(7, 0, 5), 5);
  });

  test("numbers read like amounts or small values", () => {
    assert.equal(formatValue(200000), "200,000");
    assert.equal(formatValue(0.123456), "0.1235");
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
  save_changes() { this.saved.push({ ...this.state.values }); }
  /** What Python does: push new trait values, as the kernel would. */
  push(changes) { for (const [name, value] of Object.entries(changes)) this.set(name, value); }
}

describe("render", () => {
  let dom;
  let el;
  let model;
  let cleanup;

  beforeEach(() => {
    dom = new JSDOM("<!doctype html><body></body>");
    globalThis.document = dom.window.document;
    globalThis.window = dom.window;
    el = document.createElement("div");
    document.body.appendChild(el);
    const values = { AGE: 35, AMOUNT: 400, SEX: 2 };
    model = new FakeModel({
      features: [AGE, AMOUNT, SEX], values, original: { ...values },
      importance: { AGE: [10, -0.1], AMOUNT: [60, 0.4], SEX: [30, 0.05] },
      prediction: 0.25, original_prediction: 0.25, outcome: "P(default)",
    });
    cleanup = editor.render({ model, el });
  });

  afterEach(() => {
    cleanup();
    delete globalThis.document;
    delete globalThis.window;
  });

  const row = (name) => el.querySelector(`.wi-row[data-feature="${name}"]`);
  const event = (type, init = {}) => new dom.window.MouseEvent(type, { bubbles: true, ...init });

  test("one compact row per feature, in order, with the data's distribution behind the marker", () => {
    assert.deepEqual([...el.querySelectorAll(".wi-row")].map((r) => r.dataset.feature), ["AGE", "AMOUNT", "SEX"]);
    assert.equal(row("AGE").querySelectorAll("rect.wi-bin").length, AGE.bins.length);
    const tallest = [...row("AGE").querySelectorAll("rect.wi-bin")].map((r) => Number(r.getAttribute("height")));
    assert.equal(Math.max(...tallest), tallest[1], "the bin with most rows is tallest");
    const marker = row("AGE").querySelector(".wi-marker");
    assert.equal(Number(marker.getAttribute("x")) + 3, valueToX(35, AGE));
    assert.equal(row("AGE").querySelector("input").value, "35");
  });

  test("categorical features are choices with their labels", () => {
    const select = row("SEX").querySelector("select");
    assert.deepEqual([...select.options].map((o) => o.textContent), ["1 · male", "2 · female"]);
    assert.equal(select.value, "2");
    const chosen = row("SEX").querySelector('rect.wi-option[data-value="2"]');
    assert.equal(chosen.getAttribute("fill"), "#1f2d3a");
  });

  test("rows are coloured by local importance, the largest share strongest", () => {
    const amount = row("AMOUNT").querySelector(".wi-name").style.background;
    const age = row("AGE").querySelector(".wi-name").style.background;
    assert.match(amount, /rgba\(192, 57, 43, 0\.56\)/);
    assert.match(age, /rgba\(46, 109, 164, 0\.143\)/);
    assert.equal(row("AMOUNT").querySelector(".wi-share").textContent, "60 %");
    model.push({ importance: { AGE: [90, 0.3], AMOUNT: [10, -0.1], SEX: [0, 0] } });
    assert.match(row("AGE").querySelector(".wi-name").style.background, /rgba\(192, 57, 43, 0\.56\)/);
  });

  test("typing a value sends the whole edited row in one trait", () => {
    const input = row("AMOUNT").querySelector("input");
    input.value = "620";
    input.dispatchEvent(event("change"));
    assert.deepEqual(model.saved.at(-1), { AGE: 35, AMOUNT: 620, SEX: 2 });
    assert.ok(row("AMOUNT").classList.contains("wi-edited"));
  });

  test("an empty or non-numeric entry is marked and not sent", () => {
    const input = row("AGE").querySelector("input");
    input.value = "";
    input.dispatchEvent(event("change"));
    assert.equal(model.saved.length, 0);
    assert.ok(input.classList.contains("wi-invalid"));
  });

  test("dragging the marker sends the snapped value once, on release", () => {
    const track = row("AMOUNT").querySelector("svg");
    track.dispatchEvent(event("pointerdown", { clientX: 10 }));
    track.dispatchEvent(event("pointermove", { clientX: TRACK_WIDTH / 2 }));
    assert.equal(model.saved.length, 0, "nothing is sent while dragging");
    assert.equal(row("AMOUNT").querySelector("input").value, "500");
    track.dispatchEvent(event("pointerup", { clientX: TRACK_WIDTH * 0.75 }));
    assert.equal(model.saved.length, 1);
    assert.equal(model.saved[0].AMOUNT, 760);
  });

  test("keyboard: arrows step, Home and End jump", () => {
    const track = row("AGE").querySelector("svg");
    track.dispatchEvent(new dom.window.KeyboardEvent("keydown", { key: "ArrowRight", bubbles: true }));
    assert.equal(model.get("values").AGE, 36);
    track.dispatchEvent(new dom.window.KeyboardEvent("keydown", { key: "End", bubbles: true }));
    assert.equal(model.get("values").AGE, 80);
  });

  test("clicking an option bar picks that category", () => {
    row("SEX").querySelector('rect.wi-option[data-value="1"]').dispatchEvent(event("click"));
    assert.equal(model.get("values").SEX, 1);
  });

  test("the prediction shows what changed, and reset sends the row as it was", () => {
    model.push({ prediction: 0.61 });
    assert.equal(el.querySelector(".wi-score").textContent, "0.610");
    assert.equal(el.querySelector(".wi-was").textContent, "was 0.250 (+0.360)");
    model.push({ values: { AGE: 50, AMOUNT: 400, SEX: 2 } });
    assert.equal(row("AGE").querySelector("input").value, "50");
    el.querySelector(".wi-reset").dispatchEvent(event("click"));
    assert.deepEqual(model.saved.at(-1), { AGE: 35, AMOUNT: 400, SEX: 2 });
  });

  test("clean-up removes every listener from the model", () => {
    cleanup();
    assert.ok([...model.handlers.values()].every((handlers) => handlers.length === 0));
    cleanup = () => {};
  });
});
