"""The one GradientTape primitive that every explanation method calls.

``gradients(model, X, selection)`` returns the derivative of ONE chosen output of a Keras 3
model with respect to every input, for every sample of ``X``:

* the output is chosen by :class:`OutputSelection` (which output tensor, which unit or class
  label, probability or logit, one time step or every step of a sequence output);
* the data is cut into chunks so memory stays bounded, and each chunk goes through a
  ``tf.function`` traced once per (model, selection, input shapes): the batch axis is left free
  in the signature, so a last, smaller chunk or a later call reuses the same graph;
* samples are independent in inference mode (``training=False``), so the gradient of the sum of
  the selected outputs over a chunk is, row by row, each sample's own gradient; for a sequence
  output explained at every step, one backward pass per output step gives the step jacobian;
* for Integrated Gradients, :meth:`GradientFunction.path_integral` builds the straight-line path
  points and sums the quadrature around the same traced step, inside the graph, so only one
  number per input element and sample comes back.

Shapes (``b`` = chunk rows, ``tau`` = output steps):
    inputs     {name: (b, *input_shape)}
    selected   (b,)            or (b, tau) for every step of a sequence output
    gradients  {name: (b, *input_shape)} or {name: (b, tau, *input_shape)}
"""
from __future__ import annotations

import contextlib
import weakref
from dataclasses import dataclass

import numpy as np

from ..errors import NBExplainError, NotDifferentiableError, OutputSelectionError, unknown_name
from . import _model
from ._inputs import prepare_inputs

#: Elements (rows x values per row x output steps) per chunk when ``batch_size`` is not given.
CHUNK_ELEMENTS = 2 ** 21


@dataclass(frozen=True)
class OutputSelection:
    """Which scalar of the model's outputs to differentiate.

    Parameters
    ----------
    output : str or int, optional
        The output tensor of a multi-output model (by name or position). Required when the model
        has several outputs.
    target : int or str, optional
        The unit of the last axis: a class index, or a class label found in ``labels``. Required
        when the output has several units.
    labels : sequence, optional
        Class labels of the output units, so that ``target`` can name a class.
    logit : bool
        Differentiate the pre-activation score instead of the sigmoid/softmax probability.
    time_step : int, optional
        For a sequence output ``(n, tau, units)``: explain this step only (negative counts from
        the end). ``None`` explains every step (many-to-many).
    """

    output: str | int | None = None
    target: int | str | None = None
    labels: tuple | None = None
    logit: bool = False
    time_step: int | None = None

    def __post_init__(self):
        if self.labels is not None:
            object.__setattr__(self, "labels", tuple(self.labels))


@dataclass(frozen=True)
class ResolvedOutput:
    """A selection checked against the model: positions, not names."""

    index: int
    name: str
    unit: int | None
    rank: int
    time_step: int | None
    logit: bool
    description: str

    @property
    def many_to_many(self) -> bool:
        return self.rank == 3 and self.time_step is None


