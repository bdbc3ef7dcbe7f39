"""Results are immutable, sliceable, and round-trip through JSON and pandas."""

import dataclasses

import numpy as np
import pytest
from conftest import dense_model

from nbexplain import Explanation, NBExplainError, Sensitivities, Sensitivity


@pytest.fixture
def sensitivities(rng):
    return Sensitivity(dense_model(rng.normal(size=(3, 1))), feature_names=["a", "b", "c"]).explain(
        rng.normal(size=(20, 3))
    )


def test_explanation_is_immutable(sensitivities):
    importance = sensitivities.global_importance()
    with pytest.raises(ValueError):
        importance.values[0] = 1.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        importance.values = np.zeros(3)
    with pytest.raises(TypeError):
        importance.meta["method"] = "other"
    with pytest.raises(ValueError):
        sensitivities.gradients[next(iter(sensitivities.gradients))][0, 0] = 1.0


def test_meta_says_how_it_was_made(sensitivities):
    meta = sensitivities.global_importance().meta
    for key in ("method", "formula", "explained", "n_samples", "parameters", "model_fingerprint", "version"):
        assert key in meta
    assert meta["method"] == "sensitivity" and meta["n_samples"] == 20


def test_json_round_trip(sensitivities, tmp_path):
    local = sensitivities.local_importance([2, 4])
    back = Explanation.from_json(local.to_json())
    np.testing.assert_array_equal(back.values, local.values)
    np.testing.assert_array_equal(back.signed, local.signed)
    np.testing.assert_array_equal(back.score, local.score)
    assert back.coords == local.coords and back.to_dict() == local.to_dict()
    path = tmp_path / "sens.json"
    sensitivities.to_json(path)
    again = Sensitivities.from_json(path)
    np.testing.assert_array_equal(again.global_importance().values, sensitivities.global_importance().values)
    assert next(iter(again.gradients.values())).dtype == np.float32


def test_to_frame_and_slicing(sensitivities):
    local = sensitivities.local_importance([0, 1, 2])
    frame = local.to_frame()
    assert list(frame.columns) == ["sample", "feature", "score", "importance", "gradient", "value"]
    assert len(frame) == 9
    one = local[1]
    assert one.dims == ("feature",) and one.meta["selected"] == {"sample": 1}
    np.testing.assert_array_equal(one.values, local.values[1])
    top = sensitivities.global_importance().top(2)
    assert len(top.feature_names) == 2 and top.values[0] >= top.values[1]
    cumulative = sensitivities.global_importance().cumulative_share()
    assert cumulative.values[-1] == pytest.approx(100)
    assert sensitivities.to_frame().shape == (20, 3)


def test_explanation_checks_its_shape():
    with pytest.raises(NBExplainError, match="2 entries but 3 labels"):
        Explanation(np.ones(2), ("feature",), {"feature": ("a", "b", "c")})
