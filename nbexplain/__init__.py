"""nbexplain: sensitivity explanations of neural-network credit models, for Jupyter and Voila.

Results (:class:`Explanation`, :class:`Sensitivities`) import without TensorFlow; the explainers
load TensorFlow the first time they are used.
"""
import os as _os

from ._version import __version__
from .errors import (InputDataError, NBExplainError, NotDifferentiableError, OutputSelectionError,
                     UnknownNameError)
from .attributions import Attributions
from .baselines import (AverageInput, BestScore, CutoffCohort, MedianInput, PairedBaseline, ReferenceSet,
                        UserPoint)
from .explanation import Explanation
from .sensitivities import FeatureGroup, InputLayout, Sensitivities

_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

_ENGINE = {"SensitivityExplainer", "IntegratedGradients", "OutputSelection", "compute_gradients"}

__all__ = ["Attributions", "AverageInput", "BestScore", "CutoffCohort", "Explanation", "IntegratedGradients",
           "MedianInput", "PairedBaseline", "ReferenceSet", "UserPoint", "FeatureGroup", "InputDataError", "InputLayout", "NBExplainError",
           "NotDifferentiableError", "OutputSelectionError", "Sensitivities", "SensitivityExplainer",
           "OutputSelection", "UnknownNameError", "__version__"]


def __getattr__(name):
    if name in _ENGINE:
        from . import engine

        return getattr(engine, name)
    raise AttributeError(f"module 'nbexplain' has no attribute {name!r}")
