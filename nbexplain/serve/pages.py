"""The notebooks the dashboard command serves for a user's model: one cell that opens a bundle.

The notebook is written beside the bundle (all-or-nothing), so that Voila serves the dashboard
of that bundle in a kernel that imports no TensorFlow until a viewer edits a row.
"""

from __future__ import annotations

import json
from pathlib import Path

from .._files import write_text

MARKDOWN = (
    "# {title}\n\nPick a row to see what drove its score, compare with the model as a whole, and read the "
    "adverse-action reasons. Everything shown was computed once and stored in the explanation bundle "
    "`{name}`; a what-if edit loads the model (a few seconds, once per page)."
)


def bundle_notebook(bundle: str | Path, title: str | None = None, model: str | Path | None = None) -> Path:
    """A notebook (``<bundle>.ipynb`` beside the bundle) that shows the bundle's dashboard (with
    ``model`` as its model file instead of the artifact the bundle records)."""
    bundle = Path(bundle).resolve()
    arguments = repr(str(bundle)) + ("" if model is None else f", model={str(Path(model).resolve())!r}")
    record = json.loads((bundle / "bundle.json").read_text(encoding="utf-8"))
    cells = [
        {
            "cell_type": "markdown",
            "id": "title",
            "metadata": {},
            "source": MARKDOWN.format(title=title or record.get("title", bundle.stem), name=bundle.name),
        },
        {
            "cell_type": "code",
            "id": "dashboard",
            "metadata": {},
            "execution_count": None,
            "outputs": [],
            "source": f"from nbexplain.widgets.bundle import bundle_dashboard\n\nbundle_dashboard({arguments})",
        },
    ]
    notebook = {
        "cells": cells,
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path = bundle.with_suffix(".ipynb")
    write_text(path, json.dumps(notebook, indent=1))
    return path
