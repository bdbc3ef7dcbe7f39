"""Documented baselines: the point (or set of points) an attribution is measured against.

An attribution explains ``f(x) - f(b)``, so the baseline ``b`` decides what a reason means.
Regulation B's commentary (12 CFR 1002, Supplement I, 9(b)(2)-5) names two methods: compare
with applicants "at or slightly above the minimum passing score", or with "all applicants";
lenders also use the maximum achievable score. Each baseline here says what it is, how it was
built and from how many rows, and is stored in the result's meta, so a validator can rebuild it.

* :class:`AverageInput`, :class:`MedianInput`: one point, the mean / median input of a
  reference data set. Fast, but for a nonlinear model ``f(mean x) != mean f(x)``: the point does
  not stand for "the average score", and the description reports both numbers.
* :class:`ReferenceSet`: the reference data itself. Attributions are averaged over baselines
  drawn from it (expected gradients), so they explain ``f(x) - mean_j f(b_j)``: true to the
  average model score.
* :class:`CutoffCohort`: the applicants whose score is at or slightly better than a cut-off (the
  commentary's first method), as a set or as their average input.
* :class:`BestScore`: the best-scoring applicant of the data, or the best score found within the
  data's feature ranges (a projected gradient search from the best applicants).
* :class:`UserPoint`: a point the user supplies (with a statement of what it is);
  :class:`PairedBaseline`: one baseline per explained sample (applicant against applicant).

A baseline is resolved against a model by the engine (``resolve(context)``): the
:class:`BaselineContext` checks its data like any other input and scores it through the
explainer's gradient plan.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np

from ..errors import InputDataError, NBExplainError
from ..results.serial import freeze_mapping, frozen_array, to_jsonable

#: Tabular baselines with at most this many features list their point in the description.
MAX_LISTED_FEATURES = 64


@dataclass(frozen=True, eq=False)
class ResolvedBaseline:
    """Baseline points as model inputs, ``{input: (k, *shape)}``, and their description.

    ``per_sample``: row ``i`` is the baseline of explained sample ``i`` (``k == n``); otherwise
    every sample is measured against all ``k`` points and the attributions are averaged.
    """

    arrays: Mapping
    description: Mapping
    per_sample: bool = False

    def __post_init__(self):
        object.__setattr__(self, "arrays", freeze_mapping({k: frozen_array(v) for k, v in self.arrays.items()}))
        object.__setattr__(self, "description", freeze_mapping(to_jsonable(dict(self.description))))

    @property
    def size(self) -> int:
        return int(next(iter(self.arrays.values())).shape[0])


def take_rows(arrays: Mapping, positions) -> dict:
    return {name: array[positions] for name, array in arrays.items()}


def fingerprint_arrays(arrays: Mapping) -> str:
    """SHA-256 (16 hex digits) of the reference data a baseline was built from."""
    digest = hashlib.sha256()
    for name in sorted(arrays):
        digest.update(name.encode())
        digest.update(np.ascontiguousarray(arrays[name]).tobytes())
    return digest.hexdigest()[:16]


def describe_point(arrays: Mapping, feature_names: Mapping) -> dict:
    """``{feature: value}`` of a single tabular point (small inputs only), for the record."""
    listed = {}
    for name, array in arrays.items():
        if array.ndim == 2 and array.shape[1] <= MAX_LISTED_FEATURES:
            listed.update({str(f): float(v) for f, v in zip(feature_names[name], array[0])})
    return listed


class BaselineContext:
    """What a baseline may ask of the model while it is resolved: check data, score it, and
    (for the best-score search) differentiate it; every call goes through the gradient plan."""

    def __init__(self, plan, batch_size=None):
        self.plan = plan
        self.batch_size = batch_size
        self.feature_names = dict(plan.prepared.feature_names)
        self.dtype = plan.dtype

    def prepare(self, X, what="data"):
        return self.plan.prepare(X, what)

    def score(self, arrays) -> np.ndarray:
        return self.plan.scores(dict(arrays), self.batch_size, what="the baseline's rows")

    def gradient(self, arrays):
        output, gradients = self.plan.evaluate(
            dict(arrays), self.batch_size, progress=False, what="the baseline search's points"
        )
        return output.astype(np.float64), {k: v.astype(np.float64) for k, v in gradients.items()}


class Baseline:
    """What an attribution is measured against. Subclasses set ``kind`` and ``statement``."""

    kind = "baseline"
    statement = ""

    def resolve(self, context) -> ResolvedBaseline:
        raise NotImplementedError

    def redrawn(self, seed: int) -> Baseline:
        """The same recipe on a fresh draw of its reference rows (itself when it has none)."""
        return self

    def _record(self, context, arrays, **facts) -> dict:
        scores = context.score(arrays)
        record = {
            "kind": self.kind,
            "statement": self.statement,
            "points": int(scores.size),
            "baseline_score": float(scores.mean()),
            **facts,
        }
        if scores.size == 1:
            record["point"] = describe_point(arrays, context.feature_names)
        return record


@dataclass(frozen=True, eq=False)
class _FromReference(Baseline):
    """A baseline computed from reference rows (all of them, or a seeded sample of ``sample`` rows)."""

    reference: object = None
    sample: int | None = None
    seed: int = 0
    bootstrap: bool = False

    def redrawn(self, seed: int) -> Baseline:
        """A fresh sample of the same size (a bootstrap resample when all rows were used)."""
        return replace(self, seed=int(seed), bootstrap=self.sample is None)

    def reference_rows(self, context):
        prepared = context.prepare(self.reference, f"{self.kind} reference data")
        arrays = dict(prepared.arrays)
        n = prepared.n_samples
        rng = np.random.default_rng(self.seed)
        facts = {"n_reference": n, "reference_fingerprint": fingerprint_arrays(arrays), "seed": self.seed}
        if self.bootstrap:
            arrays = take_rows(arrays, rng.integers(0, n, size=n))
            facts["resampled"] = "bootstrap (same size, with replacement)"
        elif self.sample is not None and self.sample < n:
            if self.sample < 1:
                raise InputDataError(f"sample={self.sample}: a reference sample needs at least one row.")
            arrays = take_rows(arrays, np.sort(rng.choice(n, size=int(self.sample), replace=False)))
            facts["sample"] = int(self.sample)
        return arrays, facts


class _PointFromReference(_FromReference):
    """One point summarising the reference rows element by element (see ``summarise``)."""

    @staticmethod
    def summarise(rows: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def resolve(self, context) -> ResolvedBaseline:
        rows, facts = self.reference_rows(context)
        point = {name: self.summarise(array)[None] for name, array in rows.items()}
        average_score = float(context.score(rows).mean())
        return ResolvedBaseline(point, self._record(context, point, average_score_of_reference=average_score, **facts))


@dataclass(frozen=True, eq=False)
class AverageInput(_PointFromReference):
    """The mean input of the reference rows (``b = 1/N sum_i x^i``): one point."""

    kind = "average input"
    statement = (
        "Every input at its mean over the reference rows (all applicants). A nonlinear model's "
        "score at this point is not its average score; both are recorded."
    )

    @staticmethod
    def summarise(rows):
        return rows.mean(axis=0)


@dataclass(frozen=True, eq=False)
class MedianInput(_PointFromReference):
    """The element-wise median input of the reference rows: one point."""

    kind = "median input"
    statement = "Every input at its median over the reference rows (all applicants)."

    @staticmethod
    def summarise(rows):
        return np.median(rows, axis=0)


@dataclass(frozen=True, eq=False)
class ReferenceSet(_FromReference):
    """The reference rows themselves: each sample is explained against ``draws`` of them and the
    attributions are averaged (expected gradients), so they sum to ``f(x) - mean_j f(b_j)``."""

    draws: int = 100
    kind = "reference set"
    statement = (
        "Attributions averaged over baselines drawn from the reference rows (expected gradients): "
        "they explain the difference from the average score of those rows."
    )

    def resolve(self, context) -> ResolvedBaseline:
        rows, facts = self.reference_rows(context)
        n = len(next(iter(rows.values())))
        if self.draws < 1:
            raise InputDataError(f"draws={self.draws}: draw at least one baseline from the reference set.")
        if self.draws < n:
            chosen = np.sort(np.random.default_rng(self.seed + 7919).choice(n, size=int(self.draws), replace=False))
            rows = take_rows(rows, chosen)
        return ResolvedBaseline(rows, self._record(context, rows, draws=int(min(self.draws, n)), **facts))


def passing_band(cutoff: float, band: float, passing: str) -> tuple:
    """Scores "at or slightly better than" the cut-off: ``[cutoff - band, cutoff]`` when lower
    scores pass (a probability of default), ``[cutoff, cutoff + band]`` when higher scores pass."""
    if passing not in ("below", "above"):
        raise NBExplainError(
            f"passing must be 'below' (lower scores are approved, e.g. P(default)) or 'above' "
            f"(higher scores are approved, e.g. score points); got {passing!r}."
        )
    if not band > 0:
        raise NBExplainError(f"band must be positive; got {band}.")
    return (cutoff - band, cutoff) if passing == "below" else (cutoff, cutoff + band)


@dataclass(frozen=True, eq=False)
class CutoffCohort(_FromReference):
    """Applicants scoring at or slightly better than the cut-off (Reg B commentary, first method).

    ``aggregate="set"`` explains against the cohort itself (up to ``draws`` of them, expected
    gradients: true to the cohort's average score); ``"mean"`` against its average input.
    """

    cutoff: float = 0.5
    band: float = 0.05
    passing: str = "below"
    aggregate: str = "set"
    draws: int = 100
    kind = "cut-off cohort"
    statement = "Applicants whose score is at or slightly better than the minimum passing score."

    def resolve(self, context) -> ResolvedBaseline:
        if self.aggregate not in ("set", "mean"):
            raise NBExplainError(f"aggregate must be 'set' or 'mean'; got {self.aggregate!r}.")
        low, high = passing_band(float(self.cutoff), float(self.band), self.passing)
        rows, facts = self.reference_rows(context)
        scores = context.score(rows)
        members = np.flatnonzero((scores >= low) & (scores <= high))
        if members.size == 0:
            raise InputDataError(
                f"No reference row scores within [{low:.4g}, {high:.4g}] (cut-off {self.cutoff}, "
                f"band {self.band}); the scores range over [{scores.min():.4g}, {scores.max():.4g}]. "
                "Widen the band or check the cut-off."
            )
        cohort = take_rows(rows, members)
        facts.update(
            cutoff=float(self.cutoff),
            band=float(self.band),
            passing=self.passing,
            score_range=[low, high],
            cohort_size=int(members.size),
            aggregate=self.aggregate,
        )
        if self.aggregate == "mean":
            cohort = {name: array.mean(axis=0, keepdims=True) for name, array in cohort.items()}
            facts["cohort_average_score"] = float(scores[members].mean())
        elif members.size > self.draws:
            chosen = np.sort(
                np.random.default_rng(self.seed + 7919).choice(members.size, int(self.draws), replace=False)
            )
            cohort = take_rows(cohort, chosen)
        return ResolvedBaseline(cohort, self._record(context, cohort, **facts))


@dataclass(frozen=True, eq=False)
class BestScore(_FromReference):
    """The best score: the best-scoring applicant (``within="applicants"``) or the best point
    found within the reference data's range of every input (``within="ranges"``).

    ``passing="below"`` means lower scores are better (P(default)). The range search starts from
    the ``starts`` best applicants and takes ``iterations`` projected gradient steps (each input
    clipped to its [min, max] over the reference); the best point seen is kept. It is a local
    search: the record says how it was found.
    """

    within: str = "applicants"
    passing: str = "below"
    starts: int = 16
    iterations: int = 200
    kind = "best score"
    statement = "The best achievable score: the point every reason is measured against is the model's best."

    def resolve(self, context) -> ResolvedBaseline:
        if self.within not in ("applicants", "ranges"):
            raise NBExplainError(f"within must be 'applicants' or 'ranges'; got {self.within!r}.")
        passing_band(0.0, 1.0, self.passing)
        sign = 1.0 if self.passing == "below" else -1.0  # minimise sign * score
        rows, facts = self.reference_rows(context)
        scores = sign * context.score(rows)
        order = np.argsort(scores, kind="stable")
        facts.update(within=self.within, passing=self.passing)
        if self.within == "applicants":
            best = take_rows(rows, order[:1])
            facts["best_applicant_position"] = int(order[0])
            return ResolvedBaseline(best, self._record(context, best, **facts))
        low = {n: a.min(axis=0) for n, a in rows.items()}
        high = {n: a.max(axis=0) for n, a in rows.items()}
        span = {n: np.where(high[n] > low[n], high[n] - low[n], 1.0) for n in rows}
        point = {n: a.astype(np.float64) for n, a in take_rows(rows, order[: max(1, int(self.starts))]).items()}
        best_value, best_point = np.inf, None
        for step in range(int(self.iterations) + 1):
            value, gradients = context.gradient({n: a.astype(context.dtype) for n, a in point.items()})
            value = sign * value
            if value.min() < best_value:
                best_value = float(value.min())
                best_point = {n: a[[int(np.argmin(value))]].copy() for n, a in point.items()}
            rate = 0.05 * (1.0 - step / (int(self.iterations) + 1))
            for n in point:  # a step of at most 5 % of each input's range, shrinking to 0
                direction = np.sign(sign * gradients[n])
                point[n] = np.clip(point[n] - rate * span[n] * direction, low[n], high[n])
        facts.update(
            starts=int(self.starts),
            iterations=int(self.iterations),
            best_applicant_score=float(sign * scores[order[0]]),
        )
        if best_point is None:
            raise NBExplainError("The best-score search found no finite score.")
        best_point = {n: a.astype(context.dtype) for n, a in best_point.items()}
        return ResolvedBaseline(best_point, self._record(context, best_point, **facts))


@dataclass(frozen=True, eq=False)
class UserPoint(Baseline):
    """A point the user supplies, in the model's input format, with what it stands for."""

    point: object = None
    statement: str = "A point supplied by the user."
    kind = "user point"

    def resolve(self, context) -> ResolvedBaseline:
        prepared = context.prepare(self.point, "baseline point")
        if prepared.n_samples != 1:
            raise InputDataError(
                f"A user baseline is ONE point; got {prepared.n_samples} rows. For one baseline per "
                "sample use PairedBaseline, for a set of baselines ReferenceSet."
            )
        return ResolvedBaseline(prepared.arrays, self._record(context, prepared.arrays))


@dataclass(frozen=True, eq=False)
class PairedBaseline(Baseline):
    """One baseline per explained sample: row ``i`` of ``points`` for sample ``i`` (for example,
    a denied applicant against an approved one)."""

    points: object = None
    statement: str = "Each sample is measured against its own paired point."
    kind = "paired points"

    def resolve(self, context) -> ResolvedBaseline:
        prepared = context.prepare(self.points, "paired baseline points")
        scores = context.score(prepared.arrays)
        record = {
            "kind": self.kind,
            "statement": self.statement,
            "points": int(scores.size),
            "baseline_score": float(scores.mean()),
        }
        return ResolvedBaseline(prepared.arrays, record, per_sample=True)


def as_baseline(baseline) -> Baseline:
    """A :class:`Baseline` as it is; a point (array, DataFrame row, dict of arrays) as a
    :class:`UserPoint`; nothing is refused: the baseline must be a documented choice."""
    if isinstance(baseline, Baseline):
        return baseline
    if baseline is None:
        raise NBExplainError(
            "An attribution needs an explicit baseline, the point its scores are measured against: for "
            "example AverageInput(X_reference), ReferenceSet(X_reference), CutoffCohort(X_reference, cutoff=0.5), "
            "BestScore(X_reference) or UserPoint(x) (see nbexplain.baselines)."
        )
    return UserPoint(baseline)


__all__ = [
    "AverageInput",
    "Baseline",
    "BestScore",
    "CutoffCohort",
    "MedianInput",
    "PairedBaseline",
    "ReferenceSet",
    "ResolvedBaseline",
    "UserPoint",
    "as_baseline",
]
