"""The embedded demo: the credit data, its model-ready inputs and the paper's models, cached.

``load_demo("credit_fcn")`` is the section-4 network on the 23 standardised UCI features;
``load_demo("credit_lstm")`` reads the same clients as six months of (repayment status, bill,
payment) plus the static features; ``load_demo("credit_xgb")`` is a gradient-boosted model and
``load_demo("credit_stack")`` a stacked ensemble (two boosted models and the paper's network,
combined by a small network), both on the raw columns (see :mod:`.tree_demo`). All are trained
with a seed on the first 25,000 rows of a seeded shuffle and tested on the other 5,000, then
cached (see :mod:`._cache`).
"""

from __future__ import annotations

import json
import re
import time

import numpy as np

from .._files import write_text
from .._tensorflow import keras_module
from ..credit.adverse import ReasonRecipe, reference_ranges
from ..credit.recipes import documented_baselines
from ..engine import IntegratedGradients
from ..engine.comparisons import surrogate_importances
from ..engine.protocol import attributor_for
from ..engine.selection import Candidate, error_rate, fit_classifier, retrain_comparison
from ..errors import ArgumentError, true_or_false, unknown_name, whole_number
from ..model._keras import fingerprint
from ..model.artifact import InputRecipe, ModelArtifact, inputs_from_rows
from . import models
from ._cache import cache_dir, cached_model, require_writable, store_failed
from .credit import (
    BILL_FEATURES,
    CREDIT_FEATURES,
    CREDIT_TARGET,
    MONTHS,
    PAYMENT_FEATURES,
    SEQUENCE_CHANNELS,
    STATIC_FEATURES,
    STATUS_FEATURES,
    credit_reason_catalogue,
    make_credit_default,
)
from .demo_model import (
    DEMOS,
    MIN_ROWS,
    NETWORK_DEMOS,
    OUTCOME_LABELS,
    TREE_DEMOS,
    DemoModel,
    _frame_fingerprint,
    _take,
    check_credit_frame,
    roc_auc,
    split_rows,
)

#: Bump when the recipe changes in a way the recipe dictionary does not show.
DEMO_FORMAT = 1


