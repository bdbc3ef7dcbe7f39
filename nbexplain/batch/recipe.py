"""A reasons recipe as plain data, and the model file it explains: what travels to workers.

A :class:`~nbexplain.credit.adverse.ReasonRecipe` holds live objects (a Keras network, an
explainer, a baseline of reference rows). A worker process, a Spark executor or a later run needs
the same recipe without them: :class:`BatchRecipe` keeps

* the model as the BYTES of an nbexplain artifact (``.nbx``: the user's own artifact file as it
  is, or the model saved as one: a Keras network with its preprocessing, a tree model as nodes
  read without its library), never a pickled Keras object;
* everything else as JSON: the attribution method and its parameters, the documented baseline
  already resolved (its points and description, so that every worker measures against the same
  points), the reason catalogue, the cut-off, the columns read, the id column.

:meth:`BatchRecipe.identity` is what a batch output folder records of its recipe (model
fingerprint and file SHA-256, method, rule, steps, tolerance, baseline, cut-off, catalogue
digest, package version); a later run with a different identity is refused with the list of what
changed (:func:`differences`).
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .._files import file_sha256 as sha256_of_file
from .._version import __version__
from ..credit.adverse import ReasonRecipe, reference_ranges
from ..credit.reasons import ReasonCatalogue
from ..credit.recipes import documented_baselines
from ..engine.baselines import ResolvedBaseline
from ..engine.protocol import attributor_for
from ..errors import NBExplainError, unknown_name
from ..model.artifact import ModelArtifact, is_artifact, load_model_file
from ..results.serial import to_jsonable

FORMAT = "nbexplain-batch-recipe"
FORMAT_VERSION = 1
#: What the global importance of a batch run is computed over (see :mod:`nbexplain.batch`).
IMPORTANCE = {
    "denied": "mean |attribution| over the denied applicants (no extra work)",
    "all": "mean |attribution| over every applicant (attributions of the approved ones too)",
    "sensitivity": "root mean square sensitivity over every applicant (networks only; one gradient per row)",
    "none": "no global importance",
}
#: Explainer parameters that change no number (recorded, never compared).
_NOT_IDENTITY = ("model", "progress", "batch_size", "threads")


def canonical_json(value: Any) -> str:
    """One text for one value: sorted keys, no spaces (what digests are taken of)."""
    return json.dumps(to_jsonable(value), sort_keys=True, separators=(",", ":"), allow_nan=False)


def digest(value: Any) -> str:
    """SHA-256 of :func:`canonical_json`."""
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()


def _array_record(array: Any) -> dict:
    array = np.asarray(array)
    return {"dtype": str(array.dtype), "shape": list(array.shape), "values": array.reshape(-1).tolist()}


def _array(record: Mapping) -> np.ndarray:
    return np.asarray(record["values"], dtype=record["dtype"]).reshape(record["shape"])


def _method_params(explainer: Any) -> dict:
    """The explainer's parameters that are plain values (the rest comes from the artifact)."""
    params = explainer.get_params() if hasattr(explainer, "get_params") else {}
    return {
        k: v
        for k, v in params.items()
        if k not in _NOT_IDENTITY and (v is None or isinstance(v, bool | int | float | str))
    }


