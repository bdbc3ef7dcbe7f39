"""The UCI and HELOC loaders on small files written here in each real format, good and malformed."""

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


def test_missing_column_is_named(frame, tmp_path):
    frame.drop(columns="PAY_AMT6").to_csv(tmp_path / "missing.csv")
    with pytest.raises(DataFileError, match=r"missing the column\(s\) PAY_AMT6\. Found: ID, LIMIT_BAL"):
        load_credit_default(tmp_path / "missing.csv")


def test_wrong_type_names_column_line_and_value(frame, tmp_path):
    table = frame.astype(object)
    table.iloc[3, table.columns.get_loc("AGE")] = "forty"
    table.to_csv(tmp_path / "typo.csv")
    with pytest.raises(
        DataFileError, match=r"column 'AGE' must hold numbers, but 1 cell\(s\) do not \(line 5: 'forty'\)"
    ):
        load_credit_default(tmp_path / "typo.csv")


def test_fractional_values_are_rejected(frame, tmp_path):
    table = frame.astype(float)
    table.iloc[0, 0] = 1234.5
    table.to_csv(tmp_path / "fraction.csv")
    with pytest.raises(DataFileError, match="'LIMIT_BAL' must hold whole numbers.*line 2: '1234.5'"):
        load_credit_default(tmp_path / "fraction.csv")


def test_empty_and_header_only_files(tmp_path):
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataFileError, match="is empty"):
        load_credit_default(tmp_path / "empty.csv")
    (tmp_path / "blank.csv").write_text("\n\n")
    with pytest.raises(DataFileError, match="is empty"):
        load_credit_default(tmp_path / "blank.csv")
    (tmp_path / "header.csv").write_text(",".join(UCI_NAMES) + "\n")
    with pytest.raises(DataFileError, match="has a header but no data rows"):
        load_credit_default(tmp_path / "header.csv")


def test_other_bad_files(frame, tmp_path):
    with pytest.raises(DataFileError, match="does not exist"):
        load_credit_default(tmp_path / "nowhere.csv")
    (tmp_path / "other.csv").write_text("a,b\n1,2\n")
    with pytest.raises(DataFileError, match="has no UCI header"):
        load_credit_default(tmp_path / "other.csv")
    table = frame.copy()
    table.iloc[0, -1] = 2
    table.to_csv(tmp_path / "flag.csv")
    with pytest.raises(DataFileError, match=r"default flag must be 0 or 1; found \[0, 1, 2\]"):
        load_credit_default(tmp_path / "flag.csv")
    (tmp_path / "broken.xls").write_bytes(b"not a workbook at all")
    with pytest.raises(DataFileError, match="cannot be read as an Excel workbook"):
        load_credit_default(tmp_path / "broken.xls")


def test_heloc_malformed(tmp_path):
    heloc = make_heloc(20, seed=1)
    heloc.drop(columns="MaxDelqEver").to_csv(tmp_path / "missing.csv", index=False)
    with pytest.raises(DataFileError, match=r"missing the column\(s\) MaxDelqEver"):
        load_heloc(tmp_path / "missing.csv")
    bad = heloc.copy()
    bad.loc[4, "RiskPerformance"] = "Maybe"
    bad.to_csv(tmp_path / "outcome.csv", index=False)
    with pytest.raises(DataFileError, match="RiskPerformance must be 'Good' or 'Bad'; line 6 has 'Maybe'"):
        load_heloc(tmp_path / "outcome.csv")
