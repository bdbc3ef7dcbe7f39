"""Adverse-action reasons for applicants: one applicant, a data frame, or a whole file.

:class:`ReasonRecipe` binds the pieces a lender documents once: the attribution method
(:class:`~nbexplain.engine.IntegratedGradients` with its rule and steps), the baseline, the
reason catalogue, the cut-off that separates approval from denial, and how raw application
rows become model inputs. The baseline is resolved once, so every applicant of a batch is
measured against the same documented point(s).

``explain_file`` reads a CSV or Parquet file chunk by chunk (memory stays bounded by the chunk),
explains only the denied applicants and writes one row per denied applicant (CSV or Parquet,
by the output's suffix), with a progress bar. The output is all-or-nothing: it is written under a
temporary name and renamed when the whole file is done, never over the input; a bad row stops
the run with the file's line and the column, and leaves no output.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from .._files import refuse_inputs, writable_folder
from .._signals import raise_if_stopped
from .._tables import TableSink, TableSource, numeric_columns, output_format
from ..engine._base import Parameters
from ..errors import DataFileError, InputDataError, NBExplainError, NonFiniteScoreError, NotDifferentiableError
from ..model.artifact import file_sha256
from .reasons import MAX_REASONS, RankedReasons, ReasonCatalogue, denied, reasons_from_attributions


def reference_ranges(frame, columns=None) -> dict:
    """``{column: (min, max)}`` of the reference rows: what "inside the reference data" means for
    the out-of-range flag."""
    columns = list(frame.columns) if columns is None else list(columns)
    values = frame[columns].to_numpy(dtype=float)
    return {c: (float(low), float(high)) for c, low, high in zip(columns, values.min(axis=0), values.max(axis=0))}


class ReasonRecipe(Parameters):
    """Adverse-action reasons of one model, against one documented baseline.

    Parameters
    ----------
    explainer : IntegratedGradients
        The attribution method, with its output, rule and steps.
    baseline : Baseline
        A documented baseline (see :mod:`nbexplain.baselines`), built from model inputs.
    catalogue : ReasonCatalogue
        Reason statements for every column (or reported feature) and the prohibited bases.
    cutoff : float
        The worst passing score (:func:`~nbexplain.credit.reasons.denied`): with
        ``catalogue.adverse == "increase"`` applicants scoring above it are denied; with
        ``"decrease"`` those scoring below it.
    to_inputs : callable, optional
        Raw application rows (a DataFrame) -> model inputs; identity by default.
    columns : sequence, optional
        The raw columns a row must have (checked per file before anything runs).
    elements : mapping, optional
        ``{column: (input, index)}``: express attributions per raw column (for models that read
        columns at other positions, e.g. a sequence model); reported features by default.
    max_reasons : int
        At most this many reasons per applicant (4).
    tolerance : float, optional
        Completeness error above which an applicant's reasons are flagged (``completeness_ok``
        False): by default the attribution method's own tolerance.
    ranges : mapping, optional
        ``{column: (low, high)}`` of the reference data (see :func:`reference_ranges`): an
        application with a value outside is flagged (``outside_reference``).
    """

    def __init__(
        self,
        explainer,
        baseline,
        catalogue: ReasonCatalogue,
        *,
        cutoff: float,
        to_inputs=None,
        columns=None,
        elements=None,
        max_reasons: int = MAX_REASONS,
        tolerance: float | None = None,
        ranges=None,
    ):
        self.explainer = explainer
        self.baseline = baseline
        self.catalogue = catalogue
        self.cutoff = cutoff
        self.to_inputs = to_inputs
        self.columns = columns
        self.elements = elements
        self.max_reasons = max_reasons
        self.tolerance = tolerance
        self.ranges = ranges
        self.resolved_ = None

    def denied(self, scores) -> np.ndarray:
        """Which scores are denials (see :func:`~nbexplain.credit.reasons.denied`: the cut-off
        itself passes)."""
        return denied(scores, self.cutoff, self.catalogue.adverse)

    def inputs(self, frame):
        """Model inputs of raw application rows (their required columns checked)."""
        if self.columns is not None:
            missing = [c for c in self.columns if c not in frame.columns]
            if missing:
                raise InputDataError(
                    f"The applications lack column(s) {missing}; the model reads {list(self.columns)}."
                )
            frame = frame[list(self.columns)]
        return frame if self.to_inputs is None else self.to_inputs(frame)

    def attributions(self, frame):
        """Attributions of ``frame``'s rows against the (once resolved) baseline."""
        inputs = self.inputs(frame)
        if self.resolved_ is None:
            self.resolved_ = self.explainer.resolve_baseline(self.baseline, inputs)
        return self.explainer.explain(inputs, self.resolved_)

    def explain(self, frame, attributions=None):
        """:class:`~nbexplain.credit.RankedReasons` of every row of ``frame`` (denied or not):
        ``.applicant(i)`` for one notice, ``.table()`` for all. ``attributions``: those of
        ``frame``'s rows when already computed (:meth:`attributions`), so that they are not
        computed twice (a batch run also sums them for the global importance)."""
        tolerance = self.tolerance if self.tolerance is not None else getattr(self.explainer, "tolerance", None)
        ranked = reasons_from_attributions(
            self.attributions(frame) if attributions is None else attributions,
            self.catalogue,
            int(self.max_reasons),
            self.elements,
            cutoff=self.cutoff,
            tolerance=tolerance,
            outside_reference=self.outside_reference(frame),
        )
        return replace(ranked, applicants=tuple(frame.index))  # the rows' own labels, whatever the inputs keep

    def outside_reference(self, frame) -> list | None:
        """Per row, the columns whose value lies outside the reference data's range (joined by
        ``;``, empty when none); None when no ranges were given."""
        if not self.ranges:
            return None
        outside = [
            np.where((frame[c].to_numpy(dtype=float) < low) | (frame[c].to_numpy(dtype=float) > high), c, "")
            for c, (low, high) in self.ranges.items()
            if c in frame.columns
        ]
        if not outside:
            return [""] * len(frame)
        return [";".join(c for c in row if c) for row in np.stack(outside, axis=1)]

    def empty_table(self):
        """The output table with no rows: the columns a run writes (for a batch with no denial)."""
        return RankedReasons.empty(self.catalogue, int(self.max_reasons)).table()

    def explain_file(self, path, out, *, chunk_rows: int = 5_000, id_column=None, progress=True) -> dict:
        """Reasons for every denied applicant of a CSV / Parquet file, one row each, written to
        ``out`` (CSV or Parquet, by its suffix), ``chunk_rows`` applications at a time.

        All-or-nothing: ``out`` appears only when the whole file is done (a file with no denied
        applicant, or only a header, gives an empty table with the columns); it is never the
        input. A bad row is a :class:`~nbexplain.errors.DataFileError` naming the file's line and
        column. Returns a summary (rows read, denied, largest completeness error ...).
        """
        from tqdm.auto import tqdm

        if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, (int, np.integer)) or chunk_rows < 1:
            raise NBExplainError(f"chunk_rows must be a positive whole number of rows; got {chunk_rows!r}.")
        source = TableSource.open(path)
        out = Path(out)
        output_format(out)
        refuse_inputs(out, [source.path])
        writable_folder(out)
        started = time.perf_counter()
        bases = dict.fromkeys(self.catalogue.prohibited, 0)
        summary = {
            "input": str(source.path),
            "input_sha256": file_sha256(source.path),
            "output": str(out),
            "format": source.format,
            "rows": 0,
            "denied": 0,
            "incomplete": 0,
            "outside_reference": 0,
            "prohibited_material": 0,
            "prohibited_material_by_basis": bases,
            "max_completeness_error": 0.0,
        }
        with TableSink(out, inputs=[source.path]) as sink:
            total = source.count_rows()
            with tqdm(total=total, desc="adverse-action reasons", unit="row", disable=not progress) as bar:
                for chunk, lines in source.chunks(chunk_rows):
                    raise_if_stopped()
                    if not len(chunk):
                        continue
                    table = self._explain_chunk(chunk, lines, source, id_column)
                    summary["rows"] += len(chunk)
                    if len(table):
                        sink.write(table)
                        summary["denied"] += len(table)
                        summary["prohibited_material"] += int(table["prohibited_material"].sum())
                        summary["incomplete"] += int((~table["completeness_ok"]).sum())
                        summary["outside_reference"] += int((table["outside_reference"] != "").sum())
                        for found in table["prohibited_material_bases"]:
                            for basis in filter(None, found.split(";")):
                                bases[basis] += 1
                        summary["max_completeness_error"] = max(
                            summary["max_completeness_error"], float(table["completeness_error"].max())
                        )
                    bar.update(len(chunk))
            if sink.rows == 0:
                sink.write(self.empty_table())
        summary["seconds"] = round(time.perf_counter() - started, 3)
        summary["baseline"] = None if self.resolved_ is None else dict(self.resolved_.description)
        return summary

    def _explain_chunk(self, chunk, lines, source, id_column):
        """The reasons table of one chunk's denied rows; bad rows named by their file line."""
        rows, decisions = self.decide_chunk(chunk, lines, source, id_column)
        denied_rows = rows[decisions]
        if not len(denied_rows):
            return denied_rows.iloc[:0]
        return self.explain(denied_rows).table()

    def decide_chunk(self, chunk, lines, source, id_column):
        """One chunk of a file decided: its rows (indexed by ``id_column`` when given) with the
        model's columns as numbers, and which of them are denied. A missing column, a bad cell or a
        score that is not a number is an error naming the file's line (``lines``: each row's)."""
        if id_column is not None:
            if id_column not in chunk.columns and chunk.index.name == id_column:
                chunk = chunk.reset_index()
            if id_column not in chunk.columns:
                raise DataFileError(
                    f"{source.path} has no id column {id_column!r}; columns: {[str(c) for c in chunk.columns]}."
                )
        columns = list(self.columns) if self.columns is not None else [c for c in chunk.columns if c != id_column]
        chunk = numeric_columns(chunk, columns, source, lines)
        labelled = chunk.set_axis(lines, axis=0)  # rows named by their file line in any error below
        try:
            scores = self.explainer.score(self.inputs(labelled))
            decisions = self.denied(scores)
        except (InputDataError, NonFiniteScoreError, NotDifferentiableError) as error:
            raise type(error)(
                f"{source.path}, {source.where(int(lines[0]))} to {int(lines[-1])} "
                f"(rows named by their {source.where(0).split()[0]}): {error}"
            ) from None
        rows = chunk.set_index(id_column) if id_column is not None else chunk
        return rows, np.asarray(decisions, dtype=bool)
