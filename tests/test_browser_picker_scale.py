"""The picker of a 1,000,000-row bundle in a real browser (Voila + Debian chromium).

Every matching row is counted in the density view: after each change of the class filter, the
score range and the x axis, the counts the page's cells hold equal, cell by cell, a NumPy count
of the bundle's rows that match (read from the bundle's files in this process: the predicted
class from score > threshold, the range from the score column), over edges computed here (the
x column's range over every row, the score filter's range), and each cell is drawn over its own
edges (its place on the screen read back through the axes' ticks); a click on a cell picks a row
among the matching ones. The bundle is 1,000,000 rows drawn from a small bundle built from a small
network (see picker_scale.py). The time of each action, measured in the page, and the kernel's
memory are written to test-artifacts/picker-scale.json: recorded, never asserted
(benchmarks/bench_picker.py measures them against their targets).
"""

import json
import re

import numpy as np
import pytest
from browser_fixtures import ARTIFACTS, _require_chromium, open_page
from picker_scale import (
    density_cells,
    density_grid,
    drawn_spans,
    kernel_processes,
    large_bundle,
    memory_mb,
    small_bundle,
    timed,
)

from nbexplain._files import write_text
from nbexplain.results.bundle import open_bundle

pytestmark = [pytest.mark.browser]

ROWS = 1_000_000
PICKER = ".nbexplain-picker"
TITLE = ".nbexplain-picker text.mainheading"
STATUS = ".nbexplain-picker .nbexplain-picker-status"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    folder = tmp_path_factory.mktemp("picker-scale")
    return large_bundle(small_bundle(folder), ROWS, folder / "million.nbxbundle")


@pytest.fixture(scope="module")
def served(bundle):
    _require_chromium()
    from nbexplain.serve import VoilaServer, bundle_notebook

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with VoilaServer(
        bundle_notebook(bundle), log=ARTIFACTS / "voila-picker-scale.log", cull_idle=0, max_kernels=2
    ) as server:
        yield server


class Truth:
    """The bundle's rows as NumPy arrays, and the density counts a filter should draw."""

    def __init__(self, path):
        opened = open_bundle(path)
        self.scores = np.array(opened.array("explained", "score"), dtype=float)
        self.threshold = float(opened.record["threshold"])
        self.columns = {name: np.array(opened.array("rows", name), dtype=float) for name in opened.columns}
        assert len(self.scores) == ROWS

    def counts(self, column, predicted=None, low=None, high=None):
        """``(counts, score edges, x edges)``: a 2-D histogram of the matching rows over 30 x 48
        equal cells spanning the score range and the column's range over every row."""
        x = self.columns[column]
        low = self.scores.min() if low is None else low
        high = self.scores.max() if high is None else high
        keep = (self.scores >= low) & (self.scores <= high)
        if predicted is not None:
            keep &= (self.scores > self.threshold) == bool(predicted)
        score_edges = np.linspace(low, high, 31)
        x_edges = np.linspace(x.min(), x.max(), 49)
        counts, _, _ = np.histogram2d(self.scores[keep], x[keep], bins=(score_edges, x_edges))
        return counts.astype(np.int64), score_edges, x_edges


def title_count(page) -> tuple[int, int]:
    text = page.locator(TITLE).first.text_content()
    found = re.search(r"([\d,]+) of ([\d,]+) rows", text)
    assert found, text
    return int(found.group(1).replace(",", "")), int(found.group(2).replace(",", ""))


def assert_drawn(page, truth, column, predicted=None, low=None, high=None) -> int:
    """The page's density cells against the NumPy count; returns the matching rows."""
    drawn, score_edges, x_edges = density_grid(page.locator(PICKER).first)
    expected, expected_scores, expected_x = truth.counts(column, predicted, low, high)
    np.testing.assert_allclose(x_edges, expected_x[:-1], rtol=0, atol=1e-9 * np.ptp(expected_x))
    np.testing.assert_allclose(score_edges, expected_scores[:-1], rtol=0, atol=1e-12)
    np.testing.assert_array_equal(drawn, expected)
    score_spans, x_spans, (score_pixel, x_pixel) = drawn_spans(page.locator(PICKER).first)  # on the screen
    assert score_pixel < 0.25 * np.diff(expected_scores)[0] and x_pixel < 0.25 * np.diff(expected_x)[0]
    np.testing.assert_allclose(score_spans, np.c_[expected_scores[:-1], expected_scores[1:]], rtol=0, atol=score_pixel)
    np.testing.assert_allclose(x_spans, np.c_[expected_x[:-1], expected_x[1:]], rtol=0, atol=x_pixel)
    matching = int(expected.sum())
    assert title_count(page) == (matching, ROWS)
    return matching


