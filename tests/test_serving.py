"""Serving a dashboard to a room, with a real Voila server and a real browser (Debian chromium).

Beyond localhost a token is required and a request without it gets a refusal page; every asset
comes from the server itself (no CDN) and the button icons still render; the kernel of a page
that vanished is culled while an open page keeps its own; a viewer beyond the cap gets a clear
HTTP 503 page and no kernel, and gets in once a place frees up; a port in use is named, port 0
serves on a free one, and the URL printed is the one served. A tiny notebook (one button with an
icon) stands in for the dashboard, so nothing here needs TensorFlow. Screenshots of the refusal
and "too many viewers" pages go to test-artifacts/screenshots/.
"""

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest
from browser_fixtures import ARTIFACTS, _require_chromium, open_page

from nbexplain.cli import main
from nbexplain.serve import LocalServer, PortInUseError, ServeError, VoilaServer

pytestmark = [pytest.mark.browser]

ROOT = Path(__file__).parent.parent
BUTTON = """import ipywidgets as widgets

button = widgets.Button(description="Refresh", icon="refresh")


def clicked(b):
    b.description = "Clicked"


button.on_click(clicked)
button
"""


def write_notebook(folder: Path) -> Path:
    import nbformat

    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(BUTTON)])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = folder / "button.ipynb"
    nbformat.write(notebook, path)
    return path


@pytest.fixture(scope="module")
def notebook(tmp_path_factory):
    return write_notebook(tmp_path_factory.mktemp("serving"))


def kernels(server) -> dict:
    """The kernel processes a server runs, by kernel id (read from their connection file)."""
    import psutil

    found = {}
    for process in psutil.Process(server.process.pid).children(recursive=True):
        try:
            command = " ".join(process.cmdline())
        except psutil.Error:
            continue
        match = re.search(r"ipykernel.*kernel-([0-9a-f-]{36})\.json", command)
        if match:
            found[match.group(1)] = process
    return found


def page_kernel(page) -> str:
    return page.evaluate("() => JSON.parse(document.getElementById('jupyter-config-data').textContent).kernelId")


def rendered(page, url):
    """Open ``url``; wait for the button to render; the main response."""
    response = page.goto(url, timeout=60_000)
    page.locator(".widget-button", has_text="Refresh").wait_for(timeout=60_000)
    return response


def recording(page) -> list:
    """Every URL the page requests from now on (aborted ones included)."""
    urls: list = []
    page.on("request", lambda request: urls.append(request.url))
    return urls


def wait_until(condition, timeout, step=0.25):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()


# ----------------------------------------------------------------- a token beyond localhost
@pytest.fixture(scope="module")
def room(notebook):
    """Voila on all of this machine's addresses: a token is generated and required."""
    _require_chromium()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with VoilaServer(notebook, ip="0.0.0.0", log=ARTIFACTS / "voila-room.log") as server:
        yield server


def test_beyond_localhost_a_request_without_the_token_gets_a_refusal_page(browser, room, screenshots):
    assert room.token and len(room.token) >= 24
    assert room.url == f"{room.base_url}?token={room.token}"
    assert urlparse(room.shared_url).port == room.port and room.shared_url.endswith(f"?token={room.token}")
    page = open_page(browser, width=1000, height=700)
    try:
        for url in (room.base_url, room.base_url + "?token=not-the-token"):
            response = page.goto(url, timeout=60_000)
            assert response.status == 403, url
            page.get_by_role("heading", name="This dashboard needs its full address").wait_for(timeout=10_000)
            assert "?token=" in page.inner_text("body")
        page.screenshot(path=screenshots / "serving-token-refused.png")
        assert not page.errors
    finally:
        page.context.close()
    assert not kernels(room), "a refused request started no kernel"
    # the token travels in Voila's environment, read once and removed: never on a command line
    import psutil

    tree = [psutil.Process(room.process.pid), *psutil.Process(room.process.pid).children(recursive=True)]
    assert not any(room.token in " ".join(p.cmdline()) for p in tree)


