"""How a model's inputs map to the features a person reads.

A model input is ``"tabular"`` (per-sample shape ``(p,)``), a ``"sequence"`` (``(tau, p)``: p
input sequences over tau time steps), a ``"tensor"`` (``(..., channels)``, e.g. an image) or an
``"embedding"`` (``(d, L)``: L categorical ids, each explained through its d-dimensional vector).
In every kind the last axis holds the features; the other axes are positions (time steps,
pixels) or, for embeddings, the vector's dimensions. Columns of a tabular input may be grouped
into one reported feature (a one-hot category, all repayment-status months).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import NBExplainError

INPUT_KINDS = ("tabular", "sequence", "tensor", "embedding")


def input_kind(shape: Sequence[int]) -> str:
    """Per-sample shape -> ``"tabular"`` (p,), ``"sequence"`` (tau, p) or ``"tensor"`` (..., channels)."""
    return {1: "tabular", 2: "sequence"}.get(len(shape), "tensor")


@dataclass(frozen=True)
class FeatureGroup:
    """Columns of one tabular input reported as a single feature (a one-hot or related group)."""

    name: str
    columns: tuple
    onehot: bool = False


@dataclass(frozen=True)
class InputLayout:
    """How one model input maps to reported features (see the module docstring for the kinds)."""

    name: str
    kind: str
    shape: tuple
    feature_names: tuple
    groups: tuple = ()

    def __post_init__(self) -> None:
        if self.kind not in INPUT_KINDS:
            raise NBExplainError(f"input kind must be one of {INPUT_KINDS}, got {self.kind!r}.")
        object.__setattr__(self, "shape", tuple(int(s) for s in self.shape))
        object.__setattr__(self, "feature_names", tuple(str(f) for f in self.feature_names))
        object.__setattr__(
            self,
            "groups",
            tuple(
                g if isinstance(g, FeatureGroup) else FeatureGroup(g["name"], tuple(g["columns"]), bool(g["onehot"]))
                for g in self.groups
            ),
        )

    @property
    def features(self) -> list[tuple[str, tuple, bool]]:
        """Reported features as ``(name, column indices, is_complete_onehot)``, in column order;
        a group stands where its first column stands."""
        grouped = {c: g for g in self.groups for c in g.columns}
        seen: set[str] = set()
        out = []
        for column, name in enumerate(self.feature_names):
            group = grouped.get(column)
            if group is None:
                out.append((name, (column,), False))
            elif group.name not in seen:
                seen.add(group.name)
                out.append((group.name, tuple(group.columns), group.onehot))
        return out

    def membership(self) -> np.ndarray:
        """0/1 matrix (p columns x reported features): sums element terms into feature terms."""
        features = self.features
        matrix = np.zeros((self.shape[-1], len(features)))
        for f, (_, columns, _) in enumerate(features):
            matrix[list(columns), f] = 1.0
        return matrix

    def per_feature(self, values: np.ndarray) -> np.ndarray:
        """Element values ``(n, *shape)`` -> feature sums ``(n, F)``: positions summed, then
        group columns summed (additive quantities such as attributions)."""
        columns = values.reshape(values.shape[0], -1, self.shape[-1]).sum(axis=1)
        return columns @ self.membership() if self.groups else columns

    def feature_values(self, data: np.ndarray) -> np.ndarray:
        """The input value of every single-column tabular feature, ``(n, F)``; NaN for features
        spanning several elements (sequences, groups, tensors, embeddings)."""
        values = np.full((data.shape[0], len(self.features)), np.nan)
        if self.kind == "tabular":
            for f, (_, columns, _) in enumerate(self.features):
                if len(columns) == 1:
                    values[:, f] = data[:, columns[0]]
        return values

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "shape": list(self.shape),
            "feature_names": list(self.feature_names),
            "groups": [{"name": g.name, "columns": list(g.columns), "onehot": g.onehot} for g in self.groups],
        }

    @classmethod
    def from_dict(cls, payload: Mapping[str, Any]) -> InputLayout:
        return cls(
            payload["name"],
            payload["kind"],
            tuple(payload["shape"]),
            tuple(payload["feature_names"]),
            tuple(payload["groups"]),
        )


def normalise(values: np.ndarray, axis: int | None = -1) -> np.ndarray:
    """Scale non-negative values to sum to 100 along ``axis`` (the paper's ``100/C``).

    All-zero slices (an output that does not move at all) stay zero rather than becoming NaN.
    """
    total = values.sum(axis=axis, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, 100.0 * values / np.where(total > 0, total, 1.0), 0.0)


def lag_labels(n_lags: int) -> tuple[str, ...]:
    return tuple("t" if k == 0 else f"t-{k}" for k in range(n_lags))
