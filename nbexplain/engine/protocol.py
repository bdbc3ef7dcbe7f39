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
by providing its own pair; the views do not change: :meth:`ModelExplainers.for_trees` pairs
Generalized Integrated Gradients (the attributor) with the same method against one fixed,
recorded baseline (the row explainer, :class:`FixedBaselineRows`).
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np

from ..model.artifact import ModelArtifact
from ..results import Attributions, PerSampleResult
from ._base import Parameters
from .baselines import AverageInput
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
        return cls(Sensitivity(model, **options), IntegratedGradients(model, **{"tolerance": 1e-6, **options}))

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

    @classmethod
    def for_artifact(cls, artifact: ModelArtifact, **options: Any) -> ModelExplainers:
        """The explainers of a saved model (:class:`~nbexplain.model.artifact.ModelArtifact`):
        :meth:`for_keras` for a network, :meth:`for_trees` for a tree model or a stack, with the
        options the artifact records (``options`` add to them)."""
        recorded = {**artifact.explainer_options(), **options}
        if artifact.kind == "keras":
            return cls.for_keras(artifact.model, **recorded)
        return cls.for_trees(artifact.model, **recorded)

    @classmethod
    def for_trees(cls, model: Any, baseline: Any = None, **options: Any) -> ModelExplainers:
        """Generalized Integrated Gradients for a tree model or a stack (``options``: ``target=``,
        ``output=``, ``steps=`` ... of :class:`~nbexplain.engine.GeneralizedIntegratedGradients`),
        for reasons and populations, and for the rows against ``baseline`` (default: the average
        input of the first rows explained, resolved once and recorded in every result)."""
        from .generalized import GeneralizedIntegratedGradients

        attributor = GeneralizedIntegratedGradients(model, **options)
        return cls(FixedBaselineRows(attributor, baseline), attributor)


def attributor_for(artifact: ModelArtifact, **options: Any) -> Any:
    """The attributor of reasons and populations for a saved model: Integrated Gradients for a
    network, Generalized Integrated Gradients for a tree model or a stack (``options``: ``steps``,
    ``rule``, ``tolerance`` ... shared by both)."""
    recorded = {**artifact.explainer_options(), **options}
    if artifact.kind == "keras":
        return IntegratedGradients(artifact.model, **recorded)
    from .generalized import GeneralizedIntegratedGradients

    return GeneralizedIntegratedGradients(artifact.model, **recorded)


class FixedBaselineRows(Parameters):
    """A row explainer from an attributor: every row explained against ONE baseline.

    ``baseline`` is resolved once, on the first :meth:`explain` (``None``: the average input of
    those rows), and kept, so that re-explaining an edited row answers against the same point;
    copies made by :meth:`with_params` share it. ``local_importance(row)`` and
    ``global_importance()`` of the result are then lookups.
    """

    def __init__(self, attributor: Any, baseline: Any = None) -> None:
        self.attributor = attributor
        self.baseline = baseline
        self._resolved: Any = None

    def explain(self, X: Any) -> Attributions:
        if self._resolved is None:
            chosen = AverageInput(X) if self.baseline is None else self.baseline
            self._resolved = self.attributor.resolve_baseline(chosen, X)
        return self.attributor.explain(X, self._resolved)

    def score(self, X: Any) -> np.ndarray:
        return self.attributor.score(X)

    @property
    def resolved_baseline(self) -> Any:
        """The baseline every row is explained against, once resolved (None before the first
        :meth:`explain`): what an explanation bundle records, so that a what-if edit answered
        later is explained against the same point."""
        return self._resolved

    def with_params(self, **changes: Any) -> FixedBaselineRows:
        """The same rows with the attributor's parameters changed (e.g. ``progress=False``)."""
        own = {name: changes.pop(name) for name in ("attributor", "baseline") if name in changes}
        attributor = own.get("attributor", self.attributor)
        copy = FixedBaselineRows(
            attributor.with_params(**changes) if changes else attributor, own.get("baseline", self.baseline)
        )
        if "baseline" not in own:
            copy._resolved = self._resolved
        return copy
