"""Stacked models: tree ensembles combined by a differentiable head.

A :class:`Stack` is ``F(x) = g(h_1(x), ..., h_M(x), x)`` where each ``h_m`` is the raw margin of a
tree ensemble (read by :func:`~nbexplain.model.trees.read_trees`, exactly as its library
predicts) and the head ``g`` is one of

* ``"sum"``: ``F = sum_m w_m h_m[c]`` (the margins of class ``c``, weights ``w``, default 1);
* ``"sigmoid"``: ``F = sigmoid(sum_m w_m h_m[c])``; ``"softmax"``: ``F = softmax(sum_m w_m h_m)[c]``;
* :class:`Blend`: ``F = w link(sum_m h_m[c]) + (1 - w) N(x)`` with a Keras network ``N`` on the
  features (the classic blend of a boosted model and a network);
* :class:`NetworkHead`: a Keras model whose inputs are the tree margins ``(n, sum_m K_m)`` and
  (optionally, second) the features ``(n, p)``; its one output unit (``target``) is ``F``;
* any Python callable ``g(z) -> (n,)`` of the margins ``z`` alone (evaluated, never
  differentiated, so it may not read the features).

The features of a stack are those of its ensembles, matched by name (or ``feature_names=``, which
may add columns only a network reads); networks read them in the stack's order. Explaining a
stack never changes its parts. The engine differentiates the Keras parts through its one
gradient primitive; this module only describes and predicts.
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InputDataError, NBExplainError, unknown_name
from . import _keras
from .trees import TreeEnsemble, prepare_rows, read_trees

LINKS = ("identity", "sigmoid", "softmax")


@dataclass(frozen=True, eq=False)
class Blend:
    """``F = weight * link(sum_m h_m[target]) + (1 - weight) * N(x)``.

    ``network`` is a Keras model on the stack's features; ``network_target`` picks its output
    unit when it has several (for example 1 for P(default) of a softmax of 2)."""

    network: Any
    weight: float = 0.5
    link: str = "sigmoid"
    network_target: int | None = None


@dataclass(frozen=True, eq=False)
class NetworkHead:
    """``F = model(margins, features)[target]``: a Keras head over the tree margins (first input)
    and the raw features (second input, optional)."""

    model: Any
    target: int | None = None


def sigmoid(z: np.ndarray) -> np.ndarray:
    """``1 / (1 + exp(-z))``, without overflow warnings for large ``|z|``."""
    out = np.empty_like(z, dtype=np.float64)
    positive = z >= 0
    out[positive] = 1.0 / (1.0 + np.exp(-z[positive]))
    e = np.exp(z[~positive])
    out[~positive] = e / (1.0 + e)
    return out


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax of ``(n, K)`` scores."""
    shifted = np.exp(z - z.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def network_scores(model: Any, inputs: list, target: int | None) -> np.ndarray:
    """One output unit of a Keras model, forward only, in chunks: ``(n,)`` float64."""
    n = len(inputs[0])
    out = np.empty(n)
    rows = max(256, 2**20 // max(sum(int(np.prod(a.shape[1:])) for a in inputs), 1))
    for start in range(0, n, rows):
        chunk = [a[start : start + rows] for a in inputs]
        y = _keras.flatten_outputs(model(chunk[0] if len(chunk) == 1 else chunk, training=False))
        if len(y) != 1:
            raise NBExplainError("A network in a stack must have one output tensor.")
        values = np.asarray(y[0], dtype=np.float64).reshape(len(chunk[0]), -1)
        out[start : start + rows] = values[:, _unit(values.shape[1], target)]
    return out


def _unit(units: int, target: int | None) -> int:
    if units == 1 and target in (None, 0):
        return 0
    if target is None:
        raise NBExplainError(f"The network has {units} output units: choose one with target= (network_target=).")
    if not 0 <= int(target) < units:
        raise NBExplainError(f"Output unit {target} does not exist: the network has {units}.")
    return int(target)


class Stack:
    """Tree ensembles and a differentiable head: ``F(x) = g(h_1(x), ..., h_M(x), x)``.

    Parameters
    ----------
    trees : list
        Tree models (XGBoost, LightGBM, scikit-learn) or :class:`~nbexplain.model.trees.TreeEnsemble`.
    head : str, Blend, NetworkHead, keras.Model or callable
        ``"sum"`` (default), ``"sigmoid"``, ``"softmax"``, a :class:`Blend`, a
        :class:`NetworkHead` (a bare Keras model is taken as one), or ``g(z)`` of the margins.
    weights : list of float, optional
        ``w_m`` of the sum heads (default all 1).
    target : int or label, optional
        The class ``c`` whose margins the sum / sigmoid / softmax / blend heads combine
        (required when the ensembles have several margins).
    feature_names : list of str, optional
        The stack's features in the order networks read them (default: the ensembles' features
        in order of first appearance). A tree model trained without names (on arrays) of that
        width takes them, in that order.
    """

    def __init__(
        self,
        trees: list,
        head: Any = "sum",
        *,
        weights: list | None = None,
        target: Any = None,
        feature_names: list | None = None,
    ) -> None:
        if not isinstance(trees, (list, tuple)) or not trees:
            raise NBExplainError("A Stack needs a non-empty list of tree models: Stack(trees=[model, ...], head=...).")
        self.ensembles = tuple(_named(read_trees(t), feature_names) for t in trees)
        self.weights = np.ones(len(self.ensembles)) if weights is None else np.asarray(weights, dtype=np.float64)
        if self.weights.shape != (len(self.ensembles),):
            raise NBExplainError(f"weights needs one number per tree model ({len(self.ensembles)}).")
        names: list[str] = []
        for ensemble in self.ensembles:
            names += [f for f in ensemble.feature_names if f not in names]
        if feature_names is not None:
            given = [str(f) for f in feature_names]
            missing = [f for f in names if f not in given]
            if missing:
                raise InputDataError(f"feature_names lacks feature(s) {missing} that the tree models read.")
            names = given
        self.feature_names = tuple(names)
        self.columns = tuple(np.array([names.index(f) for f in e.feature_names]) for e in self.ensembles)
        self.margin_names = tuple(
            f"trees[{m}] {name}" if len(self.ensembles) > 1 else name
            for m, e in enumerate(self.ensembles)
            for name in e.output_names
        )
        self.blocks = np.cumsum([0] + [e.n_outputs for e in self.ensembles])
        self.target = target
        self.head = NetworkHead(head) if _keras.is_keras_model(head) else head
        self._check_head()

    # ------------------------------------------------------------------ head
    def _check_head(self) -> None:
        head = self.head
        if isinstance(head, str):
            if head not in ("sum", "sigmoid", "softmax"):
                raise unknown_name("head", head, ("sum", "sigmoid", "softmax"))
            self.target_columns = self._target_columns(head == "softmax")
        elif isinstance(head, Blend):
            if head.link not in LINKS:
                raise unknown_name("blend link", head.link, LINKS)
            if not 0.0 <= float(head.weight) <= 1.0:
                raise NBExplainError(f"A blend weight is in [0, 1]; got {head.weight!r}.")
            if not _keras.is_keras_model(head.network):
                raise NBExplainError("Blend(network=...) takes a Keras model on the stack's features.")
            self.target_columns = self._target_columns(head.link == "softmax")
        elif isinstance(head, NetworkHead):
            widths = _input_widths(head.model)
            if widths[0] != self.n_margins or len(widths) > 2 or (len(widths) == 2 and widths[1] != self.n_features):
                raise NBExplainError(
                    f"A network head takes the tree margins ({self.n_margins} columns: {list(self.margin_names)}) as "
                    f"its first input and, optionally, the {self.n_features} features as its second; this model's "
                    f"inputs have widths {widths}."
                )
            self.target_columns = None
        elif callable(head):
            self.target_columns = None
        else:
            raise NBExplainError(
                f"head={head!r}: use 'sum', 'sigmoid', 'softmax', Blend(network, weight), a Keras model over "
                "(margins, features), or a function of the margins."
            )

    def _target_columns(self, whole_blocks: bool) -> Any:
        """Margin columns combined by a sum-type head: one per ensemble (class ``target``), or
        whole class blocks for softmax."""
        if whole_blocks:
            sizes = {e.n_outputs for e in self.ensembles}
            if len(sizes) != 1 or sizes == {1}:
                raise NBExplainError(
                    "A softmax head needs tree models with the same number (> 1) of class margins; for one "
                    "margin use head='sigmoid'."
                )
            self.ensembles[0].output_column(self.target)  # the class exists
            return None
        return np.array([self.blocks[m] + e.output_column(self.target) for m, e in enumerate(self.ensembles)])

    @property
    def n_features(self) -> int:
        return len(self.feature_names)

    @property
    def n_margins(self) -> int:
        return int(self.blocks[-1])

    @property
    def reads_features(self) -> bool:
        """Whether the head reads the features directly (a network part)."""
        if isinstance(self.head, Blend):
            return True
        return isinstance(self.head, NetworkHead) and len(_input_widths(self.head.model)) == 2

    @property
    def network(self) -> Any:
        """The Keras model of the head, if any (a blend's network or a network head)."""
        if isinstance(self.head, Blend):
            return self.head.network
        return self.head.model if isinstance(self.head, NetworkHead) else None

    @property
    def accepts_missing(self) -> bool:
        return all(e.accepts_missing for e in self.ensembles) and not self.reads_features

    @property
    def linear_weights(self) -> np.ndarray | None:
        """``w`` with ``g = w . z`` when the tree part of the head is linear in the margins (the sum
        head, a blend with the identity link), else None."""
        head = self.head
        if head == "sum" or (isinstance(head, Blend) and head.link == "identity"):
            scale = float(head.weight) if isinstance(head, Blend) else 1.0
            weights = np.zeros(self.n_margins)
            weights[self.target_columns] = self.weights * scale
            return weights
        return None

    def tree_part(self, margins: np.ndarray) -> np.ndarray:
        """``g`` of the margins for heads that do not mix margins with features (sum, links,
        blend's tree term, callables), ``(n,)``."""
        head = self.head
        if isinstance(head, NetworkHead):
            raise NBExplainError("A network head mixes margins and features: evaluate it with its network.")
        if callable(head) and not isinstance(head, (str, Blend)):
            values = np.asarray(head(margins), dtype=np.float64).reshape(-1)
            if values.shape != (len(margins),):
                raise NBExplainError(f"The head function returned shape {values.shape} for {len(margins)} rows.")
            return values
        link = head.link if isinstance(head, Blend) else {"sum": "identity"}.get(head, head)
        scale = float(head.weight) if isinstance(head, Blend) else 1.0
        if link == "softmax":
            combined = sum(w * margins[:, self.blocks[m] : self.blocks[m + 1]] for m, w in enumerate(self.weights))
            column = self.ensembles[0].output_column(self.target)
            return scale * softmax(combined)[:, column]
        combined = margins[:, self.target_columns] @ self.weights
        return scale * (sigmoid(combined) if link == "sigmoid" else combined)

    # ------------------------------------------------------------------ prediction
    def prepare(self, X: Any, what: str = "data") -> tuple[np.ndarray, tuple]:
        """Rows as a float64 ``(n, p)`` array in the stack's feature order, and their labels."""
        hint = (
            "A network reads these features: impute them."
            if self.reads_features
            else "These tree models do not accept missing values: impute them."
        )
        return prepare_rows(X, self.feature_names, self.accepts_missing, what, hint)

    def margins_of(self, rows: np.ndarray) -> np.ndarray:
        """Every ensemble's margins, side by side ``(n, sum_m K_m)`` (rows already prepared)."""
        return np.concatenate([e.margin_of(e.cast(rows[:, c])) for e, c in zip(self.ensembles, self.columns)], axis=1)

    def margins(self, X: Any) -> np.ndarray:
        """The tree margins ``z = (h_1(x), ..., h_M(x))`` of every row."""
        return self.margins_of(self.prepare(X)[0])

    def predict(self, X: Any) -> np.ndarray:
        """``F(x)`` for every row (forward only)."""
        rows, _ = self.prepare(X)
        margins = self.margins_of(rows)
        head = self.head
        if isinstance(head, NetworkHead):
            dtype = _input_dtype(head.model)
            inputs = [margins.astype(dtype)] + ([rows.astype(dtype)] if self.reads_features else [])
            return network_scores(head.model, inputs, head.target)
        value = self.tree_part(margins)
        if isinstance(head, Blend):
            value = value + (1.0 - float(head.weight)) * network_scores(
                head.network, [rows.astype(_input_dtype(head.network))], head.network_target
            )
        return value

    @property
    def explained(self) -> str:
        """The score in words: ``"log-odds of class 1 (XGBClassifier)"``, ``"probability of class
        'default' (LGBMClassifier)"``, ``"stacked score (...)"``."""
        head = self.head
        if len(self.ensembles) == 1 and (isinstance(head, (str, _ScaledSigmoid))):
            ensemble = self.ensembles[0]
            model = ensemble.source.get("model")
            if head == "sum":
                return f"{ensemble.output_names[ensemble.output_column(self.target)]} ({model})"
            if head == "softmax":
                column = ensemble.output_column(self.target)
                label = ensemble.classes[column] if ensemble.classes is not None else column
            else:  # a sigmoid of the positive class's log-odds
                label = ensemble.classes[1] if ensemble.classes is not None and len(ensemble.classes) == 2 else 1
            return f"probability of class {label!r} ({model})"
        return f"stacked score ({self.describe()['head']})"

    def describe(self) -> dict:
        """What the stack is, for a result's meta."""
        head = self.head
        if isinstance(head, Blend):
            shown: Any = {
                "blend": {"weight": float(head.weight), "link": head.link, "network": type(head.network).__name__}
            }
        elif isinstance(head, NetworkHead):
            shown = {"network head": type(head.model).__name__, "reads features": self.reads_features}
        elif isinstance(head, str):
            shown = head
        else:
            shown = f"function {getattr(head, '__name__', type(head).__name__)}"
        return {
            "kind": "stack",
            "head": shown,
            "weights": self.weights.tolist(),
            "target": self.target,
            "trees": [e.describe() for e in self.ensembles],
            "margins": list(self.margin_names),
        }

    def fingerprint(self) -> str:
        """SHA-256 (16 hex digits) over the ensembles' fingerprints, the head and its weights."""
        digest = hashlib.sha256()
        for ensemble in self.ensembles:
            digest.update(ensemble.fingerprint().encode())
        digest.update(repr((self.weights.tolist(), self.target, self.feature_names)).encode())
        head = self.head
        if self.network is not None:
            digest.update(_keras.fingerprint(self.network).encode())
            if isinstance(head, Blend):
                digest.update(repr((head.weight, head.link, head.network_target)).encode())
            else:
                digest.update(repr(head.target).encode())
        else:
            digest.update(repr(head if isinstance(head, str) else getattr(head, "__qualname__", type(head))).encode())
        return digest.hexdigest()[:16]

    # ------------------------------------------------------------------ saving
    def to_record(self) -> dict:
        """The stack as JSON-able data, its network (if any) apart: :meth:`from_record` rebuilds
        it from this and the network. A head that is a Python function cannot be saved."""
        head = self.head
        if isinstance(head, Blend):
            saved: Any = {"blend": {"weight": float(head.weight), "link": head.link, "target": head.network_target}}
        elif isinstance(head, NetworkHead):
            saved = {"network": {"target": head.target}}
        elif isinstance(head, _ScaledSigmoid):
            saved = {"scaled sigmoid": head.scale}
        elif isinstance(head, str):
            saved = head
        else:
            raise NBExplainError(
                f"The stack's head {self.describe()['head']!r} is a Python function, which cannot be saved; use "
                "'sum', 'sigmoid', 'softmax', Blend(network, weight) or a Keras network head."
            )
        return {
            "trees": [e.to_record() for e in self.ensembles],
            "head": saved,
            "weights": self.weights.tolist(),
            "target": self.target,
            "feature_names": list(self.feature_names),
        }

    @classmethod
    def from_record(cls, record: dict, network: Any = None) -> Stack:
        """The stack :meth:`to_record` wrote, with its network (a Keras model) when it has one."""
        saved = record["head"]
        head: Any = saved
        if isinstance(saved, dict) and "blend" in saved:
            blend = saved["blend"]
            head = Blend(network, blend["weight"], blend["link"], blend["target"])
        elif isinstance(saved, dict) and "network" in saved:
            head = NetworkHead(network, saved["network"]["target"])
        elif isinstance(saved, dict) and "scaled sigmoid" in saved:
            head = _ScaledSigmoid(float(saved["scaled sigmoid"]))
        if (network is None) != (not isinstance(head, (Blend, NetworkHead))):
            raise NBExplainError("The saved stack and its network do not go together; save the stack again.")
        return cls(
            [TreeEnsemble.from_record(t) for t in record["trees"]],
            head,
            weights=record["weights"],
            target=record["target"],
            feature_names=record["feature_names"],
        )


def _named(ensemble: TreeEnsemble, feature_names: list | None) -> TreeEnsemble:
    """The ensemble, or a copy named ``feature_names`` when it was trained without names."""
    if feature_names is None or ensemble.source.get("named") or ensemble.n_features != len(feature_names):
        return ensemble
    renamed = copy.copy(ensemble)
    renamed.feature_names = tuple(str(f) for f in feature_names)
    return renamed


def _input_dtype(model: Any) -> str:
    """float64 when the network declares it, else float32 (what Keras computes in)."""
    declared, _ = _keras.model_inputs(model)
    return "float64" if declared and any(d.dtype == "float64" for d in declared) else "float32"


def _input_widths(model: Any) -> list[int]:
    declared, _ = _keras.model_inputs(model)
    if declared is None or any(d.shape is None or len(d.shape) != 1 or d.shape[0] is None for d in declared):
        raise NBExplainError("A network in a stack must declare flat inputs (keras.Input((width,))).")
    return [int(d.shape[0]) for d in declared]


def as_stack(model: Any, output: str = "margin", target: Any = None, feature_names: Any = None) -> Stack:
    """A stack as it is, or one tree model as a stack explaining its margin (``output="margin"``)
    or its probability (``"probability"``: the library's sigmoid / softmax of the margin)."""
    if isinstance(model, Stack):
        if target is not None or output != "margin":
            raise NBExplainError("A Stack chooses its score itself (head=, target=): drop output= and target=.")
        return model
    ensemble = read_trees(model, feature_names)
    if output == "margin":
        return Stack([ensemble], "sum", target=target)
    if output != "probability":
        raise unknown_name("output", output, ("margin", "probability"))
    if ensemble.link == "identity" and ensemble.classes is not None:
        return Stack([ensemble], "sum", target=target)  # a forest's margin is its probability
    if ensemble.link == "sigmoid":
        head = "sigmoid" if ensemble.link_scale == 1.0 else _ScaledSigmoid(ensemble.link_scale)
        return Stack([ensemble], head, target=target)
    if ensemble.link == "softmax":
        return Stack([ensemble], "softmax", target=target)
    raise NBExplainError(
        f"output='probability': {ensemble.source.get('model')} ({ensemble.source.get('objective', 'regression')}) "
        "does not predict a probability; explain output='margin'."
    )


@dataclass(frozen=True)
class _ScaledSigmoid:
    """``g(z) = sigmoid(scale z)``: LightGBM's probability with its ``sigmoid`` parameter."""

    scale: float

    @property
    def __name__(self) -> str:
        return f"sigmoid({self.scale:g} * margin)"

    def __call__(self, margins: np.ndarray) -> np.ndarray:
        return sigmoid(self.scale * margins[:, 0])


__all__ = ["LINKS", "Blend", "NetworkHead", "Stack", "TreeEnsemble", "as_stack", "sigmoid", "softmax"]
