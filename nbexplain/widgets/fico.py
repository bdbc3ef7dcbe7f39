"""The display of the FICO Explainable ML Challenge entry (Chen, Lin, Rudin, Shaposhnik, Wang &
Wang 2018): the whole computation of a two-layer additive risk model for one applicant, beside its
three explanations.

* **The computation** is a custom front-end (``js/fico.js``, an anywidget ES module). Python sends
  the model's structure once (:func:`fico_structure`: step columns with their bounds and weights,
  each feature's intervals, the subscales with their intercepts and output weights); the page
  recomputes the whole computation itself on every edit, so the view follows an edit at once even
  while the kernel is busy solving a rule. The edit then reaches Python (``values``), which
  recomputes it with :meth:`AdditiveRiskModel.computation` and sends its own numbers back
  (``kernel``): the page says "Python agrees" when they match to 1e-12.
* **Beside it**, from Python: the most important contributing factors
  (:func:`~nbexplain.credit.contributing_factors`), the globally consistent rule
  (:class:`~nbexplain.credit.SetCoverExplainer`: solved on demand for the shown applicant in a
  background thread, memoised, with a visible "computing" state) and the case table
  (:func:`~nbexplain.credit.case_table`: past cases satisfying the rule, most similar first, the
  rule's features marked).

``FicoDisplay(model, past_cases, cases=X_test.iloc[:5])`` in a notebook cell; serve the notebook
with Voila for a dashboard. The embedded demo's page is
:func:`nbexplain.widgets.demo.fico_dashboard`.
"""

from __future__ import annotations

import functools
import html
import math
import threading
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import traitlets

from .._static import front_end_base, static_file
from ..credit.cases import CaseTable, case_table
from ..credit.factors import ContributingFactors, contributing_factors
from ..credit.reasons import denied
from ..credit.rules import ConsistentRule, PastCases, SetCoverExplainer, SetCoverExplanation
from ..engine.additive import check_model
from ..errors import InputDataError, NBExplainError, unknown_name
from ..model.additive import AdditiveRiskModel, FeatureSteps
from ._errors import ErrorArea

#: What the explained score is called.
OUTCOME = "P(Bad)"
#: Demo applicants chosen from the past cases when none are given.
DEFAULT_CASES = 4


@functools.cache
def _widget_class():
    class FicoWidget(front_end_base("The FICO display")):
        """The computation view; ``values`` is the one trait the browser edits."""

        _esm = static_file("fico.js")
        structure = traitlets.Dict().tag(sync=True)
        cases = traitlets.List().tag(sync=True)
        values = traitlets.Dict().tag(sync=True)
        case = traitlets.Unicode("").tag(sync=True)
        kernel = traitlets.Dict().tag(sync=True)
        marks = traitlets.Dict().tag(sync=True)

    return FicoWidget


# --------------------------------------------------------------------------- structure
def _text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _span(first: float, last: float | None) -> str:
    """``"64\u201370"``, ``"12"`` or ``"\u226581"`` (``last`` None: no upper end)."""
    if last is None:
        return f"\u2265{_text(first)}"
    return _text(first) if first == last else f"{_text(first)}\u2013{_text(last)}"


def feature_regions(feature: FeatureSteps, special_values: Mapping) -> list[dict]:
    """The intervals on which a feature's step columns are constant, ordinary values first, then
    one per special value: ``{label, value, special, meaning}`` where ``value`` is a value inside
    the interval (the one a click on it sets). Together they cover every value the model reads,
    and no two share their step columns."""
    inf = math.inf
    cuts = feature.cuts
    regions = []
    if feature.kind in ("<", "bins"):  # [low, high)
        edges = (0.0, *cuts, inf) if feature.kind == "<" else (*cuts, inf)
        for low, high in zip(edges[:-1], edges[1:]):
            if feature.integer:
                first = float(math.ceil(low))
                last = None if high == inf else float(math.ceil(high) - 1)
                label = _span(first, last) if last is None or first <= last else f"[{_text(low)}, {_text(high)})"
            else:
                label = f"\u2265{_text(low)}" if high == inf else f"[{_text(low)}, {_text(high)})"
            regions.append({"label": label, "value": float(low), "special": False, "meaning": ""})
    else:  # ">": [0, t1], (t1, t2], ..., (tk, inf)
        edges = (*cuts, inf)
        if cuts[0] >= 0:
            last = float(math.floor(cuts[0])) if feature.integer else None
            label = _span(0.0, last) if feature.integer else f"[0, {_text(cuts[0])}]"
            regions.append({"label": label, "value": 0.0, "special": False, "meaning": ""})
        for low, high in zip(edges[:-1], edges[1:]):
            candidate = float(math.floor(low) + 1)
            inside = candidate <= high
            value = candidate if inside else (low + high) / 2
            if feature.integer and inside:
                label = _span(candidate, None if high == inf else float(math.floor(high)))
            else:
                label = f">{_text(low)}" if high == inf else f"({_text(low)}, {_text(high)}]"
            regions.append({"label": label, "value": value, "special": False, "meaning": ""})
    for value, meaning in special_values.items():
        regions.append({"label": _text(value), "value": float(value), "special": True, "meaning": str(meaning)})
    return regions


