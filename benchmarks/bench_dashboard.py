"""A room of viewers: the demo's explanation bundle served as ``nbexplain dashboard`` serves it,
opened by N viewers at once in headless chromium (N = 1, 5, 20), beside explainerdashboard on the
same data.

For each N, a fresh Voila server (:class:`nbexplain.serve.VoilaServer`, the command's own class:
the ``nbexplain`` template, the kernel cap at max(20, N), idle culling at 300 s) serves the
one-cell notebook that opens the demo bundle (``bundle_notebook(demo_bundle("credit_fcn"))``,
25,000 rows; ``--notebook demo`` serves the packaged demo notebook instead), and N viewers open it
together, each in a browser context of its own (benchmarks/_room.py). Measured:

* per viewer: the time from its navigation start to its full render (local bars, global bars,
  what-if rows and the picker's chart all drawn), the bytes it received on the wire (each viewer
  reaches the server through a counting TCP relay of its own: HTTP and websocket as compressed;
  also HTTP as the browser's Resource Timing saw it and websocket frames as decoded), its
  kernel's RSS and USS (USS: what that kernel alone holds; the memory-mapped bundle and shared
  libraries count in no kernel's USS), and page errors;
* totals: kernels' RSS and USS, the Voila server's RSS, the browsers' USS, and the CPU-seconds
  of the server (Voila and its kernels) against those of the browsers over the same run;
* the first what-if of the first viewer rendered (``--whatif-all``: of every viewer at once): from the edit to the
  status line ("Loading the model ...") and to the prediction marked what-if; it loads the model
  (TensorFlow) in that viewer's kernel, whose memory is measured again after; then the median of
  further edits (model loaded) and of picks;
* the server alone (no browser): a fresh server answering N page requests at once over HTTP
  (Voila runs the notebook for each: a kernel per request; the time to each complete page, the
  CPU-seconds and the kernels' memory), and the first what-if in a kernel driven through
  jupyter_client (no Voila, no browser);
* explainerdashboard (optional, the ``bench`` extra): benchmarks/bench_reference.py with a
  GradientBoostingClassifier on the same rows, in this interpreter when it has
  explainerdashboard, else in ``--reference-python`` (a virtual environment of its own),
  else left out with a message.

Targets: a browsing kernel at most 300 MB; one viewer rendered within 3 s; 20 viewers all
rendered with no error and kernels under 8 GB in all; at most 2 MB sent to a viewer; the first
what-if within 6 s with a progress indicator (each kernel loads the model; 1 s is the target of
a shared model process, which this is not). On a 2-core machine the browsers compete with the
server for the CPU: the server-alone figures and the CPU-seconds show the server's own cost.

``--rows N`` runs benchmarks/bench_picker.py (the picker on an N-row bundle) instead.

Usage: ``python benchmarks/bench_dashboard.py [--viewers 1,5,20] [--quick] [--reference-python
/path/to/venv/bin/python]``; results in benchmarks/results/dashboard.json.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))

from _room import (  # noqa: E402
    CpuClock,
    chromium_processes,
    launch,
    load_average,
    memory,
    open_room,
    stats,
    tree,
    write_json,
    written,
)

from nbexplain.serve import VoilaServer, bundle_notebook  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
TARGETS = {"kernel_mb": 300, "render_s": 3.0, "room_gb": 8.0, "viewer_mb": 2.0, "what_if_s": 6.0}

#: The dashboard drawn: local and global bars, the what-if rows, the picker's chart.
RENDERED = (
    "document.querySelector('.nbexplain-local svg rect.bar') && "
    "document.querySelector('.nbexplain-global svg rect.bar') && "
    "document.querySelector('.nbexplain-whatif .wi-row') && "
    "document.querySelector('.nbexplain-picker svg .heatmapcell, .nbexplain-picker svg path.dot')"
)

#: Starts a what-if edit of PAY_0 and records, in ``window.__roomWhatIf``, the milliseconds to the
#: status line saying the model loads and to the prediction marked what-if (returns at once).
START_WHAT_IF = """
() => {
    const board = document.querySelector('.nbexplain-dashboard');
    const input = board.querySelector('.nbexplain-whatif .wi-row[data-feature="PAY_0"] input');
    const text = (selector) => ((board.querySelector(selector) || {}).textContent || '');
    const state = window.__roomWhatIf = {status_ms: null, done_ms: null};
    const observer = new MutationObserver(() => {
        const now = performance.now() - started;
        if (state.status_ms === null && text('.nbexplain-status').includes('Loading')) state.status_ms = now;
        if (text('.nbexplain-local .nbexplain-prediction').includes('what-if')) {
            state.done_ms = now;
            observer.disconnect();
        }
    });
    observer.observe(board, {subtree: true, childList: true, characterData: true, attributes: true});
    const value = Number(input.value);
    const started = performance.now();
    input.value = String(value <= 6 ? value + 2 : value - 2);
    input.dispatchEvent(new Event('change', {bubbles: true}));
}
"""

#: Milliseconds from a click on ``element`` (or a value committed in it) to the first change under
#: ``watched`` (null after 60 s without one).
TIME_TO_CHANGE = """
([element, watched, value]) => new Promise((resolve) => {
    const started = performance.now();
    setTimeout(() => resolve(null), 60000);
    const observer = new MutationObserver(() => {
        observer.disconnect();
        requestAnimationFrame(() => resolve(performance.now() - started));
    });
    observer.observe(watched, {subtree: true, childList: true, characterData: true, attributes: true});
    if (value === null) { element.click(); return; }
    element.value = String(value);
    element.dispatchEvent(new Event('change', {bubbles: true}));
})
"""


class Server(VoilaServer):
    """VoilaServer as ``nbexplain dashboard`` runs it, with ``--voila-arg`` options appended (none
    unless asked: to try a setting, e.g. ``--VoilaExecutor.iopub_timeout=60``) and ``--preheat``
    kernels; entered, it waits until the pre-heated kernels have run the notebook."""

    extra: tuple = ()
    preheat_kernels = 0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, preheat=self.preheat_kernels, **kwargs)

    def _voila_command(self, port: int) -> list[str]:
        return super()._voila_command(port) + list(self.extra)

    def __enter__(self):
        super().__enter__()
        if self.preheat:
            begun = time.perf_counter()
            while len(kernels_by_id(self)) < self.preheat and time.perf_counter() - begun < 600:
                time.sleep(0.5)
            clock = CpuClock(lambda: tree(self.process.pid)).start()
            while True:  # the pool's kernels run the notebook: wait for a quiet second
                time.sleep(1.0)
                if clock.seconds() < 0.1:
                    break
                clock.start()
            print(f"    {self.preheat} pre-heated kernels ready after {time.perf_counter() - begun:.1f} s", flush=True)
        return self


def kernels_by_id(server) -> dict:
    """The kernel processes of a Voila server, by kernel id (from their connection files)."""
    found = {}
    for process in tree(server.process.pid)[1:]:
        try:
            match = re.search(r"kernel-([0-9a-f-]{36})\.json", " ".join(process.cmdline()))
        except Exception:
            continue
        if match:
            found[match.group(1)] = process
    return found


def page_kernel(page) -> str | None:
    try:
        return page.evaluate("() => JSON.parse(document.getElementById('jupyter-config-data').textContent).kernelId")
    except Exception:
        return None


def total(rows, key) -> float:
    return round(sum(row[key] for row in rows), 1)


# ----------------------------------------------------------------- a room in the browser
def browser_room(notebook: Path, n: int, args) -> dict:
    from playwright.sync_api import sync_playwright

    result: dict = {"viewers": n}
    with sync_playwright() as playwright:
        browser = launch(playwright)
        with Server(notebook, log=RESULTS / f"voila-room-{n}.log", max_kernels=max(20, n)) as server:
            server_cpu = CpuClock(lambda: tree(server.process.pid)).start()
            browser_cpu = CpuClock(chromium_processes).start()
            viewers, wall = open_room(browser, server.url, n, RENDERED, timeout_s=args.timeout)
            result["cpu_s_to_render"] = {"server": server_cpu.seconds(), "browsers": browser_cpu.seconds()}
            result["wall_s"] = round(wall, 2)
            time.sleep(1.5)  # late widget messages
            kernels = kernels_by_id(server)
            per_viewer = []
            for k, viewer in enumerate(viewers):
                process = kernels.get(page_kernel(viewer.page))
                used = memory([process])[0] if process is not None else {"rss_mb": None, "uss_mb": None}
                if viewer.render_ms is None:  # what it shows instead
                    shot = RESULTS / f"unrendered-{n}-{k}.png"
                    viewer.errors.append("not rendered; page text: " + unrendered(viewer.page, shot))
                per_viewer.append(
                    {
                        "viewer": k,
                        "render_s": None if viewer.render_ms is None else round(viewer.render_ms / 1000, 2),
                        **viewer.traffic(),
                        "kernel_rss_mb": used["rss_mb"],
                        "kernel_uss_mb": used["uss_mb"],
                        "errors": list(viewer.errors),
                    }
                )
            result["per_viewer"] = per_viewer
            kernel_memory = memory(kernels.values())
            result["kernels"] = len(kernels)
            result["kernels_rss_total_mb"] = total(kernel_memory, "rss_mb")
            result["kernels_uss_total_mb"] = total(kernel_memory, "uss_mb")
            result["server_rss_mb"] = memory(tree(server.process.pid)[:1])[0]["rss_mb"]
            result["browsers_uss_total_mb"] = total(memory(chromium_processes()), "uss_mb")
            shown = [(k, viewer) for k, viewer in enumerate(viewers) if viewer.render_ms is not None]
            result["what_if"] = first_what_if(shown if args.whatif_all else shown[:1], kernels, args.timeout)
            result["warm"] = warm_actions(shown[0][1].page, args.picks) if shown else {}
            result["cpu_s_whole_run"] = {"server": server_cpu.seconds(), "browsers": browser_cpu.seconds()}
            result["kernels_after_what_if"] = memory(kernels.values())
            for viewer in viewers:
                viewer.close()
        browser.close()
    return result


def unrendered(page, screenshot: Path) -> str:
    """The text of a page that did not render (and a screenshot of it)."""
    try:
        page.screenshot(path=screenshot, full_page=True)
        return " ".join(page.inner_text("body").split())[:300]
    except Exception as error:
        return f"unreadable ({type(error).__name__})"


def first_what_if(viewers, kernels: dict, timeout_s: float) -> list:
    """The first what-if edit of each ``(index, viewer)`` given, started in all of them at once."""
    for _, viewer in viewers:
        viewer.page.evaluate(START_WHAT_IF)
    found = []
    for k, viewer in viewers:
        try:
            viewer.page.wait_for_function(
                "() => window.__roomWhatIf.done_ms !== null", timeout=int(1000 * timeout_s), polling=100
            )
        except Exception:
            pass
        state = viewer.page.evaluate("() => window.__roomWhatIf")
        process = kernels.get(page_kernel(viewer.page))
        used = memory([process])[0] if process is not None else {}
        found.append(
            {
                "viewer": k,
                "status_s": None if state["status_ms"] is None else round(state["status_ms"] / 1000, 3),
                "done_s": None if state["done_ms"] is None else round(state["done_ms"] / 1000, 3),
                "kernel_rss_mb_after": used.get("rss_mb"),
                "kernel_uss_mb_after": used.get("uss_mb"),
            }
        )
    return found


def warm_actions(page, count: int) -> dict:
    """Median milliseconds of further what-if edits (the model loaded) and of picks ("next")."""
    if count <= 0:
        return {}
    board = page.locator(".nbexplain-dashboard").first
    field = board.locator('.nbexplain-whatif .wi-row[data-feature="PAY_0"] input').element_handle()
    score = board.locator(".nbexplain-local .nbexplain-prediction").element_handle()
    edits = [page.evaluate(TIME_TO_CHANGE, [field, score, value % 5]) for value in range(1, count + 1)]
    button = board.locator(".nbexplain-picker button", has_text="next").element_handle()
    bars = board.locator(".nbexplain-local svg").first.element_handle()
    picks = [page.evaluate(TIME_TO_CHANGE, [button, bars, None]) for _ in range(count)]
    return {"what_if_ms_median": stats(edits)["median"], "pick_ms_median": stats(picks)["median"]}


# ----------------------------------------------------------------- the server alone
def server_alone(notebook: Path, n: int, args) -> dict:
    """N page requests at once over HTTP, no browser: Voila starts a kernel per request and runs
    the notebook in it; a request ends once the page (every cell's output) is sent."""
    result: dict = {"requests": n}
    with Server(notebook, log=RESULTS / f"voila-http-{n}.log", max_kernels=max(20, n)) as server:
        clock = CpuClock(lambda: tree(server.process.pid)).start()
        times: list = [None] * n
        sizes: list = [0] * n

        def fetch(k):
            begun = time.perf_counter()
            with urllib.request.urlopen(server.url, timeout=args.timeout) as response:
                body = response.read()
            if b"application/vnd.jupyter.widget-view+json" in body:  # the dashboard's output is in it
                times[k] = time.perf_counter() - begun
            sizes[k] = len(body)

        started = time.perf_counter()
        threads = [threading.Thread(target=fetch, args=(k,)) for k in range(n)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        result["wall_s"] = round(time.perf_counter() - started, 2)
        result["cpu_s"] = clock.seconds()
        result["request_s"] = stats(times)
        result["page_mb"] = round(statistics.median(sizes) / 1e6, 3)
        kernel_memory = memory(kernels_by_id(server).values())
        result["kernel_rss_mb"] = stats([k["rss_mb"] for k in kernel_memory])
        result["kernel_uss_mb"] = stats([k["uss_mb"] for k in kernel_memory])
        result["kernels_rss_total_mb"] = total(kernel_memory, "rss_mb")
        result["kernels_uss_total_mb"] = total(kernel_memory, "uss_mb")
    return result


KERNEL_CODE = """
import json as _json, time as _time, psutil as _psutil
_begun = _time.perf_counter()
from nbexplain.widgets.bundle import bundle_dashboard
_board = bundle_dashboard({bundle!r})
_opened = _time.perf_counter() - _begun
_browsing = _psutil.Process().memory_full_info()
_value = _board.controller.sample.values["PAY_0"]
_begun = _time.perf_counter()
_board.controller.what_if({{"PAY_0": _value + 2 if _value <= 6 else _value - 2}})
_first = _time.perf_counter() - _begun
_begun = _time.perf_counter()
_board.controller.what_if({{"PAY_0": _value + 1 if _value <= 6 else _value - 1}})
_second = _time.perf_counter() - _begun
_loaded = _psutil.Process().memory_full_info()
_cpu = sum(_psutil.Process().cpu_times()[:2])
print("ROOM" + _json.dumps({{"open_s": round(_opened, 3), "first_what_if_s": round(_first, 3),
    "second_what_if_s": round(_second, 3), "rss_mb_browsing": round(_browsing.rss / 1e6, 1),
    "uss_mb_browsing": round(_browsing.uss / 1e6, 1), "rss_mb_model": round(_loaded.rss / 1e6, 1),
    "uss_mb_model": round(_loaded.uss / 1e6, 1), "kernel_cpu_s": round(_cpu, 2)}}))
"""


def kernels_alone(bundle: Path, n: int) -> dict:
    """N kernels at once through jupyter_client (no Voila, no browser): each opens the bundle's
    dashboard and makes a first and a second what-if edit."""
    from jupyter_client.manager import start_new_kernel

    found: list = [None] * n

    def session(k):
        manager, client = start_new_kernel(kernel_name="python3")
        lines = []
        try:
            client.execute_interactive(
                KERNEL_CODE.format(bundle=str(bundle)),
                timeout=900,
                output_hook=lambda m: lines.append(m["content"].get("text", "")) if m["msg_type"] == "stream" else None,
            )
        finally:
            client.stop_channels()
            manager.shutdown_kernel(now=True)
        text = "".join(lines)
        if "ROOM" in text:
            found[k] = json.loads(text.split("ROOM", 1)[1].splitlines()[0])

    started = time.perf_counter()
    threads = [threading.Thread(target=session, args=(k,)) for k in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done = [f for f in found if f is not None]
    result = {"kernels": n, "completed": len(done), "wall_s": round(time.perf_counter() - started, 2)}
    for key in ("open_s", "first_what_if_s", "second_what_if_s", "uss_mb_browsing", "uss_mb_model", "kernel_cpu_s"):
        result[key] = stats([f[key] for f in done])
    result["per_kernel"] = done
    return result


# ----------------------------------------------------------------- explainerdashboard
def reference(args, viewers: list) -> dict | None:
    """bench_reference.py in an interpreter that has explainerdashboard (None when there is none)."""
    python = args.reference_python
    if python is None:
        try:
            import explainerdashboard  # noqa: F401

            python = sys.executable
        except ImportError:
            print(
                "explainerdashboard is not installed: its column is left out (pip install 'nbexplain[bench]', or "
                "give --reference-python of a virtual environment that has it)",
                flush=True,
            )
            return None
    rows = RESULTS / "reference-rows.csv"
    from nbexplain.results.bundle import open_bundle
    from nbexplain.widgets.demo import demo_bundle

    bundle = open_bundle(demo_bundle("credit_fcn", progress=False))
    frame = bundle.frame().reset_index(drop=True)
    frame["default"] = bundle.target()
    with written(rows) as temporary:
        frame.to_csv(temporary, index=False)
    out = RESULTS / "reference.json"
    command = [
        str(python),
        str(Path(__file__).parent / "bench_reference.py"),
        "--data",
        str(rows),
        "--viewers",
        ",".join(map(str, viewers)),
        "--out",
        str(out),
        "--timeout",
        str(args.timeout),
    ]
    print("explainerdashboard:", " ".join(command), flush=True)
    finished = subprocess.run(command, check=False)
    if finished.returncode != 0 or not out.is_file():
        print(f"the explainerdashboard run failed (exit {finished.returncode}); its column is left out", flush=True)
        return None
    return json.loads(out.read_text())


# ----------------------------------------------------------------- report
def report(results: dict, viewers: list) -> None:
    for n in viewers:
        room = results["nbexplain"][str(n)]
        print(f"\n=== nbexplain, {n} viewer(s) at once: every viewer's page (render from its navigation start)")
        for row in room["per_viewer"]:
            print(
                f"  viewer {row['viewer']:>2}: rendered {_num(row['render_s'], 's')}, received "
                f"{row['wire_mb']:.2f} MB on the wire (decoded: {row['http_mb']:.2f} HTTP, "
                f"{row['websocket_mb']:.2f} websocket), "
                f"kernel RSS {_num(row['kernel_rss_mb'], 'MB', 0)} / USS {_num(row['kernel_uss_mb'], 'MB', 0)}"
                + (f", page errors: {row['errors']}" if row["errors"] else "")
            )
        for row in room["what_if"]:
            print(
                f"  first what-if, viewer {row['viewer']}: status line after {_num(row['status_s'], 's', 2)}, "
                f"prediction after {_num(row['done_s'], 's', 2)}; that kernel then RSS "
                f"{_num(row['kernel_rss_mb_after'], 'MB', 0)} / USS {_num(row['kernel_uss_mb_after'], 'MB', 0)}"
            )
        if room["warm"]:
            print(
                f"  then (model loaded): what-if edit {room['warm']['what_if_ms_median']} ms, pick "
                f"{room['warm']['pick_ms_median']} ms (medians in the same viewer)"
            )
        alone = results["server_alone"].get(str(n))
        if alone:
            print(
                f"  server alone ({n} HTTP page requests at once, no browser): each page "
                f"{alone['request_s']['median']} s median, {alone['request_s']['max']} s max; {alone['cpu_s']} CPU-s; "
                f"kernels USS {alone['kernels_uss_total_mb']} MB in all"
            )
    ref = results.get("explainerdashboard")
    columns = [(f"nbexplain N={n}", results["nbexplain"][str(n)], results["server_alone"].get(str(n))) for n in viewers]
    if ref:
        columns += [(f"explainerdb N={n}", ref["rooms"][str(n)], None) for n in viewers if str(n) in ref["rooms"]]
    rows = [
        ("viewers rendered", lambda r, a: f"{sum(v['render_s'] is not None for v in r['per_viewer'])}/{r['viewers']}"),
        ("render s, median", lambda r, a: _num(stats([v["render_s"] for v in r["per_viewer"]])["median"], "", 2)),
        ("render s, slowest", lambda r, a: _num(stats([v["render_s"] for v in r["per_viewer"]])["max"], "", 2)),
        ("page errors", lambda r, a: str(sum(len(v["errors"]) for v in r["per_viewer"]))),
        ("MB on the wire / viewer, max", lambda r, a: _num(max(v["wire_mb"] for v in r["per_viewer"]), "", 2)),
        ("kernel RSS MB, max", lambda r, a: _num(_max(v.get("kernel_rss_mb") for v in r["per_viewer"]), "", 0)),
        ("kernel USS MB, max", lambda r, a: _num(_max(v.get("kernel_uss_mb") for v in r["per_viewer"]), "", 0)),
        ("kernels RSS MB, total", lambda r, a: _num(r.get("kernels_rss_total_mb"), "", 0)),
        ("kernels USS MB, total", lambda r, a: _num(r.get("kernels_uss_total_mb"), "", 0)),
        ("server process RSS MB", lambda r, a: _num(r.get("server_rss_mb"), "", 0)),
        ("browsers USS MB, total", lambda r, a: _num(r.get("browsers_uss_total_mb"), "", 0)),
        ("CPU-s to render: server", lambda r, a: _num(r["cpu_s_to_render"]["server"], "", 1)),
        ("CPU-s to render: browsers", lambda r, a: _num(r["cpu_s_to_render"]["browsers"], "", 1)),
        ("first what-if s", lambda r, a: _num(r["what_if"][0]["done_s"] if r["what_if"] else None, "", 2)),
        (
            "  status line shown at s",
            lambda r, a: _num(r["what_if"][0].get("status_s") if r["what_if"] else None, "", 2),
        ),
        ("what-if s, model loaded", lambda r, a: _num((r["warm"] or {}).get("what_if_ms_median", 0) / 1000, "", 3)),
        ("server alone: page s, max", lambda r, a: _num(a["request_s"]["max"], "", 2) if a else "-"),
        ("server alone: CPU-s", lambda r, a: _num(a["cpu_s"], "", 1) if a else "-"),
        ("server alone: USS MB total", lambda r, a: _num(a["kernels_uss_total_mb"], "", 0) if a else "-"),
    ]
    width = 15
    print("\n" + f"{'':<29}" + "".join(f"{name:>{width}}" for name, _, _ in columns))
    for label, read in rows:
        cells = []
        for _, room, alone in columns:
            try:
                cells.append(read(room, alone))
            except (KeyError, TypeError, IndexError, ValueError):
                cells.append("-")
        print(f"{label:<29}" + "".join(f"{cell:>{width}}" for cell in cells))
    if ref:
        print("\nratios nbexplain / explainerdashboard (below 1: nbexplain spends less)")
        for n in viewers:
            mine, theirs = results["nbexplain"][str(n)], ref["rooms"].get(str(n))
            if not theirs:
                continue
            if not (mine["what_if"] and theirs["what_if"]):
                continue
            pairs = {
                "render median": (_median_render(mine), _median_render(theirs)),
                "MB per viewer": (
                    _max(v["wire_mb"] for v in mine["per_viewer"]),
                    _max(v["wire_mb"] for v in theirs["per_viewer"]),
                ),
                "server memory (kernels USS + server RSS / server RSS)": (
                    mine["kernels_uss_total_mb"] + mine["server_rss_mb"],
                    theirs["server_rss_mb"],
                ),
                "server CPU-s to render": (mine["cpu_s_to_render"]["server"], theirs["cpu_s_to_render"]["server"]),
                "first what-if": (
                    mine["what_if"][0]["done_s"],
                    theirs["what_if"][0]["done_s"] if theirs["what_if"] else None,
                ),
            }
            text = ", ".join(f"{k} {a / b:.2f}" for k, (a, b) in pairs.items() if a is not None and b)
            print(f"  N={n}: {text}")
    print(
        "\ntargets: kernel <= 300 MB, one viewer <= 3 s, 20 viewers all rendered and kernels < 8 GB in all, "
        "<= 2 MB per viewer, first what-if <= 6 s with a progress indicator (each kernel loads the model)"
    )
    checks = []
    for n in viewers:
        room = results["nbexplain"][str(n)]
        kernel_max = _max(v.get("kernel_rss_mb") for v in room["per_viewer"])
        checks.append(f"N={n}: kernel RSS max {kernel_max} MB {'ok' if kernel_max and kernel_max <= 300 else 'OVER'}")
        received = max(v["wire_mb"] for v in room["per_viewer"])
        checks.append(f"N={n}: {received:.2f} MB per viewer {'ok' if received <= 2 else 'OVER'}")
        if n == 1:
            render = room["per_viewer"][0]["render_s"]
            checks.append(f"N=1: rendered in {render} s {'ok' if render is not None and render <= 3 else 'OVER'}")
        if n >= 20:
            rendered = all(v["render_s"] is not None and not v["errors"] for v in room["per_viewer"])
            memory_gb = room["kernels_rss_total_mb"] / 1000
            checks.append(
                f"N={n}: all rendered without error: {rendered}; kernels {memory_gb:.2f} GB RSS "
                f"{'ok' if memory_gb < 8 else 'OVER'}"
            )
        if not room["what_if"]:
            checks.append(f"N={n}: no viewer rendered, no what-if")
            continue
        first = room["what_if"][0]
        ok = first["done_s"] is not None and first["done_s"] <= 6 and first["status_s"] is not None
        checks.append(
            f"N={n}: first what-if {first['done_s']} s, status line at {first['status_s']} s {'ok' if ok else 'OVER'}"
        )
    print("\n".join("  " + line for line in checks))


def _median_render(room):
    return stats([v["render_s"] for v in room["per_viewer"]])["median"]


def _max(values):
    present = [v for v in values if v is not None]
    return max(present) if present else None


def _num(value, unit="", digits=2) -> str:
    if value is None:
        return "-"
    return f"{value:.{digits}f}" + (f" {unit}" if unit else "")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", default=None, help="viewer counts, comma-separated (default 1,5,20; --quick 1,5)")
    parser.add_argument("--quick", action="store_true", help="1 and 5 viewers, 3 warm edits and picks")
    parser.add_argument(
        "--picks", type=int, default=None, help="what-if edits and picks timed once the model is loaded (10)"
    )
    parser.add_argument("--notebook", choices=("bundle", "demo"), default="bundle")
    parser.add_argument("--whatif-all", action="store_true", help="the first what-if in every viewer at once")
    parser.add_argument("--no-server-alone", action="store_true", help="skip the runs without a browser")
    parser.add_argument("--no-reference", action="store_true", help="skip explainerdashboard")
    parser.add_argument("--reference-python", help="a Python that has explainerdashboard (its own virtual environment)")
    parser.add_argument("--timeout", type=float, default=240.0, help="seconds to wait for a room to render")
    parser.add_argument(
        "--voila-arg",
        action="append",
        default=[],
        metavar="OPTION",
        help="an option appended to Voila's command line (repeatable), e.g. --VoilaExecutor.iopub_timeout=60",
    )
    parser.add_argument(
        "--preheat", type=int, default=0, metavar="N", help="N pre-heated kernels (nbexplain dashboard --preheat N)"
    )
    parser.add_argument("--rows", type=int, help="run benchmarks/bench_picker.py on a bundle of this many rows instead")
    parser.add_argument("--out", type=Path, default=RESULTS / "dashboard.json")
    args = parser.parse_args(argv)
    if args.rows:
        import bench_picker

        return bench_picker.main(["--rows", str(args.rows)])
    viewers = [int(v) for v in (args.viewers or ("1,5" if args.quick else "1,5,20")).split(",")]
    Server.extra = tuple(args.voila_arg)
    Server.preheat_kernels = args.preheat
    args.picks = args.picks if args.picks is not None else (3 if args.quick else 10)
    RESULTS.mkdir(parents=True, exist_ok=True)

    from nbexplain.serve import dashboard_notebook
    from nbexplain.widgets.demo import demo_bundle

    bundle = demo_bundle("credit_fcn")
    notebook = bundle_notebook(bundle) if args.notebook == "bundle" else dashboard_notebook()
    print(f"serving {notebook} ({bundle.name}); viewers {viewers}", flush=True)
    # the first kernel of a run must not pay for a cold disk cache: import what a kernel imports
    subprocess.run([sys.executable, "-c", "import nbexplain.widgets.bundle, bqplot, ipywidgets, ipykernel"], check=True)

    results: dict = {
        "cpus": __import__("os").cpu_count(),
        "notebook": str(notebook),
        "voila_args": list(args.voila_arg),
        "preheat": args.preheat,
        "nbexplain": {},
        "server_alone": {},
    }
    results["load_average_1min"] = {"start": load_average()}
    for n in viewers:
        print(f"\n--- {n} viewer(s) in chromium", flush=True)
        results["nbexplain"][str(n)] = browser_room(notebook, n, args)
        results["load_average_1min"][f"after {n} viewers"] = load_average()
        if not args.no_server_alone:
            print(f"--- {n} page request(s) without a browser", flush=True)
            results["server_alone"][str(n)] = server_alone(notebook, n, args)
        write_json(args.out, results)
    if not args.no_server_alone:
        count = max(viewers) if args.whatif_all else 1
        print(f"\n--- first what-if in {count} kernel(s) through jupyter_client (no Voila, no browser)", flush=True)
        results["kernels_alone"] = kernels_alone(bundle, count)
    if not args.no_reference:
        results["explainerdashboard"] = reference(args, viewers)
    results["load_average_1min"]["end"] = load_average()
    write_json(args.out, results)

    report(results, viewers)
    alone = results.get("kernels_alone")
    if alone:
        print(
            f"\nkernel alone (jupyter_client): dashboard opened in {alone['open_s']['median']} s, first what-if "
            f"{alone['first_what_if_s']['median']} s (loads TensorFlow and the model), second "
            f"{alone['second_what_if_s']['median']} s; USS {alone['uss_mb_browsing']['median']} MB browsing, "
            f"{alone['uss_mb_model']['median']} MB with the model"
        )
    print(
        f"\nmachine: {results['cpus']} CPUs; 1-minute load average {results['load_average_1min']} (other work on the "
        "machine shows as load beyond what these runs make)"
    )
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
