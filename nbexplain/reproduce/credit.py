"""Section 4: the credit-card experiment, on the embedded data or on the UCI file.

Figure 2: the FCN's sensitivity ranking beside LIME's selection counts (and the time each took);
Figure 3: a depth-4 decision tree's impurity importance and a lasso logistic model's coefficient
magnitudes; the 90 % cumulative-importance selection; Table 1: train and test error of the full
l1 network against a 32-unit network on the selected features over N repeated trainings;
Figure 4: the importance ranking of the smaller network.
"""

from __future__ import annotations

import importlib.util
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from .._files import write_text
from ..datasets.credit import CREDIT_FEATURES
from ..datasets.demo import fit_credit_model, load_demo
from ..datasets.loaders import load_credit_default
from ..datasets.models import credit_network
from ..engine import Sensitivity
from ..engine.comparisons import keras_probabilities, lime_counts, logistic_importance, tree_importance
from ..engine.selection import Candidate, retrain_comparison
from ..results import Explanation
from ..results.serial import freeze_mapping, to_jsonable
from .figures import cumulative_figure, ranking_figure, save_figure

FULL_MODEL = "FCN l1, all 23 features"
SELECTED_MODEL = "FCN 32 units, top-90% features"


@dataclass(frozen=True, eq=False)
class CreditReproduction:
    """Every result of the section-4 experiment; ``meta`` says on which data and how."""

    importance: Explanation
    tree: Explanation
    logistic: Explanation
    selected: tuple
    table1: object
    selected_importance: Explanation
    lime: Explanation | None = None
    meta: Mapping = field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "meta", freeze_mapping(self.meta))

    def rankings(self):
        """Figures 2 and 3 as one table: each method's share of importance per feature and rank."""
        import pandas as pd

        columns = {
            "sensitivity": self.importance,
            "LIME count": self.lime,
            "decision tree": self.tree,
            "lasso logistic": self.logistic,
        }
        table = pd.DataFrame({name: e.to_frame()["importance"] for name, e in columns.items() if e is not None})
        for name in list(table.columns):
            table[f"{name} rank"] = table[name].rank(ascending=False, method="min").astype(int)
        return table.sort_values("sensitivity", ascending=False)

    def timings(self):
        """Seconds taken by the sensitivity pass and by LIME (measured, and extrapolated to all rows)."""
        import pandas as pd

        rows = {"sensitivity (all training rows)": self.importance.meta["seconds"]}
        if self.lime is not None:
            per = self.lime.meta["seconds_per_instance"]
            rows[f"LIME ({self.lime.meta['n_samples']} instances, measured)"] = self.lime.meta["seconds"]
            rows[f"LIME ({self.meta['n_train']} instances, extrapolated)"] = per * self.meta["n_train"]
        return pd.Series(rows, name="seconds")

    def figures(self) -> dict:
        """The paper's figures as matplotlib figures, keyed by file stem."""
        figure2 = {"(a) sensitivity of the FCN": self.importance}
        if self.lime is not None:
            figure2["(b) LIME selection counts"] = self.lime
        return {
            "figure2_fcn_importance": ranking_figure(figure2, "Figure 2: global importance of the FCN"),
            "figure3_tree_logistic": ranking_figure(
                {"(a) decision tree (depth 4)": self.tree, "(b) lasso logistic |coefficients|": self.logistic},
                "Figure 3: decision tree and logistic regression",
            ),
            "selection_cumulative": cumulative_figure(self.importance, self.meta["share"]),
            "figure4_selected_importance": ranking_figure(
                {f"FCN on the {len(self.selected)} selected features": self.selected_importance},
                "Figure 4: importance after feature selection",
            ),
        }

    def save(self, folder) -> list:
        """Write the figures (PNG), the tables (CSV) and everything as JSON into ``folder``."""

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for stem, figure in self.figures().items():
            save_figure(figure, folder / f"{stem}.png")
            written.append(folder / f"{stem}.png")
        tables = {"rankings": self.rankings(), "table1": self.table1.summary(), "timings": self.timings()}
        for stem, table in tables.items():
            write_text(folder / f"{stem}.csv", table.to_csv())
            written.append(folder / f"{stem}.csv")
        payload = {
            "meta": to_jsonable(dict(self.meta)),
            "selected": list(self.selected),
            "importance": self.importance.to_dict(),
            "tree": self.tree.to_dict(),
            "logistic": self.logistic.to_dict(),
            "lime": None if self.lime is None else self.lime.to_dict(),
            "selected_importance": self.selected_importance.to_dict(),
            "table1": self.table1.to_dict(),
        }
        write_text(folder / "credit_reproduction.json", json.dumps(payload, indent=1))
        written.append(folder / "credit_reproduction.json")
        return written


