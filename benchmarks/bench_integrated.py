"""Integrated Gradients against shap's DeepExplainer and GradientExplainer, side by side.

The paper's credit network (23 inputs -> Dense(64, tanh) -> Dense(2, softmax), the cached demo
model), P(default) of 1,000 training rows. Measured in this one run:

* nbexplain IG, Gauss-Legendre 64 steps, against the average input of the training rows;
* shap DeepExplainer with the average input as its one background row (the same question);
* the reference-set baseline, 100 training rows (expected gradients, 100,000 (sample, baseline)
  pairs): nbexplain IG at a fixed 64 steps, IG with ``steps="auto"`` (``tolerance=1e-6``: every
  pair doubles from ``min_steps`` until its own completeness error
  ``|sum_e A_e - (f(x) - f(b))|`` is at most 1e-6, only the pairs above it carrying on), and
  shap DeepExplainer with the same 100 background rows;
* shap GradientExplainer with 100 background rows (its default 200 samples per row), once.

The box may be noisy: every method but GradientExplainer runs once per round, the rounds
interleaved (``--repeats`` of them after a warm-up), and the table gives medians. The ratio
IG-auto / DeepExplainer is the median of the per-round ratios (each pair measured next to each
other). For IG the table also gives the gradient evaluations (path points), the steps the pairs
stopped at and the largest completeness error of a single pair. Targets: IG at least 50x faster
than DeepExplainer on the average input; reference-set IG with ``steps="auto"`` no slower than
DeepExplainer with the same background (ratio <= 1), every pair's completeness error below 1e-6.

Run: ``.venv/bin/python benchmarks/bench_integrated.py`` (``make benchmark``; needs the
``comparisons`` extra: ``pip install 'nbexplain[comparisons]'``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

TOLERANCE = 1e-6


def seconds(fn):
    """Wall time of one call, and its result."""
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--background", type=int, default=100)
    parser.add_argument("--steps", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=7, help="interleaved rounds after the warm-up")
    parser.add_argument("--no-gradient-explainer", action="store_true", help="skip shap's GradientExplainer")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "integrated.json"))
    args = parser.parse_args(argv)

    from nbexplain import AverageInput, IntegratedGradients, ReferenceSet
    from nbexplain.datasets import load_demo
    from nbexplain.errors import require

    shap = require("shap", "comparisons", "The side-by-side benchmark against shap")
    demo = load_demo("credit_fcn")
    train = demo.rows(demo.train_rows).to_numpy(dtype="float32")
    X = train[: args.samples]
    background = train[np.random.default_rng(0).choice(len(train), args.background, replace=False)]
    average = train.mean(axis=0, keepdims=True)

    def probability(inputs):
        return demo.model.predict(inputs, batch_size=8192, verbose=0)[:, 1].astype(np.float64)

    f_x = probability(X)
    options = {**demo.explainer_options(), "progress": False}
    fixed = IntegratedGradients(demo.model, **options, steps=args.steps)
    auto = IntegratedGradients(demo.model, **options, steps="auto", tolerance=TOLERANCE)
    auto_low = auto.with_params(min_steps=4)
    at_average = fixed.resolve_baseline(AverageInput(train), X)
    reference = fixed.resolve_baseline(ReferenceSet(background, draws=len(background)), X)

    def deep(reference_rows):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            explainer = shap.DeepExplainer(demo.model, reference_rows)
            explainer.shap_values(X[:2])  # warm-up (graph building)
        expected_gap = f_x - probability(reference_rows).mean()

        def run():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                values = np.asarray(explainer.shap_values(X))[..., 1]
            return np.abs(values.sum(axis=1) - expected_gap)

        return run

    def ig(explainer, baseline):
        return lambda: explainer.explain(X, baseline)

    k = args.background
    methods = {
        f"nbexplain IG, average input, {args.steps} steps": ig(fixed, at_average),
        "shap DeepExplainer, average input": deep(average),
        f"nbexplain IG, {k}-row reference set, {args.steps} steps": ig(fixed, reference),
        f"nbexplain IG, {k}-row reference set, auto (min_steps 8)": ig(auto, reference),
        f"nbexplain IG, {k}-row reference set, auto (min_steps 4)": ig(auto_low, reference),
        f"shap DeepExplainer, {k} background rows": deep(background),
    }
    names = list(methods)
    ig_average, deep_average, ig_fixed, ig_auto, ig_auto_low, deep_reference = names
    times: dict = {name: [] for name in names}
    results: dict = {}
    for name, run in methods.items():  # warm-up: tracing, graph building
        results[name] = run()
    for _ in range(args.repeats):
        for name, run in methods.items():
            elapsed, results[name] = seconds(run)
            times[name].append(elapsed)
    if not args.no_gradient_explainer:
        name = f"shap GradientExplainer, {k} background rows (once)"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            explainer = shap.GradientExplainer(demo.model, background)
            explainer.shap_values(X[:2])
            elapsed, values = seconds(lambda: explainer.shap_values(X))
        values = np.asarray(values)[..., 1]
        names.append(name)
        times[name] = [elapsed]
        results[name] = np.abs(values.sum(axis=1) - (f_x - probability(background).mean()))

    def describe(name):
        result = results[name]
        median = statistics.median(times[name])
        if isinstance(result, np.ndarray):  # shap: per-sample completeness errors
            return {"method": name, "seconds": median, "max_completeness_error": float(result.max())}
        return {
            "method": name,
            "seconds": median,
            "max_completeness_error": float(result.completeness_error.max()),
            "max_pair_completeness_error": result.meta.get("max_pair_completeness_error"),
            "pair_steps": result.meta.get("pair_steps"),
            "gradient_evaluations": result.meta.get("gradient_evaluations"),
        }

    rows = [describe(name) for name in names]
    base = statistics.median(times[ig_average])
    print(f"{args.samples} samples of the credit network, P(default); medians of {args.repeats} interleaved rounds\n")
    print(f"{'method':56s} {'seconds':>8s} {'x IG avg':>9s} {'gradients':>10s} {'max error':>10s} {'max pair':>10s}")
    for row in rows:
        evaluations = row.get("gradient_evaluations")
        pair = row.get("max_pair_completeness_error")
        print(
            f"{row['method']:56s} {row['seconds']:8.3f} {row['seconds'] / base:9.1f} "
            f"{'' if evaluations is None else f'{evaluations:,}':>10s} {row['max_completeness_error']:10.2e} "
            f"{'' if pair is None else f'{pair:.4e}':>10s}"
        )

    def paired_ratio(first, second):
        return statistics.median(a / b for a, b in zip(times[first], times[second]))

    print("\nSteps at which the (sample, baseline) pairs stopped (pairs):")
    for name in (ig_fixed, ig_auto, ig_auto_low):
        steps = results[name].meta.get("pair_steps")
        print(f"  {name:54s} {'not recorded' if steps is None else json.dumps(steps)}")
    ratios = {
        "ig_average_vs_deep_average": paired_ratio(deep_average, ig_average),
        "ig_auto_over_deep": paired_ratio(ig_auto, deep_reference),
        "ig_auto_low_over_deep": paired_ratio(ig_auto_low, deep_reference),
        "ig_fixed_over_deep": paired_ratio(ig_fixed, deep_reference),
        "ig_auto_over_ig_fixed": paired_ratio(ig_auto, ig_fixed),
    }
    deep_seconds = statistics.median(times[deep_reference])
    worst_pair = max(results[name].meta.get("max_pair_completeness_error", np.inf) for name in (ig_auto, ig_auto_low))
    print(
        f"\nAverage input: IG {ratios['ig_average_vs_deep_average']:.0f}x faster than DeepExplainer (target 50x)."
        f"\n{k}-row reference set, per-round ratios to DeepExplainer ({deep_seconds:.3f} s):"
        f" IG {args.steps} steps {ratios['ig_fixed_over_deep']:.2f}, IG auto {ratios['ig_auto_over_deep']:.2f}"
        f" (min_steps 4: {ratios['ig_auto_low_over_deep']:.2f}); target <= 1."
        f"\nIG auto / IG {args.steps} steps: {ratios['ig_auto_over_ig_fixed']:.2f}. Largest completeness error of a"
        f" single pair with auto steps: {worst_pair:.4e} (target < {TOLERANCE:g})."
    )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(
        json.dumps(
            {
                "samples": args.samples,
                "background": k,
                "steps": args.steps,
                "tolerance": TOLERANCE,
                "repeats": args.repeats,
                "rows": rows,
                "per_round_seconds": times,
                "ratios": ratios,
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
