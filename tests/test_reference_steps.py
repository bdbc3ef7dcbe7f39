"""Steps chosen per (sample, baseline) pair by ``steps="auto"`` against a reference set, checked
against independent truth.

For a score ``f(x) = s(x)^q`` with ``s(x) = w.x + c`` the gradient along the straight path,
``q s(a)^(q-1) w`` with ``s(a) = s(b) + a D`` (``D = s(x) - s(b)``), is a polynomial of degree
``q - 1`` in ``a``: Gauss-Legendre with ``n`` nodes is exact for ``2 n - 1 >= q - 1``, and below
that its error is known in closed form. For ``q = 3`` the midpoint (one node) misses
``int_0^1 3 s(a)^2 da`` by ``D^2 / 4``, so a pair's completeness error at one step is
``|D|^3 / 4`` and at two steps 0: the steps every pair needs follow from ``D`` alone.
"""

import warnings

import keras
import numpy as np
import pandas as pd
import pytest
from test_integrated_gradients import numpy_tanh_network, tanh_network

from nbexplain import IntegratedGradients, ReferenceSet, UserPoint
from nbexplain.engine import integrated
from nbexplain.errors import ResultWarning

W = np.array([0.8, -0.5, 0.3])
C = 0.1


def power_model(power: int):
    """float64 ``f(x) = (w.x + c)^power``."""
    inputs = keras.Input((len(W),), dtype="float64")
    dense = keras.layers.Dense(1, dtype="float64")
    score = keras.ops.power(dense(inputs), power)
    model = keras.Model(inputs, score)
    dense.set_weights([W[:, None], np.array([C])])
    return model


def linear_score(X):
    return X @ W + C


def rows_scoring(rng, scores):
    """Rows with the given scores s(x), in random directions along the level sets of s."""
    along = np.outer(np.asarray(scores) - C, W) / (W @ W)
    noise = rng.normal(size=along.shape)
    return along + noise - np.outer(noise @ W, W) / (W @ W)


@pytest.fixture
def cubic_case(rng):
    """A cubic score, a tolerance (1e-3: |D|^3 / 4 crosses it at |D| = 0.159) and data where
    every pair's |D| is below 0.06 (one node is enough) or above 0.34 (two are needed): the
    reference scores are 0.4 apart, each sample within 0.06 of one of them."""
    tolerance = 1e-3
    centres = np.array([-0.8, -0.4, 0.0, 0.4, 0.8])
    reference = rows_scoring(rng, centres)
    X = rows_scoring(rng, np.repeat(centres, 3) + rng.uniform(-0.06, 0.06, 15))
    gap = linear_score(X)[:, None] - linear_score(reference)[None, :]
    return power_model(3), X, reference, tolerance, np.abs(gap) ** 3 / 4


def test_each_pair_takes_the_steps_its_closed_form_error_needs(cubic_case):
    model, X, reference, tolerance, midpoint_error = cubic_case
    needs_two = midpoint_error > tolerance
    assert (~needs_two).sum() == 15 and needs_two.sum() == 60  # one close reference row per sample
    explainer = IntegratedGradients(model, steps="auto", tolerance=tolerance, min_steps=1, max_steps=64)
    result = explainer.explain(X, ReferenceSet(reference, draws=len(reference)))
    assert result.meta["pair_steps"] == {"1": int((~needs_two).sum()), "2": int(needs_two.sum())}
    np.testing.assert_array_equal(result.steps, np.where(needs_two.any(axis=1), 2, 1))
    # only the pairs above the tolerance were evaluated again: one node each, then two nodes
    assert result.meta["gradient_evaluations"] == midpoint_error.size + 2 * int(needs_two.sum())
    # each pair's error: |D|^3 / 4 at one step, 0 (exact quadrature) at two
    reached = np.where(needs_two, 0.0, midpoint_error)
    assert result.meta["max_pair_completeness_error"] == pytest.approx(reached.max(), rel=1e-9, abs=1e-13)
    assert result.meta["pairs_above_tolerance"] == 0


