"""Turn what a user hands an explainer (numpy, pandas, tf tensors; one input or several) into
checked float arrays keyed by model input, with feature names and sample labels.

Every problem is reported here, before TensorFlow sees the data, with what was wrong and what to
do: wrong rank or shape, NaN or inf (which rows and columns), non-numeric columns, integer ids,
an empty data set, names that do not match.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from ..errors import InputDataError, NotDifferentiableError, row_list, unknown_name


@dataclass(frozen=True)
class ModelInput:
    """What the model declares for one input: its name, per-sample shape (None = free) and dtype."""

    name: str
    shape: tuple | None
    dtype: str = "float32"


@dataclass
class PreparedData:
    """Checked inputs, in the model's input order, ready to be cut into chunks."""

    names: tuple
    arrays: dict
    feature_names: dict
    sample_labels: tuple
    notes: list = field(default_factory=list)

    @property
    def n_samples(self) -> int:
        return int(next(iter(self.arrays.values())).shape[0])


def _is_frame(obj):
    return hasattr(obj, "columns") and hasattr(obj, "dtypes") and hasattr(obj, "index")


def _is_series(obj):
    return hasattr(obj, "index") and hasattr(obj, "dtype") and hasattr(obj, "to_frame") and not _is_frame(obj)


def _split_by_input(X, model_inputs):
    """Pair the user's data with model inputs: a dict by name, a list by position, else the one input."""
    names = [mi.name for mi in model_inputs]
    if isinstance(X, dict):
        unknown = [k for k in X if k not in names]
        if unknown:
            raise unknown_name("model input", unknown[0], names)
        missing = [n for n in names if n not in X]
        if missing:
            raise InputDataError(f"Data for model input(s) {missing} is missing; the model takes {names}.")
        return [X[n] for n in names]
    if len(model_inputs) > 1:
        if isinstance(X, (list, tuple)) and len(X) == len(model_inputs):
            return list(X)
        raise InputDataError(
            f"The model has {len(model_inputs)} inputs {names}: pass a dict "
            "{input name: data} or a list with one array per input, in that order."
        )
    return [X]


def match_columns(frame, wanted, name):
    """The frame's columns in the order ``wanted`` (names, not positions): a permutation is
    reordered; a missing or an extra column is an error naming it."""
    columns = [str(c) for c in frame.columns]
    if columns == list(wanted):
        return frame
    if len(set(columns)) != len(columns):
        raise InputDataError(
            f"Input {name!r}: the DataFrame has duplicate column names "
            f"{sorted({c for c in columns if columns.count(c) > 1})}."
        )
    missing = [w for w in wanted if w not in columns]
    extra = [c for c in columns if c not in wanted]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"lacks column(s) {missing}")
        if extra:
            parts.append(f"has column(s) the model does not read {extra}")
        raise InputDataError(
            f"Input {name!r}: the DataFrame {' and '.join(parts)}; the model reads "
            f"{list(wanted)} (matched by name). Rename or select the columns."
        )
    return frame.set_axis(columns, axis=1)[list(wanted)]


def _to_array(raw, name, wanted=None):
    """numpy / pandas / tf tensor -> (ndarray, column names or None, row labels or None).

    A DataFrame's columns are matched by name to ``wanted`` (the feature names) when given."""
    columns = index = None
    if _is_series(raw):  # one row, e.g. df.iloc[5]: a single sample named by its index
        raw = raw.to_frame().T
    if _is_frame(raw):
        from pandas.api.types import is_bool_dtype, is_complex_dtype, is_numeric_dtype

        if wanted is not None:
            raw = match_columns(raw, wanted, name)
        bad = [
            str(c)
            for c, dt in raw.dtypes.items()
            if not (is_numeric_dtype(dt) or is_bool_dtype(dt)) or is_complex_dtype(dt)
        ]
        if bad:
            raise InputDataError(
                f"Input {name!r}: column(s) {bad} are not numeric. Encode them as numbers "
                "(for example one-hot columns declared as a group) before explaining."
            )
        columns = [str(c) for c in raw.columns]
        index = tuple(raw.index.tolist())
        raw = raw.to_numpy()
    elif hasattr(raw, "numpy") and callable(raw.numpy):
        raw = raw.numpy()
    if isinstance(raw, np.ma.MaskedArray):
        masked = np.ma.getmaskarray(raw)
        if masked.any():
            rows = np.flatnonzero(masked.reshape(masked.shape[0], -1).any(axis=1)) if masked.ndim else np.array([0])
            raise InputDataError(
                f"Input {name!r} is a masked array with masked (missing) values in {len(rows)} row(s) (positions "
                f"{row_list(rows)}); the values under the mask are not data. Impute or drop those rows, then pass "
                "a plain array."
            )
        raw = raw.filled()
    try:
        array = np.asarray(raw)
    except (TypeError, ValueError) as error:  # ragged nested lists, objects numpy cannot hold
        raise InputDataError(
            f"Input {name!r} cannot be read as an array of samples ({str(error).split('. ')[0]}): every sample "
            "needs the same number of values. Pass a rectangular numpy array or DataFrame."
        ) from None
    if array.dtype == object:
        try:
            array = array.astype(float)
        except (TypeError, ValueError):
            import pandas as pd

            missing = np.asarray(pd.isna(array), dtype=bool).reshape(array.shape)
            if missing.any() and array.ndim:
                rows = np.flatnonzero(missing.reshape(array.shape[0], -1).any(axis=1))
                if index is not None and tuple(index) == tuple(range(len(index))):
                    index = None  # a default index: labels are the positions
                raise InputDataError(
                    f"Input {name!r} has missing values (None, pd.NA) in {len(rows)} row(s) ("
                    f"{'labels' if index is not None else 'positions'} {row_list(rows, index)}). Impute or drop "
                    "those rows before explaining."
                ) from None
            raise InputDataError(
                f"Input {name!r} holds values that are not numbers (dtype object). Convert it to a numeric array first."
            ) from None
    if np.issubdtype(array.dtype, np.complexfloating):
        raise InputDataError(
            f"Input {name!r} holds complex numbers; explanations need real numbers (take the real "
            "part, the magnitude or both as separate features)."
        )
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise InputDataError(f"Input {name!r} has dtype {array.dtype}; explanations need numbers.")
    return array, columns, index


