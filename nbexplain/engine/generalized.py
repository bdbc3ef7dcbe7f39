"""Generalized Integrated Gradients (Merrill et al. 2019) for tree ensembles and stacks of trees
and networks.

The explained score is ``F(x) = g(z(x), x)``: the tree margins ``z`` (piecewise constant) and a
head ``g`` (see :mod:`nbexplain.model.stack`; a single tree model is a stack with the sum head).
Along the straight path ``gamma(t) = b + t (x - b)`` from the baseline ``b`` to the applicant
``x`` the tree outputs change only where a split is crossed: a node on feature ``j`` with
threshold ``c`` at ``t = (c - b_j) / (x_j - b_j)``, or at ``t = 0`` / ``t = 1`` when ``b`` or ``x``
sits exactly on a threshold, each library's inequality and missing-value rule deciding (the
exact rules are in :mod:`nbexplain.model.trees`). Then::

    A_j = sum over crossings tau of feature j alone of  [F(tau+) - F(tau-)]          (jumps)
        + Shapley share of j of every tie at tau                                      (ties)
        + (x_j - b_j) * sum over segments int dg/dx_j(z_segment, gamma(t)) dt          (continuous)

* **Jumps.** A crossing of one feature is credited to it with the jump of ``F`` there (right
  limit minus left limit, the head evaluated at the crossing point). Jumps telescope, so
  ``sum_j A_j = F(x) - F(b)`` exactly up to the quadrature error of the continuous part.
* **Ties.** When several features cross at the same time (every one-hot column at 1/2, integer
  counts from an integer baseline; times are compared exactly as computed, in float64, with the
  library's precision of ``b`` and ``x``) the jump is split by the Shapley value of the game "which of
  the tied coordinates have moved": ``v(S) = F`` with the tied features in ``S`` past the crossing
  and the others not. The players are every feature with a switching node in a tree that
  changes there, so dummies get 0. Up to ``exact_ties`` players the 2^k coalitions are evaluated
  exactly; above, ``permutations`` random orders (seeded) estimate it, with a standard error.
  A head linear in the margins (the sum head) splits each tree's ties alone (Shapley is
  additive); any other head plays one game per crossing time over all trees.
* **Missing values and categories.** A coordinate missing at one end but not the other, and a
  coordinate of a categorical feature, does not move continuously: it keeps ``b_j`` for
  ``t < 1/2`` and takes ``x_j`` after (inside the trees; a network head reads the straight path,
  and refuses missing values). A coordinate missing at both ends does not move and gets 0.
* **Continuous part.** Where the head reads the features (a blend's network, a network head over
  margins and features) its gradient is integrated over each segment between crossings with the
  tree margins held at their segment value, by the shared quadrature rules and the one gradient
  primitive (``path_integral`` of Integrated Gradients); a blend's network, separable from the
  trees, is integrated over the whole path at once. ``steps="auto"`` doubles the points per
  segment for the paths whose completeness error is above ``tolerance``.

The computation is vectorised in NumPy over applicants x trees (see
:meth:`~nbexplain.model.trees.TreeEnsemble.path_sides`), in chunks of about ``CHUNK_ENTRIES``
(path, tree) entries; ``backend="numba"`` runs the same rules compiled (the NumPy path is the
reference the tests hold it to).

A result is an :class:`~nbexplain.results.Attributions` of one input, ``"features"``: its
``steps`` are the quadrature points a sample used (all segments; 0 for pure tree models), and its
meta records the baseline, the crossings per sample (a crossing is a (tree, time) where a tree's
leaf changes), the number of ties, the largest, how many were sampled and their standard
errors, and the model's fingerprint.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._version import __version__
from ..errors import NBExplainError, NonFiniteScoreError, row_list, unknown_name
from ..model.inputs import PreparedData
from ..model.outputs import OutputSelection
from ..model.stack import Blend, NetworkHead, Stack, as_stack
from ..model.trees import BACKENDS, CHUNK_ENTRIES
from ..results import Attributions
from ..results.layout import InputLayout
from ._base import Explainer
from ._plan import GradientPlan, plan_gradients
from ._populations import PairSums, PopulationPairs, check_labels, population_baseline, population_meta
from ._quadrature import RULES, quadrature
from .baselines import BaselineContext, PairedBaseline, ResolvedBaseline, as_baseline
from .integrated import path_integral

FORMULA = (
    "A_j = sum_{crossings of j} [F(tau+) - F(tau-)] + Shapley share of ties + (x_j - b_j) sum_segments "
    "int dg/dx_j(z_segment, gamma(t)) dt;  error = |sum_j A_j - (F(x) - F(b))|"
)
#: The one input of a tree model or stack, as results name it.
INPUT = "features"


class GeneralizedIntegratedGradients(Explainer):
    """Generalized Integrated Gradients of a tree ensemble or a stack, against documented baselines.

    Parameters
    ----------
    model : tree model, TreeEnsemble or Stack
        XGBoost, LightGBM or scikit-learn trees (read exactly as the library predicts), or a
        :class:`~nbexplain.model.stack.Stack` of them with a differentiable head.
    output : str
        For a single tree model: ``"margin"`` (the raw score: log-odds, regression value, or a
        forest's class probability) or ``"probability"`` (the library's sigmoid / softmax of it).
    target : int or label, optional
        The class whose margin (or probability) is explained, for models with several.
    feature_names : list of str, optional
        Names for a tree model trained without them (on arrays).
    steps : int or "auto"
        Quadrature points per segment between crossings for a head that reads the features;
        ``"auto"``: from ``min_steps``, doubled for the paths whose completeness error is above
        ``tolerance`` (up to ``max_steps``). Pure tree models have no continuous part.
    rule : str
        Quadrature rule (:data:`~nbexplain.engine.RULES`), Gauss-Legendre by default.
    exact_ties : int
        Ties of up to this many features are split exactly (2^k evaluations of the score).
    permutations : int
        Random orders that estimate larger ties (seeded by ``seed``), with a standard error.
    backend : str
        ``"numpy"`` (the reference), ``"numba"`` (the same rules compiled: ``pip install
        'nbexplain[fast]'``) or ``"auto"`` (numba when installed).
    threads : int
        Threads of the compiled backend (-1: one per core); the NumPy backend runs in one.
    batch_size : int, optional
        Rows (path points) per call of the gradient primitive for network parts.
    progress : bool, optional
        Show a progress bar (default: for long runs only).

    Baselines are the documented ones of :mod:`~nbexplain.engine.baselines`; a set of them
    (``ReferenceSet``, a ``CutoffCohort`` set) averages the attributions over its points.
    ``BestScore(within="ranges")`` is refused: its search follows gradients, and tree outputs
    have none; ``BestScore(within="applicants")`` (the best-scoring applicant) works.
    """

    method = "generalized integrated gradients"

    def __init__(
        self,
        model: Any,
        *,
        output: str = "margin",
        target: Any = None,
        feature_names: Any = None,
        steps: int | str = "auto",
        rule: str = "gausslegendre",
        tolerance: float = 1e-6,
        min_steps: int = 4,
        max_steps: int = 256,
        exact_ties: int = 10,
        permutations: int = 256,
        seed: int = 0,
        backend: str = "auto",
        threads: int = 1,
        batch_size: int | None = None,
        progress: bool | None = None,
    ) -> None:
        super().__init__(model)
        self.output = output
        self.target = target
        self.feature_names = feature_names
        self.steps = steps
        self.rule = rule
        self.tolerance = tolerance
        self.min_steps = min_steps
        self.max_steps = max_steps
        self.exact_ties = exact_ties
        self.permutations = permutations
        self.seed = seed
        self.backend = backend
        self.threads = threads
        self.batch_size = batch_size
        self.progress = progress

    # ------------------------------------------------------------------ public
    def explain(self, X: Any, baseline: Any) -> Attributions:
        """Attributions of every row of ``X`` against ``baseline`` (a documented
        :mod:`~nbexplain.engine.baselines` object, or one point taken as a ``UserPoint``); a set of
        baselines averages over its points, a :class:`PairedBaseline` pairs row with row."""
        runtime = self._runtime()
        rows, labels = runtime.stack.prepare(X)
        resolved = self._resolve(runtime, baseline, rows, labels)
        points = np.asarray(resolved.arrays[INPUT], dtype=np.float64)
        n, k = len(rows), len(points)
        if resolved.per_sample and k != n:
            raise NBExplainError(f"A paired baseline needs one point per sample: {k} points for {n} samples.")
        if resolved.per_sample:
            first, second = np.arange(n), np.arange(n)
        else:
            first, second = np.repeat(np.arange(n), k), np.tile(np.arange(k), n)
        sums = np.zeros(rows.shape)
        fx, fb = np.zeros(n), np.zeros(k)
        record = _Record(n)
        for chunk in self._chunks(runtime, len(first), "generalized integrated gradients"):
            i, j = first[chunk], second[chunk]
            values, fx[i], fb[j] = self._paths(runtime, rows[i], points[j], record.at(i))
            np.add.at(sums, i, values)
        runtime.check_finite(fx, labels)
        runtime.check_finite(fb, None, "the baseline's rows")
        draws = 1 if resolved.per_sample else k
        values = sums / draws
        baseline_score = fb if resolved.per_sample else np.full(n, fb.mean())
        error = np.abs(values.sum(axis=1) - (fx - baseline_score))
        meta = self._meta(runtime, dict(resolved.description), error, record, draws=draws, n=n)
        return self._result(runtime, values, rows, fx, baseline_score, error, record.steps, meta, labels)

    def score(self, X: Any) -> np.ndarray:
        """The explained score ``F(x)`` of every row (NaN or inf is an error naming the rows)."""
        runtime = self._runtime()
        rows, labels = runtime.stack.prepare(X)
        return runtime.scores(rows, labels)

    def difference(self, X: Any, Y: Any) -> Attributions:
        """Applicant against applicant: row ``i`` of ``X`` explained against row ``i`` of ``Y``."""
        return self.explain(X, PairedBaseline(Y, statement="Each applicant of X against the same row of Y."))

    def resolve_baseline(self, baseline: Any, X: Any) -> ResolvedBaseline:
        """Resolve ``baseline`` once for rows like ``X``; pass the result to later :meth:`explain` calls."""
        runtime = self._runtime()
        rows, labels = runtime.stack.prepare(X)
        return self._resolve(runtime, baseline, rows, labels)

    def compare_populations(
        self, A: Any, B: Any, max_pairs: int = 20_000, exact: bool | None = None, seed: int = 0, labels=("A", "B")
    ) -> Attributions:
        """The average attribution over pairs (a in A, b in B) of GIG(a; baseline b).

        Over ALL pairs it sums to ``mean F(A) - mean F(B)``. ``exact=True`` (default when
        ``|A| |B| <= max_pairs``) runs every pair; otherwise ``max_pairs`` pairs are drawn uniformly
        (seeded) and each feature's mean comes with its standard error. One sample, ``"A - B"``.
        """
        labels = check_labels(labels)
        runtime = self._runtime()
        rows_a, _ = runtime.stack.prepare(A, f"population {labels[0]!r}")
        rows_b, _ = runtime.stack.prepare(B, f"population {labels[1]!r}")
        pairs = PopulationPairs(len(rows_a), len(rows_b), max_pairs, exact, seed)
        fa, fb = runtime.scores(rows_a), runtime.scores(rows_b, what=f"population {labels[1]!r}")
        sums = PairSums({"x": (runtime.stack.n_features,)})
        record = _Record(1)
        for chunk in self._chunks(runtime, pairs.count, "population pairs"):
            i, j = pairs.locate(np.arange(chunk.start, chunk.stop))
            values, _, _ = self._paths(runtime, rows_a[i], rows_b[j], record.at(np.zeros(len(i), int)))
            sums.add({"x": values}, fa[i] - fb[j])
        mean = sums.mean(pairs)["x"][0]
        error = np.array([abs(mean.sum() - (fa.mean() - fb.mean()))])
        description = population_baseline(labels, pairs, fb.mean())
        meta = self._meta(runtime, description, error, record, draws=pairs.n_b, n=1)
        meta.update(
            population_meta(
                labels,
                pairs,
                sums,
                mean.sum(),
                formula="D_j = 1/|P| sum_{(a,b) in P} A_j(a; b);  sum_j D_j = mean F(A) - mean F(B) over all pairs",
            )
        )
        standard_error = sums.standard_error(pairs)
        return self._result(
            runtime,
            mean[None],
            rows_a.mean(axis=0, keepdims=True),
            np.array([fa.mean()]),
            np.array([fb.mean()]),
            error,
            np.array([record.steps.max()]),
            meta,
            (f"{labels[0]} - {labels[1]}",),
            None if standard_error is None else standard_error["x"],
        )

    # ------------------------------------------------------------------ checks
    def check_params(self) -> None:
        """Refuse parameters that cannot be used, naming the accepted values."""
        if self.rule not in RULES:
            raise unknown_name("quadrature rule", self.rule, RULES)
        if self.steps != "auto" and not (_whole(self.steps) and int(self.steps) >= 1):
            raise NBExplainError(
                f"steps must be a positive whole number of points per segment or 'auto'; got {self.steps!r}."
            )
        if not (_whole(self.min_steps) and _whole(self.max_steps) and 1 <= self.min_steps <= self.max_steps):
            raise NBExplainError(
                f"Need whole numbers 1 <= min_steps <= max_steps; got {self.min_steps!r} and {self.max_steps!r}."
            )
        if isinstance(self.tolerance, bool) or not isinstance(self.tolerance, (int, float)) or not self.tolerance > 0:
            raise NBExplainError(f"tolerance must be a positive number; got {self.tolerance!r}.")
        if not (_whole(self.exact_ties) and 1 <= self.exact_ties <= 20):
            raise NBExplainError(
                f"exact_ties must be a whole number from 1 to 20 (2^k evaluations); got {self.exact_ties!r}."
            )
        if self.backend not in BACKENDS:
            raise unknown_name("backend", self.backend, BACKENDS)
        if not (_whole(self.threads) and (self.threads >= 1 or self.threads == -1)):
            raise NBExplainError(f"threads must be a positive whole number or -1 (one per core); got {self.threads!r}.")
        if not (_whole(self.permutations) and self.permutations >= 2):
            raise NBExplainError(f"permutations must be a whole number >= 2; got {self.permutations!r}.")

    # ------------------------------------------------------------------ internals
    def _threads(self) -> int:
        import os

        return (os.cpu_count() or 1) if self.threads == -1 else int(self.threads)

    def _runtime(self) -> _Runtime:
        self.check_params()
        stack = as_stack(self.model, self.output, self.target, self.feature_names)
        return _Runtime(stack, self.batch_size)

    def _resolve(self, runtime: _Runtime, baseline: Any, rows: np.ndarray, labels: tuple) -> ResolvedBaseline:
        if isinstance(baseline, ResolvedBaseline):
            points = baseline.arrays.get(INPUT)
            if points is None or points.shape[1:] != rows.shape[1:]:
                raise NBExplainError(
                    "The resolved baseline does not fit this model's features; resolve it again for this model."
                )
            return baseline
        return as_baseline(baseline).resolve(_StackContext(runtime, self.batch_size))

    def _chunks(self, runtime: _Runtime, pairs: int, description: str) -> Any:
        from tqdm.auto import tqdm

        trees = sum(e.n_trees for e in runtime.stack.ensembles)
        size = max(1, CHUNK_ENTRIES // max(trees, 1))
        if runtime.stack.network is not None and self.batch_size is not None:
            size = min(size, max(1, int(self.batch_size)))
        starts = range(0, pairs, size)
        show = self.progress if self.progress is not None else len(starts) > 8
        for start in tqdm(starts, desc=description, unit="chunk", disable=not show, leave=False):
            yield slice(start, min(start + size, pairs))

    def _paths(self, runtime: _Runtime, x: np.ndarray, b: np.ndarray, record: _Recorder) -> tuple:
        """GIG of every path from ``b[i]`` to ``x[i]``, ``(m, p)``, and ``F(x)``, ``F(b)`` (the tree
        margins at both ends come from the same sweep)."""
        stack = runtime.stack
        step = np.isnan(x) != np.isnan(b)
        step[:, runtime.categorical] = True
        views = [e.path_view(x[:, c], b[:, c], step[:, c]) for e, c in zip(stack.ensembles, stack.columns)]
        paths = _Paths(x, b, views)
        if stack.linear_weights is not None:
            attributions, ends = self._additive_jumps(runtime, paths, record)
            events = None
        else:
            attributions, events, ends = self._event_jumps(runtime, paths, record)
        margins_b, margins_x = (_margins(stack, leaves) for leaves in zip(*ends))
        fx, fb = runtime.score_of(margins_x, x), runtime.score_of(margins_b, b)
        if stack.reads_features:
            smooth_target = (fx - fb) - attributions.sum(axis=1)
            self._continuous(runtime, paths, events, margins_b, smooth_target, attributions, record)
        return attributions, fx, fb

    def _additive_jumps(self, runtime: _Runtime, paths: _Paths, record) -> tuple:
        """Heads linear in the margins: every tree's jump goes straight to the crossing feature
        (Shapley is additive over trees); a tree's tie, first credited whole to the feature where
        its two leaves part, is then re-split by its own game. Returns the attributions and the
        leaves at both ends of every path."""
        stack = runtime.stack
        weights = stack.linear_weights
        assert weights is not None
        attributions = np.zeros(paths.x.shape)
        ends = []
        for e, (ensemble, view) in enumerate(zip(stack.ensembles, paths.views)):
            leaf_score = ensemble.value @ weights[stack.blocks[e] : stack.blocks[e + 1]]
            credited, tied, crossings = ensemble.path_additive(
                view, leaf_score, stack.columns[e], stack.n_features, self.backend, self._threads()
            )
            ends.append((tied.start_leaf, tied.end_leaf))
            attributions += credited
            record.crossings(crossings)
            if tied.pair.size:
                trees = ensemble.n_trees + 0.0
                keys, first = np.unique(tied.pair * trees + tied.tree + 1j * tied.tau, return_index=True)
                pair = keys.real.astype(np.int64) // ensemble.n_trees
                tree = keys.real.astype(np.int64) % ensemble.n_trees
                games = _Games.of(pair, keys.imag, np.full(pair.size, e), tree, np.arange(pair.size))
                self._play(runtime, paths, games, attributions, record, None, stack.columns[e][tied.cause[first]])
        return attributions, ends

    def _event_jumps(self, runtime: _Runtime, paths: _Paths, record) -> tuple:
        """Any other head: all trees' changes merged into crossing events per path (sorted by
        time); a jump of F at each, ties as one game over all trees changing there. Returns the
        attributions and the events ``(pair, tau, z after)`` for the continuous part."""
        stack = runtime.stack
        m = paths.x.shape[0]
        blocks = stack.blocks
        parts = []
        attributions = np.zeros(paths.x.shape)
        ends = []
        for e, (ensemble, view) in enumerate(zip(stack.ensembles, paths.views)):
            sides = ensemble.path_sides(view, self.backend, self._threads())
            ends.append((sides.start_leaf, sides.end_leaf))
            delta = np.zeros((sides.pair.size, stack.n_margins))
            delta[:, blocks[e] : blocks[e + 1]] = sides.sign[:, None] * ensemble.value[sides.leaf]
            cause = np.where(sides.several, -1, stack.columns[e][sides.cause])
            parts.append((sides.pair, sides.tau, delta, cause, np.full(sides.pair.size, e), sides.tree))
            record.crossings(np.bincount(sides.pair[sides.sign > 0], minlength=m))
        z_start = _margins(stack, [start for start, _ in ends])
        pair, tau, delta, cause, ensemble_id, tree = (np.concatenate(p) for p in zip(*parts))
        order = np.lexsort((tau, pair))
        pair, tau, delta, cause, ensemble_id, tree = (
            pair[order],
            tau[order],
            delta[order],
            cause[order],
            ensemble_id[order],
            tree[order],
        )
        new = np.ones(pair.size, bool)
        new[1:] = (pair[1:] != pair[:-1]) | (tau[1:] != tau[:-1])
        starts = np.flatnonzero(new)
        event_of_side = np.cumsum(new) - 1
        event_pair, event_tau = pair[starts], tau[starts]
        change = np.add.reduceat(delta, starts, axis=0) if starts.size else np.zeros((0, stack.n_margins))
        low = np.minimum.reduceat(cause, starts) if starts.size else np.zeros(0, int)
        high = np.maximum.reduceat(cause, starts) if starts.size else np.zeros(0, int)
        single = (low == high) & (low >= 0)
        # margins after each event: the start plus every change on the same path so far; before
        # an event they are those after the previous one, so the jumps of a path telescope exactly
        running = np.cumsum(change, axis=0)
        first_of_pair = np.ones(starts.size, bool)
        first_of_pair[1:] = event_pair[1:] != event_pair[:-1]
        first = np.maximum.accumulate(np.where(first_of_pair, np.arange(starts.size), 0))
        after = z_start[event_pair] + running - (running[first] - change[first])
        before = np.where(first_of_pair[:, None], z_start[event_pair], np.roll(after, 1, axis=0))
        jump = runtime.discrete(after, paths, event_pair, event_tau) - runtime.discrete(
            before, paths, event_pair, event_tau
        )
        ones = np.flatnonzero(single)
        _accumulate(attributions, event_pair[ones], low[ones], jump[ones])
        tied = np.flatnonzero(~single)
        if tied.size:
            members = np.flatnonzero(np.isin(event_of_side, tied))
            member_event = event_of_side[members]
            key = np.unique(
                member_event * (len(stack.ensembles) * 2**32) + ensemble_id[members] * 2**32 + tree[members]
            )
            game_index = np.searchsorted(tied, key // (len(stack.ensembles) * 2**32))
            game = _Games.of(
                event_pair[tied], event_tau[tied], (key // 2**32) % len(stack.ensembles), key % 2**32, game_index
            )
            self._play(runtime, paths, game, attributions, record, before[tied], None)
        return attributions, (event_pair, event_tau, after), ends

    def _play(self, runtime: _Runtime, paths: _Paths, games: _Games, attributions, record, z_before, credited) -> None:
        """Split every tie game's jump by the Shapley value of "which tied features have moved".

        The players of a game are the features with a node that switches then, in a tree that
        changes then (found by exploring both ways at every switching node). ``z_before``: the
        margins just before each game (heads not linear in them); ``credited``: the feature each
        game's whole jump was already credited to (linear heads), taken back."""
        stack = runtime.stack
        p = stack.n_features
        found_game, found_feature = [], []
        for e, ensemble in enumerate(stack.ensembles):
            rows = np.flatnonzero(games.member_ensemble == e)
            if not rows.size:
                continue
            g = games.member_game[rows]
            query, feature = ensemble.switching_features(
                paths.views[e], games.pair[g], games.tau[g], games.member_tree[rows], self.backend
            )
            found_game.append(g[query])
            found_feature.append(stack.columns[e][feature])
        keys = np.unique(np.concatenate(found_game) * p + np.concatenate(found_feature))
        player_game, player_feature = keys // p, keys % p
        size = np.bincount(player_game, minlength=games.count)
        rank = np.arange(keys.size) - np.concatenate([[0], np.cumsum(size)[:-1]])[player_game]
        players = np.full((games.count, max(int(size.max()), 1)), p, np.int64)  # p: no player
        players[player_game, rank] = player_feature
        rng = np.random.default_rng(self.seed)
        for k in np.unique(size[size > 0]):
            chosen = np.flatnonzero(size == k)
            game = (runtime, paths, games, chosen, players[chosen, :k], None if z_before is None else z_before[chosen])
            if k <= self.exact_ties:
                values, total, errors = self._exact_game(*game)
            else:
                values, total, errors = self._sampled_game(*game, rng)
            for slot in range(int(k)):
                _accumulate(attributions, games.pair[chosen], players[chosen, slot], values[:, slot])
            if credited is not None:
                _accumulate(attributions, games.pair[chosen], credited[chosen], -total)
            record.ties(games.pair[chosen], int(k), errors)

    def _coalition_values(self, runtime, paths, games, chosen, players, z_before, moved) -> np.ndarray:
        """``v`` of each chosen game under each configuration, ``(len(chosen), configs)``, where
        ``moved[g, c, slot]`` says whether player ``players[g, slot]`` (a feature) has moved:
        the score with the trees that change there re-descended (the margins before the game
        plus the change of those trees)."""
        stack = runtime.stack
        configs = moved.shape[1]
        local = np.full(games.count, -1, np.int64)
        local[chosen] = np.arange(chosen.size)
        totals = np.zeros((chosen.size, configs, stack.n_margins))
        for e, ensemble in enumerate(stack.ensembles):
            rows = np.flatnonzero((games.member_ensemble == e) & (local[games.member_game] >= 0))
            if not rows.size:
                continue
            query_row = np.repeat(rows, configs)
            query_config = np.tile(np.arange(configs), rows.size)
            query_game = local[games.member_game[query_row]]
            own = np.full(stack.n_features + 1, -1, np.int64)  # stack feature -> this ensemble's (-1: not read)
            own[stack.columns[e]] = np.arange(stack.columns[e].size)
            listed = np.where(moved[query_game, query_config], own[players[query_game]], -1)
            leaves = ensemble.configuration_leaves(
                paths.views[e],
                games.pair[chosen][query_game],
                games.tau[chosen][query_game],
                games.member_tree[query_row],
                listed,
                self.backend,
            )
            block = slice(stack.blocks[e], stack.blocks[e + 1])
            np.add.at(totals[:, :, block], (query_game, query_config), ensemble.value[leaves])
        change = totals - totals[:, :1]
        weights = stack.linear_weights
        if weights is not None:
            return change @ weights
        margins = (z_before[:, None, :] + change).reshape(-1, stack.n_margins)
        pair, tau = np.repeat(games.pair[chosen], configs), np.repeat(games.tau[chosen], configs)
        return runtime.discrete(margins, paths, pair, tau).reshape(chosen.size, configs)

    def _exact_game(self, runtime, paths, games, chosen, players, z_before) -> tuple:
        """Exact Shapley values over the 2^k coalitions (bit i of a coalition: player i moved)."""
        k = players.shape[1]
        coalitions = np.arange(2**k)
        moved = np.broadcast_to(((coalitions[:, None] >> np.arange(k)) & 1) == 1, (chosen.size, 2**k, k))
        value = self._coalition_values(runtime, paths, games, chosen, players, z_before, moved)
        size = np.array([bin(c).count("1") for c in coalitions])
        weight = np.array([math.factorial(s) * math.factorial(k - s - 1) / math.factorial(k) for s in range(k)])
        shares = np.zeros((chosen.size, k))
        for i in range(k):
            without = coalitions[((coalitions >> i) & 1) == 0]
            shares[:, i] = (value[:, without | (1 << i)] - value[:, without]) @ weight[size[without]]
        return shares, value[:, -1] - value[:, 0], None

    def _sampled_game(self, runtime, paths, games, chosen, players, z_before, rng) -> tuple:
        """Shapley values estimated over random orders of the k players (mean marginal
        contribution), with the standard error of each player's mean."""
        k = players.shape[1]
        orders = np.argsort(rng.random((chosen.size, self.permutations, k)), axis=2)
        ranks = np.argsort(orders, axis=2)  # ranks[g, r, slot]: when player slot moves in order r
        prefix = np.arange(k + 1)
        moved = (ranks[:, :, None, :] < prefix[None, None, :, None]).reshape(chosen.size, -1, k)
        value = self._coalition_values(runtime, paths, games, chosen, players, z_before, moved)
        value = value.reshape(chosen.size, self.permutations, k + 1)
        marginal = np.diff(value, axis=2)  # (games, orders, prefix): contribution of orders[..., prefix]
        by_player = np.take_along_axis(marginal, ranks, axis=2)
        total = value[:, 0, -1] - value[:, 0, 0]
        return by_player.mean(axis=1), total, by_player.std(axis=1, ddof=1) / np.sqrt(self.permutations)

    def _continuous(self, runtime, paths: _Paths, events, z_start, target, attributions, record) -> None:
        """The network part: its gradient integrated over each segment between crossings (the
        whole path for a blend's network), tree margins held at their segment value."""
        stack = runtime.stack
        m = paths.x.shape[0]
        if isinstance(stack.head, Blend):
            segment_pair, start, end = np.arange(m), np.zeros(m), np.ones(m)
            margins = None
        else:
            event_pair, event_tau, after = events
            segment_pair = np.concatenate([np.arange(m), event_pair])
            start = np.concatenate([np.zeros(m), event_tau])
            margins = np.concatenate([z_start, after])
            order = np.lexsort((start, segment_pair))
            segment_pair, start, margins = segment_pair[order], start[order], margins[order]
            end = np.ones(start.size)
            same = segment_pair[1:] == segment_pair[:-1]
            end[:-1][same] = start[1:][same]
            keep = end > start
            segment_pair, start, end, margins = segment_pair[keep], start[keep], end[keep], margins[keep]
        todo = np.arange(m)
        steps = self.min_steps if self.steps == "auto" else int(self.steps)
        result = np.zeros(paths.x.shape)
        while todo.size:
            mask = np.isin(segment_pair, todo)
            held = None if margins is None else margins[mask]
            partial = runtime.segment_integrals(
                paths, segment_pair[mask], start[mask], end[mask], held, steps, self.rule
            )
            error = np.abs(partial[todo].sum(axis=1) - target[todo])
            done = (
                (error <= self.tolerance) | (steps >= self.max_steps)
                if self.steps == "auto"
                else np.ones(todo.size, bool)
            )
            result[todo[done]] = partial[todo[done]]
            record.steps_used(todo[done], steps * np.bincount(segment_pair, minlength=m)[todo[done]])
            todo, steps = todo[~done], min(steps * 2, self.max_steps)
        attributions += result

    def _meta(self, runtime: _Runtime, baseline: dict, error: np.ndarray, record: _Record, draws: int, n: int) -> dict:
        stack = runtime.stack
        return {
            "method": self.method,
            "explained": runtime.explained,
            "n_samples": n,
            "formula": FORMULA,
            "model": type(self.model).__name__,
            "model_fingerprint": stack.fingerprint(),
            "stack": stack.describe(),
            "rule": self.rule,
            "steps": self.steps,
            "steps_range": [self.min_steps, self.max_steps] if self.steps == "auto" else None,
            "tolerance": self.tolerance,
            "tolerance_met": bool(np.all(error <= self.tolerance)),
            "max_completeness_error": float(error.max()),
            "baseline": baseline,
            "baselines_per_sample": int(draws),
            "paths": {
                "missing": "a coordinate missing at one end only keeps b_j for t < 1/2 and takes x_j after; "
                "missing at both ends it does not move",
                "categorical": "a categorical coordinate steps from b_j to x_j at t = 1/2 (inside the trees)",
                "crossing": "a (tree, time) where a tree's leaf changes along the path",
            },
            "crossings": record.crossing_counts.tolist(),
            "ties": int(record.tie_count),
            "largest_tie": int(record.largest_tie),
            "sampled_ties": int(record.sampled_ties),
            "tie_standard_error": None if record.tie_error is None else record.tie_error.tolist(),
            "parameters": {
                "exact_ties": self.exact_ties,
                "permutations": self.permutations,
                "seed": self.seed,
                "backend": self.backend,
                "threads": self.threads,
                "batch_size": self.batch_size,
            },
            "version": __version__,
        }

    def _result(
        self, runtime, values, rows, score, baseline_score, error, steps, meta, labels, standard_error=None
    ) -> Attributions:
        stack = runtime.stack
        layout = (InputLayout(INPUT, "tabular", (stack.n_features,), stack.feature_names),)
        # a population of sampled pairs is measured by its quadrature error: the gap between the
        # sampled pairs' mean and the populations' mean score difference is sampling, not quadrature
        error_of_paths = meta.get("quadrature_error", meta["max_completeness_error"])
        if error_of_paths > max(self.tolerance, 1e-6) and stack.network is not None:
            warnings.warn(
                f"Largest completeness error {error_of_paths:.3g} is above the tolerance "
                f"{self.tolerance:g}: raise max_steps, or the tolerance (a float32 network cannot go much below "
                "1e-7 times its score).",
                stacklevel=3,
            )
        return Attributions(
            values={INPUT: values},
            data={INPUT: rows},
            score=score,
            baseline_score=baseline_score,
            completeness_error=error,
            steps=steps,
            layout=layout,
            meta=meta,
            sample_labels=labels,
            standard_error=None if standard_error is None else {INPUT: standard_error},
        )


