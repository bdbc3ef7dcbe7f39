"""The exploration notebook in a real JupyterLab 4 server and browser: run every cell and see the
widgets render (bqplot charts, the anywidget what-if editor, the lag heatmap), with no widget
error and no uncaught page error."""

import shutil
import sys
from pathlib import Path

import pytest
from browser_fixtures import ARTIFACTS

from nbexplain.serve import LocalServer
from nbexplain.widgets.picker import DENSITY_GRID

pytestmark = [pytest.mark.browser, pytest.mark.training]
NOTEBOOK = Path(__file__).parent.parent / "notebooks" / "explore.ipynb"


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory, demo_models):
    root = tmp_path_factory.mktemp("lab")
    shutil.copy(NOTEBOOK, root / NOTEBOOK.name)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def command(port):
        return [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            f"--port={port}",
            "--ServerApp.ip=127.0.0.1",
            "--ServerApp.port_retries=0",
            "--IdentityProvider.token=",
            "--ServerApp.password=",
            "--ServerApp.disable_check_xsrf=True",
            f"--ServerApp.root_dir={root}",
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--allow-root",
        ]

    env = {
        "JUPYTER_RUNTIME_DIR": str(root / ".runtime"),
        "JUPYTERLAB_WORKSPACES_DIR": str(root / ".ws"),
        "JUPYTERLAB_SETTINGS_DIR": str(root / ".settings"),
    }
    with LocalServer(command, "api/status", log=ARTIFACTS / "jupyterlab.log", name="jupyter lab", env=env) as lab:
        yield lab.url


def test_exploration_notebook_renders_its_widgets_in_jupyterlab(jupyterlab, page, screenshots):
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(jupyterlab + "lab/tree/explore.ipynb", timeout=120_000)
    page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=120_000)
    page.locator("#jp-main-statusbar", has_text="Idle").wait_for(timeout=120_000)
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel").get_by_text("Run All Cells", exact=True).click()
    page.locator(".nbexplain-lags svg .heatmapcell").first.wait_for(state="attached", timeout=240_000)
    page.locator(".nbexplain-whatif .wi-row").first.wait_for(state="attached", timeout=60_000)
    columns, rows = DENSITY_GRID
    assert page.locator(".nbexplain-picker svg .heatmapcell").count() == columns * rows, "every row counted"
    assert page.locator(".nbexplain-local svg rect.bar").count() == 10
    assert page.locator(".nbexplain-lags svg .heatmapcell").count() == 18
    outputs = " ".join(page.locator(".jp-OutputArea-output").all_inner_texts())
    assert "Error displaying widget" not in outputs and "Traceback" not in outputs
    assert "P(default)" in outputs
    page.locator(".nbexplain-whatif").first.scroll_into_view_if_needed()
    page.screenshot(path=screenshots / "jupyterlab-explore.png")
    assert not page.errors
