"""Exact attributions of the two-layer additive risk model (:mod:`nbexplain.model.additive`),
and the pair of explainers the dashboard uses (:mod:`nbexplain.engine.protocol`).

The model's output logit is a sum of subscale terms over disjoint features::

    L(x) = c_0 + sum_s g_s(x),   g_s(x) = v_s sigma(c_s + sum_{j in s} u_j(x_j)),

where ``u_j(x_j) = sum_{c of j} w_c b_c(x_j)`` are feature j's points: step functions (depth-1
trees) under a differentiable head. From a baseline ``b`` to ``x``:

* **logit** (``logit=True``): feature j of subscale s gets the Shapley value of the jumps of the
  subscale's features, ``phi_j = sum_{S in F_s \\ j} |S|! (n_s - |S| - 1)! / n_s!
  [g_s(x_{S+j}, b_rest) - g_s(x_S, b_rest)]`` -- exact over the ``2^{n_s}`` coalitions of the
  subscale (at most 4 features, 16 coalitions, for HELOC). Because ``L`` is a sum of subscale
  terms with disjoint features, this IS the Shapley value of ``L`` over all features.
* **P(Bad)** (default): ``A_j = phi_j (sigma(L(x)) - sigma(L(b))) / (L(x) - L(b))``. This is
  Integrated Gradients of the head ``sigma(c_0 + sum_s g_s)`` along the straight path from
  ``g(b)`` to ``g(x)``: the head's gradient is ``sigma'(L)`` for every subscale, so the integral
  is the secant slope of sigma -- in closed form, no quadrature.

Both are exact and complete (``sum_j A_j = f(x) - f(b)`` to rounding), antisymmetric
(``A(x; b) = -A(b; x)``) and give 0 to a feature equal in ``x`` and ``b``.

**Baselines for this model.** The documented baselines (:mod:`nbexplain.engine.baselines`) are
built in the model's own input space, its step columns, because raw special values (-7, -8, -9)
averaged would mean nothing:

* ``AverageInput(X)``: every step column at its mean over ``X``. The subscale logits are linear
  in the step columns, so this point gives every subscale logit its average over ``X``: the
  average applicant as the model sees it (not a raw row).
* ``MedianInput(X)``: a typical applicant: every raw feature at its lower median over ``X`` (an
  observed value, so a special value stays one), then its step columns.
* ``ReferenceSet(X)``, ``CutoffCohort(X, ...)``, ``BestScore(X)``, ``UserPoint(row)``,
  ``PairedBaseline(rows)``: real raw rows (``BestScore(within="ranges")`` needs a gradient and
  is refused: the model is piecewise constant in its raw inputs).
* The row explainer's default is the training average (``AverageInput`` of the training rows,
  stored by ``fit`` as ``step_means_``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._version import __version__
from ..errors import InputDataError, NBExplainError
from ..model.additive import AdditiveRiskModel, sigmoid
from ..model.inputs import PreparedData
from ..results import Attributions, InputLayout
from ._base import Explainer
from ._populations import PairSums, PopulationPairs, check_labels, population_baseline, population_meta
from .baselines import MedianInput, PairedBaseline, ResolvedBaseline, as_baseline

#: The single input of the additive model's attributions: the raw features of an applicant.
INPUT = "applicant"
#: Where resolved baselines live: the model's step columns.
STEPS = "steps"
#: Quadrature settings of path methods; the dashboard sets them, exact attributions ignore them.
QUADRATURE_SETTINGS = ("steps", "rule", "tolerance", "min_steps", "max_steps")
FORMULA = (
    "logit: phi_j = sum_{S in F_s minus j} |S|!(n_s-|S|-1)!/n_s! [g_s(x_{S+j}, b) - g_s(x_S, b)], "
    "g_s = v_s sigma(c_s + sum_{i in s} u_i); "
    "P(Bad): A_j = phi_j (sigma(L(x)) - sigma(L(b))) / (L(x) - L(b))"
)
#: Pairs (applicant, baseline) per block of work.
PAIRS_PER_BLOCK = 50_000


def sigmoid_secant(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(sigma(a) - sigma(b)) / (a - b)`` (``sigma'(a)`` where ``a == b``), symmetric in ``a``
    and ``b`` to the last bit: with ``hi >= lo`` and ``d = hi - lo``,
    ``sigma(hi) - sigma(lo) = sigma(hi) sigma(-lo) (1 - exp(-d))``."""
    hi, lo = np.maximum(a, b), np.minimum(a, b)
    d = hi - lo
    small = d <= 1e-8
    ratio = np.where(small, 1.0 - d / 2.0, -np.expm1(-d) / np.where(small, 1.0, d))
    return sigmoid(hi) * sigmoid(-lo) * ratio


