"""What every explorer view shares: its controller, an error area and notebook display."""

from __future__ import annotations

from ._errors import ErrorArea


class View:
    """A plain object holding one controller and the ipywidgets tree in ``.widget``.

    Views observe the controller and render; callbacks run under ``errors.guard`` so a failure
    shows in a visible area. A view built alone shows its own error area; composed views share
    the dashboard's.
    """

    widget = None

    def __init__(self, controller, errors: ErrorArea | None = None):
        self.controller = controller
        self.owns_errors = errors is None
        self.errors = ErrorArea() if errors is None else errors

    def _compose(self, *children, **layout):
        import ipywidgets

        parts = [*children, self.errors.widget] if self.owns_errors else list(children)
        self.widget = ipywidgets.VBox(parts, layout={"min_width": "340px", "flex": "1 1 0", **layout})
        return self.widget

    def _observe(self, callback, names):
        self.controller.observe(self.errors.guard(callback), names=names)

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)
