"""The one way nbexplain reaches TensorFlow and Keras: imported once, quietly.

TensorFlow writes an absl pre-initialisation warning, a oneDNN notice and CUDA probing lines
straight to file descriptor 2 while it loads, whatever ``TF_CPP_MIN_LOG_LEVEL`` says. A terminal
shows them under every command, and ipykernel forwards that descriptor into the notebook, so
Voila would show them above the dashboard. The import runs with descriptor 2 pointed at a
temporary file; an import that fails raises :class:`~nbexplain.errors.MissingDependencyError`
with that text attached. Every module of nbexplain that needs TensorFlow or Keras calls
:func:`keras_module` or :func:`tensorflow_module` (an import contract checks that no other
module imports them).
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
from types import ModuleType

from .errors import MissingDependencyError

_LOCK = threading.Lock()


def _import_quietly() -> None:
    if "keras" in sys.modules and "tensorflow" in sys.modules:
        return
    with _LOCK:
        if "keras" in sys.modules and "tensorflow" in sys.modules:
            return
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        sys.stderr.flush()
        saved = os.dup(2)
        with tempfile.TemporaryFile(mode="w+b") as sink:
            os.dup2(sink.fileno(), 2)
            try:
                import keras  # noqa: F401
                import tensorflow
            except ImportError as error:
                os.dup2(saved, 2)
                sink.seek(0)
                printed = sink.read().decode(errors="replace").strip()
                raise MissingDependencyError(
                    "Explaining Keras models needs TensorFlow, which could not be imported "
                    f"({error}). Install it with: pip install 'nbexplain[cpu]' (or 'nbexplain[gpu]' for an "
                    "NVIDIA GPU build)." + (f"\nTensorFlow printed while loading:\n{printed}" if printed else "")
                ) from error
            finally:
                os.dup2(saved, 2)
                os.close(saved)
        tensorflow.get_logger().setLevel("ERROR")


def keras_module() -> ModuleType:
    """The ``keras`` module (and so TensorFlow), imported once without start-up chatter."""
    _import_quietly()
    return sys.modules["keras"]


def tensorflow_module() -> ModuleType:
    """The ``tensorflow`` module, imported once without start-up chatter."""
    _import_quietly()
    return sys.modules["tensorflow"]


def limit_threads(intra: int, inter: int = 1) -> bool:
    """Run TensorFlow's operations on at most ``intra`` threads each, ``inter`` of them at once:
    several worker processes on one machine then share its cores instead of each starting one
    thread per core. Takes effect only before TensorFlow has run anything in this process;
    returns whether it did (False: the process had already set up its threads)."""
    tensorflow = tensorflow_module()
    threading_config = tensorflow.config.threading
    wanted = (max(1, int(intra)), max(1, int(inter)))
    current = (threading_config.get_intra_op_parallelism_threads(), threading_config.get_inter_op_parallelism_threads())
    if current == wanted:
        return True
    try:
        threading_config.set_intra_op_parallelism_threads(wanted[0])
        threading_config.set_inter_op_parallelism_threads(wanted[1])
    except RuntimeError:  # "... cannot be modified after initialization"
        return False
    return True


def thread_settings() -> tuple[int, int] | None:
    """TensorFlow's (intra, inter) operation threads in this process (0: one per core), or None
    when TensorFlow has not been imported here."""
    if "tensorflow" not in sys.modules:
        return None
    threading_config = sys.modules["tensorflow"].config.threading
    return (
        int(threading_config.get_intra_op_parallelism_threads()),
        int(threading_config.get_inter_op_parallelism_threads()),
    )
