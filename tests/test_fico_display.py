"""The FICO entry's display (nbexplain.widgets.fico): its numbers against
AdditiveRiskModel.computation (in Python, and in the front-end's own arithmetic under Node with
vectors written here), what an edit changes, the factors, rule and case-table panels against the
credit modules, bad input in the error area, the demo dashboard's choice; then in a real browser
(Voila and JupyterLab): the computation renders, an edit updates P(Bad) within 100 ms (measured in
the page), the rule panel and case table appear. Screenshots go to test-artifacts/screenshots."""

import html
import inspect
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
from browser_fixtures import ARTIFACTS, open_page

from nbexplain.credit import PastCases, SetCoverExplainer, case_table, contributing_factors
from nbexplain.datasets import make_heloc
from nbexplain.datasets.heloc import HELOC_FEATURES, HELOC_TARGET
from nbexplain.errors import NBExplainError
from nbexplain.model.additive import HELOC_RECIPE, AdditiveRiskModel
from nbexplain.widgets import FicoDisplay
from nbexplain.widgets.fico import RULE_STYLE, factors_html, feature_regions, fico_structure, rule_html

ROOT = Path(__file__).parent.parent
JS = ROOT / "js"
SPECIALS = (-7, -8, -9)


# ----------------------------------------------------------------------------- fixtures
def heloc_sample(n, seed):
    frame = make_heloc(n=n, seed=seed)
    frame = frame[~(frame[list(HELOC_FEATURES)] == -9).all(axis=1).to_numpy()]
    return frame[list(HELOC_FEATURES)], frame[HELOC_TARGET]


@pytest.fixture(scope="module")
def fitted():
    """A model on 2,000 generated HELOC rows, its past cases, and 300 rows it has not seen."""
    X, y = heloc_sample(2600, seed=11)
    model = AdditiveRiskModel().fit(X.iloc[:2000], y.iloc[:2000])
    past = PastCases.from_model(model, X.iloc[:2000], y.iloc[:2000])
    return model, past, X.iloc[2000:2300]


@pytest.fixture(scope="module")
def display(fitted):
    model, past, new = fitted
    return FicoDisplay(model, past, new.iloc[:4], background=False)


def with_specials(rows, seed):
    """Rows with special values put into random features (every feature gets each code somewhere)."""
    rng = np.random.default_rng(seed)
    edited = rows.copy()
    for k in range(len(HELOC_FEATURES)):
        for offset, code in enumerate(SPECIALS):
            edited.iloc[(3 * k + offset) % len(edited), k] = code
    mask = rng.random(edited.shape) < 0.1
    edited = edited.mask(mask, rng.choice(SPECIALS, size=edited.shape))
    return edited


def region_index(model, feature, value):
    """Which of feature_regions' intervals a value is in, by its step columns (the definition)."""
    recipe = model.recipe
    j = recipe.feature_names.index(feature)
    own = recipe.column_feature == j
    regions = feature_regions(recipe.features[j], recipe.special_values)
    row = np.zeros((len(regions) + 1, len(recipe.features)))
    row[:-1, j] = [r["value"] for r in regions]
    row[-1, j] = value
    steps = recipe.steps_from_raw(row)[:, own]
    matches = [r for r in range(len(regions)) if np.array_equal(steps[r], steps[-1])]
    assert len(matches) == 1, (feature, value, matches)
    return matches[0]


# ----------------------------------------------------------------------------- structure
def test_intervals_cover_every_value_once_and_read_as_the_seed():
    for feature in HELOC_RECIPE.features:
        regions = feature_regions(feature, HELOC_RECIPE.special_values)
        j = HELOC_RECIPE.feature_names.index(feature.name)
        values = [r["value"] for r in regions]
        raw = np.zeros((len(values), len(HELOC_RECIPE.features)))
        raw[:, j] = values
        steps = HELOC_RECIPE.steps_from_raw(raw)[:, HELOC_RECIPE.column_feature == j]
        assert len({tuple(s) for s in steps}) == len(regions), f"{feature.name}: two intervals share their columns"
        grid = np.arange(0, 900)
        raw = np.zeros((len(grid), len(HELOC_RECIPE.features)))
        raw[:, j] = grid
        seen = {tuple(s) for s in HELOC_RECIPE.steps_from_raw(raw)[:, HELOC_RECIPE.column_feature == j]}
        assert seen <= {tuple(s) for s in steps}, f"{feature.name}: a value outside every interval"
        assert [r["label"] for r in regions if r["special"]] == ["-7", "-8", "-9"]
    external = feature_regions(HELOC_RECIPE.features[0], HELOC_RECIPE.special_values)
    assert [r["label"] for r in external[:5]] == ["0\u201363", "64\u201370", "71\u201375", "76\u201380", "\u226581"]
    trades = HELOC_RECIPE.features[HELOC_RECIPE.feature_names.index("NumTradesOpeninLast12M")]
    assert [r["label"] for r in feature_regions(trades, {})] == ["0\u20132", "3", "4\u20136", "7\u201311", "\u226512"]


