"""Demo models: the cache (fast second start, stale and corrupt entries rebuilt) and what the
engine finds in the trained models against the documented generating process."""

import json
import os
import re
from pathlib import Path

import numpy as np
import pytest

from nbexplain import _files
from nbexplain.datasets import _cache, demo
from nbexplain.datasets._cache import CacheRebuildWarning, CacheWriteWarning
from nbexplain.datasets.credit import CREDIT_FEATURES, DEFAULT_DRIVERS, DEMOGRAPHIC_FEATURES, make_credit_default
from nbexplain.errors import ArgumentError, CacheError, UnknownNameError


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
    with pytest.raises(
        KeyError, match="Unknown demo 'credit_cnn'.*Did you mean 'credit_fcn'.*Known demos: 'credit_fcn'"
    ):
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


# ----------------------------------------------------------------------------- the cache folder
def tiny_build(calls=None):
    """A build function that makes a small real Keras model without training, counting its calls."""

    def build():
        import keras

        if calls is not None:
            calls.append(1)
        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        return model, {"epochs": 0}

    return build


def make_read_only(folder, monkeypatch):
    """chmod 555; as root (whom permission bits do not stop) access(2) is made to answer as it
    would for any other user, which is what the cache asks before training."""
    folder.chmod(0o555)
    if os.geteuid() == 0:
        real_access = os.access

        def access(path, mode, *args, **kwargs):
            if Path(path) == Path(folder) and mode & os.W_OK:
                return False
            return real_access(path, mode, *args, **kwargs)

        monkeypatch.setattr(os, "access", access)


def test_read_only_cache_is_refused_before_training(private_cache, monkeypatch):
    make_read_only(private_cache, monkeypatch)
    monkeypatch.setattr(demo, "fit_classifier", lambda *a, **k: pytest.fail("trained into a read-only cache"))
    try:
        with pytest.raises(
            CacheError, match=rf"cache folder {re.escape(str(private_cache))} .*is not writable.*NBEXPLAIN_CACHE"
        ):
            demo.load_demo("credit_fcn", n=60, epochs=1, progress=False)
        calls = []
        with pytest.raises(CacheError, match="is not writable"):
            _cache.cached_model("entry", {"a": 1}, tiny_build(calls))
        assert calls == [], "the model was built before the folder was checked"
        assert list(private_cache.iterdir()) == []
    finally:
        private_cache.chmod(0o755)


def test_read_only_cache_still_serves_a_valid_entry(private_cache, monkeypatch):
    _cache.cached_model("entry", {"a": 1}, tiny_build())
    before = sorted(p.name for p in private_cache.iterdir())
    assert before == ["entry.json", "entry.keras"]
    make_read_only(private_cache, monkeypatch)
    try:
        calls = []
        model, record = _cache.cached_model("entry", {"a": 1}, tiny_build(calls))
        assert record["cache"]["status"] == "loaded" and calls == []
        with pytest.raises(
            CacheError, match=r"the demo model 'entry' \(stale: built for a different recipe \(a changed\)"
        ):
            _cache.cached_model("entry", {"a": 2}, tiny_build(calls))
        assert calls == [] and sorted(p.name for p in private_cache.iterdir()) == before
    finally:
        private_cache.chmod(0o755)


def test_cache_variable_naming_a_file_or_an_impossible_folder(tmp_path, monkeypatch):
    (tmp_path / "a_file").write_text("not a folder")
    monkeypatch.setenv("NBEXPLAIN_CACHE", str(tmp_path / "a_file"))
    with pytest.raises(
        CacheError, match=rf"cache {re.escape(str(tmp_path / 'a_file'))} \(NBEXPLAIN_CACHE=.*\) is a file"
    ):
        demo.load_demo("credit_fcn", n=60, epochs=1, progress=False)
    monkeypatch.setenv("NBEXPLAIN_CACHE", str(tmp_path / "a_file" / "below"))
    with pytest.raises(CacheError, match=r"a_file/below \(NBEXPLAIN_CACHE=.*\) cannot be created.*NBEXPLAIN_CACHE"):
        _cache.cache_dir()


