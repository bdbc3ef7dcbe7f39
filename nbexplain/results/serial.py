"""Immutable arrays and the JSON round trip shared by every result (no pickle, no TensorFlow)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from .._files import write_text
from ..errors import NBExplainError


def frozen_array(array: Any, dtype: Any = None) -> np.ndarray:
    """A read-only array: one that already is (and of the asked dtype) is kept as it is, anything
    else is copied so that later writes to the source cannot leak in."""
    if isinstance(array, np.ndarray) and not array.flags.writeable and (dtype is None or array.dtype == dtype):
        return array
    out = np.array(array, dtype=dtype, copy=True)
    out.flags.writeable = False
    return out


def freeze_mapping(mapping: Mapping | None) -> Mapping:
    """A read-only view of a copy of ``mapping``."""
    return MappingProxyType(dict(mapping or {}))


def freeze_arrays(block: Mapping, dtype: Any = None) -> Mapping:
    """``{name: array}`` with every array read-only."""
    return freeze_mapping({name: frozen_array(values, dtype=dtype) for name, values in block.items()})


def to_jsonable(value: Any) -> Any:
    """Numpy scalars, arrays, tuples and mappings as plain JSON types (NaN and inf -> None)."""
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, np.generic):
        return to_jsonable(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def array_from_json(values: Any, dtype: Any) -> np.ndarray:
    """Inverse of :func:`to_jsonable` for numeric arrays (None -> NaN)."""
    array = np.array(values, dtype=object)
    if array.dtype == object:
        array = np.where(array == None, np.nan, array)  # noqa: E711 - element-wise None test
    return frozen_array(array.astype(dtype))


def save_text(text: str, path: str | Path | None = None) -> str:
    """Write ``text`` to ``path`` (all-or-nothing) when given; return it either way."""
    if path is not None:
        write_text(path, text)
    return text


def dump_json(payload: Any, path: str | Path | None = None, **kwargs: Any) -> str:
    """``json.dumps(payload)``, written to ``path`` when given."""
    return save_text(json.dumps(to_jsonable(payload), allow_nan=False, **kwargs), path)


def load_json(text_or_path: str | Path) -> Any:
    """Parse a JSON string, or the file at a path; a missing or malformed file is an
    :class:`NBExplainError` naming it."""
    text = str(text_or_path)
    source = "the JSON text"
    if not text.lstrip().startswith(("{", "[")):
        source = text
        try:
            text = Path(text).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise NBExplainError(f"{source} does not exist.") from None
        except (OSError, UnicodeDecodeError) as error:
            raise NBExplainError(f"{source} cannot be read as JSON text: {error}.") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise NBExplainError(
            f"{source} is not valid JSON ({error.msg} at line {error.lineno}, column {error.colno}); "
            "it may be truncated. Write it again from its source."
        ) from None


def load_typed(text_or_path: str | Path, kind: str) -> dict:
    """Read a payload written by ``to_json`` of a result of type ``kind``; refuse any other."""
    payload = load_json(text_or_path)
    if not isinstance(payload, dict) or payload.get("type") != kind:
        found = payload.get("type") if isinstance(payload, dict) else type(payload).__name__
        raise NBExplainError(f"Not a serialised {kind} (type={found!r}).")
    return payload
