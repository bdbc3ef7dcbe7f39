"""Tree ensembles read exactly as each library predicts: margins against the libraries' own raw
predictions (missing values, categorical splits, every supported model kind), names not
positions, and refusals that say what to do."""

import importlib.util

import numpy as np
import pandas as pd
import pytest

xgb = pytest.importorskip("xgboost")
lgb = pytest.importorskip("lightgbm")
from sklearn import ensemble, tree  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

from nbexplain import NBExplainError, read_trees  # noqa: E402
from nbexplain.errors import InputDataError  # noqa: E402
from nbexplain.model.trees import UnsupportedModelError  # noqa: E402

BACKENDS = ["numpy"] + (["numba"] if importlib.util.find_spec("numba") else [])


def credit_like(rng, n=600, missing=True):
    """Four features: two continuous, one integer count, one categorical code (0..5); NaN in two
    of them; a binary, a three-class and a continuous target."""
    X = np.column_stack(
        [rng.normal(size=n), rng.normal(size=n), rng.integers(0, 4, n).astype(float), rng.integers(0, 6, n)]
    ).astype(float)
    y = (X[:, 0] + 0.8 * (X[:, 3] == 3) - 0.5 * X[:, 2] + 0.3 * rng.normal(size=n) > 0).astype(int)
    classes = rng.integers(0, 3, n)
    value = 2 * X[:, 0] + np.sin(X[:, 1]) + (X[:, 3] == 2) + 0.1 * rng.normal(size=n)
    if missing:
        X[rng.random(n) < 0.1, 0] = np.nan
        X[rng.random(n) < 0.1, 1] = np.nan
        X[::13, 2] = 0.0
    return X, y, classes, value


def library_margins(rng):
    """(name, model, the library's own raw score of rows, whether it takes NaN)."""
    X, y, classes, value = credit_like(rng)
    clean = np.nan_to_num(X)
    cat_types = ["q", "q", "q", "c"]
    dtrain = xgb.DMatrix(X, y, feature_types=cat_types, enable_categorical=True)
    xgb_cat = xgb.train({"max_depth": 3, "objective": "binary:logistic", "max_cat_to_onehot": 1}, dtrain, 8)
    models = [
        ("xgb binary", xgb.XGBClassifier(n_estimators=12, max_depth=3).fit(X, y), "xgb", True),
        ("xgb multiclass", xgb.XGBClassifier(n_estimators=6, max_depth=3).fit(X, classes), "xgb", True),
        (
            "xgb dart",
            xgb.XGBRegressor(n_estimators=8, max_depth=3, booster="dart", rate_drop=0.3).fit(X, value),
            "xgb",
            True,
        ),
        (
            "xgb poisson",
            xgb.XGBRegressor(n_estimators=8, objective="count:poisson").fit(X, np.abs(value).round()),
            "xgb",
            True,
        ),
        ("xgb categorical", xgb_cat, "xgb-cat", True),
        ("lgb binary", lgb.LGBMClassifier(n_estimators=12, num_leaves=8, verbose=-1).fit(X, y), "lgb", True),
        ("lgb multiclass", lgb.LGBMClassifier(n_estimators=5, num_leaves=6, verbose=-1).fit(X, classes), "lgb", True),
        (
            "lgb zero missing",
            lgb.LGBMRegressor(n_estimators=10, num_leaves=8, verbose=-1, zero_as_missing=True).fit(X, value),
            "lgb",
            True,
        ),
        (
            "lgb no missing",
            lgb.LGBMRegressor(n_estimators=10, num_leaves=8, verbose=-1, use_missing=False).fit(clean, value),
            "lgb",
            True,
        ),
        (
            "lgb categorical",
            lgb.LGBMClassifier(n_estimators=10, num_leaves=8, verbose=-1, min_data_per_group=5, cat_smooth=1).fit(
                X, y, categorical_feature=[3]
            ),
            "lgb",
            True,
        ),
        (
            "lgb random forest",
            lgb.LGBMRegressor(
                n_estimators=8, num_leaves=8, verbose=-1, boosting_type="rf", bagging_freq=1, bagging_fraction=0.6
            ).fit(X, value),
            "predict",
            True,
        ),
        ("sklearn tree", tree.DecisionTreeClassifier(max_depth=4).fit(X, y), "proba", True),
        ("sklearn extra tree", tree.ExtraTreeRegressor(max_depth=4).fit(X, value), "predict", True),
        ("sklearn forest", ensemble.RandomForestClassifier(n_estimators=5, max_depth=4).fit(X, classes), "proba", True),
        (
            "sklearn extra trees",
            ensemble.ExtraTreesRegressor(n_estimators=5, max_depth=4).fit(X, value),
            "predict",
            True,
        ),
        (
            "sklearn boosting",
            ensemble.GradientBoostingClassifier(n_estimators=8, max_depth=3).fit(clean, y),
            "decision",
            False,
        ),
        (
            "sklearn boosting 3",
            ensemble.GradientBoostingClassifier(n_estimators=4, max_depth=2).fit(clean, classes),
            "decision",
            False,
        ),
        (
            "sklearn boosting reg",
            ensemble.GradientBoostingRegressor(n_estimators=8, max_depth=3).fit(clean, value),
            "predict",
            False,
        ),
        ("sklearn hist", ensemble.HistGradientBoostingClassifier(max_iter=8).fit(X, y), "raw", True),
        (
            "sklearn hist categorical",
            ensemble.HistGradientBoostingRegressor(max_iter=8, categorical_features=[3]).fit(X, value),
            "raw",
            True,
        ),
    ]
    return models, X, clean


