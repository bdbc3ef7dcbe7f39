"""Sensitivity explanations of Keras models (Horel et al. 2018, sections 2.3-2.6).

>>> sens = Sensitivity(model, target=1).explain(X_train)        # doctest: +SKIP
>>> sens.global_importance().sorted().to_frame()                # lambda_j, summing to 100
>>> sens.local_importance(17)                                   # a lookup, no new gradients
>>> sens.lag_importance(), sens.lag_matrix(rows=[3])            # recurrent models
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import row_list
from ..results import Sensitivities
from ._base import GradientExplainer, warn_all


class Sensitivity(GradientExplainer):
    """Sensitivity (gradient) explanations of one score of a Keras model.

    Takes the shared keywords of :class:`~nbexplain.engine.GradientExplainer`. A sequence output
    with ``time_step=None`` is explained at every step (many-to-many, the paper's third
    formula). ``explain(X)`` makes ONE gradient pass; every importance view is read from the
    :class:`~nbexplain.Sensitivities` it returns.
    """

    method = "sensitivity"

    def explain(self, X: Any) -> Sensitivities:
        """One gradient pass over ``X``: a numpy array, DataFrame, tf tensor, or a dict / list of
        them for several inputs."""
        plan = self.plan(X)
        prepared = plan.prepared
        score, gradients = plan.evaluate(prepared.arrays, self.batch_size, self.progress, labels=prepared.sample_labels)
        for array in (score, *gradients.values()):
            array.flags.writeable = False
        layout = self.layout(plan)
        architecture = (
            "many-to-many"
            if plan.resolved.many_to_many
            else "many-to-one"
            if any(s.kind == "sequence" for s in layout)
            else "non-sequential"
        )
        meta = self.meta(plan, architecture=architecture, warnings=_saturation(gradients, prepared.sample_labels))
        warn_all(meta)
        return Sensitivities(
            gradients=gradients,
            data=prepared.arrays,
            score=score,
            layout=layout,
            meta=meta,
            sample_labels=prepared.sample_labels,
        )


def _saturation(gradients: dict, labels: tuple) -> list[str]:
    """A warning when the score does not move at some rows (a zero gradient for every input
    element): their importance is all 0, typically because units are saturated by inputs far
    outside the training range."""
    n = len(labels)
    moving = np.zeros(n, dtype=bool)
    for values in gradients.values():
        moving |= np.any(values.reshape(n, -1) != 0, axis=1)
    still = np.flatnonzero(~moving)
    if not still.size:
        return []
    return [
        f"The explained score has a zero gradient at {still.size} of {n} rows (rows {row_list(still, labels)}): "
        "their importance is 0 everywhere, so a global importance cannot sum to 100 over them. The model's "
        "units are probably saturated: check that these inputs are in the range (and the preprocessing) the "
        "model was trained on."
    ]
