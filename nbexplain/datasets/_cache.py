"""An on-disk cache of trained demo models, so that the second start is fast.

Folder: ``$NBEXPLAIN_CACHE`` if set, else ``$XDG_CACHE_HOME/nbexplain``, else
``~/.cache/nbexplain``. Each entry is a model file plus ``<name>.json``, a manifest with the
recipe the model was built from (data fingerprint, training parameters, versions) and the
SHA-256 of the model file. The model file is ``<name>.keras`` for a network
(:func:`cached_model`) and ``<name>.nbx`` for a tree ensemble or a stack
(:func:`cached_artifact`: a :class:`~nbexplain.model.artifact.ModelArtifact`, JSON trees and,
for a stack, its Keras head; no pickle). An entry whose recipe differs from the one asked for is stale; one whose
file does not match its checksum or does not load is corrupt. Both are rebuilt.

A valid entry is read from a read-only folder (a shared cache) without writing anything. When an
entry has to be built, the folder is checked for writing BEFORE training, so that minutes of
training are never thrown away; entries are written all-or-nothing (:mod:`nbexplain._files`).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._files import write_bytes, write_text
from .._tensorflow import keras_module
from ..errors import CacheError

CACHE_ENV = "NBEXPLAIN_CACHE"
_CHOOSE = (
    f"Choose a writable folder with the environment variable {CACHE_ENV} (for example "
    f"export {CACHE_ENV}=$HOME/nbexplain-cache, or os.environ[{CACHE_ENV!r}] = ... in Python before loading)."
)


class CacheRebuildWarning(UserWarning):
    """A cached demo model was corrupt and has been rebuilt."""


class CacheWriteWarning(UserWarning):
    """A result was computed but could not be stored in the cache (disk full, the folder removed
    meanwhile ...): it is returned all the same, and computed again next time."""


def store_failed(what: str, folder: Path, error: OSError) -> None:
    """Warn that ``what`` is used now but could not be cached (nothing computed is lost)."""
    warnings.warn(
        f"{what} could not be stored in the cache folder {folder} ({error.strerror or error}): it is used now but "
        f"will be computed again next time. Free some space, or choose another folder with {CACHE_ENV}.",
        CacheWriteWarning,
        stacklevel=3,
    )


def _configured() -> tuple[Path, str]:
    """The folder and where it comes from (for messages)."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser(), f"{CACHE_ENV}={os.environ[CACHE_ENV]}"
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "nbexplain", "the default cache folder"


