"""The picker with a million rows: filters, score range, x axis and picks, timed in the browser.

A bundle of ``--rows`` rows (default 1,000,000) is drawn from the demo's bundle with the bundle
writer (tests/picker_scale.py: every table and column of a real build, each row one the model
really scored; seconds, no model run) and served as ``nbexplain dashboard`` serves a bundle (its
one-cell notebook, VoilaServer). In headless chromium, timed inside the page from the user's
action (the DOM event, before any handler) to:

* predicted filter / score range (lower handle, PageUp and PageDown) / x axis: the picker's title
  saying the new count, and the picker redrawn (its last DOM change, after 400 ms of quiet);
* a click on a density cell, and "next": the picked row's label shown, and the whole dashboard
  redrawn;

against the 200 ms target; with each filter change the density counts drawn are checked to sum to
the matching rows the title states. The same actions are timed in Python alone (a child process
opening the bundle's dashboard with no browser: the kernel's share), with the memory of a kernel
that opened the bundle (the Voila kernel's RSS and USS, and the child's).

Usage: ``python benchmarks/bench_picker.py [--rows 1000000] [--repeats 6] [--no-browser]``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(Path(__file__).parent))

from _room import write_json  # noqa: E402
from picker_scale import density_cells, kernel_processes, large_bundle, memory_mb, timed  # noqa: E402

TARGET_MS = 200.0
PICKER = ".nbexplain-picker"
TITLE = ".nbexplain-picker text.mainheading"
STATUS = ".nbexplain-picker .nbexplain-picker-status"


def summary(values) -> dict:
    values = [v for v in values if v is not None]
    if not values:
        return {"median_ms": None, "p90_ms": None, "n": 0}
    ordered = sorted(values)
    return {
        "median_ms": round(statistics.median(values), 1),
        "p90_ms": round(ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))], 1),
        "max_ms": round(ordered[-1], 1),
        "n": len(values),
    }


# ----------------------------------------------------------------- Python alone (the kernel's share)
def kernel_side(bundle: Path, repeats: int) -> dict:
    """The picker's actions in Python with no browser (run in a child process: its memory is that
    of a kernel which opened the bundle)."""
    import numpy as np
    import psutil

    started = time.perf_counter()
    from nbexplain.widgets.bundle import bundle_dashboard

    board = bundle_dashboard(bundle)
    opened = time.perf_counter() - started
    picker = board.picker
    low, high = picker.score_filter.min, picker.score_filter.max
    step = 5 * picker.score_filter.step

    def run(change, count):
        times = []
        for i in range(count):
            begun = time.perf_counter()
            change(i)
            times.append(1000 * (time.perf_counter() - begun))
        return summary(times)

    def both(name, change, values):
        """``change(value)`` to each of ``values`` in turn, ``repeats`` times: one series each."""
        times: dict = {value: [] for value in values}
        for _ in range(repeats):
            for value in values:
                begun = time.perf_counter()
                change(value)
                times[value].append(1000 * (time.perf_counter() - begun))
        return {f"{name} -> {label}": summary(spent) for label, spent in zip(labels[name], times.values())}

    labels = {
        "predicted filter": ("default", "any"),
        "score range": ("low +5 steps", "full range"),
        "x axis": ("LIMIT_BAL", "PAY_0"),
    }

    filled = np.flatnonzero(np.nan_to_num(np.asarray(picker.density.color, dtype=float)).ravel() > 0)
    cells = filled[np.linspace(0, filled.size - 1, repeats).astype(int)]
    columns = picker.density.color.shape[1]
    info = psutil.Process().memory_full_info()
    result = {
        "open_dashboard_s": round(opened, 2),
        "rss_mb": round(info.rss / 1e6, 1),
        "uss_mb": round(info.uss / 1e6, 1),
        **both("predicted filter", lambda v: setattr(picker.predicted_filter, "value", v), (1, -1)),
        **both("score range", lambda v: setattr(picker.score_filter, "value", v), ((low + step, high), (low, high))),
        **both("x axis", lambda v: setattr(picker.feature, "value", v), ("LIMIT_BAL", "PAY_0")),
        "cell click": run(
            lambda i: picker.density.set_state({"selected": [[int(cells[i] // columns), int(cells[i] % columns)]]}),
            repeats,
        ),
        "next": run(lambda i: picker.step(+1), repeats),
    }
    return result


# ----------------------------------------------------------------- the browser
def title_count(page) -> int:
    """The matching rows the picker's title states."""
    text = page.locator(TITLE).first.text_content() or ""
    found = re.search(r"([\d,]+) of ([\d,]+) rows", text)
    return int(found.group(1).replace(",", "")) if found else -1


