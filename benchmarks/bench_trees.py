"""Generalized Integrated Gradients against shap and XGBoost on tree models, side by side.

1. An XGBoost classifier of 300 trees of depth 6 on the embedded credit data
   (``make_credit_default``, the 23 UCI features, target ``default``), its margin (log-odds)
   explained for 1,000 and 10,000 applicants by

   * nbexplain GIG against one baseline, the average input (numba backend, one thread; and all
     cores), the baseline resolved once beforehand;
   * shap's TreeExplainer, interventional with that one row as background (the same question);
   * shap's TreeExplainer, path-dependent (its default; a different question: no baseline);
   * XGBoost's own ``pred_contribs`` (path-dependent TreeSHAP in C++, all cores).

   Target: GIG no slower than interventional TreeSHAP with one background row, completeness
   error below 1e-5 for every applicant.

2. A stacked model: an XGBoost and a LightGBM classifier and a small Keras network (on the
   standardised features) combined by a small Keras head over the two margins, the network's
   output and the features (float64, trained here in seconds), P(default) explained by GIG
   (quadrature points per segment doubled until the completeness error is below 1e-14) and by
   shap's PermutationExplainer with the average input as its one background row (the same
   question), on the same few dozen applicants. Target: at least 100x faster at completeness
   at least as good.

Every time is measured in this one run: GIG and interventional TreeSHAP (the reference) run in
turn, ``--repeats`` rounds after a warm-up round (which also compiles the numba loops), and
their medians are compared, so that the changing load of a shared machine hits them alike; the
slow path-dependent methods and PermutationExplainer run once. shap's explainers are
built inside the timed call, as GIG reads the model inside its own. Completeness error:
``max |sum_j A_j - (f(x) - f(b))|`` (for the path-dependent methods ``f(b)`` is their own
expected value).

Run: ``.venv/bin/python benchmarks/bench_trees.py`` (needs the ``trees``, ``fast`` and
``comparisons`` extras: ``pip install 'nbexplain[trees,fast,comparisons]'``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np


def timed(fn, repeats):
    """Median wall time over ``repeats`` calls after one warm-up call, and the last result."""
    result = fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def interleaved(functions, repeats):
    """Median wall time of each function and its last result, the functions run in turn (after a
    warm-up round) so that a change of load on a shared machine hits them alike."""
    results = [fn() for fn in functions]
    times: list = [[] for _ in functions]
    for _ in range(repeats):
        for position, fn in enumerate(functions):
            start = time.perf_counter()
            results[position] = fn()
            times[position].append(time.perf_counter() - start)
    return [statistics.median(t) for t in times], results


def once(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def credit_data():
    from nbexplain.datasets import make_credit_default
    from nbexplain.datasets.credit import CREDIT_FEATURES, CREDIT_TARGET

    frame = make_credit_default()
    return frame[list(CREDIT_FEATURES)], frame[CREDIT_TARGET].to_numpy()


def boosted_trees(args, X, y, shap, xgb):
    """Part 1: the 300-tree XGBoost model against shap and pred_contribs."""
    from nbexplain import AverageInput, GeneralizedIntegratedGradients

    model = xgb.XGBClassifier(
        n_estimators=300, max_depth=6, learning_rate=0.05, tree_method="hist", n_jobs=os.cpu_count(), random_state=0
    ).fit(X, y)
    booster = model.get_booster()
    average = X.mean().to_frame().T
    lines = []
    for n in args.sizes:
        rows = X.iloc[:n]
        margin = booster.predict(xgb.DMatrix(rows), output_margin=True).astype(np.float64)
        margin_b = float(booster.predict(xgb.DMatrix(average), output_margin=True)[0])
        single = GeneralizedIntegratedGradients(model, backend="numba", threads=1, progress=False)
        every = single.with_params(threads=-1)
        baseline = single.resolve_baseline(AverageInput(X), rows)

        def interventional(rows=rows):
            explainer = shap.TreeExplainer(model, data=average, feature_perturbation="interventional")
            return explainer.shap_values(rows)

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            (one, many, reference), (first, second, values) = interleaved(
                [
                    lambda single=single, rows=rows, baseline=baseline: single.explain(rows, baseline),
                    lambda every=every, rows=rows, baseline=baseline: every.explain(rows, baseline),
                    interventional,
                ],
                args.repeats,
            )
            timings = [
                ("nbexplain GIG, average input, 1 thread", one, float(first.completeness_error.max())),
                (
                    f"nbexplain GIG, average input, {os.cpu_count()} threads",
                    many,
                    float(second.completeness_error.max()),
                ),
                (
                    "shap TreeExplainer, interventional, average input",
                    reference,
                    float(np.abs(values.sum(axis=1) - (margin - margin_b)).max()),
                ),
            ]

            def path_dependent(rows=rows):
                explainer = shap.TreeExplainer(model)
                return explainer.shap_values(rows), explainer.expected_value

            seconds, (values, expected) = once(path_dependent)
            error = np.abs(values.sum(axis=1) + expected - margin).max()
            timings.append(("shap TreeExplainer, path-dependent (no baseline)", seconds, float(error)))
        seconds, contributions = once(lambda rows=rows: booster.predict(xgb.DMatrix(rows), pred_contribs=True))
        error = np.abs(contributions.sum(axis=1) - margin).max()
        timings.append(("XGBoost pred_contribs (path-dependent, all cores)", seconds, float(error)))
        lines.append((n, timings))
    return lines


def stacked_model(args, X, y, shap, xgb):
    """Part 2: two boosted models and a network under a Keras head, against PermutationExplainer."""
    import lightgbm as lgb

    from nbexplain import AverageInput, GeneralizedIntegratedGradients, Stack
    from nbexplain._tensorflow import keras_module

    keras = keras_module()
    keras.utils.set_random_seed(0)
    first = xgb.XGBClassifier(n_estimators=100, max_depth=4, learning_rate=0.1, n_jobs=os.cpu_count()).fit(X, y)
    second = lgb.LGBMClassifier(n_estimators=100, num_leaves=15, learning_rate=0.1, verbose=-1).fit(X, y)
    mean, scale = X.mean().to_numpy(), X.std().to_numpy()
    p = X.shape[1]
    features = keras.Input((p,), dtype="float64", name="features")
    margins = keras.Input((2,), dtype="float64", name="margins")
    standardised = keras.layers.Normalization(mean=mean, variance=scale**2, dtype="float64")(features)
    hidden = keras.layers.Dense(16, activation="tanh", dtype="float64")(standardised)
    network_out = keras.layers.Dense(1, dtype="float64", name="network")(hidden)  # the network's logit
    network = keras.Model(features, keras.layers.Activation("sigmoid", dtype="float64")(network_out))
    network.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy")
    network.fit(X.to_numpy(), y, epochs=3, batch_size=512, verbose=0)
    combined = keras.layers.Concatenate(dtype="float64")([margins, network_out, standardised])
    mixed = keras.layers.Dense(8, activation="tanh", dtype="float64")(combined)
    head = keras.Model([margins, features], keras.layers.Dense(1, activation="sigmoid", dtype="float64")(mixed))
    head.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy")
    stack = Stack([first, second], head)
    z = stack.margins(X)
    head.fit([z, X.to_numpy()], y, epochs=3, batch_size=512, verbose=0)

    rows = X.iloc[: args.stack_samples]
    average = X.mean().to_frame().T
    gig = GeneralizedIntegratedGradients(stack, tolerance=1e-14, backend="numba", progress=False)
    baseline = gig.resolve_baseline(AverageInput(X), rows)
    gig_seconds, result = timed(lambda: gig.explain(rows, baseline), max(1, args.repeats // 2))
    gig_error = float(result.completeness_error.max())
    f_b = float(stack.predict(average)[0])

    def permutation():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            explainer = shap.PermutationExplainer(
                stack.predict, shap.maskers.Independent(average.to_numpy(), max_samples=1)
            )
            return explainer(rows.to_numpy(), silent=True)

    shap_seconds, explanation = once(permutation)
    f_x = stack.predict(rows)
    shap_error = float(np.abs(explanation.values.sum(axis=1) - (f_x - f_b)).max())
    segments = float(np.mean(result.steps))
    return [
        (f"nbexplain GIG, average input ({segments:.0f} points / applicant)", gig_seconds, gig_error),
        ("shap PermutationExplainer, average input", shap_seconds, shap_error),
    ], result.meta


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--stack-samples", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "trees.json"))
    args = parser.parse_args(argv)

    from nbexplain.errors import require

    shap = require("shap", "comparisons", "The side-by-side benchmark against shap")
    xgb = require("xgboost", "trees", "The tree benchmark")
    require("numba", "fast", "The tree benchmark (GIG's compiled loops)")
    X, y = credit_data()
    record: dict = {"cores": os.cpu_count(), "parts": {}}

    print("1. XGBoost, 300 trees of depth 6, margin (log-odds) of default; credit data, 23 features\n")
    for n, timings in boosted_trees(args, X, y, shap, xgb):
        reference = next(s for name, s, _ in timings if "shap TreeExplainer, interventional" in name)
        print(f"{n:,} applicants")
        print(f"  {'method':58s} {'seconds':>9s} {'/ shap int.':>11s} {'max completeness error':>24s}")
        for name, seconds, error in timings:
            print(f"  {name:58s} {seconds:9.3f} {seconds / reference:11.2f} {error:24.2e}")
        record["parts"][f"xgboost {n}"] = [
            {"method": m, "seconds": s, "ratio_to_shap_interventional": s / reference, "max_completeness_error": e}
            for m, s, e in timings
        ]
        gig = timings[0]
        print(
            f"  -> GIG (1 thread) takes {gig[1] / reference:.2f}x the time of interventional TreeSHAP with one "
            f"background row (target <= 1); completeness error {gig[2]:.1e} (target < 1e-5)\n"
        )

    print(
        "2. Stack: XGBoost + LightGBM + a Keras network under a Keras head, P(default), "
        f"{args.stack_samples} applicants\n"
    )
    timings, meta = stacked_model(args, X, y, shap, xgb)
    print(f"  {'method':58s} {'seconds':>9s} {'per applicant':>14s} {'max completeness error':>24s}")
    for name, seconds, error in timings:
        print(f"  {name:58s} {seconds:9.3f} {seconds / args.stack_samples:14.4f} {error:24.2e}")
    speedup = timings[1][1] / timings[0][1]
    print(
        f"  -> GIG is {speedup:.0f}x faster than PermutationExplainer (target >= 100x); completeness error "
        f"{timings[0][2]:.1e} against {timings[1][2]:.1e}; {np.mean(meta['crossings']):.0f} crossings per applicant"
    )
    record["parts"]["stack"] = [
        {"method": m, "seconds": s, "speedup_of_gig": speedup, "max_completeness_error": e} for m, s, e in timings
    ]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(record, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
