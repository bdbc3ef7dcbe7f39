"""Feature x lag heatmap of a recurrent model: over all rows or for the picked sequence."""

from __future__ import annotations

from ..charts import LagHeatmap
from ..errors import NBExplainError
from ._export import ExportBar
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
        self.shown = controller.global_lags()
        self.chart = LagHeatmap(*self.shown)
        self.scope = ipywidgets.ToggleButtons(
            options=[("all rows", "global"), ("picked row", "local")], value="global", style={"button_width": "110px"}
        )
        self.scope.observe(self.errors.guard(lambda _: self._draw()), names="value")
        self._observe(lambda _: self._draw() if self.scope.value == "local" else None, names="sample")
        self.export = ExportBar(
            self.chart,
            self.file_stem,
            {"CSV heatmap": lambda: self.table(0), "CSV by lag": lambda: self.table(1)},
            self.errors,
        )
        self._compose(
            ipywidgets.HTML("<b>How far back the model looks</b>"), self.scope, self.export.widget, self.chart.figure
        )
        self.widget.add_class("nbexplain-lags")

    def file_stem(self) -> str:
        """``lags-all-rows``, or ``lags-row-17`` for the picked row."""
        if self.scope.value == "global":
            return "lags-all-rows"
        sample = self.controller.sample
        return f"lags-row-{sample.position}{'-what-if' if sample.edited else ''}"

    def table(self, which: int):
        """The lag matrix (``which=0``) or the lag importance (``1``) drawn now (``to_frame()``)."""
        return self.shown[which].to_frame(), f"{self.file_stem()}-{('heatmap', 'by-lag')[which]}.csv"

    def _draw(self):
        if self.scope.value == "global":
            shown = self.controller.global_lags()
        else:
            sample = self.controller.sample
            shown = (sample.lag_matrix, sample.lag_importance)
        self.chart.update(*shown)
        self.shown = shown
