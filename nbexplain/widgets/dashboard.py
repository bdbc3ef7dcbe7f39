"""The explorer dashboard: every view of one model composed, for JupyterLab and Voila."""

from __future__ import annotations

import html

from ..charts._base import download_button
from ..credit.evidence import evidence_html
from ._errors import ErrorArea
from ._export import ExportBar
from ._progress import passing_progress
from .controller import ExplorerController
from .lags import LagView
from .local import LocalView
from .overview import GlobalView
from .picker import SamplePicker
from .reasons import PopulationView, ReasonsView
from .whatif import WhatIfEditor


class StatusLine:
    """What the controller is waiting for (loading the model on first use), with a spinner;
    hidden when idle."""

    def __init__(self, controller):
        import ipywidgets

        self.widget = ipywidgets.HTML(layout={"display": "none"})
        self.widget.add_class("nbexplain-status")
        controller.observe(self._show, names="status")

    def _show(self, change):
        message = change["new"]
        self.widget.value = (
            "<div role='status' style='color:#1f4e79;background:#eaf2fb;border:1px solid #9cc3e6;padding:6px 10px;"
            "border-radius:4px'><span style='display:inline-block;width:10px;height:10px;margin-right:8px;"
            "border:2px solid #1f4e79;border-top-color:transparent;border-radius:50%;"
            "animation:nbexplain-spin 0.8s linear infinite'></span>"
            f"{html.escape(message)}<style>@keyframes nbexplain-spin{{to{{transform:rotate(360deg)}}}}</style></div>"
        )
        self.widget.layout.display = "block" if message else "none"


class Dashboard:
    """Picker, local view, what-if editor, global views, (for recurrent models) the lag heatmap,
    the adverse-action reasons panel and the population comparison of one model, sharing one
    controller and one visible error area.

    ``Dashboard(ExplorerData.from_keras(model, X, y, target=1))``; display it, or serve the
    notebook with Voila (the embedded demo is :func:`nbexplain.widgets.demo.demo_dashboard`).
    """

    @passing_progress()
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
        facts = " · ".join(
            f"{html.escape(str(k))}: {html.escape(str(v))}" for k, v in controller.data.description.items()
        )
        self.header = ipywidgets.HTML(
            f"<h3 style='margin:4px 0'>{html.escape(controller.data.title)}</h3><div style='color:#555'>{facts}</div>"
        )
        self.status = StatusLine(controller)
        self.evidence = ExportBar(errors=self.errors)
        bundle = controller.data.bundle
        if bundle is not None:  # the evidence pack is written from the bundle's stored results
            button = download_button(
                "Evidence pack",
                "Download the model's evidence pack: one self-contained HTML file (global importance, selection "
                "curve, comparison, reasons and their validation) that opens without a kernel or a network",
                self.errors.guard(self.save_evidence_pack),
                icon="file-text",
            )
            button.add_class("nbexplain-download-evidence")
            self.evidence.add(button)
        row = {"flex_flow": "row wrap", "align_items": "flex-start", "width": "100%", "grid_gap": "12px"}
        children = [
            ipywidgets.HBox([self.header, self.evidence.widget], layout={"justify_content": "space-between"}),
            self.status.widget,
            self.errors.widget,
            ipywidgets.HBox([self.picker.widget, self.local.widget], layout=row),
            ipywidgets.HBox([self.editor.widget, self.overview.widget], layout=row),
        ]
        if self.lags is not None:
            children.append(ipywidgets.HBox([self.lags.widget], layout=row))
        children.append(ipywidgets.HBox([self.reasons.widget, self.population.widget], layout=row))
        self.widget = ipywidgets.VBox(children, layout={"width": "100%"})
        self.widget.add_class("nbexplain-dashboard")

    def save_evidence_pack(self) -> str:
        """Send the evidence pack of the dashboard's bundle to the browser; returns the file name."""
        bundle = self.controller.data.bundle
        stem = "".join(c if c.isalnum() else "-" for c in self.controller.data.title.lower()).strip("-")
        return self.evidence.save_text(f"evidence-pack-{stem or 'model'}.html", evidence_html(bundle))

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)
