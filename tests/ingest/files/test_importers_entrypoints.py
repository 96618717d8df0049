"""Other tools' run records through ``tracevault import`` and ``POST /api/import``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import load_json, shared

pytestmark = pytest.mark.shared_data


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tracevault", *args], capture_output=True,
                          text=True)


def test_cli_imports_a_who_and_when_record(tmp_path: Path) -> None:
    path = shared("who_and_when", "algorithm_generated", "1.json")
    history = load_json(path)["history"]
    store = str(tmp_path / "s.duckdb")
    proc = _run("import", "--store", store, str(path))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"{path}: {len(history) + 1} spans (who-and-when)"


def test_cli_rejects_an_unknown_file_with_exit_2_and_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"trajectory": "not a list", "history": []}')
    proc = _run("import", "--store", str(tmp_path / "s.duckdb"), str(bad))
    assert proc.returncode == 2, proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert "unrecognised trace file" in line and "SWE-agent" in line and "tau-bench" in line
    assert "Traceback" not in proc.stderr


def test_rest_import_of_an_eval_zip_and_a_who_and_when_record(app_client) -> None:
    body = shared("inspect_ai_logs", "log_read_sample.eval").read_bytes()
    r = app_client.post("/api/import", content=body, params={"project": "evals"})
    assert r.status_code == 200 and r.json()["format"] == "inspect-ai"
    traces = app_client.get("/api/traces", params={"project": "evals"}).json()["traces"]
    assert [t["root_name"] for t in traces] == ["popularity sample 1 epoch 1"]
    record = shared("who_and_when", "algorithm_generated", "1.json").read_bytes()
    r = app_client.post("/api/import", content=record, params={"project": "ww"})
    assert r.status_code == 200 and r.json()["format"] == "who-and-when"
    (trace,) = app_client.get("/api/traces", params={"project": "ww"}).json()["traces"]
    full = app_client.get(f"/api/traces/{trace['trace_id']}",
                          params={"project": "ww"}).json()
    root = next(s for s in full["spans"] if s["parent_span_id"] is None)
    assert root["attributes"]["tracevault.whowhen.mistake_agent"] == "Excel_Expert"
    assert "tracevault.whowhen.file" not in root["attributes"]  # a request body has no name
    bad = app_client.post("/api/import", content=b"PK\x03\x04 truncated")
    assert bad.status_code == 400 and ".eval" in bad.json()["message"]
