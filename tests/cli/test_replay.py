"""``tracevault replay`` and ``tracevault diff`` from the command line."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from tracevault.demo import script
from tracevault.testing import FakeModel

pytestmark = pytest.mark.slow


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "OPENAI_BASE_URL"}
    return subprocess.run([sys.executable, "-m", "tracevault", *args], capture_output=True,
                          text=True, env=env)


@pytest.fixture
def store(demo_store, tmp_path):
    path = tmp_path / "demo.duckdb"
    shutil.copy(demo_store[0], path)
    runs = {r.variant: r for r in demo_store[1]}
    return str(path), runs


def test_replay_step_and_trajectory(store) -> None:
    path, runs = store
    good = runs["good"].trace_id
    with FakeModel(script("bad_research")) as model:
        proc = _run("replay", good, "--model", model.base_url, "--store", path)
        assert proc.returncode == 0, proc.stderr
        assert "first divergence: step 2" in proc.stdout
        assert "replayed: Use config schema version 1" in proc.stdout
        replay_id = proc.stdout.strip().splitlines()[-1].split()[-1]
        proc = _run("replay", good, "--model", model.base_url, "--store", path, "--json",
                    "--mode", "trajectory", "--agent", "researcher", "--no-record",
                    "--check")
        assert proc.returncode == 1  # --check: a decision differs
        data = json.loads(proc.stdout)
        assert data["status"] == "completed" and data["first_divergence"] == 1
        assert data["replay_trace_id"] is None
    proc = _run("diff", good, replay_id, "--store", path, "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["equal_content"] is False
    proc = _run("diff", good, runs["bad_research"].trace_id, "--store", path)
    assert proc.returncode == 0 and "≠ researcher#1" in proc.stdout
    assert _run("diff", good, good, "--store", path, "--check").returncode == 0


def test_replay_errors_exit_2(store) -> None:
    path, runs = store
    good = runs["good"].trace_id
    proc = _run("replay", good, "--model", "http://127.0.0.1:9/v1", "--store", path)
    assert proc.returncode == 2 and proc.stderr.startswith("error: cannot list the models")
    assert proc.stderr.count("\n") == 1
    proc = _run("replay", "f" * 32, "--model", "http://127.0.0.1:9/v1", "--model-name", "m",
                "--store", path)
    assert proc.returncode == 2 and "not found" in proc.stderr
    proc = _run("replay", good, "--model", "gpt-x", "--store", path)
    assert proc.returncode == 2 and "OPENAI_BASE_URL" in proc.stderr
