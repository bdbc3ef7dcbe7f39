"""The simulated regression of Horel et al. (2018), section 3.

    Y = cos(X1) + sin(X2) + 2 X3 + X4 + X5 / 100 + eps,   X1..X5 iid N(0, 1),  eps ~ N(0, 0.01)

(0.01 is the noise variance). The true derivatives are -sin(X1), cos(X2), 2, 1 and 0.01, so the
population global importance is known in closed form: with
``E[sin^2 X] = (1 - e^{-2}) / 2`` and ``E[cos^2 X] = (1 + e^{-2}) / 2`` for ``X ~ N(0, 1)``,
lambda is proportional to (0.658, 0.752, 2, 1, 0.01): X3 twice X4, X1 close to X2, X5 about 0.2 %.
"""

from __future__ import annotations

import numpy as np

from ..errors import ArgumentError, real_number, whole_number

SIMULATION_FEATURES = ("X1", "X2", "X3", "X4", "X5")


def make_simulation(n: int = 10_000, seed: int = 0, noise_variance: float = 0.01):
    """Draw ``n`` rows of the section-3 process; returns ``(X DataFrame, y Series)``."""
    import pandas as pd

    n = whole_number("n", n, minimum=1, meaning="the number of rows to draw")
    seed = whole_number("seed", seed, minimum=0)
    noise_variance = real_number("noise_variance", noise_variance, minimum=0, meaning="the variance of eps")
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 5))
    y = np.cos(x[:, 0]) + np.sin(x[:, 1]) + 2 * x[:, 2] + x[:, 3] + x[:, 4] / 100
    y = y + rng.normal(0.0, np.sqrt(noise_variance), n)
    return pd.DataFrame(x, columns=list(SIMULATION_FEATURES)), pd.Series(y, name="Y")


def simulation_importance(X=None) -> np.ndarray:
    """The true global importance (summing to 100) of the section-3 function.

    On data ``X`` it is the paper's formula applied to the exact derivatives; without data, the
    population value.
    """
    if X is None:
        rms = np.array([np.sqrt((1 - np.exp(-2)) / 2), np.sqrt((1 + np.exp(-2)) / 2), 2.0, 1.0, 0.01])
    else:
        try:
            x = np.asarray(X, dtype=float)
        except (TypeError, ValueError):
            raise ArgumentError("X must be numbers of shape (n, 5): the columns X1..X5 of make_simulation().") from None
        if x.ndim != 2 or x.shape[1] != 5 or x.shape[0] == 0 or not np.isfinite(x).all():
            raise ArgumentError(
                f"X must be finite numbers of shape (n, 5) with n >= 1 (the columns X1..X5 of make_simulation()); "
                f"got shape {x.shape}" + ("" if x.size == 0 or np.isfinite(x).all() else " with NaN or inf") + "."
            )
        derivatives = np.column_stack(
            [-np.sin(x[:, 0]), np.cos(x[:, 1]), np.full(len(x), 2.0), np.ones(len(x)), np.full(len(x), 0.01)]
        )
        rms = np.sqrt((derivatives**2).mean(axis=0))
    return 100 * rms / rms.sum()