def resolve_output(model, probe_outputs, selection: OutputSelection) -> ResolvedOutput:
    """Check ``selection`` against the outputs of a probe call; errors list the valid choices."""
    names = _model.output_names(model, probe_outputs)
    flat = _model.flatten_outputs(probe_outputs)
    if selection.output is None:
        if len(flat) > 1:
            raise OutputSelectionError(f"The model has {len(flat)} outputs {names}: choose one with output=NAME "
                                       "(or its position).")
        index = 0
    elif isinstance(selection.output, (int, np.integer)):
        if not -len(flat) <= selection.output < len(flat):
            raise OutputSelectionError(f"output={selection.output} is out of range: the model has {len(flat)} "
                                       f"output(s) {names}.")
        index = int(selection.output) % len(flat)
    else:
        if str(selection.output) not in names:
            raise unknown_name("model output", selection.output, names)
        index = names.index(str(selection.output))
    shape = tuple(flat[index].shape)
    dtype = str(getattr(flat[index], "dtype", "float32"))
    if "float" not in dtype:
        raise NotDifferentiableError(f"Output {names[index]!r} has dtype {dtype}: an integer output (argmax, "
                                     "a class id) has no derivative. Explain the probabilities or logits instead.")
    rank = len(shape)
    if rank not in (1, 2, 3):
        raise OutputSelectionError(f"Output {names[index]!r} has shape {shape}; nbexplain explains outputs of "
                                   "shape (n,), (n, units) or (n, time steps, units).")
    units = 1 if rank == 1 else shape[-1]
    unit = _resolve_unit(selection, units, names[index]) if rank > 1 else None
    time_step = selection.time_step
    if time_step is not None:
        if rank != 3:
            raise OutputSelectionError(f"time_step={time_step} was given but output {names[index]!r} of shape "
                                       f"{shape} is not a sequence (n, time steps, units).")
        if not -shape[1] <= time_step < shape[1]:
            raise OutputSelectionError(f"time_step={time_step} is out of range for {shape[1]} output steps.")
        time_step = int(time_step) % shape[1]
    if selection.logit:
        _model.activation_layer(model, index)
    label = selection.labels[unit] if (selection.labels and unit is not None) else unit
    parts = [names[index]] if len(flat) > 1 else []
    if unit is not None and units > 1:
        parts.append(f"class {label!r}" if selection.labels else f"unit {unit}")
    parts.append("logit" if selection.logit else ("probability" if _is_probability(model, index) else "value"))
    if time_step is not None:
        parts.append(f"at step {time_step}")
    elif rank == 3:
        parts.append("at every step")
    return ResolvedOutput(index, names[index], unit, rank, time_step, bool(selection.logit), " ".join(parts))


def _resolve_unit(selection, units, name):
    target = selection.target
    if target is None:
        if units == 1:
            return 0
        choices = list(selection.labels) if selection.labels else list(range(units))
        raise OutputSelectionError(f"Output {name!r} has {units} units: choose which to explain with target=..., "
                                   f"one of {choices}" + (" (class labels)" if selection.labels else " (class indices)")
                                   + ".")
    if selection.labels is not None and not isinstance(target, (int, np.integer)):
        if target not in selection.labels:
            raise unknown_name("class label", target, selection.labels)
        return list(selection.labels).index(target)
    if isinstance(target, (int, np.integer)):
        if not -units <= target < units:
            raise OutputSelectionError(f"target={target} is out of range: output {name!r} has {units} units.")
        return int(target) % units
    raise OutputSelectionError(f"target={target!r} is a label but no labels=... were given for output {name!r}; "
                               f"pass labels (one per unit) or a unit index 0..{units - 1}.")


def _is_probability(model, index):
    try:
        return _model.activation_layer(model, index) is not None
    except OutputSelectionError:
        return False


@contextlib.contextmanager
def _linear_activation(layer):
    """Swap a layer's activation for the identity while the gradient graph is traced, so that the
    traced function computes the pre-activation score with the layer's live weights."""
    import keras

    original = layer.activation
    layer.activation = keras.activations.linear
    try:
        yield
    finally:
        layer.activation = original


