"""The work on one partition: a pandas function, and the file task a worker runs.

:func:`explain_partition` is plain pandas in, pandas out: a DataFrame of applications (raw
columns, matched by name), the model (artifact bytes, or the path of any model file
:func:`~nbexplain.model.artifact.load_model_file` opens) and the recipe (its plan, plain JSON)
give the reasons table of the denied applicants, one row each, exactly as
:meth:`~nbexplain.credit.adverse.ReasonRecipe.explain_file` writes them. Spark calls it from
``mapInPandas``; :func:`spark_schema` is the schema to declare.

The model is loaded once per process and kept in a module-level cache keyed by the SHA-256 of its
bytes (and the plan's digest), so a worker explains partition after partition with one model
(and one traced gradient function). Before loading a network the process's TensorFlow threads are
limited (:func:`nbexplain._tensorflow.limit_threads`) so that worker processes on one machine
share its cores. The loaded model must have the fingerprint the recipe records.

:func:`explain_partition_file` is what a worker does with one input file: read it chunk by
chunk (bounded memory; a bad cell named by its line), write the reasons of its denied applicants
to ONE Parquet file under a temporary name renamed when complete (:mod:`nbexplain._files`),
with the partition's record (input SHA-256, rows in / denied / out, recipe digest, importance
sums) in the file's own metadata, and return that record.
"""

from __future__ import annotations

import collections
import hashlib
import json
import os
import socket
import tempfile
import threading
import time
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._files import atomic_path, file_sha256
from .._tables import TableSource
from ..credit.adverse import ReasonRecipe
from ..credit.reasons import RankedReasons, ReasonCatalogue
from ..engine.protocol import attributor_for
from ..errors import NBExplainError, require
from ..model.artifact import MANIFEST, load_model_file
from ..results.importance import ImportanceSums
from .inputs import is_local, local_copy, local_path
from .manifest import METADATA_KEY
from .recipe import BatchRecipe, digest, identity, plan_elements, plan_ranges, resolved_baseline

_BOOLEAN = ("denied", "completeness_ok", "prohibited_material")
#: Entries of a partition's record that say how a run went, not what the file holds.
VOLATILE = ("worker", "model_loads", "run", "seconds")

_LOCK = threading.RLock()
#: Model bytes and plans sent to this process (by the cluster's worker plugin), by SHA-256 / digest.
_PAYLOADS: dict[str, bytes] = {}
_PLANS: dict[str, dict] = {}
#: Models loaded in this process, by model SHA-256 and plan digest.
_LOADED: dict[str, Prepared] = {}
#: How many times each model (by SHA-256) was loaded in this process.
LOADS: collections.Counter = collections.Counter()
#: TensorFlow threads per operation in this process (set by the worker plugin).
_THREADS: dict[str, int] = {}


def register(payload: bytes, plan: Mapping, threads: int | None = None) -> tuple[str, str]:
    """Keep a model's bytes and a plan in this process (the worker plugin calls this once per
    worker); returns their keys (the bytes' SHA-256, the plan's digest)."""
    sha = hashlib.sha256(payload).hexdigest()
    key = digest(plan)
    _thread_lock_for_progress_bars()
    with _LOCK:
        _PAYLOADS[sha] = payload
        _PLANS[key] = dict(plan)
        if threads:
            _THREADS["intra"] = int(threads)
            _limit_arrow_threads(int(threads))
    return sha, key


def _limit_arrow_threads(threads: int) -> None:
    """Parquet reading and writing use Arrow's own thread pool, one thread per core by default:
    the worker's share of the cores instead."""
    try:
        import pyarrow
    except ImportError:  # no Parquet here: nothing to limit
        return
    pyarrow.set_cpu_count(max(1, threads))


def _thread_lock_for_progress_bars() -> None:
    """tqdm guards its bars with a multiprocessing lock, a named semaphore of this process; a
    worker stopped while it holds one leaves it behind (and a "leaked semaphore" warning at the
    client's exit). A worker shows no bars: a thread lock does."""
    from tqdm import tqdm

    tqdm.set_lock(threading.RLock())


