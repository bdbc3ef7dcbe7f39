"""The explorer dashboard: every view of one model composed, for JupyterLab and Voila."""
from __future__ import annotations

import html

from ._errors import ErrorArea
from .controller import ExplorerController
from .lags import LagView
from .local import LocalView
from .overview import GlobalView
from .picker import SamplePicker
from .reasons import PopulationView, ReasonsView
from .source import ExplorerData
from .whatif import WhatIfEditor


class Dashboard:
    """Picker, local view, what-if editor, global views, (for recurrent models) the lag heatmap,
    the adverse-action reasons panel and the population comparison of one model, sharing one
    controller and one visible error area.

    ``Dashboard(ExplorerData.from_keras(model, X, y, target=1))`` or
    ``Dashboard.from_demo("credit_fcn")``; display it, or serve the notebook with Voila.
    """

    def __init__(self, data, top: int = 10, max_points: int = 2000, progress=None):
        import ipywidgets

        controller = data if isinstance(data, ExplorerController) else ExplorerController(data, progress=progress)
        self.controller = controller
        self.errors = ErrorArea()
        self.picker = SamplePicker(controller, max_points=max_points, errors=self.errors)
        self.local = LocalView(controller, top=top, errors=self.errors)
        self.editor = WhatIfEditor(controller, errors=self.errors)
        self.overview = GlobalView(controller, errors=self.errors)
        self.lags = LagView(controller, errors=self.errors) if controller.recurrent else None
        self.reasons = ReasonsView(controller, errors=self.errors)
        self.population = PopulationView(controller, errors=self.errors)
        facts = " · ".join(f"{html.escape(str(k))}: {html.escape(str(v))}"
                           for k, v in controller.data.description.items())
        self.header = ipywidgets.HTML(f"<h3 style='margin:4px 0'>{html.escape(controller.data.title)}</h3>"
                                      f"<div style='color:#555'>{facts}</div>")
        row = {"flex_flow": "row wrap", "align_items": "flex-start", "width": "100%", "grid_gap": "12px"}
        children = [self.header, self.errors.widget,
                    ipywidgets.HBox([self.picker.widget, self.local.widget], layout=row),
                    ipywidgets.HBox([self.editor.widget, self.overview.widget], layout=row)]
        if self.lags is not None:
            children.append(ipywidgets.HBox([self.lags.widget], layout=row))
        children.append(ipywidgets.HBox([self.reasons.widget, self.population.widget], layout=row))
        self.widget = ipywidgets.VBox(children, layout={"width": "100%"})
        self.widget.add_class("nbexplain-dashboard")

    @classmethod
    def from_demo(cls, name: str = "credit_fcn", rows: str = "train", **options) -> "Dashboard":
        """The dashboard of a cached demo model (built on first use, with a progress bar)."""
        from .._tensorflow import import_quietly
        from ..datasets import load_demo
        from ..datasets.demo import cached_selection_errors

        import_quietly()
        demo = load_demo(name)
        return cls(ExplorerData.from_demo(demo, rows=rows, selection_errors=cached_selection_errors(demo)), **options)

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


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
    dashboards = {models[0]: Dashboard.from_demo(models[0], **options)}
    choice = ipywidgets.ToggleButtons(options=[(_TITLES.get(name, name), name) for name in models],
                                      style={"button_width": "220px"})
    choice.add_class("nbexplain-model-choice")
    stage = ipywidgets.Box([dashboards[models[0]].widget], layout={"width": "100%"})

    def show(change):
        name = change["new"]
        if name not in dashboards:
            stage.children = [ipywidgets.IntProgress(value=1, max=2, description=f"loading {name}",
                                                     style={"description_width": "initial"})]
            dashboards[name] = Dashboard.from_demo(name, **options)
        stage.children = [dashboards[name].widget]

    choice.observe(errors.guard(show), names="value")
    page = ipywidgets.VBox([choice, errors.widget, stage], layout={"width": "100%"})
    page.add_class("nbexplain-demo")
    page.dashboards = dashboards
    return page


_TITLES = {"credit_fcn": "Credit network (dense)", "credit_lstm": "Payment-history LSTM"}
