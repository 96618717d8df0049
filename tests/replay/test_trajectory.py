"""Trajectory replay: an agent's loop re-run, tool calls answered from the recording."""

from __future__ import annotations

import pytest

from tracevault.analysis import span_agents
from tracevault.demo import script
from tracevault.testing import FakeModel

pytestmark = pytest.mark.slow


def _recorded_tools(trace, agent):
    agents = span_agents(trace.spans)
    return [s for s in sorted(trace.spans, key=lambda s: s.start_time_ns)
            if s.kind == "tool" and agents[s.span_id] == agent]


@pytest.mark.parametrize("agent", ["planner", "researcher", "coder"])
def test_same_model_reproduces_decisions_and_results(vault, good, agent) -> None:
    trace = vault.trace(good.trace_id)
    with FakeModel(script("good")) as model:
        report = vault.replay(good.trace_id, model.base_url, mode="trajectory", agent=agent)
    assert report.status == "completed" and report.first_divergence is None
    assert report.live_calls == 0 and all(t.source == "recorded" for t in report.tools)
    recorded = _recorded_tools(trace, agent)
    served = [t for t in report.tools for _ in range(t.attempts)]
    assert [(t.name, t.arguments) for t in served] == [
        (s.detail.name, s.detail.arguments) for s in recorded]
    assert [t.result for t in report.tools] == [
        s.detail.result for s in recorded if s.status.code != "error"]
    original_answer = [s for s in trace.spans if s.kind == "llm"
                       and span_agents(trace.spans)[s.span_id] == agent][-1]
    assert report.answer == original_answer.detail.output_messages[-1].parts[0].content
    if agent == "coder":  # the timed-out test run was retried, as the harness did
        assert [(t.name, t.attempts) for t in report.tools][-1] == ("run_tests", 2)
    replay = vault.trace(report.replay_trace_id)
    assert replay.summary.tool_count == len(recorded)
    assert replay.summary.error_count == sum(s.status.code == "error" for s in recorded)


CURIOUS = {"model": "curious", "rules": [
    {"when": {"system_contains": "You are the coder", "turn": 0},
     "respond": {"tool_calls": [{"name": "read_file", "arguments": {"path": "tests.py"}}]}},
    {"when": {"system_contains": "You are the coder"}, "respond": "Looked at the tests."}]}


def test_other_model_stops_at_the_first_unrecorded_call(vault, good) -> None:
    with FakeModel(CURIOUS) as model:
        report = vault.replay(good.trace_id, model.base_url, mode="trajectory",
                              agent="coder")
    assert report.status == "diverged" and report.first_divergence == 0
    assert report.divergence == ('step 0: read_file({"path": "tests.py"}) was never recorded '
                                 "and no live tool was given for it")
    assert [(t.name, t.source) for t in report.tools] == [("read_file", "unrecorded")]
    assert report.live_calls == 0 and report.answer is None


def test_other_model_continues_with_a_live_tool(vault, good) -> None:
    calls = []

    def read_file(path, memory):  # live tools may read the memory as recorded
        calls.append((path, memory.stores["shared"]["notes/schema"][:27]))
        return "def test_parses_v2(): ..."

    with FakeModel(CURIOUS) as model:
        report = vault.replay(good.trace_id, model.base_url, mode="trajectory",
                              agent="coder", tools={"read_file": read_file})
    assert calls == [("tests.py", "Use config schema version 2")]
    assert report.status == "completed" and report.answer == "Looked at the tests."
    assert [(t.name, t.source, t.result) for t in report.tools] == [
        ("read_file", "live", "def test_parses_v2(): ...")]
    assert report.live_calls == 1


def test_exact_matching_and_max_steps(vault, good) -> None:
    loop = {"model": "loop", "rules": [{"when": {"system_contains": "researcher"},
                                        "respond": {"tool_calls": [{
                                            "name": "search_docs", "arguments": {
                                                "query": "config schema version"}}]}}]}
    with FakeModel(loop) as model:
        report = vault.replay(good.trace_id, model.base_url, mode="trajectory",
                              agent="researcher", max_steps=3, match="exact")
    # the one recorded search answers the first call; the second was never recorded
    assert report.status == "diverged" and [t.source for t in report.tools] == [
        "recorded", "unrecorded"]
