"""What every demo model is: the object the widgets and commands use, the split, the checks of a
credit frame and the demo names. Shared by the networks (:mod:`.demo`) and the tree models and
stacks (:mod:`.tree_demo`), which both build :class:`DemoModel`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from ..engine import Sensitivity
from ..engine.baselines import AverageInput
from ..engine.protocol import ModelExplainers, attributor_for
from ..errors import ArgumentError, row_list
from ..model.artifact import ModelArtifact
from ..results.serial import freeze_mapping, frozen_array
from .credit import CREDIT_FEATURES, CREDIT_TARGET

#: The Keras demo models (trained by :func:`.demo.fit_credit_model`).
NETWORK_DEMOS = ("credit_fcn", "credit_lstm")
#: The tree-ensemble and stack demo models (trained by :func:`.tree_demo.fit_tree_demo`).
TREE_DEMOS = ("credit_xgb", "credit_stack")
DEMOS = NETWORK_DEMOS + TREE_DEMOS
OUTCOME_LABELS = ("no default", "default")
#: Fewest rows a credit model is trained on: 25 to train (a tenth of them to stop early), 5 to test.
MIN_ROWS = 30


def split_rows(n: int, seed: int = 0, test_share: float = 1 / 6):
    """Seeded shuffle of ``range(n)`` cut into (train, test) positions: 25,000 / 5,000 for 30,000."""
    order = np.random.default_rng(seed).permutation(n)
    n_test = int(round(n * test_share))
    return np.sort(order[n_test:]), np.sort(order[:n_test])


@dataclass(frozen=True, eq=False)
class DemoModel:
    """A trained demo model with the data it was trained on and how to feed it new rows.

    ``frame`` holds the raw rows (UCI schema); ``inputs`` the same rows as the model reads them
    (standardised for a network, the raw columns for a tree model or a stack); ``record`` how
    training went (epochs or trees, train and test error, test AUC, seconds, cache).
    """

    name: str
    model: object
    frame: object
    inputs: object
    target: np.ndarray
    train_rows: np.ndarray
    test_rows: np.ndarray
    artifact: ModelArtifact
    record: Mapping = field(default_factory=dict)

    def __post_init__(self):
        for name in ("target", "train_rows", "test_rows"):
            object.__setattr__(self, name, frozen_array(getattr(self, name)))
        object.__setattr__(self, "record", freeze_mapping(self.record))

    @property
    def kind(self) -> str:
        """``"keras"``, ``"trees"`` or ``"stack"``: what the artifact holds."""
        return self.artifact.kind

    @property
    def feature_names(self) -> dict:
        """The name of each model input's last axis (the one input ``"features"`` of a tree
        model or a stack: the raw columns)."""
        if self.kind != "keras":
            return {"features": tuple(self.artifact.features)}
        return self.artifact.input_feature_names()

    def model_inputs(self, frame):
        """The model's inputs for raw rows with the UCI columns (for new or edited rows)."""
        return self.artifact.to_inputs(frame)

    def save(self, path):
        """Save the model with its preprocessing, names and training record as one file
        (:class:`~nbexplain.model.artifact.ModelArtifact`), for ``nbexplain reasons --model``."""
        return self.artifact.save(path)

    def rows(self, positions):
        """Model inputs of the given row positions of ``frame``."""
        return _take(self.inputs, positions)

    def explainer_options(self) -> dict:
        """What the demo explains: P(default) (unit "default" of the softmax), with the inputs'
        feature names when there are several named inputs; a tree model's probability; a
        stack's own score (its head's P(default))."""
        return self.artifact.explainer_options()

    def explainer(self, **options):
        """The row explainer of the default probability: a :class:`~nbexplain.Sensitivity` of a
        network; Generalized Integrated Gradients of a tree model or a stack against the average
        input of its training rows (one documented point, resolved once), whose
        ``global_importance()`` is the mean absolute attribution."""
        if self.kind == "keras":
            return Sensitivity(self.model, **{**self.explainer_options(), **options})
        baseline = AverageInput(self.rows(self.train_rows))
        return ModelExplainers.for_trees(self.model, baseline, **{**self.explainer_options(), **options}).rows

    def predict(self, inputs) -> np.ndarray:
        """Probability of default for model inputs."""
        if self.kind != "keras":
            return attributor_for(self.artifact).score(inputs)
        return np.asarray(self.model.predict(inputs, batch_size=4096, verbose=0))[:, 1]


