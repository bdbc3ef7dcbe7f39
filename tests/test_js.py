"""The custom front-ends' own tests (Node's built-in runner, jsdom for the DOM) run with the suite."""

import shutil
import subprocess
from pathlib import Path

import pytest

JS = Path(__file__).parent.parent / "js"


def test_front_end_modules_pass_their_node_tests():
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js is needed for the front-end tests: apt-get install -y nodejs npm")
    if not (JS / "node_modules" / "jsdom").is_dir():
        pytest.fail("The front-end test dependencies are missing: run `npm ci` in js/ (make test does).")
    run = subprocess.run([node, "--test", "tests/"], cwd=JS, capture_output=True, text=True, timeout=120)
    summary = [line for line in run.stdout.splitlines() if line.startswith(("# pass", "# fail", "not ok"))]
    assert run.returncode == 0, "\n".join(summary) + "\n" + run.stdout[-4000:] + run.stderr[-2000:]
    assert "# fail 0" in summary
