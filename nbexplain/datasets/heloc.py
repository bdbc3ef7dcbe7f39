"""HELOC applications with the schema of FICO's Explainable ML Challenge file (``heloc_dataset_v1``).

One row per home-equity line of credit application: ``RiskPerformance`` ("Bad": 90 days past
due or worse within 24 months; "Good" otherwise) and 23 credit-bureau features. Three special
values stand for missing information, as in the real file:

* ``-9``: no bureau record or no investigation; the real file has rows where every feature is -9;
* ``-8``: no usable or valid trades or inquiries;
* ``-7``: condition not met (no delinquency, no inquiry).

The generator, for application i:

1. Latent credit quality q ~ N(0, 1) (higher is better) and file age: months since the oldest
   trade ``MSinceOldestTradeOpen`` = round(exp(N(5.1 + 0.15 q, 0.55))), clipped to 2..803.
2. ``ExternalRiskEstimate`` = round(72 + 8 q + 2.5 N), clipped to 33..94.
   ``AverageMInFile`` ~ 0.4 of the oldest trade's age (times exp(0.3 N)), at least 4;
   ``MSinceMostRecentTradeOpen`` = round(Exponential(9)) clipped below ``AverageMInFile``.
3. Trades: ``NumTotalTrades`` ~ Poisson(6 + AverageMInFile / 5); satisfactory trades a
   Binomial share with p = sigmoid(2.6 + 0.9 q); ``PercentTradesNeverDelq`` from the same share.
   ``NumTrades60Ever2DerogPubRec`` ~ Poisson(0.6 exp(-0.9 q)), ``NumTrades90Ever...`` a
   Binomial half of it. ``PercentInstallTrades`` ~ 100 Beta(2, 4).
4. Delinquency: ever-delinquent with P = sigmoid(-0.2 - 1.2 q); those never delinquent get
   ``MSinceMostRecentDelq`` = -7, ``MaxDelqEver`` = 8 and ``MaxDelq2PublicRecLast12M`` = 7
   (the "current and never delinquent" codes); others a recency Exponential(20) clipped to 0..83
   and worse codes when q is low.
5. Inquiries: ``NumInqLast6M`` ~ Poisson(1.4 exp(-0.5 q)), ``...excl7days`` a Binomial 0.9 of
   it; ``MSinceMostRecentInqexcl7days`` is -7 when there were none in the window, else
   Exponential(3).
6. Burden: ``NetFractionRevolvingBurden`` = 100 clip(Beta(1.4, 2.6) - 0.12 q, 0, 2.3);
   ``NetFractionInstallBurden`` = 100 Beta(4, 2) (-8 when the applicant has no installment trade,
   P 0.35); trades with balance and ``NumBank2NatlTradesWHighUtilization`` rise with burden;
   2 % of ``...Revolving...`` values are -8.
7. Outcome: P(Bad) = sigmoid(-0.20 - 0.095 (ExternalRiskEstimate - 72)
   + 0.35 [ever delinquent] + 0.012 (NetFractionRevolvingBurden - 35) + 0.15 NumInqLast6M
   - 0.004 (AverageMInFile - 78)), about 52 % Bad as in the real file.
8. About 5.6 % of rows (as the real file's 588 of 10,459) get -9 in every feature; their
   outcome is kept.
"""

from __future__ import annotations

import numpy as np

from ..errors import real_number, whole_number

