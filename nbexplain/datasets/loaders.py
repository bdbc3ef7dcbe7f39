"""Loaders for the real public credit files, in the forms people actually have them.

* UCI "default of credit card clients" (Yeh & Lien 2009): the original Excel file (a first header
  row ``X1..X23, Y`` above the named header), a CSV with the named header (Kaggle's
  ``UCI_Credit_Card.csv`` writes ``PAY_0`` and ``default.payment.next.month``), or a CSV whose
  header is ``ID,X1..X23,Y`` (numbers sometimes written like ``5.00E+05``).
* FICO's ``heloc_dataset_v1.csv``: ``RiskPerformance`` and the 23 bureau features, with the
  special values -7, -8 and -9 kept as they are (see :mod:`nbexplain.datasets.heloc`).

Each loader returns the same frame as the matching generator, so that everything built on the
embedded data works on the real file. A file that does not fit raises :class:`DataFileError`
saying which column or cell is wrong.

What a file holds is read from its bytes, not from its name (:func:`read_table`): comma-,
semicolon-, tab- or pipe-separated text (UTF-8 with or without a byte-order mark, UTF-16 as
Excel's "Unicode text", any line ends), the same text gzip-, bz2-, xz- or zip-compressed, Excel
workbooks (.xls, .xlsx, .ods), an HTML table or an Excel 2003 XML spreadsheet saved under an
``.xls`` name (the form in which the UCI file often circulates), and Parquet. Problems are
reported with the place an editor shows: the 1-based line of a text file, the row of a sheet.
"""

from __future__ import annotations

import bz2
import codecs
import csv
import gzip
import io
import lzma
import os
import re
import zipfile
import zlib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from html.parser import HTMLParser
from pathlib import Path

import numpy as np

from ..errors import DataFileError, require
from .credit import CREDIT_FEATURES, CREDIT_TARGET
from .heloc import HELOC_FEATURES, HELOC_OUTCOMES, HELOC_TARGET

_UCI_ALIASES = {
    "PAY_1": "PAY_0",
    "DEFAULT_PAYMENT_NEXT_MONTH": CREDIT_TARGET,
    "DEFAULT": CREDIT_TARGET,
    "Y": CREDIT_TARGET,
    "DEFAULT_PAYMENT": CREDIT_TARGET,
    "ID": "ID",
}
_UCI_CODES = {**{f"X{i}": name for i, name in enumerate(CREDIT_FEATURES, start=1)}, "Y": CREDIT_TARGET, "ID": "ID"}
#: Rows searched for a header (a title line or the UCI file's coded row may sit above it).
_HEADER_SEARCH = 5
#: Delimiters a text table may use, in order of preference when several fit equally.
_DELIMITERS = (",", ";", "\t", "|")
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
#: What a name promises: used only to say when the bytes hold something else.
_NAMED = {
    ".csv": "text",
    ".tsv": "text",
    ".txt": "text",
    ".dat": "text",
    ".xls": "workbook",
    ".xlsx": "workbook",
    ".xlsm": "workbook",
    ".ods": "workbook",
    ".parquet": "parquet",
    ".pq": "parquet",
}
_COMPRESSED_SUFFIXES = {".gz", ".gzip", ".bz2", ".xz", ".zip"}
_OTHER_MAGIC = (
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"),
    (b"SQLite format 3", "an SQLite database"),
    (b"\x93NUMPY", "a NumPy .npy array"),
    (b"\x80\x04", "a Python pickle"),
    (b"\x80\x05", "a Python pickle"),
)


# --------------------------------------------------------------------------- the table
@dataclass
class Table:
    """Every non-blank row of a data file as text cells, with the place each row has in the file.

    ``places[i]`` is the 1-based line of row ``i`` in a text file (where its record starts) or
    its row number in a sheet; ``unit`` says which (``"line"`` or ``"row"``). ``form`` says what
    the file was read as, e.g. ``"tab-separated text (gzip-compressed), in a file named .xls"``.
    """

    path: Path
    form: str
    rows: list
    places: list
    unit: str = "line"

    def where(self, i: int) -> str:
        """``"line 5"``: the place of row ``i`` as an editor (or a spreadsheet) shows it."""
        return f"{self.unit} {self.places[i]}"

    def error(self, message: str) -> DataFileError:
        return DataFileError(f"{self.path} ({self.form}): {message}")