class BatchRecipe:
    """A reasons recipe as plain data (:attr:`plan`, JSON) and its model as artifact bytes.

    Build one with :meth:`for_model` (a saved model file, its reference rows and catalogue) or
    :meth:`from_reasons` (a :class:`~nbexplain.credit.adverse.ReasonRecipe` already built, with
    the :class:`~nbexplain.model.artifact.ModelArtifact` it explains). Give it to
    :func:`~nbexplain.batch.explain_book` (files on a cluster), or give :attr:`plan` and
    :attr:`model_bytes` to :func:`~nbexplain.batch.explain_partition` (a DataFrame: Spark's
    ``mapInPandas``, any executor).
    """

    def __init__(self, plan: Mapping, model_bytes: bytes | None = None) -> None:
        plan = dict(plan)
        if plan.get("format") != FORMAT or int(plan.get("format_version", 0)) > FORMAT_VERSION:
            raise NBExplainError(
                f"This is not a batch recipe nbexplain {__version__} reads (format {plan.get('format')!r} version "
                f"{plan.get('format_version')!r}); build it again with BatchRecipe.for_model or from_reasons."
            )
        if plan.get("importance") not in IMPORTANCE:
            raise unknown_name("importance", plan.get("importance"), IMPORTANCE)
        if plan["importance"] == "sensitivity" and plan["model"]["kind"] != "keras":
            raise NBExplainError(
                "importance='sensitivity' needs a network (sensitivities are gradients); a tree model or stack "
                "has 'denied' or 'all' (mean |attribution|)."
            )
        self.plan = plan
        self._model_bytes = model_bytes
        if model_bytes is not None and hashlib.sha256(model_bytes).hexdigest() != plan["model"]["payload_sha256"]:
            raise NBExplainError("The model bytes are not those the recipe was made with (their SHA-256 differs).")

    # ------------------------------------------------------------------ building
    @classmethod
    def from_reasons(
        cls,
        recipe: ReasonRecipe,
        artifact: ModelArtifact,
        *,
        reference: Any,
        model_file: str | Path | None = None,
        source: str | None = None,
        file_sha256: str | None = None,
        baseline: str | None = None,
        id_column: str | None = None,
        importance: str = "denied",
        unsafe: bool = False,
    ) -> BatchRecipe:
        """The batch form of ``recipe``, which explains ``artifact`` (its ``to_inputs`` reads the
        raw rows; its explainer was made by :func:`~nbexplain.engine.protocol.attributor_for` or
        alike). ``reference``: model inputs the baseline is resolved against (resolved once, here).
        ``model_file``: the artifact file the model came from, sent to workers as it is; without
        it (or when it is not an artifact: a Keras, XGBoost or LightGBM file) the artifact is saved
        once and those bytes are sent. ``source`` and ``file_sha256`` name the model file as the
        user knows it (recorded; the SHA-256 is part of the recipe's identity). ``baseline``: the
        short name of the documented baseline (recorded)."""
        if importance not in IMPORTANCE:
            raise unknown_name("importance", importance, IMPORTANCE)
        explainer = recipe.explainer
        resolved = recipe.resolved_
        if resolved is None:
            resolved = explainer.resolve_baseline(recipe.baseline, reference)
        if model_file is not None and is_artifact(model_file):
            payload = Path(model_file).read_bytes()
        else:
            with tempfile.TemporaryDirectory(prefix="nbexplain-batch-") as folder:
                saved = artifact.save(Path(folder) / "model.nbx")
                payload = saved.read_bytes()
        if file_sha256 is None:
            file_sha256 = sha256_of_file(model_file) if model_file is not None else hashlib.sha256(payload).hexdigest()
        description = dict(resolved.description)
        arrays = {name: _array_record(values) for name, values in resolved.arrays.items()}
        elements = recipe.elements
        plan = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "nbexplain": __version__,
            "model": {
                "source": source or (str(model_file) if model_file is not None else "model artifact"),
                "file_sha256": file_sha256,
                "payload_sha256": hashlib.sha256(payload).hexdigest(),
                "fingerprint": artifact.fingerprint(),
                "kind": artifact.kind,
                "features": list(artifact.features),
                "unsafe": bool(unsafe),
                # how a worker opens the model from its ORIGINAL file (explain_partition given a path)
                "load": {"columns": list(artifact.features), "target": artifact.target, "output": artifact.output},
            },
            "method": {"class": type(explainer).__name__, "params": _method_params(explainer)},
            "baseline": {
                "name": baseline or description.get("kind"),
                "kind": description.get("kind"),
                "per_sample": bool(resolved.per_sample),
                "arrays": arrays,
                "description": description,
                "digest": digest({"arrays": arrays, "description": description}),
            },
            "catalogue": recipe.catalogue.to_dict(),
            "cutoff": float(recipe.cutoff),
            "max_reasons": int(recipe.max_reasons),
            "completeness_tolerance": None if recipe.tolerance is None else float(recipe.tolerance),
            "columns": None if recipe.columns is None else [str(c) for c in recipe.columns],
            "elements": None
            if not elements
            else {str(c): [name, [int(i) for i in index]] for c, (name, index) in elements.items()},
            "ranges": None
            if not recipe.ranges
            else {str(c): [float(lo), float(hi)] for c, (lo, hi) in recipe.ranges.items()},
            "id_column": id_column,
            "importance": importance,
        }
        return cls(json.loads(canonical_json(plan)), payload)

    @classmethod
    def for_model(
        cls,
        model: str | Path,
        *,
        reference: Any,
        catalogue: ReasonCatalogue,
        baseline: str = "average",
        cutoff: float = 0.5,
        band: float = 0.05,
        draws: int = 100,
        steps: Any = 64,
        rule: str = "gausslegendre",
        tolerance: float = 1e-6,
        max_reasons: int = 4,
        target: Any = None,
        id_column: str | None = None,
        importance: str = "denied",
        unsafe: bool = False,
    ) -> BatchRecipe:
        """The recipe ``nbexplain reasons --model FILE --reference ... --catalogue ...`` uses:
        ``model`` any file :func:`~nbexplain.model.artifact.load_model_file` opens, ``reference``
        raw rows (a DataFrame) the documented ``baseline`` is built from, the reasons of
        ``catalogue`` for applicants scoring above ``cutoff``."""
        raw = reference.set_index(id_column) if id_column and id_column in reference.columns else reference
        artifact = load_model_file(model, unsafe=unsafe, columns=[str(c) for c in raw.columns], target=target)
        explainer = attributor_for(artifact, steps=steps, rule=rule, tolerance=tolerance)
        inputs = artifact.to_inputs(raw)
        baselines = documented_baselines(inputs, cutoff=cutoff, band=band, draws=draws)
        if baseline not in baselines:
            raise unknown_name("baseline", baseline, baselines)
        recipe = ReasonRecipe(
            explainer,
            baselines[baseline],
            catalogue,
            cutoff=cutoff,
            to_inputs=artifact.to_inputs,
            columns=artifact.features,
            elements=artifact.elements() if artifact.several_inputs else None,
            max_reasons=max_reasons,
            ranges=reference_ranges(raw, artifact.features),
        )
        return cls.from_reasons(
            recipe,
            artifact,
            reference=inputs,
            model_file=model,
            baseline=baseline,
            id_column=id_column,
            importance=importance,
            unsafe=unsafe,
        )

    # ------------------------------------------------------------------ reading
    @property
    def model_bytes(self) -> bytes:
        """The artifact bytes workers load the model from."""
        if self._model_bytes is None:
            raise NBExplainError("This recipe was read without its model bytes; give the model file to the workers.")
        return self._model_bytes

    @property
    def payload_sha256(self) -> str:
        return str(self.plan["model"]["payload_sha256"])

    def to_dict(self) -> dict:
        """The plan (plain JSON types): what :func:`~nbexplain.batch.explain_partition` takes."""
        return json.loads(json.dumps(self.plan))

    def to_json(self) -> str:
        return canonical_json(self.plan)

    @classmethod
    def from_dict(cls, plan: Mapping, model_bytes: bytes | None = None) -> BatchRecipe:
        return cls(plan, model_bytes)

    def with_options(self, **changes: Any) -> BatchRecipe:
        """The same recipe with ``id_column`` or ``importance`` changed."""
        for name in changes:
            if name not in ("id_column", "importance"):
                raise unknown_name("batch recipe option", name, ("id_column", "importance"))
        return BatchRecipe({**self.plan, **changes}, self._model_bytes)

    def identity(self) -> dict:
        """What an output folder records of this recipe, and compares on a later run."""
        return identity(self.plan)

    @property
    def digest(self) -> str:
        return digest(self.identity())


