"""The two-layer additive risk model of Chen, Lin, Rudin, Shaposhnik, Wang & Wang (2018), the
FICO Explainable ML Challenge entry.

**Step columns.** Each raw feature ``x`` becomes binary columns ``b_c(x)``:

* one indicator per special value ``[x = v]`` (for HELOC: -7 condition not met, -8 no usable
  trades, -9 no record); every other column is 0 when ``x < 0``, so a special value sets only
  its own indicator;
* a feature whose risk falls as it rises (kind ``"<"``): ``[0 <= x < t]`` for each threshold
  ``t``, plus ``[x >= 0]`` ("present");
* a feature whose risk rises with it (kind ``">"``): ``[x > t]`` (strict) for each threshold,
  plus ``[x >= 0]``;
* a feature without a monotone relation (kind ``"bins"``): ``[a_k <= x < a_{k+1}]`` for
  consecutive cut points and ``[a_K <= x]`` for the last one (the last bin is open above; the
  first cut point must be 0, so that every value ``x >= 0`` is in exactly one bin).

Any other negative value is an error: it is neither a special value nor an ordinary one.

**Model.** The features are grouped into subscales. Subscale ``s`` is a logistic model on its
own block of step columns and the output combines the subscale probabilities::

    z_s = sum_{c in s} w_c b_c(x) + c_s            (column points w_c b_c, subscale logit)
    p_s = sigma(z_s)                               (subscale probability of Bad)
    L   = sum_s v_s p_s + c_0                      (subscale points v_s p_s, output logit)
    P(Bad) = sigma(L)

**Fitting** (each subscale independently on the target, then the output layer on the
subscale probabilities): minimise ``1/2 ||w||^2 + C sum_i logloss(y_i, sigma(w . b_i + c))``
(the intercept is not penalised) with ``w_c >= 0`` on the one-sided ``"<"`` / ``">"`` columns
and ``v_s >= 0``; the special-value indicators, "present" and the bins are free. The solver is
scipy's L-BFGS-B with the analytic gradient, on the distinct rows of each block (weighted by
their counts: the same objective, fewer terms), in one BLAS thread (the problems are small;
more threads only contend), so the fit is deterministic and takes well under a second on
10,000 rows.

**Monotone by construction**: on ordinary values (``x >= 0``) a ``"<"`` feature can only lower
its subscale logit as it rises (fewer non-negative ``[0 <= x < t]`` terms are on) and a ``">"``
feature can only raise it; ``v_s >= 0`` and the sigmoids carry that to P(Bad).

The model is saved as JSON (no pickle), all-or-nothing, with a checksum: a damaged file is an
:class:`~nbexplain.errors.NBExplainError`, never a silently different model.
"""

from __future__ import annotations

import hashlib
import json
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from .._version import __version__
from ..errors import InputDataError, NBExplainError, row_list, unknown_name
from ..results.serial import dump_json, freeze_mapping, frozen_array, load_typed, to_jsonable
from .inputs import _is_frame, _is_series

#: Kinds of raw feature: risk falls as x rises, risk rises with x, no monotone relation.
FEATURE_KINDS = ("<", ">", "bins")
#: Names of the outcomes 0 and 1 (the target is 1 for Bad).
OUTCOMES = ("Good", "Bad")


def sigmoid(z):
    """``1 / (1 + exp(-z))``, without overflow."""
    from scipy.special import expit

    return expit(z)


def _text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


# --------------------------------------------------------------------------- recipe
@dataclass(frozen=True)
class StepColumn:
    """One binary step column ``b_c(x) = [low <= x < high]`` (``low < x`` when ``strict``).

    ``condition`` reads the column when it is 1 ("AverageMInFile is 48 or less": ordinary values
    only, a special value is never "or less"), ``negation`` when it is 0 ("AverageMInFile is 49
    or more (or special)") and ``opposite`` when it is 0 for an ordinary value ("AverageMInFile
    is 49 or more"). ``monotone`` columns have a weight constrained to be non-negative.
    """

    name: str
    feature: str
    subscale: str
    kind: str
    low: float
    high: float
    strict: bool
    monotone: bool
    condition: str
    negation: str
    opposite: str

    def describe(self, value, raw: float | None = None) -> str:
        """The column's condition when ``value`` is 1 (true), its negation when 0 -- for a known
        ordinary raw value (``raw >= 0``), its opposite among ordinary values."""
        if value:
            return self.condition
        return self.opposite if raw is not None and raw >= 0 else self.negation


