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
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ..errors import DataFileError
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
_EXCEL_SUFFIXES = {".xls", ".xlsx", ".xlsm", ".ods"}


def _read_cells(path):
    """Every cell of the file's first sheet as text, with no header interpretation."""
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise DataFileError(f"{path} does not exist or is not a file.")
    suffix = path.suffix.lower()
    if path.stat().st_size == 0:
        raise DataFileError(f"{path} is empty: expected a header row and data rows.")
    try:
        if suffix in _EXCEL_SUFFIXES:
            cells = pd.read_excel(path, header=None, dtype=object, engine="calamine")
        else:
            cells = pd.read_csv(path, header=None, dtype=str, keep_default_na=False, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise DataFileError(f"{path} is empty: expected a header row and data rows.") from None
    except Exception as error:  # each reader raises its own types (calamine, csv, OS); all mean "unreadable"
        kind = "an Excel workbook" if suffix in _EXCEL_SUFFIXES else "a comma-separated file"
        raise DataFileError(f"{path} cannot be read as {kind}: {error}") from None
    cells = cells.map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else _cell_text(v))
    cells = cells.loc[~(cells == "").all(axis=1), ~(cells == "").all(axis=0)]
    if cells.empty:
        raise DataFileError(f"{path} is empty: expected a header row and data rows.")
    return cells.reset_index(drop=True).T.reset_index(drop=True).T


def _cell_text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _normalise(label: str) -> str:
    return re.sub(r"[\s.\-]+", "_", label.strip().upper())


def _to_integers(path, body, columns: dict, first_line: int):
    """Parse the named columns of ``body`` (text cells) as integers; ``columns`` maps the
    position in the file to the output name."""
    import pandas as pd

    frame = {}
    for position, name in columns.items():
        text = body[position]
        numbers = pd.to_numeric(text.str.replace(",", "", regex=False), errors="coerce")
        bad = numbers.isna() | ~np.isfinite(numbers)
        if not bad.any() and (numbers % 1 != 0).any():
            bad = numbers % 1 != 0
            what = "whole numbers"
        else:
            what = "numbers"
        if bad.any():
            rows = np.flatnonzero(bad.to_numpy())
            shown = ", ".join(f"line {first_line + r}: {text.iloc[r]!r}" for r in rows[:5])
            more = f" and {len(rows) - 5} more" if len(rows) > 5 else ""
            raise DataFileError(
                f"{path}: column {name!r} must hold {what}, but {len(rows)} cell(s) do not "
                f"({shown}{more}). Fix or remove those rows."
            )
        frame[name] = numbers.astype(np.int64).to_numpy()
    return pd.DataFrame(frame)


def _missing(path, missing, found, expected_hint) -> DataFileError:
    return DataFileError(
        f"{path} is missing the column(s) {', '.join(missing)}. Found: {', '.join(found)}. {expected_hint}"
    )


def load_credit_default(path):
    """Read the UCI credit-card default file (.xls/.xlsx, or CSV with a named or ``X1..X23,Y`` header).

    Returns the frame of :func:`~nbexplain.datasets.credit.make_credit_default`: indexed by ``ID``
    (1..n when the file has no ID column), the 23 features as integers, then ``default`` (0/1).
    """
    import pandas as pd

    cells = _read_cells(path)
    header_rows = 0
    names = {}
    for row in range(min(2, len(cells))):
        labels = [_normalise(v) for v in cells.iloc[row]]
        if "LIMIT_BAL" in labels:
            names = {i: _UCI_ALIASES.get(label, label) for i, label in enumerate(labels) if label}
            header_rows = row + 1
            break
        if "X1" in labels:
            names = {i: _UCI_CODES.get(label, label) for i, label in enumerate(labels) if label}
            header_rows = row + 1
    if not names:
        raise DataFileError(
            f"{path} has no UCI header: expected a row naming LIMIT_BAL, SEX, ... or "
            "ID, X1, ..., X23, Y in the first two rows."
        )
    wanted = (*CREDIT_FEATURES, CREDIT_TARGET)
    found = [names[i] for i in sorted(names)]
    missing = [name for name in wanted if name not in found]
    if missing:
        raise _missing(
            path,
            missing,
            found,
            "Expected the 23 UCI features and the default flag ('default payment next month' or Y).",
        )
    body = cells.iloc[header_rows:]
    if body.empty:
        raise DataFileError(f"{path} has a header but no data rows.")
    position = {name: i for i, name in names.items()}
    frame = _to_integers(path, body, {position[name]: name for name in wanted}, first_line=header_rows + 1)
    flags = {int(v) for v in np.unique(frame[CREDIT_TARGET])}
    if not flags <= {0, 1}:
        raise DataFileError(f"{path}: the default flag must be 0 or 1; found {sorted(flags)}.")
    if "ID" in position:
        frame.index = pd.Index(_to_integers(path, body, {position["ID"]: "ID"}, header_rows + 1)["ID"], name="ID")
    else:
        frame.index = pd.RangeIndex(1, len(frame) + 1, name="ID")
    return frame


def load_heloc(path):
    """Read FICO's ``heloc_dataset_v1.csv`` (or the same table in a workbook).

    Returns the frame of :func:`~nbexplain.datasets.heloc.make_heloc`: ``RiskPerformance``
    ("Bad"/"Good") then the 23 features as integers, special values -7, -8, -9 kept.
    """
    cells = _read_cells(path)
    labels = [v.strip() for v in cells.iloc[0]]
    by_key = {label.lower(): i for i, label in enumerate(labels) if label}
    wanted = (HELOC_TARGET, *HELOC_FEATURES)
    missing = [name for name in wanted if name.lower() not in by_key]
    if missing:
        raise _missing(
            path,
            missing,
            [label for label in labels if label],
            "Expected RiskPerformance and the 23 features of heloc_dataset_v1.csv.",
        )
    body = cells.iloc[1:]
    if body.empty:
        raise DataFileError(f"{path} has a header but no data rows.")
    frame = _to_integers(path, body, {by_key[name.lower()]: name for name in HELOC_FEATURES}, first_line=2)
    outcome = body[by_key[HELOC_TARGET.lower()]].str.strip().str.capitalize()
    unknown = ~outcome.isin(HELOC_OUTCOMES)
    if unknown.any():
        rows = np.flatnonzero(unknown.to_numpy())
        raise DataFileError(
            f"{path}: RiskPerformance must be 'Good' or 'Bad'; line {rows[0] + 2} has "
            f"{outcome.iloc[rows[0]]!r} ({len(rows)} such row(s))."
        )
    frame.insert(0, HELOC_TARGET, outcome.to_numpy())
    return frame
