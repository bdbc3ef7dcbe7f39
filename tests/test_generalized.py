"""Generalized Integrated Gradients against independent truth: closed forms, each library's own
predictions, shap's interventional TreeSHAP, Integrated Gradients for the smooth part, and a
brute-force oracle that walks the path with the libraries' own leaf lookups."""

import importlib.util
import itertools
import math
import warnings

import keras
import numpy as np
import pandas as pd
import pytest

xgb = pytest.importorskip("xgboost")
lgb = pytest.importorskip("lightgbm")
shap = pytest.importorskip("shap")
from sklearn import ensemble, tree  # noqa: E402

from nbexplain import (  # noqa: E402
    Attributions,
    AverageInput,
    BestScore,
    Blend,
    GeneralizedIntegratedGradients,
    IntegratedGradients,
    NBExplainError,
    NetworkHead,
    PairedBaseline,
    ReferenceSet,
    Stack,
    UserPoint,
)
from nbexplain.engine.protocol import Attributor, FixedBaselineRows, ModelExplainers, RowExplainer  # noqa: E402
from nbexplain.errors import InputDataError  # noqa: E402

GIG = GeneralizedIntegratedGradients
BACKENDS = ["numpy"] + (["numba"] if importlib.util.find_spec("numba") else [])
XGB_TYPES = ["q", "q", "q", "c"]


def gig_values(model, X, baseline, **options):
    return GIG(model, **options).explain(X, baseline).values["features"]


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


# --------------------------------------------------------------------------- the oracle
class LibraryLeaves:
    """A model seen only through its library's own API: leaf ids of rows and leaf values."""

    def __init__(self, model):
        self.model = model
        if isinstance(model, xgb.Booster):
            frame = model.trees_to_dataframe()
            leaves = frame[frame.Feature == "Leaf"]
            self.table = {(int(t), int(n)): float(g) for t, n, g in zip(leaves.Tree, leaves.Node, leaves.Gain)}
        elif isinstance(model, lgb.Booster):
            self.table = None
        else:
            self.estimators = list(np.ravel(model.estimators_)) if hasattr(model, "estimators_") else [model]
            self.scale = model.learning_rate if isinstance(model, ensemble.GradientBoostingRegressor) else 1.0
            if isinstance(model, ensemble.RandomForestRegressor):
                self.scale = 1.0 / len(self.estimators)

    def leaves(self, X):
        if isinstance(self.model, xgb.Booster):
            matrix = xgb.DMatrix(X, feature_types=XGB_TYPES, enable_categorical=True)
            return self.model.predict(matrix, pred_leaf=True).astype(int)
        if isinstance(self.model, lgb.Booster):
            return self.model.predict(X, pred_leaf=True).astype(int)
        return np.column_stack([e.apply(X.astype(np.float32)) for e in self.estimators])

    def score(self, leaves):
        """The sum of the leaf values (the margin up to its constant)."""
        if isinstance(self.model, xgb.Booster):
            return np.array([sum(self.table[(t, n)] for t, n in enumerate(row)) for row in leaves])
        if isinstance(self.model, lgb.Booster):
            return np.array([sum(self.model.get_leaf_output(t, n) for t, n in enumerate(row)) for row in leaves])
        return np.array(
            [sum(e.tree_.value[n, 0, 0] for e, n in zip(self.estimators, row)) * self.scale for row in leaves]
        )