def read_table(path) -> Table:
    """Read a data file as rows of text cells, whatever its name says: the format, compression,
    text encoding and delimiter are found from its bytes. Raises :class:`DataFileError` saying
    what the file was found to be when it cannot be read as a table."""
    if hasattr(path, "read"):  # an open binary file or a BytesIO
        name = Path(str(getattr(path, "name", "<stream>")))
        try:
            data = path.read()
        except OSError as error:
            raise DataFileError(f"{name} cannot be read ({error}).") from None
        return _table(name, data.encode("utf-8") if isinstance(data, str) else data)
    if not isinstance(path, str | os.PathLike):
        raise DataFileError(f"path must be a file path (a str or a pathlib.Path) or an open binary file; got {path!r}.")
    path = Path(path)
    if not path.exists():
        raise DataFileError(f"{path} does not exist; check the path (the current folder is {Path.cwd()}).")
    if path.is_dir():
        raise DataFileError(f"{path} is a folder; give the data file inside it.")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise DataFileError(f"{path} cannot be opened ({error.strerror or error}); check its permissions.") from None
    return _table(path, data)


def _table(path: Path, data) -> Table:
    if not isinstance(data, bytes) or not data.strip():
        raise DataFileError(f"{path} is empty: expected a header row and data rows.")
    table = _read_bytes(path, data, [])
    if not table.rows:
        raise DataFileError(f"{path} is empty ({table.form}): expected a header row and data rows.")
    return table


def _describe(path: Path, form: str, wrappers: list) -> str:
    described = ", ".join([form, *wrappers])
    suffixes = [s.lower() for s in path.suffixes]
    while suffixes and suffixes[-1] in _COMPRESSED_SUFFIXES:
        suffixes.pop()
    named = suffixes[-1] if suffixes else ""
    family = (
        "text"
        if "text" in form
        else "workbook"
        if "workbook" in form or "spreadsheet" in form
        else "parquet"
        if "Parquet" in form
        else form
    )
    if named in _NAMED and _NAMED[named] != family:
        described += f", in a file named {named}"
    return described


def _read_bytes(path: Path, data: bytes, wrappers: list) -> Table:
    """Find what ``data`` is from its first bytes and read it (decompressing first if needed)."""
    compression = _compression(data)
    if compression is not None:
        label, open_ = compression
        if len(wrappers) >= 2:
            raise DataFileError(f"{path} is compressed {len(wrappers) + 1} times over; decompress it first.")
        try:
            inner = open_(data)
        except (OSError, EOFError, lzma.LZMAError, zlib.error, ValueError) as error:
            raise DataFileError(
                f"{path} is {label}-compressed but cannot be decompressed ({error}): the file is truncated or "
                "damaged. Download or copy it again."
            ) from None
        if not inner.strip():
            raise DataFileError(f"{path} is empty once decompressed ({label}): expected a header row and data rows.")
        return _read_bytes(path, inner, [*wrappers, f"{label}-compressed"])
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _read_zip(path, data, wrappers)
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return _read_workbook(path, data, _describe(path, "Excel 97-2003 workbook", wrappers))
    if data.startswith(b"PAR1"):
        return _read_parquet(path, data, _describe(path, "Parquet file", wrappers))
    for magic, what in _OTHER_MAGIC:
        if data.startswith(magic):
            raise DataFileError(
                f"{path} is {what}{' (' + ', '.join(wrappers) + ')' if wrappers else ''}, not a data table. "
                "Expected CSV (or tab/semicolon-separated) text, an Excel workbook or a Parquet file."
            )
    text, encoding = _decode(data)
    if "\x00" in text:
        shown = " ".join(f"{b:02x}" for b in data[:8])
        raise DataFileError(
            f"{path} is a binary file of an unknown kind (it starts with the bytes {shown}), not text, an Excel "
            "workbook, a Parquet file or a compressed copy of one. Export the data as CSV or Excel."
        )
    if text.lstrip().startswith("<"):
        return _read_markup(path, text, wrappers)
    return _read_delimited(path, text, wrappers, encoding)


