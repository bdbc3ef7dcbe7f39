"""Adverse-action reasons from attributions against a documented baseline.

A :class:`ReasonCatalogue` maps every feature to one reason statement; related features (all
repayment-status months, all bill amounts) share a reason, and their attributions are SUMMED
before ranking, so a signal spread over correlated inputs is not diluted below a single input
(Pace 2023, "Appropriately treating values for related / correlated inputs"). Features that are
prohibited bases (sex, marital status, age ...) are never given as reasons; when their
attributions carry material weight the result says so, loudly.

For an applicant, the reasons are the groups whose contribution pushed the score toward denial
(``adverse="increase"``: a higher score is worse, e.g. P(default)), largest first, at most
``max_reasons`` (4 by default, as most notices give); ties are broken by catalogue order.
Contributions in the favourable direction never become reasons.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from ..errors import InputDataError, NBExplainError, NonFiniteScoreError, row_list, unknown_name
from ..results.serial import dump_json, freeze_mapping, load_json, to_jsonable

MAX_REASONS = 4


@dataclass(frozen=True)
class ReasonCode:
    """One reason statement and the features whose attributions it sums."""

    code: str
    statement: str
    features: tuple

    def __post_init__(self):
        features = (self.features,) if isinstance(self.features, str) else self.features
        object.__setattr__(self, "features", tuple(str(f) for f in features))
        if not self.features:
            raise NBExplainError(f"Reason {self.code!r} names no features.")


@dataclass(frozen=True, eq=False)
class ReasonCatalogue:
    """Reason statements for every feature of a model, and the prohibited bases.

    Parameters
    ----------
    reasons : sequence of ReasonCode (or dicts with code, statement, features)
        In order of precedence: on an exact tie the earlier reason ranks first.
    prohibited : sequence of str
        Features that are prohibited bases under ECOA / Reg B (e.g. sex, marital status, age):
        never a reason; reported when material.
    adverse : str
        ``"increase"`` when a higher score is worse (probability of default), ``"decrease"``
        when a higher score is better (score points).
    materiality : float
        A prohibited basis is material when its absolute attribution is at least this share of
        the applicant's total absolute attribution, or when it would have been stated as a
        reason (see ``min_share``).
    min_share : float
        A reason is stated only when it carries at least this share of the applicant's total
        adverse contribution (the sum of all contributions toward denial), so that numerical
        dust is never given as a reason.
    """

    reasons: tuple
    prohibited: tuple = ()
    adverse: str = "increase"
    materiality: float = 0.05
    min_share: float = 0.01

    def __post_init__(self):
        reasons = tuple(r if isinstance(r, ReasonCode) else ReasonCode(**r) for r in self.reasons)
        object.__setattr__(self, "reasons", reasons)
        object.__setattr__(self, "prohibited", tuple(str(p) for p in self.prohibited))
        if not (0 < self.materiality <= 1 and 0 <= self.min_share < 1):
            raise NBExplainError(
                f"materiality must be in (0, 1] and min_share in [0, 1); got {self.materiality} and {self.min_share}."
            )
        if self.adverse not in ("increase", "decrease"):
            raise NBExplainError(
                f"adverse must be 'increase' (a higher score is worse, e.g. P(default)) or "
                f"'decrease' (a higher score is better); got {self.adverse!r}."
            )
        codes = [r.code for r in reasons]
        if len(set(codes)) != len(codes):
            raise NBExplainError(
                f"Reason codes must be unique; repeated: {sorted({c for c in codes if codes.count(c) > 1})}."
            )
        seen = {}
        for reason in reasons:
            for feature in reason.features:
                if feature in seen:
                    raise NBExplainError(
                        f"Feature {feature!r} is in reasons {seen[feature]!r} and {reason.code!r}; "
                        "a feature belongs to one reason."
                    )
                if feature in self.prohibited:
                    raise NBExplainError(
                        f"Feature {feature!r} is a prohibited basis and cannot be part of reason {reason.code!r}."
                    )
                seen[feature] = reason.code

    @property
    def sign(self) -> float:
        """+1 when a rising score is adverse, -1 otherwise."""
        return 1.0 if self.adverse == "increase" else -1.0

    @property
    def codes(self) -> tuple:
        return tuple(r.code for r in self.reasons)

    @classmethod
    def per_feature(cls, feature_names, prohibited=(), adverse="increase") -> ReasonCatalogue:
        """One reason per feature, stated by its name (a start when no catalogue exists yet)."""
        return cls(
            tuple(ReasonCode(str(f), str(f), (str(f),)) for f in feature_names if f not in prohibited),
            tuple(prohibited),
            adverse,
        )

    def matrix(self, feature_names) -> tuple:
        """``(R, P)``: 0/1 matrices (features x reasons) and (features x prohibited bases).

        Every feature must be in one reason or be a prohibited basis: an unmapped feature would
        silently vanish from the notices, so it is an error naming each one.
        """
        names = [str(f) for f in feature_names]
        members = {f for r in self.reasons for f in r.features} | set(self.prohibited)
        for feature in sorted(members - set(names)):
            raise unknown_name("feature (in the reason catalogue)", feature, names)
        unmapped = [f for f in names if f not in members]
        if unmapped:
            raise InputDataError(
                f"The reason catalogue has no reason for feature(s) {unmapped}: add them to a "
                "reason (or list them as prohibited bases)."
            )
        reasons = np.zeros((len(names), len(self.reasons)))
        for r, reason in enumerate(self.reasons):
            reasons[[names.index(f) for f in reason.features], r] = 1.0
        prohibited = np.zeros((len(names), len(self.prohibited)))
        for p, feature in enumerate(self.prohibited):
            prohibited[names.index(feature), p] = 1.0
        return reasons, prohibited

    def to_dict(self) -> dict:
        return {
            "reasons": [{"code": r.code, "statement": r.statement, "features": list(r.features)} for r in self.reasons],
            "prohibited": list(self.prohibited),
            "adverse": self.adverse,
            "materiality": self.materiality,
            "min_share": self.min_share,
        }

    def to_json(self, path=None) -> str:
        return dump_json(self.to_dict(), path, indent=2)

    @classmethod
    def from_json(cls, text_or_path) -> ReasonCatalogue:
        payload = load_json(text_or_path)
        missing = [k for k in ("reasons",) if k not in payload]
        if missing:
            raise NBExplainError(
                f"A reason catalogue file needs the key(s) {missing}: "
                '{"reasons": [{"code", "statement", "features"}], "prohibited": [...]}.'
            )
        return cls(
            tuple(payload["reasons"]),
            tuple(payload.get("prohibited", ())),
            payload.get("adverse", "increase"),
            float(payload.get("materiality", 0.05)),
            float(payload.get("min_share", 0.01)),
        )


@dataclass(frozen=True)
class StatedReason:
    """One reason given to an applicant: its rank, code, statement and summed contribution."""

    rank: int
    code: str
    statement: str
    contribution: float
    features: tuple


@dataclass(frozen=True, eq=False)
class AdverseActionReasons:
    """The reasons for one applicant, with the facts a validator checks them against."""

    applicant: object
    score: float
    baseline_score: float
    reasons: tuple
    contributions: Mapping
    prohibited: Mapping
    prohibited_material: bool
    completeness_error: float
    meta: Mapping = field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "reasons", tuple(self.reasons))
        for name in ("contributions", "prohibited", "meta"):
            object.__setattr__(self, name, freeze_mapping(getattr(self, name)))

    @property
    def warnings(self) -> tuple:
        if not self.prohibited_material:
            return ()
        weights = ", ".join(f"{k} {v:+.4g}" for k, v in self.prohibited.items())
        return (
            f"PROHIBITED BASIS CARRIES MATERIAL WEIGHT for applicant {self.applicant!r}: {weights}. It is not "
            "given as a reason, but the model's decision for this applicant leans on it: review the model.",
        )

    def to_frame(self):
        """One row per stated reason."""
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "rank": r.rank,
                    "code": r.code,
                    "statement": r.statement,
                    "contribution": r.contribution,
                    "features": ", ".join(r.features),
                }
                for r in self.reasons
            ],
            columns=["rank", "code", "statement", "contribution", "features"],
        )

    def to_dict(self) -> dict:
        return to_jsonable(
            {
                "applicant": self.applicant,
                "score": self.score,
                "baseline_score": self.baseline_score,
                "reasons": [r.__dict__ for r in self.reasons],
                "contributions": dict(self.contributions),
                "prohibited": dict(self.prohibited),
                "prohibited_material": self.prohibited_material,
                "completeness_error": self.completeness_error,
                "warnings": list(self.warnings),
                "meta": dict(self.meta),
            }
        )

    def __str__(self):
        lines = [f"Applicant {self.applicant}: score {self.score:.4g} against baseline {self.baseline_score:.4g}"]
        lines += [f"  {r.rank}. [{r.code}] {r.statement} ({r.contribution:+.4g})" for r in self.reasons]
        if not self.reasons:
            lines.append("  no contribution pushed the score toward denial")
        return "\n".join([*lines, *self.warnings])


@dataclass(frozen=True, eq=False)
class RankedReasons:
    """Reasons of many applicants at once (vectorised), from which one applicant's
    :class:`AdverseActionReasons` or a table with one row per applicant is read."""

    catalogue: ReasonCatalogue
    contributions: np.ndarray  # (n, R) signed sums per reason
    prohibited: np.ndarray  # (n, P) signed attributions of the prohibited bases
    order: np.ndarray  # (n, max_reasons) reason indices, -1 where no further reason
    material: np.ndarray  # (n,) bool
    score: np.ndarray
    baseline_score: np.ndarray
    completeness_error: np.ndarray
    applicants: tuple
    meta: Mapping
    steps: np.ndarray | None = None  # (n,) quadrature steps each applicant's attributions took

    @classmethod
    def empty(cls, catalogue: ReasonCatalogue, max_reasons: int = MAX_REASONS) -> RankedReasons:
        """No applicant: what a batch with no denial writes (the table's columns, no rows)."""
        k = min(int(max_reasons), len(catalogue.reasons))
        nothing = np.zeros(0)
        return cls(
            catalogue,
            np.zeros((0, len(catalogue.reasons))),
            np.zeros((0, len(catalogue.prohibited))),
            np.zeros((0, k), dtype=int),
            np.zeros(0, dtype=bool),
            nothing,
            nothing,
            nothing,
            (),
            freeze_mapping({}),
            np.zeros(0, dtype=int),
        )

    def applicant(self, position: int) -> AdverseActionReasons:
        catalogue = self.catalogue
        reasons = [
            StatedReason(
                rank + 1,
                catalogue.reasons[r].code,
                catalogue.reasons[r].statement,
                float(self.contributions[position, r]),
                catalogue.reasons[r].features,
            )
            for rank, r in enumerate(self.order[position])
            if r >= 0
        ]
        result = AdverseActionReasons(
            self.applicants[position],
            float(self.score[position]),
            float(self.baseline_score[position]),
            reasons,
            dict(zip(catalogue.codes, self.contributions[position].tolist())),
            dict(zip(catalogue.prohibited, self.prohibited[position].tolist())),
            bool(self.material[position]),
            float(self.completeness_error[position]),
            self.meta,
        )
        for message in result.warnings:
            warnings.warn(message, ProhibitedBasisWarning, stacklevel=2)
        return result

    def table(self):
        """One row per applicant: scores, completeness error, each reason's code, statement and
        contribution, and the prohibited-basis check."""
        import pandas as pd

        catalogue, k = self.catalogue, self.order.shape[1]
        frame = {
            "applicant": list(self.applicants),
            "score": self.score,
            "baseline_score": self.baseline_score,
            "completeness_error": self.completeness_error,
        }
        codes = np.array([*catalogue.codes, ""], dtype=object)
        statements = np.array([*(r.statement for r in catalogue.reasons), ""], dtype=object)
        rows = np.arange(len(self.order))
        for rank in range(k):
            index = self.order[:, rank]
            frame[f"reason_{rank + 1}"] = codes[index]
            frame[f"reason_{rank + 1}_statement"] = statements[index]
            frame[f"reason_{rank + 1}_contribution"] = np.where(index >= 0, self.contributions[rows, index], np.nan)
        frame["prohibited_weight"] = np.abs(self.prohibited).sum(axis=1) if self.prohibited.size else 0.0
        frame["prohibited_material"] = self.material
        return pd.DataFrame(frame)

    def top_sets(self, k: int | None = None) -> list:
        """The set of the top ``k`` reason codes of every applicant (for stability checks)."""
        k = self.order.shape[1] if k is None else int(k)
        return [frozenset(int(r) for r in row[:k] if r >= 0) for row in self.order]


def denied(scores, cutoff: float, adverse: str = "increase") -> np.ndarray:
    """The one definition of a denial in nbexplain: the cut-off is the worst score that still
    passes (Reg B's "minimum passing score"), so a score exactly at it is approved.

    ``adverse="increase"`` (a higher score is worse, e.g. P(default)): denied when
    ``score > cutoff``; ``"decrease"`` (a higher score is better): denied when ``score < cutoff``.
    A NaN or inf score is an error naming the rows: it is neither approved nor denied.
    """
    scores = np.asarray(scores, dtype=float)
    if not np.isfinite(float(cutoff)):
        raise NBExplainError(f"The cut-off must be a finite number; got {cutoff!r}.")
    bad = np.flatnonzero(~np.isfinite(scores))
    if bad.size:
        raise NonFiniteScoreError(
            f"{bad.size} score(s) are NaN or inf (rows {row_list(bad)}): such an applicant can be "
            "neither approved nor denied. Check the model and those rows."
        )
    return scores > cutoff if adverse == "increase" else scores < cutoff


class ProhibitedBasisWarning(UserWarning):
    """A prohibited basis carries material weight in an applicant's score."""


def rank_reasons(
    values,
    feature_names,
    catalogue: ReasonCatalogue,
    *,
    score,
    baseline_score,
    completeness_error,
    applicants=None,
    max_reasons: int = MAX_REASONS,
    meta=None,
    steps=None,
) -> RankedReasons:
    """Sum signed attributions ``values`` ``(n, F)`` per reason and rank the adverse ones.

    A reason is given when its summed contribution points toward denial (``sign * c > 0``) and
    carries at least ``catalogue.min_share`` of the applicant's total adverse contribution;
    ranking is by ``sign * c`` descending, ties by catalogue order. A prohibited basis is
    material when ``|c_p| >= materiality * sum_e |A_e|``, or when it would have been stated
    (adverse, above ``min_share`` and above the weakest stated reason).
    """
    values = np.atleast_2d(np.asarray(values, dtype=float))
    if values.shape[1] != len(feature_names):
        raise InputDataError(f"{values.shape[1]} attribution columns for {len(feature_names)} feature names.")
    if int(max_reasons) < 1:
        raise NBExplainError(f"max_reasons must be at least 1; got {max_reasons}.")
    to_reasons, to_prohibited = catalogue.matrix(feature_names)
    contributions = values @ to_reasons
    prohibited = values @ to_prohibited
    adverse = catalogue.sign * contributions
    n, r = contributions.shape
    k = min(int(max_reasons), r)
    precedence = np.broadcast_to(np.arange(r), (n, r))
    order = np.lexsort((precedence, -adverse), axis=-1)[:, :k] if r else np.zeros((n, 0), dtype=int)
    pushed = np.clip(adverse, 0, None).sum(axis=1) + np.clip(catalogue.sign * prohibited, 0, None).sum(axis=1)
    floor = np.maximum(catalogue.min_share * pushed, 0.0)[:, None]
    ranked = np.take_along_axis(adverse, order, axis=1)
    given = (ranked > 0) & (ranked >= floor)
    order = np.where(given, order, -1)
    total = np.abs(values).sum(axis=1)
    material = np.zeros(n, dtype=bool)
    if prohibited.size:
        share = np.abs(prohibited) / np.where(total > 0, total, 1.0)[:, None]
        # a prohibited basis that would have been stated: adverse, above the floor and above the weakest reason
        weakest = np.min(np.where(given, ranked, np.inf), axis=1)[:, None]
        would_state = catalogue.sign * prohibited
        would_state = (
            (would_state > 0) & (would_state >= floor) & ((would_state > weakest) | ~given.all(axis=1)[:, None])
        )
        material = ((share >= catalogue.materiality) | would_state).any(axis=1)
    applicants = tuple(range(n)) if applicants is None else tuple(applicants)
    return RankedReasons(
        catalogue,
        contributions,
        prohibited,
        order,
        material,
        np.asarray(score, dtype=float),
        np.asarray(baseline_score, dtype=float),
        np.asarray(completeness_error, dtype=float),
        applicants,
        freeze_mapping(meta or {}),
        None if steps is None else np.asarray(steps),
    )


def at_elements(arrays, elements) -> np.ndarray:
    """``(n, C)``: for each ``column: (input or None for the first input, index)`` of
    ``elements``, the entry of ``arrays[input]`` at that element of every row."""
    first = next(iter(arrays))
    return np.stack(
        [np.asarray(arrays[name or first])[(slice(None), *tuple(index))] for name, index in elements.values()], axis=1
    )


def column_attributions(attributions, elements=None) -> tuple:
    """Signed attributions ``(n, C)`` and names: per reported feature, or, with ``elements``
    (``{column: (input or None, index)}``), per raw column read off its own input element."""
    if not elements:
        return attributions.feature_values(), attributions.feature_names
    return at_elements(attributions.values, elements), tuple(elements)


def reasons_from_attributions(
    attributions, catalogue: ReasonCatalogue, max_reasons: int = MAX_REASONS, elements=None
) -> RankedReasons:
    """Rank the reasons of every sample of an :class:`~nbexplain.Attributions` result."""
    values, names = column_attributions(attributions, elements)
    meta = {
        "method": attributions.meta.get("method"),
        "baseline": attributions.meta.get("baseline"),
        "rule": attributions.meta.get("rule"),
        "steps": attributions.meta.get("steps"),
        "model_fingerprint": attributions.meta.get("model_fingerprint"),
        "max_reasons": int(max_reasons),
        "catalogue": catalogue.to_dict(),
    }
    return rank_reasons(
        values,
        names,
        catalogue,
        score=attributions.score,
        baseline_score=attributions.baseline_score,
        completeness_error=attributions.completeness_error,
        applicants=attributions.sample_labels,
        max_reasons=max_reasons,
        meta=meta,
        steps=attributions.steps,
    )
