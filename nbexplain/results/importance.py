"""Global importance over data that does not fit in memory: sums that combine exactly.

A per-sample result's ``global_importance()`` needs every row at once. Its formulas are means,
so the same numbers come from sums and a count gathered part by part (a file's chunks, a
cluster's partitions) and added up afterwards:

* attributions (Integrated Gradients, Generalized IG): ``lambda_j = 100 mean_i |A_j| / C`` from
  ``sum_i |A_j(x^i)|``, ``sum_i A_j(x^i)`` (the signed mean) and ``n``;
* sensitivities (paper 2.3): ``lambda_j = 100/C sqrt(1/n sum_i (df/dx_j)^2)`` from the sum of
  squared derivatives per output step, the sum of the derivatives and ``n``.

:class:`ImportanceSums` holds one part's sums (``result.importance_sums()``); ``a + b`` combines
two parts (the sums add, nothing is averaged twice), :meth:`~ImportanceSums.explanation` gives
the :class:`~nbexplain.results.Explanation` that ``global_importance()`` of all the rows at once
gives (equal up to the order of floating-point additions), and :meth:`~ImportanceSums.to_dict`
/ :meth:`~ImportanceSums.from_dict` carry it through JSON (a manifest, a worker's answer).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import NBExplainError
from .explanation import Explanation
from .layout import normalise
from .serial import array_from_json, freeze_mapping, frozen_array, to_jsonable

#: The two ways a global importance is a mean: of absolute attributions, or a root mean square.
KINDS = {
    "mean_abs": (
        "global importance (mean absolute attribution)",
        "lambda_j = 100 mean_i |A_j(x^i)| / sum_k mean_i |A_k(x^i)|",
    ),
    "rms": ("global importance", "lambda_j = 100/C sqrt(1/n sum_i (df(x^i)/dx_j)^2)"),
}


@dataclass(frozen=True, eq=False)
class ImportanceSums:
    """Sums over ``count`` rows from which a global importance is computed exactly.

    Parameters
    ----------
    kind : ``"mean_abs"`` (attributions) or ``"rms"`` (sensitivities)
    features : tuple of str
        The reported features, in order.
    sums : array
        ``(F,)``: the sum of ``|A_j|`` (``mean_abs``); ``(n_out, F)``: the sum of the squared
        derivatives per output step (``rms``).
    signed_sums : array
        The sum of the signed values (attributions or derivatives), same shape as ``sums``.
    count : int
        Rows summed.
    undirected : array of bool, optional
        ``(F,)``: features with no single direction (a one-hot group, an embedding): their
        signed value is NaN.
    meta : mapping
        The result's meta (method, baseline, model fingerprint ...), kept from the first part.
    """

    kind: str
    features: tuple
    sums: np.ndarray
    signed_sums: np.ndarray
    count: int
    undirected: np.ndarray | None = None
    meta: Mapping = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise NBExplainError(f"kind is one of {sorted(KINDS)}; got {self.kind!r}.")
        object.__setattr__(self, "features", tuple(str(f) for f in self.features))
        sums, signed = frozen_array(self.sums, dtype=float), frozen_array(self.signed_sums, dtype=float)
        if self.kind == "mean_abs":
            expected: tuple = (len(self.features),)
        else:
            expected = (sums.shape[0] if sums.ndim == 2 else -1, len(self.features))
        if sums.shape != expected or signed.shape != expected:
            raise NBExplainError(f"sums of shape {sums.shape} and {signed.shape} for {len(self.features)} features.")
        object.__setattr__(self, "sums", sums)
        object.__setattr__(self, "signed_sums", signed)
        object.__setattr__(self, "count", int(self.count))
        if self.undirected is not None:
            object.__setattr__(self, "undirected", frozen_array(self.undirected, dtype=bool))
        object.__setattr__(self, "meta", freeze_mapping(self.meta))

    @classmethod
    def empty(cls, kind: str, features: Iterable, outputs: int = 1, meta: Mapping | None = None) -> ImportanceSums:
        """No rows yet (``outputs``: output steps of an ``rms`` sum)."""
        features = tuple(features)
        shape = (len(features),) if kind == "mean_abs" else (int(outputs), len(features))
        return cls(kind, features, np.zeros(shape), np.zeros(shape), 0, meta=meta or {})

    def __add__(self, other: ImportanceSums) -> ImportanceSums:
        if not isinstance(other, ImportanceSums):
            return NotImplemented
        if (other.kind, other.features) != (self.kind, self.features) or other.sums.shape != self.sums.shape:
            raise NBExplainError(
                f"Importance sums of different results cannot be combined: {self.kind} over {len(self.features)} "
                f"features {self.sums.shape} and {other.kind} over {len(other.features)} {other.sums.shape}."
            )
        if self.count == 0:
            return other
        if other.count == 0:
            return self
        return ImportanceSums(
            self.kind,
            self.features,
            self.sums + other.sums,
            self.signed_sums + other.signed_sums,
            self.count + other.count,
            self.undirected if self.undirected is not None else other.undirected,
            self.meta,
        )

    @classmethod
    def combine(cls, parts: Iterable[ImportanceSums]) -> ImportanceSums:
        """The sums of many parts, each element added with :func:`math.fsum` (correctly rounded,
        whatever the order of the parts)."""
        parts = [p for p in parts if p is not None]
        if not parts:
            raise NBExplainError("No importance sums to combine.")
        first = parts[0]
        for part in parts[1:]:
            if (part.kind, part.features, part.sums.shape) != (first.kind, first.features, first.sums.shape):
                raise NBExplainError("Importance sums of different results cannot be combined.")
        sums = np.array([math.fsum(v) for v in np.stack([p.sums.ravel() for p in parts], axis=1)])
        signed = np.array([math.fsum(v) for v in np.stack([p.signed_sums.ravel() for p in parts], axis=1)])
        directed = next((p.undirected for p in parts if p.undirected is not None), None)
        meta = next((p.meta for p in parts if p.count), first.meta)
        return cls(
            first.kind,
            first.features,
            sums.reshape(first.sums.shape),
            signed.reshape(first.sums.shape),
            sum(p.count for p in parts),
            directed,
            meta,
        )

    # ------------------------------------------------------------------ views
    def means(self) -> np.ndarray:
        """``mean_i |A_j|`` (``mean_abs``) or the root mean square ``sqrt(1/n sum_i (df/dx_j)^2)``
        averaged over output steps (``rms``), per feature, before normalising."""
        if self.count == 0:
            raise NBExplainError("No rows were summed: there is no global importance of nothing.")
        if self.kind == "mean_abs":
            return self.sums / self.count
        return np.sqrt(self.sums / self.count).mean(axis=0)

    def signed(self) -> np.ndarray:
        """The mean signed attribution (or derivative) per feature; NaN where undirected."""
        signed = self.signed_sums / max(self.count, 1)
        if self.kind == "rms":
            signed = signed.mean(axis=0)
        if self.undirected is not None:
            signed = np.where(self.undirected, np.nan, signed)
        return signed

    def explanation(self) -> Explanation:
        """The global importance of all the summed rows, as ``global_importance()`` gives it."""
        view, formula = KINDS[self.kind]
        meta = {**self.meta, "view": view, "formula": formula, "n_samples": self.count}
        return Explanation(
            normalise(self.means()), ("feature",), {"feature": self.features}, meta, signed=self.signed()
        )

    def to_frame(self):
        """One row per feature: ``importance`` (shares summing to 100), ``mean`` (mean |A| or
        root mean square), ``signed`` and ``rows``."""
        import pandas as pd

        return pd.DataFrame(
            {
                "feature": list(self.features),
                "importance": normalise(self.means()),
                "mean_abs" if self.kind == "mean_abs" else "rms": self.means(),
                "signed": self.signed(),
                "rows": self.count,
            }
        )

    # ------------------------------------------------------------------ JSON
    def to_dict(self) -> dict:
        """Plain JSON types (the sums keep every digit: Python writes floats exactly)."""
        return to_jsonable(
            {
                "kind": self.kind,
                "features": list(self.features),
                "sums": self.sums,
                "signed_sums": self.signed_sums,
                "count": self.count,
                "undirected": None if self.undirected is None else self.undirected,
                "meta": dict(self.meta),
            }
        )

    @classmethod
    def from_dict(cls, payload: Mapping[str, Any]) -> ImportanceSums:
        undirected = payload.get("undirected")
        return cls(
            payload["kind"],
            tuple(payload["features"]),
            array_from_json(payload["sums"], float),
            array_from_json(payload["signed_sums"], float),
            int(payload["count"]),
            None if undirected is None else np.asarray(undirected, dtype=bool),
            payload.get("meta") or {},
        )
