"""The one build step that static metadata cannot say: the front-ends into package data.

Everything else about the package is in pyproject.toml. ``build_py`` copies the ES modules of
``js/`` and the dashboard notebook that ``nbexplain dashboard`` serves into ``nbexplain/static/``
before building, so an install from a clean clone, editable or not, ships them.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).parent


class BuildFrontEnds(build_py):
    """Copy the front-end modules (plain browser ES modules with no imports: building is copying;
    their tests stay in js/tests/) and the dashboard notebook into nbexplain/static/."""

    def run(self):
        target = HERE / "nbexplain" / "static"
        modules = [path for path in sorted((HERE / "js").glob("*.js")) if not path.name.endswith(".config.js")]
        sources = modules + [HERE / "notebooks" / "dashboard.ipynb"]
        for source in sources:
            if source.is_file():
                target.mkdir(exist_ok=True)
                built = target / source.name
                if not built.exists() or built.read_bytes() != source.read_bytes():
                    built.write_bytes(source.read_bytes())
        super().run()


setup(cmdclass={"build_py": BuildFrontEnds})