def coalitions(n: int) -> tuple[np.ndarray, list]:
    """The ``2^n`` coalitions of ``n`` players and, per player ``j``, the Shapley terms:
    ``(masks (2^n, n), [(with_j, without_j, weight_j)])`` such that
    ``phi_j = sum_t weight_j[t] (V[with_j[t]] - V[without_j[t]])`` for a game with one value
    ``V[m]`` per coalition (``masks[m, i]``: player ``i`` is in coalition ``m``)."""
    masks = (np.arange(2**n)[:, None] >> np.arange(n)[None, :]) & 1
    sizes = masks.sum(axis=1)
    terms = []
    for j in range(n):
        without = np.flatnonzero(masks[:, j] == 0)
        weight = np.array([math.factorial(k) * math.factorial(n - k - 1) / math.factorial(n) for k in sizes[without]])
        terms.append((without | (1 << j), without, weight))
    return masks.astype(np.float64), terms


class _StepSpace:
    """What a documented baseline asks of the model while it is resolved (``prepare``, ``score``),
    answered in the model's step-column space."""

    def __init__(self, model: AdditiveRiskModel, score):
        self.model = model
        self._score = score
        self.batch_size = None
        self.dtype = "float64"
        self.feature_names = {STEPS: tuple(c.name for c in model.columns_)}

    def prepare(self, X: Any, what: str = "data") -> PreparedData:
        raw, labels = self.model.recipe.raw_rows(X, what)
        steps = self.model.recipe.steps_from_raw(raw)
        return PreparedData((STEPS,), {STEPS: steps}, dict(self.feature_names), labels or tuple(range(len(raw))))

    def score(self, arrays) -> np.ndarray:
        return self._score(np.asarray(arrays[STEPS], dtype=np.float64))

    def gradient(self, arrays):
        raise NBExplainError(
            "BestScore(within='ranges') searches along gradients, but the additive risk model is piecewise "
            "constant in its raw inputs; use BestScore(within='applicants') (the best-scoring applicant)."
        )


class _RawRows:
    """The reference rows of a baseline as checked raw rows (for the median applicant)."""

    def __init__(self, model: AdditiveRiskModel):
        self.model = model

    def prepare(self, X: Any, what: str = "data") -> PreparedData:
        raw, labels = self.model.recipe.raw_rows(X, what)
        names = {STEPS: self.model.feature_names_in_}
        return PreparedData((STEPS,), {STEPS: raw}, names, labels or tuple(range(len(raw))))


def training_average(model: AdditiveRiskModel, score) -> ResolvedBaseline:
    """The model's training rows as one point: every step column at its training mean."""
    point = np.asarray(model.step_means_)[None]
    return ResolvedBaseline(
        {STEPS: point},
        {
            "kind": "training average",
            "statement": (
                "Every step column at its mean over the model's training rows: each subscale logit at its "
                "training average (the average applicant as the model sees it, not a raw row)."
            ),
            "points": 1,
            "baseline_score": float(score(point)[0]),
            "n_reference": int(model.n_train_),
        },
    )


