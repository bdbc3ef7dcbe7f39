"""Every notebook in notebooks/ runs headlessly, top to bottom, in a real kernel (nbclient)."""

from pathlib import Path

import nbclient
import nbformat
import pytest
from test_quiet_start import CHATTER

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))
#: Short versions of the long runs; the kernels inherit the environment (and the session's cache).
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
#: A code cell whose last line starts with one of these displays one widget.
VIEWS = (
    "demo_dashboard(",
    "SamplePicker(",
    "LocalView(",
    "WhatIfEditor(",
    "GlobalView(",
    "LagView(",
    "Dashboard(",
    "ReasonsView(",
    "PopulationView(",
)
SHORT_RUN = {"NBEXPLAIN_REPEATS": "1", "NBEXPLAIN_LIME_INSTANCES": "5"}


def test_there_are_notebooks():
    assert {
        "paper_simulation.ipynb",
        "paper_credit.ipynb",
        "dashboard.ipynb",
        "explore.ipynb",
        "adverse_action.ipynb",
    } <= {p.name for p in NOTEBOOKS}


@pytest.mark.training
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, tmp_path, monkeypatch):
    for name, value in SHORT_RUN.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)  # the kernel starts as a user's would
    notebook = nbformat.read(path, as_version=4)
    nbclient.NotebookClient(
        notebook, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    stderr = "".join(o.text for o in outputs if o.output_type == "stream" and o.name == "stderr")
    assert not CHATTER.search(stderr), f"TensorFlow start-up lines reached the notebook: {stderr[:2000]}"
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == sum("figure" in cell.source for cell in notebook.cells if cell.cell_type == "code")
    for cell in notebook.cells:
        if cell.cell_type == "code" and cell.source.splitlines()[-1].startswith(VIEWS):
            assert any(WIDGET_VIEW in o.get("data", {}) for o in cell.outputs), f"no widget from: {cell.source}"