def _compression(data: bytes):
    if data.startswith(b"\x1f\x8b"):
        return "gzip", gzip.decompress
    if data.startswith(b"BZh"):
        return "bz2", bz2.decompress
    if data.startswith(b"\xfd7zXZ\x00"):
        return "xz", lzma.decompress
    return None


def _decode(data: bytes) -> tuple[str, str]:
    """Text of ``data``: UTF-8 (a byte-order mark dropped), UTF-16 with its mark, else Latin-1
    (every byte is a character, so nothing is lost; only ASCII matters in these files)."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "UTF-16"
        except UnicodeDecodeError:
            pass
    elif len(data) >= 4 and b"\x00" in data[:2]:  # UTF-16 without its mark: every other byte of ASCII text is 0
        odd, even = data[1:4096:2], data[0:4096:2]
        for encoding, zeros in (("utf-16-le", odd), ("utf-16-be", even)):
            if zeros.count(0) >= 0.9 * len(zeros):
                try:
                    return data.decode(encoding), "UTF-16"
                except UnicodeDecodeError:
                    break
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "Latin-1"


def _read_zip(path: Path, data: bytes, wrappers: list) -> Table:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise DataFileError(
            f"{path} is a zip file (an .xlsx workbook or a zip archive) but cannot be opened ({error}): it is "
            "truncated or damaged. Download or copy it again."
        ) from None
    lowered = {n.lower() for n in names}
    if any(n.startswith("xl/") for n in lowered):
        return _read_workbook(path, data, _describe(path, "Excel workbook (.xlsx)", wrappers))
    if "mimetype" in lowered and b"spreadsheet" in archive.read("mimetype"):
        return _read_workbook(path, data, _describe(path, "OpenDocument spreadsheet", wrappers))
    if any(n.startswith(("word/", "ppt/")) for n in lowered) or "mimetype" in lowered:
        raise DataFileError(
            f"{path} is an Office document (a zip file holding {', '.join(sorted(names)[:3])} ...), not a "
            "spreadsheet or a data table."
        )
    members = [
        info for info in archive.infolist() if not info.is_dir() and not info.filename.startswith(("__MACOSX/", "."))
    ]
    if len(members) != 1:
        raise DataFileError(
            f"{path} is a zip archive of {len(members)} files ({', '.join(m.filename for m in members[:10])}); "
            "expected exactly one data file in it. Extract the one you mean and load that."
        )
    try:
        inner = archive.read(members[0])
    except (zipfile.BadZipFile, OSError, RuntimeError, zlib.error, ValueError) as error:
        raise DataFileError(
            f"{path} is a zip archive whose member {members[0].filename} cannot be extracted ({error}); extract it "
            "yourself or download the file again."
        ) from None
    if not inner.strip():
        raise DataFileError(f"{path}: its zipped member {members[0].filename} is empty.")
    return _read_bytes(path, inner, [*wrappers, f"zip member {members[0].filename}"])


def _cell_text(value) -> str:
    """A typed cell (a workbook's or a Parquet file's) as the text a CSV would hold."""
    if value is None:
        return ""
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, float | np.floating):
        if np.isnan(value):
            return ""
        if np.isfinite(value) and float(value).is_integer():
            return str(int(value))
        return repr(float(value))
    return str(value).strip()


def _read_workbook(path: Path, data: bytes, form: str) -> Table:
    import python_calamine

    try:
        book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheets = book.sheet_names
        for number, name in enumerate(sheets):
            cells = book.get_sheet_by_index(number).to_python(skip_empty_area=False)
            rows, places = [], []
            for r, row in enumerate(cells):
                texts = [_cell_text(v) for v in row]
                if any(texts):
                    rows.append(texts)
                    places.append(r + 1)
            if rows:
                return Table(path, f"{form}, sheet {name!r}", rows, places, "row")
    except Exception as error:  # calamine raises its own types (format, password, zip, xml); all mean "unreadable"
        what = str(error).strip() or type(error).__name__
        if "password" in what.lower() or type(error).__name__ == "PasswordError":
            raise DataFileError(
                f"{path} ({form}) is password-protected; save an unprotected copy and load that."
            ) from None
        raise DataFileError(
            f"{path} looks like an {form} (from its first bytes) but cannot be read ({what}): it is truncated or "
            "damaged. Open it in a spreadsheet program and save it again, or export it as CSV."
        ) from None
    raise DataFileError(f"{path} ({form}) has no cells in any of its sheets {sheets}: expected a header and data rows.")


def _read_parquet(path: Path, data: bytes, form: str) -> Table:
    parquet = require("pyarrow.parquet", "parquet", "Reading a Parquet file")
    try:
        table = parquet.read_table(io.BytesIO(data))
    except Exception as error:  # pyarrow raises ArrowInvalid, OSError ...: all mean "unreadable"
        raise DataFileError(
            f"{path} is a Parquet file (from its first bytes) but cannot be read ({error}): it is truncated or "
            "damaged. Write it again."
        ) from None
    columns = [table.column(i).to_pylist() for i in range(table.num_columns)]
    rows = [[str(name) for name in table.column_names]]
    rows += [[_cell_text(column[r]) for column in columns] for r in range(table.num_rows)]
    return Table(path, form, rows, list(range(table.num_rows + 1)), "row")


class _Cells(HTMLParser):
    """The rows of the tables of an HTML page (``<tr>``/``<td>``/``<th>``) or of an Excel 2003
    XML spreadsheet (``<Row>``/``<Cell>``, ``ss:Index`` for skipped cells), with the line of each row."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables: list = []
        self.row = self.cell = None
        self.title: list = []
        self.in_title = False
        self.tags: set = set()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        if tag == "title":
            self.in_title = True
        elif tag in ("table", "worksheet") or (tag in ("tr", "row") and not self.tables):
            self.tables.append([])
        if tag in ("tr", "row"):
            self.row = ([], self.getpos()[0])
            self.tables[-1].append(self.row)
        elif tag in ("td", "th", "cell") and self.row is not None:
            index = dict(attrs).get("ss:index")
            if index and index.isdigit():
                self.row[0].extend([""] * max(0, int(index) - 1 - len(self.row[0])))
            self.cell = []
            self.row[0].append(self.cell)

    def handle_endtag(self, tag):
        if tag == "title":
            self.in_title = False
        elif tag in ("td", "th", "cell"):
            self.cell = None
        elif tag in ("tr", "row"):
            self.row = self.cell = None

    def handle_data(self, data):
        if self.in_title:
            self.title.append(data)
        if self.cell is not None:
            self.cell.append(data)


