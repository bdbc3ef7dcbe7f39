"""The base of every per-sample result: the explained rows, their scores, the input layout,
sample labels, ``meta`` and a JSON round trip (no pickle).

Every per-sample result answers the two views the widgets read, whatever the method:

* ``local_importance(rows)``: for one row a 1-D :class:`Explanation` over features (``values``
  non-negative, summing to 100; ``signed`` the direction; ``data`` the feature value); for
  several rows a ``("sample", "feature")`` one;
* ``global_importance()``: a 1-D :class:`Explanation` over features, summing to 100.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from .._version import __version__
from ..errors import NBExplainError, unknown_name
from .explanation import Explanation
from .layout import InputLayout
from .serial import array_from_json, dump_json, freeze_arrays, freeze_mapping, frozen_array, load_typed, to_jsonable


@dataclass(frozen=True, eq=False, kw_only=True)
class PerSampleResult:
    """Per-sample results of one method over ``n`` rows.

    Parameters
    ----------
    data : mapping input name -> array ``(n, *input_shape)``
        The explained rows, as the model reads them.
    score : array ``(n,)`` (or ``(n, tau)`` for a sequence output explained at every step)
        The explained score of every row (a probability, a logit, a value).
    layout : tuple of InputLayout
        How each input maps to reported features.
    meta : mapping
        How the result was made (method, what was explained, model fingerprint, version ...).
    sample_labels : tuple or array, optional
        Label of each row (a DataFrame's index); positions by default. An array is kept as it is
        (a bundle's million labels need not become a million Python objects).
    """

    data: Mapping
    score: np.ndarray
    layout: tuple
    meta: Mapping = field(default_factory=dict)
    sample_labels: Any = None  # positions when not given (a tuple or array once built)

    #: Per-input array blocks besides ``data``, serialised with their dtype (None allowed).
    array_blocks: ClassVar[tuple[str, ...]] = ()
    #: Per-sample vectors besides ``score``, with their dtype.
    sample_vectors: ClassVar[Mapping[str, Any]] = {}

    def __post_init__(self) -> None:
        for name in ("data", *self.array_blocks):
            block = getattr(self, name)
            if block is not None:
                object.__setattr__(self, name, freeze_arrays(block))
        object.__setattr__(self, "score", frozen_array(self.score, dtype=float))
        n = int(self.score.shape[0])
        for name, dtype in self.sample_vectors.items():
            vector = frozen_array(np.reshape(getattr(self, name), -1), dtype=dtype)
            if vector.shape != (n,):
                raise NBExplainError(f"{name} has {vector.shape[0]} entries for {n} samples.")
            object.__setattr__(self, name, vector)
        object.__setattr__(self, "layout", tuple(self.layout))
        object.__setattr__(self, "meta", freeze_mapping(self.meta))
        if self.sample_labels is None:
            labels: Any = tuple(range(n))
        elif isinstance(self.sample_labels, np.ndarray):  # a bundle's labels: kept as a (mapped) array
            labels = frozen_array(self.sample_labels)
        else:
            labels = tuple(self.sample_labels)
        if len(labels) != n:
            raise NBExplainError(f"{len(labels)} sample labels for {n} samples.")
        object.__setattr__(self, "sample_labels", labels)
        for spec in self.layout:
            if spec.name not in self.data or self.data[spec.name].shape[0] != n:
                raise NBExplainError(f"data of input {spec.name!r} must have one row per sample ({n}).")

    # ------------------------------------------------------------ structure
    @property
    def n_samples(self) -> int:
        return int(self.score.shape[0])

    @property
    def feature_names(self) -> tuple:
        return tuple(name for spec in self.layout for name, _, _ in spec.features)

    def input_layout(self, input: str | None = None, kind: str | None = None) -> InputLayout:
        """The layout of one input; ``input=None`` picks the only input (of ``kind``, if given)."""
        candidates = [s for s in self.layout if kind is None or s.kind == kind]
        if input is None:
            if len(candidates) == 1:
                return candidates[0]
            what = f"{kind} inputs" if kind else "inputs"
            if not candidates:
                raise NBExplainError(f"The model has no {what}; this view needs one.")
            raise NBExplainError(f"The model has several {what} ({[s.name for s in candidates]}); pass input=NAME.")
        for spec in candidates:
            if spec.name == input:
                return spec
        raise unknown_name(f"{kind or ''} input".strip(), input, [s.name for s in candidates])

    def positions(self, rows: Any = None) -> np.ndarray:
        """Row positions selected by an int, slice, list or mask (all rows for None)."""
        every = np.arange(self.n_samples)
        if rows is None:
            return every
        try:
            selected = np.atleast_1d(every[rows])
        except IndexError:
            raise NBExplainError(
                f"Sample {rows!r} is out of range: the explained data has {self.n_samples} samples "
                f"(positions 0..{self.n_samples - 1})."
            ) from None
        if selected.size == 0:
            raise NBExplainError("No samples selected.")
        return selected

    def feature_data(self, rows: Any = None) -> np.ndarray:
        """The input value of every single-column tabular feature at ``rows``, ``(r, F)``; NaN for
        features that span several elements."""
        positions = self.positions(rows)
        return np.concatenate(
            [spec.feature_values(np.asarray(self.data[spec.name][positions], dtype=float)) for spec in self.layout],
            axis=1,
        )

    def view_meta(self, view: str, formula: str, rows: Any = None, **extra: Any) -> dict:
        """The result's meta with what one view shows and how it was computed."""
        meta = {**self.meta, "view": view, "formula": formula, **extra}
        meta["n_samples"] = self.n_samples if rows is None else len(rows)
        return meta

    # ------------------------------------------------------------ the views
    def per_element(self, row: int) -> dict:
        """``{input: (*input_shape)}``: the row's explanation of every input element (a gradient,
        an attribution)."""
        raise NotImplementedError

    def element_values(self, row: int, elements: Mapping) -> dict:
        """``{column: value}`` of the row's per-element explanation at ``{column: (input, index)}``."""
        values = self.per_element(int(self.positions(row)[0]))
        return {column: float(values[name][tuple(index)]) for column, (name, index) in elements.items()}

    def local_importance(self, rows: Any) -> Explanation:
        raise NotImplementedError

    def global_importance(self) -> Explanation:
        raise NotImplementedError

    def _importance_rows(
        self, rows: Any, values: np.ndarray, signed: np.ndarray, view: str, formula: str, score: np.ndarray
    ) -> Explanation:
        """The local view of ``rows`` from per-row values, signs and scores (one row: 1-D)."""
        single = np.ndim(rows) == 0 and not isinstance(rows, slice)
        positions = self.positions(rows)
        labels = tuple(_plain(self.sample_labels[p]) for p in positions)
        explanation = Explanation(
            values,
            ("sample", "feature"),
            {"sample": labels, "feature": self.feature_names},
            self.view_meta(view, formula, positions, sample_positions=positions.tolist()),
            signed=signed,
            data=self.feature_data(positions),
            score=score,
        )
        return explanation[0] if single else explanation

    # ------------------------------------------------------------- exporting
    def to_dict(self) -> dict:
        payload: dict[str, Any] = {
            "type": type(self).__name__,
            "meta": dict(self.meta),
            "layout": [spec.to_dict() for spec in self.layout],
            "sample_labels": list(self.sample_labels),
            "score": self.score,
            **{name: getattr(self, name) for name in self.sample_vectors},
        }
        for name in ("data", *self.array_blocks):
            block = getattr(self, name)
            payload[name] = (
                None if block is None else {k: {"dtype": str(v.dtype), "values": v} for k, v in block.items()}
            )
        return to_jsonable(payload)

    def to_json(self, path: str | Path | None = None) -> str:
        """Serialise to JSON (written all-or-nothing to ``path`` when given); see :meth:`from_json`."""
        return dump_json(self.to_dict(), path)

    @classmethod
    def from_json(cls, text_or_path: str | Path) -> Any:
        """Read a result written by :meth:`to_json` (a JSON string or a file path)."""
        payload = load_typed(text_or_path, cls.__name__)
        names = {f.name for f in fields(cls)}
        try:
            arguments: dict[str, Any] = {
                "layout": tuple(InputLayout.from_dict(s) for s in payload["layout"]),
                "meta": payload["meta"],
                "sample_labels": tuple(payload["sample_labels"]),
                "score": array_from_json(payload["score"], float),
            }
            for name, dtype in cls.sample_vectors.items():
                arguments[name] = array_from_json(payload[name], dtype)
            for name in ("data", *cls.array_blocks):
                block = payload.get(name)
                arguments[name] = (
                    None if block is None else {k: array_from_json(v["values"], v["dtype"]) for k, v in block.items()}
                )
        except (KeyError, TypeError, ValueError) as error:
            raise NBExplainError(f"The serialised {cls.__name__} is incomplete or damaged ({error!r}).") from None
        return cls(**{k: v for k, v in arguments.items() if k in names})

    def _describe(self) -> str:
        return f"nbexplain {self.meta.get('version', __version__)}"


def _plain(label: Any) -> Any:
    """A label as a plain Python value (a numpy scalar from an array of labels becomes int / str)."""
    return label.item() if isinstance(label, np.generic) else label
