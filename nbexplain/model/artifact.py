"""A trained model and everything needed to use it as saved: one file.

A Keras file holds the network but not the step before it: a model trained on standardised
inputs and given raw values computes confident nonsense, and nothing in the ``.keras`` file says
so. A :class:`ModelArtifact` keeps together, in one zip file (``.nbx``):

* the model: ``model.keras`` for a network (as Keras saves it); ``trees.json`` for a tree
  ensemble, its nodes as nbexplain reads them (:meth:`~.trees.TreeEnsemble.to_record`: the same
  function, opened without the library that trained it and without pickle); ``stack.json`` and
  ``model.keras`` for a stack of ensembles and a network head;
* ``nbexplain-model.json``: the raw columns the model reads and where each one lands in its
  inputs (a column name for every input element: a sequence input is a grid of columns), the
  per-feature standardisation ``z = (x - mean) / scale`` of each network input (tree models and
  stacks read the raw columns), the explained unit and class labels, what the score is, the
  training data's fingerprint and row count, the SHA-256 of every member, and the versions.

:func:`load_model_file` opens what users have: an artifact, a Keras file, an XGBoost model file
(JSON or UBJSON), a LightGBM model file (text), or a pickled scikit-learn / XGBoost / LightGBM
estimator (only when asked: unpickling runs code from the file).

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
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._files import atomic_path, file_sha256
from .._tensorflow import keras_module
from .._version import __version__
from ..errors import InputDataError, NBExplainError, require, row_list
from ..results.serial import freeze_mapping, frozen_array, to_jsonable
from . import _keras
from .stack import Stack, as_stack
from .trees import TreeEnsemble, read_trees

FORMAT = "nbexplain-model"
FORMAT_VERSION = 2
MANIFEST = "nbexplain-model.json"
NETWORK = "model.keras"
TREES = "trees.json"
STACK = "stack.json"
#: What an artifact holds: a Keras network on standardised inputs, a tree ensemble, or a stack.
KINDS = ("keras", "trees", "stack")


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
    """A model with its preprocessing, feature names, explained unit and training record.

    ``model`` is a Keras network (``inputs``: one :class:`InputRecipe` per network input), or a
    tree model (XGBoost, LightGBM, scikit-learn: read into a
    :class:`~nbexplain.model.trees.TreeEnsemble`) or a :class:`~nbexplain.model.stack.Stack`,
    which read the raw columns themselves (no ``inputs``; ``output``: ``"margin"`` or
    ``"probability"`` of a single tree model)."""

    model: Any
    inputs: tuple = ()
    target: int | str | None = None
    labels: tuple | None = None
    outcome: str = "score"
    training: Mapping = field(default_factory=dict)
    path: Path | None = None
    sha256: str | None = None
    output: str = "margin"

    def __post_init__(self) -> None:
        object.__setattr__(self, "inputs", tuple(self.inputs))
        object.__setattr__(self, "training", freeze_mapping(self.training))
        if self.labels is not None:
            object.__setattr__(self, "labels", tuple(self.labels))
        if _keras.is_keras_model(self.model):
            names = [recipe.name for recipe in self.inputs]
            if len(set(names)) != len(names) or not names:
                raise NBExplainError(f"A network's artifact needs uniquely named input recipes; got {names}.")
            return
        if self.inputs:
            raise NBExplainError("Tree models and stacks read the raw columns themselves: give no input recipes.")
        if not isinstance(self.model, Stack):
            object.__setattr__(self, "model", read_trees(self.model))
        if self.output not in ("margin", "probability"):
            raise NBExplainError(f"output is 'margin' or 'probability' (of a tree model); got {self.output!r}.")

    @property
    def kind(self) -> str:
        """``"keras"``, ``"trees"`` or ``"stack"`` (see :data:`KINDS`)."""
        if isinstance(self.model, Stack):
            return "stack"
        return "trees" if isinstance(self.model, TreeEnsemble) else "keras"

    # -------------------------------------------------------------- reading rows
    @property
    def features(self) -> tuple:
        """The raw columns the model reads, each once, in input order."""
        if self.kind != "keras":
            return tuple(self.model.feature_names)
        return columns_read(self.inputs)

    @property
    def several_inputs(self) -> bool:
        """Whether the model's inputs are more than one table of the raw columns (then
        :meth:`elements` says where each column lands)."""
        return self.kind == "keras" and (len(self.inputs) > 1 or self.inputs[0].grid.ndim > 1)

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
        """Raw rows -> the model's inputs (see :func:`inputs_from_rows`); a tree model or stack
        gets its raw columns by name, as float64, with missing values where it accepts them."""
        if self.kind == "keras":
            return inputs_from_rows(self.inputs, frame)
        return raw_columns(frame, self.features, missing=bool(self.model.accepts_missing))

    def explainer_options(self) -> dict:
        """The options every explainer of this model takes: the unit, its labels, the feature
        names (networks); the class and output (a tree model)."""
        if self.kind == "stack":
            return {}
        if self.kind == "trees":
            options: dict = {"output": self.output}
            if self.target is not None:
                options["target"] = self.target
            return options
        names = self.input_feature_names()
        options = {"feature_names": names if len(names) > 1 else next(iter(names.values()))}
        if self.target is not None:
            options["target"] = self.target
        if self.labels is not None:
            options["labels"] = self.labels
        return options

    def fingerprint(self) -> str:
        """The fingerprint of what is explained, as every result records it: the network's
        architecture and weights; a tree model's nodes with the output explained."""
        if self.kind == "keras":
            return _keras.fingerprint(self.model)
        if self.kind == "trees":
            return as_stack(self.model, self.output, self.target).fingerprint()
        return self.model.fingerprint()

    # -------------------------------------------------------------- the file
    def _members(self, folder: Path) -> dict:
        """``{member name: bytes}`` of the model (a network saved through a file in ``folder``)."""
        members: dict = {}
        network = self.model if self.kind == "keras" else getattr(self.model, "network", None)
        if network is not None:
            temporary = folder / f".{NETWORK}.{id(self)}.keras"
            try:
                network.save(temporary)
                members[NETWORK] = temporary.read_bytes()
            finally:
                temporary.unlink(missing_ok=True)
        if self.kind == "trees":
            members[TREES] = json.dumps(self.model.to_record()).encode()
        elif self.kind == "stack":
            members[STACK] = json.dumps(self.model.to_record()).encode()
        return members

    def manifest(self, members: Mapping) -> dict:
        versions: dict = {"nbexplain": __version__}
        if NETWORK in members:
            versions["keras"] = keras_module().__version__
        return to_jsonable(
            {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "kind": self.kind,
                "inputs": [r.to_dict() for r in self.inputs],
                "features": list(self.features),
                "target": self.target,
                "labels": self.labels,
                "outcome": self.outcome,
                "output": self.output,
                "training": dict(self.training),
                "members_sha256": {name: hashlib.sha256(data).hexdigest() for name, data in members.items()},
                "model_fingerprint": self.fingerprint(),
                **versions,
                "saved": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            }
        )

    def save(self, path: str | Path) -> Path:
        """Write the artifact (a zip of the model's members and the manifest) all-or-nothing."""
        path = Path(path)
        with atomic_path(path) as temporary:
            members = self._members(temporary.parent)
            manifest = self.manifest(members)
            with zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                for name, data in members.items():
                    archive.writestr(name, data)
                archive.writestr(MANIFEST, json.dumps(manifest, indent=2))
        return path

    @classmethod
    def load(cls, path: str | Path, unsafe: bool = False) -> ModelArtifact:
        """Read an artifact written by :meth:`save`; every member's checksum is verified."""
        path = Path(path)
        if not path.is_file():
            raise NBExplainError(f"The model file {path} does not exist.")
        if not is_artifact(path):
            raise NBExplainError(f"{path} is not an nbexplain model artifact (a zip holding {MANIFEST}).")
        with zipfile.ZipFile(path) as archive:
            try:
                manifest = json.loads(archive.read(MANIFEST))
                sums = manifest.get("members_sha256") or {NETWORK: manifest.get("model_sha256")}
                members = {name: archive.read(name) for name in sums}
            except (KeyError, ValueError, zipfile.BadZipFile) as error:
                raise NBExplainError(f"{path} is damaged ({error}); save the model again.") from None
        if manifest.get("format") != FORMAT or int(manifest.get("format_version", 0)) > FORMAT_VERSION:
            raise NBExplainError(
                f"{path} is {manifest.get('format')!r} version {manifest.get('format_version')}; "
                f"this nbexplain reads {FORMAT} up to version {FORMAT_VERSION}."
            )
        for name, data in members.items():
            if hashlib.sha256(data).hexdigest() != sums[name]:
                raise NBExplainError(
                    f"{path}: {name} does not match its recorded checksum (it was changed after saving); save the "
                    "model again from its source."
                )
        kind = manifest.get("kind", "keras")
        if kind not in KINDS:
            raise NBExplainError(f"{path} holds a model of kind {kind!r}; this nbexplain reads {list(KINDS)}.")
        network = _load_network(path, members[NETWORK], unsafe) if NETWORK in members else None
        if kind == "trees":
            model: Any = TreeEnsemble.from_record(json.loads(members[TREES]))
        elif kind == "stack":
            model = Stack.from_record(json.loads(members[STACK]), network)
        else:
            model = network
        inputs = tuple(
            InputRecipe(
                r["name"], tuple(r["columns"]), np.asarray(r["mean"]), np.asarray(r["scale"]), r.get("feature_names")
            )
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
            manifest.get("output", "margin"),
        )