@dataclass(frozen=True)
class FeatureSteps:
    """How one raw feature becomes step columns.

    Parameters
    ----------
    name : str
        The raw column's name.
    kind : str
        ``"<"`` (risk falls as x rises: ``[0 <= x < t]``), ``">"`` (risk rises with x:
        ``[x > t]``) or ``"bins"`` (``[a_k <= x < a_{k+1}]``, last bin ``[a_K <= x]``).
    cuts : tuple of float
        Thresholds (``"<"``, ``">"``) or cut points (``"bins"``, the first one 0), increasing.
    subscale : str
        The subscale the feature belongs to.
    integer : bool
        The feature takes whole values: conditions read "48 or less" rather than "less than 49".
    """

    name: str
    kind: str
    cuts: tuple
    subscale: str
    integer: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "cuts", tuple(float(c) for c in self.cuts))
        where = f"Feature {self.name!r}"
        if self.kind not in FEATURE_KINDS:
            raise NBExplainError(f"{where}: kind must be one of {FEATURE_KINDS}; got {self.kind!r}.")
        cuts = np.asarray(self.cuts)
        if cuts.size == 0 or not np.all(np.isfinite(cuts)) or np.any(np.diff(cuts) <= 0):
            raise NBExplainError(f"{where}: cuts must be finite and strictly increasing; got {list(self.cuts)}.")
        if self.kind == "<" and cuts[0] <= 0:
            raise NBExplainError(f"{where}: a '<' threshold t gives [0 <= x < t], so t must be above 0.")
        if self.kind == ">" and cuts[0] < 0:
            raise NBExplainError(f"{where}: a '>' threshold must be 0 or more (negative values are special).")
        if self.kind == "bins" and cuts[0] != 0:
            raise NBExplainError(
                f"{where}: the first cut point of bins must be 0, so that every value 0 or more falls in a bin; "
                f"got {self.cuts[0]:g}."
            )

    def columns(self, special_values: Mapping) -> list[StepColumn]:
        """The feature's step columns: its special-value indicators, then its intervals."""
        f, inf = self.name, math.inf
        out = [
            StepColumn(
                f"{f}={_text(v)}",
                f,
                self.subscale,
                "special",
                float(v),
                float(np.nextafter(float(v), inf)),  # [v, next float above v) = {v}
                False,
                False,
                f"{f}: {label} ({_text(v)})",
                f"{f} is not {_text(v)}",
                f"{f} is not {_text(v)}",
            )
            for v, label in special_values.items()
        ]
        special = "a special value (" + ", ".join(_text(v) for v in special_values) + ")"
        if self.kind == "bins":
            edges = (*self.cuts, inf)
            for low, high in zip(edges[:-1], edges[1:]):
                name = f"{f} in [{_text(low)}, {_text(high)})"
                text = self._range(low, high)
                negation = f"{f} {text.replace('is ', 'is not ', 1)}"
                out.append(
                    StepColumn(
                        name, f, self.subscale, "bin", low, high, False, False, f"{f} {text}", negation, negation
                    )
                )
            return out
        for t in self.cuts:
            if self.kind == "<":
                name, low, high, strict, kind = f"{f}<{_text(t)}", 0.0, t, False, "below"
                text = self._at_most(math.ceil(t) - 1) if self.integer else f"is less than {_text(t)}"
                other = f"is {_text(math.ceil(t))} or more" if self.integer else f"is at least {_text(t)}"
            else:
                name, low, high, strict, kind = f"{f}>{_text(t)}", t, inf, True, "above"
                text = f"is {_text(math.floor(t) + 1)} or more" if self.integer else f"is more than {_text(t)}"
                other = self._at_most(math.floor(t)) if self.integer else f"is at most {_text(t)}"
            out.append(
                StepColumn(
                    name,
                    f,
                    self.subscale,
                    kind,
                    low,
                    high,
                    strict,
                    True,
                    f"{f} {text}",
                    f"{f} {other} (or special)",
                    f"{f} {other}",
                )
            )
        out.append(
            StepColumn(
                f"{f}>=0",
                f,
                self.subscale,
                "present",
                0.0,
                inf,
                False,
                False,
                f"{f} is recorded (0 or more)",
                f"{f} is {special}",
                f"{f} is {special}",
            )
        )
        return out

    @staticmethod
    def _at_most(value: int) -> str:
        return "is 0" if value == 0 else f"is {_text(value)} or less"

    def _range(self, low: float, high: float) -> str:
        if not self.integer:
            return f"is at least {_text(low)}" if high == math.inf else f"is in [{_text(low)}, {_text(high)})"
        first = math.ceil(low)
        if high == math.inf:
            return f"is {_text(first)} or more"
        last = math.ceil(high) - 1
        return f"is {_text(first)}" if last == first else f"is {_text(first)} to {_text(last)}"

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "kind": self.kind,
            "cuts": list(self.cuts),
            "subscale": self.subscale,
            "integer": self.integer,
        }


