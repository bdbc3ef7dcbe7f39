"""Saved models as users have them: artifacts of every kind, library model files found by their
bytes, and the same reasons and dashboards for a tree model file as for a network."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

from nbexplain import NBExplainError
from nbexplain.credit.adverse import ReasonRecipe
from nbexplain.credit.recipes import documented_baselines
from nbexplain.datasets.credit import CREDIT_FEATURES, CREDIT_TARGET, credit_reason_catalogue, make_credit_default
from nbexplain.engine import GeneralizedIntegratedGradients
from nbexplain.model import Stack
from nbexplain.model.artifact import InputRecipe, ModelArtifact, load_model_file
from nbexplain.model.trees import read_trees

xgboost = pytest.importorskip("xgboost")
lightgbm = pytest.importorskip("lightgbm")


@pytest.fixture(scope="module")
def credit():
    frame = make_credit_default(2400, seed=3)
    return frame[list(CREDIT_FEATURES)], frame[CREDIT_TARGET].to_numpy()


@pytest.fixture(scope="module")
def boosted(credit):
    X, y = credit
    return xgboost.XGBClassifier(n_estimators=40, max_depth=4, random_state=0).fit(X, y)


@pytest.fixture(scope="module")
def light(credit):
    X, y = credit
    return lightgbm.LGBMClassifier(n_estimators=30, num_leaves=15, verbose=-1, random_state=0).fit(X, y)


BLOCK_TREE_LIBRARIES = """
import sys
for name in ("xgboost", "lightgbm", "sklearn"):
    sys.modules[name] = None  # importing any of them now fails
"""


def run_python(code: str, cwd) -> str:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=cwd, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_tree_artifacts_open_without_their_library_and_compute_the_same_function(tmp_path, credit, boosted, light):
    """Saved and opened in a process where XGBoost, LightGBM and scikit-learn cannot be imported,
    every artifact predicts what the library predicts and keeps its fingerprint."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    X, y = credit
    hist = HistGradientBoostingClassifier(max_iter=15, categorical_features=[1, 2], random_state=0).fit(X, y)
    models = {
        "xgboost": ModelArtifact(boosted, output="probability"),
        "lightgbm": ModelArtifact(light, output="probability"),
        "hist": ModelArtifact(hist, output="margin"),
        "stack": ModelArtifact(Stack([boosted, light], "sigmoid", weights=[0.5, 0.5])),
    }
    rows = X.iloc[:300]
    truth = {
        "xgboost": boosted.predict_proba(rows)[:, 1],
        "lightgbm": light.predict_proba(rows)[:, 1],
        "hist": hist.decision_function(rows),
        "stack": 1
        / (1 + np.exp(-0.5 * (boosted.predict(rows, output_margin=True) + light.predict(rows, raw_score=True)))),
    }
    rows.to_csv(tmp_path / "rows.csv", index=False)
    for name, artifact in models.items():
        artifact.save(tmp_path / f"{name}.nbx")
    out = run_python(
        BLOCK_TREE_LIBRARIES
        + f"""
import json, numpy as np, pandas as pd
from nbexplain.engine import GeneralizedIntegratedGradients
from nbexplain.model.artifact import ModelArtifact
rows = pd.read_csv("rows.csv")
found = {{}}
for name in {list(models)!r}:
    artifact = ModelArtifact.load(name + ".nbx")
    explainer = GeneralizedIntegratedGradients(artifact.model, **artifact.explainer_options())
    found[name] = [artifact.fingerprint(), explainer.score(artifact.to_inputs(rows)).tolist()]
print(json.dumps(found))
""",
        tmp_path,
    )
    found = json.loads(out)
    for name, artifact in models.items():
        fingerprint, scores = found[name]
        assert fingerprint == artifact.fingerprint(), name
        tolerance = 2e-6 if name in ("xgboost", "stack") else 1e-12  # XGBoost adds its leaves in float32
        np.testing.assert_allclose(scores, truth[name], atol=tolerance, rtol=0, err_msg=name)


def test_a_stack_with_a_network_head_round_trips(tmp_path, credit, boosted, light):
    from nbexplain._tensorflow import keras_module

    keras = keras_module()
    X, _ = credit
    margins = keras.Input((2,))
    features = keras.Input((len(CREDIT_FEATURES),))
    mixed = keras.layers.Concatenate()([margins, keras.layers.Dense(3, activation="tanh")(features)])
    head = keras.Model([margins, features], keras.layers.Dense(1, activation="sigmoid")(mixed))
    stack = Stack([boosted, light], head)
    ModelArtifact(stack).save(tmp_path / "stack.nbx")
    opened = ModelArtifact.load(tmp_path / "stack.nbx")
    assert opened.kind == "stack" and opened.fingerprint() == stack.fingerprint()
    np.testing.assert_array_equal(opened.model.predict(X.iloc[:100]), stack.predict(X.iloc[:100]))
    with pytest.raises(NBExplainError, match="Python function, which cannot be saved"):
        ModelArtifact(Stack([boosted], lambda z: z[:, 0])).save(tmp_path / "function.nbx")
    assert not (tmp_path / "function.nbx").exists()


