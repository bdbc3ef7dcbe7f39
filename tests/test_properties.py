"""Property-based tests (hypothesis): whatever a user hands the explainers or the loaders, the
answer is either CORRECT (checked against a NumPy reference written here) or an NBExplainError
that says what was wrong; never a raw exception, never a silent NaN.

* The explainers: small Keras networks with known weights (a tanh-softmax network, a linear
  score, and sqrt(|x|), whose gradient is infinite at 0) and their NumPy twins. Inputs of any
  shape, dtype, value (NaN, inf, huge, tiny, -0.0) and container (numpy, lists, dicts, tf tensors,
  DataFrames with permuted / missing / extra / duplicate columns, Series); parameters valid and
  not (steps=True/0/-1/"x"/1.5, unknown rules, bad tolerances, batch sizes, targets, labels,
  logit flags, feature names). Where everything is valid and moderate, a result is REQUIRED.
* The loaders: random small UCI and HELOC tables written in random forms (delimiter, compression,
  quoting, number styles, BOM, line ends, blank lines, workbooks, HTML), with junk, missing and
  extra cells; they load to the right frame or raise DataFileError naming the first bad line.

Each property runs 100-200 examples (``pytest --hypothesis-show-statistics`` prints the counts).
"""

from __future__ import annotations

import bz2
import codecs
import functools
import gzip
import io
import lzma
import re
import warnings
import zipfile
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from nbexplain import IntegratedGradients, Sensitivity
from nbexplain.datasets.credit import CREDIT_FEATURES, CREDIT_TARGET
from nbexplain.datasets.heloc import HELOC_FEATURES, HELOC_TARGET
from nbexplain.datasets.loaders import load_credit_default, load_heloc
from nbexplain.errors import DataFileError, NBExplainError

#: Each explainer property draws this many examples (the file stays well under a minute).
EXAMPLES = 200
PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,  # the first call of a shape traces a TensorFlow function: seconds, once
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=False,
)

FEATURES = ("a", "b", "c")
P = len(FEATURES)

# ----------------------------------------------------------------------------- the networks
# Dyadic weights: exact in float32, so the reference and the model hold the same numbers.
W1 = np.array([[0.5, -0.25, 1.0, 0.125], [-0.75, 0.5, 0.25, -1.0], [0.375, 1.25, -0.5, 0.625]])
B1 = np.array([0.125, -0.25, 0.0625, 0.0])
W2 = np.array([[1.0, -1.0], [-0.5, 0.75], [0.25, 0.5], [-1.5, 1.25]])
B2 = np.array([0.25, -0.125])
W_LINEAR = np.array([2.0, -1.0, 0.5])
B_LINEAR = 0.25


@functools.cache
def network(kind: str):
    import keras

    x = keras.Input((P,), name="x")
    if kind == "tanh":
        hidden = keras.layers.Dense(4, activation="tanh", name="hidden")
        out = keras.layers.Dense(2, activation="softmax", name="out")
        model = keras.Model(x, out(hidden(x)))
        hidden.set_weights([W1.astype("float32"), B1.astype("float32")])
        out.set_weights([W2.astype("float32"), B2.astype("float32")])
    elif kind == "linear":
        out = keras.layers.Dense(1, name="out")
        model = keras.Model(x, out(x))
        out.set_weights([W_LINEAR[:, None].astype("float32"), np.array([B_LINEAR], "float32")])
    else:  # "sqrt": sum_j sqrt(|x_j|), a gradient that is infinite at 0
        roots = keras.layers.Lambda(lambda t: keras.ops.sqrt(keras.ops.abs(t)), name="roots")(x)
        out = keras.layers.Dense(1, use_bias=False, name="out")
        model = keras.Model(x, out(roots))
        out.set_weights([np.ones((P, 1), "float32")])
    return model


UNITS = {"tanh": 2, "linear": 1, "sqrt": 1}
TINY = float(np.finfo(np.float32).tiny)  # the smallest normal float32


def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def reference(kind: str, x: np.ndarray, unit: int, logit: bool):
    """NumPy score and gradient (float64) of the network ``kind`` at rows ``x``."""
    if kind == "linear":
        return x @ W_LINEAR + B_LINEAR, np.broadcast_to(W_LINEAR, x.shape).copy()
    if kind == "sqrt":
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.sqrt(np.abs(x)).sum(axis=1), np.sign(x) / (2 * np.sqrt(np.abs(x)))
    z1 = x @ W1 + B1
    h = np.tanh(z1)
    z2 = h @ W2 + B2
    p = softmax(z2)
    one = np.eye(2)[unit]
    dz2 = np.broadcast_to(one, p.shape) if logit else p[:, [unit]] * (one - p)
    dz1 = (dz2 @ W2.T) * (1 - h**2)
    return (z2[:, unit] if logit else p[:, unit]), dz1 @ W1.T


def tolerance(kind: str, *points: np.ndarray) -> np.ndarray:
    """Per-row error a float32 evaluation may make at these rows (the reference is float64):
    rounding of the hidden pre-activations, propagated through a bounded second derivative."""
    scale = np.max([np.abs(p) @ np.abs(W1) + np.abs(B1) for p in points], axis=0).max(axis=1)
    if kind == "linear":
        return 1e-6 + 4e-7 * np.max([np.abs(p) @ np.abs(W_LINEAR) for p in points], axis=0)
    if kind == "sqrt":  # relative: the gradient 1 / (2 sqrt|x|) grows without bound near 0
        return np.full(len(points[0]), 1e-5)
    return 2e-6 + 20 * 4e-7 * scale


