"""The feature x lag heatmap of a recurrent model, with the lag importance bars beside it."""

from __future__ import annotations

import numpy as np

from ..errors import NBExplainError
from ._base import Chart, axis_range, figure, require_explanation, set_left_margin


class LagHeatmap(Chart):
    """Feature x lag grid (colour: the lag matrix entry) and gamma_k bars per lag.

    Takes ``Sensitivities.lag_matrix()`` (dims feature, lag) and ``lag_importance()`` (dim lag)
    of the same rows.
    """

    def __init__(self, matrix=None, importance=None, title: str = ""):
        import bqplot
        import ipywidgets

        self.rows = bqplot.OrdinalScale(reverse=True)
        self.columns = bqplot.OrdinalScale()
        self.colour = bqplot.ColorScale(scheme="Reds", min=0.0)
        self.grid = bqplot.GridHeatMap(
            color=np.zeros((2, 2)),
            scales={"row": self.rows, "column": self.columns, "color": self.colour},
            tooltip=bqplot.Tooltip(
                fields=["row", "column", "color"], labels=["feature", "lag", "sensitivity"], formats=["", "", ".4g"]
            ),
        )
        axes = [
            bqplot.Axis(scale=self.rows, orientation="vertical", label=""),
            bqplot.Axis(scale=self.columns, label="lag (t = most recent step)"),
            bqplot.ColorAxis(
                scale=self.colour,
                orientation="horizontal",
                side="top",
                label="sensitivity (RMS gradient)",
                tick_format=".2~g",
                num_ticks=4,
            ),
        ]
        heatmap = figure([self.grid], axes, title, height=320, left=130)
        # the colour bar sits above the grid (and a title above the colour bar)
        heatmap.fig_margin = {**heatmap.fig_margin, "top": 100 if title else 70}
        self.lag_scale = bqplot.OrdinalScale()
        self.share = bqplot.LinearScale(min=0.0)
        self.bars = bqplot.Bars(
            x=[],
            y=[],
            scales={"x": self.lag_scale, "y": self.share},
            colors=["#c0392b"],
            tooltip=bqplot.Tooltip(fields=["x", "y"], labels=["lag", "share (%)"], formats=["", ".1f"]),
        )
        bars = figure(
            [self.bars],
            [
                bqplot.Axis(scale=self.lag_scale, label="lag"),
                bqplot.Axis(scale=self.share, orientation="vertical", label="lag importance (%)"),
            ],
            "importance by lag",
            height=300,
            left=60,
        )
        self.heatmap, self.lag_bars = heatmap, bars
        self.name = "lags"
        # side by side where the panel is wide enough for both, else one under the other
        heatmap.layout.width, heatmap.layout.flex = "auto", "3 1 360px"
        bars.layout.width, bars.layout.flex = "auto", "2 1 280px"
        self.figure = ipywidgets.HBox([heatmap, bars], layout={"width": "100%", "flex_flow": "row wrap"})
        if matrix is not None:
            self.update(matrix, importance)

    def update(self, matrix, importance):
        explanation = require_explanation(matrix, "LagHeatmap", ("feature", "lag"))
        importance = require_explanation(importance, "LagHeatmap", ("lag",))
        lags = list(explanation.labels("lag"))
        if list(importance.labels("lag")) != lags:
            raise NBExplainError("the lag importance and the lag matrix must have the same lags.")
        with self.grid.hold_sync():
            self.grid.color = explanation.values
            self.grid.row = list(explanation.feature_names)
            self.grid.column = lags
            self.colour.max = float(explanation.values.max()) or 1.0
        with self.bars.hold_sync():
            self.bars.x, self.bars.y = lags, importance.values
            self.share.min, self.share.max = axis_range(importance.values)
        set_left_margin(self.heatmap, explanation.feature_names)
        return self

    @property
    def figures(self) -> dict:
        """Two figures: the feature x lag ``heatmap`` and the importance ``by-lag``."""
        return {"heatmap": self.heatmap, "by-lag": self.lag_bars}
