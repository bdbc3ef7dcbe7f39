"""Nothing lost, nothing silently wrong: the batch reasons file, the command line and its signals.

Each case is one a user hits: the output named like the input, a bad row halfway through a file,
a signal in the middle of a run, a NaN score, columns in another order, a model file that is not
one. The truth is in the files: the input is unchanged, no partial output exists under the final
name, a previous output is intact, and the message names the line.
"""

import pickle
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pandas as pd
import pytest

from nbexplain import IntegratedGradients, NBExplainError, NonFiniteScoreError, UserPoint
from nbexplain.cli import main
from nbexplain.credit import ReasonCatalogue, ReasonCode
from nbexplain.credit.adverse import ReasonRecipe, reference_ranges
from nbexplain.errors import DataFileError

FEATURES = ["LIMIT", "UTIL", "LATE", "INCOME"]
WEIGHTS = np.array([-0.5, 1.2, 0.9, -0.7])


def logistic_model(weights=WEIGHTS, bias=-0.3):
    model = keras.Sequential([keras.Input((len(weights),)), keras.layers.Dense(1, activation="sigmoid")])
    model.layers[0].set_weights([np.asarray(weights, "float32")[:, None], np.array([bias], "float32")])
    return model


CATALOGUE = ReasonCatalogue(tuple(ReasonCode(f, f"{f} is adverse", (f,)) for f in FEATURES))


def recipe(model=None, **options):
    explainer = IntegratedGradients(model or logistic_model(), steps=8, feature_names=FEATURES)
    return ReasonRecipe(explainer, UserPoint(np.zeros((1, 4))), CATALOGUE, cutoff=0.5, columns=FEATURES, **options)


def applications(n, seed=0):
    frame = pd.DataFrame(np.random.default_rng(seed).normal(size=(n, 4)), columns=FEATURES)
    return frame.assign(ID=[f"A{i:05d}" for i in range(n)])


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def expected_denied(frame):
    return sigmoid(frame[FEATURES].to_numpy() @ WEIGHTS - 0.3) > 0.5


# --------------------------------------------------------------------- files
def test_the_output_is_never_the_input_not_even_through_a_link(tmp_path):
    source = tmp_path / "apps.csv"
    applications(30).to_csv(source, index=False)
    before = source.read_bytes()
    link = tmp_path / "link.csv"
    link.symlink_to(source)
    for out in (source, link):
        with pytest.raises(NBExplainError, match="is the input file"):
            recipe().explain_file(source, out, progress=False)
    parquet = tmp_path / "apps.parquet"
    applications(30).to_parquet(parquet)
    with pytest.raises(NBExplainError, match="is the input file"):
        recipe().explain_file(parquet, parquet, progress=False)
    assert source.read_bytes() == before and len(pd.read_parquet(parquet)) == 30


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda line: line + ",7", r"Expected 5 fields in line 9, saw 6"),
        (lambda line: "abc" + line[line.index(",") :], r"line 9, column 'LIMIT' holds 'abc', which is not a finite"),
        (
            lambda line: line[: line.index(",") + 1] + line[line.index(",", line.index(",") + 1) :],
            r"line 9, column 'UTIL' is empty",
        ),
    ],
    ids=["too many fields", "text in a number", "empty cell"],
)
@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_bad_row_halfway_names_its_line_and_leaves_the_previous_output(tmp_path, damage, message, suffix):
    lines = applications(40).to_csv(index=False).splitlines()
    lines[8] = damage(lines[8])  # file line 9 (the header is line 1)
    source = tmp_path / "apps.csv"
    source.write_text("\n".join(lines) + "\n")
    out = tmp_path / f"reasons{suffix}"
    out.write_bytes(b"the previous run's output")
    with pytest.raises(DataFileError, match=message):
        recipe().explain_file(source, out, chunk_rows=5, id_column="ID", progress=False)
    assert out.read_bytes() == b"the previous run's output"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["apps.csv", out.name], "no partial file is left"


