import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def dense_model(weights, bias=None, activation=None):
    """A one-layer Sequential model with hand-set weights (shape (p, units))."""
    weights = np.asarray(weights, dtype="float32")
    model = keras.Sequential([keras.Input((weights.shape[0],)), keras.layers.Dense(weights.shape[1], activation=activation)])
    model.layers[0].set_weights([weights, np.zeros(weights.shape[1], "float32") if bias is None else np.asarray(bias, "float32")])
    return model
