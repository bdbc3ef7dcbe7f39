"""Integrated Gradients against shap's DeepExplainer and GradientExplainer, side by side.

The paper's credit network (23 inputs -> Dense(64, tanh) -> Dense(2, softmax), the cached demo
model), P(default) of 1,000 training rows. Measured in this one run:

* nbexplain IG, Gauss-Legendre 64 steps, against the average input of the training rows;
* nbexplain IG, 64 steps, expected gradients over the same 100 background rows shap gets;
* shap DeepExplainer with the average input as its one background row (the same question as
  the first line) and with 100 background rows;
* shap GradientExplainer with 100 background rows (its default 200 samples per row).

For each: wall time (median of ``--repeats`` runs after a warm-up for nbexplain, one run for
shap, which is slow), the ratio to nbexplain IG, and the completeness error
``max |sum of attributions - (f(x) - f(baseline))|``. Target: IG at least 50x faster than
DeepExplainer, with completeness error below 1e-6.

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


def timed(fn, repeats):
    """Median wall time over ``repeats`` calls after one warm-up call, and the last result."""
    result = fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def once(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--background", type=int, default=100)
    parser.add_argument("--steps", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5)
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
    rows = []
    ig = IntegratedGradients(demo.model, **demo.explainer_options(), steps=args.steps, progress=False)
    baseline = ig.resolve_baseline(AverageInput(train), X)
    seconds, result = timed(lambda: ig.explain(X, baseline), args.repeats)
    rows.append(("nbexplain IG, average input", seconds, float(result.completeness_error.max())))
    expected = ig.resolve_baseline(ReferenceSet(background, draws=len(background)), X)
    seconds, result = timed(lambda: ig.explain(X, expected), max(1, args.repeats // 2))
    rows.append(
        (f"nbexplain IG, expected gradients ({args.background} rows)", seconds, float(result.completeness_error.max()))
    )

    def shap_row(name, explainer_class, reference, **options):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            explainer = explainer_class(demo.model, reference)
            explainer.shap_values(X[:2], **options)  # warm-up (graph building)
            seconds, values = once(lambda: explainer.shap_values(X, **options))
        values = np.asarray(values)[..., 1]
        error = np.abs(values.sum(axis=1) - (f_x - probability(reference).mean()))
        rows.append((name, seconds, float(error.max())))

    shap_row("shap DeepExplainer, average input", shap.DeepExplainer, average)
    shap_row(f"shap DeepExplainer, {args.background} background rows", shap.DeepExplainer, background)
    shap_row(f"shap GradientExplainer, {args.background} background rows", shap.GradientExplainer, background)

    reference = rows[0][1]
    print(f"{args.samples} samples of the credit network, P(default), {args.steps} Gauss-Legendre steps\n")
    print(f"{'method':58s} {'seconds':>9s} {'x IG':>8s} {'max completeness error':>24s}")
    for name, seconds, error in rows:
        print(f"{name:58s} {seconds:9.3f} {seconds / reference:8.1f} {error:24.2e}")
    deep = next(s for n, s, _ in rows if n.startswith("shap DeepExplainer, average"))
    deep_many = next(s for n, s, _ in rows if n.startswith(f"shap DeepExplainer, {args.background}"))
    print(
        f"\nIG vs DeepExplainer on the same question (average input): {deep / reference:.0f}x faster "
        f"(target 50x); vs DeepExplainer with {args.background} background rows: {deep_many / reference:.0f}x. "
        f"IG completeness error {rows[0][2]:.1e} (target < 1e-6)."
    )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(
        json.dumps(
            {
                "samples": args.samples,
                "steps": args.steps,
                "rows": [
                    {"method": n, "seconds": s, "ratio_to_ig": s / reference, "max_completeness_error": e}
                    for n, s, e in rows
                ],
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
