"""Import TensorFlow without its C++ start-up chatter reaching a notebook or dashboard page.

TensorFlow writes an absl pre-initialisation warning and a oneDNN notice straight to file
descriptor 2 while it loads, whatever ``TF_CPP_MIN_LOG_LEVEL`` says. ipykernel forwards that
descriptor into the notebook, so Voila would show them above the dashboard. The import runs
with descriptor 2 pointed at a temporary file; an import that fails re-raises its Python error
with that text attached.
"""
from __future__ import annotations

import os
import sys
import tempfile


def import_quietly():
    """Import keras (and so TensorFlow) once, dropping what the C++ runtime prints while loading."""
    if "keras" in sys.modules and "tensorflow" in sys.modules:
        return sys.modules["keras"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as sink:
        os.dup2(sink.fileno(), 2)
        try:
            import keras
            import tensorflow  # noqa: F401
        except ImportError as error:
            os.dup2(saved, 2)
            sink.seek(0)
            raise ImportError(f"{error}\nTensorFlow printed while loading:\n"
                              f"{sink.read().decode(errors='replace')}") from error
        finally:
            os.dup2(saved, 2)
            os.close(saved)
    return keras
