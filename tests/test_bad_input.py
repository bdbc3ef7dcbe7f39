"""Bad input gets a clear error that says what was wrong and what to do."""

import keras
import numpy as np
import pandas as pd
import pytest
from conftest import dense_model

from nbexplain import InputDataError, NBExplainError, NotDifferentiableError, Sensitivity, UnknownNameError


@pytest.fixture
def model():
    return dense_model(np.ones((4, 1)))


def test_wrong_number_of_features(model, rng):
    with pytest.raises(InputDataError, match=r"takes 4 features per sample \(shape \(n, 4\)\) but the data has 3"):
        Sensitivity(model).explain(rng.normal(size=(10, 3)))


def test_wrong_rank(model, rng):
    with pytest.raises(InputDataError, match=r"rank 2.*rank 3"):
        Sensitivity(model).explain(rng.normal(size=(10, 2, 4)))


def test_nan_and_inf_name_the_rows_and_columns(model, rng):
    X = pd.DataFrame(rng.normal(size=(10, 4)), columns=["LIMIT_BAL", "AGE", "PAY_0", "BILL_AMT1"])
    X.iloc[3, 1] = np.nan
    X.iloc[7, 3] = np.inf
    with pytest.raises(InputDataError, match=r"NaN or inf in 2 row\(s\) \(positions 3, 7\).*\['AGE', 'BILL_AMT1'\]"):
        Sensitivity(model).explain(X)


def test_empty_data(model):
    with pytest.raises(InputDataError, match="empty"):
        Sensitivity(model).explain(np.zeros((0, 4)))


def test_unknown_feature_name_suggests_the_close_one(model, rng):
    X = pd.DataFrame(rng.normal(size=(5, 4)), columns=["LIMIT_BAL", "AGE", "PAY_0", "BILL_AMT1"])
    importance = Sensitivity(model).explain(X).global_importance()
    with pytest.raises(UnknownNameError, match=r"Unknown feature 'PAY0'.*Did you mean 'PAY_0'"):
        importance["PAY0"]


def test_non_numeric_column(model, rng):
    X = pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"], "c": [1.0, 1.0], "d": [0.0, 1.0]})
    with pytest.raises(InputDataError, match=r"column\(s\) \['b'\] are not numeric"):
        Sensitivity(model).explain(X)


def test_integer_data_is_cast_and_recorded(model):
    sens = Sensitivity(model).explain(np.arange(8).reshape(2, 4))
    assert any("cast to float32" in note for note in sens.meta["notes"])
    np.testing.assert_allclose(sens.gradients[next(iter(sens.gradients))], 1.0)


def test_integer_model_input_is_refused_with_a_reason(rng):
    ids = keras.Input((1,), dtype="int32")
    model = keras.Model(ids, keras.layers.Dense(1)(keras.layers.Flatten()(keras.layers.Embedding(5, 2)(ids))))
    with pytest.raises(NotDifferentiableError, match="ids have no derivative"):
        Sensitivity(model).explain(np.array([[1], [2]]))


def test_output_that_is_not_differentiable(rng):
    x = keras.Input((3,))
    rounded = keras.layers.Lambda(lambda t: keras.ops.cast(keras.ops.cast(t, "int32"), "float32"))(x)
    model = keras.Model(x, keras.layers.Dense(1)(rounded))
    with pytest.raises(NotDifferentiableError, match="does not depend differentiably on input"):
        Sensitivity(model).explain(rng.normal(size=(4, 3)))


def test_not_a_keras_model():
    class Forest:
        def predict(self, X):
            return X

    explainer = Sensitivity(Forest())  # constructors only store parameters
    with pytest.raises(NBExplainError, match="Expected a Keras 3 model"):
        explainer.explain(np.zeros((2, 2)))


def test_several_inputs_need_a_dict_or_list(rng):
    a, b = keras.Input((2,), name="a"), keras.Input((2,), name="b")
    model = keras.Model([a, b], keras.layers.Dense(1)(keras.layers.Concatenate()([a, b])))
    with pytest.raises(InputDataError, match=r"2 inputs \['a', 'b'\]: pass a dict"):
        Sensitivity(model).explain(rng.normal(size=(3, 4)))
    with pytest.raises(UnknownNameError, match="Unknown model input 'c'"):
        Sensitivity(model).explain({"a": rng.normal(size=(3, 2)), "c": rng.normal(size=(3, 2))})
    with pytest.raises(InputDataError, match="different numbers of samples"):
        Sensitivity(model).explain({"a": rng.normal(size=(3, 2)), "b": rng.normal(size=(4, 2))})


def test_sample_out_of_range(model, rng):
    sens = Sensitivity(model).explain(rng.normal(size=(5, 4)))
    with pytest.raises(NBExplainError, match=r"out of range.*5 samples"):
        sens.local_importance(9)


def test_lag_views_need_a_sequence_input(model, rng):
    sens = Sensitivity(model).explain(rng.normal(size=(5, 4)))
    with pytest.raises(NBExplainError, match="no sequence inputs"):
        sens.lag_importance()


def test_wrong_feature_name_count(model, rng):
    with pytest.raises(InputDataError, match="3 feature names for 4 features"):
        Sensitivity(model, feature_names=["a", "b", "c"]).explain(rng.normal(size=(5, 4)))


def test_single_sample_without_batch_axis_is_accepted(model, rng):
    sens = Sensitivity(model).explain(rng.normal(size=4))
    assert sens.n_samples == 1
