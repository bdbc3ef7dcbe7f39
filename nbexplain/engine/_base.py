"""What every explainer shares: parameters, which score is explained, and how a result says how
it was made.

Constructors store their parameters and nothing else (scikit-learn's rule): the model and the
data are checked when :meth:`explain` runs, so an explainer is cheap to build, to copy with other
parameters (:meth:`Explainer.with_params`) and to describe (:meth:`Explainer.get_params`).

:class:`GradientExplainer` holds the keywords every method on a Keras model takes: which score
(``output``, ``target``, ``labels``, ``logit``, ``time_step``), how inputs are reported
(``feature_names``, ``groups``, ``embeddings``) and how the work is run (``batch_size``,
``progress``); its :meth:`~GradientExplainer.meta` is the record every result carries.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

import numpy as np

from .._version import __version__
from ..errors import InputDataError, NBExplainError, ResultWarning, unknown_name
from ..model import _keras
from ..model.inputs import PreparedData
from ..model.outputs import OutputSelection
from ..results.layout import FeatureGroup, InputLayout, input_kind
from ._plan import GradientPlan, plan_gradients

_NAMED = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


class Parameters:
    """Objects whose constructor stores each parameter under its own name and does nothing else:
    they can list (:meth:`get_params`) and copy with changes (:meth:`with_params`) what they
    were built with, the same way for explainers and recipes."""

    @classmethod
    def param_names(cls) -> tuple[str, ...]:
        """The constructor's named parameters (its own and, through ``**shared``, its bases')."""
        names: list[str] = []
        for klass in reversed(cls.__mro__):
            init = klass.__dict__.get("__init__")
            if init is None or klass is object:
                continue
            for parameter in list(inspect.signature(init).parameters.values())[1:]:
                if parameter.kind in _NAMED and parameter.name not in names:
                    names.append(parameter.name)
        return tuple(names)

    def get_params(self) -> dict:
        """The parameters this object was built with."""
        return {name: getattr(self, name) for name in self.param_names()}

    def with_params(self, **changes: Any) -> Any:
        """A copy with some parameters changed, e.g. ``ig.with_params(steps=128)``."""
        names = self.param_names()
        for name in changes:
            if name not in names:
                raise unknown_name(f"parameter of {type(self).__name__}", name, names)
        return type(self)(**{**self.get_params(), **changes})

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{k}={v!r}"
            for k, v in self.get_params().items()
            if k != "model" and v is not None and v is not False and not (isinstance(v, dict) and not v)
        )
        return f"{type(self).__name__}({shown})"


def warn_all(meta: Mapping) -> None:
    """Raise each of a result's ``meta["warnings"]`` as a :class:`~nbexplain.errors.ResultWarning`,
    so that a script sees at once what the result records."""
    for message in meta.get("warnings", ()):
        warnings.warn(message, ResultWarning, stacklevel=3)


class Explainer(Parameters):
    """The shared shape: ``Method(model, **parameters).explain(X, ...) -> result``."""

    method: ClassVar[str] = "explainer"

    def __init__(self, model: Any) -> None:
        self.model = model


def group_columns(groups: Mapping | None) -> dict:
    """``{group: [columns]}`` with a single column name accepted for a one-column group."""
    if groups is None:
        return {}
    shape = "groups must be a dict {group name: [column names]}, e.g. {'EDUCATION': ['edu_school', 'edu_uni']}"
    if not isinstance(groups, Mapping):
        raise InputDataError(f"{shape}; got {groups!r}.")
    out = {}
    for k, v in groups.items():
        if isinstance(v, str):
            out[str(k)] = [v]
        elif isinstance(v, bytes | Mapping) or not isinstance(v, Iterable):
            raise InputDataError(f"{shape}; group {k!r} has {v!r} instead of a list of column names.")
        else:
            out[str(k)] = [str(c) for c in v]
    return out


def resolve_groups(groups: Mapping | None, prepared: PreparedData, exclude: tuple = ()) -> dict:
    """Map ``{group name: [column names]}`` onto tabular inputs: ``{input: [FeatureGroup]}``.

    A group is a complete one-hot encoding when its columns hold only 0 and 1 and every row has
    exactly one 1; that decides how its sensitivity is aggregated (see
    :mod:`nbexplain.results.sensitivities`).
    """
    out: dict[str, list] = {name: [] for name in prepared.names}
    used: dict[str, str] = {}
    tabular = {
        n: prepared.feature_names[n] for n in prepared.names if prepared.arrays[n].ndim == 2 and n not in exclude
    }
    all_columns = [c for names in tabular.values() for c in names]
    for group, columns in group_columns(groups).items():
        if not columns:
            raise InputDataError(f"Group {group!r} names no columns.")
        for column in columns:
            if column not in all_columns:
                raise unknown_name(f"column (in group {group!r})", column, all_columns)
            if column in used:
                raise InputDataError(
                    f"Column {column!r} is in two groups ({used[column]!r} and {group!r}); "
                    "a column can belong to one group only."
                )
            used[column] = group
        homes = {n for c in columns for n, names in tabular.items() if c in names}
        if len(homes) != 1:
            raise InputDataError(f"Group {group!r} mixes columns of several inputs {sorted(homes)}.")
        home = homes.pop()
        if group in tabular[home] and group not in columns:
            raise InputDataError(f"Group name {group!r} is already a column name; choose another group name.")
        positions = tuple(tabular[home].index(c) for c in columns)
        block = prepared.arrays[home][:, list(positions)]
        onehot = bool(np.isin(block, (0.0, 1.0)).all() and np.all(block.sum(axis=1) == 1.0))
        out[home].append(FeatureGroup(group, positions, onehot))
    return out


class GradientExplainer(Explainer):
    """The base of the methods that differentiate one score of a Keras model.

    Parameters
    ----------
    model : keras.Model
        Sequential, functional or subclassed; one input or several (named) inputs. Inputs of
        per-sample shape ``(p,)`` are tabular, ``(tau, p)`` sequences of p features,
        ``(h, w, c)`` image-like tensors.
    output, target, labels, logit, time_step
        Which score to explain; see :class:`~nbexplain.model.OutputSelection`.
    feature_names : list or dict, optional
        Names of the last input axis (a dict by input name for several inputs). A DataFrame's
        columns are matched to them by name; taken from the columns when not given.
    groups : dict, optional
        ``{group name: [column names]}``: related columns (a one-hot encoded category, all
        repayment-status months ...) reported as ONE feature.
    embeddings : dict, optional
        ``{input name: Embedding layer name}`` for integer-id inputs explained through their
        looked-up vectors (sensitivities only: a path between two ids does not exist).
    batch_size : int, optional
        Rows (or path points) per chunk through the gradient primitive; automatic by default.
    progress : bool, optional
        Show a progress bar (default: for long runs only).
    """

    def __init__(
        self,
        model: Any,
        *,
        output: str | int | None = None,
        target: Any = None,
        labels: Any = None,
        logit: bool = False,
        time_step: int | None = None,
        feature_names: Any = None,
        groups: Mapping | None = None,
        embeddings: Mapping | None = None,
        batch_size: int | None = None,
        progress: bool | None = None,
    ) -> None:
        super().__init__(model)
        self.output = output
        self.target = target
        self.labels = labels
        self.logit = logit
        self.time_step = time_step
        self.feature_names = feature_names
        self.groups = groups
        self.embeddings = embeddings
        self.batch_size = batch_size
        self.progress = progress

    @property
    def selection(self) -> OutputSelection:
        """The score this explainer explains, as asked (names allowed)."""
        if not isinstance(self.logit, (bool, np.bool_)):
            raise NBExplainError(f"logit must be True or False; got {self.logit!r}.")
        labels = self.labels
        if labels is not None and (isinstance(labels, str | bytes | Mapping) or not isinstance(labels, Iterable)):
            raise NBExplainError(
                f"labels must be a list of class labels, one per unit of the output (e.g. ('no default', "
                f"'default')); got {labels!r}."
            )
        return OutputSelection(
            self.output, self.target, None if labels is None else tuple(labels), bool(self.logit), self.time_step
        )

    def check_shared(self) -> None:
        """Refuse shared keywords of the wrong kind before any work (their use comes later)."""
        group_columns(self.groups)
        if self.embeddings is not None and not isinstance(self.embeddings, Mapping):
            raise NBExplainError(
                f"embeddings must be a dict {{input name: Embedding layer name}}; got {self.embeddings!r}."
            )
        if self.progress is not None and not isinstance(self.progress, (bool, np.bool_)):
            raise NBExplainError(f"progress must be True, False or None (automatic); got {self.progress!r}.")

    def plan(self, X: Any) -> GradientPlan:
        """Check ``X`` against the model and the selection; trace (or reuse) the gradient function."""
        self.check_shared()
        return plan_gradients(self.model, X, self.selection, self.feature_names, self.embeddings)

    def layout(self, plan: GradientPlan) -> tuple:
        """How each input of the planned data maps to reported features."""
        embeddings = dict(self.embeddings or {})
        groups = resolve_groups(self.groups, plan.prepared, exclude=tuple(embeddings))
        layout = []
        for name, grad_shape in zip(plan.names, plan.grad_shapes):
            shape = plan.prepared.arrays[name].shape[1:]
            names = plan.prepared.feature_names[name]
            if name in embeddings:  # an id input read by an Embedding is laid out (d, L)
                layout.append(InputLayout(name, "embedding", grad_shape, names if shape[0] > 1 else (name,)))
                continue
            spec = InputLayout(name, input_kind(shape), shape, names, tuple(groups[name]))
            if spec.groups and spec.kind != "tabular":
                raise InputDataError(f"Groups are supported for tabular inputs; {name!r} is {spec.kind}.")
            layout.append(spec)
        return tuple(layout)

    def score(self, X: Any) -> np.ndarray:
        """The explained score ``f(x)`` of every row of ``X`` (one forward pass; NaN is an error)."""
        plan = self.plan(X)
        return plan.scores(plan.prepared.arrays, self.batch_size, labels=plan.prepared.sample_labels)

    def meta(self, plan: GradientPlan, **extra: Any) -> dict:
        """How a result of this explainer was made: the record every result carries."""
        resolved = plan.resolved
        return {
            "method": self.method,
            "explained": resolved.description,
            "output_index": resolved.index,
            "target": resolved.unit,
            "logit": resolved.logit,
            "time_step": resolved.time_step,
            "n_samples": plan.prepared.n_samples,
            "parameters": {
                "groups": group_columns(self.groups),
                "embeddings": dict(self.embeddings or {}),
                "batch_size": self.batch_size,
            },
            "model": type(self.model).__name__,
            "model_fingerprint": _keras.fingerprint(self.model),
            "compute_dtype": plan.dtype,
            "version": __version__,
            "notes": list(plan.prepared.notes),
            "warnings": [],
            **extra,
        }