def test_entry_in_the_way_is_named(private_cache):
    (private_cache / "entry.keras").mkdir()
    with pytest.raises(CacheError, match=r"entry\.keras is in the way of the cache entry"):
        _cache.cached_model("entry", {"a": 1}, tiny_build())


def test_entries_are_written_all_or_nothing(private_cache, monkeypatch):
    model, _ = _cache.cached_model("entry", {"a": 1}, tiny_build())
    saved = (private_cache / "entry.keras").read_bytes(), (private_cache / "entry.json").read_text()
    real_replace = os.replace

    def interrupted(source, target):
        if str(target).endswith(".json"):
            raise KeyboardInterrupt  # after the model file, before its manifest
        real_replace(source, target)

    monkeypatch.setattr(_files.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _cache.cached_model("entry", {"a": 2}, tiny_build())
    monkeypatch.setattr(_files.os, "replace", real_replace)
    assert sorted(p.name for p in private_cache.iterdir()) == ["entry.json", "entry.keras"], "no partial files"
    assert (private_cache / "entry.json").read_text() == saved[1], "the manifest is the old one, whole"
    assert (private_cache / "entry.keras").read_bytes() != saved[0]
    # the new model beside the old manifest: the recipe asked for is the old one, whose checksum fails
    with pytest.warns(CacheRebuildWarning, match="does not match its checksum"):
        _, record = _cache.cached_model("entry", {"a": 1}, tiny_build())
    assert record["cache"]["status"] == "built"
    manifest = json.loads((private_cache / "entry.json").read_text())
    assert manifest["sha256"] == _cache.file_digest(private_cache / "entry.keras")

    def failing_save(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(_cache, "_model_bytes", failing_save)
    before = {p.name: p.read_bytes() for p in private_cache.iterdir()}
    with pytest.warns(
        CacheWriteWarning, match=r"could not be stored in the cache folder .* \(disk full\).*NBEXPLAIN_CACHE"
    ):
        model, record = _cache.cached_model("entry", {"a": 3}, tiny_build())
    assert record["cache"]["status"] == "built, not stored" and model is not None, "the trained model is not lost"
    assert {p.name: p.read_bytes() for p in private_cache.iterdir()} == before


def untrained_demo(monkeypatch, **options):
    """The demo FCN on 60 rows without training (fit_classifier replaced): the cache and argument
    paths run for real, in a fraction of a second."""
    monkeypatch.setattr(demo, "fit_classifier", lambda *a, **k: 0)
    return demo.load_demo("credit_fcn", n=60, epochs=1, progress=False, **options)


class FakeRetrain:
    def __init__(self, ks):
        self.ks = ks

    def summary(self):
        import pandas as pd

        return pd.DataFrame({"test_error mean": [0.2] * len(self.ks)}, index=[f"top {k}" for k in self.ks])


def test_selection_experiment_is_cached_all_or_nothing_and_refused_on_a_read_only_cache(private_cache, monkeypatch):
    fcn = untrained_demo(monkeypatch)
    monkeypatch.setattr(demo, "retrain_comparison", lambda candidates, *a, **k: FakeRetrain([1, 23]))
    assert demo.selection_experiment(fcn, ks=(1, 23), epochs=1, progress=False) == {1: 0.2, 23: 0.2}
    stored = json.loads(demo.selection_path(fcn).read_text())
    assert stored["errors"] == {"1": 0.2, "23": 0.2}
    assert not [p for p in private_cache.iterdir() if p.name.endswith(_files.PARTIAL_SUFFIX)]
    make_read_only(private_cache, monkeypatch)
    try:
        monkeypatch.setattr(demo, "retrain_comparison", lambda *a, **k: pytest.fail("retrained into a read-only cache"))
        assert demo.selection_experiment(fcn, ks=(1, 23), epochs=1, progress=False) == {1: 0.2, 23: 0.2}
        with pytest.raises(
            CacheError, match="is not writable: the selection experiment would be computed and then lost"
        ):
            demo.selection_experiment(fcn, ks=(1, 2), epochs=1, progress=False)
    finally:
        private_cache.chmod(0o755)


# ----------------------------------------------------------------------------- arguments
def test_unknown_demo_lists_the_valid_names():
    with pytest.raises(
        UnknownNameError,
        match=r"Unknown demo 'fcn'.*Known demos: 'credit_fcn', 'credit_lstm', 'credit_xgb', 'credit_stack'\.",
    ):
        demo.load_demo("fcn")
    with pytest.raises(UnknownNameError, match=r"Known demos: 'credit_fcn', 'credit_lstm'"):
        demo.load_demo(None)
    with pytest.raises(UnknownNameError, match=r"Unknown model kind 'rnn'.*Known model kinds: 'credit_fcn'"):
        demo.fit_credit_model(make_credit_default(60), "rnn")


@pytest.mark.parametrize(
    "options, message",
    [
        ({"epochs": 0}, r"epochs must be a whole number >= 1 \(the most training epochs\); got 0"),
        ({"epochs": 2.5}, r"epochs must be a whole number >= 1.*got 2\.5"),
        ({"epochs": True}, r"epochs must be a whole number >= 1.*got True"),
        ({"n": 10}, r"n must be a whole number >= 30 .*got 10"),
        ({"n": "100"}, r"n must be a whole number >= 30 .*got '100'"),
        ({"seed": -1}, r"seed must be a whole number >= 0.*got -1"),
        ({"rebuild": "yes"}, r"rebuild must be True or False; got 'yes'"),
        ({"progress": None}, r"progress must be True or False; got None"),
    ],
)
def test_load_demo_arguments_are_named_with_what_they_accept(private_cache, options, message):
    with pytest.raises(ArgumentError, match=message):
        demo.load_demo("credit_fcn", **{"progress": False, **options})
    assert list(private_cache.iterdir()) == []


def with_target(frame, values):
    frame = frame.copy()
    frame["default"] = values
    return frame


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda f: f.drop(columns=["AGE", "PAY_0"]), r"frame lacks the column\(s\) \['AGE', 'PAY_0'\]"),
        (lambda f: f.drop(columns="default"), r"frame lacks the column\(s\) \['default'\]"),
        (lambda f: f.to_numpy(), r"frame must be a pandas DataFrame .*got ndarray"),
        (lambda f: f.iloc[:20], r"frame has 20 rows; a credit model needs at least 30"),
        (
            lambda f: with_target(f, f["default"].astype(float).where(f.index != 7)),
            r"target 'default' must be 0 or 1 in every row; 1 row\(s\) are not \(index 7; values nan\)",
        ),
        (
            lambda f: with_target(f, f["default"].astype(object).where(f.index != 3, "yes")),
            r"target 'default' must hold the numbers 0 .* values like 'yes' \(index 3\)",
        ),
        (lambda f: with_target(f, f["default"].astype(str)), r"target 'default' must hold the numbers 0.*dtype str"),
        (
            lambda f: with_target(f, f["default"] * 2),
            r"must be 0 or 1 in every row; \d+ row\(s\) are not .*values 2\.0",
        ),
        (lambda f: with_target(f, 0), r"target 'default' is 0 in every row; a classifier needs both"),
        (
            lambda f: f.assign(AGE=f["AGE"].astype(float).where(f.index != 9, np.inf)),
            r"NaN, missing or infinite feature values in 1 row\(s\) \(index 9\), column\(s\) \['AGE'\]",
        ),
        (
            lambda f: f.assign(SEX=f["SEX"].map({1: "male", 2: "female"})),
            r"feature column\(s\) \['SEX'\] are not numeric",
        ),
    ],
)
def test_fit_credit_model_refuses_frames_it_cannot_train_on(private_cache, change, message):
    with pytest.raises(ArgumentError, match=message):
        demo.fit_credit_model(change(make_credit_default(60, seed=2)), progress=False)
    assert list(private_cache.iterdir()) == []


