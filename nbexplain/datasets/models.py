"""Small Keras models of the paper, built and trained deterministically (seeded)."""

from __future__ import annotations

import numpy as np

from .._tensorflow import keras_module
from .simulation import make_simulation


def simulation_network(n_features: int = 5, seed: int = 0):
    """Section 3: two hidden layers of 64 and 32 ReLU units, linear output, MSE."""
    keras = keras_module()

    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input((n_features,)),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(32, activation="relu"),
            keras.layers.Dense(1),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(0.003), loss="mse")
    return model


def _paper_optimizer():
    """Adam with learning rate 0.002 and the paper's decay 0.001: lr_t = 0.002 / (1 + 0.001 t)."""
    keras = keras_module()

    schedule = keras.optimizers.schedules.InverseTimeDecay(0.002, decay_steps=1, decay_rate=0.001)
    return keras.optimizers.Adam(schedule)


def credit_network(n_features: int = 23, seed: int = 0, l1: float = 0.01, hidden: int = 64):
    """Section 4: one hidden layer of ``hidden`` tanh units (l1 penalty on its weights; 0 for
    none) and a softmax of 2 classes (no default, default), trained with the paper's Adam."""
    keras = keras_module()

    keras.utils.set_random_seed(seed)
    regulariser = keras.regularizers.L1(l1) if l1 else None
    model = keras.Sequential(
        [
            keras.Input((n_features,), name="features"),
            keras.layers.Dense(hidden, activation="tanh", kernel_regularizer=regulariser, name="hidden"),
            keras.layers.Dense(2, activation="softmax", name="default_probability"),
        ]
    )
    model.compile(optimizer=_paper_optimizer(), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def credit_lstm(n_months: int = 6, n_channels: int = 3, n_static: int = 5, seed: int = 0, units: int = 16):
    """A many-to-one LSTM over the monthly (status, bill, payment) history, joined with the static
    features, then 16 tanh units and a softmax of 2 classes. Inputs ``history`` and ``static``."""
    keras = keras_module()

    keras.utils.set_random_seed(seed)
    history = keras.Input((n_months, n_channels), name="history")
    static = keras.Input((n_static,), name="static")
    summary = keras.layers.LSTM(units, name="payment_history")(history)
    joined = keras.layers.Concatenate()([summary, static])
    hidden = keras.layers.Dense(16, activation="tanh", name="hidden")(joined)
    output = keras.layers.Dense(2, activation="softmax", name="default_probability")(hidden)
    model = keras.Model({"history": history, "static": static}, output)
    model.compile(optimizer=_paper_optimizer(), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def train_simulation_network(n: int = 10_000, seed: int = 0, epochs: int = 60, verbose: int = 0):
    """Train the section-3 network on 85 % of ``n`` simulated rows, as in the paper (MSE, Adam;
    the learning rate drops on plateaus and training stops early on a 10 % validation split).

    Returns ``(model, X_train, X_test, y_test, test_mse)``.
    """
    keras = keras_module()

    X, y = make_simulation(n, seed=seed)
    cut = int(0.85 * n)
    model = simulation_network(X.shape[1], seed=seed)
    callbacks = [
        keras.callbacks.ReduceLROnPlateau(factor=0.3, patience=3, min_lr=1e-5),
        keras.callbacks.EarlyStopping(patience=8, restore_best_weights=True),
    ]
    model.fit(
        X.iloc[:cut].to_numpy("float32"),
        y.iloc[:cut].to_numpy("float32"),
        epochs=epochs,
        batch_size=64,
        validation_split=0.1,
        callbacks=callbacks,
        verbose=verbose,
    )
    prediction = model.predict(X.iloc[cut:].to_numpy("float32"), verbose=0)[:, 0]
    mse = float(np.mean((prediction - y.iloc[cut:].to_numpy()) ** 2))
    return model, X.iloc[:cut], X.iloc[cut:], y.iloc[cut:], mse