def _load_network(path: Path, data: bytes, unsafe: bool) -> Any:
    """The Keras network stored in an artifact (through a temporary file: Keras reads paths)."""
    with tempfile.TemporaryDirectory(prefix="nbexplain-model-") as folder:
        network = Path(folder) / f"{path.stem}.keras"
        network.write_bytes(data)
        return _keras.load_keras_model(network, unsafe=unsafe)


def columns_read(recipes: tuple) -> tuple:
    """The raw columns a set of input recipes reads, each once, in input order."""
    return tuple(dict.fromkeys(c for recipe in recipes for c in recipe.grid.reshape(-1)))


def inputs_from_rows(recipes: tuple, frame: Any) -> Any:
    """Raw rows -> network inputs: a DataFrame (one tabular input, named columns) or a dict of
    arrays, standardised by each recipe (see :func:`raw_columns` for the checks)."""
    import pandas as pd

    numeric = raw_columns(frame, columns_read(recipes))
    if len(recipes) == 1 and recipes[0].grid.ndim == 1:
        recipe = recipes[0]
        return pd.DataFrame(recipe.transform(numeric), columns=list(recipe.columns), index=frame.index)
    return {recipe.name: recipe.transform(numeric) for recipe in recipes}


def raw_columns(frame: Any, features: tuple, missing: bool = False) -> Any:
    """The columns ``features`` of raw rows as float64 numbers, found by name (extra columns are
    ignored). A missing column, text where a number belongs, an infinite value, or an empty cell
    (unless ``missing``: tree models have their own way with missing values) is an error naming
    the rows."""
    import pandas as pd

    absent = [c for c in features if c not in frame.columns]
    if absent:
        raise InputDataError(
            f"The rows lack column(s) {absent} that the model reads (matched by name); "
            f"they have {[str(c) for c in frame.columns][:30]}."
        )
    given = frame[list(features)]
    numeric = given.apply(pd.to_numeric, errors="coerce").astype(np.float64)
    values = numeric.to_numpy()
    text = (given.notna() & numeric.isna()).to_numpy()
    bad_rows = text.any(axis=1) | np.isinf(values).any(axis=1)
    if not missing:
        bad_rows |= np.isnan(values).any(axis=1)
    bad = np.flatnonzero(bad_rows)
    if bad.size:
        allowed = "text or infinite values" if missing else "empty cells, text or infinite values"
        raise InputDataError(f"Rows {row_list(bad, tuple(frame.index))} hold {allowed} where the model reads numbers.")
    return numeric


