"""Explorer widgets (ipywidgets 8 + bqplot + one anywidget front-end) and the dashboard.

One :class:`ExplorerController` makes the one pass over the rows and answers every view; the
views observe it and render :class:`~nbexplain.Explanation` objects through :mod:`nbexplain.charts`.
The embedded demo's wiring is in :mod:`nbexplain.widgets.demo`.
"""

from .controller import ExplorerController, PickedSample
from .dashboard import Dashboard
from .lags import LagView
from .local import LocalView
from .overview import GlobalView
from .picker import SamplePicker
from .reasons import PopulationView, ReasonsView
from .source import ExplorerData
from .whatif import WhatIfEditor, feature_specs

__all__ = [
    "Dashboard",
    "ExplorerController",
    "ExplorerData",
    "GlobalView",
    "LagView",
    "LocalView",
    "PickedSample",
    "PopulationView",
    "ReasonsView",
    "SamplePicker",
    "WhatIfEditor",
    "feature_specs",
]
