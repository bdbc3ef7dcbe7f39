"""Serve notebooks with Voila: a port that is free (or an error naming it), readiness, a clean
stop, and what serving to a room needs (a token beyond localhost, idle kernels culled, a cap on
live kernels, no asset from a public CDN).

Used by ``nbexplain dashboard``, by the browser tests and by the dashboard benchmark.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

from .._static import static_file
from ..errors import NBExplainError

#: Folder put first on JUPYTER_PATH for Voila: it holds the ``nbexplain`` Voila template.
SHARE = Path(__file__).parent / "share"
#: The Voila template the dashboards are served with (Voila's "lab", less the CDN links).
TEMPLATE = "nbexplain"
#: How the kernel manager and the identity provider are named to Voila (see ``limits.py``).
KERNEL_MANAGER = "nbexplain.serve.limits.CappedKernelManager"
IDENTITY_PROVIDER = "nbexplain.serve.limits.TokenIdentityProvider"
#: The Voila application run (``app.py``: Voila with its responses gzip-compressed).
VOILA_APP = "nbexplain.serve.app"
#: Seconds Voila waits for a cell's last outputs once the kernel has answered (Voila's default,
#: 4 s, drops the dashboard's output when twenty kernels start together on two cores: the page
#: then shows its text and no dashboard).
IOPUB_TIMEOUT = 120
#: How kernels and the server talk: Unix sockets on Linux (jupyter_client's ``ipc`` transport,
#: sockets named after each kernel's connection file in Voila's private runtime folder), TCP on
#: localhost elsewhere (macOS's temporary folders can pass the 104-byte limit of a socket path).
KERNEL_TRANSPORT = ("--KernelManager.transport=ipc",) if sys.platform.startswith("linux") else ()
#: The environment variable that hands the token to Voila (read, then removed, in ``limits.py``):
#: a token on Voila's command line would be visible to every user of the machine.
TOKEN_VARIABLE = "NBEXPLAIN_SERVE_TOKEN"


class ServeError(NBExplainError):
    """A server could not be started (it exited, or did not answer in time)."""


class PortInUseError(ServeError):
    """The port asked for is taken by another program."""

    def __init__(self, port: int, host: str):
        self.port, self.host = port, host
        super().__init__(
            f"port {port} on {host or 'all addresses'} is already in use by another program: stop it, "
            "choose another port, or ask for port 0 to serve on any free port."
        )


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


def _listens(pid: int, port: int) -> bool:
    """Whether ``pid`` or a process it started listens on ``port`` (True when it cannot be told)."""
    import psutil

    try:
        processes = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    except psutil.Error:
        return False
    for process in processes:
        try:
            connections = process.net_connections(kind="tcp")
        except psutil.AccessDenied:
            return True
        except psutil.Error:
            continue
        if any(c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port for c in connections):
            return True
    return False


# ----------------------------------------------------------------- addresses and ports
def is_loopback(ip: str) -> bool:
    """Whether serving on ``ip`` stays on this machine (127.0.0.1, ::1, localhost)."""
    if ip == "localhost":
        return True
    try:
        return ipaddress.ip_address(ip).is_loopback
    except ValueError:
        return False


def _is_wildcard(ip: str) -> bool:
    return ip in ("", "0.0.0.0", "::")


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def local_host(ip: str) -> str:
    """The address this machine reaches a server on ``ip`` by."""
    if ip in ("", "0.0.0.0", "localhost"):
        return "127.0.0.1"
    if ip == "::":
        return "::1"
    return ip


def shared_host(ip: str) -> str:
    """The address to give to others for a server on ``ip`` (this machine's name for a wildcard)."""
    return socket.gethostname() if _is_wildcard(ip) else local_host(ip)


def _bind(host: str, port: int) -> int:
    """Bind ``port`` on every address ``host`` stands for, as tornado does (SO_REUSEADDR, IPv6
    only on IPv6 sockets), and let go; the port bound (the system's pick for 0). Raises OSError."""
    flags = socket.AI_PASSIVE
    for family, kind, proto, _, address in socket.getaddrinfo(host or None, port, 0, socket.SOCK_STREAM, 0, flags):
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            probe.bind((address[0], port, *address[2:]))
            port = probe.getsockname()[1]
    return port


def check_port(port: int = 0, host: str = "127.0.0.1") -> int:
    """``port`` when it is free on ``host``, a free port the system picks for 0; a port in use is a
    :class:`PortInUseError` and an address that is not this machine's a :class:`ServeError`."""
    try:
        return _bind(host, port)
    except socket.gaierror as error:
        raise ServeError(f"{host!r} is not an address this machine can serve on ({error.strerror}).") from None
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise PortInUseError(port, host) from None
        if error.errno == errno.EADDRNOTAVAIL:
            raise ServeError(f"{host} is not an address of this machine; serve on one of its own addresses.") from None
        if error.errno == errno.EACCES:
            raise ServeError(f"port {port} needs administrator rights; choose one above 1023, or 0.") from None
        raise ServeError(f"cannot serve on {host} port {port}: {error.strerror}.") from None


def free_port(preferred: int = 0, host: str = "127.0.0.1") -> int:
    """``preferred`` when it is free on ``host``, else a port the system picks."""
    for port in (preferred, 0):
        try:
            return _bind(host, port)
        except OSError:
            continue
    raise OSError(f"no free port on {host}")


def dashboard_notebook() -> Path:
    """The dashboard notebook shipped in the package (built from notebooks/dashboard.ipynb)."""
    return Path(str(static_file("dashboard.ipynb")))


#: A static path: polling it does not run the notebook (polling "/" would start a kernel).
READY_PATH = "voila/static/extension.js"


class _PortLost(Exception):
    """The server exited because another program took its port first (port 0 only)."""


class LocalServer:
    """``with LocalServer(command, ready_path) as server: server.url`` runs a Jupyter-family server
    until the block ends.

    ``command(port)`` gives the command line; the server listens on ``host`` (127.0.0.1 unless
    told). ``port`` 0 asks for any free port (picked again if another program takes it while the
    server starts); another port must be free, else :class:`PortInUseError`. Readiness is any
    HTTP answer on ``ready_path`` from a socket the server itself listens on. The output goes to
    ``log`` (a path) when given; stop is SIGTERM, then SIGKILL after 10 s.
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
        host: str = "127.0.0.1",
    ):
        self.requested_port = port
        self.host = host
        self.make_command = command
        self.ready_path = ready_path
        self.log = log
        self.timeout = timeout
        self.name = name
        self.env = env or {}
        self.process = None
        self._output = None
        self._choose_port()

    def _choose_port(self) -> None:
        self.port = check_port(self.requested_port, self.host)
        self.base_url = f"http://{_url_host(local_host(self.host))}:{self.port}/"
        self.url = self.base_url
        self.command = self.make_command(self.port)

    def start(self) -> LocalServer:
        """Start the server and wait until it answers; any failure (or a signal) stops it again."""
        attempts = 1 if self.requested_port else 3
        for attempt in range(attempts):
            try:
                self._start_once(append=attempt > 0)
                return self
            except _PortLost:
                if attempt + 1 == attempts:
                    raise PortInUseError(self.port, self.host) from None
                self._choose_port()
        raise AssertionError("unreachable")

    def _start_once(self, append: bool) -> None:
        env = {**os.environ, **self.env}
        self._output = open(self.log, "a" if append else "w") if self.log else None
        self.process = subprocess.Popen(
            self.command, env=env, stdout=self._output, stderr=subprocess.STDOUT if self._output else None
        )
        try:
            self._wait_until_ready()
        except BaseException as error:
            self.stop()
            if isinstance(error, ServeError) and self._port_taken():
                if self.requested_port:
                    raise PortInUseError(self.port, self.host) from None
                raise _PortLost() from None
            raise

    def _port_taken(self) -> bool:
        try:
            _bind(self.host, self.port)
        except OSError as error:
            return error.errno == errno.EADDRINUSE
        return False

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServeError(
                    f"{self.name} exited with code {self.process.returncode} before answering"
                    + (f"; see {self.log}" if self.log else "")
                )
            if self._answers() and _listens(self.process.pid, self.port):
                return
            time.sleep(0.2)
        raise ServeError(f"{self.name} did not answer on {self.base_url} within {self.timeout:.0f} s")

    def _answers(self) -> bool:
        try:
            urllib.request.urlopen(self.base_url + self.ready_path, timeout=2).close()
        except urllib.error.HTTPError:
            return True
        except (urllib.error.URLError, OSError):
            return False
        return True

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
    """Voila serving one notebook (or a folder), safe to show to a room.

    * ``ip``: 127.0.0.1 unless told. Beyond this machine (any address but 127.0.0.1, ::1 and
      localhost) a token is required: ``token=None`` generates one (``secrets.token_urlsafe``),
      a string sets it, and ``""`` (no token) is refused there unless ``allow_no_token``. On
      localhost there is no token unless one is given. jupyter_server's identity provider checks
      it (``Voila.identity_provider_class``, see :mod:`nbexplain.serve.limits`); ``url`` carries
      it as ``?token=``.
    * ``cull_idle`` seconds (0: never): a kernel idle that long with no page connected is shut
      down, checked every ``cull_interval`` seconds (``MappingKernelManager.cull_idle_timeout``,
      ``cull_interval``, ``cull_connected=False``: a kernel whose page is open is kept).
    * ``max_kernels`` (0 or None: no cap): a viewer beyond it gets an HTTP 503 page, no kernel.
    * ``preheat`` kernels (0: none) run the notebook before anyone asks (Voila's pre-heated pool,
      ``VoilaConfiguration.preheat_kernel``, ``default_pool_size``): the next ``preheat`` viewers
      get a page at once, and each one taken is replaced. They count beside ``max_kernels``, not
      in it, and the culler leaves them alone.
    * ``port``: 0 for any free port; another port must be free (:class:`PortInUseError`).
    * Served with the ``nbexplain`` Voila template: no asset from a public CDN; responses gzipped
      (:mod:`nbexplain.serve.app`); a cell's outputs awaited up to :data:`IOPUB_TIMEOUT` seconds
      once its kernel has answered, so that a busy server still sends every dashboard.
    """

    def __init__(
        self,
        notebook,
        port: int = 0,
        log=None,
        timeout: float = 120.0,
        *,
        ip: str = "127.0.0.1",
        token: str | None = None,
        allow_no_token: bool = False,
        cull_idle: int = 300,
        cull_interval: int | None = None,
        max_kernels: int | None = 20,
        preheat: int = 0,
    ):
        self.notebook = Path(notebook)
        self.ip = ip
        self.local = is_loopback(ip)
        self.token = self.access_token(ip, token, allow_no_token)
        self.cull_idle = int(cull_idle)
        self.cull_interval = int(cull_interval or max(1, min(60, self.cull_idle // 5)))
        self.max_kernels = int(max_kernels or 0)
        self.preheat = int(preheat)
        if self.preheat < 0:
            raise ServeError(f"preheat must be 0 (no pool) or a number of kernels, not {preheat}.")
        env = {"JUPYTER_PATH": os.pathsep.join(p for p in (str(SHARE), os.environ.get("JUPYTER_PATH", "")) if p)}
        if self.token:
            env[TOKEN_VARIABLE] = self.token
        super().__init__(
            self._voila_command,
            READY_PATH,
            port,
            log,
            timeout,
            name=f"Voila serving {self.notebook.name}",
            env=env,
            host=ip,
        )

    @staticmethod
    def access_token(ip: str, token: str | None = None, allow_no_token: bool = False) -> str:
        """The token viewers' addresses must carry: the one given, else none on localhost and a
        random one beyond it; serving beyond localhost without one is refused unless allowed."""
        local = is_loopback(ip)
        if token is None:
            token = "" if local else secrets.token_urlsafe(24)
        if not token and not local and not allow_no_token:
            raise ServeError(
                f"serving on {ip or 'all addresses'} without a token would let anyone who can reach this machine "
                "open the dashboard and start its kernels; keep the generated token (the default), give one "
                "(--token), or accept it knowingly (--allow-no-token)."
            )
        return token

    def _voila_command(self, port: int) -> list[str]:
        command = [
            sys.executable,
            "-m",
            VOILA_APP,
            str(self.notebook),
            "--no-browser",
            f"--port={port}",
            f"--Voila.ip={self.ip}",
            "--Voila.port_retries=0",
            # a traceback can show paths and data: only to the person on this machine
            f"--show_tracebacks={self.local}",
            f"--template={TEMPLATE}",
            f"--VoilaConfiguration.multi_kernel_manager_class={KERNEL_MANAGER}",
            f"--CappedKernelManager.max_kernels={self.max_kernels}",
            f"--Voila.identity_provider_class={IDENTITY_PROVIDER}",
            f"--VoilaExecutor.iopub_timeout={IOPUB_TIMEOUT}",
            # kernels talk to the server over Unix sockets beside their connection files: no TCP
            # port is chosen and left free until the kernel binds it, where twenty kernels
            # starting together raced the server's own connections for it ("Address already in
            # use", the kernel dead and its page waiting for ever); nor any port on the machine
            *KERNEL_TRANSPORT,
        ]
        if self.token:
            # no token on the command line (other users see it there): TokenIdentityProvider reads
            # it from the environment when Voila leaves the token to the provider (auto_token)
            command.append("--Voila.auto_token=True")
        if self.preheat:
            command += [
                "--VoilaConfiguration.preheat_kernel=True",
                f"--VoilaConfiguration.default_pool_size={self.preheat}",
            ]
        if self.cull_idle > 0:
            command += [
                f"--MappingKernelManager.cull_idle_timeout={self.cull_idle}",
                f"--MappingKernelManager.cull_interval={self.cull_interval}",
                "--MappingKernelManager.cull_connected=False",
            ]
        return command

    def _choose_port(self) -> None:
        super()._choose_port()
        query = f"?token={quote(self.token, safe='')}" if self.token else ""
        self.url = self.base_url + query
        self.shared_url = f"http://{_url_host(shared_host(self.ip))}:{self.port}/{query}"