# --------------------------------------------------------------------------- helpers
@dataclass(frozen=True)
class _Paths:
    """A chunk of paths: raw rows (stack order) and each ensemble's view of them."""

    x: np.ndarray
    b: np.ndarray
    views: list

    def point(self, pair: np.ndarray, tau: np.ndarray) -> np.ndarray:
        """``gamma(tau) = b + tau (x - b)`` of path ``pair`` (the straight path a network reads)."""
        return self.b[pair] + tau[:, None] * (self.x[pair] - self.b[pair])


@dataclass(frozen=True)
class _Games:
    """Tie games: ``(pair, tau)`` per game and the trees that change there (member rows)."""

    pair: np.ndarray
    tau: np.ndarray
    member_game: np.ndarray
    member_ensemble: np.ndarray
    member_tree: np.ndarray

    @property
    def count(self) -> int:
        return int(self.pair.size)

    @classmethod
    def of(cls, pair, tau, member_ensemble, member_tree, member_game) -> _Games:
        return cls(
            np.asarray(pair, np.int64),
            np.asarray(tau, np.float64),
            np.asarray(member_game, np.int64),
            np.asarray(member_ensemble, np.int64),
            np.asarray(member_tree, np.int64),
        )


def _margins(stack: Stack, leaves: Any) -> np.ndarray:
    """The stack's margins from the leaf every tree of every ensemble reached, ``(m, sum_m K_m)``."""
    return np.concatenate([e.bias + e.value[leaf].sum(axis=1) for e, leaf in zip(stack.ensembles, leaves)], axis=1)


