"""The Recorder records complete content; hooks can change, redact and block actions."""

import pytest

from tracevault import sdk

TOOLS = [{"type": "function", "function": {"name": "get_weather", "description": "Weather.",
                                           "parameters": {"type": "object"}}}]


class Policy(sdk.Hook):
    """Redacts the api key from what is recorded and blocks deletions."""

    def __init__(self):
        self.seen = []

    def before_tool(self, call):
        call.redact("api_key")
        if call.name.startswith("delete"):
            call.block("destructive tools need approval")

    def after_tool(self, call):
        self.seen.append((call.name, call.result))


def test_one_hook_redacts_the_record_and_blocks_a_tool(recorded) -> None:
    policy = Policy()
    rec = sdk.Recorder("ops", hooks=[policy])
    received = {}

    def deploy(service, api_key):
        received.update(service=service, api_key=api_key)
        return "deployed"

    with rec.run():
        assert rec.tool_call("deploy", deploy, {"service": "web", "api_key": "sk-live-1"}) \
            == "deployed"
        with pytest.raises(sdk.ActionBlocked, match="need approval"):
            rec.tool_call("delete_db", lambda name: "gone", {"name": "prod"})
    assert received == {"service": "web", "api_key": "sk-live-1"}  # the tool got the key
    assert policy.seen == [("deploy", "deployed")]
    (trace,) = recorded()
    tools = {s.detail.name: s for s in trace.spans if s.kind == "tool"}
    assert tools["deploy"].detail.arguments == {"service": "web", "api_key": "[REDACTED]"}
    assert "sk-live-1" not in str(tools["deploy"].attributes)
    blocked = tools["delete_db"]
    assert blocked.detail.blocked and blocked.status.code == "error"
    assert "destructive tools need approval" in blocked.status.message
    assert blocked.detail.result is None


def test_model_call_records_the_full_context(recorded, weather_model) -> None:
    import openai

    client = openai.OpenAI(base_url=weather_model.base_url, api_key="x")
    rec = sdk.Recorder("bot", cost=lambda model, usage: usage["total_tokens"] * 1e-6)
    messages = [{"role": "system", "content": "Be brief."},
                {"role": "user", "content": "What is the weather in Paris?"}]
    with rec.run(), rec.step(0, goal="answer", budget=sdk.Budget(tokens=500, steps=3)):
        reply = rec.model_call(client.chat.completions.create, model="gpt-x",
                               messages=messages, tools=TOOLS, temperature=0.1, seed=7)
    assert reply.choices[0].message.tool_calls
    (trace,) = recorded()
    llm = next(s for s in trace.spans if s.kind == "llm")
    d = llm.detail
    assert [m.role for m in d.input_messages] == ["system", "user"]
    assert d.input_messages[1].parts[0].content == "What is the weather in Paris?"
    assert d.tool_definitions[0].name == "get_weather"
    assert d.parameters == {"temperature": 0.1, "seed": 7}
    assert d.output_messages[0].parts[0].name == "get_weather"
    assert d.finish_reasons == ["tool_calls"] and d.response_model == "fake-weather"
    assert d.usage.total_tokens == reply.usage.total_tokens
    assert d.cost_usd == pytest.approx(reply.usage.total_tokens * 1e-6)
    step = next(s for s in trace.spans if s.kind == "step")
    assert step.harness.goal == "answer" and step.harness.budget.tokens == 500
    assert llm.parent_span_id == step.span_id and llm.agent.name == "bot"


def test_memory_and_messages(recorded) -> None:
    store = {}
    alice, bob = sdk.Recorder("alice"), sdk.Recorder("bob")
    with alice.run():
        alice.memory("write", "kv", ["plan"], lambda: store.update(plan="v1"),
                     values={"plan": "v1"})
        assert alice.memory("read", "kv", ["plan"], lambda: store["plan"]) == "v1"
        envelope = alice.send_message("bob", {"please": "review"}, channel="chat")
    assert envelope["traceparent"] and envelope["receiver"] == "bob"
    with bob.receive_message(envelope) as content, bob.run():
        assert content == {"please": "review"}
    (trace,) = recorded()
    mem = [s for s in trace.spans if s.kind == "memory"]
    assert [(m.detail.operation, m.detail.keys, m.detail.values) for m in mem] == \
        [("write", ["plan"], {"plan": "v1"}), ("read", ["plan"], "v1")]
    send, recv = sorted((s for s in trace.spans if s.kind == "message"),
                        key=lambda s: s.start_time_ns)
    assert (send.detail.sender, send.detail.receiver, send.detail.direction) == \
        ("alice", "bob", "send")
    assert recv.parent_span_id == send.span_id and recv.detail.direction == "receive"
    assert send.detail.channel == "chat" and recv.detail.message_id == send.detail.message_id


def test_failures_are_recorded_and_reraised(recorded) -> None:
    rec = sdk.Recorder("a")

    def flaky():
        raise TimeoutError("slow")

    with pytest.raises(TimeoutError), rec.run():
        rec.tool_call("flaky", flaky, {})
    (trace,) = recorded()
    tool = next(s for s in trace.spans if s.kind == "tool")
    assert tool.status.code == "error" and tool.status.error_type == "TimeoutError"
    assert tool.detail.error == "slow"
    assert trace.summary.status == "error"


def test_decorators(recorded) -> None:
    @sdk.traced_tool
    def add(a: int, b: int = 2) -> int:
        """Add two numbers."""
        return a + b

    with sdk.agent_span("calc"), sdk.step_span(0, goal="sum", retry_count=1):
        assert add(1) == 3
    (trace,) = recorded()
    tool = next(s for s in trace.spans if s.kind == "tool")
    assert tool.detail.arguments == {"a": 1, "b": 2} and tool.detail.result == 3
    assert tool.detail.description == "Add two numbers." and tool.agent.name == "calc"
    step = next(s for s in trace.spans if s.kind == "step")
    assert step.harness.retry_count == 1
