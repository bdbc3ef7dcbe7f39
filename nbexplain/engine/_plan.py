"""Planning a gradient pass: checking data and the output selection against a model, tracing (or
reusing) the one gradient function, and cutting the rows into chunks so memory stays bounded.

A :class:`GradientPlan` is a model, a resolved score and its traced function, ready to
differentiate any arrays of the planned per-sample shapes: the data itself, a baseline, or the
points built from them (paths of Integrated Gradients). Traced functions and output probes are
cached per model object (weakly: a model that is dropped takes its cache with it).
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._tensorflow import tensorflow_module
from ..errors import InputDataError, NBExplainError, NonFiniteScoreError, row_list
from ..model import _keras
from ..model.inputs import PreparedData, prepare_inputs
from ..model.outputs import OutputSelection, ResolvedOutput, resolve_output
from ._gradients import GradientFunction

#: Elements (rows x values per row x output steps) per chunk when ``batch_size`` is not given.
CHUNK_ELEMENTS = 2**21

_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def output_specs(model: Any, prepared: PreparedData, structure: str, shapes: tuple) -> Any:
    """Shapes and dtypes of the model's outputs (same nesting), from one call on one sample,
    cached per model and input shapes. A model that cannot be called on the data is bad input."""
    key = ("outputs", structure, shapes)
    per_model = _CACHE.setdefault(model, {})
    if key not in per_model:
        probe = {n: a[:1] for n, a in prepared.arrays.items()}
        try:
            outputs = model(_keras.pack(probe, prepared.names, structure), training=False)
        except Exception as error:
            shown = {n: a.shape[1:] for n, a in prepared.arrays.items()}
            first = (str(error).strip().splitlines() or [type(error).__name__])[0]
            raise NBExplainError(f"The model could not be called on samples of shape {shown}: {first}") from None
        per_model[key] = _keras.describe_outputs(outputs)
    return per_model[key]


def gradient_function(
    model: Any, resolved: ResolvedOutput, names: tuple, structure: str, shapes: list, dtypes: list, embeddings: Mapping
) -> GradientFunction:
    """The cached traced function for this model, selection, input shapes and dtypes."""
    tf = tensorflow_module()
    key = (resolved, tuple(names), structure, tuple(shapes), tuple(dtypes), tuple(sorted(embeddings.items())))
    per_model = _CACHE.setdefault(model, {})
    if key not in per_model:
        signature = {
            n: tf.TensorSpec((None, *s), d, name=f"x{i}") for i, (n, s, d) in enumerate(zip(names, shapes, dtypes))
        }
        per_model[key] = GradientFunction(model, resolved, names, structure, signature, dict(embeddings))
    return per_model[key]


def check_finite_scores(scores: np.ndarray, labels: tuple | None = None, what: str = "the explained rows") -> None:
    """NaN or inf scores are an error naming the rows: no decision may rest on them."""
    bad = ~np.isfinite(np.asarray(scores, dtype=float).reshape(len(scores), -1)).all(axis=1)
    if bad.any():
        rows = np.flatnonzero(bad)
        raise NonFiniteScoreError(
            f"The model returned NaN or inf for {len(rows)} of {len(scores)} of {what} "
            f"(rows {row_list(rows, labels)}). "
            "A score that is not a number can be neither approved nor denied: check those rows' inputs and the "
            "model (overflow, a division, a log of zero) before explaining."
        )


def check_finite_gradients(grads: dict, labels: tuple | None = None, what: str = "the explained rows") -> None:
    """A NaN or inf derivative (a finite score at a point where the model is not differentiable,
    or overflows) is an error naming the rows: it would otherwise reach every importance silently."""
    bad = None
    for g in grads.values():
        rows = ~np.isfinite(np.asarray(g).reshape(len(g), -1)).all(axis=1)
        bad = rows if bad is None else bad | rows
    if bad is not None and bad.any():
        positions = np.flatnonzero(bad)
        raise NonFiniteScoreError(
            f"The derivative of the explained score is NaN or inf for {len(positions)} of {len(bad)} of {what} "
            f"(rows {row_list(positions, labels)}), although the scores are finite: the model is not "
            "differentiable there (a square root or a log at 0, a division by 0) or overflows. Explain other rows, "
            "or make the model smooth there (for example sqrt(x + eps))."
        )


@dataclass(frozen=True)
class GradientPass:
    """The result of one pass: selected scores, per-input gradients, and the data they came from."""

    score: np.ndarray
    gradients: dict
    prepared: PreparedData
    resolved: ResolvedOutput
    function: GradientFunction


@dataclass(frozen=True)
class GradientPlan:
    """A model, a checked output selection and its traced function, ready to differentiate any
    number of arrays of the same per-sample shapes."""

    model: Any
    declared: tuple
    structure: str
    prepared: PreparedData
    resolved: ResolvedOutput
    function: GradientFunction
    grad_shapes: tuple
    output_steps: int
    dtype: str
    embeddings: Mapping

    @property
    def names(self) -> tuple:
        return self.prepared.names

    def prepare(self, X: Any, what: str = "data") -> PreparedData:
        """Check other data (baselines, a reference set) against the same model inputs and
        feature names as the planned data."""
        try:
            prepared = prepare_inputs(
                X,
                self.declared,
                dict(self.prepared.feature_names),
                compute_dtype=self.dtype,
                id_inputs=tuple(self.embeddings),
            )
            check_ids(self.model, prepared, self.embeddings)
        except NBExplainError as error:
            raise type(error)(f"{what}: {error}") from None
        return prepared

    def rows_per_chunk(self, batch_size: int | None = None, per_row_factor: int = 1) -> int:
        """Rows of one chunk: ``batch_size``, else about ``CHUNK_ELEMENTS`` numbers."""
        if batch_size is not None:
            if (
                isinstance(batch_size, bool | np.bool_)
                or not isinstance(batch_size, int | np.integer)
                or batch_size < 1
            ):
                raise NBExplainError(
                    f"batch_size must be a positive whole number of rows (or None for automatic chunks), got "
                    f"{batch_size!r}."
                )
            return int(batch_size)
        per_row = sum(int(np.prod(self.prepared.arrays[n].shape[1:])) for n in self.names)
        return max(64, CHUNK_ELEMENTS // max(per_row * self.output_steps * per_row_factor, 1))

    def scores(
        self, arrays: dict, batch_size: int | None = None, labels: tuple | None = None, what: str = "the explained rows"
    ) -> np.ndarray:
        """The selected score of every row of ``arrays``, forward only (float64); NaN or inf is an
        error naming the rows."""
        tf = tensorflow_module()
        forward = self.function.derived("scores", _forward)
        n = int(next(iter(arrays.values())).shape[0])
        rows = self.rows_per_chunk(batch_size)
        score = np.empty((n, self.output_steps) if self.resolved.many_to_many else (n,), dtype=np.float64)
        for start in range(0, n, rows):
            stop = min(start + rows, n)
            score[start:stop] = forward({k: tf.convert_to_tensor(arrays[k][start:stop]) for k in self.names}).numpy()
        check_finite_scores(score, labels, what)
        return score

    def evaluate(
        self,
        arrays: dict,
        batch_size: int | None = None,
        progress: bool | None = None,
        description: str = "gradients",
        labels: tuple | None = None,
        what: str = "the explained rows",
    ) -> tuple[np.ndarray, dict]:
        """Selected scores and gradients for ``arrays`` ({input: (n, *shape)}), chunk by chunk.

        Returns ``(score, gradients)``: ``(n,)`` or ``(n, tau)``, and ``{input: (n, [tau,] *shape)}``.
        A NaN or inf score is an error naming its rows (``labels`` when given, else positions).
        """
        from tqdm.auto import tqdm

        n = int(next(iter(arrays.values())).shape[0])
        rows = self.rows_per_chunk(batch_size)
        many = self.resolved.many_to_many
        score = np.empty((n, self.output_steps) if many else (n,), dtype=self.dtype)
        grads = {
            name: np.empty((n, *((self.output_steps,) if many else ()), *shape), dtype=self.dtype)
            for name, shape in zip(self.names, self.grad_shapes)
        }
        starts = range(0, n, rows)
        show = progress if progress is not None else len(starts) > 8
        for start in tqdm(starts, desc=description, unit="chunk", disable=not show, leave=False):
            stop = min(start + rows, n)
            y, g = self.function({k: arrays[k][start:stop] for k in self.names})
            score[start:stop] = y
            for name in self.names:
                grads[name][start:stop] = g[name]
        check_finite_scores(score, labels, what)
        check_finite_gradients(grads, labels, what)
        return score, grads


def _forward(function: GradientFunction) -> Any:
    """The traced forward pass of a gradient function's score (no tape)."""
    return tensorflow_module().function(function.scores, input_signature=[function.signature], autograph=False)