def fico_structure(model: AdditiveRiskModel, past: PastCases | None = None, outcome: str = OUTCOME) -> dict:
    """What the front-end needs to recompute the whole computation of ``model`` (JSON-able):
    every step column's bounds and weight, each feature's intervals, the subscales' intercepts and
    output weights, the output intercept and the decision threshold (``past.threshold``, else 0.5).
    ``past`` gives each feature a typical ordinary value (its median there)."""
    model = check_model(model)
    recipe = model.recipe
    columns = recipe.columns
    by_feature = {name: [] for name in recipe.feature_names}
    for i, column in enumerate(columns):
        by_feature[column.feature].append(i)
    raw = None if past is None or past.raw is None else past.raw
    features = []
    for j, feature in enumerate(recipe.features):
        regions = feature_regions(feature, recipe.special_values)
        typical = next(r["value"] for r in regions if not r["special"])
        if raw is not None and feature.name in raw:
            ordinary = np.asarray(raw[feature.name], dtype=float)
            ordinary = ordinary[ordinary >= 0]
            if ordinary.size:
                typical = float(np.median(ordinary))
                typical = float(round(typical)) if feature.integer else typical
        features.append(
            {
                "name": feature.name,
                "kind": feature.kind,
                "subscale": int(recipe.feature_subscale[j]),
                "integer": bool(feature.integer),
                "columns": by_feature[feature.name],
                "regions": regions,
                "typical": typical,
            }
        )
    subscales = []
    for s, name in enumerate(recipe.subscales):
        subscales.append(
            {
                "name": name,
                "intercept": float(model.subscale_intercepts_[s]),
                "weight": float(model.output_weights_[s]),
                "features": [int(j) for j in np.flatnonzero(recipe.feature_subscale == s)],
                "columns": [int(i) for i in np.flatnonzero(recipe.column_subscale == s)],
            }
        )
    return {
        "outcome": outcome,
        "outcomes": list(model.classes_),
        "threshold": float(0.5 if past is None else past.threshold),
        "special_values": [{"value": int(v), "meaning": str(m)} for v, m in recipe.special_values.items()],
        "features": features,
        "columns": [
            {
                "name": c.name,
                "feature": int(recipe.column_feature[i]),
                "low": float(c.low),
                "high": None if c.high == math.inf else float(c.high),
                "strict": bool(c.strict),
                "weight": float(model.weights_[i]),
                "condition": c.condition,
            }
            for i, c in enumerate(columns)
        ],
        "subscales": subscales,
        "output_intercept": float(model.output_intercept_),
        "fingerprint": model.fingerprint(),
    }


# --------------------------------------------------------------------------- panels (HTML)
def _number(value: Any) -> str:
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return html.escape(str(value))


def _at_most(size: int) -> str:
    return f"\u2264 {size} condition" + ("" if size == 1 else "s")


def factors_html(factors: ContributingFactors, outcome: str = OUTCOME) -> str:
    """The most important contributing factors as the seed's Figure 5: numbered conditions, most
    important first, each with its subscale."""
    head = (
        f"<div class='nbexplain-fico-title'>Most important contributing factors</div>"
        f"<div class='nbexplain-fico-note'>Predicted <b>{html.escape(factors.predicted)}</b> "
        f"({outcome} {factors.probability:.1%}); the factors pushing it {html.escape(factors.direction)}."
    )
    if factors.direction == "toward Good":
        head += (
            " The entry defines them for a Bad prediction; for a Good one they are the conditions pushing hardest"
            " toward Good, measured against the average applicant of the training data."
        )
    head += "</div>"
    if not factors.factors:
        return head + "<p>No step column of this applicant pushes that way.</p>"
    items = "".join(
        f"<li data-feature='{html.escape(f.feature)}'>"
        f"<span class='nbexplain-fico-factor'>{html.escape(f.condition)}</span> "
        f"<span class='nbexplain-fico-note'>{html.escape(f.text[len(f.condition) :].strip())} "
        f"\u00b7 {f.points:.3f} points</span></li>"
        for f in factors.factors
    )
    return head + f"<ol class='nbexplain-fico-factor-list'>{items}</ol>"