class AdditiveAttributor(Explainer):
    """Exact attributions of an :class:`~nbexplain.model.additive.AdditiveRiskModel` on its raw
    features, against documented baselines (module docstring for the formulas and baselines).

    Parameters
    ----------
    model : AdditiveRiskModel
        A fitted model.
    logit : bool
        Attribute the output logit ``L`` instead of P(Bad) (the default).
    progress : bool, optional
        Show a progress bar (default: for more than a million pairs).
    """

    method = "exact additive attributions (Shapley within subscales)"

    def __init__(self, model: Any, *, logit: bool = False, progress: bool | None = None) -> None:
        super().__init__(model)
        self.logit = logit
        self.progress = progress

    def with_params(self, **changes: Any) -> Any:
        """A copy with some parameters changed. ``steps``, ``rule`` and ``tolerance`` (quadrature
        settings of path methods, which the dashboard's controls set) are accepted and ignored:
        these attributions are exact."""
        return super().with_params(**{k: v for k, v in changes.items() if k not in QUADRATURE_SETTINGS})

    # ------------------------------------------------------------ checks
    def _check(self) -> AdditiveRiskModel:
        if not isinstance(self.logit, (bool, np.bool_)):
            raise NBExplainError(f"logit must be True or False; got {self.logit!r}.")
        return check_model(self.model)

    @property
    def explained(self) -> str:
        return "logit of P(Bad)" if self.logit else "P(Bad)"

    def _score_steps(self, S: np.ndarray) -> np.ndarray:
        logit = self.model.logit_from_steps(S)
        return logit if self.logit else sigmoid(logit)

    def _games(self) -> list:
        """Per subscale: its position, its features' positions, its coalitions and Shapley terms."""
        subscale = self.model.recipe.feature_subscale
        return [
            (s, features, *coalitions(len(features)))
            for s in range(len(self.model.subscales_))
            for features in [np.flatnonzero(subscale == s)]
        ]

    # ------------------------------------------------------------ public
    def score(self, X: Any) -> np.ndarray:
        """P(Bad) (or the logit) of every row of ``X``."""
        model = self._check()
        return self._score_steps(model.steps(X))

    def resolve_baseline(self, baseline: Any, X: Any = None) -> ResolvedBaseline:
        """Resolve ``baseline`` once in the model's step space (module docstring); pass the result
        to later :meth:`explain` calls. ``X`` is not needed (the model fixes the input space)."""
        model = self._check()
        if isinstance(baseline, ResolvedBaseline):
            points = baseline.arrays.get(STEPS)
            if points is None or points.ndim != 2 or points.shape[1] != len(model.columns_):
                raise NBExplainError(
                    "The resolved baseline is not one of this model's (it must hold step columns); resolve it "
                    "again with this attributor."
                )
            return baseline
        baseline = as_baseline(baseline)
        space = _StepSpace(model, self._score_steps)
        if isinstance(baseline, MedianInput):
            return self._median(baseline, space)
        resolved = baseline.resolve(space)
        description = dict(resolved.description)
        description["space"] = (
            "step columns: a point summarising several rows (an average) has every step column at its mean, "
            "so every subscale logit at its average; raw special values are never averaged"
        )
        return ResolvedBaseline(resolved.arrays, description, resolved.per_sample)

    def _median(self, baseline: MedianInput, space: _StepSpace) -> ResolvedBaseline:
        raw, facts = baseline.reference_rows(_RawRows(self.model))
        rows = np.sort(raw[STEPS], axis=0)
        point = rows[(len(rows) - 1) // 2][None]  # the lower median: an observed value per feature
        steps = self.model.recipe.steps_from_raw(point)
        all_steps = self.model.recipe.steps_from_raw(raw[STEPS])
        description = {
            "kind": baseline.kind,
            "statement": (
                "A typical applicant: every raw feature at its lower median over the reference rows (an "
                "observed value, so a special value stays a special value)."
            ),
            "points": 1,
            "baseline_score": float(space.score({STEPS: steps})[0]),
            "average_score_of_reference": float(space.score({STEPS: all_steps}).mean()),
            "point": dict(zip(self.model.feature_names_in_, point[0].tolist())),
            **facts,
        }
        return ResolvedBaseline({STEPS: steps}, description)

    def explain(self, X: Any, baseline: Any) -> Attributions:
        """Attributions of every row of ``X`` against ``baseline`` (a documented baseline, a raw
        row taken as a ``UserPoint``, or a resolved baseline). A set of baseline points averages
        the attributions: they sum to ``f(x) - mean_k f(b_k)``."""
        model = self._check()
        raw, labels = model.recipe.raw_rows(X)
        resolved = self.resolve_baseline(baseline, X)
        S, B = model.recipe.steps_from_raw(raw), np.asarray(resolved.arrays[STEPS], dtype=np.float64)
        n, k = len(S), len(B)
        if resolved.per_sample and k != n:
            raise NBExplainError(f"A paired baseline needs one point per sample: {k} points for {n} samples.")
        Ux, Ub = model.feature_points(S), model.feature_points(B)
        Lx, Lb = model.logit_from_steps(S), model.logit_from_steps(B)
        games = self._games()
        values = np.zeros_like(Ux)
        if resolved.per_sample:
            px = np.arange(n)
            for start in self._blocks(n, "exact attributions"):
                block = px[start : start + PAIRS_PER_BLOCK]
                values[block] = self._pairs(games, Ux, Ub, Lx, Lb, block, block)
        else:
            rows = max(1, PAIRS_PER_BLOCK // k)
            for start in self._blocks(n * k, "exact attributions", step=rows * k):
                first = start // k
                block = np.arange(first, min(first + rows, n))
                px, pb = np.repeat(block, k), np.tile(np.arange(k), len(block))
                values[block] = self._pairs(games, Ux, Ub, Lx, Lb, px, pb).reshape(len(block), k, -1).mean(axis=1)
        fx, fb = self._score_steps(S), self._score_steps(B)
        baseline_score = fb if resolved.per_sample else np.full(n, fb.mean())
        error = np.abs(values.sum(axis=1) - (fx - baseline_score))
        return self._result(
            values, raw, fx, baseline_score, error, resolved.description, 1 if resolved.per_sample else k, labels
        )

    def difference(self, X: Any, Y: Any) -> Attributions:
        """Applicant against applicant: row ``i`` of ``X`` against row ``i`` of ``Y``."""
        return self.explain(X, PairedBaseline(Y, statement="Each applicant of X against the same row of Y."))

    def compare_populations(
        self, A: Any, B: Any, max_pairs: int = 20_000, exact: bool | None = None, seed: int = 0, labels=("A", "B")
    ) -> Attributions:
        """The mean attribution over pairs (a in A, b in B) of ``A(a; b)``: over all pairs it sums
        to ``mean f(A) - mean f(B)`` exactly. ``exact=True`` (default when ``|A| |B| <= max_pairs``)
        takes every pair; otherwise ``max_pairs`` pairs drawn uniformly (seeded), with each
        feature's standard error. One sample, ``"A - B"``."""
        labels = check_labels(labels)
        model = self._check()
        raw_a, _ = model.recipe.raw_rows(A, f"population {labels[0]!r}")
        raw_b, _ = model.recipe.raw_rows(B, f"population {labels[1]!r}")
        Sa, Sb = model.recipe.steps_from_raw(raw_a), model.recipe.steps_from_raw(raw_b)
        pairs = PopulationPairs(len(Sa), len(Sb), max_pairs, exact, seed)
        Ua, Ub = model.feature_points(Sa), model.feature_points(Sb)
        La, Lb = model.logit_from_steps(Sa), model.logit_from_steps(Sb)
        games = self._games()
        fa, fb = self._score_steps(Sa), self._score_steps(Sb)
        sums = PairSums({"x": (Ua.shape[1],)})
        for start in self._blocks(pairs.count, "population pairs"):
            pa, pb = pairs.locate(np.arange(start, min(start + PAIRS_PER_BLOCK, pairs.count)))
            sums.add({"x": self._pairs(games, Ua, Ub, La, Lb, pa, pb)}, fa[pa] - fb[pb])
        mean = sums.mean(pairs)["x"][0]
        error = np.abs(np.array([mean.sum() - (fa.mean() - fb.mean())]))
        standard_error = sums.standard_error(pairs)
        return self._result(
            mean[None],
            raw_a.mean(axis=0, keepdims=True),
            np.array([fa.mean()]),
            np.array([fb.mean()]),
            error,
            population_baseline(labels, pairs, fb.mean()),
            pairs.n_b,
            (f"{labels[0]} - {labels[1]}",),
            standard_error=None if standard_error is None else standard_error["x"],
            **population_meta(labels, pairs, sums, mean.sum(), max_pair_error=0.0),
        )

    # ------------------------------------------------------------ internals
    def _blocks(self, total: int, description: str, step: int = PAIRS_PER_BLOCK):
        from tqdm.auto import tqdm

        show = self.progress if self.progress is not None else total > 1_000_000
        with tqdm(total=total, desc=description, unit="pair", disable=not show, leave=False) as bar:
            for start in range(0, total, step):
                yield start
                bar.update(min(step, total - start))

    def _pairs(self, games, Ux, Ub, Lx, Lb, px, pb) -> np.ndarray:
        """Attributions ``(P, p)`` of the pairs (sample ``px``, baseline ``pb``)."""
        model = self.model
        x, b = Ux[px], Ub[pb]
        out = np.zeros_like(x)
        for s, features, masks, terms in games:
            # z_s of every coalition: the baseline's logit plus the jumps of the features in it,
            # added one feature at a time so that a feature that does not move adds exactly 0
            z = np.repeat((model.subscale_intercepts_[s] + b[:, features].sum(axis=1))[:, None], len(masks), axis=1)
            for i, j in enumerate(features):
                z += (x[:, j] - b[:, j])[:, None] * masks[:, i]
            V = model.output_weights_[s] * sigmoid(z)
            for i, (with_j, without_j, weight) in enumerate(terms):
                out[:, features[i]] = (V[:, with_j] - V[:, without_j]) @ weight
        if not self.logit:
            out *= sigmoid_secant(Lx[px], Lb[pb])[:, None]
        return out

    def _result(self, values, raw, score, baseline_score, error, baseline, draws, labels, standard_error=None, **extra):
        model = self.model
        names = model.feature_names_in_
        meta = {
            "method": self.method,
            "explained": self.explained,
            "logit": bool(self.logit),
            "formula": FORMULA,
            "rule": "exact",
            "steps": "exact",
            "tolerance": None,
            "n_samples": int(len(score)),
            "parameters": {"logit": bool(self.logit)},
            "model": type(model).__name__,
            "model_fingerprint": model.fingerprint(),
            "version": __version__,
            "baseline": dict(baseline),
            "baselines_per_sample": int(draws),
            "max_completeness_error": float(np.max(error)),
            **extra,
        }
        return Attributions(
            values={INPUT: values},
            data={INPUT: raw},
            score=score,
            baseline_score=baseline_score,
            completeness_error=error,
            steps=np.zeros(len(score), dtype=int),
            layout=(InputLayout(INPUT, "tabular", (len(names),), names),),
            meta=meta,
            sample_labels=labels,
            standard_error=None if standard_error is None else {INPUT: standard_error},
        )


class AdditiveRowExplainer(Explainer):
    """Per-row exact attributions of an additive risk model in one pass (the dashboard's row
    explainer): :class:`AdditiveAttributor` against ``baseline``.

    Parameters
    ----------
    model : AdditiveRiskModel
    baseline : optional
        A documented baseline; the model's training average by default. A baseline built from
        reference rows is resolved at every :meth:`explain` (a what-if edit is one call): pass
        ``AdditiveAttributor(model).resolve_baseline(baseline)`` to resolve it once.
    logit : bool
        Attribute the logit instead of P(Bad).
    progress : bool, optional
        Show a progress bar for long runs.
    """

    method = AdditiveAttributor.method

    def __init__(self, model: Any, *, baseline: Any = None, logit: bool = False, progress: bool | None = None) -> None:
        super().__init__(model)
        self.baseline = baseline
        self.logit = logit
        self.progress = progress

    @property
    def attributor(self) -> AdditiveAttributor:
        return AdditiveAttributor(self.model, logit=self.logit, progress=self.progress)

    def explain(self, X: Any) -> Attributions:
        """Attributions of every row of ``X`` (completeness per row in the result)."""
        attributor = self.attributor
        model = attributor._check()
        if self.baseline is None:
            baseline = training_average(model, attributor._score_steps)
        else:
            baseline = attributor.resolve_baseline(self.baseline)
        return attributor.explain(X, baseline)

    def score(self, X: Any) -> np.ndarray:
        return self.attributor.score(X)


def check_model(model: Any) -> AdditiveRiskModel:
    """``model`` when it is a fitted :class:`AdditiveRiskModel`; an error saying what to do otherwise."""
    if not isinstance(model, AdditiveRiskModel):
        raise InputDataError(f"Expected an AdditiveRiskModel; got {type(model).__name__}.")
    if not model.fitted:
        raise NBExplainError("The AdditiveRiskModel is not fitted yet: call fit(X, y) first.")
    return model


__all__ = [
    "AdditiveAttributor",
    "AdditiveRowExplainer",
    "check_model",
    "coalitions",
    "sigmoid_secant",
    "training_average",
]
