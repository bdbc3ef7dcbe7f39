"""Exceptions raised for bad input: each says what was wrong and what to do about it."""

import difflib
import importlib


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
