"""A whole book of applicants on Dask: the same reasons as one process, nothing lost, nothing doubled.

The truth is the single-process path (``ReasonRecipe.explain_file`` on the book as one file): a
local cluster of two worker processes gives the same reasons, for a network and for an XGBoost
model file; a worker killed mid-run and a command interrupted by SIGINT then run again end with the
same output, one row per denied applicant; a changed recipe is refused; a damaged, missing, extra
or doubled partition is found by the check command.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import psutil
import pytest

from nbexplain import NBExplainError, Sensitivity
from nbexplain.batch import (
    BatchRecipe,
    ImportanceSums,
    check_output,
    explain_book,
    explain_partition,
    list_partitions,
    spark_schema,
)
from nbexplain.batch.partition import LOADS, process_facts
from nbexplain.cli import main
from nbexplain.credit import ReasonCatalogue
from nbexplain.credit.adverse import ReasonRecipe, reference_ranges
from nbexplain.credit.recipes import documented_baselines
from nbexplain.engine.protocol import attributor_for
from nbexplain.model.artifact import InputRecipe, ModelArtifact, load_model_file

distributed = pytest.importorskip("distributed")

FEATURES = ["LIMIT", "UTIL", "LATE", "INCOME", "AGE"]
CATALOGUE = ReasonCatalogue.per_feature(FEATURES, prohibited=("AGE",))
CUTOFF = 0.5
STEPS = 16


def applications(n, seed, start=0):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.normal(size=(n, len(FEATURES))) * [2.0, 0.3, 1.0, 5.0, 10.0] + [5, 0.5, 1, 20, 40])
    frame.columns = FEATURES
    return frame.assign(ID=[f"A{start + i:06d}" for i in range(n)])


def network_artifact(path):
    from nbexplain._tensorflow import keras_module

    keras = keras_module()
    keras.utils.set_random_seed(0)
    inputs = keras.Input((len(FEATURES),))
    hidden = keras.layers.Dense(8, activation="tanh")(inputs)
    network = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(hidden))
    recipe = InputRecipe("input", tuple(FEATURES), np.array([5, 0.5, 1, 20, 40.0]), np.array([2, 0.3, 1, 5, 10.0]))
    return ModelArtifact(network, (recipe,)).save(path)


def write_book(folder, partitions, rows, seed=0):
    """Partitions in turn Parquet, CSV, Parquet with its columns reversed, gzipped CSV, CSV with
    its columns reversed; with files a reader must skip beside them."""
    folder.mkdir(parents=True)
    frames = []
    for i in range(partitions):
        frame = applications(rows, seed + i, start=i * rows)
        frames.append(frame)
        kind = i % 5
        if kind == 0:
            frame.to_parquet(folder / f"p{i:02d}.parquet", index=False)
        elif kind == 1:
            frame.to_csv(folder / f"p{i:02d}.csv", index=False)
        elif kind == 2:
            frame[frame.columns[::-1]].to_parquet(folder / f"p{i:02d}.parquet", index=False)
        elif kind == 3:
            frame.to_csv(folder / f"p{i:02d}.csv.gz", index=False)
        else:
            frame[frame.columns[::-1]].to_csv(folder / f"p{i:02d}.csv", index=False)
    (folder / "_SUCCESS").write_text("")
    (folder / ".p00.parquet.crc").write_text("checksum")
    (folder / "README.md").write_text("not a table")
    return pd.concat(frames, ignore_index=True)


class Book:
    def __init__(self, root, partitions, rows, seed=0):
        self.root = root
        self.model = network_artifact(root / "model.nbx")
        self.reference = applications(300, 999).drop(columns="ID")
        self.reference.to_csv(root / "reference.csv", index=False)
        CATALOGUE.to_json(root / "catalogue.json")
        self.folder = root / "book"
        self.frame = write_book(self.folder, partitions, rows, seed)
        self.single = root / "single.csv"
        self.frame.to_csv(self.single, index=False)

    def recipe(self, steps=STEPS, **options):
        return BatchRecipe.for_model(
            self.model,
            reference=self.reference,
            catalogue=CATALOGUE,
            cutoff=CUTOFF,
            steps=steps,
            id_column="ID",
            **options,
        )

    def cli(self, out, *extra, steps=STEPS):
        return [
            "reasons",
            str(self.folder),
            str(out),
            "--model",
            str(self.model),
            "--reference",
            str(self.root / "reference.csv"),
            "--catalogue",
            str(self.root / "catalogue.json"),
            "--id-column",
            "ID",
            "--steps",
            str(steps),
            "--quiet",
            *extra,
        ]


def single_process(model_file, reference, catalogue, data_file, out, steps=STEPS):
    """The reasons of today's single-process path, built as `nbexplain reasons` builds them."""
    artifact = load_model_file(model_file, columns=[str(c) for c in reference.columns])
    explainer = attributor_for(artifact, steps=steps, rule="gausslegendre", tolerance=1e-6)
    baseline = documented_baselines(artifact.to_inputs(reference), cutoff=CUTOFF)["average"]
    recipe = ReasonRecipe(
        explainer,
        baseline,
        catalogue,
        cutoff=CUTOFF,
        to_inputs=artifact.to_inputs,
        columns=artifact.features,
        ranges=reference_ranges(reference, artifact.features),
    )
    recipe.explain_file(data_file, out, id_column="ID", progress=False)
    return pd.read_parquet(out), recipe


