"""A sequence process with a known lag structure, for recurrent models.

Three input sequences x1, x2, x3 of length ``tau``, iid N(0, 1). The target at step t is

    y_t = x1_{t-1} + tanh(2 x2_{t-3}) + eps_t,    eps_t ~ N(0, noise_sd^2)

(terms that would reach before the sequence start are 0). x3 is noise. A many-to-one model
predicts y at the last step; a many-to-many model predicts y_t at every step. The derivative is
non-zero only at lag 1 (for x1) and lag 3 (for x2): lag importance must peak there.
"""

from __future__ import annotations

import numpy as np

from ..errors import real_number, true_or_false, whole_number

SEQUENCE_FEATURES = ("x1", "x2", "x3")
TRUE_LAGS = {"x1": 1, "x2": 3}


def make_lagged_process(n: int = 4000, tau: int = 8, seed: int = 0, noise_sd: float = 0.05, many_to_many: bool = False):
    """Return ``(X, y)``: X of shape (n, tau, 3); y (n,) at the last step, or (n, tau, 1) at every step."""
    n = whole_number("n", n, minimum=1, meaning="the number of sequences to draw")
    tau = whole_number("tau", tau, minimum=1, meaning="the number of time steps")
    seed = whole_number("seed", seed, minimum=0)
    noise_sd = real_number("noise_sd", noise_sd, minimum=0, meaning="the standard deviation of eps")
    many_to_many = true_or_false("many_to_many", many_to_many)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, tau, 3)).astype("float32")
    y = np.zeros((n, tau), dtype="float32")
    y[:, 1:] += x[:, :-1, 0]
    y[:, 3:] += np.tanh(2 * x[:, :-3, 1])
    y += rng.normal(0, noise_sd, (n, tau)).astype("float32")
    return (x, y[:, :, None]) if many_to_many else (x, y[:, -1])
