"""A trained model and everything needed to use it as saved: one file.

A Keras file holds the network but not the step before it: a model trained on standardised
inputs and given raw values computes confident nonsense, and nothing in the ``.keras`` file says
so. A :class:`ModelArtifact` keeps together, in one zip file (``.nbx``):

* ``model.keras``: the network, as Keras saves it;
* ``nbexplain-model.json``: the raw columns the model reads and where each one lands in its
  inputs (a column name for every input element: a sequence input is a grid of columns), the
  per-feature standardisation ``z = (x - mean) / scale`` of each input, the explained unit and
  class labels, what the score is, the training data's fingerprint and row count, the SHA-256
  of ``model.keras``, and the versions.

Why not Keras preprocessing layers inside the network: the paper's sensitivities are taken in the
standardised space (a gradient per unit of a standardised input is comparable across features;
per unit of a raw credit limit it is not), so the explainers need the network on standardised
inputs and the standardisation beside it; and feature names, the target unit, the class labels and
the training fingerprint have no place in a Keras file. Integrated Gradients does not depend on a
per-feature affine step (``(x - b) * df/dx`` is the same in both spaces), which the tests check.

The file is written all-or-nothing and read without pickle; a damaged file is an error saying so.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._files import atomic_path, file_sha256
from .._tensorflow import keras_module
from .._version import __version__
from ..errors import InputDataError, NBExplainError, row_list
from ..results.serial import freeze_mapping, frozen_array, to_jsonable
from . import _keras

FORMAT = "nbexplain-model"
FORMAT_VERSION = 1
MANIFEST = "nbexplain-model.json"
NETWORK = "model.keras"


@dataclass(frozen=True)
class InputRecipe:
    """How raw rows become one model input: ``columns`` holds a column name for every element of
    one sample (shape ``(p,)`` or ``(tau, p)``), then ``(x - mean) / scale`` per feature (last
    axis). ``feature_names`` names the last axis (the columns themselves for a tabular input; for
    a sequence, what each channel is, e.g. "repayment status")."""

    name: str
    columns: tuple
    mean: np.ndarray
    scale: np.ndarray
    feature_names: tuple | None = None

    def __post_init__(self) -> None:
        grid = np.asarray(self.columns, dtype=object)
        object.__setattr__(self, "columns", _nested(grid))
        names = tuple(map(str, grid)) if grid.ndim == 1 else self.feature_names
        if names is None:
            raise NBExplainError(f"Input {self.name!r} is a grid of columns: name its last axis with feature_names.")
        if len(names) != grid.shape[-1]:
            raise NBExplainError(f"Input {self.name!r}: {len(names)} feature names for {grid.shape[-1]} features.")
        object.__setattr__(self, "feature_names", tuple(map(str, names)))
        mean, scale = frozen_array(self.mean, dtype=float), frozen_array(self.scale, dtype=float)
        if mean.shape != (grid.shape[-1],) or scale.shape != mean.shape:
            raise NBExplainError(f"Input {self.name!r}: mean and scale need one value per feature ({grid.shape[-1]}).")
        if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(scale)) and np.all(scale > 0)):
            raise NBExplainError(f"Input {self.name!r}: the standardisation needs finite means and positive scales.")
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "scale", scale)

    @property
    def grid(self) -> np.ndarray:
        return np.asarray(self.columns, dtype=object)

    def transform(self, frame: Any) -> np.ndarray:
        """Raw rows (a DataFrame holding every column of the grid) -> ``(n, *shape)`` float32."""
        grid = self.grid
        values = frame[list(grid.reshape(-1))].to_numpy(dtype=np.float64).reshape(len(frame), *grid.shape)
        return ((values - self.mean) / self.scale).astype(np.float32)

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "columns": list(self.columns),
            "mean": self.mean,
            "scale": self.scale,
            "feature_names": list(self.feature_names or ()),
        }


def _nested(grid: np.ndarray) -> tuple:
    return tuple(_nested(row) if row.ndim else str(row) for row in grid) if grid.ndim > 1 else tuple(map(str, grid))


@dataclass(frozen=True, eq=False)
class ModelArtifact:
    """A Keras model with its preprocessing, feature names, explained unit and training record."""

    model: Any
    inputs: tuple
    target: int | str | None = None
    labels: tuple | None = None
    outcome: str = "score"
    training: Mapping = field(default_factory=dict)
    path: Path | None = None
    sha256: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "inputs", tuple(self.inputs))
        object.__setattr__(self, "training", freeze_mapping(self.training))
        if self.labels is not None:
            object.__setattr__(self, "labels", tuple(self.labels))
        names = [recipe.name for recipe in self.inputs]
        if len(set(names)) != len(names) or not names:
            raise NBExplainError(f"A model artifact needs uniquely named inputs; got {names}.")

    # -------------------------------------------------------------- reading rows
    @property
    def features(self) -> tuple:
        """The raw columns the model reads, each once, in input order."""
        return columns_read(self.inputs)

    def elements(self) -> dict:
        """``{raw column: (input, index)}``: where each column lands in the model's inputs."""
        found: dict = {}
        for recipe in self.inputs:
            for index in np.ndindex(*recipe.grid.shape):
                found.setdefault(str(recipe.grid[index]), (recipe.name, tuple(int(i) for i in index)))
        return found

    def input_feature_names(self) -> dict:
        """The name of each input's last axis (see :class:`InputRecipe`)."""
        return {recipe.name: recipe.feature_names for recipe in self.inputs}

    def to_inputs(self, frame: Any) -> Any:
        """Raw rows -> the model's inputs (see :func:`inputs_from_rows`)."""
        return inputs_from_rows(self.inputs, frame)

    def explainer_options(self) -> dict:
        """The options every explainer of this model takes: the unit, its labels, the feature names."""
        names = self.input_feature_names()
        options: dict = {"feature_names": names if len(names) > 1 else next(iter(names.values()))}
        if self.target is not None:
            options["target"] = self.target
        if self.labels is not None:
            options["labels"] = self.labels
        return options

    def fingerprint(self) -> str:
        """The model's fingerprint (architecture and weights), as every result records it."""
        return _keras.fingerprint(self.model)

    # -------------------------------------------------------------- the file
    def manifest(self, network_sha256: str) -> dict:
        keras = keras_module()
        return to_jsonable(
            {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "inputs": [r.to_dict() for r in self.inputs],
                "features": list(self.features),
                "target": self.target,
                "labels": self.labels,
                "outcome": self.outcome,
                "training": dict(self.training),
                "model_sha256": network_sha256,
                "model_fingerprint": self.fingerprint(),
                "keras": keras.__version__,
                "nbexplain": __version__,
                "saved": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            }
        )

    def save(self, path: str | Path) -> Path:
        """Write the artifact (a zip of ``model.keras`` and the manifest) all-or-nothing."""
        path = Path(path)
        with atomic_path(path) as temporary:
            network = temporary.with_name(temporary.name + ".keras")
            try:
                self.model.save(network)
                data = network.read_bytes()
            finally:
                network.unlink(missing_ok=True)
            manifest = self.manifest(hashlib.sha256(data).hexdigest())
            with zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_STORED) as archive:
                archive.writestr(NETWORK, data)
                archive.writestr(MANIFEST, json.dumps(manifest, indent=2))
        return path

    @classmethod
    def load(cls, path: str | Path, unsafe: bool = False) -> ModelArtifact:
        """Read an artifact written by :meth:`save`; the model file's checksum is verified."""
        path = Path(path)
        if not path.is_file():
            raise NBExplainError(f"The model file {path} does not exist.")
        if not is_artifact(path):
            raise NBExplainError(f"{path} is not an nbexplain model artifact (a zip holding {NETWORK} and {MANIFEST}).")
        with zipfile.ZipFile(path) as archive:
            try:
                manifest = json.loads(archive.read(MANIFEST))
                data = archive.read(NETWORK)
            except (KeyError, ValueError, zipfile.BadZipFile) as error:
                raise NBExplainError(f"{path} is damaged ({error}); save the model again.") from None
        if manifest.get("format") != FORMAT or int(manifest.get("format_version", 0)) > FORMAT_VERSION:
            raise NBExplainError(
                f"{path} is {manifest.get('format')!r} version {manifest.get('format_version')}; "
                f"this nbexplain reads {FORMAT} up to version {FORMAT_VERSION}."
            )
        digest = hashlib.sha256(data).hexdigest()
        if digest != manifest.get("model_sha256"):
            raise NBExplainError(
                f"{path}: the model inside does not match its recorded checksum (it was changed "
                "after saving); save it again from its source."
            )
        network = path.with_name(f".{path.name}.{digest[:12]}.keras")
        try:
            network.write_bytes(data)
            model = _keras.load_keras_model(network, unsafe=unsafe)
        finally:
            network.unlink(missing_ok=True)
        inputs = tuple(
            InputRecipe(r["name"], tuple(r["columns"]), np.asarray(r["mean"]), np.asarray(r["scale"]))
            for r in manifest["inputs"]
        )
        labels = manifest.get("labels")
        return cls(
            model,
            inputs,
            manifest.get("target"),
            None if labels is None else tuple(labels),
            manifest.get("outcome", "score"),
            manifest.get("training", {}),
            path,
            file_sha256(path),
        )