HELOC_FEATURES = (
    "ExternalRiskEstimate",
    "MSinceOldestTradeOpen",
    "MSinceMostRecentTradeOpen",
    "AverageMInFile",
    "NumSatisfactoryTrades",
    "NumTrades60Ever2DerogPubRec",
    "NumTrades90Ever2DerogPubRec",
    "PercentTradesNeverDelq",
    "MSinceMostRecentDelq",
    "MaxDelq2PublicRecLast12M",
    "MaxDelqEver",
    "NumTotalTrades",
    "NumTradesOpeninLast12M",
    "PercentInstallTrades",
    "MSinceMostRecentInqexcl7days",
    "NumInqLast6M",
    "NumInqLast6Mexcl7days",
    "NetFractionRevolvingBurden",
    "NetFractionInstallBurden",
    "NumRevolvingTradesWBalance",
    "NumInstallTradesWBalance",
    "NumBank2NatlTradesWHighUtilization",
    "PercentTradesWBalance",
)
HELOC_TARGET = "RiskPerformance"
HELOC_OUTCOMES = ("Bad", "Good")
#: Special values and their meaning in the FICO data dictionary.
SPECIAL_VALUES = {
    -9: "no bureau record or no investigation",
    -8: "no usable or valid trades or inquiries",
    -7: "condition not met (e.g. no inquiries, no delinquencies)",
}


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def make_heloc(n: int = 10_459, seed: int = 0, empty_share: float = 588 / 10_459):
    """Draw ``n`` applications of the documented process (module docstring).

    Returns a DataFrame in the file's column order: ``RiskPerformance`` ("Bad"/"Good") then the
    23 integer features, with the special values -7, -8 and -9.
    """
    import pandas as pd

    n = whole_number("n", n, minimum=1, meaning="the number of applications to draw")
    seed = whole_number("seed", seed, minimum=0)
    empty_share = real_number(
        "empty_share", empty_share, minimum=0, maximum=1, meaning="the share of rows without a bureau record"
    )
    rng = np.random.default_rng(seed)
    normal = lambda: rng.standard_normal(n)  # noqa: E731
    q = normal()
    oldest = np.clip(np.round(np.exp(5.1 + 0.15 * q + 0.55 * normal())), 2, 803)
    external = np.clip(np.round(72 + 8 * q + 2.5 * normal()), 33, 94)
    average_age = np.maximum(np.round(0.4 * oldest * np.exp(0.3 * normal())), 4)
    recent_open = np.minimum(np.round(rng.exponential(9, n)), average_age)
    total = rng.poisson(6 + average_age / 5)
    satisfactory = rng.binomial(total, _sigmoid(2.6 + 0.9 * q))
    never_delq = np.where(total > 0, np.round(100 * satisfactory / np.maximum(total, 1)), 100)
    derog60 = rng.poisson(0.6 * np.exp(-0.9 * q))
    derog90 = rng.binomial(derog60, 0.5)
    open_12m = np.minimum(rng.poisson(1.9 * np.exp(-0.2 * q)), total)
    install_share = np.round(100 * rng.beta(2, 4, n))

    ever_delinquent = rng.random(n) < _sigmoid(-0.2 - 1.2 * q)
    months_delq = np.where(ever_delinquent, np.clip(np.round(rng.exponential(20, n)), 0, 83), -7)
    worst_ever = np.clip(np.round(5 + 1.2 * q + normal()), 2, 7)
    max_delq_ever = np.where(ever_delinquent, worst_ever, 8)
    recent_worst = np.clip(np.round(5 + 1.2 * q + normal()), 0, 6)
    max_delq_12m = np.where(ever_delinquent, np.where(months_delq <= 12, recent_worst, 6), 7)

    inquiries = rng.poisson(1.4 * np.exp(-0.5 * q))
    inquiries_excl = rng.binomial(inquiries, 0.9)
    months_inquiry = np.where(inquiries_excl > 0, np.minimum(np.round(rng.exponential(3, n)), 24), -7)

    revolving_burden = np.round(100 * np.clip(rng.beta(1.4, 2.6, n) - 0.12 * q, 0, 2.3))
    has_install = rng.random(n) >= 0.35
    install_burden = np.where(has_install, np.round(100 * rng.beta(4, 2, n)), -8)
    revolving_balance = rng.poisson(1 + revolving_burden / 12)
    install_balance = np.where(has_install, 1 + rng.poisson(1.5, n), -8)
    high_utilisation = rng.poisson(0.2 + revolving_burden / 40)
    with_balance = np.clip(np.round(30 + 0.6 * revolving_burden + 12 * normal()), 0, 100)
    revolving_burden = np.where(rng.random(n) < 0.02, -8, revolving_burden)

    columns = dict(
        zip(
            HELOC_FEATURES,
            (
                external,
                oldest,
                recent_open,
                average_age,
                satisfactory,
                derog60,
                derog90,
                never_delq,
                months_delq,
                max_delq_12m,
                max_delq_ever,
                total,
                open_12m,
                install_share,
                months_inquiry,
                inquiries,
                inquiries_excl,
                revolving_burden,
                install_burden,
                revolving_balance,
                install_balance,
                high_utilisation,
                with_balance,
            ),
        )
    )
    logit = (
        -0.20
        - 0.095 * (external - 72)
        + 0.35 * ever_delinquent
        + 0.012 * (np.maximum(revolving_burden, 0) - 35)
        + 0.15 * inquiries
        - 0.004 * (average_age - 78)
    )
    bad = rng.random(n) < _sigmoid(logit)
    frame = pd.DataFrame({k: np.asarray(v, dtype=np.int64) for k, v in columns.items()})
    frame.loc[rng.random(n) < empty_share, list(HELOC_FEATURES)] = -9
    frame.insert(0, HELOC_TARGET, np.where(bad, "Bad", "Good"))
    return frame
