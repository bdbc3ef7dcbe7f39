"""`nbexplain reasons` on the demo credit network: a UCI-format file in, one row per denied
applicant out, and the validation report beside it."""

import json

import numpy as np
import pandas as pd
import pytest

from nbexplain.cli import main
from nbexplain.datasets.credit import credit_reason_catalogue, make_credit_default

pytestmark = pytest.mark.training


@pytest.mark.parametrize("model", ["credit_fcn", "credit_lstm"])
def test_the_command_writes_reasons_for_every_denied_applicant_and_the_report(demo_models, tmp_path, model, capsys):
    applications = make_credit_default(1500, seed=11).drop(columns=["default"]).reset_index()
    source = tmp_path / "applications.csv"
    applications.to_csv(source, index=False)
    out, report = tmp_path / "reasons.parquet", tmp_path / "report"
    status = main(
        [
            "reasons",
            str(source),
            str(out),
            "--model",
            model,
            "--id-column",
            "ID",
            "--baseline",
            "reference",
            "--draws",
            "20",
            "--chunk-rows",
            "400",
            "--report",
            str(report),
            "--report-sample",
            "60",
            "--quiet",
        ]
    )
    assert status == 0
    demo = demo_models[model]
    denied = demo.predict(demo.model_inputs(applications.set_index("ID"))) > 0.5
    written = pd.read_parquet(out)
    assert len(written) == denied.sum() > 0
    assert list(written["applicant"]) == list(applications.loc[denied, "ID"])
    codes = set(credit_reason_catalogue().codes)
    assert set(written["reason_1"]) <= codes and not set(written["reason_1"]) & {"SEX", "MARRIAGE", "AGE"}
    assert written["completeness_error"].max() < 1e-5
    np.testing.assert_allclose(
        written["score"],
        demo.predict(demo.model_inputs(applications.set_index("ID").loc[written["applicant"]])),
        atol=1e-5,
    )
    summary = json.loads(capsys.readouterr().out.split("validation report")[0])
    assert summary["rows"] == 1500 and summary["denied"] == len(written)
    record = json.loads((report / "reason_validation.json").read_text())
    assert record["baseline"]["kind"] == "reference set" and record["applicants"] == min(60, denied.sum())
    assert record["input"]["rows"] == 1500 and "random sample of" in record["input"]["selection"]
    assert len(record["across_baselines"]["baselines"]) == 5
    assert (report / "reason_validation.html").read_text().startswith("<!DOCTYPE html>")


def test_the_command_explains_what_is_missing(tmp_path, capsys):
    source = tmp_path / "applications.csv"
    pd.DataFrame({"LIMIT_BAL": [1.0]}).to_csv(source, index=False)
    assert (
        main(["reasons", str(source), str(tmp_path / "out.csv"), "--model", str(tmp_path / "m.keras"), "--quiet"]) == 2
    )
    assert "needs --reference FILE" in capsys.readouterr().err
