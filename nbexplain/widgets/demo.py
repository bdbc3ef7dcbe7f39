"""The embedded demo's dashboards: the cached demo models on the embedded credit data, their
titles, comparisons and selection experiment. The generic :class:`~nbexplain.widgets.Dashboard`
knows nothing of this module.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._files import file_sha256
from ..datasets import load_demo
from ..datasets._cache import cache_dir, cached_entry_digest
from ..datasets.credit import CATEGORY_LABELS, CREDIT_FEATURES, credit_reason_catalogue
from ..datasets.demo import (
    OUTCOME_LABELS,
    TREE_DEMOS,
    DemoModel,
    cached_selection_errors,
    demo_comparisons,
    selection_path,
)
from ..datasets.tree_demo import TITLES as TREE_TITLES
from ..engine.baselines import AverageInput
from ..engine.protocol import ModelExplainers
from ..errors import NBExplainError, unknown_name
from ..results.bundle import open_bundle
from ._errors import ErrorArea
from ._progress import passing_progress
from .bundle import build_bundle, bundle_explorer_data
from .dashboard import Dashboard
from .source import ExplorerData

#: The FICO entry's choice: a two-layer additive risk model on the embedded HELOC-schema data.
FICO = "fico_heloc"
TITLES = {
    "credit_fcn": "Credit default network (64 tanh units, 23 features)",
    "credit_lstm": "Payment-history LSTM (6 months x 3 channels + 5 static features)",
    **TREE_TITLES,
    FICO: "FICO HELOC: two-layer additive risk model (Chen, Lin, Rudin, Shaposhnik, Wang & Wang 2018)",
}
CHOICES = {
    "credit_fcn": "Credit network (dense)",
    "credit_lstm": "Payment-history LSTM",
    "credit_xgb": "XGBoost",
    "credit_stack": "Stack: XGBoost + LightGBM + network",
    FICO: "FICO HELOC: two-layer additive model",
}
#: The demo models of the dashboard's model choice, in its order.
DASHBOARD_MODELS = ("credit_fcn", "credit_lstm", "credit_xgb", "credit_stack", FICO)
#: The rows a demo's dashboard explains by default: the networks' training rows (25,000, as in
#: the paper); the held-out test rows (5,000) for the tree demos, whose Generalized Integrated
#: Gradients cost more per row than a gradient.
DEFAULT_ROWS = dict.fromkeys(TREE_DEMOS, "test")
#: Denied rows whose reasons a demo bundle validates (a seeded sample, said so in its record):
#: fewer for the tree demos, whose validation against baselines drawn from real applicants (ties
#: of integer features split exactly) costs most of their bundle.
VALIDATED_ROWS = dict.fromkeys(TREE_DEMOS, 60)


def demo_explorer_data(
    demo: DemoModel, rows: str | None = None, comparisons: bool = True, selection_errors=None
) -> ExplorerData:
    """The explorer view of a demo model on its ``"train"``, ``"test"`` or ``"all"`` rows (default:
    :data:`DEFAULT_ROWS`), with the raw UCI columns, the reason catalogue and (for the models that
    read the raw columns) the paper's comparisons.

    A network is explained by its sensitivities (rows) and Integrated Gradients (reasons); a tree
    model or a stack by Generalized Integrated Gradients against one documented baseline, the
    average input of the explorer's rows (the reasons panel's default baseline too): its global
    importance is the mean absolute attribution. Tree models read the raw columns, so the rows
    are fed to them as they are shown."""
    rows = rows or DEFAULT_ROWS.get(demo.name, "train")
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
    }
    if record.get("test_auc") is not None:
        description["test AUC"] = f"{record['test_auc']:.3f}"
    if demo.kind == "keras":
        description["trained for"] = f"{record.get('epochs', '?')} epochs"
        explainers = ModelExplainers.for_keras(demo.model, **demo.explainer_options())
    else:
        if demo.kind == "trees":
            description["trees"] = f"{record.get('trees', '?')} (depth {record.get('depth', '?')})"
        else:
            members = record.get("members", {})
            description["members' test error"] = ", ".join(
                f"{name} {members[name]['test_error']:.2%}"
                for name in ("xgboost", "lightgbm", "network")
                if members.get(name, {}).get("test_error") is not None
            )
        description["method"] = "Generalized Integrated Gradients against the average input of these rows"
        baseline = AverageInput(demo.model_inputs(frame))
        explainers = ModelExplainers.for_trees(demo.model, baseline, **demo.explainer_options())
    return ExplorerData(
        explainers,
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


#: Bumped when what a demo bundle records changes (its description, its views): older bundles
#: are rebuilt once.
BUNDLE_FORMAT = 2


def demo_bundle(
    name: str = "credit_fcn", rows: str | None = None, progress: bool = True, demo: DemoModel | None = None
) -> Path:
    """The explanation bundle of a demo model in the cache, with the model artifact it records:
    built on first use, rebuilt when the cached model or its selection experiment changed (known
    from their cache entries, without loading TensorFlow). ``rows``: see :func:`demo_explorer_data`.
    A tree model's or a stack's bundle records its cache entry itself (an artifact already).
    ``demo``: the loaded demo model ``name`` to bundle when one must be built (default:
    ``load_demo(name)``; one loaded with other options, e.g. fewer rows, is its cache entry)."""
    rows = rows or DEFAULT_ROWS.get(name, "train")
    folder = cache_dir()
    path, artifact = folder / f"{name}-{rows}.nbxbundle", folder / f"{name}.nbx"
    current = {"demo": name, "rows": rows, "format": BUNDLE_FORMAT, "model_sha256": cached_entry_digest(name)}
    if path.is_dir() and artifact.is_file():
        try:
            stored = open_bundle(path).record.get("source", {})
        except NBExplainError:
            stored = {}
        if (
            current["model_sha256"] is not None
            and stored.get("model_sha256") == current["model_sha256"]
            and stored.get("format") == BUNDLE_FORMAT
            and (stored.get("selection") == _selection_digest(stored.get("selection_file")))
        ):
            return path
    if demo is None:
        demo = load_demo(name, progress=progress)
    elif demo.name != name:
        raise NBExplainError(f"demo_bundle({name!r}) was given the demo model {demo.name!r}.")
    if demo.kind == "keras":
        demo.save(artifact)
    elif demo.record["cache"].get("path"):  # the cache entry is the artifact
        artifact = Path(demo.record["cache"]["path"])
    else:  # trained but not stored: saved beside, for the what-if
        artifact = folder / f"{name}-model.nbx"
        demo.save(artifact)
    selection_file = str(selection_path(demo)) if name == "credit_fcn" else None
    data = demo_explorer_data(demo, rows=rows, selection_errors=cached_selection_errors(demo))
    return build_bundle(
        data,
        path,
        model_file=artifact,
        progress=progress,
        validate=VALIDATED_ROWS.get(name, 300),
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


@passing_progress()
def demo_model_dashboard(name: str = "credit_fcn", rows: str | None = None, **options) -> Dashboard:
    """The dashboard of one demo model, opened on its explanation bundle: browsing imports no
    TensorFlow; the bundle is built on first use (with progress bars)."""
    return Dashboard(bundle_explorer_data(demo_bundle(name, rows)), **options)


@dataclass(frozen=True, eq=False)
class FicoDemo:
    """The FICO entry on the embedded HELOC-schema data: the fitted model, the past cases (its
    training rows, for rules and case tables), the demo applicants (test rows) and facts."""

    model: Any
    past: Any
    cases: Any
    X_test: Any
    y_test: np.ndarray
    facts: Mapping = field(default_factory=dict)


@functools.cache
def fico_demo(seed: int = 0, applicants: int = 6) -> FicoDemo:
    """Fit the FICO entry's model on the embedded HELOC-schema data (:func:`~nbexplain.datasets.make_heloc`,
    rows where every feature is -9 dropped, a stratified 80/20 split): well under a second, so it
    is fitted at first use and kept in memory. The demo applicants are test rows predicted Bad
    and Good in turn (seeded)."""
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import train_test_split

    from ..credit import PastCases
    from ..datasets import make_heloc
    from ..datasets.heloc import HELOC_FEATURES, HELOC_TARGET
    from ..model.additive import AdditiveRiskModel, binary_target

    frame = make_heloc(seed=seed)
    features = frame[list(HELOC_FEATURES)]
    frame = frame[~(features == -9).all(axis=1).to_numpy()]
    X = frame[list(HELOC_FEATURES)]
    y = binary_target(frame[HELOC_TARGET], len(frame)).astype(int)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, stratify=y, random_state=seed)
    model = AdditiveRiskModel().fit(X_train, y_train)
    past = PastCases.from_model(model, X_train, y_train)
    risk = model.risk(X_test)
    predicted = (risk > past.threshold).astype(int)
    order = np.random.default_rng(seed).permutation(len(X_test))
    by_class = [order[predicted[order] == c] for c in (1, 0)]
    chosen = [int(group[i]) for i in range(applicants) for group in by_class if i < len(group)][:applicants]
    facts = {
        "data": f"embedded HELOC-schema data (make_heloc, seed {seed}; no real person)",
        "past cases": f"{len(X_train):,} training rows",
        "test accuracy": f"{np.mean(predicted == y_test):.1%}",
        "test AUC": f"{roc_auc_score(y_test, risk):.3f}",
    }
    return FicoDemo(model, past, X_test.iloc[chosen], X_test, y_test, facts)


@passing_progress()
def fico_dashboard(seed: int = 0, generic_views: bool = True, errors=None, **options):
    """The FICO entry's display on the embedded HELOC-schema data (:func:`fico_demo`), with a
    header saying what it shows and (``generic_views``) the dashboard's generic views of the same
    model below it: the picker, local importance and reasons panel on the test rows, through
    ``ModelExplainers.for_additive`` (exact attributions), kept on the display's applicant
    (:meth:`~nbexplain.widgets.fico.FicoDisplay.follow`)."""
    import html

    import ipywidgets

    from .controller import ExplorerController
    from .fico import FicoDisplay
    from .local import LocalView
    from .picker import SamplePicker
    from .reasons import ReasonsView

    demo = fico_demo(seed)
    display = FicoDisplay(demo.model, demo.past, demo.cases, errors=errors, **options)
    facts = " \u00b7 ".join(f"{html.escape(k)}: {html.escape(str(v))}" for k, v in demo.facts.items())
    header = ipywidgets.HTML(
        f"<h3 style='margin:4px 0'>{html.escape(TITLES[FICO])}</h3><div style='color:#555'>{facts}</div>"
        "<div style='color:#555;margin:2px 0 6px'>Edit any input (or click an interval, or pick a special value) and "
        "the whole computation follows: 23 features, their step functions, 10 subscales, the output. Beside it, the "
        "entry's three explanations: the most important contributing factors, the globally consistent rule and the "
        "past cases it covers.</div>"
    )
    children = [header, *display.widget.children]
    if generic_views:
        data = ExplorerData(
            ModelExplainers.for_additive(demo.model),
            demo.X_test,
            target=demo.y_test,
            title=TITLES[FICO],
            outcome="P(Bad)",
            class_labels=("Good", "Bad"),
            threshold=demo.past.threshold,
            description={"rows": f"test ({len(demo.X_test):,})"},
        )
        controller = ExplorerController(data, progress=False)
        views = (
            SamplePicker(controller, errors=display.errors),
            LocalView(controller, errors=display.errors),
            ReasonsView(controller, errors=display.errors),
        )
        display.follow(controller)
        display.generic = views
        row = {"flex_flow": "row wrap", "align_items": "flex-start", "width": "100%", "grid_gap": "12px"}
        children += [
            ipywidgets.HTML(
                "<h4 style='margin:14px 0 2px'>The dashboard's generic views of the same model</h4>"
                "<div style='color:#555'>Exact attributions of P(Bad) (Shapley values within each subscale, through "
                f"the sigmoid head) against the training average, on the {len(demo.X_test):,} test rows. Pick a row "
                "here and the computation above shows it; an edit above is explained here.</div>"
            ),
            ipywidgets.HBox([views[0].widget, views[1].widget], layout=row),
            ipywidgets.HBox([views[2].widget], layout=row),
        ]
    display.widget.children = tuple(children)
    return display


def _model_page(name: str, options: Mapping):
    """One model's page of the demo: a demo model's dashboard (network, tree model, stack), or the
    FICO display."""
    if name == FICO:
        return fico_dashboard()
    return demo_model_dashboard(name, **options)


@passing_progress()
def demo_dashboard(models=DASHBOARD_MODELS, **options):
    """The stakeholder dashboard of the embedded demo: one dashboard per demo model, chosen with
    a toggle (the Keras demo models, the gradient-boosted model and the stacked ensemble, and the
    FICO entry's two-layer additive model, :func:`fico_dashboard`).

    The first model's dashboard is built at once; another is built the first time it is chosen
    (a second gradient pass the reader may never need), with a progress bar meanwhile. Only the
    chosen dashboard is in the page, so its charts are laid out while visible (bqplot's heatmap
    does not lay itself out again when a hidden tab is shown).
    """
    import ipywidgets

    errors = ErrorArea()
    dashboards = {models[0]: _model_page(models[0], options)}
    choice = ipywidgets.ToggleButtons(
        options=[(CHOICES.get(name, name), name) for name in models], style={"button_width": "auto"}
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
            dashboards[name] = _model_page(name, options)
        stage.children = [dashboards[name].widget]

    choice.observe(errors.guard(show), names="value")
    page = ipywidgets.VBox([choice, errors.widget, stage], layout={"width": "100%"})
    page.add_class("nbexplain-demo")
    page.dashboards = dashboards
    return page
