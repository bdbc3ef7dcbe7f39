"""Progress bars that go away once a dashboard is built.

Building a dashboard can take a while (training a demo model, a gradient pass, a bundle), and the
bars of that work (tqdm's notebook widgets) are displayed in the cell that builds it. Left there,
they sit above the finished dashboard: a bar that completed, and one closed by ``leave=False``,
which Voila draws as "Loading widget..." for ever. :func:`passing_progress` shows them in an
area of their own while the work runs and empties that area when it ends, success or not.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

_depth = 0


def _kernel_shell():
    """The IPython shell of a Jupyter kernel this code runs in, or None (a script, a terminal)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    return shell if getattr(shell, "kernel", None) is not None else None


@contextlib.contextmanager
def passing_progress() -> Iterator[None]:
    """Within the block, progress bars (and any other output) displayed by this cell go to an
    output area of their own, which is emptied when the block ends; errors still propagate to the
    cell. Outside a kernel, and inside another such block, it does nothing. Also a decorator:
    ``@passing_progress()``."""
    global _depth
    if _depth or _kernel_shell() is None:
        yield
        return
    import ipywidgets
    from IPython.display import display

    area = ipywidgets.Output()
    handle = display(area, display_id=True)
    # entered and left by hand: Output's own ``with`` shows an exception in the area and then
    # swallows it, and the error must reach the cell (and the area is emptied below)
    area.__enter__()
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        area.__exit__(None, None, None)
        handle.update({"text/plain": ""}, raw=True)
        area.close()
