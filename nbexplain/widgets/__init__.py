"""Explorer widgets (ipywidgets 8 + bqplot + anywidget front-ends) and the dashboard.

One :class:`ExplorerController` makes the one pass over the rows and answers every view; the
views observe it and render :class:`~nbexplain.Explanation` objects through :mod:`nbexplain.charts`.
:class:`FicoDisplay` shows the whole computation of a two-layer additive risk model (the FICO
entry) with its factors, consistent rule and case table. The embedded demo's wiring is in
:mod:`nbexplain.widgets.demo`.
"""

from .controller import ExplorerController, PickedSample
from .dashboard import Dashboard
from .fico import FicoDisplay
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
    "FicoDisplay",
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
