"""The two-layer additive risk model (FICO entry): step columns against their definitions,
fitting against a known generating model and the projected unconstrained optimum, monotonicity
by sweeps, the JSON round trip, exact attributions against brute-force Shapley values and a
quadrature of the head, and the most important contributing factors."""

import json
import math
import time
from itertools import combinations

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize
from scipy.special import expit

from nbexplain import AverageInput, BestScore, CutoffCohort, MedianInput, ReferenceSet, UserPoint
from nbexplain.credit import contributing_factors
from nbexplain.credit.recipes import documented_baselines
from nbexplain.datasets import make_heloc
from nbexplain.datasets.heloc import HELOC_FEATURES
from nbexplain.engine.additive import AdditiveAttributor
from nbexplain.engine.protocol import Attributor, ModelExplainers, RowExplainer
from nbexplain.errors import NBExplainError
from nbexplain.model.additive import HELOC_RECIPE, AdditiveRiskModel, FeatureSteps, StepRecipe

SPECIALS = (-7, -8, -9)


# ----------------------------------------------------------------------------- fixtures
def small_recipe():
    return StepRecipe(
        (
            FeatureSteps("down", "<", (10, 20, 30), "A"),
            FeatureSteps("up", ">", (2, 5), "A"),
            FeatureSteps("mixed", "bins", (0, 10, 20), "B"),
            FeatureSteps("count", ">", (1, 4), "B"),
            FeatureSteps("level", "<", (5,), "B"),
        ),
        ("A", "B"),
    )


#: Generating heights of each feature's points per interval (ordinary values), and of its
#: special values: "down" falls, "up" rises, "mixed" peaks in its middle bin.
HEIGHTS = {
    "down": ([(0, 10, 1.5), (10, 20, 0.8), (20, 30, 0.2), (30, 60, -0.6)], {-7: 0.4, -8: -1.0, -9: 1.0}),
    "up": ([(0, 3, -0.8), (3, 6, 0.1), (6, 60, 1.2)], {-7: 0.0, -8: 0.6, -9: -0.3}),
    "mixed": ([(0, 10, -0.7), (10, 20, 1.0), (20, 60, 0.1)], {-7: 0.5, -8: -0.5, -9: 0.0}),
    "count": ([(0, 2, -0.9), (2, 5, 0.0), (5, 60, 1.1)], {-7: 0.3, -8: 0.2, -9: -0.4}),
    "level": ([(0, 5, 0.9), (5, 60, -0.9)], {-7: 0.0, -8: 0.0, -9: 0.0}),
}


def height(feature, x):
    intervals, special = HEIGHTS[feature]
    if x < 0:
        return special[int(x)]
    return next(h for low, high, h in intervals if low <= x < high)


def generated(n, seed):
    """Rows of the recipe's features and outcomes of a known two-layer monotone model."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({f: rng.integers(0, 45, n) for f in HEIGHTS})
    for f in HEIGHTS:
        special = rng.random(n) < 0.12
        X.loc[special, f] = rng.choice(SPECIALS, special.sum())
    z = {
        "A": -0.2 + sum(X[f].map(lambda x, f=f: height(f, x)) for f in ("down", "up")),
        "B": 0.1 + sum(X[f].map(lambda x, f=f: height(f, x)) for f in ("mixed", "count", "level")),
    }
    logit = -2.0 + 2.5 * expit(z["A"]) + 1.5 * expit(z["B"])
    y = (rng.random(n) < expit(logit)).astype(int)
    return X, y


@pytest.fixture(scope="module")
def heloc():
    frame = make_heloc(n=3000, seed=3)
    frame = frame[~(frame[list(HELOC_FEATURES)] == -9).all(axis=1)]
    return frame[list(HELOC_FEATURES)], frame["RiskPerformance"]


@pytest.fixture(scope="module")
def fitted(heloc):
    X, y = heloc
    return AdditiveRiskModel().fit(X, y)


@pytest.fixture(scope="module")
def small():
    X, y = generated(4000, seed=5)
    return AdditiveRiskModel(small_recipe()).fit(X, y), X, y


# ----------------------------------------------------------------------------- step columns
def expected_columns(kind, cuts, x):
    """The definitions, written out: specials, then the kind's intervals."""
    specials = [float(x == v) for v in SPECIALS]
    if kind == "<":
        return specials + [float(0 <= x < t) for t in cuts] + [float(x >= 0)]
    if kind == ">":
        return specials + [float(x >= 0 and x > t) for t in cuts] + [float(x >= 0)]
    edges = [*cuts, math.inf]
    return specials + [float(a <= x < b) for a, b in zip(edges[:-1], edges[1:])]