def assert_same_reasons(got, expected, atol):
    got = got.sort_values("applicant", kind="stable").reset_index(drop=True)
    expected = expected.sort_values("applicant", kind="stable").reset_index(drop=True)
    assert list(got.columns) == list(expected.columns)
    assert got["applicant"].astype(str).tolist() == expected["applicant"].astype(str).tolist()
    for column in got.columns:
        if pd.api.types.is_float_dtype(expected[column]):
            np.testing.assert_allclose(got[column], expected[column], atol=atol, rtol=0, err_msg=column)
        elif column != "applicant":
            shown = lambda values: ["" if pd.isna(v) else str(v) for v in values]  # noqa: E731
            assert shown(got[column]) == shown(expected[column]), column


def manifest_of(folder):
    return json.loads((folder / "_manifest.json").read_text())


# --------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def book(tmp_path_factory):
    return Book(tmp_path_factory.mktemp("keras-book"), partitions=6, rows=400)


@pytest.fixture(scope="module")
def expected(book, tmp_path_factory):
    return single_process(
        book.model, book.reference, CATALOGUE, book.single, tmp_path_factory.mktemp("single") / "r.parquet"
    )


@pytest.fixture(scope="module")
def cluster():
    with (
        distributed.LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None, silence_logs=logging.CRITICAL
        ) as local,
        distributed.Client(local, set_as_default=False) as client,
    ):
        yield client


