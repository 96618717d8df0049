"""The leak scenario: a card read by one agent reaches a webhook through another agent."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

import tracevault
from tracevault.analysis import check_policies, load_policy, policy_scores, render_incident
from tracevault.demo._leak import SECRET, run_leak

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def leak(tmp_path_factory):
    """Both variants recorded into one store: (store, rules file, {variant: run})."""
    root = tmp_path_factory.mktemp("leak")
    store = root / "leak.duckdb"
    runs = {v: run_leak(str(store), v, root / "work") for v in ("leak", "safe")}
    return store, runs["leak"].rules, runs


def _spans(vault, trace_id):
    return sorted(vault.trace(trace_id).spans, key=lambda s: s.start_time_ns)


def test_only_the_joined_group_breaks_the_rule(leak) -> None:
    store, rules, runs = leak
    run = runs["leak"]
    a, b = run.support_trace_id, run.notifier_trace_id
    assert a and b and a != b
    with tracevault.open(str(store), read_only=True) as vault:
        assert sorted(vault.group(a).trace_ids) == sorted([a, b])
        summaries = {t.trace_id: t for t in vault.traces()}
        assert summaries[a].agents == ["support"] and summaries[b].agents == ["notifier"]
        assert set(summaries[a].session_ids).isdisjoint(summaries[b].session_ids)
        # each agent's trace alone keeps the rule
        assert check_policies(vault, a, rules, joined=False) == []
        assert check_policies(vault, b, rules, joined=False) == []
        joined = check_policies(vault, a, rules)
        assert [v.to_dict() for v in check_policies(vault, b, rules)] == \
            [v.to_dict() for v in joined]
        spans_a, spans_b = _spans(vault, a), _spans(vault, b)
    read = next(s for s in spans_a if s.kind == "memory" and s.detail.keys == ["customer/card"])
    sent = next(s for s in spans_a if s.kind == "message" and s.detail.direction == "send")
    hook = next(s for s in spans_b if s.kind == "tool" and s.detail.name == "send_webhook")
    assert sent.detail.receiver == "notifier" and SECRET["number"] in sent.detail.content
    assert SECRET["number"].replace(" ", "") in hook.detail.arguments["payload"]
    assert len(joined) == 1
    v = joined[0]
    assert (v.rule, v.kind, v.span_id, v.trace_id) == ("card-stays-inside", "flow",
                                                       hook.span_id, b)
    assert [(p.span_id, p.trace_id, p.agent) for p in v.path] == [
        (read.span_id, a, "support"), (sent.span_id, a, "support"), (hook.span_id, b, "notifier")]
    assert v.agents == ["support", "notifier"]
    assert "customer/card" in v.message and "message support → notifier" in v.message
    assert SECRET["number"] not in v.message  # the report does not repeat the secret


def test_unrelated_content_does_not_violate(leak) -> None:
    store, rules, runs = leak
    run = runs["safe"]
    with tracevault.open(str(store), read_only=True) as vault:
        hook = next(s for s in _spans(vault, run.notifier_trace_id) if s.kind == "tool")
        sent = next(s for s in _spans(vault, run.support_trace_id)
                    if s.kind == "message" and s.detail.direction == "send")
        assert hook.detail.name == "send_webhook"
        assert SECRET["number"] in sent.detail.content  # the message itself is internal
        assert check_policies(vault, run.support_trace_id, rules) == []


def test_cli_single_trace_and_group(leak) -> None:
    store, rules, runs = leak
    base = [sys.executable, "-m", "tracevault", "policy", "check", "--rules", str(rules),
            "--store", str(store)]
    single = subprocess.run([*base, runs["leak"].notifier_trace_id, "--single"],
                            capture_output=True, text=True)
    assert single.returncode == 0, single.stderr
    assert "0 violation(s)" in single.stdout
    group = subprocess.run([*base, runs["leak"].notifier_trace_id], capture_output=True,
                           text=True)
    assert group.returncode == 1, group.stderr
    lines = group.stdout.splitlines()
    assert lines[0].startswith("checked 1 rule(s) on 2 trace(s)")
    assert [line.split(". ", 1)[1].split("  [")[0] for line in lines[2:]] == [
        "support: memory read shared: customer/card", "support: message support → notifier",
        "notifier: tool send_webhook"]


def test_incident_marks_the_latest_stored_result(leak, tmp_path) -> None:
    store, rules, runs = leak
    copy = tmp_path / "leak.duckdb"
    shutil.copy(store, copy)
    a = runs["leak"].support_trace_id
    with tracevault.open(str(copy)) as vault:
        group = vault.group(a)
        violations = check_policies(vault, a, rules)
        assert vault.incident(a).policy == []
        vault.add_scores(policy_scores(violations, rules, group.trace_ids))
        incident = vault.incident(a)
        hook, sent = violations[0].path[2].span_id, violations[0].path[1].span_id
        marks = {e.span_id: e.details.get("policy") for e in incident.entries}
        assert marks[hook][0]["role"] == "violation"
        assert marks[hook][0]["rule"] == "card-stays-inside"
        assert marks[sent][0]["role"] == "path"
        assert sum(1 for m in marks.values() if m) == 2
        assert [p["span_id"] for p in incident.policy[0]["path"]] == \
            [p.span_id for p in violations[0].path]
        text = render_incident(incident, "text")
        line = next(x for x in text.splitlines() if "[tool] notifier" in x)
        assert "⛔ POLICY VIOLATION: card-stays-inside" in line
        section = text.split("POLICY VIOLATIONS\n")[1].split("\n\n")[0].splitlines()
        assert section[0].startswith("  [flow] card-stays-inside: content of memory key")
        assert [x.strip().split(" ")[0] for x in section[1:]] == ["1.", "2.", "3."]
        assert violations[0].path[0].span_id in section[1]
        assert "Policy violations" in render_incident(incident, "md")
        page = render_incident(incident, "html")
        assert 'class="e tool flagged policy"' in page
        assert "<h2>Policy violations</h2>" in page and "<h2>Budget over time</h2>" in page
        assert json.loads(render_incident(incident, "json"))["policy"][0]["rule"] == \
            "card-stays-inside"
        # a later passing evaluation replaces it: the latest result counts
        vault.add_scores(policy_scores([], load_policy(rules), group.trace_ids))
        later = vault.incident(a)
        assert later.policy == [] and not any(e.details.get("policy") for e in later.entries)
        assert "POLICY" not in render_incident(later, "text")


def test_demo_command_runs_the_scenario(tmp_path) -> None:
    store = tmp_path / "s.duckdb"
    r = subprocess.run([sys.executable, "-m", "tracevault", "demo", "--scenario", "leak",
                        "--store", str(store), "--workdir", str(tmp_path / "w"), "--json"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    runs = json.loads(r.stdout)
    assert [x["variant"] for x in runs] == ["leak", "safe"]
    with tracevault.open(str(store), read_only=True) as vault:
        stored = {t.trace_id for t in vault.traces()}
        assert {x["support_trace_id"] for x in runs} | \
            {x["notifier_trace_id"] for x in runs} == stored
        assert len(check_policies(vault, runs[0]["support_trace_id"], runs[0]["rules"])) == 1
    with pytest.raises(ValueError, match="unknown leak variant"):
        run_leak(str(store), "loud", tmp_path / "w")
