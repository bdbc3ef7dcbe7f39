"""Headless Debian chromium through Playwright, for the browser tests and the dashboard benchmarks
(Playwright's own browser download needs the internet, which these machines lack)."""

from __future__ import annotations

import os
import shutil

#: Chromium flags that work on a machine with no network but localhost.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)


def chromium_path() -> str | None:
    """Debian's chromium (Playwright's own browser download cannot work without internet)."""

    return os.environ.get("NBEXPLAIN_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def launch_chromium(playwright):
    """Headless Debian chromium through Playwright, with the flags above."""
    path = chromium_path()
    if path is None:
        raise RuntimeError("Chromium is not installed: apt-get install -y chromium (or set NBEXPLAIN_CHROMIUM).")
    return playwright.chromium.launch(executable_path=path, headless=True, args=list(CHROMIUM_ARGS))


def local_only(page):
    """Abort every request that does not go to 127.0.0.1: a page waiting on the internet would hang
    here (VoilaServer's template asks no CDN for anything; stock Voila 0.5 asks one for Font Awesome)."""
    page.route(
        "**/*", lambda route: route.continue_() if route.request.url.startswith("http://127.0.0.1") else route.abort()
    )
