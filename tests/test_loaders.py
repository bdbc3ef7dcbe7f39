"""The UCI and HELOC loaders on small files written here in each real format, good and malformed.

Every awkward form is written byte for byte by the test (gzip through the gzip module, tab text
renamed .xls, a real .xls through xlwt ...); every malformed file must raise DataFileError naming
the line (1-based, as an editor shows it) or the sheet row, and the column.
"""

import bz2
import codecs
import gzip
import io
import lzma
import re
import zipfile

import numpy as np
import pandas as pd
import pytest

from nbexplain.datasets.credit import CREDIT_FEATURES, make_credit_default
from nbexplain.datasets.heloc import make_heloc
from nbexplain.datasets.loaders import load_credit_default, load_heloc
from nbexplain.errors import DataFileError

UCI_NAMES = ["ID", *CREDIT_FEATURES, "default payment next month"]
UCI_CODES = ["", *[f"X{i}" for i in range(1, 24)], "Y"]


@pytest.fixture(scope="module")
def frame():
    return make_credit_default(60, seed=5)


def rows_of(frame):
    return [[int(i), *map(int, values)] for i, values in zip(frame.index, frame.to_numpy())]


def write_original_xls(frame, path):
    """The layout of 'default of credit card clients.xls': X1..X23/Y above the named header."""
    import xlwt

    book = xlwt.Workbook()
    sheet = book.add_sheet("Data")
    for r, row in enumerate([UCI_CODES, UCI_NAMES, *rows_of(frame)]):
        for c, value in enumerate(row):
            if value != "":
                sheet.write(r, c, value)
    book.save(str(path))


def write_xlsx(frame, path):
    from openpyxl import Workbook

    book = Workbook()
    for row in [UCI_CODES, UCI_NAMES, *rows_of(frame)]:
        book.active.append([None if v == "" else v for v in row])
    book.save(path)


def write_kaggle_csv(frame, path):
    """Kaggle's UCI_Credit_Card.csv: named header, dotted target name, amounts written as floats."""
    table = frame.rename(columns={"default": "default.payment.next.month"}).astype(float)
    table.to_csv(path, float_format="%.1f")


def write_coded_csv(frame, path):
    """The common ID,X1..X23,Y export; round amounts written like 5.00E+05."""
    lines = [",".join(["ID", *UCI_CODES[1:]])]
    for row in rows_of(frame):
        lines.append(",".join(f"{v:.2E}" if v >= 10_000 and v % 10_000 == 0 else str(v) for v in row))
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize(
    "writer, suffix",
    [(write_original_xls, ".xls"), (write_xlsx, ".xlsx"), (write_kaggle_csv, ".csv"), (write_coded_csv, ".csv")],
)
def test_each_uci_format_round_trips_to_the_generated_frame(frame, tmp_path, writer, suffix):
    path = tmp_path / f"credit{suffix}"
    writer(frame, path)
    pd.testing.assert_frame_equal(load_credit_default(path), frame)


def test_coded_csv_really_uses_exponent_notation(frame, tmp_path):
    write_coded_csv(frame, tmp_path / "coded.csv")
    assert "E+05" in (tmp_path / "coded.csv").read_text() or "E+04" in (tmp_path / "coded.csv").read_text()


def test_file_without_id_is_numbered_from_one(frame, tmp_path):
    frame.to_csv(tmp_path / "no_id.csv", index=False)
    loaded = load_credit_default(tmp_path / "no_id.csv")
    assert list(loaded.index) == list(range(1, 61))
    np.testing.assert_array_equal(loaded.to_numpy(), frame.to_numpy())


def test_heloc_round_trips(tmp_path):
    heloc = make_heloc(80, seed=1, empty_share=0.1)
    heloc.to_csv(tmp_path / "heloc_dataset_v1.csv", index=False)
    pd.testing.assert_frame_equal(load_heloc(tmp_path / "heloc_dataset_v1.csv"), heloc)


