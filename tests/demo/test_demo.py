"""``tracevault demo`` records complete multi-agent traces, across processes."""

import json
import subprocess
import sys

import pytest

import tracevault
from tracevault.ingest.conventions._messages import any_message, tool_definition

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(demo_store):
    store, runs = demo_store
    with tracevault.open(str(store), read_only=True) as vault:
        traces = {r.trace_id: vault.trace(r.trace_id) for r in runs}
    return runs, traces


def test_runs_succeed_and_fail_as_scripted(demo) -> None:
    runs, traces = demo
    assert [r.ok for r in runs] == [True, False, True]
    assert [traces[r.trace_id].summary.status for r in runs] == ["ok", "error", "ok"]
    for r in runs:
        assert traces[r.trace_id].summary.agents == ["coder", "planner", "researcher"]


def test_llm_input_context_equals_what_the_model_received(demo) -> None:
    runs, traces = demo
    for run in runs:
        spans = sorted((s for s in traces[run.trace_id].spans if s.kind == "llm"),
                       key=lambda s: s.start_time_ns)
        assert len(spans) == len(run.model_requests)
        for span, request in zip(spans, run.model_requests, strict=True):
            stored = [m.model_dump(exclude_none=True) for m in span.detail.input_messages]
            sent = [any_message(m) for m in request["messages"]]
            assert stored == json.loads(json.dumps(sent))
            tools = [t.model_dump(exclude_none=True) for t in span.detail.tool_definitions]
            assert tools == [tool_definition(t) for t in request.get("tools", [])]
            assert span.detail.parameters == {"temperature": request["temperature"]}
            assert span.detail.usage.total_tokens and span.detail.cost_usd > 0


def test_tools_memory_messages_and_steps(demo) -> None:
    runs, traces = demo
    trace = traces[runs[0].trace_id]
    tools = [s for s in trace.spans if s.kind == "tool"]
    assert {s.detail.name for s in tools} == {"delegate", "search_docs", "read_file",
                                              "write_file", "run_tests"}
    assert all(s.detail.arguments is not None for s in tools)
    failed = [s for s in tools if s.status.code == "error"]
    assert [s.detail.name for s in failed] == ["run_tests"]
    assert "timed out" in failed[0].detail.error
    assert all(s.detail.result is not None for s in tools if s.status.code != "error")
    memory = [s for s in trace.spans if s.kind == "memory"]
    assert {(s.agent.name, s.detail.operation, tuple(s.detail.keys)) for s in memory} == {
        ("planner", "write", ("task/goal",)), ("planner", "write", ("task/status",)),
        ("researcher", "read", ("notes/schema",)), ("researcher", "write", ("notes/schema",)),
        ("coder", "read", ("notes/schema",)), ("coder", "write", ("status/coder",))}
    messages = [s for s in trace.spans if s.kind == "message"]
    pairs = {(s.detail.sender, s.detail.receiver, s.detail.direction) for s in messages}
    assert ("planner", "coder", "send") in pairs and ("coder", "planner", "receive") in pairs
    steps = [s for s in trace.spans if s.kind == "step"]
    assert all(s.harness.goal and s.harness.budget.tokens is not None
               and s.harness.budget.steps is not None for s in steps)
    retried = [s for s in steps if s.harness.retry_count]
    assert len(retried) == 1 and retried[0].agent.name == "coder"
    budgets = [s.harness.budget.tokens for s in sorted(steps, key=lambda s: s.start_time_ns)
               if s.agent.name == "planner"]
    assert budgets == sorted(budgets, reverse=True) and budgets[0] > budgets[-1]


def test_the_coder_process_is_part_of_the_same_causal_graph(demo) -> None:
    runs, traces = demo
    trace = traces[runs[1].trace_id]
    coder = [s for s in trace.spans if s.resource.service_name == "demo-coder"]
    main = {s.span_id: s for s in trace.spans if s.resource.service_name == "demo-team"}
    assert coder and main
    entry = [s for s in coder if s.parent_span_id in main]
    assert len(entry) == 1 and entry[0].name == "receive_message planner"
    assert main[entry[0].parent_span_id].name == "send_message coder"
    by_id = {s.span_id: s for s in trace.spans}
    for s in coder:  # every coder span reaches the planner's root through its parents
        p = s
        while p.parent_span_id:
            p = by_id[p.parent_span_id]
        assert p.agent.name == "planner"


def test_the_failing_run_shows_the_bad_decision(demo) -> None:
    runs, traces = demo
    trace = traces[runs[1].trace_id]
    research = [s for s in trace.spans if s.kind == "llm" and s.agent.name == "researcher"]
    answer = research[-1].detail.output_messages[0].parts[0].content
    seen = " ".join(str(p.model_dump()) for m in research[-1].detail.input_messages
                    for p in m.parts)
    assert "version 1" in answer and "version 2 (current)" in seen


def test_memory_dump_per_step(demo) -> None:
    runs, _ = demo
    lines = [json.loads(x) for x in runs[0].memory_dump.read_text().splitlines()]
    assert {x["agent"] for x in lines} == {"planner", "researcher", "coder"}
    assert all(x["trace_id"] == runs[0].trace_id for x in lines)
    coder = [x for x in lines if x["agent"] == "coder"]
    assert all(x["state"]["notes/schema"].startswith("Use config schema version 2")
               for x in coder)
    assert [x["step"] for x in coder] == [0, 1, 2, 2, 3]  # step 2 retried once


def test_cli_demo(tmp_path) -> None:
    proc = subprocess.run([sys.executable, "-m", "tracevault", "demo", "--store",
                           str(tmp_path / "d.duckdb"), "--json"], capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr
    runs = json.loads(proc.stdout)
    assert [r["ok"] for r in runs] == [True, False, True]