def test_the_structure_carries_every_weight_and_bound(fitted):
    model, past, _ = fitted
    structure = fico_structure(model, past)
    assert json.loads(json.dumps(structure)) == structure, "JSON as it is"
    assert len(structure["columns"]) == 182 and len(structure["subscales"]) == 10 and len(structure["features"]) == 23
    assert [c["weight"] for c in structure["columns"]] == model.weights_.tolist()
    assert [s["weight"] for s in structure["subscales"]] == model.output_weights_.tolist()
    assert [s["intercept"] for s in structure["subscales"]] == model.subscale_intercepts_.tolist()
    assert structure["output_intercept"] == model.output_intercept_
    assert sorted(i for s in structure["subscales"] for i in s["columns"]) == list(range(182))
    assert structure["threshold"] == past.threshold


# ----------------------------------------------------------------------------- numbers
def test_the_display_shows_the_models_computation_also_with_special_values(display, fitted):
    model, _, new = fitted
    rows = pd.concat([new.iloc[:6], with_specials(new.iloc[6:16], seed=1)])
    assert set(SPECIALS) <= set(np.unique(rows.to_numpy()))
    for label in rows.index:
        row = rows.loc[[label]]
        display.show(row)
        truth = model.computation(row)
        shown = display.computation
        for name in ("steps", "column_points", "subscale_logits", "subscale_probabilities", "subscale_points"):
            assert np.array_equal(getattr(shown, name), getattr(truth, name)), name
        assert shown.probability == truth.probability and shown.logit == truth.logit
        kernel = display.view.kernel
        assert kernel["probability"] == truth.probability and kernel["logit"] == truth.logit
        assert kernel["values"] == dict(zip(HELOC_FEATURES, row.iloc[0].astype(float).tolist()))
        assert kernel["predicted"] == ("Bad" if truth.probability > 0.5 else "Good")


def node_vectors(model, past, rows, path):
    structure = fico_structure(model, past)
    vectors = []
    for label in rows.index:
        row = rows.loc[[label]]
        c = model.computation(row)
        vectors.append(
            {
                "values": dict(zip(HELOC_FEATURES, row.iloc[0].astype(float).tolist())),
                "steps": c.steps.astype(int).tolist(),
                "regions": [region_index(model, f, v) for f, v in zip(HELOC_FEATURES, c.raw.tolist())],
                "column_points": c.column_points.tolist(),
                "subscale_logits": c.subscale_logits.tolist(),
                "subscale_probabilities": c.subscale_probabilities.tolist(),
                "subscale_points": c.subscale_points.tolist(),
                "logit": c.logit,
                "probability": c.probability,
                "predicted": "Bad" if c.probability > past.threshold else "Good",
                "probability_text": f"{100 * c.probability:.1f} %",
            }
        )
    path.write_text(json.dumps({"structure": structure, "rows": vectors}))
    return vectors


