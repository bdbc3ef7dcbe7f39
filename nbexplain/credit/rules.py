"""Globally consistent rules: ``SetCoverExplanation`` of Chen et al. (2018).

A **rule** for an applicant ``e`` is a set ``R`` of binary (step) columns, each required to
equal the applicant's value ``x_e[j]``. It is **consistent** when no past case with the
opposite prediction satisfies it, so the model predicts the applicant's class for every past
case the rule covers; its **support** is the number of past cases that satisfy it.

* **Minimum rule.** For each past case ``i`` predicted the other way, ``D_i = {j : X_ij != x_e[j]}``
  is the set of columns that would exclude it; a rule is consistent exactly when it hits every
  ``D_i``. The fewest columns hitting all of them (a minimum set cover / hitting set) is the
  MILP ``min sum_j b_j  s.t.  sum_{j in D_i} b_j >= 1`` (``b`` binary), solved by HiGHS
  (``scipy.optimize.milp``) after duplicate ``D_i`` are dropped (should it find nothing within
  ``time_limit``, a greedy cover, marked not proven optimal). An empty ``D_i`` (a past case
  with the same columns and the opposite prediction) means no consistent rule exists: the
  result says so and names those cases.
* **Best-supported rule of size at most k** (``k`` = the minimum size, ..., minimum + ``extra``).
  Adding a column never raises support, so the best rule is a minimal hitting set; they are
  enumerated exactly by a bounded search tree that branches on the columns of the smallest
  ``D_i`` not yet hit (each set once: a branch forbids the columns of the branches before it)
  and prunes any branch whose support cannot beat the best so far. Sets are Python integers
  used as bit sets over the ``D_i`` and the past cases (the support is a population count).
  When the search exceeds ``node_limit`` nodes or ``time_limit`` seconds, a MILP maximising
  support (``max sum_g n_g y_g``, ``y_g + b_j <= 1`` for every column ``j`` where past-case
  group ``g`` differs from ``e``, hitting constraints, ``sum_j b_j <= k``) continues with the time
  left; a rule that neither finished is returned marked **not proven optimal**.

Rules can be precomputed for many applicants (:meth:`SetCoverExplainer.explain_many`, with a
progress bar) and are memoised by the applicant's columns and prediction; a :class:`RuleBook`
of them is stored and read back as JSON.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from .._version import __version__
from ..engine._base import Parameters
from ..errors import InputDataError, NBExplainError, row_list, unknown_name
from ..results.serial import dump_json, freeze_mapping, frozen_array, load_typed, to_jsonable
from .reasons import denied

#: Search nodes between two looks at the clock.
_CLOCK_EVERY = 2048


# --------------------------------------------------------------------------- past cases
@dataclass(frozen=True, eq=False, repr=False)
class PastCases:
    """The past cases a rule must be consistent with.

    Parameters
    ----------
    steps : array ``(n, m)`` of 0/1
        The binary columns of every past case (for the additive model, its step columns).
    predicted : array ``(n,)`` of 0/1
        The model's prediction for every past case (1 = the second of ``outcomes``).
    actual : array ``(n,)`` of 0/1, optional
        The actual outcomes, for the support by outcome.
    columns : tuple of str, optional
        Column names (``c0, c1, ...`` by default).
    conditions : tuple of (str, str), optional
        How each column reads when it is 1 and when it is 0 (``"name = 1"`` / ``"name = 0"`` by default).
    labels : tuple, optional
        Row labels (positions by default).
    outcomes : tuple of str
        Names of outcome 0 and 1 (``("Good", "Bad")``).
    similarity_columns : array ``(m,)`` of bool, optional
        The columns counted by case similarity (all by default; the model's used columns from
        :meth:`from_model`).
    column_features : tuple of str, optional
        The raw feature each column is built from (for case tables).
    raw : DataFrame, optional
        The raw rows, shown in case tables.
    model : optional
        The model that encodes and predicts new applicants (set by :meth:`from_model`).
    threshold : float
        P(Bad) above which the model predicts 1 (:func:`~nbexplain.credit.reasons.denied`).
    """

    steps: np.ndarray
    predicted: np.ndarray
    actual: np.ndarray | None = None
    columns: tuple | None = None
    conditions: tuple | None = None
    labels: tuple | None = None
    outcomes: tuple = ("Good", "Bad")
    similarity_columns: np.ndarray | None = None
    column_features: tuple | None = None
    raw: Any = None
    model: Any = None
    threshold: float = 0.5

    def __post_init__(self) -> None:
        steps = np.asarray(self.steps)
        if steps.ndim != 2 or steps.shape[0] == 0 or steps.shape[1] == 0:
            raise InputDataError(f"steps must be a non-empty (cases, columns) array; got shape {steps.shape}.")
        if not np.isin(steps, (0, 1)).all():
            raise InputDataError("steps must hold 0/1 (binary) values only.")
        n, m = steps.shape
        object.__setattr__(self, "steps", frozen_array(steps, dtype=bool))
        object.__setattr__(self, "predicted", _binary(self.predicted, n, "predicted"))
        if self.actual is not None:
            object.__setattr__(self, "actual", _binary(self.actual, n, "actual"))
        columns = tuple(f"c{j}" for j in range(m)) if self.columns is None else tuple(str(c) for c in self.columns)
        conditions = (
            tuple((f"{c} = 1", f"{c} = 0") for c in columns)
            if self.conditions is None
            else tuple((str(a), str(b)) for a, b in self.conditions)
        )
        labels = tuple(range(n)) if self.labels is None else tuple(self.labels)
        similarity = np.ones(m, dtype=bool) if self.similarity_columns is None else np.asarray(self.similarity_columns)
        features = columns if self.column_features is None else tuple(str(f) for f in self.column_features)
        for name, value, size in (
            ("columns", columns, m),
            ("conditions", conditions, m),
            ("labels", labels, n),
            ("similarity_columns", similarity, m),
            ("column_features", features, m),
        ):
            if len(value) != size:
                raise InputDataError(f"{name} has {len(value)} entries; expected {size}.")
        if len(self.outcomes) != 2:
            raise InputDataError(f"outcomes names outcome 0 and 1; got {self.outcomes!r}.")
        if self.raw is not None and len(self.raw) != n:
            raise InputDataError(f"raw has {len(self.raw)} rows for {n} past cases.")
        object.__setattr__(self, "columns", columns)
        object.__setattr__(self, "conditions", conditions)
        object.__setattr__(self, "labels", labels)
        object.__setattr__(self, "outcomes", tuple(str(o) for o in self.outcomes))
        object.__setattr__(self, "similarity_columns", frozen_array(similarity, dtype=bool))
        object.__setattr__(self, "column_features", features)

    @property
    def n_cases(self) -> int:
        return int(self.steps.shape[0])

    def __repr__(self) -> str:
        predicted = np.bincount(self.predicted, minlength=2)
        return (
            f"PastCases({self.n_cases} cases x {self.steps.shape[1]} columns; predicted "
            f"{predicted[1]} {self.outcomes[1]}, {predicted[0]} {self.outcomes[0]})"
        )

    @classmethod
    def from_model(cls, model: Any, X: Any, y: Any = None, threshold: float = 0.5) -> PastCases:
        """The past cases ``X`` (raw rows) as an additive risk model sees them: its step columns,
        its predictions (P(Bad) above ``threshold``), the actual outcomes ``y`` (0/1 or
        "Bad"/"Good") when given, and the columns the model uses for case similarity."""
        import pandas as pd

        from ..engine.additive import check_model
        from ..model.additive import binary_target

        model = check_model(model)
        steps, predicted, labels, raw = _encode(model, X, threshold, "past cases")
        actual = None if y is None else binary_target(y, len(raw), labels)
        frame = pd.DataFrame(raw, columns=list(model.feature_names_in_), index=pd.Index(labels))
        columns = model.columns_
        return cls(
            steps=steps,
            predicted=predicted,
            actual=actual,
            columns=tuple(c.name for c in columns),
            conditions=tuple((c.condition, c.negation) for c in columns),
            labels=labels,
            outcomes=tuple(model.classes_),
            similarity_columns=model.used_columns_,
            column_features=tuple(c.feature for c in columns),
            raw=frame,
            model=model,
            threshold=threshold,
        )

    def applicants(self, X: Any) -> tuple:
        """``(steps (r, m) bool, predicted (r,), labels, raw rows)`` of new applicants, encoded and
        predicted by the model these past cases came from."""
        if self.model is None:
            raise NBExplainError(
                "These past cases have no model to encode applicants (build them with PastCases.from_model); "
                "use SetCoverExplainer.explain_steps with the applicant's binary columns and prediction."
            )
        return _encode(self.model, X, self.threshold, "applicant")


def _encode(model: Any, X: Any, threshold: float, what: str) -> tuple:
    """``(steps (n, m) bool, predicted (n,) 0/1, labels, raw rows)`` of raw rows ``X``."""
    raw, labels = model.recipe.raw_rows(X, what)
    steps = model.recipe.steps_from_raw(raw)
    predicted = denied(model.head(steps)["probability"], threshold).astype(np.int8)
    return steps.astype(bool), predicted, labels or tuple(range(len(raw))), raw


def _binary(values: Any, n: int, name: str) -> np.ndarray:
    array = np.asarray(values)
    if array.shape != (n,):
        raise InputDataError(f"{name} has shape {array.shape}; expected one 0/1 value per past case ({n},).")
    bad = np.flatnonzero(~np.isin(array, (0, 1)))
    if bad.size:
        raise InputDataError(f"{name} must hold 0/1; rows {row_list(bad)} do not.")
    return frozen_array(array, dtype=np.int8)


# --------------------------------------------------------------------------- results
@dataclass(frozen=True, eq=False)
class ConsistentRule:
    """A conjunction of column conditions that every past case satisfying it shares the
    applicant's prediction with (module docstring).

    ``support``: past cases satisfying the rule (all predicted ``predicted``); ``by_outcome``:
    their actual outcomes, when known. ``max_size``: the size limit it was the best-supported
    rule under (None for the minimum rule). ``optimal``: False when a time or node limit
    stopped the search before it was proven the best.
    """

    columns: tuple
    names: tuple
    values: tuple
    conditions: tuple
    predicted: str
    support: int
    by_outcome: Mapping
    objective: str
    max_size: int | None
    optimal: bool
    meta: Mapping = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("columns", "names", "values", "conditions"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        object.__setattr__(self, "by_outcome", freeze_mapping(self.by_outcome))
        object.__setattr__(self, "meta", freeze_mapping(self.meta))

    @property
    def size(self) -> int:
        return len(self.columns)

    @property
    def text(self) -> str:
        """``"For all 594 people whose ExternalRiskEstimate is 63 or less and AverageMInFile is 48
        or less, all were predicted Bad (actually 512 Bad, 82 Good)."``"""
        outcome = ""
        if self.by_outcome:
            outcome = " (actually " + ", ".join(f"{n} {name}" for name, n in self.by_outcome.items()) + ")"
        whose = f" whose {' and '.join(self.conditions)}" if self.conditions else " in the past cases"
        caveat = "" if self.optimal else " [not proven optimal: the search stopped at its limit]"
        return f"For all {self.support} people{whose}, all were predicted {self.predicted}{outcome}.{caveat}"

    def to_frame(self):
        """One row per condition: column, the value it must have and the condition as text."""
        import pandas as pd

        return pd.DataFrame({"column": self.names, "value": self.values, "condition": self.conditions})

    def to_dict(self) -> dict:
        return to_jsonable(
            {
                "columns": self.columns,
                "names": self.names,
                "values": self.values,
                "conditions": self.conditions,
                "predicted": self.predicted,
                "support": self.support,
                "by_outcome": dict(self.by_outcome),
                "objective": self.objective,
                "max_size": self.max_size,
                "optimal": self.optimal,
                "meta": dict(self.meta),
            }
        )

    @classmethod
    def from_dict(cls, payload: Mapping) -> ConsistentRule:
        return cls(**{k: payload[k] for k in cls.__dataclass_fields__})