def oracle(model, x, b, step):
    """Brute-force GIG of one path: leaf ids on a fine grid of t, every change located by
    bisection (to 1e-13), and each change split by the Shapley value over the coordinates that
    moved within it (so a single crossing coordinate gets the whole jump). ``step``
    coordinates keep b for t < 1/2 and take x after."""
    library = LibraryLeaves(model)

    def point(t, moved=None):
        t = np.atleast_1d(t)
        p = b + t[:, None] * np.where(step, 0.0, np.nan_to_num(x - b))
        p = np.where(step, np.where(t[:, None] < 0.5, b, x), p)
        return p

    grid = np.linspace(0.0, 1.0, 1025)
    leaves = library.leaves(point(grid))
    change = np.flatnonzero((leaves[1:] != leaves[:-1]).any(axis=1))
    lo, hi = grid[change], grid[change + 1]
    lo_leaves, hi_leaves = leaves[change], leaves[change + 1]
    while lo.size and (hi - lo).max() > 1e-13:
        mid = (lo + hi) / 2
        mid_leaves = library.leaves(point(mid))
        left_change = (mid_leaves != lo_leaves).any(axis=1)
        right_change = (mid_leaves != hi_leaves).any(axis=1)
        lo, hi, lo_leaves, hi_leaves = (
            np.concatenate([lo[left_change], mid[right_change]]),
            np.concatenate([mid[left_change], hi[right_change]]),
            np.concatenate([lo_leaves[left_change], mid_leaves[right_change]]),
            np.concatenate([mid_leaves[left_change], hi_leaves[right_change]]),
        )
    attributions = np.zeros(x.size)
    for start, end in zip(lo, hi):
        before, after = point(start)[0], point(end)[0]
        moving = [
            j for j in range(x.size) if not (before[j] == after[j] or (np.isnan(before[j]) and np.isnan(after[j])))
        ]
        coalitions = list(
            itertools.chain.from_iterable(itertools.combinations(moving, r) for r in range(len(moving) + 1))
        )
        rows = np.array([np.where(np.isin(np.arange(x.size), s), after, before) for s in coalitions])
        value = dict(zip(coalitions, library.score(library.leaves(rows))))
        k = len(moving)
        for j in moving:
            for s in coalitions:
                if j not in s:
                    weight = math.factorial(len(s)) * math.factorial(k - len(s) - 1) / math.factorial(k)
                    attributions[j] += weight * (value[tuple(sorted(s + (j,)))] - value[s])
    return attributions


def random_data(rng, n=300, categorical=True):
    """Two continuous features with missing values, an integer count and a categorical code."""
    X = np.column_stack([rng.normal(size=n), rng.normal(size=n), rng.integers(0, 4, n), rng.integers(0, 5, n)]).astype(
        float
    )
    y = X[:, 0] - np.nan_to_num(X[:, 1]) ** 2 + 0.7 * (X[:, 3] == 2) + 0.4 * X[:, 2] * (X[:, 0] > 0)
    X[rng.random(n) < 0.15, 0] = np.nan
    X[rng.random(n) < 0.15, 1] = np.nan
    if not categorical:
        X[:, 3] = rng.normal(size=n)
    return X, y


def oracle_models(rng):
    X, y = random_data(rng)
    Xc, yc = random_data(rng, categorical=False)
    booster = xgb.train(
        {"max_depth": 3, "eta": 0.5, "max_cat_to_onehot": 1},
        xgb.DMatrix(X, y, feature_types=XGB_TYPES, enable_categorical=True),
        6,
    )
    light = lgb.train(
        {"num_leaves": 6, "verbose": -1, "min_data_per_group": 5, "cat_smooth": 1, "min_data_in_leaf": 5},
        lgb.Dataset(X, y, categorical_feature=[3]),
        6,
    )
    forest = ensemble.RandomForestRegressor(n_estimators=4, max_depth=3, random_state=0).fit(Xc, yc)
    boosted = ensemble.GradientBoostingRegressor(n_estimators=5, max_depth=2).fit(np.nan_to_num(Xc), yc)
    return [(booster, X, True), (light, X, True), (forest, Xc, False), (boosted, np.nan_to_num(Xc), False)]


@pytest.mark.parametrize("backend", BACKENDS)
def test_gig_agrees_with_a_brute_force_walk_along_the_path(rng, backend):
    """Random small ensembles of each library, missing values and categorical splits included."""
    for model, X, categorical in oracle_models(rng):
        pairs = rng.choice(len(X), size=(4, 2), replace=False)
        x, b = X[pairs[:, 0]], X[pairs[:, 1]]
        got = GIG(model, backend=backend).difference(x, b)
        for i in range(len(x)):
            step = np.isnan(x[i]) != np.isnan(b[i])
            if categorical:
                step[3] = True
            expected = oracle(model, x[i], b[i], step)
            np.testing.assert_allclose(
                got.values["features"][i], expected, rtol=0, atol=1e-9, err_msg=type(model).__name__
            )
        assert got.completeness_error.max() < 1e-12