# --------------------------------------------------------------------- the same reasons
def test_a_network_on_two_worker_processes_gives_the_single_process_reasons(book, expected, cluster, tmp_path):
    reasons, recipe = expected
    batch = book.recipe()
    out = tmp_path / "out"
    summary = explain_book(book.folder, out, batch, client=cluster, progress=False)
    got = pd.read_parquet(out)  # the folder reads as one table: _manifest.json and _global_importance are skipped
    assert summary["complete"] and summary["partitions"] == 6 and summary["rows_in"] == len(book.frame)
    assert summary["denied"] == summary["rows_out"] == len(got) == len(reasons) > 100
    assert_same_reasons(got, reasons, atol=1e-6)
    assert check_output(out).ok

    # the model reached each worker process once and was loaded once there, for all its partitions
    records = manifest_of(out)["partitions"]
    loads = {}
    for record in records:
        loads.setdefault(record["worker"], set()).add(record["model_loads"])
    assert len(loads) == 2 and all(len(counts) == 1 for counts in loads.values()), loads
    threads = max(1, (os.cpu_count() or 1) // 2)
    for facts in cluster.run(process_facts).values():
        assert facts["tensorflow_threads"] == (threads, 1) and facts["arrow_threads"] == threads

    # the same partitions explained in this process, one after the other: the same file per partition
    inside = explain_book(book.folder, tmp_path / "inside", batch, progress=False)
    assert inside["denied"] == summary["denied"]
    assert_same_reasons(pd.read_parquet(tmp_path / "inside"), got, atol=1e-6)

    # global importance from per-partition sums = mean |attribution| of all denied applicants at once
    denied = book.frame.set_index("ID").loc[reasons["applicant"]]
    truth = recipe.attributions(denied).global_importance()
    written = pd.read_parquet(out / "_global_importance.parquet").set_index("feature")
    np.testing.assert_allclose(written.loc[list(truth.coords["feature"]), "importance"], truth.values, rtol=1e-5)
    assert int(written["rows"].iloc[0]) == len(denied)


def test_an_xgboost_model_file_on_two_workers_gives_the_single_process_reasons(cluster, tmp_path):
    xgboost = pytest.importorskip("xgboost")
    from nbexplain.datasets.credit import CREDIT_FEATURES, CREDIT_TARGET, credit_reason_catalogue, make_credit_default

    frame = make_credit_default(3200, seed=5)
    train, book = frame.iloc[:2000], frame.iloc[2000:].drop(columns=CREDIT_TARGET).reset_index()
    model = xgboost.XGBClassifier(n_estimators=30, max_depth=3, random_state=0)
    model.fit(train[list(CREDIT_FEATURES)], train[CREDIT_TARGET])
    model.save_model(tmp_path / "model.json")
    reference = train[list(CREDIT_FEATURES)].iloc[:500]
    (tmp_path / "book").mkdir()
    for i, start in enumerate(range(0, len(book), 300)):
        part = book.iloc[start : start + 300]
        if i % 2:
            part[part.columns[::-1]].to_csv(tmp_path / "book" / f"part-{i}.csv", index=False)
        else:
            part.to_parquet(tmp_path / "book" / f"part-{i}.parquet", index=False)
    book.to_csv(tmp_path / "single.csv", index=False)
    catalogue = credit_reason_catalogue()
    reasons, _ = single_process(
        tmp_path / "model.json", reference, catalogue, tmp_path / "single.csv", tmp_path / "r.parquet"
    )
    batch = BatchRecipe.for_model(
        tmp_path / "model.json", reference=reference, catalogue=catalogue, cutoff=CUTOFF, steps=STEPS, id_column="ID"
    )
    assert batch.plan["model"]["kind"] == "trees" and batch.plan["method"]["class"] == "GeneralizedIntegratedGradients"
    summary = explain_book(tmp_path / "book", tmp_path / "out", batch, client=cluster, progress=False)
    got = pd.read_parquet(tmp_path / "out")
    assert summary["partitions"] == 4 and summary["denied"] == len(reasons) > 20
    assert_same_reasons(got, reasons, atol=1e-12)
    assert check_output(tmp_path / "out").ok

    # the command on the same cluster, by its scheduler's address
    reference.to_csv(tmp_path / "reference.csv", index=False)
    catalogue.to_json(tmp_path / "catalogue.json")
    address = cluster.scheduler_info()["address"]
    arguments = ["reasons", str(tmp_path / "book"), str(tmp_path / "cli"), "--model", str(tmp_path / "model.json")]
    arguments += ["--reference", str(tmp_path / "reference.csv"), "--catalogue", str(tmp_path / "catalogue.json")]
    arguments += ["--cutoff", str(CUTOFF), "--steps", str(STEPS), "--id-column", "ID", "--quiet"]
    assert main([*arguments, "--scheduler", address]) == 0
    assert manifest_of(tmp_path / "cli")["recipe_digest"] == batch.digest
    assert_same_reasons(pd.read_parquet(tmp_path / "cli"), reasons, atol=1e-12)


def test_a_worker_killed_mid_run_is_replaced_and_nothing_is_lost_or_doubled(cluster, tmp_path):
    book = Book(tmp_path, partitions=8, rows=6000, seed=50)
    batch = book.recipe(steps=256)
    killed = []

    def kill_a_busy_worker(record):
        if killed:
            return
        pids = cluster.run(os.getpid)
        busy = [(address, keys) for address, keys in cluster.processing().items() if keys]
        assert busy, "no partition was running"
        process = psutil.Process(pids[busy[0][0]])
        process.kill()  # in the middle of a partition
        process.wait(10)
        killed.append((busy[0][0], process.pid))

    summary = explain_book(
        book.folder, tmp_path / "out", batch, client=cluster, progress=False, on_partition=kill_a_busy_worker
    )
    assert killed and not psutil.pid_exists(killed[0][1])
    assert summary["complete"] and summary["rows_in"] == len(book.frame)
    got = pd.read_parquet(tmp_path / "out")
    assert got["applicant"].is_unique and len(got) == summary["denied"]
    assert not [p.name for p in (tmp_path / "out").iterdir() if p.name.endswith(".partial")]
    report = check_output(tmp_path / "out")
    assert report.ok, str(report)
    uninterrupted = explain_book(book.folder, tmp_path / "uninterrupted", batch, progress=False)
    assert uninterrupted["denied"] == summary["denied"]
    assert_same_reasons(got, pd.read_parquet(tmp_path / "uninterrupted"), atol=1e-6)
    cluster.wait_for_workers(2, timeout=120)


# --------------------------------------------------------------------- the command line
def test_an_interrupted_command_run_again_finishes_only_the_rest(tmp_path):
    book = Book(tmp_path, partitions=12, rows=5000, seed=80)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "nbexplain", *book.cli(out, "--workers", "2", steps=256)]
    process = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    children: dict = {}
    deadline = time.monotonic() + 240
    while process.poll() is None and time.monotonic() < deadline:
        for child in psutil.Process(process.pid).children(recursive=True):
            children.setdefault(child.pid, child)
        if out.is_dir() and len(list(out.glob("part-*.parquet"))) >= 2:
            break
        time.sleep(0.05)
    assert process.poll() is None, "the run ended before the signal: " + process.communicate()[1][-3000:]
    assert len(children) >= 2  # the two worker processes (at least)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 128 + signal.SIGINT, err[-3000:]
    assert "stopped by SIGINT" in err and "run the same command again" in err and "Traceback" not in err
    gone, alive = psutil.wait_procs(list(children.values()), timeout=30)
    assert not alive, [p.pid for p in alive]  # no worker left behind
    assert not [p.name for p in out.iterdir() if p.name.endswith(".partial")]

    first = manifest_of(out)
    assert first["runs"][0]["status"] == "interrupted"
    # every file on disk is a finished partition of the manifest (one a worker finished as the signal
    # came is recorded by the record in its own metadata)
    finished = {e["output"]: e for e in first["partitions"] if e["status"] == "done"}
    assert sorted(p.name for p in out.glob("part-*.parquet")) == sorted(finished)
    assert 2 <= len(finished) < 12
    stamps = {name: (out / name).stat().st_mtime_ns for name in finished}
    for name, entry in finished.items():
        assert pd.read_parquet(out / name).shape[0] == entry["rows_out"]

    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout)
    assert summary["check"] == "OK" and summary["partitions_kept"] == len(finished)
    assert summary["partitions_this_run"] == 12 - len(finished)
    second = manifest_of(out)
    assert [run["status"] for run in second["runs"]] == ["interrupted", "complete"]
    assert second["runs"][1]["partitions_to_do"] == 12 - len(finished)
    for entry in second["partitions"]:
        assert entry["run"] == (1 if entry["output"] in finished else 2)
    assert {name: (out / name).stat().st_mtime_ns for name in finished} == stamps  # not written again

    batch = book.recipe(steps=256)
    assert second["recipe_digest"] == batch.digest  # the command's recipe is the Python API's
    explain_book(book.folder, tmp_path / "uninterrupted", batch, progress=False)
    got = pd.read_parquet(out)
    assert got["applicant"].is_unique
    assert_same_reasons(got, pd.read_parquet(tmp_path / "uninterrupted"), atol=1e-6)


