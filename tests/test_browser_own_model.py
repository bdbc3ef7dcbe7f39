"""Your own model in one command, in a real browser: ``nbexplain dashboard --model FILE --data
FILE`` builds the bundle, serves it with Voila, and the page browses without TensorFlow, loads
the model on the first what-if with a visible status, and downloads the evidence pack."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import pytest
from browser_fixtures import open_page

from nbexplain.datasets.credit import CREDIT_FEATURES, CREDIT_TARGET, make_credit_default

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def own_files(tmp_path_factory):
    """A small network trained on standardised credit rows, saved with its preprocessing, and a
    CSV of raw rows (with the outcome column) in another column order."""
    from nbexplain._tensorflow import keras_module
    from nbexplain.model.artifact import InputRecipe, ModelArtifact

    keras = keras_module()
    keras.utils.set_random_seed(0)
    folder = tmp_path_factory.mktemp("own")
    frame = make_credit_default(1500, seed=5)
    raw = frame[list(CREDIT_FEATURES)].to_numpy(float)
    mean, scale = raw.mean(axis=0), raw.std(axis=0)
    inputs = keras.Input((len(CREDIT_FEATURES),), name="features")
    hidden = keras.layers.Dense(16, activation="relu")(inputs)
    network = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(hidden))
    network.compile("adam", "binary_crossentropy")
    network.fit((raw - mean) / scale, frame[CREDIT_TARGET].to_numpy(), epochs=3, verbose=0)
    artifact = ModelArtifact(network, (InputRecipe("features", CREDIT_FEATURES, mean, scale),), outcome="P(default)")
    artifact.save(folder / "model.nbx")
    frame.iloc[:, ::-1].to_csv(folder / "rows.csv", index=False)
    return folder, artifact, frame


@pytest.fixture(scope="module")
def served(own_files):
    folder, _, _ = own_files
    environment = {**os.environ, "NBEXPLAIN_CACHE": str(folder / "cache")}
    command = [sys.executable, "-m", "nbexplain", "dashboard", "--model", "model.nbx", "--data", "rows.csv"]
    log = open(folder / "dashboard.log", "w")  # a pipe nobody reads would fill up and stall the command
    process = subprocess.Popen(
        [*command, "--port", "0"], cwd=folder, env=environment, stdout=subprocess.PIPE, stderr=log, text=True
    )
    url = None
    deadline = time.monotonic() + 300
    for line in process.stdout:
        if "dashboard is at" in line:
            url = line.split(" at ")[1].split()[0]
            break
        if time.monotonic() > deadline:
            break
    if url is None:
        process.kill()
        pytest.fail("the dashboard command printed no address: " + (folder / "dashboard.log").read_text()[-3000:])
    yield url
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 128 + signal.SIGTERM
    log.close()


def prediction(board) -> float:
    text = board.locator(".nbexplain-local .nbexplain-score").inner_text()
    return float(re.search(r"[-+]?\d*\.\d+", text).group())


def test_own_model_dashboard_browses_then_loads_the_model_for_a_what_if(browser, served, own_files, screenshots):
    _, artifact, frame = own_files
    page = open_page(browser)
    try:
        page.goto(served, timeout=120_000)
        board = page.locator(".nbexplain-dashboard").first
        board.locator(".nbexplain-local svg rect.bar").first.wait_for(timeout=120_000)
        assert "model" in board.locator("h3").first.inner_text()
        page.screenshot(path=screenshots / "own-model-dashboard.png", full_page=True)
        index = int(board.locator(".nbexplain-picker .widget-inline-hbox input").first.input_value())
        shown = prediction(board)
        expected = artifact.model.predict(artifact.to_inputs(frame.iloc[[index]]), verbose=0)[0, 0]
        assert shown == pytest.approx(float(expected), abs=6e-3), "the bundle's score is the model's"

        field = board.locator('.nbexplain-whatif .wi-row[data-feature="PAY_0"] input')
        field.fill("5")
        field.press("Enter")
        status = board.locator(".nbexplain-status")
        status.wait_for(state="visible", timeout=10_000)  # the model loads on this first edit, visibly
        assert "model" in status.inner_text().lower()
        page.screenshot(path=screenshots / "own-model-loading.png")
        deadline = time.monotonic() + 60
        while prediction(board) == shown and time.monotonic() < deadline:
            time.sleep(0.1)
        edited = frame.iloc[[index]].assign(PAY_0=5)
        expected = artifact.model.predict(artifact.to_inputs(edited), verbose=0)[0, 0]
        assert prediction(board) == pytest.approx(float(expected), abs=6e-3), "what-if runs the model on the edit"
        status.wait_for(state="hidden", timeout=30_000)
        assert board.locator(".nbexplain-error").first.inner_text().strip() == ""
        assert not page.errors
    finally:
        page.context.close()


def test_the_evidence_pack_downloads_and_opens_on_its_own(browser, served, screenshots):
    page = open_page(browser)
    try:
        page.goto(served, timeout=120_000)
        board = page.locator(".nbexplain-dashboard").first
        board.locator(".nbexplain-local svg rect.bar").first.wait_for(timeout=120_000)
        with page.expect_download(timeout=60_000) as info:
            board.locator(".nbexplain-download-evidence").click()
        download = info.value
        assert download.suggested_filename.startswith("evidence-pack-") and download.suggested_filename.endswith(
            ".html"
        )
        text = open(download.path(), encoding="utf-8").read()
    finally:
        page.context.close()
    assert "<script" not in text.lower() and "http://" not in text and "https://" not in text
    pack = open_page(browser, width=1100, height=900)
    requests = []
    pack.on("request", lambda request: requests.append(request.url))
    try:
        pack.set_content(text)
        assert pack.locator("svg").count() >= 2, "importance and selection charts drawn inline"
        headings = " ".join(pack.locator("h2").all_inner_texts()).lower()
        for expected in ("importance", "selection", "reasons"):
            assert expected in headings, expected
        pack.screenshot(path=screenshots / "evidence-pack.png", full_page=True)
        assert not [url for url in requests if not url.startswith(("data:", "about:"))], requests
        assert not pack.errors
    finally:
        pack.context.close()
