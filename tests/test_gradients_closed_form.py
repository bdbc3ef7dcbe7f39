"""The gradient primitive against derivatives known in closed form."""

import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
from conftest import dense_model

from nbexplain import Sensitivity
from nbexplain.engine import compute_gradients
from nbexplain.model import OutputSelection


def normalised(v):
    return 100 * v / v.sum()


def test_linear_model_gradient_is_the_weights(rng):
    w = rng.normal(size=(6, 1))
    X = rng.normal(size=(500, 6)).astype("float32")
    sens = Sensitivity(dense_model(w, bias=[0.7])).explain(X)
    np.testing.assert_allclose(sens.gradients[next(iter(sens.gradients))], np.tile(w.T, (500, 1)), rtol=1e-6)
    np.testing.assert_allclose(sens.global_importance().values, normalised(np.abs(w[:, 0])), rtol=1e-5)
    local = sens.local_importance(3)
    np.testing.assert_allclose(local.values, normalised(w[:, 0] ** 2), rtol=1e-5)
    np.testing.assert_allclose(local.signed, w[:, 0], rtol=1e-6)
    np.testing.assert_allclose(local.data, X[3], rtol=1e-6)
    assert local.values.sum() == pytest.approx(100)


class Quadratic(keras.Model):
    """Subclassed model f(x) = x'Ax + b'x (no declared inputs)."""

    def __init__(self, A, b):
        super().__init__()
        self.A = keras.ops.convert_to_tensor(A.astype("float32"))
        self.b = keras.ops.convert_to_tensor(b.astype("float32"))

    def call(self, x):
        return keras.ops.sum(keras.ops.matmul(x, self.A) * x, axis=1) + keras.ops.matmul(x, self.b)


