"""Bar charts of importance and the cumulative-share (feature selection) curve."""

from __future__ import annotations

import numpy as np

from ._base import (
    MAX_LABEL,
    NEGATIVE,
    NEUTRAL,
    POSITIVE,
    Chart,
    axis_range,
    figure,
    file_stem,
    require_explanation,
    round_ticks,
    set_left_margin,
    shorten,
)


def _label(name, value) -> str:
    """``name = value`` as a tick label; a long name is shortened so that the label keeps at most
    :data:`MAX_LABEL` characters with its value (the table export has the full name)."""
    if value is None or not np.isfinite(value):
        return shorten(name)
    shown = format_number(value)
    return f"{shorten(name, max(MAX_LABEL - len(shown) - 3, 12))} = {shown}"


def format_number(value) -> str:
    """200,000 for amounts, 0.125 or 3 for small values: what a person reads in a label."""
    return f"{value:,.0f}" if abs(value) >= 1e4 else f"{value:.4g}"


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 or 10 times a power of ten that is >= ``value`` (axis ends)."""
    if not np.isfinite(value) or value <= 0:
        return 1.0
    power = 10 ** np.floor(np.log10(value))
    return float(next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= value * (1 - 1e-12)))


class ImportanceBars(Chart):
    """Horizontal bars of a 1-D explanation, largest at the top, ``top`` bars at most.

    Colour shows the sign of the gradient when the explanation has one (red: raises the score,
    blue: lowers it, grey: no single direction); a local explanation's labels carry the feature
    value, and the tooltip gives the importance and the gradient.
    """

    def __init__(self, explanation=None, top: int = 10, title: str = ""):
        import bqplot

        self.top = int(top)
        self.names = bqplot.OrdinalScale(reverse=True)
        self.amount = bqplot.LinearScale(min=0.0)
        self.direction = bqplot.ColorScale(colors=[NEGATIVE, NEUTRAL, POSITIVE], min=-1, mid=0, max=1)
        tooltip = bqplot.Tooltip(
            fields=["x", "y", "color"], labels=["feature", "importance", "gradient"], formats=["", ".3f", ".4g"]
        )
        self.bars = bqplot.Bars(
            x=[],
            y=[],
            color=[],
            orientation="horizontal",
            padding=0.2,
            tooltip=tooltip,
            scales={"x": self.names, "y": self.amount, "color": self.direction},
        )
        axes = [
            bqplot.Axis(scale=self.names, orientation="vertical"),
            bqplot.Axis(scale=self.amount, label="importance", tick_format=".3~g"),
        ]
        self.figure = figure([self.bars], axes, title)
        self.name = file_stem(title, "importance")
        self.explanation = None
        if explanation is not None:
            self.update(explanation)

    def update(self, explanation, top: int | None = None):
        explanation = require_explanation(explanation, "ImportanceBars")
        self.top = self.top if top is None else int(top)
        shown = explanation.top(self.top)
        names = shown.labels(shown.dims[0])
        data = shown.data if shown.data is not None else [None] * len(names)
        signed = shown.signed if shown.signed is not None else np.full(len(names), np.nan)
        limit = float(np.nanmax(np.abs(signed))) if np.isfinite(signed).any() else 1.0
        labels = [_label(n, v) for n, v in zip(names, data)]
        low, high = axis_range(shown.values)
        with self.bars.hold_sync():
            self.direction.min, self.direction.max = -limit or -1.0, limit or 1.0
            self.bars.x = labels
            self.bars.y = shown.values
            self.amount.min, self.amount.max = low, high
            self.bars.color = np.nan_to_num(signed, nan=0.0)
        self.figure.axes[1].tick_values = round_ticks(low, high)
        set_left_margin(self.figure, labels)
        self.explanation = explanation
        return self


class ComparisonBars(Chart):
    """Several 1-D importances of the same features side by side (grouped bars), in the order of
    the first one; each is drawn as its share of its own total so that methods compare."""

    def __init__(self, explanations: dict | None = None, top: int = 12, title: str = ""):
        import bqplot

        self.top = int(top)
        self.names = bqplot.OrdinalScale(reverse=True)
        self.amount = bqplot.LinearScale(min=0.0)
        # y starts two-dimensional, as grouped bars need
        self.bars = bqplot.Bars(
            x=[""],
            y=np.zeros((1, 1)),
            orientation="horizontal",
            type="grouped",
            padding=0.15,
            display_legend=True,
            labels=[],
            scales={"x": self.names, "y": self.amount},
            tooltip=bqplot.Tooltip(fields=["x", "y"], labels=["feature", "share (%)"], formats=["", ".2f"]),
        )
        axes = [
            bqplot.Axis(scale=self.names, orientation="vertical"),
            bqplot.Axis(scale=self.amount, label="share of importance (%)"),
        ]
        self.figure = figure([self.bars], axes, title, height=420)
        self.figure.legend_location = "bottom-right"
        self.name = file_stem(title, "comparison")
        self.explanations: dict = {}
        if explanations:
            self.update(explanations)

    def update(self, explanations: dict):
        checked = {name: require_explanation(e, "ComparisonBars", ("feature",)) for name, e in explanations.items()}
        first = next(iter(checked.values()))
        order = first.top(self.top).feature_names
        shares = []
        for explanation in checked.values():
            values = np.abs(explanation.sel(feature=list(order)).values)
            total = np.abs(explanation.values).sum()
            shares.append(100 * values / total if total > 0 else values)
        labels = [shorten(name) for name in order]
        low, high = axis_range(shares)
        with self.bars.hold_sync():
            self.bars.x = labels
            self.bars.y = np.vstack(shares)
            self.bars.labels = list(checked)
            # an explicit domain: bqplot leaves grouped horizontal bars at zero width without one
            self.amount.min, self.amount.max = low, high
            self.bars.colors = ["#2e6da4", "#e67e22", "#27ae60", "#8e44ad"][: len(checked)]
        self.figure.axes[1].tick_values = round_ticks(low, high)
        set_left_margin(self.figure, labels)
        self.explanations = checked
        return self

    def to_frame(self):
        """The compared importances side by side (:func:`comparison_frame`): per method its own
        values and its share in %, one row per feature (all of them) in the order of the first."""
        import pandas as pd

        return comparison_frame(self.explanations) if self.explanations else pd.DataFrame()


class CumulativeCurve(Chart):
    """Share of importance covered by the top k features against k, the ``share`` line, and the k
    it selects; with a retrain experiment, test error against k on a second axis."""

    def __init__(self, explanation=None, share: float = 90.0, title: str = ""):
        import bqplot

        self.share = float(share)
        self.k_scale = bqplot.LinearScale(min=0.5)
        self.percent = bqplot.LinearScale(min=0.0, max=101.0)
        self.error_scale = bqplot.LinearScale()
        self.curve = bqplot.Lines(
            x=[],
            y=[],
            marker="circle",
            marker_size=24,
            colors=["#2e6da4"],
            scales={"x": self.k_scale, "y": self.percent},
            tooltip=bqplot.Tooltip(fields=["x", "y"], labels=["top k", "cumulative %"], formats=[".0f", ".1f"]),
        )
        self.threshold = bqplot.Lines(
            x=[], y=[], line_style="dashed", colors=["#c0392b"], scales={"x": self.k_scale, "y": self.percent}
        )
        self.chosen = bqplot.Lines(
            x=[], y=[], line_style="dotted", colors=["#c0392b"], scales={"x": self.k_scale, "y": self.percent}
        )
        self.note = bqplot.Label(
            x=[], y=[], text=[], colors=["#c0392b"], default_size=13, scales={"x": self.k_scale, "y": self.percent}
        )
        self.errors = bqplot.Lines(
            x=[],
            y=[],
            colors=["#27ae60"],
            marker="square",
            marker_size=20,
            scales={"x": self.k_scale, "y": self.error_scale},
            visible=False,
            labels=["test error"],
            display_legend=True,
        )
        self.error_axis = bqplot.Axis(
            scale=self.error_scale,
            orientation="vertical",
            side="right",
            label="test error",
            label_offset="52px",
            tick_format=".2%",
            visible=False,
        )
        axes = [
            bqplot.Axis(scale=self.k_scale, label="top k features", tick_format="d"),
            bqplot.Axis(scale=self.percent, orientation="vertical", label="cumulative importance (%)"),
            self.error_axis,
        ]
        self.figure = figure([self.curve, self.threshold, self.chosen, self.note, self.errors], axes, title, left=60)
        self.figure.fig_margin = {**self.figure.fig_margin, "right": 70}
        self.name = file_stem(title, "selection-curve")
        self.figure.legend_location = "bottom-right"
        self.k = None
        if explanation is not None:
            self.update(explanation)

    def update(self, explanation, errors: dict | None = None):
        """``errors``: optional ``{k: test error}`` from a retrain experiment."""
        explanation = require_explanation(explanation, "CumulativeCurve", ("feature",))
        cumulative = explanation.cumulative_share()
        ks = np.arange(1, len(cumulative.values) + 1)
        self.k = len(explanation.covering(self.share))
        with self.figure.hold_sync():
            self.curve.x, self.curve.y = ks, cumulative.values
            self.threshold.x, self.threshold.y = [0.5, ks[-1]], [self.share, self.share]
            self.chosen.x, self.chosen.y = [self.k, self.k], [0, self.share]
            # the note reads away from the nearer end, so that it stays inside the plot area
            right_half = self.k > (ks[-1] + 1) / 2
            self.note.align = "end" if right_half else "start"
            self.note.x, self.note.y = [self.k - 0.3 if right_half else self.k + 0.3], [self.share - 8]
            self.note.text = [f"{self.share:g} % with k = {self.k}"]
            self.k_scale.min, self.k_scale.max = 0.5, ks[-1] + 0.5
            has_errors = bool(errors)
            if has_errors:
                self.errors.x, self.errors.y = list(errors), list(errors.values())
                self.error_scale.min, self.error_scale.max = _padded(list(errors.values()))
            self.errors.visible = self.error_axis.visible = has_errors
        return self


def _padded(values, pad: float = 0.08) -> tuple:
    """``(low, high)`` around ``values`` with ``pad`` of their span on each side (a line's axis,
    not a bar's: it need not hold zero)."""
    low, high = float(np.min(values)), float(np.max(values))
    margin = pad * (high - low) or 0.05 * abs(high) or 0.05
    return low - margin, high + margin


def comparison_frame(explanations: dict):
    """Several 1-D importances of the same features as one table, rows in the order of the first
    one's ranking: per method its own values (``to_frame()["importance"]``) and, as
    :class:`ComparisonBars` draws them, their share of that method's total in %."""
    import pandas as pd

    checked = {name: require_explanation(e, "comparison_frame", ("feature",)) for name, e in explanations.items()}
    first = next(iter(checked.values()))
    order = list(first.sorted().feature_names)
    columns = {}
    for name, explanation in checked.items():
        values = explanation.to_frame()["importance"].reindex(order)
        total = float(np.abs(explanation.values).sum())
        columns[str(name)] = values
        columns[f"{name} share (%)"] = 100 * values.abs() / total if total > 0 else values.abs()
    return pd.DataFrame(columns, index=pd.Index(order, name="feature"))
