"""Recurrent formulas (paper 2.3 second and third formulas, 2.5) on a linear RNN, where
dy_s / dx_{s-k} = W U^k V is known in closed form."""

import keras
import numpy as np
import pytest

from nbexplain import Sensitivity


def linear_rnn(rng, p=3, units=2, tau=5, sequences=False):
    W, U, V = rng.normal(size=(p, units)), 0.6 * rng.normal(size=(units, units)), rng.normal(size=(units, 1))
    model = keras.Sequential(
        [
            keras.Input((tau, p)),
            keras.layers.SimpleRNN(units, activation="linear", use_bias=False, return_sequences=sequences),
            keras.layers.Dense(1, use_bias=False),
        ]
    )
    model.layers[0].set_weights([W.astype("float32"), U.astype("float32")])
    model.layers[1].set_weights([V.astype("float32")])
    lag_derivative = np.stack([W @ np.linalg.matrix_power(U, k) @ V[:, 0] for k in range(tau)])  # (lags, p)
    return model, lag_derivative


def test_many_to_one_lags_and_importance(rng):
    model, D = linear_rnn(rng)
    X = rng.normal(size=(64, 5, 3))
    sens = Sensitivity(model, feature_names=["pay", "bill", "limit"]).explain(X)
    assert sens.meta["architecture"] == "many-to-one"
    matrix = sens.lag_matrix()
    assert matrix.dims == ("feature", "lag") and matrix.labels("lag") == ("t", "t-1", "t-2", "t-3", "t-4")
    np.testing.assert_allclose(matrix.values, np.abs(D.T), rtol=1e-4, atol=1e-6)
    gamma = np.abs(D).mean(axis=1)
    np.testing.assert_allclose(sens.lag_importance().values, 100 * gamma / gamma.sum(), rtol=1e-4)
    norm = np.sqrt((D**2).sum(axis=0))  # the whole sequence j as one vector input
    np.testing.assert_allclose(sens.global_importance().values, 100 * norm / norm.sum(), rtol=1e-4)
    np.testing.assert_allclose(sens.local_importance(7).values, 100 * norm**2 / (norm**2).sum(), rtol=1e-4)
    np.testing.assert_allclose(sens.local_importance(7).signed, D.sum(axis=0), rtol=1e-4, atol=1e-6)
    local = sens.lag_matrix(rows=[7])
    np.testing.assert_allclose(local.values, np.abs(D.T), rtol=1e-4, atol=1e-6)
    assert local.meta["n_samples"] == 1


def test_many_to_many_uses_the_contemporaneous_derivative(rng):
    model, D = linear_rnn(rng, sequences=True)
    X = rng.normal(size=(40, 5, 3))
    sens = Sensitivity(model).explain(X)
    assert sens.many_to_many and sens.meta["architecture"] == "many-to-many"
    jacobian = sens.gradients[next(iter(sens.gradients))]  # (n, tau_out, tau_in, p)
    assert jacobian.shape == (40, 5, 5, 3)
    for s in range(5):
        for k in range(s + 1):
            np.testing.assert_allclose(jacobian[:, s, s - k], np.tile(D[k], (40, 1)), rtol=1e-4, atol=1e-6)
    # third formula: 1/tau sum_l sqrt(mean_t (dy^{t-l}/dx_j^{t-l})^2) = |D_0| for every step
    np.testing.assert_allclose(sens.global_importance().values, 100 * np.abs(D[0]) / np.abs(D[0]).sum(), rtol=1e-4)
    np.testing.assert_allclose(sens.lag_matrix().values, np.abs(D.T), rtol=1e-4, atol=1e-6)


def test_future_steps_have_no_effect_in_a_causal_rnn(rng):
    model, _ = linear_rnn(rng, sequences=True)
    J = Sensitivity(model).explain(rng.normal(size=(6, 5, 3))).gradients
    J = next(iter(J.values()))
    for s in range(5):
        np.testing.assert_allclose(J[:, s, s + 1 :], 0.0, atol=1e-7)


def test_time_step_explains_one_output_step(rng):
    model, D = linear_rnn(rng, sequences=True)
    X = rng.normal(size=(20, 5, 3))
    sens = Sensitivity(model, time_step=2).explain(X)
    assert not sens.many_to_many and sens.meta["time_step"] == 2
    matrix = sens.lag_matrix()
    assert matrix.labels("lag") == ("t", "t-1", "t-2")  # lags reach back from step 2 only
    np.testing.assert_allclose(matrix.values, np.abs(D[:3].T), rtol=1e-4, atol=1e-6)


def test_two_dimensional_data_for_a_recurrent_model_is_refused(rng):
    from nbexplain import InputDataError

    model, _ = linear_rnn(rng)
    with pytest.raises(InputDataError, match=r"rank 3.*rank 2.*\(samples, time steps, features\)"):
        Sensitivity(model).explain(rng.normal(size=(10, 15)))
