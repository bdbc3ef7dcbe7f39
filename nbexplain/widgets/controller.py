"""The one place the widgets reach the methods.

:class:`ExplorerController` holds an :class:`ExplorerData`, whose explainers satisfy the protocol
of :mod:`nbexplain.engine.protocol`. It makes ONE pass of the row explainer over the rows when it
is built; picking a row afterwards is a lookup in that result. Only a what-if edit (a row the
model has not seen) needs a new pass, of that single row. Reasons are the lenders' reasons of
:mod:`nbexplain.credit` (the same :class:`~nbexplain.credit.adverse.ReasonRecipe` as the batch
command, with its one definition of a denial). Widgets observe ``controller.sample`` and render
it; they never call TensorFlow.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import traitlets

from ..credit.adverse import ReasonRecipe
from ..credit.reasons import AdverseActionReasons, RankedReasons, at_elements, column_attributions, denied, rank_reasons
from ..credit.recipes import documented_baselines
from ..engine.comparisons import surrogate_importances
from ..errors import InputDataError, NBExplainError, unknown_name
from ..results import Explanation
from ..results.serial import freeze_mapping


@dataclass(frozen=True, eq=False)
class PickedSample:
    """Everything the views show about one row: the picked row as it is, or as edited.

    ``local`` is the local importance with the raw feature values in ``data``; ``columns``
    holds, per raw column, ``(share, direction)`` at the column's own input element (the
    what-if editor's colours).
    """

    position: int
    label: object
    values: Mapping
    prediction: float
    local: Explanation
    columns: Mapping
    actual: float | None = None
    edited: bool = False
    original_prediction: float | None = None
    lag_matrix: Explanation | None = None
    lag_importance: Explanation | None = None
    edits: Mapping = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class ApplicantReasons:
    """The reasons panel's content for the picked (or edited) row.

    ``by_reason`` is the signed contribution of every reason group and prohibited basis, with the
    two scores in its meta (what the waterfall draws); ``notice`` the stated reasons; ``denied``
    the decision at the cut-off (:func:`~nbexplain.credit.reasons.denied`).
    """

    position: int
    edited: bool
    notice: AdverseActionReasons
    by_reason: Explanation
    baseline: Mapping
    steps: int
    rule: str
    completeness_error: float
    denied: bool


#: The reasons panel's default settings (what a bundle stores).
DEFAULT_REASONS = {"baseline": "average", "steps": 64, "rule": "gausslegendre"}


class ExplorerController(traitlets.HasTraits):
    """Explains ``data`` once and serves every view from that result.

    Attributes
    ----------
    explained : PerSampleResult
        The single pass of the row explainer over ``data.frame``.
    scores : ndarray
        The explained score per row (e.g. P(default)).
    global_importance : Explanation
        Global importance over all rows.
    sample : PickedSample
        The row the views show (trait: observe it).
    """

    position = traitlets.Int(0)
    sample = traitlets.Instance(PickedSample, allow_none=True)
    #: What the controller is waiting for, shown by the dashboard ("" when idle).
    status = traitlets.Unicode("")

    def __init__(self, data, progress=None):
        super().__init__()
        self.data = data
        self.progress = progress
        self._row_explainer = None
        bundle = data.bundle
        if bundle is not None:  # stored: no model, no TensorFlow
            self.explained = bundle.explained()
            self.global_importance = bundle.explanation("global_importance")
            lags = (bundle.explanation("lag_matrix"), bundle.explanation("lag_importance"))
        else:
            self.explained = self.row_explainer.explain(data.to_inputs(data.frame))
            self.global_importance = self.explained.global_importance()
            lags = (self.explained.lag_matrix(), self.explained.lag_importance()) if self._has_sequences() else None
        score = self.explained.score
        self.scores = np.asarray(score[:, -1] if score.ndim == 2 else score, dtype=float)
        self.recurrent = self._has_sequences()
        self._global_lags = lags if self.recurrent else None
        self._check_elements()
        self._comparisons = None
        self._baselines: dict = {}
        self._predicted: np.ndarray | None = None
        self.pick(0)

    # ------------------------------------------------------------ structure
    def _has_sequences(self) -> bool:
        return any(spec.kind == "sequence" for spec in self.explained.layout)

    @property
    def row_explainer(self):
        """The model's row explainer (loaded on first use for a dashboard opened on a bundle)."""
        if self._row_explainer is None:
            with self.model_work():
                self._row_explainer = self.data.explainers.rows.with_params(progress=self.progress)
        return self._row_explainer

    @contextlib.contextmanager
    def model_work(self):
        """Around work that needs the model: while a model that loads on first use is loading,
        ``status`` says so (the dashboard shows it)."""
        if self.data.explainers.loaded:
            yield
            return
        self.status = "Loading the model for new explanations (first use in this page: a few seconds)..."
        try:
            yield
        finally:
            self.status = ""

    @property
    def n_rows(self) -> int:
        return len(self.scores)

    @property
    def predicted(self) -> np.ndarray:
        """Predicted class per row: 1 above the threshold (the same rule as a denial); computed
        once (the scores never change), read-only."""
        if self._predicted is None:
            predicted = denied(self.scores, self.data.threshold).astype(np.int8)
            predicted.flags.writeable = False
            self._predicted = predicted
        return self._predicted

    @property
    def comparisons(self) -> Mapping:
        """Other global importances of the same features: the data's own, else a decision tree
        and a lasso-logistic model fitted on the rows (to the true outcomes when known)."""
        if self._comparisons is None:
            given = self.data.comparisons
            if given is None:
                outcome = self.data.target if self.data.target is not None else self.predicted
                given = surrogate_importances(self.data.frame, outcome)
            self._comparisons = freeze_mapping(given)
        return self._comparisons

    def global_lags(self):
        """The lag matrix and lag importance over all rows (recurrent models only)."""
        if self._global_lags is None:
            raise NBExplainError("This model has no sequence input, so it has no lag views.")
        return self._global_lags

    def _check_elements(self):
        layout = {spec.name: spec for spec in self.explained.layout}
        names = list(layout)
        for column, (name, index) in self.data.elements.items():
            if name is None:
                if len(names) != 1:
                    raise InputDataError(
                        f"Column {column!r} names no model input but the model has several "
                        f"({names}); give elements={{column: (input, index)}}."
                    )
                name = names[0]
            if name not in layout:
                raise unknown_name("model input", name, names)
            shape = self.explained.data[name].shape[1:]
            if len(index) != len(shape) or any(not 0 <= i < s for i, s in zip(index, shape)):
                raise InputDataError(
                    f"Column {column!r} points at element {index} of input {name!r}, whose samples have shape {shape}."
                )

    # ---------------------------------------------------------------- picks
    def pick(self, position: int) -> PickedSample:
        """Show row ``position``: a lookup in the stored pass, no new computation."""
        position = int(position)
        if not 0 <= position < self.n_rows:
            raise NBExplainError(f"Row {position} does not exist: the explorer holds rows 0..{self.n_rows - 1}.")
        raw = self.data.frame.iloc[position].to_numpy(dtype=float)
        sample = self._sample(self.explained, position, position, raw, self.scores[position])
        self.position = position
        self.sample = sample
        return sample

    def edited_row(self, edits: Mapping):
        """The picked row with ``edits`` (``{column: raw value}``) applied: ``(frame, clean edits)``."""
        row = self.data.frame.iloc[[self.position]].copy()
        clean = {}
        for column, value in dict(edits).items():
            if column not in row.columns:
                raise unknown_name("column", column, self.data.columns)
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise InputDataError(f"{column} must be a number; got {value!r}.") from None
            if not np.isfinite(number):
                raise InputDataError(f"{column} must be a finite number; got {value!r}.")
            if np.issubdtype(row[column].dtype, np.integer):
                number = round(number)
            clean[column] = number
            row[column] = np.asarray([number]).astype(row[column].dtype)
        return row, clean

    def what_if(self, edits: Mapping) -> PickedSample:
        """The picked row with ``edits`` applied, explained afresh (one row; the prediction
        before the edit is kept for comparison)."""
        row, clean = self.edited_row(edits)
        if not clean:
            return self.pick(self.position)
        with self.model_work():
            explained = self.row_explainer.explain(self.data.to_inputs(row))
        score = explained.score[0]
        prediction = float(score[-1] if np.ndim(score) else score)
        sample = self._sample(
            explained,
            0,
            self.position,
            row.to_numpy(dtype=float)[0],
            prediction,
            edited=True,
            original=float(self.scores[self.position]),
            edits=clean,
        )
        self.sample = sample
        return sample

    def _sample(self, explained, row, position, raw, prediction, edited=False, original=None, edits=None):
        local = explained.local_importance(row)
        values = dict(zip(self.data.columns, raw.tolist()))
        shown = np.array([values.get(name, np.nan) for name in local.feature_names], dtype=float)
        local = replace(local, data=shown, meta={**local.meta, "values": "raw (as in the data)"})
        lags = (explained.lag_matrix(row), explained.lag_importance(row)) if self.recurrent else (None, None)
        actual = None if self.data.target is None else float(self.data.target[position])
        return PickedSample(
            position,
            self.data.frame.index[position],
            freeze_mapping(values),
            float(prediction),
            local,
            freeze_mapping(self._column_shares(explained, row)),
            actual,
            edited,
            original,
            lags[0],
            lags[1],
            freeze_mapping(edits or {}),
        )

    def _column_shares(self, explained, row) -> dict:
        """``{column: (100 e_c^2 / sum e^2, e_c)}`` of each column's own element of the row's
        explanation (the gradient, or the attribution)."""
        elements = {c: (name or explained.layout[0].name, index) for c, (name, index) in self.data.elements.items()}
        values = explained.element_values(row, elements)
        total = float(np.sum(np.square(list(values.values()))))
        return {c: (100 * v * v / total if total > 0 else 0.0, v) for c, v in values.items()}

    # ------------------------------------------------------------ attributions
    def baseline(self, kind: str):
        """A documented baseline built from all the explorer's rows, resolved once per kind."""
        if kind not in self._baselines:
            reference = self.data.to_inputs(self.data.frame)
            choices = documented_baselines(reference, cutoff=self.data.threshold, band=0.05, draws=100)
            if kind not in choices:
                raise unknown_name("baseline", kind, choices)
            self._baselines[kind] = self.data.explainers.attributions.resolve_baseline(choices[kind], reference)
        return self._baselines[kind]

    def recipe(self, baseline="average", steps=64, rule="gausslegendre", max_reasons=4) -> ReasonRecipe:
        """The reasons recipe of the panel: the model's attributor with these steps and rule, a
        documented baseline of the explorer's rows, its catalogue and threshold."""
        attributor = self.data.explainers.attributions.with_params(steps=steps, rule=rule, progress=False)
        return ReasonRecipe(
            attributor,
            self.baseline(baseline),
            self.data.catalogue,
            cutoff=self.data.threshold,
            to_inputs=self.data.to_inputs,
            elements=self.data.elements,
            max_reasons=max_reasons,
        )

    def reasons(self, baseline="average", steps=64, rule="gausslegendre", max_reasons=4) -> ApplicantReasons:
        """Adverse-action reasons for the shown row (picked or edited) against a documented
        baseline: read from the bundle at its default settings, else computed with the model."""
        settings = {"baseline": baseline, "steps": steps, "rule": rule}
        bundle = self.data.bundle
        if bundle is not None and not self.sample.edited and settings == DEFAULT_REASONS:
            return self._applicant_reasons(self._stored_reasons(bundle, max_reasons), rule)
        with self.model_work():
            recipe = self.recipe(baseline, steps, rule, max_reasons)
            row, _ = self.edited_row(self.sample.edits)
            return self._applicant_reasons(recipe.explain(row), rule)

    def _stored_reasons(self, bundle, max_reasons) -> RankedReasons:
        """The picked row's reasons ranked from the bundle's stored default attributions."""
        stored, position = bundle.default_attributions(), self.position
        defaults = bundle.record["defaults"]
        columns = [c for c in stored if not c.startswith("__")]
        values = np.array([[stored[c][position] for c in columns]])
        meta = {
            "method": defaults["method"],
            "baseline": defaults["baseline_description"],
            "rule": defaults["rule"],
            "steps": defaults["steps"],
            "model_fingerprint": defaults["model_fingerprint"],
            "max_reasons": int(max_reasons),
            "cutoff": float(self.data.threshold),
            "completeness_tolerance": defaults["tolerance"],
            "catalogue": self.data.catalogue.to_dict(),
            "source": "explanation bundle",
        }
        return rank_reasons(
            values,
            columns,
            self.data.catalogue,
            score=[self.scores[position]],
            baseline_score=[stored["__baseline_score"][position]],
            completeness_error=[stored["__completeness_error"][position]],
            cutoff=self.data.threshold,
            applicants=[self.sample.label],
            max_reasons=max_reasons,
            meta=meta,
            steps=[stored["__steps"][position]],
            tolerance=defaults["tolerance"],
        )

    def _applicant_reasons(self, ranked: RankedReasons, rule: str) -> ApplicantReasons:
        """The panel's content from the shown row's ranked reasons."""
        with warnings.catch_warnings():  # the panel shows the prohibited-basis warning itself
            warnings.simplefilter("ignore")
            notice = ranked.applicant(0)
        catalogue = self.data.catalogue
        stated = {r.code: r.rank for r in notice.reasons}
        labels, values = [], []
        for reason in catalogue.reasons:
            labels.append(f"{stated[reason.code]}. {reason.code}" if reason.code in stated else reason.code)
            values.append(notice.contributions[reason.code])
        for feature, value in notice.prohibited.items():
            labels.append(f"{feature} (prohibited)")
            values.append(value)
        meta = {
            **ranked.meta,
            "view": "contribution by reason",
            "baseline_score": notice.baseline_score,
            "score_value": notice.score,
        }
        by_reason = Explanation(np.asarray(values), ("reason",), {"reason": tuple(labels)}, meta)
        return ApplicantReasons(
            self.position,
            bool(self.sample.edited),
            notice,
            by_reason,
            dict(ranked.meta["baseline"]),
            int(ranked.steps[0]),
            rule,
            float(notice.completeness_error),
            bool(notice.denied),
        )

    def compare_cohorts(self, first, second, labels=("A", "B"), steps=32, max_pairs=3000):
        """Mean attribution difference per column between two cohorts of rows (positions):
        every pair (a, b) explained as a against baseline b, averaged (sampled beyond
        ``max_pairs`` pairs, with standard errors)."""
        first, second = np.asarray(first), np.asarray(second)
        for name, rows in zip(labels, (first, second)):
            if rows.size == 0:
                raise NBExplainError(f"Cohort {name} is empty: no row matches its filters. Widen them.")
        stored = self.data.bundle.record.get("population") if self.data.bundle is not None else None
        if (
            stored is not None
            and (steps, max_pairs, tuple(labels)) == (32, 3000, ("A", "B"))
            and np.array_equal(first, self.matching(predicted=1))
            and np.array_equal(second, self.matching(predicted=0))
        ):
            return Explanation.from_dict(stored)
        with self.model_work():
            return self._compare(first, second, labels, steps, max_pairs)

    def _compare(self, first, second, labels, steps, max_pairs):
        frame = self.data.frame
        attributor = self.data.explainers.attributions.with_params(steps=steps, progress=False)
        result = attributor.compare_populations(
            self.data.to_inputs(frame.iloc[first]),
            self.data.to_inputs(frame.iloc[second]),
            max_pairs=max_pairs,
            labels=labels,
        )
        values, columns = column_attributions(result, self.data.elements)
        errors = {}
        if result.standard_error is not None:
            errors = dict(zip(columns, at_elements(result.standard_error, self.data.elements)[0].tolist()))
        meta = {
            **result.meta,
            "view": "mean attribution difference by column",
            "standard_error": errors,
            "mean_scores": [float(result.score[0]), float(result.baseline_score[0])],
            "completeness_error": float(result.completeness_error[0]),
            "sizes": [int(first.size), int(second.size)],
        }
        return Explanation(values[0], ("column",), {"column": tuple(columns)}, meta)

    # -------------------------------------------------------------- filters
    def matching(self, predicted=None, actual=None, scores=None) -> np.ndarray:
        """Positions of the rows with the given predicted class, true outcome and score range
        (each ``None`` for any): vectorised passes, no loop over rows."""
        if predicted is None and actual is None and scores is None:
            return np.arange(self.n_rows)
        keep = np.ones(self.n_rows, dtype=bool)
        if predicted is not None:
            keep &= self.predicted == int(predicted)
        if actual is not None:
            if self.data.target is None:
                raise NBExplainError("This explorer has no true outcomes; pass y= to filter by them.")
            keep &= self.data.target == actual
        if scores is not None:
            low, high = scores
            keep &= (self.scores >= low) & (self.scores <= high)
        return np.flatnonzero(keep)
