"""The Voila application nbexplain serves with: Voila with its responses compressed.

Run in the Voila process (``python -m nbexplain.serve.app``, the arguments of ``python -m voila``;
see :class:`nbexplain.serve.VoilaServer`). A dashboard page loads about 6 MB of JavaScript and
CSS, which Voila sends uncompressed (its ``tornado_settings`` are applied after tornado has chosen
its output transforms, so ``compress_response`` given there is ignored); gzip brings a viewer's
page under 2 MB. Like ``limits.py``, this module needs only Voila.
"""

from __future__ import annotations

from voila.app import Voila


class CompressedVoila(Voila):
    """Voila whose tornado application gzips what it sends (HTML, JavaScript, CSS, JSON) and
    deflates the kernel's websocket messages (the widgets' state) where the browser accepts it."""

    def init_settings(self) -> dict:
        settings = super().init_settings()
        settings["compress_response"] = True
        settings["websocket_compression_options"] = {}
        return settings


if __name__ == "__main__":
    CompressedVoila.launch_instance()
