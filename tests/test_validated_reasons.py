"""Adverse-action reasons a validator can sign: the model as trained travels with its
preprocessing, no wrong reason is silent, and the report stands on its own."""

import json
import re

import keras
import numpy as np
import pandas as pd
import pytest

from nbexplain import AverageInput, IntegratedGradients, NBExplainError, UserPoint
from nbexplain.cli import main
from nbexplain.credit.adverse import ReasonRecipe
from nbexplain.datasets.credit import CREDIT_FEATURES, CREDIT_TARGET, credit_reason_catalogue, make_credit_default
from nbexplain.datasets.demo import fit_credit_model
from nbexplain.model.artifact import ModelArtifact

pytestmark = pytest.mark.training


def test_integrated_gradients_do_not_depend_on_a_per_feature_affine_step():
    """IG of f((x - m) / s) in raw x equals IG of f in standardised z, feature by feature."""
    rng = np.random.default_rng(0)
    mean, scale = rng.normal(size=4) * 100, rng.uniform(0.5, 50, size=4)
    keras.utils.set_random_seed(1)
    inner = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(6, activation="tanh"), keras.layers.Dense(1, activation="sigmoid")]
    )
    raw_input = keras.Input((4,))
    affine = keras.layers.Dense(4, name="standardise")
    outer = keras.Model(raw_input, inner(affine(raw_input)))
    affine.set_weights([np.diag(1 / scale).astype("float32"), (-mean / scale).astype("float32")])
    x = mean + scale * rng.normal(size=(30, 4))
    b = mean + scale * rng.normal(size=(1, 4))
    standardised = IntegratedGradients(inner, steps=128).explain((x - mean) / scale, (b - mean) / scale)
    raw = IntegratedGradients(outer, steps=128).explain(x, b)
    np.testing.assert_allclose(raw.feature_values(), standardised.feature_values(), atol=2e-5)
    assert np.abs(raw.feature_values()).max() > 0.05


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A credit network trained by the package on a small file, saved as one artifact."""
    folder = tmp_path_factory.mktemp("trained")
    frame = make_credit_default(3000, seed=21)
    model = fit_credit_model(frame, "credit_fcn", epochs=4, seed=3, progress=False, cache_name="validated-reasons")
    model.save(folder / "credit.nbx")
    train = frame.iloc[model.train_rows]
    train.to_csv(folder / "reference.csv", index=False)  # with its target column, as downloaded
    applications = frame.iloc[model.test_rows].drop(columns=[CREDIT_TARGET]).reset_index(names="ID")
    applications.to_csv(folder / "applications.csv", index=False)
    credit_reason_catalogue().to_json(folder / "catalogue.json")
    return folder, model, applications


def cli(folder, model, out, *extra):
    return main(
        [
            "reasons",
            str(folder / "applications.csv"),
            str(folder / out),
            "--model",
            str(folder / model),
            "--reference",
            str(folder / "reference.csv"),
            "--catalogue",
            str(folder / "catalogue.json"),
            "--id-column",
            "ID",
            "--cutoff",
            "0.3",
            "--quiet",
            *extra,
        ]
    )


def test_the_saved_artifact_is_the_model_as_trained(trained, tmp_path):
    folder, model, applications = trained
    artifact = ModelArtifact.load(folder / "credit.nbx")
    X = model.frame.iloc[:50]
    np.testing.assert_array_equal(np.asarray(artifact.to_inputs(X)), np.asarray(model.model_inputs(X)))
    np.testing.assert_allclose(
        np.asarray(artifact.model(artifact.to_inputs(X).to_numpy())),
        np.asarray(model.model(model.model_inputs(X).to_numpy())),
        atol=1e-7,
    )
    assert artifact.fingerprint() == __import__("nbexplain").model._keras.fingerprint(model.model)
    assert artifact.features == CREDIT_FEATURES and artifact.target == "default"
    assert artifact.training["rows"] == len(model.train_rows) and len(artifact.training["fingerprint"]) == 64
    shuffled = X[list(reversed(CREDIT_FEATURES))].assign(extra=1.0)
    np.testing.assert_array_equal(np.asarray(artifact.to_inputs(shuffled)), np.asarray(artifact.to_inputs(X)))
    damaged = tmp_path / "damaged.nbx"
    data = bytearray((folder / "credit.nbx").read_bytes())
    data[len(data) // 3] ^= 0xFF
    damaged.write_bytes(bytes(data))
    with pytest.raises(NBExplainError, match="damaged|does not match its recorded checksum|not an nbexplain model"):
        ModelArtifact.load(damaged)


def test_the_command_on_the_raw_file_gives_what_the_python_api_gives(trained):
    folder, model, applications = trained
    assert cli(folder, "credit.nbx", "cli.csv") == 0
    artifact = ModelArtifact.load(folder / "credit.nbx")
    reference = pd.read_csv(folder / "reference.csv")
    recipe = ReasonRecipe(
        IntegratedGradients(artifact.model, steps=64, tolerance=1e-6, **artifact.explainer_options()),
        AverageInput(artifact.to_inputs(reference)),
        credit_reason_catalogue(),
        cutoff=0.3,
        to_inputs=artifact.to_inputs,
        columns=artifact.features,
    )
    recipe.explain_file(folder / "applications.csv", folder / "api.csv", id_column="ID", progress=False)
    cli_rows, api_rows = pd.read_csv(folder / "cli.csv"), pd.read_csv(folder / "api.csv")
    pd.testing.assert_frame_equal(
        cli_rows.drop(columns="outside_reference"), api_rows.drop(columns="outside_reference")
    )
    scores = model.predict(model.model_inputs(applications.set_index("ID")))
    assert len(cli_rows) == int((scores > 0.3).sum()) > 20
    assert cli_rows["completeness_ok"].all()


def test_raw_values_into_a_model_trained_on_standardised_ones_are_caught(trained, capsys):
    folder, model, _ = trained
    model.model.save(folder / "bare.keras")  # the network without its preprocessing
    status = cli(folder, "bare.keras", "bare.csv", "--steps", "64", "--target", "1")
    err = capsys.readouterr().err
    assert "'default' is an outcome, not a feature: dropped" in err
    assert status == 3, err
    assert re.search(r"\d+ of \d+ denied applicants have attributions that do not add up", err)
    written = pd.read_csv(folder / "bare.csv")
    assert (~written["completeness_ok"]).mean() > 0.5
    accepted = cli(folder, "bare.keras", "bare.csv", "--target", "1", "--accept-incomplete")
    assert accepted == 0


def test_the_report_stands_on_its_own(trained, browser, screenshots):
    folder, model, _ = trained
    report = folder / "report"
    assert (
        cli(folder, "credit.nbx", "reasons.csv", "--report", str(report), "--baseline", "reference", "--draws", "30")
        == 0
    )
    record = json.loads((report / "reason_validation.json").read_text())
    written = pd.read_csv(folder / "reasons.csv")
    assert record["input"]["file"].endswith("applications.csv") and len(record["input"]["sha256"]) == 64
    assert record["input"]["rows"] == 500 and record["input"]["rows_validated"] == len(written)
    assert record["input"]["selection"] == f"all {len(written)} denied applicants of the file"
    artifact = ModelArtifact.load(folder / "credit.nbx")
    assert record["model"]["sha256"] == artifact.sha256 and record["model"]["fingerprint"] == artifact.fingerprint()
    assert "SHA-256 over the model's class" in record["model"]["fingerprint_meaning"]
    baseline = record["baseline"]
    assert baseline["n_reference"] == 2500 and baseline["draws"] == 30 and len(baseline["reference_fingerprint"]) == 16
    assert record["catalogue"] == credit_reason_catalogue().to_dict()
    assert set(record["reasons_by_rank"]) == {"1", "2", "3", "4"}
    assert sum(record["reasons_per_applicant"].values()) == len(written)
    assert record["no_reason"]["count"] == record["reasons_per_applicant"]["0"]
    names = [check["name"] for check in record["checks"]]
    assert names[:3] == ["completeness", "steps doubled", "reference redrawn"] and len(names) == 7
    assert all(
        c["verdict"] in ("pass", "warn", "fail") and c["threshold"] and "measured" in c for c in record["checks"]
    )
    assert record["prohibited_bases"]["denied_flagged"] == int(written["prohibited_material"].sum())
    assert record["prohibited_bases"]["by_basis"].keys() == {"SEX", "MARRIAGE", "AGE"}
    assert "decision would change without it" in record["prohibited_bases"]["definition"]
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto((report / "reason_validation.html").as_uri())
    assert page.locator("table.checks tr").count() == len(names) + 1
    assert page.locator("svg[aria-label='completeness error histogram'] text", has_text="applicants").count() == 1
    page.screenshot(path=str(screenshots / "reason-validation-report.png"), full_page=True)
    assert not errors
    page.close()


def test_a_sample_is_only_drawn_when_asked_and_says_so(trained):
    folder, _, _ = trained
    report = folder / "sampled"
    assert (
        cli(folder, "credit.nbx", "sampled.csv", "--report", str(report), "--report-sample", "10", "--report-seed", "4")
        == 0
    )
    record = json.loads((report / "reason_validation.json").read_text())
    assert record["input"]["rows_validated"] == 10
    assert re.fullmatch(r"a random sample of 10 of the \d+ denied applicants \(seed 4\)", record["input"]["selection"])


def test_a_prohibited_basis_pushing_toward_denial_alarms_only_the_denied():
    """Both applicants' prohibited column b pushes the score up by the same amount; only the
    denied one is flagged."""
    from nbexplain.credit import ReasonCatalogue, ReasonCode

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, activation="sigmoid")])
    model.layers[0].set_weights([np.array([[1.0], [-1.0]], "float32"), np.zeros(1, "float32")])
    catalogue = ReasonCatalogue((ReasonCode("A", "a is high", ("a",)),), prohibited=("b",), materiality=0.05)
    frame = pd.DataFrame({"a": [2.0, -2.0], "b": [-1.0, -1.0]})
    ranked = ReasonRecipe(
        IntegratedGradients(model, steps=32, feature_names=["a", "b"]), UserPoint(np.zeros(2)), catalogue, cutoff=0.5
    ).explain(frame)
    assert ranked.denied.tolist() == [True, False]
    assert (ranked.prohibited[:, 0] > 0.05).all(), "b pushes both scores toward denial"
    assert ranked.material_any.tolist() == [True, False]
