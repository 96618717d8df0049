"""Policy rules at ingest: a real server checks the groups spans arrive in, in the background."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest

import tracevault
from tests.conftest import RunningServer
from tracevault import sdk
from tracevault.demo._leak import LEAK_RULES, run_leak
from tracevault.testing import free_port

pytestmark = pytest.mark.slow
RULE = "policy.card-stays-inside"


def _wait_for(url: str, predicate, timeout: float = 15.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        scores = httpx.get(f"{url}/api/scores", params={"source": "online", "name": RULE},
                           timeout=10).json()["scores"]
        if predicate(scores):
            return scores
        assert time.monotonic() < deadline, f"no such online score in {timeout}s: {scores}"
        time.sleep(0.2)


@pytest.fixture
def rules(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text(LEAK_RULES)
    return path


def test_the_leak_is_scored_online_and_shown_in_the_incident(store_path, rules,
                                                             tmp_path) -> None:
    with RunningServer(store_path, env={"TRACEVAULT_POLICY_RULES": str(rules)},
                       grpc=False) as srv:
        run = run_leak(srv.url, "leak", tmp_path / "work")
        sent = time.monotonic()
        scores = _wait_for(srv.url, lambda s: any(x["passed"] is False for x in s))
        assert time.monotonic() - sent < 10
        failing = [s for s in scores if s["passed"] is False]
        assert len(failing) == 1
        score = failing[0]
        with tracevault.open(srv.url) as vault:
            a = sorted(vault.trace(run.support_trace_id).spans, key=lambda s: s.start_time_ns)
            b = vault.trace(run.notifier_trace_id).spans
        read = next(s for s in a if s.kind == "memory")
        message = next(s for s in a if s.kind == "message")
        hook = next(s for s in b if s.kind == "tool" and s.detail.name == "send_webhook")
        assert (score["source"], score["trace_id"], score["span_id"]) == (
            "online", run.notifier_trace_id, hook.span_id)
        assert [(p["span_id"], p["agent"]) for p in score["metadata"]["path"]] == [
            (read.span_id, "support"), (message.span_id, "support"),
            (hook.span_id, "notifier")]
        assert sorted(score["metadata"]["group"]) == sorted([run.support_trace_id,
                                                             run.notifier_trace_id])
        text = httpx.get(f"{srv.url}/api/groups/{run.support_trace_id}/incident",
                         params={"format": "text"}, timeout=10).text
        line = next(x for x in text.splitlines() if "[tool] notifier" in x)
        assert "send_webhook" in line and "⛔ POLICY VIOLATION: card-stays-inside" in line
        assert "POLICY VIOLATIONS" in text and f"span {read.span_id}" in text
    assert "policy: 1 violation(s)" in srv.log.read_text()


def test_a_group_is_checked_again_when_new_spans_arrive(store_path, rules) -> None:
    with RunningServer(store_path, env={"TRACEVAULT_POLICY_RULES": str(rules)},
                       grpc=False) as srv:
        try:
            sdk.configure(srv.url, service_name="support-proc", batch=False)
            support = sdk.Recorder("support")
            with support.run(input="ticket") as root:
                card = support.memory("read", "customers", ["customer/card"],
                                      lambda: "4242 4242 4242 4242")
                envelope = support.send_message("notifier", f"new card {card}")
            a = format(root.get_span_context().trace_id, "032x")
            sdk.flush()
            first = _wait_for(srv.url, lambda s: any(x["trace_id"] == a for x in s))
            assert [(x["passed"], x["trace_id"]) for x in first] == [(True, a)]
            notifier = sdk.Recorder("notifier")
            with notifier.receive_message(envelope, link=True):
                with notifier.run(input="notify billing"):
                    notifier.tool_call("http_post", lambda url, body: 200,
                                       {"url": "https://billing.example", "body":
                                        "card=4242424242424242"})
            sdk.flush()
        finally:
            sdk.shutdown()
        scores = _wait_for(srv.url, lambda s: any(x["passed"] is False for x in s))
        failing = next(x for x in scores if x["passed"] is False)
        assert failing["created_ns"] > first[0]["created_ns"]
        assert failing["run_id"] != first[0]["run_id"]
        assert [p["agent"] for p in failing["metadata"]["path"]] == ["support", "support",
                                                                     "notifier"]
        incident = httpx.get(f"{srv.url}/api/groups/{a}/incident", timeout=10).json()
        assert [p["rule"] for p in incident["policy"]] == ["card-stays-inside"]
        marked = [e for e in incident["entries"] if e["details"].get("policy")]
        assert [(e["kind"], e["agent"]) for e in marked] == [("message", "support"),
                                                            ("tool", "notifier")]


@pytest.mark.parametrize("text, message", [
    ("rules:\n  - {name: leak, kind: flow, sources: {memory: [a]}}\n",
     "rule 'leak': field 'sinks': required"),
    ("rules:\n  - {name: odd, kind: quota, limits: {}}\n",
     "rule 'odd': field 'kind': unknown kind 'quota'"),
    ("rules: [\n", "not valid YAML"),
])
def test_a_bad_rule_file_stops_the_server_with_one_line(tmp_path, text, message) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    r = subprocess.run([sys.executable, "-m", "tracevault", "serve", "--store",
                        str(tmp_path / "s.duckdb"), "--port", str(free_port()),
                        "--grpc-port", "0"], capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, TRACEVAULT_POLICY_RULES=str(bad)))
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and str(bad) in lines[0], r.stderr