def forget(sha: str, key: str) -> None:
    """Drop a model's bytes, its plan and what was loaded from them (the run is over)."""
    with _LOCK:
        _PAYLOADS.pop(sha, None)
        _PLANS.pop(key, None)
        for name in [n for n in _LOADED if n.startswith(sha)]:
            del _LOADED[name]


# --------------------------------------------------------------------- the model, once per process
@dataclass
class Prepared:
    """A model loaded in this process with the reasons recipe of one plan."""

    plan: dict
    artifact: Any
    reasons: ReasonRecipe
    sha256: str
    _sensitivity: Any = None

    def sensitivity(self) -> Any:
        if self._sensitivity is None:
            from ..engine.sensitivity import Sensitivity

            self._sensitivity = Sensitivity(self.artifact.model, **self.artifact.explainer_options(), progress=False)
        return self._sensitivity


def _model_bytes(model: Any) -> bytes:
    if isinstance(model, bytes | bytearray | memoryview):
        return bytes(model)
    if isinstance(model, Mapping) and "payload" in model:
        return _sent_to_this_worker(_PAYLOADS, model["payload"], "model")
    if isinstance(model, str | os.PathLike):
        text = str(model)
        if is_local(text):
            path = local_path(text)
            if not path.is_file():
                raise NBExplainError(f"The model file {path} does not exist on this machine ({socket.gethostname()}).")
            return path.read_bytes()
        fsspec = require("fsspec", "dask", "Reading a model file from a URL")
        with fsspec.open(text, "rb") as handle:
            return bytes(handle.read())
    raise NBExplainError(f"model must be the model file's bytes or its path (or URL); got {type(model).__name__}.")


def _file_name(data: bytes) -> str:
    """A name Keras accepts for what the bytes hold (load_model_file finds the rest from them)."""
    if data[:4] == b"PK\x03\x04":
        import io

        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "model.nbx" if MANIFEST in archive.namelist() else "model.keras"
    return "model.h5" if data[:4] == b"\x89HDF" else "model.bin"


def prepare(model: Any, recipe: Any, threads: int | None = None) -> Prepared:
    """The model loaded in this process (once: later calls with the same bytes and plan reuse
    it) with the recipe's explainer, baseline and catalogue."""
    plan = recipe.plan if isinstance(recipe, BatchRecipe) else dict(recipe)
    if isinstance(model, Mapping) and "plan" in model:
        with _LOCK:
            plan = _PLANS.get(model["plan"], plan)
    data = _model_bytes(model)
    sha = hashlib.sha256(data).hexdigest()
    key = f"{sha}:{digest(plan)}"
    with _LOCK:
        found = _LOADED.get(key)
        if found is not None:
            return found
        prepared = _load(data, sha, plan, threads if threads is not None else _THREADS.get("intra"))
        _LOADED[key] = prepared
        LOADS[sha] += 1
        return prepared


def _load(data: bytes, sha: str, plan: Mapping, threads: int | None) -> Prepared:
    described = plan["model"]
    if threads and described["kind"] in ("keras", "stack"):
        from .._tensorflow import limit_threads

        limit_threads(threads, 1)
    load = described.get("load") or {}
    with tempfile.TemporaryDirectory(prefix="nbexplain-model-") as folder:
        path = Path(folder) / _file_name(data)
        path.write_bytes(data)
        artifact = load_model_file(
            path,
            unsafe=bool(described.get("unsafe")),
            columns=load.get("columns"),
            target=load.get("target"),
            output=load.get("output"),
        )
    if artifact.fingerprint() != described["fingerprint"]:
        raise NBExplainError(
            f"The model given to this worker is not the one the recipe was made for (fingerprint "
            f"{artifact.fingerprint()[:12]}, the recipe's {described['fingerprint'][:12]}): give the same model file."
        )
    method = plan["method"]
    explainer = attributor_for(artifact, **method["params"], progress=False)
    if type(explainer).__name__ != method["class"]:
        raise NBExplainError(
            f"The recipe explains with {method['class']}; this model is explained with {type(explainer).__name__}."
        )
    reasons = ReasonRecipe(
        explainer,
        resolved_baseline(plan),
        ReasonCatalogue.from_dict(plan["catalogue"]),
        cutoff=float(plan["cutoff"]),
        to_inputs=artifact.to_inputs,
        columns=plan["columns"],
        elements=plan_elements(plan),
        max_reasons=int(plan["max_reasons"]),
        tolerance=plan["completeness_tolerance"],
        ranges=plan_ranges(plan),
    )
    return Prepared(dict(plan), artifact, reasons, sha)


