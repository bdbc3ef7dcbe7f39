"""bqplot charts without a browser: the marks carry exactly the engine's results."""

import keras
import numpy as np
import pytest
from conftest import dense_model

from nbexplain import Explanation, Sensitivity
from nbexplain.charts import ComparisonBars, CumulativeCurve, ImportanceBars, LagHeatmap
from nbexplain.errors import NBExplainError

FEATURES = [f"f{j}" for j in range(6)]


@pytest.fixture(scope="module")
def sensitivities():
    rng = np.random.default_rng(0)
    weights = np.array([[3.0], [-2.0], [1.0], [-0.5], [0.25], [0.0]])
    import pandas as pd

    X = pd.DataFrame(rng.standard_normal((200, 6)), columns=FEATURES)
    return Sensitivity(dense_model(weights, activation="sigmoid")).explain(X)


def test_local_bars_are_the_sorted_local_importance(sensitivities):
    local = sensitivities.local_importance(7)
    chart = ImportanceBars(local, top=4)
    top = local.top(4)
    np.testing.assert_allclose(chart.bars.y, top.values)
    np.testing.assert_allclose(chart.bars.color, top.signed)
    assert list(chart.bars.x) == [f"{n} = {v:.4g}" for n, v in zip(top.feature_names, top.data)]
    assert chart.bars.color[list(top.feature_names).index("f1")] < 0 < chart.bars.color[0], "sign shows direction"
    chart.update(sensitivities.local_importance(8), top=6)
    np.testing.assert_allclose(chart.bars.y, sensitivities.local_importance(8).sorted().values)


def test_global_bars_have_plain_labels(sensitivities):
    chart = ImportanceBars(sensitivities.global_importance(), top=3)
    assert list(chart.bars.x) == ["f0", "f1", "f2"]


def test_cumulative_curve_marks_the_selection(sensitivities):
    importance = sensitivities.global_importance()
    chart = CumulativeCurve(importance, share=90)
    np.testing.assert_allclose(chart.curve.y, importance.cumulative_share().values)
    assert chart.k == len(importance.covering(90)) and chart.chosen.x[0] == chart.k
    assert chart.note.text == [f"90 % with k = {chart.k}"] and not chart.errors.visible
    chart.update(importance, errors={1: 0.3, 2: 0.2, 3: 0.19})
    assert chart.errors.visible and list(chart.errors.y) == [0.3, 0.2, 0.19]


def test_comparison_bars_put_each_method_on_its_own_share(sensitivities):
    importance = sensitivities.global_importance()
    doubled = Explanation(importance.values * 7, ("feature",), {"feature": importance.feature_names})
    chart = ComparisonBars({"sensitivity": importance, "other": doubled}, top=4)
    assert chart.bars.y.shape == (2, 4)
    np.testing.assert_allclose(chart.bars.y[0], chart.bars.y[1])
    np.testing.assert_allclose(chart.bars.y[0], importance.top(4).values)
    assert chart.amount.max >= chart.bars.y.max() > chart.amount.max / 2.5, "an explicit, tight axis end"


def test_lag_heatmap_cells_are_the_lag_matrix():
    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.Input((5, 2)), keras.layers.LSTM(4), keras.layers.Dense(1)])
    X = np.random.default_rng(1).standard_normal((50, 5, 2)).astype("float32")
    sensitivities = Sensitivity(model, feature_names=["a", "b"]).explain(X)
    matrix, lags = sensitivities.lag_matrix(), sensitivities.lag_importance()
    chart = LagHeatmap(matrix, lags)
    np.testing.assert_allclose(chart.grid.color, matrix.values)
    assert list(chart.grid.row) == ["a", "b"] and list(chart.grid.column) == ["t", "t-1", "t-2", "t-3", "t-4"]
    np.testing.assert_allclose(chart.bars.y, lags.values)
    chart.update(sensitivities.lag_matrix(4), sensitivities.lag_importance(4))
    np.testing.assert_allclose(chart.grid.color, sensitivities.lag_matrix(4).values)


def test_charts_take_results_only(sensitivities):
    with pytest.raises(NBExplainError, match="draws an nbexplain Explanation; got ndarray"):
        ImportanceBars(np.ones(3))
    with pytest.raises(NBExplainError, match=r"needs an explanation with dims \('feature', 'lag'\)"):
        LagHeatmap(sensitivities.global_importance(), sensitivities.global_importance())


def test_bars_refuse_a_two_dim_explanation(sensitivities):
    with pytest.raises(
        NBExplainError, match=r"needs an explanation with one dim; this one has \('sample', 'feature'\)"
    ):
        ImportanceBars(sensitivities.local_importance([1, 2]))