@dataclass(frozen=True, eq=False)
class SetCoverExplanation:
    """The globally consistent rules of one applicant.

    ``minimum``: the fewest-conditions rule as the MILP found it; ``rules``: the best-supported
    rule with at most ``k`` conditions for ``k`` = minimum, ..., minimum + extra (``rule`` is the
    last). ``conflicts``: past cases with the applicant's columns and the opposite prediction,
    which make every rule inconsistent (then ``exists`` is False and there are no rules).
    """

    label: Any
    predicted: str
    applicant_steps: np.ndarray
    minimum: ConsistentRule | None
    rules: tuple
    conflicts: tuple = ()
    meta: Mapping = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "applicant_steps", frozen_array(self.applicant_steps, dtype=bool))
        object.__setattr__(self, "rules", tuple(self.rules))
        object.__setattr__(self, "conflicts", tuple(self.conflicts))
        object.__setattr__(self, "meta", freeze_mapping(self.meta))

    @property
    def exists(self) -> bool:
        """Whether a consistent rule exists for this applicant."""
        return self.minimum is not None

    @property
    def rule(self) -> ConsistentRule | None:
        """The best-supported rule within the largest size allowed (None when none exists)."""
        return self.rules[-1] if self.rules else None

    @property
    def text(self) -> str:
        if not self.exists:
            cases = row_list(range(len(self.conflicts)), self.conflicts)
            return (
                f"No consistent rule exists for {self.label!r}: past case(s) {cases} have the same columns and "
                "were predicted otherwise, so every rule that fits this applicant also fits them."
            )
        return self.rule.text

    def to_frame(self):
        """One row per rule (the minimum, then the best-supported per size limit): size limit,
        size, support, support by outcome, whether proven optimal, and the rule as text."""
        import pandas as pd

        rows = []
        for kind, rule in [("minimum", self.minimum)] + [("best-supported", r) for r in self.rules]:
            if rule is None:
                continue
            rows.append(
                {
                    "rule": kind,
                    "max_size": rule.max_size,
                    "size": rule.size,
                    "support": rule.support,
                    **{f"actual {name}": n for name, n in rule.by_outcome.items()},
                    "optimal": rule.optimal,
                    "text": rule.text,
                }
            )
        return pd.DataFrame(rows)

    def to_dict(self) -> dict:
        return to_jsonable(
            {
                "label": self.label,
                "predicted": self.predicted,
                "applicant_steps": self.applicant_steps.astype(int),
                "minimum": None if self.minimum is None else self.minimum.to_dict(),
                "rules": [r.to_dict() for r in self.rules],
                "conflicts": self.conflicts,
                "meta": dict(self.meta),
            }
        )

    @classmethod
    def from_dict(cls, payload: Mapping) -> SetCoverExplanation:
        return cls(
            label=payload["label"],
            predicted=payload["predicted"],
            applicant_steps=np.asarray(payload["applicant_steps"], dtype=bool),
            minimum=None if payload["minimum"] is None else ConsistentRule.from_dict(payload["minimum"]),
            rules=tuple(ConsistentRule.from_dict(r) for r in payload["rules"]),
            conflicts=tuple(payload["conflicts"]),
            meta=payload["meta"],
        )


