"""The embedded data sets: schema, ranges, rates, determinism, and the documented process."""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from nbexplain.datasets.credit import (
    BILL_FEATURES,
    CREDIT_FEATURES,
    CREDIT_TARGET,
    PAYMENT_FEATURES,
    STATUS_FEATURES,
    credit_sequences,
    make_credit_default,
    split_credit,
)
from nbexplain.datasets.heloc import HELOC_FEATURES, HELOC_TARGET, make_heloc
from nbexplain.datasets.images import make_region_images
from nbexplain.datasets.sequences import make_lagged_process
from nbexplain.datasets.simulation import make_simulation, simulation_importance
from nbexplain.errors import ArgumentError


@pytest.fixture(scope="module")
def credit():
    return make_credit_default()


@pytest.fixture(scope="module")
def heloc():
    return make_heloc()


def test_credit_schema_and_types(credit):
    assert list(credit.columns) == [*CREDIT_FEATURES, CREDIT_TARGET]
    assert len(CREDIT_FEATURES) == 23 and len(credit) == 30_000
    assert credit.index.name == "ID" and credit.index[0] == 1 and credit.index[-1] == 30_000
    assert all(pd.api.types.is_integer_dtype(t) for t in credit.dtypes)


def test_credit_ranges(credit):
    statuses = credit[list(STATUS_FEATURES)].to_numpy()
    assert statuses.min() == -2 and statuses.max() <= 8 and (statuses >= 1).any()
    assert set(np.unique(credit.SEX)) == {1, 2}
    assert set(np.unique(credit.EDUCATION)) <= set(range(7))
    assert set(np.unique(credit.MARRIAGE)) <= {0, 1, 2, 3}
    assert credit.AGE.between(21, 79).all()
    assert credit.LIMIT_BAL.between(10_000, 1_000_000).all() and (credit.LIMIT_BAL % 10_000 == 0).all()
    assert (credit[list(PAYMENT_FEATURES)] >= 0).all().all()
    bills = credit[list(BILL_FEATURES)]
    assert 0.005 < (bills < 0).mean().mean() < 0.05, "some bills are credit balances"
    assert 0.20 <= credit[CREDIT_TARGET].mean() <= 0.245


def test_credit_is_deterministic_under_a_seed():
    pd.testing.assert_frame_equal(make_credit_default(500, seed=3), make_credit_default(500, seed=3))
    assert not make_credit_default(500, seed=3).equals(make_credit_default(500, seed=4))


def test_credit_follows_its_documented_dependence(credit):
    # repayment status persists month to month, bills follow the limit
    assert credit.PAY_0.corr(credit.PAY_2) > 0.5 and credit.PAY_2.corr(credit.PAY_3) > 0.5
    assert credit.BILL_AMT1.corr(credit.LIMIT_BAL) > 0.3
    utilisation = credit.BILL_AMT1 / credit.LIMIT_BAL
    assert 0.1 < utilisation.median() < 0.5 and utilisation.quantile(0.99) < 1.6
    late, current = credit.PAY_0 >= 2, credit.PAY_0 <= 0
    assert credit[CREDIT_TARGET][late].mean() > 3 * credit[CREDIT_TARGET][current].mean()
    # an unpenalised logistic fit on the documented terms recovers the documented coefficients
    terms = np.column_stack(
        [
            credit.PAY_0.clip(0, 4),
            credit.PAY_2.clip(0, 4),
            np.log1p(credit.PAY_AMT1 / 1000),
            np.log1p(credit.PAY_AMT2 / 1000),
            np.log(credit.LIMIT_BAL / 100_000),
        ]
    )
    fit = LogisticRegression(C=np.inf, max_iter=2000).fit(terms, credit[CREDIT_TARGET])
    np.testing.assert_allclose(fit.coef_[0], [1.15, 0.30, -0.22, -0.12, -0.40], atol=0.09)
    np.testing.assert_allclose(fit.intercept_[0], -1.60, atol=0.2)


def test_sequence_view_is_the_same_clients_oldest_month_first(credit):
    sequences = credit_sequences(credit.iloc[:100])
    assert sequences["history"].shape == (100, 6, 3) and sequences["static"].shape == (100, 5)
    np.testing.assert_array_equal(sequences["history"][:, -1, 0], credit.PAY_0.iloc[:100])
    np.testing.assert_array_equal(sequences["history"][:, 0, 1], credit.BILL_AMT6.iloc[:100])
    np.testing.assert_array_equal(sequences["history"][:, -1, 2], credit.PAY_AMT1.iloc[:100])
    np.testing.assert_array_equal(sequences["static"][:, 0], credit.LIMIT_BAL.iloc[:100])


def test_heloc_schema_and_special_values(heloc):
    assert list(heloc.columns) == [HELOC_TARGET, *HELOC_FEATURES] and len(HELOC_FEATURES) == 23
    assert len(heloc) == 10_459
    features = heloc[list(HELOC_FEATURES)]
    empty = (features == -9).all(axis=1)
    assert 0.04 < empty.mean() < 0.075, "about 588 of 10,459 rows carry no bureau record"
    assert ((features == -9).any(axis=1) == empty).all(), "-9 marks whole rows only"
    filled = features[~empty]
    assert (filled.MSinceMostRecentDelq == -7).mean() > 0.2
    assert (filled.MSinceMostRecentInqexcl7days == -7).any() and (filled.NetFractionInstallBurden == -8).any()
    assert filled.ExternalRiskEstimate.between(33, 94).all()
    assert filled.PercentTradesNeverDelq.between(0, 100).all()
    assert set(heloc[HELOC_TARGET]) == {"Bad", "Good"}
    assert 0.49 < (heloc[HELOC_TARGET] == "Bad").mean() < 0.56


