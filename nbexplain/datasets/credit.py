"""Credit-card default data with the exact schema of the UCI "default of credit card clients" file.

Yeh & Lien (2009); the file used in Horel et al. (2018), section 4. One row per client: the
credit limit, four demographic columns, six months (April to September 2005) of repayment
status, bill and payment, and whether the client defaulted the following month.

The generator is seeded and documented so that tests can check what a model learns against
what the data were made of. Its process, for client i (months m = 6 (April) .. 1 (September)):

1. **Demographics.** ``SEX`` 1 male / 2 female (P(2) = 0.6); ``EDUCATION`` 1 graduate school,
   2 university, 3 high school, 4 others, 5-6 unknown, 0 unlabelled (probabilities .35, .47,
   .16, .004, .009, .002, .0005 and the rest to 2); ``AGE`` = 21 + Gamma(2.2, 6.5), rounded,
   clipped to 21..79; ``MARRIAGE`` 1 married with P = 0.15 + 0.7 sigmoid((AGE - 33) / 4),
   else 2 single, 3 others with P 0.011 and 0 with P 0.002.
2. **Latent risk** r ~ N(0, 1): unobserved, drives limit, utilisation and repayment.
3. **Limit.** ``log LIMIT_BAL = log 140,000 + 0.35 [EDU = 1] - 0.25 [EDU = 3] + 0.012 (AGE - 35)
   - 0.35 r + 0.55 N(0, 1)``, rounded to 10,000, clipped to 10,000..1,000,000.
4. **Repayment status** (``PAY_6`` .. ``PAY_0``; -2 no consumption, -1 paid in full, 0 revolving
   credit, k >= 1 payment delayed k months), a Markov chain that persists month to month.
   Month m misses its payment with P = sigmoid(-2.3 + 0.9 r + 2.0 [previous status >= 1]);
   a miss sets the status to (previous status if >= 1, else 0) + 1, capped at 8 (a first miss is
   recorded as 2 with P 0.5, as in the UCI coding). Otherwise the client keeps the previous
   non-delayed status with P 0.75; else draws -2 (P 0.08), -1 (P sigmoid(-1 - 0.9 r)) or 0.
   The chain starts at -2 (P 0.08), -1 or 0 and runs 6 unrecorded months before April.
5. **Bills** (``BILL_AMT6`` .. ``BILL_AMT1``) follow the limit: utilisation
   u_i = clip(Beta(1.1, 2.2) + 0.08 r, 0.01, 0.98), used at 35 % in months paid in full;
   bill = LIMIT_BAL (u + 0.04 max(status, 0))
   exp(0.15 N(0, 1)); a status of -2 gives a bill of 0; with P 0.02 a bill is a credit balance,
   -U(0, 0.04) LIMIT_BAL (bills can be negative).
6. **Payments** (``PAY_AMT6`` .. ``PAY_AMT1``, >= 0) settle the previous month's bill b:
   paid in full (-1): b U(0.9, 1); revolving (0): b U(0.03, 0.15); delayed: 0 with P 0.6, else
   b U(0, 0.05); no consumption (-2): 0. Negative b pays nothing.
7. **Default next month**, driven mostly by the most recent repayment status, then by payments
   and the limit (only these five columns enter it):

       logit P(default) = -1.60 + 1.15 clip(PAY_0, 0, 4) + 0.30 clip(PAY_2, 0, 4)
                          - 0.22 log1p(PAY_AMT1 / 1000) - 0.12 log1p(PAY_AMT2 / 1000)
                          - 0.40 log(LIMIT_BAL / 100,000)

   which gives about 22 % defaults, as in the UCI file (22.1 %). The demographic columns do not
   enter it; they act only through their correlation with the limit.
"""

from __future__ import annotations

import numpy as np

from ..credit.reasons import ReasonCatalogue, ReasonCode
from ..errors import ArgumentError, row_list, whole_number

