"""Integrated Gradients along the straight path from a documented baseline, with its
completeness check; expected gradients over a reference set; differential attributions between
two applicants and between two populations.

For a sample ``x``, a baseline ``b`` and the explained score ``f``::

    A_e(x; b) = (x_e - b_e) * int_0^1 df/dx_e(b + a (x - b)) da
              ~ (x_e - b_e) * sum_k w_k df/dx_e(b + a_k (x - b))

and completeness says ``sum_e A_e = f(x) - f(b)``: the error of a result is
``|sum_e A_e - (f(x) - f(b))|``, reported for every sample. The quadrature nodes ``a_k`` and
weights ``w_k`` (summing to 1) come from a Riemann rule (left, right, middle, trapezoid) or
Gauss-Legendre. With ``steps="auto"`` every sample starts at ``min_steps`` and doubles until its
error is below ``tolerance`` or ``max_steps`` is reached; the steps each sample needed and the
error it reached are in the result.

Every (sample, baseline) pair contributes one path of ``steps`` points; all paths of a chunk go
through the one gradient primitive (:mod:`._gradients`) together, chunked so that memory stays
bounded. Against a set of baselines the pair attributions are averaged per sample (expected
gradients); between two populations they are averaged over pairs, all of them streamed in
chunks (exact) or a uniform sample of them (with a standard error).
"""
from __future__ import annotations

import functools
import warnings

import numpy as np

from .._version import __version__
from ..attributions import Attributions
from ..baselines import PairedBaseline, ResolvedBaseline, as_baseline
from ..errors import NBExplainError, OutputSelectionError, unknown_name
from . import _model
from ._gradients import OutputSelection, plan_gradients
from .sensitivity import input_kind, resolve_groups

RULES = ("gausslegendre", "riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid")
FORMULA = "A_e = (x_e - b_e) * sum_k w_k df/dx_e(b + a_k (x - b));  error = |sum_e A_e - (f(x) - f(b))|"


@functools.lru_cache(maxsize=64)
def quadrature(rule: str, steps: int):
    """Nodes ``a_k`` in [0, 1] and weights ``w_k`` (summing to 1) of ``rule`` with ``steps`` points
    (read-only arrays, computed once per rule and count)."""
    nodes, weights = _nodes_and_weights(rule, steps)
    for array in (nodes, weights):
        array.flags.writeable = False
    return nodes, weights


def _nodes_and_weights(rule: str, steps: int):
    if rule not in RULES:
        raise unknown_name("quadrature rule", rule, RULES)
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


class BaselineContext:
    """What a baseline may ask of the model while it is resolved: check data, score it, and
    (for the best-score search) differentiate it; every call goes through the gradient plan."""

    def __init__(self, plan, batch_size=None):
        self.plan = plan
        self.batch_size = batch_size
        self.feature_names = dict(plan.prepared.feature_names)
        self.dtype = plan.dtype

    def prepare(self, X, what="data"):
        return self.plan.prepare(X, what)

    def score(self, arrays) -> np.ndarray:
        return self.gradient(arrays)[0]

    def gradient(self, arrays):
        output, gradients = self.plan.evaluate(dict(arrays), self.batch_size, progress=False)
        return output.astype(np.float64), {k: v.astype(np.float64) for k, v in gradients.items()}