def test_fit_credit_model_other_arguments(private_cache):
    frame = make_credit_default(60)
    with pytest.raises(ArgumentError, match=r"cache_name must be a file name.*got '\.\./escape'"):
        demo.fit_credit_model(frame, cache_name="../escape", progress=False)
    with pytest.raises(ArgumentError, match=r"epochs must be a whole number >= 1.*got -3"):
        demo.fit_credit_model(frame, epochs=-3, progress=False)


def test_boolean_and_float_targets_are_read_as_0_and_1(private_cache, monkeypatch):
    monkeypatch.setattr(demo, "fit_classifier", lambda *a, **k: 0)
    frame = make_credit_default(60)
    as_bool = demo.fit_credit_model(with_target(frame, frame["default"].astype(bool)), progress=False)
    np.testing.assert_array_equal(as_bool.target, frame["default"].to_numpy())


# ----------------------------------------------------------------------------- tree and stack demos
def library_scores(demo, frame):
    """P(default) of raw rows as the libraries compute it, from the library files the demo keeps
    (XGBoost's and LightGBM's own predictions; the stack's head, a Keras model, on their
    margins): an independent truth for what nbexplain reads from the artifact."""
    import xgboost

    from nbexplain.datasets.tree_demo import library_files

    files = library_files(demo)
    rows = frame[list(CREDIT_FEATURES)].astype(float)
    booster = xgboost.Booster(model_file=str(files["xgboost"]))
    if demo.name == "credit_xgb":
        return booster.predict(xgboost.DMatrix(rows))
    import lightgbm

    margins = np.column_stack(
        [
            booster.predict(xgboost.DMatrix(rows), output_margin=True),
            lightgbm.Booster(model_file=str(files["lightgbm"])).predict(rows, raw_score=True),
        ]
    )
    return demo.model.network.predict([margins, rows.to_numpy()], verbose=0)[:, 0]


