"""Stopping a command cleanly: SIGTERM and SIGHUP unwind like Ctrl-C.

A process killed by SIGTERM or SIGHUP runs no ``finally`` block, so a half-written temporary
file or a server's children would stay behind. Inside :func:`stoppable`, those signals raise
:class:`Interrupted` (a ``KeyboardInterrupt``, which ``except Exception`` does not swallow), so
the same clean-up that Ctrl-C triggers runs: temporary files are removed, servers and their
kernels are stopped. The command then exits with ``128 + signal number``, as shells expect.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from typing import Any

#: The signals that stop a command (SIGINT raises KeyboardInterrupt anyway; it is handled here
#: too, so that its arrival is recorded like the others').
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)


class Interrupted(KeyboardInterrupt):
    """The command was asked to stop by a signal."""

    def __init__(self, signum: int = signal.SIGINT) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = int(signum)

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name

    @property
    def exit_status(self) -> int:
        return 128 + self.signum


#: The stop signal received inside the current :func:`stoppable` block, if any: a library may
#: catch the :class:`Interrupted` raised in its code and raise an error of its own instead.
_received: list[int] = []


def _raise(signum: int, frame: Any) -> None:
    _received.append(int(signum))
    raise Interrupted(signum)


def received_stop() -> Interrupted | None:
    """The stop the current block was asked for (whatever error it unwound as), or None."""
    return Interrupted(_received[0]) if _received else None


@contextlib.contextmanager
def stoppable() -> Iterator[None]:
    """Within the block, SIGTERM, SIGHUP and SIGINT raise :class:`Interrupted` (main thread only)
    and are recorded (:func:`received_stop`)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _received.clear()
    previous = {sig: signal.signal(sig, _raise) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def as_interrupted(error: KeyboardInterrupt) -> Interrupted:
    """A plain Ctrl-C as an :class:`Interrupted` of SIGINT."""
    return error if isinstance(error, Interrupted) else Interrupted(signal.SIGINT)