def quadrature(rule: str, steps: int):
    k = np.arange(steps, dtype=float)
    if rule == "gausslegendre":
        nodes, weights = np.polynomial.legendre.leggauss(steps)
        return (nodes + 1) / 2, weights / 2
    if rule == "riemann_trapezoid":
        weights = np.full(steps, 1 / (steps - 1))
        weights[[0, -1]] /= 2
        return k / (steps - 1), weights
    offset = {"riemann_left": 0.0, "riemann_right": 1.0, "riemann_middle": 0.5}[rule]
    return (k + offset) / steps, np.full(steps, 1 / steps)


def reference_ig(kind, x, b, unit, logit, rule, steps):
    """(x - b) * sum_k w_k grad f(b + a_k (x - b)) per row, each row with its own step count, and
    the error a float32 evaluation may make (for sqrt: the gradient's change over the rounding
    of each path point; infinite where a point may be 0)."""
    out, error = np.empty_like(x), np.zeros_like(x)
    for i in range(len(x)):
        nodes, weights = quadrature(rule, int(steps[i]))
        points = b[i] + nodes[:, None] * (x[i] - b[i])
        out[i] = (x[i] - b[i]) * (weights @ reference(kind, points, unit, logit)[1])
        if kind == "sqrt":
            rounding = 4e-7 * (np.abs(b[i]) + np.abs(x[i] - b[i])) + 1e-44
            near = np.maximum(np.abs(points) - rounding, 0)
            with np.errstate(divide="ignore", invalid="ignore"):
                change = np.where(near > 0, 1 / (2 * np.sqrt(near)) - 1 / (2 * np.sqrt(np.abs(points))), np.inf)
            error[i] = np.abs(x[i] - b[i]) * (np.abs(weights) @ change)
    return out, error


# ----------------------------------------------------------------------------- the data drawn
SPECIALS = [np.nan, np.inf, -np.inf, -0.0, 0.0, 1e-45, 5e-324, 1e-30, 1e30, -1e30, 1e300, 1e6, -2.5e7]
SPECIALS += [3e38, -2e38] * 3  # near the float32 limit: differences along a path overflow
# Repeated entries weigh the draw towards the common cases, so that results are checked often.
DTYPES = ["float64"] * 4 + ["float32"] * 2 + ["float16", "int64", "int8", "uint8", "bool"]
DTYPES += ["complex128", "object", "str", "bytes"]
CONTAINERS = ["numpy"] * 3 + ["frame"] * 3 + ["list", "ragged", "series", "dict", "wrong_dict", "tensor", "one_row"]
CONTAINERS += ["scalar", "3d", "masked"]
ARRANGEMENTS = ["exact", "exact", "permuted", "permuted", "missing", "extra", "duplicate", "renamed", "ints"]


@dataclass
class Drawn:
    """What was handed to the explainer, and what a correct explainer must make of it."""

    X: object
    expected: np.ndarray | None  # float32 rows in the model's feature order; None: must be refused
    names: tuple | None  # the feature names the result must carry
    labels: tuple | None  # the sample labels the result must carry
    moderate: bool  # every value finite and at most 1e6 in size
    had_non_finite: bool  # the user's data itself held NaN or inf
    notes: list = field(default_factory=list)


def typed(values: np.ndarray, dtype: str, injected: dict):
    """``values`` (moderate floats) as an array of ``dtype``; ``injected`` {(i, j): special}."""
    values = values.copy()
    if dtype in ("float64", "float32", "float16", "complex128"):
        for (i, j), v in injected.items():
            values[i, j] = v
        with np.errstate(over="ignore"):
            return values.astype(dtype) if dtype != "complex128" else values + 0.5j
    if dtype in ("int64", "int8", "uint8"):
        info = np.iinfo(dtype)
        ints = np.clip(np.round(values), info.min, info.max).astype(dtype)
        for i, j in injected:
            ints[i, j] = info.max if (i + j) % 2 else info.min
        return ints
    if dtype == "bool":
        return values > 0
    cells = values.astype(object)
    for (i, j), v in injected.items():
        cells[i, j] = v
    if dtype == "object":
        out = np.empty(values.shape, dtype=object)
        for index, v in np.ndenumerate(cells):
            out[index] = (str(v), int(v) if np.isfinite(v) and abs(v) < 1e18 else v, v, None)[sum(index) % 4]
        return out
    text = np.array([[repr(float(v)) for v in row] for row in cells])
    return text if dtype == "str" else np.char.encode(text, "ascii")


def as_float32(array):
    """What numpy makes of the user's array as float32 numbers (None when it cannot)."""
    try:
        array = np.asarray(array)
        if array.dtype == object:
            array = array.astype(float)
    except (TypeError, ValueError):
        return None, False
    if np.issubdtype(array.dtype, np.complexfloating) or not (
        np.issubdtype(array.dtype, np.number) or array.dtype == bool
    ):
        return None, False
    with np.errstate(over="ignore", invalid="ignore"):
        had_non_finite = bool(np.issubdtype(array.dtype, np.floating) and not np.isfinite(array).all())
        return array.astype("float32"), had_non_finite


