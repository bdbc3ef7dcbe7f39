"""A room of viewers in headless chromium, and what the machine spends on them.

Shared by bench_dashboard.py (nbexplain on Voila) and bench_reference.py (explainerdashboard, run
from a virtual environment of its own), so this module needs only the standard library, psutil
and Playwright (not nbexplain: Debian chromium's flags are read from nbexplain/serve/browser.py
by path).

* :func:`open_room` opens ``n`` viewers, each in a browser context of its own (its own cookies,
  cache and renderer process: nothing is shared between viewers but the browser process), all
  navigations started before any render is awaited. Each page records, from its own
  navigation start, when a render condition (JavaScript) first held, and the bytes it received:
  HTTP from the Resource Timing entries (``transferSize``: headers and bodies as they came over
  the wire), websocket frames counted through Playwright's ``framereceived`` (decompressed: the
  browser hands frames over after permessage-deflate), and everything on the wire: each viewer
  reaches the server through a :class:`WireMeter` of its own, a TCP relay that counts the bytes
  the server sent (HTTP and websocket, as compressed).
* :class:`CpuClock` gives CPU-seconds (user + system) of process trees between two moments.
* :func:`memory` gives RSS and USS (the memory a process alone holds: shared libraries and
  mapped files counted once, in no process) of processes.
* :func:`written` writes a file all-or-nothing (a temporary name beside it, renamed over it).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import os
import statistics
import threading
import time
import urllib.parse
from pathlib import Path

import psutil

ROOT = Path(__file__).parent.parent


def _browser_module():
    spec = importlib.util.spec_from_file_location("_nbexplain_browser", ROOT / "nbexplain" / "serve" / "browser.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def launch(playwright):
    """Headless Debian chromium with nbexplain's flags (nbexplain.serve.launch_chromium)."""
    return _browser_module().launch_chromium(playwright)


#: Installed in every page before its scripts: records when ``CONDITION`` first holds.
WATCH_RENDER = """
(() => {
    performance.setResourceTimingBufferSize(100000);
    const check = () => {
        if (window.__roomRendered !== undefined) return true;
        let ready = false;
        try { ready = Boolean(CONDITION); } catch (error) { ready = false; }
        if (ready) window.__roomRendered = performance.now();
        return ready;
    };
    const start = () => {
        if (check()) return;
        const observer = new MutationObserver(() => { if (check()) observer.disconnect(); });
        observer.observe(document.documentElement, {subtree: true, childList: true, attributes: true});
    };
    if (document.documentElement) start(); else document.addEventListener("DOMContentLoaded", start);
})();
"""

#: Bytes received over HTTP by the page (navigation and every resource).
HTTP_BYTES = """
() => performance.getEntriesByType("navigation").concat(performance.getEntriesByType("resource"))
    .reduce((total, entry) => total + (entry.transferSize || 0), 0)
"""


class WireMeter:
    """A TCP relay on a port of its own in front of a server: the bytes the server sent through it
    (``received``) are what a viewer using it got on the wire, compression included.

    All relays run on one event loop in a daemon thread; ``url(server_url)`` is the same address
    through the relay (same host, so cookies and the websocket's origin check behave as direct).
    """

    _loop: asyncio.AbstractEventLoop | None = None
    _lock = threading.Lock()

    @classmethod
    def _event_loop(cls) -> asyncio.AbstractEventLoop:
        with cls._lock:
            if cls._loop is None:
                cls._loop = asyncio.new_event_loop()
                threading.Thread(target=cls._loop.run_forever, name="wire-meter", daemon=True).start()
            return cls._loop

    def __init__(self, server_url: str):
        parts = urllib.parse.urlsplit(server_url)
        self.host, self.target_port = parts.hostname or "127.0.0.1", parts.port or 80
        self.received = 0
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._relay, self.host, 0), self._event_loop()
        ).result(timeout=30)
        self.port = self._server.sockets[0].getsockname()[1]
        self._parts = parts

    def url(self) -> str:
        return urllib.parse.urlunsplit(self._parts._replace(netloc=f"{self.host}:{self.port}"))

    async def _pipe(self, reader, writer, count: bool) -> None:
        try:
            while chunk := await reader.read(65536):
                if count:
                    self.received += len(chunk)
                writer.write(chunk)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def _relay(self, client_reader, client_writer) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection(self.host, self.target_port)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(
            self._pipe(client_reader, server_writer, count=False),
            self._pipe(server_reader, client_writer, count=True),
        )

    def close(self) -> None:
        self._server.close()


