"""Chat-format training data: model calls as OpenAI fine-tuning examples, redactable."""

from __future__ import annotations

import json

import orjson
import pytest

import tracevault
from tracevault._exceptions import ConfigError
from tracevault.exchange import export_chat_jsonl


def _read(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _paired(messages: list[dict]) -> None:
    """Every tool result answers an earlier call; every call but the last is answered."""
    calls: list[str] = []
    answered: set[str] = set()
    for m in messages:
        if m["role"] == "tool":
            assert m["tool_call_id"] in calls
            answered.add(m["tool_call_id"])
        for call in m.get("tool_calls", []):
            assert call["type"] == "function" and isinstance(call["function"]["arguments"], str)
            calls.append(call["id"])
    last = [c["id"] for c in messages[-1].get("tool_calls", [])]
    assert set(calls) - answered == set(last) - answered


def test_one_example_per_model_call_equal_to_the_recorded_requests(demo_store,
                                                                   tmp_path) -> None:
    path, runs = demo_store
    with tracevault.open(str(path), read_only=True) as vault:
        total = export_chat_jsonl(vault, tmp_path / "all.jsonl")
        assert total == sum(len(r.model_requests) for r in runs) == 27
        for run in runs:
            out = tmp_path / f"{run.run}.jsonl"
            assert export_chat_jsonl(vault, out, trace_ids=[run.trace_id]) == 9
            examples = _read(out)
            for example, request in zip(examples, run.model_requests, strict=True):
                assert set(example) == {"messages", "tools"}
                assert example["messages"][:-1] == request["messages"]
                assert example["tools"] == request["tools"]
                assert example["messages"][-1]["role"] == "assistant"
                _paired(example["messages"])
            # A call's output is what the next call of that conversation was sent.
            followed = 0
            for i, a in enumerate(examples):
                for b in examples[i + 1:]:
                    if b["messages"][:len(a["messages"]) - 1] == a["messages"][:-1]:
                        assert b["messages"][len(a["messages"]) - 1] == a["messages"][-1]
                        followed += 1
                        break
            assert followed == 6  # every call but each of the 3 agents' last
            planner_last = [e for e in examples
                            if e["messages"][0]["content"].startswith("You are the planner")][-1]
            assert planner_last["messages"][-1] == {"role": "assistant", "content": run.answer}
    assert len(_read(tmp_path / "all.jsonl")) == 27


def test_one_example_per_agent_run(demo_store, tmp_path) -> None:
    path, runs = demo_store
    with tracevault.open(str(path), read_only=True) as vault:
        assert export_chat_jsonl(vault, tmp_path / "runs.jsonl", per="run",
                                 trace_ids=[runs[0].trace_id]) == 3
        export_chat_jsonl(vault, tmp_path / "calls.jsonl", trace_ids=[runs[0].trace_id])
        agents = [s for s in vault.trace(runs[0].trace_id).spans if s.kind == "agent"]
    assert len({a.agent.name for a in agents}) == 3
    by_run = _read(tmp_path / "runs.jsonl")
    calls = _read(tmp_path / "calls.jsonl")
    for example in by_run:
        _paired(example["messages"])
        mine = [c for c in calls if c["messages"][0] == example["messages"][0]]
        assert mine[-1] == example  # the conversation up to the agent's last call
        for call in mine:
            assert example["messages"][:len(call["messages"])] == call["messages"]
    assert sorted(e["messages"][0]["content"][:20] for e in by_run) == \
        sorted({c["messages"][0]["content"][:20] for c in calls})


SECRET_MAIL = "jane.doe@example.com"
SECRET_KEY = "sk-proj-Abcdefghijklmnopqrstuvwxyz0123456789"


def _planted(tmp_path):
    messages = [
        {"role": "user", "parts": [{"type": "text",
                                    "content": f"Mail {SECRET_MAIL} the report."}]},
        {"role": "assistant", "parts": [{"type": "tool_call", "id": "c1", "name": "lookup",
                                         "arguments": {"who": SECRET_MAIL}}]},
        {"role": "tool", "parts": [{"type": "tool_call_response", "id": "c1",
                                    "response": f"key={SECRET_KEY}"}]},
    ]
    output = [{"role": "assistant", "parts": [{"type": "text", "content":
                                               f"Sent to {SECRET_MAIL}."}]}]
    attrs = {"gen_ai.operation.name": "chat", "gen_ai.request.model": "m",
             "gen_ai.input.messages": json.dumps(messages),
             "gen_ai.output.messages": json.dumps(output)}
    doc = {"resourceSpans": [{"resource": {}, "scopeSpans": [{"spans": [{
        "traceId": "1" * 32, "spanId": "2" * 16, "name": "chat m",
        "startTimeUnixNano": "1", "endTimeUnixNano": "2",
        "attributes": [{"key": k, "value": {"stringValue": v}} for k, v in attrs.items()]}]}]}]}
    (tmp_path / "planted.json").write_bytes(orjson.dumps(doc))
    vault = tracevault.open(str(tmp_path / "planted.duckdb"))
    vault.import_file(tmp_path / "planted.json")
    return vault


def test_redaction_leaves_nothing_of_the_planted_values(tmp_path) -> None:
    with _planted(tmp_path) as vault:
        export_chat_jsonl(vault, tmp_path / "plain.jsonl")
        export_chat_jsonl(vault, tmp_path / "all.jsonl", redact="all")
        export_chat_jsonl(vault, tmp_path / "mail.jsonl", redact=["email"])
        with pytest.raises(ConfigError):
            export_chat_jsonl(vault, tmp_path / "x.jsonl", redact="nonsense")
        with pytest.raises(ConfigError):
            export_chat_jsonl(vault, tmp_path / "x.jsonl", per="trace")
    plain = (tmp_path / "plain.jsonl").read_bytes()
    assert SECRET_MAIL.encode() in plain and SECRET_KEY.encode() in plain
    example = _read(tmp_path / "plain.jsonl")[0]
    assert [m["role"] for m in example["messages"]] == ["user", "assistant", "tool",
                                                        "assistant"]
    _paired(example["messages"])
    redacted = (tmp_path / "all.jsonl").read_bytes()
    for fragment in (SECRET_MAIL, "jane.doe", "example.com", SECRET_KEY, "Abcdefghij"):
        assert fragment.encode() not in redacted
    assert b"[REDACTED:email]" in redacted and b"[REDACTED:api_key]" in redacted
    mail_only = (tmp_path / "mail.jsonl").read_bytes()
    assert SECRET_MAIL.encode() not in mail_only and SECRET_KEY.encode() in mail_only
    calls = _read(tmp_path / "all.jsonl")[0]["messages"][1]["tool_calls"]
    assert json.loads(calls[0]["function"]["arguments"]) == {"who": "[REDACTED:email]"}