@st.composite
def drawn_data(draw, feature_names, clean=False):
    """Data of any form; ``clean``: finite moderate floats in the common containers."""
    n = draw(st.integers(1, 5))
    values = draw(
        st.lists(st.floats(-8, 8, allow_nan=False, width=32), min_size=n * P, max_size=n * P).map(
            lambda v: np.array(v, dtype=float).reshape(n, P)
        )
    )
    cells = st.tuples(st.integers(0, n - 1), st.integers(0, P - 1))
    if clean:
        injected = {}
        dtype = draw(st.sampled_from(["float64", "float32"]))
        container = draw(st.sampled_from(["numpy", "frame", "list", "dict", "tensor", "one_row"]))
    else:
        injected = draw(st.just({}) | st.dictionaries(cells, st.sampled_from(SPECIALS), min_size=1, max_size=2))
        dtype = draw(st.sampled_from(DTYPES))
        container = draw(st.sampled_from(CONTAINERS))
    data = typed(values, dtype, injected)
    # feature names are a list or tuple of distinct names, one per feature; a string or a number is refused
    given = list(feature_names) if isinstance(feature_names, list | tuple) else None
    names_ok = feature_names is None or (given is not None and len(given) == P and len({str(g) for g in given}) == P)
    names = tuple(str(g) for g in given) if given is not None and names_ok else None

    if container in ("frame", "series"):
        arrangement = draw(st.sampled_from(["exact", "permuted"] if clean else ARRANGEMENTS))
        columns = {
            "exact": list(FEATURES),
            "permuted": list(draw(st.permutations(FEATURES))),
            "missing": list(FEATURES[:2]),
            "extra": [*FEATURES, "d"],
            "duplicate": ["a", "b", "b"],
            "renamed": ["a", "b", "z"],
            "ints": [0, 1, 2],
        }[arrangement]
        source = {name: data[:, j] for j, name in enumerate(FEATURES)}
        source.update({"d": data[:, 0], "z": data[:, 2], 0: data[:, 0], 1: data[:, 1], 2: data[:, 2]})
        body = np.column_stack([source[c] for c in columns]) if columns else data
        index = draw(st.sampled_from([None, [f"r{i}" for i in range(n)], [10 * i for i in range(n)]]))
        frame = pd.DataFrame(body, columns=columns, index=index)
        X = frame if container == "frame" else frame.iloc[0]
        view = X.to_frame().T if container == "series" else X
        strs = [str(c) for c in view.columns]
        labels = tuple(view.index.tolist())
        from pandas.api.types import is_bool_dtype, is_complex_dtype, is_numeric_dtype

        numeric = all(
            (is_numeric_dtype(t) or is_bool_dtype(t)) and not is_complex_dtype(t) for t in view.dtypes
        ) and len(set(strs)) == len(strs)
        if names is not None and sorted(strs) != sorted(names):
            return Drawn(X, None, None, None, False, False, [f"columns {strs} do not match {names}"])
        if not names_ok or not numeric:
            return Drawn(X, None, None, None, False, False, ["names or dtypes refused"])
        order = list(names) if names is not None else strs
        matrix, had_non_finite = as_float32(view.set_axis(strs, axis=1)[order].to_numpy())
        return finish(X, matrix, tuple(order), labels, had_non_finite)

    labels = tuple(range(n))
    if container == "numpy":
        X = data
    elif container == "list":
        X = data.tolist()
    elif container == "ragged":
        X = [list(row) for row in data.tolist()]
        X[-1] = X[-1][:-1]
        if n == 1:
            X = [X[0], [1.0, 2.0, 3.0]]
        return Drawn(X, None, None, None, False, False, ["ragged"])
    elif container == "dict":
        return Drawn({"x": data}, *describe(data, names, names_ok, labels))
    elif container == "wrong_dict":
        return Drawn({"inputs": data}, None, None, None, False, False, ["wrong key"])
    elif container == "tensor":
        import tensorflow as tf

        if dtype == "object":
            return Drawn(data, *describe(data, names, names_ok, labels))
        X = tf.constant(data)
        matrix, had_non_finite = as_float32(X.numpy())
        if matrix is None or not names_ok:
            return Drawn(X, None, None, None, False, False, ["tensor refused"])
        return finish(X, matrix, names or default_names(), labels, had_non_finite)
    elif container == "one_row":
        X, labels = data[0], (0,)
    elif container == "masked":  # masked values are missing values: refused; an empty mask is plain data
        mask = np.array(draw(st.lists(st.booleans(), min_size=n * P, max_size=n * P))).reshape(n, P)
        X = np.ma.masked_array(data, mask=mask & draw(st.booleans()))
        if np.ma.getmaskarray(X).any():
            return Drawn(X, None, None, None, False, False, ["masked values"])
        return Drawn(X, *describe(np.asarray(X), names, names_ok, labels))
    elif container == "scalar":
        return Drawn(data[0, 0], None, None, None, False, False, ["scalar"])
    else:  # "3d"
        return Drawn(data[:, None, :], None, None, None, False, False, ["rank 3"])
    return Drawn(X, *describe(X, names, names_ok, labels))


def default_names():
    return tuple(f"x{j}" for j in range(P))


def describe(X, names, names_ok, labels):
    matrix, had_non_finite = as_float32(X)
    if matrix is None or not names_ok or matrix.ndim not in (1, 2) or matrix.shape[-1] != P:
        return None, None, None, False, False, ["refused"]
    matrix = matrix.reshape(-1, P)
    drawn = finish(X, matrix, names or default_names(), labels, had_non_finite)
    return drawn.expected, drawn.names, drawn.labels, drawn.moderate, drawn.had_non_finite, drawn.notes


def finish(X, matrix, names, labels, had_non_finite):
    if matrix is None or matrix.ndim != 2 or matrix.shape[1] != P or matrix.shape[0] == 0:
        return Drawn(X, None, None, None, False, had_non_finite, ["shape refused"])
    if not np.isfinite(matrix).all():
        return Drawn(X, None, None, None, False, had_non_finite, ["NaN or inf after the cast to float32"])
    moderate = bool(np.abs(matrix).max() <= 1e6)
    return Drawn(X, matrix, tuple(names), tuple(labels), moderate, had_non_finite)