@dataclass(frozen=True)
class StepRecipe:
    """Which step columns each raw feature gets and which subscale it belongs to.

    Parameters
    ----------
    features : tuple of FeatureSteps
        In the order the model reads raw columns (its ``feature_names_in_``).
    subscales : tuple of str
        The subscales in their order; each must hold at least one feature.
    special_values : mapping
        ``{value: meaning}`` of the negative codes that stand for missing information.

    Step columns are ordered by subscale, then by feature (in ``features`` order), each feature's
    special indicators first.
    """

    features: tuple
    subscales: tuple
    special_values: Mapping = field(
        default_factory=lambda: {
            -7: "condition not met",
            -8: "no usable or valid trades or inquiries",
            -9: "no record",
        }
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "features", tuple(self.features))
        object.__setattr__(self, "subscales", tuple(str(s) for s in self.subscales))
        specials = {}
        for value, meaning in dict(self.special_values).items():
            if not float(value) < 0 or not float(value).is_integer():
                raise NBExplainError(f"Special values must be negative whole numbers; got {value!r}.")
            specials[int(value)] = str(meaning)
        object.__setattr__(self, "special_values", freeze_mapping(specials))
        names = [f.name for f in self.features]
        if not names:
            raise NBExplainError("A step recipe needs at least one feature.")
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise NBExplainError(f"Features {repeated} appear more than once in the recipe.")
        if len(set(self.subscales)) != len(self.subscales):
            raise NBExplainError(f"Subscale names must be distinct; got {list(self.subscales)}.")
        for feature in self.features:
            if feature.subscale not in self.subscales:
                raise unknown_name(f"subscale (of feature {feature.name!r})", feature.subscale, self.subscales)
        empty = [s for s in self.subscales if not any(f.subscale == s for f in self.features)]
        if empty:
            raise NBExplainError(f"Subscales {empty} have no features; drop them or assign features to them.")

    @property
    def feature_names(self) -> tuple:
        return tuple(f.name for f in self.features)

    @cached_property
    def columns(self) -> tuple:
        """Every step column, ordered by subscale, then feature."""
        return tuple(
            column
            for subscale in self.subscales
            for feature in self.features
            if feature.subscale == subscale
            for column in feature.columns(self.special_values)
        )

    @cached_property
    def _bounds(self) -> tuple:
        """(feature position, low, high, strict) of every column, as arrays."""
        position = {name: j for j, name in enumerate(self.feature_names)}
        columns = self.columns
        return (
            np.array([position[c.feature] for c in columns]),
            np.array([c.low for c in columns]),
            np.array([c.high for c in columns]),
            np.array([c.strict for c in columns]),
        )

    @cached_property
    def column_subscale(self) -> np.ndarray:
        """Subscale position of every step column."""
        return np.array([self.subscales.index(c.subscale) for c in self.columns])

    @cached_property
    def column_feature(self) -> np.ndarray:
        """Feature position of every step column."""
        return self._bounds[0]

    @cached_property
    def feature_subscale(self) -> np.ndarray:
        """Subscale position of every raw feature."""
        return np.array([self.subscales.index(f.subscale) for f in self.features])

    # ------------------------------------------------------------ raw rows
    def raw_rows(self, X: Any, what: str = "data") -> tuple[np.ndarray, tuple | None]:
        """Checked raw rows ``(n, p)`` (float) in the recipe's feature order, and their labels.

        ``X``: a DataFrame (columns matched by name, in any order; other columns are ignored), a
        Series or a dict (one row, by name), or an array ``(n, p)`` / ``(p,)`` in feature order.
        NaN, inf and negative values that are not special values are errors naming the rows.
        """
        names = self.feature_names
        labels = None
        if _is_series(X):
            X = {str(k): v for k, v in X.items()}
        if isinstance(X, Mapping):
            missing = [n for n in names if n not in X]
            if missing:
                raise InputDataError(f"The {what} lacks feature(s) {missing}; the model reads {list(names)}.")
            try:
                columns = [np.atleast_1d(np.asarray(X[n], dtype=float)) for n in names]
                array = np.column_stack(columns) if len({c.shape for c in columns}) == 1 else None
            except (TypeError, ValueError):
                array = None
            if array is None or array.ndim != 2:
                raise InputDataError(f"The {what} must hold one number (or one equal-length list) per feature.")
        elif _is_frame(X):
            headers = [str(c) for c in X.columns]
            repeated = sorted({c for c in headers if c in names and headers.count(c) > 1})
            if repeated:
                raise InputDataError(f"The {what} has column(s) {repeated} more than once; keep one of each.")
            missing = [n for n in names if n not in headers]
            if missing:
                raise InputDataError(
                    f"The {what} lacks column(s) {missing}; the model reads {list(names)} (matched by name)."
                )
            frame = X.set_axis(headers, axis=1)[list(names)]
            bad = [n for n in names if frame[n].dtype.kind not in "biuf"]
            if bad:
                raise InputDataError(f"Column(s) {bad} of the {what} are not numeric; the model reads numbers.")
            array = frame.to_numpy(dtype=float)
            labels = tuple(X.index.tolist())
        else:
            try:
                array = np.asarray(X, dtype=float)
            except (TypeError, ValueError):
                raise InputDataError(f"The {what} holds values that are not numbers.") from None
            if array.ndim == 1:
                array = array[None]
            if array.ndim != 2 or array.shape[1] != len(names):
                raise InputDataError(
                    f"The {what} has shape {array.shape}; the model reads rows of {len(names)} features "
                    f"{list(names)} (pass a DataFrame to match them by name)."
                )
        if array.shape[0] == 0:
            raise InputDataError(f"The {what} has no rows.")
        self._check_values(array, labels, what)
        return array, labels

    def _check_values(self, array: np.ndarray, labels, what: str) -> None:
        names = self.feature_names
        shown = None if labels is None or labels == tuple(range(len(labels))) else labels
        where = "labels" if shown is not None else "positions"
        finite = np.isfinite(array)
        if not finite.all():
            rows = np.flatnonzero(~finite.all(axis=1))
            features = [names[j] for j in np.flatnonzero(~finite.all(axis=0))]
            raise InputDataError(
                f"The {what} has NaN or inf in {len(rows)} row(s) ({where} {row_list(rows, shown)}) and "
                f"feature(s) {features}. Code missing information as a special value "
                f"({', '.join(map(str, self.special_values))}) or drop those rows."
            )
        negative = (array < 0) & ~np.isin(array, list(self.special_values))
        if negative.any():
            rows = np.flatnonzero(negative.any(axis=1))
            features = [names[j] for j in np.flatnonzero(negative.any(axis=0))]
            raise InputDataError(
                f"The {what} has negative values that are not special values "
                f"({', '.join(map(str, self.special_values))}) in {len(rows)} row(s) ({where} "
                f"{row_list(rows, shown)}), feature(s) {features}. Recode them."
            )

    def steps_from_raw(self, raw: np.ndarray) -> np.ndarray:
        """Step columns ``(n, m)`` (0.0 / 1.0) of checked raw rows ``(n, p)``."""
        feature, low, high, strict = self._bounds
        x = raw[:, feature]
        return ((np.where(strict, x > low, x >= low)) & (x < high)).astype(np.float64)

    # ------------------------------------------------------------ serialising
    def to_dict(self) -> dict:
        return {
            "features": [f.to_dict() for f in self.features],
            "subscales": list(self.subscales),
            "special_values": {str(k): v for k, v in self.special_values.items()},
        }

    @classmethod
    def from_dict(cls, payload: Mapping) -> StepRecipe:
        return cls(
            tuple(
                FeatureSteps(f["name"], f["kind"], tuple(f["cuts"]), f["subscale"], f["integer"])
                for f in payload["features"]
            ),
            tuple(payload["subscales"]),
            {int(k): v for k, v in payload["special_values"].items()},
        )


