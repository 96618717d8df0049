"""Memory state at any step, rebuilt from the trace, equals what the demo really had."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import tracevault
from tracevault import QueryError

pytestmark = pytest.mark.slow


def test_memory_at_every_step_matches_the_demo(demo_store) -> None:
    store, runs = demo_store
    checked = 0
    with tracevault.open(str(store), read_only=True) as vault:
        for run in runs:
            dumps = [json.loads(x) for x in run.memory_dump.read_text().splitlines()]
            assert len(dumps) >= 8
            for d in dumps:
                point = f"{d['agent']}:{d['step']}:{d['retry']}"
                state = vault.memory(run.trace_id, at=point)
                assert state.stores.get("shared", {}) == d["state"], (run.run, point)
                checked += 1
            # AGENT:STEP is the step's last attempt
            last = [d for d in dumps if d["agent"] == "coder" and d["step"] == 2][-1]
            assert vault.memory(run.trace_id, at="coder:2").stores["shared"] == last["state"]
            # a time works too: just after each dump was taken
            for d in dumps:
                at_time = vault.memory(run.trace_id, at=d["time_ns"])
                assert at_time.stores.get("shared", {}) == d["state"]
            end = vault.memory(run.trace_id)
            # after its last step the planner records the outcome
            assert end.stores["shared"] == {**dumps[-1]["state"],
                                            "task/status": run.answer}
            assert [h["agent"] for h in end.history] == ["planner", "researcher", "coder",
                                                         "planner"]
    assert checked >= 24


def test_bad_points_are_query_errors(demo_store) -> None:
    store, runs = demo_store
    with tracevault.open(str(store), read_only=True) as vault:
        with pytest.raises(QueryError, match="ambiguous"):
            vault.memory(runs[0].trace_id, at="2")
        with pytest.raises(QueryError, match="no step"):
            vault.memory(runs[0].trace_id, at="coder:99")
        with pytest.raises(QueryError, match="cannot read the point"):
            vault.memory(runs[0].trace_id, at="yesterday-ish")
        assert vault.memory(runs[0].trace_id, at="researcher:0").stores == {
            "shared": {"task/goal": "Add input validation to parse_config in config.py "
                                    "and make the tests pass."}}


def test_cli_memory(demo_store) -> None:
    store, runs = demo_store
    bad = next(r for r in runs if r.variant == "bad_research")
    proc = subprocess.run([sys.executable, "-m", "tracevault", "memory", bad.trace_id,
                           "--at", "coder:1", "--store", str(store), "--json"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    shared = json.loads(proc.stdout)["stores"]["shared"]
    assert shared["notes/schema"].startswith("Use config schema version 1")
    assert "status/coder" not in shared
    proc = subprocess.run([sys.executable, "-m", "tracevault", "memory", bad.trace_id,
                           "--at", "nobody:1", "--store", str(store)],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stderr.startswith("error: no step")
    assert proc.stderr.count("\n") == 1