def test_a_changed_recipe_is_refused_and_a_damaged_partition_is_found(book, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(book.cli(out)) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["check"] == "OK" and summary["complete"]
    digests = {p.name: p.read_bytes() for p in out.glob("part-*.parquet")}

    assert main(book.cli(out, steps=8)) == 2
    err = capsys.readouterr().err
    assert "holds reasons made with another recipe (steps: 16 -> 8)" in err and "new folder" in err
    assert main([*book.cli(out), "--cutoff", "0.4"]) == 2
    assert "cutoff: 0.5 -> 0.4" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in out.glob("part-*.parquet")} == digests  # nothing touched

    assert main(["reasons-check", str(out)]) == 0
    assert "OK" in capsys.readouterr().out
    damaged = sorted(out.glob("part-*.parquet"))[2]
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))
    assert main(["check", str(out)]) == 1
    assert f"{damaged.name} (p02.parquet) is damaged or was replaced" in capsys.readouterr().out

    # the same command again explains the damaged partition again, and only it
    assert main(book.cli(out)) == 0
    captured = capsys.readouterr()
    assert f"{damaged.name} (p02.parquet) was damaged" in captured.err
    assert json.loads(captured.out)["partitions_this_run"] == 1
    # the same bytes as before: a partition's file depends on its input and the recipe only
    assert damaged.read_bytes() == digests[damaged.name]

    missing, extra = sorted(out.glob("part-*.parquet"))[0], out / "part-99999.parquet"
    shutil.copy(sorted(out.glob("part-*.parquet"))[1], extra)
    missing.unlink()
    report = check_output(out)
    assert not report.ok
    assert any("part-00000.parquet (p00.parquet) is missing" in p for p in report.problems)
    assert any("part-99999.parquet is an extra partition file" in p for p in report.problems)