def standardisation(values) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature (last axis) mean and standard deviation of training values; a constant
    feature gets scale 1, so ``(x - mean) / scale`` stays finite."""
    values = np.asarray(values, dtype=np.float64)
    flat = values.reshape(-1, values.shape[-1])
    scale = flat.std(axis=0)
    return flat.mean(axis=0), np.where(scale > 0, scale, 1.0)


def credit_input_columns(kind: str) -> dict:
    """Where each raw UCI column lands in a credit model's inputs: ``{input: column grid}``. The
    dense network reads the 23 columns; the LSTM reads six months of (status, bill, payment),
    April first, and the five static columns (the layout of :func:`credit_sequences`)."""
    if kind == "credit_fcn":
        return {"features": CREDIT_FEATURES}
    months = zip(STATUS_FEATURES[::-1], BILL_FEATURES[::-1], PAYMENT_FEATURES[::-1])
    return {"history": tuple(tuple(month) for month in months), "static": STATIC_FEATURES}


def fit_credit_model(
    frame,
    kind: str = "credit_fcn",
    *,
    seed: int = 0,
    epochs: int = 100,
    rebuild: bool = False,
    progress: bool = True,
    cache_name: str | None = None,
) -> DemoModel:
    """Train (or load from the cache) a credit model of ``kind`` on a frame with the UCI columns.

    The rows are split 5/6 train, 1/6 test by a seeded shuffle (25,000 / 5,000 for the UCI file);
    inputs are standardised with the training rows' mean and deviation. The cache entry is
    ``cache_name`` (default: ``kind`` plus the data's fingerprint), rebuilt when the data, the
    seed or the epochs change.
    """
    if kind not in NETWORK_DEMOS:
        raise unknown_name("model kind", kind, NETWORK_DEMOS)
    seed = whole_number("seed", seed, minimum=0, meaning="of the split and the initial weights")
    epochs = whole_number("epochs", epochs, minimum=1, meaning="the most training epochs")
    rebuild, progress = true_or_false("rebuild", rebuild), true_or_false("progress", progress)
    if cache_name is not None and not (
        isinstance(cache_name, str) and re.fullmatch(r"[A-Za-z0-9_][\w.\-]*", cache_name)
    ):
        raise ArgumentError(
            f"cache_name must be a file name of letters, digits, '_', '-' and '.' (not starting with '.' or "
            f"'-'), or None for one made from the data; got {cache_name!r}."
        )
    check_credit_frame(frame)
    frame = frame.set_axis([str(c) for c in frame.columns], axis=1)
    n = len(frame)
    train, test = split_rows(n, seed=seed)
    grids = credit_input_columns(kind)
    training = frame.iloc[train]
    recipes = []
    for name, grid in grids.items():
        columns = np.asarray(grid, dtype=object)
        raw = training[list(columns.reshape(-1))].to_numpy(dtype=np.float64).reshape(len(training), *columns.shape)
        channels = SEQUENCE_CHANNELS if columns.ndim > 1 else None
        recipes.append(InputRecipe(name, grid, *standardisation(raw), feature_names=channels))
    target = frame[CREDIT_TARGET].to_numpy(dtype=float).astype(np.int64)
    inputs = inputs_from_rows(tuple(recipes), frame)
    take = lambda rows: _take(inputs, rows)  # noqa: E731

    def build():
        from tqdm.auto import tqdm

        keras = keras_module()

        model = (
            models.credit_network(len(CREDIT_FEATURES), seed=seed)
            if kind == "credit_fcn"
            else models.credit_lstm(len(MONTHS), len(SEQUENCE_CHANNELS), len(STATIC_FEATURES), seed=seed)
        )
        started = time.perf_counter()
        with tqdm(total=epochs, desc=f"training {kind}", unit="epoch", disable=not progress) as bar:
            run = fit_classifier(model, take(train), target[train], epochs=epochs, progress=bar)
        record = {
            "epochs": run,
            "seconds": round(time.perf_counter() - started, 2),
            "train_error": error_rate(model, take(train), target[train]),
            "test_error": error_rate(model, take(test), target[test]),
            "test_auc": roc_auc(_probability(model, take(test)), target[test]),
            "keras": keras.__version__,
        }
        return model, record

    fingerprint = _frame_fingerprint(frame)
    recipe = {
        "format": DEMO_FORMAT,
        "kind": kind,
        "rows": n,
        "seed": seed,
        "epochs": epochs,
        "data": fingerprint,
        "keras_major": keras_module().__version__.split(".")[0],
    }
    model, record = cached_model(cache_name or f"{kind}-{fingerprint[:12]}", recipe, build, rebuild=rebuild)
    if "test_auc" not in record:  # an entry cached before the AUC was recorded: computed, not stored
        record = {**record, "test_auc": roc_auc(_probability(model, take(test)), target[test])}
    artifact = ModelArtifact(
        model,
        tuple(recipes),
        "default",
        OUTCOME_LABELS,
        "P(default)",
        {
            "kind": kind,
            "rows": len(train),
            "fingerprint": _frame_fingerprint(training),
            "seed": seed,
            "test_error": record.get("test_error"),
            "train_error": record.get("train_error"),
            "test_auc": record.get("test_auc"),
            "epochs": record.get("epochs"),
        },
    )
    return DemoModel(kind, model, frame, inputs, target, train, test, artifact, record)


def _probability(model, inputs) -> np.ndarray:
    """P(default) of a softmax network."""
    return np.asarray(model.predict(inputs, batch_size=4096, verbose=0))[:, 1]


def load_demo(
    name: str = "credit_fcn",
    *,
    n: int = 30_000,
    seed: int = 0,
    epochs: int = 100,
    rebuild: bool = False,
    progress: bool = True,
) -> DemoModel:
    """The demo model ``name`` on the embedded credit data, built once and then loaded from the cache.

    Parameters
    ----------
    name : ``"credit_fcn"`` (the paper's network), ``"credit_lstm"`` (payment-history LSTM),
        ``"credit_xgb"`` (XGBoost) or ``"credit_stack"`` (XGBoost, LightGBM and the paper's
        network combined by a small network; it loads or trains ``credit_fcn`` first).
    n, seed : size and seed of the generated data (and of the split and training).
    epochs : maximum training epochs (early stopping on a 10 % validation share, patience 5) of
        the networks (the stack's head and its network).
    rebuild : train again even when a valid cached model exists.
    progress : show a progress bar over training epochs (boosting rounds for trees).
    """
    if not isinstance(name, str) or name not in DEMOS:
        raise unknown_name("demo", name, DEMOS)
    n = whole_number("n", n, minimum=MIN_ROWS, meaning="clients of generated data to train and test on")
    epochs = whole_number("epochs", epochs, minimum=1, meaning="the most training epochs")
    if name in TREE_DEMOS:
        from .tree_demo import fit_tree_demo

        network = None
        if name == "credit_stack":
            network = load_demo("credit_fcn", n=n, seed=seed, epochs=epochs, rebuild=False, progress=progress)
        return fit_tree_demo(
            make_credit_default(n, seed=seed),
            name,
            seed=seed,
            network=network,
            rebuild=rebuild,
            progress=progress,
            cache_name=name,
        )
    return fit_credit_model(
        make_credit_default(n, seed=seed),
        name,
        seed=seed,
        epochs=epochs,
        rebuild=rebuild,
        progress=progress,
        cache_name=name,
    )


#: Feature counts k of the demo's selection experiment (top k by global importance).
SELECTION_KS = (1, 2, 3, 4, 5, 6, 8, 12, 23)


def selection_path(demo):
    """The selection experiment's cache entry, keyed by the model's fingerprint and its rows
    (never by a name another model could share)."""
    return cache_dir() / f"selection-{fingerprint(demo.model)}-{_frame_fingerprint(demo.frame)[:16]}.json"


def _selection_recipe(demo, ks, epochs, repeats) -> dict:
    return {
        "model": fingerprint(demo.model),
        "ks": [int(k) for k in ks],
        "epochs": int(epochs),
        "repeats": int(repeats),
        "rows": len(demo.frame),
    }


def selection_experiment(
    demo: DemoModel, ks=SELECTION_KS, *, epochs: int = 30, repeats: int = 1, progress: bool = True
) -> dict:
    """Test error against k: the paper's network retrained on the top k features of the demo
    network's global importance (32 hidden units below all features, as in Table 1), for each k
    in ``ks``; ``{k: mean test error}``. Cached beside the model, keyed by its weights."""

    if demo.name != "credit_fcn":
        raise unknown_name("demo with a selection experiment", demo.name, ["credit_fcn"])
    n_all = len(CREDIT_FEATURES)
    if isinstance(ks, (str, bytes)) or not hasattr(ks, "__iter__"):
        raise ArgumentError(f"ks must be a sequence of feature counts between 1 and {n_all}; got {ks!r}.")
    ks = [whole_number("each k in ks", k, minimum=1, maximum=n_all, meaning="a number of top features") for k in ks]
    if not ks:
        raise ArgumentError(f"ks must name at least one feature count between 1 and {n_all}; got an empty sequence.")
    epochs = whole_number("epochs", epochs, minimum=1, meaning="the most training epochs per retrain")
    repeats = whole_number("repeats", repeats, minimum=1, meaning="trainings per feature count")
    path = selection_path(demo)
    recipe = _selection_recipe(demo, ks, epochs, repeats)
    cached = cached_selection_errors(demo, recipe)
    if cached is not None:
        return cached
    require_writable(path.parent, "the selection experiment", (path,))
    train, test = demo.rows(demo.train_rows), demo.rows(demo.test_rows)
    ranked = demo.explainer().explain(train).global_importance().sorted().feature_names

    def network(k):
        return lambda seed: models.credit_network(k, seed=seed, hidden=64 if k == n_all else 32)

    candidates = {f"top {k}": Candidate(network(k), tuple(ranked[:k])) for k in recipe["ks"]}
    result = retrain_comparison(
        candidates,
        train,
        demo.target[demo.train_rows],
        test,
        demo.target[demo.test_rows],
        repeats=repeats,
        epochs=epochs,
        progress=progress,
    )
    summary = result.summary()
    errors = {k: float(summary.loc[f"top {k}", "test_error mean"]) for k in recipe["ks"]}
    try:
        write_text(path, json.dumps({"recipe": recipe, "errors": {str(k): v for k, v in errors.items()}}, indent=2))
    except OSError as error:  # the experiment's result is returned all the same
        store_failed("The selection experiment", path.parent, error)
    return errors


def cached_selection_errors(demo: DemoModel, recipe: dict | None = None) -> dict | None:
    """The stored ``{k: test error}`` of :func:`selection_experiment` for this very model, or None
    when the experiment has not been run (or was run for other weights)."""

    if demo.name != "credit_fcn":
        return None
    path = selection_path(demo)
    if not path.exists():
        return None
    try:
        stored = json.loads(path.read_text())
        wanted = recipe["model"] if recipe is not None else _selection_recipe(demo, [], 0, 0)["model"]
        if stored["recipe"]["model"] != wanted or (recipe is not None and stored["recipe"] != recipe):
            return None
        return {int(k): float(v) for k, v in stored["errors"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def demo_comparisons(demo: DemoModel, rows) -> dict:
    """The paper's other importances on the demo's rows (a decision tree and a lasso-logistic
    model fitted to the true outcomes), for the models whose reported features are the raw
    columns (the dense network, the tree model, the stack); ``{method: Explanation}``."""
    if demo.name == "credit_lstm":
        return {}
    rows = np.asarray(rows)
    return surrogate_importances(demo.frame.iloc[rows][list(CREDIT_FEATURES)], demo.target[rows])


def demo_reasons(
    demo,
    *,
    baseline: str = "average",
    steps=64,
    rule: str = "gausslegendre",
    tolerance: float = 1e-6,
    cutoff: float = 0.5,
    band: float = 0.05,
    draws: int = 100,
    max_reasons: int = 4,
    catalogue=None,
    progress=None,
) -> ReasonRecipe:
    """Reasons for a demo model: IG of P(default) (Generalized Integrated Gradients for a tree
    model or a stack), the chosen documented baseline built from the training rows, the UCI
    reason catalogue, applicants denied at ``cutoff``."""
    options = demo.explainer_options()
    if demo.kind == "keras":
        explainer = IntegratedGradients(
            demo.model, steps=steps, rule=rule, tolerance=tolerance, progress=progress, **options
        )
    else:
        explainer = attributor_for(demo.artifact, steps=steps, rule=rule, tolerance=tolerance, progress=progress)
    baselines = documented_baselines(demo.rows(demo.train_rows), cutoff=cutoff, band=band, draws=draws)
    if baseline not in baselines:
        raise unknown_name("baseline", baseline, baselines)
    elements = demo.artifact.elements() if demo.name == "credit_lstm" else None
    training = demo.frame.iloc[demo.train_rows]
    return ReasonRecipe(
        explainer,
        baselines[baseline],
        catalogue or credit_reason_catalogue(),
        cutoff=cutoff,
        to_inputs=demo.model_inputs,
        columns=CREDIT_FEATURES,
        elements=elements,
        max_reasons=max_reasons,
        ranges=reference_ranges(training, CREDIT_FEATURES),
    )