def _read_markup(path: Path, text: str, wrappers: list) -> Table:
    parser = _Cells()
    try:
        parser.feed(text)
        parser.close()
    except Exception as error:  # the stdlib parser is lenient; anything it raises means "unreadable"
        raise DataFileError(f"{path} looks like HTML or XML but cannot be parsed ({error}).") from None
    spreadsheet = "workbook" in parser.tags and "row" in parser.tags
    kind = "Excel 2003 XML spreadsheet" if spreadsheet else "HTML page" if "html" in text[:2000].lower() else "markup"
    tables = [t for t in parser.tables if t]
    if not tables:
        title = " ".join("".join(parser.title).split())
        raise DataFileError(
            f"{path} is an {_describe(path, kind, wrappers)} with no table in it"
            + (f" (its title: {title!r})" if title else "")
            + ": probably a web page (an error or login page) saved instead of the data file. Download the data "
            "file itself."
        )
    best = max(tables, key=len)
    rows, places = [], []
    for cells, line in best:
        texts = [" ".join("".join(c).split()) if isinstance(c, list) else c for c in cells]
        if any(texts):
            rows.append(texts)
            places.append(line)
    form = _describe(path, f"{kind} table" if not spreadsheet else kind, wrappers)
    return Table(path, form, rows, places, "line")


def _sniff_delimiter(text: str) -> str:
    """The delimiter that splits the first lines into the most columns, consistently."""
    sample = "".join(io.StringIO(text, newline="").readlines(64 * 1024)[:40])
    best, best_score = ",", (0, 0, 0)
    for delimiter in _DELIMITERS:
        widths = []
        try:
            for record in csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter, skipinitialspace=True):
                if any(cell.strip() for cell in record):
                    widths.append(len(_trimmed(record)))
        except csv.Error:
            pass
        if not widths:
            continue
        header = widths[0]
        score = (int(header > 1), sum(w == header for w in widths[1:]), header)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _trimmed(cells: list) -> list:
    """Cells without the empty ones at the end of the row (a trailing delimiter)."""
    end = len(cells)
    while end and not str(cells[end - 1]).strip():
        end -= 1
    return cells[:end]


