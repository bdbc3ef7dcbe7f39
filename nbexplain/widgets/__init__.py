"""Explorer widgets (ipywidgets 8 + bqplot + one anywidget front-end) and the dashboard.

One :class:`ExplorerController` makes the gradient pass and answers every view; the views
observe it and render :class:`~nbexplain.Explanation` objects through :mod:`nbexplain.charts`.
"""
from .controller import ExplorerController, PickedSample
from .dashboard import Dashboard, demo_dashboard
from .lags import LagView
from .local import LocalView
from .overview import GlobalView
from .picker import SamplePicker
from .reasons import PopulationView, ReasonsView
from .source import ExplorerData
from .whatif import WhatIfEditor, feature_specs

__all__ = ["Dashboard", "ExplorerController", "ExplorerData", "GlobalView", "LagView", "LocalView",
           "PickedSample", "PopulationView", "ReasonsView", "SamplePicker", "WhatIfEditor", "demo_dashboard",
           "feature_specs"]