def _accumulate(target: np.ndarray, rows: np.ndarray, columns: np.ndarray, values: np.ndarray) -> None:
    """``target[rows, columns] += values``, repeated positions summed (one bincount)."""
    m, p = target.shape
    target += np.bincount(rows * p + columns, weights=values, minlength=m * p).reshape(m, p)


class _Record:
    """What a run did, per explained sample: crossings, quadrature points, ties."""

    def __init__(self, n: int) -> None:
        self.crossing_counts = np.zeros(n, np.int64)
        self.steps = np.zeros(n, np.int64)
        self.tie_count = 0
        self.largest_tie = 0
        self.sampled_ties = 0
        self.tie_error: np.ndarray | None = None
        self.n = n

    def at(self, samples: np.ndarray) -> _Recorder:
        return _Recorder(self, np.asarray(samples))


@dataclass
class _Recorder:
    """A record seen from one chunk of paths (path ``i`` belongs to sample ``samples[i]``)."""

    record: _Record
    samples: np.ndarray

    def crossings(self, per_path: np.ndarray) -> None:
        np.add.at(self.record.crossing_counts, self.samples, per_path)

    def steps_used(self, pairs: np.ndarray, points: np.ndarray) -> None:
        np.maximum.at(self.record.steps, self.samples[pairs], points)

    def ties(self, pairs: np.ndarray, k: int, errors: np.ndarray | None) -> None:
        record = self.record
        record.tie_count += int(pairs.size)
        record.largest_tie = max(record.largest_tie, k)
        if errors is not None:
            record.sampled_ties += int(pairs.size)
            if record.tie_error is None:
                record.tie_error = np.zeros(record.n)
            np.maximum.at(record.tie_error, self.samples[pairs], errors.max(axis=1))


