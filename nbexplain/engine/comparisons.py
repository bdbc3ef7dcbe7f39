"""Importances from other methods, as :class:`Explanation` objects beside the sensitivities.

Horel et al. (2018), section 4, compare the network's sensitivity ranking with three others:

* LIME, counted over instances: the number of instances whose ``num_features`` LIME features
  include feature j (LIME explains one instance at a time; the count is its global view);
* a depth-4 decision tree: weighted impurity decrease, sum over splits on j of
  ``n_node / n * (impurity - weighted child impurity)``;
* a lasso (l1) logistic regression on standardised features: ``|beta_j|``.

All three are reported as shares summing to 100, so that they can be drawn side by side; the
signed coefficients of the logistic model are kept in ``signed``.
"""

from __future__ import annotations

import time

import numpy as np

from .._tensorflow import keras_module
from .._version import __version__
from ..errors import InputDataError, require
from ..results import Explanation


def _frame(X):
    import pandas as pd

    if isinstance(X, pd.DataFrame):
        return X
    X = np.asarray(X)
    if X.ndim != 2:
        raise InputDataError(f"expected a 2-D table (rows x features); got shape {X.shape}.")
    return pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])])


def _shares(values) -> np.ndarray:
    values = np.abs(np.asarray(values, dtype=float))
    total = values.sum()
    return 100.0 * values / total if total > 0 else values


def _explanation(values, features, method, formula, parameters, signed=None, **meta) -> Explanation:
    return Explanation(
        _shares(values),
        ("feature",),
        {"feature": tuple(features)},
        {
            "method": method,
            "formula": formula,
            "parameters": parameters,
            "version": __version__,
            "normalised": "shares summing to 100",
            **meta,
        },
        signed=signed,
    )


def tree_importance(X, y, max_depth: int = 4, seed: int = 0, X_test=None, y_test=None) -> Explanation:
    """Impurity-decrease importance of a decision tree of depth ``max_depth`` (Gini)."""
    from sklearn.tree import DecisionTreeClassifier

    X = _frame(X)
    started = time.perf_counter()
    tree = DecisionTreeClassifier(max_depth=max_depth, random_state=seed).fit(X.to_numpy(), np.asarray(y))
    seconds = time.perf_counter() - started
    extra = {} if X_test is None else {"test_error": float(1 - tree.score(_frame(X_test).to_numpy(), y_test))}
    return _explanation(
        tree.feature_importances_,
        X.columns,
        "decision tree impurity importance",
        "sum over splits on j of n_node/n * (impurity - weighted child impurity)",
        {"max_depth": max_depth, "criterion": "gini", "seed": seed},
        n_samples=len(X),
        seconds=seconds,
        train_error=float(1 - tree.score(X.to_numpy(), y)),
        **extra,
    )


def logistic_importance(X, y, C: float = 0.01, X_test=None, y_test=None) -> Explanation:
    """``|beta_j|`` of an l1-penalised logistic regression on standardised features (liblinear);
    a smaller ``C`` is a stronger penalty and sets more coefficients to exactly 0."""
    from sklearn.linear_model import LogisticRegression

    X = _frame(X)
    values = X.to_numpy(dtype=float)
    mean, scale = values.mean(axis=0), values.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    started = time.perf_counter()
    model = LogisticRegression(l1_ratio=1.0, solver="liblinear", C=C).fit((values - mean) / scale, np.asarray(y))
    seconds = time.perf_counter() - started
    extra = {}
    if X_test is not None:
        test = (_frame(X_test).to_numpy(dtype=float) - mean) / scale
        extra["test_error"] = float(1 - model.score(test, y_test))
    return _explanation(
        model.coef_[0],
        X.columns,
        "lasso logistic coefficient magnitude",
        "|beta_j| of logit P(y=1) = beta_0 + sum_j beta_j z_j, z standardised",
        {"C": C, "penalty": "l1", "solver": "liblinear"},
        signed=model.coef_[0].copy(),
        n_samples=len(X),
        seconds=seconds,
        train_error=float(1 - model.score((values - mean) / scale, y)),
        **extra,
    )


def surrogate_importances(X, y) -> dict:
    """The paper's section-4 comparisons on the same rows: a depth-4 decision tree and a
    lasso-logistic model fitted to ``y`` (true outcomes, or a model's predicted class);
    ``{method: Explanation}``, empty when ``y`` has a single class (nothing to fit)."""
    y = np.asarray(y)
    if len(np.unique(y)) < 2:
        return {}
    return {"decision tree": tree_importance(X, y), "lasso logistic": logistic_importance(X, y)}


def keras_probabilities(model):
    """A ``predict_proba``-style function for a Keras classifier with one array input: one
    forward pass per call, no ``Model.predict`` overhead (LIME calls it once per instance)."""
    keras = keras_module()

    def predict(rows):
        return keras.ops.convert_to_numpy(model(np.asarray(rows, dtype="float32"), training=False)).astype(float)

    return predict


def lime_counts(
    predict_proba,
    X_train,
    X_explain,
    num_features: int = 5,
    label: int = 1,
    num_samples: int = 5000,
    seed: int = 0,
    progress: bool = True,
) -> Explanation:
    """How often each feature is among the ``num_features`` LIME features of an instance,
    counted over the rows of ``X_explain`` (needs the optional package ``lime``).

    ``values`` are shares of all selections (sum 100); ``meta["counts"]`` holds the raw counts,
    ``meta["seconds"]`` the time taken and ``meta["seconds_per_instance"]`` the time per row.
    """
    require("lime", "comparisons", "LIME counts")
    from lime.lime_tabular import LimeTabularExplainer
    from tqdm.auto import tqdm

    X_train, X_explain = _frame(X_train), _frame(X_explain)
    features = list(X_train.columns)
    explainer = LimeTabularExplainer(
        X_train.to_numpy(dtype=float),
        feature_names=features,
        mode="classification",
        discretize_continuous=True,
        random_state=seed,
    )
    counts = np.zeros(len(features))
    started = time.perf_counter()
    for row in tqdm(X_explain.to_numpy(dtype=float), desc="LIME", unit="instance", disable=not progress):
        explained = explainer.explain_instance(
            row, predict_proba, labels=(label,), num_features=num_features, num_samples=num_samples
        )
        for index, _ in explained.as_map()[label]:
            counts[index] += 1
    seconds = time.perf_counter() - started
    return _explanation(
        counts,
        features,
        "LIME selection counts",
        "count over instances of [feature j among the instance's top LIME features]",
        {"num_features": num_features, "num_samples": num_samples, "label": label, "seed": seed},
        counts=counts.astype(int).tolist(),
        n_samples=len(X_explain),
        seconds=seconds,
        seconds_per_instance=seconds / max(len(X_explain), 1),
    )