@pytest.mark.parametrize(
    ("kind", "cuts"), [("<", (10, 20, 30)), (">", (2, 5)), ("bins", (0, 10, 20)), ("<", (5,)), (">", (0, 1, 4))]
)
def test_step_columns_follow_their_definitions_on_both_sides_of_every_cut(kind, cuts):
    recipe = StepRecipe((FeatureSteps("x", kind, cuts, "S"),), ("S",))
    values = sorted({*SPECIALS, 0, 1, 1000, *(c + d for c in cuts for d in (-1, -0.5, 0, 0.5, 1) if c + d >= 0)})
    steps = recipe.steps_from_raw(np.array(values, dtype=float)[:, None])
    for x, row in zip(values, steps):
        assert row.tolist() == expected_columns(kind, cuts, x), (kind, x)


def test_a_special_value_sets_its_own_indicator_and_nothing_else():
    recipe = small_recipe()
    for special in SPECIALS:
        steps = recipe.steps_from_raw(np.full((1, 5), float(special)))[0]
        on = [c.name for c, b in zip(recipe.columns, steps) if b]
        assert on == [f"{f}={special}" for f in ("down", "up", "mixed", "count", "level")]


def test_boundaries_of_each_kind():
    recipe = StepRecipe(
        (
            FeatureSteps("d", "<", (10,), "S"),
            FeatureSteps("u", ">", (10,), "S"),
            FeatureSteps("b", "bins", (0, 10), "S"),
        ),
        ("S",),
    )
    by_name = lambda x: dict(zip([c.name for c in recipe.columns], recipe.steps_from_raw(np.array([[x, x, x]]))[0]))  # noqa: E731
    below, at, above = by_name(9), by_name(10), by_name(11)
    assert (below["d<10"], at["d<10"], above["d<10"]) == (1, 0, 0)  # [0 <= x < t]: t is out
    assert (below["u>10"], at["u>10"], above["u>10"]) == (0, 0, 1)  # [x > t]: strict
    assert (below["b in [0, 10)"], at["b in [0, 10)"]) == (1, 0)
    assert (at["b in [10, inf)"], by_name(1e9)["b in [10, inf)"]) == (1, 1)  # the last bin is open above
    assert by_name(0)["b in [0, 10)"] == 1 and by_name(0)["d<10"] == 1 and by_name(0)["u>10"] == 0


def test_the_heloc_recipe_has_the_entry_s_23_features_10_subscales_and_182_columns():
    assert HELOC_RECIPE.feature_names == HELOC_FEATURES
    assert len(HELOC_RECIPE.subscales) == 10
    assert len(HELOC_RECIPE.columns) == 182
    for feature in HELOC_RECIPE.features:
        count = sum(c.feature == feature.name for c in HELOC_RECIPE.columns)
        expected = 3 + len(feature.cuts) + (0 if feature.kind == "bins" else 1)
        assert count == expected
    assert {s: sum(f.subscale == s for f in HELOC_RECIPE.features) for s in ("Delinquency", "TradeOpenTime")} == {
        "Delinquency": 4,
        "TradeOpenTime": 3,
    }
    assert max(np.bincount(HELOC_RECIPE.feature_subscale)) == 4


def test_conditions_read_as_in_the_seed():
    text = {c.name: c for c in HELOC_RECIPE.columns}
    assert text["AverageMInFile<49"].condition == "AverageMInFile is 48 or less"
    assert text["ExternalRiskEstimate<64"].condition == "ExternalRiskEstimate is 63 or less"
    assert text["MaxDelq2PublicRecLast12M<7"].condition == "MaxDelq2PublicRecLast12M is 6 or less"
    assert text["NumInqLast6M>1"].condition == "NumInqLast6M is 2 or more"
    assert text["MSinceMostRecentDelq=-9"].condition.endswith("no record (-9)")
    assert text["NumTotalTrades in [1, 10)"].condition == "NumTotalTrades is 1 to 9"
    assert text["NumTotalTrades in [28, inf)"].condition == "NumTotalTrades is 28 or more"
    assert text["AverageMInFile<49"].describe(0) == "AverageMInFile is 49 or more (or special)"
    assert text["AverageMInFile<49"].describe(0, raw=60) == "AverageMInFile is 49 or more"


