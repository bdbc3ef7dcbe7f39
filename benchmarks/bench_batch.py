"""A whole book on Dask: throughput of `nbexplain reasons` on a local cluster of 1 and of 2 workers.

1,000,000 generated applicants (``make_credit_default``: the 23 UCI columns, an ``ID``), written
as 20 Parquet partitions, are given adverse-action reasons (one row per denied applicant, cut-off
0.5 on P(default), the average-input baseline, 64 Gauss-Legendre steps) by

* the demo credit network (``load_demo("credit_fcn")``) explained by Integrated Gradients, and
* the gradient-boosted demo model (``load_demo("credit_xgb")``: XGBoost, 300 trees of depth 4)
  explained by Generalized Integrated Gradients (both trained once, then read from the cache),

each on a local Dask cluster of 1 and then of 2 worker processes (one thread each), in this one
run, side by side: the sizes in turn, ``--repeats`` times, the least disturbed run of each shown
(a shared machine's load changes from minute to minute). Measured: the wall time of the whole
call (cluster start, each worker's one model load, the explaining, the cluster's stop), the
explaining alone (cluster ready to last partition), rows and denied rows per second, the cost
of one row on one worker (task seconds per row, the first partition of each worker, which loads
the model, left out), the ratio of 2 workers to 1, and each worker process's peak memory (RSS
sampled every 0.2 s; target under 1.5 GB). For reference, today's single-process path
(``ReasonRecipe.explain_file`` on one partition file) on the same rows. From the per-row cost,
the time 100,000,000 applicants would take on N workers.

Run: ``.venv/bin/python benchmarks/bench_batch.py`` (``--rows``, ``--partitions``, ``--quick``:
100,000 rows in 8 partitions, one repeat; ``--models credit_fcn,credit_xgb``; ``--workers 1,2``;
``--repeats 2``). Needs the ``dask``
and ``trees`` extras.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import psutil

GIB = 1024**3


class MemorySampler:
    """Peak RSS of every child process of this one (the cluster's workers), sampled in a thread."""

    def __init__(self, every: float = 0.2) -> None:
        self.every, self.peaks, self._stop = every, {}, threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            for child in me.children(recursive=True):
                try:
                    if "python" in child.name().lower():
                        self.peaks[child.pid] = max(self.peaks.get(child.pid, 0), child.memory_info().rss)
                except psutil.Error:
                    pass
            self._stop.wait(self.every)

    def __enter__(self) -> MemorySampler:
        self.thread.start()
        return self

    def __exit__(self, *_) -> None:
        self._stop.set()
        self.thread.join()


def write_book(folder: Path, rows: int, partitions: int) -> None:
    from nbexplain.datasets.credit import CREDIT_TARGET, make_credit_default

    frame = make_credit_default(rows, seed=2026).drop(columns=CREDIT_TARGET).reset_index()
    folder.mkdir(parents=True)
    size = -(-rows // partitions)
    for i, start in enumerate(range(0, rows, size)):
        frame.iloc[start : start + size].to_parquet(folder / f"part-{i:03d}.parquet", index=False)


def demo_recipe(name: str):
    """The batch recipe and the in-process reasons recipe of a demo model (trained once, then read
    from the cache): IG (GIG for the trees), 64 Gauss-Legendre steps, the average-input baseline."""
    from nbexplain.batch import BatchRecipe
    from nbexplain.datasets import load_demo
    from nbexplain.datasets.demo import demo_reasons

    demo = load_demo(name, progress=False)
    recipe = demo_reasons(demo, steps=64, cutoff=0.5, progress=False)
    batch = BatchRecipe.from_reasons(
        recipe,
        demo.artifact,
        reference=demo.rows(demo.train_rows),
        source=f"demo model {name}",
        baseline="average",
        id_column="ID",
    )
    return batch, recipe


def single_process(recipe, partition: Path, work: Path) -> dict:
    """Today's path on one partition file, after a warm-up on 2,000 of its rows (tracing, JIT)."""
    import pandas as pd

    warm = work / "warm.parquet"
    pd.read_parquet(partition).iloc[:2000].to_parquet(warm, index=False)
    recipe.explain_file(warm, work / "warm-out.parquet", id_column="ID", progress=False)
    started = time.perf_counter()
    summary = recipe.explain_file(partition, work / "single-out.parquet", id_column="ID", progress=False)
    seconds = time.perf_counter() - started
    return {"rows": summary["rows"], "denied": summary["denied"], "seconds": seconds}


def on_cluster(batch, book: Path, out: Path, workers: int) -> dict:
    from nbexplain.batch import check_output, explain_book

    marks: dict = {}
    records: list = []

    def log(message: str) -> None:
        if "running on" in message:
            marks["ready"] = time.perf_counter()

    def finished(record: dict) -> None:
        records.append(record)
        marks["last"] = time.perf_counter()

    started = time.perf_counter()
    with MemorySampler() as memory:
        summary = explain_book(book, out, batch, workers=workers, progress=False, log=log, on_partition=finished)
    wall = time.perf_counter() - started
    assert summary["complete"] and check_output(out).ok, "the output folder failed its check"
    explaining = marks["last"] - marks["ready"]
    by_worker: dict = {}
    for record in records:
        by_worker.setdefault(record["worker"], []).append(record)
    steady = [r for rs in by_worker.values() for r in rs[1:]]  # each worker's first partition loads the model
    steady_rows = sum(r["rows_in"] for r in steady)
    return {
        "workers": workers,
        "rows": summary["rows_in"],
        "denied": summary["denied"],
        "wall_s": wall,
        "explaining_s": explaining,
        "rows_per_s": summary["rows_in"] / explaining,
        "denied_per_s": summary["denied"] / explaining,
        "rows_per_s_wall": summary["rows_in"] / wall,
        "row_cost_us": 1e6 * sum(r["seconds"] for r in steady) / steady_rows if steady_rows else float("nan"),
        "first_partition_s": max(rs[0]["seconds"] for rs in by_worker.values()),
        "peak_rss_gb": sorted((v / GIB for v in memory.peaks.values()), reverse=True)[:workers],
    }


def estimate(cost_us: float, efficiency: float, workers=(1, 8, 32, 128)) -> str:
    """Hours for 100,000,000 applicants on N workers at the measured per-row cost."""
    lines = []
    for n in workers:
        hours = 1e8 * cost_us * 1e-6 / (n * (efficiency if n > 1 else 1.0)) / 3600
        lines.append(f"    {n:>4} workers: {hours:8.2f} h")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--partitions", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="100,000 rows in 8 partitions")
    parser.add_argument("--models", default="credit_fcn,credit_xgb", help="comma-separated demo models")
    parser.add_argument("--workers", default="1,2", help="comma-separated local cluster sizes")
    parser.add_argument("--repeats", type=int, default=2, help="runs of each cluster size, in turn; the best is shown")
    parser.add_argument("--folder", help="work folder (default: a temporary one, removed)")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args(argv)
    if args.quick:
        args.rows, args.partitions, args.repeats = 100_000, 8, 1
    sizes = [int(n) for n in args.workers.split(",")]
    work = Path(args.folder or tempfile.mkdtemp(prefix="nbexplain-bench-batch-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"{os.cpu_count()} cores, {psutil.virtual_memory().total / GIB:.1f} GiB; work folder {work}", flush=True)
    book = work / "book"
    if not book.is_dir():
        started = time.perf_counter()
        write_book(book, args.rows, args.partitions)
        print(
            f"{args.rows:,} applicants in {args.partitions} Parquet partitions: {time.perf_counter() - started:.1f} s"
        )
    results: dict = {}
    try:
        for name in args.models.split(","):
            batch, recipe = demo_recipe(name)
            print(f"\n== {name}: {batch.plan['method']['class']}, {batch.plan['method']['params'].get('steps')} steps")
            single = single_process(recipe, sorted(book.glob("*.parquet"))[0], work)
            print(
                f"  single process (explain_file, one partition): {single['rows']:,} rows, {single['denied']:,} denied "
                f"in {single['seconds']:.2f} s = {single['rows'] / single['seconds']:,.0f} rows/s, "
                f"{single['denied'] / single['seconds']:,.0f} denied/s, "
                f"{1e6 * single['seconds'] / single['rows']:.1f} us/row"
            )
            measured: dict = {n: [] for n in sizes}
            for _ in range(args.repeats):  # the sizes in turn, so that a busy moment hits them alike
                for n in sizes:
                    out = work / f"out-{name}-{n}"
                    shutil.rmtree(out, ignore_errors=True)
                    measured[n].append(on_cluster(batch, book, out, n))
            runs = []
            for n in sizes:
                run = max(measured[n], key=lambda r: r["rows_per_s"])  # the least disturbed of the repeats
                run["rows_per_s_all"] = [round(r["rows_per_s"]) for r in measured[n]]
                runs.append(run)
                peaks = ", ".join(f"{g:.2f}" for g in run["peak_rss_gb"])
                print(
                    f"  {n} worker{'s' if n > 1 else ''}: {run['rows']:,} rows, {run['denied']:,} denied; wall "
                    f"{run['wall_s']:.1f} s ({run['rows_per_s_wall']:,.0f} rows/s), "
                    f"explaining {run['explaining_s']:.1f} s: {run['rows_per_s']:,.0f} rows/s, "
                    f"{run['denied_per_s']:,.0f} denied/s; per-row cost {run['row_cost_us']:.1f} us/row/worker; "
                    f"first partition (model load) {run['first_partition_s']:.1f} s; peak RSS per worker {peaks} GB "
                    f"(best of {args.repeats}: rows/s {run['rows_per_s_all']})",
                    flush=True,
                )
            if len(runs) >= 2:
                ratio = runs[-1]["rows_per_s"] / runs[0]["rows_per_s"]
                efficiency = ratio / (runs[-1]["workers"] / runs[0]["workers"])
                print(
                    f"  {runs[-1]['workers']} vs {runs[0]['workers']} workers: {ratio:.2f}x the rows per second "
                    f"(scaling efficiency {efficiency:.0%}; wall time with start-up "
                    f"{runs[-1]['rows_per_s_wall'] / runs[0]['rows_per_s_wall']:.2f}x)"
                )
            else:
                efficiency = 1.0
            cost = min(run["row_cost_us"] for run in runs)
            print(
                f"  100,000,000 applicants at {cost:.1f} us per row per worker (scaling efficiency {efficiency:.0%}):"
            )
            print(estimate(cost, min(efficiency, 1.0)))
            results[name] = {"single": single, "runs": runs, "efficiency": efficiency}
    finally:
        if not args.folder:
            shutil.rmtree(work, ignore_errors=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
