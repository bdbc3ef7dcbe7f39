"""Most important contributing factors of an additive risk model's prediction (Chen et al. 2018,
the first of their three explanations).

For a row predicted **Bad** (P(Bad) above the threshold), as in the seed: the two subscales with
the largest points ``v_s p_s``; within each, the two step columns with the largest points
``w_c b_c`` (only columns that add risk, ``w_c b_c > 0``).

For a row predicted **Good** the seed gives no rule; here the factors are those pushing hardest
toward Good, measured against the average applicant of the training data (all points are
non-negative, so "toward Good" needs a reference): the two subscales with the most negative
``v_s (p_s - mean p_s)``; within each, the two step columns with the most negative
``w_c (b_c - mean b_c)`` -- a risky condition the row does not meet (``b_c = 0`` where
``w_c > 0``: "ExternalRiskEstimate is 81 or more") or a protective one it does.

Each factor is stated as the condition its step column states for the row.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._version import __version__
from ..engine.additive import check_model
from ..errors import NBExplainError
from ..results.serial import freeze_mapping
from .reasons import denied

_ORDINALS = ("most important", "second most important", "third most important")


def _ordinal(rank: int) -> str:
    return _ORDINALS[rank] if rank < len(_ORDINALS) else f"number {rank + 1} most important"


@dataclass(frozen=True)
class ContributingFactor:
    """One factor: a step column of one of the most important subscales, as a condition."""

    rank: int
    subscale: str
    subscale_rank: int
    subscale_points: float
    column: str
    feature: str
    value: float
    condition: str
    points: float

    @property
    def text(self) -> str:
        """``"AverageMInFile is 48 or less (from the second most important subscale, TradeOpenTime)"``."""
        return f"{self.condition} (from the {_ordinal(self.subscale_rank)} subscale, {self.subscale})"


@dataclass(frozen=True, eq=False)
class ContributingFactors:
    """The most important contributing factors of one row's prediction (module docstring).

    ``direction`` is ``"toward Bad"`` (points ``v_s p_s`` and ``w_c b_c``) or ``"toward Good"``
    (points against the training average); ``computation`` is the row's whole computation.
    """

    label: Any
    predicted: str
    probability: float
    direction: str
    factors: tuple
    computation: Any
    meta: Mapping = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "factors", tuple(self.factors))
        object.__setattr__(self, "meta", freeze_mapping(self.meta))

    def lines(self) -> list[str]:
        """The factors as numbered sentences, most important first."""
        return [f"{f.rank}. {f.text}" for f in self.factors]

    def __str__(self) -> str:
        head = (
            f"Most important contributing factors {self.direction} (predicted {self.predicted}, "
            f"P(Bad) = {self.probability:.1%}):"
        )
        return "\n".join([head, *self.lines()])

    def to_frame(self):
        """One row per factor: rank, subscale (its rank and points), column, feature, value,
        condition and the column's points."""
        import pandas as pd

        columns = ["rank", "subscale", "subscale_rank", "subscale_points", "column", "feature", "value", "condition"]
        frame = pd.DataFrame(
            [[getattr(f, c) for c in columns] + [f.points] for f in self.factors], columns=[*columns, "points"]
        )
        frame["subscale_rank"] += 1
        return frame.set_index("rank")


def contributing_factors(
    model: Any,
    row: Any,
    *,
    subscales: int = 2,
    per_subscale: int = 2,
    threshold: float = 0.5,
    label: Any = None,
) -> ContributingFactors:
    """The most important contributing factors of ``model``'s prediction for one ``row``.

    Parameters
    ----------
    model : AdditiveRiskModel
    row : one raw row (Series, dict, one-row DataFrame or array)
    subscales, per_subscale : how many subscales, and columns within each (2 and 2 as in the seed)
    threshold : P(Bad) above which the row is predicted Bad (the one definition of a denial)
    """
    model = check_model(model)
    for name, value in (("subscales", subscales), ("per_subscale", per_subscale)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise NBExplainError(f"{name} must be a positive whole number; got {value!r}.")
    computation = model.computation(row, label=label)
    bad = bool(denied([computation.probability], threshold)[0])
    if bad:
        subscale_push = computation.subscale_points.copy()
        column_push = computation.column_points.copy()
    else:
        subscale_push = -model.output_weights_ * (computation.subscale_probabilities - model.subscale_means_)
        column_push = -model.weights_ * (computation.steps - model.step_means_)
    raw = dict(zip(computation.features, computation.raw.tolist()))
    order = np.argsort(-subscale_push, kind="stable")[: int(subscales)]
    factors = []
    for subscale_rank, s in enumerate(order):
        if subscale_push[s] <= 0:
            break
        in_subscale = np.flatnonzero(model.recipe.column_subscale == s)
        ranked = in_subscale[np.argsort(-column_push[in_subscale], kind="stable")]
        for c in ranked[: int(per_subscale)]:
            if column_push[c] <= 0:
                break
            column = computation.columns[c]
            factors.append(
                ContributingFactor(
                    rank=len(factors) + 1,
                    subscale=computation.subscales[s],
                    subscale_rank=subscale_rank,
                    subscale_points=float(subscale_push[s] if bad else -subscale_push[s]),
                    column=column.name,
                    feature=column.feature,
                    value=raw[column.feature],
                    condition=column.describe(computation.steps[c], raw[column.feature]),
                    points=float(column_push[c] if bad else -column_push[c]),
                )
            )
    meta = {
        "method": "most important contributing factors (Chen et al. 2018)",
        "rule": (
            "Bad: subscales by points v_s p_s, columns by points w_c b_c"
            if bad
            else "Good: subscales by v_s (p_s - mean p_s), columns by w_c (b_c - mean b_c), most negative first"
        ),
        "threshold": float(threshold),
        "subscales": int(subscales),
        "per_subscale": int(per_subscale),
        "model_fingerprint": model.fingerprint(),
        "version": __version__,
    }
    return ContributingFactors(
        label=computation.label,
        predicted=model.classes_[int(bad)],
        probability=computation.probability,
        direction="toward Bad" if bad else "toward Good",
        factors=tuple(factors),
        computation=computation,
        meta=meta,
    )


__all__ = ["ContributingFactor", "ContributingFactors", "contributing_factors"]