# ----------------------------------------------------------------------------- the parameters
TARGETS = [None, 0, 1, -1, -2, 2, True, 1.0, "default", "no default", "x", "c", "only", np.int64(1)]
LABELS = [None, ("no default", "default"), ("only",), ("a", "b", "c"), "ab", 5]
LOGITS = [False, True, np.bool_(True), 1, "yes", None]
FEATURE_NAMES = [None, None, FEATURES, FEATURES[::-1], ["a", "b"], ["a", "a", "b"], [0, 1, 2], "abc", 5]
BATCH_SIZES = [None, None, 1, 2, 7, 4096, 0, -3, 1.5, True, "x", float("nan"), float("inf"), [1]]
OUTPUTS = [None, None, 0, -1, "output", 1, "nope", 0.0]
STEPS = [1, 2, 3, 8, 17, 64, "auto", "auto", True, 0, -1, "x", 1.5, None, np.int64(4), 10**12]
RULES = ["gausslegendre", "riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid", "simpson"]
TOLERANCES = [1e-6, 1e-3, 1, 0, -1, float("nan"), float("inf"), "x", True]


def whole(value) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


def selection(kind, params):
    """``(unit, logit)`` a correct explainer explains, or None where the parameters must be refused."""
    units = UNITS[kind]
    output, target, labels, logit = params["output"], params["target"], params["labels"], params["logit"]
    batch = params["batch_size"]
    if not isinstance(logit, bool | np.bool_) or (logit and kind != "tanh"):
        return None
    if params["time_step"] is not None:
        return None
    if not (output is None or (whole(output) and -1 <= output < 1) or output == "output"):
        return None
    if isinstance(output, float):
        return None
    if batch is not None and not (whole(batch) and batch >= 1):
        return None
    if labels is not None and (not isinstance(labels, tuple | list) or len(labels) != units):
        return None  # labels name every unit, in a list (a string's letters are not labels)
    if params.get("embeddings") not in (None, {}) or params.get("progress") not in (None, False):
        return None
    if not params.get("groups_valid", True):
        return None
    if target is None:
        return (0, bool(logit)) if units == 1 else None
    if isinstance(target, str):
        return (list(labels).index(target), bool(logit)) if labels and target in labels else None
    if isinstance(target, int | np.integer) and -units <= target < units:  # True counts as 1, as numpy does
        return int(target) % units, bool(logit)
    return None


def ig_valid(params) -> bool:
    steps, rule, tol = params["steps"], params["rule"], params["tolerance"]
    if rule not in RULES[:5]:
        return False
    limit = 4096 if rule == "gausslegendre" else 65536  # more points gain nothing in float32
    if not (steps == "auto" or (whole(steps) and 1 <= steps <= limit)):
        return False
    if not (isinstance(tol, int | float) and not isinstance(tol, bool) and np.isfinite(tol) and tol > 0):
        return False
    low, high = params["min_steps"], params["max_steps"]
    if not (whole(low) and whole(high) and 1 <= low <= high <= limit):
        return False
    first = low if steps == "auto" else steps
    return not (rule == "riemann_trapezoid" and first < 2)


#: Valid choices, by model: most examples draw from these so that results (not only refusals) are checked.
VALID = {
    "output": [None, 0, -1, "output"],
    "time_step": [None],
    "feature_names": [None, FEATURES, FEATURES[::-1], [0, 1, 2]],
    "batch_size": [None, 1, 2, 7, 4096, np.int64(3)],
    "steps": [1, 2, 3, 8, 17, 64, "auto", "auto", np.int64(4)],
    "rule": RULES[:5],
    "tolerance": [1e-6, 1e-3, 0.5, 1],
    "min_steps": [1, 2, 4],
    "max_steps": [8, 16, 64],
    "embeddings": [None, {}],
    "progress": [None, False],
    "groups": ["none", "none", "valid"],
}
VALID_SCORES = {  # (target, labels, logit)
    "tanh": [
        (t, labels, logit)
        for t in (0, 1, -1, -2, True, np.int64(1), "default", "no default")
        for labels in ([("no default", "default")] if isinstance(t, str) else [None, ("no default", "default")])
        for logit in (False, True, np.bool_(True))
    ],
    "linear": [(t, labels, False) for t in (None, 0, -1) for labels in (None, ("only",))],
}
VALID_SCORES["sqrt"] = VALID_SCORES["linear"]
ANY = {
    "output": OUTPUTS,
    "target": TARGETS,
    "labels": LABELS,
    "logit": LOGITS,
    "time_step": [None, 0],
    "feature_names": FEATURE_NAMES,
    "batch_size": BATCH_SIZES,
    "steps": STEPS,
    "rule": RULES,
    "tolerance": TOLERANCES,
    "min_steps": [1, 2, 4, 0, 100],
    "max_steps": [8, 16, 64, 0, 10**9],
    "embeddings": [None, {}, 5, {"x": "nope"}, "x"],
    "progress": [None, False, "x", 2],
    "groups": ["none", "valid", "unknown", "number", "text", "list", "member_number"],
}


@st.composite
def parameters(draw, kind, ig=False, valid=False):
    """Mostly valid parameters (so that results are checked), else one or every parameter drawn
    from valid and invalid values alike; only valid ones when ``valid``."""
    keys = ["output", "time_step", "feature_names", "batch_size", "embeddings", "progress", "groups"] + (
        ["steps", "rule", "tolerance", "min_steps", "max_steps"] if ig else []
    )
    params = {key: draw(st.sampled_from(VALID[key])) for key in keys}
    params["target"], params["labels"], params["logit"] = draw(st.sampled_from(VALID_SCORES[kind]))
    if ig and params["rule"] == "riemann_trapezoid":  # the trapezoid needs two points
        params["min_steps"] = max(params["min_steps"], 2)
        params["steps"] = 2 if params["steps"] == 1 else params["steps"]
    mode = "valid" if valid else draw(st.sampled_from(["valid", "one", "one", "one", "any"]))
    if mode == "one":  # one parameter (the score's target, labels and logit count as one) drawn from all values
        key = draw(st.sampled_from(sorted({*params, "score"} - {"target", "labels", "logit"})))
        for part in ("target", "labels", "logit") if key == "score" else (key,):
            params[part] = draw(st.sampled_from(ANY[part]))
    elif mode == "any":
        params = {key: draw(st.sampled_from(ANY[key])) for key in params}
    return params


