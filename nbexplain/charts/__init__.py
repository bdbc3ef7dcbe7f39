"""Small bqplot charts that draw :class:`~nbexplain.Explanation` objects (no TensorFlow here).

Each chart builds its marks once; ``update(explanation)`` assigns new data inside
``hold_sync`` so the browser gets one message per update. ``chart.figure`` is the widget.
"""

from .attribution import SignedBars, Waterfall
from .importance import ComparisonBars, CumulativeCurve, ImportanceBars
from .lags import LagHeatmap

__all__ = ["ComparisonBars", "CumulativeCurve", "ImportanceBars", "LagHeatmap", "SignedBars", "Waterfall"]