class GradientFunction:
    """The traced derivative of one resolved output with respect to all inputs of one model."""

    def __init__(self, model, resolved: ResolvedOutput, names, structure, signature, embeddings=()):
        import tensorflow as tf

        self._model = weakref.ref(model)
        self.embeddings = dict(embeddings)  # input name -> Embedding layer whose vectors are explained
        self.resolved = resolved
        self.names = tuple(names)
        self.structure = structure
        self.trace_count = 0
        self._function = tf.function(self._step, input_signature=[signature], autograph=False)
        dtype = next(iter(signature.values())).dtype
        self._path_signature = [signature, signature, tf.TensorSpec((None,), dtype, name="nodes"),
                                tf.TensorSpec((None,), dtype, name="weights")]
        self._path_function = None

    def _select(self, outputs):
        """(b, ...) model outputs -> (b,) or (b, tau) selected values."""
        y = _model.flatten_outputs(outputs)[self.resolved.index]
        if self.resolved.rank >= 2:
            y = y[..., self.resolved.unit]
        if self.resolved.time_step is not None:
            y = y[:, self.resolved.time_step]
        return y

    def _step(self, inputs):
        import tensorflow as tf

        self.trace_count += 1  # runs only while tracing
        model = self._model()
        layer = _model.activation_layer(model, self.resolved.index) if self.resolved.logit else None
        steps = None
        with tf.GradientTape(persistent=self.resolved.many_to_many) as tape:
            tape.watch(list(inputs.values()))
            with _linear_activation(layer) if layer is not None else contextlib.nullcontext():
                y = self._select(model(_model.pack(inputs, self.names, self.structure), training=False))
            if self.resolved.many_to_many:
                steps = [tf.reduce_sum(y[:, s]) for s in range(y.shape[1])]  # dy^s summed over the chunk
            else:
                total = tf.reduce_sum(y)
        layers = {name: model.get_layer(layer) for name, layer in self.embeddings.items()}
        sources = [layers[name].embeddings if name in layers else inputs[name] for name in self.names]
        targets = [total] if steps is None else steps
        per_step = [tape.gradient(t, sources) for t in targets]  # [step][input]
        for step in per_step:
            for position, name in enumerate(self.names):
                if name in layers and step[position] is not None:
                    step[position] = self._lookup_gradient(step[position], inputs[name], layers[name])
        grads = {}
        for position, name in enumerate(self.names):
            if any(step[position] is None for step in per_step):
                raise NotDifferentiableError(
                    f"The explained output ({self.resolved.description}) does not depend differentiably on input "
                    f"{name!r}: TensorFlow returned no gradient. The input may be unused, cast to integers or "
                    "passed through a non-differentiable operation (argmax, rounding, a lookup by id).")
            grads[name] = per_step[0][position] if steps is None else tf.stack([s[position] for s in per_step], axis=1)
        return y, grads

    def _path_step(self, x, b, nodes, weights):
        """``sum_k w_k grad f(b_i + a_k (x_i - b_i))`` for every row ``i``: the ``p * m`` path
        points are built, differentiated by :meth:`_step` and summed with the weights inside one
        graph, so only ``(p, *shape)`` numbers leave it (in the model's dtype)."""
        import tensorflow as tf

        m = tf.shape(nodes)[0]
        path = {}
        for name in self.names:
            shape = list(x[name].shape[1:])
            a = tf.reshape(nodes, [1, -1] + [1] * len(shape))                     # (1, m, 1, ...)
            points = b[name][:, None] + a * (x[name] - b[name])[:, None]          # (p, m, *shape)
            path[name] = tf.reshape(points, [-1] + shape)
        _, grads = self._step(path)
        return {name: tf.reduce_sum(tf.reshape(grads[name], [-1, m, int(np.prod(x[name].shape[1:]))])
                                    * weights[None, :, None], axis=1) for name in self.names}

    def path_integral(self, x: dict, b: dict, nodes, weights) -> dict:
        """Quadrature of the gradient along the straight paths from ``b`` to ``x`` (same rows):
        ``{input: (p, elements)}``, ``sum_k weights_k grad f(b + nodes_k (x - b))``."""
        import tensorflow as tf

        if self.resolved.many_to_many or self.embeddings:
            raise NBExplainError("Path integrals explain one score per sample of numeric inputs.")
        if self._path_function is None:
            self._path_function = tf.function(self._path_step, input_signature=self._path_signature,
                                              autograph=False)
        dtype = self._path_signature[2].dtype.as_numpy_dtype
        result = self._path_function({k: tf.convert_to_tensor(v) for k, v in x.items()},
                                     {k: tf.convert_to_tensor(v) for k, v in b.items()},
                                     tf.convert_to_tensor(np.asarray(nodes, dtype=dtype)),
                                     tf.convert_to_tensor(np.asarray(weights, dtype=dtype)))
        return {k: v.numpy() for k, v in result.items()}

    @staticmethod
    def _lookup_gradient(gradient, ids, layer):
        """Per-sample derivative w.r.t. each looked-up embedding vector, ``(b, d, L)``.

        The gradient of an embedding table is an IndexedSlices with one row per lookup, in lookup
        order and not yet summed over samples that share an id, so row ``i * L + l`` is
        ``df(x^i) / de(ids[i, l])``.
        """
        import tensorflow as tf

        if not isinstance(gradient, tf.IndexedSlices):
            raise NotDifferentiableError(f"Embedding layer {layer.name!r} is not used as a lookup by id, so its "
                                         "per-sample vectors cannot be explained.")
        lookups = tf.reshape(gradient.values, (-1, ids.shape[1], gradient.values.shape[-1]))  # (b, L, d)
        return tf.transpose(lookups, (0, 2, 1))

    def __call__(self, chunk: dict):
        import tensorflow as tf

        y, grads = self._function({k: tf.convert_to_tensor(v) for k, v in chunk.items()})
        return y.numpy(), {k: v.numpy() for k, v in grads.items()}


