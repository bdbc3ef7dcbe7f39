"""The Voila dashboard in a real browser (Debian chromium driven by Playwright).

What a person sees: another row changes the bars, the toggle shows the selection curve, the LSTM
tab has a features x lags heatmap, a what-if edit changes the prediction, a bad edit shows an
error, and no uncaught error reaches the page. The XGBoost and stacked demos (chosen last, on the
same page and kernel): picking a row is a lookup in their bundle, a what-if edit is explained
afresh and its prediction is what XGBoost (and LightGBM and the stack's Keras head) compute for
the edited row, and the reasons and population panels draw their bars. Screenshots go to
test-artifacts/screenshots.
"""

import re

import pytest
from browser_fixtures import open_page

from nbexplain.datasets.credit import CREDIT_FEATURES, MONTHS, SEQUENCE_CHANNELS, STATIC_FEATURES
from nbexplain.widgets.picker import DENSITY_GRID

pytestmark = [pytest.mark.browser, pytest.mark.training]

FCN = 0


def dashboard(page, which):
    return page.locator(".nbexplain-dashboard").nth(which)


def local_labels(board):
    return board.locator(".nbexplain-local svg .axis text").all_text_contents()


def score(board):
    return board.locator(".nbexplain-local .nbexplain-score").inner_text()


@pytest.fixture(scope="module")
def opened(browser, voila_dashboard):
    """One dashboard page for the module (each page load starts a kernel); tests compare what
    they see before and after their own action, and the LSTM test switches models last."""
    page = open_page(browser)
    page.goto(voila_dashboard.url, timeout=120_000)
    board = dashboard(page, FCN)
    board.locator(".nbexplain-local svg rect.bar").first.wait_for(timeout=120_000)
    board.locator(".nbexplain-whatif .wi-row").first.wait_for(timeout=60_000)
    yield page
    page.context.close()


def test_picking_another_row_changes_the_bars(opened, screenshots):
    board = dashboard(opened, FCN)
    before_labels, before_score = local_labels(board), score(board)
    opened.screenshot(path=screenshots / "dashboard-fcn.png", full_page=True)
    board.locator(".nbexplain-picker button", has_text="next").click()
    expect_changed(lambda: (local_labels(board), score(board)), (before_labels, before_score))
    expect_changed(board.locator(".nbexplain-picker .widget-inline-hbox input").first.input_value, "0")
    board.locator(".nbexplain-local").screenshot(path=screenshots / "local-after-next.png")
    assert not opened.errors


def test_clicking_a_density_cell_picks_a_row_in_it(opened):
    """The demo has more rows than the 2,000 drawn as points, so every row is counted in a grid
    of cells; a click on a cell picks the first row inside it. Two different filled cells hold
    different first rows, so one of two clicks must move the index."""
    board = dashboard(opened, FCN)
    index = board.locator(".nbexplain-picker .widget-inline-hbox input").first
    before = index.input_value()
    assert board.locator(".nbexplain-picker svg path.dot").count() == 1, "only the picked-row marker"
    cells = board.locator(".nbexplain-picker svg .heatmapcell")
    columns, rows = DENSITY_GRID
    assert cells.count() == columns * rows
    counts = cells.evaluate_all("cells => cells.map(cell => (cell.__data__ || {}).color || 0)")  # log10(rows + 1)
    filled = [i for i, count in enumerate(counts) if count > 0]
    assert len(filled) > 2, "rows fall in several cells"
    for cell in filled[:2]:
        cells.nth(cell).click(force=True)
        opened.wait_for_timeout(1500)
        if index.input_value() != before:
            break
    assert index.input_value() != before
    assert not opened.errors


def test_toggle_shows_the_selection_curve(opened, screenshots):
    board = dashboard(opened, FCN)
    overview = board.locator(".nbexplain-global")
    overview.locator("button", has_text="selection curve").click()
    note = overview.locator("svg text", has_text=re.compile(r"90 % with k = \d+"))
    note.wait_for(timeout=10_000)
    assert overview.locator("text=cover 90 % of the importance").count() == 1
    overview.screenshot(path=screenshots / "selection-curve.png")
    overview.locator("button", has_text="comparison").click()
    overview.locator("svg text.legendtext", has_text="decision tree").wait_for(timeout=10_000)
    methods, features = 3, 12
    assert overview.locator("svg rect.bar").count() == methods * features, "grouped bars, one per method and feature"
    widths = overview.locator("svg rect.bar").evaluate_all("bars => bars.map(bar => bar.getBBox().width)")
    assert sum(width > 1 for width in widths) >= features, "at least the sensitivity bars (all > 0) are drawn"
    overview.screenshot(path=screenshots / "comparison.png")
    assert not opened.errors


