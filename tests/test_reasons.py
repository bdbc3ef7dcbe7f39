"""Adverse-action reasons on models whose true contributions are known in closed form."""

import json
import warnings

import keras
import numpy as np
import pandas as pd
import pytest

from nbexplain import IntegratedGradients, UserPoint
from nbexplain.credit import ProhibitedBasisWarning, ReasonCatalogue, ReasonCode, rank_reasons
from nbexplain.credit.adverse import ReasonRecipe
from nbexplain.credit.validation import validate_reasons
from nbexplain.errors import DataFileError, InputDataError, NBExplainError

FEATURES = ["PAY_1", "PAY_2", "PAY_3", "UTIL", "INCOME", "SEX", "AGE"]
WEIGHTS = np.array([0.6, 0.5, 0.4, 1.2, -0.9, 0.05, -0.02])
BASELINE = np.zeros((1, 7))


def logistic_model(weights=WEIGHTS, bias=-1.0):
    """P(default) = sigmoid(x w + c): with logit=True, IG from any baseline is (x - b) * w exactly."""
    model = keras.Sequential(
        [keras.Input((len(weights),), dtype="float64"), keras.layers.Dense(1, activation="sigmoid", dtype="float64")]
    )
    model.layers[0].set_weights([np.asarray(weights, dtype="float64")[:, None], np.array([bias])])
    return model


def catalogue(**options):
    return ReasonCatalogue(
        (
            ReasonCode("DELINQ", "Delinquency in recent months", ("PAY_1", "PAY_2", "PAY_3")),
            ReasonCode("UTIL", "Utilisation too high", ("UTIL",)),
            ReasonCode("INCOME", "Income too low", ("INCOME",)),
        ),
        prohibited=("SEX", "AGE"),
        **options,
    )


def truth(X, weights=WEIGHTS):
    """Per-reason contributions (x - 0) * w, summed per group."""
    c = np.asarray(X) * weights
    return {"DELINQ": c[:, :3].sum(1), "UTIL": c[:, 3], "INCOME": c[:, 4]}


def explainer(model=None, **options):
    return IntegratedGradients(model or logistic_model(), logit=True, steps=4, **options)


def test_reasons_are_the_adverse_groups_ranked_as_the_closed_form_says(rng):
    X = pd.DataFrame(rng.normal(size=(300, 7)), columns=FEATURES)
    X[["SEX", "AGE"]] = 0.0  # at the baseline: no prohibited basis moves the score here
    ranked = ReasonRecipe(explainer(), UserPoint(BASELINE), catalogue(min_share=0.0), cutoff=0.0).explain(X)
    contributions = truth(X)
    for i in range(len(X)):
        adverse = sorted(((v[i], code) for code, v in contributions.items() if v[i] > 0), key=lambda t: -t[0])
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            given = ranked.applicant(i)
        assert [r.code for r in given.reasons] == [code for _, code in adverse]
        for reason in given.reasons:
            assert reason.contribution == pytest.approx(contributions[reason.code][i], abs=1e-12)
            assert reason.contribution > 0
        assert given.baseline_score == pytest.approx(-1.0)  # the logit at the baseline: the bias


def test_grouping_changes_the_ranking_when_it_should():
    weights = np.array([1.0, 1.0, 1.0, 1.0, -1.0, 0.0, 0.0])
    applicant = pd.DataFrame([[0.3, 0.3, 0.3, 0.5, 0.0, 0.0, 0.0]], columns=FEATURES)
    model = logistic_model(weights)
    per_feature = ReasonCatalogue.per_feature(FEATURES, prohibited=("SEX", "AGE"))
    alone = ReasonRecipe(explainer(model), UserPoint(BASELINE), per_feature, cutoff=0.0).explain(applicant)
    assert [r.code for r in alone.applicant(0).reasons] == ["UTIL", "PAY_1", "PAY_2", "PAY_3"]
    grouped = ReasonRecipe(explainer(model), UserPoint(BASELINE), catalogue(), cutoff=0.0).explain(applicant)
    reasons = grouped.applicant(0).reasons
    assert [r.code for r in reasons] == ["DELINQ", "UTIL"]
    assert reasons[0].contribution == pytest.approx(0.9)


