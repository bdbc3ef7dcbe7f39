"""Integrated Gradients, baselines and differential attributions against closed-form truth."""

import warnings

import keras
import numpy as np
import pandas as pd
import pytest

from nbexplain import (
    Attributions,
    AverageInput,
    BestScore,
    CutoffCohort,
    IntegratedGradients,
    MedianInput,
    NBExplainError,
    PairedBaseline,
    ReferenceSet,
    UserPoint,
)
from nbexplain.engine import RULES, compute_gradients, quadrature
from nbexplain.errors import InputDataError, OutputSelectionError


def float64_dense(weights, bias, activation=None):
    """One Dense layer in float64 with hand-set weights: f(x) = act(x w + c)."""
    weights = np.asarray(weights, dtype="float64")
    model = keras.Sequential(
        [
            keras.Input((weights.shape[0],), dtype="float64"),
            keras.layers.Dense(weights.shape[1], activation=activation, dtype="float64"),
        ]
    )
    model.layers[0].set_weights([weights, np.asarray(bias, dtype="float64")])
    return model


def tanh_network(rng, p=5, hidden=16):
    """A float64 tanh network with a sigmoid output: smooth, so Gauss-Legendre converges fast."""
    model = keras.Sequential(
        [
            keras.Input((p,), dtype="float64"),
            keras.layers.Dense(hidden, activation="tanh", dtype="float64"),
            keras.layers.Dense(1, activation="sigmoid", dtype="float64"),
        ]
    )
    model.layers[0].set_weights([rng.normal(size=(p, hidden)) * 0.5, rng.normal(size=hidden) * 0.3])
    model.layers[1].set_weights([rng.normal(size=(hidden, 1)), np.array([-0.2])])
    return model


def numpy_tanh_network(model, X):
    (w1, b1), (w2, b2) = model.layers[0].get_weights(), model.layers[1].get_weights()
    return 1 / (1 + np.exp(-(np.tanh(X @ w1 + b1) @ w2 + b2)[:, 0]))


@pytest.mark.parametrize("rule", RULES)
def test_quadrature_weights_sum_to_one_and_integrate_polynomials(rule):
    nodes, weights = quadrature(rule, 12)
    assert weights.sum() == pytest.approx(1.0, abs=1e-14)
    assert np.all((nodes >= 0) & (nodes <= 1))
    exact_degree = {"gausslegendre": 23, "riemann_trapezoid": 1, "riemann_middle": 1}.get(rule, 0)
    for degree in range(exact_degree + 1):
        assert weights @ nodes**degree == pytest.approx(1 / (degree + 1), abs=1e-12)


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("steps", [2, 7, 50])
def test_linear_model_attribution_is_delta_times_weight_for_every_rule(rng, rule, steps):
    w = rng.normal(size=(6, 1))
    model = float64_dense(w, [0.3])
    X, b = rng.normal(size=(40, 6)), rng.normal(size=(1, 6))
    result = IntegratedGradients(model, steps=steps, rule=rule).explain(X, UserPoint(b))
    np.testing.assert_allclose(result.feature_values(), (X - b) * w[:, 0], rtol=1e-12, atol=1e-13)
    assert result.completeness_error.max() < 1e-12
    assert result.meta["rule"] == rule and result.meta["steps"] == steps
    assert result.meta["baseline"]["kind"] == "user point"