#: The subscales of the FICO entry (block 4 "Delinquency" and block 1 "TradeOpenTime" as named
#: in the seed; the others after what their features measure).
HELOC_SUBSCALES = (
    "ExternalEstimate",
    "TradeOpenTime",
    "SatisfactoryTrades",
    "TradeFrequency",
    "Delinquency",
    "Installment",
    "Inquiry",
    "RevolvingBalance",
    "Utilization",
    "TradesWithBalance",
)


def _heloc(name: str, kind: str, cuts: Sequence, block: int) -> FeatureSteps:
    return FeatureSteps(name, kind, tuple(cuts), HELOC_SUBSCALES[block])


#: The FICO entry's step features for the 23 HELOC columns, in the file's column order:
#: 10 subscales, 182 step columns (see docs: the authors' binarised data rebuilt exactly).
HELOC_RECIPE = StepRecipe(
    (
        _heloc("ExternalRiskEstimate", "<", (64, 71, 76, 81), 0),
        _heloc("MSinceOldestTradeOpen", "<", (92, 135, 264), 1),
        _heloc("MSinceMostRecentTradeOpen", "<", (9, 20, 75, 82), 1),
        _heloc("AverageMInFile", "<", (49, 70, 97), 1),
        _heloc("NumSatisfactoryTrades", "<", (3, 6, 13, 22), 2),
        _heloc("NumTrades60Ever2DerogPubRec", ">", (1, 2, 11, 12), 3),
        _heloc("NumTrades90Ever2DerogPubRec", ">", (1, 2, 7, 9), 3),
        _heloc("PercentTradesNeverDelq", "<", (59, 84, 89, 96), 4),
        _heloc("MSinceMostRecentDelq", "<", (9, 18, 33, 48), 4),
        _heloc("MaxDelq2PublicRecLast12M", "<", (4, 6, 7, 9), 4),
        _heloc("MaxDelqEver", "<", (3, 4, 6, 7), 4),
        _heloc("NumTotalTrades", "bins", (0, 1, 10, 17, 28), 3),
        _heloc("NumTradesOpeninLast12M", ">", (2, 3, 6, 11), 3),
        _heloc("PercentInstallTrades", "bins", (0, 36, 47, 58, 85), 5),
        _heloc("MSinceMostRecentInqexcl7days", "<", (1, 2, 9, 23), 6),
        _heloc("NumInqLast6M", ">", (1, 2, 4, 8), 6),
        _heloc("NumInqLast6Mexcl7days", ">", (1, 2, 4, 8), 6),
        _heloc("NetFractionRevolvingBurden", ">", (1, 14, 37, 72), 7),
        _heloc("NetFractionInstallBurden", ">", (9, 10, 35, 70), 5),
        _heloc("NumRevolvingTradesWBalance", "bins", (0, 4, 5, 8, 12), 7),
        _heloc("NumInstallTradesWBalance", "bins", (0, 3, 4, 12, 14), 5),
        _heloc("NumBank2NatlTradesWHighUtilization", ">", (1, 2, 3, 5), 8),
        _heloc("PercentTradesWBalance", "bins", (0, 48, 67, 74, 87), 9),
    ),
    HELOC_SUBSCALES,
)


# --------------------------------------------------------------------------- fitting
def binary_target(y: Any, n: int, labels: tuple | None = None) -> np.ndarray:
    """The target as 0.0 / 1.0 (1 = Bad): 0/1 numbers, booleans, or the strings "Bad"/"Good"
    (any case); anything else is an error naming the rows."""
    values = np.asarray(y.to_numpy() if hasattr(y, "to_numpy") else y)
    if values.shape != (n,):
        raise InputDataError(f"The target has shape {values.shape}; expected one outcome per row ({n},).")
    shown = None if labels is None or labels == tuple(range(n)) else labels
    if values.dtype.kind in "OUS":
        text = np.array([str(v).strip().lower() for v in values])
        bad = np.flatnonzero(~np.isin(text, ("bad", "good")))
        if bad.size:
            raise InputDataError(
                f"The target must be 0/1 or 'Bad'/'Good'; row(s) {row_list(bad, shown)} hold "
                f"{sorted({str(values[i]) for i in bad[:5]})}."
            )
        return (text == "bad").astype(np.float64)
    numbers = values.astype(np.float64)
    bad = np.flatnonzero(~np.isin(numbers, (0.0, 1.0)))
    if bad.size:
        raise InputDataError(
            f"The target must be 0/1 (1 = Bad) or 'Bad'/'Good'; row(s) {row_list(bad, shown)} hold "
            f"{sorted({repr(v) for v in values[bad[:5]].tolist()})}."
        )
    return numbers