def test_favourable_contributions_never_become_reasons_and_at_most_k_are_given():
    favourable = pd.DataFrame([[-1, -1, -1, -1, 1, 0, 0]], columns=FEATURES, dtype=float)
    recipe = ReasonRecipe(explainer(), UserPoint(BASELINE), catalogue(), cutoff=0.0)
    assert recipe.explain(favourable).applicant(0).reasons == ()
    adverse = pd.DataFrame([[1, 1, 1, 1, -1, 0, 0]], columns=FEATURES, dtype=float)
    two = ReasonRecipe(explainer(), UserPoint(BASELINE), catalogue(), cutoff=0.0, max_reasons=2).explain(adverse)
    assert [r.code for r in two.applicant(0).reasons] == ["DELINQ", "UTIL"]
    table = two.table()
    assert list(table.columns[6:12]) == [
        "reason_1",
        "reason_1_statement",
        "reason_1_contribution",
        "reason_2",
        "reason_2_statement",
        "reason_2_contribution",
    ]


def test_dust_below_the_minimum_share_is_not_a_reason():
    applicant = pd.DataFrame([[1, 1, 1, 0.001, 0, 0, 0]], columns=FEATURES, dtype=float)
    ranked = ReasonRecipe(explainer(), UserPoint(BASELINE), catalogue(min_share=0.01), cutoff=0.0).explain(applicant)
    assert [r.code for r in ranked.applicant(0).reasons] == ["DELINQ"]


def test_ties_are_broken_by_catalogue_order_deterministically():
    values = np.array([[0.5, 0.0, 0.0, 0.5, 0.0, 0.0, 0.0]])
    first = rank_reasons(
        values, FEATURES, catalogue(), score=[0.7], baseline_score=[0.2], completeness_error=[0], cutoff=0.5
    )
    assert [r.code for r in first.applicant(0).reasons] == ["DELINQ", "UTIL"]
    reordered = ReasonCatalogue(tuple(reversed(catalogue().reasons)), prohibited=("SEX", "AGE"))
    second = rank_reasons(
        values, FEATURES, reordered, score=[0.7], baseline_score=[0.2], completeness_error=[0], cutoff=0.5
    )
    assert [r.code for r in second.applicant(0).reasons] == ["UTIL", "DELINQ"]


def test_prohibited_bases_are_never_reasons_and_are_reported_loudly_when_material(rng):
    weights = WEIGHTS.copy()
    weights[5], weights[6] = 3.0, 0.0  # the model leans on SEX, not on AGE
    X = pd.DataFrame(rng.normal(size=(200, 7)), columns=FEATURES)
    X["SEX"] = rng.choice([0.0, 1.0], size=200)
    ranked = ReasonRecipe(explainer(logistic_model(weights)), UserPoint(BASELINE), catalogue(), cutoff=0.0).explain(X)
    codes = {code for row in ranked.order for code in row if code >= 0}
    assert codes <= {0, 1, 2}
    leaning = X["SEX"].to_numpy() == 1.0
    denied = ranked.denied
    assert denied.any() and (~denied).any()
    # 3 * 1 toward denial is material next to N(0, 1) inputs, for the denied only
    np.testing.assert_array_equal(ranked.material_any, leaning & denied)
    np.testing.assert_array_equal(ranked.material[:, 1], np.zeros(200, dtype=bool))  # AGE has no weight
    with pytest.warns(ProhibitedBasisWarning, match="PROHIBITED BASIS CARRIES MATERIAL WEIGHT"):
        notice = ranked.applicant(int(np.flatnonzero(leaning & denied)[0]))
    assert notice.prohibited["SEX"] == pytest.approx(3.0) and "SEX" in str(notice) and notice.material == ("SEX",)
    assert "SEX" not in [r.code for r in notice.reasons]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        quiet = ranked.applicant(int(np.flatnonzero(~leaning & denied)[0]))
        approved = ranked.applicant(int(np.flatnonzero(leaning & ~denied)[0]))
    assert not quiet.prohibited_material and quiet.warnings == ()
    assert not approved.denied and not approved.prohibited_material, "an approved applicant is never alarmed"