# --------------------------------------------------------------------------- stumps
def stump(library, rng):
    """A depth-1 model on feature 0 (integer values 0..3, the step at 2), with feature 1 unused,
    and its threshold as the library itself reports it."""
    x = np.tile([0.0, 1.0, 2.0, 3.0], 60)
    X = np.column_stack([x, rng.normal(size=x.size)])
    y = 3.0 * (x >= 2)
    if library == "xgboost":
        model = xgb.XGBRegressor(n_estimators=1, max_depth=1, learning_rate=1.0, base_score=0.0).fit(X, y)
        frame = model.get_booster().trees_to_dataframe()
        threshold = float(np.float32(frame.Split.dropna().iloc[0]))
    elif library == "lightgbm":
        model = lgb.LGBMRegressor(n_estimators=1, num_leaves=2, min_child_samples=2, learning_rate=1.0, verbose=-1)
        model.fit(X, y)
        threshold = model.booster_.dump_model()["tree_info"][0]["tree_structure"]["threshold"]
    else:
        model = tree.DecisionTreeRegressor(max_depth=1).fit(X, y)
        threshold = model.tree_.threshold[0]
    return model, threshold


@pytest.mark.parametrize("library", ["xgboost", "lightgbm", "sklearn"])
def test_a_stump_credits_its_feature_with_the_jump_including_at_the_threshold(rng, library):
    model, c = stump(library, rng)
    below, above = c - 0.7, c + 0.9

    def check(x0, b0, nonzero=None):
        x, b = np.array([[x0, 0.3]]), np.array([[b0, -0.2]])
        phi = gig_values(model, x, UserPoint(b))[0]
        truth = model.predict(x)[0] - model.predict(b)[0]  # the library's own jump
        np.testing.assert_allclose(phi, [truth, 0.0], atol=1e-6)
        if nonzero is not None:
            assert (abs(truth) > 1) == nonzero

    check(above, below, nonzero=True)  # b_j < c < x_j: the whole step to j
    check(below, above, nonzero=True)
    # x_j exactly at c: XGBoost sends it right (x < c is false), LightGBM and sklearn left
    check(c, below, nonzero=library == "xgboost")
    check(c, above, nonzero=library != "xgboost")
    # b_j exactly at c: a jump at t = 0
    check(above, c, nonzero=library != "xgboost")
    check(below, c, nonzero=library == "xgboost")
    check(c, c, nonzero=False)  # x_j = b_j: 0


# --------------------------------------------------------------------------- additive models
@pytest.mark.parametrize(
    "make",
    [
        lambda: xgb.XGBRegressor(n_estimators=25, max_depth=1, learning_rate=0.3),
        lambda: lgb.LGBMRegressor(n_estimators=25, num_leaves=2, verbose=-1),
        lambda: ensemble.GradientBoostingRegressor(n_estimators=25, max_depth=1),
    ],
)
def test_depth_one_models_match_per_feature_jumps_and_interventional_treeshap(rng, make):
    X = rng.normal(size=(300, 4))
    y = X[:, 0] + np.sin(2 * X[:, 1]) + np.abs(X[:, 2]) + 0.1 * rng.normal(size=300)
    model = make().fit(X, y)
    x, b = X[:12], X[12:13]
    phi = gig_values(model, x, UserPoint(b))
    # an additive model: feature j's share is f(b with x_j) - f(b), by the library itself
    for j in range(4):
        moved = np.repeat(b, len(x), axis=0)
        moved[:, j] = x[:, j]
        np.testing.assert_allclose(phi[:, j], model.predict(moved) - model.predict(b), atol=1e-6)
    single = shap.TreeExplainer(model, data=b, feature_perturbation="interventional").shap_values(x)
    np.testing.assert_allclose(phi, single, atol=1e-6)
    background = X[20:60]
    averaged = gig_values(model, x, ReferenceSet(background, draws=len(background)))
    reference = shap.TreeExplainer(model, data=background, feature_perturbation="interventional").shap_values(x)
    np.testing.assert_allclose(averaged, reference, atol=1e-6)