def test_a_sequence_network_artifact_keeps_its_channel_names(tmp_path):
    from nbexplain._tensorflow import keras_module

    keras = keras_module()
    months, channels = ("m1", "m2", "m3"), ("status", "bill")
    grid = tuple(tuple(f"{channel}_{month}" for channel in channels) for month in months)
    inputs = keras.Input((3, 2), name="history")
    network = keras.Model(inputs, keras.layers.Dense(1)(keras.layers.LSTM(2)(inputs)))
    recipe = InputRecipe("history", grid, np.array([1.0, 100.0]), np.array([2.0, 50.0]), feature_names=channels)
    ModelArtifact(network, (recipe,)).save(tmp_path / "lstm.nbx")
    opened = ModelArtifact.load(tmp_path / "lstm.nbx")
    assert opened.inputs[0].feature_names == channels and opened.inputs[0].columns == grid
    rows = pd.DataFrame(np.arange(12.0).reshape(2, 6), columns=[c for month in grid for c in month])
    expected = (rows.to_numpy().reshape(2, 3, 2) - [1.0, 100.0]) / [2.0, 50.0]
    np.testing.assert_allclose(opened.to_inputs(rows)["history"], expected, rtol=1e-6)


def test_model_files_are_recognised_by_their_bytes_not_their_names(tmp_path, credit, boosted, light):
    X, _ = credit
    boosted.save_model(tmp_path / "xgb.json")
    (tmp_path / "model.bin").write_bytes((tmp_path / "xgb.json").read_bytes())
    boosted.save_model(tmp_path / "xgb.ubj")
    (tmp_path / "model.dat").write_bytes((tmp_path / "xgb.ubj").read_bytes())
    light.booster_.save_model(tmp_path / "model.json")  # LightGBM text under a JSON name
    rows = X.iloc[:50]
    for name, margin in (
        ("model.bin", boosted.predict(rows, output_margin=True)),
        ("model.dat", boosted.predict(rows, output_margin=True)),
        ("model.json", light.predict(rows, raw_score=True)),
    ):
        artifact = load_model_file(tmp_path / name)
        assert artifact.kind == "trees" and artifact.output == "probability"
        np.testing.assert_allclose(artifact.model.margin(rows)[:, 0], margin, atol=2e-6, rtol=0)

    with open(tmp_path / "model.pkl", "wb") as handle:
        pickle.dump(boosted, handle)
    with pytest.raises(NBExplainError, match="pickled Python object: opening it runs code from the file"):
        load_model_file(tmp_path / "model.pkl")
    assert (
        load_model_file(tmp_path / "model.pkl", unsafe=True).fingerprint()
        == load_model_file(tmp_path / "model.bin").fingerprint()
    )
    (tmp_path / "notes.txt").write_text("not a model")
    with pytest.raises(NBExplainError, match=r"not a model file nbexplain reads \(it starts with b'not a model'\)"):
        load_model_file(tmp_path / "notes.txt")
    (tmp_path / "broken.json").write_text('{"learner": ')
    with pytest.raises(NBExplainError, match="could not be read as a XGBoost model"):
        load_model_file(tmp_path / "broken.json")
    assert read_trees(boosted).fingerprint() == load_model_file(tmp_path / "model.bin").model.fingerprint()


def test_tree_models_read_columns_by_name_and_may_have_missing_values(credit, boosted):
    X, _ = credit
    artifact = ModelArtifact(boosted, output="probability")
    shuffled = X.iloc[:20, ::-1].astype(object)
    shuffled.iloc[3, 5] = np.nan
    inputs = artifact.to_inputs(shuffled)
    assert list(inputs.columns) == list(CREDIT_FEATURES) and np.isnan(inputs.to_numpy()).sum() == 1
    shuffled.iloc[4, 2] = "n/a"
    with pytest.raises(NBExplainError, match=rf"Rows {shuffled.index[4]} hold text or infinite values"):
        artifact.to_inputs(shuffled)


