"""What an explorer shows: a model, the rows it explains as people read them, and how to feed it.

:class:`ExplorerData` binds a Keras model to a table of *raw* rows (the values a person edits and
reads, e.g. a credit limit of 200,000 rather than its standardised 0.31), a function that turns
raw rows into the model's inputs, and where each raw column lands in those inputs, so that the
what-if editor can colour a column by the gradient at its own input element.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np

from ..errors import InputDataError, unknown_name
from ..explanation import freeze_mapping

#: Integer columns with at most this many distinct values are edited as choices.
MAX_CHOICES = 8


def _identity(frame):
    return frame


@dataclass(frozen=True, eq=False)
class ExplorerData:
    """A model and the rows the explorer explains.

    Parameters
    ----------
    model : keras.Model
    frame : pandas.DataFrame
        Raw rows, one column per editable feature, in the units people read.
    to_inputs : callable
        ``to_inputs(frame) -> model inputs`` (a DataFrame, an array or a dict by input name) for
        any rows with ``frame``'s columns: the data set, or one edited row.
    elements : mapping
        ``{column: (input name or None for the only input, index within one sample)}``.
    target : array, optional
        The true outcome of each row (0/1), for filters and the prediction panel.
    choices : mapping
        ``{column: {code: label}}`` for categorical columns (edited as choices).
    explainer_options : mapping
        Passed to :class:`~nbexplain.SensitivityExplainer` (``target``, ``labels``, ``output`` ...).
    outcome : str
        What the explained output is, e.g. ``"P(default)"``.
    class_labels : tuple
        Names of outcome 0 and 1 (predicted class: output >= ``threshold``).
    comparisons : mapping
        ``{method: Explanation}``: other global importances of the same features.
    selection_errors : mapping
        ``{k: test error}`` of networks retrained on the top k features.
    description : mapping
        Facts shown in the dashboard header (model, training and test error ...).
    catalogue : ReasonCatalogue, optional
        Reason statements per column for the reasons panel; one reason per column by default.
    """

    model: object
    frame: object
    to_inputs: Callable = _identity
    elements: Mapping = field(default_factory=dict)
    target: np.ndarray | None = None
    choices: Mapping = field(default_factory=dict)
    explainer_options: Mapping = field(default_factory=dict)
    title: str = "model"
    outcome: str = "output"
    class_labels: tuple = ("0", "1")
    threshold: float = 0.5
    comparisons: Mapping = field(default_factory=dict)
    selection_errors: Mapping = field(default_factory=dict)
    description: Mapping = field(default_factory=dict)
    catalogue: object = None

    def __post_init__(self):
        import pandas as pd

        if not isinstance(self.frame, pd.DataFrame):
            raise InputDataError(f"The explorer needs its rows as a pandas DataFrame with named columns; got "
                                 f"{type(self.frame).__name__}. Wrap an array: pd.DataFrame(X, columns=names).")
        if len(self.frame) == 0:
            raise InputDataError("The explorer needs at least one row to explain; the DataFrame is empty.")
        numeric = [c for c in self.frame.columns if not pd.api.types.is_numeric_dtype(self.frame[c])]
        if numeric:
            raise InputDataError(f"Columns {numeric} are not numeric. Encode them as numbers (and pass "
                                 "choices={column: {code: label}}) before exploring.")
        columns = [str(c) for c in self.frame.columns]
        elements = dict(self.elements) or {c: (None, (j,)) for j, c in enumerate(columns)}
        for column in elements:
            if column not in columns:
                raise unknown_name("column", column, columns)
        if self.target is not None:
            target = np.asarray(self.target)
            if target.shape != (len(self.frame),):
                raise InputDataError(f"target has shape {target.shape}; expected one outcome per row "
                                     f"({len(self.frame)},).")
            object.__setattr__(self, "target", target)
        for column in self.choices:
            if column not in columns:
                raise unknown_name("column", column, columns)
        object.__setattr__(self, "elements", freeze_mapping({c: (i, tuple(ix)) for c, (i, ix) in elements.items()}))
        for name in ("choices", "explainer_options", "comparisons", "selection_errors", "description"):
            object.__setattr__(self, name, freeze_mapping(getattr(self, name)))
        if self.catalogue is None:
            from ..credit.reasons import ReasonCatalogue

            object.__setattr__(self, "catalogue", ReasonCatalogue.per_feature(columns))
        else:
            self.catalogue.matrix(columns)  # every column must have a reason (or be a prohibited basis)

    @property
    def columns(self) -> tuple:
        return tuple(str(c) for c in self.frame.columns)

    @classmethod
    def from_keras(cls, model, X, y=None, *, choices=None, title="model", outcome="output",
                   class_labels=("0", "1"), threshold=0.5, comparisons=None, selection_errors=None, catalogue=None,
                   **explainer_options) -> "ExplorerData":
        """A one-input tabular model that reads ``X``'s columns as they are.

        Integer columns with at most 8 distinct values are edited as choices unless ``choices``
        says otherwise; ``explainer_options`` (``target=``, ``labels=``, ``output=`` ...) choose
        the output to explain.
        """
        import pandas as pd

        frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X),
                                                                   columns=[f"x{j}" for j in range(np.shape(X)[-1])])
        inferred = {c: {v: str(v) for v in values} for c, values in _small_integer_columns(frame).items()}
        return cls(model, frame, _identity, {}, None if y is None else np.asarray(y), {**inferred, **(choices or {})},
                   explainer_options, title, outcome, tuple(class_labels), threshold, comparisons or {},
                   selection_errors or {}, {}, catalogue)

    @classmethod
    def from_demo(cls, demo, rows: str = "train", comparisons: bool = True, selection_errors=None) -> "ExplorerData":
        """The explorer view of a :class:`~nbexplain.datasets.DemoModel` on its ``"train"``,
        ``"test"`` or ``"all"`` rows, with tree and lasso-logistic importances beside it."""
        from ..datasets.credit import CATEGORY_LABELS, CREDIT_FEATURES, credit_reason_catalogue, sequence_elements
        from ..datasets.demo import OUTCOME_LABELS

        positions = {"train": demo.train_rows, "test": demo.test_rows,
                     "all": np.arange(len(demo.frame))}
        if rows not in positions:
            raise unknown_name("row set", rows, positions)
        chosen = positions[rows]
        frame = demo.frame.iloc[chosen][list(CREDIT_FEATURES)]
        elements = sequence_elements() if demo.name == "credit_lstm" else {}
        other = _demo_comparisons(demo, frame, chosen) if comparisons else {}
        record = demo.record
        description = {"model": demo.name, "rows": f"{rows} ({len(chosen):,})",
                       "test error": f"{record.get('test_error', float('nan')):.2%}",
                       "trained for": f"{record.get('epochs', '?')} epochs"}
        return cls(demo.model, frame, demo.model_inputs, elements, demo.target[chosen], CATEGORY_LABELS,
                   demo.explainer_options(), _DEMO_TITLES[demo.name], "P(default)", OUTCOME_LABELS, 0.5, other,
                   selection_errors or {}, description, credit_reason_catalogue())


_DEMO_TITLES = {"credit_fcn": "Credit default network (64 tanh units, 23 features)",
                "credit_lstm": "Payment-history LSTM (6 months x 3 channels + 5 static features)"}


def _small_integer_columns(frame) -> dict:
    import pandas as pd

    found = {}
    for column in frame.columns:
        values = frame[column].to_numpy()
        if not pd.api.types.is_numeric_dtype(frame[column]):
            continue
        if np.issubdtype(values.dtype, np.integer) or np.all(np.mod(values, 1) == 0):
            distinct = np.unique(values)
            if len(distinct) <= MAX_CHOICES:
                found[str(column)] = [v.item() for v in distinct]
    return found


def _demo_comparisons(demo, frame, rows) -> dict:
    """Depth-4 tree and lasso-logistic importances on the same raw rows (the paper's comparisons);
    only for the dense demo, whose reported features are the raw columns."""
    if demo.name != "credit_fcn":
        return {}
    from ..comparisons import logistic_importance, tree_importance

    y = demo.target[rows]
    return {"decision tree": tree_importance(frame, y), "lasso logistic": logistic_importance(demo.rows(rows), y)}