@dataclass(frozen=True, eq=False)
class RuleBook:
    """Precomputed rules of many applicants, by label: look one up with ``book[label]``."""

    explanations: Mapping
    meta: Mapping = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "explanations", freeze_mapping(self.explanations))
        object.__setattr__(self, "meta", freeze_mapping(self.meta))

    def __getitem__(self, label: Any) -> SetCoverExplanation:
        try:
            return self.explanations[label]
        except KeyError:
            raise unknown_name("applicant", label, list(self.explanations)) from None

    def __len__(self) -> int:
        return len(self.explanations)

    def __iter__(self):
        return iter(self.explanations.values())

    def to_frame(self):
        """One row per applicant: prediction, minimum size, the rule's size and support, whether
        proven optimal, and the rule as text."""
        import pandas as pd

        rows = []
        for label, explanation in self.explanations.items():
            rule = explanation.rule
            rows.append(
                {
                    "applicant": label,
                    "predicted": explanation.predicted,
                    "rule_exists": explanation.exists,
                    "minimum_size": None if explanation.minimum is None else explanation.minimum.size,
                    "rule_size": None if rule is None else rule.size,
                    "support": None if rule is None else rule.support,
                    "optimal": None if rule is None else rule.optimal,
                    "text": explanation.text,
                }
            )
        return pd.DataFrame(rows).set_index("applicant")

    def to_json(self, path: str | Path | None = None) -> str:
        """Serialise (written all-or-nothing to ``path`` when given)."""
        payload = {
            "type": "RuleBook",
            "meta": dict(self.meta),
            "explanations": [e.to_dict() for e in self.explanations.values()],
        }
        return dump_json(payload, path)

    @classmethod
    def from_json(cls, text_or_path: str | Path) -> RuleBook:
        """Read a rule book written by :meth:`to_json`."""
        payload = load_typed(text_or_path, "RuleBook")
        try:
            explanations = [SetCoverExplanation.from_dict(e) for e in payload["explanations"]]
            return cls({e.label: e for e in explanations}, payload["meta"])
        except (KeyError, TypeError, ValueError) as error:
            raise NBExplainError(f"The serialised RuleBook is incomplete or damaged ({error!r}).") from None


