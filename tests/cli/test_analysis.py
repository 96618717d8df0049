"""``tracevault sql`` and ``traces ls --filter`` from the command line."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tracevault", *args], capture_output=True,
                          text=True)


def test_traces_ls_filter(demo_store) -> None:
    store, runs = demo_store
    bad = next(r for r in runs if r.variant == "bad_research")
    proc = _run("traces", "ls", "--store", str(store), "--json", "--filter",
                'trace.status = error and agent = "coder" and tool ~ "run_*"')
    assert proc.returncode == 0, proc.stderr
    assert [t["trace_id"] for t in json.loads(proc.stdout)] == [bad.trace_id]


@pytest.mark.parametrize(("expr", "message"), [
    ("kind = = tool", "error: column 8: expected a value, found '='"),
    ("kind = tool and", "error: column 16: expression ends too early"),
    ("colour = red", "error: column 1: unknown field 'colour' (see docs/query.md for the list)"),
])
def test_filter_syntax_error_exits_2(demo_store, expr: str, message: str) -> None:
    proc = _run("traces", "ls", "--store", str(demo_store[0]), "--filter", expr)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == message + "\n"


def test_sql(demo_store) -> None:
    store = str(demo_store[0])
    proc = _run("sql", "SELECT agent, count(*) AS calls FROM tool_calls GROUP BY agent "
                       "ORDER BY agent", "--store", store, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert [r["agent"] for r in json.loads(proc.stdout)] == ["coder", "planner", "researcher"]
    proc = _run("sql", "SELECT kind, count(*) AS n FROM spans GROUP BY kind ORDER BY kind",
                "--store", store, "--format", "csv")
    assert proc.stdout.splitlines()[0] == '"kind","n"'
    proc = _run("sql", "SELECT trace_id, status FROM traces ORDER BY start_ns", "--store", store)
    assert proc.stdout.split()[:2] == ["trace_id", "status"] and "(3 rows)" in proc.stderr


@pytest.mark.parametrize("statement", [
    "DELETE FROM spans", "DROP TABLE blobs", "SELECT 1; DELETE FROM spans",
    "UPDATE spans SET name = 'x' WHERE true", "COPY spans TO 'out.csv'",
    "SELECT * FROM read_text('/etc/passwd')",
])
def test_sql_refuses_writes_exit_2(demo_store, statement: str) -> None:
    store = str(demo_store[0])
    count = "SELECT count(*) AS n FROM spans"
    before = _run("sql", count, "--store", store, "--format", "json").stdout
    proc = _run("sql", statement, "--store", store)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("error: read-only: ") and proc.stderr.count("\n") == 1
    assert _run("sql", count, "--store", store, "--format", "json").stdout == before