def test_a_nan_score_is_an_error_naming_the_lines_never_a_decision(tmp_path):
    class Fragile(keras.Model):
        """sigmoid(x w) except where LATE > 5: the log of a negative number (NaN)."""

        def call(self, x):
            score = keras.ops.sigmoid(keras.ops.matmul(x, WEIGHTS[:, None].astype("float32")))
            return keras.ops.where(x[:, 2:3] > 5.0, keras.ops.log(-x[:, 2:3]), score)

    frame = applications(50, seed=3)
    frame.loc[[17, 33], "LATE"] = 6.0
    source = tmp_path / "apps.csv"
    frame.to_csv(source, index=False)
    with pytest.raises(NonFiniteScoreError, match=r"line 2 to 51 .*rows 19, 35\).*neither approved nor denied"):
        recipe(Fragile()).explain_file(source, tmp_path / "out.csv", chunk_rows=100, id_column="ID", progress=False)
    assert not (tmp_path / "out.csv").exists()


def test_columns_are_matched_by_name_and_an_empty_batch_gives_an_empty_valid_file(tmp_path):
    frame = applications(60, seed=4)
    source, shuffled = tmp_path / "apps.csv", tmp_path / "shuffled.csv"
    frame.to_csv(source, index=False)
    frame[["INCOME", "ID", "LATE", "LIMIT", "UTIL"]].to_csv(shuffled, index=False)
    recipe().explain_file(source, tmp_path / "a.csv", id_column="ID", progress=False)
    recipe().explain_file(shuffled, tmp_path / "b.csv", id_column="ID", progress=False)
    first, second = pd.read_csv(tmp_path / "a.csv"), pd.read_csv(tmp_path / "b.csv")
    pd.testing.assert_frame_equal(first, second)
    assert list(first["applicant"]) == list(frame.loc[expected_denied(frame), "ID"])
    header_only = tmp_path / "header.csv"
    header_only.write_text(",".join(frame.columns) + "\n")
    for suffix in (".csv", ".parquet"):
        summary = recipe().explain_file(header_only, tmp_path / f"empty{suffix}", id_column="ID", progress=False)
        written = (
            pd.read_csv(tmp_path / "empty.csv") if suffix == ".csv" else pd.read_parquet(tmp_path / "empty.parquet")
        )
        assert summary["rows"] == summary["denied"] == len(written) == 0
        assert list(written.columns) == list(first.columns)


def test_files_are_read_by_their_bytes_not_their_names(tmp_path):
    frame = applications(40, seed=5)
    truth = list(frame.loc[expected_denied(frame), "ID"])
    named_parquet = tmp_path / "really_csv.parquet"
    frame.to_csv(named_parquet, index=False, sep=";")
    gzipped = tmp_path / "apps.csv"
    frame.to_csv(gzipped, index=False, compression="gzip")
    indexed = tmp_path / "indexed.parquet"
    frame.set_index("ID").to_parquet(indexed)
    for source in (named_parquet, gzipped, indexed):
        summary = recipe().explain_file(source, tmp_path / "out.csv", id_column="ID", progress=False)
        assert list(pd.read_csv(tmp_path / "out.csv")["applicant"]) == truth, source.name
    assert summary["format"] == "parquet"
    with pytest.raises(DataFileError, match="neither Parquet nor"):
        (tmp_path / "model.bin").write_bytes(pickle.dumps({"weights": np.zeros(3)}) + b"\x00" * 10)
        recipe().explain_file(tmp_path / "model.bin", tmp_path / "out.csv", progress=False)


def test_an_unwritable_output_fails_before_any_work(tmp_path):
    source = tmp_path / "apps.csv"
    applications(10).to_csv(source, index=False)
    busy = recipe()
    busy.explainer = None  # any work would fail with an AttributeError, not the message below
    with pytest.raises(NBExplainError, match="output folder .*missing does not exist"):
        busy.explain_file(source, tmp_path / "missing" / "out.csv", progress=False)
    with pytest.raises(DataFileError, match="unknown table format '.xlsx'"):
        busy.explain_file(source, tmp_path / "out.xlsx", progress=False)


# --------------------------------------------------------------------- the command line
@pytest.fixture
def own_model(tmp_path):
    """A saved model, its reference rows and catalogue, as a user has them."""
    logistic_model().save(tmp_path / "model.keras")
    applications(80, seed=9).drop(columns="ID").to_csv(tmp_path / "reference.csv", index=False)
    CATALOGUE.to_json(tmp_path / "catalogue.json")
    return tmp_path


