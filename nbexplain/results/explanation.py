"""The immutable result every explanation method returns: a small labelled array.

An :class:`Explanation` holds importance ``values`` over named dimensions (``"feature"``,
``"sample"``, ``"lag"``, ``"row"`` ...), the labels of each dimension, and ``meta``: how the
result was made (method, what was explained, data size, parameters, model fingerprint, version),
so that a validator can reproduce it. Optional arrays aligned with ``values`` carry the signed
derivative (direction), the input value and the explained score of each sample.

This module imports no TensorFlow: charts, widgets and reports can use results on their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import NBExplainError, unknown_name
from .serial import array_from_json, dump_json, freeze_mapping, frozen_array, load_typed, to_jsonable

_ALIGNED = ("signed", "data")


@dataclass(frozen=True, eq=False)
class Explanation:
    """Importance values over named dimensions, with the record of how they were made.

    Parameters
    ----------
    values : array
        The importance values, one axis per entry of ``dims``.
    dims : tuple of str
        Names of the axes of ``values``, e.g. ``("feature",)`` or ``("sample", "feature")``.
    coords : mapping
        For each dim, the tuple of its labels (feature names, sample indices, lag labels ...).
    meta : mapping
        How the result was made: ``method``, ``formula``, ``explained``, ``n_samples``,
        ``parameters``, ``model_fingerprint``, ``version`` and method-specific entries.
    signed : array, optional
        Signed derivative aligned with ``values`` (the direction of the effect); NaN where a
        feature has no single direction (a one-hot group, an embedding).
    data : array, optional
        The input value aligned with ``values`` (local explanations).
    score : array, optional
        The explained score (a probability, a logit, a value), one per label of the ``"sample"`` dim.
    """

    values: np.ndarray
    dims: tuple
    coords: Mapping = field(default_factory=dict)
    meta: Mapping = field(default_factory=dict)
    signed: np.ndarray | None = None
    data: np.ndarray | None = None
    score: np.ndarray | None = None

    def __post_init__(self):
        values = frozen_array(self.values, dtype=float)
        dims = tuple(str(d) for d in self.dims)
        if values.ndim != len(dims):
            raise NBExplainError(f"values have {values.ndim} axes but {len(dims)} dims were named: {dims}.")
        coords = {}
        for axis, dim in enumerate(dims):
            labels = self.coords.get(dim) if self.coords else None
            labels = tuple(range(values.shape[axis])) if labels is None else tuple(labels)
            if len(labels) != values.shape[axis]:
                raise NBExplainError(
                    f"dim {dim!r} has {values.shape[axis]} entries but {len(labels)} labels were given."
                )
            coords[dim] = labels
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "dims", dims)
        object.__setattr__(self, "coords", freeze_mapping(coords))
        object.__setattr__(self, "meta", freeze_mapping(self.meta))
        for name in _ALIGNED:
            aligned = getattr(self, name)
            if aligned is not None:
                aligned = frozen_array(aligned, dtype=float)
                if aligned.shape != values.shape:
                    raise NBExplainError(f"{name} has shape {aligned.shape}, values have {values.shape}.")
                object.__setattr__(self, name, aligned)
        if self.score is not None:
            score = frozen_array(self.score, dtype=float)
            if "sample" not in dims or score.shape[0] != len(coords["sample"]):
                raise NBExplainError("score must have one entry per label of the 'sample' dim.")
            object.__setattr__(self, "score", score)

    # ------------------------------------------------------------------ access
    @property
    def feature_names(self) -> tuple:
        """Labels of the ``"feature"`` dim."""
        return self.labels("feature")

    @property
    def shape(self) -> tuple:
        return self.values.shape

    def labels(self, dim: str) -> tuple:
        """Labels of one dim; a clear error when the dim does not exist."""
        if dim not in self.dims:
            raise unknown_name("dimension", dim, self.dims)
        return self.coords[dim]

    def _position(self, dim: str, label) -> int:
        labels = self.labels(dim)
        try:
            return labels.index(label)
        except ValueError:
            raise unknown_name(dim, label, labels) from None

    def _take(self, axis: int, index) -> Explanation:
        """Select along one axis with an int (drops the axis), slice, list or boolean mask."""
        dim = self.dims[axis]
        labels = self.coords[dim]
        positions = np.arange(len(labels))[index]

        def take(array):
            return None if array is None else np.take(array, positions, axis=axis)

        score = self.score
        if score is not None and dim == "sample":
            score = np.take(score, positions, axis=0)
        if np.ndim(positions) == 0:
            dims = self.dims[:axis] + self.dims[axis + 1 :]
            coords = {d: self.coords[d] for d in dims}
            meta = dict(self.meta)
            meta.setdefault("selected", {})
            meta["selected"] = {**meta["selected"], dim: labels[int(positions)]}
            if dim == "sample":
                meta["score_value"] = None if score is None else float(score)
                score = None
            return Explanation(take(self.values), dims, coords, meta, take(self.signed), take(self.data), score)
        coords = dict(self.coords)
        coords[dim] = tuple(labels[i] for i in positions)
        return Explanation(take(self.values), self.dims, coords, self.meta, take(self.signed), take(self.data), score)

    def __getitem__(self, key) -> Explanation:
        """Index the first dim by position; a string selects a feature by name."""
        if isinstance(key, str):
            return self.sel(feature=key)
        return self._take(0, key)

    def sel(self, **selection) -> Explanation:
        """Select by label, e.g. ``exp.sel(feature="PAY_0")`` or ``exp.sel(feature=["A", "B"])``."""
        result = self
        for dim, label in selection.items():
            axis = result.dims.index(dim) if dim in result.dims else None
            if axis is None:
                raise unknown_name("dimension", dim, result.dims)
            if isinstance(label, (list, tuple)):
                result = result._take(axis, [result._position(dim, item) for item in label])
            else:
                result = result._take(axis, result._position(dim, label))
        return result

    # ----------------------------------------------------------- derived views
    def sorted(self, descending: bool = True) -> Explanation:
        """A 1-D explanation ordered by value (largest first by default); ties keep input order."""
        self._require_1d("sorted")
        order = np.argsort(-self.values if descending else self.values, kind="stable")
        return self._take(0, order)

    def top(self, k: int) -> Explanation:
        """The ``k`` largest entries of a 1-D explanation, largest first."""
        return self.sorted()._take(0, slice(0, int(k)))

    def cumulative_share(self) -> Explanation:
        """Share (in %) of the total covered by the top 1, 2, ... entries, in descending order."""
        ordered = self.sorted()
        total = ordered.values.sum()
        share = 100.0 * np.cumsum(ordered.values) / total if total > 0 else np.zeros_like(ordered.values)
        return replace(
            ordered,
            values=share,
            signed=None,
            data=None,
            meta={**self.meta, "view": "cumulative share of importance (%)"},
        )

    def covering(self, share: float = 90.0) -> tuple:
        """Labels of the fewest top entries whose cumulative share reaches ``share`` % (the
        paper's feature selection: keep the features that explain 90 % of the importance)."""
        self._require_1d("covering")
        if not 0 < share <= 100:
            raise NBExplainError(f"share must be a percentage in (0, 100]; got {share}.")
        cumulative = self.cumulative_share()
        k = int(np.searchsorted(cumulative.values, share - 1e-9)) + 1
        return cumulative.labels(self.dims[0])[: min(k, len(cumulative.values))]

    def _require_1d(self, what):
        if self.values.ndim != 1:
            raise NBExplainError(
                f"{what}() needs a 1-D explanation; this one has dims {self.dims}. "
                "Select one entry of the other dims first, e.g. exp[0]."
            )

    # ------------------------------------------------------------- exporting
    def to_frame(self):
        """A pandas DataFrame: one row per entry, one column per dim and per value array.

        A 1-D explanation is indexed by its dim's labels with an ``importance`` column (plus
        ``gradient`` and ``value`` when present).
        """
        import pandas as pd

        columns = {"importance": self.values, "gradient": self.signed, "value": self.data}
        columns = {k: np.asarray(v).reshape(-1) for k, v in columns.items() if v is not None}
        if self.values.ndim == 1:
            return pd.DataFrame(columns, index=pd.Index(self.coords[self.dims[0]], name=self.dims[0]))
        grid = np.meshgrid(*[np.arange(len(self.coords[d])) for d in self.dims], indexing="ij")
        frame = {d: np.asarray(self.coords[d], dtype=object)[g.reshape(-1)] for d, g in zip(self.dims, grid)}
        if self.score is not None:
            frame["score"] = self.score[grid[self.dims.index("sample")].reshape(-1)]
        return pd.DataFrame({**frame, **columns})

    def to_dict(self) -> dict:
        payload = {
            "type": "Explanation",
            "dims": list(self.dims),
            "coords": {d: list(self.coords[d]) for d in self.dims},
            "values": self.values,
            "meta": dict(self.meta),
        }
        for name in (*_ALIGNED, "score"):
            if getattr(self, name) is not None:
                payload[name] = getattr(self, name)
        return to_jsonable(payload)

    def to_json(self, path: str | Path | None = None, **kwargs: Any) -> str:
        """Serialise to JSON (written all-or-nothing to ``path`` when given); :meth:`from_json` reads it back."""
        return dump_json(self.to_dict(), path, **kwargs)

    @classmethod
    def from_dict(cls, payload: Mapping) -> Explanation:
        try:
            optional = {name: array_from_json(payload[name], float) for name in (*_ALIGNED, "score") if name in payload}
            return cls(
                values=array_from_json(payload["values"], float),
                dims=tuple(payload["dims"]),
                coords={d: tuple(v) for d, v in payload["coords"].items()},
                meta=payload.get("meta", {}),
                **optional,
            )
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise NBExplainError(f"The serialised Explanation is incomplete or damaged ({error!r}).") from None

    @classmethod
    def from_json(cls, text_or_path) -> Explanation:
        """Read an explanation written by :meth:`to_json` (a JSON string or a file path)."""
        return cls.from_dict(load_typed(text_or_path, "Explanation"))

    def __repr__(self):
        dims = ", ".join(f"{d}={len(self.coords[d])}" for d in self.dims)
        return f"Explanation({self.meta.get('method', '?')}: {self.meta.get('view', '')} [{dims}])"