def test_the_boosted_demo_is_a_cached_artifact_that_predicts_as_xgboost_does(private_cache):
    pytest.importorskip("xgboost")
    first = demo.load_demo("credit_xgb", n=1200, progress=False)
    assert first.record["cache"]["status"] == "built" and first.kind == "trees"
    assert sorted(p.name for p in private_cache.iterdir()) == [
        "credit_xgb.json",
        "credit_xgb.nbx",
        "credit_xgb.xgboost.json",
    ], "the artifact (no pickle), its manifest and XGBoost's own file; no network was trained"
    assert 0 < first.record["test_error"] < 0.3 and 0.5 < first.record["test_auc"] <= 1
    assert first.artifact.training["test_auc"] == first.record["test_auc"]
    test = first.frame.iloc[first.test_rows]
    np.testing.assert_allclose(first.predict(first.model_inputs(test)), library_scores(first, test), atol=2e-6)
    wrong = (first.predict(first.rows(first.test_rows)) > 0.5) != first.target[first.test_rows]
    assert first.record["test_error"] == pytest.approx(wrong.mean())
    np.testing.assert_array_equal(first.rows([3, 4]).to_numpy(), first.frame.iloc[[3, 4]][list(CREDIT_FEATURES)])
    second = demo.load_demo("credit_xgb", n=1200, progress=False)
    assert second.record["cache"]["status"] == "loaded"
    assert second.artifact.fingerprint() == first.artifact.fingerprint()
    stale = demo.load_demo("credit_xgb", n=1200, seed=1, progress=False)
    assert "stale" in stale.record["cache"]["reason"] and "seed" in stale.record["cache"]["reason"]
    (private_cache / "credit_xgb.nbx").write_bytes(b"truncated")
    with pytest.warns(CacheRebuildWarning, match="does not match its checksum; rebuilding"):
        demo.load_demo("credit_xgb", n=1200, seed=1, progress=False)