def columns_read(recipes: tuple) -> tuple:
    """The raw columns a set of input recipes reads, each once, in input order."""
    return tuple(dict.fromkeys(c for recipe in recipes for c in recipe.grid.reshape(-1)))


def inputs_from_rows(recipes: tuple, frame: Any) -> Any:
    """Raw rows -> model inputs: a DataFrame (one tabular input, named columns) or a dict of
    arrays. Columns are found by name (extra columns are ignored); a missing column, an empty
    cell or text where a number belongs is an error naming it."""
    import pandas as pd

    features = columns_read(recipes)
    missing = [c for c in features if c not in frame.columns]
    if missing:
        raise InputDataError(
            f"The rows lack column(s) {missing} that the model reads (matched by name); "
            f"they have {[str(c) for c in frame.columns][:30]}."
        )
    numeric = frame[list(features)].apply(pd.to_numeric, errors="coerce")
    bad = np.flatnonzero(~np.isfinite(numeric.to_numpy(dtype=float, na_value=np.nan)).all(axis=1))
    if bad.size:
        raise InputDataError(
            f"Rows {row_list(bad, tuple(frame.index))} hold empty cells or text where the model reads numbers."
        )
    if len(recipes) == 1 and recipes[0].grid.ndim == 1:
        recipe = recipes[0]
        return pd.DataFrame(recipe.transform(numeric), columns=list(recipe.columns), index=frame.index)
    return {recipe.name: recipe.transform(numeric) for recipe in recipes}


def is_artifact(path: str | Path) -> bool:
    """True for a zip file holding an nbexplain manifest."""
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        return MANIFEST in archive.namelist()


__all__ = ["InputRecipe", "ModelArtifact", "is_artifact"]
