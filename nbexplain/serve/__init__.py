"""Serving dashboards: Voila on localhost (or beyond, when asked), and the headless browser the
tests and benchmarks drive."""

from .browser import CHROMIUM_ARGS, chromium_path, launch_chromium, local_only
from .evidence import evidence_html, write_evidence_pack
from .pages import bundle_notebook
from .voila import LocalServer, VoilaServer, dashboard_notebook, free_port

__all__ = [
    "CHROMIUM_ARGS",
    "LocalServer",
    "VoilaServer",
    "bundle_notebook",
    "chromium_path",
    "dashboard_notebook",
    "evidence_html",
    "free_port",
    "launch_chromium",
    "local_only",
    "write_evidence_pack",
]
