"""Adverse-action reasons of the picked applicant, and the attribution difference of two cohorts."""

from __future__ import annotations

import html

from ..charts import SignedBars, Waterfall
from ..charts._base import download_button
from ..errors import NBExplainError
from ._export import HTML, ExportBar
from ._view import View
from .record import COMPLETENESS_TOLERANCE, record_filename, record_of

BASELINE_LABELS = {
    "average": "all applicants: average input",
    "median": "all applicants: median input",
    "reference": "all applicants: reference set (expected gradients)",
    "cutoff": "applicants at / just below the cut-off",
    "best": "best-scoring applicant",
}
STEP_CHOICES = (("16", 16), ("32", 32), ("64", 64), ("128", 128), ("auto (to 1e-6)", "auto"))
RULE_CHOICES = (
    ("Gauss-Legendre", "gausslegendre"),
    ("Riemann middle", "riemann_middle"),
    ("Riemann trapezoid", "riemann_trapezoid"),
    ("Riemann left", "riemann_left"),
    ("Riemann right", "riemann_right"),
)


class ReasonsView(View):
    """The picked (or edited) applicant's adverse-action reasons: choose the documented baseline,
    the steps and the rule; see the completeness error, the stated reasons, and a waterfall from
    the baseline score through each reason group to the applicant's score."""

    def __init__(self, controller, errors=None):
        import ipywidgets

        super().__init__(controller, errors)
        wide = {"description_width": "70px"}
        self.baseline = ipywidgets.Dropdown(
            options=[(label, key) for key, label in BASELINE_LABELS.items()],
            value="average",
            description="baseline",
            style=wide,
            layout={"width": "380px"},
        )
        self.steps = ipywidgets.Dropdown(
            options=STEP_CHOICES, value=64, description="steps", style=wide, layout={"width": "200px"}
        )
        self.rule = ipywidgets.Dropdown(
            options=RULE_CHOICES, value="gausslegendre", description="rule", style=wide, layout={"width": "250px"}
        )
        self.chart = Waterfall(title="baseline score → applicant's score")
        self.summary = ipywidgets.HTML(layout={"flex": "1 1 300px", "min_width": "280px"})
        self.summary.add_class("nbexplain-reasons-summary")
        self.result = None
        self._explained = None  # the controller's sample that self.result explains
        self.export = ExportBar(
            self.chart,
            self.file_stem,
            {"CSV reasons": self.reasons_table, "CSV contributions": self.contributions_table},
            self.errors,
        )
        self.record_button = self.export.add(
            download_button(
                "Download record",
                "The explanation record of this applicant: one HTML page to file with the notice",
                self.errors.guard(self.save_record),
                icon="file-text",
            )
        )
        self.record_button.add_class("nbexplain-download-record")
        for control in (self.baseline, self.steps, self.rule):
            control.observe(self.errors.guard(lambda change: self.refresh()), names="value")
        self._observe(lambda change: self.refresh(), names="sample")
        self.refresh()
        generalized = self.controller.explained.meta.get("method") == "generalized integrated gradients"
        method = "Generalized Integrated Gradients" if generalized else "Integrated Gradients"
        title = ipywidgets.HTML(
            f"<b>Adverse-action reasons</b> <span style='color:#555'>({method} "
            "against a documented baseline; related columns summed per reason)</span>"
        )
        self._compose(
            title,
            ipywidgets.HBox([self.baseline, self.steps, self.rule], layout={"flex_flow": "row wrap"}),
            # the decision and the reasons first; the waterfall beside them where the panel is wide
            # enough for both (>= 720 px), else below them at the panel's full width
            ipywidgets.HBox(
                [
                    self.summary,
                    ipywidgets.VBox(
                        [self.chart.figure, self.export.widget], layout={"flex": "2 1 420px", "min_width": "300px"}
                    ),
                ],
                layout={"flex_flow": "row wrap", "align_items": "flex-start"},
            ),
        )
        self.widget.add_class("nbexplain-reasons")

    def refresh(self):
        sample = self.controller.sample
        self.result = self.controller.reasons(self.baseline.value, self.steps.value, self.rule.value)
        self._explained = sample
        self.chart.update(self.result.by_reason)
        self.summary.value = self._describe(self.result)
        return self.result

    def current(self):
        """The reasons of the row shown now (recomputed when the pick or edit moved on since)."""
        if self.result is None or self._explained is not self.controller.sample:
            self.refresh()
        return self.result

    def file_stem(self) -> str:
        """``reasons-row-17-average`` (row, ``-what-if`` for an edited row, baseline)."""
        result = self.result
        position = self.controller.sample.position if result is None else result.position
        edited = "-what-if" if result is not None and result.edited else ""
        return f"reasons-row-{position}{edited}-{self.baseline.value}"

    def reasons_table(self):
        """The stated reasons, one row each (``AdverseActionReasons.to_frame()``)."""
        return self.current().notice.to_frame(), f"{self.file_stem()}.csv"

    def contributions_table(self):
        """Every reason group's and prohibited basis's contribution (what the waterfall draws)."""
        return self.current().by_reason.to_frame(), f"{self.file_stem()}-contributions.csv"

    def record(self) -> str:
        """The explanation record (HTML) of the row shown, with the panel's baseline, steps and rule."""
        return record_of(self.controller, self.current())

    def save_record(self) -> str:
        """Send the explanation record to the browser as an HTML file; returns its name."""
        text = self.record()
        return self.export.save_text(record_filename(self.result), text, HTML)

    def _describe(self, result) -> str:
        notice = result.notice
        error = result.completeness_error
        ok = error <= COMPLETENESS_TOLERANCE
        colour = "#1e7e34" if ok else "#b26a00"
        data = self.controller.data
        denied = result.denied
        decision = "DENIED" if denied else "APPROVED"
        side = "past" if denied else "within"
        lines = [
            f"<div style='font-size:12px;color:#555'>row {result.position}"
            f"{' (what-if edit)' if result.edited else ''}</div>",
            f"<div class='nbexplain-decision' style='font-weight:600;color:{'#8b1a1a' if denied else '#1e7e34'}'>"
            f"{decision}: the score is {side} the cut-off {data.threshold:g}</div>",
            f"<div>score <b>{notice.score:.4f}</b> against baseline <b>{notice.baseline_score:.4f}</b></div>",
            f"<div class='nbexplain-completeness' style='color:{colour}'>completeness error {error:.1e} "
            f"({result.steps} steps, {html.escape(result.rule)})</div>",
            f"<div style='font-size:12px;color:#555;margin:4px 0'>{html.escape(result.baseline['statement'])} "
            f"<span class='nbexplain-reference'>Reference rows: the {self.controller.n_rows:,} rows of this "
            f"dashboard{_rows_described(data)}.</span></div>",
        ]
        if notice.reasons:
            items = "".join(
                f"<li>{html.escape(r.statement)} <span style='color:#555'>[{html.escape(r.code)}] "
                f"({r.contribution:+.4f})</span></li>"
                for r in notice.reasons
            )
            lines.append(
                f"<div><b>{'Reasons' if denied else 'Reasons (if denied)'}</b>"
                f"<ol class='nbexplain-reason-list' style='margin:2px 0 0 18px;padding:0'>{items}</ol></div>"
            )
        else:
            lines.append(
                "<div class='nbexplain-reason-list'>No contribution pushes the score toward denial against "
                "this baseline.</div>"
            )
        for message in notice.warnings:
            lines.append(
                f"<div role='alert' class='nbexplain-prohibited' style='color:#8b1a1a;background:#fdecea;"
                f"border:1px solid #e6a5a0;padding:4px 6px;margin-top:6px'>{html.escape(message)}</div>"
            )
        return "<div style='padding:6px 10px;white-space:normal;overflow-wrap:anywhere'>" + "".join(lines) + "</div>"