def test_catalogue_mistakes_are_refused_with_what_to_fix(tmp_path):
    with pytest.raises(InputDataError, match=r"no reason for feature\(s\) \['INCOME'\]"):
        ReasonCatalogue((ReasonCode("D", "d", ("PAY_1", "PAY_2", "PAY_3", "UTIL")),), ("SEX", "AGE")).matrix(FEATURES)
    with pytest.raises(NBExplainError, match="Unknown feature .* 'PAY_9'"):
        ReasonCatalogue((ReasonCode("D", "d", ("PAY_9",)),)).matrix(FEATURES)
    with pytest.raises(NBExplainError, match="is in reasons 'A' and 'B'"):
        ReasonCatalogue((ReasonCode("A", "a", ("UTIL",)), ReasonCode("B", "b", ("UTIL",))))
    with pytest.raises(NBExplainError, match="prohibited basis and cannot be part"):
        ReasonCatalogue((ReasonCode("A", "a", ("SEX",)),), prohibited=("SEX",))
    with pytest.raises(NBExplainError, match="adverse must be"):
        catalogue(adverse="up")
    again = ReasonCatalogue.from_json(catalogue().to_json(tmp_path / "catalogue.json"))
    assert again.to_dict() == catalogue().to_dict()


def test_a_higher_is_better_score_takes_the_other_direction():
    weights = -WEIGHTS  # a score where higher is better
    applicant = pd.DataFrame([[1, 1, 1, 1, -1, 0, 0]], columns=FEATURES, dtype=float)
    ranked = ReasonRecipe(
        explainer(logistic_model(weights)), UserPoint(BASELINE), catalogue(adverse="decrease"), cutoff=0.5
    ).explain(applicant)
    assert [r.code for r in ranked.applicant(0).reasons] == ["DELINQ", "UTIL", "INCOME"]


def _expected_denied(X, weights=WEIGHTS, bias=-1.0, cutoff=0.5):
    return 1 / (1 + np.exp(-(X[FEATURES].to_numpy() @ weights + bias))) > cutoff


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_whole_file_in_chunks_gives_one_row_per_denied_applicant(rng, tmp_path, suffix):
    X = pd.DataFrame(rng.normal(size=(503, 7)), columns=FEATURES)
    X.insert(0, "application", [f"A{i:04d}" for i in range(503)])
    source = tmp_path / f"applications{suffix}"
    X.to_csv(source, index=False) if suffix == ".csv" else X.to_parquet(source, index=False)
    recipe = ReasonRecipe(
        IntegratedGradients(logistic_model(), steps=32), UserPoint(BASELINE), catalogue(), cutoff=0.5, columns=FEATURES
    )
    out = tmp_path / f"reasons{suffix}"
    summary = recipe.explain_file(source, out, chunk_rows=50, id_column="application", progress=False)
    written = pd.read_csv(out) if suffix == ".csv" else pd.read_parquet(out)
    denied = _expected_denied(X)
    assert summary["rows"] == 503 and summary["denied"] == denied.sum() == len(written)
    assert list(written["applicant"]) == list(X.loc[denied, "application"])
    whole = recipe.explain(X.set_index("application")[denied]).table()
    expected = whole.reset_index(drop=True)
    pd.testing.assert_frame_equal(
        written.astype(object).fillna(""), expected.astype(object).fillna(""), check_dtype=False
    )
    assert written["completeness_error"].max() < 1e-6


def test_file_problems_are_reported(rng, tmp_path):
    recipe = ReasonRecipe(explainer(), UserPoint(BASELINE), catalogue(), cutoff=0.5, columns=FEATURES)
    bad = tmp_path / "short.csv"
    pd.DataFrame(rng.normal(size=(5, 6)), columns=FEATURES[:6]).to_csv(bad, index=False)
    with pytest.raises(DataFileError, match=r"lacks column\(s\) \['AGE'\]"):
        recipe.explain_file(bad, tmp_path / "out.csv", progress=False)
    with pytest.raises(DataFileError, match="unknown table format"):
        recipe.explain_file(bad, tmp_path / "out.xlsx", progress=False)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(DataFileError, match="is empty"):
        recipe.explain_file(empty, tmp_path / "out.csv", progress=False)