def test_the_same_applicants_in_two_partitions_are_reported(book, tmp_path, capsys):
    folder = tmp_path / "doubled"
    shutil.copytree(book.folder, folder)
    shutil.copy(folder / "p00.parquet", folder / "p00-copy.parquet")
    arguments = book.cli(tmp_path / "out")
    arguments[1] = str(folder)
    assert main(arguments) == 4
    captured = capsys.readouterr()
    assert "are the same file (same SHA-256): their applicants are doubled" in captured.err
    assert "applicant id(s) appear more than once" in captured.err


def test_a_bad_partition_fails_alone_and_the_next_run_does_only_it(book, tmp_path, capsys):
    folder = tmp_path / "bad"
    shutil.copytree(book.folder, folder)
    frame = pd.read_csv(folder / "p01.csv", dtype={"UTIL": object})
    frame.loc[7, "UTIL"] = "n/a"
    frame.to_csv(folder / "p01.csv", index=False)
    arguments = book.cli(tmp_path / "out")
    arguments[1] = str(folder)
    assert main(arguments) == 2
    err = capsys.readouterr().err
    assert "1 of 6 partitions failed: p01.csv" in err and "line 9, column 'UTIL'" in err
    assert "5 finished partitions are kept" in err
    frame.loc[7, "UTIL"] = "0.5"
    frame.to_csv(folder / "p01.csv", index=False)
    assert main(arguments) == 0
    assert json.loads(capsys.readouterr().out)["partitions_this_run"] == 1