# --------------------------------------------------------------------------- the search
def _bitsets(matrix: np.ndarray) -> list[int]:
    """Column ``j`` of a boolean ``(rows, m)`` matrix as an integer whose bit ``i`` is ``matrix[i, j]``."""
    packed = np.packbits(np.ascontiguousarray(matrix.T), axis=1, bitorder="little")
    return [int.from_bytes(row.tobytes(), "little") for row in packed]


def difference_sets(differ: np.ndarray) -> np.ndarray:
    """The distinct rows of a boolean difference matrix (``D_i``: where opposite-prediction case
    ``i`` differs from the applicant), fewest columns first, ties in a fixed order: one hitting
    constraint per distinct ``D_i``."""
    differ = np.asarray(differ, dtype=bool)
    if len(differ) == 0:
        return differ
    _, first = np.unique(np.packbits(differ, axis=1), axis=0, return_index=True)
    unique = differ[np.sort(first)]
    return unique[np.argsort(unique.sum(axis=1), kind="stable")]


def minimum_hitting_set(D: np.ndarray, time_limit: float) -> tuple[tuple, bool, str]:
    """The fewest columns hitting every row of ``D`` (no row empty): ``(columns, proven, status)``
    by the MILP ``min sum b  s.t.  D b >= 1``, ``b`` binary (HiGHS)."""
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import csr_matrix

    if len(D) == 0:
        return (), True, "no constraint"
    m = D.shape[1]
    result = milp(
        np.ones(m),
        constraints=LinearConstraint(csr_matrix(D.astype(np.float64)), lb=1.0, ub=np.inf),
        integrality=np.ones(m),
        bounds=Bounds(0.0, 1.0),
        options={"time_limit": float(time_limit), "presolve": True},
    )
    if result.x is None:  # nothing within the time limit: a greedy cover is still a consistent rule
        return greedy_hitting_set(D), False, f"greedy cover ({result.message})"
    return tuple(int(j) for j in np.flatnonzero(result.x > 0.5)), result.status == 0, str(result.message)


