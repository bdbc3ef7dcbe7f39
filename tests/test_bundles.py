"""Explanation bundles: what a dashboard shows, computed once, read back exactly, opened without
TensorFlow; the model is loaded (and checked) only for what-if edits; stale bundles are rebuilt."""

import json
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pandas as pd
import pytest

from nbexplain import NBExplainError
from nbexplain.cli import main
from nbexplain.credit.evidence import evidence_html
from nbexplain.engine.protocol import ModelExplainers
from nbexplain.model.artifact import InputRecipe, ModelArtifact
from nbexplain.results.bundle import open_bundle
from nbexplain.widgets import ExplorerController, ExplorerData
from nbexplain.widgets.bundle import build_bundle, bundle_explorer_data, bundle_for_files

COLUMNS = ["income", "debt", "late", "age"]


def artifact_model(seed=0, shift=0.0):
    """A small softmax network on standardised inputs, saved with its standardisation."""
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input((4,), name="features"),
            keras.layers.Dense(6, activation="tanh"),
            keras.layers.Dense(2, activation="softmax"),
        ]
    )
    w = model.layers[-1].get_weights()
    model.layers[-1].set_weights([w[0] * 3, w[1] + shift])
    recipe = InputRecipe(
        "features", tuple(COLUMNS), np.array([50.0, 10.0, 1.0, 40.0]), np.array([20.0, 5.0, 1.0, 12.0])
    )
    return ModelArtifact(model, (recipe,), 1, ("repaid", "default"), "P(default)")


def rows(n=400, seed=1):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "income": rng.normal(50, 20, n),
            "debt": rng.normal(10, 5, n),
            "late": rng.integers(0, 4, n),
            "age": rng.integers(21, 70, n),
        }
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bundle")
    artifact = artifact_model()
    artifact.save(folder / "model.nbx")
    frame = rows()
    target = (np.random.default_rng(2).random(len(frame)) < 0.3).astype(int)
    data = ExplorerData(
        ModelExplainers.for_keras(artifact.model, **artifact.explainer_options()),
        frame,
        artifact.to_inputs,
        target=target,
        title="small",
        outcome="P(default)",
        class_labels=("repaid", "default"),
        threshold=0.5,
    )
    path = build_bundle(data, folder / "small.nbxbundle", model_file=folder / "model.nbx", progress=False)
    return folder, data, path


def test_the_bundle_reads_back_what_the_live_dashboard_computes(built):
    folder, data, path = built
    live = ExplorerController(data)
    stored = ExplorerController(bundle_explorer_data(path))
    np.testing.assert_allclose(stored.scores, live.scores)
    np.testing.assert_allclose(stored.global_importance.values, live.global_importance.values)
    assert stored.global_importance.meta["model_fingerprint"] == live.global_importance.meta["model_fingerprint"]
    for row in (0, 7, 311):
        live.pick(row)
        stored.pick(row)
        np.testing.assert_allclose(stored.sample.local.values, live.sample.local.values)
        for column, (share, value) in live.sample.columns.items():
            assert stored.sample.columns[column] == pytest.approx((share, value))
        a, b = live.reasons(), stored.reasons()
        assert [r.code for r in a.notice.reasons] == [r.code for r in b.notice.reasons]
        np.testing.assert_allclose(b.by_reason.values, a.by_reason.values, atol=1e-12)
        assert b.denied == a.denied and b.completeness_error == pytest.approx(a.completeness_error)
    first, second = live.matching(predicted=1), live.matching(predicted=0)
    np.testing.assert_allclose(stored.compare_cohorts(first, second).values, live.compare_cohorts(first, second).values)
    record = open_bundle(path).record
    assert record["format"] == "nbexplain-bundle" and record["rows"]["count"] == 400
    assert record["model"]["artifact_sha256"] == ModelArtifact.load(folder / "model.nbx").sha256