def test_columns_are_matched_by_name_and_bad_rows_are_named(fitted, heloc):
    X, _ = heloc
    shuffled = X[list(reversed(X.columns))].assign(extra=1)
    assert np.array_equal(fitted.risk(shuffled), fitted.risk(X))
    with pytest.raises(NBExplainError, match="lacks column.*AverageMInFile"):
        fitted.risk(X.drop(columns="AverageMInFile"))
    with pytest.raises(NBExplainError, match="more than once"):
        fitted.risk(pd.concat([X, X[["NumInqLast6M"]]], axis=1))
    broken = X.iloc[:5].astype(float)
    broken.iloc[3, 2] = np.nan
    with pytest.raises(NBExplainError, match=rf"NaN or inf in 1 row.*{broken.index[3]}.*MSinceMostRecentTradeOpen"):
        fitted.risk(broken)
    negative = X.iloc[:5].copy()
    negative.iloc[1, 0] = -3
    with pytest.raises(NBExplainError, match=r"negative values that are not special.*ExternalRiskEstimate"):
        fitted.risk(negative)
    with pytest.raises(NBExplainError, match="23 features"):
        fitted.risk(np.zeros((2, 5)))
    with pytest.raises(NBExplainError, match="not fitted"):
        AdditiveRiskModel().risk(X)


def test_the_target_may_be_bad_good_strings_or_0_1(heloc):
    X, y = heloc
    X, y = X.iloc[:600], y.iloc[:600]
    by_name = AdditiveRiskModel().fit(X, y)
    by_number = AdditiveRiskModel().fit(X, (y == "Bad").astype(int).to_numpy())
    assert np.array_equal(by_name.weights_, by_number.weights_)
    with pytest.raises(NBExplainError, match="'Bad'/'Good'.*Maybe"):
        AdditiveRiskModel().fit(X, y.where(np.arange(600) != 7, "Maybe"))
    with pytest.raises(NBExplainError, match="0/1"):
        AdditiveRiskModel().fit(X, np.where(np.arange(600) == 2, 2, (y == "Bad").astype(int)))


# ----------------------------------------------------------------------------- fitting
def feature_points(model, feature, values):
    """Points of ``feature`` on its subscale logit at ``values`` (other features held at 0)."""
    j = model.feature_names_in_.index(feature)
    rows = np.zeros((len(values), len(model.feature_names_in_)))
    rows[:, j] = values
    return model.feature_points(model.recipe.steps_from_raw(rows))[:, j]


def test_the_fit_recovers_the_order_of_the_generating_steps(small):
    model, _, _ = small
    for feature, (intervals, special) in HEIGHTS.items():
        points = feature_points(model, feature, [low for low, _, _ in intervals])
        truth = np.array([h for _, _, h in intervals])
        assert np.array_equal(np.argsort(points), np.argsort(truth)), feature
        kind = next(f.kind for f in model.recipe.features if f.name == feature)
        if kind != "bins":
            sweep = feature_points(model, feature, np.arange(0, 50))
            step = np.diff(sweep)
            assert np.all(step <= 0) if kind == "<" else np.all(step >= 0), feature
        extremes = (min(special, key=special.get), max(special, key=special.get))
        if special[extremes[1]] - special[extremes[0]] >= 1.0:  # well separated: order recovered
            low, high = feature_points(model, feature, extremes)
            assert low < high, feature


def penalised_loss(w, c, B, y, C):
    z = B @ w + c
    return 0.5 * w @ w + C * np.sum(np.log1p(np.exp(-np.abs(z))) + np.maximum(z, 0) - y * z)