def test_quadratic_subclassed_model(rng):
    A, b = rng.normal(size=(4, 4)), rng.normal(size=4)
    X = rng.normal(size=(300, 4))
    sens = Sensitivity(Quadratic(A, b)).explain(X)
    expected = X @ (A + A.T) + b
    np.testing.assert_allclose(sens.gradients["input"], expected, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(
        sens.global_importance().values, normalised(np.sqrt((expected**2).mean(axis=0))), rtol=1e-4
    )
    np.testing.assert_allclose(
        sens.local_importance([5, 9]).values,
        100 * expected[[5, 9]] ** 2 / (expected[[5, 9]] ** 2).sum(axis=1, keepdims=True),
        rtol=1e-3,
    )


def tanh_softmax_network(rng, p=5, hidden=7, classes=3):
    W1, b1 = rng.normal(size=(p, hidden)), rng.normal(size=hidden)
    W2, b2 = rng.normal(size=(hidden, classes)), rng.normal(size=classes)
    model = keras.Sequential(
        [
            keras.Input((p,)),
            keras.layers.Dense(hidden, activation="tanh"),
            keras.layers.Dense(classes, activation="softmax"),
        ]
    )
    model.layers[0].set_weights([W1.astype("float32"), b1.astype("float32")])
    model.layers[1].set_weights([W2.astype("float32"), b2.astype("float32")])
    return model, (W1, b1, W2, b2)


def numpy_backprop(X, params, target, logit=False):
    """Hand-written forward and backward pass of Dense(tanh) -> Dense(softmax)."""
    W1, b1, W2, b2 = params
    a = np.tanh(X @ W1 + b1)
    z = a @ W2 + b2
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    if logit:
        dz = np.zeros_like(z)
        dz[:, target] = 1.0
    else:
        dz = p[:, [target]] * ((np.arange(z.shape[1]) == target) - p)  # d p_c / d z_k
    return (((dz @ W2.T) * (1 - a**2)) @ W1.T), (z if logit else p)[:, target]


@pytest.mark.parametrize("logit", [False, True])
def test_two_layer_tanh_network_matches_numpy_backprop(rng, logit):
    model, params = tanh_softmax_network(rng)
    X = rng.normal(size=(257, 5))
    sens = Sensitivity(model, target=2, logit=logit, batch_size=50).explain(X)
    grad, out = numpy_backprop(X, params, 2, logit)
    np.testing.assert_allclose(sens.gradients[next(iter(sens.gradients))], grad, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(sens.score, out, rtol=1e-4, atol=1e-6)
    assert ("logit" if logit else "probability") in sens.meta["explained"]


def test_class_label_selects_the_unit(rng):
    model, params = tanh_softmax_network(rng)
    X = rng.normal(size=(40, 5))
    sens = Sensitivity(model, target="default", labels=["paid", "late", "default"]).explain(X)
    np.testing.assert_allclose(
        sens.gradients[next(iter(sens.gradients))], numpy_backprop(X, params, 2)[0], rtol=1e-4, atol=1e-6
    )
    assert "class 'default'" in sens.meta["explained"]


def test_named_inputs_of_a_functional_model(rng):
    a, b = keras.Input((3,), name="income"), keras.Input((2,), name="history")
    out = keras.layers.Dense(1)(keras.layers.Concatenate()([a, b]))
    model = keras.Model({"income": a, "history": b}, out)
    w = rng.normal(size=(5, 1)).astype("float32")
    model.layers[-1].set_weights([w, np.zeros(1, "float32")])
    data = {
        "income": pd.DataFrame(rng.normal(size=(20, 3)), columns=["salary", "bonus", "rent"]),
        "history": pd.DataFrame(rng.normal(size=(20, 2)), columns=["late", "paid"]),
    }
    sens = Sensitivity(model).explain(data)
    assert sens.feature_names == ("salary", "bonus", "rent", "late", "paid")
    np.testing.assert_allclose(sens.gradients["income"][0], w[:3, 0], rtol=1e-6)
    np.testing.assert_allclose(sens.gradients["history"][0], w[3:, 0], rtol=1e-6)
    np.testing.assert_allclose(sens.global_importance().values, normalised(np.abs(w[:, 0])), rtol=1e-5)


def test_list_inputs_and_tf_tensors(rng):
    a, b = keras.Input((2,)), keras.Input((2,))
    model = keras.Model([a, b], keras.layers.Dense(1)(keras.layers.Multiply()([a, b])))
    model.layers[-1].set_weights([np.ones((2, 1), "float32"), np.zeros(1, "float32")])
    xa, xb = rng.normal(size=(10, 2)).astype("float32"), rng.normal(size=(10, 2)).astype("float32")
    sens = Sensitivity(model).explain([tf.constant(xa), tf.constant(xb)])
    names = [spec.name for spec in sens.layout]
    np.testing.assert_allclose(sens.gradients[names[0]], xb, rtol=1e-6)  # d(a*b)/da = b
    np.testing.assert_allclose(sens.gradients[names[1]], xa, rtol=1e-6)


def test_dataframe_names_and_index_are_kept(rng):
    X = pd.DataFrame(rng.normal(size=(8, 3)), columns=["LIMIT_BAL", "AGE", "PAY_0"], index=list("abcdefgh"))
    sens = Sensitivity(dense_model(np.ones((3, 1)))).explain(X)
    assert sens.feature_names == ("LIMIT_BAL", "AGE", "PAY_0")
    local = sens.local_importance([1, 2])
    assert local.labels("sample") == ("b", "c")
    assert sens.local_importance(0).sel(feature="AGE").values == pytest.approx(100 / 3)


def test_traced_once_and_reused_across_calls_and_chunk_sizes(rng):
    model = dense_model(rng.normal(size=(4, 1)))
    selection = OutputSelection()
    first = compute_gradients(model, rng.normal(size=(103, 4)), selection, batch_size=10)
    second = compute_gradients(model, rng.normal(size=(7, 4)), selection)
    third = Sensitivity(model, batch_size=3).explain(rng.normal(size=(11, 4)))
    assert first.function is second.function
    assert first.function.trace_count == 1
    assert third.n_samples == 11 and first.function.trace_count == 1


def test_chunking_does_not_change_results(rng):
    model, _ = tanh_softmax_network(rng)
    X = rng.normal(size=(101, 5))
    whole = Sensitivity(model, target=0).explain(X)
    chunked = Sensitivity(model, target=0, batch_size=7).explain(X)
    np.testing.assert_allclose(
        whole.gradients[next(iter(whole.gradients))],
        chunked.gradients[next(iter(chunked.gradients))],
        rtol=1e-5,
        atol=1e-7,
    )


def test_multi_output_model_needs_an_output_and_lists_them(rng):
    from nbexplain import OutputSelectionError

    x = keras.Input((3,))
    risk_head, amount_head = keras.layers.Dense(1, activation="sigmoid"), keras.layers.Dense(1)
    model = keras.Model(x, {"risk": risk_head(x), "amount": amount_head(x)})
    X = rng.normal(size=(5, 3))
    with pytest.raises(OutputSelectionError, match=r"2 outputs \['risk', 'amount'\].*output=NAME"):
        Sensitivity(model).explain(X)
    amount = Sensitivity(model, output="amount").explain(X)
    np.testing.assert_allclose(
        amount.gradients[next(iter(amount.gradients))], np.tile(amount_head.get_weights()[0][:, 0], (5, 1)), rtol=1e-6
    )
    with pytest.raises(Exception, match="Unknown model output 'amont'.*Did you mean 'amount'"):
        Sensitivity(model, output="amont").explain(X)


def test_several_units_need_a_target(rng):
    from nbexplain import OutputSelectionError

    model, _ = tanh_softmax_network(rng)
    with pytest.raises(OutputSelectionError, match=r"3 units.*target=.*\[0, 1, 2\]"):
        Sensitivity(model).explain(rng.normal(size=(4, 5)))
    with pytest.raises(Exception, match="Unknown class label 'defualt'"):
        Sensitivity(model, target="defualt", labels=["paid", "late", "default"]).explain(rng.normal(size=(4, 5)))
    with pytest.raises(OutputSelectionError, match="out of range"):
        Sensitivity(model, target=5).explain(rng.normal(size=(4, 5)))
    for labels, target in ((["paid", "late"], 1), (["only"], 1), (["a", "b", "c", "d"], "d")):
        with pytest.raises(OutputSelectionError, match=f"names {len(labels)} classes but .* has 3 units"):
            Sensitivity(model, target=target, labels=labels).explain(rng.normal(size=(4, 5)))


def test_logit_of_a_linear_output_is_refused(rng):
    from nbexplain import OutputSelectionError

    with pytest.raises(OutputSelectionError, match="already is the score"):
        Sensitivity(dense_model(np.ones((2, 1))), logit=True).explain(rng.normal(size=(3, 2)))


def test_sigmoid_logit_is_the_linear_score(rng):
    w = rng.normal(size=(3, 1))
    X = rng.normal(size=(30, 3))
    sens = Sensitivity(dense_model(w, activation="sigmoid"), logit=True).explain(X)
    np.testing.assert_allclose(sens.score, X @ w[:, 0], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(sens.gradients[next(iter(sens.gradients))][0], w[:, 0], rtol=1e-5)
    probability = Sensitivity(dense_model(w, activation="sigmoid")).explain(X)
    s = 1 / (1 + np.exp(-(X @ w[:, 0])))
    np.testing.assert_allclose(
        probability.gradients[next(iter(probability.gradients))], (s * (1 - s))[:, None] * w[:, 0], rtol=1e-4, atol=1e-6
    )
