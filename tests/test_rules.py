"""Globally consistent rules (SetCoverExplanation) against brute force over every subset of
columns, the no-rule and empty-rule cases, case tables on a hand-made table, and the FICO
reproduction command."""

import json
from dataclasses import replace
from itertools import combinations

import numpy as np
import pandas as pd
import pytest

from nbexplain.credit import PastCases, RuleBook, SetCoverExplainer, case_table, rank_cases
from nbexplain.credit.rules import ConsistentRule, greedy_hitting_set, minimum_hitting_set
from nbexplain.datasets import make_heloc
from nbexplain.datasets.heloc import HELOC_FEATURES
from nbexplain.errors import NBExplainError
from nbexplain.model.additive import AdditiveRiskModel


# ----------------------------------------------------------------------------- brute force
def satisfies(steps, applicant, columns):
    columns = list(columns)
    return np.all(steps[:, columns] == applicant[columns], axis=1)


def brute_force(steps, predicted, applicant, label):
    """``{size: best support}`` over every consistent subset of columns, by definition."""
    m = steps.shape[1]
    best = {}
    for size in range(m + 1):
        for columns in combinations(range(m), size):
            matched = satisfies(steps, applicant, columns)
            if np.any(predicted[matched] != label):
                continue
            best[size] = max(best.get(size, -1), int(matched.sum()))
    return best


def random_case(seed, n=26, m=7):
    rng = np.random.default_rng(seed)
    steps = rng.random((n, m)) < rng.uniform(0.2, 0.8, m)
    predicted = (rng.random(n) < 0.5).astype(int)
    actual = (rng.random(n) < 0.5).astype(int)
    if rng.random() < 0.5:
        position = int(rng.integers(n))
        applicant, label = steps[position].copy(), int(predicted[position])
    else:
        applicant, label = rng.random(m) < 0.5, int(rng.integers(2))
    return PastCases(steps.astype(int), predicted, actual), applicant, label


@pytest.mark.parametrize("seed", range(150))
def test_rules_match_brute_force_on_random_binary_data(seed):
    past, applicant, label = random_case(seed, n=20 + seed % 15, m=6 + seed % 4)
    extra = seed % 3
    explanation = SetCoverExplainer(past, extra=extra).explain_steps(applicant.astype(int), label, label="e")
    opposite = past.predicted != label
    conflicts = np.flatnonzero(opposite & np.all(past.steps == applicant, axis=1))
    truth = brute_force(past.steps, past.predicted, applicant, label)
    if conflicts.size:
        assert not explanation.exists and explanation.rule is None and not truth
        assert explanation.conflicts == tuple(conflicts.tolist())
        assert "No consistent rule exists" in explanation.text
        return
    smallest = min(truth)
    assert explanation.minimum.size == smallest
    best_within = {k: max(v for size, v in truth.items() if size <= k) for k in range(smallest, smallest + extra + 1)}
    assert [r.max_size for r in explanation.rules] == list(best_within)
    for rule in (explanation.minimum, *explanation.rules):
        matched = satisfies(past.steps, applicant, rule.columns)
        assert np.all(past.predicted[matched] == label)  # consistent with every past case
        assert rule.support == matched.sum()
        assert rule.by_outcome == {
            "Bad": int(past.actual[matched].sum()),
            "Good": int((1 - past.actual[matched]).sum()),
        }
        assert rule.values == tuple(int(v) for v in applicant[list(rule.columns)])
        assert rule.optimal
    for rule in explanation.rules:  # every size limit, k <= 3 included
        assert rule.support == best_within[rule.max_size]
        assert rule.size <= rule.max_size


@pytest.mark.parametrize("seed", range(12))
def test_the_solver_route_finds_the_same_best_support(seed):
    past, applicant, label = random_case(seed, n=30, m=6)
    truth = brute_force(past.steps, past.predicted, applicant, label)
    if not truth:
        return
    smallest = min(truth)
    for method, options in (("milp", {}), ("auto", {"node_limit": 1})):
        explanation = SetCoverExplainer(past, extra=2, method=method, **options).explain_steps(applicant, label)
        for rule in explanation.rules:
            assert rule.support == max(v for size, v in truth.items() if size <= rule.max_size), method
            assert np.all(past.predicted[satisfies(past.steps, applicant, rule.columns)] == label)
        assert explanation.minimum.size == smallest


def test_a_search_stopped_by_its_limit_says_it_is_not_proven_optimal():
    for seed in range(40):
        past, applicant, label = random_case(seed, n=40, m=8)
        stopped = SetCoverExplainer(past, extra=2, method="enumerate", node_limit=1).explain_steps(applicant, label)
        full = SetCoverExplainer(past, extra=2).explain_steps(applicant, label)
        if stopped.exists and any(r.meta.get("nodes", 0) > 1 for r in stopped.rules):
            break
    else:
        pytest.fail("no random case needed more than one search node")
    unproven = [r for r in stopped.rules if not r.optimal]
    assert unproven and all("not proven optimal" in r.text for r in unproven)
    for rule, best in zip(stopped.rules, full.rules):
        assert rule.support <= best.support and best.optimal
        assert np.all(past.predicted[satisfies(past.steps, applicant, rule.columns)] == label)