def cli_arguments(folder, source, out, *extra):
    return [
        "reasons",
        str(source),
        str(out),
        "--model",
        str(folder / "model.keras"),
        "--reference",
        str(folder / "reference.csv"),
        "--catalogue",
        str(folder / "catalogue.json"),
        "--quiet",
        *extra,
    ]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--steps", "abc"], "argument --steps: 'abc' is not a whole number"),
        (["--steps", "0"], "argument --steps: 0 must be at least 1"),
        (["--cutoff", "nan"], "argument --cutoff: 'nan' is not a finite number"),
        (["--chunk-rows", "0"], "argument --chunk-rows: 0 must be at least 1"),
        (["--tolerance", "-1"], "argument --tolerance: -1 must be above 0"),
    ],
)
def test_argument_errors_name_the_argument_and_the_accepted_values(arguments, message, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["reasons", "a.csv", "b.csv", *arguments])
    assert stop.value.code == 2 and message in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["dashboard", "--port", "99999"])
    assert "argument --port: 99999 must be at most 65535" in capsys.readouterr().err


def test_model_and_catalogue_files_that_are_not_what_they_claim(own_model, capsys):
    folder = own_model
    source = folder / "apps.csv"
    applications(20).drop(columns="ID").to_csv(source, index=False)
    truncated = folder / "truncated.keras"
    truncated.write_bytes((folder / "model.keras").read_bytes()[:500])
    pickled = folder / "pickled.keras"
    pickled.write_bytes(pickle.dumps({"weights": [1.0]}))
    inputs = keras.Input((4,))
    keras.Model(inputs, keras.layers.Lambda(lambda x: x[:, :1] * 0.5)(inputs)).save(folder / "lambda.keras")
    (folder / "not_json.json").write_text("reasons: [LIMIT]")
    cases = [
        (
            ["--model", str(truncated)],
            "is not a Keras model file: .keras files are zip archives, and this one is truncated",
        ),
        (
            ["--model", str(pickled)],
            "is not a Keras model file: .keras files are zip archives, and this one is a pickle",
        ),
        (["--model", str(folder / "lambda.keras")], "safe mode will not run.*--unsafe-load"),
        (["--catalogue", str(folder / "not_json.json")], "not_json.json is not valid JSON"),
        (["--report", str(source)], "--report .*apps.csv is a file; give a folder"),
    ]
    for extra, message in cases:
        assert main([*cli_arguments(folder, source, folder / "out.csv"), *extra]) == 2
        assert __import__("re").search(message, capsys.readouterr().err), extra
    assert main(["reasons", str(source), str(folder / "out.csv"), "--model", "credit_fnc", "--quiet"]) == 2
    assert "Did you mean 'credit_fcn'" in capsys.readouterr().err
    assert not (folder / "out.csv").exists()