def _read_delimited(path: Path, text: str, wrappers: list, encoding: str) -> Table:
    if not re.sub(r'[\s,;|"]', "", text):
        raise DataFileError(f"{path} is empty: it holds only delimiters and blank lines, no header or data.")
    first_line = 1
    hint = re.match(r"sep=(.)\r?\n", text)  # Excel's "sep=;" first line names the delimiter
    if hint:
        delimiter, text, first_line = hint.group(1), text[hint.end() :], 2
    else:
        delimiter = _sniff_delimiter(text)
    name = _DELIMITER_NAMES.get(delimiter, f"{delimiter!r}-")
    notes = [*wrappers] + ([f"{encoding}"] if encoding != "UTF-8" else [])
    form = _describe(path, f"{name}-separated text", notes)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, skipinitialspace=True, strict=True)
    rows, places, start = [], [], first_line
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            end = reader.line_num + first_line - 1
            if str(error) == "unexpected end of data" or end > start:
                problem = f"a quote opened on this line is not closed (the field runs to line {end})"
            else:
                problem = f"malformed quoting ({error}): a quoted field must end at its closing quote"
            raise DataFileError(f"{path} ({form}): line {start}: {problem}. Fix that line.") from None
        end = reader.line_num + first_line - 1
        cells = [cell.strip() for cell in record]
        if any(cells):
            if end > start and any("\n" in cell or "\r" in cell for cell in cells):
                raise DataFileError(
                    f"{path} ({form}): line {start}: a quoted field runs over {end - start + 1} lines (to line {end}); "
                    "a quote is probably not closed. Fix that line."
                )
            rows.append(cells)
            places.append(start)
        start = end + 1
    return Table(path, form, rows, places, "line")


# --------------------------------------------------------------------------- cells and columns
_PLAIN = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
_GROUPED = r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?(?:[eE][+-]?\d+)?"
_INT64 = 2**63
_FAST = re.compile(r"(-?[0-9]{1,18})(?:\.0*)?")


def _whole(text: str) -> tuple[int | None, str]:
    """``(value, "")`` for a cell holding a whole number (``1200``, ``"1,200"``, ``1.2E+03``,
    ``1200.0``), else ``(None, why not)``."""
    if not text:
        return None, "empty"
    number = text
    if re.fullmatch(_GROUPED, text):
        number = text.replace(",", "")
    elif not re.fullmatch(_PLAIN, text):
        return None, f"{text!r} is not a number"
    try:
        value = Decimal(number)
    except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
        return None, f"{text!r} is not a number"
    if value.adjusted() >= 19:
        return None, f"{text!r} is too large"
    if value != value.to_integral_value():
        return None, f"{text!r} is not a whole number"
    whole = int(value)
    if not -_INT64 <= whole < _INT64:
        return None, f"{text!r} is too large"
    return whole, ""


def _check_widths(table: Table, header: int, first: int) -> int:
    """Every data row must have the header's fields (empty trailing fields aside); returns the
    header's width."""
    width = len(_trimmed(table.rows[header]))
    bad = []
    for i in range(first, len(table.rows)):
        row = table.rows[i]
        if len(row) < width or len(_trimmed(row)) > width:
            bad.append(i)
    if bad:
        fields = "fields" if table.unit == "line" else "cells"
        shown = "; ".join(f"{table.where(i)} has {len(_trimmed(table.rows[i]))}" for i in bad[:5])
        more = f" and {len(bad) - 5} more row(s)" if len(bad) > 5 else ""
        long = any(len(_trimmed(table.rows[i])) > width for i in bad)
        advice = (
            " A field too many is often a number written with a thousands separator without quotes (write "
            '"1,000" or 1000) or a stray delimiter.'
            if long
            else ""
        )
        raise table.error(
            f"the header ({table.where(header)}) has {width} {fields} but {len(bad)} row(s) do not ({shown}{more})."
            f"{advice} Fix or remove those rows."
        )
    return width


