"""Explorer widgets without a browser: build them, drive their traits, and check that the chart
marks carry what a closed-form gradient of a hand-set network says."""

from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest

from nbexplain.datasets.credit import credit_sequences, make_credit_default, sequence_elements
from nbexplain.engine.protocol import ModelExplainers
from nbexplain.errors import InputDataError, NBExplainError, UnknownNameError
from nbexplain.widgets import (
    Dashboard,
    ExplorerController,
    ExplorerData,
    GlobalView,
    LagView,
    LocalView,
    SamplePicker,
    WhatIfEditor,
    feature_specs,
)

W1 = np.array([[0.8, -0.3], [-0.5, 0.9], [0.4, 0.2], [0.0, -0.7]], dtype="float32")
B1 = np.array([0.1, -0.2], dtype="float32")
W2 = np.array([[1.5], [-1.1]], dtype="float32")
B2 = np.array([-0.3], dtype="float32")
COLUMNS = ["income", "debt", "age", "region"]


def forward(X):
    """p = sigmoid(W2' tanh(W1' x + b1) + b2) and its gradient dp/dx, in numpy (the truth)."""
    h = np.tanh(X @ W1 + B1)
    p = 1 / (1 + np.exp(-(h @ W2 + B2)[:, 0]))
    gradient = (p * (1 - p))[:, None] * (((1 - h**2) * W2[:, 0]) @ W1.T)
    return p, gradient


def shares(g):
    return 100 * g**2 / (g**2).sum(axis=-1, keepdims=True)


@pytest.fixture(scope="module")
def network():
    model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(2, activation="tanh"), keras.layers.Dense(1, activation="sigmoid")]
    )
    model.layers[0].set_weights([W1, B1])
    model.layers[1].set_weights([W2, B2])
    return model


@pytest.fixture(scope="module")
def frame():
    rng = np.random.default_rng(7)
    n = 300
    return pd.DataFrame(
        {
            "income": rng.normal(0, 1.2, n),
            "debt": rng.normal(0, 1, n),
            "age": rng.integers(-2, 3, n) * 0.5 + rng.normal(0, 0.1, n),
            "region": rng.integers(0, 3, n),
        }
    )


@pytest.fixture(scope="module")
def data(network, frame):
    y = (forward(frame.to_numpy("float32"))[0] > 0.5).astype(int)
    y[::7] = 1 - y[::7]
    return ExplorerData.from_keras(
        network,
        frame,
        y,
        outcome="P(bad)",
        class_labels=("good", "bad"),
        choices={"region": {0: "north", 1: "south", 2: "west"}},
    )


@pytest.fixture
def controller(data):
    return ExplorerController(data)


