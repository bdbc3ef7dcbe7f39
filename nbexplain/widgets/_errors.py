"""A visible place for errors raised in widget callbacks (never swallowed, never only logged)."""

from __future__ import annotations

import functools
import html
import logging
import traceback

from ..errors import NBExplainError

log = logging.getLogger("nbexplain.widgets")


class ErrorArea:
    """An HTML panel that shows the last callback error until the next action succeeds.

    ``guard(callback)`` wraps a callback: an :class:`NBExplainError` shows its message (it says
    what to do); anything else shows its type, message and traceback, and is logged.
    """

    def __init__(self):
        import ipywidgets

        self.widget = ipywidgets.HTML(layout={"display": "none"})
        self.widget.add_class("nbexplain-error")
        self.last = None

    def show(self, error: BaseException):
        self.last = error
        message = html.escape(str(error))
        if isinstance(error, NBExplainError):
            body = f"<b>Cannot do that:</b> {message}"
        else:
            log.exception("widget callback failed", exc_info=error)
            trace = html.escape("".join(traceback.format_exception(error)))
            body = (
                f"<b>{type(error).__name__}:</b> {message}"
                f"<details><summary>traceback</summary><pre>{trace}</pre></details>"
            )
        self.widget.value = (
            f'<div role="alert" style="color:#8b1a1a;background:#fdecea;border:1px solid #e6a5a0;'
            f'padding:6px 10px;border-radius:4px">{body}</div>'
        )
        self.widget.layout.display = "block"

    def clear(self):
        self.last = None
        self.widget.value = ""
        self.widget.layout.display = "none"

    def guard(self, callback):
        @functools.wraps(callback)
        def guarded(*args, **kwargs):
            try:
                result = callback(*args, **kwargs)
            except Exception as error:  # shown to the user, see show()
                self.show(error)
                return None
            self.clear()
            return result

        return guarded
