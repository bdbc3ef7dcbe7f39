"""Additive attributions (Integrated Gradients and its relatives) as an immutable result.

An attribution splits a score difference among the inputs: for a sample ``x`` and a baseline
``b``, ``sum_e A_e(x) = f(x) - f(b)`` (completeness), where ``e`` runs over every input element.
:class:`Attributions` keeps the per-element values of every sample, with the two scores, the
completeness error each sample reached, the quadrature steps it took and the documented baseline
it was measured against, so that a validator can check and reproduce it.

Reported features follow the same layout as :class:`~nbexplain.Sensitivities`: a tabular
column, a group of columns (summed), a sequence channel (summed over its time steps), an image
channel (summed over positions). Attributions are additive, so a feature's attribution is the
plain sum of its elements' attributions.

This module imports no TensorFlow.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ..errors import NBExplainError
from ._per_sample import PerSampleResult
from .explanation import Explanation
from .importance import ImportanceSums
from .layout import normalise


@dataclass(frozen=True, eq=False, kw_only=True)
class Attributions(PerSampleResult):
    """Per-element attributions of many samples, each against its baseline.

    Parameters
    ----------
    values : mapping input name -> array ``(n, *input_shape)``
        Attribution of every input element; they sum (over all inputs and elements) to
        ``score - baseline_score`` up to ``completeness_error``.
    data : mapping input name -> array ``(n, *input_shape)``
        The explained samples.
    score : array ``(n,)``
        ``f(x)``, the explained score of each sample.
    baseline_score : array ``(n,)``
        ``f(b)``: the baseline's score (the mean over the drawn baselines for a reference set).
    completeness_error : array ``(n,)``
        ``|sum_e A_e - (f(x) - f(b))|`` per sample.
    steps : array ``(n,)``
        Quadrature steps used per sample (per baseline pair).
    layout, meta, sample_labels
        As for every per-sample result; ``meta`` records the method, rule, steps, tolerance, the
        baseline's description, what was explained, the model fingerprint and the version.
    standard_error : mapping input name -> array, optional
        For averages over sampled pairs (population differences): the standard error of each
        element's mean attribution.
    """

    values: Mapping
    baseline_score: np.ndarray
    completeness_error: np.ndarray
    steps: np.ndarray
    standard_error: Mapping | None = None
    array_blocks: ClassVar[tuple[str, ...]] = ("values", "standard_error")
    sample_vectors: ClassVar[Mapping[str, Any]] = {"baseline_score": float, "completeness_error": float, "steps": int}

    def __post_init__(self) -> None:
        object.__setattr__(self, "score", np.reshape(self.score, -1))
        super().__post_init__()
        n = self.n_samples
        for spec in self.layout:
            if self.values[spec.name].shape != (n, *spec.shape):
                raise NBExplainError(
                    f"attributions of input {spec.name!r} have shape "
                    f"{self.values[spec.name].shape}, expected {(n, *spec.shape)}."
                )

    # ------------------------------------------------------------ structure
    @property
    def difference(self) -> np.ndarray:
        """``f(x) - f(b)`` per sample: what the attributions split."""
        return self.score - self.baseline_score

    @property
    def total(self) -> np.ndarray:
        """Sum of all attributions per sample (equals :attr:`difference` up to the completeness error)."""
        return sum(v.reshape(self.n_samples, -1).sum(axis=1) for v in self.values.values())

    def feature_values(self) -> np.ndarray:
        """Attribution of every reported feature, ``(n, F)``: elements summed per feature."""
        return np.concatenate([spec.per_feature(self.values[spec.name]) for spec in self.layout], axis=1)

    def feature_standard_errors(self) -> np.ndarray | None:
        """Standard error of each reported feature's attribution, ``(n, F)``, when sampled.

        Elements of one feature are summed per pair before averaging, so their errors are not
        independent; the bound ``sqrt(sum se_e^2)`` assumes they are, and is reported as an
        approximation (exact for single-element features)."""
        if self.standard_error is None:
            return None
        return np.sqrt(
            np.concatenate(
                [spec.per_feature(np.square(self.standard_error[spec.name])) for spec in self.layout], axis=1
            )
        )

    # ---------------------------------------------------------------- views
    def by_feature(self) -> Explanation:
        """``("sample", "feature")`` signed attributions; ``score`` is ``f(x)``. The meta carries
        the baseline score, the completeness error and the steps of every sample."""
        meta = {
            **self.meta,
            "view": "attribution by feature",
            "baseline_score": self.baseline_score.tolist(),
            "completeness_error": self.completeness_error.tolist(),
            "steps": self.steps.tolist(),
        }
        return Explanation(
            self.feature_values(),
            ("sample", "feature"),
            {"sample": self.sample_labels, "feature": self.feature_names},
            meta,
            data=self.feature_data(),
            score=self.score,
        )

    def sample(self, position: int) -> Explanation:
        """One sample's signed attribution per feature (1-D), with its scores in the meta."""
        position = self._position(position)
        explanation = self.by_feature()[position]
        meta = {
            **explanation.meta,
            "baseline_score": float(self.baseline_score[position]),
            "completeness_error": float(self.completeness_error[position]),
            "steps": int(self.steps[position]),
        }
        errors = self.feature_standard_errors()
        if errors is not None:
            meta["standard_error"] = dict(zip(self.feature_names, errors[position].tolist()))
        return Explanation(explanation.values, explanation.dims, explanation.coords, meta, data=explanation.data)

    def mean(self) -> Explanation:
        """Mean signed attribution per feature over the samples (``("feature",)``); it sums to
        ``mean f(x) - mean f(b)``."""
        meta = {
            **self.meta,
            "view": "mean attribution",
            "mean_score": float(self.score.mean()),
            "mean_baseline_score": float(self.baseline_score.mean()),
        }
        return Explanation(self.feature_values().mean(axis=0), ("feature",), {"feature": self.feature_names}, meta)

    def per_element(self, row: int) -> dict:
        """The row's attribution of every input element."""
        return {name: np.asarray(v[row], dtype=float) for name, v in self.values.items()}

    def local_importance(self, rows) -> Explanation:
        """Each feature's share of the row's absolute attribution, ``100 |A_j| / sum_k |A_k|``,
        with the signed attribution ``A_j`` as its direction (one row: 1-D)."""
        positions = self.positions(rows)
        attributions = self.feature_values()[positions]
        return self._importance_rows(
            rows,
            normalise(np.abs(attributions)),
            attributions,
            "local attribution share",
            "lambda_j^0 = 100 |A_j(x^0)| / sum_k |A_k(x^0)|",
            self.score[positions],
        )

    def global_importance(self) -> Explanation:
        """Mean absolute attribution over the rows, as shares summing to 100:
        ``lambda_j = 100 mean_i |A_j(x^i)| / sum_k mean_i |A_k(x^i)|``; ``signed`` holds the mean
        signed attribution, and the meta the baseline it was measured against."""
        attributions = self.feature_values()
        return Explanation(
            normalise(np.abs(attributions).mean(axis=0)),
            ("feature",),
            {"feature": self.feature_names},
            self.view_meta(
                "global importance (mean absolute attribution)",
                "lambda_j = 100 mean_i |A_j(x^i)| / sum_k mean_i |A_k(x^i)|",
            ),
            signed=attributions.mean(axis=0),
        )

    def importance_sums(self) -> ImportanceSums:
        """The sums :meth:`global_importance` is made of (``sum_i |A_j|``, ``sum_i A_j``, ``n``),
        to combine with other parts' (:class:`~nbexplain.results.importance.ImportanceSums`):
        the global importance of data too large to explain at once."""
        attributions = self.feature_values()
        meta = {k: v for k, v in self.meta.items() if k not in ("view", "formula", "n_samples")}
        return ImportanceSums(
            "mean_abs",
            self.feature_names,
            np.abs(attributions).sum(axis=0),
            attributions.sum(axis=0),
            self.n_samples,
            meta=meta,
        )

    def _position(self, position) -> int:
        position = int(position)
        if not -self.n_samples <= position < self.n_samples:
            raise NBExplainError(f"Sample {position} is out of range: {self.n_samples} samples were explained.")
        return position % self.n_samples

    def completeness_summary(self) -> dict:
        """Distribution of the completeness error: max, mean and quantiles."""
        error = self.completeness_error
        quantiles = dict(zip(("median", "p90", "p99"), np.quantile(error, [0.5, 0.9, 0.99]).tolist()))
        return {"max": float(error.max()), "mean": float(error.mean()), **quantiles, "n": int(error.size)}

    # ------------------------------------------------------------- exporting
    def to_frame(self):
        """One row per sample: each feature's attribution, then ``score``, ``baseline_score``,
        ``completeness_error`` and ``steps``."""
        import pandas as pd

        frame = pd.DataFrame(
            self.feature_values(), columns=list(self.feature_names), index=pd.Index(self.sample_labels, name="sample")
        )
        frame["score"] = self.score
        frame["baseline_score"] = self.baseline_score
        frame["completeness_error"] = self.completeness_error
        frame["steps"] = self.steps
        return frame

    def __repr__(self):
        return (
            f"Attributions({self.meta.get('method', '?')}, {self.n_samples} samples, "
            f"{len(self.feature_names)} features, baseline={self.meta.get('baseline', {}).get('kind', '?')!r}, "
            f"max completeness error {self.completeness_error.max():.2e}, {self._describe()})"
        )
