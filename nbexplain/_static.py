"""Files built into the package at install time (``nbexplain/static``): front-ends and the dashboard notebook."""

from __future__ import annotations

from importlib import resources

from .errors import MissingDependencyError


def static_file(name: str):
    """Path of a built file inside the installed package; a clear error when the build step did not run."""
    path = resources.files("nbexplain") / "static" / name
    if not path.is_file():
        raise MissingDependencyError(
            f"The built file nbexplain/static/{name} is missing: the package was installed without its "
            "build step. Reinstall it: pip install -e . (from a clone) or pip install nbexplain."
        )
    return path


def front_end_base(purpose: str):
    """``anywidget.AnyWidget``, the base of nbexplain's custom front-ends (imported on first use);
    a clear error naming ``purpose`` when anywidget is not installed."""
    try:
        import anywidget
    except ImportError as error:
        raise MissingDependencyError(
            f"{purpose} needs 'anywidget'. Install it with: pip install 'anywidget>=0.9'"
        ) from error
    return anywidget.AnyWidget
