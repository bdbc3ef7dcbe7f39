"""Ready-made recipes: the documented baselines of a reference set, and the demo's reasons.

One place builds them, so the command line, the dashboard and the notebooks explain with the
same choices.
"""
from __future__ import annotations

from ..baselines import AverageInput, BestScore, CutoffCohort, MedianInput, ReferenceSet
from .adverse import ReasonExplainer

#: Short names (command line, dashboard) of the documented baselines.
BASELINE_CHOICES = {"average": "average input", "median": "median input", "reference": "reference set",
                    "cutoff": "cut-off cohort", "best": "best score"}


def documented_baselines(reference, *, cutoff: float, band: float = 0.05, draws: int = 100,
                         passing: str = "below") -> dict:
    """Every documented baseline kind built from ``reference`` (model inputs), by short name."""
    return {
        "average": AverageInput(reference),
        "median": MedianInput(reference),
        "reference": ReferenceSet(reference, draws=draws),
        "cutoff": CutoffCohort(reference, cutoff=cutoff, band=band, passing=passing, draws=draws),
        "best": BestScore(reference, passing=passing),
    }


def demo_reason_explainer(demo, *, baseline: str = "average", steps=64, rule: str = "gausslegendre",
                          tolerance: float = 1e-6, cutoff: float = 0.5, band: float = 0.05, draws: int = 100,
                          max_reasons: int = 4, catalogue=None, progress=None) -> ReasonExplainer:
    """Reasons for a demo model: IG of P(default), the chosen documented baseline built from the
    training rows, the UCI reason catalogue, applicants denied at ``cutoff``."""
    from ..datasets.credit import CREDIT_FEATURES, credit_reason_catalogue, sequence_elements
    from ..engine import IntegratedGradients

    options = demo.explainer_options()
    explainer = IntegratedGradients(demo.model, steps=steps, rule=rule, tolerance=tolerance, progress=progress,
                                    **options)
    baselines = documented_baselines(demo.rows(demo.train_rows), cutoff=cutoff, band=band, draws=draws)
    if baseline not in baselines:
        from ..errors import unknown_name

        raise unknown_name("baseline", baseline, baselines)
    elements = sequence_elements() if demo.name == "credit_lstm" else None
    return ReasonExplainer(explainer, baselines[baseline], catalogue or credit_reason_catalogue(), cutoff=cutoff,
                           to_inputs=demo.model_inputs, columns=CREDIT_FEATURES, elements=elements,
                           max_reasons=max_reasons)