def _whole_columns(table: Table, first: int, columns: dict) -> tuple[dict, list]:
    """``{name: int64 array}`` of the data rows from ``first`` on (``columns`` maps the position
    in the row to the name), and the bad cells ``(row, position, name, problem)``."""
    n = len(table.rows) - first
    out, bad = {}, []
    for position, name in columns.items():
        values = np.empty(n, dtype=np.int64)
        for r in range(n):
            text = table.rows[first + r][position]
            fast = _FAST.fullmatch(text)
            if fast:  # the common cases: 1200, -2, 1200.0
                values[r] = int(fast.group(1))
                continue
            value, problem = _whole(text)
            if value is None:
                bad.append((r, position, name, problem))
            else:
                values[r] = value
        out[name] = values
    return out, bad


def _report(table: Table, first: int, bad: list, expected: str) -> None:
    """Raise one error listing the bad cells in file order (the first of them first)."""
    if not bad:
        return
    bad = sorted(bad, key=lambda cell: cell[:2])
    shown = "; ".join(f"{table.where(first + r)}, column {name!r}: {problem}" for r, _, name, problem in bad[:5])
    more = f"; and {len(bad) - 5} more" if len(bad) > 5 else ""
    raise table.error(f"{len(bad)} cell(s) cannot be read ({shown}{more}). {expected} Fix or remove those rows.")


def _header(table: Table, find) -> tuple[int, dict]:
    """The first of the top rows that ``find(labels)`` recognises, with its names by position."""
    for i in range(min(_HEADER_SEARCH, len(table.rows))):
        names = find(table.rows[i])
        if names:
            return i, names
    return -1, {}


def _unique(table: Table, header: int, names: dict, shown: dict) -> None:
    """Two columns with one name are ambiguous: say which."""
    seen: dict = {}
    for position, name in sorted(names.items()):
        seen.setdefault(name, []).append(position)
    twice = {name: positions for name, positions in seen.items() if len(positions) > 1}
    if twice:
        parts = [
            f"{name!r} is given by columns {', '.join(str(p + 1) for p in positions)} "
            f"({', '.join(repr(shown[p]) for p in positions)})"
            for name, positions in twice.items()
        ]
        raise table.error(f"the header ({table.where(header)}) names a column twice: {'; '.join(parts)}. Keep one.")


def _first_row(table: Table) -> str:
    cells = [c for c in table.rows[0] if c][:8]
    return ", ".join(repr(c[:40]) for c in cells) + (" ..." if len(table.rows[0]) > 8 else "")


def _normalise(label: str) -> str:
    return re.sub(r"[\s.\-]+", "_", label.strip().upper())


def _missing(table: Table, missing, found, expected_hint) -> DataFileError:
    return table.error(f"missing the column(s) {', '.join(missing)}. Found: {', '.join(found)}. {expected_hint}")


def _uci_names(labels) -> dict:
    normal = [_normalise(v) for v in labels]
    if "LIMIT_BAL" in normal:
        return {i: _UCI_ALIASES.get(label, label) for i, label in enumerate(normal) if label}
    if "X1" in normal:
        return {i: _UCI_CODES.get(label, label) for i, label in enumerate(normal) if label}
    return {}


def _empty_body(table: Table) -> DataFileError:
    return table.error("has a header but no data rows.")


