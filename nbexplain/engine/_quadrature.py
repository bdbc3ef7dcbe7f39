"""Quadrature rules on [0, 1] shared by the path methods (Integrated Gradients and the continuous
parts of Generalized Integrated Gradients).

``int_0^1 g(a) da ~ sum_k w_k g(a_k)``: Gauss-Legendre (exact for polynomials of degree
``2 m - 1``) or a Riemann rule (left, right, middle, trapezoid).
"""

from __future__ import annotations

import functools

import numpy as np

from ..errors import NBExplainError, unknown_name

RULES = ("gausslegendre", "riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid")


@functools.lru_cache(maxsize=64)
def quadrature(rule: str, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes ``a_k`` in [0, 1] and weights ``w_k`` (summing to 1) of ``rule`` with ``steps`` points
    (read-only arrays, computed once per rule and count)."""
    nodes, weights = _nodes_and_weights(rule, steps)
    for array in (nodes, weights):
        array.flags.writeable = False
    return nodes, weights


def _nodes_and_weights(rule: str, steps: int) -> tuple[np.ndarray, np.ndarray]:
    if rule not in RULES:
        raise unknown_name("quadrature rule", rule, RULES)
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)):
        raise NBExplainError(f"steps must be a whole number of quadrature points (or 'auto'); got {steps!r}.")
    steps = int(steps)
    if steps < (2 if rule == "riemann_trapezoid" else 1):
        raise NBExplainError(f"steps={steps} is too few for rule {rule!r}.")
    k = np.arange(steps, dtype=np.float64)
    if rule == "gausslegendre":
        nodes, weights = np.polynomial.legendre.leggauss(steps)
        return (nodes + 1.0) / 2.0, weights / 2.0
    if rule == "riemann_trapezoid":
        weights = np.full(steps, 1.0 / (steps - 1))
        weights[[0, -1]] /= 2.0
        return k / (steps - 1), weights
    offset = {"riemann_left": 0.0, "riemann_right": 1.0, "riemann_middle": 0.5}[rule]
    return (k + offset) / steps, np.full(steps, 1.0 / steps)
