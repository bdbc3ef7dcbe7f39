"""The README's Python examples run as written, on the demo credit network and its data."""

import re
from pathlib import Path

import numpy as np
import pytest

README = Path(__file__).parent.parent / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.DOTALL)

pytestmark = pytest.mark.training


@pytest.fixture(scope="module")
def namespace(demo_models):
    """The names the examples use: a Keras model and DataFrames of its (named) inputs."""
    demo = demo_models["credit_fcn"]
    X_train, X_test = demo.rows(demo.train_rows[:2000]), demo.rows(demo.test_rows[:600])
    scores = demo.predict(X_test)
    denied, approved = X_test[scores > 0.5], X_test[scores <= 0.5]
    return {
        "model": demo.model,
        "X_train": X_train,
        "X_test": X_test,
        "y_test": demo.target[demo.test_rows[:600]],
        "X_denied": denied.iloc[:20],
        "denied": denied.iloc[:15],
        "approved": approved.iloc[:15],
        "applicant_a": denied.iloc[:3],
        "applicant_b": approved.iloc[:3],
    }


def test_the_readme_has_examples():
    assert len(BLOCKS) >= 5


@pytest.mark.parametrize("block", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_example_runs(block, namespace):
    model = namespace["model"]
    weights, activation = [w.copy() for w in model.get_weights()], model.layers[-1].activation
    exec(compile(block, "README.md", "exec"), dict(namespace))
    assert model.layers[-1].activation is activation, "explaining must not change the model"
    assert all(np.array_equal(a, b) for a, b in zip(weights, model.get_weights()))