def greedy_hitting_set(D: np.ndarray) -> tuple:
    """Columns hitting every row of ``D``, each time the column hitting most rows not yet hit
    (lowest position on ties): a consistent rule, not necessarily the smallest."""
    unhit = np.ones(len(D), dtype=bool)
    chosen = []
    while unhit.any():
        j = int(np.argmax(D[unhit].sum(axis=0)))
        chosen.append(j)
        unhit &= ~D[:, j]
    return tuple(sorted(chosen))


class _Stop(Exception):
    """The search ran past its node or time limit."""


def enumerate_best_rule(
    D: np.ndarray,
    agree: np.ndarray,
    k: int,
    incumbent: tuple[int, tuple],
    deadline: float,
    node_limit: int,
) -> tuple[int, tuple, bool, int]:
    """The most-supported set of at most ``k`` columns hitting every row of ``D``.

    ``agree`` ``(cases, m)``: the past cases that could satisfy a rule (those with the
    applicant's prediction) and whether each agrees with the applicant on each column.
    ``incumbent``: ``(support, columns)`` to beat. Returns ``(support, columns, finished, nodes)``;
    ``finished`` is False when the deadline or node limit stopped the search (the result is
    then the best found so far).
    """
    rows = len(D)
    hits = _bitsets(D)
    agrees = _bitsets(agree)
    row_columns = [np.flatnonzero(row).tolist() for row in D]
    everything = (1 << rows) - 1
    best = list(incumbent)
    nodes = 0

    def visit(chosen: tuple, covered: int, support: int, forbidden: int, depth: int) -> None:
        nonlocal nodes
        nodes += 1
        if nodes > node_limit or (nodes % _CLOCK_EVERY == 0 and time.perf_counter() > deadline):
            raise _Stop
        unhit = everything & ~covered
        if not unhit:
            count = support.bit_count()
            if count > best[0]:
                best[:] = [count, tuple(sorted(chosen))]
            return
        if depth == 0:
            return
        row = (unhit & -unhit).bit_length() - 1  # the smallest D_i not yet hit
        candidates = sorted((-(support & agrees[j]).bit_count(), j) for j in row_columns[row] if not forbidden >> j & 1)
        for negative_count, j in candidates:
            if -negative_count <= best[0]:
                break  # the rest support no more (more columns never add support)
            if depth > 1 or (covered | hits[j]) == everything:
                visit((*chosen, j), covered | hits[j], support & agrees[j], forbidden, depth - 1)
            forbidden |= 1 << j  # later branches leave j out: every set is visited once

    try:
        visit((), 0, (1 << len(agree)) - 1, 0, int(k))
        finished = True
    except _Stop:
        finished = False
    return int(best[0]), tuple(best[1]), finished, nodes


