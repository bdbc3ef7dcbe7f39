"""Dashboards on explanation bundles: build a bundle once from a model and its rows, then open a
dashboard on it that imports no TensorFlow until a viewer asks for something new.

:func:`build_bundle` runs what a dashboard computes when it opens (one pass of the row explainer,
global views, comparisons, the default reasons' attributions and population comparison) and
writes it with :func:`nbexplain.results.bundle.write_bundle`. :func:`bundle_explorer_data`
opens the bundle as :class:`~nbexplain.widgets.ExplorerData` whose explainers are loaded lazily
(:class:`LazyExplainers`): picking rows, the global views, the default reasons and the default
population comparison are lookups in the mapped files; a what-if edit, other reason settings or
other cohorts load the model artifact the bundle records (checked against the bundle's model
fingerprint), once per kernel, with a visible message while it loads.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from .._files import file_sha256
from .._tables import read_table
from ..credit.reasons import ReasonCatalogue, column_attributions
from ..credit.recipes import documented_baselines
from ..credit.validation import validate_reasons
from ..datasets._cache import cache_dir
from ..engine.baselines import ResolvedBaseline
from ..engine.protocol import ModelExplainers
from ..errors import NBExplainError
from ..model.artifact import ModelArtifact, is_artifact, load_model_file
from ..results import Attributions, Sensitivities
from ..results.bundle import ExplanationBundle, open_bundle, write_bundle
from ..results.serial import to_jsonable
from .controller import DEFAULT_REASONS, ExplorerController
from .source import ExplorerData, small_integer_columns
from .whatif import feature_specs

#: The lag views of a recurrent model, stored under these names.
LAG_VIEWS = ("lag_matrix", "lag_importance")


def frame_sha256(frame) -> str:
    """SHA-256 of a DataFrame's values, columns and index (what a bundle was built from)."""
    import pandas as pd

    digest = hashlib.sha256(",".join(map(str, frame.columns)).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    return digest.hexdigest()


def _explained_tables(explained) -> tuple[dict, dict]:
    """The row explainer's arrays as bundle columns, and how to read them back."""
    columns: dict = {}
    info: dict = {
        "kind": type(explained).__name__,
        "layout": [spec.to_dict() for spec in explained.layout],
        "meta": dict(explained.meta),
        "data_shapes": {},
        "shapes": {},
    }
    for name, values in explained.data.items():
        columns[f"data:{name}"] = np.asarray(values)
        info["data_shapes"][name] = list(np.shape(values)[1:])
    if isinstance(explained, Sensitivities):
        for name, values in explained.gradients.items():
            columns[f"gradients:{name}"] = np.asarray(values)
            info["shapes"][name] = list(np.shape(values)[1:])
        columns["score"] = np.asarray(explained.score)
        info["score_shape"] = list(np.shape(explained.score)[1:])
    elif isinstance(explained, Attributions):
        for name, values in explained.values.items():
            columns[f"values:{name}"] = np.asarray(values)
            info["shapes"][name] = list(np.shape(values)[1:])
        for name in ("score", "baseline_score", "completeness_error", "steps"):
            columns[name] = np.asarray(getattr(explained, name))
    else:
        raise NBExplainError(
            f"A bundle stores Sensitivities or Attributions; the row explainer gave {type(explained).__name__}."
        )
    return columns, info


def build_bundle(
    data: ExplorerData,
    path: str | Path,
    *,
    model_file: str | Path | None = None,
    progress: bool = True,
    source: dict | None = None,
    validate: int = 300,
) -> Path:
    """Compute what the dashboard of ``data`` shows and write it as a bundle at ``path``.

    ``model_file`` (a model artifact, ``.nbx``) is recorded with its SHA-256 so that a dashboard
    opened on the bundle can load the model for what-if edits; without it the bundle is for
    browsing only. ``source`` is recorded as it is (what the bundle was built from, to know
    later whether it is still current). ``validate``: the reason validation report (see
    :func:`~nbexplain.credit.validation.validate_reasons`) on this many denied rows drawn at
    random (seeded, and said so), summarised in the record; 0 skips it.
    """
    from tqdm.auto import tqdm

    with tqdm(total=5, desc="explanation bundle", unit="step", disable=not progress) as bar:
        controller = ExplorerController(data, progress=progress)
        bar.update()
        frame = data.frame
        rows = {c: np.asarray(frame[c].to_numpy()) for c in data.columns}
        rows["__score"] = controller.scores
        if data.target is not None:
            rows["__target"] = np.asarray(data.target)
        rows["__label"] = np.asarray(frame.index)
        explained, info = _explained_tables(controller.explained)
        views = {"global_importance": controller.global_importance.to_dict()}
        if controller.recurrent:
            views.update(zip(LAG_VIEWS, (view.to_dict() for view in controller.global_lags())))
        comparisons = {name: view.to_dict() for name, view in controller.comparisons.items()}
        bar.update()
        recipe = controller.recipe(**DEFAULT_REASONS)
        attributions = recipe.attributions(frame)
        values, names = column_attributions(attributions, data.elements)
        defaults = {name: values[:, j] for j, name in enumerate(names)}
        defaults.update(
            __baseline_score=attributions.baseline_score,
            __completeness_error=attributions.completeness_error,
            __steps=attributions.steps,
        )
        bar.update()
        first, second = controller.matching(predicted=1), controller.matching(predicted=0)
        population = controller.compare_cohorts(first, second).to_dict() if first.size and second.size else None
        validation = _validation(controller, recipe, first, validate) if first.size and validate else None
        bar.update()
        fingerprint = controller.explained.meta.get("model_fingerprint")
        resolved = getattr(controller.row_explainer, "resolved_baseline", None)
        record = {
            "title": data.title,
            "outcome": data.outcome,
            "class_labels": list(data.class_labels),
            "threshold": float(data.threshold),
            "description": dict(data.description),
            "columns": list(data.columns),
            "choices": {c: {str(k): v for k, v in m.items()} for c, m in data.choices.items()},
            "elements": {c: [i, list(ix)] for c, (i, ix) in data.elements.items()},
            "catalogue": data.catalogue.to_dict(),
            "feature_specs": feature_specs(frame, data.choices),
            "rows": {"count": len(frame), "sha256": frame_sha256(frame)},
            "model": {
                "fingerprint": fingerprint,
                "artifact": None if model_file is None else str(Path(model_file).resolve()),
                "artifact_sha256": None if model_file is None else file_sha256(model_file),
            },
            "explained": info,
            "row_baseline": None
            if resolved is None
            else {
                "arrays": {name: np.asarray(array).tolist() for name, array in resolved.arrays.items()},
                "description": dict(resolved.description),
                "per_sample": bool(resolved.per_sample),
            },
            "views": views,
            "comparisons": comparisons,
            "selection_errors": {str(k): float(v) for k, v in data.selection_errors.items()},
            "defaults": {
                **DEFAULT_REASONS,
                "baseline_description": dict(attributions.meta["baseline"]),
                "method": attributions.meta.get("method"),
                "explained": attributions.meta.get("explained"),
                "tolerance": recipe.explainer.tolerance,
                "model_fingerprint": fingerprint,
            },
            "population": population,
            "validation": validation,
            "source": dict(source or {}),
        }
        written = write_bundle(path, record, {"rows": rows, "explained": explained, "attributions": defaults})
        bar.update()
    return written


def _validation(controller, recipe, denied_rows, size: int) -> dict:
    """The reason validation of a seeded random sample of the denied rows (all when fewer)."""
    frame = controller.data.frame
    chosen = np.sort(np.random.default_rng(0).choice(denied_rows, min(size, denied_rows.size), replace=False))
    reference = controller.data.to_inputs(frame)
    others = documented_baselines(reference, cutoff=controller.data.threshold, draws=50)
    recipe = recipe.with_params(baseline=others.pop(DEFAULT_REASONS["baseline"]))
    selection = (
        f"all {denied_rows.size} denied rows"
        if chosen.size == denied_rows.size
        else f"a random sample of {chosen.size} of the {denied_rows.size} denied rows (seed 0)"
    )
    report = validate_reasons(
        recipe, frame.iloc[chosen], baselines=others, redraws=2, progress=False, selection=selection
    )
    return report.to_dict()


class LazyExplainers(ModelExplainers):
    """A model's explainers loaded on first use: the model artifact a bundle records, checked
    against the bundle's model fingerprint. ``loaded`` says whether it has happened."""

    def __init__(
        self,
        artifact_path: str | Path | None,
        fingerprint: str | None,
        sha256: str | None = None,
        columns: Any = None,
        row_baseline: ResolvedBaseline | None = None,
    ) -> None:
        self.artifact_path = None if artifact_path is None else Path(artifact_path)
        self.fingerprint = fingerprint
        self.sha256 = sha256
        self.columns = columns
        self.row_baseline = row_baseline
        self._artifact: ModelArtifact | None = None
        self._explainers: ModelExplainers | None = None

    @property  # type: ignore[override]
    def loaded(self) -> bool:
        return self._explainers is not None

    def load(self) -> ModelExplainers:
        """Load the artifact and build its explainers (TensorFlow is imported here, for a network)."""
        if self._explainers is None:
            if self.artifact_path is None:
                raise NBExplainError(
                    "This dashboard was built from a bundle without its model: it can show what "
                    "the bundle holds, not new explanations. Build the bundle with the model "
                    "artifact (nbexplain bundle --model FILE ...) to allow what-if edits."
                )
            if (
                self.sha256 is not None
                and self.artifact_path.is_file()
                and file_sha256(self.artifact_path) != self.sha256
            ):
                raise NBExplainError(
                    f"The model file {self.artifact_path} changed since the bundle was built; build the bundle again."
                )
            artifact = load_model_file(self.artifact_path, columns=self.columns)
            if self.fingerprint is not None and artifact.fingerprint() != self.fingerprint:
                raise NBExplainError(
                    f"The model in {self.artifact_path} (fingerprint {artifact.fingerprint()}) is "
                    f"not the model the bundle was built from ({self.fingerprint}): give the bundle's own model, "
                    "or build the bundle again from this one (nbexplain bundle --model FILE --data FILE)."
                )
            self._artifact = artifact
            options = {}
            if artifact.kind != "keras" and self.row_baseline is not None:
                # the rows were explained against one recorded point: an edited row is too
                options["baseline"] = self.row_baseline
            self._explainers = ModelExplainers.for_artifact(artifact, **options)
        return self._explainers

    @property
    def rows(self) -> Any:
        return self.load().rows

    @property
    def attributions(self) -> Any:
        return self.load().attributions

    def to_inputs(self, frame) -> Any:
        """Raw rows -> model inputs, through the artifact's preprocessing."""
        self.load()
        assert self._artifact is not None
        return self._artifact.to_inputs(frame)


def bundle_explorer_data(bundle: ExplanationBundle | str | Path, model: str | Path | None = None) -> ExplorerData:
    """The explorer of a bundle: its rows as mapped columns, its stored views, and its model
    loaded only when a viewer asks for a new explanation: the artifact the bundle records, or
    ``model`` (any model file, e.g. the bundle moved to another machine), which must have the
    fingerprint the bundle records."""
    bundle = bundle if isinstance(bundle, ExplanationBundle) else open_bundle(bundle)
    record = bundle.record
    recorded = record.get("model", {})
    baseline = _row_baseline(record)
    if model is None:
        lazy = LazyExplainers(
            recorded.get("artifact"),
            recorded.get("fingerprint"),
            recorded.get("artifact_sha256"),
            row_baseline=baseline,
        )
    else:
        lazy = LazyExplainers(
            model, recorded.get("fingerprint"), columns=list(bundle.frame().columns), row_baseline=baseline
        )
    choices = {c: {_code(k): v for k, v in m.items()} for c, m in record.get("choices", {}).items()}
    elements = {c: (i, tuple(ix)) for c, (i, ix) in record["elements"].items()}
    return ExplorerData(
        lazy,
        bundle.frame(),
        lazy.to_inputs,
        elements,
        bundle.target(),
        choices,
        record["title"],
        record["outcome"],
        tuple(record["class_labels"]),
        float(record["threshold"]),
        bundle.comparisons(),
        {int(k): v for k, v in record.get("selection_errors", {}).items()},
        record.get("description", {}),
        ReasonCatalogue.from_dict(record["catalogue"]),
        bundle,
    )


def _row_baseline(record: dict) -> ResolvedBaseline | None:
    """The one baseline the bundle's rows were explained against (a tree model's, a stack's), as
    recorded; for a bundle that predates the record, the point its description lists."""
    stored = record.get("row_baseline")
    if stored:
        arrays = {name: np.asarray(values, dtype=np.float64) for name, values in stored["arrays"].items()}
        return ResolvedBaseline(arrays, stored["description"], bool(stored.get("per_sample", False)))
    info = record.get("explained", {})
    description = info.get("meta", {}).get("baseline", {})
    point, layout = description.get("point"), info.get("layout", [])
    if info.get("kind") != "Attributions" or not isinstance(point, dict) or len(layout) != 1:
        return None
    names = layout[0].get("feature_names") or []
    if not names or any(name not in point for name in names):
        return None
    values = np.array([[point[name] for name in names]], dtype=np.float64)
    return ResolvedBaseline({layout[0]["name"]: values}, description)


def bundle_dashboard(bundle: ExplanationBundle | str | Path, model: str | Path | None = None, **options: Any) -> Any:
    """The dashboard of a bundle (see :func:`bundle_explorer_data`)."""
    from .dashboard import Dashboard

    return Dashboard(bundle_explorer_data(bundle, model), **options)


def check_bundle_model(bundle: ExplanationBundle | str | Path, model: str | Path) -> None:
    """Refuse, now, a model file that is not the model ``bundle`` was built from (its
    fingerprint differs): a dashboard would otherwise fail at a viewer's first edit."""
    bundle_explorer_data(bundle, model).explainers.load()


def _code(key: str) -> Any:
    """A choice code read back from JSON keys (numbers were written as text)."""
    try:
        number = float(key)
    except ValueError:
        return key
    return int(number) if number.is_integer() else number


# ----------------------------------------------------------------- your own model and data
def explorer_data_from_files(
    model_path: str | Path,
    data_path: str | Path,
    *,
    target: Any = None,
    outcome_column: str | None = None,
    catalogue: ReasonCatalogue | None = None,
    threshold: float = 0.5,
    title: str | None = None,
) -> tuple[ExplorerData, Path]:
    """A user's saved model and data file as an explorer, and the model artifact to record.

    ``model_path``: any model file :func:`~nbexplain.model.artifact.load_model_file` opens: an
    artifact (``.nbx``: a network with its preprocessing, a tree model, a stack), a Keras file
    whose network reads the data's columns as they are, an XGBoost or LightGBM model file (saved
    as an artifact in the cache, never beside the user's file).
    ``data_path``: CSV or Parquet rows with the model's raw columns (matched by name), and
    optionally ``outcome_column`` (the true 0/1 outcome, found by its usual names when not given).
    """
    model_path, data_path = Path(model_path), Path(data_path)
    frame = read_table(data_path)
    outcome = _outcome_column(frame, outcome_column)
    unit = int(target) if target is not None and str(target).isdigit() else target
    artifact = load_model_file(model_path, columns=[str(c) for c in frame.columns if c != outcome], target=unit)
    artifact_path = model_path
    if not is_artifact(model_path):  # saved as an artifact in the cache, never beside the user's file
        artifact_path = cache_dir() / "models" / f"{model_path.stem}-{artifact.sha256[:12]}.nbx"
        artifact_path.parent.mkdir(parents=True, exist_ok=True)
        artifact.save(artifact_path)
    features = list(artifact.features)
    explainers = ModelExplainers.for_artifact(artifact, **({} if unit is None else {"target": unit}))
    raw = frame[features]
    choices = {c: {v: str(v) for v in values} for c, values in small_integer_columns(raw).items()}
    description = {"model": model_path.name, "data": f"{data_path.name} ({len(frame):,} rows)"}
    data = ExplorerData(
        explainers,
        raw,
        artifact.to_inputs,
        artifact.elements() if artifact.several_inputs else {},
        None if outcome is None else frame[outcome].to_numpy(),
        choices,
        title or model_path.stem,
        artifact.outcome,
        tuple(str(label) for label in artifact.labels or ("0", "1"))[-2:],
        threshold,
        None,
        {},
        description,
        catalogue,
    )
    return data, artifact_path


#: Names an outcome column goes by, found when no --outcome column is given.
OUTCOME_NAMES = (
    "default",
    "default.payment.next.month",
    "default payment next month",
    "target",
    "y",
    "label",
    "outcome",
    "riskperformance",
    "bad",
)


def _outcome_column(frame, given: str | None) -> str | None:
    if given is not None:
        if given not in frame.columns:
            raise NBExplainError(f"The data have no outcome column {given!r}; columns: {list(frame.columns)[:30]}.")
        return given
    found = [c for c in frame.columns if str(c).strip().lower() in OUTCOME_NAMES]
    return found[0] if len(found) == 1 else None


def bundle_for_files(
    model_path: str | Path,
    data_path: str | Path,
    *,
    out: str | Path | None = None,
    progress: bool = True,
    **options: Any,
) -> Path:
    """The bundle of a saved model on a data file: reused when one built from the same model and
    rows exists (at ``out``, or in the cache keyed by both files' checksums), else built."""
    options = {"target": None, "outcome_column": None, "catalogue": None, "threshold": 0.5, "title": None, **options}
    model_sha, data_sha = file_sha256(model_path), file_sha256(data_path)
    key = f"{Path(model_path).stem}-{model_sha[:12]}-{data_sha[:12]}"
    path = Path(out) if out is not None else cache_dir() / "bundles" / f"{key}.nbxbundle"
    path.parent.mkdir(parents=True, exist_ok=True)
    source = {
        "model_file": str(Path(model_path).resolve()),
        "model_file_sha256": model_sha,
        "data_file": str(Path(data_path).resolve()),
        "data_file_sha256": data_sha,
        "options": {k: v if not isinstance(v, ReasonCatalogue) else v.to_dict() for k, v in options.items()},
    }
    if path.is_dir():
        try:
            if open_bundle(path).record.get("source") == json_ready(source):
                return path
        except NBExplainError:
            pass
    data, artifact_path = explorer_data_from_files(model_path, data_path, **options)
    return build_bundle(data, path, model_file=artifact_path, progress=progress, source=source)


def json_ready(value: Any) -> Any:
    """``value`` as it reads back from JSON (tuples become lists, keys become text)."""
    return json.loads(json.dumps(to_jsonable(value)))
