"""What every chart shares: input checks, a figure that fits its panel, axis ranges that cover
the values drawn, and image downloads (PNG, SVG) of the figure as the browser draws it."""

from __future__ import annotations

import math
import re

import numpy as np

from ..errors import NBExplainError
from ..results import Explanation

#: Figure margins in px. ``top`` holds the title ABOVE the plot area: bqplot puts the title's top
#: at ``-top / 2`` with ``dy = 1em``, so its baseline sits at ``-top / 2 + font size``; 50 keeps a
#: 15 px title clear of the first bar. ``bottom`` holds the tick labels and the axis label, and
#: ``right`` half of the widest end tick label.
MARGIN = {"top": 50, "bottom": 44, "left": 150, "right": 30}
TITLE_STYLE = {"font-size": "15px"}
#: No figure asks for more than this: panels are at least 340 px wide (``View._compose``).
MIN_WIDTH = "280px"
POSITIVE, NEGATIVE, NEUTRAL = "#c0392b", "#2e6da4", "#7f8c8d"
#: Tick labels longer than this are shortened with an ellipsis (full text in the table export).
MAX_LABEL = 40
#: Width of one character of bqplot's tick font (12px sans-serif; DejaVu Sans on Debian averages
#: about 6.5 px), rounded up so that the left margin holds the longest label.
CHAR_PX = 7.0
#: Multipliers of a power of ten that make round axis steps.
_STEPS = (1.0, 2.0, 2.5, 5.0, 10.0)


def require_explanation(value, chart: str, dims: tuple | None = None) -> Explanation:
    """Charts take results only: an Explanation with exactly ``dims`` (any single dim if None)."""
    if not isinstance(value, Explanation):
        raise NBExplainError(
            f"{chart} draws an nbexplain Explanation; got {type(value).__name__}. "
            "Compute one with an explainer first (e.g. sens.global_importance())."
        )
    if (len(value.dims) != 1) if dims is None else (tuple(value.dims) != tuple(dims)):
        wanted = "one dim" if dims is None else f"dims {dims}"
        raise NBExplainError(
            f"{chart} needs an explanation with {wanted}; this one has {value.dims}. "
            "Select the other dims first, e.g. exp[0] or exp.sel(sample=...)."
        )
    return value


def figure(marks, axes, title="", height=320, left=None):
    """A bqplot figure as wide as its panel (never wider: ``width`` 100 %, a small minimum), its
    title above the plot area."""
    import bqplot

    margin = dict(MARGIN, left=MARGIN["left"] if left is None else left)
    return bqplot.Figure(
        marks=marks,
        axes=axes,
        title=title,
        title_style=dict(TITLE_STYLE),
        fig_margin=margin,
        # no outer margin: with one, a 100 % wide figure overflows a column by the margin
        layout={"height": f"{height}px", "width": "100%", "min_width": MIN_WIDTH, "margin": "0px"},
    )


