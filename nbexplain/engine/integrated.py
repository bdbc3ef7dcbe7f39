"""Integrated Gradients along the straight path from a documented baseline, with its
completeness check; expected gradients over a reference set; differential attributions between
two applicants and between two populations.

For a sample ``x``, a baseline ``b`` and the explained score ``f``::

    A_e(x; b) = (x_e - b_e) * int_0^1 df/dx_e(b + a (x - b)) da
              ~ (x_e - b_e) * sum_k w_k df/dx_e(b + a_k (x - b))

and completeness says ``sum_e A_e = f(x) - f(b)``: the error of a result is
``|sum_e A_e - (f(x) - f(b))|``, reported for every sample. The quadrature nodes ``a_k`` and
weights ``w_k`` (summing to 1) come from :mod:`._quadrature`. With ``steps="auto"`` every pair
starts at ``min_steps`` and doubles until its error is below ``tolerance`` or ``max_steps`` is
reached; the steps each sample needed and the error it reached are in the result.

Every (sample, baseline) pair contributes one path of ``steps`` points. The path points are
built and the weighted gradients summed inside one traced function around the one tape
(:meth:`GradientFunction.step <nbexplain.engine._gradients.GradientFunction.step>`), so only one
number per input element and pair leaves TensorFlow. Against a set of baselines the pair
attributions are averaged per sample (expected gradients); between two populations they are
averaged over pairs, all of them streamed in chunks (exact) or a uniform sample of them (with a
standard error).
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
        Quadrature points per path; ``"auto"``: from ``min_steps``, doubled per pair until the
        completeness error is at most ``tolerance`` (or ``max_steps``).
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
                np.add.at(sums[name], px, attributions[name])
            np.maximum.at(steps, px, used)

        self._integrate(plan, xs, bs, fx, fb, pairs, locate, consume, "integrated gradients")
        draws = 1 if resolved.per_sample else k
        values = {name: total / draws for name, total in sums.items()}
        baseline_score = fb if resolved.per_sample else np.full(n, fb.mean())
        error = np.abs(_totals(values) - (fx - baseline_score))
        meta = self._meta(plan, resolved.description, error, draws=draws)
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
        if isinstance(labels, str | bytes) or not isinstance(labels, tuple | list) or len(labels) != 2:
            raise NBExplainError(
                f"labels must be a pair of population names, e.g. ('denied', 'approved'); got {labels!r}."
            )
        if not (_whole(max_pairs) and max_pairs >= 1):
            raise NBExplainError(f"max_pairs must be a positive whole number of (a, b) pairs; got {max_pairs!r}.")
        if exact is not None and not isinstance(exact, bool | np.bool_):
            raise NBExplainError(f"exact must be True, False or None (exact when |A| |B| <= max_pairs); got {exact!r}.")
        if not (_whole(seed) and seed >= 0):
            raise NBExplainError(f"seed must be a whole number >= 0 (of the sampled pairs); got {seed!r}.")
        plan = self._plan(A)
        second = plan.prepare(B, f"population {labels[1]!r}")
        xs, bs = plan.prepared.arrays, second.arrays
        n_a, n_b = plan.prepared.n_samples, second.n_samples
        total_pairs = n_a * n_b
        exact = total_pairs <= max_pairs if exact is None else bool(exact)
        if exact:
            pairs, locate = total_pairs, (lambda p: (p // n_b, p % n_b))
        else:
            if max_pairs < 2:
                raise NBExplainError(f"max_pairs={max_pairs}: sampling needs at least 2 pairs for a standard error.")
            rng = np.random.default_rng(seed)
            sample_a, sample_b = rng.integers(0, n_a, max_pairs), rng.integers(0, n_b, max_pairs)
            pairs, locate = int(max_pairs), (lambda p: (sample_a[p], sample_b[p]))
        fx, fb = self._scores(plan, xs, bs)
        shapes = {name: xs[name].shape[1:] for name in plan.names}
        sums = {name: np.zeros(shapes[name]) for name in plan.names}
        squares = {name: np.zeros(shapes[name]) for name in plan.names}
        moments = np.zeros(3)  # sum over pairs of f(a) - f(b), its square, and the largest pair steps
        pair_errors = []

        def consume(px, pb, attributions, used, errors):
            for name in plan.names:
                sums[name] += attributions[name].sum(axis=0)
                squares[name] += np.square(attributions[name]).sum(axis=0)
            difference = fx[px] - fb[pb]
            moments[:2] += difference.sum(), np.square(difference).sum()
            moments[2] = max(moments[2], used.max())
            pair_errors.append(errors.max())

        self._integrate(plan, xs, bs, fx, fb, pairs, locate, consume, "population pairs")
        mean = {name: (sums[name] / pairs)[None] for name in plan.names}
        standard_error = None
        if not exact:
            standard_error = {
                name: np.sqrt(np.maximum(squares[name] / pairs - np.square(mean[name][0]), 0.0) / (pairs - 1))[None]
                for name in plan.names
            }
        pair_difference = moments[0] / pairs
        difference_se = np.sqrt(max(moments[1] / pairs - pair_difference**2, 0.0) / (pairs - 1)) if not exact else 0.0
        score_gap = fx.mean() - fb.mean()
        error = np.abs(_totals(mean) - score_gap)
        description = {
            "kind": "population",
            "statement": f"Every member of {labels[0]!r} against every member "
            f"of {labels[1]!r}" + ("" if exact else f" ({pairs:,} pairs drawn uniformly)"),
            "points": n_b,
            "baseline_score": float(fb.mean()),
        }
        meta = self._meta(plan, description, error, draws=n_b)
        meta.update(
            view="population difference",
            populations=list(labels),
            sizes=[n_a, n_b],
            exact=exact,
            pairs=pairs,
            seed=None if exact else seed,
            quadrature_error=float(abs(_totals(mean)[0] - pair_difference)),
            max_pair_error=float(max(pair_errors)),
            sampling_standard_error=float(difference_se),
            formula="D_e = 1/|P| sum_{(a,b) in P} A_e(a; b);  sum_e D_e = mean f(A) - mean f(B) over all pairs",
        )
        data = {name: xs[name].mean(axis=0, keepdims=True) for name in plan.names}
        return Attributions(
            values=mean,
            data=data,
            score=np.array([fx.mean()]),
            baseline_score=np.array([fb.mean()]),
            completeness_error=error,
            steps=np.array([int(moments[2])]),
            layout=self.layout(plan),
            meta=meta,
            sample_labels=(f"{labels[0]} - {labels[1]}",),
            standard_error=standard_error,
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

    def _integrate(self, plan, xs, bs, fx, fb, pairs, locate, consume, description):
        """Integrate every pair ``p`` (sample ``locate(p)[0]`` against baseline ``locate(p)[1]``),
        block by block; ``consume(px, pb, attributions, steps, errors)`` reduces each block."""
        from tqdm.auto import tqdm

        adaptive = self.steps == "auto"
        first = self.min_steps if adaptive else int(self.steps)
        rows = plan.rows_per_chunk(self.batch_size)
        block = max(1, rows // first)
        show = self.progress if self.progress is not None else pairs * first > 64 * rows
        with tqdm(total=pairs, desc=description, unit="pair", disable=not show, leave=False) as bar:
            for start in range(0, pairs, block):
                px, pb = locate(np.arange(start, min(start + block, pairs)))
                px, pb = np.asarray(px), np.asarray(pb)
                target = fx[px] - fb[pb]
                result = {name: np.empty((len(px), *xs[name].shape[1:])) for name in plan.names}
                used, errors = np.zeros(len(px), dtype=int), np.zeros(len(px))
                todo, steps = np.arange(len(px)), first
                while todo.size:
                    attributions = self._path_integral(plan, xs, bs, px[todo], pb[todo], steps, rows)
                    error = np.abs(_totals(attributions) - target[todo])
                    done = (
                        (error <= self.tolerance) | (steps >= self.max_steps) if adaptive else np.ones(todo.size, bool)
                    )
                    for name in plan.names:
                        result[name][todo[done]] = attributions[name][done]
                    used[todo[done]], errors[todo[done]] = steps, error[done]
                    todo, steps = todo[~done], min(steps * 2, self.max_steps)
                consume(px, pb, result, used, errors)
                bar.update(len(px))

    def _path_integral(self, plan, xs, bs, px, pb, steps, rows) -> dict:
        """``(x - b) * sum_k w_k grad f(b + a_k (x - b))`` for pairs (px, pb), ``{input: (P, *shape)}``,
        ``rows // steps`` pairs (``rows`` path points) per call of the gradient primitive, which
        builds the paths and sums the quadrature in the model's dtype; the factor ``x - b`` is
        exact (float64)."""
        nodes, weights = quadrature(self.rule, steps)
        out = {name: np.empty((len(px), *xs[name].shape[1:])) for name in plan.names}
        per_call = max(1, rows // steps)
        for start in range(0, len(px), per_call):
            i, j = px[start : start + per_call], pb[start : start + per_call]
            x = {name: xs[name][i] for name in plan.names}  # (p, *shape), in the model's dtype
            b = {name: bs[name][j] for name in plan.names}
            integrals = path_integral(plan.function, x, b, nodes, weights)  # {input: (p, elements)}
            _check_path(integrals, i, plan.prepared.sample_labels)
            for name in plan.names:
                delta = x[name].astype(np.float64) - b[name]  # exact: the attributions' factor
                out[name][start : start + len(i)] = integrals[name].reshape(delta.shape) * delta
        return out

    def _meta(self, plan, baseline, error, draws) -> dict:
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
            warnings=[w for w in [self._completeness_warning(error)] if w],
        )
        return meta

    def _completeness_warning(self, error: np.ndarray) -> str | None:
        """What to tell the user when some samples' completeness error exceeds the tolerance."""
        missed = int(np.sum(error > self.tolerance))
        if not missed:
            return None
        if self.steps == "auto":
            advice = (
                f"within max_steps={self.max_steps}; raise max_steps or the tolerance. A float32 model cannot "
                "go much below about 1e-7 times its score"
            )
        else:
            advice = (
                f"at {self.steps} {self.rule} steps; use more steps or steps='auto'. An error this large can "
                "also mean saturated units (inputs far outside the training range) or inputs that do not "
                "match the model's preprocessing"
            )
        return (
            f"{missed} of {error.size} samples have a completeness error above {self.tolerance:g} (largest "
            f"{error.max():.3g}) {advice}."
        )


def _check_path(integrals: dict, rows: np.ndarray, labels: tuple) -> None:
    """A NaN or inf gradient somewhere on the path from the baseline to a sample (the path leaves
    the model's float range, or passes a point where the model is not differentiable) is an error:
    the attribution would be NaN or inf, silently."""
    bad = np.zeros(len(rows), dtype=bool)
    for values in integrals.values():
        bad |= ~np.isfinite(values.reshape(len(rows), -1)).all(axis=1)
    if bad.any():
        samples = sorted(set(np.asarray(rows)[bad].tolist()))
        raise NonFiniteScoreError(
            f"The gradient is NaN or inf on the straight path from the baseline to sample(s) "
            f"{row_list(samples, labels)}: the points between them leave the model's float range (values or "
            "differences beyond about 3.4e38 for float32) or the model is not differentiable on the way (a square "
            "root or a log at 0). Rescale the inputs, choose a baseline nearer the samples, or use Sensitivity."
        )


def _whole(value: Any) -> bool:
    """An integer that is not a bool (``steps=True`` is not one step)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _totals(values: dict) -> np.ndarray:
    """Sum of all elements' attributions per row."""
    return sum(v.reshape(v.shape[0], -1).sum(axis=1) for v in values.values())
