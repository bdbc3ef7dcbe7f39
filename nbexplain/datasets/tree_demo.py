"""The tree-ensemble and stack demos on the embedded credit data, cached like the networks.

``credit_xgb``: XGBoost (:data:`XGB_PARAMS`: 300 trees of depth 4) on the 23 raw UCI columns.

``credit_stack``: a stacked ensemble ``F(x) = g(h_xgb(x), h_lgbm(x), x)`` read by
:class:`~nbexplain.model.stack.Stack`: two boosted models (XGBoost and LightGBM,
:data:`STACK_XGB_PARAMS`, :data:`STACK_LGBM_PARAMS`) give their margins (log-odds), and a small
Keras head reads them with the raw columns. Inside the head the columns are standardised by a
``Normalization`` layer (the training rows' mean and deviation, the same as the paper's
network's), so that the stack reads raw columns like the trees; the standardised columns feed a
frozen copy of the paper's network (``credit_fcn``: its hidden layer and its two softmax logits)
and four tanh units; the margins, the network's logits and those units are combined linearly and
squashed by a sigmoid: ``P(default)``. The boosted models are fitted on 80 % of the training rows
and the head (its mixing weights and tanh units; the paper's network is kept as trained) on the
other 20 %, so that the head learns from margins the trees did not fit (blending).

Both use the networks' split (:func:`~nbexplain.datasets.demo.split_rows`: 25,000 training rows,
5,000 test rows). Each is cached as a model artifact (``<name>.nbx``: the trees as JSON, the head
as a ``.keras`` member, no pickle) with a manifest keyed by the data's fingerprint and the recipe
(:func:`~nbexplain.datasets._cache.cached_artifact`); a change of either rebuilds it. The record
holds the train and test error (predicted default when ``P(default) > 0.5``, the networks' rule),
the test AUC and, for the stack, the same of its members on the same test rows.
"""

from __future__ import annotations

import hashlib
import time

import numpy as np

from .._files import write_bytes
from ..errors import require, true_or_false, unknown_name, whole_number
from ..model._keras import fingerprint as network_fingerprint
from ..model.artifact import ModelArtifact
from ..model.stack import Stack
from ._cache import cache_dir, cached_artifact
from .credit import CREDIT_FEATURES, CREDIT_TARGET
from .demo_model import (
    OUTCOME_LABELS,
    TREE_DEMOS,
    DemoModel,
    _frame_fingerprint,
    check_credit_frame,
    roc_auc,
    split_rows,
)

#: Bump when the recipe changes in a way the recipe dictionary does not show.
TREE_DEMO_FORMAT = 1
#: ``credit_xgb``: boosted trees on the raw columns.
XGB_PARAMS = {
    "n_estimators": 300,
    "max_depth": 4,
    "learning_rate": 0.05,
    "subsample": 0.8,
    "colsample_bytree": 0.8,
    "tree_method": "hist",
}
#: The stack's two boosted models (smaller: they are one voice of three).
STACK_XGB_PARAMS = {"n_estimators": 100, "max_depth": 3, "learning_rate": 0.1, "tree_method": "hist"}
STACK_LGBM_PARAMS = {"n_estimators": 100, "num_leaves": 8, "learning_rate": 0.1, "min_child_samples": 40}
#: Share of the training rows the stack's boosted models are fitted on (the head: the rest).
MEMBER_SHARE = 0.8
#: Epochs (at most; early stopping) and learning rate of the stack's head.
HEAD_EPOCHS = 40
HEAD_LEARNING_RATE = 0.003
TITLES = {
    "credit_xgb": "XGBoost (300 trees of depth 4, 23 raw features)",
    "credit_stack": "Stacked ensemble: XGBoost + LightGBM + the paper's network, combined by a small network",
}


