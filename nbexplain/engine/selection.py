"""Retrain experiments: does a smaller network on the selected features do as well?

Horel et al. (2018), Table 1: the full l1 network on all features and a smaller network on the
features covering 90 % of the importance (:meth:`Explanation.covering`) are each trained N times
(different seeds: initial weights and batches) on the same training rows, and their error rates
on the same test rows are compared by mean and spread.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from .._tensorflow import keras_module
from .._version import __version__
from ..errors import InputDataError
from ..results.serial import freeze_mapping, frozen_array, to_jsonable


@dataclass(frozen=True)
class Candidate:
    """A model to retrain: ``build(seed)`` returns a compiled Keras model reading ``columns``."""

    build: Callable
    columns: tuple


@dataclass(frozen=True, eq=False)
class RetrainResult:
    """Error rates of every run: one entry per (model, run) in ``models``, ``runs``,
    ``train_error``, ``test_error`` and ``epochs``; ``examples`` keeps the first run's fitted
    model of each candidate (not serialised)."""

    models: tuple
    runs: np.ndarray
    train_error: np.ndarray
    test_error: np.ndarray
    epochs: np.ndarray
    meta: Mapping = field(default_factory=dict)
    examples: Mapping = field(default_factory=dict, repr=False)

    def __post_init__(self):
        object.__setattr__(self, "models", tuple(self.models))
        for name in ("runs", "train_error", "test_error", "epochs"):
            object.__setattr__(self, name, frozen_array(getattr(self, name)))
        object.__setattr__(self, "meta", freeze_mapping(self.meta))
        object.__setattr__(self, "examples", freeze_mapping(self.examples))

    def to_frame(self):
        """One row per run: model, run, train_error, test_error, epochs."""
        import pandas as pd

        return pd.DataFrame(
            {
                "model": self.models,
                "run": self.runs,
                "train_error": self.train_error,
                "test_error": self.test_error,
                "epochs": self.epochs,
            }
        )

    def summary(self):
        """Table 1: per model, mean and standard deviation of the error rates over the runs."""
        frame = self.to_frame()
        order = list(dict.fromkeys(self.models))
        table = frame.groupby("model", sort=False)[["train_error", "test_error"]].agg(["mean", "std"]).loc[order]
        table.columns = [f"{error} {stat}" for error, stat in table.columns]
        table["runs"] = frame.groupby("model", sort=False).size().loc[order]
        table["features"] = [len(self.meta["columns"][name]) for name in order]
        return table

    def to_dict(self) -> dict:
        return {
            "kind": "RetrainResult",
            "runs": to_jsonable(self.to_frame().to_dict(orient="list")),
            "meta": to_jsonable(dict(self.meta)),
        }


def retrain_comparison(
    candidates: Mapping[str, Candidate],
    X_train,
    y_train,
    X_test,
    y_test,
    *,
    repeats: int = 30,
    epochs: int = 100,
    seed: int = 0,
    progress: bool = True,
) -> RetrainResult:
    """Train every candidate ``repeats`` times (seeds ``seed .. seed + repeats - 1``) with early
    stopping and record train and test error rates. ``X_*`` are DataFrames holding every
    candidate's columns. Shows a progress bar over the trainings."""
    from tqdm.auto import tqdm

    if repeats < 1:
        raise InputDataError(f"repeats must be at least 1; got {repeats}.")
    for name, candidate in candidates.items():
        missing = [c for c in candidate.columns if c not in X_train.columns]
        if missing:
            raise InputDataError(f"candidate {name!r} reads columns that the data lack: {missing}.")
    arrays = {
        name: (X_train[list(c.columns)].to_numpy("float32"), X_test[list(c.columns)].to_numpy("float32"))
        for name, c in candidates.items()
    }
    rows = []
    examples: dict = {}
    started = time.perf_counter()
    with tqdm(total=repeats * len(candidates), desc="retraining", unit="model", disable=not progress) as bar:
        for run in range(repeats):
            for name, candidate in candidates.items():
                train, test = arrays[name]
                model = candidate.build(seed + run)
                epochs_run = fit_classifier(model, train, y_train, epochs=epochs)
                rows.append((name, run, error_rate(model, train, y_train), error_rate(model, test, y_test), epochs_run))
                examples.setdefault(name, model)
                bar.update()
                bar.set_postfix_str(f"{name}, run {run + 1}")
    models, runs, train_error, test_error, ran = zip(*rows)
    meta = {
        "method": "retrain comparison",
        "repeats": repeats,
        "max_epochs": epochs,
        "seed": seed,
        "columns": {name: tuple(c.columns) for name, c in candidates.items()},
        "n_train": len(X_train),
        "n_test": len(X_test),
        "seconds": time.perf_counter() - started,
        "version": __version__,
    }
    return RetrainResult(
        models, np.array(runs), np.array(train_error), np.array(test_error), np.array(ran), meta, examples
    )


def fit_classifier(
    model,
    inputs,
    y,
    *,
    epochs: int = 100,
    patience: int = 5,
    batch_size: int = 128,
    validation_share: float = 0.1,
    progress=None,
) -> int:
    """Train with early stopping on the last ``validation_share`` of the rows (best weights kept);
    returns the number of epochs run. ``progress``: a tqdm bar advanced once per epoch."""
    keras = keras_module()

    callbacks = [keras.callbacks.EarlyStopping(patience=patience, restore_best_weights=True)]
    if progress is not None:
        callbacks.append(
            keras.callbacks.LambdaCallback(
                on_epoch_end=lambda epoch, logs: (
                    progress.update(),
                    progress.set_postfix(loss=f"{logs['loss']:.4f}", val_loss=f"{logs['val_loss']:.4f}"),
                )
            )
        )
    history = model.fit(
        inputs,
        np.asarray(y),
        epochs=epochs,
        batch_size=batch_size,
        validation_split=validation_share,
        callbacks=callbacks,
        verbose=0,
    )
    return len(history.history["loss"])


def error_rate(model, inputs, y) -> float:
    """Share of rows whose most probable class is not ``y``."""
    probabilities = model.predict(inputs, batch_size=4096, verbose=0)
    return float(np.mean(np.argmax(probabilities, axis=-1) != np.asarray(y)))