def _check_shape(array, spec: ModelInput):
    """Check rank and known dims against the model; a single sample without batch axis is accepted."""
    if spec.shape is None:
        return array
    expected = tuple(spec.shape)
    if array.ndim == len(expected) and all(e is None or e == a for e, a in zip(expected, array.shape)):
        array = array[None]  # one sample given without its batch axis
    shown = "(n, " + ", ".join("?" if e is None else str(e) for e in expected) + ")"
    if array.ndim != len(expected) + 1:
        hint = ""
        if len(expected) == 2 and array.ndim == 2:
            hint = " A recurrent model takes (samples, time steps, features): reshape the data to 3-D."
        raise InputDataError(
            f"Input {spec.name!r}: the model takes arrays of shape {shown} (rank "
            f"{len(expected) + 1}) but the data has shape {array.shape} (rank {array.ndim}).{hint}"
        )
    for axis, (e, a) in enumerate(zip(expected, array.shape[1:]), start=1):
        if e is not None and e != a:
            what = "features" if axis == len(expected) else "entries on axis " + str(axis)
            raise InputDataError(
                f"Input {spec.name!r}: the model takes {e} {what} per sample (shape {shown}) "
                f"but the data has {a} (shape {array.shape})."
            )
    return array


def _names_list(value, input_name) -> list:
    """Feature names as a list of strings: a list, tuple, Index or array of names; never a
    single string (its letters would silently become names) or a number."""
    if isinstance(value, str | bytes) or not isinstance(value, Iterable) or isinstance(value, Mapping):
        raise InputDataError(
            f"feature_names for input {input_name!r} must be a list of names, one per feature (for example "
            f"list(X.columns)); got {value!r}."
        )
    return [str(g) for g in value]


def _cast(array, spec_name, columns, labels, compute_dtype):
    """``array`` as ``compute_dtype``; finite values too large for it are an error naming the rows
    (they would otherwise become inf and be reported as if the data held inf)."""
    with np.errstate(over="ignore", invalid="ignore"):
        cast = np.array(array, dtype=compute_dtype, copy=True, order="C")
    if np.issubdtype(array.dtype, np.floating) and array.dtype.itemsize > cast.dtype.itemsize:
        overflow = np.isfinite(array) & ~np.isfinite(cast)
        if overflow.any():
            flat = overflow.reshape(array.shape[0], -1, array.shape[-1] if array.ndim > 1 else 1)
            rows = np.flatnonzero(flat.any(axis=(1, 2)))
            cols = np.flatnonzero(flat.any(axis=(0, 1)))
            names = (
                [columns[c] for c in cols] if columns is not None and len(columns) == flat.shape[2] else cols.tolist()
            )
            if labels is not None and tuple(labels) == tuple(range(len(labels))):
                labels = None
            raise InputDataError(
                f"Input {spec_name!r} has values too large for the model's {compute_dtype} (beyond "
                f"{float(np.finfo(compute_dtype).max):.3g} in size) in {len(rows)} row(s) "
                f"({'labels' if labels is not None else 'positions'} {row_list(rows, labels)}) and feature(s) "
                f"{names[:20]}. Rescale those features (or fix the values) before explaining."
            )
    return cast