def fit_logistic(B: np.ndarray, y: np.ndarray, C: float, nonnegative: np.ndarray, tol: float, max_iter: int):
    """Minimise ``1/2 ||w||^2 + C sum_i logloss(y_i, sigma(w . b_i + c))`` with ``w_j >= 0`` where
    ``nonnegative``; returns ``(w, c, report)``. Identical rows of 0/1 columns are merged (their
    count ``n_i`` and positives ``k_i``: ``n_i log(1 + e^z) - k_i z``), which leaves the objective
    unchanged."""
    from scipy.optimize import minimize

    if np.isin(B, (0.0, 1.0)).all():  # step columns: few distinct rows, found on their packed bits
        _, first, inverse = np.unique(np.packbits(B > 0, axis=1), axis=0, return_index=True, return_inverse=True)
        patterns, inverse = B[first], inverse.reshape(-1)
    else:
        patterns, inverse = B, np.arange(len(B))
    counts = np.bincount(inverse).astype(np.float64)
    positives = np.bincount(inverse, weights=y, minlength=len(patterns))
    p = B.shape[1]

    def objective(theta):
        w, c = theta[:p], theta[p]
        z = patterns @ w + c
        residual = counts * sigmoid(z) - positives
        value = 0.5 * w @ w + C * np.sum(counts * np.logaddexp(0.0, z) - positives * z)
        return value, np.concatenate([w + C * (patterns.T @ residual), [C * residual.sum()]])

    start = np.zeros(p + 1)
    share = np.clip(y.mean(), 1e-6, 1 - 1e-6)
    start[p] = math.log(share / (1 - share))
    bounds = [(0.0, None) if flag else (None, None) for flag in nonnegative] + [(None, None)]
    result = minimize(
        objective,
        start,
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": int(max_iter), "maxfun": 4 * int(max_iter), "ftol": tol, "gtol": tol * 10},
    )
    w = np.asarray(result.x[:p], dtype=np.float64)
    w[nonnegative] = np.maximum(w[nonnegative], 0.0)
    report = {
        "converged": bool(result.success),
        "iterations": int(result.nit),
        "objective": float(result.fun),
        "message": str(result.message),
        "distinct_rows": int(len(patterns)),
    }
    return w, float(result.x[p]), report


# --------------------------------------------------------------------------- computation
@dataclass(frozen=True, eq=False)
class Computation:
    """Every quantity the model computes for one row, from its raw values to P(Bad).

    ``steps`` ``b_c``, ``weights`` ``w_c`` and ``column_points`` ``w_c b_c`` are per step column
    (``columns``); ``subscale_logits`` ``z_s = sum_{c in s} w_c b_c + c_s``,
    ``subscale_probabilities`` ``p_s = sigma(z_s)`` and ``subscale_points`` ``v_s p_s`` per
    subscale; ``logit`` ``L = sum_s v_s p_s + c_0`` and ``probability`` ``sigma(L)`` = P(Bad).
    """

    label: Any
    features: tuple
    raw: np.ndarray
    columns: tuple
    steps: np.ndarray
    weights: np.ndarray
    column_points: np.ndarray
    subscales: tuple
    subscale_intercepts: np.ndarray
    subscale_logits: np.ndarray
    subscale_probabilities: np.ndarray
    output_weights: np.ndarray
    subscale_points: np.ndarray
    output_intercept: float
    logit: float
    probability: float
    meta: Mapping = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in (
            "raw",
            "steps",
            "weights",
            "column_points",
            "subscale_intercepts",
            "subscale_logits",
            "subscale_probabilities",
            "output_weights",
            "subscale_points",
        ):
            object.__setattr__(self, name, frozen_array(getattr(self, name), dtype=float))
        object.__setattr__(self, "meta", freeze_mapping(self.meta))

    def feature_points(self) -> dict:
        """``{feature: sum of its column points}``: what each raw feature adds to its subscale logit."""
        totals = dict.fromkeys(self.features, 0.0)
        for column, points in zip(self.columns, self.column_points):
            totals[column.feature] += float(points)
        return totals

    def active_columns(self, feature: str) -> tuple:
        """The step columns that are 1 for ``feature`` in this row."""
        if feature not in self.features:
            raise unknown_name("feature", feature, self.features)
        return tuple(c for c, b in zip(self.columns, self.steps) if c.feature == feature and b)

    def to_frame(self):
        """One row per step column: subscale, feature, raw value, column, condition as it stands
        for this row, ``b_c``, ``w_c`` and the points ``w_c b_c``."""
        import pandas as pd

        raw = dict(zip(self.features, self.raw.tolist()))
        return pd.DataFrame(
            {
                "subscale": [c.subscale for c in self.columns],
                "feature": [c.feature for c in self.columns],
                "value": [raw[c.feature] for c in self.columns],
                "column": [c.name for c in self.columns],
                "condition": [c.describe(b, raw[c.feature]) for c, b in zip(self.columns, self.steps)],
                "step": self.steps.astype(int),
                "weight": self.weights,
                "points": self.column_points,
            }
        )

    def subscale_frame(self):
        """One row per subscale: intercept ``c_s``, logit ``z_s``, probability ``p_s``, output
        weight ``v_s`` and points ``v_s p_s``."""
        import pandas as pd

        return pd.DataFrame(
            {
                "intercept": self.subscale_intercepts,
                "logit": self.subscale_logits,
                "probability": self.subscale_probabilities,
                "weight": self.output_weights,
                "points": self.subscale_points,
            },
            index=pd.Index(self.subscales, name="subscale"),
        )

    def summary(self) -> dict:
        """The output layer: ``sum_s v_s p_s``, ``c_0``, the logit and P(Bad)."""
        return {
            "subscale_points": float(self.subscale_points.sum()),
            "output_intercept": self.output_intercept,
            "logit": self.logit,
            "probability": self.probability,
        }