def own_prediction(model, kind, X):
    """The library's raw score, by its own API."""
    if kind == "xgb":
        return model.predict(X, output_margin=True)
    if kind == "xgb-cat":
        return model.predict(
            xgb.DMatrix(X, feature_types=["q", "q", "q", "c"], enable_categorical=True), output_margin=True
        )
    if kind == "lgb":
        return model.predict(X, raw_score=True)
    if kind == "proba":
        return model.predict_proba(X)
    if kind == "decision":
        return model.decision_function(X)
    if kind == "raw":
        return model._raw_predict(X)
    return model.predict(X)


@pytest.mark.parametrize("backend", BACKENDS)
def test_margins_equal_each_librarys_raw_prediction_with_missing_values(rng, backend):
    models, X, clean = library_margins(rng)
    probe = np.vstack([X, credit_like(np.random.default_rng(7), 200)[0]])
    probe_clean = np.nan_to_num(probe)
    for name, model, kind, takes_missing in models:
        rows = probe if takes_missing else probe_clean
        ensemble_ = read_trees(model)
        expected = np.asarray(own_prediction(model, kind, rows), dtype=float).reshape(len(rows), -1)
        got = ensemble_.margin_of(ensemble_.cast(ensemble_.prepare(rows)[0]), backend)
        # XGBoost adds its leaves in float32; every other library in float64
        tolerance = 2e-6 if kind.startswith("xgb") else 1e-12
        np.testing.assert_allclose(got, expected, rtol=0, atol=tolerance, err_msg=name)


def test_rows_exactly_on_thresholds_follow_each_librarys_inequality(rng):
    """x == c goes right in XGBoost (x < c), left in LightGBM and scikit-learn (x <= c)."""
    x = np.tile([0.0, 1.0, 2.0, 3.0], 50)
    X = np.column_stack([x, rng.normal(size=x.size)])
    y = (x >= 2).astype(float) * 3.0
    for model in (
        xgb.XGBRegressor(n_estimators=1, max_depth=1, learning_rate=1.0).fit(X, y),
        lgb.LGBMRegressor(n_estimators=1, num_leaves=2, min_child_samples=2, verbose=-1).fit(X, y),
        tree.DecisionTreeRegressor(max_depth=1).fit(X, y),
    ):
        ensemble_ = read_trees(model)
        thresholds = ensemble_.split_thresholds()[ensemble_.feature_names[0]]
        assert thresholds.size == 1
        at = np.array([[thresholds[0], 0.0], [np.nextafter(thresholds[0], -np.inf), 0.0]])
        np.testing.assert_allclose(ensemble_.margin(at)[:, 0], model.predict(at), atol=1e-6)


def test_split_thresholds_are_the_librarys_own(rng):
    X, y, _, value = credit_like(rng, missing=False)
    model = tree.DecisionTreeRegressor(max_depth=4).fit(X, value)
    read = read_trees(model).split_thresholds()
    own = model.tree_
    for j, name in enumerate(read_trees(model).feature_names):
        expected = np.unique(own.threshold[(own.feature == j) & (own.children_left >= 0)])
        np.testing.assert_array_equal(read[name], expected)
    booster = xgb.XGBRegressor(n_estimators=5, max_depth=3).fit(X, value).get_booster()
    frame = booster.trees_to_dataframe()
    splits = frame[frame.Feature != "Leaf"]
    for name, values in read_trees(booster).split_thresholds().items():
        expected = np.unique(splits.Split[splits.Feature == name].to_numpy(np.float32))
        np.testing.assert_array_equal(values, expected.astype(float))


def test_dataframe_columns_are_matched_by_name_never_by_position(rng):
    X, y, _, _ = credit_like(rng, missing=False)
    frame = pd.DataFrame(X, columns=["income", "debt", "count", "region"])
    model = xgb.XGBClassifier(n_estimators=5, max_depth=3).fit(frame, y)
    ensemble_ = read_trees(model)
    shuffled = frame[["region", "count", "income", "debt"]]
    np.testing.assert_array_equal(ensemble_.margin(shuffled), ensemble_.margin(frame))
    with pytest.raises(InputDataError, match=r"lacks column\(s\) \['debt'\]"):
        ensemble_.margin(frame.drop(columns="debt"))
    with pytest.raises(InputDataError, match=r"has column\(s\) the model does not read \['extra'\]"):
        ensemble_.margin(frame.assign(extra=1.0))
    with pytest.raises(InputDataError, match="'category' dtype"):
        ensemble_.margin(frame.assign(region=frame.region.astype("category")))
    with pytest.raises(InputDataError, match=r"reads 4 features .* has 3 columns"):
        ensemble_.margin(X[:, :3])


