"""What every command shares: argument types that name the accepted values, and one way to end
(a bad argument or input: a one-line message and status 2; a signal: clean-up, a one-line
message and status 128 + signal; never a traceback)."""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable

from ._signals import Interrupted, as_interrupted, received_stop, stoppable
from .errors import NBExplainError


def number(kind: type, *, low: float | None = None, high: float | None = None, strict_low: bool = False):
    """An argparse type: a finite ``kind`` within the bounds, with a message naming them."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            wanted = "a whole number" if kind is int else "a number"
            raise argparse.ArgumentTypeError(f"{text!r} is not {wanted}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
        if low is not None and (value <= low if strict_low else value < low):
            raise argparse.ArgumentTypeError(f"{text} must be {'above' if strict_low else 'at least'} {low:g}")
        if high is not None and value > high:
            raise argparse.ArgumentTypeError(f"{text} must be at most {high:g}")
        return value

    return parse


def steps(text: str):
    """Quadrature steps: a positive whole number, or 'auto'."""
    if text == "auto":
        return text
    return number(int, low=1)(text)


def port(text: str) -> int:
    """A TCP port, 1..65535 (0: any free port)."""
    return number(int, low=0, high=65535)(text)


def run_command(prog: str, run: Callable[[], int]) -> int:
    """Run a command's body under :func:`~nbexplain._signals.stoppable` and end it as above."""
    try:
        with stoppable():
            return int(run())
    except KeyboardInterrupt as error:
        return _stopped(prog, as_interrupted(error))
    except Exception as error:  # a library may turn the stop into an error of its own
        stop = received_stop()
        if stop is not None:
            return _stopped(prog, stop)
        if isinstance(error, NBExplainError):
            print(f"{prog}: {error}", file=sys.stderr)
            return 2
        raise


def _stopped(prog: str, stop: Interrupted) -> int:
    print(f"{prog}: stopped by {stop.name}; no partial output was left.", file=sys.stderr)
    return stop.exit_status