def _check_finite(array, spec_name, columns, labels=None):
    """NaN or inf anywhere is an error naming the rows (by label when known) and the features."""
    if array.dtype == bool or np.issubdtype(array.dtype, np.integer):
        return
    finite = np.isfinite(array)
    if finite.all():
        return
    bad = ~finite.reshape(array.shape[0], -1, array.shape[-1] if array.ndim > 1 else 1)
    rows = np.flatnonzero(bad.any(axis=(1, 2)))
    cols = np.flatnonzero(bad.any(axis=(0, 1)))
    col_names = [columns[c] for c in cols] if columns is not None and len(columns) == bad.shape[2] else cols.tolist()
    if labels is not None and tuple(labels) == tuple(range(len(labels))):
        labels = None  # a default index: labels are the positions
    where = "labels" if labels is not None else "positions"
    raise InputDataError(
        f"Input {spec_name!r} has NaN or inf in {len(rows)} row(s) ({where} "
        f"{row_list(rows, labels)}) and feature(s) {col_names[:20]}. Impute or drop those rows "
        "before explaining."
    )


def _default_names(name, width, several):
    return [f"{name}[{j}]" if several else f"x{j}" for j in range(width)]


def prepare_inputs(X, model_inputs, feature_names=None, compute_dtype="float32", id_inputs=()) -> PreparedData:
    """Check and convert ``X`` for a model with inputs ``model_inputs``.

    ``feature_names`` names the last axis: a list for a one-input model, a dict by input name
    otherwise; a DataFrame's columns are used when it is not given. Integer and boolean data is
    cast to ``compute_dtype`` (a derivative with respect to a count or a flag is the effect of a
    unit change), unless the model itself declares the input as integer (ids for an embedding),
    which is refused: ids have no derivative. Inputs named in ``id_inputs`` (ids read by an
    Embedding layer whose vectors are explained instead) must hold whole numbers and stay int32.
    """
    model_inputs = list(model_inputs)
    several = len(model_inputs) > 1
    if feature_names is not None and not isinstance(feature_names, dict):
        _names_list(feature_names, model_inputs[0].name if len(model_inputs) == 1 else "of the model")
        if several:
            raise InputDataError("The model has several inputs: give feature_names as a dict {input name: names}.")
        feature_names = {model_inputs[0].name: feature_names}
    feature_names = dict(feature_names or {})
    unknown = [k for k in feature_names if k not in [mi.name for mi in model_inputs]]
    if unknown:
        raise unknown_name("model input", unknown[0], [mi.name for mi in model_inputs])
    arrays, names_out, notes, labels, n = {}, {}, [], None, None
    for spec, raw in zip(model_inputs, _split_by_input(X, model_inputs)):
        given = feature_names.get(spec.name)
        given = None if given is None else _names_list(given, spec.name)
        array, columns, index = _to_array(raw, spec.name, given)
        if array.ndim == 0:
            raise InputDataError(f"Input {spec.name!r} is a scalar; pass an array of samples.")
        array = _check_shape(array, spec)
        if array.shape[0] == 0:
            raise InputDataError(f"Input {spec.name!r} is empty (0 samples): there is nothing to explain.")
        if n is not None and array.shape[0] != n:
            raise InputDataError(
                f"Inputs have different numbers of samples ({n} and {array.shape[0]} for "
                f"{spec.name!r}); every input needs one entry per sample."
            )
        n = array.shape[0]
        if spec.name in id_inputs:
            _check_finite(array, spec.name, given or columns, index)
            if not np.all(np.mod(array, 1) == 0):
                raise InputDataError(f"Input {spec.name!r} feeds an Embedding: it must hold whole-number ids.")
            array = np.array(array, dtype="int32", copy=True, order="C")
        elif np.issubdtype(np.dtype(spec.dtype), np.integer):
            raise NotDifferentiableError(
                f"Model input {spec.name!r} is declared {spec.dtype}: the model reads it as integer ids "
                "(for example an Embedding lookup) and ids have no derivative. Explain the embedding "
                "vectors instead (embeddings={input name: Embedding layer name}) or one-hot encode the ids."
            )
        else:
            if not np.issubdtype(array.dtype, np.floating):
                notes.append(f"input {spec.name!r} of dtype {array.dtype} was cast to {compute_dtype}")
            array = _cast(array, spec.name, given or columns, index, compute_dtype)
        width = array.shape[-1] if array.ndim > 1 else 1
        if array.ndim == 1:
            array = array[:, None]
        if given is not None and len(given) != width:
            raise InputDataError(f"Input {spec.name!r}: {len(given)} feature names for {width} features.")
        names = given or columns or _default_names(spec.name, width, several)
        if len(set(names)) != len(names):
            raise InputDataError(
                f"Input {spec.name!r} has duplicate feature names: {sorted({x for x in names if names.count(x) > 1})}."
            )
        _check_finite(array, spec.name, names, index)
        array.flags.writeable = False
        arrays[spec.name], names_out[spec.name] = array, tuple(names)
        labels = labels or index
    return PreparedData(
        tuple(mi.name for mi in model_inputs),
        arrays,
        names_out,
        labels if labels is not None else tuple(range(n or 0)),
        notes,
    )