def _rows_described(data) -> str:
    """What the dashboard's rows are, when its description says (e.g. "train (25,000)")."""
    rows = data.description.get("rows")
    return f" ({html.escape(str(rows))})" if rows else ""


class PopulationView(View):
    """Two cohorts chosen by filters (predicted class, actual outcome, score range) and the mean
    attribution difference between them: every pair (a, b) explained as a against baseline b."""

    def __init__(self, controller, errors=None, max_pairs: int = 3000):
        import ipywidgets

        super().__init__(controller, errors)
        self.max_pairs = int(max_pairs)
        labels = controller.data.class_labels
        low, high = float(controller.scores.min()), float(controller.scores.max())
        self.cohorts = []
        for name, predicted in (("A", 1), ("B", 0)):
            choice = ipywidgets.Dropdown(
                options=[("any", -1), *[(f"predicted {label}", i) for i, label in enumerate(labels)]],
                value=predicted,
                description=f"cohort {name}",
                layout={"width": "260px"},
            )
            actual = ipywidgets.Dropdown(
                options=[("any outcome", -1), *[(f"actual {label}", i) for i, label in enumerate(labels)]],
                value=-1,
                layout={"width": "170px"},
            )
            scores = ipywidgets.FloatRangeSlider(
                value=(low, high),
                min=low,
                max=high,
                step=(high - low) / 100 or 0.01,
                description="score",
                continuous_update=False,
                readout_format=".2f",
                layout={"width": "300px"},
                style={"description_width": "45px"},
            )
            self.cohorts.append((choice, actual, scores))
        self.compare = ipywidgets.Button(description="Compare", button_style="primary", icon="balance-scale")
        self.compare.on_click(self.errors.guard(lambda button: self.refresh()))
        self.chart = SignedBars(title="mean attribution difference, A - B", label="attribution")
        self.summary = ipywidgets.HTML()
        self.summary.add_class("nbexplain-population-summary")
        self.result = None
        self.export = ExportBar(self.chart, "population-difference", {"CSV": self.table}, self.errors)
        try:
            self.refresh()
        except NBExplainError as error:  # e.g. a model that predicts no row in one class: say so in the panel
            self.summary.value = f"<div style='padding:4px 0;color:#8b1a1a'>{html.escape(str(error))}</div>"
        rows = [ipywidgets.HBox(list(row), layout={"flex_flow": "row wrap"}) for row in self.cohorts]
        self._compose(
            ipywidgets.HTML("<b>Population comparison</b>"),
            *rows,
            self.compare,
            self.summary,
            self.chart.figure,
            self.export.widget,
        )
        self.widget.add_class("nbexplain-population")

    def table(self):
        """The mean attribution difference per column (``to_frame()``), with each column's
        standard error when the pairs were sampled."""
        if self.result is None:
            raise NBExplainError("No comparison yet: choose two cohorts and press Compare.")
        frame = self.result.to_frame()
        errors = self.result.meta.get("standard_error") or {}
        if errors:
            frame["standard_error"] = [errors.get(label) for label in frame.index]
        return frame, "population-difference.csv"

    def members(self, cohort) -> object:
        predicted, actual, scores = (control.value for control in cohort)
        return self.controller.matching(None if predicted < 0 else predicted, None if actual < 0 else actual, scores)

    def refresh(self):
        first, second = self.members(self.cohorts[0]), self.members(self.cohorts[1])
        self.result = self.controller.compare_cohorts(first, second, max_pairs=self.max_pairs)
        self.chart.update(self.result)
        meta = self.result.meta
        mean_a, mean_b = meta["mean_scores"]
        sampling = (
            "all pairs (exact)"
            if meta["exact"]
            else f"{meta['pairs']:,} pairs drawn at random; sampling error of the total ± "
            f"{meta['sampling_standard_error']:.2g}"
        )
        self.summary.value = (
            f"<div style='padding:4px 0'>A: {meta['sizes'][0]:,} rows, mean score <b>{mean_a:.4f}</b> · "
            f"B: {meta['sizes'][1]:,} rows, mean score <b>{mean_b:.4f}</b> · difference <b>{mean_a - mean_b:+.4f}</b>"
            f"<br><span class='nbexplain-population-error' style='color:#555'>sum of attributions "
            f"{float(self.result.values.sum()):+.4f}; gap to the difference of mean scores "
            f"{meta['completeness_error']:.1e} ({html.escape(sampling)})</span></div>"
        )
        return self.result