STATIC_FEATURES = ("LIMIT_BAL", "SEX", "EDUCATION", "MARRIAGE", "AGE")
STATUS_FEATURES = ("PAY_0", "PAY_2", "PAY_3", "PAY_4", "PAY_5", "PAY_6")
BILL_FEATURES = tuple(f"BILL_AMT{m}" for m in range(1, 7))
PAYMENT_FEATURES = tuple(f"PAY_AMT{m}" for m in range(1, 7))
CREDIT_FEATURES = STATIC_FEATURES + STATUS_FEATURES + BILL_FEATURES + PAYMENT_FEATURES
CREDIT_TARGET = "default"
#: Columns that enter the documented default equation, most influential first.
DEFAULT_DRIVERS = ("PAY_0", "PAY_AMT1", "LIMIT_BAL", "PAY_2", "PAY_AMT2")
DEMOGRAPHIC_FEATURES = ("SEX", "EDUCATION", "MARRIAGE", "AGE")

#: Month names of the sequence view, oldest first; column m of each group is month 7 - m.
MONTHS = ("April", "May", "June", "July", "August", "September")
SEQUENCE_CHANNELS = ("repayment status", "bill", "payment")
#: Codes of the categorical columns and what they mean (the UCI file's documentation).
CATEGORY_LABELS = {
    "SEX": {1: "male", 2: "female"},
    "EDUCATION": {
        1: "graduate school",
        2: "university",
        3: "high school",
        4: "others",
        5: "unknown",
        6: "unknown",
        0: "unlabelled",
    },
    "MARRIAGE": {1: "married", 2: "single", 3: "others", 0: "unlabelled"},
}

_EDUCATION_LEVELS = np.array([1, 2, 3, 4, 5, 6, 0])
_EDUCATION_P = np.array([0.35, 0.47, 0.16, 0.004, 0.009, 0.002, 0.0005])


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def default_logit(frame) -> np.ndarray:
    """The documented default equation (step 7) evaluated on a frame with the UCI columns."""
    col = {name: frame[name].to_numpy(dtype=float) for name in DEFAULT_DRIVERS}
    return (
        -1.60
        + 1.15 * np.clip(col["PAY_0"], 0, 4)
        + 0.30 * np.clip(col["PAY_2"], 0, 4)
        - 0.22 * np.log1p(np.maximum(col["PAY_AMT1"], 0) / 1000)
        - 0.12 * np.log1p(np.maximum(col["PAY_AMT2"], 0) / 1000)
        - 0.40 * np.log(col["LIMIT_BAL"] / 100_000)
    )


def _repayment_status(rng, risk, months=6, burn_in=6) -> np.ndarray:
    """Step 4: statuses oldest month first, shape (n, months), after ``burn_in`` unrecorded
    months so that the first recorded month already carries delays."""
    n = len(risk)
    status = np.empty((n, burn_in + months), dtype=np.int64)
    previous = np.where(rng.random(n) < _sigmoid(-1.0 - 0.9 * risk), -1, 0)
    previous[rng.random(n) < 0.08] = -2
    for m in range(burn_in + months):
        delayed = previous >= 1
        miss = rng.random(n) < _sigmoid(-2.3 + 0.9 * risk + 2.0 * delayed)
        first_miss = np.where(rng.random(n) < 0.5, 2, 1)
        missed_status = np.where(delayed, np.minimum(previous + 1, 8), first_miss)
        fresh = np.where(rng.random(n) < _sigmoid(-1.0 - 0.9 * risk), -1, 0)
        fresh[rng.random(n) < 0.08] = -2
        keep = ~delayed & (rng.random(n) < 0.75)
        paid_status = np.where(keep, previous, fresh)
        status[:, m] = np.where(miss, missed_status, paid_status)
        previous = status[:, m]
    return status[:, burn_in:]


def _bills(rng, limit, risk, status) -> np.ndarray:
    """Step 5: bills oldest month first, shape (n, months)."""
    n, months = status.shape
    usage = np.clip(rng.beta(1.1, 2.2, n) + 0.08 * risk, 0.01, 0.98)
    usage = np.where(status == -1, 0.35, 1.0) * usage[:, None]
    bills = limit[:, None] * (usage + 0.04 * np.maximum(status, 0))
    bills = bills * np.exp(0.15 * rng.standard_normal((n, months)))
    bills[status == -2] = 0.0
    credit = rng.random((n, months)) < 0.02
    bills[credit] = -rng.uniform(0, 0.04, credit.sum()) * np.broadcast_to(limit[:, None], bills.shape)[credit]
    return np.round(bills)


