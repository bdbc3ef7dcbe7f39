"""A whole book of applicants: every partition explained, on Dask or in this process.

:func:`explain_book` lists the partitions (:mod:`nbexplain.batch.inputs`), prepares the output
folder (:mod:`nbexplain.batch.manifest`: a new one, or the same command's earlier run to finish),
explains every partition not yet done (each into its own Parquet file, by
:func:`~nbexplain.batch.partition.explain_partition_file`) on a Dask cluster
(:mod:`nbexplain.batch.cluster`) or, with neither workers nor a scheduler, one after the other in
this process, records each finished partition in the manifest as it comes, and when all are done
writes the global importance (combined exactly from every partition's sums).

Nothing is lost and nothing doubled: each partition has one output file, named by its place in the
input, written all-or-nothing; a worker that dies mid-partition leaves only a temporary file and
its partition is run again elsewhere (Dask retries it); an interrupted run (Ctrl-C, SIGTERM)
stops its cluster, removes temporary files, records what was finished and leaves the rest to the
next run of the same command.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .._files import writable_folder, write_bytes
from .._signals import received_stop
from ..errors import NBExplainError, require
from ..results.importance import ImportanceSums
from .inputs import check_not_inside, list_partitions
from .manifest import (
    IMPORTANCE_NAME,
    adopt_finished,
    done_entries,
    folder_lock,
    now,
    prepare_folder,
    remove_partials,
    totals,
    write_manifest,
)
from .partition import explain_partition_file
from .recipe import BatchRecipe

#: Seconds between two writes of the manifest while partitions finish (and at every end).
MANIFEST_INTERVAL = 1.0


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _whole(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise NBExplainError(f"{name} must be a whole number >= {minimum}; got {value!r}.")
    return int(value)


def explain_book(
    applications: Any,
    out: str | Path,
    recipe: BatchRecipe,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    client: Any = None,
    chunk_rows: int = 5_000,
    progress: bool = True,
    retries: int = 2,
    on_partition: Callable[[dict], None] | None = None,
    log: Callable[[str], None] = _stderr,
) -> dict:
    """Reasons for every denied applicant of a partitioned book, one Parquet file per partition
    in the folder ``out``, with its manifest; returns the run's summary.

    ``applications``: a folder, a glob (``data/*.parquet``), an fsspec URL of either
    (``s3://bucket/book/``), one file, or a list of those; CSV and Parquet files alike, columns
    matched by name. ``workers=N``: a local Dask cluster of N processes; ``scheduler``: the
    address of an existing cluster (its workers must read the input and write ``out``: a shared
    file system); ``client``: a :class:`distributed.Client` already connected. None of them: the
    partitions are explained here, one after the other. ``retries``: how often Dask runs a failed
    partition again. ``on_partition(record)`` is called for each finished partition.

    Running the same call again after an interruption finishes only what is missing; a
    different recipe or changed input of a finished partition is refused (see
    :mod:`nbexplain.batch.manifest`). A partition that fails (a bad row) does not stop the
    others: the run ends with an error naming it, and the next run does only what is left.
    """
    if not isinstance(recipe, BatchRecipe):
        raise NBExplainError(f"recipe must be a BatchRecipe; got {type(recipe).__name__}.")
    chunk_rows = _whole(chunk_rows, "chunk_rows", 1)
    retries = _whole(retries, "retries", 0)
    if workers is not None:
        workers = _whole(workers, "workers", 1)
    if sum(x is not None for x in (workers, scheduler, client)) > 1:
        raise NBExplainError("Give at most one of workers (a local cluster), scheduler (an address) and client.")
    require("pyarrow.parquet", "parquet", "Writing the reasons of a partitioned book")
    started = time.perf_counter()
    partitions = list_partitions(applications)
    out = Path(out)
    writable_folder(out, is_folder=True)
    check_not_inside(out, partitions, applications)
    out.mkdir(exist_ok=True)
    spec = applications if isinstance(applications, str) else str(applications)
    mode = "client" if client is not None else "scheduler" if scheduler else "workers" if workers else "in-process"
    with folder_lock(out):
        remove_partials(out)
        manifest, notes = prepare_folder(out, partitions, recipe.plan, recipe.identity(), recipe.digest, spec)
        for note in notes:
            log(f"nbexplain reasons: {note}")
        run_number = len(manifest["runs"]) + 1
        pending = [entry for entry in manifest["partitions"] if entry["status"] != "done"]
        run = {
            "run": run_number,
            "started": now(),
            "mode": mode,
            "workers": workers,
            "scheduler": scheduler,
            "chunk_rows": chunk_rows,
            "partitions_to_do": len(pending),
            "status": "running",
        }
        manifest["runs"].append(run)
        write_manifest(out, manifest)
        book = _Progress(out, manifest, run, len(pending), progress, on_partition)
        tasks = [
            {
                "index": entry["index"],
                "input": entry["input"],
                "name": entry["name"],
                "input_size": entry["input_size"],
                "input_version": entry["input_version"],
                "output": str((out / entry["output"]).resolve()),
                "chunk_rows": chunk_rows,
                "run": run_number,
            }
            for entry in pending
        ]
        try:
            if tasks and mode == "in-process":
                _in_process(tasks, recipe, book)
            elif tasks:
                _on_dask(
                    tasks, recipe, book, workers=workers, scheduler=scheduler, client=client, retries=retries, log=log
                )
        except BaseException as error:
            remove_partials(out)
            # a stop (Ctrl-C, SIGTERM), even one a library turned into an error of its own
            if isinstance(error, KeyboardInterrupt) or received_stop() is not None:
                # partitions whose file a worker finished as the run stopped: recorded by their own metadata
                adopted: list[str] = []
                adopt_finished(out, manifest, recipe.digest, adopted, run=run_number)
                run.update(status="interrupted", ended=now(), partitions_done=book.count + len(adopted))
                write_manifest(out, manifest)
                log(
                    f"nbexplain reasons: interrupted; {len(done_entries(manifest))} of {len(manifest['partitions'])} "
                    f"partitions are done and kept in {out}: run the same command again to finish the others."
                )
            else:
                run.update(status="failed", ended=now(), partitions_done=book.count)
                write_manifest(out, manifest)
            raise
        finally:
            book.close()
        remove_partials(out)
        summary = _finish(out, manifest, run, book, started)
    if book.failures:
        shown = "; ".join(f"{name}: {message}" for name, message in book.failures[:3])
        more = f" (and {len(book.failures) - 3} more)" if len(book.failures) > 3 else ""
        raise NBExplainError(
            f"{len(book.failures)} of {len(manifest['partitions'])} partitions failed: {shown}{more}. The "
            f"{summary['partitions_done']} finished partitions are kept in {out}: fix the input and run the same "
            "command again to do the rest."
        )
    return summary


class _Progress:
    """Records finished partitions in the manifest (written at most every second) and shows a
    progress bar over partitions with the rows per second."""

    def __init__(self, out: Path, manifest: dict, run: dict, total: int, show: bool, callback: Any) -> None:
        from tqdm.auto import tqdm

        self.out, self.manifest, self.run = out, manifest, run
        self.entries = {entry["index"]: entry for entry in manifest["partitions"]}
        self.callback = callback
        self.count, self.rows = 0, 0
        self.failures: list[tuple[str, str]] = []
        self.started = time.perf_counter()
        self.written = 0.0
        self.bar = tqdm(total=total, desc="adverse-action reasons", unit="partition", disable=not show)

    def done(self, record: Mapping) -> None:
        entry = self.entries[int(record["index"])]
        entry.update(record, status="done")
        self.count += 1
        self.rows += int(record["rows_in"])
        self.run["partitions_done"] = self.count
        if time.perf_counter() - self.written >= MANIFEST_INTERVAL or self.count == self.bar.total:
            self.save()
        self.bar.update()
        self.bar.set_postfix(rows_per_s=f"{self.rows / max(time.perf_counter() - self.started, 1e-9):,.0f}")
        if self.callback is not None:
            self.callback(dict(record))

    def failed(self, task: Mapping, error: BaseException) -> None:
        message = " ".join(str(error).split()) or type(error).__name__
        self.failures.append((task["name"], f"{type(error).__name__}: {message}"[:600]))
        self.entries[int(task["index"])]["error"] = self.failures[-1][1]
        self.bar.update()

    def save(self) -> None:
        write_manifest(self.out, self.manifest)
        self.written = time.perf_counter()

    def close(self) -> None:
        self.bar.close()


def _in_process(tasks: list, recipe: BatchRecipe, book: _Progress) -> None:
    for task in tasks:
        try:
            record = explain_partition_file(task, recipe.model_bytes, recipe.plan)
        except NBExplainError as error:
            stop = received_stop()
            if stop is not None:  # a stop a library turned into an error: the run stops, not the partition
                raise stop from error
            book.failed(task, error)
            continue
        book.done(record)


def _on_dask(
    tasks: list,
    recipe: BatchRecipe,
    book: _Progress,
    *,
    workers: int | None,
    scheduler: str | None,
    client: Any,
    retries: int,
    log: Callable[[str], None],
) -> None:
    require("distributed", "dask", "Explaining a book on a Dask cluster")
    from distributed import as_completed

    from .cluster import BookPlugin, connected
    from .partition import run_task

    with connected(workers, scheduler, client, log) as (dask, threads):
        cores = max(threads.values(), default=1)
        plugin = BookPlugin(recipe.model_bytes, recipe.plan, threads, default_threads=cores)
        dask.register_plugin(plugin, name=plugin.name)
        futures: list = []
        waiting: dict = {}
        try:
            runtime = {"payload": plugin.sha256, "plan": plugin.plan_key}
            stamp = f"{int(time.time() * 1000):x}"
            futures = dask.map(
                run_task,
                tasks,
                runtime=runtime,
                key=[f"nbexplain-partition-{plugin.plan_key[:8]}-{stamp}-{task['index']}" for task in tasks],
                retries=retries,
                pure=False,
            )
            # A result is released as soon as it is recorded: a result still held when its worker dies
            # would be computed again, and its partition file written again after it was recorded.
            waiting = {future.key: (future, task) for future, task in zip(futures, tasks)}
            completed = as_completed(futures, loop=dask.loop)
            del futures[:]
            try:
                for future in completed:
                    _, task = waiting.pop(future.key)
                    if future.status == "error":
                        book.failed(task, future.exception())
                    else:
                        book.done(future.result())
                    future.release()
            except KeyboardInterrupt:
                # partitions finished before the signal are recorded now, not left to the next run
                for future, _ in list(waiting.values()):
                    if future.status == "finished":
                        try:
                            book.done(future.result(timeout=5))
                        except Exception:  # gone with its worker: the file (if any) is adopted below
                            pass
                raise
        finally:
            remaining = [future for future, _ in waiting.values()] or futures
            if remaining:
                _quietly(lambda: dask.cancel(remaining, force=True))
            _quietly(lambda: dask.unregister_worker_plugin(plugin.name))


def _quietly(action: Callable[[], Any]) -> None:
    try:
        action()
    except Exception:  # clean-up of a cluster that may be going away: nothing to add
        pass


def _finish(out: Path, manifest: dict, run: dict, book: _Progress, started: float) -> dict:
    """Record the run's end; when every partition is done, the global importance."""
    summed = totals(manifest)
    complete = summed["partitions_done"] == summed["partitions"]
    importance = None
    if complete:
        parts = [e.get("importance") for e in manifest["partitions"]]
        if all(p is not None for p in parts) and parts:
            combined = ImportanceSums.combine(ImportanceSums.from_dict(p) for p in parts)
            if combined.count:
                importance = combined
    if importance is not None:
        frame = importance.to_frame()
        pa, pq = require("pyarrow", "parquet", "Writing Parquet files"), require("pyarrow.parquet", "parquet", "")
        table = pa.Table.from_pandas(frame, preserve_index=False)
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink)
        write_bytes(out / IMPORTANCE_NAME, sink.getvalue().to_pybytes())
        manifest["global_importance"] = {
            "kind": importance.kind,
            "over": manifest["plan"]["importance"],
            "rows": importance.count,
            "features": dict(zip(importance.features, frame["importance"].tolist())),
            "file": IMPORTANCE_NAME,
        }
    elapsed = time.perf_counter() - started
    run.update(
        status="complete" if complete else "failed" if book.failures else "incomplete",
        ended=now(),
        partitions_done=book.count,
        seconds=round(elapsed, 3),
        rows=book.rows,
    )
    manifest["totals"] = summed
    manifest["complete"] = complete
    write_manifest(out, manifest)
    return {
        "input": manifest["input"]["spec"],
        "output": str(out),
        **summed,
        "partitions_this_run": book.count,
        "partitions_kept": summed["partitions_done"] - book.count,
        "rows": summed["rows_in"],
        "seconds": round(elapsed, 3),
        "rows_per_second_this_run": round(book.rows / elapsed, 1) if elapsed > 0 and book.rows else None,
        "complete": complete,
        "global_importance": None
        if importance is None
        else {k: round(v, 4) for k, v in manifest["global_importance"]["features"].items() if math.isfinite(v)},
    }
