"""Serving dashboards: Voila on localhost (or, with a token, to a room), and the headless browser
the tests and benchmarks drive. ``limits.py`` is what Voila itself loads (kernel cap, token)."""

from .browser import CHROMIUM_ARGS, chromium_path, launch_chromium, local_only
from .pages import bundle_notebook
from .voila import (
    LocalServer,
    PortInUseError,
    ServeError,
    VoilaServer,
    check_port,
    dashboard_notebook,
    free_port,
    is_loopback,
)

__all__ = [
    "CHROMIUM_ARGS",
    "LocalServer",
    "PortInUseError",
    "ServeError",
    "VoilaServer",
    "bundle_notebook",
    "check_port",
    "chromium_path",
    "dashboard_notebook",
    "free_port",
    "is_loopback",
    "launch_chromium",
    "local_only",
]
