"""The one place the widgets reach the engine.

:class:`ExplorerController` makes ONE gradient pass over the rows of an :class:`ExplorerData`
when it is built; picking a row afterwards is a lookup in that result. Only a what-if edit
(a row the model has not seen) needs a new gradient, of that single row. Widgets observe
``controller.sample`` and render it; they never call TensorFlow.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace
from typing import Mapping

import numpy as np
import traitlets

from ..errors import InputDataError, NBExplainError, unknown_name
from ..explanation import Explanation, freeze_mapping


@dataclass(frozen=True, eq=False)
class PickedSample:
    """Everything the views show about one row: the picked row as it is, or as edited.

    ``local`` is the local importance with the raw feature values in ``data``; ``columns``
    holds, per raw column, ``(share, gradient)``: ``share = 100 g_c^2 / sum_c' g_c'^2`` of the
    gradient at the column's own input element and its sign (the what-if editor's colours).
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
    two scores in its meta (what the waterfall draws); ``notice`` the stated reasons.
    """

    position: int
    edited: bool
    notice: object
    by_reason: Explanation
    baseline: Mapping
    steps: int
    rule: str
    completeness_error: float


#: Parameters of the engine's explainers that Integrated Gradients shares.
_IG_OPTIONS = ("output", "target", "labels", "logit", "time_step", "feature_names", "groups")


class ExplorerController(traitlets.HasTraits):
    """Explains ``data`` once and serves every view from that result.

    Attributes
    ----------
    sensitivities : Sensitivities
        The single gradient pass over ``data.frame``.
    scores : ndarray
        The explained output per row (e.g. P(default)).
    global_importance : Explanation
        ``lambda_j`` over all rows, with raw-unit labels.
    sample : PickedSample
        The row the views show (trait: observe it).
    """

    position = traitlets.Int(0)
    sample = traitlets.Instance(PickedSample, allow_none=True)

    def __init__(self, data, progress=None):
        super().__init__()
        from .._tensorflow import import_quietly

        import_quietly()
        from ..engine import SensitivityExplainer

        self.data = data
        self.explainer = SensitivityExplainer(data.model, progress=progress, **dict(data.explainer_options))
        self.sensitivities = self.explainer.explain(data.to_inputs(data.frame))
        output = self.sensitivities.output
        self.scores = np.asarray(output[:, -1] if output.ndim == 2 else output, dtype=float)
        self.global_importance = self.sensitivities.global_importance()
        self.recurrent = any(spec.kind == "sequence" for spec in self.sensitivities.layout)
        self._global_lags = ((self.sensitivities.lag_matrix(), self.sensitivities.lag_importance())
                             if self.recurrent else None)
        self._check_elements()
        self._raw = data.frame.to_numpy(dtype=float)
        self._integrated, self._baselines = {}, {}
        self.pick(0)

    # ------------------------------------------------------------ structure
    @property
    def n_rows(self) -> int:
        return len(self._raw)

    @property
    def predicted(self) -> np.ndarray:
        """Predicted class per row: 1 where the score reaches the threshold."""
        return (self.scores >= self.data.threshold).astype(int)

    def global_lags(self):
        """The lag matrix and lag importance over all rows (recurrent models only)."""
        if self._global_lags is None:
            raise NBExplainError("This model has no sequence input, so it has no lag views.")
        return self._global_lags

    def _check_elements(self):
        gradients = self.sensitivities.gradients
        names = list(gradients)
        for column, (name, index) in self.data.elements.items():
            if name is None:
                if len(names) != 1:
                    raise InputDataError(f"Column {column!r} names no model input but the model has several "
                                         f"({names}); give elements={{column: (input, index)}}.")
                name = names[0]
            if name not in gradients:
                raise unknown_name("model input", name, names)
            shape = gradients[name].shape[1:] if not self.sensitivities.many_to_many else gradients[name].shape[2:]
            if len(index) != len(shape) or any(not 0 <= i < s for i, s in zip(index, shape)):
                raise InputDataError(f"Column {column!r} points at element {index} of input {name!r}, whose "
                                     f"samples have shape {shape}.")

    # ---------------------------------------------------------------- picks
    def pick(self, position: int) -> PickedSample:
        """Show row ``position``: a lookup in the stored gradients, no new pass."""
        position = int(position)
        if not 0 <= position < self.n_rows:
            raise NBExplainError(f"Row {position} does not exist: the explorer holds rows 0..{self.n_rows - 1}.")
        sample = self._sample(self.sensitivities, position, position, self._raw[position], self.scores[position])
        self.position = position
        self.sample = sample
        return sample

    def what_if(self, edits: Mapping) -> PickedSample:
        """The picked row with ``edits`` (``{column: raw value}``) applied, explained afresh.

        One gradient pass of one row; the prediction before the edit is kept for comparison.
        """
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
        if not clean:
            return self.pick(self.position)
        explained = self.explainer.explain(self.data.to_inputs(row))
        output = explained.output[0]
        prediction = float(output[-1] if np.ndim(output) else output)
        sample = self._sample(explained, 0, self.position, row.to_numpy(dtype=float)[0], prediction,
                              edited=True, original=float(self.scores[self.position]), edits=clean)
        self.sample = sample
        return sample

    def _sample(self, sensitivities, row, position, raw, prediction, edited=False, original=None, edits=None):
        local = sensitivities.local_importance(row)
        values = dict(zip(self.data.columns, raw.tolist()))
        shown = np.array([values.get(name, np.nan) for name in local.feature_names], dtype=float)
        local = replace(local, data=shown, meta={**local.meta, "values": "raw (as in the data)"})
        lags = (sensitivities.lag_matrix(row), sensitivities.lag_importance(row)) if self.recurrent else (None, None)
        actual = None if self.data.target is None else float(self.data.target[position])
        return PickedSample(position, self.data.frame.index[position], freeze_mapping(values), float(prediction),
                            local, freeze_mapping(self._column_shares(sensitivities, row)), actual, edited,
                            original, lags[0], lags[1], freeze_mapping(edits or {}))

    def _column_shares(self, sensitivities, row) -> dict:
        """``{column: (100 g_c^2 / sum g^2, g_c)}`` at each column's input element."""
        names = list(sensitivities.gradients)
        gradients = {}
        for column, (name, index) in self.data.elements.items():
            g = np.asarray(sensitivities.gradients[name or names[0]][row], dtype=float)
            g = g[(slice(None), *index)].mean() if sensitivities.many_to_many else g[index]
            gradients[column] = float(g)
        total = sum(g * g for g in gradients.values())
        return {c: (100 * g * g / total if total > 0 else 0.0, g) for c, g in gradients.items()}

    # ------------------------------------------------------------ attributions
    def integrated(self, steps=64, rule="gausslegendre"):
        """Integrated Gradients of the explained output (one per steps and rule, kept)."""
        from ..engine import IntegratedGradients

        key = (steps, rule)
        if key not in self._integrated:
            options = {k: v for k, v in self.data.explainer_options.items() if k in _IG_OPTIONS}
            self._integrated[key] = IntegratedGradients(self.data.model, steps=steps, rule=rule, tolerance=1e-6,
                                                        progress=False, **options)
        return self._integrated[key]

    def baseline(self, kind: str):
        """A documented baseline built from all the explorer's rows, resolved once per kind."""
        from ..credit.recipes import documented_baselines

        if kind not in self._baselines:
            reference = self.data.to_inputs(self.data.frame)
            choices = documented_baselines(reference, cutoff=self.data.threshold, band=0.05, draws=100)
            if kind not in choices:
                raise unknown_name("baseline", kind, choices)
            self._baselines[kind] = self.integrated().resolve_baseline(choices[kind], reference)
        return self._baselines[kind]

    def _row_inputs(self):
        """Model inputs of the row the views show: the picked row, or its edited version."""
        row = self.data.frame.iloc[[self.position]].copy()
        for column, value in self.sample.edits.items():
            row[column] = np.asarray([value]).astype(row[column].dtype)
        return self.data.to_inputs(row)

    def reasons(self, baseline="average", steps=64, rule="gausslegendre", max_reasons=4) -> ApplicantReasons:
        """Adverse-action reasons for the shown row against a documented baseline."""
        from ..credit.reasons import reasons_from_attributions

        catalogue = self.data.catalogue
        attributions = self.integrated(steps, rule).explain(self._row_inputs(), self.baseline(baseline))
        ranked = reasons_from_attributions(attributions, catalogue, max_reasons, self.data.elements)
        with warnings.catch_warnings():  # the panel shows the prohibited-basis warning itself
            warnings.simplefilter("ignore")
            notice = ranked.applicant(0)
        stated = {r.code: r.rank for r in notice.reasons}
        labels, values = [], []
        for reason in catalogue.reasons:
            short = reason.statement if len(reason.statement) <= 34 else reason.statement[:33] + "…"
            labels.append(f"{stated[reason.code]}. {short}" if reason.code in stated else short)
            values.append(notice.contributions[reason.code])
        for feature, value in notice.prohibited.items():
            labels.append(f"{feature} (prohibited basis)")
            values.append(value)
        by_reason = Explanation(np.asarray(values), ("reason",), {"reason": tuple(labels)},
                                {**attributions.meta, "view": "contribution by reason",
                                 "baseline_output": float(attributions.baseline_output[0]),
                                 "output_value": float(attributions.output[0])})
        return ApplicantReasons(self.position, bool(self.sample.edited), notice, by_reason,
                                dict(attributions.meta["baseline"]), int(attributions.steps[0]), rule,
                                float(attributions.completeness_error[0]))

    def compare_cohorts(self, first, second, labels=("A", "B"), steps=32, max_pairs=3000):
        """Mean attribution difference per column between two cohorts of rows (positions):
        every pair (a, b) explained as a against baseline b, averaged (sampled beyond
        ``max_pairs`` pairs, with standard errors)."""
        first, second = np.asarray(first), np.asarray(second)
        for name, rows in zip(labels, (first, second)):
            if rows.size == 0:
                raise NBExplainError(f"Cohort {name} is empty: no row matches its filters. Widen them.")
        frame = self.data.frame
        result = self.integrated(steps).compare_populations(self.data.to_inputs(frame.iloc[first]),
                                                            self.data.to_inputs(frame.iloc[second]),
                                                            max_pairs=max_pairs, labels=labels)
        from ..credit.reasons import at_elements, column_attributions

        values, columns = column_attributions(result, self.data.elements)
        errors = {}
        if result.standard_error is not None:
            errors = dict(zip(columns, at_elements(result.standard_error, self.data.elements)[0].tolist()))
        meta = {**result.meta, "view": "mean attribution difference by column", "standard_error": errors,
                "mean_scores": [float(result.output[0]), float(result.baseline_output[0])],
                "completeness_error": float(result.completeness_error[0]), "sizes": [int(first.size), int(second.size)]}
        return Explanation(values[0], ("column",), {"column": tuple(columns)}, meta)

    # -------------------------------------------------------------- filters
    def matching(self, predicted=None, actual=None, scores=None) -> np.ndarray:
        """Positions of the rows with the given predicted class, true outcome and score range
        (each ``None`` for any)."""
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