# --------------------------------------------------------------------------- ties
def product_tree():
    """4 * 1[x1 > .5] * 1[x2 > .5], fitted exactly (thresholds at 0.5)."""
    grid = np.array(list(itertools.product([0.0, 1.0], repeat=2)) * 5)
    return tree.DecisionTreeRegressor().fit(grid, 4.0 * grid[:, 0] * grid[:, 1])


def test_features_crossing_together_share_the_jump_by_shapley():
    model = product_tree()
    origin = UserPoint(np.zeros((1, 2)))
    np.testing.assert_allclose(gig_values(model, np.array([[1.0, 1.0]]), origin), [[2.0, 2.0]], atol=1e-12)
    np.testing.assert_allclose(gig_values(model, np.array([[1.0, 0.9]]), origin), [[0.0, 4.0]], atol=1e-12)
    # an asymmetric tie: F = 1[x1 > .5] + 2 1[x1 > .5] 1[x2 > .5]; v(1) = 1, v(2) = 0, v(12) = 3
    grid = np.array(list(itertools.product([0.0, 1.0], repeat=2)) * 5)
    asymmetric = tree.DecisionTreeRegressor().fit(grid, grid[:, 0] + 2 * grid[:, 0] * grid[:, 1])
    np.testing.assert_allclose(gig_values(asymmetric, np.array([[1.0, 1.0]]), origin), [[2.0, 1.0]], atol=1e-12)
    # the same tie through a sigmoid head: one game over the whole score
    stacked = Stack([model], "sigmoid")
    both = gig_values(stacked, np.array([[1.0, 1.0]]), origin)[0]
    np.testing.assert_allclose(both, [(sigmoid(4) - 0.5) / 2] * 2, atol=1e-12)


def test_large_ties_are_sampled_with_a_standard_error(rng):
    """Five one-hot columns flipping at t = 1/2, split exactly and by sampled orders."""
    grid = np.eye(5)[rng.integers(0, 5, 400)] + 0.0
    target = 3 * grid[:, 0] - 2 * grid[:, 2] + grid[:, 4] + (grid[:, 1] * 2.0)
    model = tree.DecisionTreeRegressor(max_depth=6).fit(grid, target)
    x, b = np.eye(5)[[0, 2]], np.eye(5)[[4, 1]]
    stacked = Stack([model], "sigmoid")
    exact = GIG(stacked).difference(x, b)
    sampled = GIG(stacked, exact_ties=1, permutations=400, seed=3).difference(x, b)
    assert exact.meta["sampled_ties"] == 0 and sampled.meta["sampled_ties"] >= 1
    errors = np.asarray(sampled.meta["tie_standard_error"])  # 0 where the game is additive
    assert errors.max() > 0
    assert np.all(np.abs(sampled.values["features"] - exact.values["features"]).max(axis=1) <= 5 * errors + 1e-12)
    assert sampled.completeness_error.max() < 1e-12  # sampled orders still add up


# --------------------------------------------------------------------------- stacks
def float64_head(width_margins, width_features, weights):
    """g(z, x) = sigmoid(z_0 + x . weights) in float64."""
    margins = keras.Input((width_margins,), dtype="float64")
    features = keras.Input((width_features,), dtype="float64")
    linear = keras.layers.Dense(1, use_bias=False, dtype="float64")
    total = keras.layers.Add(dtype="float64")([margins, linear(features)])
    head = keras.Model([margins, features], keras.layers.Activation("sigmoid", dtype="float64")(total))
    linear.set_weights([np.asarray(weights, float)[:, None]])
    return head