def test_controller_explains_once_and_a_pick_is_a_lookup(controller, frame, monkeypatch):
    p, g = forward(frame.to_numpy("float32"))
    np.testing.assert_allclose(controller.scores, p, rtol=1e-5)
    monkeypatch.setattr(controller.row_explainer, "explain", lambda X: pytest.fail("a pick ran a gradient pass"))
    sample = controller.pick(11)
    np.testing.assert_allclose(sample.local.values, shares(g[11]), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(sample.local.signed, g[11], rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(sample.local.data, frame.iloc[11].to_numpy(), rtol=1e-6)
    assert sample.prediction == pytest.approx(p[11], rel=1e-5) and sample.label == frame.index[11]
    assert {c: s for c, (s, _) in sample.columns.items()} == pytest.approx(dict(zip(COLUMNS, shares(g[11]))), rel=1e-4)


def test_local_view_bars_are_the_picked_rows_sorted_importance(controller, frame):
    view = LocalView(controller, top=3)
    _, g = forward(frame.to_numpy("float32"))
    for row in (0, 42):
        controller.pick(row)
        order = np.argsort(-shares(g[row]))[:3]
        np.testing.assert_allclose(view.chart.bars.y, shares(g[row])[order], rtol=1e-4)
        np.testing.assert_allclose(view.chart.bars.color, g[row][order], rtol=1e-4, atol=1e-7)
        assert [label.split(" = ")[0] for label in view.chart.bars.x] == [COLUMNS[j] for j in order]
        assert f"{controller.scores[row]:.3f}" in view.summary.value
    view.top.value = 4
    assert len(view.chart.bars.y) == 4


def test_picker_index_buttons_filters_and_scatter_click(controller, data):
    picker = SamplePicker(controller, max_points=100)
    bad = np.flatnonzero(controller.scores > 0.5)
    good = int(np.flatnonzero(controller.scores <= 0.5)[3])
    picker.index.value = good
    assert controller.position == good
    picker.predicted_filter.value = 1
    np.testing.assert_array_equal(picker.matching, bad)
    assert controller.position == bad[0], "a row outside the filter moves to the first match"
    picker.next.click()
    assert controller.position == bad[1]
    picker.previous.click()
    picker.previous.click()
    assert controller.position == bad[-1], "previous wraps around"
    picker.actual_filter.value = 0
    np.testing.assert_array_equal(picker.matching, np.flatnonzero((controller.scores > 0.5) & (data.target == 0)))
    shown = np.flatnonzero((controller.scores > 0.5) & (data.target == 0))
    np.testing.assert_allclose(picker.points.y, controller.scores[shown])
    picker.points.selected = [5]
    assert controller.position == shown[5] and picker.points.selected is None
    assert picker.index.value == controller.position and picker.marker.y[0] == controller.scores[controller.position]
    picker.actual_filter.value = picker.predicted_filter.value = -1
    assert len(picker.shown) == 0 and "all 300 of 300 rows counted per cell" in picker.scatter.title


def test_the_density_view_counts_every_matching_row_and_a_click_picks_one_in_the_cell(controller, data):
    picker = SamplePicker(controller, max_points=50, feature="income")
    counts = np.nan_to_num(10 ** np.asarray(picker.density.color, dtype=float) - 1)
    assert picker.density.visible and round(counts.sum()) == controller.n_rows, "all rows, not a sample"
    x = data.frame["income"].to_numpy()
    x_edges = np.r_[picker.density.column, x.max()]
    y_edges = np.r_[picker.density.row, controller.scores.max()]
    truth, _, _ = np.histogram2d(controller.scores, x, bins=(y_edges, x_edges))
    np.testing.assert_allclose(counts, truth)
    row, column = np.argwhere(truth > 0)[-1]
    picker.density.set_state({"selected": [[int(row), int(column)]]})  # as the front end sends a click
    picked = controller.position
    assert y_edges[row] <= controller.scores[picked] <= y_edges[row + 1]
    assert x_edges[column] <= x[picked] <= x_edges[column + 1]
    picker.predicted_filter.value = 1
    counts = np.nan_to_num(10 ** np.asarray(picker.density.color, dtype=float) - 1)
    assert round(counts.sum()) == (controller.scores > 0.5).sum() or not picker.dense


def test_picker_jitters_only_discrete_columns(controller, frame):
    picker = SamplePicker(controller, max_points=1000, feature="region")
    offset = np.asarray(picker.points.x) - frame["region"].to_numpy()[picker.shown]
    assert 0 < np.abs(offset).max() <= 0.3 and "(jittered)" in picker.x_axis.label
    picker.feature.value = "income"
    np.testing.assert_allclose(picker.points.x, frame["income"].to_numpy()[picker.shown])


def test_global_view_toggles_between_bars_curve_and_comparison(network, frame, data):
    from nbexplain import Explanation

    other = Explanation(np.array([1.0, 2.0, 3.0, 4.0]), ("feature",), {"feature": COLUMNS})
    data = ExplorerData.from_keras(
        network, frame, data.target, comparisons={"made up": other}, selection_errors={1: 0.3, 2: 0.2, 4: 0.19}
    )
    controller = ExplorerController(data)
    view = GlobalView(controller)
    assert view.stage.children == (view.bars.figure,)
    _, g = forward(frame.to_numpy("float32"))
    truth = np.sqrt((g**2).mean(axis=0))
    np.testing.assert_allclose(view.bars.bars.y, np.sort(100 * truth / truth.sum())[::-1], rtol=1e-4)
    view.mode.value = "selection curve"
    assert view.stage.children[0].children[0] is view.curve.figure
    np.testing.assert_allclose(view.curve.curve.y, np.cumsum(np.sort(100 * truth / truth.sum())[::-1]), rtol=1e-4)
    assert view.curve.errors.visible and list(view.curve.errors.y) == [0.3, 0.2, 0.19]
    view.share.value = 100
    assert view.curve.k == 4 and "cover 100 %" in view.selected.value
    view.mode.value = "comparison"
    assert view.stage.children == (view.comparison.figure,)
    order = list(view.comparison.bars.x)
    np.testing.assert_allclose(view.comparison.bars.y[1], [10 * (COLUMNS.index(c) + 1) for c in order])


def test_what_if_edit_explains_the_edited_row(controller, frame):
    editor = WhatIfEditor(controller)
    controller.pick(3)
    assert editor.editor.values == editor.editor.original == dict(zip(COLUMNS, frame.iloc[3].tolist()))
    edited = {**editor.editor.values, "income": 2.5, "region": 2}
    editor.editor.values = edited
    row = frame.iloc[[3]].to_numpy("float32").copy()
    row[0, 0], row[0, 3] = 2.5, 2
    p, g = forward(row)
    sample = controller.sample
    assert sample.edited and sample.edits == {"income": 2.5, "region": 2}
    assert sample.prediction == pytest.approx(p[0], rel=1e-5) == editor.editor.prediction
    assert editor.editor.original_prediction == pytest.approx(controller.scores[3], rel=1e-6)
    np.testing.assert_allclose(sample.local.values, shares(g[0]), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose([editor.editor.importance[c][0] for c in COLUMNS], shares(g[0]), rtol=1e-4)
    assert controller.position == 3, "an edit does not move the pick"
    controller.what_if({"debt": -1.0})
    assert editor.editor.values == {**editor.editor.original, "debt": -1.0}, "an edit made in code shows too"
    editor.editor.values = dict(editor.editor.original)
    assert not controller.sample.edited and controller.sample.prediction == pytest.approx(controller.scores[3])


def test_dashboard_composes_the_views_and_shows_callback_errors(data):
    board = Dashboard(data)
    assert board.lags is None, "no lag heatmap for a dense model"
    views = board.widget.children
    assert board.errors.widget in views and board.status.widget in views
    assert any(board.picker.widget in box.children for box in views if hasattr(box, "children"))
    assert not board.evidence.buttons, "no evidence pack without a bundle"
    board.editor.editor.values = {**board.editor.editor.values, "income": "lots"}
    assert board.errors.widget.layout.display == "block"
    assert "income must be a number; got &#x27;lots&#x27;" in board.errors.widget.value
    board.picker.next.click()
    assert board.errors.widget.layout.display == "none", "the next good action clears the error"
    with pytest.raises(UnknownNameError, match="Unknown column 'incme'. Did you mean 'income'"):
        board.controller.what_if({"incme": 1.0})
    with pytest.raises(NBExplainError, match="Row 300 does not exist"):
        board.controller.pick(300)


def test_unexpected_callback_errors_show_their_traceback(data):
    board = Dashboard(data)

    def broken(_):
        raise RuntimeError("the chart fell over")

    board.controller.observe(board.errors.guard(broken), names="sample")
    board.controller.pick(1)
    assert "RuntimeError" in board.errors.widget.value and "traceback" in board.errors.widget.value


def test_recurrent_model_gets_the_lag_view():
    keras.utils.set_random_seed(2)
    frame = make_credit_default(400, seed=3)
    sequences = credit_sequences(frame)
    history, static = keras.Input((6, 3), name="history"), keras.Input((5,), name="static")
    joined = keras.layers.Concatenate()([keras.layers.LSTM(4)(history), static])
    model = keras.Model([history, static], keras.layers.Dense(1, activation="sigmoid")(joined))
    scale = {k: np.abs(v).max(axis=(0, 1) if v.ndim == 3 else 0) + 1 for k, v in sequences.items()}
    data = ExplorerData(
        ModelExplainers.for_keras(model),
        frame.drop(columns="default"),
        lambda f: {k: v / scale[k] for k, v in credit_sequences(f).items()},
        sequence_elements(),
        frame["default"].to_numpy(),
    )
    controller = ExplorerController(data)
    view = LagView(controller)
    sens = controller.explained
    np.testing.assert_allclose(view.chart.grid.color, sens.lag_matrix().values)
    view.scope.value = "local"
    controller.pick(9)
    np.testing.assert_allclose(view.chart.grid.color, sens.lag_matrix(9).values)
    gradient = sens.gradients["history"][9, 5, 0] ** 2
    total = sum(sens.gradients[i][(9, *ix)] ** 2 for _, (i, ix) in sequence_elements().items())
    assert controller.sample.columns["PAY_0"][0] == pytest.approx(100 * gradient / total, rel=1e-4)
    with pytest.raises(NBExplainError, match="needs a recurrent model"):
        LagView(
            ExplorerController(
                ExplorerData.from_keras(
                    keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]), pd.DataFrame({"a": [1.0], "b": [2.0]})
                )
            )
        )


def test_sequence_elements_point_at_each_columns_value():
    frame = make_credit_default(50, seed=1)
    sequences = credit_sequences(frame)
    for column, (name, index) in sequence_elements().items():
        np.testing.assert_array_equal(sequences[name][(slice(None), *index)], frame[column].to_numpy("float32"))


def test_explorer_data_refuses_bad_input(network, frame):
    with pytest.raises(InputDataError, match="needs its rows as a pandas DataFrame"):
        ExplorerData(ModelExplainers.for_keras(network), frame.to_numpy())
    with pytest.raises(InputDataError, match=r"target has shape \(3,\); expected one outcome per row \(300,\)"):
        ExplorerData.from_keras(network, frame, [0, 1, 0])
    with pytest.raises(UnknownNameError, match="Unknown column 'regoin'"):
        ExplorerData.from_keras(network, frame, choices={"regoin": {0: "north"}})
    with pytest.raises(InputDataError, match=r"Columns \['name'\] are not numeric"):
        ExplorerData.from_keras(network, frame.assign(name="x"))
    with pytest.raises(InputDataError, match="points at element \\(7,\\) of input"):
        ExplorerController(ExplorerData(ModelExplainers.for_keras(network), frame, elements={"income": (None, (7,))}))


def test_feature_specs_describe_choices_and_ranges(frame):
    specs = {s["name"]: s for s in feature_specs(frame, {"region": {0: "north", 1: "south", 2: "west"}})}
    region = specs["region"]
    assert region["kind"] == "choice" and [o["label"] for o in region["options"]] == ["north", "south", "west"]
    assert sum(o["share"] for o in region["options"]) == pytest.approx(1.0)
    income = specs["income"]
    low, high = np.quantile(frame["income"], [0.005, 0.995])
    assert income["kind"] == "number" and (income["min"], income["max"]) == pytest.approx((low, high))
    assert sum(income["bins"]) == len(frame) and not income["integer"]


def test_the_shipped_front_end_is_the_built_source():
    from nbexplain._static import static_file

    source = Path(__file__).parent.parent / "js" / "whatif.js"
    assert static_file("whatif.js").read_bytes() == source.read_bytes(), "reinstall: pip install -e ."


def linear_explorer(frame, catalogue=None):
    """f(x) = 2 + x w (float64): IG against any baseline b is (x - b) * w exactly."""
    from nbexplain.credit import ReasonCatalogue, ReasonCode

    weights = np.array([0.3, 0.25, -0.1, 0.05])
    model = keras.Sequential([keras.Input((4,), dtype="float64"), keras.layers.Dense(1, dtype="float64")])
    model.layers[0].set_weights([weights[:, None], np.array([2.0])])
    catalogue = catalogue or ReasonCatalogue(
        (ReasonCode("MONEY", "Income and debt", ("income", "debt")), ReasonCode("REGION", "Region", ("region",))),
        prohibited=("age",),
    )
    data = ExplorerData.from_keras(model, frame.astype("float64"), None, threshold=2.0, catalogue=catalogue)
    return ExplorerController(data), weights


def test_reasons_view_shows_the_closed_form_contributions_and_follows_its_controls(frame):
    from nbexplain.widgets import ReasonsView

    controller, w = linear_explorer(frame)
    view = ReasonsView(controller)
    X = frame.to_numpy(float)
    for position in (0, 17):
        controller.pick(position)
        contribution = (X[position] - X.mean(axis=0)) * w
        by_reason = dict(zip(view.result.by_reason.labels("reason"), view.result.by_reason.values))
        money = contribution[0] + contribution[1]
        label = next(k for k in by_reason if k.endswith("MONEY"))
        assert by_reason[label] == pytest.approx(money, abs=1e-10)
        assert by_reason["age (prohibited)"] == pytest.approx(contribution[2], abs=1e-10)
        stated = [r.code for r in view.result.notice.reasons]
        assert ("MONEY" in stated) == (
            money > 0.01 * (max(money, 0) + max(contribution[3], 0) + max(contribution[2], 0))
        )
        heights = np.asarray(view.chart.bars.y)  # offset, raises, lowers, level
        drawn = heights[1] - heights[2]
        labels = list(view.chart.bars.x)
        assert drawn[labels.index(label)] == pytest.approx(money, abs=1e-10)
        assert heights[3][labels.index("applicant's score")] == pytest.approx(2 + X[position] @ w)
        decision = "DENIED" if 2 + X[position] @ w > 2.0 else "APPROVED"
        assert f"{decision}: the score is" in view.summary.value
        assert f"Reference rows: the {len(frame):,} rows of this dashboard" in view.summary.value
        assert "completeness error" in view.summary.value
    before = view.result.baseline["kind"]
    view.baseline.value = "median"
    assert view.result.baseline["kind"] == "median input" != before
    view.steps.value = "auto"
    assert view.result.completeness_error <= 1e-6


def test_population_view_is_the_difference_of_cohort_means_times_the_weights(frame):
    from nbexplain.widgets import PopulationView

    controller, w = linear_explorer(frame)
    view = PopulationView(controller, max_pairs=10**6)
    first, second = view.members(view.cohorts[0]), view.members(view.cohorts[1])
    X = frame.to_numpy(float)
    truth = (X[first].mean(axis=0) - X[second].mean(axis=0)) * w
    np.testing.assert_allclose(view.result.sel(column=list(frame.columns)).values, truth, atol=1e-10)
    assert view.result.meta["exact"] and view.result.meta["completeness_error"] < 1e-10
    assert len(view.chart.bars.x) == 4 and "mean score" in view.summary.value
    view.cohorts[0][0].value = -1
    view.cohorts[0][2].value = (2.0, float(controller.scores.max()))
    view.compare.click()
    assert view.members(view.cohorts[0]).size == int((controller.scores >= 2.0).sum())
    view.cohorts[0][2].value = (float(controller.scores.max()), float(controller.scores.max()))
    view.cohorts[1][0].value = 1
    view.cohorts[1][2].value = (float(controller.scores.min()), float(controller.scores.min()))
    view.compare.click()
    assert "is empty" in view.errors.widget.value
