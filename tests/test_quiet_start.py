"""No TensorFlow start-up line (absl, oneDNN, CPU features, CUDA probing) reaches a terminal from
nbexplain's commands: TensorFlow is imported through one quiet accessor."""

import json
import re
import subprocess
import sys

import keras
import numpy as np
import pandas as pd

#: What TensorFlow prints while it loads, whatever TF_CPP_MIN_LOG_LEVEL says.
CHATTER = re.compile(r"absl|oneDNN|cpu_feature_guard|TensorFlow binary|cuda|cuDNN|XLA|tensorflow/", re.IGNORECASE)


def run_quietly(arguments, cwd):
    """Run a command in a fresh interpreter (TensorFlow not yet loaded), without the tests' own
    TF_CPP_MIN_LOG_LEVEL, and return it."""
    env = {k: v for k, v in __import__("os").environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    return subprocess.run([sys.executable, *arguments], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_tensorflow_prints_without_the_accessor(tmp_path):
    """The check below can fail: importing TensorFlow directly does print start-up lines here."""
    plain = run_quietly(["-c", "import tensorflow as tf; tf.constant(1.0) + 1"], tmp_path)
    assert CHATTER.search(plain.stderr), plain.stderr


def test_the_reasons_command_prints_no_tensorflow_start_up_line(tmp_path):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, activation="sigmoid")])
    model.save(tmp_path / "model.keras")
    rng = np.random.default_rng(0)
    pd.DataFrame(rng.normal(size=(40, 3)), columns=list("abc")).to_csv(tmp_path / "reference.csv", index=False)
    pd.DataFrame(rng.normal(size=(30, 3)), columns=list("abc")).to_csv(tmp_path / "applications.csv", index=False)
    catalogue = {"reasons": [{"code": c.upper(), "statement": f"{c} is high", "features": [c]} for c in "abc"]}
    (tmp_path / "catalogue.json").write_text(json.dumps(catalogue))
    run = run_quietly(
        [
            "-m",
            "nbexplain",
            "reasons",
            "applications.csv",
            "reasons.csv",
            "--model",
            "model.keras",
            "--reference",
            "reference.csv",
            "--catalogue",
            "catalogue.json",
            "--cutoff",
            "0.4",
            "--quiet",
        ],
        tmp_path,
    )
    assert run.returncode == 0, run.stderr
    assert not CHATTER.search(run.stderr), run.stderr
    assert json.loads(run.stdout)["rows"] == 30
