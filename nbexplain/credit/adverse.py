"""Adverse-action reasons for applicants: one applicant, a data frame, or a whole file.

:class:`ReasonRecipe` binds the pieces a lender documents once: the attribution method
(:class:`~nbexplain.engine.IntegratedGradients` with its rule and steps), the baseline, the
reason catalogue, the cut-off that separates approval from denial, and how raw application
rows become model inputs. The baseline is resolved once, so every applicant of a batch is
measured against the same documented point(s).

``explain_file`` reads a CSV or Parquet file chunk by chunk (memory stays bounded by the chunk),
explains only the denied applicants and writes one row per denied applicant (CSV or Parquet,
by the output's suffix), with a progress bar.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..engine._base import Parameters
from ..errors import DataFileError, InputDataError, NBExplainError, require
from .reasons import MAX_REASONS, ReasonCatalogue, denied, reasons_from_attributions

TABLE_SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def table_format(path) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise DataFileError(f"{path}: unknown table format {suffix!r}; use a .csv or .parquet file.")
    return TABLE_SUFFIXES[suffix]


def count_rows(path) -> int:
    """Rows of a table file without reading it into memory (Parquet metadata, CSV line count)."""
    if table_format(path) == "parquet":
        return int(require("pyarrow.parquet", "parquet", "Reading Parquet files").ParquetFile(path).metadata.num_rows)
    if Path(path).stat().st_size == 0:
        return 0
    with open(path, "rb") as handle:
        lines = sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 20), b""))
        handle.seek(-1, 2)
        complete = handle.read(1) == b"\n"
    return max(lines - (1 if complete else 0), 0)


def read_chunks(path, chunk_rows: int):
    """DataFrames of at most ``chunk_rows`` rows, in file order."""
    import pandas as pd

    if table_format(path) == "parquet":
        parquet = require("pyarrow.parquet", "parquet", "Reading Parquet files")
        for batch in parquet.ParquetFile(path).iter_batches(batch_size=int(chunk_rows)):
            yield batch.to_pandas()
        return
    try:
        yield from pd.read_csv(path, chunksize=int(chunk_rows))
    except pd.errors.EmptyDataError:
        raise DataFileError(f"{path} is empty: no header, no rows.") from None


class TableWriter:
    """Appends DataFrames to a CSV or Parquet file, one chunk at a time."""

    def __init__(self, path):
        self.path = Path(path)
        self.format = table_format(path)
        self.rows = 0
        self._parquet = None

    def write(self, frame):
        if self.format == "csv":
            frame.to_csv(self.path, mode="w" if self.rows == 0 else "a", header=self.rows == 0, index=False)
        else:
            pyarrow = require("pyarrow", "parquet", "Writing Parquet files")
            table = pyarrow.Table.from_pandas(frame, preserve_index=False)
            if self._parquet is None:
                self._parquet = require("pyarrow.parquet", "parquet", "Writing Parquet files").ParquetWriter(
                    self.path, table.schema
                )
            self._parquet.write_table(table.cast(self._parquet.schema))
        self.rows += len(frame)

    def close(self, empty=None):
        """Finish the file; with no rows written, write ``empty`` (the header only)."""
        if self.rows == 0 and empty is not None:
            self.write(empty)
            self.rows = 0
        if self._parquet is not None:
            self._parquet.close()


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
        The decision threshold: with ``catalogue.adverse == "increase"`` applicants scoring at or
        above it are denied; with ``"decrease"`` those scoring below it.
    to_inputs : callable, optional
        Raw application rows (a DataFrame) -> model inputs; identity by default.
    columns : sequence, optional
        The raw columns a row must have (checked per file before anything runs).
    elements : mapping, optional
        ``{column: (input, index)}``: express attributions per raw column (for models that read
        columns at other positions, e.g. a sequence model); reported features by default.
    max_reasons : int
        At most this many reasons per applicant (4).
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
    ):
        self.explainer = explainer
        self.baseline = baseline
        self.catalogue = catalogue
        self.cutoff = cutoff
        self.to_inputs = to_inputs
        self.columns = columns
        self.elements = elements
        self.max_reasons = max_reasons
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

    def explain(self, frame):
        """:class:`~nbexplain.credit.RankedReasons` of every row of ``frame`` (denied or not):
        ``.applicant(i)`` for one notice, ``.table()`` for all."""
        ranked = reasons_from_attributions(
            self.attributions(frame), self.catalogue, int(self.max_reasons), self.elements
        )
        return replace(ranked, applicants=tuple(frame.index))  # the rows' own labels, whatever the inputs keep

    def explain_file(self, path, out, *, chunk_rows: int = 5_000, id_column=None, progress=True) -> dict:
        """Reasons for every denied applicant of a CSV / Parquet file, one row each, written to
        ``out`` (CSV or Parquet), ``chunk_rows`` applications at a time. Returns a summary."""
        from tqdm.auto import tqdm

        if int(chunk_rows) < 1:
            raise NBExplainError(f"chunk_rows must be positive; got {chunk_rows}.")
        path, out = Path(path), Path(out)
        if not path.is_file():
            raise DataFileError(f"{path} does not exist.")
        table_format(out)
        started = time.perf_counter()
        writer = TableWriter(out)
        summary = {
            "input": str(path),
            "output": str(out),
            "rows": 0,
            "denied": 0,
            "prohibited_material": 0,
            "max_completeness_error": 0.0,
        }
        empty = None
        try:
            with tqdm(total=count_rows(path), desc="adverse-action reasons", unit="row", disable=not progress) as bar:
                for chunk in read_chunks(path, chunk_rows):
                    if id_column is not None:
                        if id_column not in chunk.columns:
                            raise InputDataError(
                                f"{path} has no id column {id_column!r}; columns: {list(chunk.columns)}."
                            )
                        chunk = chunk.set_index(id_column)
                    scores = self.explainer.score(self.inputs(chunk))
                    denied = chunk[self.denied(scores)]
                    summary["rows"] += len(chunk)
                    if len(denied):
                        table = self.explain(denied).table()
                        writer.write(table)
                        summary["denied"] += len(table)
                        summary["prohibited_material"] += int(table["prohibited_material"].sum())
                        summary["max_completeness_error"] = max(
                            summary["max_completeness_error"], float(table["completeness_error"].max())
                        )
                    elif empty is None and len(chunk):
                        empty = self.explain(chunk.iloc[:1]).table().iloc[:0]
                    bar.update(len(chunk))
        finally:
            writer.close(empty)
        summary["seconds"] = round(time.perf_counter() - started, 3)
        summary["baseline"] = None if self.resolved_ is None else dict(self.resolved_.description)
        return summary
