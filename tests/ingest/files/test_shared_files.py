"""Real producer output in ../shared/data imports and maps to the right content."""

from collections import Counter

import pytest

import tracevault
from tests.conftest import load_json, shared

pytestmark = pytest.mark.shared_data


@pytest.fixture
def vault():
    v = tracevault.open(":memory:")
    yield v
    v.close()


def _spans(vault, path):
    report = vault.import_file(path)
    assert report["rejected"] == 0
    spans = []
    for t in vault.traces(limit=1000):
        spans += vault.trace(t.trace_id).spans
    return report, spans


def _kinds(spans):
    return Counter(s.kind for s in spans)


def test_openinference_openai_agent_loop(vault) -> None:
    report, spans = _spans(vault, shared("agent_prism_otlp_openinference", "test_data_2.json"))
    assert report["format"] == "otlp-json" and report["spans"] == 8
    assert _kinds(spans) == {"llm": 6, "other": 2}
    llm = [s for s in spans if s.kind == "llm"]
    first = min(llm, key=lambda s: s.start_time_ns)
    assert first.convention == "openinference"
    assert first.detail.input_messages[0].role == "user"
    assert first.detail.input_messages[0].parts[0].content.startswith("You are a world expert")
    assert first.detail.usage.reasoning_tokens == 896
    assert first.detail.usage.total_tokens == 2143
    assert first.detail.request_model == "o1"
    with_tools = [s for s in llm if s.detail.tool_definitions]
    assert with_tools and len(with_tools[0].detail.tool_definitions) == 9
    calls = [p for s in llm for m in s.detail.output_messages for p in m.parts
             if p.type == "tool_call"]
    assert calls and all(c.name for c in calls)
    assert any(s.detail.usage.cache_read_tokens for s in llm)


def test_openinference_langchain_agent_with_tools(vault) -> None:
    _, spans = _spans(vault, shared("agent_prism_otlp_openinference", "test_data_1.json.gz"))
    assert _kinds(spans) == {"agent": 10, "llm": 6, "tool": 2, "other": 11}
    tools = {s.detail.name: s.detail for s in spans if s.kind == "tool"}
    assert set(tools) == {"anonymized_search", "anonymized_extract"}
    # LangChain's instrumentation records the tool input as a Python repr, kept as sent.
    assert "latest AI trends 2024" in tools["anonymized_search"].arguments
    assert "output" in tools["anonymized_search"].result
    last = max((s for s in spans if s.name == "ChatCompletion"), key=lambda s: s.start_time_ns)
    roles = [m.role for m in last.detail.input_messages]
    assert roles == ["system", "user", "assistant", "tool", "assistant", "tool"]
    assert last.detail.input_messages[2].parts[-1].type == "tool_call"
    assert last.detail.input_messages[3].parts[0].type == "tool_call_response"
    assert len(last.detail.tool_definitions) == 2


def test_openinference_langchain_rag(vault) -> None:
    _, spans = _spans(vault, shared("agent_prism_otlp_openinference", "test_data_3.json"))
    assert _kinds(spans) == {"other": 16, "retrieval": 1, "llm": 1}
    retrieval = next(s for s in spans if s.kind == "retrieval")
    assert retrieval.detail.query == "what was meta's revenue in Q4 2023"
    assert len(retrieval.detail.documents) == 3
    assert "Meta Platforms" in retrieval.detail.documents[0].content
    llm = next(s for s in spans if s.kind == "llm")
    assert llm.detail.usage.input_tokens == 629 and llm.detail.output_messages


@pytest.mark.parametrize("name", ["langfuse-1.json", "langfuse-2.json.gz", "langfuse-3.json"])
def test_langfuse_exports(vault, name: str) -> None:
    report, spans = _spans(vault, shared("agent_prism_otlp_openinference", name))
    doc = load_json(shared("agent_prism_otlp_openinference", name))
    assert report["format"] == "langfuse" and report["spans"] == len(doc["observations"])
    gens = [s for s in spans if s.name == "ai.streamText.doStream"]
    answered = [s for s in gens if s.detail.input_messages]
    assert answered and answered[0].detail.input_messages[0].role == "system"
    assert answered[0].detail.response_model.startswith("gpt-5")
    assert answered[0].detail.usage.input_tokens > 1000
    assert all(s.session_id == doc["trace"]["sessionId"] for s in spans)
    tools = [s for s in spans if s.kind == "tool"]
    assert len(tools) == sum(o["type"] == "TOOL" for o in doc["observations"])
    for tool in tools:
        assert tool.detail.name == "searchLangfuseDocs" and tool.detail.arguments["query"]


@pytest.mark.parametrize("framework", ["AGNO", "GOOGLE", "LANGCHAIN", "LLAMA_INDEX", "OPENAI",
                                       "SMOLAGENTS", "TINYAGENT"])
def test_any_agent_genai_traces(vault, framework: str) -> None:
    path = shared("any_agent_genai_traces", f"{framework}_trace.json")
    doc = load_json(path)
    report, spans = _spans(vault, path)
    assert report["format"] == "otel-sdk-json" and report["spans"] == len(doc["spans"])
    ops = Counter(s["attributes"]["gen_ai.operation.name"] for s in doc["spans"])
    kinds = _kinds(spans)
    assert kinds["llm"] == ops["call_llm"] and kinds["tool"] == ops["execute_tool"]
    assert kinds["agent"] == ops["invoke_agent"] == 1
    agent = next(s for s in spans if s.kind == "agent")
    assert agent.agent.name == "any_agent"
    by_id = {s.span_id: s for s in spans}
    for s in spans:  # spans under the agent span inherit its agent
        p = s
        while p.parent_span_id in by_id:
            p = by_id[p.parent_span_id]
        if p is agent:
            assert s.agent is not None and s.agent.name == "any_agent"
    first_llm = min((s for s in spans if s.kind == "llm"), key=lambda s: s.start_time_ns)
    msgs = first_llm.detail.input_messages
    assert msgs[0].role == "system" and "America/New_York" in msgs[1].parts[0].content
    tool_calls = [p.name for s in spans if s.kind == "llm"
                  for m in s.detail.output_messages for p in m.parts if p.type == "tool_call"]
    assert "get_current_time" in tool_calls
    time_call = next(s for s in spans if s.kind == "tool" and s.detail.name == "get_current_time")
    assert time_call.detail.arguments == {"timezone": "America/New_York"}
    assert "2025" in str(time_call.detail.result)
    assert all(s.detail.usage.input_tokens for s in spans if s.kind == "llm")
    assert all(s.detail.cost_usd > 0 for s in spans if s.kind == "llm")


def test_vercel_ai_sdk_spans(vault) -> None:
    report, spans = _spans(vault, shared("openinference_fixtures", "vercel_v6_spans",
                                         "all-spans.json"))
    assert report["format"] == "otel-js-json" and report["spans"] == 10
    by_name = Counter((s.name, s.kind) for s in spans)
    assert by_name[("ai.generateText.doGenerate", "llm")] == 2
    assert by_name[("ai.streamText.doStream", "llm")] == 1
    assert by_name[("ai.embed.doEmbed", "llm")] == 1
    assert by_name[("ai.generateText", "other")] == 2
    chat = [s for s in spans if s.name == "ai.generateText.doGenerate"]
    multi = max(chat, key=lambda s: len(s.detail.input_messages))
    assert [m.role for m in multi.detail.input_messages] == ["system", "user", "assistant",
                                                             "user"]
    assert multi.detail.output_messages[0].parts[0].type == "text"
    stream = next(s for s in spans if s.name == "ai.streamText.doStream")
    assert stream.detail.usage.output_tokens == 112