# --------------------------------------------------------------------------- the model
class AdditiveRiskModel:
    """The two-layer additive risk model (module docstring), scikit-learn style.

    Parameters
    ----------
    recipe : StepRecipe
        Step columns and subscales; :data:`HELOC_RECIPE` (the FICO entry's) by default.
    C : float
        Inverse regularisation strength: ``1/2 ||w||^2 + C * summed log-loss`` (1 by default).
    tol : float
        Convergence tolerance of L-BFGS-B (relative objective change; projected gradient 10x).
    max_iter : int
        Iteration limit of each fit.

    Attributes (after :meth:`fit`)
    -------------------------------
    weights_ : (m,) step-column weights ``w_c`` (non-negative on one-sided columns)
    subscale_intercepts_ : (S,) ``c_s``;  output_weights_ : (S,) ``v_s >= 0``;  output_intercept_ : ``c_0``
    step_means_ : (m,) mean of every step column over the training rows (the average applicant)
    subscale_means_ : (S,) mean subscale probability over the training rows
    n_train_ : training rows;  fit_report_ : per fit, convergence, iterations, objective
    """

    classes_ = OUTCOMES

    def __init__(
        self, recipe: StepRecipe = HELOC_RECIPE, *, C: float = 1.0, tol: float = 1e-10, max_iter: int = 15_000
    ):
        self.recipe = recipe
        self.C = C
        self.tol = tol
        self.max_iter = max_iter

    def get_params(self) -> dict:
        """The parameters the model was built with."""
        return {"recipe": self.recipe, "C": self.C, "tol": self.tol, "max_iter": self.max_iter}

    def __repr__(self) -> str:
        state = "fitted" if self.fitted else "not fitted"
        return (
            f"AdditiveRiskModel({len(self.recipe.features)} features, {len(self.recipe.subscales)} subscales, "
            f"{len(self.recipe.columns)} step columns, C={self.C:g}, {state})"
        )

    # ------------------------------------------------------------ structure
    @property
    def feature_names_in_(self) -> tuple:
        """The raw features the model reads, in order."""
        return self.recipe.feature_names

    @property
    def columns_(self) -> tuple:
        """The step columns (:class:`StepColumn`)."""
        return self.recipe.columns

    @property
    def subscales_(self) -> tuple:
        return self.recipe.subscales

    @property
    def fitted(self) -> bool:
        return hasattr(self, "weights_")

    def _check_params(self) -> None:
        if not isinstance(self.recipe, StepRecipe):
            raise NBExplainError(f"recipe must be a StepRecipe (e.g. HELOC_RECIPE); got {type(self.recipe).__name__}.")
        if (
            isinstance(self.C, bool)
            or not isinstance(self.C, (int, float))
            or not (self.C > 0 and math.isfinite(self.C))
        ):
            raise NBExplainError(f"C must be a positive number (1 by default); got {self.C!r}.")
        if not (isinstance(self.tol, (int, float)) and self.tol > 0):
            raise NBExplainError(f"tol must be a positive number; got {self.tol!r}.")
        if isinstance(self.max_iter, bool) or not isinstance(self.max_iter, int) or self.max_iter < 1:
            raise NBExplainError(f"max_iter must be a positive whole number; got {self.max_iter!r}.")

    def _check_fitted(self) -> None:
        if not self.fitted:
            raise NBExplainError("This AdditiveRiskModel is not fitted yet: call fit(X, y) or load a saved model.")

    @property
    def used_columns_(self) -> np.ndarray:
        """Boolean mask of the step columns with a non-zero weight."""
        self._check_fitted()
        return self.weights_ != 0.0

    # ------------------------------------------------------------ fitting
    def fit(self, X: Any, y: Any) -> AdditiveRiskModel:
        """Fit every subscale, then the output layer (module docstring).

        ``X``: raw rows (a DataFrame matched by name, other columns ignored); ``y``: 0/1 with
        1 = Bad, or the strings "Bad"/"Good".
        """
        self._check_params()
        raw, labels = self.recipe.raw_rows(X, "training data")
        target = binary_target(y, raw.shape[0], labels)
        if target.min() == target.max():
            raise InputDataError("The training target has one outcome only; a risk model needs both Bad and Good rows.")
        from threadpoolctl import threadpool_limits

        S = self.recipe.steps_from_raw(raw)
        subscale = self.recipe.column_subscale
        monotone = np.array([c.monotone for c in self.recipe.columns])
        weights = np.zeros(S.shape[1])
        intercepts = np.zeros(len(self.recipe.subscales))
        reports = []
        with threadpool_limits(limits=1, user_api="blas"):
            for s, name in enumerate(self.recipe.subscales):
                block = subscale == s
                weights[block], intercepts[s], report = fit_logistic(
                    S[:, block], target, float(self.C), monotone[block], float(self.tol), self.max_iter
                )
                reports.append({"fit": name, **report})
            probabilities = sigmoid(self._subscale_logits(S, weights, intercepts))
            output_weights, output_intercept, report = fit_logistic(
                probabilities,
                target,
                float(self.C),
                np.ones(len(intercepts), dtype=bool),
                float(self.tol),
                self.max_iter,
            )
        reports.append({"fit": "output", **report})
        failed = [r["fit"] for r in reports if not r["converged"]]
        if failed:
            warnings.warn(
                f"L-BFGS-B stopped before converging for {failed} "
                f"({'; '.join(r['message'] for r in reports if not r['converged'])}); raise max_iter.",
                stacklevel=2,
            )
        self._set_fitted(
            weights,
            intercepts,
            output_weights,
            output_intercept,
            S.mean(axis=0),
            probabilities.mean(axis=0),
            raw.shape[0],
            reports,
        )
        return self

    def _set_fitted(
        self, weights, intercepts, output_weights, output_intercept, step_means, subscale_means, n, reports
    ):
        self.weights_ = frozen_array(weights, dtype=float)
        self.subscale_intercepts_ = frozen_array(intercepts, dtype=float)
        self.output_weights_ = frozen_array(output_weights, dtype=float)
        self.output_intercept_ = float(output_intercept)
        self.step_means_ = frozen_array(step_means, dtype=float)
        self.subscale_means_ = frozen_array(subscale_means, dtype=float)
        self.n_train_ = int(n)
        self.fit_report_ = tuple(freeze_mapping(r) for r in reports)
        self.__dict__.pop("_fingerprint", None)

    def _subscale_logits(self, S: np.ndarray, weights: np.ndarray, intercepts: np.ndarray) -> np.ndarray:
        membership = np.zeros((S.shape[1], len(self.recipe.subscales)))
        membership[np.arange(S.shape[1]), self.recipe.column_subscale] = weights
        return S @ membership + intercepts

    # ------------------------------------------------------------ predicting
    def steps(self, X: Any) -> np.ndarray:
        """Step columns ``(n, m)`` (0.0 / 1.0) of raw rows."""
        raw, _ = self.recipe.raw_rows(X)
        return self.recipe.steps_from_raw(raw)

    def step_frame(self, X: Any):
        """Step columns as a 0/1 DataFrame named by column, indexed as ``X``."""
        import pandas as pd

        raw, labels = self.recipe.raw_rows(X)
        return pd.DataFrame(
            self.recipe.steps_from_raw(raw).astype(np.int8),
            columns=[c.name for c in self.recipe.columns],
            index=None if labels is None else pd.Index(labels),
        )

    def head(self, S: np.ndarray) -> dict:
        """Every quantity from step columns ``S`` ``(n, m)`` on: ``column_points``,
        ``subscale_logits``, ``subscale_probabilities``, ``subscale_points``, ``logit``, ``probability``."""
        self._check_fitted()
        column_points = S * self.weights_
        logits = self._subscale_logits(S, self.weights_, self.subscale_intercepts_)
        probabilities = sigmoid(logits)
        points = probabilities * self.output_weights_
        logit = points.sum(axis=1) + self.output_intercept_
        return {
            "column_points": column_points,
            "subscale_logits": logits,
            "subscale_probabilities": probabilities,
            "subscale_points": points,
            "logit": logit,
            "probability": sigmoid(logit),
        }

    def logit_from_steps(self, S: np.ndarray) -> np.ndarray:
        """The output logit ``L`` of step columns ``S``."""
        self._check_fitted()
        probabilities = sigmoid(self._subscale_logits(S, self.weights_, self.subscale_intercepts_))
        return probabilities @ self.output_weights_ + self.output_intercept_

    def logit(self, X: Any) -> np.ndarray:
        """``L = sum_s v_s p_s + c_0`` per row."""
        return self.logit_from_steps(self.steps(X))

    def risk(self, X: Any) -> np.ndarray:
        """P(Bad) per row."""
        return sigmoid(self.logit(X))

    def predict_proba(self, X: Any) -> np.ndarray:
        """``(n, 2)``: P(Good), P(Bad) (the order of ``classes_``)."""
        risk = self.risk(X)
        return np.column_stack([1.0 - risk, risk])

    def predict(self, X: Any, threshold: float = 0.5) -> np.ndarray:
        """1 (Bad) where P(Bad) > ``threshold``, else 0 (Good)."""
        return (self.risk(X) > threshold).astype(int)

    def feature_points(self, S: np.ndarray) -> np.ndarray:
        """``(n, p)``: each raw feature's points on its subscale logit, ``sum_{c of j} w_c b_c``."""
        self._check_fitted()
        by_feature = np.zeros((S.shape[1], len(self.recipe.features)))
        by_feature[np.arange(S.shape[1]), self.recipe.column_feature] = self.weights_
        return S @ by_feature

    def computation(self, x: Any, label: Any = None) -> Computation:
        """The whole computation for ONE row (a Series, a dict, a one-row DataFrame or array)."""
        raw, labels = self.recipe.raw_rows(x, "row")
        if raw.shape[0] != 1:
            raise InputDataError(f"computation() takes one row; got {raw.shape[0]}. Pick one with .iloc[[i]].")
        S = self.recipe.steps_from_raw(raw)
        values = self.head(S)
        return Computation(
            label=label if label is not None else (labels[0] if labels else None),
            features=self.recipe.feature_names,
            raw=raw[0],
            columns=self.recipe.columns,
            steps=S[0],
            weights=self.weights_,
            column_points=values["column_points"][0],
            subscales=self.recipe.subscales,
            subscale_intercepts=self.subscale_intercepts_,
            subscale_logits=values["subscale_logits"][0],
            subscale_probabilities=values["subscale_probabilities"][0],
            output_weights=self.output_weights_,
            subscale_points=values["subscale_points"][0],
            output_intercept=self.output_intercept_,
            logit=float(values["logit"][0]),
            probability=float(values["probability"][0]),
            meta={"model": "AdditiveRiskModel", "model_fingerprint": self.fingerprint(), "version": __version__},
        )

    # ------------------------------------------------------------ saving
    def _payload(self) -> dict:
        self._check_fitted()
        return to_jsonable(
            {
                "type": type(self).__name__,
                "version": __version__,
                "recipe": self.recipe.to_dict(),
                "params": {"C": self.C, "tol": self.tol, "max_iter": self.max_iter},
                "fitted": {
                    "weights": self.weights_,
                    "subscale_intercepts": self.subscale_intercepts_,
                    "output_weights": self.output_weights_,
                    "output_intercept": self.output_intercept_,
                    "step_means": self.step_means_,
                    "subscale_means": self.subscale_means_,
                    "n_train": self.n_train_,
                    "fit_report": [dict(r) for r in self.fit_report_],
                },
            }
        )

    def fingerprint(self) -> str:
        """SHA-256 (16 hex digits) of the recipe and the fitted numbers."""
        if "_fingerprint" not in self.__dict__:
            self.__dict__["_fingerprint"] = _checksum(self._payload())[:16]
        return self.__dict__["_fingerprint"]

    def to_json(self, path: str | Path | None = None) -> str:
        """The fitted model as JSON with a checksum (written all-or-nothing to ``path`` when given)."""
        payload = self._payload()
        return dump_json({**payload, "checksum": _checksum(payload)}, path)

    def save(self, path: str | Path) -> None:
        """Write the model to ``path`` as JSON (no pickle), all-or-nothing."""
        self.to_json(path)

    @classmethod
    def load(cls, text_or_path: str | Path) -> AdditiveRiskModel:
        """Read a model written by :meth:`save` (a path or the JSON text). A truncated, damaged or
        edited file is an :class:`NBExplainError`."""
        payload = load_typed(text_or_path, cls.__name__)
        source = "The saved AdditiveRiskModel"
        checksum = payload.pop("checksum", None)
        if checksum != _checksum(payload):
            raise NBExplainError(
                f"{source} fails its checksum: the file was damaged or edited after it was written. Save it again."
            )
        try:
            recipe = StepRecipe.from_dict(payload["recipe"])
            params = payload["params"]
            fitted = payload["fitted"]
            model = cls(recipe, C=params["C"], tol=params["tol"], max_iter=params["max_iter"])
            m, k = len(recipe.columns), len(recipe.subscales)
            arrays = {
                name: np.asarray(fitted[name], dtype=np.float64)
                for name in ("weights", "subscale_intercepts", "output_weights", "step_means", "subscale_means")
            }
            shapes = {"weights": m, "step_means": m, "subscale_intercepts": k, "output_weights": k, "subscale_means": k}
            for name, size in shapes.items():
                if arrays[name].shape != (size,) or not np.all(np.isfinite(arrays[name])):
                    raise ValueError(f"{name} must hold {size} finite numbers")
            monotone = np.array([c.monotone for c in recipe.columns])
            if np.any(arrays["weights"][monotone] < 0) or np.any(arrays["output_weights"] < 0):
                raise ValueError("a monotone weight is negative")
            model._set_fitted(
                arrays["weights"],
                arrays["subscale_intercepts"],
                arrays["output_weights"],
                float(fitted["output_intercept"]),
                arrays["step_means"],
                arrays["subscale_means"],
                int(fitted["n_train"]),
                list(fitted["fit_report"]),
            )
        except (KeyError, TypeError, ValueError, AttributeError, NBExplainError) as error:
            raise NBExplainError(f"{source} is incomplete or damaged ({error}). Save it again.") from None
        return model


def _checksum(payload: Mapping) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, allow_nan=False).encode()).hexdigest()


__all__ = [
    "HELOC_RECIPE",
    "HELOC_SUBSCALES",
    "OUTCOMES",
    "AdditiveRiskModel",
    "Computation",
    "FeatureSteps",
    "StepColumn",
    "StepRecipe",
    "binary_target",
    "fit_logistic",
    "sigmoid",
]