def milp_best_rule(D: np.ndarray, differ: np.ndarray, k: int, time_limit: float) -> tuple[int, tuple, bool, str] | None:
    """The same question as :func:`enumerate_best_rule` as a MILP (HiGHS, ``time_limit``):
    ``max sum_g n_g y_g`` over groups ``g`` of identical rows of ``differ`` (the candidate cases'
    disagreement with the applicant), ``y_g + b_j <= 1`` for ``j`` where the group differs,
    ``D b >= 1``, ``sum b <= k``; ``b`` binary, ``y`` in [0, 1]. None when it found nothing."""
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import coo_matrix, csr_matrix, hstack, vstack

    m = D.shape[1]
    groups, counts = np.unique(np.packbits(differ, axis=1), axis=0, return_counts=True)
    patterns = np.unpackbits(groups, axis=1, count=m).astype(bool)
    g = len(patterns)
    rows, columns = np.nonzero(patterns)
    link = hstack(
        [
            coo_matrix((np.ones(len(rows)), (np.arange(len(rows)), columns)), shape=(len(rows), m)),
            coo_matrix((np.ones(len(rows)), (np.arange(len(rows)), rows)), shape=(len(rows), g)),
        ]
    )
    cover = hstack([csr_matrix(D.astype(np.float64)), csr_matrix((len(D), g))])
    size = hstack([csr_matrix(np.ones((1, m))), csr_matrix((1, g))])
    A = vstack([link, cover, size]).tocsr()
    lower = np.concatenate([np.full(len(rows), -np.inf), np.ones(len(D)), [-np.inf]])
    upper = np.concatenate([np.ones(len(rows)), np.full(len(D), np.inf), [float(k)]])
    result = milp(
        np.concatenate([np.zeros(m), -counts.astype(np.float64)]),
        constraints=LinearConstraint(A, lower, upper),
        integrality=np.concatenate([np.ones(m), np.zeros(g)]),
        bounds=Bounds(0.0, 1.0),
        options={"time_limit": max(float(time_limit), 0.1)},
    )
    if result.x is None:
        return None
    chosen = tuple(int(j) for j in np.flatnonzero(result.x[:m] > 0.5))
    support = int(np.sum(~differ[:, list(chosen)].any(axis=1))) if chosen else len(differ)
    return support, chosen, result.status == 0, str(result.message)


# --------------------------------------------------------------------------- the explainer
METHODS = ("auto", "enumerate", "milp")


