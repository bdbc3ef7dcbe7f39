"""Speed and memory of the sensitivity engine on the paper's credit network, side by side.

Network (Horel et al. 2018, section 4): 23 inputs -> Dense(64, tanh) -> Dense(2, softmax),
explained for P(default) on 25,000 x 23 rows. Printed, measured in this one run:

* global importance: nbexplain (one gradient pass + aggregation) vs a hand-written NumPy
  forward + backward pass of the same network (the practical floor) vs the paper's 0.5 s;
  target: within 1.5x of NumPy;
* one-sample local importance: a lookup in a global pass (target under 1 ms), and a fresh
  gradient for one new sample (the what-if path);
* peak memory growth while explaining 1,000,000 rows in chunks (target under 500 MB), measured
  in a fresh subprocess.

Run: ``.venv/bin/python benchmarks/bench_sensitivity.py`` (``make benchmark``).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time

import numpy as np

PAPER_SECONDS = 0.5


def timed(fn, repeats):
    """Median wall time of ``fn`` over ``repeats`` calls (after one warm-up call)."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def numpy_reference(X, W1, b1, W2, b2, target=1):
    """Forward and backward pass of Dense(tanh) -> Dense(softmax), then lambda_j."""
    a = np.tanh(X @ W1 + b1)
    z = a @ W2 + b2
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    dz = p[:, [target]] * ((np.arange(z.shape[1]) == target) - p)
    gradients = ((dz @ W2.T) * (1 - a * a)) @ W1.T
    rms = np.sqrt((gradients * gradients).mean(axis=0))
    return 100 * rms / rms.sum()


def memory_child(rows):
    """Explain ``rows`` random rows in chunks; print the peak RSS growth in MB."""
    from nbexplain import Sensitivity
    from nbexplain.datasets.models import credit_network

    model = credit_network(23)
    X = np.random.default_rng(0).standard_normal((rows, 23), dtype=np.float32)  # no float64 temporary
    explainer = Sensitivity(model, target=1, batch_size=65_536, progress=False)
    explainer.explain(X[:1000]).global_importance()  # trace outside the measurement
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    importance = explainer.explain(X).global_importance()
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert np.isclose(importance.values.sum(), 100)
    print((after - before) / 1024)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=25_000)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--memory-rows", type=int, default=1_000_000)
    parser.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.memory_child)
        return

    from nbexplain import Sensitivity
    from nbexplain.datasets.models import credit_network

    model = credit_network(23)
    W1, b1, W2, b2 = [w.astype("float32") for w in model.get_weights()]
    X = np.random.default_rng(0).standard_normal((args.rows, 23)).astype("float32")
    explainer = Sensitivity(model, target=1)

    start = time.perf_counter()
    cold = explainer.explain(X).global_importance()
    cold_seconds = time.perf_counter() - start
    ours = timed(lambda: explainer.explain(X).global_importance(), args.repeats)
    reference = timed(lambda: numpy_reference(X, W1, b1, W2, b2), args.repeats)
    agreement = np.abs(cold.values - numpy_reference(X, W1, b1, W2, b2)).max()

    sensitivities = explainer.explain(X)
    rows = np.random.default_rng(1).integers(0, args.rows, 1000)
    lookup = statistics.median(_each(lambda i: sensitivities.local_importance(int(i)), rows))
    fresh = statistics.median(_each(lambda i: explainer.explain(X[i : i + 1]).local_importance(0), rows[:200]))

    child = subprocess.run(
        [sys.executable, __file__, "--memory-child", str(args.memory_rows)], capture_output=True, text=True, check=True
    )
    growth = float(child.stdout.strip().splitlines()[-1])

    print(f"credit network 23 -> 64 tanh -> 2 softmax, {args.rows:,} x 23 rows, median of {args.repeats}")
    print(f"  nbexplain global importance (warm)  {ours * 1e3:8.2f} ms")
    print(f"  nbexplain first call (tracing)      {cold_seconds * 1e3:8.2f} ms")
    print(f"  NumPy forward+backward reference    {reference * 1e3:8.2f} ms")
    print(f"  paper (Horel et al. 2018)           {PAPER_SECONDS * 1e3:8.2f} ms")
    print(f"  ratio nbexplain / NumPy             {ours / reference:8.2f}x   (target <= 1.5x)")
    print(f"  ratio nbexplain / paper             {ours / PAPER_SECONDS:8.3f}x")
    print(f"  max |lambda_nbexplain - lambda_NumPy| {agreement:.2e} (percentage points)")
    print(f"  local importance, lookup            {lookup * 1e3:8.3f} ms   (target < 1 ms)")
    print(f"  local importance, new sample        {fresh * 1e3:8.3f} ms")
    print(
        f"  peak memory growth, {args.memory_rows:,} rows  {growth:8.1f} MB   (target < 500 MB, "
        f"ratio {growth / 500:.2f})"
    )


def _each(fn, items):
    times = []
    for item in items:
        start = time.perf_counter()
        fn(item)
        times.append(time.perf_counter() - start)
    return times


if __name__ == "__main__":
    main()
