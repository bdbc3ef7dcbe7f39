"""Generated data with known structure (seeded, no network), loaders for the real public files,
and the demo models.

The generators write down their data-generating process so that tests can check that the
engine recovers it.
"""

from .credit import CREDIT_FEATURES, CREDIT_TARGET, credit_sequences, make_credit_default, split_credit
from .demo import DemoModel, fit_credit_model, load_demo
from .heloc import HELOC_FEATURES, HELOC_TARGET, make_heloc
from .images import make_region_images
from .loaders import load_credit_default, load_heloc
from .sequences import make_lagged_process
from .simulation import SIMULATION_FEATURES, make_simulation, simulation_importance

__all__ = [
    "CREDIT_FEATURES",
    "CREDIT_TARGET",
    "DemoModel",
    "HELOC_FEATURES",
    "HELOC_TARGET",
    "SIMULATION_FEATURES",
    "credit_sequences",
    "fit_credit_model",
    "load_credit_default",
    "load_demo",
    "load_heloc",
    "make_credit_default",
    "make_heloc",
    "make_lagged_process",
    "make_region_images",
    "make_simulation",
    "simulation_importance",
    "split_credit",
]