def unconstrained_then_projected(B, y, C, monotone):
    def f(theta):
        return penalised_loss(theta[:-1], theta[-1], B, y, C)

    def g(theta):
        r = expit(B @ theta[:-1] + theta[-1]) - y
        return np.concatenate([theta[:-1] + C * B.T @ r, [C * r.sum()]])

    theta = minimize(f, np.zeros(B.shape[1] + 1), jac=g, method="BFGS", options={"gtol": 1e-8}).x
    w = theta[:-1].copy()
    w[monotone] = np.maximum(w[monotone], 0)
    return penalised_loss(w, theta[-1], B, y, C)


@pytest.mark.parametrize("which", ["small", "heloc"])
def test_the_constrained_fit_is_no_worse_than_the_projected_unconstrained_one(which, small, fitted, heloc):
    if which == "small":
        model, X, y = small
    else:
        model, (X, y) = fitted, heloc
    target = (np.asarray(y) == "Bad") | (np.asarray(y) == 1)
    S = model.steps(X)
    monotone = np.array([c.monotone for c in model.columns_])
    assert np.all(model.weights_[monotone] >= 0) and np.all(model.output_weights_ >= 0)
    for s in range(len(model.subscales_)):
        block = model.recipe.column_subscale == s
        B, w, c = S[:, block], model.weights_[block], model.subscale_intercepts_[s]
        ours = penalised_loss(w, c, B, target, model.C)
        projected = unconstrained_then_projected(B, target, model.C, monotone[block])
        assert ours <= projected + 1e-7 * abs(projected), model.subscales_[s]
    P = model.head(S)["subscale_probabilities"]
    ours = penalised_loss(model.output_weights_, model.output_intercept_, P, target, model.C)
    assert ours <= unconstrained_then_projected(P, target, model.C, np.ones(P.shape[1], bool)) + 1e-7 * ours


def test_fitting_is_deterministic(heloc):
    X, y = heloc
    first, second = AdditiveRiskModel().fit(X, y), AdditiveRiskModel().fit(X, y)
    assert np.array_equal(first.weights_, second.weights_)
    assert first.fingerprint() == second.fingerprint()


# ----------------------------------------------------------------------------- monotone
def test_sweeping_a_monotone_feature_never_moves_the_wrong_way(fitted, heloc):
    X, _ = heloc
    rows = X.sample(25, random_state=1)
    for feature in fitted.recipe.features:
        if feature.kind == "bins":
            continue
        j = fitted.feature_names_in_.index(feature.name)
        s = fitted.subscales_.index(feature.subscale)
        grid = np.arange(0, feature.cuts[-1] + 15)
        for _, row in rows.iterrows():
            swept = np.repeat(row.to_numpy(float)[None], len(grid), axis=0)
            swept[:, j] = grid
            values = fitted.head(fitted.recipe.steps_from_raw(swept))
            sign = -1 if feature.kind == "<" else 1
            assert np.all(sign * np.diff(values["subscale_logits"][:, s]) >= -1e-12), feature.name
            assert np.all(sign * np.diff(values["probability"]) >= -1e-12), feature.name


# ----------------------------------------------------------------------------- computation
def test_the_computation_exposes_every_quantity_consistently(fitted, heloc):
    X, _ = heloc
    row = X.iloc[[11]]
    comp = fitted.computation(row)
    steps = fitted.steps(row)[0]
    assert np.array_equal(comp.steps, steps)
    assert np.allclose(comp.column_points, fitted.weights_ * steps)
    for s, name in enumerate(fitted.subscales_):
        in_s = [c.subscale == name for c in fitted.columns_]
        z = comp.column_points[in_s].sum() + fitted.subscale_intercepts_[s]
        assert comp.subscale_logits[s] == pytest.approx(z, abs=1e-12)
        assert comp.subscale_points[s] == pytest.approx(fitted.output_weights_[s] * expit(z), abs=1e-12)
    assert comp.logit == pytest.approx(comp.subscale_points.sum() + fitted.output_intercept_, abs=1e-12)
    assert comp.probability == pytest.approx(fitted.risk(row)[0], abs=1e-15)
    assert len(comp.to_frame()) == 182 and list(comp.subscale_frame().index) == list(fitted.subscales_)
    assert sum(comp.feature_points().values()) == pytest.approx(comp.column_points.sum())
    with pytest.raises(ValueError):
        comp.steps[0] = 1.0  # immutable
    series = X.iloc[11]
    times = []
    for _ in range(30):
        started = time.perf_counter()
        fitted.computation(series)
        times.append(time.perf_counter() - started)
    assert np.median(times) < 0.010