def test_every_asset_comes_from_the_server_and_the_icons_render(browser, room, screenshots):
    page = open_page(browser, width=1000, height=700)
    urls = recording(page)
    try:
        response = rendered(page, room.url)
        assert response.status == 200
        icon = page.locator(".widget-button i.fa-refresh")
        icon.wait_for(timeout=10_000)
        page.evaluate("() => document.fonts.ready")
        glyph = icon.evaluate(
            "i => { const s = getComputedStyle(i, '::before'); return [s.fontFamily, s.content, s.fontWeight] }"
        )
        assert "Font Awesome" in glyph[0] and glyph[1] not in ("none", "normal", ""), glyph
        loaded = page.evaluate(
            "() => [...document.fonts].filter(f => f.family.includes('Font Awesome') && f.status === 'loaded')"
            ".map(f => f.family)"
        )
        assert loaded, "the icon font was loaded (from the server)"
        assert icon.bounding_box()["width"] > 5
        page.locator(".widget-button").screenshot(path=screenshots / "serving-icon-button.png")
        # the button works: the page's kernel answers
        page.locator(".widget-button").click()
        page.locator(".widget-button", has_text="Clicked").wait_for(timeout=20_000)
        assert not page.errors
        # the kernel's API answers the token (or the page's login cookie), nothing else
        kernel = page_kernel(page)
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{room.base_url}api/kernels/{kernel}", timeout=30)
        assert refused.value.code == 403
        answer = urllib.request.urlopen(f"{room.base_url}api/kernels/{kernel}?token={room.token}", timeout=30)
        assert answer.status == 200
        # closed the normal way, the page shuts its kernel down at once (Voila's beacon passes the
        # identity provider with the login cookie); the culler (300 s here) is not needed
        process = kernels(room)[kernel]
        page.close(run_before_unload=True)
        assert wait_until(lambda: not process.is_running(), timeout=10), "the page's kernel outlived it"
    finally:
        page.context.close()
    network = [u for u in urls if not u.startswith(("data:", "blob:"))]
    assert network, "the page made requests"
    outside = [u for u in network if urlparse(u).hostname != "127.0.0.1"]
    assert not outside, f"requests left 127.0.0.1: {outside}"
    assert any(re.search(r"\.(woff2?|ttf)(\?|$)", u) for u in network), "the icon font came from the server"


# ----------------------------------------------------------------- culling and the cap
@pytest.fixture(scope="module")
def capped(notebook):
    """Voila on localhost for at most 2 viewers; a kernel idle 5 s with no page is culled."""
    _require_chromium()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with VoilaServer(
        notebook, log=ARTIFACTS / "voila-capped.log", max_kernels=2, cull_idle=5, cull_interval=2
    ) as server:
        assert "--MappingKernelManager.cull_connected=False" in server.command
        yield server


def test_pages_and_scripts_are_sent_gzipped_to_a_browser_that_accepts_it(browser, room):
    """The page's JavaScript is most of what a viewer receives: gzipped on the wire, the same
    bytes once decompressed, and plain for a client that does not ask for gzip."""
    import gzip

    page = open_page(browser, width=1000, height=700)
    urls = recording(page)
    try:
        rendered(page, room.url)
    finally:
        page.close()
    script = next(u for u in urls if urlparse(u).path.endswith(".js") and u.startswith(room.base_url[:-1]))

    def fetch(encoding):
        request = urllib.request.Request(script, headers={"Accept-Encoding": encoding})
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.headers.get("Content-Encoding"), answer.read()

    (zipped, compressed), (plain, body) = fetch("gzip"), fetch("identity")
    assert zipped == "gzip" and plain is None
    assert gzip.decompress(compressed) == body and len(compressed) < len(body) / 2


def test_the_cap_turns_a_viewer_away_and_a_vanished_page_s_kernel_is_culled(browser, capped, screenshots):
    first, second, third = (open_page(browser, width=1000, height=700) for _ in range(3))
    try:
        rendered(first, capped.url)
        rendered(second, capped.url)
        kept, vanishing = page_kernel(first), page_kernel(second)
        assert set(kernels(capped)) == {kept, vanishing}

        response = third.goto(capped.url, timeout=60_000)
        assert response.status == 503
        message = "This dashboard is serving 2 viewers, the most it allows; try again in a few minutes."
        third.get_by_text(message).wait_for(timeout=10_000)
        third.screenshot(path=screenshots / "serving-too-many-viewers.png")
        assert set(kernels(capped)) == {kept, vanishing}, "the viewer turned away got no kernel"

        # The second page vanishes without saying goodbye (no beforeunload: a closed laptop, a
        # lost network): only the culler can free its kernel.
        process = kernels(capped)[vanishing]
        second.close()
        closed = time.monotonic()
        time.sleep(1)
        assert process.is_running(), "the kernel outlives its page until the culler sees it idle"
        assert wait_until(lambda: not process.is_running(), timeout=30)
        culled_after = time.monotonic() - closed
        assert culled_after < 5 + 2 + 6, f"culled {culled_after:.1f} s after the page closed"

        # the open page has been idle far longer than 5 s but keeps its kernel, and it still answers
        assert set(kernels(capped)) == {kept}
        first.locator(".widget-button").click()
        first.locator(".widget-button", has_text="Clicked").wait_for(timeout=20_000)

        # a place is free: the viewer turned away gets in
        response = third.reload(timeout=60_000)
        assert response.status == 200
        third.locator(".widget-button", has_text="Refresh").wait_for(timeout=60_000)
        assert len(kernels(capped)) == 2
        for page in (first, third):
            assert not page.errors

        # a page closed the normal way gives its place back at once, well before the culler
        # could (its kernel has not been idle 5 s): Voila's shutdown request passes
        process = kernels(capped)[page_kernel(third)]
        third.close(run_before_unload=True)
        closed = time.monotonic()
        assert wait_until(lambda: not process.is_running(), timeout=30)
        assert time.monotonic() - closed < 4, "shut down by the page, not by the culler"
    finally:
        for page in (first, second, third):
            page.context.close()