def counts_agree(page) -> bool:
    return sum(count for _, _, count in density_cells(page.locator(PICKER).first)) == title_count(page)


def browser_side(bundle: Path, repeats: int, log: Path) -> dict:
    from playwright.sync_api import sync_playwright

    from nbexplain.serve import VoilaServer, bundle_notebook, launch_chromium, local_only

    notebook = bundle_notebook(bundle)
    measured: dict = {}
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        local_only(page)
        errors: list = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        with VoilaServer(notebook, log=log, cull_idle=0, max_kernels=2) as server:
            started = time.perf_counter()
            page.goto(server.url, timeout=180_000)
            for selector in (".nbexplain-picker svg .heatmapcell", ".nbexplain-local svg rect.bar"):
                page.locator(selector).first.wait_for(state="attached", timeout=180_000)
            measured["page_to_render_s"] = round(time.perf_counter() - started, 2)
            page.wait_for_timeout(1000)
            kernels = kernel_processes(server)
            measured["kernel_memory"] = [memory_mb(p) for p in kernels]
            measured["counts_agree"] = [counts_agree(page)]
            picker = page.locator(PICKER).first
            predicted = picker.locator(".widget-dropdown", has_text="predicted").locator("select")
            axis = picker.locator(".widget-dropdown", has_text="x axis").locator("select")
            handle = picker.locator(".noUi-handle-lower")

            def series(name, actions, event, watch, root=PICKER, check=True):
                """Time each action in turn (a dict of them: one series per key, taken in turns)."""
                if not isinstance(actions, dict):
                    actions = {None: actions}
                results: dict = {key: [] for key in actions}
                for step in range(max(len(a) for a in actions.values())):
                    for key, steps in actions.items():
                        if step < len(steps):
                            results[key].append(timed(page, steps[step], event, root, watch))
                            if check:
                                measured["counts_agree"].append(counts_agree(page))
                for key, found in results.items():
                    measured[name if key is None else f"{name} -> {key}"] = {
                        "to_title_or_label": summary([r and r["watched_ms"] for r in found]),
                        "to_redrawn": summary([r and r["redrawn_ms"] for r in found]),
                        "no_change": sum(r is None for r in found),
                    }

            def turns(act, values):
                return {label: [lambda v=value: act(v)] * repeats for label, value in values}

            series(
                "predicted filter",
                turns(lambda v: predicted.select_option(label=v), (("default", "default"), ("any", "any"))),
                "change",
                TITLE,
            )
            series(
                "score range",
                turns(handle.press, (("low +5 steps", "PageUp"), ("full range", "PageDown"))),
                "keydown",
                TITLE,
            )
            series(
                "x axis",
                turns(axis.select_option, (("LIMIT_BAL", "LIMIT_BAL"), ("PAY_0", "PAY_0"))),
                "change",
                ".nbexplain-picker .axis text",
            )
            cells = density_cells(picker)
            filled = [i for i, (_, _, count) in enumerate(cells) if count > 0]
            chosen = [filled[round(k * (len(filled) - 1) / max(1, repeats - 1))] for k in range(repeats)]
            heat = picker.locator(".heatmapcell")
            series(
                "cell click -> row shown",
                [lambda i=i: heat.nth(i).dispatch_event("click") for i in chosen],
                "click",
                STATUS,
                root=".nbexplain-dashboard",
                check=False,
            )
            following = picker.locator("button", has_text="next")
            series(
                "next -> row shown",
                [following.click for _ in range(repeats)],
                "click",
                STATUS,
                root=".nbexplain-dashboard",
                check=False,
            )
            measured["kernel_memory_after"] = [memory_mb(p) for p in kernels if p.is_running()]
        browser.close()
    measured["page_errors"] = errors
    return measured


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=6)
    parser.add_argument("--no-browser", action="store_true", help="time the actions in Python only")
    parser.add_argument("--kernel-side", type=Path, help=argparse.SUPPRESS)  # the child process
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "picker.json")
    args = parser.parse_args(argv)
    if args.kernel_side:
        print(json.dumps(kernel_side(args.kernel_side, args.repeats)))
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)

    from nbexplain.widgets.demo import demo_bundle

    started = time.perf_counter()
    bundle = large_bundle(demo_bundle("credit_fcn", progress=False), args.rows)
    made = time.perf_counter() - started
    size = sum(f.stat().st_size for f in bundle.iterdir()) / 1e6
    print(f"bundle of {args.rows:,} rows: {bundle} ({size:.0f} MB on disk; made or reused in {made:.1f} s)")
    child = subprocess.run(
        [sys.executable, __file__, "--kernel-side", str(bundle), "--repeats", str(args.repeats)],
        capture_output=True,
        text=True,
        check=True,
    )
    python = json.loads(child.stdout.strip().splitlines()[-1])
    result = {"rows": args.rows, "bundle_mb": round(size), "cpus": os.cpu_count(), "python": python}
    load_before = os.getloadavg()
    if not args.no_browser:
        result["browser"] = browser_side(bundle, args.repeats, args.out.parent / "voila-picker.log")
    result["load_average_1min"] = [round(load_before[0], 2), round(os.getloadavg()[0], 2)]
    write_json(args.out, result)

    print(
        f"\nPython alone (no browser): dashboard opened in {python['open_dashboard_s']} s; that process "
        f"RSS {python['rss_mb']} MB, USS {python['uss_mb']} MB"
    )
    browser = result.get("browser")
    if browser:
        memory = ", ".join(f"RSS {m['rss_mb']} MB / USS {m['uss_mb']} MB" for m in browser["kernel_memory"])
        print(f"Voila + chromium: page to render {browser['page_to_render_s']} s; the kernel: {memory}")
    header = (
        f"{'action':<34}{'Python median':>14}{'browser: title/label':>22}{'browser: redrawn':>18}{'ratio to 200':>14}"
    )
    print("\n" + header + "\n" + "-" * len(header))
    names = {key: key for key in python if " -> " in key}
    names.update({"cell click": "cell click -> row shown", "next": "next -> row shown"})
    for short, long in names.items():
        kernel = python[short]["median_ms"]
        row = f"{short:<34}{kernel:>11.1f} ms"
        if browser:
            seen = browser[long]["to_title_or_label"]
            drawn = browser[long]["to_redrawn"]
            row += f"{_ms(seen):>22}{_ms(drawn):>18}"
            if drawn["median_ms"] is not None:
                row += f"{drawn['median_ms'] / TARGET_MS:>14.2f}"
        print(row)
    if browser:
        print(
            "\nbrowser figures: median (p90) over the repeats, from the DOM event to the picker's title / the picked "
            "row's label, and to the last DOM change of the picker (of the dashboard for picks)"
        )
        print(f"density counts sum to the title's matching rows after every change: {all(browser['counts_agree'])}")
        if browser["page_errors"]:
            print("page errors:", browser["page_errors"])
    print(
        f"machine: {os.cpu_count()} CPUs, 1-minute load average {result['load_average_1min'][0]} before the browser "
        f"runs and {result['load_average_1min'][1]} after (other work on the machine shows as load beyond ~2)"
    )
    print(f"written to {args.out}")
    return 0


def _ms(stats) -> str:
    if stats["median_ms"] is None:
        return "-"
    return f"{stats['median_ms']:.0f} ({stats['p90_ms']:.0f}) ms"


if __name__ == "__main__":
    sys.exit(main())
