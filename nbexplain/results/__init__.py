"""Immutable results, readable without TensorFlow or the engine.

* :class:`Explanation`: a labelled array of importance values with ``meta`` (how it was made);
* :class:`Sensitivities`: per-sample gradients and the paper's importance formulas;
* :class:`Attributions`: per-element additive attributions (IG, GIG) with completeness;
* :class:`InputLayout`, :class:`FeatureGroup`: how model inputs map to reported features.

Per-sample results share :class:`PerSampleResult` (layout, sample labels, meta, JSON round trip,
and the ``local_importance`` / ``global_importance`` views every widget reads).
"""

from ._per_sample import PerSampleResult
from .attributions import Attributions
from .explanation import Explanation
from .importance import ImportanceSums
from .layout import FeatureGroup, InputLayout, input_kind
from .sensitivities import Sensitivities

__all__ = [
    "Attributions",
    "Explanation",
    "FeatureGroup",
    "ImportanceSums",
    "InputLayout",
    "PerSampleResult",
    "Sensitivities",
    "input_kind",
]
