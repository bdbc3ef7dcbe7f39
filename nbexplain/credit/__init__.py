"""What lenders do with explanations: adverse-action reasons, their validation and batch runs;
for the two-layer additive risk model (FICO entry), its most important contributing factors
(:mod:`.factors`), globally consistent rules (:mod:`.rules`) and case-based explanations
(:mod:`.cases`).

Nothing here imports TensorFlow directly; attributions come from
:class:`~nbexplain.engine.IntegratedGradients` (or the additive model's exact attributor).
"""

from .cases import CaseTable, case_table, rank_cases
from .factors import ContributingFactor, ContributingFactors, contributing_factors
from .reasons import (
    AdverseActionReasons,
    ProhibitedBasisWarning,
    RankedReasons,
    ReasonCatalogue,
    ReasonCode,
    StatedReason,
    rank_reasons,
    reasons_from_attributions,
)
from .rules import ConsistentRule, PastCases, RuleBook, SetCoverExplainer, SetCoverExplanation

__all__ = [
    "AdverseActionReasons",
    "CaseTable",
    "ConsistentRule",
    "ContributingFactor",
    "ContributingFactors",
    "PastCases",
    "ProhibitedBasisWarning",
    "RankedReasons",
    "ReasonCatalogue",
    "ReasonCode",
    "RuleBook",
    "SetCoverExplainer",
    "SetCoverExplanation",
    "StatedReason",
    "case_table",
    "contributing_factors",
    "rank_cases",
    "rank_reasons",
    "reasons_from_attributions",
]