# --------------------------------------------------------------------- what partitions are
def test_partitions_in_csv_and_parquet_a_glob_a_folder_a_list_and_a_url(book, expected, tmp_path):
    reasons, _ = expected
    names = [p.name for p in list_partitions(book.folder)]
    assert names == ["p00.parquet", "p01.csv", "p02.parquet", "p03.csv.gz", "p04.csv", "p05.parquet"]
    batch = book.recipe()
    explain_book(book.folder, tmp_path / "folder", batch, progress=False)
    assert_same_reasons(pd.read_parquet(tmp_path / "folder"), reasons, atol=1e-6)

    for spec, files in [
        (str(book.folder / "*.parquet"), ["p00.parquet", "p02.parquet", "p05.parquet"]),
        ([book.folder / "p01.csv", book.folder / "p03.csv.gz"], ["p01.csv", "p03.csv.gz"]),
        (f"file://{book.folder}/p04.csv", ["p04.csv"]),
    ]:
        out = tmp_path / f"out-{len(files)}"
        explain_book(spec, out, batch, progress=False)
        ids = pd.concat(
            [
                pd.read_parquet(f) if f.endswith(".parquet") else pd.read_csv(f)
                for f in map(str, map(book.folder.joinpath, files))
            ]
        )["ID"]
        assert_same_reasons(pd.read_parquet(out), reasons[reasons["applicant"].isin(ids)], atol=1e-6)

    # a URL of any fsspec file system: copied to the worker, read by its bytes, named as given
    fsspec = pytest.importorskip("fsspec")
    memory = fsspec.filesystem("memory")
    for path in sorted(book.folder.glob("p0[0-2]*")):
        memory.pipe(f"/book/{path.name}", path.read_bytes())
    explain_book("memory://book/", tmp_path / "memory", batch, progress=False)
    ids = book.frame["ID"].iloc[:1200]
    assert_same_reasons(pd.read_parquet(tmp_path / "memory"), reasons[reasons["applicant"].isin(ids)], atol=1e-6)
    first = manifest_of(tmp_path / "memory")["partitions"][0]
    assert first["input"].startswith("memory://") and first["input"].endswith("/book/p00.parquet")

    with pytest.raises(NBExplainError, match="matches no file"):
        explain_book(str(book.folder / "*.xlsx"), tmp_path / "none", batch, progress=False)
    with pytest.raises(NBExplainError, match="is inside the input folder"):
        explain_book(book.folder, book.folder / "out", batch, progress=False)
    with pytest.raises(NBExplainError, match="holds the input"):
        explain_book(book.folder / "p01.csv", book.root, batch, progress=False)
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    with pytest.raises(NBExplainError, match="already holds files .*notes.txt.* and no nbexplain manifest"):
        explain_book(book.folder, tmp_path / "busy", batch, progress=False)


def test_without_an_id_column_applicants_are_named_by_file_and_line(book, tmp_path):
    batch = book.recipe().with_options(id_column=None)
    explain_book([book.folder / "p01.csv", book.folder / "p02.parquet"], tmp_path / "out", batch, progress=False)
    got = pd.read_parquet(tmp_path / "out")
    assert got["applicant"].is_unique
    assert got["applicant"].str.match(r"^(p01\.csv|p02\.parquet):\d+$").all()
    first = got[got["applicant"].str.startswith("p01.csv")].iloc[0]
    line = int(first["applicant"].split(":")[1])
    row = pd.read_csv(book.folder / "p01.csv").iloc[line - 2]  # CSV line numbers count the header
    alone = explain_partition(row.to_frame().T.drop(columns="ID"), book.model.read_bytes(), batch.to_dict())
    np.testing.assert_allclose(alone["score"].iloc[0], first["score"], rtol=1e-6)