def run_and_signal(arguments, signum, cwd, ready):
    """Start the command in a fresh interpreter, send ``signum`` once ``ready()`` says so, and
    return the finished process with its output."""
    process = subprocess.Popen(
        [sys.executable, "-m", "nbexplain", *arguments],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not ready() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process.poll() is None, "the run ended before the signal: " + process.communicate()[1][-2000:]
    process.send_signal(signum)
    out, err = process.communicate(timeout=120)
    return process.returncode, out, err


@pytest.mark.parametrize(
    ("signum", "suffix"), [(signal.SIGTERM, ".parquet"), (signal.SIGINT, ".csv"), (signal.SIGHUP, ".parquet")]
)
def test_a_signal_mid_run_leaves_no_partial_output_and_a_short_message(own_model, signum, suffix):
    folder = own_model
    applications(40_000, seed=2).to_csv(folder / "apps.csv", index=False)
    out = folder / f"reasons{suffix}"
    out.write_bytes(b"previous")

    def writing():
        return any(p.name.endswith(".partial") for p in folder.iterdir())

    status, _, err = run_and_signal(
        cli_arguments(folder, "apps.csv", out.name, "--id-column", "ID", "--chunk-rows", "500", "--steps", "256"),
        signum,
        folder,
        writing,
    )
    assert status == 128 + signum, err[-3000:]
    assert f"stopped by {signal.Signals(signum).name}; no partial output was left" in err
    assert "Traceback" not in err
    assert out.read_bytes() == b"previous"
    assert not [p.name for p in folder.iterdir() if p.name.endswith(".partial")]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_the_dashboard_command_stops_voila_and_its_kernels_on_a_signal(tmp_path, signum):
    import nbformat
    import psutil

    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print('served')")])
    nbformat.write(notebook, tmp_path / "mine.ipynb")
    process = subprocess.Popen(
        [sys.executable, "-m", "nbexplain", "dashboard", "--notebook", "mine.ipynb", "--port", "0"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = None
    for line in process.stdout:
        if "dashboard is at" in line:
            url = line.split(" at ")[1].split()[0]
            break
    assert url, process.communicate(timeout=30)[1]
    import urllib.request

    urllib.request.urlopen(url, timeout=60).read()  # renders the notebook: a kernel starts
    tree = psutil.Process(process.pid).children(recursive=True)
    assert len(tree) >= 2, "Voila and a kernel run"
    process.send_signal(signum)
    process.communicate(timeout=60)
    assert process.returncode == 128 + signum
    gone, alive = psutil.wait_procs(tree, timeout=20)
    assert not alive, f"still running after the command stopped: {[p.cmdline() for p in alive]}"


def test_voila_is_not_left_behind_when_started_in_a_session_of_its_own(tmp_path):
    """The server's stop reaches processes the server started even when they left its group."""
    from nbexplain.serve import LocalServer

    script = tmp_path / "server.py"
    script.write_text(
        "import http.server, subprocess, sys\n"
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'], start_new_session=True)\n"
        "handler = http.server.SimpleHTTPRequestHandler\n"
        "http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), handler).serve_forever()\n"
    )
    import psutil

    with LocalServer(lambda port: [sys.executable, str(script), str(port)], "", name="a test server") as server:
        time.sleep(0.5)
        tree = psutil.Process(server.process.pid).children(recursive=True)
        assert tree
    gone, alive = psutil.wait_procs(tree, timeout=20)
    assert not alive


def test_own_model_run_reads_a_permuted_file_and_writes_what_the_python_api_writes(own_model):
    folder = own_model
    frame = applications(200, seed=6)
    frame[["ID", "UTIL", "INCOME", "LIMIT", "LATE"]].to_csv(folder / "apps.csv", index=False)
    assert main(cli_arguments(folder, folder / "apps.csv", folder / "cli.csv", "--id-column", "ID")) == 0
    model = keras.saving.load_model(folder / "model.keras")
    reference = pd.read_csv(folder / "reference.csv")
    api = ReasonRecipe(
        IntegratedGradients(model, steps=64, feature_names=FEATURES, tolerance=1e-6),
        __import__("nbexplain").AverageInput(reference),
        CATALOGUE,
        cutoff=0.5,
        columns=FEATURES,
        ranges=reference_ranges(reference),
    )
    api.explain_file(folder / "apps.csv", folder / "api.csv", id_column="ID", progress=False)
    pd.testing.assert_frame_equal(pd.read_csv(folder / "cli.csv"), pd.read_csv(folder / "api.csv"))
    assert len(pd.read_csv(folder / "cli.csv")) == int(expected_denied(frame).sum())


def test_the_reproduction_command_stops_cleanly_and_checks_its_arguments(tmp_path, capsys):
    from nbexplain.reproduce.__main__ import main as reproduce

    with pytest.raises(SystemExit):
        reproduce(["simulation", "--rows", "5"])
    assert "argument --rows: 5 must be at least 100" in capsys.readouterr().err
    process = subprocess.Popen(
        [sys.executable, "-m", "nbexplain.reproduce", "simulation", "--rows", "200000", "--out", "figures"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    import psutil

    deadline = time.monotonic() + 120
    while psutil.Process(process.pid).memory_info().rss < 400e6 and time.monotonic() < deadline:
        time.sleep(0.2)  # until TensorFlow is loaded and the training runs
    assert process.poll() is None
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=240)
    assert process.returncode == 143 and "stopped by SIGTERM" in err and "Traceback" not in err
    assert not (tmp_path / "figures").exists() or not list((tmp_path / "figures").iterdir())


def test_a_stop_that_a_library_turns_into_an_error_of_its_own_is_still_a_clean_stop(capsys):
    """A signal lands inside a library that catches the interrupt and raises its own error (as
    pyarrow or TensorFlow may): the command still ends as stopped, 128 + the signal number."""
    import os

    from nbexplain._commands import run_command

    def wrapped():
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)
        except KeyboardInterrupt as error:
            raise RuntimeError("a library's own error") from error
        return 0

    assert run_command("prog", wrapped) == 128 + signal.SIGTERM
    assert "prog: stopped by SIGTERM; no partial output was left." in capsys.readouterr().err

    def failing():
        raise RuntimeError("a real bug")

    with pytest.raises(RuntimeError, match="a real bug"):  # without a signal, an error stays an error
        run_command("prog", failing)
