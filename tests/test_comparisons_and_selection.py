"""Other importances (tree, lasso logistic, LIME counts) on data whose answer is known, the 90 %
selection rule, and the section-4 reproduction run as a command on a real-format file."""

import json
import subprocess
import sys

import keras
import numpy as np
import pandas as pd
import pytest

from nbexplain import Explanation
from nbexplain.datasets.credit import make_credit_default
from nbexplain.engine.comparisons import keras_probabilities, lime_counts, logistic_importance, tree_importance
from nbexplain.errors import NBExplainError


def test_covering_takes_the_fewest_top_features_reaching_the_share():
    importance = Explanation(np.array([15.0, 50.0, 5.0, 30.0]), ("feature",), {"feature": ("c", "a", "d", "b")})
    assert importance.covering(90) == ("a", "b", "c")
    assert importance.covering(80) == ("a", "b"), "a share reached exactly needs no more features"
    assert importance.covering(100) == ("a", "b", "c", "d")
    assert importance.covering(10) == ("a",)
    with pytest.raises(NBExplainError, match=r"share must be a percentage in \(0, 100\]"):
        importance.covering(0)


def test_tree_gives_all_importance_to_the_only_split_feature(rng):
    X = pd.DataFrame(rng.standard_normal((2000, 3)), columns=["signal", "noise1", "noise2"])
    result = tree_importance(X, (X.signal > 0.3).astype(int), max_depth=4)
    np.testing.assert_allclose(result.values, [100, 0, 0], atol=1e-9)
    assert result.meta["method"] == "decision tree impurity importance" and result.meta["train_error"] == 0


def test_lasso_logistic_recovers_coefficient_order_and_zeroes_noise(rng):
    X = pd.DataFrame(rng.standard_normal((6000, 4)), columns=["strong", "weak", "noise1", "noise2"])
    probability = 1 / (1 + np.exp(-(2.0 * X.strong - 0.7 * X.weak)))
    y = (rng.random(6000) < probability).astype(int)
    result = logistic_importance(X, y, C=0.05)
    assert result.feature_names == ("strong", "weak", "noise1", "noise2")
    assert result.values[0] > 2 * result.values[1] > 0
    assert result.values[2:].max() < 1.0 and result.signed[0] > 0 > result.signed[1]
    assert result.values.sum() == pytest.approx(100)


def test_lime_counts_only_the_features_the_model_reads(rng):
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(2, activation="softmax")])
    weights = np.zeros((5, 2), "float32")
    weights[0], weights[3] = [-3.0, 3.0], [2.0, -2.0]
    model.layers[0].set_weights([weights, np.zeros(2, "float32")])
    X = pd.DataFrame(rng.standard_normal((400, 5)), columns=list("abcde"))
    result = lime_counts(keras_probabilities(model), X, X.iloc[:6], num_features=2, num_samples=600, progress=False)
    assert result.meta["counts"][0] == 6 and result.meta["counts"][3] == 6 and sum(result.meta["counts"]) == 12
    assert result.meta["seconds_per_instance"] > 0


@pytest.mark.training
def test_reproduction_command_on_a_coded_csv(tmp_path):
    frame = make_credit_default(3000, seed=2)
    data = tmp_path / "uci.csv"
    codes = ["ID", *[f"X{i}" for i in range(1, 24)], "Y"]
    frame.rename(columns=dict(zip(frame.columns, codes[1:]))).to_csv(data, index_label="ID")
    out = tmp_path / "out"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "nbexplain.reproduce",
            "credit",
            "--data",
            str(data),
            "--repeats",
            "2",
            "--epochs",
            "4",
            "--lime-instances",
            "3",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env={**__import__("os").environ, "NBEXPLAIN_CACHE": str(tmp_path / "cache")},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert (
        "Table 1: error rates over 2 trainings" in done.stdout and "LIME (2500 instances, extrapolated)" in done.stdout
    )
    assert "retraining" in done.stderr, "a progress bar runs over the repeated trainings"
    for name in (
        "figure2_fcn_importance.png",
        "figure3_tree_logistic.png",
        "selection_cumulative.png",
        "figure4_selected_importance.png",
        "table1.csv",
        "rankings.csv",
    ):
        assert (out / name).stat().st_size > 0, name
    payload = json.loads((out / "credit_reproduction.json").read_text())
    assert payload["meta"]["n_train"] == 2500 and payload["meta"]["n_test"] == 500
    importance = Explanation.from_dict(payload["importance"])
    assert tuple(payload["selected"]) == importance.covering(90)
    runs = pd.DataFrame(payload["table1"]["runs"])
    assert len(runs) == 4 and runs.test_error.between(0, 0.5).all()
    table1 = pd.read_csv(out / "table1.csv", index_col=0)
    assert table1.loc["FCN 32 units, top-90% features", "features"] == len(payload["selected"])
    np.testing.assert_allclose(
        table1["test_error mean"].to_numpy(), runs.groupby("model", sort=False).test_error.mean().to_numpy()
    )
