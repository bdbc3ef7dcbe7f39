"""The documented baselines of a reference set, by the short names the command line and the
dashboard offer: one place builds them, so every entry point explains with the same choices.
"""

from __future__ import annotations

from ..engine.baselines import AverageInput, BestScore, CutoffCohort, MedianInput, ReferenceSet

#: Short names (command line, dashboard) of the documented baselines.
BASELINE_CHOICES = {
    "average": "average input",
    "median": "median input",
    "reference": "reference set",
    "cutoff": "cut-off cohort",
    "best": "best score",
}


def documented_baselines(
    reference, *, cutoff: float, band: float = 0.05, draws: int = 100, passing: str = "below"
) -> dict:
    """Every documented baseline kind built from ``reference`` (model inputs), by short name."""
    return {
        "average": AverageInput(reference),
        "median": MedianInput(reference),
        "reference": ReferenceSet(reference, draws=draws),
        "cutoff": CutoffCohort(reference, cutoff=cutoff, band=band, passing=passing, draws=draws),
        "best": BestScore(reference, passing=passing),
    }
