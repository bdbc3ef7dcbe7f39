"""Global views of the model: importance bars, the feature-selection curve, other methods."""

from __future__ import annotations

import html

from ..charts import ComparisonBars, CumulativeCurve, ImportanceBars
from ..charts.importance import comparison_frame
from ._export import ExportBar
from ._view import View

#: File name stems of the three views' downloads.
STEMS = {
    "importance": "global-importance",
    "selection curve": "feature-selection-curve",
    "comparison": "importance-comparison",
}


class GlobalView(View):
    """A toggle between the global importance ``lambda_j``, the cumulative share of the top k
    features (with the ``share`` line, the k it selects and, when a retrain experiment ran, the
    test error against k), and the side-by-side comparison with other importances."""

    def __init__(self, controller, top: int = 15, share: float = 90.0, errors=None):
        import ipywidgets

        super().__init__(controller, errors)
        importance = controller.global_importance
        n_features = len(importance.feature_names)
        self.bars = ImportanceBars(
            importance,
            top=min(top, n_features),
            title=f"global importance over {controller.n_rows:,} rows (sums to 100)",
        )
        self.curve = CumulativeCurve(title="feature selection: cumulative importance")
        self.share = ipywidgets.IntSlider(
            value=int(share),
            min=50,
            max=100,
            step=5,
            description="share %",
            continuous_update=False,
            layout={"width": "260px"},
        )
        self.selected = ipywidgets.HTML()
        self.views = {
            "importance": self.bars.figure,
            "selection curve": ipywidgets.VBox([self.curve.figure, self.share, self.selected]),
        }
        self.charts = {"importance": self.bars, "selection curve": self.curve}
        self.comparison = None
        comparisons = controller.comparisons
        if comparisons:
            self.comparison = ComparisonBars(
                {str(importance.meta.get("method", "this model")): importance, **dict(comparisons)},
                top=min(12, n_features),
                title=f"{importance.meta.get('method', 'importance')} beside other methods",
            )
            self.views["comparison"] = self.comparison.figure
            self.charts["comparison"] = self.comparison
        self.mode = ipywidgets.ToggleButtons(
            options=list(self.views), value="importance", style={"button_width": "120px"}
        )
        self.stage = ipywidgets.Box([self.bars.figure], layout={"width": "100%"})
        self.mode.observe(self.errors.guard(self._switch), names="value")
        self.share.observe(self.errors.guard(lambda _: self._draw_curve()), names="value")
        self._draw_curve()
        self.export = ExportBar(
            lambda: self.charts[self.mode.value], lambda: STEMS[self.mode.value], {"CSV": self.table}, self.errors
        )
        self._compose(ipywidgets.HTML("<b>The model as a whole</b>"), self.mode, self.export.widget, self.stage)
        self.widget.add_class("nbexplain-global")

    def table(self):
        """The table of the view shown: the global importance (largest first), the cumulative
        share of the top k (with the test error against k when a retrain experiment ran), or
        the compared importances side by side; each from the results' ``to_frame()``."""
        mode = self.mode.value
        importance = self.controller.global_importance
        if mode == "importance":
            frame = importance.sorted().to_frame()
        elif mode == "selection curve":
            frame = importance.cumulative_share().to_frame()
            frame.insert(0, "k", range(1, len(frame) + 1))
            errors = {int(k): float(v) for k, v in self.controller.data.selection_errors.items()}
            if errors:
                frame["test_error"] = [errors.get(k) for k in frame["k"]]
        else:
            frame = comparison_frame(self.comparison.explanations)
        return frame, f"{STEMS[mode]}.csv"

    def _switch(self, change):
        self.stage.children = [self.views[change["new"]]]

    def _draw_curve(self):
        errors = {int(k): float(v) for k, v in self.controller.data.selection_errors.items()}
        self.curve.share = float(self.share.value)
        self.curve.update(self.controller.global_importance, errors=errors or None)
        chosen = self.controller.global_importance.covering(self.curve.share)
        note = "" if errors else " Run a retrain experiment to see the test error against k."
        self.selected.value = (
            f"The top <b>{len(chosen)}</b> features cover {self.curve.share:g} % of the "
            f"importance: {html.escape(', '.join(chosen))}.{note}"
        )
