"""What Voila runs with when nbexplain serves a dashboard to a room: a kernel manager that caps the
number of live kernels, and an identity provider whose only credential is a token.

Both are loaded *inside the Voila process* by name, through Voila's own configuration
(``VoilaConfiguration.multi_kernel_manager_class`` and ``Voila.identity_provider_class``); see
:class:`nbexplain.serve.VoilaServer`, which passes them. Nothing here is imported by nbexplain
itself, so this module only needs jupyter_server and tornado, which Voila brings.

* :class:`CappedKernelManager` is jupyter_server's ``AsyncMappingKernelManager`` (so its idle
  culler, ``MappingKernelManager.cull_idle_timeout`` and friends, works unchanged) with one more
  setting, ``max_kernels``. A viewer who would start a kernel beyond it gets HTTP 503 and the
  page ``503.html`` of the ``nbexplain`` Voila template; no kernel is started. The check and the
  reservation of a slot happen without an ``await`` between them, so viewers arriving together
  cannot overshoot the cap. With pre-heated kernels (Voila's pool, ``VoilaServer(preheat=N)``)
  the cap counts viewers' kernels: up to ``N`` kernels that ran the notebook ahead wait beside
  them, and :func:`capped_pool` hands a waiting kernel to a viewer only below the cap.
* :class:`TokenIdentityProvider` is jupyter_server's ``IdentityProvider`` with token
  authentication only (no password form, no password change written to the user's Jupyter
  config). A request without the token (in the URL as ``?token=`` or in an ``Authorization:
  token`` header, then in the login cookie jupyter_server sets) is answered by the refusal page
  below with HTTP 403. The token comes from the environment variable :data:`TOKEN_VARIABLE`,
  which is removed once read, so the notebook's kernels (started with the server's environment)
  never see it and it never appears on a command line. It also gives the page its XSRF cookie,
  without which Voila's own "shut my kernel down" request on closing the page is refused.
"""

from __future__ import annotations

import binascii
import os
from collections.abc import Awaitable
from urllib.parse import urlparse

from jupyter_server._tz import utcnow
from jupyter_server.auth.identity import IdentityProvider
from jupyter_server.base.handlers import APIHandler, JupyterHandler
from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from tornado import web
from tornado.websocket import WebSocketHandler
from traitlets import Integer, default

from .voila import TOKEN_VARIABLE

#: Set to "True" in the environment of the kernels Voila starts for its pre-heated pool
#: (``voila.utils.ENV_VARIABLE.VOILA_PREHEAT``).
PREHEAT_VARIABLE = "VOILA_PREHEAT"

try:  # jupyter_server >= 2.13 asks for authentication on every handler not marked public
    from jupyter_server.auth.decorator import allow_unauthenticated
except ImportError:  # pragma: no cover - older jupyter_server: handlers are public unless marked

    def allow_unauthenticated(method):
        return method


class CappedKernelManager(AsyncMappingKernelManager):
    """jupyter_server's kernel manager with a cap on live kernels (one per open dashboard page)."""

    max_kernels = Integer(
        0, config=True, help="The most kernels alive at once (kernels being started count); 0: no cap."
    )

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._starting: set[str] = set()
        self._waiting: set[str] = set()  # pre-heated kernels no viewer has taken yet
        self._claims = 0  # viewers being handed a pre-heated kernel

    def live_kernels(self) -> int:
        """Kernels running or being started."""
        return len(set(self.list_kernel_ids()) | self._starting)

    def viewer_kernels(self) -> int:
        """Live kernels that serve (or are being handed to) a viewer: pre-heated ones waiting in
        the pool do not count."""
        live = set(self.list_kernel_ids()) | self._starting
        return len(live - self._waiting) + self._claims

    async def start_kernel(self, *, kernel_id: str | None = None, **kwargs) -> str:  # type: ignore[override]
        if kernel_id is not None and kernel_id in self:
            return await super().start_kernel(kernel_id=kernel_id, **kwargs)
        if kwargs.get("env", {}).get(PREHEAT_VARIABLE) == "True":
            # a pool place (as many as Voila's pool_size): never refused, or a failed start
            # would wait in the pool for the next viewer
            kernel_id = kernel_id or self.new_kernel_id()
            self._waiting.add(kernel_id)
            return await self._start_counted(kernel_id, **kwargs)
        if self.max_kernels and self.viewer_kernels() >= self.max_kernels:
            viewers = f"{self.max_kernels} viewer{'s' if self.max_kernels != 1 else ''}"
            raise web.HTTPError(
                503,
                "This dashboard is serving %s, the most it allows; try again in a few minutes.",
                viewers,
                reason="Too many viewers",
            )
        # The id is chosen here so that the slot is held, by id, from this line on.
        return await self._start_counted(kernel_id or self.new_kernel_id(), **kwargs)

    async def _start_counted(self, kernel_id: str, **kwargs) -> str:
        self._starting.add(kernel_id)
        try:
            return await super().start_kernel(kernel_id=kernel_id, **kwargs)
        finally:
            self._starting.discard(kernel_id)

    async def shutdown_kernel(self, kernel_id: str, *args, **kwargs):  # type: ignore[override]
        self._waiting.discard(kernel_id)
        return await super().shutdown_kernel(kernel_id, *args, **kwargs)


