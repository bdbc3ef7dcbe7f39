"""Case-based explanations (Chen et al. 2018, the third explanation): the past cases that satisfy
the applicant's globally consistent rule -- so the model predicted every one of them as it
predicts the applicant -- ordered by similarity to the applicant.

**Similarity** is the number of step columns equal to the applicant's, counted over the columns
the model uses (non-zero weight: :attr:`PastCases.similarity_columns`); ties keep the past cases'
row order (a stable sort). The table shows the applicant first ("Current"), then the cases with
their prediction, actual outcome, similarity and raw features, the rule's features first and
marked; :meth:`CaseTable.styled` highlights them (dark) and the other values in the same step
interval as the applicant's (light), as in the seed's Figure 7.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._version import __version__
from ..errors import InputDataError, NBExplainError
from ..results.serial import freeze_mapping, frozen_array
from .rules import ConsistentRule, PastCases, SetCoverExplanation

#: Label of the applicant's row in a case table.
CURRENT = "Current"


def rank_cases(past: PastCases, applicant: Any, rule: ConsistentRule) -> tuple[np.ndarray, np.ndarray]:
    """``(positions, similarity)`` of the past cases satisfying ``rule``, most similar first
    (ties in row order); similarity counts the columns equal to ``applicant``'s binary columns
    over ``past.similarity_columns``."""
    applicant = np.asarray(applicant, dtype=bool)
    if applicant.shape != (past.steps.shape[1],):
        raise InputDataError(f"The applicant has {applicant.shape} columns; the past cases have {past.steps.shape[1]}.")
    columns = list(rule.columns)
    required = np.asarray(rule.values, dtype=bool)
    if not np.array_equal(applicant[columns], required):
        raise NBExplainError(
            "The rule does not describe this applicant: its conditions differ from the applicant's columns."
        )
    satisfied = np.flatnonzero(np.all(past.steps[:, columns] == required, axis=1))
    used = np.asarray(past.similarity_columns)
    similarity = np.sum(past.steps[satisfied][:, used] == applicant[used], axis=1)
    order = np.argsort(-similarity, kind="stable")
    return satisfied[order], similarity[order]


@dataclass(frozen=True, eq=False)
class CaseTable:
    """Past cases satisfying the applicant's rule, most similar first (module docstring).

    ``table``: the applicant (``"Current"``) then the cases, columns ``predicted``, ``actual``,
    ``similarity`` and the features (the rule's first); ``rule_features``: the features the rule
    uses; ``same``: per row and feature, whether the value lies in the applicant's step interval
    (all of the feature's step columns equal); ``n_satisfying``: every past case satisfying the
    rule (the table may show fewer).
    """

    table: Any
    same: Any
    rule: ConsistentRule
    rule_features: tuple
    positions: np.ndarray
    n_satisfying: int
    meta: Mapping = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "rule_features", tuple(self.rule_features))
        object.__setattr__(self, "positions", frozen_array(self.positions, dtype=np.int64))
        object.__setattr__(self, "meta", freeze_mapping(self.meta))

    def to_frame(self):
        """A copy of the table."""
        return self.table.copy()

    def styled(self):
        """The table as a pandas Styler: the rule's features dark, other values in the
        applicant's step interval light (needs jinja2, which Jupyter installs)."""
        import pandas as pd

        def colours(frame):
            out = pd.DataFrame("", index=frame.index, columns=frame.columns)
            for feature in self.same.columns:
                if feature in self.rule_features:
                    out[feature] = "background-color: #1f4e79; color: white"
                else:
                    out[feature] = np.where(self.same[feature].to_numpy(), "background-color: #d6eaf8", "")
            return out

        return self.table.style.apply(colours, axis=None)


def case_table(
    past: PastCases,
    explanation: SetCoverExplanation,
    applicant: Any = None,
    *,
    rule: ConsistentRule | None = None,
    max_cases: int | None = 10,
) -> CaseTable:
    """The case-based explanation of one applicant.

    Parameters
    ----------
    past : PastCases
        The past cases the rules were found on.
    explanation : SetCoverExplanation
        The applicant's rules; its :attr:`~SetCoverExplanation.rule` is used unless ``rule`` is given.
    applicant : optional
        The applicant's raw row, shown as ``"Current"`` (needed when ``past`` has raw rows).
    max_cases : int or None
        Cases shown (all with None).
    """
    import pandas as pd

    rule = explanation.rule if rule is None else rule
    if rule is None:
        raise NBExplainError(f"{explanation.text} So no past case satisfies a rule: there is no case table.")
    if max_cases is not None and (isinstance(max_cases, bool) or not isinstance(max_cases, int) or max_cases < 0):
        raise NBExplainError(f"max_cases must be a whole number 0 or more, or None; got {max_cases!r}.")
    positions, similarity = rank_cases(past, explanation.applicant_steps, rule)
    shown = positions if max_cases is None else positions[:max_cases]
    # what the table shows: raw features (each over its step columns), else the step columns
    owners = past.column_features if past.raw is not None else past.columns
    members = {name: np.flatnonzero(np.asarray(owners) == name) for name in dict.fromkeys(owners)}
    rule_features = list(dict.fromkeys(owners[j] for j in rule.columns))
    ordered = rule_features + [f for f in members if f not in rule_features]
    if past.raw is not None:
        if applicant is None:
            raise NBExplainError("Pass the applicant's raw row: the case table shows it beside the past cases.")
        if past.model is not None:
            steps, _, _, raw = past.applicants(applicant)
            if len(steps) != 1 or not np.array_equal(steps[0], explanation.applicant_steps):
                raise InputDataError(
                    "The applicant's row is not the one the explanation was made for (its step columns differ)."
                )
            current = dict(zip(past.model.feature_names_in_, raw[0].tolist()))
        else:
            current = applicant.iloc[0].to_dict() if hasattr(applicant, "columns") else dict(applicant)
        missing = [f for f in ordered if f not in current]
        if missing:
            raise InputDataError(f"The applicant's row lacks feature(s) {missing}.")
        values = past.raw.iloc[shown][ordered].to_numpy()
    else:
        current = dict(zip(past.columns, explanation.applicant_steps.astype(int).tolist()))
        values = past.steps[shown][:, [members[f][0] for f in ordered]].astype(int)
    labels = [past.labels[i] for i in shown]
    body = pd.DataFrame(
        {
            "predicted": [past.outcomes[p] for p in past.predicted[shown]],
            "actual": [past.outcomes[a] for a in past.actual[shown]] if past.actual is not None else None,
            "similarity": similarity[: len(shown)],
        },
        index=pd.Index(labels, dtype=object),
    )
    body = pd.concat([body, pd.DataFrame(values, columns=ordered, index=body.index)], axis=1)
    used = int(np.sum(past.similarity_columns))
    head = pd.DataFrame(
        {
            "predicted": [explanation.predicted],
            "actual": [None],
            "similarity": [used],
            **{f: [current[f]] for f in ordered},
        },
        index=pd.Index([CURRENT], dtype=object),
    )
    table = pd.concat([head, body])
    table.index.name = "case"
    applicant_steps = explanation.applicant_steps
    same = pd.DataFrame(
        {
            f: np.concatenate([[True], np.all(past.steps[shown][:, members[f]] == applicant_steps[members[f]], axis=1)])
            for f in ordered
        },
        index=table.index,
    )
    meta = {
        "method": "case-based explanation (Chen et al. 2018)",
        "similarity": "equal step columns over the columns the model uses; ties in row order",
        "similarity_columns": used,
        "rule": rule.text,
        "n_satisfying": int(len(positions)),
        "n_shown": int(len(shown)),
        "version": __version__,
    }
    return CaseTable(table, same, rule, tuple(rule_features), shown, int(len(positions)), meta)


__all__ = ["CURRENT", "CaseTable", "case_table", "rank_cases"]