# --------------------------------------------------------------------- pandas in, pandas out
@dataclass(frozen=True)
class FrameSource:
    """A DataFrame where a file would be: rows named "row N" (from 1) in messages."""

    path: str = "the DataFrame"
    format: str = "frame"

    def where(self, number: int) -> str:
        return f"row {number}"


def explain_rows(prepared: Prepared, chunk: Any, lines: np.ndarray, source: Any, name: str | None = None) -> tuple:
    """``(reasons table of the denied rows, importance sums or None, applicant dtype)`` of one
    chunk. Without an id column, applicants are named ``"<name>:<line>"`` when ``name`` is given
    (a file's rows), by the chunk's own index otherwise."""
    import pandas as pd

    plan, reasons = prepared.plan, prepared.reasons
    id_column = plan["id_column"]
    if id_column is None and name is not None:
        chunk = chunk.set_axis(pd.Index([f"{name}:{int(line)}" for line in lines]), axis=0)
    rows, decisions = reasons.decide_chunk(chunk, lines, source, id_column)
    importance, sums = plan["importance"], None
    if importance == "all" and len(rows):
        attributions = reasons.attributions(rows)
        table = reasons.explain(rows, attributions).table()[decisions].reset_index(drop=True)
        sums = attributions.importance_sums()
    else:
        denied = rows[decisions]
        if len(denied):
            attributions = reasons.attributions(denied)
            table = reasons.explain(denied, attributions).table()
            sums = attributions.importance_sums() if importance == "denied" else None
        else:
            table = reasons.empty_table()
        if importance == "sensitivity" and len(rows):
            sums = prepared.sensitivity().explain(reasons.inputs(rows)).importance_sums()
    return table, sums, rows.index.dtype


def explain_partition(frame: Any, model: Any, recipe: Any, *, threads: int | None = None) -> Any:
    """The reasons of the denied applicants of ``frame`` (one row each), as a DataFrame.

    ``model``: the artifact bytes (:attr:`BatchRecipe.model_bytes`), or the path or URL of the
    model file; ``recipe``: :meth:`BatchRecipe.to_dict` (or the recipe). Columns are matched by
    name; the applicant is the recipe's id column, or ``frame``'s index. The model is loaded once
    per process. ``threads``: TensorFlow threads per operation (set before the first load only).
    """
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        raise NBExplainError(f"frame must be a pandas DataFrame; got {type(frame).__name__}.")
    prepared = prepare(model, recipe, threads)
    if not len(frame):
        return empty_table(prepared.plan)
    table, _, _ = explain_rows(prepared, frame, np.arange(1, len(frame) + 1), FrameSource())
    return table


def attribute_partition(frame: Any, model: Any, recipe: Any, *, threads: int | None = None) -> tuple:
    """Every row's attribution per reported feature (columns named by feature, then ``score``,
    ``baseline_score``, ``completeness_error``, ``steps``; the index is the id column or
    ``frame``'s) and the :class:`~nbexplain.results.ImportanceSums` of the rows: the per-row pass
    a dashboard bundle makes, for one partition of a book."""
    prepared = prepare(model, recipe, threads)
    reasons, id_column = prepared.reasons, prepared.plan["id_column"]
    rows, _ = reasons.decide_chunk(frame, np.arange(1, len(frame) + 1), FrameSource(), id_column)
    attributions = reasons.attributions(rows)
    table = attributions.to_frame()
    table.index = rows.index
    return table, attributions.importance_sums()


# --------------------------------------------------------------------- the output's columns
def _column_type(name: str, plan: Mapping) -> str:
    if name in _BOOLEAN:
        return "bool"
    if name in ("prohibited_material_bases", "outside_reference") or (
        name.startswith("reason_") and not name.endswith("_contribution")
    ):
        return "string"
    return "double"


