"""The demo dashboard in a real browser: start-up time, bytes sent to the browser, pick latency.

Serves notebooks/dashboard.ipynb with Voila (cached demo models, 25,000 training rows per model)
and drives Debian chromium with Playwright, measuring in one run:

* Voila start to first full render (server answering, kernel run, every view of the first model
  drawn), against the 12 s target;
* bytes the browser received (HTTP bodies Playwright can read, and websocket frames), against a
  few MB;
* pick -> charts updated, measured inside the page: from the click on "next" to the mutation
  of the local-importance bars (median and 90th percentile of ``--picks`` picks), against 100 ms,
  and the same for a what-if edit (an edit needs one fresh gradient of one row).

Usage: ``python benchmarks/bench_dashboard.py [--picks 30]`` (``make benchmark`` runs it).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from tqdm import tqdm

ROOT = Path(__file__).parent.parent
sys.path.insert(0, str(ROOT))

from nbexplain.serve import VoilaServer, launch_chromium, local_only  # noqa: E402

#: Resolves with the milliseconds from clicking ``button`` to the first change under ``watched``.
TIME_TO_CHANGE = """
([button, watched]) => new Promise((resolve) => {
    const started = performance.now();
    const observer = new MutationObserver(() => {
        observer.disconnect();
        requestAnimationFrame(() => resolve(performance.now() - started));
    });
    observer.observe(watched, {subtree: true, childList: true, characterData: true, attributes: true});
    button.click();
})
"""

#: Same, after committing a new value in a what-if input.
TIME_TO_EDIT = """
([input, watched, value]) => new Promise((resolve) => {
    const started = performance.now();
    const observer = new MutationObserver(() => {
        observer.disconnect();
        requestAnimationFrame(() => resolve(performance.now() - started));
    });
    observer.observe(watched, {subtree: true, childList: true, characterData: true, attributes: true});
    input.value = String(value);
    input.dispatchEvent(new Event("change", {bubbles: true}));
})
"""


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--picks", type=int, default=30)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "dashboard.json")
    args = parser.parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)

    from playwright.sync_api import sync_playwright

    from nbexplain.cli import prepare_demo

    prepare_demo(selection=False)
    received = {"http": 0, "websocket": 0}

    def count_response(response):
        try:
            received["http"] += len(response.body())
        except Exception:  # redirects and aborted requests have no body
            pass

    def count_socket(socket):
        socket.on(
            "framereceived",
            lambda payload: received.__setitem__(
                "websocket", received["websocket"] + len(payload if isinstance(payload, (bytes, str)) else b"")
            ),
        )

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        local_only(page)
        page.on("response", count_response)
        page.on("websocket", count_socket)
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        started = time.perf_counter()
        with VoilaServer(ROOT / "notebooks" / "dashboard.ipynb", log=args.out.parent / "voila.log") as server:
            serving = time.perf_counter() - started
            page.goto(server.url, timeout=120_000)
            board = page.locator(".nbexplain-dashboard").first
            for selector in (
                ".nbexplain-local svg rect.bar",
                ".nbexplain-picker svg path.dot",
                ".nbexplain-whatif .wi-row",
                ".nbexplain-global svg rect.bar",
            ):
                board.locator(selector).first.wait_for(state="attached", timeout=120_000)
            first_render = time.perf_counter() - started
            page.wait_for_timeout(1500)
            payload = dict(received)
            button = board.locator(".nbexplain-picker button", has_text="next").element_handle()
            bars = board.locator(".nbexplain-local svg").first.element_handle()
            picks = [
                page.evaluate(TIME_TO_CHANGE, [button, bars])
                for _ in tqdm(range(args.picks), desc="picks", unit="pick")
            ]
            field = board.locator('.nbexplain-whatif .wi-row[data-feature="PAY_0"] input').element_handle()
            score = board.locator(".nbexplain-local .nbexplain-prediction").element_handle()
            edits = [
                page.evaluate(TIME_TO_EDIT, [field, score, value % 5])
                for value in tqdm(range(1, args.picks + 1), desc="what-if edits", unit="edit")
            ]
            switched = time.perf_counter()
            page.locator(".nbexplain-model-choice button", has_text="LSTM").click()
            page.locator(".nbexplain-lags svg .heatmapcell").first.wait_for(state="attached", timeout=120_000)
            lstm_first_view = time.perf_counter() - switched
        browser.close()

    rows = 25_000
    megabytes = (payload["http"] + payload["websocket"]) / 1e6
    result = {
        "voila_serving_s": round(serving, 2),
        "first_full_render_s": round(first_render, 2),
        "first_render_target_s": 12.0,
        "render_ratio_to_target": round(first_render / 12.0, 3),
        "bytes_http": payload["http"],
        "bytes_websocket": payload["websocket"],
        "megabytes_total": round(megabytes, 2),
        "rows_per_model": rows,
        "scatter_points_sent": 2000,
        "pick_ms_median": round(statistics.median(picks), 1),
        "pick_ms_p90": round(percentile(picks, 0.9), 1),
        "pick_ratio_to_100ms": round(statistics.median(picks) / 100, 3),
        "what_if_ms_median": round(statistics.median(edits), 1),
        "what_if_ms_p90": round(percentile(edits, 0.9), 1),
        "lstm_first_view_s": round(lstm_first_view, 2),
        "page_errors": errors,
    }
    args.out.write_text(json.dumps(result, indent=2))
    print(
        f"Voila start -> first full render: {first_render:.2f} s (server answering after {serving:.2f} s); "
        f"target 12 s, ratio {first_render / 12:.2f}"
    )
    print(
        f"sent to the browser: {megabytes:.2f} MB ({payload['http'] / 1e6:.2f} MB HTTP incl. the JavaScript "
        f"of Voila, ipywidgets, bqplot; {payload['websocket'] / 1e6:.2f} MB widget messages) for the "
        f"first dashboard of {rows:,} rows, its scatter down-sampled to 2,000 points"
    )
    print(
        f"pick -> bars updated (browser): median {result['pick_ms_median']} ms, p90 {result['pick_ms_p90']} ms "
        f"over {args.picks} picks; target 100 ms, ratio {result['pick_ratio_to_100ms']:.2f}"
    )
    print(
        f"what-if edit -> prediction updated (browser): median {result['what_if_ms_median']} ms, "
        f"p90 {result['what_if_ms_p90']} ms"
    )
    print(
        f"switch to the LSTM (built on first view: one gradient pass over {rows:,} sequences): "
        f"{lstm_first_view:.2f} s to its lag heatmap"
    )
    if errors:
        print("page errors:", errors)
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
