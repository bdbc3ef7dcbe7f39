"""The embedded demo's dashboards: the cached demo models on the embedded credit data, their
titles, comparisons and selection experiment. The generic :class:`~nbexplain.widgets.Dashboard`
knows nothing of this module.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .._files import file_sha256
from ..datasets import load_demo
from ..datasets._cache import cache_dir, cached_entry_digest
from ..datasets.credit import CATEGORY_LABELS, CREDIT_FEATURES, credit_reason_catalogue
from ..datasets.demo import OUTCOME_LABELS, DemoModel, cached_selection_errors, demo_comparisons, selection_path
from ..engine.protocol import ModelExplainers
from ..errors import NBExplainError, unknown_name
from ..results.bundle import open_bundle
from ._errors import ErrorArea
from .bundle import build_bundle, bundle_explorer_data
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


def demo_bundle(name: str = "credit_fcn", rows: str = "train", progress: bool = True) -> Path:
    """The explanation bundle of a demo model in the cache, with the model artifact it records:
    built on first use, rebuilt when the cached model or its selection experiment changed (known
    from their cache entries, without loading TensorFlow)."""
    folder = cache_dir()
    path, artifact = folder / f"{name}-{rows}.nbxbundle", folder / f"{name}.nbx"
    current = {"demo": name, "rows": rows, "model_sha256": cached_entry_digest(name)}
    if path.is_dir() and artifact.is_file():
        try:
            stored = open_bundle(path).record.get("source", {})
        except NBExplainError:
            stored = {}
        if (
            current["model_sha256"] is not None
            and stored.get("model_sha256") == current["model_sha256"]
            and (stored.get("selection") == _selection_digest(stored.get("selection_file")))
        ):
            return path
    demo = load_demo(name, progress=progress)
    demo.save(artifact)
    selection_file = str(selection_path(demo)) if name == "credit_fcn" else None
    data = demo_explorer_data(demo, rows=rows, selection_errors=cached_selection_errors(demo))
    return build_bundle(
        data,
        path,
        model_file=artifact,
        progress=progress,
        source={
            **current,
            "model_sha256": cached_entry_digest(name),
            "selection_file": selection_file,
            "selection": _selection_digest(selection_file),
        },
    )


def _selection_digest(path) -> str | None:
    """SHA-256 of a selection experiment's cache entry (None when there is none)."""
    return file_sha256(path) if path and Path(path).is_file() else None


def demo_model_dashboard(name: str = "credit_fcn", rows: str = "train", **options) -> Dashboard:
    """The dashboard of one demo model, opened on its explanation bundle: browsing imports no
    TensorFlow; the bundle is built on first use (with progress bars)."""
    return Dashboard(bundle_explorer_data(demo_bundle(name, rows)), **options)


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
