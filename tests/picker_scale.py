"""The picker at scale: a large explanation bundle made cheaply, and timings taken in the page.

:func:`large_bundle` draws ``rows`` rows (seeded, with replacement) of the demo's bundle and
writes them with the bundle writer itself: every table and column a real build writes, each drawn
row's raw values, score, outcome, gradients and default attributions together (so every row shown
is a row the model really scored, and a what-if edit loads the same model artifact). No model runs:
1,000,000 rows take seconds, not the hours of a gradient pass. The record says how the rows were
made (``source.generated``); the stored population comparison is the source bundle's (its cohort
sizes and mean scores recounted on the drawn rows). :func:`small_bundle` builds, with a small
network, a source for tests that have no demo model.

:func:`timed` measures, inside the page, from a user's action (the first event of a kind, caught
before any handler) to the last change of the DOM under a root element once it has been quiet
for a while (the view redrawn), and to the first change of a watched element's text (e.g. the
title saying how many rows match). Used by tests/test_browser_picker_scale.py (which records the
timings, asserting none) and benchmarks/bench_picker.py.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from nbexplain.results.bundle import TABLES, open_bundle, write_bundle


def _columns(bundle, table: str, chosen: np.ndarray) -> dict:
    """Every column of one of ``bundle``'s tables at the ``chosen`` positions (fixed-size lists
    kept as ``(n, width)`` arrays)."""
    columns = {}
    for name in bundle.table(table).column_names:
        chunk = bundle.table(table).column(name).chunk(0)
        if hasattr(chunk.type, "list_size"):
            values = chunk.values.to_numpy(zero_copy_only=True).reshape(len(chunk), chunk.type.list_size)
        else:
            values = chunk.to_numpy(zero_copy_only=False)
        columns[name] = values[chosen]
    return columns


def large_bundle(source: str | Path, rows: int, path: str | Path | None = None, seed: int = 0) -> Path:
    """A bundle of ``rows`` rows drawn from the bundle at ``source``, at ``path`` (default: beside
    the source, named by the row count and seed), reused when it is already there."""
    source = Path(source)
    bundle = open_bundle(source)
    path = Path(path) if path is not None else source.with_name(f"{source.stem}-{rows}rows-seed{seed}.nbxbundle")
    key = {"generated": "rows drawn with replacement", "from": str(source), "seed": seed, "rows": rows}
    key["from_sha256"] = bundle.record["rows"]["sha256"]
    if path.is_dir():
        try:
            if open_bundle(path).record.get("source") == key:
                return path
        except Exception:  # a damaged or older bundle is written again
            pass
    chosen = np.sort(np.random.default_rng(seed).integers(0, bundle.n_rows, rows))
    tables = {table: _columns(bundle, table, chosen) for table in TABLES}
    tables["rows"]["__label"] = np.arange(rows, dtype=np.int64)
    record = {k: v for k, v in bundle.record.items() if k not in ("format", "format_version", "nbexplain")}
    record["rows"] = {
        "count": rows,
        "sha256": hashlib.sha256(key["from_sha256"].encode() + chosen.tobytes()).hexdigest(),
    }
    record["description"] = {**record.get("description", {}), "rows": f"{rows:,} drawn from {bundle.n_rows:,}"}
    record["source"] = key
    population = record.get("population")
    if population:
        scores = tables["rows"]["__score"]
        denied = scores > record["threshold"]
        meta = dict(population.get("meta", {}))
        meta["sizes"] = [int(denied.sum()), int((~denied).sum())]
        meta["mean_scores"] = [float(scores[denied].mean()), float(scores[~denied].mean())]
        meta["note"] = f"mean attribution differences of the {bundle.n_rows:,} source rows"
        record["population"] = {**population, "meta": meta}
    return write_bundle(path, record, tables)


#: The small bundle's columns.
COLUMNS = ["income", "debt", "late", "age"]


def small_bundle(folder):
    """A bundle of 2,000 rows of a small network (no artifact: browsing only), built for real
    (``build_bundle``, in ``folder``): the source of the test's large bundles."""
    import keras
    import pandas as pd

    from nbexplain.engine.protocol import ModelExplainers
    from nbexplain.model.artifact import InputRecipe, ModelArtifact
    from nbexplain.widgets import ExplorerData
    from nbexplain.widgets.bundle import build_bundle

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((4,), name="features"), keras.layers.Dense(6, activation="tanh"), keras.layers.Dense(1)]
    )
    model = keras.Sequential([model, keras.layers.Activation("sigmoid")])
    recipe = InputRecipe("features", tuple(COLUMNS), np.array([50.0, 10.0, 1.0, 40.0]), np.array([20, 5, 1, 12.0]))
    artifact = ModelArtifact(model, (recipe,), None, None, "P(default)")
    rng = np.random.default_rng(1)
    n = 2000
    frame = pd.DataFrame(
        {
            "income": rng.normal(50, 20, n),
            "debt": rng.normal(10, 5, n),
            "late": rng.integers(0, 4, n),
            "age": rng.integers(21, 70, n),
        }
    )
    data = ExplorerData(
        ModelExplainers.for_keras(artifact.model, **artifact.explainer_options()),
        frame,
        artifact.to_inputs,
        target=(rng.random(n) < 0.3).astype(int),
        title="the picker at scale",
        outcome="P(default)",
        class_labels=("repaid", "default"),
        threshold=0.5,
    )
    return build_bundle(data, folder / "small.nbxbundle", progress=False, validate=0)


