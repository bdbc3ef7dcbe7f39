"""The what-if editor: the first custom front-end (``js/whatif.js``, an anywidget ES module).

:class:`WhatIfWidget` is the synced widget (the module is shipped in ``nbexplain/static``);
:class:`WhatIfEditor` binds it to a controller: the picked row's values go in, and an edit
coming back in ``values`` becomes ``controller.what_if(edits)``.
"""

from __future__ import annotations

import functools

import numpy as np
import traitlets

from .._static import front_end_base, static_file
from ..charts.importance import nice_ceiling
from ._view import View

#: Histogram bins drawn behind a numeric feature's marker.
BINS = 24


@functools.cache
def _widget_class():
    class WhatIfWidget(front_end_base("The what-if editor")):
        """One row per feature; ``values`` is the one trait the browser edits."""

        _esm = static_file("whatif.js")
        features = traitlets.List().tag(sync=True)
        values = traitlets.Dict().tag(sync=True)
        original = traitlets.Dict().tag(sync=True)
        importance = traitlets.Dict().tag(sync=True)
        prediction = traitlets.Float(0.0).tag(sync=True)
        original_prediction = traitlets.Float(0.0).tag(sync=True)
        outcome = traitlets.Unicode("").tag(sync=True)

    return WhatIfWidget


def feature_specs(frame, choices) -> list:
    """What the editor draws per column: choices with their shares, or a numeric range (0.5 % to
    99.5 % quantiles, so one extreme value does not flatten the histogram), step and histogram."""
    specs = []
    for column in frame.columns:
        values = frame[column].to_numpy()
        name = str(column)
        if name in choices:
            labels = dict(choices[name])
            codes = sorted(set(labels) | set(np.unique(values).tolist()))
            specs.append(
                {
                    "name": name,
                    "kind": "choice",
                    "options": [
                        {"value": float(c), "label": str(labels.get(c, c)), "share": float(np.mean(values == c))}
                        for c in codes
                    ],
                }
            )
            continue
        numbers = values.astype(float)
        low, high = (float(q) for q in np.quantile(numbers, [0.005, 0.995]))
        if high <= low:
            low, high = float(numbers.min()), float(numbers.max()) + 1.0
        integer = bool(np.issubdtype(values.dtype, np.integer))
        step = 1.0 if integer and high - low <= 200 else nice_ceiling((high - low) / 100)
        if integer:
            step = max(1.0, round(step))
        counts, _ = np.histogram(np.clip(numbers, low, high), bins=BINS, range=(low, high))
        specs.append(
            {
                "name": name,
                "kind": "number",
                "min": low,
                "max": high,
                "step": step,
                "integer": integer,
                "bins": counts.astype(int).tolist(),
            }
        )
    return specs


class WhatIfEditor(View):
    """Edit the picked row's raw values and see the prediction and local importances move.

    The editor's rows are coloured by each column's share of the row's squared gradient
    (``controller.sample.columns``); an edit sends only the changed columns to
    :meth:`ExplorerController.what_if`.
    """

    def __init__(self, controller, errors=None):
        super().__init__(controller, errors)
        data = controller.data
        specs = (
            data.bundle.record["feature_specs"] if data.bundle is not None else feature_specs(data.frame, data.choices)
        )
        self.editor = _widget_class()(features=specs, outcome=data.outcome)
        self.editor.add_class("nbexplain-whatif-widget")
        self._syncing = False
        self.editor.observe(self.errors.guard(self._on_edit), names="values")
        self._observe(self._on_sample, names="sample")
        self._show(controller.sample)
        self._compose(self.editor)

    def _show(self, sample):
        self._syncing = True
        try:
            with self.editor.hold_sync():
                if not sample.edited:
                    self.editor.original = dict(sample.values)
                    self.editor.original_prediction = sample.prediction
                self.editor.values = dict(sample.values)
                self.editor.prediction = sample.prediction
                self.editor.importance = {c: [share, gradient] for c, (share, gradient) in sample.columns.items()}
        finally:
            self._syncing = False

    def _on_sample(self, change):
        self._show(change["new"])

    def _on_edit(self, change):
        if self._syncing:
            return
        original = self.editor.original
        edits = {c: v for c, v in change["new"].items() if c in original and v != original[c]}
        if edits:
            self.controller.what_if(edits)
        else:
            self.controller.pick(self.controller.position)
