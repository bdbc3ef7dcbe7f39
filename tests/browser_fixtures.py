"""Fixtures for the real-browser tests: Debian chromium through Playwright, Voila serving the
dashboard notebook, and a folder for screenshots (kept as test artefacts)."""

import os
from pathlib import Path

import pytest

from nbexplain.serve import chromium_path, launch_chromium, local_only

ROOT = Path(__file__).parent.parent
ARTIFACTS = Path(os.environ.get("NBEXPLAIN_ARTIFACTS", ROOT / "test-artifacts"))


def _require_chromium():
    if chromium_path() is None:
        message = "Debian chromium is not installed (apt-get install -y chromium); .ci/run installs it."
        if os.environ.get("NBEXPLAIN_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="session")
def screenshots():
    folder = ARTIFACTS / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def browser():
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


def open_page(browser, width=1400, height=1100):
    """A page in a fresh context that only reaches 127.0.0.1 and records uncaught page errors
    in ``page.errors``."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    local_only(page)
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    return page


@pytest.fixture
def page(browser):
    page = open_page(browser)
    yield page
    page.context.close()


@pytest.fixture(scope="session")
def demo_models():
    """Build (or load) the cached demo models in this process, so Voila's kernel only loads them."""
    from nbexplain.datasets import load_demo

    return {name: load_demo(name, progress=False) for name in ("credit_fcn", "credit_lstm")}


@pytest.fixture(scope="session")
def voila_dashboard(demo_models):
    _require_chromium()
    from nbexplain.serve import VoilaServer

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with VoilaServer(ROOT / "notebooks" / "dashboard.ipynb", log=ARTIFACTS / "voila.log") as server:
        yield server