def capped_pool(pooled: type) -> type:
    """Voila's pre-heated kernel manager (built by Voila on top of :class:`CappedKernelManager`)
    with the cap kept on the pool's path: a page is served from the pool only while viewers are
    below ``max_kernels`` (else Voila starts a kernel the normal way, which the cap refuses with
    the 503 page); a kernel handed to a viewer counts as the viewer's from the moment it is
    claimed, so viewers arriving together cannot overshoot the cap; and it is marked active when
    handed over: it may have waited longer than the culler's idle time, and the culler would
    otherwise shut it down before the viewer's page has connected to it."""

    class CappedPool(pooled):  # type: ignore[misc, valid-type]
        def get_pool_size(self, notebook_name: str) -> int:
            if self.max_kernels and self.viewer_kernels() >= self.max_kernels:
                return 0
            return super().get_pool_size(notebook_name)

        async def get_rendered_notebook(self, *args, **kwargs):
            self._claims += 1
            try:
                rendered = await super().get_rendered_notebook(*args, **kwargs)
                kernel_id = rendered[2]  # (render task, cells so far, kernel id)
                self.get_kernel(kernel_id).last_activity = utcnow()
                self._waiting.discard(kernel_id)
                return rendered
            finally:
                self._claims -= 1

    CappedPool.__name__ = CappedPool.__qualname__ = f"Capped{pooled.__name__}"
    return CappedPool


REFUSAL_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>This dashboard needs its full address</title>
<style>
  body { margin: 0; min-height: 100vh; display: flex; align-items: center; justify-content: center;
         background: #f3f4f6; color: #1f2937; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; }
  main { max-width: 34rem; margin: 2rem; padding: 2rem 2.5rem; background: #fff; border-radius: 8px;
         border-top: 6px solid #b91c1c; box-shadow: 0 2px 12px rgba(0, 0, 0, 0.12); }
  h1 { font-size: 1.5rem; margin: 0 0 1rem; }
  code { background: #f3f4f6; padding: 0.1rem 0.3rem; border-radius: 4px; }
  .status { color: #6b7280; font-size: 0.9rem; margin-top: 1.5rem; }
</style>
</head>
<body>
<main>
  <h1>This dashboard needs its full address</h1>
  <p>The address you opened has no access token, or not the right one, so the dashboard was not
     started for you.</p>
  <p>Ask the person who serves the dashboard for its complete link: it ends with
     <code>?token=</code> followed by a long code. Open that link as it is.</p>
  <p class="status">HTTP 403: access refused.</p>
</main>
</body>
</html>
"""


class TokenRequiredHandler(JupyterHandler):
    """Where jupyter_server sends a request that lacks the token (its login URL): the refusal
    page with HTTP 403. A request that carries the token (or its cookie) goes on to ``next``."""

    @allow_unauthenticated
    def get(self) -> None:
        if self.current_user:
            self.redirect(self._next_page())
            return
        self.set_status(403)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(REFUSAL_PAGE)

    def _next_page(self) -> str:
        """``next`` when it is a path on this server, else the base URL (no open redirect)."""
        target = self.get_argument("next", "")
        parsed = urlparse(target)
        if target.startswith("/") and not target.startswith("//") and not parsed.scheme and not parsed.netloc:
            return target
        return self.base_url


class TokenIdentityProvider(IdentityProvider):
    """Token authentication only; the token is read from :data:`TOKEN_VARIABLE` (then removed).

    An empty token (``Voila.token=''``) disables authentication: every request is let in, as
    for a server on localhost.
    """

    @default("token")
    def _token_default(self) -> str:
        token = os.environ.pop(TOKEN_VARIABLE, "")
        if token:
            self.token_generated = False
            return token
        self.token_generated = True
        return binascii.hexlify(os.urandom(24)).decode("ascii")

    async def get_user(self, handler: web.RequestHandler):  # type: ignore[override]
        user = super().get_user(handler)
        if isinstance(user, Awaitable):
            user = await user
        # The page's XSRF cookie. Voila's page shuts its kernel down when it closes, by a POST
        # (sendBeacon to voila/api/shutdown/<kernel>) that carries the ``_xsrf`` cookie's value,
        # and jupyter_server refuses a cookie-authenticated POST without it. Voila's page never
        # sets that cookie (voila-dashboards/voila#1458), so the kernel of every closed or
        # reloaded page would hold its place until culled. Reading ``xsrf_token`` sets it (once
        # per browser) when a page is fetched; tornado reads the user first, so it is given.
        if user is not None and handler.request.method == "GET":
            if not isinstance(handler, (APIHandler, WebSocketHandler)):
                handler.current_user = user
                handler.xsrf_token  # noqa: B018
        return user

    @property
    def auth_enabled(self) -> bool:
        return bool(self.token)

    @property
    def login_available(self) -> bool:
        return self.auth_enabled

    @property
    def logout_available(self) -> bool:
        return False

    def get_handlers(self) -> list:
        return [(r"/login", TokenRequiredHandler)] if self.auth_enabled else []