def cache_dir() -> Path:
    """The cache folder (created on first use); a :class:`CacheError` when it names a file or
    cannot be created."""
    folder, source = _configured()
    if folder.exists() and not folder.is_dir():
        raise CacheError(
            f"The demo-model cache {folder} ({source}) is a file, not a folder. Point {CACHE_ENV} at a folder "
            "(it is created when missing) or remove the file."
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise CacheError(
            f"The demo-model cache folder {folder} ({source}) cannot be created ({error.strerror or error}). {_CHOOSE}"
        ) from None
    return folder


def require_writable(folder: Path, what: str, paths=()) -> None:
    """Refuse NOW, before ``what`` is computed, when its results could not be stored in ``folder``
    (not writable by this user, a read-only file system) or when one of ``paths`` is in the way."""
    if not os.access(folder, os.W_OK | os.X_OK):  # access(2) also reports a read-only file system
        _, source = _configured()
        raise CacheError(
            f"The demo-model cache folder {folder} ({source}) is not writable: {what} would be computed and then "
            f"lost. {_CHOOSE} Or run once where the cache is writable: a valid entry is then read from a "
            "read-only folder."
        )
    for path in paths:
        if path.exists() and not path.is_file():
            raise CacheError(f"{path} is in the way of the cache entry {path.name} (it is not a file); remove it.")


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def recipe_digest(recipe: dict) -> str:
    return hashlib.sha256(json.dumps(recipe, sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class _Kind:
    """How one kind of cache entry's model file is written and read."""

    suffix: str
    what: str
    to_bytes: Callable[[Any, str], bytes]
    load: Callable[[Path], Any]


def _load_keras(path: Path) -> Any:
    return keras_module().saving.load_model(path, compile=False)


def _model_bytes(model, name: str) -> bytes:
    """The ``.keras`` file of ``model`` (Keras insists on the suffix), made in a private scratch folder."""
    with tempfile.TemporaryDirectory(prefix="nbexplain-save-") as scratch:
        path = Path(scratch) / f"{name}.keras"
        model.save(path)
        return path.read_bytes()


def _artifact_bytes(artifact: Any, name: str) -> bytes:
    """The ``.nbx`` file of a model artifact, made in a private scratch folder."""
    with tempfile.TemporaryDirectory(prefix="nbexplain-save-") as scratch:
        path = Path(scratch) / f"{name}.nbx"
        artifact.save(path)
        return path.read_bytes()


def _load_artifact(path: Path) -> Any:
    from ..model.artifact import ModelArtifact

    return ModelArtifact.load(path)


# ``_model_bytes`` is looked up when called (the tests replace it to simulate a full disk).
_KERAS = _Kind(".keras", "demo model", lambda model, name: _model_bytes(model, name), _load_keras)
_ARTIFACT = _Kind(".nbx", "demo model", lambda artifact, name: _artifact_bytes(artifact, name), _load_artifact)


def _load_entry(model_path: Path, manifest_path: Path, recipe: dict, kind: _Kind = _KERAS):
    """``(model, record, None)`` for a valid entry, else ``(None, None, reason)``."""
    if not model_path.is_file() or not manifest_path.is_file():
        return None, None, "not built yet"
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        expected_sha = manifest["sha256"]
        built_for = manifest["recipe_digest"]
        record = dict(manifest.get("record", {}))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None, None, "corrupt: the manifest is unreadable"
    if built_for != recipe_digest(recipe):
        stored = manifest.get("recipe", {}) if isinstance(manifest.get("recipe"), dict) else {}
        changed = sorted(k for k in set(recipe) | set(stored) if recipe.get(k) != stored.get(k))
        return None, None, f"stale: built for a different recipe ({', '.join(changed) or 'digest'} changed)"
    try:
        matches = file_digest(model_path) == expected_sha
    except OSError:
        return None, None, "corrupt: the model file cannot be read"
    if not matches:
        return None, None, "corrupt: the model file does not match its checksum"
    try:
        model = kind.load(model_path)
    except Exception as error:  # any failure to deserialise means the entry cannot be used
        return None, None, f"corrupt: the model file does not load ({type(error).__name__})"
    return model, record, None


def cached_model(name: str, recipe: dict, build, rebuild: bool = False):
    """Load model ``name`` built from ``recipe``, or build it with ``build()`` and store it.

    ``build`` returns ``(model, record)``; ``record`` (JSON-able: epochs, errors, seconds ...)
    is stored beside the model and returned with it, plus a ``"cache"`` entry saying whether the
    model was loaded or built, and why it was built. When the entry must be built, a folder that
    cannot take it is refused before ``build`` runs (:class:`~nbexplain.errors.CacheError`).
    """
    return _cached(name, recipe, build, rebuild, _KERAS)


def cached_artifact(name: str, recipe: dict, build, rebuild: bool = False):
    """:func:`cached_model` for a :class:`~nbexplain.model.artifact.ModelArtifact` (a tree
    ensemble or a stack): ``build`` returns ``(artifact, record)``; the entry is ``<name>.nbx``
    (written all-or-nothing, its members checked when it is read back) and ``<name>.json``."""
    return _cached(name, recipe, build, rebuild, _ARTIFACT)


def _cached(name: str, recipe: dict, build, rebuild: bool, kind: _Kind):
    folder = cache_dir()
    model_path, manifest_path = folder / f"{name}{kind.suffix}", folder / f"{name}.json"
    model, record, reason = (
        (None, None, "rebuild requested") if rebuild else _load_entry(model_path, manifest_path, recipe, kind)
    )
    if model is not None:
        return model, {**record, "cache": {"path": str(model_path), "status": "loaded"}}
    require_writable(folder, f"the {kind.what} {name!r} ({reason})", (model_path, manifest_path))
    if reason.startswith("corrupt"):
        warnings.warn(
            f"The cached {kind.what} {model_path} is {reason}; rebuilding it.", CacheRebuildWarning, stacklevel=4
        )
    model, record = build()
    try:
        data = kind.to_bytes(model, name)
        manifest = {
            "name": name,
            "recipe": recipe,
            "recipe_digest": recipe_digest(recipe),
            "sha256": hashlib.sha256(data).hexdigest(),
            "record": record,
        }
        text = json.dumps(manifest, indent=2, default=str)
        # The model first, then its manifest: an interruption between them leaves a new model beside
        # the old manifest, which the checksum reports as corrupt (rebuilt), never a wrong model.
        write_bytes(model_path, data)
        write_text(manifest_path, text)
    except OSError as error:  # the trained model is not thrown away for want of disk space
        store_failed(f"The trained {kind.what} {name!r}", folder, error)
        return model, {**record, "cache": {"path": None, "status": "built, not stored", "reason": reason}}
    return model, {**record, "cache": {"path": str(model_path), "status": "built", "reason": reason}}


def cached_entry_digest(name: str) -> str | None:
    """The recorded SHA-256 of cache entry ``name``'s model file (read from its manifest, no
    TensorFlow), or None when there is no readable entry: what derived files (a model artifact,
    an explanation bundle) record to know they are still current."""
    manifest = cache_dir() / f"{name}.json"
    try:
        return str(json.loads(manifest.read_text())["sha256"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
