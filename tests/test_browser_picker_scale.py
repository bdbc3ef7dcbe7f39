"""The picker of a 1,000,000-row bundle in a real browser (Voila + Debian chromium).

Every row is counted in the density view: the counts drawn (read from the cells' data in the page)
sum to the matching rows the title states, before and after each filter; the class filter, the
score range and the x axis redraw the view; a click on a cell picks a row among the matching ones.
The bundle is 1,000,000 rows drawn from a small bundle built from a small network (see
picker_scale.py). The time of each action, measured in the page, and the kernel's memory are
written to test-artifacts/picker-scale.json: recorded, never asserted (benchmarks/bench_picker.py
measures them against their targets).
"""

import json
import re

import pytest
from browser_fixtures import ARTIFACTS, _require_chromium, open_page
from picker_scale import density_cells, kernel_processes, large_bundle, memory_mb, small_bundle, timed

pytestmark = [pytest.mark.browser]

ROWS = 1_000_000
PICKER = ".nbexplain-picker"
TITLE = ".nbexplain-picker text.mainheading"
STATUS = ".nbexplain-picker .nbexplain-picker-status"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    _require_chromium()
    from nbexplain.serve import VoilaServer, bundle_notebook

    folder = tmp_path_factory.mktemp("picker-scale")
    bundle = large_bundle(small_bundle(folder), ROWS, folder / "million.nbxbundle")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with VoilaServer(
        bundle_notebook(bundle), log=ARTIFACTS / "voila-picker-scale.log", cull_idle=0, max_kernels=2
    ) as server:
        yield server


def title_count(page) -> tuple[int, int]:
    text = page.locator(TITLE).first.text_content()
    found = re.search(r"([\d,]+) of ([\d,]+) rows", text)
    assert found, text
    return int(found.group(1).replace(",", "")), int(found.group(2).replace(",", ""))


def counted(page) -> int:
    return sum(count for _, _, count in density_cells(page.locator(PICKER).first))


def test_a_million_rows_are_all_counted_and_every_filter_redraws(browser, served, screenshots):
    page = open_page(browser)
    timings: dict = {}
    try:
        page.goto(served.url, timeout=120_000)
        picker = page.locator(PICKER).first
        picker.locator("svg .heatmapcell").first.wait_for(state="attached", timeout=120_000)
        page.locator(".nbexplain-local svg rect.bar").first.wait_for(state="attached", timeout=60_000)
        page.wait_for_timeout(500)
        assert title_count(page) == (ROWS, ROWS)
        assert counted(page) == ROWS, "every row counted, not a sample"
        assert picker.locator("svg path.dot").count() == 1, "no point drawn but the picked row's marker"
        kernels = kernel_processes(served)
        assert len(kernels) == 1
        timings["kernel_memory"] = memory_mb(kernels[0])

        before = density_cells(picker)
        predicted = picker.locator(".widget-dropdown", has_text="predicted").locator("select")
        timings["predicted -> default"] = timed(
            page, lambda: predicted.select_option(label="default"), "change", PICKER, TITLE
        )
        matching, total = title_count(page)
        assert 0 < matching < total == ROWS
        assert counted(page) == matching
        assert density_cells(picker) != before, "the grid was drawn again"
        page.screenshot(path=screenshots / "picker-million-default.png", full_page=False)

        timings["predicted -> any"] = timed(page, lambda: predicted.select_option(label="any"), "change", PICKER, TITLE)
        assert title_count(page) == (ROWS, ROWS) and counted(page) == ROWS

        handle = picker.locator(".noUi-handle-lower")
        timings["score range: lower bound up"] = timed(page, lambda: handle.press("PageUp"), "keydown", PICKER, TITLE)
        narrower, _ = title_count(page)
        assert narrower < ROWS and counted(page) == narrower

        axis = picker.locator(".widget-dropdown", has_text="x axis").locator("select")
        axis.select_option("income") if axis.input_value() != "income" else axis.select_option("late")
        timings["x axis"] = timed(page, lambda: axis.select_option("age"), "change", PICKER, ".nbexplain-picker .axis")
        assert title_count(page)[0] == narrower and counted(page) == narrower

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
        (ARTIFACTS / "picker-scale.json").write_text(json.dumps({"rows": ROWS, **timings}, indent=2))
        page.context.close()