_CACHE: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def output_specs(model, prepared, structure, shapes):
    """Shapes and dtypes of the model's outputs (same nesting), from one call on one sample,
    cached per model and input shapes. A model that cannot be called on the data is bad input."""
    key = ("outputs", structure, shapes)
    per_model = _CACHE.setdefault(model, {})
    if key not in per_model:
        probe = {n: a[:1] for n, a in prepared.arrays.items()}
        try:
            outputs = model(_model.pack(probe, prepared.names, structure), training=False)
        except Exception as error:  # noqa: BLE001 - Keras raises many types; report them as bad input
            shown = {n: a.shape[1:] for n, a in prepared.arrays.items()}
            raise NBExplainError(f"The model could not be called on samples of shape {shown}: "
                                 f"{str(error).strip().splitlines()[0]}") from None
        per_model[key] = _model.describe_outputs(outputs)
    return per_model[key]


def gradient_function(model, resolved, names, structure, shapes, dtypes, embeddings=()) -> GradientFunction:
    """The cached traced function for this model, selection, input shapes and dtypes."""
    import tensorflow as tf

    embeddings = tuple(sorted(dict(embeddings).items()))
    key = (resolved, tuple(names), structure, tuple(shapes), tuple(dtypes), embeddings)
    per_model = _CACHE.setdefault(model, {})
    if key not in per_model:
        signature = {n: tf.TensorSpec((None, *s), d, name=f"x{i}")
                     for i, (n, s, d) in enumerate(zip(names, shapes, dtypes))}
        per_model[key] = GradientFunction(model, resolved, names, structure, signature, embeddings)
    return per_model[key]


@dataclass(frozen=True)
class GradientPass:
    """The result of one pass: selected outputs, per-input gradients, and the data they came from."""

    output: np.ndarray
    gradients: dict
    prepared: object
    resolved: ResolvedOutput
    function: GradientFunction


