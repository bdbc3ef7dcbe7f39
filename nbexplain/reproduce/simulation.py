"""Section 3, Figure 1: the ranking of global importance on the simulated regression."""

from __future__ import annotations

from dataclasses import dataclass

from ..datasets import SIMULATION_FEATURES, simulation_importance
from ..datasets.models import train_simulation_network
from ..engine import Sensitivity
from ..results import Explanation
from .figures import ranking_figure


@dataclass(frozen=True, eq=False)
class SimulationReproduction:
    """The fitted network's global importance beside the true importance of the function."""

    importance: Explanation
    truth: Explanation
    test_mse: float
    n_train: int

    def table(self):
        frame = self.importance.to_frame()[["importance"]]
        frame["true importance"] = self.truth.to_frame()["importance"]
        return frame.sort_values("importance", ascending=False)

    def figure(self):
        return ranking_figure(
            {"sensitivity of the fitted network": self.importance, "true importance of the function": self.truth},
            f"Figure 1: simulated regression (test MSE {self.test_mse:.4f})",
        )


def run(n: int = 10_000, seed: int = 0, epochs: int = 60) -> SimulationReproduction:
    """Train the 64-32 ReLU network on 85 % of ``n`` rows and explain it on its training rows."""
    model, X_train, _, _, mse = train_simulation_network(n=n, seed=seed, epochs=epochs)
    importance = Sensitivity(model).explain(X_train).global_importance()
    truth = Explanation(
        simulation_importance(),
        ("feature",),
        {"feature": SIMULATION_FEATURES},
        {"method": "closed form", "formula": "sqrt(E[(dY/dX_j)^2]), normalised to 100"},
    )
    return SimulationReproduction(importance, truth, mse, len(X_train))