def uci_lines(frame, delimiter=",", coded_row=True, quote_thousands=False):
    """The UCI table as text lines: the coded row X1..X23/Y (as in the .xls) above the named header."""
    rows = ([UCI_CODES] if coded_row else []) + [UCI_NAMES]
    lines = [delimiter.join(row) for row in rows]
    for row in rows_of(frame):
        cells = [f'"{v:,}"' if quote_thousands and abs(v) >= 1000 else str(v) for v in row]
        lines.append(delimiter.join(cells))
    return lines


def write_bytes(path, data):
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_semicolon_tab_and_pipe_separated_text(frame, tmp_path, delimiter):
    path = write_bytes(tmp_path / "credit.csv", ("\n".join(uci_lines(frame, delimiter)) + "\n").encode())
    pd.testing.assert_frame_equal(load_credit_default(path), frame)


@pytest.mark.parametrize(
    "compress, name",
    [
        (gzip.compress, "credit.csv"),
        (bz2.compress, "credit.csv"),
        (lzma.compress, "credit.csv"),
        (gzip.compress, "credit.csv.gz"),
    ],
)
def test_compressed_text_under_any_name(frame, tmp_path, compress, name):
    text = "\n".join(uci_lines(frame, coded_row=False)) + "\n"
    path = write_bytes(tmp_path / name, compress(text.encode()))
    assert path.read_bytes()[:2] == b"\x1f\x8b" or compress is not gzip.compress
    pd.testing.assert_frame_equal(load_credit_default(path), frame)


