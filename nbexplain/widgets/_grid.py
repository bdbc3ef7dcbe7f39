"""A grid heat map whose cells can be clicked (imported when a view is built: bqplot is heavy)."""

from __future__ import annotations

import bqplot
import numpy as np
import traitlets


class ClickableGrid(bqplot.GridHeatMap):
    """bqplot's grid heat map whose clicked cells arrive as integer (row, column) pairs.

    The front end sends a click as a list of pairs, which bqplot reads into an object array that it
    then fails to send back, so the kernel never sees the click; this reads it as integers.
    """

    @traitlets.validate("selected")
    def _cells_as_integers(self, proposal):
        cells = proposal["value"]
        return None if cells is None else np.asarray(cells, dtype=np.int32).reshape(-1, 2)
