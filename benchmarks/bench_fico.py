"""The FICO entry's model and explanations on the embedded HELOC-schema data, timed.

The past cases are every row of ``make_heloc`` (seed 0) but the 585 all -9 rows: about 9,900
cases x 182 step columns. Measured in this one run:

* fitting the two-layer additive risk model (median of ``--repeats`` fits);
* for ``--applicants`` applicants (a seeded sample of the rows), each against all past cases:
  the minimum rule (difference sets + the HiGHS MILP; target median < 1 s, worst < 2 s), the
  best-supported rule at the minimum size and at minimum + 1 (the exact search; target < 1 s
  each), the whole SetCoverExplanation, and the case table;
* one row's full computation (median of 200; target well under 10 ms) and the exact attributions
  of every row against the training average (the dashboard's one pass).

Run: ``.venv/bin/python benchmarks/bench_fico.py [--applicants 50] [--out results.json]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np


def timed(fn, repeats=1):
    """Median wall time of ``repeats`` calls and the last result."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def line(name, values, target=None):
    values = np.asarray(values, dtype=float)
    text = f"{name:58s} median {np.median(values) * 1e3:9.1f} ms   max {values.max() * 1e3:9.1f} ms"
    return text + (f"   (target {target})" if target else "")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--applicants", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", help="write the numbers as JSON (all-or-nothing)")
    args = parser.parse_args(argv)

    from nbexplain.credit import PastCases, SetCoverExplainer, case_table
    from nbexplain.credit.rules import difference_sets, minimum_hitting_set
    from nbexplain.datasets import make_heloc
    from nbexplain.datasets.heloc import HELOC_FEATURES
    from nbexplain.engine.protocol import ModelExplainers
    from nbexplain.model.additive import AdditiveRiskModel
    from nbexplain.results.serial import dump_json

    frame = make_heloc(seed=args.seed)
    frame = frame[~(frame[list(HELOC_FEATURES)] == -9).all(axis=1)]
    X, y = frame[list(HELOC_FEATURES)], frame["RiskPerformance"]
    fit_seconds, model = timed(lambda: AdditiveRiskModel().fit(X, y), args.repeats)
    past = PastCases.from_model(model, X, y)
    print(f"{past.n_cases} past cases x {past.steps.shape[1]} step columns; fit in {fit_seconds:.3f} s (median)")

    rows = np.sort(np.random.default_rng(args.seed).choice(len(X), size=args.applicants, replace=False))
    results: dict[str, list] = {k: [] for k in ("minimum", "best_min", "best_min1", "explanation", "cases")}
    sizes, optimal = [], []
    for position in rows:
        applicant, predicted, row = past.steps[position], int(past.predicted[position]), X.iloc[[position]]
        started = time.perf_counter()
        differ = past.steps[past.predicted != predicted] != applicant
        minimum_hitting_set(difference_sets(differ), time_limit=10.0)
        results["minimum"].append(time.perf_counter() - started)
        started = time.perf_counter()
        explanation = SetCoverExplainer(past, extra=1).explain_steps(applicant, predicted, label=X.index[position])
        results["explanation"].append(time.perf_counter() - started)
        results["best_min"].append(explanation.rules[0].meta["seconds"])
        results["best_min1"].append(explanation.rules[1].meta["seconds"])
        sizes.append(explanation.minimum.size)
        optimal.append(all(r.optimal for r in explanation.rules))
        started = time.perf_counter()
        case_table(past, explanation, row)
        results["cases"].append(time.perf_counter() - started)

    one = X.iloc[int(rows[0])]
    computation, _ = timed(lambda: model.computation(one), 200)
    explainers = ModelExplainers.for_additive(model)
    attributions, explained = timed(lambda: explainers.rows.with_params(progress=False).explain(X), args.repeats)

    counts = {int(k): int(v) for k, v in zip(*np.unique(sizes, return_counts=True))}
    print(f"{args.applicants} applicants; minimum rule sizes (size: applicants) {counts}")
    print(line("minimum rule (difference sets + MILP)", results["minimum"], "median < 1 s, max < 2 s"))
    print(line("best-supported rule, size <= minimum (exact search)", results["best_min"], "< 1 s"))
    print(line("best-supported rule, size <= minimum + 1 (exact search)", results["best_min1"], "< 1 s"))
    print(line("whole SetCoverExplanation (all three)", results["explanation"]))
    print(line("case table", results["cases"]))
    print(f"{'all best-supported rules proven optimal':58s} {all(optimal)}")
    print(f"{'one row: full computation':58s} median {computation * 1e3:9.3f} ms   (target < 10 ms)")
    print(
        f"{'exact attributions, all rows vs the training average':58s} median {attributions * 1e3:9.1f} ms "
        f"for {len(X)} rows (max completeness error {explained.completeness_error.max():.1e})"
    )
    if args.out:
        dump_json(
            {
                "n_past": past.n_cases,
                "n_columns": int(past.steps.shape[1]),
                "fit_seconds": fit_seconds,
                "per_applicant_seconds": results,
                "minimum_sizes": sizes,
                "all_optimal": all(optimal),
                "computation_seconds": computation,
                "attribution_seconds": attributions,
            },
            args.out,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