def test_the_greedy_cover_is_consistent():
    rng = np.random.default_rng(4)
    for _ in range(30):
        D = rng.random((rng.integers(1, 25), 8)) < 0.3
        D[np.arange(len(D)), rng.integers(0, 8, len(D))] = True  # no empty D_i
        chosen = greedy_hitting_set(D)
        assert D[:, list(chosen)].any(axis=1).all()
        assert len(chosen) >= len(minimum_hitting_set(D, time_limit=5)[0])


def test_no_rule_exists_when_a_twin_was_predicted_otherwise():
    steps = np.array([[1, 0, 1], [1, 0, 1], [0, 1, 1], [0, 0, 0]])
    past = PastCases(steps, predicted=[1, 0, 1, 0], labels=("a", "twin", "c", "d"))
    explanation = SetCoverExplainer(past).explain_steps(steps[0], 1, label="a")
    assert not explanation.exists and explanation.conflicts == ("twin",)
    assert "No consistent rule exists for 'a'" in explanation.text and "'twin'" in explanation.text
    assert explanation.to_frame().empty
    with pytest.raises(NBExplainError, match="No consistent rule exists"):
        case_table(past, explanation)


def test_with_no_opposite_case_the_empty_rule_covers_everyone():
    past = PastCases(np.eye(4, dtype=int), predicted=[1, 1, 1, 1])
    explanation = SetCoverExplainer(past).explain_steps([1, 0, 0, 0], 1)
    assert explanation.minimum.size == 0 and explanation.rule.support == 4
    assert explanation.rule.text == "For all 4 people in the past cases, all were predicted Bad."


def test_rules_read_as_sentences():
    rule = ConsistentRule(
        columns=(0, 3),
        names=("ExternalRiskEstimate<64", "AverageMInFile<49"),
        values=(1, 1),
        conditions=("ExternalRiskEstimate is 63 or less", "AverageMInFile is 48 or less"),
        predicted="Bad",
        support=594,
        by_outcome={"Bad": 500, "Good": 94},
        objective="most support",
        max_size=2,
        optimal=True,
    )
    assert rule.text == (
        "For all 594 people whose ExternalRiskEstimate is 63 or less and AverageMInFile is 48 or less, "
        "all were predicted Bad (actually 500 Bad, 94 Good)."
    )
    assert list(rule.to_frame()["condition"]) == list(rule.conditions)


def test_bad_input_is_refused():
    past = PastCases(np.eye(3, dtype=int), predicted=[1, 0, 1])
    with pytest.raises(NBExplainError, match="binary columns"):
        SetCoverExplainer(past).explain_steps([1, 0], 1)
    with pytest.raises(NBExplainError, match="extra"):
        SetCoverExplainer(past, extra=-1).explain_steps([1, 0, 0], 1)
    with pytest.raises(NBExplainError, match="Unknown method"):
        SetCoverExplainer(past, method="gurobi").explain_steps([1, 0, 0], 1)
    with pytest.raises(NBExplainError, match="0/1"):
        PastCases(np.eye(3, dtype=int), predicted=[1, 2, 1])
    with pytest.raises(NBExplainError, match="from_model"):
        SetCoverExplainer(past).explain([1, 0, 0])