#: Arms the timing: ``[event type, root selector, watched selector or null]``.
ARM = """
([type, rootSelector, watchSelector]) => {
    if (window.__nbxTiming) window.__nbxTiming.stop();
    const text = () => (watchSelector ? (document.querySelector(watchSelector) || {}).textContent : null);
    const before = text();
    const state = {start: null, last: null, watched: null};
    const begin = () => { if (state.start === null) state.start = performance.now(); };
    document.addEventListener(type, begin, true);
    const observer = new MutationObserver(() => {
        if (state.start === null) return;
        state.last = performance.now();
        if (watchSelector && state.watched === null && text() !== before) state.watched = state.last;
    });
    observer.observe(document.querySelector(rootSelector), {subtree: true, childList: true, attributes: true,
        characterData: true});
    window.__nbxTiming = {
        stop() { observer.disconnect(); document.removeEventListener(type, begin, true); },
        settled(quiet) {
            return state.start !== null && state.last !== null && (!watchSelector || state.watched !== null)
                && performance.now() - state.last > quiet;
        },
        result() {
            this.stop();
            const since = (t) => (t === null || state.start === null ? null : t - state.start);
            return {redrawn_ms: since(state.last), watched_ms: since(state.watched)};
        },
    };
}
"""


def timed(page, action, event: str, root: str, watch: str | None = None, quiet_ms: int = 400, timeout_ms=30_000):
    """``{"redrawn_ms", "watched_ms"}`` of ``action()`` (which must fire ``event`` in the page),
    or ``None`` when nothing under ``root`` (or the watched text) changed within ``timeout_ms``."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.evaluate(ARM, [event, root, watch])
    action()
    try:
        page.wait_for_function(f"() => window.__nbxTiming.settled({quiet_ms})", timeout=timeout_ms, polling=50)
    except PlaywrightTimeout:
        page.evaluate("() => window.__nbxTiming.stop()")
        return None
    return page.evaluate("() => window.__nbxTiming.result()")


#: The picker's density cells as drawn: ``[row, column, rows counted, lower score edge, lower x
#: edge]`` (the colour is log10(count + 1); an empty cell is 0).
CELLS = """
(root) => Array.from(root.querySelectorAll('.heatmapcell')).map((cell) => {
    const d = cell.__data__ || {};
    const value = Number.isFinite(d.color) ? d.color : 0;
    return [d.rowNum, d.columnNum, Math.round(Math.pow(10, value) - 1), d.row, d.column];
})
"""


def density_cells(picker) -> list:
    """``[(row, column, count)]`` of the density view drawn in ``picker`` (a locator)."""
    return [tuple(cell[:3]) for cell in picker.evaluate(CELLS)]


def density_grid(picker) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(counts, lower score edges, lower x edges)`` of the density view drawn in ``picker`` (a
    locator): counts as a ``(rows, columns)`` array, as the page's cells hold them."""
    cells = picker.evaluate(CELLS)
    rows = 1 + max(cell[0] for cell in cells)
    columns = 1 + max(cell[1] for cell in cells)
    counts = np.zeros((rows, columns), dtype=np.int64)
    row_edges, column_edges = np.zeros(rows), np.zeros(columns)
    for row, column, count, low, left in cells:
        counts[row, column] = count
        row_edges[row], column_edges[column] = low, left
    return counts, row_edges, column_edges


