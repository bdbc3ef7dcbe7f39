"""Integrated Gradients along the straight path from a documented baseline, with its
completeness check; expected gradients over a reference set; differential attributions between
two applicants and between two populations.

For a sample ``x``, a baseline ``b`` and the explained score ``f``::

    A_e(x; b) = (x_e - b_e) * int_0^1 df/dx_e(b + a (x - b)) da
              ~ (x_e - b_e) * sum_k w_k df/dx_e(b + a_k (x - b))

and completeness says ``sum_e A_e = f(x) - f(b)``: the error of a result is
``|sum_e A_e - (f(x) - f(b))|``, reported for every sample. The quadrature nodes ``a_k`` and
weights ``w_k`` (summing to 1) come from :mod:`._quadrature`.

Every (sample, baseline) pair contributes one path of ``steps`` points. The path points are
built and the weighted gradients summed inside one traced function around the one tape
(:meth:`GradientFunction.step <nbexplain.engine._gradients.GradientFunction.step>`), so only one
number per input element and pair leaves TensorFlow. Against a set of baselines the pair
attributions are averaged per sample (expected gradients); between two populations they are
averaged over pairs, all of them streamed in chunks (exact) or a uniform sample of them (with a
standard error).

With ``steps="auto"`` the number of points is chosen per pair: every pair is integrated with
``min_steps`` points, then only the pairs whose own completeness error
``|sum_e A_e(x; b) - (f(x) - f(b))|`` is above ``tolerance`` go on with twice as many, and so on
up to ``max_steps`` (the error is computed exactly, pair by pair, never estimated). The pairs of a
count are batched across samples, ``rows // steps`` pairs per call of the gradient primitive. The
result's ``steps`` is the most any pair of a sample took; ``meta["pair_steps"]`` counts the pairs
that stopped at each count, ``meta["max_pair_completeness_error"]`` is the largest error of a
single pair, ``meta["pairs_above_tolerance"]`` the pairs that stopped at ``max_steps`` above the
tolerance (a warning names their samples) and ``meta["gradient_evaluations"]`` the path points
evaluated.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._tensorflow import tensorflow_module
from ..errors import NBExplainError, NonFiniteScoreError, OutputSelectionError, row_list, unknown_name
from ..results import Attributions
from ._base import GradientExplainer, warn_all
from ._gradients import GradientFunction
from ._plan import GradientPlan
from ._populations import PairSums, PopulationPairs, check_labels, population_baseline, population_meta
from ._quadrature import RULES, quadrature
from .baselines import BaselineContext, PairedBaseline, ResolvedBaseline, as_baseline

#: The most quadrature points per path: Gauss-Legendre nodes cost O(steps^3) to compute, and no
#: float32 model gains anything from more points of either kind.
MAX_STEPS = {rule: 4096 if rule == "gausslegendre" else 65536 for rule in RULES}

FORMULA = "A_e = (x_e - b_e) * sum_k w_k df/dx_e(b + a_k (x - b));  error = |sum_e A_e - (f(x) - f(b))|"


def _path_quadrature(function: GradientFunction) -> Any:
    """The traced ``(x, b, nodes, weights) -> {input: (p, elements)}``:
    ``sum_k w_k grad f(b_i + a_k (x_i - b_i))`` for every row ``i``. The ``p * m`` path points are
    built, differentiated by the one tape and summed with the weights inside one graph (in the
    model's dtype)."""
    tf = tensorflow_module()

    def integrate(x, b, nodes, weights):
        m = tf.shape(nodes)[0]
        path = {}
        for name in function.names:
            shape = list(x[name].shape[1:])
            a = tf.reshape(nodes, [1, -1] + [1] * len(shape))  # (1, m, 1, ...)
            points = b[name][:, None] + a * (x[name] - b[name])[:, None]  # (p, m, *shape)
            path[name] = tf.reshape(points, [-1, *shape])
        _, grads = function.step(path)
        return {
            name: tf.reduce_sum(
                tf.reshape(grads[name], [-1, m, int(np.prod(x[name].shape[1:]))]) * weights[None, :, None], axis=1
            )
            for name in function.names
        }

    vector = tf.TensorSpec((None,), function.dtype)
    return tf.function(
        integrate, input_signature=[function.signature, function.signature, vector, vector], autograph=False
    )


def path_integral(function: GradientFunction, x: dict, b: dict, nodes: np.ndarray, weights: np.ndarray) -> dict:
    """Quadrature of the gradient along the straight paths from ``b`` to ``x`` (same rows):
    ``{input: (p, elements)}``, ``sum_k weights_k grad f(b + nodes_k (x - b))``."""
    tf = tensorflow_module()
    traced = function.derived("integrated gradients path", _path_quadrature)
    dtype = function.dtype.as_numpy_dtype
    result = traced(
        {k: tf.convert_to_tensor(v) for k, v in x.items()},
        {k: tf.convert_to_tensor(v) for k, v in b.items()},
        tf.convert_to_tensor(np.asarray(nodes, dtype=dtype)),
        tf.convert_to_tensor(np.asarray(weights, dtype=dtype)),
    )
    return {k: v.numpy() for k, v in result.items()}


class IntegratedGradients(GradientExplainer):
    """Integrated Gradients of one score of a Keras model, against explicit baselines.

    Takes the shared keywords of :class:`~nbexplain.engine.GradientExplainer` (a sequence
    output needs ``time_step``: IG splits one number per sample) and:

    Parameters
    ----------
    steps : int or "auto"
        Quadrature points per path; ``"auto"``: from ``min_steps``, doubled per (sample,
        baseline) pair until that pair's completeness error is at most ``tolerance`` (or
        ``max_steps``); the result's meta records the steps the pairs stopped at
        (``pair_steps``) and the largest error of one pair (``max_pair_completeness_error``).
    rule : str
        ``"gausslegendre"`` (default), ``"riemann_left"``, ``"riemann_right"``,
        ``"riemann_middle"`` or ``"riemann_trapezoid"``.
    tolerance : float
        Completeness error (in units of the explained score) that ``"auto"`` aims for.
    min_steps, max_steps : int
        The range ``"auto"`` doubles within.
    """

    method = "integrated gradients"

    def __init__(
        self,
        model: Any,
        *,
        steps: int | str = 64,
        rule: str = "gausslegendre",
        tolerance: float = 1e-4,
        min_steps: int = 8,
        max_steps: int = 1024,
        **shared: Any,
    ) -> None:
        super().__init__(model, **shared)
        self.steps = steps
        self.rule = rule
        self.tolerance = tolerance
        self.min_steps = min_steps
        self.max_steps = max_steps

    def check_params(self) -> None:
        """Refuse parameters that cannot be used, naming the accepted values."""
        if not isinstance(self.rule, str) or self.rule not in RULES:
            raise unknown_name("quadrature rule", self.rule, RULES)
        limit = MAX_STEPS[self.rule]
        if self.steps != "auto" and not (_whole(self.steps) and 1 <= int(self.steps) <= limit):
            raise NBExplainError(
                f"steps must be a positive whole number of quadrature points or 'auto' (at most {limit:,} for rule "
                f"{self.rule!r}); got {self.steps!r}."
            )
        if not (_whole(self.min_steps) and _whole(self.max_steps) and 1 <= self.min_steps <= self.max_steps <= limit):
            raise NBExplainError(
                f"Need whole numbers 1 <= min_steps <= max_steps <= {limit:,} (rule {self.rule!r}); got "
                f"{self.min_steps!r} and {self.max_steps!r}."
            )
        if (
            isinstance(self.tolerance, (bool, np.bool_))
            or not isinstance(self.tolerance, (int, float, np.number))
            or not np.isfinite(self.tolerance)
            or not self.tolerance > 0
        ):
            raise NBExplainError(
                f"tolerance must be a positive number (a completeness error in units of the score, "
                f"e.g. 1e-6); got {self.tolerance!r}."
            )
        if self.embeddings:
            raise NBExplainError(
                "Integrated Gradients cannot interpolate between categorical ids (there is no "
                "straight path from one id to another): drop embeddings=..., explain the ids with "
                "Sensitivity, or one-hot encode the category and use groups=...."
            )

    # ----------------------------------------------------------------- public
    def explain(self, X, baseline) -> Attributions:
        """Attributions of every sample of ``X`` against ``baseline``.

        ``baseline``: a documented :mod:`~nbexplain.baselines` object, or one point (array,
        DataFrame row, dict by input) taken as a :class:`~nbexplain.baselines.UserPoint`. A
        set of baselines (``ReferenceSet``, a ``CutoffCohort``) averages the attributions over
        its points.
        """
        plan = self._plan(X)
        resolved = self._resolve(plan, baseline)
        xs, bs = plan.prepared.arrays, resolved.arrays
        n, k = plan.prepared.n_samples, resolved.size
        if resolved.per_sample and k != n:
            raise NBExplainError(f"A paired baseline needs one point per sample: {k} points for {n} samples.")
        pairs = n if resolved.per_sample else n * k
        locate = (lambda p: (p, p)) if resolved.per_sample else (lambda p: (p // k, p % k))
        fx, fb = self._scores(plan, xs, bs)
        sums = {name: np.zeros(xs[name].shape, dtype=np.float64) for name in plan.names}
        steps = np.zeros(n, dtype=int)

        def consume(px, pb, attributions, used, _errors):
            for name in plan.names:
                _by_row(np.add, sums[name], px, attributions[name])
            _by_row(np.maximum, steps, px, used)

        record = self._integrate(plan, xs, bs, fx, fb, pairs, locate, consume, "integrated gradients")
        draws = 1 if resolved.per_sample else k
        values = {name: total / draws for name, total in sums.items()}
        baseline_score = fb if resolved.per_sample else np.full(n, fb.mean())
        error = np.abs(_totals(values) - (fx - baseline_score))
        meta = self._meta(plan, resolved.description, error, draws, record, plan.prepared.sample_labels)
        warn_all(meta)
        return Attributions(
            values=values,
            data=xs,
            score=fx,
            baseline_score=baseline_score,
            completeness_error=error,
            steps=steps,
            layout=self.layout(plan),
            meta=meta,
            sample_labels=plan.prepared.sample_labels,
        )

    def difference(self, X, Y) -> Attributions:
        """Applicant against applicant: row ``i`` of ``X`` explained against row ``i`` of ``Y``
        (``f(x^i) - f(y^i)`` split among the inputs)."""
        return self.explain(X, PairedBaseline(Y, statement="Each applicant of X against the same row of Y."))

    def compare_populations(
        self, A, B, max_pairs: int = 20_000, exact: bool | None = None, seed: int = 0, labels=("A", "B")
    ) -> Attributions:
        """The average attribution over pairs (a in A, b in B) of IG(a; baseline b).

        It sums to the mean over pairs of ``f(a) - f(b)``, which over ALL pairs is exactly
        ``mean f(A) - mean f(B)``. ``exact=True`` (default when ``|A| |B| <= max_pairs``) streams
        every pair in chunks; otherwise ``max_pairs`` pairs are drawn uniformly (seeded) and each
        feature's mean comes with its standard error. The result has one sample, ``"A - B"``.
        """
        labels = check_labels(labels)
        plan = self._plan(A)
        second = plan.prepare(B, f"population {labels[1]!r}")
        xs, bs = plan.prepared.arrays, second.arrays
        pairs = PopulationPairs(plan.prepared.n_samples, second.n_samples, max_pairs, exact, seed)
        fx, fb = self._scores(plan, xs, bs)
        sums = PairSums({name: xs[name].shape[1:] for name in plan.names})
        most_steps = [0]

        def consume(px, pb, attributions, used, errors):
            sums.add({name: attributions[name] for name in plan.names}, fx[px] - fb[pb])
            most_steps[0] = max(most_steps[0], int(used.max()))

        record = self._integrate(plan, xs, bs, fx, fb, pairs.count, pairs.locate, consume, "population pairs")
        mean = sums.mean(pairs)
        error = np.abs(_totals(mean) - (fx.mean() - fb.mean()))
        description = population_baseline(labels, pairs, fb.mean())
        meta = self._meta(plan, description, error, pairs.n_b, record, (f"{labels[0]} - {labels[1]}",))
        meta.update(
            population_meta(
                labels,
                pairs,
                sums,
                _totals(mean)[0],
                max_pair_error=record.max_error,
                formula="D_e = 1/|P| sum_{(a,b) in P} A_e(a; b);  sum_e D_e = mean f(A) - mean f(B) over all pairs",
            )
        )
        return Attributions(
            values=mean,
            data={name: xs[name].mean(axis=0, keepdims=True) for name in plan.names},
            score=np.array([fx.mean()]),
            baseline_score=np.array([fb.mean()]),
            completeness_error=error,
            steps=np.array([most_steps[0]]),
            layout=self.layout(plan),
            meta=meta,
            sample_labels=(f"{labels[0]} - {labels[1]}",),
            standard_error=sums.standard_error(pairs),
        )

    def resolve_baseline(self, baseline, X) -> ResolvedBaseline:
        """Resolve ``baseline`` once, for inputs like ``X``; pass the result to later
        :meth:`explain` calls (a batch run does, so every chunk shares one baseline)."""
        return self._resolve(self._plan(X), baseline)

    # -------------------------------------------------------------- internals
    def _plan(self, X) -> GradientPlan:
        self.check_params()
        plan = self.plan(X)
        if plan.resolved.many_to_many:
            raise OutputSelectionError(
                f"The output ({plan.resolved.description}) is a sequence: Integrated Gradients splits ONE score "
                "per sample. Choose the step to explain with time_step=... (for example -1, the last step)."
            )
        return plan

    def _resolve(self, plan, baseline) -> ResolvedBaseline:
        if isinstance(baseline, ResolvedBaseline):
            for name in plan.names:
                if (
                    name not in baseline.arrays
                    or baseline.arrays[name].shape[1:] != plan.prepared.arrays[name].shape[1:]
                ):
                    raise NBExplainError(
                        f"The resolved baseline does not fit input {name!r} of this data; resolve "
                        "it again for this model and data."
                    )
            return baseline
        return as_baseline(baseline).resolve(BaselineContext(plan, self.batch_size))

    def _scores(self, plan, *blocks) -> list:
        """The explained score of every row of each block ``{input: (n_i, *shape)}``, in one pass."""
        joined = {name: np.concatenate([block[name] for block in blocks]) for name in plan.names}
        scores = plan.scores(joined, self.batch_size, what="the explained rows and their baselines")
        return np.split(scores, np.cumsum([len(next(iter(block.values()))) for block in blocks])[:-1])

    def _integrate(self, plan, xs, bs, fx, fb, pairs, locate, consume, description) -> _PairRecord:
        """Integrate every pair ``p`` (sample ``locate(p)[0]`` against baseline ``locate(p)[1]``),
        block by block; ``consume(px, pb, attributions, steps, errors)`` reduces each block.
        Returns what the pairs reached (steps, errors, gradient evaluations)."""
        from tqdm.auto import tqdm

        counts = _doubling(self.min_steps, self.max_steps) if self.steps == "auto" else (int(self.steps),)
        rows = plan.rows_per_chunk(self.batch_size)
        paths = _PairPaths(plan, xs, bs)
        block = _equal_blocks(pairs, max(rows // counts[0], PAIR_STATE_ELEMENTS // paths.width))
        record = _PairRecord(self.tolerance)
        show = self.progress if self.progress is not None else pairs * counts[0] > 64 * rows
        with tqdm(total=pairs, desc=description, unit="pair", disable=not show, leave=False) as bar:
            for start in range(0, pairs, block):
                px, pb = locate(np.arange(start, min(start + block, pairs)))
                px, pb = np.asarray(px), np.asarray(pb)
                values, used, errors = self._refine(paths, px, pb, fx[px] - fb[pb], counts, rows)
                consume(px, pb, paths.by_input(values), used, errors)
                record.add(px, used, errors)
                bar.update(len(px))
        record.gradient_evaluations = paths.evaluations
        return record

    def _refine(self, paths: _PairPaths, px, pb, target, counts: tuple, rows: int) -> tuple:
        """The pairs ``(px, pb)`` at ``counts[0]`` points, then the pairs whose completeness error
        ``|sum_e A_e - (f(x) - f(b))|`` is above ``tolerance`` (and only those) at each next count,
        the last count for all that remain. ``rows // steps`` pairs per call of the gradient
        primitive, from however many samples. Returns the attributions ``(P, elements)``
        (float64), and the steps and the error of every pair."""
        values = np.empty((len(px), paths.width))
        used, errors = np.zeros(len(px), dtype=int), np.zeros(len(px))
        todo = np.arange(len(px))
        for level, steps in enumerate(counts):
            nodes, weights = quadrature(self.rule, steps)
            per_call = max(1, rows // steps)
            unfinished = []
            for start in range(0, len(todo), per_call):
                pairs = todo[start : start + per_call]
                attributions = paths.attributions(px[pairs], pb[pairs], nodes, weights)
                error = np.abs(attributions.sum(axis=1) - target[pairs])
                done = error <= self.tolerance if level < len(counts) - 1 else np.ones(len(pairs), bool)
                finished = pairs[done]
                values[finished], used[finished], errors[finished] = attributions[done], steps, error[done]
                unfinished.append(pairs[~done])
            todo = np.concatenate(unfinished)
            if not todo.size:
                break
        return values, used, errors

    def _meta(self, plan, baseline, error, draws, record: _PairRecord, labels: tuple | None) -> dict:
        meta = self.meta(
            plan,
            formula=FORMULA,
            rule=self.rule,
            steps=self.steps,
            steps_range=[self.min_steps, self.max_steps] if self.steps == "auto" else None,
            tolerance=self.tolerance,
            tolerance_met=bool(np.all(error <= self.tolerance)),
            max_completeness_error=float(error.max()),
            baseline=dict(baseline),
            baselines_per_sample=int(draws),
            pair_steps=record.steps_counts(),
            max_pair_completeness_error=record.max_error,
            pairs_above_tolerance=record.missed,
            gradient_evaluations=record.gradient_evaluations,
            warnings=[],
        )
        meta["warnings"] = [
            w for w in (self._completeness_warning(error, labels), self._pair_warning(record, draws, plan)) if w
        ]
        return meta

    def _completeness_warning(self, error: np.ndarray, labels: tuple | None) -> str | None:
        """What to tell the user when some samples' completeness error exceeds the tolerance."""
        missed = np.flatnonzero(error > self.tolerance)
        if not missed.size:
            return None
        if self.steps == "auto":
            advice = (
                f"they did not reach completeness error {self.tolerance:g} within max_steps={self.max_steps}; "
                "raise max_steps or the tolerance. A float32 model cannot go much below about 1e-7 times its score"
            )
        else:
            advice = (
                f"at {self.steps} {self.rule} steps; use more steps or steps='auto'. An error this large can "
                "also mean saturated units (inputs far outside the training range) or inputs that do not "
                "match the model's preprocessing"
            )
        return (
            f"{missed.size} of {error.size} samples have a completeness error above {self.tolerance:g} (largest "
            f"{error.max():.3g}; rows {row_list(missed, labels)}): {advice}."
        )

    def _pair_warning(self, record: _PairRecord, draws: int, plan) -> str | None:
        """With several baselines per sample, the (sample, baseline) pairs that stopped at
        ``max_steps`` above the tolerance, by sample (their average may still meet it)."""
        if self.steps != "auto" or draws < 2 or not record.missed:
            return None
        return (
            f"{record.missed:,} of {record.pairs:,} (sample, baseline) pairs stopped at max_steps={self.max_steps} "
            f"with a completeness error above {self.tolerance:g} (largest {record.max_error:.3g}), at samples "
            f"{row_list(record.missed_samples(), plan.prepared.sample_labels)}: raise max_steps or the tolerance "
            "(a float32 model cannot go much below about 1e-7 times its score)."
        )


#: Numbers (float64 attributions of the pairs of one block) held at once.
PAIR_STATE_ELEMENTS = 2**23


class _PairPaths:
    """The straight paths of (sample ``i``, baseline ``j``) pairs, flat over the inputs' elements:
    attributions ``(x_i - b_j) * sum_k w_k grad f(b_j + a_k (x_i - b_j))`` through the one gradient
    primitive (:func:`path_integral`), and the gradient evaluations they took."""

    def __init__(self, plan: GradientPlan, xs: dict, bs: dict):
        self.plan, self.xs, self.bs = plan, xs, bs
        self.names = plan.names
        self.shapes = {name: xs[name].shape[1:] for name in self.names}
        self.sizes = [int(np.prod(self.shapes[name])) for name in self.names]
        self.width = sum(self.sizes)
        self.evaluations = 0

    def attributions(self, i: np.ndarray, j: np.ndarray, nodes: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """``(P, elements)`` float64, one call of the gradient primitive: the quadrature in the
        model's dtype, the factor ``x - b`` exact (float64). NaN or inf on a path is an error
        naming its samples."""
        x = {name: self.xs[name][i] for name in self.names}
        b = {name: self.bs[name][j] for name in self.names}
        integral = self._flat(path_integral(self.plan.function, x, b, nodes, weights))
        self.evaluations += len(i) * len(nodes)
        _check_path(integral, i, self.plan.prepared.sample_labels)
        x_flat, b_flat = self._flat(x), self._flat(b)
        return integral * (x_flat.astype(np.float64) - b_flat)

    def _flat(self, arrays: dict) -> np.ndarray:
        if len(self.names) == 1:
            return arrays[self.names[0]].reshape(len(arrays[self.names[0]]), -1)
        return np.concatenate([arrays[name].reshape(len(arrays[name]), -1) for name in self.names], axis=1)

    def by_input(self, flat: np.ndarray) -> dict:
        """``{input: (P, *shape)}`` from ``(P, elements)``."""
        parts = np.split(flat, np.cumsum(self.sizes)[:-1], axis=1)
        return {name: part.reshape(len(flat), *self.shapes[name]) for name, part in zip(self.names, parts)}


class _PairRecord:
    """What the (sample, baseline) pairs of a run reached: steps, largest completeness error, the
    samples of the pairs above the tolerance, and the gradient evaluations spent."""

    def __init__(self, tolerance: float):
        self.tolerance = tolerance
        self.pairs = 0
        self.missed = 0
        self.max_error = 0.0
        self.gradient_evaluations = 0
        self._steps: dict = {}
        self._missed_samples: list = []

    def add(self, samples: np.ndarray, steps: np.ndarray, errors: np.ndarray) -> None:
        self.pairs += len(steps)
        for value, count in zip(*np.unique(steps, return_counts=True)):
            self._steps[int(value)] = self._steps.get(int(value), 0) + int(count)
        above = errors > self.tolerance
        self.missed += int(above.sum())
        self.max_error = max(self.max_error, float(errors.max(initial=0.0)))
        if above.any():
            self._missed_samples.append(np.unique(samples[above]))

    def steps_counts(self) -> dict:
        """``{"8": pairs that stopped at 8 points, ...}`` in order of steps (JSON keys)."""
        return {str(steps): count for steps, count in sorted(self._steps.items())}

    def missed_samples(self) -> np.ndarray:
        return np.unique(np.concatenate(self._missed_samples)) if self._missed_samples else np.zeros(0, int)


def _check_path(integral: np.ndarray, rows: np.ndarray, labels: tuple) -> None:
    """A NaN or inf gradient somewhere on the path from the baseline to a sample (the path leaves
    the model's float range, or passes a point where the model is not differentiable) is an error:
    the attribution would be NaN or inf, silently."""
    bad = ~np.isfinite(integral.reshape(len(rows), -1)).all(axis=1)
    if bad.any():
        samples = sorted(set(np.asarray(rows)[bad].tolist()))
        raise NonFiniteScoreError(
            f"The gradient is NaN or inf on the straight path from the baseline to sample(s) "
            f"{row_list(samples, labels)}: the points between them leave the model's float range (values or "
            "differences beyond about 3.4e38 for float32) or the model is not differentiable on the way (a square "
            "root or a log at 0). Rescale the inputs, choose a baseline nearer the samples, or use Sensitivity."
        )


def _by_row(ufunc: np.ufunc, total: np.ndarray, rows: np.ndarray, values: np.ndarray) -> None:
    """``total[rows[p]] = ufunc(total[rows[p]], values[p])`` for every ``p``: runs of equal rows
    reduced at once when the rows are in order, else unbuffered (``ufunc.at``)."""
    if rows.size and np.all(rows[1:] >= rows[:-1]):
        starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
        total[rows[starts]] = ufunc(total[rows[starts]], ufunc.reduceat(values, starts, axis=0))
    else:
        ufunc.at(total, rows, values)


def _doubling(first: int, last: int) -> tuple[int, ...]:
    """``first, 2 first, 4 first, ...`` up to ``last`` (the last count is ``last``)."""
    counts = [int(first)]
    while counts[-1] < last:
        counts.append(min(2 * counts[-1], int(last)))
    return tuple(counts)


def _equal_blocks(total: int, most: int) -> int:
    """The size of the fewest equal blocks of at most ``most`` that hold ``total`` items."""
    blocks = max(1, -(-total // max(1, most)))
    return max(1, -(-total // blocks))


def _whole(value: Any) -> bool:
    """An integer that is not a bool (``steps=True`` is not one step)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _totals(values: dict) -> np.ndarray:
    """Sum of all elements' attributions per row."""
    return sum(v.reshape(v.shape[0], -1).sum(axis=1) for v in values.values())