# ----------------------------------------------------------------------------- saving
def test_save_and_load_round_trip_predicts_exactly_the_same(fitted, heloc, tmp_path):
    X, _ = heloc
    path = tmp_path / "model.json"
    fitted.save(path)
    loaded = AdditiveRiskModel.load(path)
    assert np.array_equal(loaded.risk(X), fitted.risk(X))
    assert loaded.fingerprint() == fitted.fingerprint()
    assert loaded.recipe.columns == fitted.recipe.columns
    assert not list(tmp_path.glob("*.partial"))


def test_a_damaged_saved_model_is_an_error(fitted, tmp_path):
    text = fitted.to_json()
    truncated = tmp_path / "truncated.json"
    truncated.write_text(text[: len(text) // 2])
    with pytest.raises(NBExplainError, match="not valid JSON"):
        AdditiveRiskModel.load(truncated)
    payload = json.loads(text)
    payload["fitted"]["weights"][4] += 0.5
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(payload))
    with pytest.raises(NBExplainError, match="checksum"):
        AdditiveRiskModel.load(edited)
    del payload["fitted"]["weights"]
    payload.pop("checksum")
    from nbexplain.model.additive import _checksum

    payload["checksum"] = _checksum(payload)
    (tmp_path / "incomplete.json").write_text(json.dumps(payload))
    with pytest.raises(NBExplainError, match="incomplete or damaged"):
        AdditiveRiskModel.load(tmp_path / "incomplete.json")
    with pytest.raises(NBExplainError, match="does not exist"):
        AdditiveRiskModel.load(tmp_path / "missing.json")
    with pytest.raises(NBExplainError, match="folder"):
        fitted.save(tmp_path / "no" / "such" / "model.json")


# ----------------------------------------------------------------------------- attributions
def brute_force_shapley(value, p):
    """Shapley values of a game ``value(frozenset)`` over ``p`` players, by its definition."""
    phi = np.zeros(p)
    for j in range(p):
        others = [i for i in range(p) if i != j]
        for size in range(p):
            weight = math.factorial(size) * math.factorial(p - size - 1) / math.factorial(p)
            for S in combinations(others, size):
                phi[j] += weight * (value(frozenset(S) | {j}) - value(frozenset(S)))
    return phi


def test_logit_attributions_are_the_brute_force_shapley_values_of_the_logit(small):
    model, X, _ = small
    attributor = AdditiveAttributor(model, logit=True)
    p = len(model.feature_names_in_)
    # every feature in another interval (or special value), then random pairs of rows
    pairs = [([5, 0, 15, 0, 0], [35, 10, 25, 6, 10]), ([-7, 4, -8, 2, 3], [12, -9, 3, 9, -8])]
    rng = np.random.default_rng(2)
    pairs += [(X.iloc[i].tolist(), X.iloc[k].tolist()) for i, k in rng.integers(0, len(X), (20, 2))]
    moved = 0
    for x, b in pairs:
        x, b = np.asarray(x, float), np.asarray(b, float)

        def logit(S, x=x, b=b):
            return model.logit(np.where([j in S for j in range(p)], x, b)[None])[0]

        phi = attributor.explain(x[None], UserPoint(b[None])).values["applicant"][0]
        assert np.allclose(phi, brute_force_shapley(logit, p), atol=1e-12)
        moved = max(moved, int(np.sum(phi != 0)))
    assert moved == p  # some pair moves every feature, so every subscale's interactions are checked


def test_probability_attributions_are_the_head_s_integrated_gradients_per_subscale(small):
    """Per subscale, the P(Bad) attributions sum to its points' change times the path integral
    of sigma'(L) from L(b) to L(x), computed here by 64-point Gauss-Legendre quadrature."""
    model, X, _ = small
    nodes, weights = np.polynomial.legendre.leggauss(64)
    nodes, weights = (nodes + 1) / 2, weights / 2
    for i, k in [(0, 1), (5, 6), (10, 30)]:
        A = AdditiveAttributor(model).explain(X.iloc[[i]], UserPoint(X.iloc[[k]])).values["applicant"][0]
        gx, gb = (model.head(model.steps(X.iloc[[r]]))["subscale_points"][0] for r in (i, k))
        L = model.output_intercept_ + gb.sum() + nodes * (gx - gb).sum()
        integral = np.sum(weights * expit(L) * (1 - expit(L)))
        for s in range(len(model.subscales_)):
            features = model.recipe.feature_subscale == s
            assert A[features].sum() == pytest.approx((gx[s] - gb[s]) * integral, abs=1e-12)


BASELINES = {
    "user point": lambda X: UserPoint(X.iloc[[3]]),
    "average input": lambda X: AverageInput(X),
    "median input": lambda X: MedianInput(X),
    "reference set": lambda X: ReferenceSet(X, draws=40),
    "cut-off cohort": lambda X: CutoffCohort(X, cutoff=0.5, band=0.1),
    "best score": lambda X: BestScore(X),
}


@pytest.mark.parametrize("logit", [False, True])
@pytest.mark.parametrize("kind", list(BASELINES))
def test_attributions_are_complete_to_1e_12(fitted, heloc, kind, logit):
    X, _ = heloc
    attributions = AdditiveAttributor(fitted, logit=logit).explain(X.iloc[:200], BASELINES[kind](X))
    score = fitted.logit(X.iloc[:200]) if logit else fitted.risk(X.iloc[:200])
    assert np.array_equal(attributions.score, score)
    total = attributions.values["applicant"].sum(axis=1)
    assert np.max(np.abs(total - (attributions.score - attributions.baseline_score))) < 1e-12
    assert attributions.completeness_error.max() < 1e-12
    assert attributions.meta["baseline"]["kind"] == kind
    assert attributions.meta["explained"] == ("logit of P(Bad)" if logit else "P(Bad)")


def test_attributions_are_antisymmetric_and_zero_for_unmoved_features(fitted, heloc):
    X, _ = heloc
    attributor = AdditiveAttributor(fitted)
    first, second = X.iloc[:50], X.iloc[50:100]
    forward = attributor.difference(first, second).values["applicant"]
    backward = attributor.difference(second, first).values["applicant"]
    assert np.max(np.abs(forward + backward)) < 1e-12
    same = first.to_numpy() == second.to_numpy()
    assert same.any() and np.all(forward[same] == 0.0)


def test_the_average_input_is_the_average_applicant_of_every_subscale(fitted, heloc):
    X, _ = heloc
    resolved = AdditiveAttributor(fitted, logit=True).resolve_baseline(AverageInput(X))
    point = resolved.arrays["steps"]
    assert np.allclose(
        fitted.head(point)["subscale_logits"][0], fitted.head(fitted.steps(X))["subscale_logits"].mean(0)
    )
    median = AdditiveAttributor(fitted).resolve_baseline(MedianInput(X)).description["point"]
    for feature, value in median.items():
        column = np.sort(X[feature].to_numpy())
        assert value == column[(len(column) - 1) // 2]


def test_population_comparison_averages_every_pair(fitted, heloc):
    X, _ = heloc
    A, B = X.iloc[:20], X.iloc[20:35]
    attributor = AdditiveAttributor(fitted)
    result = attributor.compare_populations(A, B, max_pairs=1000)
    assert result.meta["exact"]
    pairs = attributor.difference(A.iloc[np.repeat(np.arange(20), 15)], B.iloc[np.tile(np.arange(15), 20)])
    assert np.allclose(result.values["applicant"][0], pairs.values["applicant"].mean(0), atol=1e-15)
    assert result.values["applicant"].sum() == pytest.approx(fitted.risk(A).mean() - fitted.risk(B).mean(), abs=1e-12)
    sampled = attributor.compare_populations(A, B, max_pairs=100, seed=1)
    assert not sampled.meta["exact"] and sampled.standard_error is not None


def test_the_dashboard_protocol_is_served(fitted, heloc):
    X, _ = heloc
    explainers = ModelExplainers.for_additive(fitted)
    assert isinstance(explainers.rows, RowExplainer) and isinstance(explainers.attributions, Attributor)
    rows = explainers.rows.with_params(progress=False).explain(X.iloc[:100])
    assert rows.completeness_error.max() < 1e-12
    assert rows.meta["baseline"]["kind"] == "training average"
    assert rows.local_importance(3).values.sum() == pytest.approx(100)
    assert rows.global_importance().values.sum() == pytest.approx(100)
    attributor = explainers.attributions.with_params(steps=64, rule="gausslegendre", progress=False)
    for kind, baseline in documented_baselines(X, cutoff=0.5, band=0.1).items():
        resolved = attributor.resolve_baseline(baseline, X)
        assert attributor.explain(X.iloc[:5], resolved).completeness_error.max() < 1e-12, kind
    with pytest.raises(NBExplainError, match="applicants"):
        attributor.resolve_baseline(BestScore(X, within="ranges"), X)
    with pytest.raises(NBExplainError, match="AdditiveRiskModel"):
        ModelExplainers.for_additive(object())


def test_the_dashboard_controller_picks_edits_reasons_and_compares(fitted, heloc):
    from nbexplain.widgets.controller import ExplorerController
    from nbexplain.widgets.source import ExplorerData

    X, y = heloc
    frame = X.iloc[:400]
    data = ExplorerData(
        ModelExplainers.for_additive(fitted),
        frame,
        target=(y.iloc[:400] == "Bad").to_numpy().astype(int),
        outcome="P(Bad)",
        class_labels=("Good", "Bad"),
    )
    controller = ExplorerController(data, progress=False)
    assert np.array_equal(controller.scores, fitted.risk(frame))
    picked = controller.pick(7)
    assert picked.local.feature_names == HELOC_FEATURES
    edited = controller.what_if({"ExternalRiskEstimate": 95})
    assert edited.prediction == pytest.approx(fitted.risk(frame.iloc[[7]].assign(ExternalRiskEstimate=95))[0])
    kinds = {"average": "average input", "median": "median input", "reference": "reference set", "best": "best score"}
    for short, kind in kinds.items():
        reasons = controller.reasons(baseline=short)
        assert reasons.completeness_error < 1e-12 and reasons.baseline["kind"] == kind
    compared = controller.compare_cohorts(np.arange(0, 30), np.arange(30, 60), max_pairs=1000)
    assert compared.meta["exact"] and compared.meta["completeness_error"] < 1e-12


# ----------------------------------------------------------------------------- factors
def test_factors_of_a_bad_prediction_are_the_largest_points(fitted, heloc):
    X, _ = heloc
    risk = fitted.risk(X)
    row = X.iloc[[int(np.argmax(risk))]]
    factors = contributing_factors(fitted, row)
    comp = fitted.computation(row)
    assert factors.predicted == "Bad" and factors.direction == "toward Bad"
    top = np.argsort(-comp.subscale_points)[:2]
    assert [f.subscale for f in factors.factors] == [fitted.subscales_[s] for s in top for _ in range(2)]
    for f in factors.factors:
        s = fitted.subscales_.index(f.subscale)
        points = np.where(fitted.recipe.column_subscale == s, comp.column_points, -np.inf)
        best = np.sort(points)[::-1][:2]
        assert f.points in best and f.points > 0
        column = next(c for c in fitted.columns_ if c.name == f.column)
        assert f.condition == column.condition
    assert factors.lines()[0].startswith("1. ") and "from the most important subscale" in factors.lines()[0]


def test_factors_of_a_good_prediction_push_hardest_toward_good(fitted, heloc):
    X, _ = heloc
    row = X.iloc[[int(np.argmin(fitted.risk(X)))]]
    factors = contributing_factors(fitted, row)
    comp = fitted.computation(row)
    assert factors.predicted == "Good" and factors.direction == "toward Good"
    below = fitted.output_weights_ * (comp.subscale_probabilities - fitted.subscale_means_)
    assert factors.factors[0].subscale == fitted.subscales_[int(np.argmin(below))]
    for f in factors.factors:
        assert f.points < 0 and f.subscale_points < 0
    assert len(factors.to_frame()) == len(factors.factors) > 0
