"""Step replay: each recorded model call's context sent to another model."""

from __future__ import annotations

import json

import pytest

from tests.conftest import shared
from tracevault.analysis import span_agents
from tracevault.demo import script
from tracevault.ingest.conventions._messages import any_message
from tracevault.replay import CallableModel, openai_request
from tracevault.replay._step import llm_steps
from tracevault.testing import FakeModel

pytestmark = pytest.mark.slow


def test_same_model_agrees_other_model_differs_exactly_where_it_should(vault, good) -> None:
    trace = vault.trace(good.trace_id)
    steps = llm_steps(trace.spans)
    agents = span_agents(trace.spans)
    # the researcher's answer is the only decision the other script makes differently
    expected = [i for i, s in enumerate(steps) if agents[s.span_id] == "researcher"
                and not s.detail.output_messages[-1].parts[0].type == "tool_call"]
    assert len(expected) == 1
    with FakeModel(script("good")) as same, FakeModel(script("bad_research")) as other:
        a = vault.replay(good.trace_id, same.base_url)
        b = vault.replay(good.trace_id, other.base_url)
        requests = list(same.requests)
    assert a.differing == [] and a.first_divergence is None and len(a.steps) == len(steps)
    assert b.differing == expected and b.first_divergence == expected[0]
    step = b.steps[expected[0]]
    assert step.agent == "researcher" and "version 2" in step.original.text
    assert "version 1" in step.replayed.text
    # the model received exactly the recorded context
    for span, request in zip(steps, requests, strict=True):
        recorded = [m.model_dump(exclude_none=True) for m in span.detail.input_messages]
        assert [any_message(m) for m in request["messages"]] == json.loads(
            json.dumps(recorded))
        assert [t["function"]["name"] for t in request.get("tools", [])] == [
            t.name for t in span.detail.tool_definitions]
        assert request["temperature"] == span.detail.parameters["temperature"]


def test_replay_is_recorded_as_a_linked_trace(vault, good) -> None:
    with FakeModel(script("bad_research")) as other:
        report = vault.replay(good.trace_id, other.base_url)
    replay = vault.trace(report.replay_trace_id)
    root = replay.roots()[0]
    assert root.links[0].trace_id == good.trace_id
    assert root.links[0].attributes == {"tracevault.link.type": "replay_of"}
    llm = [s for s in replay.spans if s.kind == "llm"]
    assert len(llm) == len(report.steps)
    assert {s.detail.request_model for s in llm} == {"demo-model-bad_research"}
    marks = {s.attributes["tracevault.replay.step"]: s.attributes["tracevault.replay.same"]
             for s in replay.spans if "tracevault.replay.step" in s.attributes}
    assert [i for i, same in sorted(marks.items()) if not same] == report.differing
    # a replay is another run: it does not join the original's group
    assert vault.group(good.trace_id).trace_ids == [good.trace_id]
    found = vault.traces(filter=f'attr["tracevault.replay.of_trace"] = "{good.trace_id}"')
    assert [t.trace_id for t in found] == [report.replay_trace_id]


def test_comparisons_and_model_errors(vault, good) -> None:
    trace = vault.trace(good.trace_id)
    recorded = {json.dumps(openai_request(s, "x")["messages"]): s
                for s in llm_steps(trace.spans)}

    def echo(request):  # the recorded decision, with other arguments for search_docs
        span = recorded[json.dumps(request["messages"])]
        out = span.detail.output_messages[-1]
        calls = [{"name": p.name, "arguments": {"query": "something else"}
                  if p.name == "search_docs" else p.arguments}
                 for p in out.parts if p.type == "tool_call"]
        text = "".join(p.content for p in out.parts if p.type == "text")
        return {"content": text or None, "tool_calls": calls}

    normalized = vault.replay(good.trace_id, CallableModel(echo, "echo"), record=False)
    assert len(normalized.differing) == 1 and normalized.replay_trace_id is None
    assert normalized.steps[normalized.differing[0]].replayed.tool_calls[0][0] == "search_docs"
    tools = vault.replay(good.trace_id, echo, compare="tools", record=False)
    assert tools.differing == []

    def broken(request):
        raise RuntimeError("model unavailable")

    failed = vault.replay(good.trace_id, broken, record=False)
    assert failed.first_divergence == 0 and len(failed.differing) == len(failed.steps)
    assert failed.steps[0].error == "RuntimeError: model unavailable"


def test_step_replay_of_an_imported_openinference_trace(tmp_path) -> None:
    import tracevault

    path = shared("agent_prism_otlp_openinference", "test_data_2.json")
    with tracevault.open(str(tmp_path / "s.duckdb")) as vault:
        assert vault.import_file(path)["format"] == "otlp-json"
        trace_id = vault.traces()[0].trace_id
        steps = llm_steps(vault.trace(trace_id).spans)
        assert len(steps) == 6
        answers = {json.dumps(openai_request(s, "x")["messages"]): s for s in steps}
        changed = steps[3].span_id

        def model(request):  # the recorded answer, except at step 3
            span = answers[json.dumps(request["messages"])]
            if span.span_id == changed:
                return "something else entirely"
            out = span.detail.output_messages[-1]
            return {"content": "".join(p.content for p in out.parts if p.type == "text")
                    or None,
                    "tool_calls": [{"name": p.name, "arguments": p.arguments}
                                   for p in out.parts if p.type == "tool_call"]}

        report = vault.replay(trace_id, model)
        assert report.differing == [3]
        assert vault.trace(report.replay_trace_id).summary.llm_count == 6
