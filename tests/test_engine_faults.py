"""Faults a user hits in the explainers and the widgets: each is an NBExplainError or a recorded
warning that names what was wrong, never a silent wrong answer or a changed model."""

import threading

import keras
import numpy as np
import pandas as pd
import pytest

from nbexplain import (
    Attributions,
    Explanation,
    InputDataError,
    IntegratedGradients,
    NBExplainError,
    NonFiniteScoreError,
    Sensitivities,
    Sensitivity,
    UserPoint,
)
from nbexplain.engine._plan import _CACHE
from nbexplain.errors import ResultWarning
from nbexplain.widgets import Dashboard, ExplorerData

NAMES = ["income", "debt", "age"]


def softmax_network(seed=0):
    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [keras.Input((3,)), keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(2, activation="softmax")]
    )


def test_logit_explanations_never_change_the_model_even_from_concurrent_threads():
    model = softmax_network()
    X = np.random.default_rng(0).normal(size=(64, 3)).astype("float32")
    expected_probability = Sensitivity(model, target=1).explain(X).gradients
    expected_logit = Sensitivity(model, target=1, logit=True).explain(X).gradients
    expected_call = np.asarray(model(X))
    failures = []

    def work(kind):
        for _ in range(15):
            if kind == "probability":
                got = Sensitivity(model, target=1).explain(X).gradients
                ok = np.allclose(next(iter(got.values())), next(iter(expected_probability.values())), atol=1e-6)
            elif kind == "logit":
                _CACHE.pop(model, None)  # trace again, while the other threads call the model
                got = Sensitivity(model, target=1, logit=True).explain(X).gradients
                ok = np.allclose(next(iter(got.values())), next(iter(expected_logit.values())), atol=1e-6)
            else:
                ok = np.allclose(np.asarray(model(X)), expected_call, atol=1e-6)
            if not ok:
                failures.append(kind)

    threads = [threading.Thread(target=work, args=(kind,)) for kind in ("probability", "logit", "call") * 2]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, f"{len(failures)} rounds saw a changed model: {sorted(set(failures))}"
    assert model.layers[-1].activation is keras.activations.softmax
    probabilities = np.asarray(model(X))
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-6), "the model still returns probabilities"


def test_a_dataframe_is_read_by_column_name_not_position():
    model = softmax_network(1)
    X = pd.DataFrame(np.random.default_rng(1).normal(size=(20, 3)), columns=NAMES)
    ordered = Sensitivity(model, target=1, feature_names=NAMES).explain(X)
    shuffled = Sensitivity(model, target=1, feature_names=NAMES).explain(X[["age", "income", "debt"]])
    np.testing.assert_array_equal(ordered.global_importance().values, shuffled.global_importance().values)
    ig = IntegratedGradients(model, target=1, feature_names=NAMES, steps=16)
    baseline = UserPoint(X.mean().to_frame().T[["debt", "age", "income"]])
    np.testing.assert_allclose(
        ig.explain(X, baseline).feature_values(),
        ig.explain(X[["debt", "income", "age"]], baseline).feature_values(),
        atol=1e-12,
    )
    with pytest.raises(InputDataError, match=r"lacks column\(s\) \['age'\].*matched by name"):
        Sensitivity(model, target=1, feature_names=NAMES).explain(X[["income", "debt"]].assign(agee=1.0))


def test_nan_from_the_model_is_an_error_naming_the_rows():
    inputs = keras.Input((2,))
    model = keras.Model(inputs, keras.ops.sqrt(inputs[:, :1]))  # NaN for a negative first input
    X = np.array([[1.0, 0.0], [-1.0, 0.0], [4.0, 1.0], [-2.0, 5.0]])
    with pytest.raises(NonFiniteScoreError, match=r"2 of 4 of the explained rows \(rows 1, 3\)"):
        Sensitivity(model).explain(X)
    with pytest.raises(NonFiniteScoreError, match=r"rows 1, 3"):
        IntegratedGradients(model).explain(X, np.ones(2))


