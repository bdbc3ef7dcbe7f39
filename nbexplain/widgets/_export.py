"""Downloads from the views: images of the charts, CSV tables of the results, files built in Python.

The image buttons ask bqplot's front-end to save the figure as drawn (``Figure.save_png`` /
``save_svg``). Tables and records are built in Python when a button is clicked and sent to the
browser in one custom message of :class:`FileDownload` (``js/download.js``), which saves them as
a Blob. Why a message and not a trait or a ``data:`` link: nothing stays in the widget state, so
the page (and a saved notebook) never embeds the files, a table is built only when asked for,
and it is the table of the moment (after the last pick or edit). It works wherever anywidget
works: JupyterLab, Notebook 7 and Voila.
"""

from __future__ import annotations

import functools

from .._static import front_end_base, static_file
from ..charts._base import download_button, image_buttons

CSV = "text/csv;charset=utf-8"
HTML = "text/html;charset=utf-8"


@functools.cache
def _download_class():
    class FileDownload(front_end_base("Downloads")):
        """Saves files built in Python in the browser that shows this widget (it draws nothing)."""

        _esm = static_file("download.js")

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            #: ``(filename, mime, content)`` of the last file sent (what the browser was given).
            self.last: tuple | None = None

        def save(self, filename: str, content: str, mime: str = "text/plain") -> str:
            """Send ``content`` to the browser, which saves it as ``filename``; returns the name."""
            self.last = (filename, mime, content)
            self.send({"type": "download", "filename": filename, "mime": mime, "content": content})
            return filename

    return FileDownload


def FileDownload(**kwargs):
    """The download widget (see :func:`_download_class`)."""
    return _download_class()(**kwargs)


def csv_text(frame) -> str:
    """A table as CSV text: the index is written when it names something (a 1-D result's
    labels), and numbers at full precision, so that ``pandas.read_csv`` gives the table back."""
    import pandas as pd

    named = frame.index.name is not None or not isinstance(frame.index, pd.RangeIndex)
    return frame.to_csv(index=named, lineterminator="\n")


class ExportBar:
    """A row of small download buttons for one panel.

    Parameters
    ----------
    chart : Chart or callable, optional
        The chart whose figures get PNG and SVG buttons (a function returning the chart shown
        now, for a panel that switches charts).
    stem : str or callable, optional
        The image file name stem (or a function returning it at click time).
    tables : dict, optional
        ``{button label: function returning (DataFrame, file name)}``: a CSV button each.
    errors : ErrorArea, optional
        The view's error area (a failed export shows there).
    """

    def __init__(self, chart=None, stem=None, tables: dict | None = None, errors=None):
        import ipywidgets

        self.download = FileDownload()
        self.tables = dict(tables or {})
        guard = errors.guard if errors is not None else (lambda callback: callback)
        buttons = image_buttons(chart, stem, guard) if chart is not None else []
        for label in self.tables:
            button = download_button(
                label, "Download the table as CSV", guard(functools.partial(self.save_table, label))
            )
            button.add_class("nbexplain-download-csv")
            buttons.append(button)
        self.buttons = buttons
        self.widget = ipywidgets.HBox(
            [*buttons, self.download], layout={"flex_flow": "row wrap", "align_items": "center"}
        )
        self.widget.add_class("nbexplain-export")

    def add(self, button):
        """Put another button (e.g. a record download) in the row, before the download widget."""
        self.buttons.append(button)
        self.widget.children = [*self.buttons, self.download]
        return button

    def table(self, label: str):
        """``(DataFrame, file name)`` of the table behind button ``label``, as of now."""
        return self.tables[label]()

    def save_table(self, label: str) -> str:
        """Send the table behind button ``label`` to the browser as CSV; returns the file name."""
        frame, filename = self.table(label)
        return self.download.save(filename, csv_text(frame), CSV)

    def save_text(self, filename: str, content: str, mime: str = HTML) -> str:
        return self.download.save(filename, content, mime)
