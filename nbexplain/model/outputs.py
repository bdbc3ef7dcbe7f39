"""Which scalar of a model's outputs is explained: the output tensor, the unit or class, probability
or logit, one time step or every step of a sequence output.

:class:`OutputSelection` is what the user asks for (names allowed); :func:`resolve_output`
checks it against the model's outputs and returns :class:`ResolvedOutput` (positions only, and a
description such as ``"class 'default' probability"`` recorded in every result's meta).
A logit is read from the output layer's pre-activation by a separate function over the same
layers and weights (:func:`~nbexplain.model._keras.logit_model`): the user's model is never
changed, not even while a gradient function is traced.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import NotDifferentiableError, OutputSelectionError, unknown_name
from . import _keras


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
    names = _keras.output_names(model, probe_outputs)
    flat = _keras.flatten_outputs(probe_outputs)
    if selection.output is None:
        if len(flat) > 1:
            raise OutputSelectionError(
                f"The model has {len(flat)} outputs {names}: choose one with output=NAME (or its position)."
            )
        index = 0
    elif isinstance(selection.output, (int, np.integer)):
        if not -len(flat) <= selection.output < len(flat):
            raise OutputSelectionError(
                f"output={selection.output} is out of range: the model has {len(flat)} output(s) {names}."
            )
        index = int(selection.output) % len(flat)
    else:
        if str(selection.output) not in names:
            raise unknown_name("model output", selection.output, names)
        index = names.index(str(selection.output))
    shape = tuple(flat[index].shape)
    dtype = str(getattr(flat[index], "dtype", "float32"))
    if "float" not in dtype:
        raise NotDifferentiableError(
            f"Output {names[index]!r} has dtype {dtype}: an integer output (argmax, "
            "a class id) has no derivative. Explain the probabilities or logits instead."
        )
    rank = len(shape)
    if rank not in (1, 2, 3):
        raise OutputSelectionError(
            f"Output {names[index]!r} has shape {shape}; nbexplain explains outputs of "
            "shape (n,), (n, units) or (n, time steps, units)."
        )
    units = 1 if rank == 1 else shape[-1]
    if selection.labels is not None and len(selection.labels) != units:
        raise OutputSelectionError(
            f"labels={list(selection.labels)!r} names {len(selection.labels)} classes but output "
            f"{names[index]!r} has {units} units: give one label per unit, in unit order (or no labels and "
            "target=unit index)."
        )
    unit = _resolve_unit(selection, units, names[index]) if rank > 1 else None
    time_step = selection.time_step
    if time_step is not None:
        if rank != 3:
            raise OutputSelectionError(
                f"time_step={time_step} was given but output {names[index]!r} of shape "
                f"{shape} is not a sequence (n, time steps, units)."
            )
        if not -shape[1] <= time_step < shape[1]:
            raise OutputSelectionError(f"time_step={time_step} is out of range for {shape[1]} output steps.")
        time_step = int(time_step) % shape[1]
    if selection.logit:
        _keras.activation_layer(model, index)
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
        raise OutputSelectionError(
            f"Output {name!r} has {units} units: choose which to explain with target=..., "
            f"one of {choices}" + (" (class labels)" if selection.labels else " (class indices)") + "."
        )
    if selection.labels is not None and not isinstance(target, (int, np.integer)):
        if target not in selection.labels:
            raise unknown_name("class label", target, selection.labels)
        return list(selection.labels).index(target)
    if isinstance(target, (int, np.integer)):
        if not -units <= target < units:
            raise OutputSelectionError(f"target={target} is out of range: output {name!r} has {units} units.")
        return int(target) % units
    raise OutputSelectionError(
        f"target={target!r} is a label but no labels=... were given for output {name!r}; "
        f"pass labels (one per unit) or a unit index 0..{units - 1}."
    )


def _is_probability(model, index):
    try:
        return _keras.activation_layer(model, index) is not None
    except OutputSelectionError:
        return False