def identity(plan: Mapping) -> dict:
    """The fields of a plan that decide its output (see :class:`BatchRecipe`)."""
    model, method, baseline = plan["model"], plan["method"], plan["baseline"]
    return {
        "model_fingerprint": model["fingerprint"],
        "model_file_sha256": model["file_sha256"],
        "model_kind": model["kind"],
        "method": method["class"],
        **{f"method.{k}": v for k, v in sorted(method["params"].items())},
        "baseline": baseline["name"],
        "baseline_kind": baseline["kind"],
        "baseline_digest": baseline["digest"],
        "cutoff": plan["cutoff"],
        "max_reasons": plan["max_reasons"],
        "completeness_tolerance": plan["completeness_tolerance"],
        "catalogue_digest": digest(plan["catalogue"]),
        "columns": plan["columns"],
        "elements_digest": None if plan["elements"] is None else digest(plan["elements"]),
        "ranges_digest": None if plan["ranges"] is None else digest(plan["ranges"]),
        "id_column": plan["id_column"],
        "importance": plan["importance"],
        "nbexplain_version": plan["nbexplain"],
    }


def differences(before: Mapping, after: Mapping) -> list[str]:
    """``"steps: 64 -> 32"`` for every field of two identities that differs."""
    changed = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key, "(absent)"), after.get(key, "(absent)")
        if to_jsonable(old) != to_jsonable(new):
            shown = [_short(v) for v in (old, new)]
            changed.append(f"{key.removeprefix('method.')}: {shown[0]} -> {shown[1]}")
    return changed


def _short(value: Any) -> str:
    text = json.dumps(to_jsonable(value))
    if isinstance(value, str) and len(value) == 64:  # a digest: its first 12 digits say enough
        return value[:12]
    return text if len(text) <= 60 else text[:57] + "..."


def resolved_baseline(plan: Mapping) -> ResolvedBaseline:
    """The plan's baseline, resolved as it was on the machine that made the plan."""
    baseline = plan["baseline"]
    arrays = {name: _array(record) for name, record in baseline["arrays"].items()}
    return ResolvedBaseline(arrays, baseline["description"], bool(baseline["per_sample"]))


def plan_elements(plan: Mapping) -> dict | None:
    elements = plan.get("elements")
    return None if not elements else {c: (name, tuple(index)) for c, (name, index) in elements.items()}


def plan_ranges(plan: Mapping) -> dict | None:
    ranges = plan.get("ranges")
    return None if not ranges else {c: (lo, hi) for c, (lo, hi) in ranges.items()}


__all__ = ["FORMAT", "IMPORTANCE", "BatchRecipe", "differences", "digest", "identity", "resolved_baseline"]
