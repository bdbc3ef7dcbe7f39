"""Serve notebooks with Voila on localhost: a free port, readiness, and a clean stop.

Used by ``nbexplain dashboard``, by the browser tests and by the dashboard benchmark.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from .._static import static_file
from ..errors import NBExplainError


class ServeError(NBExplainError):
    """A server could not be started (it exited, or did not answer in time)."""


def _descendants(pid: int) -> list:
    """The processes started by ``pid``, children of children included (empty if it is gone)."""
    import psutil

    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def _kill_survivors(processes: list, grace: float) -> None:
    """SIGTERM, then after ``grace`` seconds SIGKILL, to those of ``processes`` still alive."""
    import psutil

    alive = [p for p in processes if p.is_running()]
    for process in alive:
        with contextlib.suppress(psutil.Error):
            process.terminate()
    _, alive = psutil.wait_procs(alive, timeout=grace)
    for process in alive:
        with contextlib.suppress(psutil.Error):
            process.kill()
    psutil.wait_procs(alive, timeout=grace)


#: A static path: polling it does not run the notebook (polling "/" would start a kernel).
READY_PATH = "voila/static/extension.js"


def free_port(preferred: int = 0) -> int:
    """``preferred`` when it is free on 127.0.0.1, else a port the system picks."""
    for port in (preferred, 0):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return probe.getsockname()[1]
    raise OSError("no free port on 127.0.0.1")


def dashboard_notebook() -> Path:
    """The dashboard notebook shipped in the package (built from notebooks/dashboard.ipynb)."""
    return Path(str(static_file("dashboard.ipynb")))


class LocalServer:
    """``with LocalServer(command, ready_path) as server: server.url`` runs a Jupyter-family server
    on 127.0.0.1 until the block ends.

    ``command(port)`` gives the command line; readiness is any HTTP answer on ``ready_path``. The
    output goes to ``log`` (a path) when given; stop is SIGTERM, then SIGKILL after 10 s.
    """

    def __init__(
        self,
        command,
        ready_path: str,
        port: int = 0,
        log=None,
        timeout: float = 120.0,
        name: str = "the server",
        env=None,
    ):
        self.port = free_port(port)
        self.url = f"http://127.0.0.1:{self.port}/"
        self.command = command(self.port)
        self.ready_path = ready_path
        self.log = log
        self.timeout = timeout
        self.name = name
        self.env = env or {}
        self.process = None
        self._output = None

    def start(self) -> LocalServer:
        """Start the server and wait until it answers; any failure (or a signal) stops it again."""
        env = {**os.environ, **self.env}
        self._output = open(self.log, "w") if self.log else None
        self.process = subprocess.Popen(
            self.command, env=env, stdout=self._output, stderr=subprocess.STDOUT if self._output else None
        )
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServeError(
                    f"{self.name} exited with code {self.process.returncode} before answering"
                    + (f"; see {self.log}" if self.log else "")
                )
            try:
                urllib.request.urlopen(self.url + self.ready_path, timeout=2).close()
                return
            except urllib.error.HTTPError:
                return
            except (urllib.error.URLError, OSError):
                time.sleep(0.2)
        raise ServeError(f"{self.name} did not answer on {self.url} within {self.timeout:.0f} s")

    def wait(self) -> int:
        return self.process.wait()

    def stop(self, grace: float = 10.0) -> None:
        """Stop the server and every process it started (its kernels run in sessions of their
        own, so a signal to the server alone can leave them serving): SIGTERM to the server, then
        SIGKILL to whatever of its process tree is still alive after ``grace`` seconds."""
        if self.process is not None and self.process.poll() is None:
            descendants = _descendants(self.process.pid)
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            _kill_survivors(descendants + _descendants(self.process.pid), grace)
        if self._output is not None:
            self._output.close()
            self._output = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class VoilaServer(LocalServer):
    """Voila serving one notebook (or a folder); a taken port is an error, not a silent move."""

    def __init__(self, notebook, port: int = 0, log=None, timeout: float = 120.0):
        self.notebook = Path(notebook)
        super().__init__(
            lambda p: [
                sys.executable,
                "-m",
                "voila",
                str(self.notebook),
                "--no-browser",
                f"--port={p}",
                "--Voila.ip=127.0.0.1",
                "--Voila.port_retries=0",
                "--show_tracebacks=True",
            ],
            READY_PATH,
            port,
            log,
            timeout,
            name=f"Voila serving {self.notebook.name}",
        )
