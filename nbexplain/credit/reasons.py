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
        The share of a denied applicant's adverse push at which a prohibited basis is material
        (see :func:`rank_reasons` for the one definition).
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
        """Read a catalogue written by :meth:`to_json` (a JSON string or a file path)."""
        return cls.from_dict(load_json(text_or_path))

    @classmethod
    def from_dict(cls, payload) -> ReasonCatalogue:
        """The catalogue of a :meth:`to_dict` payload; a payload of another shape is an error
        showing the expected one."""
        shape = '{"reasons": [{"code", "statement", "features"}], "prohibited": [...]}'
        if not isinstance(payload, dict) or "reasons" not in payload:
            raise NBExplainError(f"A reason catalogue needs the key 'reasons': {shape}.")
        try:
            return cls(
                tuple(payload["reasons"]),
                tuple(payload.get("prohibited", ())),
                payload.get("adverse", "increase"),
                float(payload.get("materiality", 0.05)),
                float(payload.get("min_share", 0.01)),
            )
        except (TypeError, ValueError, KeyError) as error:
            if isinstance(error, NBExplainError):
                raise
            raise NBExplainError(f"The reason catalogue is malformed ({error}); its shape is {shape}.") from None


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
    """The reasons for one applicant, with the facts a validator checks them against.

    ``material`` lists the prohibited bases that are material for this applicant (only ever
    for a denied applicant, see :func:`rank_reasons`); ``completeness_ok`` says whether the
    attributions add up to the score difference within the stated tolerance.
    """

    applicant: object
    score: float
    baseline_score: float
    reasons: tuple
    contributions: Mapping
    prohibited: Mapping
    material: tuple
    completeness_error: float
    denied: bool = True
    completeness_ok: bool = True
    meta: Mapping = field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "reasons", tuple(self.reasons))
        object.__setattr__(self, "material", tuple(self.material))
        for name in ("contributions", "prohibited", "meta"):
            object.__setattr__(self, name, freeze_mapping(getattr(self, name)))

    @property
    def prohibited_material(self) -> bool:
        return bool(self.material)

    @property
    def warnings(self) -> tuple:
        if not self.material:
            return ()
        weights = ", ".join(f"{k} {self.prohibited[k]:+.4g}" for k in self.material)
        return (
            f"PROHIBITED BASIS CARRIES MATERIAL WEIGHT for denied applicant {self.applicant!r}: {weights} pushes "
            "the score toward denial. It is not given as a reason, but the decision leans on it: review the model.",
        )

    def to_frame(self):
        """One row per stated reason."""
        import pandas as pd

        rows = [
            {
                "rank": r.rank,
                "code": r.code,
                "statement": r.statement,
                "contribution": r.contribution,
                "features": ", ".join(r.features),
            }
            for r in self.reasons
        ]
        return pd.DataFrame(rows, columns=["rank", "code", "statement", "contribution", "features"])

    def to_dict(self) -> dict:
        return to_jsonable(
            {
                "applicant": self.applicant,
                "score": self.score,
                "baseline_score": self.baseline_score,
                "denied": self.denied,
                "reasons": [r.__dict__ for r in self.reasons],
                "contributions": dict(self.contributions),
                "prohibited": dict(self.prohibited),
                "prohibited_material": list(self.material),
                "completeness_error": self.completeness_error,
                "completeness_ok": self.completeness_ok,
                "warnings": list(self.warnings),
                "meta": dict(self.meta),
            }
        )

    def __str__(self):
        decision = "denied" if self.denied else "approved"
        lines = [
            f"Applicant {self.applicant} ({decision}): score {self.score:.4g} against baseline "
            f"{self.baseline_score:.4g}"
        ]
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
    material: np.ndarray  # (n, P) bool: which prohibited bases are material (denied applicants only)
    denied: np.ndarray  # (n,) bool, by the one definition at the cut-off
    score: np.ndarray
    baseline_score: np.ndarray
    completeness_error: np.ndarray
    applicants: tuple
    meta: Mapping
    steps: np.ndarray | None = None  # (n,) quadrature steps each applicant's attributions took
    tolerance: float | None = None  # completeness error above which an applicant is flagged
    outside_reference: tuple | None = None  # per applicant: the columns outside the reference range

    @classmethod
    def empty(cls, catalogue: ReasonCatalogue, max_reasons: int = MAX_REASONS) -> RankedReasons:
        """No applicant: what a batch with no denial writes (the table's columns, no rows)."""
        k = min(int(max_reasons), len(catalogue.reasons))
        p, nothing = len(catalogue.prohibited), np.zeros(0)
        return cls(
            catalogue,
            np.zeros((0, len(catalogue.reasons))),
            np.zeros((0, p)),
            np.zeros((0, k), dtype=int),
            np.zeros((0, p), dtype=bool),
            np.zeros(0, dtype=bool),
            nothing,
            nothing,
            nothing,
            (),
            freeze_mapping({}),
            np.zeros(0, dtype=int),
            None,
            (),
        )

    @property
    def material_any(self) -> np.ndarray:
        """``(n,)``: applicants for whom some prohibited basis is material."""
        return self.material.any(axis=1) if self.material.size else np.zeros(len(self.applicants), dtype=bool)

    @property
    def completeness_ok(self) -> np.ndarray:
        """``(n,)``: attributions that add up within the tolerance (all, when none was stated)."""
        if self.tolerance is None:
            return np.ones(len(self.applicants), dtype=bool)
        return self.completeness_error <= self.tolerance

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
        material = tuple(p for p, flag in zip(catalogue.prohibited, self.material[position]) if flag)
        result = AdverseActionReasons(
            self.applicants[position],
            float(self.score[position]),
            float(self.baseline_score[position]),
            reasons,
            dict(zip(catalogue.codes, self.contributions[position].tolist())),
            dict(zip(catalogue.prohibited, self.prohibited[position].tolist())),
            material,
            float(self.completeness_error[position]),
            bool(self.denied[position]),
            bool(self.completeness_ok[position]),
            self.meta,
        )
        for message in result.warnings:
            warnings.warn(message, ProhibitedBasisWarning, stacklevel=2)
        return result

    def table(self):
        """One row per applicant: the decision, scores, completeness error and whether it is
        within the tolerance, each reason's code, statement and contribution, each prohibited
        basis's contribution and the prohibited-basis check, and the columns outside the
        reference data's range."""
        import pandas as pd

        catalogue, k = self.catalogue, self.order.shape[1]
        frame = {
            "applicant": list(self.applicants),
            "denied": self.denied,
            "score": self.score,
            "baseline_score": self.baseline_score,
            "completeness_error": self.completeness_error,
            "completeness_ok": self.completeness_ok,
        }
        codes = np.array([*catalogue.codes, ""], dtype=object)
        statements = np.array([*(r.statement for r in catalogue.reasons), ""], dtype=object)
        rows = np.arange(len(self.order))
        for rank in range(k):
            index = self.order[:, rank]
            frame[f"reason_{rank + 1}"] = codes[index]
            frame[f"reason_{rank + 1}_statement"] = statements[index]
            frame[f"reason_{rank + 1}_contribution"] = np.where(index >= 0, self.contributions[rows, index], np.nan)
        for p, basis in enumerate(catalogue.prohibited):
            frame[f"prohibited_{basis}"] = self.prohibited[:, p]
        frame["prohibited_material"] = self.material_any
        frame["prohibited_material_bases"] = (
            [";".join(b for b, flag in zip(catalogue.prohibited, row) if flag) for row in self.material]
            if self.material.size
            else [""] * len(rows)
        )
        frame["outside_reference"] = (
            list(self.outside_reference) if self.outside_reference is not None else [""] * len(rows)
        )
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
    cutoff: float,
    applicants=None,
    max_reasons: int = MAX_REASONS,
    meta=None,
    steps=None,
    tolerance: float | None = None,
    outside_reference=None,
) -> RankedReasons:
    """Sum signed attributions ``values`` ``(n, F)`` per reason and rank the adverse ones.

    With ``s = +1`` when a rising score is adverse (``-1`` otherwise), a reason group ``r`` with
    summed contribution ``c_r`` pushes toward denial when ``s c_r > 0``. The applicant's
    **adverse push** is ``P = sum_r max(s c_r, 0) + sum_p max(s c_p, 0)`` over the reason groups
    and the prohibited bases ``p``.

    * A reason is stated when it pushes toward denial and carries at least
      ``catalogue.min_share * P``; ranking is by ``s c_r`` descending, ties by catalogue order.
    * **The prohibited-basis test** (one definition, used by the batch output, the report and
      the dashboard): a prohibited basis ``p`` is material for a DENIED applicant when its
      adverse contribution ``a_p = max(s c_p, 0)`` is at least ``catalogue.materiality * P``, or
      when the decision would change without it: ``a_p >= s (score - cutoff)``, the margin by
      which the score is past the cut-off (the cut-off itself passes). Contributions that lower
      the risk never count, and an approved applicant is never flagged.
    """
    values = np.atleast_2d(np.asarray(values, dtype=float))
    if values.shape[1] != len(feature_names):
        raise InputDataError(f"{values.shape[1]} attribution columns for {len(feature_names)} feature names.")
    if int(max_reasons) < 1:
        raise NBExplainError(f"max_reasons must be at least 1; got {max_reasons}.")
    score = np.asarray(score, dtype=float)
    decisions = denied(score, cutoff, catalogue.adverse)
    to_reasons, to_prohibited = catalogue.matrix(feature_names)
    contributions = values @ to_reasons
    prohibited = values @ to_prohibited
    adverse = catalogue.sign * contributions
    against = np.clip(catalogue.sign * prohibited, 0, None)
    n, r = contributions.shape
    k = min(int(max_reasons), r)
    precedence = np.broadcast_to(np.arange(r), (n, r))
    order = np.lexsort((precedence, -adverse), axis=-1)[:, :k] if r else np.zeros((n, 0), dtype=int)
    push = np.clip(adverse, 0, None).sum(axis=1) + against.sum(axis=1)
    floor = np.maximum(catalogue.min_share * push, 0.0)[:, None]
    ranked = np.take_along_axis(adverse, order, axis=1)
    given = (ranked > 0) & (ranked >= floor)
    order = np.where(given, order, -1)
    margin = (catalogue.sign * (score - float(cutoff)))[:, None]
    material = (against > 0) & ((against >= catalogue.materiality * push[:, None]) | (against >= margin))
    material &= decisions[:, None]
    applicants = tuple(range(n)) if applicants is None else tuple(applicants)
    return RankedReasons(
        catalogue,
        contributions,
        prohibited,
        order,
        material,
        decisions,
        score,
        np.asarray(baseline_score, dtype=float),
        np.asarray(completeness_error, dtype=float),
        applicants,
        freeze_mapping(meta or {}),
        None if steps is None else np.asarray(steps),
        None if tolerance is None else float(tolerance),
        None if outside_reference is None else tuple(outside_reference),
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
    attributions,
    catalogue: ReasonCatalogue,
    max_reasons: int = MAX_REASONS,
    elements=None,
    *,
    cutoff: float,
    tolerance: float | None = None,
    outside_reference=None,
) -> RankedReasons:
    """Rank the reasons of every sample of an :class:`~nbexplain.Attributions` result, decided
    at ``cutoff``; completeness errors above ``tolerance`` are flagged."""
    values, names = column_attributions(attributions, elements)
    meta = {
        "method": attributions.meta.get("method"),
        "baseline": attributions.meta.get("baseline"),
        "rule": attributions.meta.get("rule"),
        "steps": attributions.meta.get("steps"),
        "model_fingerprint": attributions.meta.get("model_fingerprint"),
        "max_reasons": int(max_reasons),
        "cutoff": float(cutoff),
        "completeness_tolerance": tolerance,
        "catalogue": catalogue.to_dict(),
    }
    return rank_reasons(
        values,
        names,
        catalogue,
        score=attributions.score,
        baseline_score=attributions.baseline_score,
        completeness_error=attributions.completeness_error,
        cutoff=cutoff,
        applicants=attributions.sample_labels,
        max_reasons=max_reasons,
        meta=meta,
        steps=attributions.steps,
        tolerance=tolerance,
        outside_reference=outside_reference,
    )
