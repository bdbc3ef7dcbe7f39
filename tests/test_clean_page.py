"""What a notebook cell that builds a dashboard leaves on the page: the dashboard, not the progress
bars of the work behind it. Run in a real kernel (nbclient), reading the cell's outputs as Voila
and JupyterLab receive them."""

import nbformat
import pytest
from nbclient import NotebookClient

WIDGET = "application/vnd.jupyter.widget-view+json"

SETUP = """
from tqdm.auto import tqdm
from nbexplain.widgets._progress import passing_progress
"""

BARS = """
print("printed by the cell")
with passing_progress():
    for _ in tqdm(range(3), desc="closed at the end", leave=False):
        pass
    for _ in tqdm(range(3), desc="left at 100 %"):
        pass
"""

UNWRAPPED = BARS.replace("with passing_progress():", "if True:")

FAILING = """
with passing_progress():
    for _ in tqdm(range(3), leave=False):
        pass
    raise ValueError("the work failed")
"""

DASHBOARD = """
import keras, numpy as np, pandas as pd
from nbexplain.widgets import Dashboard, ExplorerData

keras.utils.set_random_seed(0)
rng = np.random.default_rng(0)
X = pd.DataFrame(rng.normal(size=(400, 3)), columns=["a", "b", "c"])
y = (X["a"] + 0.5 * X["b"] > 0).astype(int)
layers = [keras.Input((3,)), keras.layers.Dense(4, activation="tanh"), keras.layers.Dense(2, activation="softmax")]
model = keras.Sequential(layers)
model.compile("adam", "sparse_categorical_crossentropy")
model.fit(X.to_numpy(), y.to_numpy(), epochs=2, verbose=0)
board = Dashboard(ExplorerData.from_keras(model, X, y, target=1), progress=True)
board
"""


def cell_outputs(*sources):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in (SETUP, *sources)])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    NotebookClient(notebook, timeout=300, allow_errors=True).execute()
    return [cell.outputs for cell in notebook.cells[1:]]


def widget_outputs(outputs):
    return [o for o in outputs if WIDGET in o.get("data", {})]


@pytest.fixture(scope="module")
def outputs():
    return cell_outputs(UNWRAPPED, BARS, FAILING, DASHBOARD)


def test_without_it_the_bars_stay_on_the_page(outputs):
    """The check can fail: tqdm's two bars (one of them closed) are outputs of a plain cell."""
    assert len(widget_outputs(outputs[0])) == 2


def test_the_bars_are_gone_and_the_cell_s_own_output_stays(outputs):
    bars = outputs[1]
    assert not widget_outputs(bars)
    assert [o["text"] for o in bars if o["output_type"] == "stream"] == ["printed by the cell\n"]


def test_an_error_still_reaches_the_cell_and_its_bars_are_gone(outputs):
    failing = outputs[2]
    errors = [o for o in failing if o["output_type"] == "error"]
    assert [(e["ename"], e["evalue"]) for e in errors] == [("ValueError", "the work failed")]
    assert not widget_outputs(failing)


def test_a_dashboard_built_with_progress_leaves_only_itself(outputs):
    board = outputs[3]
    assert not [o for o in board if o["output_type"] == "error"], board
    shown = widget_outputs(board)
    assert len(shown) == 1 and shown[0]["output_type"] == "execute_result", "the dashboard, and no bar"