def test_reference_attributions_equal_the_closed_form_path_integrals(cubic_case):
    """A_e = (x_e - b_e) w_e * (int_0^1 3 s(a)^2 da), averaged over the reference rows: the exact
    integral (s(x)^3 - s(b)^3) / D at two steps, the midpoint 3 ((s(x) + s(b)) / 2)^2 at one."""
    model, X, reference, tolerance, midpoint_error = cubic_case
    explainer = IntegratedGradients(model, steps="auto", tolerance=tolerance, min_steps=1, max_steps=64)
    result = explainer.explain(X, ReferenceSet(reference, draws=len(reference)))
    sx, sb = linear_score(X)[:, None], linear_score(reference)[None, :]
    gap = sx - sb
    exact = (sx**3 - sb**3) / np.where(gap == 0, 1.0, gap)
    midpoint = 3 * ((sx + sb) / 2) ** 2
    integral = np.where(midpoint_error > tolerance, exact, midpoint)  # (samples, reference rows)
    delta = X[:, None, :] - reference[None, :, :]
    truth = (delta * W * integral[..., None]).mean(axis=1)
    np.testing.assert_allclose(result.feature_values(), truth, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(result.score, linear_score(X) ** 3, rtol=1e-12)
    np.testing.assert_allclose(result.baseline_score, np.mean(linear_score(reference) ** 3), atol=1e-12)


def test_every_pair_meets_the_tolerance_recomputed_one_baseline_at_a_time(rng):
    """The pairs of a reference set, each explained on its own (one baseline point): every
    pair's error, recomputed from its attributions and an independent forward pass, is within
    the tolerance; the set's result is their average and its record counts the same steps."""
    model = tanh_network(rng, p=5)
    X, reference = rng.normal(size=(15, 5)) * 1.5, rng.normal(size=(8, 5)) * 1.5
    tolerance = 1e-8
    explainer = IntegratedGradients(model, steps="auto", tolerance=tolerance, min_steps=2, max_steps=512)
    result = explainer.explain(X, ReferenceSet(reference, draws=len(reference)))
    pairs = [explainer.explain(X, UserPoint(reference[[j]])) for j in range(len(reference))]
    for j, pair in enumerate(pairs):
        recomputed = np.abs(
            pair.feature_values().sum(axis=1)
            - (numpy_tanh_network(model, X) - numpy_tanh_network(model, reference[[j]]))
        )
        assert recomputed.max() <= tolerance * (1 + 1e-6)
    np.testing.assert_allclose(
        result.feature_values(), np.mean([pair.feature_values() for pair in pairs], axis=0), rtol=1e-12, atol=1e-15
    )
    steps, counts = np.unique(np.concatenate([pair.steps for pair in pairs]), return_counts=True)
    assert result.meta["pair_steps"] == {str(s): int(c) for s, c in zip(steps, counts)}
    assert len(steps) > 1  # the pairs did not all need the same steps
    assert result.meta["max_pair_completeness_error"] == pytest.approx(
        max(pair.completeness_error.max() for pair in pairs), rel=1e-6
    )
    np.testing.assert_array_equal(result.steps, np.max([pair.steps for pair in pairs], axis=0))


def test_automatic_steps_agree_with_many_fixed_steps_to_the_tolerance(rng):
    model = tanh_network(rng, p=5)
    X, reference = rng.normal(size=(30, 5)) * 1.5, rng.normal(size=(12, 5)) * 1.5
    tolerance = 1e-9
    auto = IntegratedGradients(model, steps="auto", tolerance=tolerance, min_steps=2, max_steps=256)
    result = auto.explain(X, ReferenceSet(reference, draws=100))
    fixed = IntegratedGradients(model, steps=256).explain(X, ReferenceSet(reference, draws=100))
    assert fixed.meta["max_pair_completeness_error"] < 1e-13  # converged: the reference
    np.testing.assert_allclose(result.feature_values(), fixed.feature_values(), rtol=0, atol=10 * tolerance)
    assert result.meta["max_pair_completeness_error"] <= tolerance
    assert result.meta["gradient_evaluations"] < fixed.meta["gradient_evaluations"] / 4
    assert sum(result.meta["pair_steps"].values()) == len(X) * len(reference)


def test_a_pair_that_cannot_converge_within_max_steps_is_named(rng):
    """Quintic score: Gauss-Legendre with 2 nodes misses a pair by |D|^5 / 36, exact from 3 on.
    With max_steps=2 only the pairs with a large |D| stay above the tolerance, and the warnings
    name the samples they belong to."""
    model = power_model(5)
    scores = np.array([0.0, 0.01, 2.0, -0.02])
    X = pd.DataFrame(rows_scoring(rng, scores), index=["ann", "bob", "carol", "dan"], columns=list("abc"))
    reference = rows_scoring(rng, [0.0, 0.005])
    np.testing.assert_allclose(linear_score(X.to_numpy()), scores, atol=1e-12)
    explainer = IntegratedGradients(model, steps="auto", tolerance=1e-9, min_steps=1, max_steps=2)
    with pytest.warns(ResultWarning) as caught:
        result = explainer.explain(X, ReferenceSet(reference, draws=2))
    messages = [str(w.message) for w in caught]
    pair_message = next(m for m in messages if "(sample, baseline) pairs stopped at max_steps=2" in m)
    assert "2 of 8 (sample, baseline) pairs" in pair_message and "at samples 'carol':" in pair_message
    sample_message = next(m for m in messages if "samples have a completeness error above 1e-09" in m)
    assert "rows 'carol')" in sample_message and "did not reach completeness error 1e-09 within max_steps=2" in (
        sample_message
    )
    assert result.meta["pairs_above_tolerance"] == 2
    gaps = 2.0 - np.array([0.0, 0.005])
    assert result.meta["max_pair_completeness_error"] == pytest.approx(np.max(gaps**5 / 36), rel=1e-9)
    # one node: |D| (2.5 m^2 D^2 + D^4 / 16) with m the mean score, below 1e-9 for ann's and bob's pairs
    assert result.meta["pair_steps"] == {"1": 4, "2": 4}
    assert result.meta["gradient_evaluations"] == 8 * 1 + 4 * 2
    assert not result.meta["tolerance_met"]


def test_blocks_and_chunks_do_not_change_the_result(rng, monkeypatch):
    """Pairs of one sample split over several blocks and calls (a tiny state budget, one row per
    call) give the same attributions, steps and record as one block."""
    model = tanh_network(rng, p=5)
    X, reference = rng.normal(size=(7, 5)), rng.normal(size=(5, 5))
    options = {"steps": "auto", "tolerance": 1e-8, "min_steps": 2, "max_steps": 128}
    whole = IntegratedGradients(model, **options).explain(X, ReferenceSet(reference, draws=5))
    monkeypatch.setattr(integrated, "PAIR_STATE_ELEMENTS", 3 * 5)
    split = IntegratedGradients(model, batch_size=3, **options).explain(X, ReferenceSet(reference, draws=5))
    np.testing.assert_allclose(split.feature_values(), whole.feature_values(), rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(split.steps, whole.steps)
    for key in ("pair_steps", "gradient_evaluations", "max_pair_completeness_error"):
        assert split.meta[key] == whole.meta[key]


def test_rows_are_reduced_in_order_or_one_by_one():
    rng = np.random.default_rng(0)
    values = rng.normal(size=(30, 4))
    for rows in (np.sort(rng.integers(0, 6, 30)), rng.integers(0, 6, 30)):
        expected, total = np.zeros((6, 4)), np.zeros((6, 4))
        np.add.at(expected, rows, values)
        integrated._by_row(np.add, total, rows, values)
        np.testing.assert_allclose(total, expected, rtol=1e-12)
        largest, steps = np.zeros(6, int), rng.integers(1, 9, 30)
        integrated._by_row(np.maximum, largest, rows, steps)
        np.testing.assert_array_equal(largest, [steps[rows == r].max(initial=0) for r in range(6)])


def test_population_differences_record_their_pairs(rng):
    model = tanh_network(rng, p=4)
    A, B = rng.normal(size=(6, 4)), rng.normal(size=(5, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResultWarning)
        result = IntegratedGradients(model, steps="auto", tolerance=1e-8, min_steps=2).compare_populations(A, B)
    assert sum(result.meta["pair_steps"].values()) == 30
    assert result.meta["max_pair_completeness_error"] == result.meta["max_pair_error"] <= 1e-8
