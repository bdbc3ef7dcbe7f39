"""Checking a batch output folder: exactly one row per denied applicant, nothing lost or doubled.

:func:`check_output` reads the manifest and every partition file and reports each problem:

* a partition not done, a partition file missing, one whose SHA-256 or row count differs from the
  manifest (damaged or replaced), one that is not readable Parquet, one whose own record (in its
  metadata) names another partition, input or recipe;
* a partition file the manifest does not list (extra), an output named twice, an input listed
  twice or two inputs with the same content (SHA-256: the same applicants explained twice);
* rows out that differ from the denied count, an applicant id that appears more than once across
  all the files (found by hashing the ids, confirmed on the ids themselves);
* with ``inputs=True``, an input file whose SHA-256 is no longer the one explained;
* a complete run without its global importance file.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._files import PARTIAL_SUFFIX, file_sha256
from ..errors import NBExplainError, require
from .inputs import local_copy
from .manifest import IMPORTANCE_NAME, LOCK_NAME, MANIFEST_NAME, part_metadata, read_manifest, totals


@dataclass
class CheckReport:
    """What :func:`check_output` found: ``ok`` when there are no ``problems``; ``facts`` counts
    (partitions, rows in, denied, rows in the files, distinct applicants); ``notes`` are harmless
    (temporary files a killed worker left)."""

    folder: str
    problems: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    facts: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def __str__(self) -> str:
        facts = ", ".join(
            f"{k.replace('_', ' ')} {v:,}" if isinstance(v, int) else f"{k} {v}" for k, v in self.facts.items()
        )
        head = f"{self.folder}: {'OK' if self.ok else f'{len(self.problems)} problem(s)'} ({facts})"
        return "\n".join([head, *(f"  PROBLEM: {p}" for p in self.problems), *(f"  note: {n}" for n in self.notes)])


def check_output(folder: str | Path, *, inputs: bool = False) -> CheckReport:
    """Check a batch output folder (see the module's docstring); ``inputs=True`` also reads every
    input file again to compare its SHA-256 with the one explained."""
    pq = require("pyarrow.parquet", "parquet", "Checking Parquet files")
    folder = Path(folder)
    report = CheckReport(str(folder))
    if not folder.is_dir():
        raise NBExplainError(f"{folder} is not a folder: give the output folder of a batch run.")
    manifest = read_manifest(folder)
    if manifest is None:
        raise NBExplainError(f"{folder} has no {MANIFEST_NAME}: it is not the output folder of a batch run.")
    entries = manifest["partitions"]
    listed = {entry["output"] for entry in entries}
    problems = report.problems
    for name, count in collections.Counter(e["output"] for e in entries).items():
        if count > 1:
            problems.append(f"the output {name} is listed for {count} partitions")
    for name, count in collections.Counter(e["input"] for e in entries).items():
        if count > 1:
            problems.append(f"the input {name} is listed {count} times")
    shas = collections.defaultdict(list)
    for entry in entries:
        if entry.get("input_sha256"):
            shas[entry["input_sha256"]].append(entry["name"])
    for names in shas.values():
        if len(names) > 1:
            problems.append(
                f"the inputs {', '.join(names)} are the same file (same SHA-256): their applicants are doubled"
            )
    rows_in_files, id_parts = 0, []
    for entry in entries:
        what = f"{entry['output']} ({entry['name']})"
        path = folder / entry["output"]
        if entry["status"] != "done":
            problems.append(
                f"{what} is not done"
                + (f": {entry['error']}" if entry.get("error") else "")
                + ": run the command again"
            )
            if path.exists():
                problems.append(f"{what} exists although the manifest does not count it")
            continue
        if not path.is_file():
            problems.append(f"{what} is missing")
            continue
        if file_sha256(path) != entry.get("output_sha256"):
            problems.append(f"{what} is damaged or was replaced: its SHA-256 differs from the manifest's")
        try:
            parquet = pq.ParquetFile(path)
            rows = int(parquet.metadata.num_rows)
            applicants = parquet.read(columns=["applicant"]).column("applicant").to_numpy(zero_copy_only=False)
        except Exception as error:
            problems.append(f"{what} is not a readable Parquet file of reasons ({type(error).__name__}: {error})")
            continue
        rows_in_files += rows
        id_parts.append(applicants)
        if rows != int(entry.get("rows_out", -1)):
            problems.append(f"{what} holds {rows:,} rows; the manifest says {entry.get('rows_out')}")
        if int(entry.get("rows_out", -1)) != int(entry.get("denied", -2)):
            problems.append(f"{what}: {entry.get('rows_out')} rows out for {entry.get('denied')} denied applicants")
        record = part_metadata(path)
        if record is None:
            problems.append(f"{what} carries no partition record in its metadata")
        else:
            for key in ("index", "input", "recipe_digest", "rows_in", "denied", "input_sha256"):
                if record.get(key) != entry.get(key) and not (
                    key == "recipe_digest" and record.get(key) == manifest["recipe_digest"]
                ):
                    problems.append(
                        f"{what}: its own record says {key} {record.get(key)!r}, the manifest {entry.get(key)!r}"
                    )
            if record.get("recipe_digest") != manifest.get("recipe_digest"):
                problems.append(f"{what} was made with another recipe than the folder's")
        if inputs:
            try:
                with local_copy(entry["input"]) as (_, sha):
                    if sha != entry.get("input_sha256"):
                        problems.append(f"the input {entry['input']} changed since it was explained (SHA-256 differs)")
            except NBExplainError as error:
                problems.append(f"the input {entry['input']} cannot be read: {error}")
    for path in sorted(folder.iterdir()):
        name = path.name
        if name in listed or name in (MANIFEST_NAME, IMPORTANCE_NAME, LOCK_NAME):
            continue
        if name.startswith(".") and name.endswith(PARTIAL_SUFFIX):
            report.notes.append(
                f"{name} is a temporary file an interrupted writer left (harmless; the next run removes it)"
            )
        elif name.startswith(("part-", "part_")) or name.endswith(".parquet"):
            problems.append(
                f"{name} is an extra partition file the manifest does not list (its rows would be read twice)"
            )
        else:
            report.notes.append(f"{name} is not part of the batch output")
    duplicates = _duplicates(id_parts)
    if duplicates:
        shown = ", ".join(map(repr, duplicates[:5]))
        problems.append(f"{len(duplicates):,} applicant id(s) appear more than once across the files: {shown}")
    summed = totals(manifest)
    if summed["partitions_done"] == summed["partitions"] and not (folder / IMPORTANCE_NAME).is_file():
        if manifest["plan"].get("importance") != "none" and manifest.get("complete"):
            problems.append(f"the run is complete but {IMPORTANCE_NAME} is missing")
    report.facts = {
        "partitions": summed["partitions"],
        "partitions_done": summed["partitions_done"],
        "rows_in": summed["rows_in"],
        "denied": summed["denied"],
        "rows_in_files": rows_in_files,
    }
    if rows_in_files != summed["rows_out"] and not problems:
        problems.append(f"the files hold {rows_in_files:,} rows; the manifest counts {summed['rows_out']:,}")
    return report


def _duplicates(parts: list) -> list:
    """Applicant ids that appear more than once (hashed to 64 bits, collisions confirmed on the
    ids themselves), at most 100 of them."""
    if not parts:
        return []
    import pandas as pd

    arrays = [np.asarray(p) if np.asarray(p).dtype.kind in "iufb" else np.asarray(p, dtype=object) for p in parts]
    hashes = np.concatenate([pd.util.hash_array(a) for a in arrays])
    order = np.argsort(hashes, kind="stable")
    ordered = hashes[order]
    repeated = np.flatnonzero(ordered[1:] == ordered[:-1])
    if not repeated.size:
        return []
    positions = np.unique(np.concatenate([order[repeated], order[repeated + 1]]))
    offsets = np.cumsum([0, *(len(a) for a in arrays)])
    values = [
        arrays[int(part)][int(p - offsets[part])]
        for p, part in zip(positions, np.searchsorted(offsets, positions, "right") - 1)
    ]
    counts = collections.Counter(v.item() if hasattr(v, "item") else v for v in values)
    return [value for value, count in counts.items() if count > 1][:100]
