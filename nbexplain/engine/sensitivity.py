"""Sensitivity explanations of Keras models (Horel et al. 2018, sections 2.3-2.6).

>>> explainer = SensitivityExplainer(model, target=1)          # doctest: +SKIP
>>> sens = explainer.explain(X_train)                           # one gradient pass
>>> sens.global_importance().sorted().to_frame()                # lambda_j, summing to 100
>>> sens.local_importance(17)                                   # a lookup, no new gradients
>>> sens.lag_importance(), sens.lag_matrix(rows=[3])            # recurrent models
"""
from __future__ import annotations

import numpy as np

from .._version import __version__
from ..errors import InputDataError, unknown_name
from ..sensitivities import FeatureGroup, InputLayout, Sensitivities
from . import _model
from ._gradients import OutputSelection, compute_gradients


def input_kind(shape) -> str:
    """Per-sample shape -> ``"tabular"`` (p,), ``"sequence"`` (tau, p) or ``"tensor"`` (..., channels)."""
    return {1: "tabular", 2: "sequence"}.get(len(shape), "tensor")


def resolve_groups(groups, prepared, exclude=()) -> dict:
    """Map ``{group name: [column names]}`` onto tabular inputs: ``{input: [FeatureGroup]}``.

    A group is a complete one-hot encoding when its columns hold only 0 and 1 and every row has
    exactly one 1; that decides how its sensitivity is aggregated (see :mod:`nbexplain.sensitivities`).
    """
    out = {name: [] for name in prepared.names}
    used = {}
    tabular = {n: prepared.feature_names[n] for n in prepared.names if prepared.arrays[n].ndim == 2 and n not in exclude}
    all_columns = [c for names in tabular.values() for c in names]
    for group, columns in (groups or {}).items():
        columns = [str(c) for c in ([columns] if isinstance(columns, str) else columns)]
        if not columns:
            raise InputDataError(f"Group {group!r} names no columns.")
        homes = {n for c in columns for n, names in tabular.items() if c in names}
        for column in columns:
            if column not in all_columns:
                raise unknown_name(f"column (in group {group!r})", column, all_columns)
            if column in used:
                raise InputDataError(f"Column {column!r} is in two groups ({used[column]!r} and {group!r}); "
                                     "a column can belong to one group only.")
            used[column] = group
        if len(homes) != 1:
            raise InputDataError(f"Group {group!r} mixes columns of several inputs {sorted(homes)}.")
        home = homes.pop()
        if str(group) in tabular[home] and str(group) not in columns:
            raise InputDataError(f"Group name {group!r} is already a column name; choose another group name.")
        positions = tuple(tabular[home].index(c) for c in columns)
        block = prepared.arrays[home][:, list(positions)]
        onehot = bool(np.isin(block, (0.0, 1.0)).all() and np.all(block.sum(axis=1) == 1.0))
        out[home].append(FeatureGroup(str(group), positions, onehot))
    return out


class SensitivityExplainer:
    """Sensitivity (gradient) explanations of one output of a Keras model.

    Parameters
    ----------
    model : keras.Model
        Sequential, functional or subclassed; one input or several (named) inputs. Inputs of
        per-sample shape ``(p,)`` are tabular, ``(tau, p)`` sequences of p features,
        ``(h, w, c)`` image-like tensors.
    output, target, labels, logit, time_step
        Which output to explain; see :class:`~nbexplain.engine.OutputSelection`. A sequence
        output with ``time_step=None`` is explained at every step (many-to-many).
    feature_names : list or dict, optional
        Names of the last input axis (a dict by input name for several inputs). Taken from a
        DataFrame's columns when not given.
    groups : dict, optional
        ``{group name: [column names]}``: related columns (a one-hot encoded category, all
        repayment-status months ...) reported as ONE feature.
    embeddings : dict, optional
        ``{input name: Embedding layer name}`` for integer-id inputs: each id column is ONE
        feature whose sensitivity is the norm of the derivative w.r.t. its embedding vector.
    batch_size : int, optional
        Rows per chunk of the gradient pass (memory bound); automatic by default.
    progress : bool, optional
        Show a progress bar (default: for long passes only).
    """

    method = "sensitivity"

    def __init__(self, model, *, output=None, target=None, labels=None, logit=False, time_step=None,
                 feature_names=None, groups=None, embeddings=None, batch_size=None, progress=None):
        _model.check_model(model)
        self.model = model
        self.selection = OutputSelection(output, target, labels, logit, time_step)
        self.feature_names = feature_names
        self.groups = dict(groups or {})
        self.embeddings = dict(embeddings or {})
        self.batch_size = batch_size
        self.progress = progress

    def explain(self, X) -> Sensitivities:
        """One gradient pass over ``X``; every importance view is read from the result.

        ``X``: a numpy array, DataFrame, tf tensor, or a dict / list of them for several inputs.
        """
        result = compute_gradients(self.model, X, self.selection, self.feature_names, self.batch_size,
                                   self.progress, self.embeddings)
        prepared = result.prepared
        groups = resolve_groups(self.groups, prepared, exclude=self.embeddings)
        layout = tuple(self._layout(name, prepared, groups[name], result) for name in prepared.names)
        for spec in layout:
            if spec.groups and spec.kind != "tabular":
                raise InputDataError(f"Groups are supported for tabular inputs; {spec.name!r} is {spec.kind}.")
        meta = {
            "method": self.method,
            "output": result.resolved.description,
            "output_index": result.resolved.index,
            "target": result.resolved.unit,
            "logit": result.resolved.logit,
            "time_step": result.resolved.time_step,
            "architecture": ("many-to-many" if result.resolved.many_to_many else
                             "many-to-one" if any(s.kind == "sequence" for s in layout) else "non-sequential"),
            "n_samples": prepared.n_samples,
            "parameters": {"batch_size": self.batch_size, "embeddings": dict(self.embeddings),
                           "groups": {k: [v] if isinstance(v, str) else list(v) for k, v in self.groups.items()}},
            "model": type(self.model).__name__,
            "model_fingerprint": _model.fingerprint(self.model),
            "version": __version__,
            "notes": list(prepared.notes),
        }
        return Sensitivities(result.gradients, prepared.arrays, result.output, layout, meta, prepared.sample_labels)

    def _layout(self, name, prepared, groups, result) -> InputLayout:
        """An id input read by an Embedding is laid out (d, L); one id column is named by its input."""
        shape = prepared.arrays[name].shape[1:]
        if name in self.embeddings:
            names = prepared.feature_names[name] if shape[0] > 1 else (name,)
            return InputLayout(name, "embedding", result.gradients[name].shape[-2:], names)
        return InputLayout(name, input_kind(shape), shape, prepared.feature_names[name], tuple(groups))
