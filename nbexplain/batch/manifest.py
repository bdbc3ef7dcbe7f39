"""The output folder of a batch run: one Parquet file per input partition and a manifest.

``OUT/part-00000.parquet`` ... hold the reasons (one row per denied applicant), each written
all-or-nothing by the worker that explained its partition, with the partition's record in its own
Parquet metadata. ``OUT/_manifest.json`` (written all-or-nothing by the client, after every
finished partition) records the recipe's identity (:func:`~nbexplain.batch.recipe.identity`), the
full recipe, each partition (input path, size and version as the store reports them, input
SHA-256, output file and SHA-256, rows in / denied / out, importance sums) and each run.
``OUT/_global_importance.parquet`` holds the global importance once every partition is done.
Names starting with ``_`` or ``.`` are skipped by Parquet readers, so ``pandas.read_parquet(OUT)``
reads the reasons alone.

A second run of the same command (:func:`prepare_folder`) keeps every finished partition whose
file is intact, adopts a partition file finished after the manifest was last written (a client
killed outright: the file's own metadata says what it is), and does the rest. A different recipe,
or a finished partition whose input has changed since, is refused with what differs.
``OUT/.nbexplain-batch.lock`` keeps two runs from writing one folder at once.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import socket
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from .._files import PARTIAL_SUFFIX, file_sha256, write_text
from ..errors import NBExplainError, require
from .inputs import Partition
from .recipe import differences

FORMAT = "nbexplain-batch-output"
FORMAT_VERSION = 1
MANIFEST_NAME = "_manifest.json"
IMPORTANCE_NAME = "_global_importance.parquet"
LOCK_NAME = ".nbexplain-batch.lock"
METADATA_KEY = b"nbexplain.partition"


def now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def part_name(index: int, total: int) -> str:
    """``part-00007.parquet``: numbered in input order, wide enough for ``total`` partitions."""
    return f"part-{index:0{max(5, len(str(max(total - 1, 0))))}d}.parquet"


def read_manifest(folder: Path) -> dict | None:
    """The folder's manifest, or None when it has none; an unreadable one is an error."""
    path = Path(folder) / MANIFEST_NAME
    if not path.is_file():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise NBExplainError(f"{path} cannot be read ({error}): the output folder's record is damaged.") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise NBExplainError(f"{path} is not the manifest of an nbexplain batch output folder.")
    if int(manifest.get("format_version", 0)) > FORMAT_VERSION:
        raise NBExplainError(f"{path} was written by a newer nbexplain (format {manifest.get('format_version')}).")
    return manifest


def write_manifest(folder: Path, manifest: Mapping) -> None:
    write_text(Path(folder) / MANIFEST_NAME, json.dumps(manifest, indent=1, allow_nan=False) + "\n")


def part_metadata(path: Path) -> dict | None:
    """The partition record a worker wrote into a Parquet file's metadata (None when absent or
    unreadable)."""
    pq = require("pyarrow.parquet", "parquet", "Reading Parquet files")
    try:
        metadata = pq.ParquetFile(path).metadata.metadata or {}
        return json.loads(metadata[METADATA_KEY]) if METADATA_KEY in metadata else None
    except Exception:  # an unreadable file: no record
        return None


# --------------------------------------------------------------------- one run at a time
def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """Hold ``OUT/.nbexplain-batch.lock`` for the run; a lock left by a process that no longer
    runs on this machine is taken over, one held by a live run is an error."""
    path = Path(folder) / LOCK_NAME
    mine = json.dumps({"host": socket.gethostname(), "pid": os.getpid(), "since": now()})
    for _ in range(2):
        try:
            handle = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                holder = json.loads(path.read_text())
            except (OSError, ValueError):
                holder = {}
            if holder.get("host") == socket.gethostname() and not _alive(int(holder.get("pid", -1))):
                path.unlink(missing_ok=True)  # its run was killed: nothing holds it
                continue
            raise NBExplainError(
                f"Another run (process {holder.get('pid', '?')} on {holder.get('host', '?')}, since "
                f"{holder.get('since', '?')}) is writing {folder}. Wait for it to end, or, if it is gone, remove "
                f"{path}."
            ) from None
        with os.fdopen(handle, "w") as lock:
            lock.write(mine)
        break
    try:
        yield
    finally:
        path.unlink(missing_ok=True)


def remove_partials(folder: Path) -> list[str]:
    """Remove temporary files that interrupted writers left (``.<name>.<pid>.<id>.partial``)."""
    removed = []
    for path in Path(folder).iterdir():
        if path.name.startswith(".") and path.name.endswith(PARTIAL_SUFFIX):
            path.unlink(missing_ok=True)
            removed.append(path.name)
    return removed


# --------------------------------------------------------------------- a run's starting point
def _entry(index: int, partition: Partition, total: int) -> dict:
    return {"index": index, **partition.to_dict(), "output": part_name(index, total), "status": "pending"}


