"""The picked row's local importance, with its prediction beside it."""

from __future__ import annotations

import html

from ..charts import ImportanceBars
from ..charts.importance import format_number
from ._export import ExportBar
from ._view import View


class LocalView(View):
    """Sorted horizontal bars of ``lambda_j^0`` at the picked (or edited) row, top k adjustable;
    colour is the signed gradient, labels carry the raw feature value, the tooltip the
    importance and the gradient. The panel beside it gives the prediction and the true outcome."""

    def __init__(self, controller, top: int = 10, errors=None):
        import ipywidgets

        super().__init__(controller, errors)
        n_features = len(controller.global_importance.feature_names)
        self.chart = ImportanceBars(controller.sample.local, top=min(top, n_features), title="local importance (%)")
        self.top = ipywidgets.IntSlider(
            value=min(top, n_features),
            min=1,
            max=n_features,
            description="top k",
            continuous_update=False,
            layout={"width": "260px"},
        )
        self.summary = ipywidgets.HTML(layout={"flex": "1 1 200px", "min_width": "200px", "max_width": "260px"})
        self.summary.add_class("nbexplain-prediction")
        self.top.observe(
            self.errors.guard(lambda change: self.chart.update(self.controller.sample.local, top=change["new"])),
            names="value",
        )
        self._observe(self._render, names="sample")
        self._describe(controller.sample)
        legend = ipywidgets.HTML(
            '<span style="color:#c0392b">&#9632;</span> raises the output &nbsp; '
            '<span style="color:#2e6da4">&#9632;</span> lowers it'
        )
        self.export = ExportBar(self.chart, self.file_stem, {"CSV": self.table}, self.errors)
        controls = ipywidgets.HBox([self.top, legend], layout={"flex_flow": "row wrap"})
        # the prediction beside the chart where the panel is wide enough for both, else below it
        self._compose(
            ipywidgets.HBox(
                [
                    ipywidgets.VBox(
                        [self.chart.figure, controls, self.export.widget],
                        layout={"flex": "2 1 360px", "min_width": "300px"},
                    ),
                    self.summary,
                ],
                layout={"flex_flow": "row wrap"},
            )
        )
        self.widget.add_class("nbexplain-local")

    def file_stem(self) -> str:
        """``local-importance-row-17`` (``-what-if`` for an edited row)."""
        sample = self.controller.sample
        return f"local-importance-row-{sample.position}{'-what-if' if sample.edited else ''}"

    def table(self):
        """The shown row's local importance, every feature, largest first (``to_frame()``)."""
        return self.controller.sample.local.sorted().to_frame(), f"{self.file_stem()}.csv"

    def _render(self, change):
        sample = change["new"]
        self.chart.update(sample.local)
        self._describe(sample)

    def _describe(self, sample):
        data = self.controller.data
        predicted = data.class_labels[int(sample.prediction >= data.threshold)]
        lines = [
            f"<div style='font-size:12px;color:#555'>row {sample.position} · label "
            f"{html.escape(str(sample.label))}</div>",
            f"<div style='font-size:12px;color:#555'>{html.escape(data.outcome)}</div>",
            f"<div class='nbexplain-score' style='font-size:30px;font-weight:600'>{sample.prediction:.3f}</div>",
            f"<div>predicted: <b>{html.escape(predicted)}</b> (threshold {data.threshold:g})</div>",
        ]
        if sample.actual is not None:
            lines.append(f"<div>actual: <b>{html.escape(data.class_labels[int(sample.actual)])}</b></div>")
        if sample.edited:
            edits = ", ".join(f"{html.escape(c)} = {format_number(v)}" for c, v in sample.edits.items())
            change = sample.prediction - sample.original_prediction
            lines.append(
                f"<div style='margin-top:6px;color:#8e44ad'>what-if: {change:+.3f} from "
                f"{sample.original_prediction:.3f}<br><small>{edits}</small></div>"
            )
        self.summary.value = "<div style='padding:8px 12px'>" + "".join(lines) + "</div>"