def test_the_front_end_recomputes_exactly_what_python_computes(fitted, tmp_path):
    """Python writes the fitted model's structure and its computation of 80 rows (20 with special
    values in every feature somewhere); js/tests/fico.test.js recomputes them with fico.js and
    writes its numbers back: both sides compare."""
    node = shutil.which("node")
    if node is None or not (JS / "node_modules" / "jsdom").is_dir():
        pytest.fail("Node.js and js/node_modules are needed (make test installs them).")
    model, past, new = fitted
    rows = pd.concat([new.iloc[:60], with_specials(new.iloc[60:80], seed=2)])
    vectors = node_vectors(model, past, rows, tmp_path / "vectors.json")
    env = {**os.environ, "FICO_VECTORS": str(tmp_path / "vectors.json"), "FICO_RESULTS": str(tmp_path / "out.json")}
    run = subprocess.run(
        [node, "--test", "tests/fico.test.js"], cwd=JS, env=env, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "# skipped 0" in run.stdout and "# fail 0" in run.stdout
    results = json.loads((tmp_path / "out.json").read_text())
    assert len(results) == len(vectors)
    for here, there in zip(vectors, results):
        assert abs(here["probability"] - there["probability"]) <= 1e-12
        assert abs(here["logit"] - there["logit"]) <= 1e-12
        assert np.allclose(here["subscale_logits"], there["subscale_logits"], rtol=0, atol=1e-12)
        assert here["regions"] == there["regions"] and here["predicted"] == there["predicted"]


def test_an_edit_changes_exactly_what_it_should(display, fitted):
    model, _, _ = fitted
    display.show("Demo 1")
    before = display.computation
    factors_before = display.factors_panel.value
    feature = "ExternalRiskEstimate"
    j = HELOC_FEATURES.index(feature)
    old = before.raw[j]
    new_value = 55.0 if old >= 64 else 90.0
    display.edit({feature: new_value})
    after = display.computation
    changed_columns = np.flatnonzero(before.steps != after.steps)
    assert changed_columns.size and set(model.recipe.column_feature[changed_columns]) == {j}
    s = model.recipe.feature_subscale[j]
    moved = np.flatnonzero(before.subscale_logits != after.subscale_logits)
    assert moved.tolist() == [s], "only the edited feature's subscale moves"
    assert np.array_equal(np.delete(before.subscale_points, s), np.delete(after.subscale_points, s))
    assert after.probability != before.probability
    assert display.view.values[feature] == new_value and display.view.case == ""
    assert display.explanation.applicant_steps.tolist() == after.steps.astype(bool).tolist()
    assert display.factors_panel.value == factors_html(contributing_factors(model, display._row))
    assert factors_before == factors_html(contributing_factors(model, display.demo[0]["values"]))
    # within the same interval nothing but the raw value moves
    same = new_value + 1
    display.edit({feature: same})
    assert np.array_equal(display.computation.steps, after.steps)
    assert display.computation.probability == after.probability
    assert display.view.values[feature] == same


# ----------------------------------------------------------------------------- panels
def test_the_factors_panel_states_the_factors(display, fitted):
    model, _, new = fitted
    for label in new.index[:4]:
        row = new.loc[[label]]
        display.show(row)
        factors = contributing_factors(model, row)
        text = display.factors_panel.value
        assert f"Predicted <b>{factors.predicted}</b>" in text
        positions = [text.index(html.escape(f.condition)) for f in factors.factors]
        assert positions == sorted(positions), "most important first"
        assert f"{factors.probability:.1%}" in text
        assert display.view.marks["factors"] == {
            f.feature: min(g.rank for g in factors.factors if g.feature == f.feature) for f in factors.factors
        }
        if factors.predicted == "Good":
            assert "toward Good" in text and "average applicant" in text


def test_the_rule_panel_says_what_the_rules_module_says(display, fitted):
    model, past, new = fitted
    fresh = SetCoverExplainer(past)
    for label in new.index[4:8]:
        row = new.loc[[label]]
        display.show(row)
        truth = fresh.explain(row)
        rule = display.rule
        assert rule is not None and truth.rule is not None
        assert (rule.columns, rule.conditions, rule.support, dict(rule.by_outcome)) == (
            truth.rule.columns,
            truth.rule.conditions,
            truth.rule.support,
            dict(truth.rule.by_outcome),
        )
        text = display.rule_panel.value
        assert f"For all <b class='nbexplain-fico-support'>{truth.rule.support:,}</b> people whose:" in text
        for condition in truth.rule.conditions:
            assert f"<b>{html.escape(condition)}</b>" in text
        assert f"all of them were predicted <b>{truth.predicted}</b>" in text
        counts = ", ".join(f"<b>{n:,}</b> {name}" for name, n in truth.rule.by_outcome.items())
        assert f"Their actual outcomes: {counts}." in text
        assert "Not proven optimal" not in text
        assert f"The fewest conditions possible: {truth.minimum.size}" in text
        assert display.view.marks["rule"] == list(dict.fromkeys(model.columns_[i].feature for i in rule.columns))
    # another rule from the toggle: the fewest conditions
    display.rule_choice.value = -1
    assert display.rule.columns == display.explanation.minimum.columns
    assert "Shown: fewest conditions" in display.rule_panel.value


def test_an_unproven_rule_and_a_missing_rule_are_said(fitted):
    model, past, new = fitted
    stopped = SetCoverExplainer(past, method="enumerate", node_limit=1, extra=2)
    shown = FicoDisplay(model, past, new.iloc[:6], explainer=stopped, background=False)
    found = False
    for k in range(6):
        shown.show(k)
        if not shown.rule.optimal:
            assert "<b>Not proven optimal:</b>" in shown.rule_panel.value
            found = True
            break
    assert found, "no demo applicant needed more than one search node"
    # a past case with the applicant's columns and the other prediction: no consistent rule
    steps = np.array([[1, 0, 1], [1, 0, 1], [0, 1, 1]])
    twins = PastCases(steps, predicted=[1, 0, 1], actual=[1, 1, 0], labels=("a", "twin", "c"))
    explanation = SetCoverExplainer(twins).explain_steps(steps[0], 1, label="a")
    text = rule_html(explanation, None, 3, {})
    assert "No consistent rule exists." in text and "twin" in text
    shown.explainer.explain_steps = lambda *args, **kwargs: explanation  # the display's path without a rule
    shown.edit(ExternalRiskEstimate=shown.values["ExternalRiskEstimate"] + 50)
    assert "No consistent rule exists." in shown.rule_panel.value
    assert shown.cases is None and "no past cases to show" in shown.case_panel.value
    assert shown.rule_choice_box.layout.display == "none"


def test_the_case_table_is_the_credit_modules_in_its_order(display, fitted):
    model, past, new = fitted
    for label in new.index[8:11]:
        row = new.loc[[label]]
        display.show(row)
        truth = case_table(past, display.explanation, row, max_cases=10)
        assert display.cases.table.index.tolist() == truth.table.index.tolist()
        assert display.cases.table.equals(truth.table)
        text = display.case_panel.value
        shown = re.findall(r"<tr data-case='([^']+)'>", text)
        assert shown == [str(i) for i in truth.table.index]
        assert shown[0] == "Current" and len(shown) == 1 + min(10, truth.n_satisfying)
        assert f"{truth.n_satisfying:,} past cases satisfy the rule" in text
        header = re.findall(r"<th class='([^']*)' data-feature='([^']+)'>", text)
        ruled = [name for cls, name in header if cls == "nbexplain-fico-rulecol"]
        assert ruled == list(truth.rule_features) and [n for _, n in header][: len(ruled)] == ruled
        first = text.split("<tr data-case='Current'>", 1)[1].split("</tr>", 1)[0]
        assert first.count(RULE_STYLE) == len(truth.rule_features)


# ----------------------------------------------------------------------------- errors
def test_bad_input_shows_in_the_error_area(fitted):
    model, past, new = fitted
    shown = FicoDisplay(model, past, new.iloc[:2], background=False)
    good = dict(shown.view.values)
    shown.view.values = {**good, "AverageMInFile": -3}
    message = shown.errors.widget.value
    assert shown.errors.widget.layout.display == "block"
    assert "negative values that are not special values" in message and "AverageMInFile" in message
    assert shown.view.kernel["error"] and shown.view.kernel["values"]["AverageMInFile"] == -3
    shown.view.values = {**good, "AverageMInFile": None}
    assert "AverageMInFile must be a number" in shown.errors.widget.value
    shown.view.values = {k: v for k, v in good.items() if k != "MaxDelqEver"}
    assert "lacks feature(s) ['MaxDelqEver']" in html.unescape(shown.errors.widget.value)
    shown.view.values = {**good, "AverageMInFile": 40}
    assert shown.errors.widget.layout.display == "none" and "error" not in shown.view.kernel
    with pytest.raises(NBExplainError, match="Unknown demo applicant 'Demo 9'"):
        shown.show("Demo 9")
    with pytest.raises(NBExplainError, match="feature"):
        shown.edit(NoSuchFeature=1)
    other = AdditiveRiskModel(C=0.5).fit(new, (new["ExternalRiskEstimate"] < 70).astype(int))
    with pytest.raises(NBExplainError, match="another model"):
        FicoDisplay(other, past)
    with pytest.raises(NBExplainError, match="PastCases"):
        FicoDisplay(model, new)


# ----------------------------------------------------------------------------- background and demo
def test_rules_are_solved_in_the_background_with_a_visible_state(fitted):
    model, past, new = fitted
    shown = FicoDisplay(model, past, new.iloc[20:23])
    assert shown.wait(60)
    assert shown.rule is not None and shown.view.marks["rule"]
    row = new.iloc[[40]]
    shown.show(row)
    assert "computing the rule for this applicant" in shown.rule_panel.value
    assert "nbexplain-fico-stale" in shown.case_panel._dom_classes
    assert shown.wait(60)
    truth = SetCoverExplainer(past).explain(row)
    assert shown.rule.conditions == truth.rule.conditions and shown.rule.support == truth.rule.support
    assert "nbexplain-fico-stale" not in shown.case_panel._dom_classes
    shown.show("Demo 2")  # precomputed while idle: memoised, shown at once
    assert "computing" not in shown.rule_panel.value and "For all" in shown.rule_panel.value
    # many edits in a row: only the last applicant's rule is shown
    for value in (30, 50, 70, 90):
        shown.edit(ExternalRiskEstimate=value)
    assert shown.wait(60)
    assert shown.explanation.applicant_steps.tolist() == shown.computation.steps.astype(bool).tolist()


def test_the_generic_views_follow_the_display_and_back(fitted):
    from nbexplain.engine.protocol import ModelExplainers
    from nbexplain.widgets import ExplorerController, ExplorerData

    model, past, new = fitted
    shown = FicoDisplay(model, past, new.iloc[5:8], background=False)
    data = ExplorerData(ModelExplainers.for_additive(model), new, outcome="P(Bad)", class_labels=("Good", "Bad"))
    controller = ExplorerController(data, progress=False)
    shown.follow(controller)
    assert controller.position == 5 and not controller.sample.edited, "the demo applicant is the controller's row 5"
    controller.pick(42)
    assert shown.values == {f: float(v) for f, v in new.iloc[42].items()}
    assert shown.computation.probability == pytest.approx(controller.sample.prediction, abs=1e-12)
    shown.edit(ExternalRiskEstimate=30, NumInqLast6M=9)
    assert controller.sample.edited and controller.position == 42
    assert dict(controller.sample.edits) == {"ExternalRiskEstimate": 30, "NumInqLast6M": 9}
    assert controller.sample.prediction == pytest.approx(shown.computation.probability, abs=1e-12)
    shown.show("Demo 3")
    assert controller.position == 7 and not controller.sample.edited


def test_the_display_is_a_widget_and_the_demo_dashboard_offers_it():
    from nbexplain.widgets.demo import CHOICES, FICO, demo_dashboard, fico_demo

    page = demo_dashboard(models=(FICO,))
    shown = page.dashboards[FICO]
    assert isinstance(shown, FicoDisplay)
    assert page.children[0].options[0] == ("FICO HELOC: two-layer additive model", FICO) == (CHOICES[FICO], FICO)
    assert "application/vnd.jupyter.widget-view+json" in shown._repr_mimebundle_()
    demo = fico_demo()
    assert demo.past.n_cases > 7000 and len(demo.cases) == 6
    assert [c["label"] for c in shown.demo] == [f"Demo {k}" for k in range(1, 7)]
    assert {"Bad", "Good"} == {"Bad" if "predicted Bad" in c["note"] else "Good" for c in shown.demo}
    assert shown.wait(120) and shown.rule is not None
    assert inspect.signature(demo_dashboard).parameters["models"].default[-1] == FICO
    picker, local, reasons = shown.generic
    assert shown.controller.sample.values == {f: shown.values[f] for f in HELOC_FEATURES}
    picker.index.value = 3
    assert shown.values == {f: float(v) for f, v in demo.X_test.iloc[3].items()}


# ----------------------------------------------------------------------------- in a browser
NOTEBOOK = """\
from nbexplain.credit import PastCases
from nbexplain.datasets import make_heloc
from nbexplain.datasets.heloc import HELOC_FEATURES, HELOC_TARGET
from nbexplain.model.additive import AdditiveRiskModel
from nbexplain.widgets import FicoDisplay

frame = make_heloc(n=2600, seed=11)
frame = frame[~(frame[list(HELOC_FEATURES)] == -9).all(axis=1)]
X, y = frame[list(HELOC_FEATURES)], frame[HELOC_TARGET]
model = AdditiveRiskModel().fit(X.iloc[:2000], y.iloc[:2000])
past = PastCases.from_model(model, X.iloc[:2000], y.iloc[:2000])
FicoDisplay(model, past, X.iloc[2000:2005], title="FICO entry on a small HELOC sample")"""
DEMO = "from nbexplain.widgets.demo import demo_dashboard\n\ndemo_dashboard(models=('fico_heloc', 'credit_fcn'))"


def write_notebooks(folder):
    for name, source in (("fico.ipynb", NOTEBOOK), ("demo.ipynb", DEMO)):
        notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
        notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(notebook, folder / name)


@pytest.fixture(scope="module")
def voila_folder(tmp_path_factory):
    from browser_fixtures import _require_chromium

    from nbexplain.serve import VoilaServer

    _require_chromium()
    folder = tmp_path_factory.mktemp("fico-voila")
    write_notebooks(folder)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with VoilaServer(folder, log=ARTIFACTS / "voila-fico.log") as server:
        yield server


@pytest.fixture(scope="module")
def fico_page(browser, voila_folder):
    page = open_page(browser, width=1440, height=1300)
    page.goto(voila_folder.url + "voila/render/fico.ipynb", timeout=120_000)
    page.locator(".nbexplain-fico .fx-feature").first.wait_for(timeout=120_000)
    yield page
    page.context.close()


#: Records when the shown P(Bad) text last changed, and when the first input event of an edit fired.
WATCH = """() => {
  const root = document.querySelector('.nbexplain-fico');
  const prob = root.querySelector('.fx-prob');
  window.__fico = {edit: null, changed: null, frame: null, checked: null, factors: null};
  root.addEventListener('input', (e) => { if (window.__fico.edit === null) window.__fico.edit = e.timeStamp; }, true);
  root.addEventListener('click', (e) => { if (window.__fico.edit === null) window.__fico.edit = e.timeStamp; }, true);
  new MutationObserver(() => {
    if (window.__fico.changed === null && window.__fico.edit !== null) {
      window.__fico.changed = performance.now();
      requestAnimationFrame(() => { window.__fico.frame = performance.now(); });
    }
  }).observe(prob, {childList: true, characterData: true, subtree: true});
  new MutationObserver(() => {
    const check = root.querySelector('.fx-check').textContent;
    if (window.__fico.checked === null && window.__fico.edit !== null && check.includes('Python agrees'))
      window.__fico.checked = performance.now();
  }).observe(root.querySelector('.fx-check'), {childList: true, characterData: true, subtree: true});
  new MutationObserver(() => {
    if (window.__fico.factors === null && window.__fico.edit !== null) window.__fico.factors = performance.now();
  }).observe(document.querySelector('.nbexplain-fico-factors'), {childList: true, characterData: true, subtree: true});
}"""
RESET = "() => { window.__fico = {edit: null, changed: null, frame: null, checked: null, factors: null}; }"


def timed(page, action):
    """Milliseconds from the edit's first event to the P(Bad) text changing, to the next frame,
    to Python's check coming back and to the factors panel (from Python) changing."""
    page.evaluate(RESET)
    before = page.locator(".nbexplain-fico .fx-prob").inner_text()
    action()
    page.wait_for_function(
        "() => window.__fico.frame !== null && window.__fico.checked !== null && window.__fico.factors !== null",
        timeout=20_000,
    )
    times = page.evaluate("() => window.__fico")
    after = page.locator(".nbexplain-fico .fx-prob").inner_text()
    assert after != before
    return {
        "text_ms": times["changed"] - times["edit"],
        "frame_ms": times["frame"] - times["edit"],
        "python_ms": times["checked"] - times["edit"],
        "factors_ms": times["factors"] - times["edit"],
    }


@pytest.mark.browser
def test_the_computation_renders_in_voila(fico_page, screenshots):
    page = fico_page
    root = page.locator(".nbexplain-fico")
    assert root.locator(".fx-feature").count() == 23
    assert root.locator(".fx-sub").count() == 10 and root.locator(".fx-block").count() == 10
    assert root.locator(".fx-region").count() == sum(
        len(feature_regions(f, HELOC_RECIPE.special_values)) for f in HELOC_RECIPE.features
    )
    assert root.locator(".fx-region.fx-active").count() == 23, "one active interval per feature"
    assert root.locator(".fx-output tr[data-subscale]").count() == 10
    assert re.fullmatch(r"\d+\.\d %", root.locator(".fx-prob").inner_text())
    root.locator(".fx-check", has_text="Python agrees").wait_for(timeout=30_000)
    root.locator('.fx-sub[data-subscale="Delinquency"]').click()
    detail = root.locator('.fx-sub[data-subscale="Delinquency"] .fx-sdetail')
    assert "bias c" in detail.inner_text() and "logit z" in detail.inner_text()
    root.locator('.fx-feature[data-feature="ExternalRiskEstimate"] .fx-fname').click()
    page.locator(".nbexplain-fico-rules", has_text="For all").wait_for(timeout=60_000)
    tall(page, lambda: root.screenshot(path=screenshots / "fico-computation.png"))
    assert not page.errors


def tall(page, action, height=2600):
    """Run ``action`` (a screenshot) in a viewport tall enough for the whole display: Voila
    scrolls its own panel, so a full-page screenshot stops at the viewport."""
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": height})
    try:
        page.wait_for_timeout(200)
        action()
    finally:
        page.set_viewport_size(size)


@pytest.mark.browser
def test_an_edit_updates_the_probability_within_100_ms(fico_page):
    page = fico_page
    page.evaluate(WATCH)
    root = page.locator(".nbexplain-fico")
    measured = []
    for feature, value in [
        ("ExternalRiskEstimate", "52"),
        ("ExternalRiskEstimate", "92"),
        ("NetFractionRevolvingBurden", "95"),
        ("NetFractionRevolvingBurden", "0"),
        ("ExternalRiskEstimate", "60"),
    ]:
        field = root.locator(f'.fx-feature[data-feature="{feature}"] input')

        def edit(field=field, value=value):
            field.fill(value)
            field.press("Enter")

        measured.append({"edit": f"{feature} = {value} (typed)", **timed(page, edit)})
    special = root.locator('.fx-feature[data-feature="ExternalRiskEstimate"] .fx-region[data-region="7"]')
    measured.append({"edit": "ExternalRiskEstimate = -9 (interval clicked)", **timed(page, special.click)})
    (ARTIFACTS / "fico-latency.json").write_text(json.dumps(measured, indent=1))
    print("\nedit -> P(Bad) text changed / next frame / Python's check back / factors panel (ms):")
    for m in measured:
        times = " ".join(f"{m[k]:7.1f}" for k in ("text_ms", "frame_ms", "python_ms", "factors_ms"))
        print(f"  {m['edit']:<48} {times}")
    assert max(m["text_ms"] for m in measured) < 100
    assert max(m["frame_ms"] for m in measured) < 100
    assert not page.errors


@pytest.mark.browser
def test_the_rule_panel_and_case_table_follow_the_applicant(fico_page, screenshots):
    page = fico_page
    rules = page.locator(".nbexplain-fico-rules")
    root = page.locator(".nbexplain-fico")
    root.locator(".fx-case").select_option(value="Demo 2")
    root.locator(".fx-check", has_text="Python agrees").wait_for(timeout=30_000)  # Python has this applicant
    settled(page)
    text = rules.inner_text()
    assert re.search(r"For all [\d,]+ people whose:", text) and "all of them were predicted" in text
    assert re.search(r"Their actual outcomes: [\d,]+ Bad, [\d,]+ Good\.", text)
    cases = page.locator(".nbexplain-fico-cases table tbody tr")
    assert cases.count() >= 2 and cases.first.locator("th").inner_text() == "Current"
    assert page.locator(".nbexplain-fico-cases thead th.nbexplain-fico-rulecol").count() >= 1
    assert page.locator(".nbexplain-fico-factors li").count() >= 1
    root.locator(".fx-tag-rule").first.wait_for(timeout=10_000)

    def shoot():
        page.locator(".nbexplain-fico-display").screenshot(path=screenshots / "fico-display.png")
        box = page.locator(".nbexplain-fico-factors").evaluate(
            "n => { const a = n.closest('.widget-hbox').getBoundingClientRect();"
            " const b = document.querySelector('.nbexplain-fico-cases').getBoundingClientRect();"
            " return {x: 0, y: a.top, width: window.innerWidth, height: b.bottom - a.top + 8}; }"
        )
        page.screenshot(path=screenshots / "fico-rules.png", clip=box)

    tall(page, shoot)
    # an edit solves the new applicant's rule, with a visible state meanwhile
    field = root.locator('.fx-feature[data-feature="MaxDelqEver"] input')
    field.fill("3")
    field.press("Enter")
    root.locator(".fx-check", has_text="Python agrees").wait_for(timeout=30_000)
    settled(page)
    assert not page.errors


def settled(page, timeout=60_000):
    """Wait until the rule panel shows a rule (not the "computing" state)."""
    page.wait_for_function(
        "() => { const t = document.querySelector('.nbexplain-fico-rules').innerText;"
        " return !t.includes('computing') && t.includes('For all'); }",
        timeout=timeout,
    )


@pytest.mark.browser
def test_bad_input_shows_in_the_page_error_area(fico_page):
    page = fico_page
    field = page.locator('.nbexplain-fico .fx-feature[data-feature="AverageMInFile"] input')
    field.fill("-3")
    field.press("Enter")
    error = page.locator(".nbexplain-error")
    error.locator("text=AverageMInFile").wait_for(timeout=10_000)
    assert "special value" in error.inner_text()
    assert "refused" in page.locator(".nbexplain-fico .fx-check").inner_text()
    field.fill("40")
    field.press("Enter")
    page.locator(".nbexplain-fico .fx-check", has_text="Python agrees").wait_for(timeout=10_000)
    error.wait_for(state="hidden", timeout=10_000)
    assert not page.errors


@pytest.mark.browser
def test_the_demo_dashboard_offers_the_fico_model(browser, voila_folder, screenshots):
    page = open_page(browser, width=1440, height=1200)
    try:
        page.goto(voila_folder.url + "voila/render/demo.ipynb", timeout=120_000)
        page.locator(".nbexplain-fico .fx-feature").first.wait_for(timeout=120_000)
        buttons = page.locator(".nbexplain-model-choice button").all_inner_texts()
        assert "FICO HELOC: two-layer additive model" in buttons and len(buttons) == 2
        assert page.locator(".nbexplain-fico .fx-feature").count() == 23
        settled(page)
        page.screenshot(path=screenshots / "fico-demo-dashboard.png")
        # the generic views on the same model: picking a row shows it in the computation
        page.locator(".nbexplain-local svg rect.bar").first.wait_for(timeout=60_000)
        value = page.locator('.nbexplain-fico .fx-feature[data-feature="ExternalRiskEstimate"] input')
        before = [value.input_value(), page.locator(".nbexplain-fico .fx-prob").inner_text()]
        page.locator(".nbexplain-picker button", has_text="next").click()
        deadline = time.monotonic() + 10
        while [value.input_value(), page.locator(".nbexplain-fico .fx-prob").inner_text()] == before:
            assert time.monotonic() < deadline, "the picked row did not reach the computation"
            time.sleep(0.05)
        assert page.locator(".nbexplain-fico .fx-case").input_value() == ""
        page.locator(".nbexplain-fico .fx-check", has_text="Python agrees").wait_for(timeout=20_000)
        tall(page, lambda: page.screenshot(path=screenshots / "fico-demo-generic.png"), height=3400)
        assert not page.errors
    finally:
        page.context.close()


@pytest.mark.browser
def test_the_display_renders_in_jupyterlab(tmp_path, page, screenshots):
    from browser_fixtures import _require_chromium

    from nbexplain.serve import LocalServer

    _require_chromium()
    write_notebooks(tmp_path)

    def command(port):
        return [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            f"--port={port}",
            "--ServerApp.ip=127.0.0.1",
            "--ServerApp.port_retries=0",
            "--IdentityProvider.token=",
            "--ServerApp.password=",
            "--ServerApp.disable_check_xsrf=True",
            f"--ServerApp.root_dir={tmp_path}",
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--allow-root",
        ]

    env = {
        "JUPYTER_RUNTIME_DIR": str(tmp_path / ".runtime"),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / ".ws"),
        "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / ".settings"),
    }
    log = ARTIFACTS / "jupyterlab-fico.log"
    with LocalServer(command, "api/status", log=log, name="jupyter lab", env=env) as lab:
        page.set_viewport_size({"width": 1440, "height": 1100})
        page.goto(lab.url + "lab/tree/fico.ipynb", timeout=120_000)
        page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=120_000)
        page.locator("#jp-main-statusbar", has_text="Idle").wait_for(timeout=120_000)
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        page.locator(".lm-Menu-itemLabel").get_by_text("Run All Cells", exact=True).click()
        page.locator(".nbexplain-fico .fx-feature").first.wait_for(state="attached", timeout=120_000)
        root = page.locator(".nbexplain-fico")
        assert root.locator(".fx-feature").count() == 23
        root.locator(".fx-check", has_text="Python agrees").wait_for(timeout=60_000)
        before = root.locator(".fx-prob").inner_text()
        field = root.locator('.fx-feature[data-feature="ExternalRiskEstimate"] input')
        field.fill("50" if float(field.input_value()) >= 64 else "90")
        field.press("Enter")
        deadline = time.monotonic() + 5
        while root.locator(".fx-prob").inner_text() == before and time.monotonic() < deadline:
            time.sleep(0.02)
        assert root.locator(".fx-prob").inner_text() != before
        root.locator(".fx-check", has_text="Python agrees").wait_for(timeout=30_000)
        settled(page)
        outputs = " ".join(page.locator(".jp-OutputArea-output").all_inner_texts())
        assert "Error displaying widget" not in outputs and "Traceback" not in outputs
        page.screenshot(path=screenshots / "fico-jupyterlab.png")
        assert not page.errors