class IntegratedGradients:
    """Integrated Gradients of one output of a Keras model, against explicit baselines.

    Parameters
    ----------
    model : keras.Model
    output, target, labels, logit, time_step
        Which scalar to explain (see :class:`~nbexplain.engine.OutputSelection`). A sequence
        output needs ``time_step``: IG splits one number per sample.
    feature_names, groups
        As for :class:`~nbexplain.SensitivityExplainer`; a group's attribution is the sum of
        its columns'.
    steps : int or "auto"
        Quadrature points per path; ``"auto"``: from ``min_steps``, doubled per sample until the
        completeness error is at most ``tolerance`` (or ``max_steps``).
    rule : str
        ``"gausslegendre"`` (default), ``"riemann_left"``, ``"riemann_right"``,
        ``"riemann_middle"`` or ``"riemann_trapezoid"``.
    tolerance : float
        Completeness error (in units of the explained score) that ``"auto"`` aims for.
    batch_size : int, optional
        Path points per chunk through the gradient primitive (memory bound); automatic by default.
    progress : bool, optional
        A progress bar (default: for long runs).
    """

    method = "integrated gradients"

    def __init__(self, model, *, output=None, target=None, labels=None, logit=False, time_step=None,
                 feature_names=None, groups=None, steps=64, rule="gausslegendre", tolerance=1e-4,
                 min_steps=8, max_steps=1024, batch_size=None, progress=None):
        _model.check_model(model)
        self._options = dict(output=output, target=target, labels=labels, logit=logit, time_step=time_step,
                             feature_names=feature_names, groups=groups, steps=steps, rule=rule, tolerance=tolerance,
                             min_steps=min_steps, max_steps=max_steps, batch_size=batch_size, progress=progress)
        if rule not in RULES:
            raise unknown_name("quadrature rule", rule, RULES)
        if steps != "auto" and (not isinstance(steps, (int, np.integer)) or steps < 1):
            raise NBExplainError(f"steps must be a positive integer or 'auto'; got {steps!r}.")
        if not 1 <= int(min_steps) <= int(max_steps):
            raise NBExplainError(f"Need 1 <= min_steps <= max_steps; got {min_steps} and {max_steps}.")
        if not tolerance > 0:
            raise NBExplainError(f"tolerance must be positive; got {tolerance}.")
        self.model = model
        self.selection = OutputSelection(output, target, labels, logit, time_step)
        self.feature_names = feature_names
        self.groups = dict(groups or {})
        self.steps = steps
        self.rule = rule
        self.tolerance = float(tolerance)
        self.min_steps = int(min_steps)
        self.max_steps = int(max_steps)
        self.batch_size = batch_size
        self.progress = progress

    def with_options(self, **changes) -> "IntegratedGradients":
        """The same explainer with some parameters changed (e.g. ``steps=128`` for a stability check)."""
        return IntegratedGradients(self.model, **{**self._options, **changes})

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
        baseline_output = fb if resolved.per_sample else np.full(n, fb.mean())
        error = np.abs(_totals(values) - (fx - baseline_output))
        meta = self._meta(plan, resolved.description, n, error, draws=draws)
        self._warn_if_short(meta, error)
        return Attributions(values, xs, fx, baseline_output, error, steps, self._layout(plan), meta,
                            plan.prepared.sample_labels)

    def difference(self, X, Y) -> Attributions:
        """Applicant against applicant: row ``i`` of ``X`` explained against row ``i`` of ``Y``
        (``f(x^i) - f(y^i)`` split among the inputs)."""
        return self.explain(X, PairedBaseline(Y, statement="Each applicant of X against the same row of Y."))

    def compare_populations(self, A, B, max_pairs: int = 20_000, exact: bool | None = None, seed: int = 0,
                            labels=("A", "B")) -> Attributions:
        """The average attribution over pairs (a in A, b in B) of IG(a; baseline b).

        It sums to the mean over pairs of ``f(a) - f(b)``, which over ALL pairs is exactly
        ``mean f(A) - mean f(B)``. ``exact=True`` (default when ``|A| |B| <= max_pairs``) streams
        every pair in chunks; otherwise ``max_pairs`` pairs are drawn uniformly (seeded) and each
        feature's mean comes with its standard error. The result has one sample, ``"A - B"``.
        """
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
            standard_error = {name: np.sqrt(np.maximum(squares[name] / pairs - np.square(mean[name][0]), 0.0)
                                            / (pairs - 1))[None] for name in plan.names}
        pair_difference = moments[0] / pairs
        difference_se = np.sqrt(max(moments[1] / pairs - pair_difference ** 2, 0.0) / (pairs - 1)) if not exact else 0.0
        score_gap = fx.mean() - fb.mean()
        error = np.abs(_totals(mean) - score_gap)
        description = {"kind": "population", "statement": f"Every member of {labels[0]!r} against every member "
                       f"of {labels[1]!r}" + ("" if exact else f" ({pairs:,} pairs drawn uniformly)"),
                       "points": n_b, "baseline_score": float(fb.mean())}
        meta = self._meta(plan, description, n_a, error, draws=n_b)
        meta.update(view="population difference", populations=list(labels), sizes=[n_a, n_b], exact=exact,
                    pairs=pairs, seed=None if exact else seed,
                    quadrature_error=float(abs(_totals(mean)[0] - pair_difference)),
                    max_pair_error=float(max(pair_errors)),
                    sampling_standard_error=float(difference_se),
                    formula="D_e = 1/|P| sum_{(a,b) in P} A_e(a; b);  sum_e D_e = mean f(A) - mean f(B) over all pairs")
        data = {name: xs[name].mean(axis=0, keepdims=True) for name in plan.names}
        return Attributions(mean, data, [fx.mean()], [fb.mean()], error, [int(moments[2])], self._layout(plan), meta,
                            (f"{labels[0]} - {labels[1]}",), standard_error)

    def resolve_baseline(self, baseline, X) -> ResolvedBaseline:
        """Resolve ``baseline`` once, for inputs like ``X``; pass the result to later
        :meth:`explain` calls (a batch run does, so every chunk shares one baseline)."""
        return self._resolve(self._plan(X), baseline)

    def score(self, X) -> np.ndarray:
        """The explained score ``f(x)`` of every sample."""
        plan = self._plan(X)
        return self._scores(plan, plan.prepared.arrays)[0]

    # -------------------------------------------------------------- internals
    def _plan(self, X):
        plan = plan_gradients(self.model, X, self.selection, self.feature_names)
        if plan.resolved.many_to_many:
            raise OutputSelectionError(
                f"The output ({plan.resolved.description}) is a sequence: Integrated Gradients splits ONE score "
                "per sample. Choose the step to explain with time_step=... (for example -1, the last step).")
        return plan

    def _resolve(self, plan, baseline) -> ResolvedBaseline:
        if isinstance(baseline, ResolvedBaseline):
            for name in plan.names:
                if name not in baseline.arrays or baseline.arrays[name].shape[1:] != plan.prepared.arrays[name].shape[1:]:
                    raise NBExplainError(f"The resolved baseline does not fit input {name!r} of this data; resolve "
                                         "it again for this model and data.")
            return baseline
        return as_baseline(baseline).resolve(BaselineContext(plan, self.batch_size))

    def _scores(self, plan, *blocks) -> list:
        """The explained score of every row of each block ``{input: (n_i, *shape)}``, in one pass."""
        joined = {name: np.concatenate([block[name] for block in blocks]) for name in plan.names}
        scores = plan.evaluate(joined, self.batch_size, progress=False)[0].astype(np.float64)
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
                    done = (error <= self.tolerance) | (steps >= self.max_steps) if adaptive else np.ones(todo.size, bool)
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
            i, j = px[start:start + per_call], pb[start:start + per_call]
            x = {name: xs[name][i] for name in plan.names}        # (p, *shape), in the model's dtype
            b = {name: bs[name][j] for name in plan.names}
            integrals = plan.function.path_integral(x, b, nodes, weights)  # {input: (p, elements)}
            for name in plan.names:
                delta = x[name].astype(np.float64) - b[name]     # exact: the attributions' factor
                out[name][start:start + len(i)] = integrals[name].reshape(delta.shape) * delta
        return out

    def _layout(self, plan):
        from ..sensitivities import InputLayout

        groups = resolve_groups(self.groups, plan.prepared)
        return tuple(InputLayout(name, input_kind(plan.prepared.arrays[name].shape[1:]),
                                 plan.prepared.arrays[name].shape[1:], plan.prepared.feature_names[name],
                                 tuple(groups[name])) for name in plan.names)

    def _meta(self, plan, baseline, n, error, draws) -> dict:
        return {
            "method": self.method, "formula": FORMULA, "output": plan.resolved.description,
            "output_index": plan.resolved.index, "target": plan.resolved.unit, "logit": plan.resolved.logit,
            "time_step": plan.resolved.time_step, "rule": self.rule, "steps": self.steps,
            "steps_range": [self.min_steps, self.max_steps] if self.steps == "auto" else None,
            "tolerance": self.tolerance, "tolerance_met": bool(np.all(error <= self.tolerance)),
            "max_completeness_error": float(error.max()), "baseline": dict(baseline),
            "baselines_per_sample": int(draws), "n_samples": int(n),
            "parameters": {"groups": {k: [v] if isinstance(v, str) else list(v) for k, v in self.groups.items()},
                           "batch_size": self.batch_size},
            "model": type(self.model).__name__, "model_fingerprint": _model.fingerprint(self.model),
            "compute_dtype": plan.dtype, "version": __version__, "notes": list(plan.prepared.notes),
        }

    def _warn_if_short(self, meta, error):
        if self.steps == "auto" and not meta["tolerance_met"]:
            missed = int(np.sum(error > self.tolerance))
            warnings.warn(f"{missed} of {error.size} samples did not reach completeness error <= {self.tolerance:g} "
                          f"within max_steps={self.max_steps} (largest error {error.max():.3g}); raise max_steps or the "
                          f"tolerance. A float32 model cannot go much below about 1e-7 times its score.", stacklevel=3)


def _totals(values: dict) -> np.ndarray:
    """Sum of all elements' attributions per row."""
    return sum(v.reshape(v.shape[0], -1).sum(axis=1) for v in values.values())