def selected_text(select) -> str:
    return select.evaluate("(s) => s.options[s.selectedIndex].textContent")


def test_a_million_rows_are_all_counted_and_every_filter_redraws(browser, bundle, served, screenshots):
    truth = Truth(bundle)
    page = open_page(browser)
    timings: dict = {}
    try:
        page.goto(served.url, timeout=120_000)
        picker = page.locator(PICKER).first
        picker.locator("svg .heatmapcell").first.wait_for(state="attached", timeout=120_000)
        page.locator(".nbexplain-local svg rect.bar").first.wait_for(state="attached", timeout=60_000)
        page.wait_for_timeout(500)
        axis = picker.locator(".widget-dropdown", has_text="x axis").locator("select")
        column = selected_text(axis)
        assert assert_drawn(page, truth, column) == ROWS, "every row counted, not a sample"
        assert picker.locator("svg path.dot").count() == 1, "no point drawn but the picked row's marker"
        kernels = kernel_processes(served)
        assert len(kernels) == 1
        timings["kernel_memory"] = memory_mb(kernels[0])

        before = density_cells(picker)
        predicted = picker.locator(".widget-dropdown", has_text="predicted").locator("select")
        timings["predicted -> default"] = timed(
            page, lambda: predicted.select_option(label="default"), "change", PICKER, TITLE
        )
        assert 0 < assert_drawn(page, truth, column, predicted=1) < ROWS
        assert density_cells(picker) != before, "the grid was drawn again"
        page.screenshot(path=screenshots / "picker-million-default.png", full_page=False)

        timings["predicted -> any"] = timed(page, lambda: predicted.select_option(label="any"), "change", PICKER, TITLE)
        assert assert_drawn(page, truth, column) == ROWS

        handle = picker.locator(".noUi-handle-lower")
        timings["score range: lower bound up"] = timed(page, lambda: handle.press("PageUp"), "keydown", PICKER, TITLE)
        _, score_edges, _ = density_grid(picker)
        low = float(score_edges[0])  # the slider's new lower bound, as the kernel drew it
        assert truth.scores.min() < low < truth.scores.max()
        narrower = assert_drawn(page, truth, column, low=low)
        assert narrower < ROWS

        timings["predicted -> default, narrower"] = timed(
            page, lambda: predicted.select_option(label="default"), "change", PICKER, TITLE
        )
        assert 0 < assert_drawn(page, truth, column, predicted=1, low=low) < narrower
        predicted.select_option(label="any")
        page.wait_for_function(f"() => document.querySelector('{TITLE}').textContent.startsWith('all {narrower:,}')")

        other = "age" if column != "age" else "income"
        timings["x axis"] = timed(page, lambda: axis.select_option(other), "change", PICKER, ".nbexplain-picker .axis")
        assert assert_drawn(page, truth, other, low=low) == narrower

        status = page.locator(STATUS).first
        label = status.inner_text()
        cells = density_cells(picker)
        fullest = max(range(len(cells)), key=lambda i: cells[i][2])
        timings["cell click -> row shown"] = timed(
            page,
            lambda: picker.locator(".heatmapcell").nth(fullest).dispatch_event("click"),
            "click",
            ".nbexplain-dashboard",
            STATUS,
        )
        assert status.inner_text() != label
        assert re.search(rf"[\d,]+ of {narrower:,} matching", status.inner_text()), "the picked row matches the filters"
        page.screenshot(path=screenshots / "picker-million.png", full_page=False)
        assert not page.errors
    finally:
        write_text(ARTIFACTS / "picker-scale.json", json.dumps({"rows": ROWS, **timings}, indent=2))
        page.context.close()