def with_groups(params, names):
    """``params`` with the drawn kind of ``groups`` made concrete for the data's feature names."""
    names = names or FEATURES
    groups = {
        "none": None,
        "valid": {"first two": [names[0], names[1]]},
        "unknown": {"g": ["nope"]},
        "number": 5,
        "text": "abc",
        "list": [names[0]],
        "member_number": {"g": 5},
    }[params["groups"]]
    return {**params, "groups": groups, "groups_valid": params["groups"] in ("none", "valid")}


def explainer_options(params):
    return {k: v for k, v in params.items() if (k != "time_step" or v is not None) and k != "groups_valid"}


# ----------------------------------------------------------------------------- the checks
def run(call):
    """``(result, error, warnings)`` of ``call``: an NBExplainError is an answer; anything else fails."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = call()
        except NBExplainError as error:
            return None, error, caught
        except Exception as error:  # the property: nothing but NBExplainError
            pytest.fail(f"raw {type(error).__name__} instead of an NBExplainError: {error}")
    for warning in caught:
        own = "nbexplain" in str(warning.filename) and "tests" not in str(warning.filename)
        assert not (own and issubclass(warning.category, DeprecationWarning | RuntimeWarning)), warning
    return result, None, caught


def check_message(error, drawn, baseline_non_finite=False):
    message = str(error)
    assert message and len(message) > 20, message
    if re.search(r"Input '[^']*' has NaN or inf", message):  # a claim about the user's own data
        about = baseline_non_finite if message.startswith("baseline") else drawn.had_non_finite
        assert about, f"said the data holds NaN or inf, but it does not: {message}"


def close(actual, expected, tol, what):
    actual, expected = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    assert actual.shape == expected.shape, (what, actual.shape, expected.shape)
    assert np.isfinite(actual).all(), f"{what}: a silent NaN or inf {actual}"
    excess = np.abs(actual - expected) - np.asarray(tol)
    assert (excess <= 0).all(), f"{what}: off by {np.abs(actual - expected).max():.3g}: {actual} != {expected}"


@given(kind=st.sampled_from(["tanh", "tanh", "linear", "sqrt"]), data=st.data())
@PROPERTY
def test_sensitivity_is_right_or_refuses(kind, data):
    focus = data.draw(st.sampled_from(["data", "parameters", "both"]), label="focus")  # what is drawn freely
    params = data.draw(parameters(kind, valid=focus == "data"), label="parameters")
    drawn = data.draw(drawn_data(params["feature_names"], clean=focus == "parameters"))
    params = with_groups(params, drawn.names)
    chosen = selection(kind, params)
    result, error, _ = run(lambda: Sensitivity(network(kind), **explainer_options(params)).explain(drawn.X))
    # sqrt(|x|) has no finite derivative at 0 (nor at subnormal values, which float32 kernels flush to 0)
    singular = kind == "sqrt" and drawn.expected is not None and (np.abs(drawn.expected) < TINY).any()
    event("explained" if error is None else f"refused ({type(error).__name__})")
    if error is not None:
        check_message(error, drawn)
        assert not (chosen and drawn.expected is not None and drawn.moderate and not singular), (
            f"refused valid input: {error}"
        )
        return
    assert chosen is not None, f"accepted invalid parameters {params}"
    assert drawn.expected is not None, f"accepted input that must be refused ({drawn.notes}): {drawn.X!r}"
    unit, logit = chosen
    x = drawn.expected.astype(float)
    score, gradient = reference(kind, x, unit, logit)
    tol = tolerance(kind, x)[:, None]
    close(result.score, score, tol[:, 0] * (1 + np.abs(score)), "score")
    close(result.gradients["x"], gradient, tol * (1 + np.abs(gradient)), "gradient")
    np.testing.assert_array_equal(result.data["x"], drawn.expected)
    assert result.sample_labels == drawn.labels
    assert result.layout[0].feature_names == drawn.names


def kind_of(baseline) -> str:
    """ "nan" for a drawn baseline that holds NaN (the only non-finite one drawn)."""
    try:
        return "nan" if np.isnan(np.asarray(baseline, dtype=float)).any() else "other"
    except (TypeError, ValueError):
        return "other"


@st.composite
def baselines(draw, names, rows=None):
    kind = draw(
        st.sampled_from(["point", "point", "list", "zeros", "series", "frame_row", "nan", "short", "two", "none"])
    )
    point = np.array(draw(st.lists(st.floats(-8, 8, width=32), min_size=P, max_size=P)))
    if draw(st.booleans()) and draw(st.booleans()):
        point[draw(st.integers(0, P - 1))] = draw(st.sampled_from([1e30, -1e30, 3e38, -3e38, 1e-45, -0.0]))
    order = list(names) if names else list(FEATURES)
    if rows is not None and draw(st.integers(0, 3)) == 0:  # the mirror image of the first sample
        with np.errstate(over="ignore"):
            return -rows[0].astype(float), -rows[0].astype(np.float32).astype(float)
    if kind == "point":
        return point, point
    if kind == "list":
        return point.tolist(), point
    if kind == "zeros":
        return np.zeros(P), np.zeros(P)
    if kind in ("series", "frame_row"):
        permutation = draw(st.permutations(range(P)))
        frame = pd.DataFrame([point[list(permutation)]], columns=[order[j] for j in permutation])
        return (frame.iloc[0] if kind == "series" else frame), point
    if kind == "nan":
        point[0] = np.nan
        return point, None
    if kind == "short":
        return point[:2], None
    if kind == "two":
        return np.stack([point, point + 1]), None
    return None, None


@given(kind=st.sampled_from(["tanh", "tanh", "linear", "sqrt"]), data=st.data())
@PROPERTY
def test_integrated_gradients_are_right_or_refuse(kind, data):
    focus = data.draw(st.sampled_from(["data", "parameters", "both"]), label="focus")  # what is drawn freely
    params = data.draw(parameters(kind, ig=True, valid=focus == "data"), label="parameters")
    drawn = data.draw(drawn_data(params["feature_names"], clean=focus == "parameters"))
    params = with_groups(params, drawn.names)
    baseline, point = data.draw(baselines(drawn.names, drawn.expected))
    chosen = selection(kind, params)
    explainer = IntegratedGradients(network(kind), **explainer_options(params))
    result, error, caught = run(lambda: explainer.explain(drawn.X, baseline))
    fits = point is not None  # a Series or frame baseline is named by the data's own feature names
    b32 = None if point is None else np.asarray(point, dtype=np.float32)
    moderate_b = b32 is not None and np.abs(b32).max() <= 1e6
    event("attributed" if error is None else f"refused ({type(error).__name__})")
    if error is not None:
        check_message(error, drawn, baseline_non_finite=point is None and kind_of(baseline) == "nan")
        required = chosen and ig_valid(params) and drawn.expected is not None and drawn.moderate and moderate_b
        if required and kind == "sqrt":  # a path through (or next to) 0 meets the infinite derivative
            x, b = drawn.expected, np.broadcast_to(b32, drawn.expected.shape)
            required = bool((np.sign(x) == np.sign(b)).all() and (np.minimum(np.abs(x), np.abs(b)) >= TINY).all())
        assert not (required and fits), f"refused valid input: {error}"
        return
    assert chosen is not None and ig_valid(params), f"accepted invalid parameters {params}"
    assert drawn.expected is not None, f"accepted input that must be refused ({drawn.notes}): {drawn.X!r}"
    assert point is not None, f"accepted a baseline that must be refused: {baseline!r}"
    unit, logit = chosen
    x = drawn.expected.astype(float)
    b = np.broadcast_to(b32.astype(float), x.shape)
    steps = np.asarray(result.steps)
    if params["steps"] != "auto":
        assert (steps == int(params["steps"])).all()
    fx, _ = reference(kind, x, unit, logit)
    fb, _ = reference(kind, b, unit, logit)
    tol = tolerance(kind, x, b)
    close(result.score, fx, tol * (1 + np.abs(fx)), "f(x)")
    close(result.baseline_score, fb, tol * (1 + np.abs(fb)), "f(b)")
    values = result.values["x"]
    delta = np.abs(x - b)
    if kind == "linear":  # the closed form: A = (x - b) * w, for every rule and step count
        close(values, (x - b) * W_LINEAR, 1e-5 * delta * np.abs(W_LINEAR) + 1e-12, "IG (closed form)")
    else:
        expected, error = reference_ig(kind, x, b, unit, logit, params["rule"], steps)
        close(values, expected, (tol[:, None] + 1e-6) * (1 + delta) + error, "IG (same quadrature in NumPy)")
    # completeness: the reported error is the true one for the reported numbers
    gap = np.abs(values.sum(axis=1) - (np.asarray(result.score) - np.asarray(result.baseline_score)))
    np.testing.assert_allclose(result.completeness_error, gap, rtol=1e-6, atol=1e-9 * (1 + np.abs(fx).max()))
    if params["steps"] == "auto":
        reached = (result.completeness_error <= params["tolerance"]) | (steps == params["max_steps"])
        assert reached.all(), (result.completeness_error, steps)
        short = any("samples have a completeness error above" in str(w.message) for w in caught)
        assert short == (not (result.completeness_error <= params["tolerance"]).all())


@given(params=parameters("tanh", valid=True), data=st.data())
@PROPERTY
def test_permuted_frame_columns_give_the_ordered_result(params, data):
    """A DataFrame whose columns are a permutation of feature_names explains exactly like the ordered one."""
    params = {**params, "feature_names": FEATURES, "output": None, "time_step": None, "batch_size": None}
    params = with_groups(params, FEATURES)
    params.update(target=1, labels=None, logit=data.draw(st.booleans()))
    n = data.draw(st.integers(1, 6))
    values = np.array(data.draw(st.lists(st.floats(-8, 8, width=32), min_size=n * P, max_size=n * P))).reshape(n, P)
    ordered = pd.DataFrame(values, columns=list(FEATURES), index=[f"r{i}" for i in range(n)])
    permutation = list(data.draw(st.permutations(FEATURES)))
    sens = Sensitivity(network("tanh"), **explainer_options(params))
    first, second = sens.explain(ordered), sens.explain(ordered[permutation])
    np.testing.assert_array_equal(first.gradients["x"], second.gradients["x"])
    np.testing.assert_array_equal(first.score, second.score)
    assert first.sample_labels == second.sample_labels
    ig = IntegratedGradients(network("tanh"), steps=8, **explainer_options(params))
    baseline = pd.Series(values[0][::-1], index=list(FEATURES)[::-1])
    np.testing.assert_array_equal(
        ig.explain(ordered, baseline).values["x"], ig.explain(ordered[permutation], baseline).values["x"]
    )


# ----------------------------------------------------------------------------- the loaders
UCI_NAMED = ["ID", *CREDIT_FEATURES, "default payment next month"]
UCI_CODED = ["ID", *[f"X{i}" for i in range(1, 24)], "Y"]
JUNK = ["abc", "1.5", "", "nan", "1e30", "--1", "0x10", "1,2,3,4"]


@dataclass
class Written:
    data: bytes
    name: str
    unit: str  # "line" or "row"
    places: list  # place (line or row) of every data row
    defects: list = field(default_factory=list)  # (data row, what, column, junk) as applied


def number_text(value: int, style: str, delimiter: str) -> str:
    if style == "float":
        return f"{value}.0"
    if style == "exponent" and value:
        return f"{value:.{len(str(abs(value))) - 1}E}"  # every digit kept: 1.2345678E+07
    if style == "grouped" and abs(value) >= 1000:
        text = f"{value:,}"
        return f'"{text}"' if delimiter == "," else text
    if style == "padded":
        return f" {value} "
    return str(value)


@st.composite
def tables(draw):
    heloc = draw(st.booleans())
    n = draw(st.integers(1, 6))
    columns = (HELOC_TARGET, *HELOC_FEATURES) if heloc else (*CREDIT_FEATURES, CREDIT_TARGET)
    ints = st.integers(-9, 10) | st.integers(-(10**6), 10**7)
    body = {c: draw(st.lists(ints, min_size=n, max_size=n)) for c in columns if c not in (HELOC_TARGET, CREDIT_TARGET)}
    if heloc:
        body[HELOC_TARGET] = draw(st.lists(st.sampled_from(["Good", "Bad"]), min_size=n, max_size=n))
        frame = pd.DataFrame({c: body[c] for c in columns}).astype(dict.fromkeys(HELOC_FEATURES, np.int64))
        header, ids = [HELOC_TARGET, *HELOC_FEATURES], None
        header_rows = [header]
    else:
        body[CREDIT_TARGET] = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
        frame = pd.DataFrame({c: np.asarray(body[c], dtype=np.int64) for c in columns})
        ids = draw(st.none() | st.lists(st.integers(1, 10**6), min_size=n, max_size=n, unique=True))
        frame.index = pd.RangeIndex(1, n + 1, name="ID") if ids is None else pd.Index(ids, dtype=np.int64, name="ID")
        style = draw(st.sampled_from(["named", "coded", "both", "kaggle"]))
        named = [*CREDIT_FEATURES, "default payment next month"]
        if style == "kaggle":
            named = [*CREDIT_FEATURES, "default.payment.next.month"]
        codes = [f"X{i}" for i in range(1, 24)] + ["Y"]
        first = [] if ids is None else ["ID"]
        header_rows = {
            "named": [first + named],
            "coded": [first + codes],
            "both": [[""] * len(first) + codes, first + named],  # the original .xls: codes above names
            "kaggle": [first + named],
        }[style]
    rows = []
    for r in range(n):
        cells = [] if heloc or ids is None else [ids[r]]
        cells += [body[c][r] for c in columns]
        rows.append(cells)
    defects = draw(
        st.lists(
            st.tuples(st.integers(0, n - 1), st.sampled_from(["junk", "missing", "extra"]), st.integers(0, 23)),
            max_size=2,
            unique_by=lambda defect: defect[0],  # one defect per row: an extra and a missing field would cancel
        )
    )
    return frame, heloc, header_rows, rows, defects


@st.composite
def written_tables(draw):
    frame, heloc, header_rows, rows, defects = draw(tables())
    form = draw(st.sampled_from(["text"] * 6 + ["xls", "xlsx", "html"]))
    width = len(header_rows[-1])
    texts = []
    for cells in rows:
        styles = draw(
            st.lists(
                st.sampled_from(["plain", "float", "exponent", "grouped", "padded"]), min_size=width, max_size=width
            )
        )
        texts.append([c if isinstance(c, str) else (c, s) for c, s in zip(cells, styles)])
    bad_rows, applied = {}, []
    for r, what, column in defects:
        column = column % width
        if heloc and column == 0 and what == "junk":
            junk = draw(st.sampled_from(["Maybe", "", "1"]))
        else:
            junk = draw(st.sampled_from(JUNK))
        if what == "junk" and junk == "1,2,3,4" and form == "text":
            junk = '"1,2,3,4"'
        if what == "missing" and form != "text":
            what, junk = "junk", ""
        texts[r] = list(texts[r])
        if what == "junk":
            texts[r][column] = ("JUNK", junk)
        elif what == "missing":
            texts[r] = texts[r][:-1]
        else:
            texts[r] = [*texts[r], ("EXTRA", "7")]
        bad_rows.setdefault(r, what)
        applied.append((r, what, column, junk))
    first_bad = None
    if bad_rows:
        structural = [r for r, w in bad_rows.items() if w in ("missing", "extra")]
        first_bad = min(structural) if structural else min(bad_rows)
    if form == "text":
        delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
        end = draw(st.sampled_from(["\n", "\r\n", "\r"]))
        blank_at = draw(st.none() | st.integers(0, len(rows)))

        def render(cell):
            if isinstance(cell, tuple):
                value, style = cell
                if value in ("JUNK", "EXTRA"):
                    return style
                return number_text(value, style, delimiter)
            return cell

        lines = [delimiter.join(row) for row in header_rows]
        places = []
        for r, cells in enumerate(texts):
            if blank_at == r:
                lines.append("")
            places.append(len(lines) + 1)
            lines.append(delimiter.join(render(c) for c in cells))
        text = end.join(lines) + end * draw(st.integers(0, 3))
        data = text.encode()
        if draw(st.booleans()):
            data = codecs.BOM_UTF8 + data
        compression = draw(st.sampled_from(["none", "none", "gzip", "bz2", "xz", "zip"]))
        if compression == "gzip":
            data = gzip.compress(data)
        elif compression == "bz2":
            data = bz2.compress(data)
        elif compression == "xz":
            data = lzma.compress(data)
        elif compression == "zip":
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w") as archive:
                archive.writestr("table.csv", data)
            data = buffer.getvalue()
        name = draw(st.sampled_from(["table.csv", "table.xls", "table.txt", "table", "table.csv.gz"]))
        return frame, heloc, Written(data, name, "line", places, applied), first_bad, bool(bad_rows)

    plain = [
        [cell if isinstance(cell, str) else (cell[1] if cell[0] in ("JUNK", "EXTRA") else cell[0]) for cell in row]
        for row in texts
    ]
    grid = [*header_rows, *plain]
    places = [len(header_rows) + 1 + r for r in range(len(texts))]
    if form == "html":
        body = "\n".join("<tr>" + "".join(f"<td>{v}</td>" for v in row) + "</tr>" for row in grid)
        text = f"<html><body>\n<table>\n{body}\n</table></body></html>\n"
        return (
            frame,
            heloc,
            Written(text.encode(), "table.xls", "line", [p + 2 for p in places], applied),
            first_bad,
            bool(bad_rows),
        )
    buffer = io.BytesIO()
    if form == "xls":
        import xlwt

        book = xlwt.Workbook()
        sheet = book.add_sheet("Data")
        for r, row in enumerate(grid):
            for c, value in enumerate(row):
                if value != "":
                    sheet.write(r, c, value)
        book.save(buffer)
        name = "table.xls"
    else:
        from openpyxl import Workbook

        book = Workbook()
        for row in grid:
            book.active.append([None if v == "" else v for v in row])
        book.save(buffer)
        name = "table.xlsx"
    return frame, heloc, Written(buffer.getvalue(), name, "row", places, applied), first_bad, bool(bad_rows)


@given(case=written_tables())
@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
def test_loaders_read_every_form_or_name_the_bad_line(tmp_path_factory, case):
    frame, heloc, written, first_bad, defective = case
    path = tmp_path_factory.mktemp("table") / written.name
    path.write_bytes(written.data)
    load = load_heloc if heloc else load_credit_default
    try:
        loaded = load(path)
    except DataFileError as error:
        event("refused, naming the bad line")
        assert defective, f"a good table was refused: {error}"
        assert f"{written.unit} {written.places[first_bad]}" in str(error), (str(error), written.places, first_bad)
        return
    except Exception as error:  # the property: nothing but DataFileError
        pytest.fail(f"raw {type(error).__name__} instead of a DataFileError: {error}")
    event("loaded")
    assert not defective, "a table with junk, missing or extra cells was loaded"
    pd.testing.assert_frame_equal(loaded, frame)


@given(data=st.data())
@settings(PROPERTY, max_examples=100)
def test_population_differences_are_right_or_refuse(data):
    """compare_populations: the mean over (a, b) pairs of IG(a; b), exact (every pair) or sampled, or a refusal."""
    kind = data.draw(st.sampled_from(["tanh", "linear"]))
    rows = st.integers(1, 4).flatmap(
        lambda n: st.lists(st.floats(-8, 8, width=32), min_size=n * P, max_size=n * P).map(
            lambda v: np.array(v, dtype=np.float32).reshape(-1, P)
        )
    )
    A, B = data.draw(rows), data.draw(rows)
    steps, rule = (
        data.draw(st.sampled_from([4, 8, 16])),
        data.draw(st.sampled_from(["gausslegendre", "riemann_middle"])),
    )
    free = data.draw(st.booleans())  # half the examples draw every argument from valid and invalid values
    max_pairs = data.draw(st.sampled_from([2, 3, 5, 100, *([1, 0, -1, "x", 1.5, True] if free else [])]))
    exact = data.draw(st.sampled_from([None, None, True, False, *(["yes", 1] if free else [])]))
    seed = data.draw(st.sampled_from([0, 3, *([-1, "x", 1.5] if free else [])]))
    labels = data.draw(st.sampled_from([("A", "B"), ["denied", "approved"], *(["AB", ("only",), 5] if free else [])]))
    target = 1 if kind == "tanh" else None
    explainer = IntegratedGradients(network(kind), target=target, steps=steps, rule=rule)
    result, error, _ = run(
        lambda: explainer.compare_populations(A, B, max_pairs=max_pairs, exact=exact, seed=seed, labels=labels)
    )
    valid = (
        whole(max_pairs)
        and max_pairs >= 1
        and (exact is None or isinstance(exact, bool))
        and whole(seed)
        and seed >= 0
        and isinstance(labels, tuple | list)
        and len(labels) == 2
    )
    exact_run = (len(A) * len(B) <= max_pairs if exact is None else exact) if valid else None
    event("compared" if error is None else f"refused ({type(error).__name__})")
    if error is not None:
        assert not (valid and (exact_run or max_pairs >= 2)), f"refused valid input: {error}"
        return
    assert valid and (exact_run or max_pairs >= 2), "accepted invalid parameters"
    x, b = A.astype(float), B.astype(float)
    pairs = np.array([(i, j) for i in range(len(x)) for j in range(len(b))])
    every, _ = reference_ig(
        kind, x[pairs[:, 0]], b[pairs[:, 1]], 1 if kind == "tanh" else 0, False, rule, np.full(len(pairs), steps)
    )
    values = np.asarray(result.values["x"])[0]
    tol = 1e-4 * (1 + np.abs(every).max())
    if exact_run:
        close(values, every.mean(axis=0), tol, "population difference (every pair)")
        fa, _ = reference(kind, x, 1 if kind == "tanh" else 0, False)
        fb, _ = reference(kind, b, 1 if kind == "tanh" else 0, False)
        close(result.score[0] - result.baseline_score[0], fa.mean() - fb.mean(), 1e-5, "mean f(A) - mean f(B)")
    else:  # a mean of sampled pairs lies within the range of the pairs' attributions
        assert result.meta["pairs"] == max_pairs and result.standard_error is not None
        assert np.isfinite(np.asarray(result.standard_error["x"])).all()
        assert ((values >= every.min(axis=0) - tol) & (values <= every.max(axis=0) + tol)).all()
    assert result.sample_labels == (f"{labels[0]} - {labels[1]}",)