def output_columns(plan: Mapping) -> list[tuple[str, str]]:
    """``[(column, type)]`` of the reasons table (types ``bool``, ``double``, ``string``; the
    applicant column is the caller's)."""
    catalogue = ReasonCatalogue.from_dict(plan["catalogue"])
    names = list(RankedReasons.empty(catalogue, int(plan["max_reasons"])).table().columns)
    return [(name, "applicant" if name == "applicant" else _column_type(name, plan)) for name in names]


def empty_table(plan: Mapping) -> Any:
    catalogue = ReasonCatalogue.from_dict(plan["catalogue"])
    return RankedReasons.empty(catalogue, int(plan["max_reasons"])).table()


def spark_schema(recipe: Any, applicant: str = "string") -> str:
    """The DDL schema of :func:`explain_partition`'s table for Spark's ``mapInPandas``
    (``applicant``: the Spark type of the id column, e.g. ``"bigint"``)."""
    plan = recipe.plan if isinstance(recipe, BatchRecipe) else recipe
    spark = {"bool": "boolean", "double": "double", "string": "string", "applicant": applicant}
    return ", ".join(f"`{name}` {spark[kind]}" for name, kind in output_columns(plan))


def arrow_schema(plan: Mapping, applicant_dtype: Any) -> Any:
    """The Parquet schema every partition file of one run shares."""
    import pandas as pd

    pa = require("pyarrow", "parquet", "Writing Parquet files")
    if pd.api.types.is_bool_dtype(applicant_dtype):
        applicant = pa.bool_()
    elif pd.api.types.is_integer_dtype(applicant_dtype):
        applicant = pa.int64()
    elif pd.api.types.is_float_dtype(applicant_dtype):
        applicant = pa.float64()
    else:
        applicant = pa.string()
    types = {"bool": pa.bool_(), "double": pa.float64(), "string": pa.string(), "applicant": applicant}
    return pa.schema([(name, types[kind]) for name, kind in output_columns(plan)])


def _arrow_table(table: Any, schema: Any) -> Any:
    import pyarrow as pa

    if pa.types.is_string(schema.field("applicant").type):
        table = table.assign(applicant=table["applicant"].astype(str))
    return pa.Table.from_pandas(table[schema.names], schema=schema, preserve_index=False)


# --------------------------------------------------------------------- one file
def new_tally(plan: Mapping) -> dict:
    return {
        "rows_in": 0,
        "denied": 0,
        "rows_out": 0,
        "incomplete": 0,
        "outside_reference": 0,
        "prohibited_material": 0,
        "prohibited_material_by_basis": dict.fromkeys(plan["catalogue"].get("prohibited", []), 0),
        "max_completeness_error": 0.0,
    }


def _tally(tally: dict, table: Any) -> None:
    if not len(table):
        return
    tally["denied"] += len(table)
    tally["prohibited_material"] += int(table["prohibited_material"].sum())
    tally["incomplete"] += int((~table["completeness_ok"].astype(bool)).sum())
    tally["outside_reference"] += int((table["outside_reference"] != "").sum())
    for found in table["prohibited_material_bases"]:
        for basis in filter(None, str(found).split(";")):
            tally["prohibited_material_by_basis"][basis] = tally["prohibited_material_by_basis"].get(basis, 0) + 1
    tally["max_completeness_error"] = max(tally["max_completeness_error"], float(table["completeness_error"].max()))