def test_single_tanh_unit_matches_the_closed_form_integral(rng):
    """f = tanh(w.x): A_i = (x_i - b_i) w_i (tanh(w.x) - tanh(w.b)) / (w.(x - b))."""
    w = rng.normal(size=(4, 1))
    model = float64_dense(w, [0.0], activation="tanh")
    X, b = rng.normal(size=(25, 4)), rng.normal(size=(1, 4))
    truth = (X - b) * w[:, 0] * ((np.tanh(X @ w) - np.tanh(b @ w)) / ((X - b) @ w))
    result = IntegratedGradients(model, steps=32).explain(X, b)
    np.testing.assert_allclose(result.feature_values(), truth, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(result.score, np.tanh(X @ w)[:, 0], rtol=1e-12)


def test_gauss_legendre_completeness_below_1e6_at_modest_steps(rng):
    model = tanh_network(rng)
    X, reference = rng.normal(size=(200, 5)), rng.normal(size=(500, 5))
    gauss = IntegratedGradients(model, steps=32).explain(X, AverageInput(reference))
    assert gauss.completeness_error.max() < 1e-6
    np.testing.assert_allclose(gauss.score, numpy_tanh_network(model, X), rtol=1e-10)
    np.testing.assert_allclose(
        gauss.baseline_score, numpy_tanh_network(model, reference.mean(0, keepdims=True))[0], rtol=1e-10
    )
    left = IntegratedGradients(model, steps=32, rule="riemann_left").explain(X, AverageInput(reference))
    assert left.completeness_error.max() > 100 * gauss.completeness_error.max()  # the check can fail


def test_automatic_steps_meet_the_tolerance_and_report_what_they_used(rng):
    model = tanh_network(rng)
    X = rng.normal(size=(60, 5)) * 2
    auto = IntegratedGradients(
        model, steps="auto", rule="riemann_trapezoid", tolerance=1e-6, min_steps=4, max_steps=4096
    )
    result = auto.explain(X, np.zeros((1, 5)))
    assert result.completeness_error.max() <= 1e-6
    assert result.meta["tolerance_met"] and result.meta["steps_range"] == [4, 4096]
    assert len(set(result.steps.tolist())) > 1  # harder paths took more steps
    fixed = IntegratedGradients(model, steps=int(result.steps.max()), rule="riemann_trapezoid").explain(X, np.zeros(5))
    hardest = int(np.argmax(result.steps))
    assert fixed.completeness_error[hardest] <= 1e-6
    short = IntegratedGradients(model, steps="auto", rule="riemann_left", tolerance=1e-9, max_steps=16)
    with pytest.warns(UserWarning, match="have a completeness error above 1e-09.*within max_steps=16"):
        missed = short.explain(X, np.zeros(5))
    assert not missed.meta["tolerance_met"] and missed.steps.max() == 16
    assert missed.meta["max_completeness_error"] == pytest.approx(missed.completeness_error.max())


def test_expected_gradients_equal_the_brute_force_average_over_the_reference_set(rng):
    model = tanh_network(rng, p=3)
    X, reference = rng.normal(size=(6, 3)), rng.normal(size=(9, 3))
    explainer = IntegratedGradients(model, steps=48)
    expected = explainer.explain(X, ReferenceSet(reference, draws=100))
    brute = np.mean([explainer.explain(X, UserPoint(reference[[j]])).feature_values() for j in range(9)], axis=0)
    np.testing.assert_allclose(expected.feature_values(), brute, rtol=1e-10, atol=1e-14)
    average_score = numpy_tanh_network(model, reference).mean()
    np.testing.assert_allclose(expected.baseline_score, average_score, rtol=1e-10)
    np.testing.assert_allclose(expected.total, expected.score - average_score, atol=1e-8)
    assert expected.meta["baseline"]["draws"] == 9 and expected.meta["baselines_per_sample"] == 9


def test_the_average_input_is_not_the_average_score_and_the_record_says_so(rng):
    model = tanh_network(rng)
    reference = rng.normal(size=(300, 5)) * 2
    record = IntegratedGradients(model).explain(reference[:3], AverageInput(reference)).meta["baseline"]
    assert record["baseline_score"] == pytest.approx(numpy_tanh_network(model, reference.mean(0, keepdims=True))[0])
    assert record["average_score_of_reference"] == pytest.approx(numpy_tanh_network(model, reference).mean())
    assert abs(record["baseline_score"] - record["average_score_of_reference"]) > 1e-3
    assert record["n_reference"] == 300 and record["point"]["x0"] == pytest.approx(reference[:, 0].mean())


def test_documented_baselines_are_what_they_say(rng):
    model = tanh_network(rng)
    reference = rng.normal(size=(2000, 5))
    scores = numpy_tanh_network(model, reference)
    explainer = IntegratedGradients(model, steps=16)
    x = reference[:2]
    median = explainer.explain(x, MedianInput(reference)).meta["baseline"]
    assert median["point"]["x2"] == pytest.approx(np.median(reference[:, 2]))
    cutoff = np.quantile(scores, 0.6)
    cohort = explainer.explain(x, CutoffCohort(reference, cutoff=cutoff, band=0.03, draws=10_000))
    members = (scores >= cutoff - 0.03) & (scores <= cutoff)
    assert cohort.meta["baseline"]["cohort_size"] == members.sum()
    assert cohort.baseline_score[0] == pytest.approx(scores[members].mean())
    above = CutoffCohort(reference, cutoff=cutoff, band=0.03, passing="above", aggregate="mean")
    record = explainer.explain(x, above).meta["baseline"]
    assert record["score_range"] == [cutoff, cutoff + 0.03] and record["points"] == 1
    best = explainer.explain(x, BestScore(reference)).meta["baseline"]
    assert best["baseline_score"] == pytest.approx(scores.min()) and best["best_applicant_position"] == scores.argmin()
    ranged = explainer.explain(x, BestScore(reference, within="ranges", iterations=100)).meta["baseline"]
    assert ranged["baseline_score"] <= scores.min() + 1e-12
    assert all(
        reference[:, j].min() - 1e-9 <= ranged["point"][f"x{j}"] <= reference[:, j].max() + 1e-9 for j in range(5)
    )
    with pytest.raises(InputDataError, match="Widen the band"):
        explainer.explain(x, CutoffCohort(reference, cutoff=2.0, band=0.01))


def test_redrawn_reference_baselines_change_and_keep_their_recipe(rng):
    reference = rng.normal(size=(400, 5))
    model = tanh_network(rng)
    explainer = IntegratedGradients(model, steps=8)
    base = AverageInput(reference)
    first = explainer.explain(reference[:1], base).meta["baseline"]
    again = explainer.explain(reference[:1], base.redrawn(5)).meta["baseline"]
    assert again["resampled"].startswith("bootstrap") and again["point"] != first["point"]
    subsample = ReferenceSet(reference, sample=100, draws=20)
    assert explainer.explain(reference[:1], subsample.redrawn(3)).meta["baseline"]["sample"] == 100
    point = UserPoint(np.zeros(5))
    assert point.redrawn(1) is point


def test_two_applicants_and_two_populations(rng):
    model = tanh_network(rng, p=4)
    explainer = IntegratedGradients(model, steps=64)
    A, B = rng.normal(size=(7, 4)) + 1, rng.normal(size=(5, 4))
    paired = explainer.difference(A[:5], B)
    for i in range(5):
        one = explainer.explain(A[[i]], UserPoint(B[[i]]))
        np.testing.assert_allclose(paired.feature_values()[i], one.feature_values()[0], rtol=1e-12)
    exact = explainer.compare_populations(A, B)
    brute = np.mean(
        [explainer.explain(A[[i]], UserPoint(B[[j]])).feature_values()[0] for i in range(7) for j in range(5)], axis=0
    )
    np.testing.assert_allclose(exact.feature_values()[0], brute, rtol=1e-10)
    gap = numpy_tanh_network(model, A).mean() - numpy_tanh_network(model, B).mean()
    assert exact.total[0] == pytest.approx(gap, abs=1e-9) and exact.completeness_error[0] < 1e-9
    assert exact.meta["exact"] and exact.meta["pairs"] == 35 and exact.standard_error is None


def test_sampled_population_difference_states_its_error(rng):
    model = tanh_network(rng, p=3)
    explainer = IntegratedGradients(model, steps=16)
    A, B = rng.normal(size=(60, 3)) + 0.5, rng.normal(size=(50, 3))
    exact = explainer.compare_populations(A, B, exact=True).feature_values()[0]
    sampled = explainer.compare_populations(A, B, max_pairs=1500, seed=3)
    assert not sampled.meta["exact"] and sampled.meta["pairs"] == 1500
    errors = sampled.feature_standard_errors()[0]
    assert np.all(errors > 0)
    assert np.all(np.abs(sampled.feature_values()[0] - exact) < 4 * errors)
    assert sampled.meta["quadrature_error"] < 1e-6  # the rest of the gap is sampling, stated:
    assert sampled.completeness_error[0] < 4 * sampled.meta["sampling_standard_error"] + 1e-6
    frame = sampled.sample(0).meta["standard_error"]
    assert set(frame) == {"x0", "x1", "x2"}


def test_every_architecture_the_engine_supports(rng):
    history = keras.Input((6, 3), name="history")
    static = keras.Input((2,), name="static")
    joined = keras.layers.Concatenate()([keras.layers.LSTM(4)(history), static])
    recurrent = keras.Model({"history": history, "static": static}, keras.layers.Dense(1, activation="sigmoid")(joined))
    data = {
        "history": rng.normal(size=(20, 6, 3)).astype("float32"),
        "static": rng.normal(size=(20, 2)).astype("float32"),
    }
    result = IntegratedGradients(recurrent, steps=64, feature_names={"static": ["a", "b"]}).explain(
        data, AverageInput(data)
    )
    assert result.feature_names == ("history[0]", "history[1]", "history[2]", "a", "b")
    assert result.values["history"].shape == (20, 6, 3) and result.completeness_error.max() < 1e-5
    np.testing.assert_allclose(result.feature_values()[:, 0], result.values["history"][..., 0].sum(axis=1))
    image = keras.Sequential(
        [
            keras.Input((6, 6, 2)),
            keras.layers.Conv2D(3, 3, activation="tanh"),
            keras.layers.Flatten(),
            keras.layers.Dense(2, activation="softmax"),
        ]
    )
    pictures = rng.normal(size=(5, 6, 6, 2)).astype("float32")
    conv = IntegratedGradients(image, target=1, steps=64).explain(pictures, np.zeros((1, 6, 6, 2)))
    assert conv.completeness_error.max() < 1e-5 and conv.feature_values().shape == (5, 2)
    sequence_out = keras.Sequential(
        [keras.Input((5, 2)), keras.layers.SimpleRNN(3, return_sequences=True), keras.layers.Dense(1)]
    )
    series = rng.normal(size=(4, 5, 2)).astype("float32")
    with pytest.raises(OutputSelectionError, match="time_step"):
        IntegratedGradients(sequence_out).explain(series, np.zeros((1, 5, 2)))
    last = IntegratedGradients(sequence_out, time_step=-1, steps=64).explain(series, np.zeros((1, 5, 2)))
    assert last.completeness_error.max() < 1e-5


def test_in_graph_paths_equal_path_points_differentiated_one_by_one(rng):
    """The paths are built and weighted inside the graph; the same sum over explicitly built
    points, each differentiated by the plain gradient pass, must agree element by element."""
    history = keras.Input((4, 3), name="history")
    static = keras.Input((2,), name="static")
    joined = keras.layers.Concatenate()([keras.layers.GRU(5)(history), static])
    model = keras.Model({"history": history, "static": static}, keras.layers.Dense(1, activation="sigmoid")(joined))
    data = {"history": rng.normal(size=(6, 4, 3)), "static": rng.normal(size=(6, 2))}
    point = {"history": rng.normal(size=(1, 4, 3)), "static": rng.normal(size=(1, 2))}
    result = IntegratedGradients(model, steps=5, rule="riemann_left").explain(data, UserPoint(point))
    nodes, weights = quadrature("riemann_left", 5)
    expected = {name: np.zeros_like(data[name]) for name in data}
    for a, w in zip(nodes, weights):
        along = {name: (point[name] + a * (data[name] - point[name])).astype("float32") for name in data}
        gradients = compute_gradients(model, along).gradients
        for name in data:
            expected[name] += w * gradients[name]
    for name in data:
        delta = data[name].astype("float32").astype("float64") - point[name].astype("float32")
        np.testing.assert_allclose(result.values[name], expected[name] * delta, rtol=1e-5, atol=1e-7)


def test_groups_sum_their_columns(rng):
    w = rng.normal(size=(4, 1))
    model = float64_dense(w, [0.0])
    X = pd.DataFrame(rng.normal(size=(10, 4)), columns=["a", "b", "c", "d"])
    result = IntegratedGradients(model, groups={"bc": ["b", "c"]}, steps=4).explain(X, np.zeros(4))
    assert result.feature_names == ("a", "bc", "d")
    np.testing.assert_allclose(result.feature_values()[:, 1], X["b"] * w[1, 0] + X["c"] * w[2, 0], rtol=1e-12)


def test_bad_input_is_refused_with_advice(rng):
    model = tanh_network(rng, p=3)
    X = rng.normal(size=(4, 3))
    explainer = IntegratedGradients(model)
    with pytest.raises(NBExplainError, match="explicit baseline"):
        explainer.explain(X, None)
    with pytest.raises(InputDataError, match="baseline point: .*NaN"):
        explainer.explain(X, np.array([[0.0, np.nan, 0.0]]))
    with pytest.raises(InputDataError, match="ONE point"):
        explainer.explain(X, UserPoint(np.zeros((2, 3))))
    with pytest.raises(InputDataError, match="baseline point: .*3 features"):
        explainer.explain(X, np.zeros((1, 4)))
    with pytest.raises(NBExplainError, match="Unknown quadrature rule 'simpson'"):
        IntegratedGradients(model, rule="simpson").explain(X, np.zeros(3))
    with pytest.raises(NBExplainError, match="positive whole number of quadrature points or 'auto'"):
        IntegratedGradients(model, steps=0).explain(X, np.zeros(3))
    with pytest.raises(NBExplainError, match="one point per sample"):
        explainer.explain(X, PairedBaseline(np.zeros((3, 3))))
    with pytest.raises(NBExplainError, match="Expected a Keras 3 model"):
        IntegratedGradients(object()).explain(X, np.zeros(3))


def test_results_round_trip_and_tabulate(rng, tmp_path):
    model = tanh_network(rng, p=3)
    X = pd.DataFrame(rng.normal(size=(5, 3)), columns=["income", "debt", "age"], index=[10, 11, 12, 13, 14])
    result = IntegratedGradients(model, steps=8).explain(X, MedianInput(X))
    frame = result.to_frame()
    assert list(frame.columns) == ["income", "debt", "age", "score", "baseline_score", "completeness_error", "steps"]
    assert list(frame.index) == [10, 11, 12, 13, 14]
    again = Attributions.from_json(result.to_json(tmp_path / "ig.json"))
    np.testing.assert_array_equal(again.feature_values(), result.feature_values())
    assert again.meta["baseline"] == result.meta["baseline"] and again.sample_labels == result.sample_labels
    one = result.sample(1)
    assert one.dims == ("feature",) and one.meta["completeness_error"] == result.completeness_error[1]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mean = result.mean()
    assert mean.values.sum() == pytest.approx(result.score.mean() - result.baseline_score.mean(), abs=1e-6)
