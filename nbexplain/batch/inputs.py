"""Partitioned input: a folder, a glob or a list of Parquet / CSV files, local or at any fsspec URL.

Each file is one partition. :func:`list_partitions` finds them (a folder is searched through its
sub-folders, Hive style ``year=2024/part-0.parquet`` included; names starting with ``.`` or
``_`` are skipped, as Spark and Dask write ``_SUCCESS`` and ``_metadata`` beside their data; in a
folder only table files are taken: ``.parquet``, ``.pq``, ``.csv``, ``.tsv``, ``.txt``, compressed
or not) and says how each is known again on a later run: its size and modification time (or the
store's ETag). A worker reads a partition with :func:`local_copy`: a local path as it is, a remote
one copied to a local temporary file first (the table reader finds the format from the bytes and
names bad rows by their line), its SHA-256 taken on the way.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import posixpath
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import DataFileError, NBExplainError, require

TABLE_SUFFIXES = (".parquet", ".pq", ".parq", ".csv", ".tsv", ".txt")
COMPRESSED = ("", ".gz", ".bz2", ".xz", ".zip")
_GLOB = "*?["
#: Keys of an fsspec ``info()`` that change when a file is rewritten, in order of preference.
_VERSION_KEYS = ("mtime", "LastModified", "last_modified", "updated", "modified", "ETag", "etag", "md5Hash", "created")


@dataclass(frozen=True)
class Partition:
    """One input file: where it is (``url``: a local path or an fsspec URL), the name it is shown
    by (relative to the folder or glob), and its size and version as the store reports them."""

    url: str
    name: str
    size: int
    version: str

    def to_dict(self) -> dict:
        return {"input": self.url, "name": self.name, "input_size": self.size, "input_version": self.version}


def _fsspec() -> Any:
    return require("fsspec", "dask", "Reading partitioned input (folders, globs, URLs)")


def is_local(url: str) -> bool:
    """True for a path on this machine (no protocol, or ``file://``)."""
    return "://" not in str(url) or str(url).startswith(("file://", "local://"))


def local_path(url: str) -> Path:
    text = str(url)
    for prefix in ("file://", "local://"):
        if text.startswith(prefix):
            return Path(text[len(prefix) :])
    return Path(text)


def is_partitioned(spec: Any) -> bool:
    """Whether ``spec`` names partitioned input rather than one local file: a folder, a glob, a
    URL or a list."""
    if isinstance(spec, list | tuple):
        return True
    text = str(spec)
    if not is_local(text) and not text.startswith("file://"):
        return True
    path = local_path(text)
    return path.is_dir() or (any(c in text for c in _GLOB) and not path.exists())


def _version(info: dict) -> str:
    for key in _VERSION_KEYS:
        value = info.get(key)
        if value is not None:
            return f"{key}={value.isoformat() if hasattr(value, 'isoformat') else value}"
    return "unknown"


def _hidden(relative: str) -> bool:
    return any(part.startswith((".", "_")) for part in relative.split("/") if part)


def _table_name(name: str) -> bool:
    lower = name.lower()
    return any(lower.endswith(suffix + extra) for suffix in TABLE_SUFFIXES for extra in COMPRESSED)


def _static_prefix(pattern: str) -> str:
    """The folder part of a glob before its first wildcard."""
    cut = min((pattern.index(c) for c in _GLOB if c in pattern), default=len(pattern))
    return posixpath.dirname(pattern[:cut])


def list_partitions(spec: Any) -> list[Partition]:
    """The partitions of ``spec`` (a folder, a glob, one file, an fsspec URL of any of them, or a
    list of those), sorted by name; an empty match is an error naming what was looked for."""
    if isinstance(spec, list | tuple):
        found: dict[str, Partition] = {}
        for item in spec:
            for partition in list_partitions(item):
                found.setdefault(partition.url, partition)
        if not found:
            raise DataFileError("The list of input partitions is empty.")
        return sorted(found.values(), key=lambda p: (p.name, p.url))
    fsspec = _fsspec()
    text = str(spec)
    fs, path = fsspec.core.url_to_fs(text)
    local = is_local(text)
    path = str(Path(path).resolve()) if local and not any(c in path for c in _GLOB) else path
    if any(c in path for c in _GLOB):
        root = _static_prefix(path)
        entries = {p: info for p, info in fs.glob(path, detail=True).items() if info.get("type") == "file"}
        entries = {p: i for p, i in entries.items() if not _hidden(posixpath.relpath(p, root) if root else p)}
    elif fs.isdir(path):
        root = path
        entries = {
            p: info
            for p, info in fs.find(path, detail=True).items()
            if info.get("type", "file") == "file"
            and not _hidden(posixpath.relpath(p, root))
            and _table_name(posixpath.basename(p))
        }
    elif fs.isfile(path):
        root = posixpath.dirname(path)
        entries = {path: fs.info(path)}
    else:
        raise DataFileError(f"{text} does not exist: give a CSV or Parquet file, a folder of them, or a glob.")
    if not entries:
        what = "matches no file" if any(c in path for c in _GLOB) else "holds no CSV or Parquet file"
        raise DataFileError(f"{text} {what}; give a folder of CSV or Parquet files, or a glob like data/*.parquet.")
    partitions = []
    for name, info in entries.items():
        url = name if local else fs.unstrip_protocol(name)
        relative = posixpath.relpath(name, root) if root else name
        partitions.append(Partition(url, relative, int(info.get("size") or 0), _version(info)))
    return sorted(partitions, key=lambda p: (p.name, p.url))


def partition_state(url: str) -> tuple[int, str]:
    """The size and version a store reports now for one input file."""
    fsspec = _fsspec()
    fs, path = fsspec.core.url_to_fs(str(url))
    info = fs.info(path)
    return int(info.get("size") or 0), _version(info)


@contextlib.contextmanager
def local_copy(url: str) -> Iterator[tuple[Path, str]]:
    """``(local path, sha256)`` of one input file: a local file as it is, a remote one copied to
    a temporary file (removed afterwards)."""
    if is_local(url):
        path = local_path(url)
        if not path.is_file():
            raise DataFileError(f"{url} does not exist (on the worker {os.uname().nodename}).")
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        yield path, digest.hexdigest()
        return
    fsspec = _fsspec()
    suffix = "".join(Path(url.rsplit("/", 1)[-1]).suffixes)[-20:]
    descriptor, name = tempfile.mkstemp(prefix="nbexplain-input-", suffix=suffix)
    os.close(descriptor)
    temporary = Path(name)
    try:
        digest = hashlib.sha256()
        try:
            with fsspec.open(url, "rb") as source, open(temporary, "wb") as target:
                while block := source.read(1 << 20):
                    digest.update(block)
                    target.write(block)
        except (OSError, ValueError) as error:
            raise DataFileError(f"{url} could not be read ({type(error).__name__}: {error}).") from None
        yield temporary, digest.hexdigest()
    finally:
        temporary.unlink(missing_ok=True)


def _local_roots(spec: Any) -> list[Path]:
    """The local folders a spec reads from (a folder, a glob's folder, a file's folder)."""
    if isinstance(spec, list | tuple):
        return [root for item in spec for root in _local_roots(item)]
    text = str(spec)
    if not is_local(text):
        return []
    path = local_path(text)
    if any(c in text for c in _GLOB):
        return [Path(_static_prefix(str(path)) or ".").resolve()]
    return [path.resolve()] if path.is_dir() else []


def check_not_inside(out: Path, partitions: Sequence[Partition], spec: Any = None) -> None:
    """The output folder must neither hold an input nor lie inside the input's folder (a later
    listing would read the reasons as applications)."""
    out = out.resolve()
    for root in _local_roots(spec) if spec is not None else []:
        if out == root or root in out.parents:
            raise NBExplainError(
                f"The output folder {out} is inside the input folder {root}: the reasons would be read as applications "
                "by a later run. Choose an output folder outside it."
            )
    for partition in partitions:
        if is_local(partition.url):
            path = local_path(partition.url).resolve()
            if path == out or out in path.parents:
                raise NBExplainError(
                    f"The output folder {out} holds the input {path}: writing there would mix the reasons with the "
                    "applications being read. Choose another output folder."
                )