def nice_step(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 or 10 times a power of ten that is >= ``value`` (> 0)."""
    if not np.isfinite(value) or value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return float(next(m * power for m in _STEPS if m * power >= value * (1 - 1e-12)))


def axis_range(values, pad: float = 0.04, steps: int = 10) -> tuple:
    """``(low, high)``: an axis domain for bars drawn from zero to ``values``.

    It holds zero and every value with a margin of ``pad`` times the span on each side that has
    bars (a side with none starts at zero), rounded outward to a multiple of a round step of
    about a ``steps``-th of the span (so the ends are round numbers and the bars fill most of
    the axis). Non-finite values are ignored; no finite value gives ``(0, 1)``.
    """
    array = np.asarray(values, dtype=float).reshape(-1)
    array = array[np.isfinite(array)]
    low, high = min(float(array.min(initial=0.0)), 0.0), max(float(array.max(initial=0.0)), 0.0)
    span = high - low
    if not span > 1e-250:  # nothing to draw (or too little for float steps): a unit axis on the bars' side
        return (-1.0 if low < 0 else 0.0), (1.0 if high > 0 or low == 0 else 0.0)
    low, high = low - pad * span if low < 0 else 0.0, high + pad * span if high > 0 else 0.0
    step = nice_step((high - low) / steps)
    start, end = math.floor(low / step + 1e-9) * step, math.ceil(high / step - 1e-9) * step
    # 12 significant digits: 0.30000000000000004 -> 0.3, and a tiny span keeps its size
    return (float(f"{start:.12g}") or 0.0), float(f"{end:.12g}")


def round_ticks(low: float, high: float, count: int = 5) -> list:
    """About ``count`` round tick values (1, 2 or 5 times a power of ten apart) within
    ``[low, high]`` (bqplot's ``num_ticks`` divides the domain evenly: 0.333, 0.667 ...)."""
    span = high - low
    if not span > 0:
        return [float(low)]
    step = 10 ** math.floor(math.log10(span / count))
    error = span / count / step
    step *= 10 if error >= 7.07 else 5 if error >= 3.16 else 2 if error >= 1.41 else 1
    first = math.ceil(low / step - 1e-9)
    ticks = []
    while (first + len(ticks)) * step <= high + step * 1e-9:
        ticks.append(float(f"{(first + len(ticks)) * step:.12g}") + 0.0)  # + 0.0: no -0
    return ticks


def shorten(text, limit: int = MAX_LABEL) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis when longer."""
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def label_margin(labels, low: int = 60, high: int = 20 + int(CHAR_PX * MAX_LABEL)) -> int:
    """A left margin (px) that holds the longest tick label, between ``low`` and ``high``."""
    longest = max((len(str(label)) for label in labels), default=0)
    return int(min(max(low, math.ceil(CHAR_PX * longest) + 20), high))


def set_left_margin(fig, labels, **limits):
    """Widen or narrow ``fig``'s left margin to its tick labels (only when it changes)."""
    left = label_margin(labels, **limits)
    if fig.fig_margin.get("left") != left:
        fig.fig_margin = {**fig.fig_margin, "left": left}


def file_stem(text: str, default: str = "chart") -> str:
    """A file name stem from a title: lower case words joined by hyphens (``global-importance``)."""
    stem = re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")
    return stem[:60].rstrip("-") or default


class Chart:
    """What every chart offers besides drawing: its figures by part, and image downloads.

    ``save_png`` and ``save_svg`` ask the browser that shows the figure to download it as drawn
    (bqplot's own export: the browser renders the SVG, so the file is what the reader sees).
    Nothing is written by Python; a figure that is not displayed anywhere downloads nothing.
    """

    figure = None
    #: File name stem of the downloads (set from the title).
    name = "chart"

    @property
    def figures(self) -> dict:
        """The chart's bqplot figures by part name ("" for a single figure)."""
        return {"": self.figure}

    def _part(self, part: str):
        figures = self.figures
        if part not in figures:
            raise NBExplainError(f"{type(self).__name__} has no part {part!r}; its parts are {list(figures)}.")
        return figures[part]

    def filename(self, extension: str, part: str = "", stem: str | None = None) -> str:
        stem = stem or self.name
        return f"{stem}-{part}.{extension}" if part else f"{stem}.{extension}"

    def save_png(self, filename: str | None = None, part: str = "", scale: float = 2.0) -> str:
        """Download the figure (``part`` of it) as PNG in the browser showing it; returns the name."""
        filename = filename or self.filename("png", part)
        self._part(part).save_png(filename, scale=scale)
        return filename

    def save_svg(self, filename: str | None = None, part: str = "") -> str:
        """Download the figure (``part`` of it) as SVG in the browser showing it; returns the name."""
        filename = filename or self.filename("svg", part)
        self._part(part).save_svg(filename)
        return filename

    def toolbar(self, stem=None):
        """Small PNG and SVG buttons for every part of the chart (``stem``: a file name stem, or
        a function returning one at click time)."""
        import ipywidgets

        return ipywidgets.HBox(image_buttons(self, stem), layout={"flex_flow": "row wrap"})


def download_button(description: str, tooltip: str, on_click, icon: str = "download"):
    """A compact button; ``on_click`` gets no argument."""
    import ipywidgets

    button = ipywidgets.Button(
        description=description,
        tooltip=tooltip,
        icon=icon,
        layout={"width": "auto", "height": "28px", "padding": "0 8px", "margin": "2px 4px 2px 0"},
    )
    button.add_class("nbexplain-download")
    button.on_click(lambda _: on_click())
    return button


def image_buttons(chart, stem=None, guard=None) -> list:
    """PNG and SVG buttons per part of ``chart`` (a :class:`Chart`, or a function returning the
    chart shown now). ``stem`` is the file name stem or a function returning it; ``guard`` wraps
    the click callbacks (a view's error area)."""

    def current():
        return chart() if callable(chart) and not isinstance(chart, Chart) else chart

    def name(extension, part):
        chosen = stem() if callable(stem) else stem
        return current().filename(extension, part, chosen)

    def save(kind, part):
        shown = current()
        if kind == "png":
            shown.save_png(name("png", part), part=part)
        else:
            shown.save_svg(name("svg", part), part=part)

    wrap = guard or (lambda callback: callback)
    buttons = []
    for part in current().figures:
        for kind in ("png", "svg"):
            label = f"{kind.upper()} {part}".strip()
            button = download_button(
                label,
                f"Download the {part or 'chart'} as {kind.upper()}",
                wrap(lambda kind=kind, part=part: save(kind, part)),
            )
            button.add_class(f"nbexplain-download-{kind}")
            buttons.append(button)
    return buttons
