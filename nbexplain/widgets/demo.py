"""The embedded demo's dashboards: the cached demo models on the embedded credit data, their
titles, comparisons and selection experiment. The generic :class:`~nbexplain.widgets.Dashboard`
knows nothing of this module.
"""

from __future__ import annotations

import numpy as np

from ..datasets import load_demo
from ..datasets.credit import CATEGORY_LABELS, CREDIT_FEATURES, credit_reason_catalogue
from ..datasets.demo import OUTCOME_LABELS, DemoModel, cached_selection_errors, demo_comparisons
from ..engine.protocol import ModelExplainers
from ..errors import unknown_name
from ._errors import ErrorArea
from .dashboard import Dashboard
from .source import ExplorerData

TITLES = {
    "credit_fcn": "Credit default network (64 tanh units, 23 features)",
    "credit_lstm": "Payment-history LSTM (6 months x 3 channels + 5 static features)",
}
CHOICES = {"credit_fcn": "Credit network (dense)", "credit_lstm": "Payment-history LSTM"}


def demo_explorer_data(
    demo: DemoModel, rows: str = "train", comparisons: bool = True, selection_errors=None
) -> ExplorerData:
    """The explorer view of a demo model on its ``"train"``, ``"test"`` or ``"all"`` rows, with
    the raw UCI columns, the reason catalogue and (for the dense network) the paper's comparisons."""
    positions = {"train": demo.train_rows, "test": demo.test_rows, "all": np.arange(len(demo.frame))}
    if rows not in positions:
        raise unknown_name("row set", rows, positions)
    chosen = positions[rows]
    frame = demo.frame.iloc[chosen][list(CREDIT_FEATURES)]
    elements = demo.artifact.elements() if demo.name == "credit_lstm" else {}
    record = demo.record
    description = {
        "model": demo.name,
        "rows": f"{rows} ({len(chosen):,})",
        "test error": f"{record.get('test_error', float('nan')):.2%}",
        "trained for": f"{record.get('epochs', '?')} epochs",
    }
    return ExplorerData(
        ModelExplainers.for_keras(demo.model, **demo.explainer_options()),
        frame,
        demo.model_inputs,
        elements,
        demo.target[chosen],
        CATEGORY_LABELS,
        TITLES[demo.name],
        "P(default)",
        OUTCOME_LABELS,
        0.5,
        demo_comparisons(demo, chosen) if comparisons else {},
        selection_errors or {},
        description,
        credit_reason_catalogue(),
    )


def demo_model_dashboard(name: str = "credit_fcn", rows: str = "train", **options) -> Dashboard:
    """The dashboard of one cached demo model (built on first use, with a progress bar)."""
    demo = load_demo(name)
    return Dashboard(demo_explorer_data(demo, rows=rows, selection_errors=cached_selection_errors(demo)), **options)


def demo_dashboard(models=("credit_fcn", "credit_lstm"), **options):
    """The stakeholder dashboard of the embedded demo: one dashboard per demo model, chosen with
    a toggle.

    The first model's dashboard is built at once; another is built the first time it is chosen
    (a second gradient pass the reader may never need), with a progress bar meanwhile. Only the
    chosen dashboard is in the page, so its charts are laid out while visible (bqplot's heatmap
    does not lay itself out again when a hidden tab is shown).
    """
    import ipywidgets

    errors = ErrorArea()
    dashboards = {models[0]: demo_model_dashboard(models[0], **options)}
    choice = ipywidgets.ToggleButtons(
        options=[(CHOICES.get(name, name), name) for name in models], style={"button_width": "220px"}
    )
    choice.add_class("nbexplain-model-choice")
    stage = ipywidgets.Box([dashboards[models[0]].widget], layout={"width": "100%"})

    def show(change):
        name = change["new"]
        if name not in dashboards:
            stage.children = [
                ipywidgets.IntProgress(
                    value=1, max=2, description=f"loading {name}", style={"description_width": "initial"}
                )
            ]
            dashboards[name] = demo_model_dashboard(name, **options)
        stage.children = [dashboards[name].widget]

    choice.observe(errors.guard(show), names="value")
    page = ipywidgets.VBox([choice, errors.widget, stage], layout={"width": "100%"})
    page.add_class("nbexplain-demo")
    page.dashboards = dashboards
    return page