def _payments(rng, status, bills) -> np.ndarray:
    """Step 6: payments oldest month first; month m settles the bill of month m - 1."""
    n, months = status.shape
    previous_bill = np.concatenate([bills[:, :1], bills[:, :-1]], axis=1).clip(min=0)
    share = np.where(status == -1, rng.uniform(0.9, 1.0, (n, months)), 0.0)
    share = np.where(status == 0, rng.uniform(0.03, 0.15, (n, months)), share)
    partial = (status >= 1) & (rng.random((n, months)) >= 0.6)
    share = np.where(partial, rng.uniform(0.0, 0.05, (n, months)), share)
    return np.round(previous_bill * share)


def make_credit_default(n: int = 30_000, seed: int = 0):
    """Draw ``n`` clients of the documented process (module docstring).

    Returns a DataFrame indexed by ``ID`` (1..n) with the 23 UCI columns as integers and the
    ``default`` flag (0/1), in the UCI column order.
    """
    import pandas as pd

    n = whole_number("n", n, minimum=1, meaning="the number of clients to draw")
    seed = whole_number("seed", seed, minimum=0)
    rng = np.random.default_rng(seed)
    sex = np.where(rng.random(n) < 0.6, 2, 1)
    education = rng.choice(_EDUCATION_LEVELS, n, p=_EDUCATION_P / _EDUCATION_P.sum())
    age = np.clip(np.round(21 + rng.gamma(2.2, 6.5, n)), 21, 79).astype(np.int64)
    marriage = np.where(rng.random(n) < 0.15 + 0.7 * _sigmoid((age - 33) / 4), 1, 2)
    other = rng.random(n)
    marriage[other < 0.011] = 3
    marriage[other < 0.002] = 0
    risk = rng.standard_normal(n)
    log_limit = (
        np.log(140_000)
        + 0.35 * (education == 1)
        - 0.25 * (education == 3)
        + 0.012 * (age - 35)
        - 0.35 * risk
        + 0.55 * rng.standard_normal(n)
    )
    limit = np.clip(np.round(np.exp(log_limit) / 10_000) * 10_000, 10_000, 1_000_000)
    status = _repayment_status(rng, risk)
    bills = _bills(rng, limit, risk, status)
    payments = _payments(rng, status, bills)

    columns = {"LIMIT_BAL": limit, "SEX": sex, "EDUCATION": education, "MARRIAGE": marriage, "AGE": age}
    newest_first = slice(None, None, -1)
    columns.update(zip(STATUS_FEATURES, status[:, newest_first].T))
    columns.update(zip(BILL_FEATURES, bills[:, newest_first].T))
    columns.update(zip(PAYMENT_FEATURES, payments[:, newest_first].T))
    frame = pd.DataFrame(
        {k: np.asarray(v, dtype=np.int64) for k, v in columns.items()}, index=pd.RangeIndex(1, n + 1, name="ID")
    )
    frame[CREDIT_TARGET] = (rng.random(n) < _sigmoid(default_logit(frame))).astype(np.int64)
    return frame


