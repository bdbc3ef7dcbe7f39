"""What an explorer shows: a model's explainers, the rows they explain as people read them, and
how to feed them.

:class:`ExplorerData` binds a model's explainers (:class:`~nbexplain.engine.protocol.ModelExplainers`)
to a table of *raw* rows (the values a person edits and reads, e.g. a credit limit of 200,000
rather than its standardised 0.31), a function that turns raw rows into the model's inputs, and
where each raw column lands in those inputs, so that the what-if editor can colour a column by
the gradient at its own input element.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from ..credit.reasons import ReasonCatalogue
from ..engine.protocol import ModelExplainers
from ..errors import InputDataError, row_list, unknown_name
from ..results.serial import freeze_mapping

#: Integer columns with at most this many distinct values are edited as choices.
MAX_CHOICES = 8


def _identity(frame):
    return frame


@dataclass(frozen=True, eq=False)
class ExplorerData:
    """A model's explainers and the rows the explorer explains.

    Parameters
    ----------
    explainers : ModelExplainers
        The row explainer and the attributor of the model (see :mod:`nbexplain.engine.protocol`).
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
    outcome : str
        What the explained output is, e.g. ``"P(default)"``.
    class_labels : tuple
        Names of outcome 0 and 1 (predicted class 1: score above ``threshold``, the same rule as
        a denial, :func:`~nbexplain.credit.reasons.denied`).
    comparisons : mapping, optional
        ``{method: Explanation}``: other global importances of the same features; None (the
        default) compares with a decision tree and a lasso-logistic model fitted on the rows.
    selection_errors : mapping
        ``{k: test error}`` of networks retrained on the top k features.
    description : mapping
        Facts shown in the dashboard header (model, training and test error ...).
    catalogue : ReasonCatalogue, optional
        Reason statements per column for the reasons panel; one reason per column by default.
    bundle : ExplanationBundle, optional
        The explanation bundle these rows come from (see :mod:`nbexplain.widgets.bundle`): the
        controller reads what it stores instead of computing it.
    """

    explainers: ModelExplainers
    frame: object
    to_inputs: Callable = _identity
    elements: Mapping = field(default_factory=dict)
    target: np.ndarray | None = None
    choices: Mapping = field(default_factory=dict)
    title: str = "model"
    outcome: str = "score"
    class_labels: tuple = ("0", "1")
    threshold: float = 0.5
    comparisons: Mapping | None = None
    selection_errors: Mapping = field(default_factory=dict)
    description: Mapping = field(default_factory=dict)
    catalogue: object = None
    bundle: object = None

    def __post_init__(self):
        import pandas as pd

        if not isinstance(self.explainers, ModelExplainers):
            raise InputDataError(
                f"explainers must be a ModelExplainers (e.g. ModelExplainers.for_keras(model, ...)); "
                f"got {type(self.explainers).__name__}. ExplorerData.from_keras builds one."
            )
        if not isinstance(self.frame, pd.DataFrame):
            raise InputDataError(
                f"The explorer needs its rows as a pandas DataFrame with named columns; got "
                f"{type(self.frame).__name__}. Wrap an array: pd.DataFrame(X, columns=names)."
            )
        if len(self.frame) == 0:
            raise InputDataError("The explorer needs at least one row to explain; the DataFrame is empty.")
        numeric = [c for c in self.frame.columns if not pd.api.types.is_numeric_dtype(self.frame[c])]
        if numeric:
            raise InputDataError(
                f"Columns {numeric} are not numeric. Encode them as numbers (and pass "
                "choices={column: {code: label}}) before exploring."
            )
        columns = [str(c) for c in self.frame.columns]
        elements = dict(self.elements) or {c: (None, (j,)) for j, c in enumerate(columns)}
        for column in elements:
            if column not in columns:
                raise unknown_name("column", column, columns)
        if self.target is not None:
            target = np.asarray(self.target)
            if target.shape != (len(self.frame),):
                raise InputDataError(
                    f"target has shape {target.shape}; expected one outcome per row ({len(self.frame)},)."
                )
            numbers = np.asarray(pd.to_numeric(pd.Series(target), errors="coerce"), dtype=float)
            bad = np.flatnonzero(~np.isin(numbers, (0.0, 1.0)))
            if bad.size:
                raise InputDataError(
                    f"target holds outcomes that are not 0 or 1 at rows {row_list(bad, tuple(self.frame.index))} "
                    f"(e.g. {str(target[bad[0]])!r}); give the true outcome of each row as 0 or 1 "
                    "(NaN is not an outcome)."
                )
            object.__setattr__(self, "target", numbers.astype(int))
        for column in self.choices:
            if column not in columns:
                raise unknown_name("column", column, columns)
        object.__setattr__(self, "elements", freeze_mapping({c: (i, tuple(ix)) for c, (i, ix) in elements.items()}))
        threshold = self.threshold
        if (
            isinstance(threshold, bool)
            or not isinstance(threshold, (int, float, np.number))
            or not np.isfinite(threshold)
        ):
            raise InputDataError(
                f"threshold must be a finite number (the score above which outcome 1 is predicted); got {threshold!r}."
            )
        if self.comparisons is not None:
            object.__setattr__(self, "comparisons", freeze_mapping(self.comparisons))
        for name in ("choices", "selection_errors", "description"):
            object.__setattr__(self, name, freeze_mapping(getattr(self, name)))
        if self.catalogue is None:
            object.__setattr__(self, "catalogue", ReasonCatalogue.per_feature(columns))
        else:
            self.catalogue.matrix(columns)  # every column must have a reason (or be a prohibited basis)

    @property
    def columns(self) -> tuple:
        return tuple(str(c) for c in self.frame.columns)

    @classmethod
    def from_keras(
        cls,
        model,
        X,
        y=None,
        *,
        choices=None,
        title="model",
        outcome="score",
        class_labels=("0", "1"),
        threshold=0.5,
        comparisons=None,
        selection_errors=None,
        catalogue=None,
        **explainer_options,
    ) -> ExplorerData:
        """A one-input tabular Keras model that reads ``X``'s columns (matched by name).

        Integer columns with at most 8 distinct values are edited as choices unless ``choices``
        says otherwise; ``explainer_options`` (``target=``, ``labels=``, ``output=`` ...) choose
        the score to explain. Without ``comparisons``, the global view compares the sensitivity
        with a depth-4 decision tree and a lasso-logistic model fitted on the same rows (to ``y``,
        else to the model's predicted class; see :func:`~nbexplain.engine.comparisons.surrogate_importances`).
        """
        import pandas as pd

        if not isinstance(X, pd.DataFrame):
            array = np.asarray(X) if not isinstance(X, (dict, list, tuple)) or not X else None
            if array is None or array.ndim != 2 or array.dtype == object:
                raise InputDataError(
                    f"from_keras explains a model of one tabular input: give X as a DataFrame (or a 2-D array) with "
                    f"one column per feature; got {type(X).__name__}. For a model of several inputs build "
                    "ExplorerData(ModelExplainers.for_keras(model, ...), raw_frame, to_inputs=..., elements=...)."
                )
            X = pd.DataFrame(array, columns=[f"x{j}" for j in range(array.shape[1])])
        frame = X
        options = {"feature_names": [str(c) for c in frame.columns], **explainer_options}
        explainers = ModelExplainers.for_keras(model, **options)
        inferred = {c: {v: str(v) for v in values} for c, values in small_integer_columns(frame).items()}
        return cls(
            explainers,
            frame,
            _identity,
            {},
            None if y is None else np.asarray(y),
            {**inferred, **(choices or {})},
            title,
            outcome,
            tuple(class_labels),
            threshold,
            comparisons,
            selection_errors or {},
            {},
            catalogue,
        )


def small_integer_columns(frame) -> dict:
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