def test_saturated_units_are_said_not_silent():
    model = softmax_network(2)
    X = np.array([[1e30, -1e30, 1e30], [0.1, 0.2, -0.3]])
    with pytest.warns(ResultWarning, match=r"zero gradient at 1 of 2 rows \(rows 0\).*saturated"):
        sens = Sensitivity(model, target=1).explain(X)
    assert any("saturated" in w for w in sens.meta["warnings"])
    assert sens.local_importance(0).values.sum() == 0 and sens.local_importance(1).values.sum() == pytest.approx(100)
    with pytest.warns(ResultWarning, match="completeness error above .* at 4 gausslegendre steps"):
        att = IntegratedGradients(model, target=1, steps=4).explain(np.array([[30.0, -30.0, 30.0]]), np.zeros(3))
    assert att.meta["warnings"] and not att.meta["tolerance_met"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"steps": True}, "steps must be a positive whole number"),
        ({"steps": 2.5}, "steps must be a positive whole number"),
        ({"tolerance": "x"}, "tolerance must be a positive number"),
        ({"tolerance": float("nan")}, "tolerance must be a positive number"),
        ({"min_steps": 0}, "1 <= min_steps <= max_steps"),
        ({"rule": "simpson"}, "Unknown quadrature rule 'simpson'"),
        ({"batch_size": 0}, "batch_size must be a positive whole number"),
        ({"logit": "yes"}, "logit must be True or False"),
    ],
)
def test_parameters_are_checked_when_explaining_and_name_the_accepted_values(options, message):
    explainer = IntegratedGradients(softmax_network(), target=1, **options)
    with pytest.raises(NBExplainError, match=message):
        explainer.explain(np.zeros((2, 3)), np.ones(3))


def test_complex_and_text_input_are_refused():
    model = softmax_network()
    with pytest.raises(InputDataError, match="complex numbers"):
        Sensitivity(model, target=1).explain(np.ones((2, 3)) * (1 + 1j))
    with pytest.raises(InputDataError, match=r"column\(s\) \['debt'\] are not numeric"):
        Sensitivity(model, target=1).explain(pd.DataFrame({"income": [1.0], "debt": ["high"], "age": [3.0]}))


def test_embedding_ids_outside_the_vocabulary_are_refused():
    ids = keras.Input((2,), dtype="int32", name="ids")
    vectors = keras.layers.Embedding(5, 3, name="lookup")(ids)
    model = keras.Model(ids, keras.layers.Dense(1)(keras.layers.Flatten()(vectors)))
    explainer = Sensitivity(model, embeddings={"ids": "lookup"})
    assert explainer.explain(np.array([[0, 4], [2, 3]])).n_samples == 2
    with pytest.raises(
        InputDataError, match=r"ids run from 0 to 4; rows 1, 2 hold ids outside that range \(values \[-1, 5\]\)"
    ):
        explainer.explain(np.array([[0, 4], [-1, 3], [5, 0]]))


@pytest.mark.parametrize("kind", [Explanation, Sensitivities, Attributions])
def test_a_truncated_json_file_is_an_error_not_a_traceback(tmp_path, kind):
    model = softmax_network()
    X = np.random.default_rng(3).normal(size=(4, 3))
    result = {
        Explanation: lambda: Sensitivity(model, target=1).explain(X).global_importance(),
        Sensitivities: lambda: Sensitivity(model, target=1).explain(X),
        Attributions: lambda: IntegratedGradients(model, target=1, steps=32).explain(X, np.zeros(3)),
    }[kind]()
    path = tmp_path / "result.json"
    result.to_json(path)
    assert kind.from_json(path).to_json() == result.to_json()
    path.write_text(path.read_text()[:-40])
    with pytest.raises(NBExplainError, match="is not valid JSON .*truncated"):
        kind.from_json(path)
    with pytest.raises(NBExplainError, match=f"Not a serialised {kind.__name__}"):
        kind.from_json('{"type": "Something"}')


def test_the_dashboard_builds_on_awkward_models_and_data():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, activation="sigmoid")])
    model.layers[0].set_weights([np.full((3, 1), 0.1, "float32"), np.array([-6.0], "float32")])  # never positive
    X = pd.DataFrame(np.random.default_rng(4).normal(size=(40, 3)), columns=NAMES)
    board = Dashboard(ExplorerData.from_keras(model, X, np.zeros(40)))
    assert (board.controller.predicted == 0).all()
    assert "Cohort A is empty" in board.population.summary.value, "the panel says why it shows nothing"
    single = Dashboard(ExplorerData.from_keras(model, X.iloc[:1], np.zeros(1)))
    assert single.controller.n_rows == 1 and single.picker.index.max == 0
    with pytest.raises(InputDataError, match="threshold must be a finite number"):
        ExplorerData.from_keras(model, X, threshold=float("nan"))
    with pytest.raises(InputDataError, match=r"target holds outcomes that are not 0 or 1 at rows 0 \(e.g. 'nan'\)"):
        ExplorerData.from_keras(model, X, np.r_[np.nan, np.zeros(39)])
    with pytest.raises(InputDataError, match=r"target holds outcomes that are not 0 or 1.*'bad'"):
        ExplorerData.from_keras(model, X, np.array(["bad"] * 40))
    with pytest.raises(InputDataError, match="give X as a DataFrame .* got dict"):
        ExplorerData.from_keras(model, {"features": X})