def test_a_stacked_sigmoid_follows_its_closed_form():
    """F = sigmoid(a 1[x1 > c] + w x2), b = 0, x = (1, 1): phi_1 = s(a + wc) - s(wc) and
    phi_2 = s(wc) - s(0) + s(a + w) - s(a + wc)."""
    a, w = 2.0, 1.5
    x1 = np.array([0.0, 1.0] * 10)
    model = tree.DecisionTreeRegressor(max_depth=1).fit(np.c_[x1, 0 * x1], a * x1)
    c = model.tree_.threshold[0]
    stacked = Stack([model], NetworkHead(float64_head(1, 2, [0.0, w])))
    result = GIG(stacked, tolerance=1e-12, max_steps=64).explain(np.array([[1.0, 1.0]]), UserPoint(np.zeros((1, 2))))
    expected = [sigmoid(a + w * c) - sigmoid(w * c), sigmoid(w * c) - 0.5 + sigmoid(a + w) - sigmoid(a + w * c)]
    np.testing.assert_allclose(result.values["features"][0], expected, atol=1e-10)
    assert result.completeness_error[0] < 1e-10
    assert result.meta["crossings"] == [1] and result.steps[0] > 0
    np.testing.assert_allclose(stacked.predict(np.array([[1.0, 1.0]])), sigmoid(a + w), atol=1e-12)


def smooth_network(rng, p):
    network = keras.Sequential(
        [
            keras.Input((p,), dtype="float64"),
            keras.layers.Dense(8, activation="tanh", dtype="float64"),
            keras.layers.Dense(1, activation="sigmoid", dtype="float64"),
        ]
    )
    network.layers[0].set_weights([rng.normal(size=(p, 8)) * 0.5, rng.normal(size=8) * 0.2])
    network.layers[1].set_weights([rng.normal(size=(8, 1)), np.array([0.1])])
    return network


def test_a_blend_is_linear_in_its_parts(rng):
    """GIG(w h + (1 - w) N) = w GIG(h) + (1 - w) IG(N) for the identity link."""
    X = rng.normal(size=(200, 3))
    model = xgb.XGBRegressor(n_estimators=10, max_depth=3).fit(X, X[:, 0] * X[:, 1])
    network = smooth_network(rng, 3)
    x, b = X[:5], UserPoint(X[5:6])
    weight = 0.3
    blended = GIG(Stack([model], Blend(network, weight=weight, link="identity")), tolerance=1e-10).explain(x, b)
    trees_alone = gig_values(model, x, b)
    network_alone = IntegratedGradients(network, steps=64).explain(x, b).values[network.inputs[0].name]
    np.testing.assert_allclose(
        blended.values["features"], weight * trees_alone + (1 - weight) * network_alone, atol=1e-9
    )
    assert blended.completeness_error.max() < 1e-10