def test_zip_of_one_csv(frame, tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("default of credit card clients.csv", "\n".join(uci_lines(frame)) + "\n")
    pd.testing.assert_frame_equal(load_credit_default(write_bytes(tmp_path / "credit.csv", buffer.getvalue())), frame)


def test_tab_separated_text_named_xls(frame, tmp_path):
    """The form in which the UCI file often circulates: tab-separated text under the .xls name."""
    path = write_bytes(tmp_path / "default of credit card clients.xls", ("\r\n".join(uci_lines(frame, "\t"))).encode())
    assert path.read_bytes()[:4] != b"\xd0\xcf\x11\xe0"
    pd.testing.assert_frame_equal(load_credit_default(path), frame)


def test_utf16_unicode_text_named_xls(frame, tmp_path):
    """Excel's "Unicode text" export: UTF-16 with a byte-order mark, tab-separated."""
    text = "\r\n".join(uci_lines(frame, "\t")) + "\r\n"
    path = write_bytes(tmp_path / "credit.xls", codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    pd.testing.assert_frame_equal(load_credit_default(path), frame)


def html_table(rows):
    body = "\n".join("<tr>" + "".join(f"<td>{v}</td>" for v in row) + "</tr>" for row in rows)
    return f"<html><head><title>credit</title></head><body>\n<table>\n{body}\n</table></body></html>\n"


def test_html_table_named_xls(frame, tmp_path):
    path = write_bytes(tmp_path / "credit.xls", html_table([UCI_CODES, UCI_NAMES, *rows_of(frame)]).encode())
    pd.testing.assert_frame_equal(load_credit_default(path), frame)


def test_excel_2003_xml_spreadsheet_named_xls(frame, tmp_path):
    rows = [UCI_CODES, UCI_NAMES, *rows_of(frame)]
    xml_rows = "\n".join(
        "<Row>"
        + "".join(
            f'<Cell ss:Index="{c + 1}"><Data ss:Type="String">{v}</Data></Cell>' for c, v in enumerate(row) if v != ""
        )
        + "</Row>"
        for row in rows
    )
    text = (
        '<?xml version="1.0"?>\n<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" '
        'xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet">\n<Worksheet ss:Name="Data"><Table>\n'
        f"{xml_rows}\n</Table></Worksheet></Workbook>\n"
    )
    pd.testing.assert_frame_equal(load_credit_default(write_bytes(tmp_path / "credit.xls", text.encode())), frame)


def test_real_xls_named_csv_is_read_as_a_workbook(frame, tmp_path):
    write_original_xls(frame, tmp_path / "credit.xls")
    path = write_bytes(tmp_path / "credit.csv", (tmp_path / "credit.xls").read_bytes())
    pd.testing.assert_frame_equal(load_credit_default(path), frame)


def test_parquet(frame, tmp_path):
    frame.reset_index().to_parquet(tmp_path / "credit.parquet")
    pd.testing.assert_frame_equal(load_credit_default(tmp_path / "credit.parquet"), frame)


def test_bom_crlf_quoted_thousands_trailing_blank_lines_and_sep_hint(frame, tmp_path):
    text = "sep=;\r\n" + "\r\n".join(uci_lines(frame, ";", quote_thousands=True)) + "\r\n\r\n\r\n"
    path = write_bytes(tmp_path / "credit.csv", codecs.BOM_UTF8 + text.encode())
    assert re.search(rb';"\d{1,3},\d{3}";', path.read_bytes())
    pd.testing.assert_frame_equal(load_credit_default(path), frame)
    text = codecs.BOM_UTF8.decode() + "\r\n".join(uci_lines(frame, ",", quote_thousands=True)) + "\r\n\n\n"
    pd.testing.assert_frame_equal(load_credit_default(write_bytes(tmp_path / "c.csv", text.encode())), frame)


def test_missing_column_is_named(frame, tmp_path):
    frame.drop(columns="PAY_AMT6").to_csv(tmp_path / "missing.csv")
    with pytest.raises(DataFileError, match=r"missing the column\(s\) PAY_AMT6\. Found: ID, LIMIT_BAL"):
        load_credit_default(tmp_path / "missing.csv")


def test_wrong_type_names_column_line_and_value(frame, tmp_path):
    table = frame.astype(object)
    table.iloc[3, table.columns.get_loc("AGE")] = "forty"
    table.to_csv(tmp_path / "typo.csv")
    match = r"1 cell\(s\) cannot be read \(line 5, column 'AGE': 'forty' is not a number\)"
    with pytest.raises(DataFileError, match=match):
        load_credit_default(tmp_path / "typo.csv")


def test_fractional_values_are_rejected(frame, tmp_path):
    table = frame.astype(float)
    table.iloc[0, 0] = 1234.5
    table.to_csv(tmp_path / "fraction.csv")
    with pytest.raises(DataFileError, match="line 2, column 'LIMIT_BAL': '1234.5' is not a whole number"):
        load_credit_default(tmp_path / "fraction.csv")


def test_line_numbers_count_blank_lines_crlf_and_quoted_newlines(frame, tmp_path):
    lines = uci_lines(frame, coded_row=False)
    lines[3] = lines[3].replace(",", ',"2\n0",', 1)  # a field split over two lines, quoted: not a number
    text = "\r\n".join(["", "", *lines[:3], "", *lines[3:]]) + "\r\n"
    path = write_bytes(tmp_path / "blank.csv", text.encode())
    # header on line 3; rows 1-2 on lines 4-5; a blank line 6; the broken row starts on line 7
    with pytest.raises(DataFileError, match=r"line 7: a quoted field runs over 2 lines \(to line 8\)"):
        load_credit_default(path)
    lines = uci_lines(frame, coded_row=False)
    lines[5] = lines[5].replace(",", ",x", 1)
    path = write_bytes(tmp_path / "junk.csv", ("\r\n".join(["", *lines[:4], "", "", *lines[4:]]) + "\r\n").encode())
    # header line 2, rows on lines 3..5, two blank lines, the 5th row (index 5 of lines) on line 9
    with pytest.raises(DataFileError, match=r"line 9, column 'LIMIT_BAL': 'x\d+' is not a number"):
        load_credit_default(path)


def test_malformed_rows_name_their_lines(frame, tmp_path):
    lines = uci_lines(frame, coded_row=False)
    extra = [*lines[:4], lines[4] + ",7", *lines[5:]]
    path = write_bytes(tmp_path / "extra.csv", ("\n".join(extra) + "\n").encode())
    with pytest.raises(DataFileError, match=r"header \(line 1\) has 25 fields but 1 row\(s\) do not \(line 5 has 26\)"):
        load_credit_default(path)
    trailing = [*lines[:4], lines[4] + ",", *lines[5:]]  # an empty trailing field loses nothing
    pd.testing.assert_frame_equal(
        load_credit_default(write_bytes(tmp_path / "t.csv", "\n".join(trailing).encode())), frame
    )
    short = [*lines[:2], ",".join(lines[2].split(",")[:10]), *lines[3:]]
    with pytest.raises(DataFileError, match=r"line 3 has 10"):
        load_credit_default(write_bytes(tmp_path / "short.csv", "\n".join(short).encode()))
    cells = lines[6].split(",")
    cells[1] = f"{int(cells[1]):,}"  # 20,000 unquoted: one field too many
    unquoted = [*lines[:6], ",".join(cells), *lines[7:]]
    with pytest.raises(DataFileError, match=r"line 7 has 26.*thousands separator without quotes"):
        load_credit_default(write_bytes(tmp_path / "thousands.csv", "\n".join(unquoted).encode()))
    unclosed = [*lines[:8], '"' + lines[8], *lines[9:]]
    with pytest.raises(DataFileError, match=r"line 9: a quote opened on this line is not closed"):
        load_credit_default(write_bytes(tmp_path / "quote.csv", "\n".join(unclosed).encode()))
    stray = [*lines[:3], lines[3].replace(",", ',"1"2,', 1), *lines[4:]]
    with pytest.raises(DataFileError, match=r"line 4: malformed quoting"):
        load_credit_default(write_bytes(tmp_path / "stray.csv", "\n".join(stray).encode()))
    cells = lines[2].split(",")
    cells[5] = ""
    empty_cell = [*lines[:2], ",".join(cells), *lines[3:]]
    with pytest.raises(DataFileError, match=r"line 3, column 'AGE': empty"):
        load_credit_default(write_bytes(tmp_path / "empty_cell.csv", "\n".join(empty_cell).encode()))


def test_tab_text_named_xls_with_a_bad_cell_names_the_line_and_the_form(frame, tmp_path):
    lines = uci_lines(frame, "\t")
    cells = uci_lines(frame, "\t")[6].split("\t")
    cells[2] = "n/a"
    lines[6] = "\t".join(cells)
    path = write_bytes(tmp_path / "credit.xls", "\n".join(lines).encode())
    with pytest.raises(
        DataFileError, match=r"\(tab-separated text, in a file named \.xls\).*line 7, column 'SEX': 'n/a' is not a"
    ):
        load_credit_default(path)


def test_workbook_cells_are_named_by_sheet_row(frame, tmp_path):
    import xlwt

    book = xlwt.Workbook()
    sheet = book.add_sheet("Data")
    for r, row in enumerate([UCI_CODES, UCI_NAMES, *rows_of(frame)]):
        for c, value in enumerate(row):
            if value != "":
                sheet.write(r, c, "forty" if (r, c) == (6, 5) else value)
    book.save(str(tmp_path / "credit.xls"))
    with pytest.raises(DataFileError, match=r"Excel 97-2003 workbook, sheet 'Data'.*row 7, column 'AGE': 'forty'"):
        load_credit_default(tmp_path / "credit.xls")


def test_html_cells_are_named_by_line(frame, tmp_path):
    rows = [UCI_CODES, UCI_NAMES, *rows_of(frame)]
    rows[4] = [*rows[4][:3], "??", *rows[4][4:]]
    path = write_bytes(tmp_path / "credit.xls", html_table(rows).encode())
    # two lines of <html><head>... and <table>, then one line per row: row 4 is on line 7
    with pytest.raises(DataFileError, match=r"HTML page table, in a file named \.xls.*line 7, column 'EDUCATION'"):
        load_credit_default(path)


def test_empty_and_header_only_files(tmp_path):
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataFileError, match="is empty"):
        load_credit_default(tmp_path / "empty.csv")
    (tmp_path / "blank.csv").write_text("\n\n  \r\n")
    with pytest.raises(DataFileError, match="is empty"):
        load_credit_default(tmp_path / "blank.csv")
    (tmp_path / "commas.csv").write_text(",,,\n,,\n")
    with pytest.raises(DataFileError, match="is empty"):
        load_credit_default(tmp_path / "commas.csv")
    (tmp_path / "header.csv").write_text(",".join(UCI_NAMES) + "\n\n\n")
    with pytest.raises(DataFileError, match="has a header but no data rows"):
        load_credit_default(tmp_path / "header.csv")
    write_bytes(tmp_path / "empty.gz", gzip.compress(b""))
    with pytest.raises(DataFileError, match=r"empty once decompressed \(gzip\)"):
        load_credit_default(tmp_path / "empty.gz")


def test_other_bad_files(frame, tmp_path):
    with pytest.raises(DataFileError, match="does not exist"):
        load_credit_default(tmp_path / "nowhere.csv")
    with pytest.raises(DataFileError, match="is a folder"):
        load_credit_default(tmp_path)
    (tmp_path / "other.csv").write_text("a,b\n1,2\n")
    with pytest.raises(DataFileError, match=r"has no UCI header.*The first row holds 'a', 'b'"):
        load_credit_default(tmp_path / "other.csv")
    table = frame.copy()
    table.iloc[2, -1] = 2
    table.to_csv(tmp_path / "flag.csv")
    match = r"1 cell\(s\) cannot be read \(line 4, column 'default': 2 is not 0 or 1\)"
    with pytest.raises(DataFileError, match=match):
        load_credit_default(tmp_path / "flag.csv")
    (tmp_path / "broken.xls").write_bytes(b"not a workbook at all")
    with pytest.raises(DataFileError, match=r"comma-separated text, in a file named \.xls.*no UCI header"):
        load_credit_default(tmp_path / "broken.xls")


def test_damaged_and_foreign_files_say_what_they_are(frame, tmp_path):
    whole = gzip.compress(("\n".join(uci_lines(frame)) + "\n").encode())
    write_bytes(tmp_path / "cut.csv", whole[: len(whole) // 2])
    with pytest.raises(DataFileError, match="is gzip-compressed but cannot be decompressed.*truncated or damaged"):
        load_credit_default(tmp_path / "cut.csv")
    write_bytes(tmp_path / "ole.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    with pytest.raises(DataFileError, match="looks like an Excel 97-2003 workbook .* but cannot be read"):
        load_credit_default(tmp_path / "ole.xls")
    write_bytes(tmp_path / "image.xls", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    with pytest.raises(DataFileError, match="is a PNG image, not a data table"):
        load_credit_default(tmp_path / "image.xls")
    write_bytes(tmp_path / "binary.csv", bytes(range(256)) * 4)
    with pytest.raises(DataFileError, match="binary file of an unknown kind.*00 01 02 03"):
        load_credit_default(tmp_path / "binary.csv")
    page = b"<!DOCTYPE html><html><head><title>Sign in</title></head><body>Hi</body></html>"
    write_bytes(tmp_path / "page.xls", page)
    match = r"HTML page, in a file named \.xls with no table in it \(its title: 'Sign in'\)"
    with pytest.raises(DataFileError, match=match):
        load_credit_default(tmp_path / "page.xls")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.csv", "x")
        archive.writestr("b.csv", "y")
    write_bytes(tmp_path / "two.zip", buffer.getvalue())
    with pytest.raises(DataFileError, match=r"zip archive of 2 files \(a\.csv, b\.csv\)"):
        load_credit_default(tmp_path / "two.zip")
    write_bytes(tmp_path / "cut.parquet", b"PAR1" + b"\x00" * 20)
    with pytest.raises(DataFileError, match="is a Parquet file .* but cannot be read"):
        load_credit_default(tmp_path / "cut.parquet")


def test_duplicate_columns_and_ids(frame, tmp_path):
    table = frame.reset_index()
    table.insert(3, "PAY_1", table["PAY_0"])  # PAY_1 is another name of PAY_0
    table.to_csv(tmp_path / "twice.csv", index=False)
    match = r"names a column twice: 'PAY_0' is given by columns 4, 8 \('PAY_1', 'PAY_0'\)"
    with pytest.raises(DataFileError, match=match):
        load_credit_default(tmp_path / "twice.csv")
    repeated = pd.concat([frame, frame.iloc[[2]]])
    repeated.to_csv(tmp_path / "ids.csv")
    with pytest.raises(DataFileError, match=r"1 row\(s\) repeat an ID already used above \(line 62: 3\)"):
        load_credit_default(tmp_path / "ids.csv")


def test_numbers_beyond_int64_and_not_numbers(frame, tmp_path):
    lines = uci_lines(frame, coded_row=False)
    cells = lines[1].split(",")
    cells[1], cells[7] = "1e30", "nan"
    lines[1] = ",".join(cells)
    with pytest.raises(
        DataFileError,
        match=r"2 cell\(s\) cannot be read \(line 2, column 'LIMIT_BAL': '1e30' is too large; line 2, column 'PAY_2'",
    ):
        load_credit_default(write_bytes(tmp_path / "big.csv", "\n".join(lines).encode()))


def test_heloc_forms(tmp_path):
    heloc = make_heloc(40, seed=2, empty_share=0.1)
    text = heloc.to_csv(index=False, sep="\t", lineterminator="\r\n")
    pd.testing.assert_frame_equal(load_heloc(write_bytes(tmp_path / "heloc.csv", gzip.compress(text.encode()))), heloc)
    pd.testing.assert_frame_equal(load_heloc(write_bytes(tmp_path / "heloc.xls", text.encode())), heloc)


def test_heloc_malformed(tmp_path):
    heloc = make_heloc(20, seed=1)
    heloc.drop(columns="MaxDelqEver").to_csv(tmp_path / "missing.csv", index=False)
    with pytest.raises(DataFileError, match=r"missing the column\(s\) MaxDelqEver"):
        load_heloc(tmp_path / "missing.csv")
    bad = heloc.copy()
    bad.loc[4, "RiskPerformance"] = "Maybe"
    bad.to_csv(tmp_path / "outcome.csv", index=False)
    with pytest.raises(DataFileError, match="line 6, column 'RiskPerformance': 'Maybe' is not 'Good' or 'Bad'"):
        load_heloc(tmp_path / "outcome.csv")
    bad = heloc.astype(object)
    bad.loc[7, "NumInqLast6M"] = "-"
    bad.to_csv(tmp_path / "dash.csv", index=False)
    with pytest.raises(DataFileError, match="line 9, column 'NumInqLast6M': '-' is not a number"):
        load_heloc(tmp_path / "dash.csv")
    (tmp_path / "header.csv").write_text(",".join(heloc.columns) + "\r\n\r\n")
    with pytest.raises(DataFileError, match="has a header but no data rows"):
        load_heloc(tmp_path / "header.csv")


def test_problems_of_every_kind_are_reported_in_file_order(tmp_path):
    heloc = make_heloc(12, seed=3).astype(object)
    heloc.loc[2, "RiskPerformance"] = ""
    heloc.loc[9, "MaxDelqEver"] = "seven"
    heloc.to_csv(tmp_path / "both.csv", index=False)
    match = r"2 cell\(s\) cannot be read \(line 4, column 'RiskPerformance': empty; line 11, column 'MaxDelqEver'"
    with pytest.raises(DataFileError, match=match):
        load_heloc(tmp_path / "both.csv")


def test_utf16_without_its_mark_streams_and_bad_paths(frame, tmp_path):
    text = "\n".join(uci_lines(frame, "\t")) + "\n"
    pd.testing.assert_frame_equal(load_credit_default(write_bytes(tmp_path / "u.xls", text.encode("utf-16-le"))), frame)
    pd.testing.assert_frame_equal(load_credit_default(io.BytesIO(gzip.compress(text.encode()))), frame)
    with open(tmp_path / "u.xls", "rb") as handle:
        pd.testing.assert_frame_equal(load_credit_default(handle), frame)
    with pytest.raises(DataFileError, match=r"path must be a file path .*; got None"):
        load_credit_default(None)
    with pytest.raises(DataFileError, match=r"<stream> is empty"):
        load_credit_default(io.BytesIO(b""))
