import atexit
import functools
import os
import shutil
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# One demo-model cache for the whole session (and for the notebook kernels it starts), so that
# each demo model is trained once per run and never touches the user's own cache; removed at exit.
if "NBEXPLAIN_CACHE" not in os.environ:
    os.environ["NBEXPLAIN_CACHE"] = tempfile.mkdtemp(prefix="nbexplain-test-cache-")
    atexit.register(functools.partial(shutil.rmtree, os.environ["NBEXPLAIN_CACHE"], ignore_errors=True))

import keras
import numpy as np
import pytest


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def dense_model(weights, bias=None, activation=None):
    """A one-layer Sequential model with hand-set weights (shape (p, units))."""
    weights = np.asarray(weights, dtype="float32")
    model = keras.Sequential(
        [keras.Input((weights.shape[0],)), keras.layers.Dense(weights.shape[1], activation=activation)]
    )
    model.layers[0].set_weights(
        [weights, np.zeros(weights.shape[1], "float32") if bias is None else np.asarray(bias, "float32")]
    )
    return model


from browser_fixtures import browser, demo_models, page, screenshots, voila_dashboard  # noqa: E402,F401
