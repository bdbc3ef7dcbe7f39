"""Choose the row to explain: by index, by clicking a point of a score scatter, or by filters."""

from __future__ import annotations

import numpy as np

from ._view import View

POINT_COLOURS = ["#2e6da4", "#c0392b"]
#: The filter value that keeps every row (ipywidgets 8 reads a None value as "nothing selected").
ANY = -1


#: Cells of the density view (columns along the x axis, rows along the score).
DENSITY_GRID = (48, 30)


class SamplePicker(View):
    """Index box with previous / next (within the filter), filters (predicted class, true
    outcome, score range) and a view of the score against a chosen column.

    Up to ``max_points`` matching rows are drawn as points (integer columns jittered by at most
    0.3 so that points do not stack); clicking a point picks its row. Beyond that, every
    matching row is counted in a density view (a grid of cells coloured by how many rows fall in
    each, on a log scale: all of them, not a sample); clicking a cell picks the first matching
    row in it. Everything here is a lookup in the controller's one pass.
    """

    def __init__(self, controller, feature: str | None = None, max_points: int = 2000, seed: int = 0, errors=None):
        import bqplot
        import ipywidgets

        from ._grid import ClickableGrid

        super().__init__(controller, errors)
        data = controller.data
        self.max_points = int(max_points)
        self.rng_seed = seed
        n = controller.n_rows
        guard = self.errors.guard
        self.index = ipywidgets.BoundedIntText(
            value=controller.position, min=0, max=n - 1, description="row", layout={"width": "170px"}
        )
        self.previous = ipywidgets.Button(
            description="previous",
            icon="arrow-left",
            tooltip="previous row that matches the filters",
            layout={"width": "105px"},
        )
        self.next = ipywidgets.Button(
            description="next",
            icon="arrow-right",
            tooltip="next row that matches the filters",
            layout={"width": "105px"},
        )
        self.status = ipywidgets.HTML()
        labels = data.class_labels
        self.predicted_filter = ipywidgets.Dropdown(
            options=[("any", ANY)] + [(label, k) for k, label in enumerate(labels)],
            description="predicted",
            layout={"width": "230px"},
        )
        self.actual_filter = ipywidgets.Dropdown(
            options=[("any", ANY)] + [(label, k) for k, label in enumerate(labels)],
            description="actual",
            layout={"width": "230px"},
            disabled=data.target is None,
        )
        low, high = float(controller.scores.min()), float(controller.scores.max())
        self.score_filter = ipywidgets.FloatRangeSlider(
            value=[low, high],
            min=low,
            max=high,
            step=(high - low) / 200 or 0.01,
            description=data.outcome,
            readout_format=".2f",
            continuous_update=False,
            layout={"width": "330px"},
        )
        ranked = [f for f in controller.global_importance.sorted().feature_names if f in data.columns]
        self.feature = ipywidgets.Dropdown(
            options=list(data.columns),
            value=feature or (ranked or data.columns)[0],
            description="x axis",
            layout={"width": "230px"},
        )

        self.x_scale, self.y_scale = bqplot.LinearScale(), bqplot.LinearScale()
        colour = bqplot.ColorScale(colors=POINT_COLOURS, min=0, max=1)
        self.points = bqplot.Scatter(
            x=[],
            y=[],
            color=[],
            default_size=14,
            opacities=[0.55],
            stroke="white",
            stroke_width=0.3,
            interactions={"click": "select"},
            unselected_style={"opacity": 0.55},
            selected_style={"opacity": 1.0},
            scales={"x": self.x_scale, "y": self.y_scale, "color": colour},
            tooltip=bqplot.Tooltip(fields=["x", "y"], labels=["value", data.outcome], formats=[".4g", ".3f"]),
        )
        self.marker = bqplot.Scatter(
            x=[0.0],
            y=[0.0],
            marker="diamond",
            default_size=160,
            colors=["#f1c40f"],
            stroke="black",
            stroke_width=1.5,
            scales={"x": self.x_scale, "y": self.y_scale},
        )
        self.density = ClickableGrid(
            color=np.zeros((2, 2)),  # bqplot squeezes a (1, 1) grid to a scalar it then refuses
            row=[0.0, 0.5],
            column=[0.0, 0.5],
            row_align="start",
            column_align="start",
            scales={"row": self.y_scale, "column": self.x_scale, "color": bqplot.ColorScale(scheme="Blues", min=0.0)},
            interactions={"click": "select"},
            anchor_style={"fill": "#f1c40f"},
            null_color="white",
            visible=False,
        )
        self.x_axis = bqplot.Axis(scale=self.x_scale, label="", tick_format=",.4~g")
        axes = [self.x_axis, bqplot.Axis(scale=self.y_scale, orientation="vertical", label=data.outcome)]
        self.scatter = bqplot.Figure(
            marks=[self.density, self.points, self.marker],
            axes=axes,
            fig_margin={"top": 40, "bottom": 45, "left": 55, "right": 15},
            title_style={"font-size": "12px"},
            layout={"height": "330px", "width": "100%"},
        )

        self.index.observe(guard(self._on_index), names="value")
        self.previous.on_click(guard(lambda _: self.step(-1)))
        self.next.on_click(guard(lambda _: self.step(+1)))
        for control in (self.predicted_filter, self.actual_filter, self.score_filter):
            control.observe(guard(self._on_filter), names="value")
        self.feature.observe(guard(lambda _: self._draw()), names="value")
        self.points.observe(guard(self._on_click), names="selected")
        self.density.observe(guard(self._on_cell), names="selected")
        self._observe(self._on_sample, names="sample")

        self._jitter = np.random.default_rng(seed + 1).uniform(-0.3, 0.3, n)
        self._cells = (np.zeros(0, dtype=int), np.zeros(0, dtype=int))
        self._distinct = {}
        self.matching = np.arange(n)
        self._apply_filters()
        filters = ipywidgets.VBox(
            [
                ipywidgets.HBox([self.predicted_filter, self.actual_filter], layout={"flex_flow": "row wrap"}),
                self.score_filter,
            ]
        )
        navigation = ipywidgets.HBox([self.index, self.previous, self.next], layout={"flex_flow": "row wrap"})
        self._compose(
            ipywidgets.HTML("<b>Pick a row</b>"), navigation, self.status, filters, self.feature, self.scatter
        )
        self.widget.add_class("nbexplain-picker")

    # ------------------------------------------------------------ actions
    def step(self, direction: int):
        """Move to the next (``+1``) or previous (``-1``) row that matches the filters, wrapping."""
        if len(self.matching) == 0:
            return
        position = self.controller.position
        after = self.matching[self.matching > position] if direction > 0 else self.matching[self.matching < position]
        target = (
            (after[0] if direction > 0 else after[-1])
            if len(after)
            else (self.matching[0] if direction > 0 else self.matching[-1])
        )
        self.controller.pick(int(target))

    def _on_index(self, change):
        if change["new"] != self.controller.position:
            self.controller.pick(change["new"])

    def _on_click(self, change):
        selected = change["new"]
        if selected is None or len(selected) == 0:
            return
        self.controller.pick(int(self.shown[int(selected[0])]))
        self.points.selected = None

    def _on_cell(self, change):
        """A click on a density cell picks the first matching row inside it."""
        selected = change["new"]
        if selected is None or len(selected) == 0:
            return
        row, column = (int(v) for v in np.asarray(selected)[0])
        inside = np.flatnonzero((self._cells[1] == row) & (self._cells[0] == column))
        self.density.selected = None
        if inside.size:
            self.controller.pick(int(self.matching[inside[0]]))

    def _contains(self, position) -> bool:
        where = np.searchsorted(self.matching, position)
        return bool(where < len(self.matching) and self.matching[where] == position)

    def _on_filter(self, _):
        self._apply_filters()
        if len(self.matching) and not self._contains(self.controller.position):
            self.controller.pick(int(self.matching[0]))

    def _on_sample(self, change):
        self.index.value = self.controller.position
        self._draw_marker()
        self._describe()

    # ------------------------------------------------------------ drawing
    def _apply_filters(self):
        low, high = self.score_filter.value
        full = self.score_filter.min, self.score_filter.max
        either = lambda value: None if value == ANY else value  # noqa: E731
        self.matching = self.controller.matching(
            either(self.predicted_filter.value),
            either(self.actual_filter.value),
            None if (low, high) == full else (low, high),
        )
        self.dense = len(self.matching) > self.max_points
        self.shown = self.matching[:0] if self.dense else self.matching
        self._draw()

    def _x_values(self, positions):
        column = self.feature.value
        values = self.controller.data.frame[column].to_numpy(dtype=float)[positions]
        if self._discrete(column):
            return values + self._jitter[positions] * self._spacing(column)
        return values

    def _discrete(self, column):
        return self._codes(column) is not None

    def _spacing(self, column):
        codes = self._codes(column)
        return float(np.diff(codes).min()) if len(codes) > 1 else 1.0

    def _codes(self, column):
        """The distinct values of an integer column with at most 25 of them, else None (cached:
        drawing the marker on every pick must not scan the column)."""
        if column not in self._distinct:
            values = self.controller.data.frame[column]
            codes = np.unique(values.to_numpy()) if np.issubdtype(values.dtype, np.integer) else None
            self._distinct[column] = codes if codes is not None and len(codes) <= 25 else None
        return self._distinct[column]

    def _draw(self):
        controller, column = self.controller, self.feature.value
        total, matching = controller.n_rows, len(self.matching)
        target = controller.data.target
        with self.points.hold_sync():
            self.points.x = self._x_values(self.shown)
            self.points.y = controller.scores[self.shown]
            self.points.color = (np.zeros(len(self.shown)) if target is None else target[self.shown]).astype(float)
        if self.dense:
            self._draw_density()
            self.scatter.title = (
                f"all {matching:,} of {total:,} rows counted per cell (colour: rows per cell, log "
                "scale; click a cell to pick a row in it)"
            )
        else:
            self.density.visible = False
            colours = "" if target is None else " · colour: actual outcome"
            self.scatter.title = f"{matching:,} of {total:,} rows" + colours
        discrete = self._discrete(column)
        self.x_axis.label = column + (" (jittered)" if discrete else "")
        self.x_axis.tick_values = self._codes(column)
        self._draw_marker()
        self._describe()

    def _draw_density(self):
        """Count every matching row in a grid of cells over (column value, score)."""
        columns, rows = DENSITY_GRID
        x = self.controller.data.frame[self.feature.value].to_numpy(dtype=float)[self.matching]
        y = self.controller.scores[self.matching]
        x_edges = _edges(x, columns)
        y_edges = _edges(y, rows)
        cell_x = np.clip(np.searchsorted(x_edges, x, side="right") - 1, 0, columns - 1)
        cell_y = np.clip(np.searchsorted(y_edges, y, side="right") - 1, 0, rows - 1)
        counts = np.zeros((rows, columns))
        np.add.at(counts, (cell_y, cell_x), 1)
        self._cells = (cell_x, cell_y)
        shown = np.where(counts > 0, np.log10(counts + 1), np.nan)
        with self.density.hold_sync(), self.density.hold_trait_notifications():  # shapes checked together
            self.density.row = y_edges[:-1]  # each cell starts at its lower edge
            self.density.column = x_edges[:-1]
            self.density.color = shown
            self.density.visible = True

    def _draw_marker(self):
        position = self.controller.position
        with self.marker.hold_sync():
            self.marker.x = self._x_values([position])
            self.marker.y = self.controller.scores[[position]]

    def _describe(self):
        sample = self.controller.sample
        position = self.controller.position
        where = np.searchsorted(self.matching, position)
        place = (
            f"{where + 1:,} of {len(self.matching):,} matching"
            if self._contains(position)
            else f"not among the {len(self.matching):,} matching rows"
        )
        self.status.value = f"label <b>{sample.label}</b> · {place}"


def _edges(values: np.ndarray, cells: int) -> np.ndarray:
    """``cells + 1`` equal-width cell edges over the values' range (a unit range when constant)."""
    low, high = (float(values.min()), float(values.max())) if values.size else (0.0, 1.0)
    if high <= low:
        low, high = low - 0.5, high + 0.5
    return np.linspace(low, high, cells + 1)
