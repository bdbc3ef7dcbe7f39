"""An on-disk cache of trained demo models, so that the second start is fast.

Folder: ``$NBEXPLAIN_CACHE`` if set, else ``$XDG_CACHE_HOME/nbexplain``, else
``~/.cache/nbexplain``. Each entry is ``<name>.keras`` plus ``<name>.json``, a manifest with the
recipe the model was built from (data fingerprint, training parameters, versions) and the
SHA-256 of the model file. An entry whose recipe differs from the one asked for is stale; one whose
file does not match its checksum or does not load is corrupt. Both are rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from pathlib import Path

from .._tensorflow import keras_module

CACHE_ENV = "NBEXPLAIN_CACHE"


class CacheRebuildWarning(UserWarning):
    """A cached demo model was corrupt and has been rebuilt."""


def cache_dir() -> Path:
    """The cache folder (created on first use)."""
    if os.environ.get(CACHE_ENV):
        folder = Path(os.environ[CACHE_ENV]).expanduser()
    else:
        base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        folder = Path(base) / "nbexplain"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def recipe_digest(recipe: dict) -> str:
    return hashlib.sha256(json.dumps(recipe, sort_keys=True, default=str).encode()).hexdigest()


def _load_entry(model_path: Path, manifest_path: Path, recipe: dict):
    """``(model, record, None)`` for a valid entry, else ``(None, None, reason)``."""
    keras = keras_module()

    if not model_path.exists() or not manifest_path.exists():
        return None, None, "not built yet"
    try:
        manifest = json.loads(manifest_path.read_text())
        expected_sha = manifest["sha256"]
        built_for = manifest["recipe_digest"]
    except (ValueError, KeyError, TypeError):
        return None, None, "corrupt: the manifest is unreadable"
    if built_for != recipe_digest(recipe):
        changed = sorted(
            k
            for k in set(recipe) | set(manifest.get("recipe", {}))
            if recipe.get(k) != manifest.get("recipe", {}).get(k)
        )
        return None, None, f"stale: built for a different recipe ({', '.join(changed) or 'digest'} changed)"
    if file_digest(model_path) != expected_sha:
        return None, None, "corrupt: the model file does not match its checksum"
    try:
        model = keras.saving.load_model(model_path, compile=False)
    except Exception as error:  # any failure to deserialise means the entry cannot be used
        return None, None, f"corrupt: the model file does not load ({type(error).__name__})"
    return model, manifest.get("record", {}), None


def cached_model(name: str, recipe: dict, build, rebuild: bool = False):
    """Load model ``name`` built from ``recipe``, or build it with ``build()`` and store it.

    ``build`` returns ``(model, record)``; ``record`` (JSON-able: epochs, errors, seconds ...)
    is stored beside the model and returned with it, plus a ``"cache"`` entry saying whether the
    model was loaded or built, and why it was built.
    """
    folder = cache_dir()
    model_path, manifest_path = folder / f"{name}.keras", folder / f"{name}.json"
    model, record, reason = (
        (None, None, "rebuild requested") if rebuild else _load_entry(model_path, manifest_path, recipe)
    )
    if model is not None:
        return model, {**record, "cache": {"path": str(model_path), "status": "loaded"}}
    if reason.startswith("corrupt"):
        warnings.warn(
            f"The cached demo model {model_path} is {reason}; rebuilding it.", CacheRebuildWarning, stacklevel=3
        )
    model, record = build()
    partial = folder / f".{name}.{os.getpid()}.keras"
    model.save(partial)
    manifest = {
        "name": name,
        "recipe": recipe,
        "recipe_digest": recipe_digest(recipe),
        "sha256": file_digest(partial),
        "record": record,
    }
    partial_manifest = folder / f".{name}.{os.getpid()}.json"
    partial_manifest.write_text(json.dumps(manifest, indent=2, default=str))
    os.replace(partial, model_path)
    os.replace(partial_manifest, manifest_path)
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