def test_the_reasons_command_explains_an_xgboost_file_as_the_python_api_does(tmp_path, credit, boosted):
    X, y = credit
    reference, applications = X.iloc[:1500].assign(**{CREDIT_TARGET: y[:1500]}), X.iloc[1500:1900]
    boosted.save_model(tmp_path / "model.json")
    reference.to_csv(tmp_path / "reference.csv", index=False)
    applications.iloc[:, ::-1].to_csv(tmp_path / "apps.csv", index_label="ID")  # columns in another order
    catalogue = credit_reason_catalogue()
    (tmp_path / "catalogue.json").write_text(json.dumps(catalogue.to_dict()))
    command = [sys.executable, "-m", "nbexplain", "reasons", "--model", "model.json", "--reference", "reference.csv"]
    command += ["--catalogue", "catalogue.json", "--cutoff", "0.4", "--id-column", "ID", "--quiet"]
    done = subprocess.run([*command, "apps.csv", "reasons.csv"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    written = pd.read_csv(tmp_path / "reasons.csv")

    explainer = GeneralizedIntegratedGradients(boosted, output="probability")
    baseline = documented_baselines(X.iloc[:1500], cutoff=0.4)["average"]
    recipe = ReasonRecipe(explainer, baseline, catalogue, cutoff=0.4, columns=list(CREDIT_FEATURES))
    scores = explainer.score(applications)
    denied = applications[scores >= 0.4]
    assert len(written) == len(denied) > 10
    assert written["applicant"].tolist() == denied.index.tolist()
    np.testing.assert_allclose(written["score"], scores[scores >= 0.4], atol=1e-12)
    table = recipe.explain(denied).table()
    for column in ("reason_1", "reason_2", "reason_1_contribution", "reason_2_contribution", "baseline_score"):
        expected = table[column].to_numpy()
        got = written[column].to_numpy()
        if expected.dtype.kind == "f":
            np.testing.assert_allclose(got, expected, atol=1e-12, err_msg=column)
        else:
            shown = lambda values: ["" if pd.isna(v) else str(v) for v in values]  # noqa: E731 (CSV: empty cells)
            assert shown(got) == shown(expected), column
    library = boosted.predict_proba(denied)[:, 1]  # the library's own scores: an independent truth
    np.testing.assert_allclose(written["score"], library, atol=2e-6, rtol=0)
    gap = sum(part.reshape(len(denied), -1).sum(axis=1) for part in recipe.attributions(denied).values.values())
    np.testing.assert_allclose(gap, written["score"] - written["baseline_score"], atol=1e-9)
    assert written["completeness_ok"].all()


def test_a_tree_model_file_becomes_a_dashboard_that_never_imports_tensorflow(tmp_path, credit, boosted):
    """``nbexplain bundle`` on an XGBoost file and a CSV; the dashboard of that bundle browses,
    answers a what-if edit (the artifact in the cache opens without XGBoost) and gives reasons
    and a population comparison, in a process where TensorFlow and Keras cannot be imported."""
    X, y = credit
    boosted.save_model(tmp_path / "model.json")
    X.iloc[:800].assign(**{CREDIT_TARGET: y[:800]}).to_csv(tmp_path / "rows.csv", index=False)
    environment = {"NBEXPLAIN_CACHE": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-m", "nbexplain", "bundle", "--model", "model.json", "--data", "rows.csv", "--quiet"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=environment,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    bundle = done.stdout.split("explanation bundle: ")[1].strip()
    code = f"""
import sys
for name in ("tensorflow", "keras", "xgboost"):
    sys.modules[name] = None
import json
from nbexplain.widgets.bundle import bundle_explorer_data
from nbexplain.widgets.controller import ExplorerController
data = bundle_explorer_data({bundle!r})
controller = ExplorerController(data)
controller.pick(7)
before = controller.sample.prediction
controller.what_if({{"PAY_0": 4}})
reasons = controller.reasons(baseline="median")
population = controller.compare_cohorts(controller.matching(predicted=1)[:200], controller.matching(predicted=0)[:200])
print(json.dumps([data.outcome, before, controller.sample.prediction, len(population.labels("column"))]))
"""
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, env=environment)
    assert done.returncode == 0, done.stderr[-3000:]
    outcome, before, after, features = json.loads(done.stdout.strip().splitlines()[-1])
    edited = X.iloc[[7]].assign(PAY_0=4)
    assert outcome == "P(class 1)" and features == len(CREDIT_FEATURES)
    np.testing.assert_allclose(
        [before, after], [boosted.predict_proba(X.iloc[[7]])[0, 1], boosted.predict_proba(edited)[0, 1]], atol=2e-6
    )