def load_model_file(
    path: str | Path,
    *,
    unsafe: bool = False,
    columns: Any = None,
    target: Any = None,
    output: str | None = None,
) -> ModelArtifact:
    """The model a user saved, whatever its file holds (found from its bytes, not its name):

    * an nbexplain artifact (``.nbx``, :meth:`ModelArtifact.save`): opened as saved;
    * a Keras file (``.keras`` archive or legacy HDF5) whose network reads ``columns`` of the
      data as they are (no preprocessing), unit ``target``;
    * an XGBoost model file (JSON or UBJSON, ``model.save_model``), a LightGBM model file
      (text, ``booster.save_model``);
    * a pickled (or joblib) XGBoost, LightGBM or scikit-learn tree model, or a
      :class:`~nbexplain.model.stack.Stack` without Keras parts: only with ``unsafe=True``,
      because unpickling runs code from the file.

    A tree model explains ``output`` (default: the probability of a classifier, ``target`` its
    class; the margin of a regressor)."""
    path = Path(path)
    if not path.is_file():
        raise NBExplainError(f"The model file {path} does not exist.")
    if is_artifact(path):
        return ModelArtifact.load(path, unsafe=unsafe)
    with open(path, "rb") as handle:
        head = handle.read(64)
    record = {"source": str(path)}
    if zipfile.is_zipfile(path) or head.startswith(b"\x89HDF") or path.suffix in (".keras", ".h5"):
        if columns is None:
            raise NBExplainError(f"{path} is a Keras model: give the data it reads, so that its columns are known.")
        names = tuple(str(c) for c in columns)
        recipe = InputRecipe("input", names, np.zeros(len(names)), np.ones(len(names)))
        model = _keras.load_keras_model(path, unsafe=unsafe)
        return ModelArtifact(model, (recipe,), target, None, "score", record, path, file_sha256(path))
    model = _tree_model(path, head, unsafe)
    if isinstance(model, Stack):
        return ModelArtifact(model, (), None, None, "score", record, path, file_sha256(path))
    ensemble = read_trees(model)
    chosen = output or _default_output(ensemble)
    named = "score" if chosen == "margin" else f"P({ensemble.classes[-1] if ensemble.classes else 'class 1'})"
    return ModelArtifact(ensemble, (), target, ensemble.classes, named, record, path, file_sha256(path), chosen)


