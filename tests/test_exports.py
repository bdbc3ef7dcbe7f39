"""Exports from the dashboard and charts that fit their panels.

Without a browser: the explanation record carries everything a lender files and nothing that
reaches outside the page; every table download is the result's ``to_frame()``; every image button
asks bqplot for its file; the charts' axis domains hold every bar they draw (a property over
random explanations). In a real browser (Voila + chromium): the files arrive and open, the
record renders, and the reasons and population charts lie inside their plot areas and panels,
titles clear of the bars.
"""

import dataclasses
import io
import re
import subprocess
import sys
import textwrap
from html import unescape
from html.parser import HTMLParser

import keras
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_browser_jupyterlab import jupyterlab  # noqa: F401 (the JupyterLab server fixture)

import nbexplain
from nbexplain import Explanation
from nbexplain.charts import ComparisonBars, CumulativeCurve, ImportanceBars, LagHeatmap, SignedBars, Waterfall
from nbexplain.charts._base import CHAR_PX, MIN_WIDTH
from nbexplain.charts.importance import comparison_frame
from nbexplain.credit import ReasonCatalogue, ReasonCode
from nbexplain.widgets import Dashboard, ExplorerController, ExplorerData
from nbexplain.widgets._export import csv_text
from nbexplain.widgets.record import chromium_executable, record_pdf

WEIGHTS = np.array([0.3, 0.25, -0.1, 0.05])
COLUMNS = ["income", "debt", "age", "region"]


# ----------------------------------------------------------------- helpers
@pytest.fixture(scope="module")
def frame():
    rng = np.random.default_rng(7)
    n = 300
    return pd.DataFrame(
        {
            "income": rng.normal(0, 1.2, n),
            "debt": rng.normal(0, 1, n),
            "age": rng.integers(-2, 3, n) * 0.5 + rng.normal(0, 0.1, n),
            "region": rng.integers(0, 3, n).astype(float),
        }
    )


@pytest.fixture(scope="module")
def data(frame):
    """f(x) = 2 + x w (float64): IG against any baseline b is (x - b) * w exactly."""
    model = keras.Sequential([keras.Input((4,), dtype="float64"), keras.layers.Dense(1, dtype="float64")])
    model.layers[0].set_weights([WEIGHTS[:, None], np.array([2.0])])
    catalogue = ReasonCatalogue(
        (ReasonCode("MONEY", "Income and debt", ("income", "debt")), ReasonCode("REGION", "Region", ("region",))),
        prohibited=("age",),
    )
    data = ExplorerData.from_keras(
        model,
        frame,
        (frame.to_numpy() @ WEIGHTS > 0).astype(int),
        outcome="P(bad)",
        class_labels=("good", "bad"),
        threshold=2.0,
        catalogue=catalogue,
        title="A linear test model",
    )
    return dataclasses.replace(data, description={"rows": "test (300)"})


@pytest.fixture(scope="module")
def board(data):
    return Dashboard(data)


def sent_files(bar):
    """Capture what an ExportBar sends to the browser: a list of (filename, mime, content)."""
    sent = []
    bar.download.send = lambda message: sent.append((message["filename"], message["mime"], message["content"]))
    return sent


def button(bar, description):
    return next(b for b in bar.buttons if b.description == description)


