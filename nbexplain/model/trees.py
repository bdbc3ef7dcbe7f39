"""Tree ensembles read exactly as their libraries predict, into one vectorised representation.

Readers turn an XGBoost, LightGBM or scikit-learn model into a :class:`TreeEnsemble`: flat node
arrays over all trees (split feature, threshold, children, direction of a missing value, leaf
contributions to each margin column, categorical split tables), the library's comparison and
input precision, and the constant margin offset. ``ensemble.margin(X)`` then reproduces

=======================  =====================================  ===========  ======  ================
library / model          margin (``margin(X)`` equals ...)      left when    input   missing value
=======================  =====================================  ===========  ======  ================
XGBoost Booster / XGB*   ``predict(output_margin=True)``        ``x < c``    float32 ``default_left``
LightGBM Booster / LGBM* ``predict(raw_score=True)``            ``x <= c``   float64 ``missing_type``
sklearn trees, forests   ``predict`` / ``predict_proba``        ``x <= c``   float32 ``missing_go_to_left``
sklearn GradientBoosting ``decision_function`` / ``predict``    ``x <= c``   float32 refused (as sklearn)
sklearn HistGB*          ``decision_function`` / raw predict    ``x <= c``   float64 ``missing_go_to_left``
=======================  =====================================  ===========  ======  ================

(a forest classifier's margin is its class-probability average). Categorical splits: XGBoost
sends the listed categories right and everything else (including negative or huge codes) left;
LightGBM sends the listed categories left and everything else (negative codes, NaN) right; both
truncate a code to an integer. scikit-learn's HistGradientBoosting maps each raw category through
its ordinal encoder (an unknown value counts as missing). LightGBM reads ``|x| <= 1e-35`` as 0 (it
stores such values as absent), its ``missing_type`` "Zero" sends 0 (and NaN) the default way and
"None" reads NaN as 0. Every reader checks
itself at read time: margins of probe rows built around the model's own thresholds must equal
the library's prediction, or the model is refused.

The straight path between a baseline ``b`` and an applicant ``x`` (used by Generalized
Integrated Gradients) is read off the same arrays, without ever rounding a point of it: at
``t = 0`` every node decides as the library does for ``b`` (``L0``), at ``t = 1`` as for ``x``
(``L1``), and in between each node of feature ``j`` decides by the plain comparison of a point
strictly between them: ``A`` just after ``b``, ``Z`` just before ``x``, switching once at
``t_c = (c - b_j) / (x_j - b_j)`` when ``A != Z``. A node can therefore change its decision at
``t = 0`` (``L0 != A``: ``b`` sits exactly on a threshold, or is a LightGBM "zero" missing value),
at ``t_c`` and at ``t = 1`` (``Z != L1``). A *step* coordinate (missing in ``b`` or ``x`` but not
both, or a categorical feature) does not move continuously: it keeps ``b_j`` for ``t < 1/2`` and
takes ``x_j`` after, so its nodes switch from ``L0`` to ``L1`` at ``t = 1/2``.
"""

from __future__ import annotations

import hashlib
import json
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InputDataError, NBExplainError, require, row_list, unknown_name
from .inputs import _to_array

#: LightGBM's ``kZeroThreshold`` (1e-35 as a C float): ``|x| <= this`` is zero for "Zero" missing values.
ZERO_THRESHOLD = float(np.float32(1e-35))
#: Categorical codes at or above this are invalid for XGBoost (sent left, like an unlisted code).
XGBOOST_MAX_CATEGORY = 16777216
#: (path, tree) entries per chunk of the vectorised passes: bounds their memory.
CHUNK_ENTRIES = 2**20
#: Categorical table entries: go left, go right, or the node's "other" direction.
_LEFT, _RIGHT, _OTHER = 0, 1, 2
#: Largest interior crossing time: interior crossings never land on t = 1 by rounding.
_BEFORE_ONE = float(np.nextafter(1.0, 0.0))
_AFTER_ZERO = float(np.finfo(np.float64).tiny)


class UnsupportedModelError(NBExplainError):
    """A model nbexplain cannot read exactly as its library predicts (kind, option or objective)."""


# --------------------------------------------------------------------------- input rows
def prepare_rows(
    X: Any, feature_names: tuple, allow_missing: bool, what: str = "data", missing_hint: str = ""
) -> tuple[np.ndarray, tuple]:
    """``X`` as a float64 ``(n, p)`` array in the order ``feature_names`` and its row labels.

    A DataFrame is matched by column NAME (a permutation is reordered, a missing or extra column
    is an error naming it); arrays are taken by position. NaN is a missing value (refused when
    ``allow_missing`` is false, naming the rows and columns); inf is always refused.
    """
    import pandas as pd

    if isinstance(X, pd.DataFrame):
        categorical = [str(c) for c, dtype in X.dtypes.items() if isinstance(dtype, pd.CategoricalDtype)]
        if categorical:
            raise InputDataError(
                f"{what}: column(s) {categorical} have pandas 'category' dtype. Pass the integer codes the "
                "model splits on (for example df[column].cat.codes, with -1 replaced by NaN)."
            )
    array, _, index = _to_array(X, what, list(feature_names))
    array = np.asarray(array, dtype=np.float64)
    if array.ndim == 1:
        array = array[None]
    if array.ndim != 2:
        raise InputDataError(f"{what}: tree models take a table (rows x features); got shape {array.shape}.")
    if array.shape[1] != len(feature_names):
        raise InputDataError(
            f"{what}: the model reads {len(feature_names)} features {list(feature_names)[:10]}"
            f"{' ...' if len(feature_names) > 10 else ''}; the data has {array.shape[1]} columns."
        )
    if array.shape[0] == 0:
        raise InputDataError(f"{what} is empty (0 rows): there is nothing to explain.")
    labels = tuple(range(len(array))) if index is None else tuple(index)
    shown_labels = None if labels == tuple(range(len(array))) else labels
    for bad, kind, allowed in ((np.isinf(array), "inf", False), (np.isnan(array), "NaN", allow_missing)):
        if not allowed and bad.any():
            rows, columns = np.flatnonzero(bad.any(axis=1)), np.flatnonzero(bad.any(axis=0))
            raise InputDataError(
                f"{what} has {kind} in {len(rows)} row(s) ({row_list(rows, shown_labels)}) and feature(s) "
                f"{[feature_names[c] for c in columns][:20]}. "
                + (missing_hint or "Impute or drop those rows before explaining.")
            )
    return np.ascontiguousarray(array), labels


def _add_cause(cause: np.ndarray, several: np.ndarray, feature: np.ndarray, where: np.ndarray) -> tuple:
    """Record ``feature`` as a cause of a boundary where ``where``: the first one is kept, a
    second different one sets ``several``."""
    new = where & (cause < 0)
    other = where & (cause >= 0) & (cause != feature)
    return np.where(new, feature, cause), several | other


# --------------------------------------------------------------------------- the ensemble
@dataclass(frozen=True, eq=False)
class PathView:
    """A chunk of straight paths in one ensemble's input space: rows of ``x`` and ``b`` cast to the
    library's precision (float64 arrays holding those values) and the step coordinates."""

    x: np.ndarray
    b: np.ndarray
    step: np.ndarray

    @property
    def n(self) -> int:
        return int(self.x.shape[0])


@dataclass(frozen=True, eq=False)
class PathSides:
    """Where tree outputs change along the paths of a :class:`PathView`.

    Every visited leaf of every tree contributes a *side* at each end of the time interval it
    holds: ``+value`` where it starts (``sign`` +1) and ``-value`` where it ends (-1), at time
    ``tau``, caused by the features whose nodes switch there on that leaf's root path (``cause``,
    a local feature index; ``several`` when more than one feature switches there). Summing the
    sides of a tree up to a time telescopes to its output there minus its output at ``b``.
    """

    pair: np.ndarray
    tree: np.ndarray
    leaf: np.ndarray
    tau: np.ndarray
    sign: np.ndarray
    cause: np.ndarray
    several: np.ndarray
    start_leaf: np.ndarray  # (n, T) leaf of every tree at b
    end_leaf: np.ndarray  # (n, T) leaf of every tree at x

    def subset(self, keep: np.ndarray) -> PathSides:
        """The sides where ``keep`` is true (the leaves at both ends unchanged)."""
        fields = (self.pair, self.tree, self.leaf, self.tau, self.sign, self.cause, self.several)
        pair, tree, leaf, tau, sign, cause, several = (f[keep] for f in fields)
        return PathSides(pair, tree, leaf, tau, sign, cause, several, self.start_leaf, self.end_leaf)