def rule_html(explanation: SetCoverExplanation, rule: ConsistentRule | None, n_past: int, outcome_word: Mapping) -> str:
    """The rule as the seed's Figure 6 ("For all N people whose ... all of them were predicted
    ..."), its support by actual outcome, whether it is proven optimal, and how it was found; or
    that no consistent rule exists."""
    title = "<div class='nbexplain-fico-title'>Globally consistent rule</div>"
    if rule is None:
        return (
            title + f"<p class='nbexplain-fico-norule'><b>No consistent rule exists.</b> "
            f"{html.escape(explanation.text)}</p>"
        )
    predicted = html.escape(rule.predicted)
    meaning = outcome_word.get(rule.predicted, "")
    predicted_text = f"<b>{predicted}</b>" + (f" ({html.escape(meaning)})" if meaning else "")
    if rule.conditions:
        conditions = "<br><i>and</i> ".join(f"<b>{html.escape(c)}</b>" for c in rule.conditions)
        body = (
            f"<p>For all <b class='nbexplain-fico-support'>{rule.support:,}</b> people whose:</p>"
            f"<div class='nbexplain-fico-conditions'>{conditions}</div>"
            f"<p>all of them were predicted {predicted_text}.</p>"
        )
    else:
        body = (
            f"<p>All <b class='nbexplain-fico-support'>{rule.support:,}</b> past cases were predicted "
            f"{predicted_text}: no condition is needed.</p>"
        )
    if rule.by_outcome:
        counts = ", ".join(f"<b>{n:,}</b> {html.escape(name)}" for name, n in rule.by_outcome.items())
        body += f"<p class='nbexplain-fico-outcomes'>Their actual outcomes: {counts}.</p>"
    if not rule.optimal:
        body += (
            "<p class='nbexplain-fico-caveat'><b>Not proven optimal:</b> the search stopped at its time or node "
            "limit; this is the best rule it found.</p>"
        )
    minimum = explanation.minimum
    kind = "fewest conditions" if rule.max_size is None else f"the most support with {_at_most(rule.max_size)}"
    facts = (
        f"Shown: {kind}. The fewest conditions possible: {minimum.size}"
        f"{'' if minimum.optimal else ' (not proven minimal)'} (support {minimum.support:,}). "
        f"Consistent with all {n_past:,} past cases: none predicted otherwise satisfies it."
    )
    seconds = explanation.meta.get("seconds")
    if seconds is not None:
        facts += f" Solved in {seconds:.2f} s (memoised)."
    return title + body + f"<div class='nbexplain-fico-note'>{html.escape(facts)}</div>"


#: Case-table colours: the rule's features (dark), values in the applicant's interval (light).
RULE_STYLE = "background:#1f4e79;color:white"
SAME_STYLE = "background:#d6eaf8"


