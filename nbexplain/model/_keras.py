"""What nbexplain needs to know about a Keras 3 model: its inputs, how to call it, its outputs,
the layer that applies the final sigmoid/softmax, and a fingerprint of architecture and weights."""

from __future__ import annotations

import hashlib
import json
import weakref
from typing import Any

import numpy as np

from .._tensorflow import keras_module
from ..errors import NBExplainError, OutputSelectionError, unknown_name
from .inputs import ModelInput


def check_model(model):
    """Refuse anything that is not a callable Keras model, with what to pass instead."""
    keras = keras_module()

    if not isinstance(model, keras.Model):
        kind = type(model).__module__ + "." + type(model).__name__
        raise NBExplainError(
            f"Expected a Keras 3 model (keras.Model), got {kind}. Tree ensembles and other "
            "non-differentiable models are not explained by gradients; wrap a Keras model."
        )


def is_keras_model(obj: Any) -> bool:
    """A Keras model, recognised without importing Keras (for models that have none)."""
    return any(klass.__module__.startswith("keras") and klass.__name__ == "Model" for klass in type(obj).__mro__)


def load_keras_model(path, unsafe: bool = False):
    """A saved Keras model (``.keras`` zip archive, or legacy ``.h5``), with errors that say what
    the file is and what to do.

    Keras' safe mode refuses to run Python code stored in a file (a ``Lambda`` layer's function):
    ``unsafe=True`` lifts it, which is only right for a file you trust.
    """
    import zipfile
    from pathlib import Path

    keras = keras_module()
    path = Path(path)
    if not path.is_file():
        raise NBExplainError(f"The model file {path} does not exist.")
    if path.suffix == ".keras" and not zipfile.is_zipfile(path):
        with open(path, "rb") as handle:
            head = handle.read(4)
        found = "a pickle" if head[:1] == b"\x80" else "truncated or not a Keras archive"
        raise NBExplainError(
            f"{path} is not a Keras model file: .keras files are zip archives, and this one is "
            f"{found}. Save the model again with model.save('{path.name}')."
        )
    try:
        return keras.models.load_model(path, compile=False, safe_mode=not unsafe)
    except Exception as error:
        text = " ".join(str(error).split())
        if "safe_mode" in text or "Lambda" in text:
            raise NBExplainError(
                f"{path} holds Python code (a Lambda layer) that Keras' safe mode will not run: loading it would "
                "execute code from the file. If you trust the file, load it knowingly: --unsafe-load on the "
                "command line, or unsafe=True from Python."
            ) from None
        raise NBExplainError(
            f"{path} could not be loaded as a Keras model ({type(error).__name__}: {text[:300]})."
        ) from None


def model_inputs(model):
    """Declared inputs and the call structure (``"single"``, ``"list"`` or ``"dict"``).

    Subclassed models declare nothing; their inputs are taken from the data (one input, or the
    keys of a dict).
    """
    struct = getattr(model, "_inputs_struct", None)
    if isinstance(struct, dict):
        return [ModelInput(str(k), tuple(t.shape[1:]), str(t.dtype)) for k, t in struct.items()], "dict"
    try:
        tensors = list(model.inputs or [])
    except (AttributeError, ValueError):
        tensors = []
    if not tensors:
        return None, None
    specs = [
        ModelInput(str(getattr(t, "name", f"input_{i}")), tuple(t.shape[1:]), str(t.dtype))
        for i, t in enumerate(tensors)
    ]
    return specs, ("single" if len(specs) == 1 else "list")


def inputs_from_data(X):
    """Model inputs of a subclassed model, read off the data the user passes."""
    if isinstance(X, dict):
        return [ModelInput(str(k), None) for k in X], "dict"
    if isinstance(X, (list, tuple)) and X and all(hasattr(x, "shape") for x in X) and len(X) > 1:
        return [ModelInput(f"input_{i}", None) for i in range(len(X))], "list"
    return [ModelInput("input", None)], "single"


def pack(arrays: dict, names, structure):
    """Arrange per-input tensors the way the model is called."""
    if structure == "dict":
        return dict(arrays)
    if structure == "list":
        return [arrays[n] for n in names]
    return arrays[names[0]]


def output_names(model, outputs):
    """Names of a model's output tensors, for selection and for error messages."""
    if isinstance(outputs, dict):
        return [str(k) for k in outputs]
    if not isinstance(outputs, (list, tuple)):
        return ["output"]
    names = None
    try:
        names = list(model.output_names)
    except (AttributeError, ValueError, TypeError):
        pass
    if not names or len(names) != len(outputs):
        names = [f"output_{i}" for i in range(len(outputs))]
    return [str(n) for n in names]


class TensorDescription:
    """Shape and dtype of one model output, kept instead of the tensor itself."""

    __slots__ = ("shape", "dtype")

    def __init__(self, tensor):
        self.shape = tuple(tensor.shape)
        self.dtype = str(getattr(tensor.dtype, "name", tensor.dtype))


