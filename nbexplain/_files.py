"""All-or-nothing files: every file nbexplain writes goes through here.

A file is written under a temporary name beside its final name and renamed over it only when it
is complete (``os.replace`` is atomic on one file system), so a failure, a bad row or a signal
leaves the previous file (if any) intact and nothing partial under the final name. A file that
the same run reads is never opened for writing: :func:`refuse_inputs` compares real paths
(symbolic links resolved) and device/inode numbers.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path

from .errors import NBExplainError

#: Suffix of the temporary files; a crashed run's leftovers are recognisable by it.
PARTIAL_SUFFIX = ".partial"


def same_file(first: str | os.PathLike, second: str | os.PathLike) -> bool:
    """True when two paths name one file (links resolved; an absent file is nobody's twin)."""
    a, b = Path(first), Path(second)
    if a.exists() and b.exists():
        return os.path.samefile(a, b)
    return a.resolve() == b.resolve()


def refuse_inputs(out: str | os.PathLike, inputs: Iterable[str | os.PathLike | None]) -> None:
    """Raise when ``out`` is one of ``inputs``: writing it would destroy what is being read."""
    for source in inputs:
        if source is not None and same_file(out, source):
            raise NBExplainError(
                f"The output {out} is the input file {source}: writing it would destroy the data being read. "
                "Choose another output path."
            )


def writable_folder(path: str | os.PathLike, is_folder: bool = False) -> Path:
    """The folder ``path`` will be written into, checked before any work starts (``is_folder``:
    the output is itself a folder, replaced as a whole)."""
    target = Path(path)
    if target.is_dir() and not is_folder:
        raise NBExplainError(f"The output {target} is a folder; give a file name inside it.")
    if target.exists() and is_folder and not target.is_dir():
        raise NBExplainError(f"The output {target} is a file; give the name of a folder to write.")
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise NBExplainError(f"The output folder {folder} does not exist; create it first or choose another path.")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise NBExplainError(f"The output folder {folder} is not writable by this user; choose another path.")
    return folder


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, *, inputs: Iterable[str | os.PathLike | None] = ()) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it to ``path`` when the block succeeds.

    On any exception (``KeyboardInterrupt`` and ``SystemExit`` included) the temporary file is
    removed and ``path`` is left as it was.
    """
    target = Path(path)
    refuse_inputs(target, inputs)
    folder = writable_folder(target)
    temporary = folder / f".{target.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}{PARTIAL_SUFFIX}"
    os.close(os.open(temporary, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))  # the umask applies, as for open()
    try:
        yield temporary
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` all-or-nothing."""
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding="utf-8")


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` all-or-nothing."""
    with atomic_path(path) as temporary:
        temporary.write_bytes(data)


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
