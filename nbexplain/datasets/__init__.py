"""Generated data with known structure (seeded, no network) and the small demo models.

The generators write down their data-generating process so that tests can check that the
engine recovers it.
"""
from .images import make_region_images
from .sequences import make_lagged_process
from .simulation import SIMULATION_FEATURES, make_simulation, simulation_importance

__all__ = ["SIMULATION_FEATURES", "make_lagged_process", "make_region_images", "make_simulation",
           "simulation_importance"]
