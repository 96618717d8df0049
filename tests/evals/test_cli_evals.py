"""``tracevault eval`` / ``eval ls`` / ``eval compare`` / ``scores ls`` on a demo copy."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from tracevault.cli import main

from ._demo import writable_copy

pytestmark = pytest.mark.slow

DONE = '{"expected": "Done", "mode": "contains"}'


@pytest.fixture
def store(demo_store, tmp_path):
    return str(writable_copy(demo_store, tmp_path))


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_eval_table_then_json(store) -> None:
    out = run("eval", "--store", store, "-e", "tool_error_rate", "-e", f"final_answer:{DONE}",
              "--run-id", "cli1")
    assert out.exit_code == 0, out.output
    assert "eval run cli1: 3 trace(s), 6 score(s) stored" in out.output
    row = next(line for line in out.output.splitlines() if line.strip().startswith("final_"))
    assert row.split()[:5] == ["final_answer", "3", "0.6667", "66.7%", "1"]
    data = json.loads(run("eval", "--store", store, "-e", "step_limit", "--run-id", "cli2",
                          "--filter", "trace.status = error", "--json").stdout)
    assert data["run_id"] == "cli2" and data["traces"] == 1 and data["stored"] == 1
    assert data["summary"][0]["name"] == "step_limit" and data["summary"][0]["mean"] == 9.0


def test_scores_ls_and_compare(store) -> None:
    assert run("eval", "--store", store, "-e", f"final_answer:{DONE}", "--run-id", "a",
               "--json").exit_code == 0
    assert run("eval", "--store", store, "--run-id", "b", "--json", "-e",
               'final_answer:{"expected": "Done|Failed", "mode": "regex"}').exit_code == 0
    rows = json.loads(run("scores", "ls", "--store", store, "--run-id", "a", "--json").stdout)
    assert len(rows) == 3 and {r["name"] for r in rows} == {"final_answer"}
    bad = next(r for r in rows if r["passed"] is False)
    one = json.loads(run("scores", "ls", "--store", store, "--trace", bad["trace_id"].upper(),
                         "--name", "final_answer", "--json").stdout)
    assert {r["run_id"] for r in one} == {"a", "b"}
    table = run("scores", "ls", "--store", store, "--run-id", "b").output
    assert table.count("final_answer") == 3 and "matches (regex)" in table
    cmp = json.loads(run("eval", "compare", "a", "b", "--store", store, "--json").stdout)
    assert cmp["scores"][0]["pass_rate_delta"] == pytest.approx(1 / 3)
    assert [c["change"] for c in cmp["changes"]] == ["fixed"]
    text = run("eval", "compare", "a", "b", "--store", store).output
    assert "a → b" in text and "+33.3%" in text and "fixed" in text
    assert "no scores match" in run("scores", "ls", "--store", store, "--run-id", "zz").output


def test_eval_ls_lists_the_built_ins() -> None:
    rows = json.loads(run("eval", "ls", "--json").stdout)
    names = {r["name"] for r in rows}
    assert {"trajectory_match", "tool_error_rate", "tool_loops", "step_limit", "budget",
            "latency", "cost", "final_answer", "llm_judge"} <= names
    judge = next(r for r in rows if r["name"] == "llm_judge")
    assert judge["arguments"].startswith("rubric, model, base_url=None")


@pytest.mark.parametrize("args, message", [
    (["-e", "nope"], "error: unknown evaluator 'nope'"),
    (["-e", "final_answer:{oops"], "error: arguments of evaluator 'final_answer' are not valid"),
    (["-e", 'final_answer:{"mode": "exact"}'], "error: evaluator 'final_answer' needs"),
    (["-e", 'trajectory_match:{"reference": [], "mode": "loose"}'],
     "error: unknown trajectory mode 'loose'"),
    ([], "error: give at least one --evaluator"),
    (["-e", "cost", "--filter", "kind = = tool"], "error: column 8"),
])
def test_bad_input_exits_2_with_one_line(store, args, message) -> None:
    proc = subprocess.run([sys.executable, "-m", "tracevault", "eval", "--store", store, *args],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.startswith(message) and len(proc.stderr.strip().splitlines()) == 1


def test_missing_store_and_unknown_run(tmp_path, store) -> None:
    out = run("eval", "--store", str(tmp_path / "none.duckdb"), "-e", "cost")
    assert out.exit_code == 2 and "no store at" in out.output
    out = run("eval", "compare", "x", "y", "--store", store)
    assert out.exit_code == 2 and "no scores recorded for eval run 'x'" in out.output
