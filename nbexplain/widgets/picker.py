"""Choose the row to explain: by index, by clicking a point of a score scatter, or by filters."""

from __future__ import annotations

import numpy as np

from ._view import View

POINT_COLOURS = ["#2e6da4", "#c0392b"]
#: The filter value that keeps every row (ipywidgets 8 reads a None value as "nothing selected").
ANY = -1


#: Cells of the density view (columns along the x axis, rows along the score).
DENSITY_GRID = (48, 30)
#: The density view's colours, from an empty cell (transparent: the grid lines show) through one
#: row to the fullest cell.
DENSITY_COLOURS = ["rgba(255, 255, 255, 0)", "#c6dbef", "#08306b"]


class SamplePicker(View):
    """Index box with previous / next (within the filter), filters (predicted class, true
    outcome, score range) and a view of the score against a chosen column.

    Up to ``max_points`` matching rows are drawn as points (integer columns jittered by at most
    0.3 so that points do not stack); clicking a point picks its row. Beyond that, every
    matching row is counted in a density view (a grid of cells coloured by how many rows fall in
    each, on a log scale: all of them, not a sample; an empty cell is blank); clicking a cell
    picks the first matching row in it. Everything here is a lookup in the controller's one pass,
    and a filter over a million rows is a few vectorised passes (no Python loop over rows).
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
        self.status.add_class("nbexplain-picker-status")
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
        # colour log10(rows + 1): 0 (blank) for an empty cell, log10(2) for one row; bqplot draws
        # NaN black (its null colour is for null, which a binary array cannot hold)
        counted = bqplot.ColorScale(colors=DENSITY_COLOURS, min=0.0, mid=float(np.log10(2)))
        self.density = ClickableGrid(
            color=np.zeros((2, 2)),  # bqplot squeezes a (1, 1) grid to a scalar it then refuses
            row=[0.0, 0.5],
            column=[0.0, 0.5],
            # each cell from its lower edge (row, column) up to the next: bqplot aligns in pixels,
            # and a vertical axis runs downwards, so a score's lower edge is a cell's "end"
            row_align="end",
            column_align="start",
            scales={"row": self.y_scale, "column": self.x_scale, "color": counted},
            interactions={"click": "select"},
            anchor_style={"fill": "#f1c40f"},
            stroke=None,
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

        self._cells = np.zeros(0, dtype=np.int16)  # the density cell of each matching row
        self._distinct = {}
        self._ranges = {}
        self._axis_column = None
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
        if direction > 0:
            where = np.searchsorted(self.matching, position, side="right")
            target = self.matching[where] if where < len(self.matching) else self.matching[0]
        else:
            where = np.searchsorted(self.matching, position, side="left")
            target = self.matching[where - 1] if where > 0 else self.matching[-1]
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
        self.density.selected = None
        columns, rows = DENSITY_GRID
        if not (0 <= row < rows and 0 <= column < columns) or len(self._cells) != len(self.matching):
            return
        inside = self._cells == row * columns + column
        first = int(inside.argmax())
        if inside[first]:
            self.controller.pick(int(self.matching[first]))

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

    def _column(self, positions=None):
        """The x axis column as floats: all rows, or at ``positions`` (taken before converting)."""
        values = self.controller.data.frame[self.feature.value].to_numpy()
        return np.asarray(values if positions is None else values[positions], dtype=float)

    def _x_values(self, positions):
        positions = np.asarray(positions, dtype=np.int64)
        column = self.feature.value
        values = self._column(positions)
        if self._discrete(column):
            return values + jitter(positions, self.rng_seed) * self._spacing(column)
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
        if not (self.dense and len(self.points.x) == 0):  # no empty scatter sent again
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
            self._fix_domains(None, None)
            colours = "" if target is None else " · colour: actual outcome"
            self.scatter.title = f"{matching:,} of {total:,} rows" + colours
        self.x_axis.label = column + (" (jittered)" if self._discrete(column) and not self.dense else "")
        if column != self._axis_column:
            self.x_axis.tick_values = self._codes(column)
            self._axis_column = column
        self._draw_marker()
        self._describe()

    def _draw_density(self):
        """Count every matching row in a grid of cells over (column value, score): a few
        vectorised passes over the matching rows (no copy of a column when every row matches).

        The cells span the axes, which stay put under the grid: x over the column's values in
        every row, the score over the score filter's range. So a class filter moves no axis and
        no cell (bqplot draws the grid again for each axis that moves, and stretches a grid that
        does not reach its axes' ends), and counts under two filters compare cell by cell."""
        columns, rows = DENSITY_GRID
        every = len(self.matching) == self.controller.n_rows
        x = self._column(None if every else self.matching)
        y = self.controller.scores if every else self.controller.scores[self.matching]
        x_edges, cell_x = _cells(x, columns, self._range(self.feature.value))
        y_edges, cell_y = _cells(y, rows, self.score_filter.value)
        cell_y *= columns
        cell_y += cell_x
        self._cells = cell_y.astype(np.int16)  # 48 x 30 cells: the cell of each matching row
        counts = np.bincount(self._cells, minlength=rows * columns).reshape(rows, columns)
        self._fix_domains(x_edges[[0, -1]], y_edges[[0, -1]])
        with self.density.hold_sync(), self.density.hold_trait_notifications():  # shapes checked together
            self.density.row = y_edges[:-1]  # each cell starts at its lower edge
            self.density.column = x_edges[:-1]
            self.density.color = np.log10(counts + 1.0)  # 0: an empty cell (blank)
            self.density.visible = True

    def _range(self, column):
        """``(min, max)`` of a column over every row (cached per column)."""
        if column not in self._ranges:
            values = self.controller.data.frame[column].to_numpy()
            self._ranges[column] = (float(values.min()), float(values.max()))
        return self._ranges[column]

    def _fix_domains(self, x_range, y_range):
        """The axes' ranges under the density grid (bqplot would only ever widen the domains it
        computes from a grid), or ``None``: the axes follow the points."""
        for scale, span in ((self.x_scale, x_range), (self.y_scale, y_range)):
            low, high = (None, None) if span is None else (float(span[0]), float(span[1]))
            if (scale.min, scale.max) != (low, high):
                with scale.hold_sync():
                    scale.min, scale.max = low, high

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


def _cells(values: np.ndarray, cells: int, span) -> tuple[np.ndarray, np.ndarray]:
    """``cells + 1`` equal-width edges over ``span`` (widened to a unit range when empty), and the
    cell of each value: ``edges[k] <= value < edges[k + 1]``, the last cell closed (as
    ``np.histogram`` counts; a value beyond the span counts in the end cell)."""
    low, high = float(span[0]), float(span[1])
    if high <= low:
        low, high = low - 0.5, high + 0.5
    edges = np.linspace(low, high, cells + 1)
    index = np.searchsorted(edges[1:-1], values, side="right")  # 0 .. cells - 1: no clipping
    return edges, index


def jitter(positions, seed: int = 0) -> np.ndarray:
    """A fixed offset in [-0.3, 0.3) per row position: a hash of it (SplitMix64), so that points of
    an integer column do not stack, a row's point stays where it was, and no array per row is kept."""
    offset = np.uint64((seed + 1) * 0x9E3779B97F4A7C15 % 2**64)
    mixed = np.atleast_1d(np.asarray(positions, dtype=np.uint64)) + offset
    mixed ^= mixed >> np.uint64(30)
    mixed *= np.uint64(0xBF58476D1CE4E5B9)
    mixed ^= mixed >> np.uint64(27)
    mixed *= np.uint64(0x94D049BB133111EB)
    mixed ^= mixed >> np.uint64(31)
    return ((mixed >> np.uint64(11)).astype(float) / 2.0**53 - 0.5) * 0.6
