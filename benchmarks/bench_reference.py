"""The reference beside bench_dashboard.py: explainerdashboard on the same rows, opened by the same
room of viewers (benchmarks/_room.py).

A scikit-learn GradientBoostingClassifier (100 trees of depth 3, seed 0) is fitted on the rows
bench_dashboard.py writes (the demo bundle's 25,000 rows and their outcomes), explained by
explainerdashboard's ClassifierExplainer (SHAP values of every row; interactions and the
decision-tree tab left out, as they would take far longer), all of it computed before serving
and kept in a file (benchmarks/results/reference/, reused while the rows are the same). It is
served with waitress (``ExplainerDashboard.run(use_waitress=True)``): one process holding the
model for every viewer. For each N, a fresh server; N viewers open it together; full render is
the first tab's chart drawn with no Dash callback pending. The first what-if of viewer 0: open
the "What if..." tab, "Random Index", then an edit of PAY_0 until the prediction table changes.

This file imports nothing of nbexplain: it runs in an environment that has explainerdashboard
(the ``bench`` extra, or a virtual environment of its own). Run by bench_dashboard.py; alone:
``python benchmarks/bench_reference.py --data rows.csv --viewers 1,5 --out reference.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _room import CpuClock, chromium_processes, launch, memory, open_room, tree, write_json, written

OUTCOME = "default"
#: The first tab's chart drawn, no callback pending.
RENDERED = (
    "document.querySelector('.js-plotly-plot .barlayer .point') && "
    "!document.querySelector('[data-dash-is-loading=\"true\"]')"
)
#: Marks the prediction card, then records (``window.__roomWhatIf``) the milliseconds from the
#: next ``input`` event to the prediction table's text changing.
ARM_WHAT_IF = """
() => {
    const heading = Array.from(document.querySelectorAll('h3')).find((h) => h.textContent.trim() === 'Prediction');
    const card = heading.closest('.card');
    const text = () => (card.querySelector('table') || card).textContent;
    const state = window.__roomWhatIf = {start: null, done_ms: null};
    const before = text();
    document.addEventListener('input', () => { if (state.start === null) state.start = performance.now(); }, true);
    const observer = new MutationObserver(() => {
        if (state.start !== null && text() !== before) {
            state.done_ms = performance.now() - state.start;
            observer.disconnect();
        }
    });
    observer.observe(card, {subtree: true, childList: true, characterData: true, attributes: true});
}
"""


def prepared(data: Path, folder: Path) -> Path:
    """The explainer of the rows, computed once and kept (keyed by the rows' SHA-256)."""
    digest = hashlib.sha256(data.read_bytes()).hexdigest()[:16]
    path = folder / f"explainer-{digest}.joblib"
    if path.is_file():
        return path
    import pandas as pd
    from explainerdashboard import ClassifierExplainer, ExplainerDashboard
    from sklearn.ensemble import GradientBoostingClassifier

    folder.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    frame = pd.read_csv(data)
    target = frame.pop(OUTCOME)
    model = GradientBoostingClassifier(n_estimators=100, max_depth=3, random_state=0).fit(frame, target)
    explainer = ClassifierExplainer(model, frame, target, labels=["no default", "default"])
    ExplainerDashboard(explainer, shap_interaction=False, decision_trees=False)  # computes what it shows
    explainer.calculate_properties()
    with written(path) as temporary:
        explainer.dump(temporary)
    print(f"explainerdashboard: model fitted and explained in {time.perf_counter() - began:.0f} s", flush=True)
    return path


def serve(explainer: Path, port: int) -> None:
    """Run the dashboard (the child process of :func:`server`)."""
    from explainerdashboard import ClassifierExplainer, ExplainerDashboard

    board = ExplainerDashboard(ClassifierExplainer.from_file(explainer), shap_interaction=False, decision_trees=False)
    board.run(port=port, use_waitress=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, explainer: Path, log: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log = open(log, "w")
        command = [sys.executable, __file__, "--serve", str(explainer), "--port", str(self.port)]
        self.process = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"explainerdashboard exited with {self.process.returncode}; see {log}")
            try:
                urllib.request.urlopen(self.url, timeout=2).close()
                return
            except OSError:
                time.sleep(0.5)
        raise RuntimeError("explainerdashboard did not answer within 300 s")

    def stop(self):
        for process in reversed(tree(self.process.pid)):
            try:
                process.kill()
            except Exception:
                pass
        self.process.wait()
        self.log.close()


def what_if(page, timeout_s: float, edits: int = 3) -> dict:
    """The first what-if of a viewer (PAY_0 edited until the prediction changes), and the median
    of a few more. "Random Index" should fill the inputs with a row first; with 25,000 rows and
    dash 4 its index dropdown stays empty (explainerdashboard warns about it), and the inputs
    with it: the edit is then made on empty inputs (filled by the explainer's NaN value)."""
    began = time.perf_counter()
    page.locator(".tab", has_text="What if...").first.click()
    field = page.locator('input[id^="feature-input-PAY_0-input"]').first
    field.wait_for(state="visible", timeout=int(1000 * timeout_s))
    page.locator("button", has_text="Random Index").first.click()
    page.wait_for_load_state("networkidle", timeout=int(1000 * timeout_s))
    page.wait_for_timeout(1000)
    page.wait_for_load_state("networkidle", timeout=int(1000 * timeout_s))
    opened = time.perf_counter() - began
    row_loaded = field.input_value() != ""
    times = []
    for k in range(1 + edits):
        current = field.input_value()
        value = float(current) if current else (0.0 if k % 2 else -2.0)
        page.evaluate(ARM_WHAT_IF)
        field.fill(str(int(value + 2 if value <= 6 else value - 2)))
        try:
            page.wait_for_function("() => window.__roomWhatIf.done_ms !== null", timeout=int(1000 * timeout_s))
            times.append(page.evaluate("() => window.__roomWhatIf.done_ms") / 1000)
        except Exception:
            times.append(None)
        page.wait_for_load_state("networkidle", timeout=int(1000 * timeout_s))
    later = [t for t in times[1:] if t is not None]
    return {
        "tab_opened_s": round(opened, 2),
        "row_loaded": row_loaded,
        "done_s": None if times[0] is None else round(times[0], 3),
        "status_s": None,
        "warm_s_median": round(statistics.median(later), 3) if later else None,
    }


def room(explainer: Path, n: int, args) -> dict:
    from playwright.sync_api import sync_playwright

    result: dict = {"viewers": n}
    server = Server(explainer, args.out.parent / f"explainerdashboard-{n}.log")
    try:
        with sync_playwright() as playwright:
            browser = launch(playwright)
            server_cpu = CpuClock(lambda: tree(server.process.pid)).start()
            browser_cpu = CpuClock(chromium_processes).start()
            viewers, wall = open_room(browser, server.url, n, RENDERED, timeout_s=args.timeout)
            result["cpu_s_to_render"] = {"server": server_cpu.seconds(), "browsers": browser_cpu.seconds()}
            result["wall_s"] = round(wall, 2)
            time.sleep(1.5)
            result["per_viewer"] = []
            for k, viewer in enumerate(viewers):
                result["per_viewer"].append(
                    {
                        "viewer": k,
                        "render_s": None if viewer.render_ms is None else round(viewer.render_ms / 1000, 2),
                        **viewer.traffic(),
                        "kernel_rss_mb": None,
                        "kernel_uss_mb": None,
                        "errors": list(viewer.errors),
                    }
                )
            used = memory(tree(server.process.pid))
            result["server_rss_mb"] = round(sum(m["rss_mb"] for m in used), 1)
            result["server_uss_mb"] = round(sum(m["uss_mb"] for m in used), 1)
            result["kernels_rss_total_mb"] = None
            result["kernels_uss_total_mb"] = None
            result["browsers_uss_total_mb"] = round(sum(m["uss_mb"] for m in memory(chromium_processes())), 1)
            first = what_if(viewers[0].page, args.timeout)
            result["what_if"] = [{"viewer": 0, **first}]
            result["warm"] = {
                "what_if_ms_median": None if first["warm_s_median"] is None else 1000 * first["warm_s_median"]
            }
            result["cpu_s_whole_run"] = {"server": server_cpu.seconds(), "browsers": browser_cpu.seconds()}
            result["server_rss_mb_after"] = round(sum(m["rss_mb"] for m in memory(tree(server.process.pid))), 1)
            for viewer in viewers:
                viewer.close()
            browser.close()
    finally:
        server.stop()
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path)
    parser.add_argument("--viewers", default="1,5,20")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "reference.json")
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve, args.port)
        return 0
    import explainerdashboard

    args.out.parent.mkdir(parents=True, exist_ok=True)
    explainer = prepared(args.data, args.out.parent / "reference")
    result = {
        "explainerdashboard": explainerdashboard.__version__ if hasattr(explainerdashboard, "__version__") else "?"
    }
    try:
        from importlib.metadata import version

        result["explainerdashboard"] = version("explainerdashboard")
    except Exception:
        pass
    result["model"] = "GradientBoostingClassifier(n_estimators=100, max_depth=3), waitress"
    result["rooms"] = {}
    for n in [int(v) for v in args.viewers.split(",")]:
        print(f"--- explainerdashboard, {n} viewer(s) in chromium", flush=True)
        result["rooms"][str(n)] = room(explainer, n, args)
        write_json(args.out, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