def require_columns(frame, columns, who: str, *, numeric: bool = True, finite: bool = False) -> None:
    """Refuse a ``frame`` that is not a DataFrame holding ``columns`` (numeric ones, and finite
    ones when ``finite``), with an :class:`~nbexplain.errors.ArgumentError` naming what is wrong."""
    import pandas as pd
    from pandas.api.types import is_bool_dtype, is_complex_dtype, is_numeric_dtype

    if not isinstance(frame, pd.DataFrame):
        raise ArgumentError(
            f"{who}: frame must be a pandas DataFrame with the UCI columns (make_credit_default() or "
            f"load_credit_default(path) return one); got {type(frame).__name__}."
        )
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ArgumentError(
            f"{who}: frame lacks {len(missing)} of the {len(columns)} columns it needs: {missing}. "
            "make_credit_default() and load_credit_default(path) give the UCI columns."
        )
    if not numeric:
        return
    text = [
        c
        for c in columns
        if not (is_numeric_dtype(frame[c].dtype) or is_bool_dtype(frame[c].dtype)) or is_complex_dtype(frame[c].dtype)
    ]
    if text:
        kinds = sorted({str(frame[c].dtype) for c in text})
        raise ArgumentError(f"{who}: the column(s) {text} are not numeric (dtype {', '.join(kinds)}); convert them.")
    if finite:
        values = frame[list(columns)].to_numpy(dtype=float, na_value=np.nan)
        bad = ~np.isfinite(values)
        if bad.any():
            rows = np.flatnonzero(bad.any(axis=1))
            cols = [columns[c] for c in np.flatnonzero(bad.any(axis=0))]
            raise ArgumentError(
                f"{who}: NaN, missing or infinite values in {len(rows)} row(s) (index "
                f"{row_list(rows, list(frame.index))}), column(s) {cols}. Impute or drop those rows first."
            )


def split_credit(frame):
    """``(X, y)``: the 23 features as a DataFrame and the default flag as a Series."""
    require_columns(frame, (*CREDIT_FEATURES, CREDIT_TARGET), "split_credit", numeric=False)
    return frame[list(CREDIT_FEATURES)], frame[CREDIT_TARGET]


def credit_sequences(frame) -> dict:
    """The same clients as sequences for recurrent models.

    Returns ``{"history": (n, 6, 3), "static": (n, 5)}`` float32 arrays: ``history`` holds
    (repayment status, bill, payment) per month, oldest (April) first, so that lag 0 is
    September (``PAY_0``, ``BILL_AMT1``, ``PAY_AMT1``); ``static`` holds ``STATIC_FEATURES``.
    """
    groups = (STATUS_FEATURES, BILL_FEATURES, PAYMENT_FEATURES)
    require_columns(
        frame, (*STATIC_FEATURES, *STATUS_FEATURES, *BILL_FEATURES, *PAYMENT_FEATURES), "credit_sequences", finite=True
    )
    history = np.stack([frame[list(group[::-1])].to_numpy(dtype=np.float32) for group in groups], axis=-1)
    return {"history": history, "static": frame[list(STATIC_FEATURES)].to_numpy(dtype=np.float32)}


def sequence_elements() -> dict:
    """Where each UCI column lands in :func:`credit_sequences`: ``{column: (input, index)}``,
    e.g. ``PAY_0 -> ("history", (5, 0))`` (September, repayment status)."""
    last = len(MONTHS) - 1
    elements = {column: ("static", (j,)) for j, column in enumerate(STATIC_FEATURES)}
    for channel, group in enumerate((STATUS_FEATURES, BILL_FEATURES, PAYMENT_FEATURES)):
        elements.update({column: ("history", (last - lag, channel)) for lag, column in enumerate(group)})
    return elements


def credit_reason_catalogue():
    """Reason statements for the UCI credit-card columns, related columns grouped.

    All six repayment-status months are one reason, as are the six bill amounts and the six
    payment amounts: their attributions are summed before ranking. Sex, marital status and age
    are prohibited bases under ECOA (Regulation B) and are never given as reasons.
    """
    return ReasonCatalogue(
        (
            ReasonCode("DELINQ", "Delinquency on this account: payments past due in recent months", STATUS_FEATURES),
            ReasonCode("PAYAMT", "Amount of recent payments is low relative to the balance", PAYMENT_FEATURES),
            ReasonCode("BALANCE", "Balances owed on this account are high", BILL_FEATURES),
            ReasonCode("LIMIT", "Amount of credit available on this account is low", ("LIMIT_BAL",)),
            ReasonCode("EDUC", "Level of education", ("EDUCATION",)),
        ),
        prohibited=("SEX", "MARRIAGE", "AGE"),
        adverse="increase",
    )
