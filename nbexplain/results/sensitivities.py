"""Per-sample sensitivities and the paper's importance formulas (Horel et al. 2018, sections 2.3-2.6).

:class:`Sensitivities` is what one gradient pass over a data set produces: the signed derivative
of the explained output with respect to every input element, for every sample, with the data it
was taken at. Every view is an aggregation of those numbers, so after one pass a local
explanation of any sample is a lookup, not a new gradient computation:

* global importance (2.3), ``lambda_j = 100/C * sqrt(1/n * sum_i (df(x^i)/dx_j)^2)``; for a
  many-to-many recurrent model ``lambda_j = 100/(C tau) * sum_l sqrt(1/T sum_t (dy^{t-l}/dx_j^{t-l})^2)``;
* local importance (2.4), ``lambda_j^0 = 100/C * (df(x^0)/dx_j)^2`` with the signed derivative;
* time-lag importance (2.5), ``gamma_k = 100/(K p) * sum_j sqrt(1/T sum_t (dy^t/dx_j^{t-k})^2)``,
  and the feature x lag matrix behind it, globally or for chosen sequences;
* per-element importance of image-like inputs, aggregated to rows, columns or channels.

A reported feature may span several input elements: the p input sequences of a recurrent model
(each is a vector over lags), a categorical group (2.6), the channels of an image. Such a
feature is treated as ONE vector-valued input ``x_G``: the squared derivative of the formulas is
replaced by the squared Euclidean norm of the gradient block, ``||df/dx_G||^2``, which is what
"sensitivity of the output to the feature" means when the feature is a vector, and reduces to
the paper's formula when the block has one element. For a *complete* one-hot group (every row
has exactly one 1) the gradient is first projected on the directions that keep the encoding a
valid one-hot vector (``sum_j dx_j = 0``), i.e. ``g_G - mean(g_G)``: a constant added to every
dummy's weight shifts all categories alike, cannot change any prediction between valid inputs,
and so must not count as sensitivity. With that projection,
``||g_G - mean(g_G)||^2 = 1/K sum_{a<b} (g_a - g_b)^2`` is the mean squared effect of switching
between categories. Groups that are not complete one-hot encodings (drop-first dummies, any set
of related columns) use the plain norm. A categorical input read by an Embedding layer is
explained through its looked-up vector ``e``: its sensitivity is ``||df/de||^2``, the same
vector rule (the embedding is the continuous representation the network actually uses, 2.6).

This module imports no TensorFlow.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ..errors import NBExplainError, unknown_name
from ._per_sample import PerSampleResult
from .explanation import Explanation
from .importance import ImportanceSums
from .layout import InputLayout, lag_labels, normalise

_TENSOR_DIMS = {3: ("row", "column", "channel"), 2: ("step", "feature")}
#: Rows per block when aggregating, so memory stays bounded for millions of samples.
BLOCK_ROWS = 65_536


@dataclass(frozen=True, eq=False, kw_only=True)
class Sensitivities(PerSampleResult):
    """Signed per-sample derivatives of one explained score, and every importance view of them.

    Parameters
    ----------
    gradients : mapping input name -> array
        ``d y / d x`` per sample: shape ``(n, *input_shape)``; for a many-to-many model (a
        sequence output explained at every step) ``(n, tau_out, *input_shape)``, the full
        jacobian over output steps.
    data, score, layout, meta, sample_labels
        As for every per-sample result (:class:`~nbexplain.results.PerSampleResult`); ``score``
        is ``(n,)``, or ``(n, tau_out)`` for a many-to-many model.
    """

    gradients: Mapping
    array_blocks: ClassVar[tuple[str, ...]] = ("gradients",)

    def __post_init__(self) -> None:
        super().__post_init__()
        n = self.n_samples
        for spec in self.layout:
            expected = (n, *((self.score.shape[1],) if self.many_to_many else ()), *spec.shape)
            if self.gradients[spec.name].shape != expected:
                raise NBExplainError(
                    f"gradients of input {spec.name!r} have shape {self.gradients[spec.name].shape}, "
                    f"expected {expected}."
                )

    @property
    def many_to_many(self) -> bool:
        """True when the output is a sequence explained at every step (paper 2.3, third formula)."""
        return self.score.ndim == 2

    def _step_gradients(self, spec: InputLayout, rows) -> np.ndarray:
        """Float64 copy of ``spec``'s gradients for ``rows`` with an output-step axis,
        ``(r, n_out, *shape)``; complete one-hot groups projected onto the valid (sum-zero)
        directions."""
        g = np.array(self.gradients[spec.name][rows], dtype=np.float64, copy=True)
        if not self.many_to_many:
            g = g[:, None]
        for group in spec.groups:
            if group.onehot:
                columns = list(group.columns)
                g[..., columns] -= g[..., columns].mean(axis=-1, keepdims=True)
        return g

    def _row_blocks(self, rows=None, size=BLOCK_ROWS):
        """Row selections of at most ``size`` rows (slices when all rows), to bound memory."""
        if rows is None:
            return [slice(start, min(start + size, self.n_samples)) for start in range(0, self.n_samples, size)]
        return [rows[start : start + size] for start in range(0, len(rows), size)]

    def _mean_squares(self, spec: InputLayout, rows=None) -> np.ndarray:
        """Mean over ``rows`` of the squared (projected) gradient of every element, ``(n_out, *shape)``,
        accumulated in float64 blocks."""
        total: Any = 0.0
        for block in self._row_blocks(rows):
            g = self._step_gradients(spec, block)
            np.multiply(g, g, out=g)
            total = total + g.sum(axis=0)
        return total / (self.n_samples if rows is None else len(rows))

    def _collapse(self, spec: InputLayout, terms: np.ndarray) -> np.ndarray:
        """Element terms ``(..., n_out, *shape)`` -> feature terms ``(..., n_out, F)``.

        Sums a feature's elements (its columns and positions); for sequence inputs of a
        many-to-many model keeps only the contemporaneous derivative ``dy^s/dx^s`` (the diagonal
        of the step jacobian), exactly as the paper's third formula. Linear, so it serves squared
        terms and signed derivatives alike.
        """
        if self.many_to_many and spec.kind == "sequence":
            terms = np.moveaxis(np.diagonal(terms, axis1=-3, axis2=-2), -1, -2)
        elif len(spec.shape) > 1:
            terms = terms.reshape(*terms.shape[: -len(spec.shape)], -1, spec.shape[-1]).sum(axis=-2)
        if not spec.groups:
            return terms
        return terms @ spec.membership()

    def _local_terms(self, rows):
        """Per-row squared sensitivity ``||df/dx_G||^2`` ``(r, n_out, F)`` and signed derivative ``(r, F)``.

        The signed value is the derivative along raising every element of the feature by one (the
        plain partial for a single column); NaN for a complete one-hot group, whose elements cannot
        all rise together.
        """
        squared, signed = [], []
        for spec in self.layout:
            # the projection only alters complete one-hot columns, whose signed value is NaN anyway
            g = self._step_gradients(spec, rows)
            squared.append(self._collapse(spec, g * g))
            signed.append(self._with_onehot_nan(spec, self._collapse(spec, g).mean(axis=1)))
        return np.concatenate(squared, axis=-1), np.concatenate(signed, axis=-1)

    @staticmethod
    def _with_onehot_nan(spec, signed):
        """No single direction exists for a complete one-hot group or an embedding vector."""
        for f, (_, _, onehot) in enumerate(spec.features):
            if onehot or spec.kind == "embedding":
                signed[..., f] = np.nan
        return signed

    # ---------------------------------------------------------------- views
    def per_element(self, row: int) -> dict:
        """The row's gradient of every input element (averaged over output steps when many-to-many)."""
        return {
            name: np.asarray(g[row], dtype=float).mean(axis=0) if self.many_to_many else np.asarray(g[row], dtype=float)
            for name, g in self.gradients.items()
        }

    def global_importance(self) -> Explanation:
        """Global importance ``lambda_j`` of every reported feature, summing to 100 (paper 2.3).

        ``lambda_j = 100/C sqrt(1/n sum_i ||df(x^i)/dx_j||^2)``; for a many-to-many model the
        root mean square is taken per output step ``s`` of ``dy^s/dx_j^s`` and averaged over the
        steps. ``signed`` holds the mean signed derivative over the data.
        """
        terms = np.concatenate([self._collapse(spec, self._mean_squares(spec)) for spec in self.layout], axis=-1)
        values = normalise(np.sqrt(terms).mean(axis=0))
        signed = []
        for spec in self.layout:
            mean_gradient = self.gradients[spec.name].mean(axis=0, dtype=np.float64)
            mean_gradient = mean_gradient if self.many_to_many else mean_gradient[None]
            signed.append(self._with_onehot_nan(spec, self._collapse(spec, mean_gradient).mean(axis=0)))
        formula = (
            "lambda_j = 100/(C tau) sum_l sqrt(1/T sum_t (dy^{t-l}/dx_j^{t-l})^2)"
            if self.many_to_many
            else "lambda_j = 100/C sqrt(1/n sum_i (df(x^i)/dx_j)^2)"
        )
        return Explanation(
            values,
            ("feature",),
            {"feature": self.feature_names},
            self.view_meta("global importance", formula),
            signed=np.concatenate(signed),
        )

    def importance_sums(self) -> ImportanceSums:
        """The sums :meth:`global_importance` is made of (per output step, the sum over rows of
        each feature's squared derivative, and of its signed derivative; the row count), to combine
        with other parts' (:class:`~nbexplain.results.importance.ImportanceSums`)."""
        squares, signed, undirected = [], [], []
        for spec in self.layout:
            total: Any = 0.0
            for block in self._row_blocks():
                g = self._step_gradients(spec, block)
                np.multiply(g, g, out=g)
                total = total + g.sum(axis=0)
            squares.append(self._collapse(spec, total))
            gradient = self.gradients[spec.name].sum(axis=0, dtype=np.float64)
            signed.append(self._collapse(spec, gradient if self.many_to_many else gradient[None]))
            undirected.append(np.isnan(self._with_onehot_nan(spec, np.zeros(len(spec.features)))))
        meta = {k: v for k, v in self.meta.items() if k not in ("view", "formula", "n_samples")}
        return ImportanceSums(
            "rms",
            self.feature_names,
            np.concatenate(squares, axis=-1),
            np.concatenate(signed, axis=-1),
            self.n_samples,
            np.concatenate(undirected),
            meta,
        )

    def local_importance(self, rows) -> Explanation:
        """Local importance ``lambda_j^0 = 100/C (df(x^0)/dx_j)^2`` at one or several samples (paper 2.4).

        ``rows`` are positions in the explained data: an int gives a 1-D explanation over
        features, a list / slice / mask gives ``("sample", "feature")``. Each sample's values
        sum to 100; ``signed`` holds the signed derivative (direction), ``data`` the feature
        value, ``score`` the explained score. This is a lookup in the stored gradients.
        """
        positions = self.positions(rows)
        squared, signed = self._local_terms(positions)
        score = self.score[positions]
        score = score[:, -1] if score.ndim == 2 else score
        return self._importance_rows(
            rows,
            normalise(squared.mean(axis=1)),
            signed,
            "local importance",
            "lambda_j^0 = 100/C (df(x^0)/dx_j)^2",
            score,
        )

    def lag_matrix(self, rows=None, input=None) -> Explanation:
        """Feature x lag matrix ``M[j, k] = sqrt(1/T sum_t (dy^t/dx_j^{t-k})^2)`` (the lag heatmap).

        Lag ``k`` counts back from the explained step (the last input step, or ``time_step`` when
        one output step was chosen). For a many-to-many model the matrix is averaged over output
        steps ``s`` of ``dy^s/dx_j^{s-k}`` (lags that reach before the sequence start are left
        out of that average). ``rows=None`` is global; rows give the local matrix.
        """
        spec = self.input_layout(input, kind="sequence")
        positions = None if rows is None else self.positions(rows)
        rms = np.sqrt(self._mean_squares(spec, positions))  # (n_out, tau_in, p)
        if self.many_to_many:
            n_out = rms.shape[0]
            lagged = np.stack(
                [np.mean([rms[s, s - k] for s in range(k, n_out)], axis=0) for k in range(n_out)]
            )  # (lags, p)
        else:
            steps = np.arange(self.reference_step(spec.shape[0]), -1, -1)  # lag k <- step reference - k
            lagged = rms[0, steps]  # (lags, p)
        features = spec.features
        matrix = np.stack([np.sqrt((lagged[:, list(cols)] ** 2).sum(axis=1)) for _, cols, _ in features], axis=0)
        return Explanation(
            matrix,
            ("feature", "lag"),
            {"feature": tuple(f[0] for f in features), "lag": lag_labels(matrix.shape[1])},
            self.view_meta(
                "feature x lag sensitivity", "M[j,k] = sqrt(1/T sum_t (dy^t/dx_j^{t-k})^2)", positions, input=spec.name
            ),
        )

    def lag_importance(self, rows=None, input=None) -> Explanation:
        """Time-lag importance ``gamma_k = 100/(K p) sum_j M[j, k]`` summing to 100 (paper 2.5)."""
        matrix = self.lag_matrix(rows, input)
        gamma = normalise(matrix.values.mean(axis=0))
        meta = {
            **matrix.meta,
            "view": "time-lag importance",
            "formula": "gamma_k = 100/(K p) sum_j sqrt(1/T sum_t (dy^t/dx_j^{t-k})^2)",
        }
        return Explanation(gamma, ("lag",), {"lag": matrix.labels("lag")}, meta)

    def reference_step(self, tau_in: int) -> int:
        """The input step that lag 0 refers to: the chosen output time step, else the last step."""
        step = self.meta.get("time_step")
        if step is None:
            return tau_in - 1
        step = int(step) % tau_in if step < 0 else int(step)
        return min(step, tau_in - 1)

    def element_importance(self, input=None, by=None) -> Explanation:
        """Importance of every element of an image-like input, summing to 100.

        Element ``e``: ``100/C sqrt(1/n sum_i (df(x^i)/dx_e)^2)``. ``by="row"``, ``"column"`` or
        ``"channel"`` (any dim name of the input) aggregates with the same vector rule as every
        multi-element feature: the root sum of squares over the other dims, then normalised.
        """
        spec = self.input_layout(input, kind="tensor") if input is None else self.input_layout(input)
        rms = np.sqrt(self._mean_squares(spec)).mean(axis=0)  # (*shape)
        dims = _TENSOR_DIMS.get(len(spec.shape), tuple(f"axis{i}" for i in range(len(spec.shape))))
        coords = {d: tuple(range(s)) for d, s in zip(dims, spec.shape)}
        coords[dims[-1]] = spec.feature_names
        formula = "lambda_e = 100/C sqrt(1/n sum_i (df(x^i)/dx_e)^2)"
        if by is None:
            return Explanation(
                normalise(rms, axis=None), dims, coords, self.view_meta("element importance", formula, input=spec.name)
            )
        if by not in dims:
            raise unknown_name("dimension", by, dims)
        axis = dims.index(by)
        other = tuple(a for a in range(len(dims)) if a != axis)
        aggregated = np.sqrt((rms**2).sum(axis=other))
        return Explanation(
            normalise(aggregated),
            (by,),
            {by: coords[by]},
            self.view_meta(
                f"importance by {by}",
                "sqrt(sum of squared element terms), normalised",
                input=spec.name,
                aggregated_by=by,
            ),
        )

    # ------------------------------------------------------------- exporting
    def to_frame(self):
        """Signed per-sample derivatives as a wide DataFrame: one row per sample, one column per
        input element (``feature`` for tabular inputs, ``feature[t-k]`` for sequences,
        ``feature[i,j]`` for tensors, prefixed by ``y[s]:`` for many-to-many steps)."""
        import pandas as pd

        blocks, names = [], []
        for spec in self.layout:
            g = self.gradients[spec.name]
            blocks.append(g.reshape(self.n_samples, -1))
            names.extend(_element_names(spec, g.shape[1] if self.many_to_many else None, self.reference_step))
        frame = pd.DataFrame(
            np.concatenate(blocks, axis=1), columns=names, index=pd.Index(self.sample_labels, name="sample")
        )
        return frame

    def __repr__(self):
        kind = "many-to-many" if self.many_to_many else "one output"
        return (
            f"Sensitivities({self.n_samples} samples, {len(self.feature_names)} features, {kind}, "
            f"explained={self.meta.get('explained')!r}, {self._describe()})"
        )


def _element_names(spec: InputLayout, n_out, reference_step) -> list:
    """Column names for a flattened gradient block of one input."""
    if spec.kind == "tabular":
        base = list(spec.feature_names)
    elif spec.kind == "sequence":
        tau = spec.shape[0]
        base = [
            f"{f}[{'t' if reference_step(tau) == s else f't{s - reference_step(tau):+d}'}]"
            for s in range(tau)
            for f in spec.feature_names
        ]
    else:
        base = [f"{spec.feature_names[idx[-1]]}[{','.join(map(str, idx[:-1]))}]" for idx in np.ndindex(*spec.shape)]
    if n_out is None:
        return base
    return [f"y[{s}]:{name}" for s in range(n_out) for name in base]
