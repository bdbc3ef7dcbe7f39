"""The seam between the widgets and the methods: what a dashboard asks of a model.

The explorer controller never touches Keras (or a tree library). It holds a
:class:`ModelExplainers`, two objects that satisfy the protocols below:

* a **row explainer** (:class:`RowExplainer`): ``explain(X)`` makes one pass over the rows and
  returns a per-sample result (:class:`~nbexplain.results.PerSampleResult`) whose
  ``local_importance(row)`` and ``global_importance()`` are lookups, so picking a row costs
  nothing; ``explain(one_edited_row)`` re-explains a what-if edit; ``score(X)`` scores rows.
  For a Keras model this is :class:`~nbexplain.Sensitivity`.
* an **attributor** (:class:`Attributor`): ``explain(X, baseline)`` returns
  :class:`~nbexplain.Attributions` that add up to the score difference from a documented
  baseline (reasons, waterfalls), ``resolve_baseline(baseline, X)`` resolves a baseline once,
  ``compare_populations(A, B)`` averages attributions over pairs; ``with_params(...)`` gives the
  same method with other steps or rule. For a Keras model this is
  :class:`~nbexplain.IntegratedGradients`.

Both describe the score they explain in every result's ``meta["explained"]`` (for example
``"class 'default' probability"``). A tree ensemble, a stack or an additive risk model plugs in
by providing its own pair; the views do not change.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np

from ..results import Attributions, PerSampleResult
from .integrated import IntegratedGradients
from .sensitivity import Sensitivity


@runtime_checkable
class RowExplainer(Protocol):
    """Explains rows in one pass; every per-row view is then a lookup."""

    def explain(self, X: Any) -> PerSampleResult: ...

    def score(self, X: Any) -> np.ndarray: ...

    def with_params(self, **changes: Any) -> Any: ...


@runtime_checkable
class Attributor(Protocol):
    """Additive attributions against documented baselines."""

    def explain(self, X: Any, baseline: Any) -> Attributions: ...

    def score(self, X: Any) -> np.ndarray: ...

    def resolve_baseline(self, baseline: Any, X: Any) -> Any: ...

    def compare_populations(
        self, A: Any, B: Any, max_pairs: int = ..., exact: bool | None = ..., seed: int = ..., labels: Any = ...
    ) -> Attributions: ...

    def with_params(self, **changes: Any) -> Any: ...


class ModelExplainers:
    """What the dashboard needs of one model: its row explainer and its attributor.

    ``loaded`` is False for explainers that load their model on first use (a dashboard opened
    on an explanation bundle): the controller then says so while it waits.
    """

    loaded = True

    def __init__(self, rows: RowExplainer, attributions: Attributor) -> None:
        self._rows = rows
        self._attributions = attributions

    @property
    def rows(self) -> RowExplainer:
        return self._rows

    @property
    def attributions(self) -> Attributor:
        return self._attributions

    @classmethod
    def for_keras(cls, model: Any, **options: Any) -> ModelExplainers:
        """Sensitivities for the rows and Integrated Gradients for reasons and populations, both
        of the score chosen by ``options`` (``target=``, ``labels=``, ``feature_names=`` ...)."""
        return cls(Sensitivity(model, **options), IntegratedGradients(model, tolerance=1e-6, **options))

    @classmethod
    def for_additive(cls, model: Any, *, baseline: Any = None, logit: bool = False) -> ModelExplainers:
        """Exact attributions of a two-layer additive risk model for the rows (against
        ``baseline``: the model's training average by default) and for reasons and populations
        (see :mod:`nbexplain.engine.additive`), of P(Bad), or of its logit with ``logit=True``."""
        from .additive import AdditiveAttributor, AdditiveRowExplainer, check_model

        check_model(model)
        return cls(
            AdditiveRowExplainer(model, baseline=baseline, logit=logit),
            AdditiveAttributor(model, logit=logit),
        )