# ----------------------------------------------------------------- pre-heated kernels
def test_preheated_kernels_serve_at_once_are_replaced_never_culled_and_keep_the_cap(browser, notebook, screenshots):
    """With ``preheat=1`` a kernel runs the notebook before anyone asks: it waits through several
    culling rounds (the culler leaves a waiting kernel alone), the first viewer gets it (its page
    works: the button answers), another takes its place, and the cap of 2 viewers still turns
    the third away with the 503 page although a pre-heated kernel is waiting."""
    _require_chromium()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with VoilaServer(
        notebook, log=ARTIFACTS / "voila-preheat.log", max_kernels=2, preheat=1, cull_idle=3, cull_interval=1
    ) as server:
        assert wait_until(lambda: len(kernels(server)) == 1, timeout=60)
        (waiting,) = kernels(server)
        time.sleep(3 + 1 + 3)
        assert set(kernels(server)) == {waiting}, "the waiting kernel outlived its idle time"

        first, second, third = (open_page(browser, width=1000, height=700) for _ in range(3))
        try:
            begun = time.monotonic()
            rendered(first, server.url)
            assert page_kernel(first) == waiting, "the first viewer got the pre-heated kernel"
            first.locator(".widget-button").click()
            first.locator(".widget-button", has_text="Clicked").wait_for(timeout=20_000)
            assert time.monotonic() - begun < 20
            assert wait_until(lambda: len(kernels(server)) == 2, timeout=60), "another kernel waits in its place"
            (replacement,) = set(kernels(server)) - {waiting}
            filled = "Kernel pool of button.ipynb is filled"
            assert wait_until(lambda: Path(server.log).read_text().count(filled) == 2, timeout=60)

            rendered(second, server.url)
            assert page_kernel(second) == replacement
            assert wait_until(lambda: len(kernels(server)) == 3, timeout=60)

            response = third.goto(server.url, timeout=60_000)
            assert response.status == 503, "two viewers: the cap turns the third away though a kernel waits"
            third.get_by_text("the most it allows").wait_for(timeout=10_000)
            assert len(kernels(server)) == 3
            for page in (first, second):
                assert not page.errors
        finally:
            for page in (first, second, third):
                page.context.close()


def test_the_command_passes_preheat_to_voila_and_says_so(notebook, capsys, monkeypatch):
    """``nbexplain dashboard --preheat 2`` serves with Voila's pool of 2 (the server's command line)
    and says so; a negative count is refused by the argument parser."""
    import nbexplain.cli as cli

    commands = []

    class Recorded(VoilaServer):
        def _voila_command(self, port):
            commands.append(super()._voila_command(port))
            return commands[-1]

    monkeypatch.setattr(cli, "VoilaServer", Recorded)
    assert main(["dashboard", "--notebook", str(notebook), "--port", "0", "--preheat", "2", "--check"]) == 0
    assert "2 kernels run the dashboard ahead of viewers" in capsys.readouterr().out
    assert {"--VoilaConfiguration.preheat_kernel=True", "--VoilaConfiguration.default_pool_size=2"} <= set(commands[0])
    with pytest.raises(SystemExit):
        main(["dashboard", "--notebook", str(notebook), "--preheat", "-1", "--check"])


