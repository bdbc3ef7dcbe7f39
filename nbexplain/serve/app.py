"""The Voila application nbexplain serves with: Voila with its responses compressed, and its
pre-heated kernel pool kept under the kernel cap.

Run in the Voila process (``python -m nbexplain.serve.app``, the arguments of ``python -m voila``;
see :class:`nbexplain.serve.VoilaServer`). A dashboard page loads about 6 MB of JavaScript and
CSS, which Voila sends uncompressed (its ``tornado_settings`` are applied after tornado has chosen
its output transforms, so ``compress_response`` given there is ignored); gzip brings a viewer's
page under 2 MB. With ``--preheat_kernel=True`` Voila builds its pooling kernel manager on top
of the configured one (``CappedKernelManager``) and answers from the pool without asking it;
:func:`nbexplain.serve.limits.capped_pool` puts the cap back on that path. Like ``limits.py``, this
module needs only Voila.
"""

from __future__ import annotations

from voila import app as voila_app
from voila.app import Voila

from .limits import capped_pool

_build_kernel_manager_class = voila_app.voila_kernel_manager_factory


def _kernel_manager_class(base_class, preheat_kernel, default_pool_size, page_config_hook=None):
    """Voila's kernel manager class, capped on the pool's path when a pool is kept."""
    built = _build_kernel_manager_class(base_class, preheat_kernel, default_pool_size, page_config_hook)
    return capped_pool(built) if preheat_kernel and hasattr(built, "viewer_kernels") else built


class CompressedVoila(Voila):
    """Voila whose tornado application gzips what it sends (HTML, JavaScript, CSS, JSON) and
    deflates the kernel's websocket messages (the widgets' state) where the browser accepts it."""

    def init_settings(self) -> dict:
        settings = super().init_settings()
        settings["compress_response"] = True
        settings["websocket_compression_options"] = {}
        return settings


if __name__ == "__main__":
    voila_app.voila_kernel_manager_factory = _kernel_manager_class  # read by Voila.start
    CompressedVoila.launch_instance()