def fit_tree_demo(
    frame,
    kind: str = "credit_xgb",
    *,
    seed: int = 0,
    network=None,
    rebuild: bool = False,
    progress: bool = True,
    cache_name: str | None = None,
):
    """Train (or load from the cache) the tree demo ``kind`` on a frame with the UCI columns.

    ``network``: the trained ``credit_fcn`` demo model (:class:`~nbexplain.datasets.demo.DemoModel`)
    whose copy the stack's head holds (required for ``"credit_stack"``; its weights' fingerprint
    is part of the stack's recipe). Returns a :class:`~nbexplain.datasets.demo.DemoModel` whose
    ``model`` is the :class:`~nbexplain.model.trees.TreeEnsemble` or the
    :class:`~nbexplain.model.stack.Stack` and whose ``inputs`` are the raw columns.
    """
    if kind not in TREE_DEMOS:
        raise unknown_name("tree demo", kind, TREE_DEMOS)
    seed = whole_number("seed", seed, minimum=0, meaning="of the split and the trees")
    rebuild, progress = true_or_false("rebuild", rebuild), true_or_false("progress", progress)
    if kind == "credit_stack" and (network is None or getattr(network, "name", None) != "credit_fcn"):
        raise unknown_name("network of the stack (a DemoModel)", getattr(network, "name", network), ["credit_fcn"])
    check_credit_frame(frame, "fit_tree_demo")
    frame = frame.set_axis([str(c) for c in frame.columns], axis=1)
    xgboost = require("xgboost", "trees", "The tree demos")
    n = len(frame)
    train, test = split_rows(n, seed=seed)
    target = frame[CREDIT_TARGET].to_numpy(dtype=float).astype(np.int64)
    columns = frame[list(CREDIT_FEATURES)].astype(np.float64)
    fingerprint = _frame_fingerprint(frame)
    entry = cache_name or f"{kind}-{fingerprint[:12]}"
    recipe: dict = {
        "format": TREE_DEMO_FORMAT,
        "kind": kind,
        "rows": n,
        "seed": seed,
        "data": fingerprint,
        "xgboost_major": xgboost.__version__.split(".")[0],
    }
    if kind == "credit_xgb":
        recipe["xgboost"] = XGB_PARAMS
    else:
        lightgbm = require("lightgbm", "trees", "The stacked demo")
        recipe.update(
            xgboost=STACK_XGB_PARAMS,
            lightgbm=STACK_LGBM_PARAMS,
            lightgbm_major=lightgbm.__version__.split(".")[0],
            member_share=MEMBER_SHARE,
            head_epochs=HEAD_EPOCHS,
            network=network_fingerprint(network.model),
        )

    def build():
        started = time.perf_counter()
        if kind == "credit_xgb":
            model = _boosted(xgboost, XGB_PARAMS, columns.iloc[train], target[train], seed, progress, kind)
            artifact_model, record = model, {"trees": XGB_PARAMS["n_estimators"], "depth": XGB_PARAMS["max_depth"]}
            scores = model.predict_proba(columns)[:, 1]
            libraries = {"xgboost": model}
        else:
            artifact_model, record, libraries = _stack(
                xgboost, lightgbm, network, columns, target, train, test, seed, progress
            )
            scores = artifact_model.predict(columns)
        record.update(_errors(scores, target, train, test), seconds=round(time.perf_counter() - started, 2))
        record["xgboost"] = xgboost.__version__
        record["library_files"] = _library_files(entry, libraries)
        training = {
            "kind": kind,
            "rows": len(train),
            "fingerprint": _frame_fingerprint(frame.iloc[train]),
            "seed": seed,
            **{k: record[k] for k in ("train_error", "test_error", "test_auc")},
        }
        output = "probability" if kind == "credit_xgb" else "margin"
        artifact = ModelArtifact(artifact_model, (), None, OUTCOME_LABELS, "P(default)", training, output=output)
        return artifact, record

    artifact, record = cached_artifact(entry, recipe, build, rebuild=rebuild)
    inputs = artifact.to_inputs(frame)
    return DemoModel(kind, artifact.model, frame, inputs, target, train, test, artifact, record)


def _errors(scores, target, train, test) -> dict:
    """Train and test error (default predicted when the score is above 0.5) and test AUC."""
    wrong = (np.asarray(scores) > 0.5) != target.astype(bool)
    return {
        "train_error": float(wrong[train].mean()),
        "test_error": float(wrong[test].mean()),
        "test_auc": roc_auc(np.asarray(scores)[test], target[test]),
    }


def _boosted(xgboost, params: dict, X, y, seed: int, progress: bool, what: str):
    """An XGBoost classifier fitted with a progress bar over its boosting rounds."""
    from tqdm.auto import tqdm

    class Rounds(xgboost.callback.TrainingCallback):
        def after_iteration(self, model, epoch, evals_log):
            bar.update()
            return False

    with tqdm(total=params["n_estimators"], desc=f"training {what}", unit="tree", disable=not progress) as bar:
        model = xgboost.XGBClassifier(**params, random_state=seed, n_jobs=_threads(), callbacks=[Rounds()])
        model.fit(X, y)
    model.set_params(callbacks=None)
    return model


def _threads() -> int:
    import os

    return os.cpu_count() or 1