def load_credit_default(path):
    """Read the UCI credit-card default file (.xls/.xlsx, or CSV with a named or ``X1..X23,Y`` header).

    Returns the frame of :func:`~nbexplain.datasets.credit.make_credit_default`: indexed by ``ID``
    (1..n when the file has no ID column), the 23 features as integers, then ``default`` (0/1).
    The file's form (delimiter, compression, workbook or text under any name) is read from its
    bytes; see :func:`read_table`.
    """
    import pandas as pd

    table = read_table(path)
    header, names = _header(table, _uci_names)
    if header >= 0 and header + 1 < len(table.rows):  # the original file: X1..X23 above the named header
        below = _uci_names(table.rows[header + 1])
        if below and "LIMIT_BAL" in [_normalise(v) for v in table.rows[header + 1]]:
            header, names = header + 1, below
    if not names:
        raise table.error(
            "has no UCI header: expected a row naming LIMIT_BAL, SEX, ... or ID, X1, ..., X23, Y among the first "
            f"{_HEADER_SEARCH} rows. The first row holds {_first_row(table)}."
        )
    _unique(table, header, names, dict(enumerate(table.rows[header])))
    wanted = (*CREDIT_FEATURES, CREDIT_TARGET)
    found = [names[i] for i in sorted(names)]
    missing = [name for name in wanted if name not in found]
    if missing:
        raise _missing(
            table,
            missing,
            found,
            "Expected the 23 UCI features and the default flag ('default payment next month' or Y).",
        )
    first = header + 1
    if first >= len(table.rows):
        raise _empty_body(table)
    _check_widths(table, header, first)
    position = {name: i for i, name in names.items()}
    columns = {position[name]: name for name in wanted}
    if "ID" in position:
        columns[position["ID"]] = "ID"
    values, bad = _whole_columns(table, first, columns)
    flags = values[CREDIT_TARGET]
    unread = {r for r, _, name, _ in bad if name == CREDIT_TARGET}
    target = position[CREDIT_TARGET]
    bad += [
        (r, target, CREDIT_TARGET, f"{flags[r]} is not 0 or 1")
        for r in np.flatnonzero((flags != 0) & (flags != 1))
        if r not in unread
    ]
    _report(table, first, bad, "Every column must hold whole numbers, and the default flag 0 or 1.")
    frame = pd.DataFrame({name: values[name] for name in wanted})
    if "ID" in position:
        ids = values["ID"]
        order = np.argsort(ids, kind="stable")
        twice = order[1:][ids[order[1:]] == ids[order[:-1]]]
        if twice.size:
            shown = ", ".join(f"{table.where(first + r)}: {ids[r]}" for r in np.sort(twice)[:5])
            raise table.error(
                f"{twice.size} row(s) repeat an ID already used above ({shown}); every client needs its own ID. "
                "Remove the duplicated rows."
            )
        frame.index = pd.Index(ids, name="ID")
    else:
        frame.index = pd.RangeIndex(1, len(frame) + 1, name="ID")
    return frame


def load_heloc(path):
    """Read FICO's ``heloc_dataset_v1.csv`` (or the same table in a workbook, compressed ...).

    Returns the frame of :func:`~nbexplain.datasets.heloc.make_heloc`: ``RiskPerformance``
    ("Bad"/"Good") then the 23 features as integers, special values -7, -8, -9 kept.
    """
    import pandas as pd

    table = read_table(path)
    wanted = (HELOC_TARGET, *HELOC_FEATURES)
    keys = {name.lower(): name for name in wanted}

    def find(labels):
        by_name = {i: keys.get(label.strip().lower(), label.strip()) for i, label in enumerate(labels) if label.strip()}
        return by_name if HELOC_TARGET in by_name.values() else {}

    header, names = _header(table, find)
    if header < 0:
        header, names = 0, {i: label for i, label in enumerate(table.rows[0]) if label}
    found = [names[i] for i in sorted(names)]
    missing = [name for name in wanted if name not in found]
    if missing:
        raise _missing(table, missing, found, "Expected RiskPerformance and the 23 features of heloc_dataset_v1.csv.")
    _unique(table, header, names, dict(enumerate(table.rows[header])))
    first = header + 1
    if first >= len(table.rows):
        raise _empty_body(table)
    _check_widths(table, header, first)
    position = {name: i for i, name in names.items()}
    values, bad = _whole_columns(table, first, {position[name]: name for name in HELOC_FEATURES})
    target = position[HELOC_TARGET]
    outcome = [table.rows[r][target].strip().capitalize() for r in range(first, len(table.rows))]
    bad += [
        (r, target, HELOC_TARGET, f"{value!r} is not 'Good' or 'Bad'" if value else "empty")
        for r, value in enumerate(outcome)
        if value not in HELOC_OUTCOMES
    ]
    _report(table, first, bad, "RiskPerformance must be 'Good' or 'Bad' and the 23 features whole numbers.")
    frame = pd.DataFrame({name: values[name] for name in HELOC_FEATURES})
    frame.insert(0, HELOC_TARGET, np.asarray(outcome, dtype=object))
    return frame
