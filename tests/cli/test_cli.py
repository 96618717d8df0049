"""The command line: thin shells over the library; errors exit 2 with one line."""

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from tests.conftest import shared
from tracevault import __version__
from tracevault.cli import main


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def filled(runner, store_path):
    result = runner.invoke(main, ["import", "--store", str(store_path),
                                  str(shared("any_agent_genai_traces", "OPENAI_trace.json")),
                                  str(shared("agent_prism_otlp_openinference",
                                             "test_data_2.json"))])
    assert result.exit_code == 0, result.output
    return store_path


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tracevault", *args], capture_output=True,
                          text=True)


def test_version(runner) -> None:
    assert __version__ in runner.invoke(main, ["--version"]).output


def test_import_reports_each_file(runner, store_path) -> None:
    path = shared("agent_prism_otlp_openinference", "langfuse-1.json")
    result = runner.invoke(main, ["import", "--store", str(store_path), "--json", str(path)])
    assert result.exit_code == 0
    report = json.loads(result.output)[0]
    assert report["format"] == "langfuse" and report["spans"] == 5


def test_traces_ls_table_and_json(runner, filled) -> None:
    out = runner.invoke(main, ["traces", "ls", "--store", str(filled)])
    assert out.exit_code == 0 and "invoke_agent [any_agent]" in out.output
    rows = json.loads(runner.invoke(main, ["traces", "ls", "--store", str(filled),
                                           "--json"]).output)
    assert len(rows) == 2 and {"trace_id", "span_count", "agents"} <= set(rows[0])
    only = json.loads(runner.invoke(main, ["traces", "ls", "--store", str(filled), "--json",
                                           "--agent", "any_agent"]).output)
    assert len(only) == 1


def test_traces_show_tree_and_json(runner, filled) -> None:
    rows = json.loads(runner.invoke(main, ["traces", "ls", "--store", str(filled), "--json",
                                           "--agent", "any_agent"]).output)
    tid = rows[0]["trace_id"]
    out = runner.invoke(main, ["traces", "show", tid, "--store", str(filled)])
    assert out.exit_code == 0
    lines = out.output.splitlines()
    assert lines[0].startswith(f"trace {tid}")
    assert lines[1].startswith("[agent] invoke_agent [any_agent]")
    assert any(line.startswith("  [tool] execute_tool get_current_time") and
               "America/New_York" in line for line in lines)
    assert any("[llm]" in line and "mistral" in line for line in lines)
    data = json.loads(runner.invoke(main, ["traces", "show", tid, "--store", str(filled),
                                           "--json"]).output)
    assert len(data["spans"]) == 6


def test_schema_export(runner, tmp_path) -> None:
    out = tmp_path / "schema.json"
    assert runner.invoke(main, ["schema", "export", "-o", str(out)]).exit_code == 0
    assert "Span" in json.loads(out.read_text())["$defs"]


@pytest.mark.parametrize("args, message", [
    (["traces", "ls", "--store", "/nonexistent/x.duckdb"], "no store at"),
    (["traces", "show", "f" * 32, "--store", "{store}"], "not found"),
    (["traces", "ls", "--since", "soonish", "--store", "{store}"], "ISO 8601"),
    (["traces", "ls", "--status", "meh", "--store", "{store}"], "meh"),
    (["import", "--store", "{store}", "{bad}"], "unrecognised trace file"),
    (["bogus-command"], "No such command"),
])
def test_errors_exit_2_with_one_line(filled, tmp_path, args, message) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"x": 1}')
    args = [a.format(store=filled, bad=bad) for a in args]
    proc = _run(*args)
    assert proc.returncode == 2, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert message in proc.stderr and "Traceback" not in proc.stderr
