"""Explanation bundles: what a dashboard shows, computed once, opened without TensorFlow.

A bundle is a folder (``*.nbxbundle``), format ``nbexplain-bundle`` version 1:

``bundle.json``
    The record: format and version, when and by which nbexplain it was built, the model (its
    fingerprint, and the model artifact's path and SHA-256 so that what-if edits can load it),
    the data (its SHA-256 and row count), what the score is and how it was explained (method,
    parameters, baseline, steps), the layout of the model's inputs, and what the views draw
    without computing: global importance, comparisons with other methods, the selection curve's
    test errors, global lag views, the what-if editor's feature descriptions, the reason
    catalogue, the default population comparison, the dashboard's title and labels.
``rows.arrow``
    One row per explained row: the raw columns as people read them, then ``__score`` (the
    explained score), ``__target`` (the true outcome, when known) and ``__label`` (the row's
    label).
``explained.arrow``
    The row explainer's per-row arrays: for sensitivities one ``gradients:<input>`` and one
    ``data:<input>`` column per model input (each a fixed-size list: one value per input element),
    for attributions ``values:<input>``, ``data:<input>``, ``baseline_score``,
    ``completeness_error`` and ``steps``.
``attributions.arrow``
    The default attributions behind the reasons panel, one column per raw column, with
    ``__baseline_score``, ``__completeness_error`` and ``__steps``.

Tables are Arrow IPC files, uncompressed, read through memory maps: a kernel that opens a
bundle of 1,000,000 rows reads only the pages a view touches. Every file is written into a
temporary folder renamed into place when complete.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .._files import writable_folder
from .._version import __version__
from ..errors import NBExplainError, require
from .attributions import Attributions
from .explanation import Explanation
from .layout import InputLayout
from .sensitivities import Sensitivities
from .serial import to_jsonable

FORMAT = "nbexplain-bundle"
FORMAT_VERSION = 1
RECORD = "bundle.json"
TABLES = ("rows", "explained", "attributions")


def _pyarrow() -> Any:
    return require("pyarrow", "parquet", "Explanation bundles")


def _ipc() -> Any:
    return require("pyarrow.ipc", "parquet", "Explanation bundles")


def arrow_column(values: np.ndarray) -> Any:
    """A numpy array ``(n,)`` as a plain column, ``(n, *shape)`` as a fixed-size list column."""
    pa = _pyarrow()
    values = np.ascontiguousarray(values)
    if values.ndim == 1:
        return pa.array(values)
    width = int(np.prod(values.shape[1:]))
    return pa.FixedSizeListArray.from_arrays(pa.array(values.reshape(-1)), width)


def write_table(path: Path, columns: Mapping[str, np.ndarray]) -> None:
    """An Arrow IPC file of ``columns`` (one record batch, so that every column reads back as one
    contiguous, memory-mappable buffer)."""
    pa, ipc = _pyarrow(), _ipc()
    table = pa.table({name: arrow_column(values) for name, values in columns.items()})
    with ipc.new_file(str(path), table.schema) as writer:
        writer.write_table(table, max_chunksize=max(table.num_rows, 1))


def write_bundle(path: str | Path, record: Mapping, tables: Mapping[str, Mapping[str, np.ndarray]]) -> Path:
    """Write a bundle folder all-or-nothing: into a temporary folder beside ``path``, renamed
    into place (a previous bundle there is replaced only once the new one is complete)."""
    path = Path(path)
    writable_folder(path, is_folder=True)
    unknown = set(tables) - set(TABLES)
    if unknown:
        raise NBExplainError(f"Unknown bundle tables {sorted(unknown)}; a bundle holds {TABLES}.")
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.partial")
    temporary.mkdir()
    try:
        for name, columns in tables.items():
            write_table(temporary / f"{name}.arrow", columns)
        payload = {"format": FORMAT, "format_version": FORMAT_VERSION, "nbexplain": __version__, **record}
        (temporary / RECORD).write_text(json.dumps(to_jsonable(payload), indent=1, allow_nan=False), encoding="utf-8")
        if path.exists():
            retired = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.retired")
            os.replace(path, retired)
            os.replace(temporary, path)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.replace(temporary, path)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    return path


class ExplanationBundle:
    """An opened bundle: its record, and its tables read through memory maps (no copy)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        record_path = self.path / RECORD
        if not record_path.is_file():
            raise NBExplainError(
                f"{self.path} is not an explanation bundle (no {RECORD}); build one with `nbexplain bundle`."
            )
        try:
            self.record = json.loads(record_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise NBExplainError(f"{record_path} cannot be read ({error}); build the bundle again.") from None
        if self.record.get("format") != FORMAT or int(self.record.get("format_version", 0)) > FORMAT_VERSION:
            raise NBExplainError(
                f"{self.path} is {self.record.get('format')!r} version "
                f"{self.record.get('format_version')}; this nbexplain reads {FORMAT} up to version "
                f"{FORMAT_VERSION}. Build the bundle again."
            )
        self._tables: dict = {}

    # ------------------------------------------------------------ tables
    def table(self, name: str) -> Any:
        """A table of the bundle, memory-mapped (read once, kept)."""
        if name not in self._tables:
            path = self.path / f"{name}.arrow"
            if not path.is_file():
                raise NBExplainError(f"{self.path} lacks {path.name}; build the bundle again.")
            try:
                self._tables[name] = _ipc().open_file(_pyarrow().memory_map(str(path), "r")).read_all()
            except Exception as error:
                raise NBExplainError(
                    f"{path} is damaged ({type(error).__name__}: {error}); build the bundle again."
                ) from None
        return self._tables[name]

    def array(self, table: str, column: str, shape: tuple = ()) -> np.ndarray:
        """One column as a read-only numpy view of the mapped file, ``(n, *shape)``."""
        data = self.table(table).column(column)
        if data.num_chunks != 1:
            raise NBExplainError(
                f"{self.path}: column {column!r} of {table} is not contiguous; build the bundle again."
            )
        chunk = data.chunk(0)
        flat = chunk.values if hasattr(chunk, "values") and shape else chunk
        values = flat.to_numpy(zero_copy_only=True)
        return values.reshape(len(chunk), *shape) if shape else values

    @property
    def n_rows(self) -> int:
        return int(self.record["rows"]["count"])

    @property
    def columns(self) -> tuple:
        return tuple(self.record["columns"])

    def frame(self) -> Any:
        """The raw rows as a DataFrame whose columns are views of the mapped file (no copy)."""
        import pandas as pd

        labels = self.labels()
        return pd.DataFrame({c: self.array("rows", c) for c in self.columns}, index=pd.Index(labels), copy=False)

    def labels(self) -> np.ndarray:
        return self.table("rows").column("__label").to_numpy()

    def scores(self) -> np.ndarray:
        return self.array("rows", "__score")

    def target(self) -> np.ndarray | None:
        return self.array("rows", "__target") if "__target" in self.table("rows").column_names else None

    # ------------------------------------------------------------ results
    def layout(self) -> tuple:
        return tuple(InputLayout.from_dict(spec) for spec in self.record["explained"]["layout"])

    def explained(self) -> Sensitivities | Attributions:
        """The row explainer's result for every row, backed by the mapped file."""
        info = self.record["explained"]
        layout = self.layout()
        shapes = {name: tuple(shape) for name, shape in info["shapes"].items()}
        data_shapes = {name: tuple(shape) for name, shape in info["data_shapes"].items()}
        data = {name: self.array("explained", f"data:{name}", shape) for name, shape in data_shapes.items()}
        labels = self.labels()
        meta = info["meta"]
        if info["kind"] == "Sensitivities":
            gradients = {name: self.array("explained", f"gradients:{name}", shape) for name, shape in shapes.items()}
            score = self.array("explained", "score", tuple(info.get("score_shape", ())))
            return Sensitivities(
                gradients=gradients, data=data, score=score, layout=layout, meta=meta, sample_labels=labels
            )
        values = {name: self.array("explained", f"values:{name}", shape) for name, shape in shapes.items()}
        return Attributions(
            values=values,
            data=data,
            score=self.array("explained", "score"),
            baseline_score=self.array("explained", "baseline_score"),
            completeness_error=self.array("explained", "completeness_error"),
            steps=self.array("explained", "steps"),
            layout=layout,
            meta=meta,
            sample_labels=labels,
        )

    def explanation(self, key: str) -> Explanation | None:
        """A stored :class:`Explanation` of the record (global importance, lag views ...)."""
        payload = self.record.get("views", {}).get(key)
        return None if payload is None else Explanation.from_dict(payload)

    def comparisons(self) -> dict:
        return {name: Explanation.from_dict(p) for name, p in self.record.get("comparisons", {}).items()}

    def default_attributions(self) -> dict:
        """The stored attributions of the reasons panel's default settings, per raw column."""
        table = self.table("attributions")
        return {name: self.array("attributions", name) for name in table.column_names}

    def __repr__(self) -> str:
        model = self.record.get("model", {})
        return (
            f"ExplanationBundle({self.path.name}: {self.n_rows:,} rows, model {model.get('fingerprint')}, "
            f"{self.record.get('explained', {}).get('meta', {}).get('method')}, nbexplain "
            f"{self.record.get('nbexplain')})"
        )


def open_bundle(path: str | Path) -> ExplanationBundle:
    """Open a bundle folder written by :func:`write_bundle`."""
    return ExplanationBundle(path)


__all__ = ["ExplanationBundle", "open_bundle", "write_bundle"]
