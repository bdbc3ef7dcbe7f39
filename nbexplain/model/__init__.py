"""The models nbexplain explains, seen from outside: what a model takes (inputs and their checks),
what it returns (which score is explained) and a fingerprint of what it computes; tree ensembles
read exactly as their libraries predict (:mod:`.trees`) and stacks of them with a head
(:mod:`.stack`).

Keras models are read through :mod:`._keras` (architecture, outputs, the layer applying the final
activation); nothing here changes a user's model. :mod:`.additive` is a model nbexplain itself fits: the two-layer
additive risk model of the FICO Explainable ML Challenge entry (step columns, subscales, points).
"""

from .additive import HELOC_RECIPE, AdditiveRiskModel, Computation, FeatureSteps, StepColumn, StepRecipe
from .inputs import ModelInput, PreparedData, prepare_inputs
from .outputs import OutputSelection, ResolvedOutput, resolve_output
from .stack import Blend, NetworkHead, Stack
from .trees import TreeEnsemble, UnsupportedModelError, read_trees

__all__ = [
    "HELOC_RECIPE",
    "AdditiveRiskModel",
    "Blend",
    "Computation",
    "FeatureSteps",
    "ModelInput",
    "NetworkHead",
    "OutputSelection",
    "PreparedData",
    "ResolvedOutput",
    "Stack",
    "StepColumn",
    "StepRecipe",
    "TreeEnsemble",
    "UnsupportedModelError",
    "prepare_inputs",
    "read_trees",
    "resolve_output",
]