def prepare_folder(
    folder: Path, partitions: Sequence[Partition], plan: Mapping, identity: Mapping, digest: str, spec: str
) -> tuple[dict, list[str]]:
    """The manifest this run starts from (new, or the folder's own, checked) and notes on what
    was kept, adopted or redone. Refuses a folder that is not a batch output, a different recipe,
    and inputs that differ from those of the finished partitions."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    notes: list[str] = []
    if manifest is None:
        others = [p.name for p in folder.iterdir() if p.name != LOCK_NAME and not p.name.endswith(PARTIAL_SUFFIX)]
        if others:
            raise NBExplainError(
                f"The output folder {folder} already holds files ({', '.join(sorted(others)[:5])}"
                f"{' ...' if len(others) > 5 else ''}) and no nbexplain manifest: give a new or empty folder."
            )
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "created": now(),
            "input": {"spec": spec, "partitions": len(partitions)},
            "recipe": dict(identity),
            "recipe_digest": digest,
            "plan": dict(plan),
            "partitions": [_entry(i, p, len(partitions)) for i, p in enumerate(partitions)],
            "runs": [],
        }
        return manifest, notes
    if manifest.get("recipe_digest") != digest:
        changed = differences(manifest.get("recipe", {}), identity)
        raise NBExplainError(
            f"{folder} holds reasons made with another recipe ({'; '.join(changed) or 'its digest differs'}). They "
            "cannot be mixed with reasons made otherwise: run the command with the earlier settings to finish that "
            "folder, or write into a new folder (or delete this one) to start afresh."
        )
    known = {entry["input"]: entry for entry in manifest["partitions"]}
    current = {p.url: p for p in partitions}
    added, removed = sorted(set(current) - set(known)), sorted(set(known) - set(current))
    changed = [
        url
        for url, entry in known.items()
        if url in current
        and entry["status"] == "done"
        and (entry.get("input_size"), entry.get("input_version")) != (current[url].size, current[url].version)
    ]
    if added or removed or changed:
        parts = []
        for what, urls in (("new", added), ("no longer found", removed), ("changed since explained", changed)):
            if urls:
                parts.append(f"{len(urls)} {what} ({', '.join(urls[:3])}{' ...' if len(urls) > 3 else ''})")
        raise NBExplainError(
            f"The input is not what {folder} was made from: partitions {'; '.join(parts)}. Finished partitions must "
            "keep their input: explain the new data into a new folder (or delete this one to start afresh)."
        )
    for entry in manifest["partitions"]:
        partition = current[entry["input"]]
        if entry["status"] != "done":
            entry["input_size"], entry["input_version"] = partition.size, partition.version
    _verify_finished(folder, manifest, notes)
    adopt_finished(folder, manifest, digest, notes)
    return manifest, notes


def _verify_finished(folder: Path, manifest: dict, notes: list[str]) -> None:
    """A finished partition whose file is missing or differs from its record is done again."""
    for entry in manifest["partitions"]:
        if entry["status"] != "done":
            continue
        path = folder / entry["output"]
        problem = None
        if not path.is_file():
            problem = "missing"
        elif file_sha256(path) != entry.get("output_sha256"):
            problem = "damaged (its SHA-256 differs from the manifest's)"
        if problem:
            notes.append(f"{entry['output']} ({entry['name']}) was {problem}: it is explained again.")
            path.unlink(missing_ok=True)
            _reset(entry)


def _reset(entry: dict) -> None:
    keep = ("index", "input", "name", "input_size", "input_version", "output")
    for key in [k for k in entry if k not in keep]:
        del entry[key]
    entry["status"] = "pending"


def adopt_finished(folder: Path, manifest: dict, digest: str, notes: list[str], run: int | None = None) -> None:
    """A partition file finished after the manifest was last written is adopted when its own
    record matches (recipe, input and its version); any other is removed and done again.
    ``run``: the run that made it, when known (the current one, as it stops)."""
    for entry in manifest["partitions"]:
        if entry["status"] == "done":
            continue
        path = folder / entry["output"]
        if not path.is_file():
            continue
        record = part_metadata(path)
        if (
            record is not None
            and record.get("recipe_digest") == digest
            and record.get("input") == entry["input"]
            and record.get("index") == entry["index"]
            and (record.get("input_size"), record.get("input_version")) == (entry["input_size"], entry["input_version"])
        ):
            entry.update(
                record, status="done", output_sha256=file_sha256(path), output_bytes=path.stat().st_size, run=run
            )
            notes.append(f"{entry['output']} ({entry['name']}) was finished by an earlier run: kept.")
        else:
            path.unlink()


def done_entries(manifest: Mapping) -> list[dict]:
    return [entry for entry in manifest["partitions"] if entry["status"] == "done"]


def totals(manifest: Mapping) -> dict[str, Any]:
    """Rows in, denied and out, and the other counts, over the finished partitions."""
    finished = done_entries(manifest)
    bases: dict[str, int] = {}
    for entry in finished:
        for basis, count in (entry.get("prohibited_material_by_basis") or {}).items():
            bases[basis] = bases.get(basis, 0) + int(count)
    summed = {
        key: sum(int(entry.get(key, 0)) for entry in finished)
        for key in ("rows_in", "denied", "rows_out", "incomplete", "outside_reference", "prohibited_material")
    }
    return {
        "partitions": len(manifest["partitions"]),
        "partitions_done": len(finished),
        **summed,
        "prohibited_material_by_basis": bases,
        "max_completeness_error": max((float(e.get("max_completeness_error", 0.0)) for e in finished), default=0.0),
    }