#: Where the density cells and the axes' ticks are on the screen: ``{"cells": [[row, column,
#: left, right, top, bottom]], "axes": [[[tick text, x, y]]]}``.
GEOMETRY = """
(root) => ({
    cells: Array.from(root.querySelectorAll('.heatmapcell')).map((cell) => {
        const d = cell.__data__ || {};
        const box = cell.getBoundingClientRect();
        return [d.rowNum, d.columnNum, box.left, box.right, box.top, box.bottom];
    }),
    axes: Array.from(root.querySelectorAll('.axis')).map((axis) => Array.from(axis.querySelectorAll('.tick'))
        .map((tick) => {
            const box = (tick.querySelector('line') || tick).getBoundingClientRect();
            return [tick.textContent, (box.left + box.right) / 2, (box.top + box.bottom) / 2];
        })),
})
"""


def _tick_value(text: str) -> float:
    return float(text.replace(",", "").replace("\u2212", "-"))


def drawn_spans(picker) -> tuple[np.ndarray, np.ndarray, tuple[float, float]]:
    """``(score spans, x spans, (score, x) per pixel)``: what the density view's cells cover on the
    screen, read back through its axes: ``(rows, 2)`` and ``(columns, 2)`` arrays of (low, high)
    values, from each row's and column's pixel extent mapped by a straight-line fit of the axes'
    tick positions (d3 draws a tick line half a pixel off its place: the spans are good to a pixel)."""
    found = picker.evaluate(GEOMETRY)
    cells = np.array(found["cells"], dtype=float)
    fits = {}
    for ticks in found["axes"]:
        if len(ticks) < 2:
            continue
        values = np.array([_tick_value(text) for text, _, _ in ticks])
        xs, ys = np.array([t[1] for t in ticks]), np.array([t[2] for t in ticks])
        vertical = np.ptp(ys) > np.ptp(xs)
        fits["y" if vertical else "x"] = np.polyfit(ys if vertical else xs, values, 1)
    rows = int(cells[:, 0].max()) + 1
    columns = int(cells[:, 1].max()) + 1
    score_spans, x_spans = np.zeros((rows, 2)), np.zeros((columns, 2))
    for row in range(rows):
        inside = cells[cells[:, 0] == row]
        score_spans[row] = sorted(np.polyval(fits["y"], [inside[:, 4].min(), inside[:, 5].max()]))
    for column in range(columns):
        inside = cells[cells[:, 1] == column]
        x_spans[column] = sorted(np.polyval(fits["x"], [inside[:, 2].min(), inside[:, 3].max()]))
    return score_spans, x_spans, (abs(fits["y"][0]), abs(fits["x"][0]))


def kernel_processes(server) -> list:
    """The ipykernel processes a Voila server runs (psutil processes)."""
    import psutil

    found = []
    for process in psutil.Process(server.process.pid).children(recursive=True):
        try:
            if "ipykernel" in " ".join(process.cmdline()):
                found.append(process)
        except psutil.Error:
            continue
    return found


def memory_mb(process) -> dict:
    """``{"rss_mb", "uss_mb"}`` of a process (USS: the memory only it holds)."""
    info = process.memory_full_info()
    return {"rss_mb": round(info.rss / 1e6, 1), "uss_mb": round(info.uss / 1e6, 1)}


if __name__ == "__main__":
    import sys
    import time

    from nbexplain.widgets.demo import demo_bundle

    started = time.perf_counter()
    made = large_bundle(demo_bundle("credit_fcn"), int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
    print(f"{made} in {time.perf_counter() - started:.1f} s")
