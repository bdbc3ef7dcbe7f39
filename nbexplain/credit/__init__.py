"""What lenders do with explanations: adverse-action reasons, their validation and batch runs.

Nothing here imports TensorFlow directly; attributions come from
:class:`~nbexplain.engine.IntegratedGradients`.
"""

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

__all__ = [
    "AdverseActionReasons",
    "ProhibitedBasisWarning",
    "RankedReasons",
    "ReasonCatalogue",
    "ReasonCode",
    "StatedReason",
    "rank_reasons",
    "reasons_from_attributions",
]
