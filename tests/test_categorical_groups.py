"""Categorical features (paper 2.6): a one-hot group is ONE feature; its sensitivity ignores the
constant shift that cannot change any prediction between valid one-hot inputs."""

import numpy as np
import pandas as pd
import pytest
from conftest import dense_model

from nbexplain import InputDataError, Sensitivity, UnknownNameError

COLUMNS = ["income", "edu_school", "edu_uni", "edu_grad"]
GROUPS = {"EDUCATION": ["edu_school", "edu_uni", "edu_grad"]}


def one_hot_data(rng, n=200):
    category = rng.integers(0, 3, n)
    X = np.column_stack([rng.normal(size=n), np.eye(3)[category]])
    return pd.DataFrame(X, columns=COLUMNS)


def test_one_hot_group_is_one_feature_with_the_projected_norm(rng):
    X = one_hot_data(rng)
    w = np.array([1.5, 0.5, -0.5, 2.0])
    sens = Sensitivity(dense_model(w[:, None]), groups=GROUPS).explain(X)
    assert sens.feature_names == ("income", "EDUCATION")
    dummies = w[1:] - w[1:].mean()  # gradient projected on sum-zero directions
    expected = np.array([abs(w[0]), np.linalg.norm(dummies)])
    np.testing.assert_allclose(sens.global_importance().values, 100 * expected / expected.sum(), rtol=1e-5)
    local = sens.local_importance(0)
    np.testing.assert_allclose(local.values, 100 * expected**2 / (expected**2).sum(), rtol=1e-5)
    assert np.isnan(local.signed[1]) and local.signed[0] == pytest.approx(1.5)
    assert local.data[0] == pytest.approx(X.iloc[0, 0]) and np.isnan(local.data[1])


def test_a_shift_common_to_all_dummies_does_not_count(rng):
    X = one_hot_data(rng)
    w = np.array([1.5, 0.5, -0.5, 2.0])
    shifted = w + np.array([0, 10, 10, 10])  # same predictions on every valid input, up to a constant
    a = Sensitivity(dense_model(w[:, None]), groups=GROUPS).explain(X).global_importance()
    b = Sensitivity(dense_model(shifted[:, None]), groups=GROUPS).explain(X).global_importance()
    np.testing.assert_allclose(a.values, b.values, rtol=1e-5)


def test_a_group_that_is_not_complete_one_hot_uses_the_plain_norm(rng):
    X = one_hot_data(rng).drop(columns=["edu_school"])  # drop-first dummies: the all-zero row is valid
    w = np.array([1.0, 3.0, 4.0])
    sens = Sensitivity(dense_model(w[:, None]), groups={"EDUCATION": ["edu_uni", "edu_grad"]}).explain(X)
    np.testing.assert_allclose(sens.global_importance().values, [100 / 6, 500 / 6], rtol=1e-5)
    assert sens.local_importance(0).signed[1] == pytest.approx(7.0)  # raising both dummies by one


def test_group_errors(rng):
    X = one_hot_data(rng)
    model = dense_model(np.ones((4, 1)))
    with pytest.raises(UnknownNameError, match=r"Unknown column \(in group 'EDUCATION'\) 'edu_phd'"):
        Sensitivity(model, groups={"EDUCATION": ["edu_uni", "edu_phd"]}).explain(X)
    with pytest.raises(InputDataError, match="'edu_uni' is in two groups"):
        Sensitivity(model, groups={"A": ["edu_uni"], "B": ["edu_uni", "edu_grad"]}).explain(X)
    with pytest.raises(InputDataError, match="already a column name"):
        Sensitivity(model, groups={"income": ["edu_uni", "edu_grad"]}).explain(X)


def embedding_model(rng, categories=4, dim=3):
    import keras

    ids = keras.Input((1,), dtype="int32", name="EDUCATION")
    income = keras.Input((1,), name="income")
    vectors = keras.layers.Flatten()(keras.layers.Embedding(categories, dim, name="edu_embedding")(ids))
    out = keras.layers.Dense(1, name="head")(keras.layers.Concatenate()([vectors, income]))
    model = keras.Model({"EDUCATION": ids, "income": income}, out)
    E, w = rng.normal(size=(categories, dim)), rng.normal(size=(dim + 1, 1))
    model.get_layer("edu_embedding").set_weights([E.astype("float32")])
    model.get_layer("head").set_weights([w.astype("float32"), np.zeros(1, "float32")])
    return model, w[:, 0]


def test_embedding_is_one_feature_explained_through_its_vector(rng):
    model, w = embedding_model(rng)
    data = {"EDUCATION": rng.integers(0, 4, (50, 1)), "income": rng.normal(size=(50, 1))}
    sens = Sensitivity(model, embeddings={"EDUCATION": "edu_embedding"}).explain(data)
    names = {spec.name: spec.kind for spec in sens.layout}
    assert names["EDUCATION"] == "embedding"
    assert sens.feature_names == ("EDUCATION", "income[0]")
    # f = e . w[:3] + income * w[3]: df/de = w[:3] for every sample, whatever its id
    np.testing.assert_allclose(sens.gradients["EDUCATION"][:, :, 0], np.tile(w[:3], (50, 1)), rtol=1e-5)
    importance = sens.global_importance()
    expected = np.array([np.linalg.norm(w[:3]), abs(w[3])])
    np.testing.assert_allclose(importance.values, 100 * expected / expected.sum(), rtol=1e-5)
    assert np.isnan(sens.local_importance(0).sel(feature="EDUCATION").signed)


def test_embedding_errors(rng):
    from nbexplain import NotDifferentiableError

    model, _ = embedding_model(rng)
    data = {"EDUCATION": rng.integers(0, 4, (5, 1)), "income": rng.normal(size=(5, 1))}
    with pytest.raises(NotDifferentiableError, match="ids have no derivative.*embeddings="):
        Sensitivity(model).explain(data)
    with pytest.raises(UnknownNameError, match="Unknown Embedding layer 'edu_emb'.*'edu_embedding'"):
        Sensitivity(model, embeddings={"EDUCATION": "edu_emb"}).explain(data)
