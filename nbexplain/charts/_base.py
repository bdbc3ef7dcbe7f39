"""What every chart shares: input checks and a compact figure."""

from __future__ import annotations

from ..errors import NBExplainError
from ..results import Explanation

MARGIN = {"top": 30, "bottom": 40, "left": 150, "right": 20}
POSITIVE, NEGATIVE, NEUTRAL = "#c0392b", "#2e6da4", "#7f8c8d"


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
    import bqplot

    margin = dict(MARGIN, left=MARGIN["left"] if left is None else left)
    return bqplot.Figure(
        marks=marks,
        axes=axes,
        title=title,
        fig_margin=margin,
        layout={"height": f"{height}px", "width": "100%", "min_width": "320px"},
    )
