"""The models nbexplain explains, seen from outside: what a model takes (inputs and their checks),
what it returns (which score is explained) and a fingerprint of what it computes.

Keras models are read through :mod:`._keras` (architecture, outputs, the layer applying the final
activation); nothing here changes a user's model.
"""

from .inputs import ModelInput, PreparedData, prepare_inputs
from .outputs import OutputSelection, ResolvedOutput, resolve_output

__all__ = ["ModelInput", "OutputSelection", "PreparedData", "ResolvedOutput", "prepare_inputs", "resolve_output"]
