"""The FICO Explainable ML Challenge entry of Chen, Lin, Rudin, Shaposhnik, Wang & Wang (2018),
on the embedded HELOC-schema data (:func:`~nbexplain.datasets.make_heloc`) or on FICO's
``heloc_dataset_v1.csv``.

The rows where every feature is -9 (no bureau record: 588 in the real file) are dropped; a
stratified 80/20 split (seeded) gives training and test rows. On the test rows: the two-layer
additive risk model beside an unconstrained L2 logistic model on the same step columns and a
gradient-boosted model on the raw features (accuracy at P(Bad) > 0.5, and AUC). Then, for a few
test applicants (both predictions), the three explanations of the entry: the most important
contributing factors, the globally consistent rules (minimum and best-supported, consistent
with the model's predictions on every training row) with their support, and the case tables.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from .._files import atomic_path, write_text
from ..results.serial import freeze_mapping, to_jsonable

ADDITIVE = "two-layer additive risk model"
LOGISTIC = "logistic regression on the step columns (unconstrained)"
BOOSTED = "gradient boosting on the raw features"


@dataclass(frozen=True, eq=False)
class FicoReproduction:
    """Everything the reproduction produced; ``meta`` says on which data and how."""

    model: Any
    metrics: Any
    applicants: Any
    factors: tuple
    rules: Any
    cases: tuple
    meta: Mapping = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "factors", tuple(self.factors))
        object.__setattr__(self, "cases", tuple(self.cases))
        object.__setattr__(self, "meta", freeze_mapping(self.meta))

    def report(self, max_cases: int = 5) -> str:
        """The printed account: test metrics, then per applicant its factors, rules and cases."""
        import pandas as pd

        lines = [
            f"Data: {self.meta['data']} ({self.meta['n_rows']} rows after dropping {self.meta['dropped_all_missing']} "
            f"all -9 rows; {self.meta['n_train']} train / {self.meta['n_test']} test, stratified)",
            f"Model fitted in {self.meta['fit_seconds']:.2f} s: {self.meta['n_step_columns']} step columns, "
            f"{self.meta['n_subscales']} subscales",
            "",
            "Test accuracy and AUC",
            self.metrics.to_string(float_format=lambda v: f"{v:.4f}"),
        ]
        with pd.option_context("display.width", 200, "display.max_columns", 12):
            for factors, explanation, cases in zip(self.factors, self.rules, self.cases):
                lines += [
                    "",
                    f"=== Applicant {factors.label}: P(Bad) = {factors.probability:.1%}, predicted {factors.predicted}",
                ]
                lines += [str(factors), "", "Globally consistent rules:"]
                if explanation.minimum is not None:
                    lines.append(f"  minimum ({explanation.minimum.size} conditions): {explanation.minimum.text}")
                    for rule in explanation.rules:
                        lines.append(f"  best-supported with at most {rule.max_size}: {rule.text}")
                else:
                    lines.append(f"  {explanation.text}")
                if cases is not None:
                    lines += [
                        "",
                        f"Cases satisfying the rule ({cases.n_satisfying}), most similar first:",
                        cases.table.iloc[: max_cases + 1, :8].to_string(),
                    ]
        return "\n".join(lines)

    def save(self, folder: str | Path) -> list:
        """Write the tables (CSV), the rules, the model and a record (JSON) into ``folder``, each
        file all-or-nothing; returns the paths written."""
        import pandas as pd

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        tables = {
            "metrics": self.metrics,
            "applicants": self.applicants,
            "factors": pd.concat(
                [f.to_frame().reset_index().assign(applicant=f.label) for f in self.factors], ignore_index=True
            ),
            "rules": pd.concat([e.to_frame().assign(applicant=e.label) for e in self.rules], ignore_index=True),
            **{f"cases_{c.meta['applicant']}": c.to_frame() for c in self.cases if c is not None},
        }
        written = []
        for stem, table in tables.items():
            path = folder / f"{stem}.csv"
            with atomic_path(path) as temporary:
                table.to_csv(temporary)
            written.append(path)
        self.rules.to_json(folder / "rules.json")
        self.model.save(folder / "model.json")
        record = {
            "meta": dict(self.meta),
            "metrics": self.metrics.reset_index().to_dict(orient="records"),
            "factors": {str(f.label): f.lines() for f in self.factors},
        }
        write_text(folder / "fico_reproduction.json", json.dumps(to_jsonable(record), indent=1))
        return [*written, folder / "rules.json", folder / "model.json", folder / "fico_reproduction.json"]


def _frame(data, seed: int):
    from ..datasets import load_heloc, make_heloc

    if data is None:
        return make_heloc(seed=seed), f"embedded HELOC-schema data (make_heloc, seed {seed})"
    if isinstance(data, (str, Path)):
        return load_heloc(data), str(data)
    return data, "a DataFrame"


def _applicant_rows(predicted: np.ndarray, count: int, seed: int) -> np.ndarray:
    """``count`` test positions, alternating predicted Bad and Good (seeded)."""
    order = np.random.default_rng(seed).permutation(len(predicted))
    by_class = [order[predicted[order] == c] for c in (1, 0)]
    chosen = [int(group[i]) for i in range(count) for group in by_class if i < len(group)]
    return np.array(chosen[:count], dtype=int)


def run(
    data: Any = None,
    *,
    applicants: int = 3,
    extra: int = 1,
    seed: int = 0,
    time_limit: float = 10.0,
    max_cases: int = 10,
    progress: bool = True,
) -> FicoReproduction:
    """Run the reproduction (module docstring).

    Parameters
    ----------
    data : None (the embedded data), a path to ``heloc_dataset_v1.csv``, or a DataFrame with its columns.
    applicants : test applicants explained (alternately predicted Bad and Good).
    extra : best-supported rules are sought with up to minimum + ``extra`` conditions.
    seed : the data generator's seed, the split and the choice of applicants.
    time_limit : seconds per rule solve.
    max_cases : rows of each case table.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import train_test_split
    from tqdm.auto import tqdm

    from ..credit import PastCases, SetCoverExplainer, case_table, contributing_factors
    from ..datasets.heloc import HELOC_FEATURES, HELOC_TARGET
    from ..model.additive import AdditiveRiskModel, binary_target

    frame, source = _frame(data, seed)
    features = frame[list(HELOC_FEATURES)]
    empty = (features == -9).all(axis=1).to_numpy()
    frame = frame[~empty]
    X = frame[list(HELOC_FEATURES)]
    y = binary_target(frame[HELOC_TARGET], len(frame)).astype(int)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, stratify=y, random_state=seed)

    stages = tqdm(total=5, desc="FICO reproduction", unit="stage", disable=not progress)
    stages.set_postfix_str("additive model")
    started = time.perf_counter()
    model = AdditiveRiskModel().fit(X_train, y_train)
    fit_seconds = time.perf_counter() - started
    stages.update()

    def scores(risk):
        return {"accuracy": float(np.mean((risk > 0.5) == y_test)), "AUC": float(roc_auc_score(y_test, risk))}

    metrics = {ADDITIVE: scores(model.risk(X_test))}
    stages.set_postfix_str("logistic regression")
    logistic = LogisticRegression(C=1.0, max_iter=5000).fit(model.steps(X_train), y_train)
    metrics[LOGISTIC] = scores(logistic.predict_proba(model.steps(X_test))[:, 1])
    stages.update()
    stages.set_postfix_str("gradient boosting")
    boosted = HistGradientBoostingClassifier(random_state=seed).fit(X_train, y_train)
    metrics[BOOSTED] = scores(boosted.predict_proba(X_test)[:, 1])
    stages.update()

    import pandas as pd

    table = pd.DataFrame(metrics).T
    table.index.name = "model"
    stages.set_postfix_str("rules")
    past = PastCases.from_model(model, X_train, y_train)
    chosen = X_test.iloc[_applicant_rows(model.predict(X_test), applicants, seed)]
    explainer = SetCoverExplainer(past, extra=extra, time_limit=time_limit, progress=progress)
    started = time.perf_counter()
    book = explainer.explain_many(chosen)
    rule_seconds = time.perf_counter() - started
    stages.update()
    stages.set_postfix_str("factors and cases")
    factors = [contributing_factors(model, chosen.loc[[label]]) for label in chosen.index]
    cases = []
    for label in chosen.index:
        explanation = book[label]
        if explanation.rule is None:
            cases.append(None)
            continue
        found = case_table(past, explanation, chosen.loc[[label]], max_cases=max_cases)
        cases.append(replace(found, meta={**found.meta, "applicant": label}))
    stages.update()
    stages.close()
    meta = {
        "data": source,
        "n_rows": int(len(frame)),
        "dropped_all_missing": int(empty.sum()),
        "n_train": int(len(X_train)),
        "n_test": int(len(X_test)),
        "seed": seed,
        "split": "stratified 80/20 (sklearn train_test_split)",
        "fit_seconds": fit_seconds,
        "rule_seconds": rule_seconds,
        "n_step_columns": len(model.columns_),
        "n_subscales": len(model.subscales_),
        "extra": extra,
        "model_fingerprint": model.fingerprint(),
    }
    return FicoReproduction(model, table, chosen, tuple(factors), book, tuple(cases), meta)


__all__ = ["FicoReproduction", "run"]
