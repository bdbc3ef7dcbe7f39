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