class Record(HTMLParser):
    """What a test reads in a record: tags, attributes, facts by key, stated reasons, groups,
    local importances, and the page's text."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.tags, self.attributes, self.facts, self.reasons, self.groups, self.local = [], [], {}, [], [], []
        self._open = []  # (tag, fact key or None)
        self.text = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        self.attributes.extend(attrs)
        if "data-code" in attrs:
            self.reasons.append((attrs["data-code"], float(attrs["data-contribution"]), int(attrs["data-rank"])))
        if "data-group" in attrs:
            self.groups.append((attrs["data-group"], float(attrs["data-contribution"])))
        if "data-feature" in attrs:
            self.local.append((attrs["data-feature"], float(attrs["data-importance"])))
        if tag not in ("meta", "br", "rect", "line", "img", "input"):
            self._open.append((tag, attrs.get("data-fact")))

    def handle_endtag(self, tag):
        while self._open:
            if self._open.pop()[0] == tag:
                break

    def handle_data(self, data):
        self.text.append(data)
        for _, key in self._open:
            if key is not None:
                self.facts[key] = self.facts.get(key, "") + data

    @property
    def plain(self):
        return " ".join(" ".join(self.text).split())


def assert_self_contained(text):
    lowered = text.lower()
    assert "<script" not in lowered, "no script"
    assert not re.search(r"https?://", lowered), "no web address"
    assert not re.search(r"\s(src|href)\s*=", lowered), "no external file"
    assert "url(" not in lowered and "@import" not in lowered, "no external style"
    assert not re.search(r"\son[a-z]+\s*=", lowered), "no event handler (a script by another name)"


# ------------------------------------------------------------------ record
@pytest.mark.parametrize("which", ["denied", "approved", "what-if"])
def test_record_carries_what_a_lender_files(board, frame, which):
    controller, view = board.controller, board.reasons
    scores = controller.scores
    position = int(np.flatnonzero(scores > 2.0)[0] if which != "approved" else np.flatnonzero(scores <= 2.0)[0])
    controller.pick(position)
    if which == "what-if":
        controller.what_if({"income": float(frame["income"].iloc[position]) + 1.5})
    result = view.current()
    assert result.position == position and result.edited == (which == "what-if")
    text = view.record()
    assert_self_contained(text)
    record = Record(text)
    notice, meta = result.notice, result.by_reason.meta

    decision = "DENIED" if result.denied else "APPROVED"
    assert record.facts["decision"].strip() == decision and result.denied == (which != "approved")
    assert f"{notice.score:.4f}" in record.facts["score"] and "2.0000" in record.facts["cutoff"]
    assert record.reasons == [(r.code, r.contribution, r.rank) for r in notice.reasons]
    if which != "approved":
        assert record.reasons and record.reasons[0][0] == "MONEY"
    assert record.groups == list(zip(result.by_reason.labels("reason"), result.by_reason.values.tolist()))
    assert record.facts["baseline-statement"].strip() == result.baseline["statement"]
    assert f"{notice.baseline_score:.4f}" in record.facts["baseline-score"]
    assert f"{result.completeness_error:.3e}" in record.facts["completeness-error"]
    assert record.facts["steps"].strip() == "64" and record.facts["rule"].strip() == "gausslegendre"
    assert record.facts["method"].strip() == "integrated gradients" == meta["method"]
    assert record.facts["local-method"].strip() == "sensitivity"
    assert record.facts["model-fingerprint"].strip() == meta["model_fingerprint"]
    assert meta["model_fingerprint"] == controller.sample.local.meta["model_fingerprint"]
    assert record.facts["version"].strip() == nbexplain.__version__
    assert record.facts["results-version"].strip() == controller.sample.local.meta["version"]
    local = controller.sample.local.sorted()
    assert record.local == list(zip(local.feature_names, local.values.tolist()))
    assert "300 rows: the 300 rows of the dashboard (test (300))" in record.facts["reference-rows"]
    assert "A linear test model" in record.plain and f"row {position}" in record.plain
    assert ("what-if" in record.facts) == (which == "what-if")
    if which == "what-if":
        assert "income = " in record.facts["what-if"] and "not the applicant as filed" in record.facts["what-if"]
    if notice.warnings:
        assert unescape(record.facts["prohibited-warning"]).strip() == notice.warnings[0]
    assert record.tags.count("svg") == 1 + len(local.values), "the waterfall and a bar per feature, inline"


def test_record_download_sends_the_record_of_the_row_shown(board):
    controller, view = board.controller, board.reasons
    controller.pick(5)
    sent = sent_files(view.export)
    button(view.export, "Download record").click()
    assert not board.errors.last
    (filename, mime, content) = sent[-1]
    assert filename == "explanation-record-row-5.html" and mime.startswith("text/html")
    assert Record(content).facts["score"].strip() == f"{controller.scores[5]:.4f}"
    controller.pick(6)  # the panel follows the pick; the record is of the row shown
    button(view.export, "Download record").click()
    assert sent[-1][0] == "explanation-record-row-6.html"


def test_a_record_is_built_without_tensorflow():
    """From results alone, in a fresh process: no TensorFlow is imported."""
    script = textwrap.dedent(
        """
        import sys
        import numpy as np
        from nbexplain import Explanation
        from nbexplain.credit.reasons import AdverseActionReasons, StatedReason
        from nbexplain.widgets.controller import ApplicantReasons, PickedSample
        from nbexplain.widgets.record import explanation_record

        local = Explanation(np.array([70.0, 30.0]), ("feature",), {"feature": ("a", "b")},
                            {"method": "sensitivity", "model_fingerprint": "f00d", "version": "0.1.0"},
                            signed=np.array([0.2, -0.1]), data=np.array([1.0, 2.0]))
        sample = PickedSample(3, 3, {"a": 1.0, "b": 2.0}, 0.7, local, {})
        notice = AdverseActionReasons(3, 0.7, 0.4, (StatedReason(1, "A", "Too much a", 0.35, ("a",)),),
                                      {"A": 0.35, "B": -0.05}, {}, (), 1e-9)
        meta = {"method": "integrated gradients", "model_fingerprint": "f00d", "cutoff": 0.5,
                "baseline_score": 0.4, "score_value": 0.7}
        by_reason = Explanation(np.array([0.35, -0.05]), ("reason",), {"reason": ("1. A", "B")}, meta)
        reasons = ApplicantReasons(3, False, notice, by_reason, {"statement": "the mean applicant"}, 64,
                                   "gausslegendre", 1e-9, True)
        text = explanation_record(sample, reasons, outcome="P(default)")
        assert "DENIED" in text and "Too much a" in text and "the mean applicant" in text and "f00d" in text
        print("tensorflow" in sys.modules, "keras" in sys.modules)
        """
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.split() == ["False", "False"]


@pytest.mark.skipif(chromium_executable() is None, reason="printing to PDF is optional: it needs chromium")
def test_record_prints_to_pdf_with_chromium(board, tmp_path):
    path = record_pdf(board.reasons.record(), tmp_path / "record.pdf")
    data = path.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 2000
    assert [p.name for p in tmp_path.iterdir()] == ["record.pdf"], "nothing else is left behind"


# ------------------------------------------------------------------ tables
def read_csv(content, expected):
    index = 0 if expected.index.name is not None else None
    return pd.read_csv(io.StringIO(content), index_col=index)


def assert_same_table(content, expected):
    parsed = read_csv(content, expected)
    pd.testing.assert_frame_equal(parsed, expected, check_dtype=False, check_index_type=False, check_exact=True)


def test_every_table_download_is_the_results_frame(board, data):
    controller = board.controller
    controller.pick(12)

    local = sent_files(board.local.export)
    button(board.local.export, "CSV").click()
    assert local[-1][0] == "local-importance-row-12.csv" and local[-1][1].startswith("text/csv")
    assert_same_table(local[-1][2], controller.sample.local.sorted().to_frame())

    overview = board.overview
    sent = sent_files(overview.export)
    button(overview.export, "CSV").click()
    assert sent[-1][0] == "global-importance.csv"
    assert_same_table(sent[-1][2], controller.global_importance.sorted().to_frame())
    overview.mode.value = "selection curve"
    button(overview.export, "CSV").click()
    curve = controller.global_importance.cumulative_share().to_frame()
    assert sent[-1][0] == "feature-selection-curve.csv"
    assert_same_table(sent[-1][2], curve.assign(k=range(1, 5))[["k", "importance"]])
    overview.mode.value = "comparison"
    button(overview.export, "CSV").click()
    assert sent[-1][0] == "importance-comparison.csv"
    parsed = read_csv(sent[-1][2], pd.DataFrame(index=pd.Index([], name="feature")))
    for name, explanation in overview.comparison.explanations.items():
        expected = explanation.to_frame()["importance"]
        np.testing.assert_array_equal(parsed[name].to_numpy(), expected.reindex(parsed.index).to_numpy())
        total = np.abs(explanation.values).sum()
        assert parsed[f"{name} share (%)"].sum() == pytest.approx(100.0 if total > 0 else 0.0)
    assert list(parsed.index[:4]) == list(controller.global_importance.sorted().feature_names)
    overview.mode.value = "importance"

    reasons = board.reasons
    sent = sent_files(reasons.export)
    button(reasons.export, "CSV reasons").click()
    assert sent[-1][0] == "reasons-row-12-average.csv"
    assert_same_table(sent[-1][2], reasons.result.notice.to_frame())
    button(reasons.export, "CSV contributions").click()
    assert sent[-1][0] == "reasons-row-12-average-contributions.csv"
    assert_same_table(sent[-1][2], reasons.result.by_reason.to_frame())

    population = board.population
    sent = sent_files(population.export)
    button(population.export, "CSV").click()
    assert sent[-1][0] == "population-difference.csv"
    expected = population.result.to_frame()
    parsed = read_csv(sent[-1][2], expected)
    assert_same_table(parsed[["importance"]].to_csv(), expected)
    errors = population.result.meta["standard_error"]
    assert parsed["standard_error"].to_dict() == pytest.approx(errors)
    assert not board.errors.last


def test_csv_text_round_trips_numbers_exactly():
    values = np.array([1 / 3, 1e-17, -2.5e12, 0.1 + 0.2])
    explanation = Explanation(values, ("feature",), {"feature": ("a", "b, with a comma", 'c "quoted"', "d")})
    assert_same_table(csv_text(explanation.to_frame()), explanation.to_frame())


def test_lag_view_downloads_its_two_tables():
    from nbexplain.datasets.credit import credit_sequences, make_credit_default, sequence_elements
    from nbexplain.engine.protocol import ModelExplainers
    from nbexplain.widgets import LagView

    keras.utils.set_random_seed(2)
    credit = make_credit_default(120, seed=3)
    sequences = credit_sequences(credit)
    history, static = keras.Input((6, 3), name="history"), keras.Input((5,), name="static")
    joined = keras.layers.Concatenate()([keras.layers.LSTM(4)(history), static])
    model = keras.Model([history, static], keras.layers.Dense(1, activation="sigmoid")(joined))
    scale = {k: np.abs(v).max(axis=(0, 1) if v.ndim == 3 else 0) + 1 for k, v in sequences.items()}
    controller = ExplorerController(
        ExplorerData(
            ModelExplainers.for_keras(model),
            credit.drop(columns="default"),
            lambda f: {k: v / scale[k] for k, v in credit_sequences(f).items()},
            sequence_elements(),
            credit["default"].to_numpy(),
        )
    )
    view = LagView(controller)
    sent = sent_files(view.export)
    button(view.export, "CSV heatmap").click()
    assert sent[-1][0] == "lags-all-rows-heatmap.csv"
    expected = controller.explained.lag_matrix().to_frame()
    assert_same_table(sent[-1][2], expected)
    view.scope.value = "local"
    controller.pick(9)
    button(view.export, "CSV by lag").click()
    assert sent[-1][0] == "lags-row-9-by-lag.csv"
    assert_same_table(sent[-1][2], controller.explained.lag_importance(9).to_frame())
    figures = []
    view.chart.heatmap.send = figures.append
    view.chart.lag_bars.send = figures.append
    button(view.export, "PNG by-lag").click()
    button(view.export, "SVG heatmap").click()
    assert figures == [
        {"type": "save_png", "filename": "lags-row-9-by-lag.png", "scale": 2.0},
        {"type": "save_svg", "filename": "lags-row-9-heatmap.svg"},
    ]


# ------------------------------------------------------------------ images
def test_every_panel_offers_png_and_svg_of_the_chart_shown(board):
    board.controller.pick(3)
    panels = {
        board.local: ("local-importance-row-3", lambda: board.local.chart.figure),
        board.overview: ("global-importance", lambda: board.overview.bars.figure),
        board.reasons: ("reasons-row-3-average", lambda: board.reasons.chart.figure),
        board.population: ("population-difference", lambda: board.population.chart.figure),
    }
    for view, (stem, shown) in panels.items():
        messages = []
        shown().send = messages.append
        button(view.export, "PNG").click()
        button(view.export, "SVG").click()
        assert messages == [
            {"type": "save_png", "filename": f"{stem}.png", "scale": 2.0},
            {"type": "save_svg", "filename": f"{stem}.svg"},
        ], type(view).__name__
    board.overview.mode.value = "selection curve"
    messages = []
    board.overview.curve.figure.send = messages.append
    button(board.overview.export, "PNG").click()
    assert messages[-1]["filename"] == "feature-selection-curve.png"
    board.overview.mode.value = "importance"
    assert not board.errors.last


def test_every_chart_class_has_its_own_image_toolbar():
    importance = Explanation(np.array([3.0, 1.0]), ("feature",), {"feature": ("a", "b")})
    signed = Explanation(np.array([0.3, -0.1]), ("feature",), {"feature": ("a", "b")})
    waterfall = Explanation(
        np.array([0.3, -0.1]), ("reason",), {"reason": ("A", "B")}, {"baseline_score": 0.2, "score_value": 0.4}
    )
    lags = Explanation(np.ones((2, 3)), ("feature", "lag"), {"feature": ("a", "b"), "lag": ("t", "t-1", "t-2")})
    by_lag = Explanation(np.array([50.0, 30.0, 20.0]), ("lag",), {"lag": ("t", "t-1", "t-2")})
    charts = [
        ImportanceBars(importance, title="global importance"),
        ComparisonBars({"one": importance, "two": importance}, title="Two methods"),
        CumulativeCurve(importance, title="feature selection"),
        SignedBars(signed, title="mean attribution difference, A - B"),
        Waterfall(waterfall, title="baseline score → applicant's score"),
        LagHeatmap(lags, by_lag),
    ]
    stems = [
        "global-importance",
        "two-methods",
        "feature-selection",
        "mean-attribution-difference-a-b",
        "baseline-score-applicant-s-score",
    ]
    for chart, stem in zip(charts, [*stems, "lags"]):
        toolbar = chart.toolbar()
        labels = [b.description for b in toolbar.children]
        parts = list(chart.figures)
        assert labels == [f"{kind} {part}".strip() for part in parts for kind in ("PNG", "SVG")]
        messages = []
        for figure in chart.figures.values():
            figure.send = messages.append
        toolbar.children[0].click()
        assert messages == [{"type": "save_png", "filename": chart.filename("png", parts[0]), "scale": 2.0}]
        assert chart.filename("png", parts[0]).startswith(stem)
        for figure in chart.figures.values():
            assert figure.layout.width in ("100%", "auto") and int(figure.layout.min_width.rstrip("px")) <= 340
            assert figure.fig_margin["top"] >= 44, "room for the title above the plot area"
    assert MIN_WIDTH == "280px"


# ------------------------------------------------------------ axis domains
finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False).filter(lambda v: v == 0 or abs(v) > 1e-9)
# (labels drawn from a fixed alphabet: st.text would cache Unicode tables in a .hypothesis folder)
names = st.lists(st.sampled_from("abcdefghijklmnopqrstuvwxyz_ABCDEFGHIJ0123456789 "), min_size=1, max_size=60).map(
    "".join
)


def explanation_of(values, labels, dim="feature", **meta):
    labels = [f"{i}:{label}" for i, label in zip(range(len(values)), labels)]  # unique
    return Explanation(np.asarray(values, dtype=float), (dim,), {dim: tuple(labels)}, meta)


def assert_within(ends, scale, chart):
    ends = np.asarray(ends, dtype=float).reshape(-1)
    low, high = scale.min, scale.max
    assert low <= 0 <= high, f"{chart}: zero is on the axis ({low}, {high})"
    assert np.all(ends >= low) and np.all(ends <= high), f"{chart}: {ends} outside ({low}, {high})"
    extent = max(abs(ends.max(initial=0)), abs(ends.min(initial=0)))
    if extent > 1e-250:  # below that there is nothing to draw (a unit axis)
        span = high - low
        assert ends.max() < high or ends.max() <= 0, f"{chart}: a margin above the largest bar"
        assert ends.min() > low or ends.min() >= 0, f"{chart}: a margin below the smallest bar"
        assert (max(ends.max(), 0) - min(ends.min(), 0)) >= 0.4 * span, f"{chart}: the bars fill the axis"


def assert_labels_fit(chart, labels):
    left = chart.figure.fig_margin["left"]
    longest = max(len(str(label)) for label in labels)
    assert len(max(labels, key=len)) <= 40, "long labels are shortened"
    assert left >= CHAR_PX * min(longest, 40), f"the left margin {left} holds a {longest}-character label"


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=st.lists(finite, min_size=1, max_size=25), labels=st.lists(names, min_size=25, max_size=25))
def test_importance_and_signed_bars_fit_every_value(values, labels):
    chart = SignedBars(top=30)
    chart.update(explanation_of(values, labels))
    assert_within(chart.bars.y, chart.amount, "SignedBars")
    assert_labels_fit(chart, list(chart.bars.x))
    chart = ImportanceBars(top=30)
    chart.update(explanation_of(np.abs(values), labels))
    assert_within(chart.bars.y, chart.amount, "ImportanceBars")
    assert_labels_fit(chart, list(chart.bars.x))


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    baseline=st.floats(min_value=0.0, max_value=1.0),
    contributions=st.lists(st.floats(min_value=-1.0, max_value=1.0), min_size=1, max_size=12),
    labels=st.lists(names, min_size=12, max_size=12),
)
def test_waterfall_axis_holds_every_running_total(baseline, contributions, labels):
    contributions = np.asarray(contributions)
    falls = contributions[contributions < 0].sum()
    rises = contributions[contributions > 0].sum()
    if baseline + rises + falls < 0:  # a probability cannot go below zero: scale the falls back
        contributions = np.where(contributions < 0, contributions * 0.999 * (baseline + rises) / -falls, contributions)
    score = max(baseline + contributions.sum(), 0.0)
    chart = Waterfall(explanation_of(contributions, labels, "reason", baseline_score=baseline, score_value=score))
    heights = np.asarray(chart.bars.y)
    ends = np.cumsum(heights, axis=0)  # stacked: offset, then rise, fall or level
    assert_within(ends, chart.amount, "Waterfall")
    running = [value for _, start, end, _ in chart.rows for value in (start, end)]
    assert_within(running, chart.amount, "Waterfall rows")
    assert_labels_fit(chart, list(chart.bars.x))


@settings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    first=st.lists(st.floats(min_value=0.0, max_value=1e4), min_size=3, max_size=15),
    scale=st.floats(min_value=1e-3, max_value=1e3),
    seed=st.integers(0, 2**16),
)
def test_comparison_bars_fit_every_share(first, scale, seed):
    first = np.asarray(first)
    other = np.random.default_rng(seed).permutation(first) * scale
    labels = [f"feature {i}" for i in range(len(first))]
    one = Explanation(first, ("feature",), {"feature": tuple(labels)})
    two = Explanation(other, ("feature",), {"feature": tuple(labels)})
    chart = ComparisonBars({"one": one, "two": two}, top=20)
    assert_within(chart.bars.y, chart.amount, "ComparisonBars")
    if first.sum() > 0:
        table = comparison_frame({"one": one, "two": two})
        assert table["one share (%)"].sum() == pytest.approx(100.0)


def test_cumulative_curve_note_stays_inside_the_plot():
    for values in ([90.0, 5.0, 5.0], [1.0] * 20):
        chart = CumulativeCurve(Explanation(np.array(values), ("feature",), {"feature": tuple(map(str, values))}))
        right_half = chart.k > (len(values) + 1) / 2
        assert chart.note.align == ("end" if right_half else "start")
        assert chart.k_scale.min < chart.note.x[0] < chart.k_scale.max
    chart.update(Explanation(np.ones(3), ("feature",)), errors={1: 0.3, 2: 0.1})
    assert chart.error_scale.min < 0.1 and chart.error_scale.max > 0.3


# ------------------------------------------------------------------ browser
# Every bar, title and tick label of the figures in a panel, as the page lays them out (px).
GEOMETRY = """panel => {
  const box = e => { const r = e.getBoundingClientRect(); return {left: r.left, right: r.right, top: r.top,
                      bottom: r.bottom, width: r.width, height: r.height}; };
  return {panel: box(panel), figures: [...panel.querySelectorAll('.bqplot')].map(figure => ({
    figure: box(figure),
    parent: box(figure.parentElement),
    svg: box(figure.querySelector('svg')),
    plot: box(figure.querySelector('.plotarea_background')),
    title: figure.querySelector('text.mainheading') && figure.querySelector('text.mainheading').textContent
           ? box(figure.querySelector('text.mainheading')) : null,
    bars: [...figure.querySelectorAll('rect.bar')].filter(bar => Number(getComputedStyle(bar).opacity) > 0
           && bar.getBBox().width > 0.5).map(box),
    ticks: [...figure.querySelectorAll('.axis .tick text')].filter(t => t.textContent).map(box),
  }))};
}"""


def inside(inner, outer, slack=1.0):
    return (
        inner["left"] >= outer["left"] - slack
        and inner["right"] <= outer["right"] + slack
        and inner["top"] >= outer["top"] - slack
        and inner["bottom"] <= outer["bottom"] + slack
    )


def overlaps(a, b):
    return a["left"] < b["right"] and b["left"] < a["right"] and a["top"] < b["bottom"] and b["top"] < a["bottom"]


def assert_fits(panel, name):
    """The drawn bars lie in the plot area and the panel, the title clear of every bar, the figure
    and its tick labels inside the panel."""
    geometry = panel.evaluate(GEOMETRY)
    assert geometry["figures"], f"{name}: no figure"
    for figure in geometry["figures"]:
        assert figure["bars"], f"{name}: no bar drawn"
        assert inside(figure["svg"], geometry["panel"]), f"{name}: the figure {figure['svg']} leaves the panel"
        assert inside(figure["svg"], figure["parent"]), f"{name}: the figure leaves its box {figure['parent']}"
        for bar in figure["bars"]:
            assert inside(bar, figure["plot"]), f"{name}: a bar {bar} leaves the plot area {figure['plot']}"
            assert inside(bar, geometry["panel"]), f"{name}: a bar leaves the panel"
        if figure["title"] is not None:
            assert figure["title"]["bottom"] <= figure["plot"]["top"] + 1, f"{name}: the title reaches the plot"
            assert inside(figure["title"], figure["svg"]), f"{name}: the title is cut"
            assert not any(overlaps(figure["title"], bar) for bar in figure["bars"]), f"{name}: title over a bar"
        for tick in figure["ticks"]:
            assert inside(tick, figure["svg"]), f"{name}: a tick label {tick} is cut (figure {figure['svg']})"
    return geometry


def open_dashboard(browser, url, width=1400):
    from browser_fixtures import open_page

    page = open_page(browser, width=width)
    page.goto(url, timeout=120_000)
    board = page.locator(".nbexplain-dashboard").first
    board.locator(".nbexplain-local svg rect.bar").first.wait_for(timeout=120_000)
    board.locator(".nbexplain-reasons-summary", has_text="against baseline").wait_for(timeout=60_000)
    board.locator(".nbexplain-population-summary", has_text="mean score").wait_for(timeout=60_000)
    page.wait_for_timeout(500)  # bqplot's last layout pass
    return page, board


@pytest.fixture(scope="module")
def dashboard_page(browser, voila_dashboard):
    page, board = open_dashboard(browser, voila_dashboard.url)
    yield page, board
    page.context.close()


def tick_labels(panel):
    """The vertical axis's tick labels of a panel's chart, top to bottom as a person reads them."""
    ticks = panel.locator("svg .axis .tick text").evaluate_all(
        "ts => ts.map(t => [t.textContent, t.getBoundingClientRect().top])"
    )
    return [text for text, _ in sorted(ticks, key=lambda tick: tick[1]) if text]


def download(page, locator):
    with page.expect_download(timeout=30_000) as info:
        locator.click()
    value = info.value
    return value.suggested_filename, open(value.path(), "rb").read()


def png_size(data):
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "a PNG file"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


@pytest.mark.browser
@pytest.mark.training
def test_image_and_table_downloads_arrive_and_open(dashboard_page, screenshots):
    page, board = dashboard_page
    local = board.locator(".nbexplain-local")
    name, data = download(page, local.locator(".nbexplain-download-png"))
    assert name == "local-importance-row-0.png" and min(png_size(data)) > 100
    name, data = download(page, local.locator(".nbexplain-download-svg"))
    assert name == "local-importance-row-0.svg" and b"<svg" in data and b"rect" in data
    name, data = download(page, local.locator(".nbexplain-download-csv"))
    table = pd.read_csv(io.BytesIO(data), index_col="feature")
    labels = [label for label in tick_labels(local) if " = " in label]
    assert name == "local-importance-row-0.csv" and len(labels) == 10
    assert [label.split(" = ")[0] for label in labels] == list(table.index[:10]), "the bars, in the table's order"
    assert table["importance"].is_monotonic_decreasing and table["importance"].sum() == pytest.approx(100)

    overview = board.locator(".nbexplain-global")
    name, data = download(page, overview.locator(".nbexplain-download-png"))
    assert name == "global-importance.png" and min(png_size(data)) > 100

    population = board.locator(".nbexplain-population")
    population.scroll_into_view_if_needed()
    name, data = download(page, population.locator(".nbexplain-download-csv"))
    table = pd.read_csv(io.BytesIO(data), index_col="column")
    assert name == "population-difference.csv" and len(table) == 23
    shown = [label.split(" ± ")[0] for label in tick_labels(population) if " ± " in label]
    top = table["importance"].abs().sort_values(ascending=False, kind="stable").index[:12]
    assert shown == list(top), "the bars are the table's 12 largest differences"
    summary = population.locator(".nbexplain-population-summary").inner_text()
    total = float(re.search(r"sum of attributions ([+-][\d.]+)", summary).group(1))
    assert table["importance"].sum() == pytest.approx(total, abs=1e-4)
    name, data = download(page, population.locator(".nbexplain-download-png"))
    assert name == "population-difference.png" and min(png_size(data)) > 100

    reasons = board.locator(".nbexplain-reasons")
    reasons.scroll_into_view_if_needed()
    name, data = download(page, reasons.locator(".nbexplain-download-csv").first)
    table = pd.read_csv(io.BytesIO(data))
    assert name == "reasons-row-0-average.csv"
    listed = re.findall(r"\[([A-Z]+)\]", reasons.locator(".nbexplain-reason-list").inner_text())
    assert list(table["code"]) == listed and table["rank"].tolist() == list(range(1, len(listed) + 1))
    assert not page.errors


@pytest.mark.browser
@pytest.mark.training
def test_record_downloads_and_renders(dashboard_page, browser, screenshots):
    from browser_fixtures import open_page

    page, board = dashboard_page
    reasons = board.locator(".nbexplain-reasons")
    reasons.scroll_into_view_if_needed()
    summary = reasons.locator(".nbexplain-reasons-summary").inner_text()
    name, data = download(page, reasons.locator(".nbexplain-download-record"))
    text = data.decode("utf-8")
    assert name == "explanation-record-row-0.html"
    assert_self_contained(text)
    record = Record(text)
    score = re.search(r"score ([\d.]+) against baseline ([\d.]+)", summary)
    assert record.facts["score"].strip() == score.group(1) and score.group(2) in record.facts["baseline-score"]
    assert record.facts["decision"].strip() in summary and len(record.local) == 23
    assert [code for code, *_ in record.reasons] == re.findall(r"\[([A-Z]+)\]", summary)

    viewer = open_page(browser, width=900, height=1000)
    try:
        viewer.set_content(text)
        waterfall = viewer.locator("svg.waterfall")
        assert waterfall.bounding_box()["width"] > 300 and viewer.locator("svg.bar").count() == 23
        viewer.screenshot(path=screenshots / "record.png", full_page=True)
        assert not viewer.errors
    finally:
        viewer.context.close()
    assert not page.errors


@pytest.mark.browser
@pytest.mark.training
def test_charts_fit_their_panels(dashboard_page, browser, voila_dashboard, screenshots):
    page, board = dashboard_page
    for name in ("local", "global", "reasons", "population"):
        panel = board.locator(f".nbexplain-{name}")
        panel.scroll_into_view_if_needed()
        assert_fits(panel, name)
    board.locator(".nbexplain-reasons").screenshot(path=screenshots / "reasons-panel.png")
    board.locator(".nbexplain-population").screenshot(path=screenshots / "population-panel.png")
    # a narrow window: the panels wrap and every chart still fits
    narrow, narrow_board = open_dashboard(browser, voila_dashboard.url, width=1000)
    try:
        for name in ("local", "global", "reasons", "population"):
            panel = narrow_board.locator(f".nbexplain-{name}")
            panel.scroll_into_view_if_needed()
            assert_fits(panel, f"{name} at 1000 px")
        narrow_board.locator(".nbexplain-reasons").screenshot(path=screenshots / "reasons-panel-narrow.png")
        assert not narrow.errors
    finally:
        narrow.context.close()
    assert not page.errors


@pytest.mark.browser
@pytest.mark.training
def test_downloads_work_in_jupyterlab_too(jupyterlab, page):  # noqa: F811 (the imported fixture)
    """The same buttons in a JupyterLab notebook (the exploration notebook's views)."""
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(jupyterlab + "lab/tree/explore.ipynb", timeout=120_000)
    page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=120_000)
    page.locator("#jp-main-statusbar", has_text="Idle").wait_for(timeout=120_000)
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel").get_by_text("Run All Cells", exact=True).click()
    local = page.locator(".nbexplain-local").first
    local.locator("svg rect.bar").first.wait_for(state="attached", timeout=240_000)
    local.scroll_into_view_if_needed()
    name, data = download(page, local.locator(".nbexplain-download-csv"))
    table = pd.read_csv(io.BytesIO(data), index_col="feature")
    assert re.fullmatch(r"local-importance-row-\d+(-what-if)?\.csv", name) and len(table) == 23
    name, data = download(page, local.locator(".nbexplain-download-png"))
    assert name.endswith(".png") and min(png_size(data)) > 100
    assert not page.errors
