"""nbexplain: sensitivity explanations of neural-network credit models, for Jupyter and Voila."""
from importlib import metadata
from pathlib import Path

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py


class build_front_ends(build_py):
    """Build the front-ends into package data (nbexplain/static/): the ES modules of js/ and the
    dashboard notebook that `nbexplain dashboard` serves with Voila.

    The modules are plain browser ES modules with no imports, so building is copying them (their
    tests stay in js/tests/); an install from a clean clone, editable or not, runs this first.
    """

    def run(self):
        target = here / "nbexplain" / "static"
        sources = sorted((here / "js").glob("*.js")) + [here / "notebooks" / "dashboard.ipynb"]
        for source in sources:
            if source.is_file():
                target.mkdir(exist_ok=True)
                built = target / source.name
                if not built.exists() or built.read_bytes() != source.read_bytes():
                    built.write_bytes(source.read_bytes())
        super().run()



def tensorflow_requirement():
    """Keep a TensorFlow build the user already has (GPU or CPU); otherwise take the CPU build."""
    for dist in ("tensorflow", "tensorflow-cpu"):
        try:
            metadata.version(dist)
            return f"{dist}>=2.16"
        except metadata.PackageNotFoundError:
            continue
    return "tensorflow-cpu>=2.16"


here = Path(__file__).parent
version = {}
exec((here / "nbexplain" / "_version.py").read_text(), version)

setup(
    name="nbexplain",
    version=version["__version__"],
    description="Sensitivity-based explanations of neural-network credit models, in Jupyter and Voila",
    long_description=(here / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    packages=find_packages(include=["nbexplain", "nbexplain.*"]),
    package_data={"nbexplain": ["static/*.js", "static/*.ipynb"]},
    cmdclass={"build_py": build_front_ends},
    python_requires=">=3.11",
    install_requires=[
        tensorflow_requirement(),
        "keras>=3.0",
        "numpy>=2.0",
        "pandas>=2.0",
        "scipy>=1.11",
        "ipywidgets>=8.0",
        "bqplot>=0.12.40",
        "anywidget>=0.9",
        "voila>=0.5",
        "tqdm>=4.66",
        "scikit-learn>=1.8",
        "matplotlib>=3.8",
        "python-calamine>=0.2",
    ],
    extras_require={
        "test": ["pytest>=8.0", "nbclient>=0.10", "nbformat>=5.9", "ipykernel>=6.29", "xlwt>=1.3",
                 "openpyxl>=3.1", "lime>=0.2.0.1",
                 "playwright>=1.40", "jupyterlab>=4.0", "pyarrow>=14"],
        "comparisons": ["lime>=0.2.0.1", "shap>=0.45"],
        "parquet": ["pyarrow>=14"],
        "gpu": ["tensorflow[and-cuda]>=2.16"],
    },
    entry_points={"console_scripts": ["nbexplain=nbexplain.cli:main"]},
    classifiers=["Programming Language :: Python :: 3", "Framework :: Jupyter"],
)
