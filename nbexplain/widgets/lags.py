"""Feature x lag heatmap of a recurrent model: over all rows or for the picked sequence."""

from __future__ import annotations

from ..charts import LagHeatmap
from ..errors import NBExplainError
from ._view import View


class LagView(View):
    """The lag matrix ``M[j, k]`` and the lag importance ``gamma_k``, over all rows or at the
    picked row (a lookup, or the what-if row's fresh gradient)."""

    def __init__(self, controller, errors=None):
        import ipywidgets

        if not controller.recurrent:
            raise NBExplainError(
                "The lag view needs a recurrent model with a sequence input; this model "
                "has none. Use the local and global views instead."
            )
        super().__init__(controller, errors)
        self.chart = LagHeatmap(*controller.global_lags())
        self.scope = ipywidgets.ToggleButtons(
            options=[("all rows", "global"), ("picked row", "local")], value="global", style={"button_width": "110px"}
        )
        self.scope.observe(self.errors.guard(lambda _: self._draw()), names="value")
        self._observe(lambda _: self._draw() if self.scope.value == "local" else None, names="sample")
        self._compose(ipywidgets.HTML("<b>How far back the model looks</b>"), self.scope, self.chart.figure)
        self.widget.add_class("nbexplain-lags")

    def _draw(self):
        if self.scope.value == "global":
            self.chart.update(*self.controller.global_lags())
        else:
            sample = self.controller.sample
            self.chart.update(sample.lag_matrix, sample.lag_importance)