def _take(inputs, positions):
    """Rows of model inputs: a DataFrame (one input) or a dict of arrays (named inputs)."""
    positions = np.asarray(positions)
    if isinstance(inputs, Mapping):
        return {k: v[positions] for k, v in inputs.items()}
    return inputs.iloc[positions]


def _frame_fingerprint(frame) -> str:

    import pandas as pd

    return hashlib.sha256(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes()).hexdigest()


def check_credit_frame(frame, who: str = "fit_credit_model") -> None:
    """A frame a credit model can be trained on: a DataFrame with the 23 UCI features (finite
    numbers) and the target (0/1, both present, no NaN or text), at least ``MIN_ROWS`` rows.
    Anything else is an :class:`~nbexplain.errors.ArgumentError` naming the columns and rows."""
    import pandas as pd
    from pandas.api.types import is_bool_dtype, is_complex_dtype, is_numeric_dtype

    wanted = (*CREDIT_FEATURES, CREDIT_TARGET)
    if not isinstance(frame, pd.DataFrame):
        raise ArgumentError(
            f"{who}: frame must be a pandas DataFrame with the UCI columns {CREDIT_FEATURES[0]}, ..., "
            f"{CREDIT_FEATURES[-1]} and {CREDIT_TARGET!r}; got {type(frame).__name__}. make_credit_default() and "
            "load_credit_default(path) return one."
        )
    columns = [str(c) for c in frame.columns]
    missing = [c for c in wanted if c not in columns]
    if missing:
        raise ArgumentError(
            f"{who}: frame lacks the column(s) {missing}; it needs the 23 UCI features and the 0/1 target "
            f"{CREDIT_TARGET!r} (make_credit_default() and load_credit_default(path) give them)."
        )
    twice = sorted({c for c in columns if columns.count(c) > 1 and c in wanted})
    if twice:
        raise ArgumentError(f"{who}: frame has the column(s) {twice} more than once; keep one of each.")
    if len(frame) < MIN_ROWS:
        raise ArgumentError(
            f"{who}: frame has {len(frame)} rows; a credit model needs at least {MIN_ROWS} (5/6 to train, 1/6 to test)."
        )
    labels = list(frame.index)
    text = [c for c in CREDIT_FEATURES if not is_numeric_dtype(frame[c].dtype) or is_complex_dtype(frame[c].dtype)]
    if text:
        raise ArgumentError(f"{who}: the feature column(s) {text} are not numeric; the UCI features are numbers.")
    values = frame[list(CREDIT_FEATURES)].to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isfinite(values)
    if bad.any():
        rows, cols = np.flatnonzero(bad.any(axis=1)), np.flatnonzero(bad.any(axis=0))
        raise ArgumentError(
            f"{who}: NaN, missing or infinite feature values in {len(rows)} row(s) (index {row_list(rows, labels)}), "
            f"column(s) {[CREDIT_FEATURES[c] for c in cols]}. Impute or drop those rows first."
        )
    target = frame[CREDIT_TARGET]
    if not (is_numeric_dtype(target.dtype) or is_bool_dtype(target.dtype)) or is_complex_dtype(target.dtype):
        numbers = pd.to_numeric(target.astype(object), errors="coerce")
        rows = np.flatnonzero(numbers.isna().to_numpy() | target.map(lambda v: isinstance(v, str)).to_numpy())
        shown = ", ".join(sorted({repr(target.iloc[r]) for r in rows[:50]})[:5])
        raise ArgumentError(
            f"{who}: the target {CREDIT_TARGET!r} must hold the numbers 0 (no default) and 1 (default); it has dtype "
            f"{target.dtype}"
            + (f" with values like {shown} (index {row_list(rows, labels)})" if len(rows) else "")
            + ". Map it to 0/1 first."
        )
    flags = target.to_numpy(dtype=float, na_value=np.nan)
    odd = np.flatnonzero(~np.isin(flags, (0.0, 1.0)))
    if odd.size:
        shown = sorted({repr(v) for v in flags[odd][:20].tolist()})
        raise ArgumentError(
            f"{who}: the target {CREDIT_TARGET!r} must be 0 or 1 in every row; {odd.size} row(s) are not (index "
            f"{row_list(odd, labels)}; values {', '.join(shown)}). Drop or fix those rows."
        )
    if len(np.unique(flags)) < 2:
        raise ArgumentError(
            f"{who}: the target {CREDIT_TARGET!r} is {int(flags[0])} in every row; a classifier needs both "
            "defaults (1) and non-defaults (0)."
        )


def roc_auc(scores, target) -> float:
    """The area under the ROC curve of P(default) scores against the true outcomes (0/1)."""
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(np.asarray(target), np.asarray(scores, dtype=float)))
