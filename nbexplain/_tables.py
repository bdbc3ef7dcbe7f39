"""Table files in and out: what the batch commands read and write.

Reading (:class:`TableSource`) looks at the bytes, not the name: Parquet (``PAR1``), or text
(CSV with the delimiter found among ``, ; TAB |``, UTF-8 with or without BOM), compressed or not
(gzip, bz2, xz, zip); a file that is neither is an error saying what was found. Rows come in
chunks with the file line each row started on (a header on line 1; blank lines are skipped and
counted), so that a bad cell is reported as "line 5003, column LIMIT_BAL" rather than a position
within a chunk. Writing (:class:`TableSink`) goes through a temporary file renamed on success
(:mod:`nbexplain._files`), so a failure or a signal leaves no partial file under the final name.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import lzma
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ._files import atomic_path
from ._signals import received_stop
from .errors import DataFileError, require

#: Output suffixes and the format they write.
OUTPUT_FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
_MAGIC = {b"\x1f\x8b": "gzip", b"BZh": "bz2", b"\xfd7zXZ\x00": "xz", b"PK\x03\x04": "zip"}
_EXCEL = b"\xd0\xcf\x11\xe0"
_DELIMITERS = ",;\t|"


def output_format(path: str | Path) -> str:
    """The format an output path asks for, by its suffix."""
    suffix = Path(path).suffix.lower()
    if suffix not in OUTPUT_FORMATS:
        raise DataFileError(f"{path}: unknown table format {suffix!r}; name the output .csv or .parquet.")
    return OUTPUT_FORMATS[suffix]


def _open_text(path: Path, compression: str | None) -> io.TextIOBase:
    """The file as text, decompressed; UTF-8 with an optional BOM."""
    if compression == "zip":
        archive = zipfile.ZipFile(path)
        members = [name for name in archive.namelist() if not name.endswith("/")]
        if len(members) != 1:
            raise DataFileError(f"{path} is a zip archive with {len(members)} files; it must hold exactly one table.")
        raw: Any = archive.open(members[0])
    else:
        opener: Any = {"gzip": gzip.open, "bz2": bz2.open, "xz": lzma.open, None: open}[compression]
        raw = opener(path, "rb")
    return io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")


@dataclass(frozen=True)
class TableSource:
    """A table file to read in chunks: its format as found in its bytes."""

    path: Path
    format: str
    compression: str | None = None
    delimiter: str = ","

    @classmethod
    def open(cls, path: str | Path) -> TableSource:
        """Look at the file and say how it will be read (or why it cannot be)."""
        path = Path(path)
        if not path.exists():
            raise DataFileError(f"{path} does not exist.")
        if path.is_dir():
            raise DataFileError(f"{path} is a folder; give a CSV or Parquet file.")
        with open(path, "rb") as handle:
            head = handle.read(8)
        if head.startswith(b"PAR1"):
            return cls(path, "parquet")
        if head.startswith(_EXCEL):
            raise DataFileError(
                f"{path} is an Excel workbook; save it as CSV, or load it with the dataset loaders "
                "(nbexplain.datasets.load_credit_default reads .xls/.xlsx)."
            )
        compression = next((kind for magic, kind in _MAGIC.items() if head.startswith(magic)), None)
        try:
            with _open_text(path, compression) as text:
                sample = text.read(1 << 16)
        except (UnicodeDecodeError, OSError, EOFError, zipfile.BadZipFile, lzma.LZMAError) as error:
            kind = f"{compression}-compressed " if compression else ""
            raise DataFileError(
                f"{path} is neither Parquet nor {kind}UTF-8 text ({type(error).__name__}: {error}); "
                "give a CSV or Parquet file."
            ) from None
        if "\x00" in sample:
            raise DataFileError(
                f"{path} holds binary data that is neither Parquet nor text; give a CSV or Parquet file."
            )
        return cls(path, "csv", compression, _delimiter(sample))

    def count_rows(self) -> int:
        """Rows of the table without holding it in memory (for progress bars)."""
        if self.format == "parquet":
            return int(_parquet().ParquetFile(self.path).metadata.num_rows)
        with _open_text(self.path, self.compression) as text:
            lines = sum(1 for line in text if line.strip())
        return max(lines - 1, 0)

    def chunks(self, chunk_rows: int) -> Iterator[tuple[Any, np.ndarray]]:
        """DataFrames of at most ``chunk_rows`` rows in file order, each with the file line (CSV)
        or row number (Parquet, from 1) of every row."""
        if self.format == "parquet":
            yield from self._parquet_chunks(chunk_rows)
        else:
            yield from self._csv_chunks(chunk_rows)

    def where(self, number: int) -> str:
        """How a person finds a row: "line 17" of a text file, "row 17" of a Parquet file."""
        return f"{'row' if self.format == 'parquet' else 'line'} {number}"

    def _parquet_chunks(self, chunk_rows: int) -> Iterator[tuple[Any, np.ndarray]]:
        try:
            parquet = _parquet().ParquetFile(self.path)
            batches = parquet.iter_batches(batch_size=int(chunk_rows))
            start = 1
            for batch in batches:
                frame = batch.to_pandas()
                yield frame, np.arange(start, start + len(frame))
                start += len(frame)
        except DataFileError:
            raise
        except Exception as error:
            raise DataFileError(
                f"{self.path} is not a readable Parquet file ({type(error).__name__}: {error})."
            ) from None

    def _csv_chunks(self, chunk_rows: int) -> Iterator[tuple[Any, np.ndarray]]:
        import pandas as pd

        with _open_text(self.path, self.compression) as text:
            try:
                reader = pd.read_csv(
                    text, sep=self.delimiter, chunksize=int(chunk_rows), skip_blank_lines=False, thousands=None
                )
                line = 1
                for frame in reader:
                    lines = np.arange(line + 1, line + 1 + len(frame))
                    line += len(frame)
                    blank = frame.isna().all(axis=1).to_numpy()
                    if blank.any():
                        frame, lines = frame[~blank], lines[~blank]
                    yield frame, lines
            except pd.errors.EmptyDataError:
                raise DataFileError(f"{self.path} is empty: no header, no rows.") from None
            except pd.errors.ParserError as error:
                raise DataFileError(
                    f"{self.path} cannot be read as {_delimiter_name(self.delimiter)}-separated text: "
                    f"{str(error).strip().splitlines()[-1]}."
                ) from None
            except UnicodeDecodeError as error:
                raise DataFileError(
                    f"{self.path} is not UTF-8 text after {error.start} bytes of a chunk: save it as UTF-8."
                ) from None


def read_table(path: str | Path, max_rows: int | None = None) -> Any:
    """A whole table file (or its first ``max_rows`` rows) as one DataFrame."""
    import pandas as pd

    source = TableSource.open(path)
    frames, count = [], 0
    for frame, _ in source.chunks(100_000 if max_rows is None else max(1, int(max_rows))):
        frames.append(frame)
        count += len(frame)
        if max_rows is not None and count >= max_rows:
            break
    if not frames:
        raise DataFileError(f"{source.path} has a header but no rows.")
    table = pd.concat(frames)
    return table if max_rows is None else table.iloc[: int(max_rows)]


def _delimiter(sample: str) -> str:
    """The delimiter of a CSV sample: csv.Sniffer among , ; TAB |, else the one in the header line."""
    header = sample.splitlines()[0] if sample.strip() else ""
    try:
        return csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        counts = {d: header.count(d) for d in _DELIMITERS}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def _delimiter_name(delimiter: str) -> str:
    return {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}.get(delimiter, repr(delimiter))


def _parquet() -> Any:
    return require("pyarrow.parquet", "parquet", "Reading and writing Parquet files")


def numeric_columns(frame: Any, columns: Sequence[str], source: TableSource, lines: np.ndarray) -> Any:
    """``frame`` with ``columns`` as numbers; a missing column, an empty cell or text that is
    not a number is a :class:`DataFileError` naming the file's line and the column."""
    import pandas as pd

    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataFileError(f"{source.path} lacks column(s) {missing}; it has {[str(c) for c in frame.columns]}.")
    converted = {}
    for column in columns:
        values = frame[column]
        numbers = pd.to_numeric(values, errors="coerce") if not pd.api.types.is_numeric_dtype(values) else values
        bad = np.flatnonzero(numbers.isna().to_numpy() | ~np.isfinite(numbers.to_numpy(dtype=float, na_value=np.nan)))
        if bad.size:
            first = bad[0]
            cell = values.iloc[first]
            what = "is empty" if pd.isna(cell) else f"holds {str(cell)!r}, which is not a finite number"
            more = f" ({bad.size} such cells in this chunk)" if bad.size > 1 else ""
            raise DataFileError(
                f"{source.path}, {source.where(int(lines[first]))}, column {column!r} {what}{more}. "
                "Fix or drop that row and run again."
            )
        converted[column] = numbers
    return frame.assign(**converted)


