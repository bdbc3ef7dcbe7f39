"""Real Keras models trained on processes whose structure is known: the engine must recover it."""

import keras
import numpy as np
import pytest

from nbexplain import Sensitivity
from nbexplain.datasets import make_lagged_process, make_region_images
from nbexplain.datasets.sequences import SEQUENCE_FEATURES, TRUE_LAGS

pytestmark = pytest.mark.training


def fit(model, X, y, epochs, batch_size=64, lr=0.01):
    model.compile(optimizer=keras.optimizers.Adam(lr), loss="mse")
    model.fit(X, y, epochs=epochs, batch_size=batch_size, verbose=0)
    return model


def test_lstm_many_to_one_recovers_the_lags():
    keras.utils.set_random_seed(0)
    X, y = make_lagged_process(n=3000, tau=8, seed=0)
    model = fit(keras.Sequential([keras.Input((8, 3)), keras.layers.LSTM(16), keras.layers.Dense(1)]), X, y, 20)
    sens = Sensitivity(model, feature_names=SEQUENCE_FEATURES).explain(X)
    gamma = sens.lag_importance()
    assert set(np.argsort(-gamma.values)[:2]) == {1, 3}, gamma.to_frame()
    assert gamma.values[1] + gamma.values[3] > 60
    matrix = sens.lag_matrix()
    for feature, lag in TRUE_LAGS.items():
        assert int(np.argmax(matrix.sel(feature=feature).values)) == lag, matrix.to_frame()
    assert sens.global_importance().sel(feature="x3").values < 15
    # local lag importance of one sequence peaks at the same lags
    local = sens.lag_importance(rows=[5])
    assert set(np.argsort(-local.values)[:2]) == {1, 3}


def test_gru_many_to_many_recovers_the_lags():
    keras.utils.set_random_seed(1)
    X, Y = make_lagged_process(n=3000, tau=8, seed=1, many_to_many=True)
    model = fit(
        keras.Sequential([keras.Input((8, 3)), keras.layers.GRU(16, return_sequences=True), keras.layers.Dense(1)]),
        X,
        Y,
        20,
    )
    sens = Sensitivity(model, feature_names=SEQUENCE_FEATURES).explain(X)
    assert sens.many_to_many
    gamma = sens.lag_importance()
    assert set(np.argsort(-gamma.values)[:2]) == {1, 3}, gamma.to_frame()
    matrix = sens.lag_matrix()
    for feature, lag in TRUE_LAGS.items():
        assert int(np.argmax(matrix.sel(feature=feature).values)) == lag, matrix.to_frame()
    # y_t does not depend on x_t at all: the contemporaneous (third-formula) importance is small
    assert matrix.values[:, 0].max() < 0.2 * matrix.values.max()


def test_cnn_finds_the_region_that_matters():
    keras.utils.set_random_seed(2)
    images, y, mask = make_region_images(n=3000, size=10, channels=2, region=(1, 4), seed=2)
    model = fit(
        keras.Sequential(
            [
                keras.Input((10, 10, 2)),
                keras.layers.Conv2D(8, 3, padding="same", activation="relu"),
                keras.layers.Flatten(),
                keras.layers.Dense(1),
            ]
        ),
        images,
        y,
        15,
    )
    sens = Sensitivity(model).explain(images)
    elements = sens.element_importance()
    assert elements.dims == ("row", "column", "channel")
    assert elements.values.sum() == pytest.approx(100)
    assert elements.values[mask].sum() > 70, elements.values[mask].sum()
    assert set(np.argsort(-sens.element_importance(by="row").values)[:3]) == {1, 2, 3}
    assert set(np.argsort(-sens.element_importance(by="column").values)[:3]) == {1, 2, 3}
    assert sens.element_importance(by="channel").values[0] > 70
