"""Demo models: the cache (fast second start, stale and corrupt entries rebuilt) and what the
engine finds in the trained models against the documented generating process."""

import json

import numpy as np
import pytest

from nbexplain.datasets import demo
from nbexplain.datasets._cache import CacheRebuildWarning
from nbexplain.datasets.credit import DEFAULT_DRIVERS, DEMOGRAPHIC_FEATURES


@pytest.fixture
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("NBEXPLAIN_CACHE", str(tmp_path))
    return tmp_path


def small(**options):
    return demo.load_demo("credit_fcn", n=1200, epochs=2, progress=False, **options)


def weights_equal(a, b):
    return all(np.array_equal(x, y) for x, y in zip(a.model.get_weights(), b.model.get_weights()))


@pytest.mark.training
def test_cache_builds_once_then_loads_the_same_model(private_cache):
    first = small()
    assert first.record["cache"]["status"] == "built" and first.record["cache"]["reason"] == "not built yet"
    assert (private_cache / "credit_fcn.keras").exists() and (private_cache / "credit_fcn.json").exists()
    second = small()
    assert second.record["cache"]["status"] == "loaded"
    assert second.record["test_error"] == first.record["test_error"]
    assert weights_equal(first, second)
    np.testing.assert_allclose(second.predict(second.rows([0, 1, 2])), first.predict(first.rows([0, 1, 2])), rtol=1e-6)


@pytest.mark.training
def test_corrupt_and_stale_entries_are_rebuilt(private_cache):
    small()
    (private_cache / "credit_fcn.keras").write_bytes(b"truncated")
    with pytest.warns(CacheRebuildWarning, match="does not match its checksum; rebuilding"):
        rebuilt = small()
    assert rebuilt.record["cache"]["status"] == "built"
    (private_cache / "credit_fcn.json").write_text("{ not json")
    with pytest.warns(CacheRebuildWarning, match="manifest is unreadable"):
        small()
    stale = demo.load_demo("credit_fcn", n=1200, epochs=3, progress=False)
    assert stale.record["cache"]["status"] == "built"
    assert "stale" in stale.record["cache"]["reason"] and "epochs" in stale.record["cache"]["reason"]
    manifest = json.loads((private_cache / "credit_fcn.json").read_text())
    assert manifest["recipe"]["epochs"] == 3


def test_unknown_demo_is_a_clear_error():
    with pytest.raises(KeyError, match="Unknown demo 'credit_cnn'.*Did you mean 'credit_fcn'"):
        demo.load_demo("credit_cnn")


def test_model_inputs_of_raw_rows_match_the_stored_inputs(private_cache):
    model = small()
    np.testing.assert_allclose(model.model_inputs(model.frame.iloc[:5]).to_numpy(), model.inputs.iloc[:5].to_numpy())
    standardised = model.inputs.iloc[model.train_rows].to_numpy()
    np.testing.assert_allclose(standardised.mean(axis=0), 0, atol=1e-5)


@pytest.mark.training
def test_engine_recovers_the_documented_default_drivers():
    """The FCN on the embedded data: default is driven by PAY_0, then payments and the limit
    (module docstring of nbexplain.datasets.credit); demographics do not enter the equation."""
    credit = demo.load_demo("credit_fcn", progress=False)
    assert 0.10 < credit.record["test_error"] < 0.16
    importance = credit.explainer().explain(credit.rows(credit.train_rows)).global_importance()
    ranked = importance.sorted().feature_names
    assert ranked[0] == "PAY_0"
    assert {"LIMIT_BAL", "PAY_2"} <= set(ranked[:3])
    assert importance.sel(feature=list(DEFAULT_DRIVERS)).values.sum() > 75
    for feature in DEMOGRAPHIC_FEATURES:
        assert importance[feature].values < 1.0, feature


@pytest.mark.training
def test_lstm_puts_the_most_recent_month_first():
    lstm = demo.load_demo("credit_lstm", progress=False)
    assert lstm.record["test_error"] < 0.16
    sensitivities = lstm.explainer().explain(lstm.rows(lstm.train_rows[:5000]))
    importance = sensitivities.global_importance().sorted()
    assert importance.feature_names[0] == "repayment status"
    lags = sensitivities.lag_importance(input="history")
    assert lags.labels("lag")[int(np.argmax(lags.values))] == "t"
    status = sensitivities.lag_matrix(input="history").sel(feature="repayment status").values
    assert status[0] > status[1] > status[2:].max()


@pytest.mark.training
def test_selection_experiment_is_run_once_per_model(private_cache, monkeypatch):
    fcn = small()
    assert demo.cached_selection_errors(fcn) is None, "not run yet"
    errors = demo.selection_experiment(fcn, ks=(1, 23), epochs=1, progress=False)
    assert set(errors) == {1, 23} and all(0 < e < 1 for e in errors.values())
    from nbexplain.engine import selection

    monkeypatch.setattr(selection, "retrain_comparison", lambda *a, **k: pytest.fail("retrained a cached experiment"))
    assert demo.selection_experiment(fcn, ks=(1, 23), epochs=1, progress=False) == errors
    assert demo.cached_selection_errors(fcn) == errors
    rebuilt = small(rebuild=True, seed=1)
    assert demo.cached_selection_errors(rebuilt) is None, "other weights: the stored errors do not apply"