@pytest.mark.training
def test_the_stacked_demo_combines_two_boosted_models_and_the_network_on_raw_columns(private_cache):
    pytest.importorskip("lightgbm")
    stack = demo.load_demo("credit_stack", n=1200, epochs=2, progress=False)
    fcn = demo.load_demo("credit_fcn", n=1200, epochs=2, progress=False)
    assert stack.kind == "stack" and stack.record["cache"]["status"] == "built"
    assert len(stack.model.ensembles) == 2 and stack.model.reads_features
    network = stack.model.network
    assert network.get_layer("standardise").__class__.__name__ == "Normalization", "the head reads raw columns"
    hidden = network.get_layer("fcn_hidden").get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(hidden, fcn.model.get_layer("hidden").get_weights()))
    test = stack.frame.iloc[stack.test_rows]
    np.testing.assert_allclose(stack.predict(stack.model_inputs(test)), library_scores(stack, test), atol=1e-5)
    members = stack.record["members"]
    assert set(members) == {"xgboost", "lightgbm", "network"}
    assert members["network"]["test_error"] == fcn.record["test_error"], "the same test rows as the network"
    explained = stack.explainer().explain(stack.rows(stack.test_rows[:20]))
    assert explained.completeness_error.max() < 1e-6, "a float64 head: jumps and integrals add up"
    assert explained.meta["baseline"]["kind"] == "average input"
    assert explained.meta["baseline"]["n_reference"] == len(stack.train_rows)
    again = demo.load_demo("credit_stack", n=1200, epochs=2, progress=False)
    assert again.record["cache"]["status"] == "loaded" and again.artifact.fingerprint() == stack.artifact.fingerprint()


def test_tree_demos_have_explorer_data_on_raw_rows_and_reasons(private_cache):
    pytest.importorskip("xgboost")
    from nbexplain.widgets import ExplorerController
    from nbexplain.widgets.demo import demo_explorer_data

    boosted = demo.load_demo("credit_xgb", n=600, progress=False)
    data = demo_explorer_data(boosted)
    assert len(data.frame) == len(boosted.test_rows), "the held-out rows by default"
    assert data.description["test AUC"] == f"{boosted.record['test_auc']:.3f}"
    assert data.to_inputs == boosted.model_inputs and dict(data.elements)["PAY_0"] == (None, (5,))
    controller = ExplorerController(data, progress=False)
    np.testing.assert_allclose(controller.scores, library_scores(boosted, data.frame), atol=2e-6)
    assert controller.explained.meta["method"] == "generalized integrated gradients"
    importance = controller.global_importance
    shares = np.abs(controller.explained.values["features"]).mean(axis=0)
    np.testing.assert_allclose(importance.values, 100 * shares / shares.sum(), atol=1e-9)
    assert set(data.comparisons) == {"decision tree", "lasso logistic"}
    recipe = demo.demo_reasons(boosted, baseline="median")
    denied = boosted.frame.iloc[boosted.test_rows].iloc[np.flatnonzero(controller.scores > 0.5)[:3]]
    notices = recipe.explain(denied)
    assert len(notices.table()) == len(denied) and notices.table()["completeness_ok"].all()


def test_the_boosted_demo_page_browses_and_answers_a_what_if_without_tensorflow(private_cache):
    """The demo dashboard's XGBoost page, its bundle built: opened, browsed and asked a what-if in a
    process where TensorFlow, Keras and XGBoost cannot be imported (the artifact holds the trees)."""
    import json
    import subprocess
    import sys

    pytest.importorskip("xgboost")
    from nbexplain.widgets.demo import demo_bundle

    boosted = demo.load_demo("credit_xgb", n=3000, progress=False)  # 500 test rows, some near the cut-off
    demo_bundle("credit_xgb", progress=False, demo=boosted)
    code = """
import sys
for name in ("tensorflow", "keras", "xgboost"):
    sys.modules[name] = None
import json
from nbexplain.widgets.demo import CHOICES, demo_dashboard
page = demo_dashboard(models=("credit_xgb",))
board = page.dashboards["credit_xgb"]
controller = board.controller
controller.pick(4)
picked = controller.sample.prediction
sample = controller.what_if({"PAY_0": 3})
reasons = board.reasons.result
print(json.dumps([page.children[0].options[0][0], picked, sample.prediction, int((sample.local.signed != 0).sum()),
                  board.errors.last is None]))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=os.environ.copy())
    assert done.returncode == 0, done.stderr[-3000:]
    label, picked, edited, moved, clean = json.loads(done.stdout.strip().splitlines()[-1])
    assert label == "XGBoost" and clean and moved > 0
    rows = boosted.frame.iloc[boosted.test_rows[[4]]]
    truth = library_scores(boosted, rows), library_scores(boosted, rows.assign(PAY_0=3))
    np.testing.assert_allclose([picked, edited], np.concatenate(truth), atol=2e-6)