class TableSink:
    """Writes DataFrames to a CSV or Parquet file chunk by chunk, under a temporary name that is
    renamed to ``path`` only by :meth:`commit`; :meth:`discard` (or leaving the ``with`` block
    on an exception or a signal) removes it, leaving any previous file intact.

    ``inputs``: files this run reads, which the output must never be.
    """

    def __init__(self, path: str | Path, inputs: Sequence[str | Path | None] = ()) -> None:
        self.path = Path(path)
        self.format = output_format(path)
        self.rows = 0
        self._atomic = atomic_path(self.path, inputs=inputs)
        self._temporary: Path | None = None
        self._parquet: Any = None
        self._schema: Any = None

    def __enter__(self) -> TableSink:
        self._temporary = self._atomic.__enter__()
        return self

    def write(self, frame: Any) -> None:
        assert self._temporary is not None, "use TableSink in a with block"
        if self.format == "csv":
            frame.to_csv(self._temporary, mode="w" if self.rows == 0 else "a", header=self.rows == 0, index=False)
        else:
            pyarrow = require("pyarrow", "parquet", "Writing Parquet files")
            table = pyarrow.Table.from_pandas(frame, preserve_index=False)
            if self._parquet is None:
                self._schema = table.schema
                self._parquet = _parquet().ParquetWriter(self._temporary, self._schema)
            self._parquet.write_table(table.cast(self._schema))
        self.rows += len(frame)

    def _close(self) -> None:
        if self._parquet is not None:
            self._parquet.close()
            self._parquet = None

    def __exit__(self, kind: Any, error: Any, trace: Any) -> bool:
        self._close()
        stop = received_stop()
        if kind is None and stop is not None:  # a stop a library swallowed: nothing is committed
            self._atomic.__exit__(type(stop), stop, None)
            raise stop
        return bool(self._atomic.__exit__(kind, error, trace))
