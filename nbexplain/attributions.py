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

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from ._version import __version__
from .errors import NBExplainError
from .explanation import (Explanation, array_from_json, dump_json, freeze_mapping, frozen_array, load_typed,
                          to_jsonable)
from .sensitivities import InputLayout


@dataclass(frozen=True, eq=False)
class Attributions:
    """Per-element attributions of many samples, each against its baseline.

    Parameters
    ----------
    values : mapping input name -> array ``(n, *input_shape)``
        Attribution of every input element; they sum (over all inputs and elements) to
        ``output - baseline_output`` up to ``completeness_error``.
    data : mapping input name -> array ``(n, *input_shape)``
        The explained samples.
    output : array ``(n,)``
        ``f(x)``, the explained score of each sample.
    baseline_output : array ``(n,)``
        ``f(b)``: the baseline's score (the mean over the drawn baselines for a reference set).
    completeness_error : array ``(n,)``
        ``|sum_e A_e - (f(x) - f(b))|`` per sample.
    steps : array ``(n,)``
        Quadrature steps used per sample (per baseline pair).
    layout : tuple of InputLayout
        How each input maps to reported features.
    meta : mapping
        How the result was made: method, rule, steps, tolerance, the baseline's description, the
        output explained, model fingerprint, version.
    sample_labels : tuple, optional
    standard_error : mapping input name -> array, optional
        For averages over sampled pairs (population differences): the standard error of each
        element's mean attribution.
    """

    values: Mapping
    data: Mapping
    output: np.ndarray
    baseline_output: np.ndarray
    completeness_error: np.ndarray
    steps: np.ndarray
    layout: tuple
    meta: Mapping = field(default_factory=dict)
    sample_labels: tuple | None = None
    standard_error: Mapping | None = None

    def __post_init__(self):
        freeze = lambda block: freeze_mapping({k: frozen_array(v, dtype=float) for k, v in block.items()})  # noqa: E731
        object.__setattr__(self, "values", freeze(self.values))
        object.__setattr__(self, "data", freeze(self.data))
        if self.standard_error is not None:
            object.__setattr__(self, "standard_error", freeze(self.standard_error))
        for name in ("output", "baseline_output", "completeness_error"):
            object.__setattr__(self, name, frozen_array(np.reshape(getattr(self, name), -1), dtype=float))
        object.__setattr__(self, "steps", frozen_array(np.reshape(self.steps, -1), dtype=int))
        object.__setattr__(self, "layout", tuple(self.layout))
        object.__setattr__(self, "meta", freeze_mapping(self.meta))
        n = self.output.shape[0]
        labels = tuple(range(n)) if self.sample_labels is None else tuple(self.sample_labels)
        object.__setattr__(self, "sample_labels", labels)
        for name in ("baseline_output", "completeness_error", "steps"):
            if getattr(self, name).shape != (n,):
                raise NBExplainError(f"{name} has {getattr(self, name).shape[0]} entries for {n} samples.")
        if len(labels) != n:
            raise NBExplainError(f"{len(labels)} sample labels for {n} samples.")
        for spec in self.layout:
            if self.values[spec.name].shape != (n, *spec.shape):
                raise NBExplainError(f"attributions of input {spec.name!r} have shape "
                                     f"{self.values[spec.name].shape}, expected {(n, *spec.shape)}.")

    # ------------------------------------------------------------ structure
    @property
    def n_samples(self) -> int:
        return int(self.output.shape[0])

    @property
    def feature_names(self) -> tuple:
        return tuple(name for spec in self.layout for name, _, _ in spec.features)

    @property
    def difference(self) -> np.ndarray:
        """``f(x) - f(b)`` per sample: what the attributions split."""
        return self.output - self.baseline_output

    @property
    def total(self) -> np.ndarray:
        """Sum of all attributions per sample (equals :attr:`difference` up to the completeness error)."""
        return sum(v.reshape(self.n_samples, -1).sum(axis=1) for v in self.values.values())

    def feature_values(self) -> np.ndarray:
        """Attribution of every reported feature, ``(n, F)``: elements summed per feature."""
        return np.concatenate([_per_feature(spec, self.values[spec.name]) for spec in self.layout], axis=1)

    def feature_standard_errors(self) -> np.ndarray | None:
        """Standard error of each reported feature's attribution, ``(n, F)``, when sampled.

        Elements of one feature are summed per pair before averaging, so their errors are not
        independent; the bound ``sqrt(sum se_e^2)`` assumes they are, and is reported as an
        approximation (exact for single-element features)."""
        if self.standard_error is None:
            return None
        return np.sqrt(np.concatenate([_per_feature(spec, np.square(self.standard_error[spec.name]))
                                       for spec in self.layout], axis=1))

    def _feature_data(self) -> np.ndarray:
        parts = []
        for spec in self.layout:
            x = self.data[spec.name]
            values = np.full((self.n_samples, len(spec.features)), np.nan)
            if spec.kind == "tabular":
                for f, (_, columns, _) in enumerate(spec.features):
                    if len(columns) == 1:
                        values[:, f] = x[:, columns[0]]
            parts.append(values)
        return np.concatenate(parts, axis=1)

    # ---------------------------------------------------------------- views
    def by_feature(self) -> Explanation:
        """``("sample", "feature")`` signed attributions; ``output`` is ``f(x)``. The meta carries
        the baseline score, the completeness error and the steps of every sample."""
        meta = {**self.meta, "view": "attribution by feature",
                "baseline_output": self.baseline_output.tolist(),
                "completeness_error": self.completeness_error.tolist(), "steps": self.steps.tolist()}
        return Explanation(self.feature_values(), ("sample", "feature"),
                           {"sample": self.sample_labels, "feature": self.feature_names}, meta,
                           data=self._feature_data(), output=self.output)

    def sample(self, position: int) -> Explanation:
        """One sample's signed attribution per feature (1-D), with its scores in the meta."""
        position = self._position(position)
        explanation = self.by_feature()[position]
        meta = {**explanation.meta, "baseline_output": float(self.baseline_output[position]),
                "completeness_error": float(self.completeness_error[position]),
                "steps": int(self.steps[position])}
        errors = self.feature_standard_errors()
        if errors is not None:
            meta["standard_error"] = dict(zip(self.feature_names, errors[position].tolist()))
        return Explanation(explanation.values, explanation.dims, explanation.coords, meta, data=explanation.data)

    def mean(self) -> Explanation:
        """Mean signed attribution per feature over the samples (``("feature",)``); it sums to
        ``mean f(x) - mean f(b)``."""
        meta = {**self.meta, "view": "mean attribution", "mean_output": float(self.output.mean()),
                "mean_baseline_output": float(self.baseline_output.mean())}
        return Explanation(self.feature_values().mean(axis=0), ("feature",), {"feature": self.feature_names}, meta)

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
        """One row per sample: each feature's attribution, then ``output``, ``baseline_output``,
        ``completeness_error`` and ``steps``."""
        import pandas as pd

        frame = pd.DataFrame(self.feature_values(), columns=list(self.feature_names),
                             index=pd.Index(self.sample_labels, name="sample"))
        frame["output"] = self.output
        frame["baseline_output"] = self.baseline_output
        frame["completeness_error"] = self.completeness_error
        frame["steps"] = self.steps
        return frame

    def to_dict(self) -> dict:
        block = lambda arrays: None if arrays is None else {k: v for k, v in arrays.items()}  # noqa: E731
        return to_jsonable({
            "type": "Attributions", "meta": dict(self.meta), "layout": [s.to_dict() for s in self.layout],
            "sample_labels": list(self.sample_labels), "values": block(self.values), "data": block(self.data),
            "output": self.output, "baseline_output": self.baseline_output,
            "completeness_error": self.completeness_error, "steps": self.steps,
            "standard_error": block(self.standard_error),
        })

    def to_json(self, path=None) -> str:
        return dump_json(self.to_dict(), path)

    @classmethod
    def from_json(cls, text_or_path) -> "Attributions":
        payload = load_typed(text_or_path, "Attributions")
        arrays = lambda block: None if block is None else {k: array_from_json(v, float) for k, v in block.items()}  # noqa: E731
        return cls(values=arrays(payload["values"]), data=arrays(payload["data"]),
                   output=array_from_json(payload["output"], float),
                   baseline_output=array_from_json(payload["baseline_output"], float),
                   completeness_error=array_from_json(payload["completeness_error"], float),
                   steps=np.asarray(payload["steps"], dtype=int),
                   layout=tuple(InputLayout(s["name"], s["kind"], tuple(s["shape"]), tuple(s["feature_names"]),
                                            tuple(s["groups"])) for s in payload["layout"]),
                   meta=payload["meta"], sample_labels=tuple(payload["sample_labels"]),
                   standard_error=arrays(payload.get("standard_error")))

    def __repr__(self):
        return (f"Attributions({self.meta.get('method', '?')}, {self.n_samples} samples, "
                f"{len(self.feature_names)} features, baseline={self.meta.get('baseline', {}).get('kind', '?')!r}, "
                f"max completeness error {self.completeness_error.max():.2e}, nbexplain "
                f"{self.meta.get('version', __version__)})")


def _per_feature(spec: InputLayout, values: np.ndarray) -> np.ndarray:
    """Element values ``(n, *shape)`` -> feature sums ``(n, F)`` (positions summed, groups summed)."""
    n = values.shape[0]
    columns = values.reshape(n, -1, spec.shape[-1]).sum(axis=1)
    return columns @ spec.membership() if spec.groups else columns
