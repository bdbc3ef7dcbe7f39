"""nbexplain: explanations of credit-risk models for Python, Jupyter and Voila.

The flow is model -> engine -> results -> charts -> widgets: :mod:`nbexplain.model` reads what a
model takes and returns, :mod:`nbexplain.engine` holds the explainers, :mod:`nbexplain.results`
the immutable results (readable without TensorFlow), :mod:`nbexplain.charts` draws results and
:mod:`nbexplain.widgets` composes them for people. :mod:`nbexplain.credit` is what lenders do with
explanations; :mod:`nbexplain.datasets` and :mod:`nbexplain.reproduce` sit beside them.

Importing nbexplain does not import TensorFlow: it is loaded, quietly, the first time an
explainer runs.
"""

from ._version import __version__
from .engine import (
    AdditiveAttributor,
    AdditiveRowExplainer,
    AverageInput,
    BestScore,
    CutoffCohort,
    GeneralizedIntegratedGradients,
    IntegratedGradients,
    MedianInput,
    PairedBaseline,
    ReferenceSet,
    Sensitivity,
    UserPoint,
    compute_gradients,
)
from .errors import (
    DataFileError,
    InputDataError,
    MissingDependencyError,
    NBExplainError,
    NonFiniteScoreError,
    NotDifferentiableError,
    OutputSelectionError,
    UnknownNameError,
)
from .model import AdditiveRiskModel, Blend, NetworkHead, OutputSelection, Stack, TreeEnsemble, read_trees
from .results import Attributions, Explanation, FeatureGroup, InputLayout, Sensitivities

__all__ = [
    "AdditiveAttributor",
    "AdditiveRiskModel",
    "AdditiveRowExplainer",
    "Attributions",
    "AverageInput",
    "Blend",
    "BestScore",
    "CutoffCohort",
    "DataFileError",
    "Explanation",
    "FeatureGroup",
    "GeneralizedIntegratedGradients",
    "InputDataError",
    "InputLayout",
    "IntegratedGradients",
    "MedianInput",
    "MissingDependencyError",
    "NBExplainError",
    "NetworkHead",
    "NonFiniteScoreError",
    "NotDifferentiableError",
    "OutputSelection",
    "OutputSelectionError",
    "PairedBaseline",
    "ReferenceSet",
    "Sensitivities",
    "Sensitivity",
    "Stack",
    "TreeEnsemble",
    "UnknownNameError",
    "UserPoint",
    "__version__",
    "compute_gradients",
    "read_trees",
]