def _tree_model(path: Path, head: bytes, unsafe: bool) -> Any:
    """A tree model file opened by its library (or unpickled, when allowed)."""
    if head.startswith((b"tree\n", b"tree\r\n")):
        lightgbm = require("lightgbm", "trees", "Reading a LightGBM model file")
        return _opened(path, "LightGBM", lambda: lightgbm.Booster(model_file=str(path)))
    if head.lstrip().startswith(b"{"):
        xgboost = require("xgboost", "trees", "Reading an XGBoost model file")
        return _opened(path, "XGBoost", lambda: xgboost.Booster(model_file=str(path)))
    if head[:1] == b"\x80" or head[:2] in (b"\x78\x9c", b"\x78\x01", b"\x78\xda", b"\x1f\x8b"):
        if not unsafe:
            raise NBExplainError(
                f"{path} is a pickled Python object: opening it runs code from the file. If you trust the file, open "
                "it knowingly (--unsafe-load on the command line, unsafe=True from Python); better, save the model in "
                "its library's own format (XGBoost: model.save_model('model.json'); LightGBM: "
                "booster.save_model('model.txt')) or as an nbexplain artifact (ModelArtifact(model).save('model.nbx'))."
            )
        import joblib

        return _opened(path, "pickled", lambda: joblib.load(path))
    raise NBExplainError(
        f"{path} is not a model file nbexplain reads (it starts with {head[:16]!r}): give an nbexplain artifact "
        "(.nbx), a Keras file (.keras, .h5), an XGBoost model file (.json, .ubj), a LightGBM model file (.txt) or, "
        "with --unsafe-load, a pickled tree model."
    )


def _opened(path: Path, what: str, open_it: Any) -> Any:
    try:
        return open_it()
    except Exception as error:  # the library's own error, whatever its type: say which file and why
        text = " ".join(str(error).split())[:300]
        raise NBExplainError(f"{path} could not be read as a {what} model ({type(error).__name__}: {text}).") from None


def _default_output(ensemble: TreeEnsemble) -> str:
    """The probability of a classifier, the margin of anything else."""
    return "probability" if ensemble.link in ("sigmoid", "softmax") or ensemble.classes is not None else "margin"


def is_artifact(path: str | Path) -> bool:
    """True for a zip file holding an nbexplain manifest."""
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        return MANIFEST in archive.namelist()


__all__ = ["KINDS", "InputRecipe", "ModelArtifact", "inputs_from_rows", "is_artifact", "load_model_file", "raw_columns"]