class Viewer:
    """One page of the room: its page, its bytes (on the wire, and as the browser decoded them),
    its errors."""

    def __init__(self, browser, url: str, render_condition: str, width=1400, height=1100):
        self.wire = WireMeter(url)
        url = self.wire.url()
        self.context = browser.new_context(viewport={"width": width, "height": height})
        self.page = self.context.new_page()
        self.page.route(
            "**/*",
            lambda route: route.continue_() if route.request.url.startswith("http://127.0.0.1") else route.abort(),
        )
        self.url = url
        self.render_ms: float | None = None
        self.errors: list = []
        self.websocket_bytes = 0
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("websocket", self._count_socket)
        self.page.add_init_script(WATCH_RENDER.replace("CONDITION", render_condition))

    def _count_socket(self, socket):
        def received(payload):
            self.websocket_bytes += len(payload.encode() if isinstance(payload, str) else payload)

        socket.on("framereceived", received)

    def navigate(self) -> None:
        self.page.goto(self.url, wait_until="commit", timeout=600_000)

    def rendered_ms(self, timeout_ms: int) -> float | None:
        """Milliseconds from this page's navigation start to its full render (None: not within)."""
        try:
            self.page.wait_for_function("() => window.__roomRendered !== undefined", timeout=timeout_ms, polling=100)
        except Exception:
            return None
        return float(self.page.evaluate("() => window.__roomRendered"))

    def http_bytes(self) -> int:
        return int(self.page.evaluate(HTTP_BYTES))

    def traffic(self) -> dict:
        """What this viewer received, in MB: ``wire_mb`` everything the server sent as it crossed
        the wire (compressed; the figure to hold against a budget), ``http_mb`` the page's HTTP as
        the browser's Resource Timing saw it, ``websocket_mb`` the frames as the browser decoded
        them (after permessage-deflate)."""
        return {
            "wire_mb": round(self.wire.received / 1e6, 3),
            "http_mb": round(self.http_bytes() / 1e6, 3),
            "websocket_mb": round(self.websocket_bytes / 1e6, 3),
        }

    def close(self) -> None:
        self.context.close()
        self.wire.close()


def open_room(browser, url: str, n: int, render_condition: str, timeout_s: float = 600.0) -> tuple[list, float]:
    """``n`` viewers opening ``url`` together: ``([Viewer], seconds from the first navigation to
    the last render)``; each viewer's ``render_ms`` is set (None when it did not render)."""
    viewers = [Viewer(browser, url, render_condition) for _ in range(n)]
    started = time.perf_counter()
    for viewer in viewers:
        viewer.navigate()
    deadline = started + timeout_s
    for viewer in viewers:
        viewer.render_ms = viewer.rendered_ms(max(1000, int(1000 * (deadline - time.perf_counter()))))
    return viewers, time.perf_counter() - started


# ----------------------------------------------------------------- processes
def chromium_processes() -> list:
    """The browser processes this process started (through Playwright's driver)."""
    found = []
    for process in psutil.Process().children(recursive=True):
        try:
            if "chrom" in process.name().lower():
                found.append(process)
        except psutil.Error:
            continue
    return found


def tree(pid: int) -> list:
    """A process and all its descendants."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def _cpu(process) -> float:
    try:
        times = process.cpu_times()
        return times.user + times.system
    except psutil.Error:
        return 0.0


class CpuClock:
    """CPU-seconds spent by a set of processes since :meth:`start` (processes that appear later
    count from their start; ``processes`` is a function giving the current set)."""

    def __init__(self, processes):
        self.processes = processes
        self.before: dict = {}

    def start(self) -> CpuClock:
        self.before = {p.pid: _cpu(p) for p in self.processes()}
        return self

    def seconds(self) -> float:
        return round(sum(_cpu(p) - self.before.get(p.pid, 0.0) for p in self.processes()), 2)


def memory(processes) -> list:
    """``[{"pid", "rss_mb", "uss_mb"}]`` of processes (those still alive)."""
    found = []
    for process in processes:
        try:
            info = process.memory_full_info()
        except psutil.Error:
            continue
        found.append({"pid": process.pid, "rss_mb": round(info.rss / 1e6, 1), "uss_mb": round(info.uss / 1e6, 1)})
    return found


def stats(values) -> dict:
    """min, median, max of the values that are not None (and how many were None)."""
    present = [v for v in values if v is not None]
    if not present:
        return {"min": None, "median": None, "max": None, "missing": len(values)}
    return {
        "min": round(min(present), 3),
        "median": round(statistics.median(present), 3),
        "max": round(max(present), 3),
        "missing": len(values) - len(present),
    }


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


@contextlib.contextmanager
def written(path: Path):
    """A temporary path beside ``path``, renamed to ``path`` when the block succeeds (removed when
    it fails): the file is written all-or-nothing (the standard library's side of
    nbexplain._files.atomic_path, for an interpreter without nbexplain)."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.partial{path.suffix}")
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def write_json(path: Path, data) -> None:
    """``data`` as indented JSON at ``path``, all-or-nothing."""
    with written(path) as temporary:
        temporary.write_text(json.dumps(data, indent=2))