def test_heloc_risk_falls_with_the_external_estimate(heloc):
    filled = heloc[heloc.ExternalRiskEstimate != -9]
    low = filled.ExternalRiskEstimate <= filled.ExternalRiskEstimate.quantile(0.25)
    high = filled.ExternalRiskEstimate >= filled.ExternalRiskEstimate.quantile(0.75)
    bad = filled[HELOC_TARGET] == "Bad"
    assert bad[low].mean() > bad[high].mean() + 0.4
    pd.testing.assert_frame_equal(make_heloc(300, seed=2), make_heloc(300, seed=2))


# ----------------------------------------------------------------------------- arguments
@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: make_credit_default(0), r"n must be a whole number >= 1 \(the number of clients to draw\); got 0\."),
        (lambda: make_credit_default(-5), r"n must be a whole number >= 1 .*got -5"),
        (lambda: make_credit_default(2.5), r"n must be a whole number >= 1 .*got 2\.5"),
        (lambda: make_credit_default(True), r"n must be a whole number >= 1 .*got True"),
        (lambda: make_credit_default("100"), r"n must be a whole number >= 1 .*got '100'"),
        (lambda: make_credit_default(10, seed=-1), r"seed must be a whole number >= 0; got -1"),
        (lambda: make_credit_default(10, seed=None), r"seed must be a whole number >= 0; got None"),
        (lambda: make_heloc(0), r"n must be a whole number >= 1 \(the number of applications to draw\)"),
        (lambda: make_heloc(10, empty_share=1.5), r"empty_share must be a finite number >= 0 and <= 1 .*got 1\.5"),
        (lambda: make_heloc(10, empty_share=float("nan")), r"empty_share must be a finite number .*got nan"),
        (lambda: make_simulation(0), r"n must be a whole number >= 1 \(the number of rows to draw\)"),
        (lambda: make_simulation(5, noise_variance=-0.1), r"noise_variance must be a finite number >= 0 .*got -0\.1"),
        (lambda: make_lagged_process(0), r"n must be a whole number >= 1 \(the number of sequences to draw\)"),
        (lambda: make_lagged_process(5, tau=0), r"tau must be a whole number >= 1 \(the number of time steps\)"),
        (lambda: make_lagged_process(5, noise_sd=float("inf")), r"noise_sd must be a finite number >= 0 .*got inf"),
        (lambda: make_lagged_process(5, many_to_many="yes"), r"many_to_many must be True or False; got 'yes'"),
        (lambda: make_region_images(0), r"n must be a whole number >= 1 \(the number of images to draw\)"),
        (lambda: make_region_images(5, size=0), r"size must be a whole number >= 1"),
        (lambda: make_region_images(5, channels=0), r"channels must be a whole number >= 1"),
        (
            lambda: make_region_images(5, region=(4, 1)),
            r"region must be a pair \(r0, r1\) .*0 <= r0 < r1 <= size \(10\).*got \(4, 1\)",
        ),
        (lambda: make_region_images(5, size=3, region=(1, 4)), r"r1 <= size \(3\).*got \(1, 4\)"),
        (lambda: make_region_images(5, region=3), r"region must be a pair.*got 3\."),
        (lambda: make_region_images(5, scale=float("nan")), r"scale must be a finite number; got nan"),
        (lambda: credit_sequences([[1, 2]]), r"credit_sequences: frame must be a pandas DataFrame .*got list"),
        (
            lambda: credit_sequences(make_credit_default(5).drop(columns=["PAY_0", "BILL_AMT3"])),
            r"credit_sequences: frame lacks 2 of the 23 columns it needs: \['PAY_0', 'BILL_AMT3'\]",
        ),
        (
            lambda: credit_sequences(make_credit_default(5).assign(PAY_0=["a", "b", "c", "d", "e"])),
            r"credit_sequences: the column\(s\) \['PAY_0'\] are not numeric",
        ),
        (
            lambda: credit_sequences(make_credit_default(5).assign(BILL_AMT2=[1.0, np.nan, 2.0, 3.0, np.inf])),
            r"NaN, missing or infinite values in 2 row\(s\) \(index 2, 5\), column\(s\) \['BILL_AMT2'\]",
        ),
        (
            lambda: split_credit(make_credit_default(5).drop(columns="default")),
            r"split_credit: frame lacks 1 of the 24",
        ),
        (
            lambda: simulation_importance(np.zeros((3, 4))),
            r"X must be finite numbers of shape \(n, 5\).*got shape \(3, 4\)",
        ),
    ],
)
def test_generator_arguments_are_named_with_what_they_accept(call, message):
    with pytest.raises(ArgumentError, match=message):
        call()


def test_smallest_arguments_still_work():
    assert len(make_credit_default(1)) == 1 and len(make_heloc(1)) == 1
    assert make_lagged_process(2, tau=1)[0].shape == (2, 1, 3)
    images, y, mask = make_region_images(2, size=1, channels=1, region=(0, 1))
    assert images.shape == (2, 1, 1, 1) and mask.sum() == 1
    assert make_simulation(1, noise_variance=0)[0].shape == (1, 5)
    assert make_credit_default(np.int64(3), seed=np.uint8(1)).shape == (3, 24)