class _StackContext(BaselineContext):
    """What a documented baseline may ask of a stack while it is resolved: check and score rows.
    A gradient search (``BestScore(within="ranges")``) is refused: tree outputs have none."""

    def __init__(self, runtime: _Runtime, batch_size: int | None = None) -> None:
        self.plan = None
        self.batch_size = batch_size
        self.runtime = runtime
        self.feature_names = {INPUT: runtime.stack.feature_names}
        self.dtype = "float64"

    def prepare(self, X, what="data"):
        rows, labels = self.runtime.stack.prepare(X, what)
        return PreparedData((INPUT,), {INPUT: rows}, {INPUT: self.runtime.stack.feature_names}, labels)

    def score(self, arrays) -> np.ndarray:
        return self.runtime.scores(np.asarray(arrays[INPUT], dtype=np.float64), what="the baseline's rows")

    def gradient(self, arrays):
        raise NBExplainError(
            "BestScore(within='ranges') searches the feature ranges by gradients, and tree outputs have none "
            "(they are constant between thresholds). Use BestScore(reference, within='applicants'): the "
            "best-scoring applicant."
        )


class _Runtime:
    """A stack ready to be explained: scores, the head's jumping part, and the network parts
    planned through the one gradient primitive."""

    def __init__(self, stack: Stack, batch_size: int | None) -> None:
        self.stack = stack
        self.batch_size = batch_size
        self.categorical = np.zeros(stack.n_features, bool)
        for ensemble, columns in zip(stack.ensembles, stack.columns):
            self.categorical[columns[ensemble.categorical_features]] = True
        self._plan: GradientPlan | None = None

    @property
    def explained(self) -> str:
        """The explained score in words, for ``meta["explained"]``."""
        return self.stack.explained

    def plan(self, rows: np.ndarray) -> GradientPlan:
        """The gradient plan of the network part (planned once, from the first rows)."""
        if self._plan is None:
            network = self.stack.network
            if isinstance(self.stack.head, Blend):
                data: Any = rows[:1].astype(np.float32)
                selection = OutputSelection(target=self.stack.head.network_target)
            else:
                head = self.stack.head
                assert isinstance(head, NetworkHead)
                data = [np.zeros((1, self.stack.n_margins), np.float32)] + (
                    [rows[:1].astype(np.float32)] if self.stack.reads_features else []
                )
                selection = OutputSelection(target=head.target)
            self._plan = plan_gradients(network, data, selection)
        return self._plan

    def _network_inputs(self, plan: GradientPlan, margins: np.ndarray | None, rows: np.ndarray | None) -> dict:
        dtype = plan.dtype
        if isinstance(self.stack.head, Blend):
            return {plan.names[0]: np.asarray(rows, dtype=dtype)}
        arrays = {plan.names[0]: np.asarray(margins, dtype=dtype)}
        if len(plan.names) > 1:
            arrays[plan.names[1]] = np.asarray(rows, dtype=dtype)
        return arrays

    def discrete(self, margins: np.ndarray, paths: _Paths, pair: np.ndarray, tau: np.ndarray) -> np.ndarray:
        """The part of ``F`` that jumps with the margins, at ``gamma(tau)`` of path ``pair``:
        ``g(z)`` for heads separable from the features; the network head ``g(z, gamma(tau))``
        otherwise, its points built block by block (memory stays bounded)."""
        if not isinstance(self.stack.head, NetworkHead):
            return self.stack.tree_part(margins)
        plan = self.plan(paths.x)
        out = np.empty(len(margins))
        rows = plan.rows_per_chunk(self.batch_size)
        for first in range(0, len(margins), rows):
            block = slice(first, first + rows)
            points = paths.point(pair[block], tau[block])
            out[block] = plan.scores(
                self._network_inputs(plan, margins[block], points), self.batch_size, what="the network head"
            )
        return out

    def score_of(self, margins: np.ndarray, rows: np.ndarray, labels=None, what="the explained rows") -> np.ndarray:
        """``F`` from the tree margins and the rows (the network parts read the rows)."""
        head = self.stack.head
        if isinstance(head, NetworkHead):
            plan = self.plan(rows)
            return plan.scores(self._network_inputs(plan, margins, rows), self.batch_size, labels, what)
        value = self.stack.tree_part(margins)
        if isinstance(head, Blend):
            plan = self.plan(rows)
            value = value + (1.0 - float(head.weight)) * plan.scores(
                self._network_inputs(plan, None, rows), self.batch_size, labels, what
            )
        return value

    def scores(self, rows: np.ndarray, labels: tuple | None = None, what: str = "the explained rows") -> np.ndarray:
        """``F`` of every row (NaN or inf is an error naming the rows)."""
        value = self.score_of(self.stack.margins_of(rows), rows, labels, what)
        self.check_finite(value, labels, what)
        return value

    @staticmethod
    def check_finite(value: np.ndarray, labels: tuple | None, what: str = "the explained rows") -> None:
        bad = ~np.isfinite(value)
        if bad.any():
            raise NonFiniteScoreError(
                f"The model returned NaN or inf for {int(bad.sum())} of {value.size} of {what} "
                f"(rows {row_list(np.flatnonzero(bad), labels)}): check those rows and the head."
            )

    def segment_integrals(self, paths: _Paths, pair, start, end, margins, steps: int, rule: str) -> np.ndarray:
        """Per path, the sum over its segments of ``(gamma(end) - gamma(start)) * mean over the
        segment of dg/dx(z, gamma(t))`` (``(m, p)``): ``rule`` with ``steps`` points on each
        segment, in blocks of path points through the one gradient primitive (``path_integral``
        of Integrated Gradients; the margins input, constant on a segment, gets a path of one point)."""
        plan = self.plan(paths.x)
        nodes, weights = quadrature(rule, steps)
        out = np.zeros(paths.x.shape)
        per_call = max(1, plan.rows_per_chunk(self.batch_size) // steps)
        feature_input = plan.names[0] if isinstance(self.stack.head, Blend) else plan.names[1]
        for first in range(0, len(pair), per_call):
            block = slice(first, first + per_call)
            lower, upper = paths.point(pair[block], start[block]), paths.point(pair[block], end[block])
            held = None if margins is None else margins[block]
            x, b = self._network_inputs(plan, held, upper), self._network_inputs(plan, held, lower)
            integrals = path_integral(plan.function, x, b, nodes, weights)[feature_input]
            np.add.at(out, pair[block], integrals.reshape(upper.shape) * (upper - lower))
        scale = 1.0 - float(self.stack.head.weight) if isinstance(self.stack.head, Blend) else 1.0
        return scale * out


def _whole(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


__all__ = ["GeneralizedIntegratedGradients"]
