"""Serving dashboards: Voila on localhost (or beyond, when asked), and the headless browser the
tests and benchmarks drive."""

from .browser import CHROMIUM_ARGS, chromium_path, launch_chromium, local_only
from .voila import LocalServer, VoilaServer, dashboard_notebook, free_port

__all__ = [
    "CHROMIUM_ARGS",
    "LocalServer",
    "VoilaServer",
    "chromium_path",
    "dashboard_notebook",
    "free_port",
    "launch_chromium",
    "local_only",
]