class SetCoverExplainer(Parameters):
    """SetCoverExplanation: globally consistent rules for applicants (module docstring).

    Parameters
    ----------
    past : PastCases
        The past cases the rules must be consistent with.
    extra : int
        Best-supported rules are sought for every size limit from the minimum size to minimum +
        ``extra`` (1 by default).
    time_limit : float
        Seconds allowed to each solve (the minimum rule, each best-supported rule).
    node_limit : int
        Search-tree nodes before the solver fallback takes over (``method="auto"``).
    method : str
        ``"auto"`` (exact enumeration, solver fallback past the limits), ``"enumerate"`` (no
        fallback) or ``"milp"`` (the solver only).
    progress : bool, optional
        Progress bar for :meth:`explain_many` (default: more than 20 applicants).
    """

    method_name = "SetCoverExplanation (Chen et al. 2018)"

    def __init__(
        self,
        past: PastCases,
        *,
        extra: int = 1,
        time_limit: float = 10.0,
        node_limit: int = 500_000,
        method: str = "auto",
        progress: bool | None = None,
    ) -> None:
        self.past = past
        self.extra = extra
        self.time_limit = time_limit
        self.node_limit = node_limit
        self.method = method
        self.progress = progress

    def _check(self) -> None:
        if not isinstance(self.past, PastCases):
            raise NBExplainError(
                f"past must be PastCases (e.g. PastCases.from_model(model, X, y)); got {type(self.past).__name__}."
            )
        if isinstance(self.extra, bool) or not isinstance(self.extra, (int, np.integer)) or self.extra < 0:
            raise NBExplainError(f"extra must be a whole number 0 or more; got {self.extra!r}.")
        if (
            isinstance(self.time_limit, bool)
            or not isinstance(self.time_limit, (int, float))
            or not self.time_limit > 0
        ):
            raise NBExplainError(f"time_limit must be a positive number of seconds; got {self.time_limit!r}.")
        if (
            isinstance(self.node_limit, bool)
            or not isinstance(self.node_limit, (int, np.integer))
            or self.node_limit < 1
        ):
            raise NBExplainError(f"node_limit must be a positive whole number; got {self.node_limit!r}.")
        if self.method not in METHODS:
            raise unknown_name("method", self.method, METHODS)

    @property
    def _memo(self) -> dict:
        return self.__dict__.setdefault("_memo_store", {})

    @property
    def n_memoised(self) -> int:
        """Distinct applicants (columns and prediction) solved so far: a repeat is a lookup."""
        return len(self._memo)

    # ------------------------------------------------------------ public
    def explain(self, applicant: Any, label: Any = None) -> SetCoverExplanation:
        """The rules of ONE applicant given as a raw row (the past cases' model encodes it)."""
        steps, predicted, labels, _ = self.past.applicants(applicant)
        if len(steps) != 1:
            raise InputDataError(f"explain() takes one applicant; got {len(steps)}. Use explain_many for several.")
        return self.explain_steps(steps[0], int(predicted[0]), labels[0] if label is None else label)

    def explain_steps(self, steps: Any, predicted: int, label: Any = None) -> SetCoverExplanation:
        """The rules of an applicant given by its binary columns and its prediction (0/1)."""
        self._check()
        applicant = np.asarray(steps)
        if applicant.shape != (self.past.steps.shape[1],) or not np.isin(applicant, (0, 1)).all():
            raise InputDataError(
                f"The applicant needs {self.past.steps.shape[1]} binary columns like the past cases; "
                f"got shape {applicant.shape}."
            )
        if predicted not in (0, 1):
            raise InputDataError(f"predicted must be 0 or 1; got {predicted!r}.")
        applicant = applicant.astype(bool)
        key = (np.packbits(applicant).tobytes(), int(predicted))
        if key not in self._memo:
            self._memo[key] = self._solve(applicant, int(predicted))
        return replace(self._memo[key], label=label)

    def explain_many(self, X: Any, progress: bool | None = None) -> RuleBook:
        """Rules for every row of ``X`` (raw rows), with a progress bar; identical applicants
        (same columns and prediction) are solved once (memoised, also across calls)."""
        from tqdm.auto import tqdm

        self._check()
        steps, predicted, labels, _ = self.past.applicants(X)
        show = progress if progress is not None else (self.progress if self.progress is not None else len(steps) > 20)
        started = time.perf_counter()
        explanations = {}
        for row, prediction, label in tqdm(
            zip(steps, predicted, labels), total=len(steps), desc="consistent rules", unit="applicant", disable=not show
        ):
            explanations[label] = self.explain_steps(row, int(prediction), label)
        meta = {**self._meta(), "n_applicants": len(labels), "seconds": time.perf_counter() - started}
        return RuleBook(explanations, meta)

    # ------------------------------------------------------------ internals
    def _meta(self) -> dict:
        past = self.past
        return {
            "method": self.method_name,
            "search": self.method,
            "extra": int(self.extra),
            "time_limit": float(self.time_limit),
            "node_limit": int(self.node_limit),
            "n_past": past.n_cases,
            "n_columns": int(past.steps.shape[1]),
            "model_fingerprint": None if past.model is None else past.model.fingerprint(),
            "version": __version__,
        }

    def _solve(self, applicant: np.ndarray, predicted: int) -> SetCoverExplanation:
        past = self.past
        started = time.perf_counter()
        opposite = past.predicted != predicted
        differ_opposite = past.steps[opposite] != applicant
        conflicts = np.flatnonzero(opposite)[~differ_opposite.any(axis=1)]
        meta = {**self._meta(), "n_opposite": int(opposite.sum())}
        name = past.outcomes[predicted]
        if conflicts.size:
            meta["seconds"] = time.perf_counter() - started
            conflict_labels = tuple(past.labels[i] for i in conflicts)
            return SetCoverExplanation(None, name, applicant, None, (), conflict_labels, meta)
        D = difference_sets(differ_opposite)
        meta["n_difference_sets"] = int(len(D))
        same = np.flatnonzero(~opposite)
        differ_same = past.steps[same] != applicant
        columns, proven, status = minimum_hitting_set(D, self.time_limit)
        minimum = self._rule(applicant, predicted, columns, "fewest conditions", None, proven, {"solver": status})
        rules = []
        incumbent = (minimum.support, minimum.columns)
        for k in range(minimum.size, minimum.size + int(self.extra) + 1):
            support, chosen, proven_k, facts = self._best(D, differ_same, k, incumbent)
            rule = self._rule(applicant, predicted, chosen, "most support", k, proven_k, facts)
            rules.append(rule)
            incumbent = (rule.support, rule.columns)
        meta["seconds"] = time.perf_counter() - started
        return SetCoverExplanation(None, name, applicant, minimum, tuple(rules), (), meta)

    def _best(self, D, differ_same, k, incumbent) -> tuple[int, tuple, bool, dict]:
        started = time.perf_counter()
        deadline = started + float(self.time_limit)
        if self.method == "milp":
            found = milp_best_rule(D, differ_same, k, self.time_limit)
            if found is None or found[0] < incumbent[0]:
                return incumbent[0], incumbent[1], False, {"search": "milp: no better solution within the limit"}
            return (
                found[0],
                found[1],
                found[2],
                {"search": "milp", "solver": found[3], "seconds": time.perf_counter() - started},
            )
        support, chosen, finished, nodes = enumerate_best_rule(
            D, ~differ_same, k, incumbent, deadline, int(self.node_limit)
        )
        facts: dict = {"search": "enumeration", "nodes": nodes, "finished": finished}
        if finished or self.method == "enumerate":
            facts["seconds"] = time.perf_counter() - started
            return support, chosen, finished, facts
        found = milp_best_rule(D, differ_same, k, deadline - time.perf_counter())
        facts["fallback"] = "milp" if found is None else f"milp: {found[3]}"
        proven = False
        if found is not None and found[0] >= support:
            support, chosen, proven = found[0], found[1], found[2]
        facts["seconds"] = time.perf_counter() - started
        return support, chosen, proven, facts

    def _rule(self, applicant, predicted, columns, objective, max_size, optimal, facts) -> ConsistentRule:
        past = self.past
        columns = tuple(sorted(int(j) for j in columns))
        values = applicant[list(columns)]
        matches = np.all(past.steps[:, list(columns)] == values, axis=1) if columns else np.ones(past.n_cases, bool)
        if np.any(past.predicted[matches] != predicted):
            raise NBExplainError("Internal error: a rule satisfied by a case predicted otherwise was returned.")
        by_outcome = {}
        if past.actual is not None:
            counts = np.bincount(past.actual[matches], minlength=2)
            by_outcome = {past.outcomes[1]: int(counts[1]), past.outcomes[0]: int(counts[0])}
        return ConsistentRule(
            columns=columns,
            names=tuple(past.columns[j] for j in columns),
            values=tuple(int(v) for v in values),
            conditions=tuple(past.conditions[j][0 if v else 1] for j, v in zip(columns, values)),
            predicted=past.outcomes[predicted],
            support=int(matches.sum()),
            by_outcome=by_outcome,
            objective=objective,
            max_size=max_size,
            optimal=bool(optimal),
            meta=facts,
        )


__all__ = [
    "ConsistentRule",
    "PastCases",
    "RuleBook",
    "SetCoverExplainer",
    "SetCoverExplanation",
    "difference_sets",
    "enumerate_best_rule",
    "greedy_hitting_set",
    "milp_best_rule",
    "minimum_hitting_set",
]