def test_what_if_edit_changes_the_prediction(opened, screenshots):
    board = dashboard(opened, FCN)
    editor = board.locator(".nbexplain-whatif")
    before = score(board)
    field = editor.locator('.wi-row[data-feature="PAY_0"] input')
    field.fill("4")
    field.press("Enter")
    expect_changed(lambda: score(board), before)
    assert "was" in editor.locator(".wi-was").inner_text()
    assert "what-if" in board.locator(".nbexplain-prediction").inner_text()
    board.locator(".nbexplain-whatif").screenshot(path=screenshots / "what-if.png")
    assert not opened.errors


def bar_boxes(panel):
    """Every drawn bar of a panel's chart: width and fill colour."""
    return panel.locator("svg rect.bar").evaluate_all(
        "bars => bars.map(bar => ({width: bar.getBBox().width, fill: getComputedStyle(bar).fill,"
        " opacity: Number(getComputedStyle(bar).opacity)}))"
    )


def test_reasons_panel_draws_the_waterfall_and_follows_the_baseline(opened, screenshots):
    board = dashboard(opened, FCN)
    panel = board.locator(".nbexplain-reasons")
    panel.scroll_into_view_if_needed()
    summary = panel.locator(".nbexplain-reasons-summary")
    summary.locator("text=against baseline").wait_for(timeout=30_000)
    scores = re.search(r"score ([\d.]+) against baseline ([\d.]+)", summary.inner_text())
    score_value, baseline_value = float(scores.group(1)), float(scores.group(2))
    error = float(re.search(r"completeness error ([\d.e+-]+)", summary.inner_text()).group(1))
    assert error < 1e-6
    labels = panel.locator("svg .axis text").all_text_contents()
    assert "baseline score" in labels and "applicant's score" in labels
    levels = [b["width"] for b in bar_boxes(panel) if b["fill"] == "rgb(127, 140, 141)" and b["width"] > 0.5]
    assert len(levels) == 2, "one grey bar for each score"
    assert levels[-1] / levels[0] == pytest.approx(score_value / baseline_value, rel=0.02)
    panel.screenshot(path=screenshots / "reasons-average.png")
    panel.locator("select").first.select_option(label="best-scoring applicant")
    expect_changed(
        lambda: re.search(r"against baseline ([\d.]+)", summary.inner_text()).group(1), scores.group(2), timeout=20
    )
    assert panel.locator(".nbexplain-reason-list").count() == 1
    panel.screenshot(path=screenshots / "reasons-best.png")
    assert not opened.errors


def test_population_comparison_of_two_cohorts(opened, screenshots):
    board = dashboard(opened, FCN)
    panel = board.locator(".nbexplain-population")
    panel.scroll_into_view_if_needed()
    summary = panel.locator(".nbexplain-population-summary")
    summary.locator("text=mean score").first.wait_for(timeout=30_000)
    before = summary.inner_text()
    sizes = [int(n.replace(",", "")) for n in re.findall(r"([\d,]+) rows", before)]
    assert len(sizes) == 2 and sum(sizes) == 25_000, "predicted default against predicted no default: every row"
    widths = [b["width"] for b in bar_boxes(panel)]
    assert len(widths) == 12 and sum(w > 1 for w in widths) >= 3
    panel.locator("select").nth(1).select_option(label="actual default")
    panel.locator("button", has_text="Compare").click()
    expect_changed(summary.inner_text, before, timeout=30)
    assert re.search(r"sum of attributions [+-][\d.]+", summary.inner_text())
    panel.screenshot(path=screenshots / "population.png")
    assert not opened.errors


def test_lstm_tab_has_a_features_by_lags_heatmap(opened, screenshots):
    opened.locator(".nbexplain-model-choice button", has_text="LSTM").click()
    board = dashboard(opened, 0)
    cells = board.locator(".nbexplain-lags svg .heatmapcell")
    cells.first.wait_for(timeout=30_000)
    assert cells.count() == len(SEQUENCE_CHANNELS) * len(MONTHS)
    ticks = board.locator(".nbexplain-lags svg .axis text").all_text_contents()
    assert {"t", "t-5", *SEQUENCE_CHANNELS} <= set(ticks)
    board.locator(".nbexplain-lags button", has_text="picked row").click()
    opened.wait_for_timeout(300)
    opened.screenshot(path=screenshots / "dashboard-lstm.png", full_page=True)
    shown = {
        label.split(" = ")[0]
        for label in board.locator(".nbexplain-local svg .tick text").all_text_contents()
        if label and not label.replace(".", "").isdigit()
    }
    assert set(SEQUENCE_CHANNELS) <= shown and shown - set(SEQUENCE_CHANNELS) <= set(STATIC_FEATURES)
    assert not opened.errors


#: The tree demos and their buttons in the model choice.
TREE_DEMOS = {"credit_xgb": "XGBoost", "credit_stack": "Stack: XGBoost + LightGBM + network"}