def describe_outputs(outputs):
    """The same nesting as ``outputs`` (tensor, list or dict) with descriptions for tensors."""
    if isinstance(outputs, dict):
        return {k: TensorDescription(v) for k, v in outputs.items()}
    if isinstance(outputs, (list, tuple)):
        return [TensorDescription(v) for v in outputs]
    return TensorDescription(outputs)


def flatten_outputs(outputs):
    if isinstance(outputs, dict):
        return list(outputs.values())
    if isinstance(outputs, (list, tuple)):
        return list(outputs)
    return [outputs]


def _output_node(model, output_index):
    """The layer producing output ``output_index`` and the tensor it was called on."""
    tensors = None
    try:
        tensors = flatten_outputs(model.outputs)
    except (AttributeError, ValueError):
        pass
    if not tensors:
        raise OutputSelectionError(
            "logit=True needs a Sequential or functional model whose last layer applies "
            "the sigmoid/softmax; this model does not expose its layers' graph. Make the "
            "model output logits and explain that output instead."
        )
    layer, node_index, _ = tensors[output_index]._keras_history
    node = layer._inbound_nodes[node_index]
    return layer, node.input_tensors[0]


def _activation_name(layer) -> str:
    if type(layer).__name__ == "Softmax":
        return "softmax"
    activation = getattr(layer, "activation", None)
    return getattr(activation, "__name__", str(activation))


def activation_layer(model, output_index):
    """The layer whose sigmoid/softmax produces output ``output_index``, for logit explanations:
    a Dense layer with that activation, or an Activation / Softmax layer of its own."""
    layer, _ = _output_node(model, output_index)
    name = _activation_name(layer)
    if name not in ("softmax", "sigmoid"):
        raise OutputSelectionError(
            f"logit=True: the output layer {layer.name!r} applies activation {name!r}, not "
            "sigmoid or softmax, so its output already is the score; drop logit=True."
        )
    if type(layer).__name__ not in ("Dense", "Activation", "Softmax"):
        raise OutputSelectionError(
            f"logit=True: the output layer {layer.name!r} is a {type(layer).__name__} with a {name} activation; "
            "nbexplain reads logits from a Dense output layer or from a separate Activation / Softmax layer. "
            "Move the activation into its own layer (keras.layers.Activation) and explain again."
        )
    return layer


_LOGITS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def logit_model(model, output_index):
    """A function ``inputs -> pre-activation score`` of output ``output_index``.

    It is a functional model from the model's inputs to the tensor the output layer reads,
    followed by the layer's linear part (``h W + b`` for a Dense layer; nothing for an
    Activation / Softmax layer), with the model's own variables: the model is never modified,
    so concurrent probability explanations and the user's own calls are unaffected. Built once
    per model and output.
    """
    keras = keras_module()

    per_model = _LOGITS.setdefault(model, {})
    if output_index not in per_model:
        layer = activation_layer(model, output_index)
        _, hidden = _output_node(model, output_index)
        struct = getattr(model, "_inputs_struct", None)
        if struct is None:
            inputs = list(model.inputs)
            struct = inputs[0] if len(inputs) == 1 else inputs
        features = keras.Model(struct, hidden)

        def logits(inputs, training=False):
            h = features(inputs, training=training)
            if type(layer).__name__ != "Dense":
                return h
            z = keras.ops.matmul(h, layer.kernel)
            return z + layer.bias if layer.use_bias else z

        per_model[output_index] = logits
    return per_model[output_index]


def fingerprint(model) -> str:
    """SHA-256 over the model's class, configuration and weights: two results with the same
    fingerprint were computed from the same function."""
    digest = hashlib.sha256(type(model).__qualname__.encode())
    digest.update(_config_text(model))
    for weight in model.get_weights():
        digest.update(np.ascontiguousarray(weight).tobytes())
    return digest.hexdigest()[:16]


_CONFIGS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _config_text(model) -> bytes:
    """The model's configuration as JSON, serialised once per model object (the architecture of
    a built model does not change; its weights do, and are hashed at every call)."""
    if model not in _CONFIGS:
        try:
            _CONFIGS[model] = json.dumps(model.get_config(), sort_keys=True, default=str).encode()
        except (NotImplementedError, TypeError, AttributeError):
            _CONFIGS[model] = b""
    return _CONFIGS[model]


def check_embeddings(model, embeddings, input_names) -> dict:
    """Validate ``{id input name: Embedding layer name}`` against the model."""
    keras = keras_module()

    embeddings = dict(embeddings or {})
    layers = [layer.name for layer in model.layers if isinstance(layer, keras.layers.Embedding)]
    for name, layer in embeddings.items():
        if name not in input_names:
            raise unknown_name("model input", name, input_names)
        if layer not in layers:
            raise unknown_name("Embedding layer", layer, layers)
    return embeddings