def test_unnamed_models_take_names_and_named_ones_refuse_others(rng):
    X, y, _, _ = credit_like(rng, missing=False)
    unnamed = lgb.LGBMClassifier(n_estimators=3, verbose=-1).fit(X, y)
    assert read_trees(unnamed).feature_names == ("Column_0", "Column_1", "Column_2", "Column_3")
    renamed = read_trees(unnamed, feature_names=["a", "b", "c", "d"])
    frame = pd.DataFrame(X, columns=list("abcd"))[["d", "c", "b", "a"]]
    np.testing.assert_array_equal(renamed.margin(frame), unnamed.predict(X, raw_score=True)[:, None])
    named = xgb.XGBClassifier(n_estimators=3).fit(pd.DataFrame(X, columns=list("wxyz")), y)
    with pytest.raises(InputDataError, match="trained with feature names"):
        read_trees(named, feature_names=list("abcd"))


def test_missing_values_are_refused_where_the_library_refuses_them(rng):
    X, y, _, _ = credit_like(rng)
    model = ensemble.GradientBoostingClassifier(n_estimators=3).fit(np.nan_to_num(X), y)
    with pytest.raises(InputDataError, match=r"NaN in .* row\(s\) .* does not accept missing values"):
        read_trees(model).margin(X)
    with pytest.raises(InputDataError, match="inf in 1 row"):
        read_trees(xgb.XGBClassifier(n_estimators=2).fit(X, y)).margin(np.where(np.arange(4) == 1, np.inf, X[:1]))


def test_unsupported_models_are_refused_with_what_to_do(rng):
    X, y, _, value = credit_like(rng, missing=False)
    cases = [
        (LogisticRegression().fit(X, y), "not a supported tree model"),
        (ensemble.IsolationForest(n_estimators=3).fit(X), "not a supported tree model"),
        (xgb.XGBRegressor(booster="gblinear", n_estimators=3).fit(X, value), "is not a tree ensemble"),
        (xgb.XGBClassifier(n_estimators=2, missing=0.0).fit(X, y), "treats 0.0 as missing"),
        (lgb.LGBMRegressor(n_estimators=3, linear_tree=True, verbose=-1).fit(X, value), "linear trees"),
        (ensemble.GradientBoostingRegressor(n_estimators=3, init=LinearInit()).fit(X, value), "starting score varies"),
        (tree.DecisionTreeClassifier(), "not fitted"),
        (xgb.XGBClassifier(), "not fitted"),
        ("a string", "is not a tree model nbexplain reads"),
    ]
    for model, message in cases:
        with pytest.raises(NBExplainError, match=message):
            read_trees(model)
    assert issubclass(UnsupportedModelError, NBExplainError)


class LinearInit:
    """An init estimator whose starting score depends on the input (not a tree ensemble)."""

    def fit(self, X, y, sample_weight=None):
        self.coef_ = np.linalg.lstsq(np.c_[X, np.ones(len(X))], y, rcond=None)[0]
        return self

    def predict(self, X):
        return np.c_[X, np.ones(len(X))] @ self.coef_


def test_fingerprint_identifies_the_function(rng):
    X, y, _, _ = credit_like(rng, missing=False)
    first = xgb.XGBClassifier(n_estimators=4, max_depth=3, random_state=0).fit(X, y)
    again = xgb.XGBClassifier(n_estimators=4, max_depth=3, random_state=0).fit(X, y)
    other = xgb.XGBClassifier(n_estimators=5, max_depth=3, random_state=0).fit(X, y)
    assert read_trees(first).fingerprint() == read_trees(again).fingerprint()
    assert read_trees(first).fingerprint() != read_trees(other).fingerprint()
    described = read_trees(first).describe()
    assert described["library"] == "xgboost" and described["comparison"] == "x < threshold goes left"


def test_reading_never_changes_the_model(rng):
    X, y, _, _ = credit_like(rng)
    model = xgb.XGBClassifier(n_estimators=4, max_depth=3).fit(X, y)
    before = bytes(model.get_booster().save_raw("json"))
    read_trees(model).margin(X)
    assert bytes(model.get_booster().save_raw("json")) == before


@pytest.mark.parametrize("backend", BACKENDS)
def test_sides_are_ordered_by_path_then_time_exactly_as_lexsort(rng, backend):
    """Sides arrive grouped by tree; events need them by path, then time, equal times in arrival
    order (the jumps of one event are summed in that order)."""
    from nbexplain.model.trees import path_time_order

    paths = 50
    pair = np.concatenate([rng.permutation(paths)[: rng.integers(1, paths)] for _ in range(40)])
    tau = rng.choice([0.0, 0.25, 0.5, 1.0, *rng.random(5)], size=pair.size)  # many equal times
    order = path_time_order(pair, tau, paths, backend)
    assert np.array_equal(order, np.lexsort((tau, pair)))
    assert path_time_order(pair[:0], tau[:0], paths, backend).size == 0