@pytest.fixture(scope="module")
def tree_demos(demo_models):
    """The tree demos and their bundles, built here (once per cache) so that Voila's kernel only
    opens them; the libraries' own model files give the independent truth of a what-if."""
    pytest.importorskip("lightgbm")
    from nbexplain.datasets import load_demo
    from nbexplain.results.bundle import open_bundle
    from nbexplain.widgets.demo import demo_bundle

    return {
        name: (load_demo(name, progress=False), open_bundle(demo_bundle(name, progress=False))) for name in TREE_DEMOS
    }


def shown_score(board):
    return float(score(board))


@pytest.mark.parametrize("name", list(TREE_DEMOS))
def test_tree_and_stack_dashboards_pick_explain_a_what_if_and_draw_reasons(opened, tree_demos, screenshots, name):
    from test_demo_models import library_scores

    from nbexplain.widgets.demo import TITLES

    demo, bundle = tree_demos[name]
    short = name.split("_")[1]
    opened.locator(".nbexplain-model-choice button").filter(
        has_text=re.compile(rf"^\s*{re.escape(TREE_DEMOS[name])}\s*$")
    ).click()
    board = opened.locator(".nbexplain-dashboard", has_text=TITLES[name])
    board.locator(".nbexplain-local svg rect.bar").first.wait_for(timeout=120_000)
    board.locator(".nbexplain-whatif .wi-row").first.wait_for(timeout=60_000)
    stored = bundle.array("rows", "__score")
    index = board.locator(".nbexplain-picker .widget-inline-hbox input").first
    status = board.locator(".nbexplain-status")
    assert shown_score(board) == pytest.approx(stored[int(index.input_value())], abs=5e-4)
    # picking is a lookup in the bundle's one pass: no model is loaded for it
    before = (local_labels(board), score(board))
    board.locator(".nbexplain-picker button", has_text="next").click()
    expect_changed(lambda: (local_labels(board), score(board)), before)
    position = int(index.input_value())
    assert position == 1 and shown_score(board) == pytest.approx(stored[position], abs=5e-4)
    assert status.inner_text().strip() == "", "a pick needs no model"
    opened.screenshot(path=screenshots / f"dashboard-{short}.png", full_page=True)
    # a what-if edit is explained afresh; its prediction is what the libraries compute
    row = bundle.frame().iloc[[position]][list(CREDIT_FEATURES)].copy()
    value = 3 if row["PAY_0"].iloc[0] < 2 else -1
    row["PAY_0"] = value
    truth = float(library_scores(demo, row)[0])
    assert abs(truth - stored[position]) > 0.01, "the edit changes the prediction"
    editor = board.locator(".nbexplain-whatif")
    field = editor.locator('.wi-row[data-feature="PAY_0"] input')
    field.fill(str(value))
    field.press("Enter")
    expect_changed(lambda: score(board), f"{stored[position]:.3f}", timeout=120)
    assert shown_score(board) == pytest.approx(truth, abs=6e-4)
    assert "what-if" in board.locator(".nbexplain-prediction").inner_text()
    widths = [b["width"] for b in bar_boxes(board.locator(".nbexplain-local"))]
    assert sum(width > 1 for width in widths) >= 3, "the edited row's own attributions, not zeros"
    editor.screenshot(path=screenshots / f"what-if-{short}.png")
    # the reasons of the edited row, and the stored population comparison
    panel = board.locator(".nbexplain-reasons")
    panel.scroll_into_view_if_needed()
    summary = panel.locator(".nbexplain-reasons-summary")
    summary.locator("text=against baseline").wait_for(timeout=60_000)
    reported = lambda: float(re.search(r"score ([\d.]+) against", summary.inner_text()).group(1))  # noqa: E731
    wait_until(lambda: abs(reported() - truth) < 1e-4, timeout=60)  # the edited row's reasons
    assert float(re.search(r"completeness error ([\d.e+-]+)", summary.inner_text()).group(1)) < 1e-6
    assert sum(b["width"] > 0.5 for b in bar_boxes(panel)) >= 3
    panel.screenshot(path=screenshots / f"reasons-{short}.png")
    population = board.locator(".nbexplain-population")
    population.scroll_into_view_if_needed()
    population.locator(".nbexplain-population-summary").locator("text=mean score").first.wait_for(timeout=30_000)
    sizes = re.findall(r"([\d,]+) rows", population.locator(".nbexplain-population-summary").inner_text())
    assert sum(int(n.replace(",", "")) for n in sizes) == len(demo.test_rows), "the held-out rows"
    assert sum(b["width"] > 1 for b in bar_boxes(population)) >= 3
    population.screenshot(path=screenshots / f"population-{short}.png")
    assert [text for text in opened.locator(".nbexplain-error").all_inner_texts() if text.strip()] == []
    assert not opened.errors


def wait_until(condition, timeout=10.0):
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not so within {timeout} s"
        time.sleep(0.05)


def expect_changed(read, before, timeout=10.0):
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if read() != before:
            return
        time.sleep(0.05)
    raise AssertionError(f"nothing changed within {timeout} s: still {before!r}")
