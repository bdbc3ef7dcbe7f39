// The file-download module under Node's test runner: a jsdom page and a fake anywidget model.
// jsdom has no object URLs, so URL.createObjectURL / revokeObjectURL are stubbed and record the
// Blob they were given; a link's click is recorded instead of navigating.
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";

import { JSDOM } from "jsdom";

import download, { onMessage, safeFilename, saveFile } from "../download.js";

let dom;
let clicks;
let blobs;
let revoked;
let timers;
const original = { create: URL.createObjectURL, revoke: URL.revokeObjectURL, setTimeout: globalThis.setTimeout };

beforeEach(() => {
  dom = new JSDOM("<!DOCTYPE html><body></body>");
  clicks = [];
  blobs = [];
  revoked = [];
  timers = [];
  globalThis.setTimeout = (callback, delay) => timers.push({ callback, delay });
  URL.createObjectURL = (blob) => {
    blobs.push(blob);
    return `blob:nbexplain/${blobs.length}`;
  };
  URL.revokeObjectURL = (url) => revoked.push(url);
  dom.window.HTMLAnchorElement.prototype.click = function click() {
    clicks.push({ href: this.href, download: this.download, attached: this.isConnected });
  };
});

afterEach(() => {
  URL.createObjectURL = original.create;
  URL.revokeObjectURL = original.revoke;
  globalThis.setTimeout = original.setTimeout;
  dom.window.close();
});

function fakeModel() {
  const handlers = new Map();
  return {
    handlers,
    on(name, handler) {
      handlers.set(name, [...(handlers.get(name) ?? []), handler]);
    },
    off(name, handler) {
      handlers.set(name, (handlers.get(name) ?? []).filter((h) => h !== handler));
    },
    emit(name, message) {
      for (const handler of handlers.get(name) ?? []) {
        handler(message);
      }
    },
  };
}

describe("saveFile", () => {
  test("a Blob of the content behind a clicked link that names the file, then removed", async () => {
    const name = saveFile("reasons-row-3.csv", "rank,code\n1,DELINQ\n", "text/csv", dom.window.document);
    assert.equal(name, "reasons-row-3.csv");
    assert.equal(clicks.length, 1);
    assert.deepEqual(clicks[0], { href: "blob:nbexplain/1", download: "reasons-row-3.csv", attached: true });
    assert.equal(dom.window.document.querySelectorAll("a").length, 0, "the link is gone after the click");
    assert.equal(await blobs[0].text(), "rank,code\n1,DELINQ\n");
    assert.equal(blobs[0].type, "text/csv");
    assert.deepEqual(revoked, [], "the URL lives while the browser reads it");
    assert.equal(timers.length, 1);
    timers[0].callback();
    assert.deepEqual(revoked, ["blob:nbexplain/1"], "then it is revoked");
  });

  test("file names lose path separators and control characters", () => {
    assert.equal(safeFilename("../a/b:c.csv"), "..-a-b-c.csv");
    assert.equal(safeFilename("x\u0000y.csv"), "xy.csv");
    assert.equal(safeFilename(""), "download");
    assert.equal(safeFilename(undefined), "download");
  });
});

describe("messages", () => {
  test("a download message saves its file; any other message is ignored", async () => {
    assert.equal(onMessage({ type: "other", filename: "x" }, dom.window.document), null);
    assert.equal(onMessage(null, dom.window.document), null);
    assert.equal(clicks.length, 0);
    const record = "<!DOCTYPE html><html><body>record</body></html>";
    onMessage({ type: "download", filename: "record.html", mime: "text/html", content: record }, dom.window.document);
    assert.equal(clicks.length, 1);
    assert.equal(await blobs[0].text(), record);
  });

  test("initialize listens for custom messages once per model and its cleanup stops listening", () => {
    const model = fakeModel();
    const previous = globalThis.document;
    globalThis.document = dom.window.document;
    try {
      const cleanup = download.initialize({ model });
      model.emit("msg:custom", { type: "download", filename: "a.csv", mime: "text/csv", content: "a\n1\n" });
      assert.equal(clicks.length, 1);
      cleanup();
      model.emit("msg:custom", { type: "download", filename: "b.csv", mime: "text/csv", content: "b\n" });
      assert.equal(clicks.length, 1, "no download after cleanup");
    } finally {
      globalThis.document = previous;
    }
  });

  test("render draws nothing visible", () => {
    const el = dom.window.document.createElement("div");
    download.render({ model: fakeModel(), el });
    assert.equal(el.style.display, "none");
    assert.equal(el.children.length, 0);
  });
});