def test_the_validation_report_measures_stability_and_is_filed_as_json_and_html(rng, tmp_path):
    from nbexplain import AverageInput, ReferenceSet

    reference = pd.DataFrame(rng.normal(size=(400, 7)), columns=FEATURES)
    denied = reference[_expected_denied(reference)]
    recipe = ReasonRecipe(
        IntegratedGradients(logistic_model(), steps=16), AverageInput(reference), catalogue(), cutoff=0.5
    )
    report = validate_reasons(
        recipe, denied, baselines={"reference set": ReferenceSet(reference, draws=50)}, redraws=2, progress=False
    )
    record = json.loads(report.to_json(tmp_path / "report.json"))
    assert record["applicants"] == len(denied) == record["denied"]
    assert record["completeness"]["max"] < 1e-9 and sum(record["completeness"]["histogram"]["counts"]) == len(denied)
    assert record["steps_doubled"]["compared_with"] == 32
    assert record["steps_doubled"]["reason_set_changed"] == 0.0  # a linear logit: IG is exact at any steps
    assert len(record["reference_redrawn"]["runs"]) == 2
    agreement = np.array(record["across_baselines"]["top_reason_agrees"])
    assert agreement.shape == (2, 2) and np.all(np.diag(agreement) == 1.0)
    first_reasons = sum(record["reasons_by_rank"]["1"].values())
    assert first_reasons + record["no_reason"]["count"] == len(denied)
    assert {check["name"]: check["verdict"] for check in record["checks"]} == {
        "completeness": "pass",
        "steps doubled": "pass",
        "reference redrawn": "pass",
        "baseline: reference set": record["checks"][-1]["verdict"],
    }
    page = report.to_html(tmp_path / "report.html")
    for heading in (
        "1. Completeness",
        "2. Stability when the steps double",
        "3. Stability when the reference",
        "4. Agreement across documented baselines",
        "6. Prohibited bases",
    ):
        assert heading in page
    assert "<script" not in page


def test_the_cut_off_itself_passes_in_every_direction_and_nan_is_never_a_decision():
    from nbexplain.credit.reasons import denied
    from nbexplain.errors import NonFiniteScoreError

    below, at, above = np.nextafter(0.5, 0.0), 0.5, np.nextafter(0.5, 1.0)
    assert denied([below, at, above], 0.5, "increase").tolist() == [False, False, True]
    assert denied([below, at, above], 0.5, "decrease").tolist() == [True, False, False]
    with pytest.raises(NonFiniteScoreError, match=r"rows 1\): such an applicant can be neither approved nor denied"):
        denied([0.2, np.nan, 0.9], 0.5)
    with pytest.raises(NBExplainError, match="cut-off must be a finite number"):
        denied([0.2], float("nan"))


def exact_logistic(weights, bias=0.0):
    """A float64 logistic model with dyadic weights: with logit=True and the Riemann-left rule at
    4 steps, IG is exactly (x - b) * w in floating point, so boundaries are exact."""
    return logistic_model(np.asarray(weights, dtype=float), bias)


@pytest.mark.parametrize(
    ("sex", "materiality", "bias", "material"),
    [
        (1.0, 0.25, -2.0, True),  # share branch: SEX pushes 1 of 4 = exactly 25 % (margin 2: not that branch)
        (0.96875, 0.25, -2.0, False),  # just below 25 % and far from the margin (1.97)
        (1.0, 0.75, -3.0, True),  # margin branch: score 4 - 3 = 1 past the cut-off 0 = SEX's push
        (1.0, 0.75, -2.96875, False),  # SEX pushes 1, the margin is 1.03125: the decision stands without it
        (1.0, 0.25, -4.0, False),  # score exactly at the cut-off: approved, never alarmed
        (-1.0, 0.05, -1.0, False),  # SEX lowers the risk: never counts against the applicant
    ],
    ids=["share at boundary", "share below", "margin at boundary", "margin above", "approved at cut-off", "lowers"],
)
def test_the_prohibited_basis_rule_at_each_boundary(sex, materiality, bias, material):
    weights = [1.0, 1.0, 1.0, 0.0, 0.0, 1.0, 0.0]  # DELINQ pushes 3, SEX pushes `sex`
    applicant = pd.DataFrame([[1.0, 1.0, 1.0, 0.0, 0.0, sex, 0.0]], columns=FEATURES)
    recipe = ReasonRecipe(
        IntegratedGradients(exact_logistic(weights, bias), logit=True, steps=4, rule="riemann_left"),
        UserPoint(BASELINE),
        catalogue(materiality=materiality),
        cutoff=0.0,
    )
    ranked = recipe.explain(applicant)
    assert ranked.prohibited[0, 0] == sex and ranked.contributions[0, 0] == 3.0  # exact arithmetic
    assert bool(ranked.material_any[0]) is material
    assert bool(ranked.denied[0]) is (3.0 + sex + bias > 0.0)
