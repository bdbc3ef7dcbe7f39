"""Charts of additive attributions: a waterfall from the baseline score to the applicant's score,
and signed bars (a difference between two populations, with standard errors in the tooltip)."""

from __future__ import annotations

import numpy as np

from ..errors import NBExplainError
from ._base import (
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

#: Series of the stacked waterfall: an invisible offset, then a rise, a fall or a level.
_SERIES = ("offset", "raises", "lowers", "level")


def waterfall_rows(contributions, baseline: float, score: float) -> tuple:
    """Rows of a waterfall: ``(label, start, end, kind)`` from the baseline score through each
    contribution (rises first, largest first; then falls, largest first) to the score.

    Ordering rises before falls keeps every running total between ``min(baseline, score)`` and
    the peak, so a score that cannot be negative (a probability) never draws below zero.
    """
    items = list(contributions.items())
    rises = sorted([i for i in items if i[1] > 0], key=lambda i: -i[1])
    falls = sorted([i for i in items if i[1] < 0], key=lambda i: i[1])
    rows, level = [("baseline score", 0.0, float(baseline), "level")], float(baseline)
    for label, value in rises + falls:
        rows.append((label, level, level + float(value), "raises" if value > 0 else "lowers"))
        level += float(value)
    rows.append(("applicant's score", 0.0, float(score), "level"))
    return rows


class Waterfall(Chart):
    """Horizontal waterfall of a 1-D signed attribution over reasons (or features).

    The explanation's ``meta`` gives ``baseline_score`` and ``score_value`` (the two scores);
    red bars raise the score, blue bars lower it, grey bars are the two levels. Rows with zero
    contribution are left out. The score axis runs from zero past the highest running total; a
    label longer than :data:`~nbexplain.charts._base.MAX_LABEL` characters is shortened (give the
    full statements beside the chart, as the reasons panel does).
    """

    def __init__(self, explanation=None, title: str = ""):
        import bqplot

        self.names = bqplot.OrdinalScale(reverse=True)
        self.amount = bqplot.LinearScale(min=0.0, max=1.0)
        self.bars = bqplot.Bars(
            x=[""],
            y=np.zeros((len(_SERIES), 1)),
            orientation="horizontal",
            type="stacked",
            padding=0.25,
            colors=["white", POSITIVE, NEGATIVE, NEUTRAL],
            opacities=[0.0, 1.0, 1.0, 1.0],
            color_mode="element",
            opacity_mode="element",
            scales={"x": self.names, "y": self.amount},
            tooltip=bqplot.Tooltip(fields=["x", "y"], labels=["", "amount"], formats=["", ".4f"]),
        )
        axes = [
            bqplot.Axis(scale=self.names, orientation="vertical"),
            bqplot.Axis(scale=self.amount, label="score", tick_format=".3~g"),
        ]
        self.figure = figure([self.bars], axes, title, height=320)
        self.name = file_stem(title, "waterfall")
        self.rows = []
        if explanation is not None:
            self.update(explanation)

    def update(self, explanation):
        explanation = require_explanation(explanation, "Waterfall")
        meta = explanation.meta
        if "baseline_score" not in meta or meta.get("score_value") is None:
            raise NBExplainError(
                "Waterfall needs the two scores in the explanation's meta (baseline_score and "
                "score_value): draw one sample of an Attributions result."
            )
        labels = explanation.labels(explanation.dims[0])
        contributions = {label: value for label, value in zip(labels, explanation.values) if value != 0}
        self.rows = waterfall_rows(contributions, meta["baseline_score"], meta["score_value"])
        low = min(min(start, end) for _, start, end, _ in self.rows)
        if low < 0:
            raise NBExplainError(
                "Waterfall draws non-negative scores (probabilities); this one goes below zero. "
                "Explain the probability, not the logit."
            )
        heights = np.zeros((len(_SERIES), len(self.rows)))
        for column, (_, start, end, kind) in enumerate(self.rows):
            heights[0, column] = min(start, end)
            heights[_SERIES.index(kind), column] = abs(end - start)
        labels = [shorten(label) for label, *_ in self.rows]
        low, high = axis_range([value for _, start, end, _ in self.rows for value in (start, end)])
        with self.bars.hold_sync():
            self.bars.x = labels
            self.bars.y = heights
            self.amount.min, self.amount.max = low, high
        self.figure.axes[1].tick_values = round_ticks(low, high, 4)
        set_left_margin(self.figure, labels)
        return self


class SignedBars(Chart):
    """Horizontal bars of a signed 1-D explanation (largest magnitude at the top), red where
    positive and blue where negative; the tooltip adds a standard error when the meta has one."""

    def __init__(self, explanation=None, top: int = 12, title: str = "", label: str = "attribution"):
        import bqplot

        self.top = int(top)
        self.names = bqplot.OrdinalScale(reverse=True)
        self.amount = bqplot.LinearScale(min=-1.0, max=1.0)
        self.direction = bqplot.ColorScale(colors=[NEGATIVE, NEUTRAL, POSITIVE], min=-1, mid=0, max=1)
        self.bars = bqplot.Bars(
            x=[],
            y=[],
            color=[],
            orientation="horizontal",
            padding=0.2,
            scales={"x": self.names, "y": self.amount, "color": self.direction},
            tooltip=bqplot.Tooltip(fields=["x", "y"], labels=["", label], formats=["", ".4g"]),
        )
        axes = [
            bqplot.Axis(scale=self.names, orientation="vertical"),
            bqplot.Axis(scale=self.amount, label=label, tick_format=".3~g"),
        ]
        self.figure = figure([self.bars], axes, title, height=340, left=130)
        self.name = file_stem(title, "signed-bars")
        self.explanation = None
        if explanation is not None:
            self.update(explanation)

    def update(self, explanation):
        explanation = require_explanation(explanation, "SignedBars")
        labels = explanation.labels(explanation.dims[0])
        order = np.argsort(-np.abs(explanation.values), kind="stable")[: self.top]
        errors = explanation.meta.get("standard_error") or {}
        names = [
            f"{shorten(labels[i], 28)} ± {errors[labels[i]]:.2g}" if labels[i] in errors else shorten(labels[i])
            for i in order
        ]
        values = explanation.values[order]
        low, high = axis_range(values)
        with self.bars.hold_sync():
            self.bars.x = names
            self.bars.y = values
            self.bars.color = np.sign(values)
            self.amount.min, self.amount.max = low, high
        self.figure.axes[1].tick_values = round_ticks(low, high)
        set_left_margin(self.figure, names)
        self.explanation = explanation
        return self