class TreeEnsemble:
    """A tree ensemble as flat node arrays, predicting exactly as its library.

    Build it with :func:`read_trees` (any supported model); ``margin(X)`` gives the library's raw
    score, one column per output (class margin, or class probability for forest classifiers).

    Attributes
    ----------
    feature_names : tuple of str
        The features the model reads, in its own order (a DataFrame is matched by name).
    output_names : tuple of str
        What each margin column is (for example ``"log-odds of class 1"``).
    classes : tuple or None
        Class labels of a classifier.
    link : str or None
        How the margin becomes the library's prediction: ``"identity"``, ``"sigmoid"``,
        ``"softmax"``, ``"exp"`` or None (not a probability).
    link_scale : float
        LightGBM's ``sigmoid`` parameter: ``p = 1 / (1 + exp(-scale * margin))``.
    """

    def __init__(
        self,
        *,
        trees: list,
        n_outputs: int,
        bias: np.ndarray,
        feature_names: tuple,
        strict: bool,
        input_dtype: str,
        category_rule: str,
        accepts_missing: bool,
        output_names: tuple,
        classes: tuple | None,
        link: str | None,
        link_scale: float = 1.0,
        source: dict,
        category_vocabulary: dict | None = None,
        tiny_is_zero: bool = False,
    ) -> None:
        self.feature_names = tuple(str(f) for f in feature_names)
        self.n_outputs = int(n_outputs)
        self.bias = np.asarray(bias, dtype=np.float64).reshape(self.n_outputs)
        self.strict = bool(strict)
        self.input_dtype = input_dtype
        self.category_rule = category_rule
        self.accepts_missing = bool(accepts_missing)
        self.output_names = tuple(output_names)
        self.classes = None if classes is None else tuple(classes)
        self.link = link
        self.link_scale = float(link_scale)
        self.source = dict(source)
        self.category_vocabulary = {int(k): np.asarray(v, float) for k, v in (category_vocabulary or {}).items()}
        self.tiny_is_zero = bool(tiny_is_zero)
        self._assemble(trees)

    # ------------------------------------------------------------------ building
    def _assemble(self, trees: list) -> None:
        """Concatenate per-tree arrays (local child indices) into one node table."""
        if not trees:
            raise UnsupportedModelError("The model has no trees: there is nothing to explain.")
        sizes = np.array([len(t["feature"]) for t in trees])
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        self.roots = offsets.astype(np.int64)
        self.feature = np.concatenate([np.asarray(t["feature"], np.int64) for t in trees])
        self.threshold = np.concatenate([np.asarray(t["threshold"], np.float64) for t in trees])
        shift = np.repeat(offsets, sizes)
        children = {}
        for side in ("left", "right"):
            local = np.concatenate([np.asarray(t[side], np.int64) for t in trees])
            children[side] = np.where(local >= 0, local + shift, -1)
        self.left, self.right = children["left"], children["right"]
        self.nan_left = np.concatenate([np.asarray(t["nan_left"], bool) for t in trees])
        self.zero_missing = np.concatenate(
            [np.asarray(t.get("zero_missing", np.zeros(n, bool))) for t, n in zip(trees, sizes)]
        )
        self.value = np.concatenate(
            [np.asarray(t["value"], np.float64).reshape(n, self.n_outputs) for t, n in zip(trees, sizes)]
        )
        self.tree_of_node = np.repeat(np.arange(len(trees)), sizes)
        internal = self.feature >= 0
        if internal.any() and (self.left[internal].min() < 0 or self.right[internal].min() < 0):
            raise UnsupportedModelError("A split node without two children: the model file is damaged.")
        if internal.any() and self.feature[internal].max() >= len(self.feature_names):
            raise UnsupportedModelError(
                f"A split reads feature {int(self.feature[internal].max())} but the model declares "
                f"{len(self.feature_names)} features."
            )
        self.value[internal] = 0.0
        # categorical tables: one row per categorical node, codes 0..width-1
        category_row = np.full(len(self.feature), -1, np.int64)
        other_left = np.zeros(len(self.feature), bool)
        rows: list[Any] = []
        width = 1
        for tree, offset in zip(trees, offsets):
            for node, (left_set, right_set, other) in tree.get("categories", {}).items():
                category_row[offset + node] = len(rows)
                other_left[offset + node] = bool(other)
                rows.append((left_set, right_set))
                width = max(width, 1 + max([int(c) for c in (*left_set, *right_set)] or [0]))
        table = np.full((max(len(rows), 1), width), _OTHER, np.int8)
        for r, (left_set, right_set) in enumerate(rows):
            table[r, np.asarray(list(right_set), np.int64)] = _RIGHT
            table[r, np.asarray(list(left_set), np.int64)] = _LEFT
        self.category_row, self.other_left, self.category_table = category_row, other_left, table
        self.categorical_features = np.zeros(len(self.feature_names), bool)
        self.categorical_features[np.unique(self.feature[category_row >= 0])] = True
        self.has_categorical = bool(rows)
        self.has_zero_missing = bool(self.zero_missing.any())
        depth = np.zeros(len(self.feature), np.int64)
        for level in range(len(self.feature)):  # breadth-first depths (bounded by the deepest tree)
            parents = np.flatnonzero((depth == level) & internal)
            if parents.size == 0:
                break
            depth[self.left[parents]] = level + 1
            depth[self.right[parents]] = level + 1
        self.max_depth = int(depth.max())
        #: at most two sides per leaf a path visits, and the two ends
        self.max_sides = int(2 * np.bincount(self.tree_of_node[~internal]).max() + 4)
        for array in (self.feature, self.threshold, self.left, self.right, self.nan_left, self.value, self.roots):
            array.flags.writeable = False

    # ------------------------------------------------------------------ structure
    @property
    def n_trees(self) -> int:
        return int(self.roots.size)

    @property
    def n_features(self) -> int:
        return len(self.feature_names)

    def split_thresholds(self) -> dict:
        """``{feature: sorted distinct numeric thresholds}`` over all trees (categorical splits
        are listed under :attr:`categorical_features` instead)."""
        numeric = (self.feature >= 0) & (self.category_row < 0)
        return {
            name: np.unique(self.threshold[numeric & (self.feature == j)]) for j, name in enumerate(self.feature_names)
        }

    def fingerprint(self) -> str:
        """SHA-256 (16 hex digits) of the ensemble as read: node arrays, leaf values, categorical
        tables, offset and decision rules. Equal fingerprints mean the same function."""
        digest = hashlib.sha256(
            json.dumps(
                [
                    self.source.get("library"),
                    self.feature_names,
                    self.strict,
                    self.input_dtype,
                    self.category_rule,
                    self.tiny_is_zero,
                ],
                default=str,
            ).encode()
        )
        for array in (
            self.feature,
            self.threshold,
            self.left,
            self.right,
            self.nan_left,
            self.zero_missing,
            self.value,
            self.bias,
            self.category_row,
            self.other_left,
            self.category_table,
        ):
            digest.update(np.ascontiguousarray(array).tobytes())
        return digest.hexdigest()[:16]

    # ------------------------------------------------------------------ saving
    def to_record(self) -> dict:
        """The ensemble as plain JSON-able data (per-tree node lists, the decision rules and the
        categorical sets): :meth:`from_record` rebuilds the same function, with the same
        fingerprint, without the library that trained it and without pickle."""
        ends = np.append(self.roots[1:], len(self.feature))
        trees = []
        for start, end in zip(self.roots.tolist(), ends.tolist()):
            local = slice(start, end)
            children = {
                side: np.where(nodes >= 0, nodes - start, -1)
                for side, nodes in (("left", self.left[local]), ("right", self.right[local]))
            }
            categories = {}
            for node in np.flatnonzero(self.category_row[local] >= 0).tolist():
                row = self.category_table[self.category_row[start + node]]
                categories[str(node)] = [
                    np.flatnonzero(row == _LEFT).tolist(),
                    np.flatnonzero(row == _RIGHT).tolist(),
                    bool(self.other_left[start + node]),
                ]
            trees.append(
                {
                    "feature": self.feature[local].tolist(),
                    "threshold": self.threshold[local].tolist(),
                    "left": children["left"].tolist(),
                    "right": children["right"].tolist(),
                    "nan_left": self.nan_left[local].tolist(),
                    "zero_missing": self.zero_missing[local].tolist(),
                    "value": self.value[local].tolist(),
                    "categories": categories,
                }
            )
        return {
            "trees": trees,
            "n_outputs": self.n_outputs,
            "bias": self.bias.tolist(),
            "feature_names": list(self.feature_names),
            "strict": self.strict,
            "input_dtype": self.input_dtype,
            "category_rule": self.category_rule,
            "accepts_missing": self.accepts_missing,
            "output_names": list(self.output_names),
            "classes": None if self.classes is None else list(self.classes),
            "link": self.link,
            "link_scale": self.link_scale,
            "source": json.loads(json.dumps(self.source, default=str)),
            "category_vocabulary": {str(k): v.tolist() for k, v in self.category_vocabulary.items()},
            "tiny_is_zero": self.tiny_is_zero,
        }

    @classmethod
    def from_record(cls, record: dict) -> TreeEnsemble:
        """The ensemble :meth:`to_record` wrote (a damaged record is an error saying so)."""
        try:
            trees = [
                {
                    **{key: tree[key] for key in ("feature", "threshold", "left", "right", "nan_left", "zero_missing")},
                    "value": np.asarray(tree["value"], np.float64),
                    "categories": {
                        int(node): (set(left), set(right), bool(other))
                        for node, (left, right, other) in tree["categories"].items()
                    },
                }
                for tree in record["trees"]
            ]
            options = {key: record[key] for key in ("n_outputs", "feature_names", "strict", "input_dtype")}
            classes = record["classes"]
            return cls(
                trees=trees,
                bias=np.asarray(record["bias"], np.float64),
                category_rule=record["category_rule"],
                accepts_missing=record["accepts_missing"],
                output_names=tuple(record["output_names"]),
                classes=None if classes is None else tuple(classes),
                link=record["link"],
                link_scale=record["link_scale"],
                source=record["source"],
                category_vocabulary={int(k): v for k, v in record["category_vocabulary"].items()},
                tiny_is_zero=record["tiny_is_zero"],
                **options,
            )
        except (KeyError, TypeError, ValueError) as error:
            raise UnsupportedModelError(
                f"The saved tree ensemble is damaged ({error!r}); save the model again."
            ) from None

    def describe(self) -> dict:
        """What was read, for a result's meta."""
        return {
            **self.source,
            "trees": self.n_trees,
            "max_depth": self.max_depth,
            "outputs": list(self.output_names),
            "comparison": "x < threshold goes left" if self.strict else "x <= threshold goes left",
            "input_precision": self.input_dtype,
            "fingerprint": self.fingerprint(),
        }

    def output_column(self, target: Any = None) -> int:
        """The margin column explained for ``target`` (a class index or label; None for a single
        margin). A binary classifier with one margin explains its positive class."""
        if self.n_outputs == 1:
            positive = None if self.classes is None or len(self.classes) != 2 else self.classes[1]
            if target is None or (positive is not None and (target == positive or target == 1)):
                return 0
            raise NBExplainError(
                f"This model has one margin ({self.output_names[0]}); target={target!r} is not it. "
                "Leave target out (the margin is the positive class's log-odds)."
            )
        if target is None:
            raise NBExplainError(
                f"This model has {self.n_outputs} margins {list(self.output_names)}: choose one with target= "
                "(a class index or label)."
            )
        if self.classes is not None and target in self.classes:
            return self.classes.index(target)
        if isinstance(target, (int, np.integer)) and not isinstance(target, bool) and 0 <= target < self.n_outputs:
            return int(target)
        raise unknown_name("target", target, self.classes if self.classes is not None else range(self.n_outputs))

    # ------------------------------------------------------------------ prediction
    def prepare(self, X: Any, what: str = "data") -> tuple[np.ndarray, tuple]:
        """Check rows for this model (names matched, NaN only where the library accepts it)."""
        hint = (
            "" if self.accepts_missing else f"{self.source.get('model')} does not accept missing values: impute them."
        )
        return prepare_rows(X, self.feature_names, self.accepts_missing, what, hint)

    def cast(self, array: np.ndarray) -> np.ndarray:
        """Values as the library reads them, held in float64: rounded to float32 where it casts;
        ``|x| <= 1e-35`` read as 0 by LightGBM (it stores such values as absent, i.e. zero)."""
        if self.input_dtype == "float32":
            return array.astype(np.float32).astype(np.float64)
        if self.tiny_is_zero:
            return np.where(np.abs(array) <= ZERO_THRESHOLD, 0.0, array)
        return array

    def margin(self, X: Any) -> np.ndarray:
        """The library's raw score of every row, ``(n, outputs)`` float64."""
        array, _ = self.prepare(X)
        return self.margin_of(self.cast(array))

    def margin_of(self, values: np.ndarray, backend: str = "auto") -> np.ndarray:
        """Margins of rows already checked and cast (``(n, p)`` in this model's feature order)."""
        out = np.empty((len(values), self.n_outputs))
        for rows in _chunks(len(values), self.n_trees):
            leaves = self.leaves(values[rows], backend)
            out[rows] = self.bias + self.value[leaves].sum(axis=1)
        return out

    def leaves(self, values: np.ndarray, backend: str = "auto") -> np.ndarray:
        """Leaf reached in every tree by every row, ``(n, T)`` global node ids (breadth-first over
        depth, all rows and trees at once; or the compiled loop of the numba backend)."""
        n = len(values)
        if use_numba(backend):
            out = np.empty((n, self.n_trees), np.int64)
            _compiled()["leaves"](self._tables(), self.roots, np.ascontiguousarray(values, np.float64), out)
            return out
        node = np.broadcast_to(self.roots, (n, self.n_trees)).copy()
        row = np.broadcast_to(np.arange(n)[:, None], node.shape)
        active = np.flatnonzero(self.feature[node.ravel()] >= 0)
        flat, rows = node.ravel(), row.ravel()
        while active.size:
            current = flat[active]
            left = self.goes_left(values[rows[active], self.feature[current]], current)
            flat[active] = np.where(left, self.left[current], self.right[current])
            active = active[self.feature[flat[active]] >= 0]
        return flat.reshape(n, self.n_trees)

    def goes_left(self, values: np.ndarray, nodes: np.ndarray) -> np.ndarray:
        """The library's decision at ``nodes`` for ``values`` (already cast): True means left."""
        with np.errstate(invalid="ignore"):
            left = values < self.threshold[nodes] if self.strict else values <= self.threshold[nodes]
        missing = np.isnan(values)
        if self.has_zero_missing:
            missing |= self.zero_missing[nodes] & (np.abs(values) <= ZERO_THRESHOLD)
        left = np.where(missing, self.nan_left[nodes], left)
        if self.has_categorical:
            rows = self.category_row[nodes]
            categorical = np.flatnonzero(rows >= 0)
            if categorical.size:
                left[categorical] = self._categorical_left(values[categorical], nodes[categorical], rows[categorical])
        return left

    def _categorical_left(self, values: np.ndarray, nodes: np.ndarray, rows: np.ndarray) -> np.ndarray:
        codes = self._category_codes(values, self.feature[nodes])
        width = self.category_table.shape[1]
        inside = (codes >= 0) & (codes < width)
        decision = np.full(len(values), _OTHER, np.int8)
        decision[inside] = self.category_table[rows[inside], codes[inside]]
        left = np.where(decision == _OTHER, self.other_left[nodes], decision == _LEFT)
        return np.where(np.isnan(values), self.nan_left[nodes], left)

    def _category_codes(self, values: np.ndarray, features: np.ndarray) -> np.ndarray:
        """Integer category of each value (-1: not a category the tables list)."""
        codes = np.full(len(values), -1, np.int64)
        finite = np.isfinite(values)
        if self.category_rule == "exact":  # scikit-learn: the ordinal encoder's exact categories
            for feature in np.unique(features):
                vocabulary = self.category_vocabulary.get(int(feature), np.empty(0))
                here = np.flatnonzero((features == feature) & finite)
                position = np.searchsorted(vocabulary, values[here]).clip(0, max(len(vocabulary) - 1, 0))
                found = vocabulary.size > 0
                match = found & (vocabulary[position] == values[here]) if found else np.zeros(here.size, bool)
                codes[here[match]] = position[match]
            return codes
        truncated = np.trunc(np.where(finite, values, -1.0))
        if self.category_rule == "xgboost":  # negative or too large before truncation: invalid
            valid = finite & (values >= 0) & (values < XGBOOST_MAX_CATEGORY)
        else:  # LightGBM: negative after truncation toward zero
            valid = finite & (truncated >= 0) & (truncated < 2**31 - 1)
        codes[valid] = truncated[valid].astype(np.int64)
        return codes

    # ------------------------------------------------------------------ straight paths
    def path_view(self, x: np.ndarray, b: np.ndarray, step: np.ndarray) -> PathView:
        """Paths from rows of ``b`` to rows of ``x`` (this model's feature order), with ``step``
        marking coordinates that jump at t = 1/2 (see the module docstring)."""
        return PathView(self.cast(x), self.cast(b), step | self.categorical_features[None, :])

    def node_states(self, view: PathView, pair: np.ndarray, nodes: np.ndarray) -> tuple:
        """Decisions of ``nodes`` along path ``pair``: ``(feature, L0, A, Z, L1, t_c)``.

        ``L0``/``L1``: the library's decision at b / x; ``A``/``Z``: just after b / just before x;
        ``t_c``: the interior time where the decision goes from ``A`` to ``Z`` (meaningful where
        ``A != Z``; 1/2 for step coordinates)."""
        feature = self.feature[nodes]
        threshold = self.threshold[nodes]
        b, x = view.b[pair, feature], view.x[pair, feature]
        start, end = self.goes_left(b, nodes), self.goes_left(x, nodes)
        with np.errstate(invalid="ignore"):
            up, down = x > b, x < b
            after_start = np.where(up, b < threshold, np.where(down, b <= threshold, start))
            before_end = np.where(up, x <= threshold, np.where(down, x < threshold, end))
        step = view.step[pair, feature]
        after_start = np.where(step, start, after_start)
        before_end = np.where(step, end, before_end)
        time = np.full(len(nodes), 0.5)
        numeric = np.flatnonzero((after_start != before_end) & ~step)
        if numeric.size:
            time[numeric] = np.clip(
                (threshold[numeric] - b[numeric]) / (x[numeric] - b[numeric]), _AFTER_ZERO, _BEFORE_ONE
            )
        return feature, start, after_start, before_end, end, time

    def path_additive(
        self,
        view: PathView,
        leaf_score: np.ndarray,
        columns: np.ndarray,
        width: int,
        backend: str = "auto",
        threads: int = 1,
    ) -> tuple[np.ndarray, PathSides, np.ndarray]:
        """For a score linear in the margins (``leaf_score``: each node's weighted value): every
        side credited to its cause, ``(m, width)`` at ``columns[cause]``; the sides where several
        features switch (to be re-split as ties), with the leaves at both ends; and the crossings
        of every path.

        A side where several features switch is credited to the first of them, which is the
        feature of the node where the leaves before and after part (the shallowest switching
        node of either leaf's path): so each tree's tie is credited whole to one feature, and a
        tie game corrects it by its Shapley split."""
        if use_numba(backend):
            attributions = np.zeros((view.n, width))
            sides, crossings = self._compiled_sides(view, True, leaf_score, columns, attributions, threads)
            return attributions, sides, crossings
        sides = self.path_sides(view, "numpy")
        contribution = sides.sign * leaf_score[sides.leaf]
        flat = sides.pair * width + columns[sides.cause]
        credited = np.bincount(flat, weights=contribution, minlength=view.n * width).reshape(view.n, width)
        crossings = np.bincount(sides.pair[sides.sign > 0], minlength=view.n)
        return credited, sides.subset(sides.several), crossings

    def _compiled_sides(self, view, accumulate, leaf_score, columns, attributions, threads=1) -> tuple:
        """The numba sweep over blocks of rows, one block per thread (the kernel releases the GIL)."""
        blocks = [
            slice(start, min(start + -(-view.n // threads), view.n))
            for start in range(0, view.n, -(-view.n // threads))
        ]
        if len(blocks) == 1:
            return self._compiled_block(view, accumulate, leaf_score, columns, attributions)
        from concurrent.futures import ThreadPoolExecutor

        def run(rows):
            part = PathView(view.x[rows], view.b[rows], view.step[rows])
            return self._compiled_block(part, accumulate, leaf_score, columns, attributions[rows])

        with ThreadPoolExecutor(len(blocks)) as pool:
            results = list(pool.map(run, blocks))
        fields = [
            np.concatenate(
                [
                    getattr(sides, name) + (rows.start if name == "pair" else 0)
                    for (sides, _), rows in zip(results, blocks)
                ]
            )
            for name in ("pair", "tree", "leaf", "tau", "sign", "cause", "several", "start_leaf", "end_leaf")
        ]
        return PathSides(*fields), np.concatenate([crossings for _, crossings in results])

    def _compiled_block(self, view, accumulate, leaf_score, columns, attributions) -> tuple:
        """The numba sweep of one block; its side arrays grown and the sweep rerun when too small."""
        capacity = max(1024, 4 * view.n * self.n_trees) if not accumulate else max(1024, view.n * 4)
        x, b = np.ascontiguousarray(view.x), np.ascontiguousarray(view.b)
        step = np.ascontiguousarray(view.step)
        while True:
            outputs = (
                np.empty(capacity, np.int64),
                np.empty(capacity, np.int64),
                np.empty(capacity, np.int64),
                np.empty(capacity, np.float64),
                np.empty(capacity, np.int8),
                np.empty(capacity, np.int64),
                np.empty(capacity, np.bool_),
            )
            start_leaf = np.empty((view.n, self.n_trees), np.int64)
            end_leaf = np.empty((view.n, self.n_trees), np.int64)
            crossings = np.zeros(view.n, np.int64)
            attributions[:] = 0.0
            count = _compiled()["sweep"](
                self._tables(),
                self.roots,
                x,
                b,
                step,
                self.max_depth,
                self.max_sides,
                accumulate,
                np.ascontiguousarray(leaf_score, np.float64),
                np.ascontiguousarray(columns, np.int64),
                attributions,
                outputs,
                start_leaf,
                end_leaf,
                crossings,
            )
            if count <= capacity:
                pair, tree, leaf, tau, sign, cause, several = (o[:count] for o in outputs)
                return PathSides(pair, tree, leaf, tau, sign, cause, several, start_leaf, end_leaf), crossings
            capacity = int(count)

    def _tables(self) -> tuple:
        """The node arrays and decision rules as one tuple for the compiled kernels."""
        if not hasattr(self, "_compiled_tables"):
            vocabulary = [self.category_vocabulary.get(j, np.empty(0)) for j in range(self.n_features)]
            offsets = np.concatenate([[0], np.cumsum([v.size for v in vocabulary])]).astype(np.int64)
            self._compiled_tables = (
                self.feature,
                self.threshold,
                self.left,
                self.right,
                self.nan_left,
                np.ascontiguousarray(self.zero_missing),
                self.category_row,
                self.other_left,
                np.ascontiguousarray(self.category_table),
                np.concatenate([np.empty(0), *vocabulary]),
                offsets,
                self.strict,
                {"xgboost": 0, "lightgbm": 1, "exact": 2}[self.category_rule],
            )
        return self._compiled_tables

    def path_sides(self, view: PathView, backend: str = "auto", threads: int = 1) -> PathSides:
        """Every change of every tree's leaf along every path, as :class:`PathSides`.

        Breadth-first over depth for all (path, tree) entries at once: an entry holds a node and
        the open time interval ``(lo, hi)`` of the path that reaches it; a node whose decision
        switches inside the interval splits it in two. The leaves at ``b`` and at ``x`` are found
        by two plain descents that also record which nodes switch at t = 0 and t = 1. (The numba
        backend runs the same rules depth-first, one path and tree at a time.)
        """
        if use_numba(backend):
            empty = np.zeros((view.n, 0))
            return self._compiled_sides(view, False, np.zeros(1), np.zeros(1, np.int64), empty, threads)[0]
        n, trees = view.n, self.n_trees
        pieces = []
        pair = np.repeat(np.arange(n), trees)
        tree = np.tile(np.arange(trees), n)
        node = self.roots[tree]
        lo, hi = np.zeros(pair.size), np.ones(pair.size)
        lo_cause, hi_cause = np.full(pair.size, -1), np.full(pair.size, -1)
        lo_several, hi_several = np.zeros(pair.size, bool), np.zeros(pair.size, bool)
        while pair.size:
            at_leaf = self.feature[node] < 0
            if at_leaf.any():
                pieces.append(
                    (pair[at_leaf], tree[at_leaf], node[at_leaf], lo[at_leaf], hi[at_leaf])
                    + (lo_cause[at_leaf], lo_several[at_leaf], hi_cause[at_leaf], hi_several[at_leaf])
                )
                keep = ~at_leaf
                pair, tree, node, lo, hi = pair[keep], tree[keep], node[keep], lo[keep], hi[keep]
                lo_cause, hi_cause = lo_cause[keep], hi_cause[keep]
                lo_several, hi_several = lo_several[keep], hi_several[keep]
                if not pair.size:
                    break
            feature, start, after_start, before_end, end, time = self.node_states(view, pair, node)
            crosses = after_start != before_end
            at_start, at_end = lo == 0.0, hi == 1.0
            # the part before the switch (all of it when the node does not switch inside)
            cut = crosses & (time < hi)
            keep_a = ~crosses | (time > lo)
            a_lo_cause, a_lo_several = _add_cause(lo_cause, lo_several, feature, at_start & (start != after_start))
            a_hi_cause = np.where(cut, feature, hi_cause)
            a_hi_several = np.where(cut, False, hi_several)
            touches = (crosses & (time == hi)) | (~crosses & at_end & (before_end != end))
            a_hi_cause, a_hi_several = _add_cause(a_hi_cause, a_hi_several, feature, touches)
            a_hi = np.where(cut, time, hi)
            a_node = np.where(after_start, self.left[node], self.right[node])
            # the part after the switch
            keep_z = cut
            later = time > lo
            z_lo_cause = np.where(later, feature, lo_cause)
            z_lo_several = np.where(later, False, lo_several)
            z_lo_cause, z_lo_several = _add_cause(z_lo_cause, z_lo_several, feature, time == lo)
            z_hi_cause, z_hi_several = _add_cause(hi_cause, hi_several, feature, at_end & (before_end != end))
            z_lo = np.where(later, time, lo)
            z_node = np.where(before_end, self.left[node], self.right[node])
            a, z = np.flatnonzero(keep_a), np.flatnonzero(keep_z)
            pair = np.concatenate([pair[a], pair[z]])
            tree = np.concatenate([tree[a], tree[z]])
            node = np.concatenate([a_node[a], z_node[z]])
            lo = np.concatenate([lo[a], z_lo[z]])
            hi = np.concatenate([a_hi[a], hi[z]])
            lo_cause = np.concatenate([a_lo_cause[a], z_lo_cause[z]])
            lo_several = np.concatenate([a_lo_several[a], z_lo_several[z]])
            hi_cause = np.concatenate([a_hi_cause[a], z_hi_cause[z]])
            hi_several = np.concatenate([a_hi_several[a], z_hi_several[z]])
        interior = [np.concatenate(parts) for parts in zip(*pieces)]
        start_leaf, start_cause, start_several = self._endpoint_descent(view, at_start=True)
        end_leaf, end_cause, end_several = self._endpoint_descent(view, at_start=False)
        i_pair, i_tree, i_leaf, i_lo, i_hi, i_lo_cause, i_lo_several, i_hi_cause, i_hi_several = interior
        every = np.arange(n * trees)
        parts: list[tuple[Any, ...]] = [  # (pair, tree, leaf, tau, sign, cause, several)
            (i_pair, i_tree, i_leaf, i_lo, 1, i_lo_cause, i_lo_several),
            (i_pair, i_tree, i_leaf, i_hi, -1, i_hi_cause, i_hi_several),
            (every // trees, every % trees, start_leaf.ravel(), 0.0, -1, start_cause, start_several),
            (every // trees, every % trees, end_leaf.ravel(), 1.0, 1, end_cause, end_several),
        ]
        kept = [tuple(np.broadcast_to(v, p[0].shape)[p[5] >= 0] for v in p) for p in parts]
        s_pair, s_tree, s_leaf, s_tau, s_sign, s_cause, s_several = (np.concatenate(c) for c in zip(*kept))
        return PathSides(
            s_pair,
            s_tree,
            s_leaf,
            s_tau.astype(np.float64),
            s_sign.astype(np.int8),
            s_cause,
            s_several,
            start_leaf,
            end_leaf,
        )

    def _endpoint_descent(self, view: PathView, at_start: bool) -> tuple:
        """Leaves at b (``at_start``) or at x, with the features whose nodes on the way switch at
        that end of the path (``L0 != A`` at t = 0, ``Z != L1`` at t = 1)."""
        n, trees = view.n, self.n_trees
        pair = np.repeat(np.arange(n), trees)
        node = self.roots[np.tile(np.arange(trees), n)]
        cause, several = np.full(pair.size, -1), np.zeros(pair.size, bool)
        active = np.flatnonzero(self.feature[node] >= 0)
        while active.size:
            feature, start, after_start, before_end, end, _ = self.node_states(view, pair[active], node[active])
            switches = start != after_start if at_start else before_end != end
            c, s = _add_cause(cause[active], several[active], feature, switches)
            cause[active], several[active] = c, s
            chosen = start if at_start else end
            node[active] = np.where(chosen, self.left[node[active]], self.right[node[active]])
            active = active[self.feature[node[active]] >= 0]
        return node.reshape(n, trees), cause, several

    def _game_directions(self, view, pair, tau, nodes) -> tuple:
        """At time ``tau`` of each path: which nodes switch, and the decision before and after."""
        feature, start, after_start, before_end, end, time = self.node_states(view, pair, nodes)
        first, last = tau == 0.0, tau == 1.0
        crosses = after_start != before_end
        interior_switch = crosses & (time == tau) & ~first & ~last
        switches = np.where(first, start != after_start, np.where(last, before_end != end, interior_switch))
        settled = np.where(crosses & (time < tau), before_end, after_start)  # interior, not switching
        before = np.where(first, start, np.where(last, before_end, np.where(interior_switch, after_start, settled)))
        after = np.where(first, after_start, np.where(last, end, np.where(interior_switch, before_end, settled)))
        return feature, switches, before, after

    def switching_features(
        self, view: PathView, pair: np.ndarray, tau: np.ndarray, tree: np.ndarray, backend: str = "auto"
    ) -> tuple:
        """Every feature with a node that switches at ``tau`` in tree ``tree`` of path ``pair``,
        reachable under SOME choice of which switching features have moved (both children of a
        switching node are explored). Returns ``(query, feature)`` pairs, unique."""
        if use_numba(backend):
            q, f = self._compiled_switching(view, pair, tau, self.roots[tree])
        else:
            q, f = self._switching(view, pair, tau, self.roots[tree])
        keys = np.unique(q * self.n_features + f)
        return keys // self.n_features, keys % self.n_features

    def _switching(self, view, pair, tau, start) -> tuple:
        query, node = np.arange(len(pair)), start
        found_query, found_feature = [np.empty(0, np.int64)], [np.empty(0, np.int64)]
        active = self.feature[node] >= 0
        query, node = query[active], node[active]
        while query.size:
            feature, switches, before, after = self._game_directions(view, pair[query], tau[query], node)
            found_query.append(query[switches])
            found_feature.append(feature[switches])
            first = np.where(before, self.left[node], self.right[node])
            second = np.where(after, self.left[node], self.right[node])
            query = np.concatenate([query, query[switches]])
            node = np.concatenate([first, second[switches]])
            internal = self.feature[node] >= 0
            query, node = query[internal], node[internal]
        return np.concatenate(found_query), np.concatenate(found_feature)

    def _compiled_switching(self, view, pair, tau, start) -> tuple:
        capacity = max(64, 4 * len(pair))
        while True:
            found_query, found_feature = np.empty(capacity, np.int64), np.empty(capacity, np.int64)
            count = _compiled()["switching"](
                self._tables(),
                np.ascontiguousarray(view.x),
                np.ascontiguousarray(view.b),
                np.ascontiguousarray(view.step),
                np.ascontiguousarray(pair, np.int64),
                np.ascontiguousarray(tau, np.float64),
                np.ascontiguousarray(start, np.int64),
                self.max_depth,
                found_query,
                found_feature,
            )
            if count <= capacity:
                return found_query[:count], found_feature[:count]
            capacity = int(count)

    def configuration_leaves(
        self,
        view: PathView,
        pair: np.ndarray,
        tau: np.ndarray,
        tree: np.ndarray,
        moved: np.ndarray,
        backend: str = "auto",
    ) -> np.ndarray:
        """The leaf of tree ``tree`` at time ``tau`` of path ``pair`` when exactly the switching
        features listed in the row of ``moved`` (local feature indices, -1 padded) have crossed
        and the others have not."""
        if use_numba(backend):
            out = np.empty(len(pair), np.int64)
            _compiled()["game_leaves"](
                self._tables(),
                np.ascontiguousarray(view.x),
                np.ascontiguousarray(view.b),
                np.ascontiguousarray(view.step),
                np.ascontiguousarray(pair, np.int64),
                np.ascontiguousarray(tau, np.float64),
                np.ascontiguousarray(self.roots[tree]),
                np.ascontiguousarray(moved, np.int64),
                out,
            )
            return out
        node = self.roots[tree].copy()
        active = np.flatnonzero(self.feature[node] >= 0)
        while active.size:
            current = node[active]
            feature, switches, before, after = self._game_directions(view, pair[active], tau[active], current)
            listed = (moved[active] == feature[:, None]).any(axis=1)
            chosen = np.where(switches & listed, after, before)
            node[active] = np.where(chosen, self.left[current], self.right[current])
            active = active[self.feature[node[active]] >= 0]
        return node


# --------------------------------------------------------------------------- numba backend
#: Backends of the path and prediction loops: "numpy" (the reference), "numba" (compiled, the
#: optional extra ``nbexplain[fast]``), "auto" (numba when it is installed).
BACKENDS = ("auto", "numpy", "numba")
_KERNELS: dict = {}


def use_numba(backend: str) -> bool:
    """Whether ``backend`` runs the compiled loops (``"auto"``: when numba is installed)."""
    if backend not in BACKENDS:
        raise unknown_name("backend", backend, BACKENDS)
    if backend == "numpy":
        return False
    if backend == "numba":
        require("numba", "fast", "The numba backend")
        return True
    import importlib.util

    return importlib.util.find_spec("numba") is not None


# The compiled kernels call each other through these names, bound by _compiled(): numba resolves a
# callee from the module's globals when it compiles the caller.
_jit_kernel_category: Any = None
_jit_kernel_categorical_left: Any = None
_jit_kernel_numeric_left: Any = None
_jit_kernel_interior: Any = None
_jit_kernel_cause: Any = None
_jit_kernel_endpoint: Any = None
_jit_kernel_game_node: Any = None


def _compiled() -> dict:
    """The compiled kernels (compiled on first use, cached on disk by numba)."""
    if not _KERNELS:
        numba = require("numba", "fast", "The numba backend")
        jit = numba.njit(cache=True, nogil=True)
        module = globals()
        for name in (
            "_kernel_category",
            "_kernel_categorical_left",
            "_kernel_numeric_left",
            "_kernel_interior",
            "_kernel_cause",
            "_kernel_endpoint",
            "_kernel_game_node",
        ):
            module["_jit" + name] = jit(module[name])
        _KERNELS.update(
            leaves=jit(_kernel_leaves),
            sweep=jit(_kernel_sweep),
            game_leaves=jit(_kernel_game_leaves),
            switching=jit(_kernel_switching),
        )
    return _KERNELS


# Helpers called in the inner loops take scalars only: an array argument costs reference counting
# at every call (ten times the work of the comparison itself).
def _kernel_category(value, feature, vocabulary, offsets, rule):  # pragma: no cover - compiled by numba
    """``TreeEnsemble._category_codes`` for one value."""
    if not np.isfinite(value):
        return -1
    if rule == 0:
        if value < 0 or value >= XGBOOST_MAX_CATEGORY:
            return -1
        return int(value)
    if rule == 1:
        truncated = np.trunc(value)
        if truncated < 0 or truncated >= 2**31 - 1:
            return -1
        return int(truncated)
    lo, hi = offsets[feature], offsets[feature + 1]
    first = lo
    while lo < hi:
        middle = (lo + hi) // 2
        if vocabulary[middle] < value:
            lo = middle + 1
        else:
            hi = middle
    if lo < offsets[feature + 1] and vocabulary[lo] == value:
        return lo - first
    return -1


def _kernel_categorical_left(value, node, tables):  # pragma: no cover - compiled by numba
    """``TreeEnsemble._categorical_left`` for one value at a categorical node."""
    if np.isnan(value):
        return tables[4][node]
    code = _jit_kernel_category(value, tables[0][node], tables[9], tables[10], tables[12])
    table = tables[8]
    if 0 <= code < table.shape[1]:
        decision = table[tables[6][node], code]
        if decision != _OTHER:
            return decision == _LEFT
    return tables[7][node]


def _kernel_numeric_left(value, threshold, nan_left, zero_missing, strict):  # pragma: no cover - compiled
    """``TreeEnsemble.goes_left`` for one value at a numeric node."""
    if np.isnan(value):
        return nan_left
    if zero_missing and abs(value) <= ZERO_THRESHOLD:
        return nan_left
    if strict:
        return value < threshold
    return value <= threshold


def _kernel_interior(low, high, cut, start, end, stepped):  # pragma: no cover - compiled by numba
    """``A``, ``Z`` and ``t_c`` of ``TreeEnsemble.node_states`` for one node of one path."""
    if stepped:
        after_start, before_end = start, end
    elif high > low:
        after_start, before_end = low < cut, high <= cut
    elif high < low:
        after_start, before_end = low <= cut, high < cut
    else:
        after_start, before_end = start, end
    time = 0.5
    if after_start != before_end and not stepped:
        time = min(max((cut - low) / (high - low), _AFTER_ZERO), _BEFORE_ONE)
    return after_start, before_end, time


def _kernel_cause(cause, several, feature):  # pragma: no cover - compiled by numba
    if cause < 0:
        return feature, several
    return cause, several or cause != feature


def _kernel_leaves(tables, roots, values, out):  # pragma: no cover - compiled by numba
    feature, threshold, left, right, nan_left, zero_missing, category_row = tables[:7]
    strict = tables[11]
    numeric, categorical = _jit_kernel_numeric_left, _jit_kernel_categorical_left
    for i in range(values.shape[0]):
        for t in range(roots.size):
            node = roots[t]
            while feature[node] >= 0:
                value = values[i, feature[node]]
                if category_row[node] >= 0:
                    go_left = categorical(value, node, tables)
                else:
                    go_left = numeric(value, threshold[node], nan_left[node], zero_missing[node], strict)
                node = left[node] if go_left else right[node]
            out[i, t] = node


def _kernel_endpoint(i, node, at_start, cause, several, tables, x, b, step):  # pragma: no cover - compiled
    """Finish the descent to the leaf at b (``at_start``) or at x from ``node``, recording the
    features whose nodes switch at that end (``L0 != A`` / ``Z != L1``)."""
    feature, threshold, left, right, nan_left, zero_missing, category_row = tables[:7]
    while feature[node] >= 0:
        f = feature[node]
        low, high = b[i, f], x[i, f]
        if category_row[node] >= 0:
            start = _jit_kernel_categorical_left(low, node, tables)
            end = _jit_kernel_categorical_left(high, node, tables)
        else:
            start = _jit_kernel_numeric_left(low, threshold[node], nan_left[node], zero_missing[node], tables[11])
            end = _jit_kernel_numeric_left(high, threshold[node], nan_left[node], zero_missing[node], tables[11])
        after_start, before_end, _ = _jit_kernel_interior(low, high, threshold[node], start, end, step[i, f])
        if (start != after_start) if at_start else (before_end != end):
            cause, several = _jit_kernel_cause(cause, several, f)
        node = left[node] if (start if at_start else end) else right[node]
    return node, cause, several


def _kernel_sweep(  # pragma: no cover - compiled by numba
    tables,
    roots,
    x,
    b,
    step,
    depth,
    max_sides,
    accumulate,
    score,
    columns,
    attributions,
    out,
    start_leaf,
    end_leaf,
    crossings,
):
    """``TreeEnsemble.path_sides`` depth-first, one (path, tree) at a time; returns the number of
    sides (``out`` holds the first ``len(out[0])`` of them). With ``accumulate`` every side is
    credited to ``attributions[i, columns[cause]]`` and only sides with several causes are kept.

    Each tree is first descended while every point of the path (b and x included) leaves a node
    the same way; from the first node where that fails, the interval sweep runs depth-first, and
    the descents to the leaves at b and at x ride along while they share its nodes (they part
    from it only where b or x sits exactly on a threshold). Plain coordinates (finite at both
    ends, not stepped) at numeric nodes take the comparisons inline; the rest go through the
    same rules as ``goes_left``."""
    feature, threshold, left, right, nan_left, zero_missing, category_row = tables[:7]
    strict = tables[11]
    numeric, categorical = _jit_kernel_numeric_left, _jit_kernel_categorical_left
    interior, add, endpoint = _jit_kernel_interior, _jit_kernel_cause, _jit_kernel_endpoint
    o_pair, o_tree, o_leaf, o_tau, o_sign, o_cause, o_several = out
    capacity = o_pair.size
    count = 0
    size = depth + 2
    s_int = np.empty((size, 4), np.int64)  # node, lo cause, hi cause, flags (several lo/hi, on b's / x's path)
    s_flt = np.empty((size, 2))  # lo, hi
    side_leaf, side_tau = np.empty(max_sides, np.int64), np.empty(max_sides)
    side_sign, side_cause = np.empty(max_sides, np.int64), np.empty(max_sides, np.int64)
    side_several = np.empty(max_sides, np.bool_)
    p = x.shape[1]
    simple = category_row.max() < 0 and not zero_missing.any()
    plain_all = np.empty((x.shape[0], p), np.bool_)  # finite at both ends and not stepped
    for i in range(x.shape[0]):
        for j in range(p):
            plain_all[i, j] = (not step[i, j]) and np.isfinite(x[i, j]) and np.isfinite(b[i, j])
    for t in range(roots.size):  # tree by tree: its nodes stay in cache while the paths go by
        for i in range(x.shape[0]):
            plain = plain_all[i]
            node = roots[t]
            while feature[node] >= 0:
                f = feature[node]
                low, high = b[i, f], x[i, f]
                cut = threshold[node]
                if plain[f] and (simple or (category_row[node] < 0 and not zero_missing[node])):
                    if low != cut and high != cut and (low < cut) == (high < cut):
                        node = left[node] if low < cut else right[node]
                        continue
                    break
                if category_row[node] >= 0:
                    start, end = categorical(low, node, tables), categorical(high, node, tables)
                else:
                    start = numeric(low, cut, nan_left[node], zero_missing[node], strict)
                    end = numeric(high, cut, nan_left[node], zero_missing[node], strict)
                after_start, before_end, _ = interior(low, high, cut, start, end, step[i, f])
                if not (start == after_start and after_start == before_end and before_end == end):
                    break
                node = left[node] if start else right[node]
            if feature[node] < 0:
                start_leaf[i, t], end_leaf[i, t] = node, node
                continue
            sides = 0
            start_node, start_cause, start_several = -1, -1, False
            end_node, end_cause, end_several = -1, -1, False
            top = 1
            s_int[0, 0], s_int[0, 1], s_int[0, 2], s_int[0, 3] = node, -1, -1, 12
            s_flt[0, 0], s_flt[0, 1] = 0.0, 1.0
            while top > 0:
                top -= 1
                node, lo_cause, hi_cause, flags = s_int[top, 0], s_int[top, 1], s_int[top, 2], s_int[top, 3]
                lo, hi = s_flt[top, 0], s_flt[top, 1]
                lo_several, hi_several = (flags & 1) != 0, (flags & 2) != 0
                on_start, on_end = (flags & 4) != 0, (flags & 8) != 0
                while True:  # follow one part down; the other part of a split waits on the stack
                    if feature[node] < 0:
                        if on_start:
                            start_node = node
                        if on_end:
                            end_node = node
                        if lo_cause >= 0:
                            side_leaf[sides], side_tau[sides], side_sign[sides] = node, lo, 1
                            side_cause[sides], side_several[sides] = lo_cause, lo_several
                            sides += 1
                        if hi_cause >= 0:
                            side_leaf[sides], side_tau[sides], side_sign[sides] = node, hi, -1
                            side_cause[sides], side_several[sides] = hi_cause, hi_several
                            sides += 1
                        break
                    f = feature[node]
                    low, high = b[i, f], x[i, f]
                    cut = threshold[node]
                    if plain[f] and (simple or (category_row[node] < 0 and not zero_missing[node])):
                        low_lt, high_lt = low < cut, high < cut
                        low_le, high_le = low <= cut, high <= cut
                        start = low_lt if strict else low_le
                        end = high_lt if strict else high_le
                        time = 0.5
                        if high > low:
                            after_start, before_end = low_lt, high_le
                        elif high < low:
                            after_start, before_end = low_le, high_lt
                        else:
                            after_start, before_end = start, end
                        if after_start != before_end:
                            time = min(max((cut - low) / (high - low), _AFTER_ZERO), _BEFORE_ONE)
                    else:
                        if category_row[node] >= 0:
                            start, end = categorical(low, node, tables), categorical(high, node, tables)
                        else:
                            start = numeric(low, cut, nan_left[node], zero_missing[node], strict)
                            end = numeric(high, cut, nan_left[node], zero_missing[node], strict)
                        after_start, before_end, time = interior(low, high, cut, start, end, step[i, f])
                    if on_start and start != after_start:
                        start_cause, start_several = add(start_cause, start_several, f)
                    if on_end and before_end != end:
                        end_cause, end_several = add(end_cause, end_several, f)
                    crosses = after_start != before_end
                    cut_here = crosses and time < hi
                    keep_a = (not crosses) or time > lo
                    a_child = left[node] if after_start else right[node]
                    z_child = left[node] if before_end else right[node]
                    start_in_a = start_in_z = end_in_a = end_in_z = False
                    if on_start:
                        start_child = left[node] if start else right[node]
                        start_in_a = keep_a and start_child == a_child
                        start_in_z = cut_here and start_child == z_child
                        if not (start_in_a or start_in_z):
                            start_node, start_cause, start_several = endpoint(
                                i, start_child, True, start_cause, start_several, tables, x, b, step
                            )
                    if on_end:
                        end_child = left[node] if end else right[node]
                        end_in_a = keep_a and end_child == a_child
                        end_in_z = cut_here and end_child == z_child
                        if not (end_in_a or end_in_z):
                            end_node, end_cause, end_several = endpoint(
                                i, end_child, False, end_cause, end_several, tables, x, b, step
                            )
                    if cut_here:
                        z_lo, z_lo_cause, z_lo_several = lo, lo_cause, lo_several
                        if time > lo:
                            z_lo, z_lo_cause, z_lo_several = time, f, False
                        elif time == lo:
                            z_lo_cause, z_lo_several = add(z_lo_cause, z_lo_several, f)
                        z_hi_cause, z_hi_several = hi_cause, hi_several
                        if hi == 1.0 and before_end != end:
                            z_hi_cause, z_hi_several = add(z_hi_cause, z_hi_several, f)
                        if not keep_a:  # all of the interval goes the Z way: follow it
                            node, lo, lo_cause, lo_several, hi_cause, hi_several = (
                                z_child,
                                z_lo,
                                z_lo_cause,
                                z_lo_several,
                                z_hi_cause,
                                z_hi_several,
                            )
                            on_start, on_end = start_in_z, end_in_z
                            continue
                        s_int[top, 0], s_int[top, 1], s_int[top, 2] = z_child, z_lo_cause, z_hi_cause
                        s_int[top, 3] = z_lo_several * 1 + z_hi_several * 2 + start_in_z * 4 + end_in_z * 8
                        s_flt[top, 0], s_flt[top, 1] = z_lo, hi
                        top += 1
                    if lo == 0.0 and start != after_start:
                        lo_cause, lo_several = add(lo_cause, lo_several, f)
                    if cut_here:
                        hi, hi_cause, hi_several = time, f, False
                    elif (crosses and time == hi) or ((not crosses) and hi == 1.0 and before_end != end):
                        hi_cause, hi_several = add(hi_cause, hi_several, f)
                    node, on_start, on_end = a_child, start_in_a, end_in_a
            start_leaf[i, t], end_leaf[i, t] = start_node, end_node
            if start_cause >= 0:
                side_leaf[sides], side_tau[sides], side_sign[sides] = start_node, 0.0, -1
                side_cause[sides], side_several[sides] = start_cause, start_several
                sides += 1
            if end_cause >= 0:
                side_leaf[sides], side_tau[sides], side_sign[sides] = end_node, 1.0, 1
                side_cause[sides], side_several[sides] = end_cause, end_several
                sides += 1
            for s in range(sides):
                if side_sign[s] > 0:
                    crossings[i] += 1
                if accumulate:
                    attributions[i, columns[side_cause[s]]] += side_sign[s] * score[side_leaf[s]]
                    if not side_several[s]:
                        continue
                if count < capacity:
                    o_pair[count], o_tree[count], o_leaf[count], o_tau[count] = i, t, side_leaf[s], side_tau[s]
                    o_sign[count], o_cause[count], o_several[count] = side_sign[s], side_cause[s], side_several[s]
                count += 1
    return count


def _kernel_game_node(i, node, when, tables, x, b, step):  # pragma: no cover - compiled by numba
    """``TreeEnsemble._game_directions`` for one node: ``(feature, switches, before, after)``."""
    feature, threshold, nan_left, zero_missing, category_row = tables[0], tables[1], tables[4], tables[5], tables[6]
    f = feature[node]
    low, high = b[i, f], x[i, f]
    if category_row[node] >= 0:
        start = _jit_kernel_categorical_left(low, node, tables)
        end = _jit_kernel_categorical_left(high, node, tables)
    else:
        start = _jit_kernel_numeric_left(low, threshold[node], nan_left[node], zero_missing[node], tables[11])
        end = _jit_kernel_numeric_left(high, threshold[node], nan_left[node], zero_missing[node], tables[11])
    after_start, before_end, time = _jit_kernel_interior(low, high, threshold[node], start, end, step[i, f])
    crosses = after_start != before_end
    if when == 0.0:
        return f, start != after_start, start, after_start
    if when == 1.0:
        return f, before_end != end, before_end, end
    if crosses and time == when:
        return f, True, after_start, before_end
    settled = before_end if (crosses and time < when) else after_start
    return f, False, settled, settled


def _kernel_switching(tables, x, b, step, pair, tau, node_start, depth, out_query, out_feature):  # pragma: no cover
    """``TreeEnsemble._switching``, depth-first, one query at a time; returns the count found."""
    feature, left, right = tables[0], tables[2], tables[3]
    stack = np.empty(depth + 2, np.int64)
    count = 0
    for q in range(pair.size):
        stack[0], top = node_start[q], 1
        while top > 0:
            top -= 1
            node = stack[top]
            if feature[node] < 0:
                continue
            f, switches, before, after = _jit_kernel_game_node(pair[q], node, tau[q], tables, x, b, step)
            stack[top] = left[node] if before else right[node]
            top += 1
            if switches:
                if count < out_query.size:
                    out_query[count], out_feature[count] = q, f
                count += 1
                stack[top] = left[node] if after else right[node]
                top += 1
    return count


def _kernel_game_leaves(tables, x, b, step, pair, tau, node_start, moved, out):  # pragma: no cover - compiled
    """``TreeEnsemble.configuration_leaves``, one query at a time."""
    feature, left, right = tables[0], tables[2], tables[3]
    for q in range(pair.size):
        node = node_start[q]
        while feature[node] >= 0:
            f, switches, before, after = _jit_kernel_game_node(pair[q], node, tau[q], tables, x, b, step)
            chosen = before
            if switches:
                for slot in range(moved.shape[1]):
                    if moved[q, slot] == f:
                        chosen = after
                        break
            node = left[node] if chosen else right[node]
        out[q] = node


def _chunks(n: int, per_row: int) -> list:
    """Row slices holding about ``CHUNK_ENTRIES`` (row, tree) entries each."""
    rows = max(1, CHUNK_ENTRIES // max(per_row, 1))
    return [slice(start, min(start + rows, n)) for start in range(0, n, rows)]


# --------------------------------------------------------------------------- readers
def read_trees(model: Any, feature_names: Any = None) -> TreeEnsemble:
    """Read an XGBoost, LightGBM or scikit-learn tree model (or return a :class:`TreeEnsemble`).

    ``feature_names`` names the columns when the model was trained without names (on arrays);
    the model's own names are used otherwise. Anything else, or an option that changes how the
    library predicts in a way nbexplain does not reproduce, raises :class:`UnsupportedModelError`.
    The reading is checked: margins of probe rows must equal the library's own prediction.
    """
    if isinstance(model, TreeEnsemble):
        return model
    module = type(model).__module__.split(".")[0]
    readers: dict[str, Callable[..., Any]] = {
        "xgboost": _read_xgboost,
        "lightgbm": _read_lightgbm,
        "sklearn": _read_sklearn,
    }
    if module not in readers:
        raise UnsupportedModelError(
            f"{type(model).__module__}.{type(model).__name__} is not a tree model nbexplain reads. Supported: "
            "XGBoost (Booster, XGBClassifier, XGBRegressor), LightGBM (Booster, LGBMClassifier, LGBMRegressor) and "
            "scikit-learn decision trees, random forests, extra trees, GradientBoosting and HistGradientBoosting."
        )
    text = _model_text(model)
    digest = None if text is None else hashlib.sha256(text).hexdigest()
    names_key = None if feature_names is None else tuple(str(f) for f in feature_names)
    try:
        cached = _READ.get(model)
    except TypeError:  # not weakly referable: read every time
        cached = None
    if digest is not None and cached is not None and cached[:2] == (digest, names_key):
        return cached[2]
    ensemble, predict = readers[module](model, text) if module == "xgboost" else readers[module](model)
    if digest is not None:
        ensemble.source["dump_sha256"] = digest[:16]
    if feature_names is not None:
        names = tuple(str(f) for f in feature_names)
        if len(names) != ensemble.n_features:
            raise InputDataError(f"{len(names)} feature names for a model of {ensemble.n_features} features.")
        if ensemble.source.get("named") and names != ensemble.feature_names:
            raise InputDataError(
                f"The model was trained with feature names {list(ensemble.feature_names)[:10]}; "
                "drop feature_names=... (a DataFrame is matched to the model's names)."
            )
        ensemble.feature_names = names
    _check_reading(ensemble, predict)
    if digest is not None:
        try:
            _READ[model] = (digest, names_key, ensemble)
        except TypeError:
            pass
    return ensemble


#: Ensembles already read, per model object, with the digest of the library's own dump they were
#: read from: a model changed in place (refitted) has another digest and is read again.
_READ: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _model_text(model: Any) -> bytes | None:
    """The library's own serialisation of a model (XGBoost JSON, LightGBM text), or None."""
    library = type(model).__module__.split(".")[0]
    try:
        if library == "xgboost":
            booster = model if type(model).__name__ == "Booster" else model.get_booster()
            return bytes(booster.save_raw("json"))
        if library == "lightgbm":
            booster = model if type(model).__name__ == "Booster" else model.booster_
            return booster.model_to_string().encode()
    except Exception:  # not fitted, or not a model: the reader says what is wrong
        return None
    return None


def _check_reading(ensemble: TreeEnsemble, predict: Callable) -> None:
    """Compare margins of probe rows (each feature at, just below and just above its thresholds,
    and missing where the library takes it) with the library's own prediction."""
    rng = np.random.default_rng(20240601)
    thresholds = [v[np.abs(v) < 1e30] for v in ensemble.split_thresholds().values()]
    probes = np.zeros((24, ensemble.n_features))
    for j, values in enumerate(thresholds):
        if ensemble.categorical_features[j]:
            probes[:, j] = rng.integers(0, max(2, ensemble.category_table.shape[1]), len(probes))
        elif values.size:
            chosen = rng.choice(values, len(probes))
            probes[:, j] = chosen + rng.choice([-1.0, 0.0, 1.0], len(probes)) * np.maximum(1e-3 * np.abs(chosen), 1e-3)
    if ensemble.accepts_missing:
        probes[rng.random(probes.shape) < 0.1] = np.nan
    try:
        expected = np.asarray(predict(probes), dtype=np.float64).reshape(len(probes), -1)
    except Exception as error:
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise UnsupportedModelError(
            f"{ensemble.source.get('model')} could not predict probe rows to check nbexplain's reading ({first})."
        ) from None
    got = ensemble.margin_of(ensemble.cast(probes), "numpy")
    scale = max(1.0, float(np.abs(expected).max()))
    tolerance = (
        2e-5 if ensemble.input_dtype == "float32" or ensemble.source.get("library") == "xgboost" else 1e-9
    ) * scale
    if expected.shape != got.shape or not np.allclose(got, expected, rtol=0, atol=tolerance * ensemble.n_trees**0.5):
        difference = float(np.abs(got - expected).max()) if expected.shape == got.shape else float("nan")
        raise UnsupportedModelError(
            f"nbexplain could not reproduce the predictions of this {ensemble.source.get('model')} "
            f"(largest margin difference {difference:.3g} on probe rows; shapes {expected.shape} and {got.shape}). "
            "An option of this model changes how it predicts in a way nbexplain does not read; please report it."
        )


# XGBoost ------------------------------------------------------------------------------
_LOGIT_OBJECTIVES = ("binary:logistic", "reg:logistic")
_LOG_OBJECTIVES = ("count:poisson", "reg:gamma", "reg:tweedie", "survival:cox")


def _read_xgboost(model: Any, text: bytes | None = None) -> tuple[TreeEnsemble, Callable]:
    xgb = require("xgboost", "trees", "Reading XGBoost models")
    wrapper = None
    if isinstance(model, xgb.Booster):
        booster = model
    elif isinstance(model, xgb.XGBModel):
        wrapper = model
        try:
            booster = model.get_booster()
        except Exception:
            raise NBExplainError(f"This {type(model).__name__} is not fitted: fit it before explaining.") from None
        missing = getattr(model, "missing", np.nan)
        if missing is not None and not (isinstance(missing, float) and np.isnan(missing)):
            raise UnsupportedModelError(
                f"{type(model).__name__}(missing={missing!r}) treats {missing!r} as missing; nbexplain reads NaN as "
                "the missing value. Replace those values by NaN and refit with the default missing=np.nan."
            )
    else:
        raise UnsupportedModelError(f"{type(model).__name__} is not an XGBoost tree model.")
    document = json.loads((text if text is not None else bytes(booster.save_raw("json"))).decode())
    learner = document["learner"]
    gradient_booster = learner["gradient_booster"]
    kind = gradient_booster["name"]
    if kind not in ("gbtree", "dart"):
        raise UnsupportedModelError(
            f"XGBoost booster {kind!r} is not a tree ensemble: explain a gbtree or dart model (a gblinear "
            "model is linear; its attributions are its coefficients times the input differences)."
        )
    trees_model = gradient_booster["gbtree"]["model"] if kind == "dart" else gradient_booster["model"]
    parameters = learner["learner_model_param"]
    if int(parameters.get("num_target", "1")) > 1:
        raise UnsupportedModelError(
            "XGBoost multi-target models (num_target > 1) are not supported: fit one per target."
        )
    n_classes = int(parameters.get("num_class", "0"))
    outputs = max(n_classes, 1)
    objective = learner["objective"]["name"]
    stored = np.array([float(v) for v in str(parameters["base_score"]).strip("[]").split(",")], dtype=np.float32)
    base = np.broadcast_to(stored.astype(np.float64), (outputs,)).copy()
    if objective in _LOGIT_OBJECTIVES:
        base = np.log(base / (1.0 - base))
    elif objective in _LOG_OBJECTIVES:
        base = np.log(base)
    trees_json = trees_model["trees"]
    tree_class = np.asarray(trees_model["tree_info"], int)
    indptr = np.asarray(trees_model.get("iteration_indptr", np.arange(len(trees_json) + 1)), int)
    begin, end = 0, len(trees_json)
    best = getattr(wrapper, "best_iteration", None) if wrapper is not None else None
    if best is not None:
        end = int(indptr[min(int(best) + 1, len(indptr) - 1)])
    drop = np.asarray(gradient_booster.get("weight_drop", np.ones(len(trees_json))), float)
    trees = []
    for index in range(begin, end):
        tree = trees_json[index]
        if int(tree["tree_param"].get("size_leaf_vector", "1")) > 1:
            raise UnsupportedModelError(
                "XGBoost vector-leaf trees (multi_strategy='multi_output_tree') are not supported."
            )
        left = np.asarray(tree["left_children"], np.int64)
        leaf = left == -1
        conditions = np.asarray(tree["split_conditions"], np.float32).astype(np.float64)
        value = np.zeros((left.size, outputs))
        value[leaf, tree_class[index]] = conditions[leaf] * drop[index]
        categories: dict[int, Any] = {}
        split_type = np.asarray(tree.get("split_type", np.zeros(left.size)), int)
        if (split_type == 1).any():
            nodes, segments, sizes = tree["categories_nodes"], tree["categories_segments"], tree["categories_sizes"]
            listed = np.asarray(tree["categories"], np.int64)
            for node, segment, size in zip(nodes, segments, sizes):
                categories[int(node)] = (set(), set(listed[segment : segment + size].tolist()), True)
        trees.append(
            {
                "feature": np.where(leaf, -1, np.asarray(tree["split_indices"], np.int64)),
                "threshold": np.where(leaf, 0.0, conditions),
                "left": left,
                "right": np.asarray(tree["right_children"], np.int64),
                "nan_left": np.asarray(tree["default_left"], bool),
                "value": value,
                "categories": categories,
            }
        )
    names = learner.get("feature_names") or booster.feature_names or []
    width = int(parameters.get("num_feature", len(names)))
    classes = None
    if wrapper is not None and hasattr(wrapper, "classes_"):
        classes = tuple(np.asarray(wrapper.classes_).tolist())
    link = {**dict.fromkeys(_LOGIT_OBJECTIVES, "sigmoid"), **dict.fromkeys(_LOG_OBJECTIVES, "exp")}.get(objective)
    if objective.startswith("multi:"):
        link = "softmax"
    elif objective.startswith("reg:") and link is None:
        link = "identity"
    if n_classes:
        output_names = tuple(f"margin of class {c}" for c in (classes or range(n_classes)))
    elif link == "sigmoid":
        output_names = (f"log-odds of class {classes[1] if classes and len(classes) == 2 else 1}",)
    else:
        output_names = ("margin",)
    ensemble = TreeEnsemble(
        trees=trees,
        n_outputs=outputs,
        bias=base,
        feature_names=tuple(names) if names else tuple(f"f{j}" for j in range(width)),
        strict=True,
        input_dtype="float32",
        category_rule="xgboost",
        accepts_missing=True,
        output_names=output_names,
        classes=classes,
        link=link,
        source={
            "library": "xgboost",
            "library_version": xgb.__version__,
            "model": type(model).__name__,
            "booster": kind,
            "objective": objective,
            "named": bool(names),
        },
    )
    feature_types = learner.get("feature_types") or ["q"] * width
    iteration_range = (0, 0) if best is None else (0, int(best) + 1)

    def predict(rows):
        matrix = xgb.DMatrix(
            rows, feature_names=list(names) or None, feature_types=list(feature_types) or None, enable_categorical=True
        )
        return booster.predict(matrix, output_margin=True, iteration_range=iteration_range)

    return ensemble, predict


# LightGBM -----------------------------------------------------------------------------
def _read_lightgbm(model: Any) -> tuple[TreeEnsemble, Callable]:
    lgb = require("lightgbm", "trees", "Reading LightGBM models")
    wrapper = None
    if isinstance(model, lgb.Booster):
        booster = model
    elif isinstance(model, lgb.LGBMModel):
        wrapper = model
        try:
            booster = model.booster_
        except Exception:
            raise NBExplainError(f"This {type(model).__name__} is not fitted: fit it before explaining.") from None
    else:
        raise UnsupportedModelError(f"{type(model).__name__} is not a LightGBM tree model.")
    dump = booster.dump_model()
    if booster.params.get("linear_tree"):
        raise UnsupportedModelError(
            "LightGBM linear trees (linear_tree=True) predict a linear function in each leaf; GIG needs "
            "constant leaves. Refit with linear_tree=False."
        )
    outputs = int(dump["num_tree_per_iteration"])
    objective = str(dump.get("objective", ""))
    trees = []
    for position, info in enumerate(dump["tree_info"]):
        trees.append(_lightgbm_tree(info["tree_structure"], outputs, position % outputs))
    if dump.get("average_output"):
        iterations = len(trees) // outputs
        for tree in trees:
            tree["value"] = tree["value"] / iterations
    names = tuple(dump.get("feature_names") or ())
    named = not all(n == f"Column_{j}" for j, n in enumerate(names))
    classes = tuple(wrapper.classes_.tolist()) if wrapper is not None and hasattr(wrapper, "classes_") else None
    words = objective.split()
    link, scale = None, 1.0
    if words and words[0] in ("binary", "cross_entropy", "xentropy"):
        link = "sigmoid"
        scale = float(next((w.split(":")[1] for w in words if w.startswith("sigmoid:")), 1.0))
    elif words and words[0] == "multiclass":
        link = "softmax"
    elif words and words[0] in ("poisson", "gamma", "tweedie"):
        link = "exp"
    elif words and words[0] in ("regression", "regression_l1", "huber", "fair", "quantile", "mape"):
        link = "identity"
    if outputs > 1:
        output_names = tuple(f"margin of class {c}" for c in (classes or range(outputs)))
    elif link == "sigmoid":
        output_names = (f"log-odds of class {classes[1] if classes and len(classes) == 2 else 1}",)
    else:
        output_names = ("margin",)
    ensemble = TreeEnsemble(
        trees=trees,
        n_outputs=outputs,
        bias=np.zeros(outputs),
        feature_names=names,
        strict=False,
        input_dtype="float64",
        category_rule="lightgbm",
        tiny_is_zero=True,
        accepts_missing=True,
        output_names=output_names,
        classes=classes,
        link=link,
        link_scale=scale,
        source={
            "library": "lightgbm",
            "library_version": lgb.__version__,
            "model": type(model).__name__,
            "objective": objective,
            "named": named,
        },
    )

    iterations = len(trees) // outputs if dump.get("average_output") else 1

    def predict(rows):  # boosting="rf": LightGBM's raw score is the SUM over iterations, its prediction the mean
        return booster.predict(rows, raw_score=True) / iterations

    return ensemble, predict


def _lightgbm_tree(structure: dict, outputs: int, column: int) -> dict:
    """One LightGBM tree (nested dump) as flat arrays, breadth-first."""
    nodes = [structure]
    feature, threshold, nan_left, zero_missing, left, right, value = [], [], [], [], [], [], []
    categories: dict[int, Any] = {}
    position = 0
    while position < len(nodes):
        node = nodes[position]
        if "leaf_coeff" in node:
            raise UnsupportedModelError("LightGBM linear trees are not supported: refit with linear_tree=False.")
        if "split_feature" not in node:  # a leaf (or a one-leaf tree)
            feature.append(-1)
            threshold.append(0.0)
            nan_left.append(False)
            zero_missing.append(False)
            left.append(-1)
            right.append(-1)
            row = np.zeros(outputs)
            row[column] = float(node["leaf_value"])
            value.append(row)
        else:
            missing_type = node.get("missing_type", "None")
            default_left = bool(node.get("default_left", False))
            feature.append(int(node["split_feature"]))
            if node["decision_type"] == "==":
                listed = {int(c) for c in str(node["threshold"]).split("||") if c != ""}
                categories[position] = (listed, set(), False)
                threshold.append(0.0)
                nan_left.append(False)  # NaN always goes right at a categorical split
                zero_missing.append(False)
            elif node["decision_type"] == "<=":
                cut = float(node["threshold"])
                threshold.append(cut)
                if missing_type == "None":
                    nan_left.append(0.0 <= cut)  # NaN is read as 0
                else:
                    nan_left.append(default_left)
                zero_missing.append(missing_type == "Zero")
            else:
                raise UnsupportedModelError(f"LightGBM decision type {node['decision_type']!r} is not supported.")
            left.append(len(nodes))
            nodes.append(node["left_child"])
            right.append(len(nodes))
            nodes.append(node["right_child"])
            value.append(np.zeros(outputs))
        position += 1
    return {
        "feature": np.asarray(feature),
        "threshold": np.asarray(threshold, float),
        "nan_left": np.asarray(nan_left, bool),
        "zero_missing": np.asarray(zero_missing, bool),
        "left": np.asarray(left),
        "right": np.asarray(right),
        "value": np.asarray(value).reshape(-1, outputs),
        "categories": categories,
    }


# scikit-learn -------------------------------------------------------------------------
def _read_sklearn(model: Any) -> tuple[TreeEnsemble, Callable]:
    require("sklearn", "trees", "Reading scikit-learn models")
    from sklearn import ensemble as forests
    from sklearn import tree as single
    from sklearn.base import is_classifier
    from sklearn.utils.validation import check_is_fitted

    name = type(model).__name__
    single_trees = (
        single.DecisionTreeClassifier,
        single.DecisionTreeRegressor,
        single.ExtraTreeClassifier,
        single.ExtraTreeRegressor,
    )
    averaged = (
        forests.RandomForestClassifier,
        forests.RandomForestRegressor,
        forests.ExtraTreesClassifier,
        forests.ExtraTreesRegressor,
    )
    boosted = (forests.GradientBoostingClassifier, forests.GradientBoostingRegressor)
    histogram = (forests.HistGradientBoostingClassifier, forests.HistGradientBoostingRegressor)
    if not isinstance(model, (*single_trees, *averaged, *boosted, *histogram)):
        raise UnsupportedModelError(
            f"scikit-learn {name} is not a supported tree model (decision trees, random forests, extra trees, "
            "GradientBoosting and HistGradientBoosting classifiers and regressors are). For a Pipeline, explain "
            "its final estimator on the transformed data."
        )
    try:
        check_is_fitted(model)
    except Exception:
        raise NBExplainError(f"This {name} is not fitted: fit it before explaining.") from None
    if getattr(model, "n_outputs_", 1) > 1:
        raise UnsupportedModelError(
            f"{name} with several targets (n_outputs_ > 1) is not supported: fit one per target."
        )
    classifier = is_classifier(model)
    classes = tuple(model.classes_.tolist()) if classifier else None
    names = getattr(model, "feature_names_in_", None)
    width = int(model.n_features_in_)
    feature_names = tuple(str(n) for n in names) if names is not None else tuple(f"x{j}" for j in range(width))
    source = {"library": "sklearn", "library_version": _sklearn_version(), "model": name, "named": names is not None}
    if isinstance(model, histogram):
        return _read_histgb(model, classes, feature_names, source)
    if isinstance(model, boosted):
        init = model.init_
        if not (init == "zero" or type(init).__name__ in ("DummyClassifier", "DummyRegressor")):
            raise UnsupportedModelError(
                f"{name} with init={type(init).__name__}: its starting score varies with the input, so it is not a "
                "tree ensemble. Refit with the default init (or init='zero')."
            )
        estimators = model.estimators_
        outputs = estimators.shape[1]
        trees = []
        for stage in estimators:
            for column, regressor in enumerate(stage):
                trees.append(_sklearn_tree(regressor.tree_, outputs, column, scale=model.learning_rate))
        probe = np.zeros((1, width), np.float32)
        bias = np.asarray(model._raw_predict_init(probe), float).reshape(outputs)
        if classifier and outputs == 1:
            output_names: tuple = (f"log-odds of class {classes[1]}",)  # type: ignore[index]
        elif classifier:
            output_names = tuple(f"margin of class {c}" for c in classes)  # type: ignore[union-attr]
        else:
            output_names = ("value",)
        link = ("sigmoid" if outputs == 1 else "softmax") if classifier else "identity"
        ensemble = TreeEnsemble(
            trees=trees,
            n_outputs=outputs,
            bias=bias,
            feature_names=feature_names,
            strict=False,
            input_dtype="float32",
            category_rule="exact",
            accepts_missing=False,
            output_names=output_names,
            classes=classes,
            link=link,
            source=source,
        )
        return ensemble, _as_fitted(model.decision_function if classifier else model.predict, names)
    estimators = [model] if isinstance(model, single_trees) else list(model.estimators_)
    outputs = len(classes) if classifier else 1  # type: ignore[arg-type]
    trees = [
        _sklearn_tree(e.tree_, outputs, None, scale=1.0 / len(estimators), normalise=classifier) for e in estimators
    ]
    ensemble = TreeEnsemble(
        trees=trees,
        n_outputs=outputs,
        bias=np.zeros(outputs),
        feature_names=feature_names,
        strict=False,
        input_dtype="float32",
        category_rule="exact",
        accepts_missing=True,
        output_names=tuple(f"probability of class {c}" for c in classes) if classifier else ("value",),  # type: ignore[union-attr]
        classes=classes,
        link="identity",
        source=source,
    )
    return ensemble, _as_fitted(model.predict_proba if classifier else model.predict, names)


def _as_fitted(method: Callable, names: Any) -> Callable:
    """``method`` called on rows the way the model was fitted (a DataFrame when it has names)."""
    if names is None:
        return method

    def predict(rows):
        import pandas as pd

        return method(pd.DataFrame(rows, columns=list(names)))

    return predict


def _sklearn_version() -> str:
    import sklearn

    return sklearn.__version__


def _sklearn_tree(tree: Any, outputs: int, column: int | None, scale: float, normalise: bool = False) -> dict:
    """A fitted ``tree_`` as arrays; ``column`` places a single value (boosting), else the value
    row is the output vector (class fractions when ``normalise``)."""
    left = np.asarray(tree.children_left, np.int64)
    leaf = left == -1
    raw = np.asarray(tree.value, float)[:, 0, :]
    if normalise:
        totals = raw.sum(axis=1, keepdims=True)
        raw = np.divide(raw, totals, out=np.zeros_like(raw), where=totals > 0)
    value = np.zeros((left.size, outputs))
    if column is None:
        value[:] = raw[:, :outputs] * scale
    else:
        value[:, column] = raw[:, 0] * scale
    missing_left = getattr(tree, "missing_go_to_left", None)
    return {
        "feature": np.where(leaf, -1, np.asarray(tree.feature, np.int64)),
        "threshold": np.where(leaf, 0.0, np.asarray(tree.threshold, float)),
        "left": left,
        "right": np.asarray(tree.children_right, np.int64),
        "nan_left": np.zeros(left.size, bool) if missing_left is None else np.asarray(missing_left, bool),
        "value": value,
    }


def _read_histgb(model: Any, classes: tuple | None, feature_names: tuple, source: dict) -> tuple:
    """HistGradientBoosting: raw-data predictors, the baseline prediction, and (when categorical)
    the ordinal encoder in front of the trees, folded into the node tables."""
    width = len(feature_names)
    original = np.arange(width)  # column of the user's data behind each predictor feature index
    vocabulary: dict = {}
    preprocessor = getattr(model, "_preprocessor", None)
    categorical = np.asarray(model.is_categorical_ if model.is_categorical_ is not None else np.zeros(width, bool))
    if preprocessor is not None:
        encoder_columns = np.flatnonzero(categorical)
        original = np.concatenate([encoder_columns, np.flatnonzero(~categorical)])
        encoder = preprocessor.named_transformers_["encoder"]
        for position, values in enumerate(encoder.categories_):
            values = np.asarray(values, dtype=float)
            vocabulary[int(encoder_columns[position])] = values[~np.isnan(values)]
    known, f_idx_map = model._bin_mapper.make_known_categories_bitsets()
    outputs = int(model.n_trees_per_iteration_)
    trees = []
    for iteration in model._predictors:
        for column, predictor in enumerate(iteration):
            nodes = predictor.nodes
            is_leaf = nodes["is_leaf"].astype(bool)
            value = np.zeros((len(nodes), outputs))
            value[is_leaf, column] = nodes["value"][is_leaf]
            categories = {}
            for node in np.flatnonzero(nodes["is_categorical"].astype(bool) & ~is_leaf):
                feature_index = int(nodes["feature_idx"][node])
                left_codes = _bitset_members(predictor.raw_left_cat_bitsets[nodes["bitset_idx"][node]])
                known_codes = _bitset_members(known[f_idx_map[feature_index]])
                categories[int(node)] = (left_codes, known_codes - left_codes, bool(nodes["missing_go_to_left"][node]))
            trees.append(
                {
                    "feature": np.where(is_leaf, -1, original[nodes["feature_idx"].astype(np.int64)]),
                    "threshold": np.where(is_leaf, 0.0, nodes["num_threshold"].astype(float)),
                    "left": np.where(is_leaf, -1, nodes["left"].astype(np.int64)),
                    "right": np.where(is_leaf, -1, nodes["right"].astype(np.int64)),
                    "nan_left": nodes["missing_go_to_left"].astype(bool),
                    "value": value,
                    "categories": categories,
                }
            )
    classifier = classes is not None
    if classifier and outputs == 1:
        output_names: tuple = (f"log-odds of class {classes[1]}",)  # type: ignore[index]
    elif classifier:
        output_names = tuple(f"margin of class {c}" for c in classes)  # type: ignore[union-attr]
    else:
        output_names = ("value",)
    loss = getattr(model, "loss", "")
    link = (
        ("sigmoid" if outputs == 1 else "softmax")
        if classifier
        else ("exp" if loss in ("poisson", "gamma") else "identity")
    )
    ensemble = TreeEnsemble(
        trees=trees,
        n_outputs=outputs,
        bias=np.asarray(model._baseline_prediction, float).reshape(outputs),
        feature_names=feature_names,
        strict=False,
        input_dtype="float64",
        category_rule="exact",
        accepts_missing=True,
        output_names=output_names,
        classes=classes,
        link=link,
        source=source,
        category_vocabulary=vocabulary,
    )

    return ensemble, _as_fitted(model._raw_predict, getattr(model, "feature_names_in_", None))


def _bitset_members(bitset: np.ndarray) -> set:
    """Codes set in a scikit-learn bitset (uint32 words, least significant bit first)."""
    words = np.asarray(bitset, np.uint32)
    bits = (words[:, None] >> np.arange(32, dtype=np.uint32)[None, :]) & 1
    return set(np.flatnonzero(bits.ravel()).tolist())


__all__ = ["PathSides", "PathView", "TreeEnsemble", "UnsupportedModelError", "prepare_rows", "read_trees"]
