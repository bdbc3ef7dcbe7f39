"""The computation layer: explainers that turn a model and data into results.

Every gradient comes from the one tape in ``_gradients.py``, planned and chunked by
``_plan.py``; every explainer shares the base in ``_base.py`` (parameters only in the
constructor, ``explain(...)`` returns an immutable result, ``with_params`` copies). Tree
ensembles and stacks (read by :mod:`nbexplain.model.trees`) are explained by Generalized
Integrated Gradients (``generalized.py``), whose smooth parts go through the same tape.
"""

from ._base import Explainer, GradientExplainer
from ._plan import compute_gradients
from ._quadrature import RULES, quadrature
from .additive import AdditiveAttributor, AdditiveRowExplainer
from .baselines import (
    AverageInput,
    Baseline,
    BestScore,
    CutoffCohort,
    MedianInput,
    PairedBaseline,
    ReferenceSet,
    UserPoint,
)
from .generalized import GeneralizedIntegratedGradients
from .integrated import IntegratedGradients
from .sensitivity import Sensitivity

__all__ = [
    "RULES",
    "AdditiveAttributor",
    "AdditiveRowExplainer",
    "AverageInput",
    "Baseline",
    "BestScore",
    "CutoffCohort",
    "Explainer",
    "GeneralizedIntegratedGradients",
    "GradientExplainer",
    "IntegratedGradients",
    "MedianInput",
    "PairedBaseline",
    "ReferenceSet",
    "Sensitivity",
    "UserPoint",
    "compute_gradients",
    "quadrature",
]