def _stack(xgboost, lightgbm, network, columns, target, train, test, seed: int, progress: bool) -> tuple:
    """The stacked demo: two boosted models on ``MEMBER_SHARE`` of the training rows, a head with
    a copy of the paper's network fitted on the rest (see the module docstring)."""
    from tqdm.auto import tqdm

    from .._tensorflow import keras_module
    from ..engine.selection import fit_classifier

    keras = keras_module()
    order = np.random.default_rng(seed + 1).permutation(train)
    cut = int(round(MEMBER_SHARE * len(order)))
    members, blend = np.sort(order[:cut]), np.sort(order[cut:])
    boosted = _boosted(xgboost, STACK_XGB_PARAMS, columns.iloc[members], target[members], seed, progress, "stack xgb")
    with tqdm(
        total=STACK_LGBM_PARAMS["n_estimators"], desc="training stack lgbm", unit="tree", disable=not progress
    ) as bar:
        options = {"random_state": seed, "n_jobs": _threads(), "deterministic": True, "force_col_wise": True}
        light = lightgbm.LGBMClassifier(**STACK_LGBM_PARAMS, **options, verbose=-1)
        light.fit(columns.iloc[members], target[members], callbacks=[lambda env: bar.update()])
    probe = Stack([boosted, light], "sum", feature_names=list(CREDIT_FEATURES))
    margins = probe.margins(columns)
    head = _head(keras, network, seed)
    inputs = [margins[blend], columns.iloc[blend].to_numpy(np.float64)]
    with tqdm(total=HEAD_EPOCHS, desc="training stack head", unit="epoch", disable=not progress) as bar:
        epochs = fit_classifier(head, inputs, target[blend], epochs=HEAD_EPOCHS, batch_size=128, progress=bar)
    stack = Stack([boosted, light], head, feature_names=list(CREDIT_FEATURES))
    record = {
        "trees": STACK_XGB_PARAMS["n_estimators"] + STACK_LGBM_PARAMS["n_estimators"],
        "epochs": epochs,
        "member_rows": len(members),
        "head_rows": len(blend),
        "lightgbm": lightgbm.__version__,
        "keras": keras.__version__,
        "members": {
            "xgboost": _errors(boosted.predict_proba(columns)[:, 1], target, members, test),
            "lightgbm": _errors(light.predict_proba(columns)[:, 1], target, members, test),
            "network": {k: network.record.get(k) for k in ("train_error", "test_error", "test_auc")},
        },
    }
    return stack, record, {"xgboost": boosted, "lightgbm": light}


def _library_files(name: str, models: dict) -> dict:
    """Write each boosted model as its library saves it (XGBoost JSON, LightGBM text) beside the
    cache entry (all-or-nothing each): not read by nbexplain (the artifact holds the trees), kept
    so that the library itself can be asked what it predicts (the tests' independent truth) or
    the model used elsewhere. ``{library: {"file": name, "sha256": ...}}`` for the record."""
    written = {}
    folder = cache_dir()
    for library, model in models.items():
        if library == "xgboost":
            data, suffix = bytes(model.get_booster().save_raw("json")), "json"
        else:
            data, suffix = model.booster_.model_to_string().encode(), "txt"
        path = folder / f"{name}.{library}.{suffix}"
        write_bytes(path, data)
        written[library] = {"file": path.name, "sha256": hashlib.sha256(data).hexdigest()}
    return written


def library_files(demo) -> dict:
    """``{library: path}`` of the boosted models of a tree demo as their libraries saved them
    (see :func:`_library_files`), each checked against the SHA-256 its record holds; a missing or
    changed file is an error."""
    from ..errors import NBExplainError

    found = {}
    for library, entry in dict(demo.record.get("library_files") or {}).items():
        path = cache_dir() / entry["file"]
        if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != entry["sha256"]:
            raise NBExplainError(f"The {library} file {path} of {demo.name} is missing or changed; rebuild the demo.")
        found[library] = path
    return found


def _head(keras, network, seed: int):
    """The stack's head over (margins, raw columns): standardisation, a frozen copy of the paper's
    network (its hidden layer and softmax logits), four tanh units, a linear mix and a sigmoid.
    It computes in float64, so that the jumps and integrals of Generalized Integrated Gradients
    add up to the score difference to 1e-6 and better (a float32 head cannot)."""
    recipe = network.artifact.inputs[0]
    keras.utils.set_random_seed(seed)
    exact = {"dtype": "float64"}
    margins = keras.Input((2,), name="margins", **exact)
    features = keras.Input((len(CREDIT_FEATURES),), name="features", **exact)
    standardise = keras.layers.Normalization(
        mean=recipe.mean, variance=np.square(recipe.scale), name="standardise", **exact
    )
    standardised = standardise(features)
    hidden_weights, output_weights = (layer.get_weights() for layer in network.model.layers[-2:])
    hidden = keras.layers.Dense(len(hidden_weights[1]), activation="tanh", name="fcn_hidden", trainable=False, **exact)
    logits = keras.layers.Dense(2, name="fcn_logits", trainable=False, **exact)
    network_logits = logits(hidden(standardised))
    hidden.set_weights(hidden_weights)
    logits.set_weights(output_weights)
    # starts as the mean of the three log-odds (the network's: its second logit minus its first)
    start = keras.initializers.Constant(np.array([[1 / 3], [1 / 3], [-1 / 6], [1 / 6]]))
    voices = keras.layers.Concatenate(name="voices", **exact)([margins, network_logits])
    mix = keras.layers.Dense(1, kernel_initializer=start, name="mix", **exact)(voices)
    units = keras.layers.Dense(4, activation="tanh", name="inputs", **exact)(standardised)
    adjust = keras.layers.Dense(1, kernel_initializer="zeros", use_bias=False, name="adjust", **exact)(units)
    summed = keras.layers.Add(name="log_odds", **exact)([mix, adjust])
    score = keras.layers.Activation("sigmoid", name="p_default", **exact)(summed)
    head = keras.Model([margins, features], score, name="stack_head")
    head.compile(optimizer=keras.optimizers.Adam(HEAD_LEARNING_RATE), loss="binary_crossentropy")
    return head