def test_stacks_of_two_models_and_a_network_head_are_complete(rng):
    X = rng.normal(size=(300, 3))
    y = (X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(int)
    first = xgb.XGBClassifier(n_estimators=8, max_depth=3).fit(pd.DataFrame(X, columns=list("abc")), y)
    second = lgb.LGBMClassifier(n_estimators=8, num_leaves=6, verbose=-1).fit(X, y)  # trained without names
    margins = keras.Input((2,), dtype="float64")
    features = keras.Input((3,), dtype="float64")
    mixed = keras.layers.Dense(4, activation="tanh", dtype="float64")(
        keras.layers.Concatenate(dtype="float64")([margins, features])
    )
    head = keras.Model([margins, features], keras.layers.Dense(1, activation="sigmoid", dtype="float64")(mixed))
    with pytest.raises(NBExplainError, match="first input and, optionally, the 6 features"):
        Stack([first, second], head)  # 'a', 'b', 'c' and 'Column_0' ... are different features
    stacked = Stack([first, second], head, feature_names=["a", "b", "c"])  # names for the unnamed model
    result = GIG(stacked, tolerance=1e-8).explain(X[:6], AverageInput(X[:100]))
    assert result.completeness_error.max() < 1e-8
    np.testing.assert_allclose(result.score, stacked.predict(X[:6]), atol=1e-12)
    assert result.meta["stack"]["kind"] == "stack" and len(result.meta["stack"]["trees"]) == 2


def test_sampled_populations_of_a_network_stack_warn_of_quadrature_not_of_sampling(rng):
    """The sampled pairs' mean attribution sums to their own mean score gap (quadrature), not to
    the populations' mean gap (that difference is sampling, reported with a standard error)."""
    X = rng.normal(size=(300, 3))
    model = xgb.XGBClassifier(n_estimators=8, max_depth=3).fit(X, (X[:, 0] + X[:, 1] > 0).astype(int))
    stacked = Stack([model], NetworkHead(float64_head(1, 3, [0.5, -0.3, 0.2])))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sampled = GIG(stacked, tolerance=1e-8).compare_populations(X[:40], X[40:80], max_pairs=50, exact=False)
    assert sampled.completeness_error[0] > 1e-6, "50 of 1,600 pairs: their mean gap is not the populations'"
    assert sampled.meta["quadrature_error"] < 1e-8


# --------------------------------------------------------------------------- properties
@pytest.mark.parametrize("backend", BACKENDS)
def test_symmetry_unused_features_and_column_order(rng, backend):
    X, y = random_data(rng)
    X = np.column_stack([X, rng.normal(size=len(X))])  # feature 4 is never used
    frame = pd.DataFrame(X, columns=["a", "b", "count", "region", "unused"])
    model = lgb.LGBMRegressor(n_estimators=10, num_leaves=6, verbose=-1).fit(frame[["a", "b", "count", "region"]], y)
    stacked = Stack([model], "sigmoid", feature_names=list(frame.columns))
    forward = GIG(stacked, backend=backend).difference(frame.iloc[:30], frame.iloc[30:60])
    backward = GIG(stacked, backend=backend).difference(frame.iloc[30:60], frame.iloc[:30])
    np.testing.assert_allclose(forward.values["features"], -backward.values["features"], atol=1e-12)
    assert np.all(forward.values["features"][:, 4] == 0.0)
    shuffled = GIG(stacked, backend=backend).difference(
        frame.iloc[:30][["unused", "region", "a", "count", "b"]],
        frame.iloc[30:60][["b", "a", "unused", "count", "region"]],
    )
    np.testing.assert_array_equal(shuffled.values["features"], forward.values["features"])


def test_backends_agree_on_margins_probabilities_and_ties(rng):
    if "numba" not in BACKENDS:
        pytest.skip("numba is not installed")
    X = np.round(rng.normal(size=(300, 4)) * 2)  # integer data: many ties and threshold hits
    model = xgb.XGBClassifier(n_estimators=15, max_depth=4).fit(X, (X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(int))
    for output in ("margin", "probability"):
        slow = GIG(model, output=output, backend="numpy").difference(X[:40], X[40:80])
        fast = GIG(model, output=output, backend="numba", threads=2).difference(X[:40], X[40:80])
        np.testing.assert_allclose(fast.values["features"], slow.values["features"], atol=1e-12)
        assert slow.meta["ties"] > 0 and slow.meta["crossings"] == fast.meta["crossings"]


def test_populations_add_up_to_the_difference_of_mean_scores(rng):
    X = rng.normal(size=(200, 3))
    model = ensemble.RandomForestClassifier(n_estimators=5, max_depth=4, random_state=0).fit(X, X[:, 0] > 0)
    gig = GIG(model, target=1)
    A, B = X[:8], X[8:14]
    result = gig.compare_populations(A, B, labels=("denied", "approved"))
    pairwise = np.mean(
        [gig.difference(A[[i] * len(B)], B).values["features"].mean(axis=0) for i in range(len(A))], axis=0
    )
    np.testing.assert_allclose(result.values["features"][0], pairwise, atol=1e-12)
    np.testing.assert_allclose(result.total[0], gig.score(A).mean() - gig.score(B).mean(), atol=1e-12)
    sampled = gig.compare_populations(A, B, max_pairs=30, exact=False)
    assert sampled.standard_error is not None and sampled.meta["pairs"] == 30


def test_results_carry_how_they_were_made_and_views_work(rng):
    X, y = random_data(rng)
    model = xgb.XGBClassifier(n_estimators=6, max_depth=3).fit(X, y > 0)
    result = GIG(model).explain(X[:20], AverageInput(X))
    meta = result.meta
    assert meta["method"] == "generalized integrated gradients"
    assert meta["baseline"]["kind"] == "average input" and meta["baseline"]["n_reference"] == len(X)
    assert len(meta["crossings"]) == 20 and meta["model_fingerprint"] and meta["version"]
    assert {"ties", "largest_tie", "sampled_ties", "tie_standard_error"} <= set(meta)
    importance = result.global_importance()
    assert abs(importance.values.sum() - 100) < 1e-9 and importance.meta["baseline"]["kind"] == "average input"
    assert abs(result.local_importance(3).values.sum() - 100) < 1e-9
    assert isinstance(Attributions.from_json(result.to_json()), Attributions)


def test_dashboard_pair_explains_rows_against_one_recorded_baseline(rng):
    X, y = random_data(rng)
    frame = pd.DataFrame(X, columns=["a", "b", "count", "region"])
    model = lgb.LGBMClassifier(n_estimators=6, num_leaves=6, verbose=-1).fit(frame, y > 0)
    explainers = ModelExplainers.for_trees(model, output="probability")
    assert isinstance(explainers.rows, RowExplainer) and isinstance(explainers.attributions, Attributor)
    rows = explainers.rows.with_params(progress=False)
    assert isinstance(rows, FixedBaselineRows)
    everyone = rows.explain(frame)
    edited = rows.explain(frame.iloc[[5]].assign(a=2.0))
    assert everyone.meta["baseline"] == edited.meta["baseline"]  # the same point for a what-if edit
    np.testing.assert_allclose(everyone.baseline_score[0], edited.baseline_score[0])
    np.testing.assert_allclose(everyone.score, model.predict_proba(frame)[:, 1], atol=1e-12)
    assert everyone.local_importance(5).values.shape == (4,)
    reasons = explainers.attributions.with_params(steps=64, rule="gausslegendre", progress=False)
    assert reasons.explain(frame.iloc[:3], BestScore(frame)).meta["baseline"]["kind"] == "best score"


# --------------------------------------------------------------------------- bad input
def test_bad_input_is_refused_with_what_to_do(rng):
    X, y = random_data(rng)
    frame = pd.DataFrame(X, columns=["a", "b", "count", "region"])
    model = xgb.XGBClassifier(n_estimators=4, max_depth=3).fit(frame, y > 0)
    gig = GIG(model)
    with pytest.raises(InputDataError, match=r"lacks column\(s\) \['region'\]"):
        gig.explain(frame.drop(columns="region"), AverageInput(frame))
    with pytest.raises(NBExplainError, match="within='ranges'.* tree outputs have none"):
        gig.explain(frame.iloc[:2], BestScore(frame, within="ranges"))
    with pytest.raises(NBExplainError, match="needs an explicit baseline"):
        gig.explain(frame.iloc[:2], None)
    with pytest.raises(NBExplainError, match="does not predict a probability"):
        GIG(xgb.XGBRegressor(n_estimators=2).fit(frame, y), output="probability").score(frame)
    with pytest.raises(NBExplainError, match=r"3 margins .* choose one with target="):
        GIG(ensemble.RandomForestClassifier(n_estimators=2).fit(frame.fillna(0), rng.integers(0, 3, len(frame)))).score(
            frame
        )
    with pytest.raises(NBExplainError, match="Unknown backend"):
        GIG(model, backend="gpu").score(frame)
    with pytest.raises(NBExplainError, match="is not a tree model nbexplain reads"):
        GIG(smooth_network(rng, 4)).score(frame)
    network = smooth_network(rng, 4)
    blended = Stack([model], Blend(network, weight=0.5))
    with pytest.raises(InputDataError, match=r"NaN in .* A network reads these features"):
        GIG(blended).explain(frame, AverageInput(frame.fillna(0)))
    with pytest.raises(NBExplainError, match="A paired baseline needs one point per sample"):
        gig.explain(frame.iloc[:3], PairedBaseline(frame.iloc[:2]))


def test_explaining_never_changes_the_model(rng):
    X, y = random_data(rng)
    model = lgb.LGBMClassifier(n_estimators=4, verbose=-1).fit(X, y > 0)
    before = model.booster_.model_to_string()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        GIG(model).explain(X[:10], AverageInput(X))
    assert model.booster_.model_to_string() == before