def case_table_html(cases: CaseTable, similarity_of: int) -> str:
    """The case table as the seed's Figure 7: the applicant ("Current") then the past cases
    satisfying the rule, most similar first; the rule's features dark, other values in the
    applicant's step interval light."""
    table = cases.table
    features = list(cases.same.columns)
    head = "".join(
        f"<th>{html.escape(str(c))}</th>" for c in ["case", "predicted", "actual", f"similarity (of {similarity_of})"]
    )
    head += "".join(
        f"<th class='{'nbexplain-fico-rulecol' if f in cases.rule_features else ''}' data-feature='{html.escape(f)}'>"
        f"{html.escape(f)}</th>"
        for f in features
    )
    rows = []
    for label, record in table.iterrows():
        cells = [f"<th>{html.escape(str(label))}</th>"]
        cells += [f"<td>{_number(record[c])}</td>" for c in ("predicted", "actual", "similarity")]
        for f in features:
            if f in cases.rule_features:
                style = RULE_STYLE
            elif bool(cases.same.loc[label, f]):
                style = SAME_STYLE
            else:
                style = ""
            cells.append(f"<td style='{style}'>{_number(record[f])}</td>")
        rows.append(f"<tr data-case='{html.escape(str(label))}'>{''.join(cells)}</tr>")
    shown = len(table) - 1
    note = (
        f"{cases.n_satisfying:,} past cases satisfy the rule (all predicted {html.escape(cases.rule.predicted)}); "
        f"the {shown} most similar are shown: similarity counts the step columns equal to the applicant's, over "
        f"the {similarity_of} the model uses (ties in row order). Dark: the rule's features; light: a value in the "
        "applicant's interval."
    )
    return (
        "<div class='nbexplain-fico-title'>Case-based explanation</div>"
        f"<div class='nbexplain-fico-note'>{note}</div>"
        f"<div class='nbexplain-fico-tablebox'><table class='nbexplain-fico-casetable'>"
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


PANEL_STYLE = """<style>
.nbexplain-fico-display { font-size: 13px; }
.nbexplain-fico-display .widget-html-content { line-height: 1.45; }
.nbexplain-fico-display .widget-html-content p { margin: 4px 0; }
.nbexplain-fico-display .nbexplain-fico-title { font-weight: 650; font-size: 14px; margin: 0 0 4px; }
.nbexplain-fico-display .nbexplain-fico-note { color: #555; font-size: 12px; }
.nbexplain-fico-display .nbexplain-fico-panel { border: 1px solid #d5dbe0; border-radius: 5px; padding: 6px 10px; }
.nbexplain-fico-display .nbexplain-fico-conditions { margin: 0 0 0 18px; line-height: 1.6; }
.nbexplain-fico-display .nbexplain-fico-caveat { color: #8a4b00; }
.nbexplain-fico-display .nbexplain-fico-computing { color: #1f4e79; font-weight: 600; }
.nbexplain-fico-display .nbexplain-fico-stale { opacity: 0.45; }
.nbexplain-fico-display .nbexplain-fico-tablebox { overflow-x: auto; max-width: 100%; }
.nbexplain-fico-display table.nbexplain-fico-casetable { border-collapse: collapse; font-size: 11px;
  font-variant-numeric: tabular-nums; }
.nbexplain-fico-display table.nbexplain-fico-casetable th, .nbexplain-fico-display table.nbexplain-fico-casetable td {
  border: 1px solid #e3e6e8; padding: 1px 4px; text-align: right; white-space: nowrap; }
.nbexplain-fico-display table.nbexplain-fico-casetable thead th { writing-mode: vertical-rl; transform: rotate(180deg);
  text-align: left; vertical-align: bottom; font-weight: 600; padding: 4px 1px; }
.nbexplain-fico-display table.nbexplain-fico-casetable thead th.nbexplain-fico-rulecol {
  background: #1f4e79; color: white; }
.nbexplain-fico-display table.nbexplain-fico-casetable tbody tr:first-child {
  font-weight: 700; border-bottom: 2px solid #555; }
.nbexplain-fico-display ol.nbexplain-fico-factor-list { margin: 4px 0 0; padding-left: 22px; line-height: 1.5; }
.nbexplain-fico-display .nbexplain-fico-factor { font-weight: 600; }
</style>"""


# --------------------------------------------------------------------------- background work
class LatestWorker:
    """Runs submitted jobs one at a time in a daemon thread, keeping only the latest job not yet
    started (an older one is dropped: the applicant it was for is no longer shown); when idle,
    runs the background jobs (``prefetch``) one by one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._latest: Callable | None = None
        self._prefetch: list = []
        self._thread: threading.Thread | None = None
        self._idle = threading.Event()
        self._idle.set()

    def submit(self, job: Callable) -> None:
        with self._lock:
            self._latest = job
            self._start()

    def prefetch(self, jobs) -> None:
        with self._lock:
            self._prefetch.extend(jobs)
            self._start()

    def _start(self) -> None:
        self._idle.clear()
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="nbexplain-fico-rules", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            with self._lock:
                if self._latest is not None:
                    job, self._latest = self._latest, None
                elif self._prefetch:
                    job = self._prefetch.pop(0)
                else:
                    self._thread = None
                    self._idle.set()
                    return
            job()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every submitted job has run; False on timeout."""
        return self._idle.wait(timeout)


# --------------------------------------------------------------------------- the display
class FicoDisplay:
    """The whole computation of a two-layer additive risk model for one applicant, with its most
    important contributing factors, its globally consistent rule and its case table (module
    docstring).

    Parameters
    ----------
    model : AdditiveRiskModel
        The fitted model.
    past : PastCases
        The past cases the rules must be consistent with and the case table shows
        (``PastCases.from_model(model, X_train, y_train)``).
    cases : DataFrame, optional
        Demo applicants (raw rows; the index gives their labels) to pick from; by default a few
        past cases, predicted Bad and Good in turn.
    explainer : SetCoverExplainer, optional
        The rules' solver (its memo is kept); ``SetCoverExplainer(past)`` by default.
    max_cases : int
        Rows of the case table.
    background : bool
        Solve rules in a background thread (the kernel stays free for edits; a "computing" state
        shows meanwhile) and precompute the demo applicants' rules when idle. ``False`` solves in
        the callback (for scripts and tests).
    errors : ErrorArea, optional
        A shared error area (a display built alone shows its own).
    title : str, optional
        A heading above the display.
    """

    def __init__(
        self,
        model: AdditiveRiskModel,
        past: PastCases,
        cases: Any = None,
        *,
        explainer: SetCoverExplainer | None = None,
        max_cases: int = 10,
        background: bool = True,
        errors: ErrorArea | None = None,
        title: str | None = None,
        outcome_words: Mapping | None = None,
    ) -> None:
        import ipywidgets

        self.model = check_model(model)
        if not isinstance(past, PastCases):
            raise NBExplainError(
                f"past must be PastCases (PastCases.from_model(model, X, y)); got {type(past).__name__}."
            )
        if past.model is None or past.raw is None:
            raise NBExplainError(
                "The past cases need their model and raw rows: build them with PastCases.from_model(model, X, y)."
            )
        if past.model.fingerprint() != self.model.fingerprint():
            raise NBExplainError(
                "The past cases were encoded and predicted by another model; build them with "
                "PastCases.from_model(model, X, y) for this one."
            )
        if isinstance(max_cases, bool) or not isinstance(max_cases, int) or max_cases < 0:
            raise NBExplainError(f"max_cases must be a whole number 0 or more; got {max_cases!r}.")
        self.past = past
        self.threshold = float(past.threshold)
        self.explainer = SetCoverExplainer(past, progress=False) if explainer is None else explainer
        if self.explainer.past is not past:
            raise NBExplainError("The explainer must explain against the same past cases as the display.")
        self.max_cases = max_cases
        self.background = bool(background)
        self.outcome_words = dict(outcome_words or {"Bad": "to default", "Good": "to repay"})
        self.owns_errors = errors is None
        self.errors = ErrorArea() if errors is None else errors
        self.features = tuple(self.model.feature_names_in_)

        self.computation = None
        self.factors: ContributingFactors | None = None
        self.explanation: SetCoverExplanation | None = None
        self.rule: ConsistentRule | None = None
        self.cases: CaseTable | None = None
        self._row = None
        self._explained_row = None
        self._lock = threading.RLock()
        self._generation = 0
        self._solved: set = set()
        self._worker = LatestWorker()
        self._choosing = False
        self.controller = None

        self.demo = self._demo_cases(cases)
        self.view = _widget_class()(structure=fico_structure(self.model, past), cases=self.demo)
        self.view.add_class("nbexplain-fico-widget")
        self.factors_panel = ipywidgets.HTML()
        self.factors_panel.add_class("nbexplain-fico-factors")
        self.rule_choice = ipywidgets.ToggleButtons(options=[], style={"button_width": "auto"})
        self.rule_choice.add_class("nbexplain-fico-rule-choice")
        self.rule_panel = ipywidgets.HTML()
        self.rule_panel.add_class("nbexplain-fico-rules")
        self.case_panel = ipywidgets.HTML()
        self.case_panel.add_class("nbexplain-fico-cases")
        self.view.observe(self.errors.guard(self._on_values), names="values")
        self.rule_choice.observe(self.errors.guard(self._on_rule_choice), names="value")

        panel = {"border": "1px solid #d5dbe0", "padding": "6px 10px", "flex": "1 1 0", "min_width": "320px"}
        factors_box = ipywidgets.Box([self.factors_panel], layout=panel)
        self.rule_choice_label = ipywidgets.HTML("<span class='nbexplain-fico-note'>Show the rule with:</span>")
        choice = ipywidgets.HBox([self.rule_choice_label, self.rule_choice], layout={"align_items": "center"})
        self.rule_choice_box = choice
        rules_box = ipywidgets.VBox([self.rule_panel, choice], layout={**panel, "flex": "1.3 1 0"})
        cases_box = ipywidgets.Box([self.case_panel], layout={**panel, "flex": "1 1 auto", "overflow": "auto"})
        children = [ipywidgets.HTML(PANEL_STYLE)]
        if title:
            children.append(ipywidgets.HTML(f"<h3 style='margin:4px 0'>{html.escape(title)}</h3>"))
        if self.owns_errors:
            children.append(self.errors.widget)
        row = {"flex_flow": "row wrap", "align_items": "stretch", "width": "100%", "grid_gap": "10px"}
        children += [
            self.view,
            ipywidgets.HBox([factors_box, rules_box], layout=row),
            ipywidgets.HBox([cases_box], layout=row),
        ]
        self.widget = ipywidgets.VBox(children, layout={"width": "100%"})
        self.widget.add_class("nbexplain-fico-display")
        if self.demo:
            self.show(self.demo[0]["label"])
        if self.background:
            self._worker.prefetch([functools.partial(self._prefetch, entry["values"]) for entry in self.demo[1:]])

    # ------------------------------------------------------------ demo applicants
    def _demo_cases(self, cases: Any) -> list:
        import pandas as pd

        if cases is None:
            predicted = self.past.predicted
            order = [np.flatnonzero(predicted == c) for c in (1, 0)]
            chosen = [int(group[i]) for i in range(DEFAULT_CASES) for group in order if i < len(group)]
            frame = self.past.raw.iloc[chosen[:DEFAULT_CASES]]
            where = "past case"
        else:
            if isinstance(cases, pd.Series):
                cases = cases.to_frame().T
            if not isinstance(cases, pd.DataFrame):
                raise InputDataError(
                    f"cases must be a DataFrame of raw rows (one per demo applicant); got {type(cases).__name__}."
                )
            frame = cases
            where = "row"
        raw, labels = self.model.recipe.raw_rows(frame, "demo applicants")
        risk = self.model.head(self.model.recipe.steps_from_raw(raw))["probability"]
        outcome = np.where(denied(risk, self.threshold), self.model.classes_[1], self.model.classes_[0])
        return [
            {
                "label": f"Demo {k + 1}",
                "note": f"{where} {label}: predicted {outcome[k]}, {OUTCOME} {risk[k]:.1%}",
                "values": dict(zip(self.features, (float(v) for v in raw[k]))),
                "row": str(label),
            }
            for k, label in enumerate(labels or range(len(raw)))
        ]

    # ------------------------------------------------------------ public
    @property
    def values(self) -> dict:
        """The applicant shown: ``{feature: value}``."""
        return dict(self.view.values)

    def show(self, applicant: Any) -> None:
        """Show a demo applicant (its label, e.g. ``"Demo 2"``, or its position) or a raw row (a
        Series, a dict or a one-row DataFrame)."""
        if isinstance(applicant, (str, int, np.integer)) and not isinstance(applicant, bool):
            labels = [entry["label"] for entry in self.demo]
            if isinstance(applicant, str):
                if applicant not in labels:
                    raise unknown_name("demo applicant", applicant, labels)
                entry = self.demo[labels.index(applicant)]
            elif 0 <= int(applicant) < len(self.demo):
                entry = self.demo[int(applicant)]
            else:
                raise NBExplainError(f"There is no demo applicant {applicant}: the display has {len(self.demo)}.")
            with self.view.hold_sync():
                self.view.case = entry["label"]
                self.view.values = dict(entry["values"])
            return
        raw, _ = self.model.recipe.raw_rows(applicant, "applicant")
        if raw.shape[0] != 1:
            raise InputDataError(f"show() takes one applicant; got {raw.shape[0]} rows.")
        with self.view.hold_sync():
            self.view.case = ""
            self.view.values = dict(zip(self.features, (float(v) for v in raw[0])))

    def edit(self, changes: Mapping | None = None, **more) -> None:
        """Change some of the applicant's values, as an edit in the page does:
        ``display.edit(ExternalRiskEstimate=60)``."""
        changes = {**dict(changes or {}), **more}
        for name in changes:
            if name not in self.features:
                raise unknown_name("feature", name, self.features)
        with self.view.hold_sync():
            self.view.case = ""
            self.view.values = {**self.view.values, **changes}

    def follow(self, controller) -> FicoDisplay:
        """Keep this display and an :class:`~nbexplain.widgets.ExplorerController` of the same
        model on one applicant: a row picked in the generic views (picker, local importance,
        reasons) is shown here, and an edit here becomes ``controller.what_if`` (the picked row
        with every value that differs), so those views explain what this display shows. The
        controller's data must hold the model's features (``ModelExplainers.for_additive``)."""
        missing = [f for f in self.features if f not in controller.data.columns]
        if missing:
            raise InputDataError(f"The controller's rows lack the model's feature(s) {missing}.")
        self.controller = controller

        def picked(change):
            sample = change["new"]
            values = {f: float(sample.values[f]) for f in self.features}
            if values != self._shown():
                with self.view.hold_sync():
                    self.view.case = ""
                    self.view.values = values

        controller.observe(self.errors.guard(picked), names="sample")
        self._tell_controller(self.view.values)
        return self

    def _shown(self) -> dict:
        def number(value):
            try:
                return float(value)
            except (TypeError, ValueError):
                return None

        values = self.view.values
        return {f: number(values.get(f)) for f in self.features}

    def _tell_controller(self, values: Mapping) -> None:
        """Show ``values`` in the followed controller: its row with these values, else its picked
        row with the values that differ as a what-if edit."""
        controller = self.controller
        if controller is None:
            return
        if {f: float(controller.sample.values[f]) for f in self.features} == self._shown():
            return  # the controller already shows this applicant
        frame = controller.data.frame
        wanted = np.array([float(values[f]) for f in self.features])
        same = np.flatnonzero((frame[list(self.features)].to_numpy(dtype=float) == wanted).all(axis=1))
        if same.size:
            controller.pick(int(same[0]))
            return
        original = frame.iloc[controller.position]
        edits = {f: v for f, v in values.items() if f in original.index and float(original[f]) != float(v)}
        if edits:
            controller.what_if(edits)
        else:
            controller.pick(controller.position)

    def wait(self, timeout: float | None = 60.0) -> bool:
        """Block until the rules being solved in the background are shown; False on timeout."""
        return self._worker.wait(timeout)

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    # ------------------------------------------------------------ one applicant
    def _applicant(self, values: Mapping):
        """The edited values as a checked one-row DataFrame (every feature a finite number)."""
        import pandas as pd

        missing = [f for f in self.features if f not in values]
        if missing:
            raise InputDataError(f"The applicant lacks feature(s) {missing}.")
        row = {}
        for name in self.features:
            value = values[name]
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
                raise InputDataError(f"{name} must be a number; got {value!r}.")
            if not math.isfinite(float(value)):
                raise InputDataError(f"{name} must be a finite number; got {value!r}.")
            row[name] = [float(value)]
        frame = pd.DataFrame(row)
        self.model.recipe.raw_rows(frame, "applicant")  # negative values must be special values
        return frame

    def _on_values(self, change) -> None:
        values = dict(change["new"])
        try:
            row = self._applicant(values)
        except NBExplainError as error:
            self.view.kernel = {"values": values, "error": str(error)}
            with self._lock:
                self._generation += 1  # a rule on its way is for an applicant no longer shown
            for panel in (self.factors_panel, self.rule_panel, self.case_panel):
                panel.add_class("nbexplain-fico-stale")
            raise
        computation = self.model.computation(row)
        factors = contributing_factors(self.model, row, threshold=self.threshold)
        self._row, self.computation, self.factors = row, computation, factors
        with self.view.hold_sync():
            self.view.kernel = {
                "values": values,
                "probability": computation.probability,
                "logit": computation.logit,
                "predicted": factors.predicted,
            }
            self.view.marks = {"factors": self._factor_marks(factors), "rule": []}
        self.factors_panel.value = factors_html(factors)
        self.factors_panel.remove_class("nbexplain-fico-stale")
        self._request_rules(row, computation)
        self._tell_controller(values)

    @staticmethod
    def _factor_marks(factors: ContributingFactors) -> dict:
        marks: dict = {}
        for factor in factors.factors:
            marks.setdefault(factor.feature, factor.rank)
        return marks

    # ------------------------------------------------------------ rules
    def _key(self, computation) -> tuple:
        steps = computation.steps.astype(bool)
        predicted = int(denied([computation.probability], self.threshold)[0])
        return steps, predicted, (np.packbits(steps).tobytes(), predicted)

    def _request_rules(self, row, computation) -> None:
        steps, predicted, key = self._key(computation)
        with self._lock:
            self._generation += 1
            generation = self._generation
        if key in self._solved or not self.background:
            self._solve(generation, key, steps, predicted, row)
            return
        with self._lock:
            self.rule_panel.value = (
                "<div class='nbexplain-fico-title'>Globally consistent rule</div>"
                "<p class='nbexplain-fico-computing'>\u23f3 computing the rule for this applicant\u2026</p>"
                f"<div class='nbexplain-fico-note'>The fewest conditions that no past case predicted otherwise "
                f"satisfies (a minimum set cover over {self.past.n_cases:,} past cases), then the best-supported "
                "such rule. Rules are memoised: an applicant seen before is instant.</div>"
            )
            self.rule_panel.remove_class("nbexplain-fico-stale")
            self.case_panel.add_class("nbexplain-fico-stale")
            self.rule_choice_box.layout.display = "none"
        self._worker.submit(functools.partial(self._solve_in_background, generation, key, steps, predicted, row))

    def _solve_in_background(self, *args) -> None:
        try:
            self._solve(*args)
        except Exception as error:  # shown in the error area, like a callback's
            with self._lock:
                if args[0] == self._generation:
                    self.errors.show(error)
                    self.rule_panel.value = "<p class='nbexplain-fico-caveat'>The rule could not be computed.</p>"

    def _prefetch(self, values: Mapping) -> None:
        """Solve a demo applicant's rule while idle (memoised for when it is shown)."""
        try:
            row = self._applicant(values)
            steps, predicted, key = self._key(self.model.computation(row))
            self.explainer.explain_steps(steps, predicted)
            self._solved.add(key)
        except Exception:  # a prefetch that fails is solved again (and its error shown) when chosen
            return

    def _solve(self, generation: int, key: tuple, steps, predicted: int, row) -> None:
        explanation = self.explainer.explain_steps(steps, predicted)
        self._solved.add(key)
        with self._lock:
            if generation != self._generation:
                return  # another applicant is shown by now
            self.explanation = explanation
            self._explained_row = row
            options = []
            if explanation.exists:
                options.append((f"fewest conditions ({explanation.minimum.size})", -1))
                options += [(f"most support, {_at_most(r.max_size)}", k) for k, r in enumerate(explanation.rules)]
            self._choosing = True
            try:
                self.rule_choice.options = options
                if options:
                    self.rule_choice.value = len(explanation.rules) - 1
            finally:
                self._choosing = False
            self.rule_choice_box.layout.display = "flex" if options else "none"
            self._show_rule(explanation.rule, row)

    def _on_rule_choice(self, change) -> None:
        if self._choosing or self.explanation is None or change["new"] is None:
            return
        k = change["new"]
        rule = self.explanation.minimum if k == -1 else self.explanation.rules[k]
        with self._lock:
            self._show_rule(rule, self._explained_row)

    def _show_rule(self, rule: ConsistentRule | None, row) -> None:
        explanation = self.explanation
        self.rule = rule
        self.rule_panel.value = rule_html(explanation, rule, self.past.n_cases, self.outcome_words)
        self.rule_panel.remove_class("nbexplain-fico-stale")
        marks = dict(self.view.marks)
        if rule is None:
            self.cases = None
            self.case_panel.value = (
                "<div class='nbexplain-fico-title'>Case-based explanation</div>"
                "<p>No consistent rule, so no past cases to show.</p>"
            )
            marks["rule"] = []
        else:
            self.cases = case_table(self.past, explanation, row, rule=rule, max_cases=self.max_cases)
            self.case_panel.value = case_table_html(self.cases, int(np.sum(self.past.similarity_columns)))
            marks["rule"] = list(self.cases.rule_features)
        self.case_panel.remove_class("nbexplain-fico-stale")
        self.view.marks = marks


__all__ = [
    "FicoDisplay",
    "LatestWorker",
    "case_table_html",
    "factors_html",
    "feature_regions",
    "fico_structure",
    "rule_html",
]
