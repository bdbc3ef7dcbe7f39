"""Exceptions raised for bad input: each says what was wrong and what to do about it."""

import difflib
import importlib
import math
import numbers


class NBExplainError(ValueError):
    """Base class of every error nbexplain raises for bad input."""


class InputDataError(NBExplainError):
    """The data handed to an explainer cannot be explained as given (shape, values, names)."""


class OutputSelectionError(NBExplainError):
    """The model output to explain is ambiguous or does not exist."""


class NonFiniteScoreError(NBExplainError):
    """The model returned NaN or inf for some rows: no decision or explanation can rest on them."""


class NotDifferentiableError(NBExplainError):
    """The selected output does not depend differentiably on an input."""


class UnknownNameError(NBExplainError, KeyError):
    """A feature, group, input or dimension name that does not exist was asked for."""

    def __str__(self):  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else ""


def row_list(positions, labels=None, limit: int = 10) -> str:
    """``"3, 7, 12 ..."``: the first rows of a problem, by label when the rows have labels."""
    positions = [int(p) for p in positions]
    shown = [repr(labels[p]) if labels is not None else str(p) for p in positions[:limit]]
    return ", ".join(shown) + (f" ... ({len(positions)} in all)" if len(positions) > limit else "")


def unknown_name(kind, name, known):
    """Build an :class:`UnknownNameError` that lists the close matches and the valid names."""
    known = [str(k) for k in known]
    close = difflib.get_close_matches(str(name), known, n=3)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    shown = ", ".join(repr(k) for k in known[:30]) + (" ..." if len(known) > 30 else "")
    return UnknownNameError(f"Unknown {kind} {name!r}.{hint} Known {kind}s: {shown}.")


class DataFileError(NBExplainError):
    """A data file cannot be read as the format it claims to be (missing column, bad value, empty)."""


class ResultWarning(UserWarning):
    """A result is computed but has a weakness its meta records: saturated units (a zero
    gradient everywhere), a completeness error above the tolerance."""


class MissingDependencyError(NBExplainError, ImportError):
    """An optional dependency needed for this feature is not installed."""


def require(module: str, extra: str, purpose: str):
    """Import ``module`` or raise :class:`MissingDependencyError` with the pip command to fix it."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise MissingDependencyError(
            f"{purpose} needs the package {module!r}, which is not installed. "
            f"Install it with: pip install 'nbexplain[{extra}]'"
        ) from error


class ArgumentError(NBExplainError):
    """An argument of a public function is outside the values it accepts (the message names the
    argument, what it accepts and what it got)."""


class CacheError(NBExplainError):
    """The cache folder of the demo models cannot be used (not a folder, cannot be created, not
    writable); the message says how to choose another (``NBEXPLAIN_CACHE``)."""


def _accepted(kind: str, minimum=None, maximum=None, meaning: str | None = None) -> str:
    bounds = " and ".join(
        part
        for part in (f">= {minimum}" if minimum is not None else "", f"<= {maximum}" if maximum is not None else "")
        if part
    )
    return f"{kind}{' ' + bounds if bounds else ''}{f' ({meaning})' if meaning else ''}"


def whole_number(name: str, value, *, minimum=None, maximum=None, meaning: str | None = None) -> int:
    """``value`` as an int when it is a whole number (not a bool, not a float) within the bounds,
    else an :class:`ArgumentError` naming ``name`` and the accepted values."""
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Integral)
        or (minimum is not None and value < minimum)
        or (maximum is not None and value > maximum)
    ):
        raise ArgumentError(f"{name} must be {_accepted('a whole number', minimum, maximum, meaning)}; got {value!r}.")
    return int(value)


def real_number(name: str, value, *, minimum=None, maximum=None, meaning: str | None = None) -> float:
    """``value`` as a float when it is a finite real number (not a bool) within the bounds, else
    an :class:`ArgumentError` naming ``name`` and the accepted values."""
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(value)
        or (minimum is not None and value < minimum)
        or (maximum is not None and value > maximum)
    ):
        raise ArgumentError(f"{name} must be {_accepted('a finite number', minimum, maximum, meaning)}; got {value!r}.")
    return float(value)


def true_or_false(name: str, value) -> bool:
    """``value`` when it is a bool (numpy's included), else an :class:`ArgumentError`."""
    if type(value).__name__ not in ("bool", "bool_"):
        raise ArgumentError(f"{name} must be True or False; got {value!r}.")
    return bool(value)