def test_browsing_a_bundle_imports_no_tensorflow_and_a_what_if_loads_the_model(built):
    folder, data, path = built
    live = ExplorerController(data)
    live.pick(5)
    expected = live.what_if({"debt": 30.0}).prediction
    script = textwrap.dedent(f"""
        import json, sys
        from nbexplain.widgets import Dashboard
        from nbexplain.widgets.bundle import bundle_explorer_data
        board = Dashboard(bundle_explorer_data({str(path)!r}))
        board.controller.pick(5)
        board.reasons.refresh(); board.population.refresh()
        browsing = "tensorflow" in sys.modules
        statuses = []
        board.controller.observe(lambda change: statuses.append(change["new"]), names="status")
        prediction = board.controller.what_if({{"debt": 30.0}}).prediction
        print(json.dumps({{"browsing": browsing, "after": "tensorflow" in sys.modules, "statuses": statuses,
                          "prediction": prediction}}))
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["browsing"] is False, "picking, reasons and populations at their defaults need no TensorFlow"
    assert (
        result["after"] is True and result["statuses"][0].startswith("Loading the model") and not result["statuses"][-1]
    )
    assert result["prediction"] == pytest.approx(expected, abs=1e-6)


def test_a_bundle_refuses_a_model_that_is_not_its_own(built, tmp_path):
    folder, data, path = built
    copy = tmp_path / "copy.nbxbundle"
    __import__("shutil").copytree(path, copy)
    record = json.loads((copy / "bundle.json").read_text())
    other = artifact_model(seed=5)
    other.save(tmp_path / "other.nbx")
    record["model"]["artifact"] = str(tmp_path / "other.nbx")
    record["model"]["artifact_sha256"] = None
    (copy / "bundle.json").write_text(json.dumps(record))
    controller = ExplorerController(bundle_explorer_data(copy))
    with pytest.raises(NBExplainError, match="not the model the bundle was built from"):
        controller.what_if({"debt": 30.0})
    damaged = tmp_path / "damaged.nbxbundle"
    __import__("shutil").copytree(path, damaged)
    (damaged / "explained.arrow").write_bytes(b"not arrow")
    with pytest.raises(NBExplainError, match="explained.arrow is damaged"):
        ExplorerController(bundle_explorer_data(damaged))


def test_bundles_of_files_are_reused_only_while_model_and_data_are_unchanged(tmp_path, capsys):
    artifact_model().save(tmp_path / "model.nbx")
    rows(200).assign(default=np.arange(200) % 2).to_csv(tmp_path / "data.csv", index=False)
    out = tmp_path / "mine.nbxbundle"
    assert (
        main(
            [
                "bundle",
                "--model",
                str(tmp_path / "model.nbx"),
                "--data",
                str(tmp_path / "data.csv"),
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    first = (out / "bundle.json").stat().st_mtime_ns
    record = json.loads((out / "bundle.json").read_text())
    assert record["rows"]["count"] == 200 and "__target" in open_bundle(out).table("rows").column_names
    again = bundle_for_files(tmp_path / "model.nbx", tmp_path / "data.csv", out=out, progress=False)
    assert (again / "bundle.json").stat().st_mtime_ns == first, "unchanged files: the bundle is reused"
    rows(200, seed=9).to_csv(tmp_path / "data.csv", index=False)
    bundle_for_files(tmp_path / "model.nbx", tmp_path / "data.csv", out=out, progress=False)
    assert json.loads((out / "bundle.json").read_text())["rows"]["sha256"] != record["rows"]["sha256"]
    artifact_model(shift=1.0).save(tmp_path / "model.nbx")
    bundle_for_files(tmp_path / "model.nbx", tmp_path / "data.csv", out=out, progress=False)
    changed = json.loads((out / "bundle.json").read_text())
    assert changed["model"]["fingerprint"] != record["model"]["fingerprint"], "a changed model: rebuilt"
    assert main(["report", str(out), str(tmp_path / "evidence.html")]) == 0
    assert "evidence pack" in capsys.readouterr().out


def test_the_evidence_pack_stands_on_its_own(built, browser, screenshots, tmp_path):
    folder, data, path = built
    page_html = evidence_html(path)
    assert "<script" not in page_html and "http://" not in page_html and "https://" not in page_html
    record = open_bundle(path).record
    for text in (
        "Global importance",
        "Feature selection",
        "Comparison with other methods",
        "Reasons at the default settings",
        "Reason validation",
        record["model"]["fingerprint"],
        record["rows"]["sha256"],
    ):
        assert text in page_html
    out = tmp_path / "evidence.html"
    out.write_text(page_html)
    page = browser.new_page(viewport={"width": 1000, "height": 900})
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(out.as_uri())
    assert page.locator("svg[aria-label='cumulative share of importance'] polyline").count() == 1
    page.screenshot(path=str(screenshots / "evidence-pack.png"), full_page=True)
    assert not errors
    page.close()


def test_the_dashboard_offers_its_bundles_evidence_pack(built):
    from nbexplain.widgets.bundle import bundle_dashboard

    _, _, path = built
    board = bundle_dashboard(path)
    sent = []
    board.evidence.download.send = sent.append
    (button,) = board.evidence.buttons
    button.click()
    (message,) = sent
    assert message["filename"] == "evidence-pack-small.html" and message["mime"].startswith("text/html")
    expected = evidence_html(path)
    assert (
        message["content"].split("<h2>The model and the data</h2>")[1][:2000]
        == expected.split("<h2>The model and the data</h2>")[1][:2000]
    )


def test_a_bundle_is_served_only_with_its_own_model(built, tmp_path, capsys):
    """``nbexplain dashboard --bundle B --model M`` refuses a model whose fingerprint is not the
    bundle's before serving anything; with the bundle's own model (moved elsewhere) a what-if is
    answered by that file."""
    folder, data, path = built
    artifact_model(seed=7).save(tmp_path / "other.nbx")
    assert main(["dashboard", "--bundle", str(path), "--model", str(tmp_path / "other.nbx"), "--check"]) == 2
    assert "is not the model the bundle was built from" in capsys.readouterr().err
    moved = tmp_path / "moved.nbx"
    moved.write_bytes((folder / "model.nbx").read_bytes())
    controller = ExplorerController(bundle_explorer_data(path, model=moved))
    controller.what_if({"income": 90.0})
    edited = data.frame.iloc[[controller.position]].assign(income=90.0)
    expected = data.explainers.rows.explain(data.to_inputs(edited)).score[0]
    assert controller.sample.prediction == pytest.approx(float(expected), abs=1e-6)
    assert controller.data.explainers.artifact_path == moved


def test_a_tree_bundle_explains_a_what_if_against_the_rows_recorded_baseline(tmp_path):
    """Tree models and stacks explain every row against one point (the rows' average input): the
    bundle records it, so an edited row opened later is explained against that same point, as
    the live dashboard does, and not against itself (which would give zero attributions)."""
    xgboost = pytest.importorskip("xgboost")
    from nbexplain.widgets.bundle import _row_baseline

    frame = rows()
    target = (frame["late"] + np.random.default_rng(3).normal(size=len(frame)) > 1.5).astype(int)
    model = xgboost.XGBClassifier(n_estimators=20, max_depth=3, random_state=0).fit(frame, target)
    artifact = ModelArtifact(model, output="probability")
    artifact.save(tmp_path / "trees.nbx")
    data = ExplorerData(
        ModelExplainers.for_artifact(artifact), frame, artifact.to_inputs, target=target, outcome="P(default)"
    )
    path = build_bundle(data, tmp_path / "trees.nbxbundle", model_file=tmp_path / "trees.nbx", progress=False)
    live, stored = ExplorerController(data), ExplorerController(bundle_explorer_data(path))
    for controller in (live, stored):
        controller.pick(5)
        controller.what_if({"late": 3, "debt": 30.0})
    assert stored.data.explainers.loaded
    edited = frame.iloc[[5]].assign(late=3, debt=30.0)
    assert stored.sample.prediction == pytest.approx(model.predict_proba(edited)[0, 1], abs=2e-6)
    np.testing.assert_allclose(stored.sample.local.signed, live.sample.local.signed, atol=1e-12)
    assert np.abs(stored.sample.local.signed).sum() > 0.01
    record = open_bundle(path).record
    described = _row_baseline({"explained": record["explained"]})  # a bundle from before the record
    np.testing.assert_array_equal(described.arrays["features"], _row_baseline(record).arrays["features"])
