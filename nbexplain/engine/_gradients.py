"""The one GradientTape primitive that every explanation method calls.

:class:`GradientFunction` differentiates ONE resolved score (see :mod:`nbexplain.model.outputs`)
of a Keras 3 model with respect to every input, for every sample of a chunk:

* samples are independent in inference mode (``training=False``), so the gradient of the sum of
  the selected scores over a chunk is, row by row, each sample's own gradient; for a sequence
  output explained at every step, one backward pass per output step gives the step jacobian;
* :meth:`GradientFunction.step` is the untraced tape; ``__call__`` runs it traced once per
  (model, selection, input shapes) with a free batch axis, so a last, smaller chunk or a later
  call reuses the same graph; methods that build their own points around the tape (the
  straight-line paths of Integrated Gradients) trace :meth:`step` inside their own function
  with :meth:`GradientFunction.derived`, so there is never a second tape.

Shapes (``b`` = chunk rows, ``tau`` = output steps):
    inputs     {name: (b, *input_shape)}
    selected   (b,)            or (b, tau) for every step of a sequence output
    gradients  {name: (b, *input_shape)} or {name: (b, tau, *input_shape)}
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

from .._tensorflow import tensorflow_module
from ..errors import NBExplainError, NotDifferentiableError
from ..model import _keras
from ..model.outputs import ResolvedOutput


class GradientFunction:
    """The traced derivative of one resolved score with respect to all inputs of one model."""

    def __init__(
        self,
        model: Any,
        resolved: ResolvedOutput,
        names: tuple,
        structure: str,
        signature: dict,
        embeddings: dict | None = None,
    ):
        tf = tensorflow_module()
        self._model = weakref.ref(model)
        self.embeddings = dict(embeddings or {})  # input name -> Embedding layer whose vectors are explained
        self.resolved = resolved
        self.names = tuple(names)
        self.structure = structure
        self.signature = signature
        self.dtype = next(iter(signature.values())).dtype
        self.trace_count = 0
        self._function = tf.function(self.step, input_signature=[signature], autograph=False)
        self._derived: dict = {}

    @property
    def model(self) -> Any:
        """The model (held weakly: a function never keeps a dropped model alive)."""
        model = self._model()
        if model is None:
            raise NBExplainError("The model of this gradient function no longer exists; explain with a live model.")
        return model

    def scores(self, inputs: dict) -> Any:
        """``(b, ...)`` inputs -> ``(b,)`` or ``(b, tau)`` selected scores (probability, value or logit)."""
        model = self.model
        packed = _keras.pack(inputs, self.names, self.structure)
        if self.resolved.logit:
            y = _keras.logit_model(model, self.resolved.index)(packed, training=False)
        else:
            y = _keras.flatten_outputs(model(packed, training=False))[self.resolved.index]
        if self.resolved.rank >= 2:
            y = y[..., self.resolved.unit]
        if self.resolved.time_step is not None:
            y = y[:, self.resolved.time_step]
        return y

    def step(self, inputs: dict) -> tuple:
        """The tape: selected scores and ``{input: gradient}`` of one chunk (traceable)."""
        tf = tensorflow_module()
        self.trace_count += 1  # runs only while tracing
        model = self.model
        steps = None
        with tf.GradientTape(persistent=self.resolved.many_to_many) as tape:
            tape.watch(list(inputs.values()))
            y = self.scores(inputs)
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
                    f"The explained score ({self.resolved.description}) does not depend differentiably on input "
                    f"{name!r}: TensorFlow returned no gradient. The input may be unused, cast to integers or "
                    "passed through a non-differentiable operation (argmax, rounding, a lookup by id)."
                )
            grads[name] = per_step[0][position] if steps is None else tf.stack([s[position] for s in per_step], axis=1)
        return y, grads

    @staticmethod
    def _lookup_gradient(gradient: Any, ids: Any, layer: Any) -> Any:
        """Per-sample derivative w.r.t. each looked-up embedding vector, ``(b, d, L)``.

        The gradient of an embedding table is an IndexedSlices with one row per lookup, in lookup
        order and not yet summed over samples that share an id, so row ``i * L + l`` is
        ``df(x^i) / de(ids[i, l])``.
        """
        tf = tensorflow_module()
        if not isinstance(gradient, tf.IndexedSlices):
            raise NotDifferentiableError(
                f"Embedding layer {layer.name!r} is not used as a lookup by id, so its "
                "per-sample vectors cannot be explained."
            )
        lookups = tf.reshape(gradient.values, (-1, ids.shape[1], gradient.values.shape[-1]))  # (b, L, d)
        return tf.transpose(lookups, (0, 2, 1))

    def derived(self, key: str, build: Callable[[GradientFunction], Any]) -> Any:
        """A traced function built around :meth:`step` by another method (``build(self)``),
        kept with this function so that it is traced once too."""
        if key not in self._derived:
            self._derived[key] = build(self)
        return self._derived[key]

    def __call__(self, chunk: dict) -> tuple[np.ndarray, dict]:
        tf = tensorflow_module()
        y, grads = self._function({k: tf.convert_to_tensor(v) for k, v in chunk.items()})
        return y.numpy(), {k: v.numpy() for k, v in grads.items()}