def check_ids(model: Any, prepared: PreparedData, embeddings: Mapping) -> None:
    """Ids read by an Embedding must lie in ``[0, vocabulary)``: Keras would wrap a negative id
    around (-1 read as the last id) and fail on one past the end."""
    for name, layer_name in embeddings.items():
        vocabulary = int(model.get_layer(layer_name).input_dim)
        ids = prepared.arrays[name]
        bad = np.flatnonzero(((ids < 0) | (ids >= vocabulary)).reshape(len(ids), -1).any(axis=1))
        if bad.size:
            raise InputDataError(
                f"Input {name!r} feeds Embedding {layer_name!r}, whose ids run from 0 to {vocabulary - 1}; rows "
                f"{row_list(bad, prepared.sample_labels)} hold ids outside that range (values "
                f"{sorted(set(ids[bad].reshape(-1).tolist()) - set(range(vocabulary)))[:10]}). Map unknown "
                "categories to a reserved id before explaining."
            )


def plan_gradients(
    model: Any,
    X: Any,
    selection: OutputSelection | None = None,
    feature_names: Any = None,
    embeddings: Mapping | None = None,
) -> GradientPlan:
    """Check ``X`` and ``selection`` against ``model`` and trace (or reuse) the gradient function."""
    _keras.check_model(model)
    selection = OutputSelection() if selection is None else selection
    declared, structure = _keras.model_inputs(model)
    if declared is None:
        declared, structure = _keras.inputs_from_data(X)
    dtype = "float64" if any(mi.dtype == "float64" for mi in declared) else "float32"
    embeddings = _keras.check_embeddings(model, embeddings, [mi.name for mi in declared])
    prepared = prepare_inputs(X, declared, feature_names, compute_dtype=dtype, id_inputs=tuple(embeddings))
    check_ids(model, prepared, embeddings)
    shapes = [prepared.arrays[n].shape[1:] for n in prepared.names]
    probe_outputs = output_specs(model, prepared, structure, tuple(shapes))
    resolved = resolve_output(model, probe_outputs, selection)
    dtypes = [str(prepared.arrays[n].dtype) for n in prepared.names]
    function = gradient_function(model, resolved, prepared.names, structure, shapes, dtypes, embeddings)
    grad_shapes = tuple(
        (model.get_layer(embeddings[n]).output_dim, *s) if n in embeddings else s
        for n, s in zip(prepared.names, shapes)
    )
    steps = int(_keras.flatten_outputs(probe_outputs)[resolved.index].shape[1]) if resolved.many_to_many else 1
    return GradientPlan(
        model, tuple(declared), structure, prepared, resolved, function, grad_shapes, steps, dtype, embeddings
    )


def compute_gradients(
    model: Any,
    X: Any,
    selection: OutputSelection | None = None,
    feature_names: Any = None,
    batch_size: int | None = None,
    progress: bool | None = None,
    embeddings: Mapping | None = None,
) -> GradientPass:
    """Derivative of the selected score w.r.t. every input for every sample of ``X``, in chunks.

    ``batch_size`` rows go through the traced function at a time (default: about
    ``CHUNK_ELEMENTS`` numbers per chunk); ``progress`` shows a tqdm bar (``None``: only for
    passes of more than 8 chunks). ``embeddings`` maps id inputs to the Embedding layer that
    reads them: for those inputs the gradient is taken w.r.t. the looked-up vectors,
    ``(n, d, L)`` for ``L`` ids of ``d``-dimensional embeddings.
    """
    plan = plan_gradients(model, X, selection, feature_names, embeddings)
    score, grads = plan.evaluate(plan.prepared.arrays, batch_size, progress, labels=plan.prepared.sample_labels)
    for array in (score, *grads.values()):
        array.flags.writeable = False
    return GradientPass(score, grads, plan.prepared, plan.resolved, plan.function)