def explain_partition_file(task: Mapping, model: Any, recipe: Any, threads: int | None = None) -> dict:
    """Explain one input file into one Parquet file, all-or-nothing; return its record.

    ``task``: ``index``, ``input`` (path or URL), ``name`` (how applicants without an id are
    named), ``output`` (the final path), ``chunk_rows``, and what the client saw of the input
    (``input_size``, ``input_version``) and of the run (``run``), echoed in the record.
    """
    pq = require("pyarrow.parquet", "parquet", "Writing Parquet files")
    started = time.perf_counter()
    prepared = prepare(model, recipe, threads)
    plan = prepared.plan
    out = Path(task["output"])
    tally = new_tally(plan)
    sums: ImportanceSums | None = None
    record: dict = {}
    with local_copy(task["input"]) as (path, input_sha):
        try:
            source = TableSource.open(path)
            with atomic_path(out, inputs=[path]) as temporary:
                writer: Any = None
                schema: Any = None
                try:
                    for chunk, lines in source.chunks(int(task.get("chunk_rows", 5000))):
                        if not len(chunk):
                            continue
                        table, part, applicant = explain_rows(prepared, chunk, lines, source, task["name"])
                        tally["rows_in"] += len(chunk)
                        if part is not None:
                            sums = part if sums is None else sums + part
                        if schema is None:
                            schema = arrow_schema(plan, applicant)
                            writer = pq.ParquetWriter(temporary, schema)
                        if len(table):
                            writer.write_table(_arrow_table(table, schema))
                            _tally(tally, table)
                    if writer is None:
                        schema = arrow_schema(plan, "string" if plan["id_column"] is None else object)
                        writer = pq.ParquetWriter(temporary, schema)
                    tally["rows_out"] = tally["denied"]
                    record = {
                        "index": int(task["index"]),
                        "input": task["input"],
                        "name": task["name"],
                        "input_size": task.get("input_size"),
                        "input_version": task.get("input_version"),
                        "input_sha256": input_sha,
                        "input_bytes": path.stat().st_size,
                        "output": out.name,
                        "recipe_digest": identity_digest(plan),
                        **tally,
                        "importance": None if sums is None else sums.to_dict(),
                        "worker": f"{socket.gethostname()}:{os.getpid()}",
                        "model_loads": LOADS[prepared.sha256],
                        "run": task.get("run"),
                    }
                    # the file's own record holds only what its rows depend on, so that a partition run twice
                    # (a worker taken for dead that finishes after all) writes the same bytes again
                    steady = {k: v for k, v in record.items() if k not in VOLATILE}
                    writer.add_key_value_metadata({METADATA_KEY: json.dumps(steady, sort_keys=True).encode()})
                finally:
                    if writer is not None:
                        writer.close()
                record["output_sha256"] = file_sha256(temporary)
                record["output_bytes"] = temporary.stat().st_size
        except NBExplainError as error:
            if str(path) != str(task["input"]):  # a remote file's local copy: name the file as the user knows it
                raise type(error)(str(error).replace(str(path), str(task["input"]))) from None
            raise
    record["seconds"] = round(time.perf_counter() - started, 3)
    return record


def identity_digest(plan: Mapping) -> str:
    """The digest of a plan's identity (what an output folder records)."""
    return digest(identity(plan))


def run_task(task: Mapping, runtime: Mapping) -> dict:
    """A cluster task: one partition, with the model and plan the worker plugin left in this
    process (``runtime``: ``{"payload": sha256, "plan": digest}``)."""
    plan = _sent_to_this_worker(_PLANS, runtime["plan"], "recipe")
    return explain_partition_file(task, {"payload": runtime["payload"]}, plan)


def _sent_to_this_worker(store: Mapping, key: str, what: str) -> Any:
    """What the worker plugin left in this process under ``key``; a clear error when it is not
    here (a task run outside explain_book, or on a worker that joined without the plugin)."""
    with _LOCK:
        found = store.get(key)
    if found is None:
        raise NBExplainError(
            f"The {what} {key[:12]} was not sent to this worker ({socket.gethostname()}, process {os.getpid()}): "
            "run through nbexplain.batch.explain_book, which sends it to every worker."
        )
    return found


def process_facts() -> dict:
    """This process's id, how often it loaded each model, and its TensorFlow threads (for tests
    and benchmarks, through ``client.run``)."""
    from .._tensorflow import thread_settings

    facts: dict = {"pid": os.getpid(), "loads": dict(LOADS), "threads": dict(_THREADS)}
    facts["tensorflow_threads"] = thread_settings()
    try:
        import pyarrow

        facts["arrow_threads"] = pyarrow.cpu_count()
    except ImportError:
        pass
    return facts