# --------------------------------------------------------------------- pandas in, pandas out
def test_explain_partition_is_pandas_in_pandas_out_with_the_model_loaded_once(book, expected):
    reasons, _ = expected
    batch = book.recipe()
    plan = json.loads(batch.to_json())  # what a Spark job would ship: plain JSON
    assert BatchRecipe.from_dict(plan, batch.model_bytes).digest == batch.digest
    frame = book.frame.iloc[400:800]
    first = explain_partition(frame, batch.model_bytes, plan)
    loads = LOADS[batch.payload_sha256]
    again = explain_partition(frame.iloc[:, ::-1], batch.model_bytes, plan)  # columns matched by name
    assert LOADS[batch.payload_sha256] == loads  # loaded once in this process, reused
    pd.testing.assert_frame_equal(first, again)
    assert_same_reasons(first, reasons[reasons["applicant"].isin(frame["ID"])], atol=1e-6)
    from_path = explain_partition(frame, str(book.model), plan)  # or the model file's path
    pd.testing.assert_frame_equal(first, from_path)
    assert explain_partition(frame.iloc[:0], batch.model_bytes, plan).empty
    schema = spark_schema(plan)
    assert schema.startswith("`applicant` string, `denied` boolean, `score` double")
    assert [c.split("`")[1] for c in schema.split(", ")] == list(first.columns)
    other = ModelArtifact.load(book.model)
    other.model.layers[-1].set_weights([w * 2 for w in other.model.layers[-1].get_weights()])
    other.save(book.root / "other.nbx")
    with pytest.raises(NBExplainError, match="not the one the recipe was made for"):
        explain_partition(frame, str(book.root / "other.nbx"), plan)


# --------------------------------------------------------------------- global importance
def test_importance_sums_of_parts_combine_to_the_in_memory_global_importance(book):
    from nbexplain import IntegratedGradients

    artifact = ModelArtifact.load(book.model)
    X = artifact.to_inputs(book.frame.iloc[:900])
    ig = IntegratedGradients(artifact.model, steps=8, progress=False)
    baseline = ig.resolve_baseline(np.zeros((1, len(FEATURES))), X)
    whole = ig.explain(X, baseline).global_importance()
    parts = [ig.explain(X.iloc[i : i + 250], baseline).importance_sums() for i in range(0, 900, 250)]
    combined = ImportanceSums.combine(ImportanceSums.from_dict(json.loads(json.dumps(p.to_dict()))) for p in parts)
    assert combined.count == 900
    np.testing.assert_allclose(combined.explanation().values, whole.values, rtol=1e-12)
    np.testing.assert_allclose(combined.explanation().signed, whole.signed, rtol=1e-12, atol=1e-15)
    added = parts[0] + parts[1] + parts[2] + parts[3]
    np.testing.assert_allclose(added.explanation().values, whole.values, rtol=1e-12)

    sensitivity = Sensitivity(artifact.model, progress=False)
    whole = sensitivity.explain(X).global_importance()
    combined = ImportanceSums.combine(
        sensitivity.explain(X.iloc[i : i + 250]).importance_sums() for i in range(0, 900, 250)
    )
    np.testing.assert_allclose(combined.explanation().values, whole.values, rtol=1e-12)
    np.testing.assert_allclose(combined.explanation().signed, whole.signed, rtol=1e-12, atol=1e-15)
    assert combined.explanation().meta["formula"] == whole.meta["formula"]


@pytest.mark.parametrize("importance", ["all", "sensitivity"])
def test_a_book_s_global_importance_over_every_applicant(book, tmp_path, importance):
    batch = book.recipe(importance=importance)
    explain_book(book.folder, tmp_path / "out", batch, progress=False)
    written = pd.read_parquet(tmp_path / "out" / "_global_importance.parquet").set_index("feature")
    artifact = ModelArtifact.load(book.model)
    inputs = artifact.to_inputs(book.frame.set_index("ID"))
    if importance == "all":
        _, recipe = single_process(book.model, book.reference, CATALOGUE, book.single, tmp_path / "r.parquet")
        truth = recipe.attributions(book.frame.set_index("ID")).global_importance()
    else:
        truth = Sensitivity(artifact.model, progress=False).explain(inputs).global_importance()
    assert int(written["rows"].iloc[0]) == len(book.frame)
    np.testing.assert_allclose(written.loc[list(truth.coords["feature"]), "importance"], truth.values, rtol=1e-5)
    assert manifest_of(tmp_path / "out")["global_importance"]["over"] == importance
