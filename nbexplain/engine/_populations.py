"""Population differences, shared by every attributor (IG, Generalized IG, the additive model).

The difference between populations A and B is the mean attribution over pairs (a, b) of the
attribution of a against the baseline b::

    D_e = 1/|P| sum_{(a, b) in P} A_e(a; b),    sum_e D_e = mean f(A) - mean f(B)  (over ALL pairs)

``P`` is every pair (exact) or ``max_pairs`` pairs drawn uniformly (seeded), in which case each
``D_e`` comes with its standard error ``sqrt((mean A_e^2 - D_e^2) / (|P| - 1))``. This module
chooses the pairs, accumulates the sums and writes the record; each attributor computes its own
``A(a; b)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import NBExplainError


def _whole(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


class PopulationPairs:
    """The (a, b) pairs a comparison takes: all ``n_a * n_b`` of them when ``exact`` (default when
    there are at most ``max_pairs``), else ``max_pairs`` drawn uniformly with ``seed``."""

    def __init__(self, n_a: int, n_b: int, max_pairs: int = 20_000, exact: bool | None = None, seed: int = 0) -> None:
        if not (_whole(max_pairs) and max_pairs >= 1):
            raise NBExplainError(f"max_pairs must be a positive whole number of (a, b) pairs; got {max_pairs!r}.")
        if exact is not None and not isinstance(exact, bool | np.bool_):
            raise NBExplainError(f"exact must be True, False or None (exact when |A| |B| <= max_pairs); got {exact!r}.")
        if not (_whole(seed) and seed >= 0):
            raise NBExplainError(f"seed must be a whole number >= 0 (of the sampled pairs); got {seed!r}.")
        self.n_a, self.n_b, self.seed = int(n_a), int(n_b), int(seed)
        self.exact = n_a * n_b <= max_pairs if exact is None else bool(exact)
        if self.exact:
            self.count = self.n_a * self.n_b
            self._drawn: tuple | None = None
        else:
            if max_pairs < 2:
                raise NBExplainError(f"max_pairs={max_pairs}: sampling needs at least 2 pairs for a standard error.")
            rng = np.random.default_rng(seed)
            self._drawn = (rng.integers(0, n_a, max_pairs), rng.integers(0, n_b, max_pairs))
            self.count = int(max_pairs)

    def locate(self, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The rows of A and of B of pairs number ``p``."""
        p = np.asarray(p)
        if self._drawn is None:
            return p // self.n_b, p % self.n_b
        return self._drawn[0][p], self._drawn[1][p]


class PairSums:
    """Running sums over pairs: of the attributions and their squares (per input block), and of
    the score differences ``f(a) - f(b)`` and their squares."""

    def __init__(self, shapes: Mapping[str, tuple]) -> None:
        self.sums = {name: np.zeros(shape) for name, shape in shapes.items()}
        self.squares = {name: np.zeros(shape) for name, shape in shapes.items()}
        self.differences = np.zeros(2)

    def add(self, attributions: Mapping[str, np.ndarray], differences: np.ndarray) -> None:
        """Add a block of pairs: ``attributions[name]`` is ``(pairs, *shape)``."""
        for name, values in attributions.items():
            self.sums[name] += values.sum(axis=0)
            self.squares[name] += np.square(values).sum(axis=0)
        self.differences += differences.sum(), np.square(differences).sum()

    def mean(self, pairs: PopulationPairs) -> dict:
        """``D`` per block, with a leading sample axis of 1."""
        return {name: (total / pairs.count)[None] for name, total in self.sums.items()}

    def standard_error(self, pairs: PopulationPairs) -> dict | None:
        """Each ``D_e``'s sampling standard error (None for exact comparisons)."""
        if pairs.exact:
            return None
        n = pairs.count
        return {
            name: np.sqrt(np.maximum(self.squares[name] / n - np.square(total / n), 0.0) / (n - 1))[None]
            for name, total in self.sums.items()
        }

    def mean_difference(self, pairs: PopulationPairs) -> float:
        """The mean of ``f(a) - f(b)`` over the pairs taken."""
        return float(self.differences[0] / pairs.count)

    def difference_standard_error(self, pairs: PopulationPairs) -> float:
        if pairs.exact:
            return 0.0
        n, mean = pairs.count, self.differences[0] / pairs.count
        return float(np.sqrt(max(self.differences[1] / n - mean**2, 0.0) / (n - 1)))


def population_baseline(labels: tuple, pairs: PopulationPairs, baseline_score: float) -> dict:
    """The baseline description of a population comparison (``meta["baseline"]``)."""
    return {
        "kind": "population",
        "statement": f"Every member of {labels[0]!r} against every member of {labels[1]!r}"
        + ("" if pairs.exact else f" ({pairs.count:,} pairs drawn uniformly)"),
        "points": pairs.n_b,
        "baseline_score": float(baseline_score),
    }


def population_meta(labels: tuple, pairs: PopulationPairs, sums: PairSums, total: float, **more: Any) -> dict:
    """What a population comparison records beside the method's own meta: the populations, the
    pairs taken, the quadrature error ``|sum D - mean(f(a) - f(b))|`` and the sampling error."""
    return {
        "view": "population difference",
        "populations": list(labels),
        "sizes": [pairs.n_a, pairs.n_b],
        "exact": pairs.exact,
        "pairs": pairs.count,
        "seed": None if pairs.exact else pairs.seed,
        "quadrature_error": float(abs(total - sums.mean_difference(pairs))),
        "sampling_standard_error": sums.difference_standard_error(pairs),
        **more,
    }


def check_labels(labels: Any) -> tuple:
    """Two population names."""
    if isinstance(labels, str | bytes) or not isinstance(labels, tuple | list) or len(labels) != 2:
        raise NBExplainError(f"labels must be a pair of population names, e.g. ('denied', 'approved'); got {labels!r}.")
    return tuple(labels)