# ----------------------------------------------------------------------------- cases
def test_cases_satisfy_the_rule_and_are_ordered_by_similarity_with_ties_in_row_order():
    #            rule: c0 = 1 | similarity counted on c1..c3 (c4 unused by the model)
    steps = np.array(
        [
            [1, 0, 0, 0, 1],  # r0: 2 of c0..c3 equal to the applicant's (1, 1, 1, 0); c4 is not counted
            [1, 1, 1, 0, 0],  # r1: 4 equal
            [0, 1, 1, 0, 1],  # r2: fails the rule
            [1, 0, 1, 1, 1],  # r3: 2 equal (a tie with r0 and r5: row order)
            [1, 0, 0, 1, 0],  # r4: 1 equal
            [1, 1, 0, 1, 0],  # r5: 2 equal
            [0, 1, 1, 0, 0],  # r6: predicted Good, differs from the applicant in c0 only
        ]
    )
    past = PastCases(
        steps,
        predicted=[1, 1, 1, 1, 1, 1, 0],
        actual=[1, 0, 1, 1, 0, 1, 0],
        labels=("r0", "r1", "r2", "r3", "r4", "r5", "r6"),
        similarity_columns=[True, True, True, True, False],
        column_features=("a", "b", "b", "c", "d"),
        raw=pd.DataFrame({"a": range(7), "b": range(10, 17), "c": range(20, 27), "d": range(30, 37)}),
    )
    applicant = np.array([1, 1, 1, 0, 0])
    explanation = SetCoverExplainer(past).explain_steps(applicant, 1, label="x")
    rule = explanation.minimum
    assert rule.names == ("c0",)  # the only column excluding r6
    positions, similarity = rank_cases(past, applicant, rule)
    assert [past.labels[p] for p in positions] == ["r1", "r0", "r3", "r5", "r4"]
    assert similarity.tolist() == [4, 2, 2, 2, 1]
    table = case_table(past, explanation, {"a": -1, "b": -2, "c": -3, "d": -4}, rule=rule, max_cases=3)
    frame = table.to_frame()
    assert list(frame.index) == ["Current", "r1", "r0", "r3"]
    assert list(frame.columns[:4]) == ["predicted", "actual", "similarity", "a"]  # the rule's feature first
    assert frame.loc["r1", "actual"] == "Good" and frame.loc["Current", "similarity"] == 4
    assert table.n_satisfying == 5 and table.rule_features == ("a",)
    assert table.same.loc["r1"].to_dict() == {"a": True, "b": True, "c": True, "d": True}
    assert table.same.loc["r0"].to_dict() == {"a": True, "b": False, "c": True, "d": False}
    assert frame.loc["r3", "b"] == 13 and frame.loc["Current", "d"] == -4
    assert "background-color" in table.styled().to_html()
    binary = case_table(replace(past, raw=None), explanation, max_cases=None).to_frame()  # step columns shown
    assert list(binary.columns[2:]) == ["similarity", "c0", "c1", "c2", "c3", "c4"]
    assert list(binary.index) == ["Current", "r1", "r0", "r3", "r5", "r4"]


# ----------------------------------------------------------------------------- the model
@pytest.fixture(scope="module")
def heloc_model():
    frame = make_heloc(n=2500, seed=11)
    frame = frame[~(frame[list(HELOC_FEATURES)] == -9).all(axis=1)]
    X, y = frame[list(HELOC_FEATURES)], frame["RiskPerformance"]
    return AdditiveRiskModel().fit(X.iloc[:2000], y.iloc[:2000]), X, y


def test_rules_of_the_additive_model_hold_on_every_past_case(heloc_model, tmp_path):
    model, X, y = heloc_model
    past = PastCases.from_model(model, X.iloc[:2000], y.iloc[:2000])
    explainer = SetCoverExplainer(past, extra=1)
    applicants = pd.concat([X.iloc[2000:2006], X.iloc[[2000]]])  # a repeat is a memo lookup
    book = explainer.explain_many(applicants, progress=False)
    assert explainer.n_memoised == 6
    predicted = model.predict(X.iloc[:2000])
    for label in applicants.index:
        explanation = book[label]
        steps = model.steps(X.loc[[label]])[0].astype(bool)
        assert explanation.predicted == ("Bad" if model.predict(X.loc[[label]])[0] else "Good")
        for rule in (explanation.minimum, *explanation.rules):
            matched = satisfies(past.steps, steps, rule.columns)
            assert np.all(predicted[matched] == int(explanation.predicted == "Bad"))
            assert rule.support == matched.sum() and rule.optimal
            for j, condition in zip(rule.columns, rule.conditions):
                column = model.columns_[j]
                assert condition == (column.condition if steps[j] else column.negation)
        cases = case_table(past, explanation, X.loc[[label]], max_cases=5)
        assert (cases.to_frame()["predicted"] == explanation.predicted).all()
        assert cases.to_frame().loc["Current", "ExternalRiskEstimate"] == X.loc[label, "ExternalRiskEstimate"]
    book.to_json(tmp_path / "rules.json")
    again = RuleBook.from_json(tmp_path / "rules.json")
    assert again.to_frame().equals(book.to_frame())
    assert again[applicants.index[0]].rule.text == book[applicants.index[0]].rule.text


def test_the_reproduction_command_writes_its_tables(tmp_path, capsys):
    from nbexplain.reproduce.__main__ import main

    data = make_heloc(n=2500, seed=1)
    data.to_csv(tmp_path / "heloc_dataset_v1.csv", index=False)
    out = tmp_path / "out"
    assert main(["fico", "--data", str(tmp_path / "heloc_dataset_v1.csv"), "--applicants", "2", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Test accuracy and AUC" in printed and "Most important contributing factors" in printed
    metrics = pd.read_csv(out / "metrics.csv", index_col=0)
    assert metrics.shape == (3, 2) and metrics.to_numpy().min() > 0.6
    assert {"factors.csv", "rules.csv", "rules.json", "model.json", "fico_reproduction.json"} <= {
        p.name for p in out.iterdir()
    }
    record = json.loads((out / "fico_reproduction.json").read_text())
    dropped = int((data[list(HELOC_FEATURES)] == -9).all(axis=1).sum())
    assert record["meta"]["dropped_all_missing"] == dropped and record["meta"]["n_rows"] == 2500 - dropped
    assert len(RuleBook.from_json(out / "rules.json")) == 2
    AdditiveRiskModel.load(out / "model.json")
