"""The computation layer: the only package that imports TensorFlow.

Every gradient comes from :func:`compute_gradients` in ``_gradients.py``.
"""
from ._gradients import OutputSelection, compute_gradients
from .integrated import IntegratedGradients, quadrature
from .sensitivity import SensitivityExplainer

__all__ = ["IntegratedGradients", "OutputSelection", "SensitivityExplainer", "compute_gradients", "quadrature"]