@dataclass(frozen=True)
class GradientPlan:
    """A model, a checked output selection and its traced function, ready to differentiate any
    number of arrays of the same per-sample shapes: the data itself, or points built from it
    (the straight-line paths of Integrated Gradients)."""

    model: object
    declared: tuple
    structure: str
    prepared: object
    resolved: ResolvedOutput
    function: GradientFunction
    grad_shapes: tuple
    output_steps: int
    dtype: str
    id_inputs: tuple = ()

    @property
    def names(self) -> tuple:
        return self.prepared.names

    def prepare(self, X, what="data"):
        """Check other data (baselines, a reference set) against the same model inputs and
        feature names as the planned data."""
        try:
            return prepare_inputs(X, self.declared, dict(self.prepared.feature_names), compute_dtype=self.dtype,
                                  id_inputs=self.id_inputs)
        except NBExplainError as error:
            raise type(error)(f"{what}: {error}") from None

    def rows_per_chunk(self, batch_size=None, per_row_factor=1) -> int:
        """Rows of one chunk: ``batch_size``, else about ``CHUNK_ELEMENTS`` numbers."""
        if batch_size is not None:
            if int(batch_size) < 1:
                raise NBExplainError(f"batch_size must be a positive number of rows, got {batch_size}.")
            return int(batch_size)
        per_row = sum(int(np.prod(self.prepared.arrays[n].shape[1:])) for n in self.names)
        return max(64, CHUNK_ELEMENTS // max(per_row * self.output_steps * per_row_factor, 1))

    def evaluate(self, arrays: dict, batch_size=None, progress=None, description="gradients"):
        """Selected outputs and gradients for ``arrays`` ({input: (n, *shape)}), chunk by chunk.

        Returns ``(output, gradients)``: ``(n,)`` or ``(n, tau)``, and ``{input: (n, [tau,] *shape)}``.
        """
        from tqdm.auto import tqdm

        n = int(next(iter(arrays.values())).shape[0])
        rows = self.rows_per_chunk(batch_size)
        many = self.resolved.many_to_many
        output = np.empty((n, self.output_steps) if many else (n,), dtype=self.dtype)
        grads = {name: np.empty((n, *((self.output_steps,) if many else ()), *shape), dtype=self.dtype)
                 for name, shape in zip(self.names, self.grad_shapes)}
        starts = range(0, n, rows)
        show = progress if progress is not None else len(starts) > 8
        for start in tqdm(starts, desc=description, unit="chunk", disable=not show, leave=False):
            stop = min(start + rows, n)
            y, g = self.function({k: arrays[k][start:stop] for k in self.names})
            output[start:stop] = y
            for name in self.names:
                grads[name][start:stop] = g[name]
        return output, grads


def plan_gradients(model, X, selection: OutputSelection = OutputSelection(), feature_names=None,
                   embeddings=None) -> GradientPlan:
    """Check ``X`` and ``selection`` against ``model`` and trace (or reuse) the gradient function."""
    _model.check_model(model)
    declared, structure = _model.model_inputs(model)
    if declared is None:
        declared, structure = _model.inputs_from_data(X)
    dtype = "float64" if any(mi.dtype == "float64" for mi in declared) else "float32"
    embeddings = _model.check_embeddings(model, embeddings, [mi.name for mi in declared])
    prepared = prepare_inputs(X, declared, feature_names, compute_dtype=dtype, id_inputs=tuple(embeddings))
    shapes = [prepared.arrays[n].shape[1:] for n in prepared.names]
    probe_outputs = output_specs(model, prepared, structure, tuple(shapes))
    resolved = resolve_output(model, probe_outputs, selection)
    dtypes = [str(prepared.arrays[n].dtype) for n in prepared.names]
    function = gradient_function(model, resolved, prepared.names, structure, shapes, dtypes, embeddings)
    grad_shapes = tuple((model.get_layer(embeddings[n]).output_dim, *s) if n in embeddings else s
                        for n, s in zip(prepared.names, shapes))
    return GradientPlan(model, tuple(declared), structure, prepared, resolved, function, grad_shapes,
                        probe_outputs_steps(probe_outputs, resolved), dtype, tuple(embeddings))


def compute_gradients(model, X, selection: OutputSelection = OutputSelection(), feature_names=None,
                      batch_size=None, progress=None, embeddings=None) -> GradientPass:
    """Derivative of the selected output w.r.t. every input for every sample of ``X``, in chunks.

    ``batch_size`` rows go through the traced function at a time (default: about
    ``CHUNK_ELEMENTS`` numbers per chunk); ``progress`` shows a tqdm bar (``None``: only for
    passes of more than 8 chunks). ``embeddings`` maps id inputs to the Embedding layer that
    reads them: for those inputs the gradient is taken w.r.t. the looked-up vectors,
    ``(n, d, L)`` for ``L`` ids of ``d``-dimensional embeddings.
    """
    plan = plan_gradients(model, X, selection, feature_names, embeddings)
    output, grads = plan.evaluate(plan.prepared.arrays, batch_size, progress)
    for array in (output, *grads.values()):
        array.flags.writeable = False
    return GradientPass(output, grads, plan.prepared, plan.resolved, plan.function)


def probe_outputs_steps(probe_outputs, resolved) -> int:
    """Number of output steps explained per sample (1 unless many-to-many)."""
    if not resolved.many_to_many:
        return 1
    return int(_model.flatten_outputs(probe_outputs)[resolved.index].shape[1])