def _credit_model(data, seed, epochs, progress):
    """The trained FCN and its data: the cached demo model, or one trained on the given file/frame."""
    if data is None:
        return load_demo("credit_fcn", seed=seed, epochs=epochs, progress=progress), "embedded (generated) data"
    if isinstance(data, (str, Path)):
        return fit_credit_model(load_credit_default(data), seed=seed, epochs=epochs, progress=progress), str(data)
    return fit_credit_model(data, seed=seed, epochs=epochs, progress=progress), "a DataFrame"


def run(
    data=None,
    *,
    repeats: int = 30,
    epochs: int = 100,
    lime_instances: int = 200,
    share: float = 90.0,
    seed: int = 0,
    progress: bool = True,
) -> CreditReproduction:
    """Run the section-4 experiment.

    Parameters
    ----------
    data : None for the embedded data (30,000 generated clients), a path to the UCI file (.xls or
        CSV), or a DataFrame with the UCI columns. Rows are split 25,000 / 5,000 (5/6, 1/6).
    repeats : trainings per model for Table 1 (30 in the paper).
    epochs : maximum epochs per training (early stopping decides; 100 in the paper).
    lime_instances : training rows explained by LIME (0 to skip; LIME needs the ``lime`` package).
        The paper ran LIME on all 25,000 rows (6 hours); the time is extrapolated from this sample.
    share : cumulative importance (%) the selected features must reach.
    """

    demo, source = _credit_model(data, seed, epochs, progress)
    X = demo.inputs
    X_train, X_test = X.iloc[demo.train_rows], X.iloc[demo.test_rows]
    y_train, y_test = demo.target[demo.train_rows], demo.target[demo.test_rows]

    started = time.perf_counter()
    importance = demo.explainer(progress=False).explain(X_train).global_importance()
    importance = replace(importance, meta={**importance.meta, "seconds": time.perf_counter() - started})

    lime = None
    if lime_instances and _installed("lime"):
        rows = np.random.default_rng(seed).choice(len(X_train), size=min(lime_instances, len(X_train)), replace=False)
        lime = lime_counts(
            keras_probabilities(demo.model), X_train, X_train.iloc[np.sort(rows)], seed=seed, progress=progress
        )
    tree = tree_importance(X_train, y_train, max_depth=4, seed=seed, X_test=X_test, y_test=y_test)
    logistic = logistic_importance(X_train, y_train, X_test=X_test, y_test=y_test)

    selected = importance.covering(share)
    candidates = {
        FULL_MODEL: Candidate(lambda s: credit_network(len(CREDIT_FEATURES), seed=s), CREDIT_FEATURES),
        SELECTED_MODEL: Candidate(lambda s: credit_network(len(selected), seed=s, l1=0.0, hidden=32), selected),
    }
    table1 = retrain_comparison(
        candidates, X_train, y_train, X_test, y_test, repeats=repeats, epochs=epochs, seed=seed, progress=progress
    )
    smaller = table1.examples[SELECTED_MODEL]
    selected_importance = (
        Sensitivity(smaller, target=1, labels=("no default", "default"), progress=False)
        .explain(X_train[list(selected)])
        .global_importance()
    )
    meta = {
        "data": source,
        "n_train": len(X_train),
        "n_test": len(X_test),
        "share": share,
        "seed": seed,
        "repeats": repeats,
        "max_epochs": epochs,
        "lime_instances": 0 if lime is None else lime_instances,
        "lime_available": _installed("lime"),
        "model_record": dict(demo.record),
    }
    return CreditReproduction(importance, tree, logistic, selected, table1, selected_importance, lime, meta)


def _installed(module: str) -> bool:

    return importlib.util.find_spec(module) is not None
