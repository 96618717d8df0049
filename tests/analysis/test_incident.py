"""Incident timelines and the joined cross-agent view on the demo's failing run."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import tracevault
from tracevault.analysis import FORMATS, render_incident

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def failing(demo_store):
    store, runs = demo_store
    bad = next(r for r in runs if r.variant == "bad_research")
    return store, bad.trace_id


def _index(entries, predicate) -> int:
    found = [i for i, e in enumerate(entries) if predicate(e)]
    assert found, "entry not in the timeline"
    return found[0]


def test_incident_tells_the_story_in_order(failing) -> None:
    store, trace_id = failing
    with tracevault.open(str(store), read_only=True) as vault:
        incident = vault.incident(trace_id)
    e = incident.entries
    assert incident.status == "error"
    assert incident.agents == ["coder", "planner", "researcher"]
    assert incident.services == ["demo-coder", "demo-team"]
    assert [x.time_ns for x in e] == sorted(x.time_ns for x in e)
    docs = _index(e, lambda x: x.kind == "tool" and x.title.startswith("search_docs"))
    bad = _index(e, lambda x: x.kind == "decision" and "version 1" in x.title)
    noted = _index(e, lambda x: x.kind == "memory" and "notes/schema" in x.title)
    sent = _index(e, lambda x: x.kind == "message" and x.title.startswith("planner → coder"))
    write = _index(e, lambda x: x.kind == "tool" and x.title.startswith("write_file"))
    failed = _index(e, lambda x: x.kind == "tool" and x.title.startswith("run_tests")
                    and "2 failed" in x.title)
    end = _index(e, lambda x: x.kind == "error" and x.agent == "planner")
    assert docs < bad < noted < sent < write < failed < end
    decision = e[bad]
    assert decision.agent == "researcher" and decision.service == "demo-team"
    assert decision.title.startswith("answered: Use config schema version 1")
    assert any("version 2 (current)" in line for line in decision.context)
    assert decision.details["model"] == "demo-model-bad_research"
    # across the process boundary: the coder ran in its own process
    assert e[write].agent == "coder" and e[write].service == "demo-coder"
    assert e[write].flagged and "SCHEMA_VERSION = 1" in e[write].title
    retry = _index(e, lambda x: x.kind == "retry")
    assert e[retry].agent == "coder" and "step 2 (retry 1)" in e[retry].title
    assert [p["steps"] for p in incident.budget["coder"]] == [8, 7, 6, 5, 5]


def test_context_is_summarised_and_full_on_request(failing) -> None:
    store, trace_id = failing
    with tracevault.open(str(store), read_only=True) as vault:
        short = vault.incident(trace_id)
        full = vault.incident(trace_id, full=True)
    last = [x for x in short.entries if x.kind == "decision" and x.agent == "coder"][-1]
    assert any("earlier messages" in line for line in last.context)
    last_full = [x for x in full.entries if x.kind == "decision" and x.agent == "coder"][-1]
    assert len(last_full.context) == last_full.details["input_messages"] == 8
    assert not any("earlier messages" in line for line in last_full.context)
    assert any("SCHEMA_VERSION = 1" in line and "timeout_s must not be negative" in line
               for line in last_full.context)


def test_flag_patterns_are_configurable(failing) -> None:
    store, trace_id = failing
    with tracevault.open(str(store), read_only=True) as vault:
        incident = vault.incident(trace_id, flags=["run_*"])
    assert {x.title.split("(")[0] for x in incident.flagged} == {"run_tests"}


def test_report_formats(failing, tmp_path) -> None:
    store, trace_id = failing
    with tracevault.open(str(store), read_only=True) as vault:
        incident = vault.incident(trace_id)
    for fmt in FORMATS:
        text = render_incident(incident, fmt)
        assert "Use config schema version 1" in text and "researcher" in text, fmt
    html = render_incident(incident, "html")
    assert html.startswith("<!doctype html>") and "http://" not in html \
        and "https://" not in html and "<script" not in html
    assert "version 2 (current)" in html and "⚠ flagged" in html
    md = render_incident(incident, "md")
    assert md.startswith("# Incident timeline") and "## Budget over time" in md
    data = json.loads(render_incident(incident, "json"))
    assert data["trace_ids"] == [trace_id] and data["entries"]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tracevault", *args], capture_output=True,
                          text=True)


def test_cli_incident_and_joined_view(failing, tmp_path) -> None:
    store, trace_id = failing
    proc = _cli("incident", trace_id, "--store", str(store))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    bad = next(i for i, x in enumerate(lines)
               if "researcher @demo-team: answered: Use config schema version 1" in x)
    assert "version 2 (current)" in "\n".join(lines[bad:bad + 6])
    write = next(i for i, x in enumerate(lines) if "coder @demo-coder: write_file" in x)
    assert bad < write and "FLAGGED" in lines[write]
    out = tmp_path / "incident.html"
    proc = _cli("incident", trace_id, "--store", str(store), "--format", "html", "-o", str(out))
    assert proc.returncode == 0 and out.read_text().startswith("<!doctype html>")
    proc = _cli("traces", "show", trace_id, "--joined", "--store", str(store))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "group of 1 trace(s)"
    assert "planner → researcher ×1" in lines[2] and "coder → planner ×1" in lines[2]
    bad = next(i for i, x in enumerate(lines)
               if "researcher @demo-team" in x and "answered: Use config schema version 1" in x)
    write = next(i for i, x in enumerate(lines) if "coder @demo-coder" in x and "write_file" in x)
    sent = next(i for i, x in enumerate(lines) if "planner → coder:" in x)
    assert bad < sent < write
    proc = _cli("incident", "0" * 32, "--store", str(store))
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "not found" in proc.stderr
