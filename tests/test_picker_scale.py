"""The picker on a 300,000-row bundle, without a browser: the density view counts every matching
row in fixed cells (np.histogram2d over the same edges), a click on a cell picks the first
matching row inside it, previous / next step within the filter, the rows stay memory-mapped, and
the jitter of integer columns is a fixed offset per row."""

import numpy as np
import pytest
from picker_scale import large_bundle, small_bundle

from nbexplain.widgets import ExplorerController
from nbexplain.widgets.bundle import bundle_explorer_data
from nbexplain.widgets.picker import DENSITY_GRID, SamplePicker, jitter

ROWS = 300_000


@pytest.fixture(scope="module")
def picker(tmp_path_factory):
    folder = tmp_path_factory.mktemp("picker-scale")
    bundle = large_bundle(small_bundle(folder), ROWS, folder / "large.nbxbundle")
    return SamplePicker(ExplorerController(bundle_explorer_data(bundle)))


def drawn_counts(picker):
    return np.rint(10 ** np.asarray(picker.density.color, dtype=float) - 1)


def expected_counts(picker):
    """np.histogram2d of the matching rows over the edges the grid draws."""
    x = picker.controller.data.frame[picker.feature.value].to_numpy()[picker.matching]
    y = picker.controller.scores[picker.matching]
    x_edges = np.r_[picker.density.column, picker.x_scale.max]
    y_edges = np.r_[picker.density.row, picker.y_scale.max]
    counts, _, _ = np.histogram2d(y, x, bins=(y_edges, x_edges))
    return counts


def test_every_matching_row_is_counted_in_fixed_cells(picker):
    assert picker.dense and picker.density.visible and len(picker.points.x) == 0
    columns, rows = DENSITY_GRID
    assert drawn_counts(picker).shape == (rows, columns)
    np.testing.assert_array_equal(drawn_counts(picker), expected_counts(picker))
    assert drawn_counts(picker).sum() == ROWS
    cells_before = (picker.density.row.copy(), picker.density.column.copy())
    picker.predicted_filter.value = 1
    matching = int((picker.controller.scores > 0.5).sum())
    assert 0 < matching < ROWS and len(picker.matching) == matching
    np.testing.assert_array_equal(drawn_counts(picker), expected_counts(picker))
    assert drawn_counts(picker).sum() == matching and f"all {matching:,} of {ROWS:,}" in picker.scatter.title
    np.testing.assert_array_equal(picker.density.row, cells_before[0], "a class filter moves no cell")
    np.testing.assert_array_equal(picker.density.column, cells_before[1])
    low, high = picker.score_filter.min, picker.score_filter.max
    picker.score_filter.value = (low + (high - low) / 2, high)
    assert picker.y_scale.min == pytest.approx(picker.score_filter.value[0]), "the score axis is the filter's range"
    np.testing.assert_array_equal(drawn_counts(picker), expected_counts(picker))
    assert drawn_counts(picker).sum() == len(picker.matching)
    picker.feature.value = "age"
    np.testing.assert_array_equal(drawn_counts(picker), expected_counts(picker))
    assert "(jittered)" not in picker.x_axis.label, "the grid does not jitter"
    picker.score_filter.value = (low, high)
    picker.predicted_filter.value = -1
    assert drawn_counts(picker).sum() == ROWS


def test_a_click_on_a_cell_picks_the_first_matching_row_inside_it(picker):
    picker.predicted_filter.value = 0
    counts = expected_counts(picker)
    for row, column in np.argwhere(counts > 0)[[0, -1]]:
        picker.density.set_state({"selected": [[int(row), int(column)]]})  # as the front end sends a click
        x = picker.controller.data.frame[picker.feature.value].to_numpy()
        x_edges = np.r_[picker.density.column, picker.x_scale.max]
        y_edges = np.r_[picker.density.row, picker.y_scale.max]
        inside = (
            (x[picker.matching] >= x_edges[column])
            & ((x[picker.matching] < x_edges[column + 1]) | (column == len(x_edges) - 2))
            & (picker.controller.scores[picker.matching] >= y_edges[row])
            & ((picker.controller.scores[picker.matching] < y_edges[row + 1]) | (row == len(y_edges) - 2))
        )
        assert picker.controller.position == picker.matching[np.argmax(inside)]
        assert picker.density.selected is None
    picker.predicted_filter.value = -1


def test_previous_and_next_step_within_the_filter_and_wrap(picker):
    picker.predicted_filter.value = 1
    matching = picker.matching
    picker.controller.pick(int(matching[10]))
    picker.next.click()
    assert picker.controller.position == matching[11]
    picker.previous.click()
    picker.previous.click()
    assert picker.controller.position == matching[9]
    picker.controller.pick(int(matching[-1]))
    picker.next.click()
    assert picker.controller.position == matching[0], "next wraps around"
    picker.previous.click()
    assert picker.controller.position == matching[-1], "previous wraps around"
    outside = int(np.setdiff1d(np.arange(ROWS), matching)[5])
    picker.index.value = outside  # a row outside the filter: next is the first match after it
    picker.next.click()
    assert picker.controller.position == matching[np.searchsorted(matching, outside)]
    picker.predicted_filter.value = -1


def test_the_rows_stay_memory_mapped(picker):
    bundle = picker.controller.data.bundle
    for column in picker.controller.data.columns:
        assert np.shares_memory(picker.controller.data.frame[column].to_numpy(), bundle.array("rows", column))
    assert np.shares_memory(picker.controller.scores, bundle.array("explained", "score"))


def test_the_jitter_is_a_fixed_offset_per_row():
    positions = np.arange(200_000)
    offsets = jitter(positions)
    assert offsets.min() >= -0.3 and offsets.max() < 0.3
    assert abs(offsets.mean()) < 0.005 and offsets.std() == pytest.approx(0.6 / np.sqrt(12), rel=0.02)
    np.testing.assert_array_equal(jitter(positions[[5, 70_000]]), offsets[[5, 70_000]])
    assert jitter(5)[0] == offsets[5] and not np.array_equal(jitter(positions, seed=1), offsets)