# ----------------------------------------------------------------- kernels starting together
def test_kernels_starting_together_all_answer_on_unix_sockets(notebook):
    """A room opening the page together starts a kernel per viewer at once. With TCP, each kernel's
    five ports are picked free by the server and bound by the kernel a moment later, and the
    server's own connections to the kernels started before can take one meanwhile: a kernel died
    with "Address already in use" and its page waited for ever (one in twenty in the room
    benchmark). Served kernels' channels are Unix sockets named after their connection files, so
    no port is picked ahead of a kernel: every page answers."""
    import json
    import threading

    count = 8
    with VoilaServer(notebook, log=ARTIFACTS / "voila-together.log", max_kernels=count) as server:
        pages: list = [None] * count

        def fetch(k):
            with urllib.request.urlopen(server.url, timeout=120) as answer:
                pages[k] = answer.read()

        threads = [threading.Thread(target=fetch, args=(k,)) for k in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert all(page and b"application/vnd.jupyter.widget-view+json" in page for page in pages)
        started = kernels(server)
        assert len(started) == count
        for process in started.values():
            connection = json.loads(Path(process.cmdline()[process.cmdline().index("-f") + 1]).read_text())
            assert connection["transport"] == "ipc"
            assert all(
                Path(f"{connection['ip']}-{connection[name]}").is_socket() for name in ("shell_port", "iopub_port")
            )


# ----------------------------------------------------------------- ports
def listening_socket():
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    return taken


def test_a_port_in_use_is_named_with_what_to_do(notebook, capsys):
    with listening_socket() as taken:
        port = taken.getsockname()[1]
        with pytest.raises(PortInUseError, match=f"port {port} on 127.0.0.1 is already in use"):
            VoilaServer(notebook, port=port)
        status = main(["dashboard", "--notebook", str(notebook), "--port", str(port), "--check"])
    err = capsys.readouterr().err.strip()
    assert status == 2
    assert err == (
        f"nbexplain dashboard: port {port} on 127.0.0.1 is already in use by another program: stop it, "
        "choose another with --port N, or use --port 0 for any free port."
    )


def test_serving_beyond_localhost_without_a_token_is_refused_unless_accepted(notebook, capsys):
    with pytest.raises(ServeError, match="without a token"):
        VoilaServer(notebook, ip="0.0.0.0", token="")
    assert VoilaServer(notebook, ip="0.0.0.0", token="", allow_no_token=True).token == ""
    assert VoilaServer(notebook, ip="0.0.0.0", token="chosen-token").url.endswith("?token=chosen-token")
    local = VoilaServer(notebook)
    assert local.token == "" and local.url == local.base_url, "no token on localhost unless given"
    status = main(["dashboard", "--notebook", str(notebook), "--ip", "0.0.0.0", "--no-token", "--check"])
    assert status == 2 and "--allow-no-token" in capsys.readouterr().err


def test_a_port_taken_while_the_server_starts_is_given_up_for_another(tmp_path, monkeypatch):
    """Port 0: the port picked is taken by another program before the server binds it; the
    server is started again on another, and the URL is the one it serves."""
    import nbexplain.serve.voila as voila

    script = tmp_path / "server.py"
    script.write_text(
        "import http.server, sys\n"
        "server = http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), http.server.SimpleHTTPRequestHandler)\n"
        "server.serve_forever()\n"
    )
    with listening_socket() as taken:
        stolen = taken.getsockname()[1]
        picks = iter([stolen])
        real = voila.check_port
        monkeypatch.setattr(voila, "check_port", lambda port, host: next(picks, None) or real(port, host))
        with LocalServer(lambda port: [sys.executable, str(script), str(port)], "", name="a test server") as server:
            assert server.port != stolen
            assert urllib.request.urlopen(server.url, timeout=10).status == 200


def test_port_0_serves_on_a_free_port_and_prints_the_url_it_serves(notebook):
    """The command beyond localhost: the URLs printed carry the token, the local one serves the
    notebook, a request without the token is refused; a signal stops Voila and its kernels."""
    import psutil

    process = subprocess.Popen(
        [sys.executable, "-m", "nbexplain", "dashboard", "--notebook", str(notebook), "--port", "0", "--ip", "0.0.0.0"],
        cwd=notebook.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])},
    )
    try:
        lines = []
        for line in process.stdout:
            lines.append(line)
            if line.startswith("Kernels of closed pages"):
                break
        text = "".join(lines)
        shared = re.search(r"dashboard is at (\S+)", text)
        local = re.search(r"On this machine: (\S+)", text)
        assert shared and local, text + process.stderr.read() if process.poll() is not None else text
        shared_url, local_url = urlparse(shared.group(1)), urlparse(local.group(1))
        assert shared_url.port == local_url.port and local_url.port not in (0, 8866)
        assert shared_url.query == local_url.query and re.fullmatch(r"token=[\w-]{24,}", local_url.query)
        assert "after 300 s idle; at most 20 viewers at once" in text
        page = urllib.request.urlopen(local.group(1), timeout=60)
        assert page.status == 200 and "jupyter-config-data" in page.read().decode()
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"http://127.0.0.1:{local_url.port}/", timeout=60)
        assert refused.value.code == 403
        tree = psutil.Process(process.pid).children(recursive=True)
        assert len(tree) >= 2, "Voila and the kernel of the page fetched"
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM
    _, alive = psutil.wait_procs(tree, timeout=20)
    assert not alive, f"still running after the command stopped: {[p.cmdline() for p in alive]}"
