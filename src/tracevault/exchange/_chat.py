"""Training data: recorded model calls as chat-format JSONL (OpenAI fine-tuning shape)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import orjson

from .._exceptions import ConfigError
from ..ingest._redact import Redactor
from ._records import select_traces

__all__ = ["chat_examples", "export_chat_jsonl", "openai_messages", "openai_tools"]

PER = ("llm", "run")


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _media(part: dict[str, Any]) -> dict[str, Any] | None:
    kind = part.get("type")
    if kind == "uri":
        return {"type": "image_url", "image_url": {"url": part["uri"]}}
    if kind == "blob":
        mime = part.get("mime_type") or "application/octet-stream"
        return {"type": "image_url",
                "image_url": {"url": f"data:{mime};base64,{part['content']}"}}
    if kind == "file":
        return {"type": "file", "file": {"file_id": part["file_id"]}}
    return None


class _CallIds:
    """Ids for tool calls recorded without one; results without an id answer the oldest."""

    def __init__(self) -> None:
        self.count = 0
        self.unanswered: list[str] = []

    def call(self, given: str | None) -> str:
        if given:
            return given
        self.count += 1
        self.unanswered.append(f"call_{self.count}")
        return self.unanswered[-1]

    def result(self, given: str | None) -> str:
        if given:
            return given
        return self.unanswered.pop(0) if self.unanswered else ""


def _message(msg: dict[str, Any], ids: _CallIds) -> list[dict[str, Any]]:
    """One GenAI message as OpenAI messages: its tool results first, then the message."""
    role = msg.get("role") or "user"
    texts: list[str] = []
    content: list[dict[str, Any]] = []
    tool_calls: list[dict[str, Any]] = []
    out: list[dict[str, Any]] = []
    for part in msg.get("parts") or []:
        kind = part.get("type")
        if kind == "text":
            texts.append(part.get("content") or "")
            content.append({"type": "text", "text": texts[-1]})
        elif kind == "tool_call":
            args = part.get("arguments")
            tool_calls.append({"id": ids.call(part.get("id")), "type": "function",
                               "function": {"name": part.get("name") or "",
                                            "arguments": _text({} if args is None else args)}})
        elif kind == "tool_call_response":
            response = part.get("response")
            out.append({"role": "tool", "tool_call_id": ids.result(part.get("id")),
                        "content": _text("" if response is None else response)})
        elif (media := _media(part)) is not None:
            content.append(media)
    if out and not content and not tool_calls:
        return out  # the message only carried tool results
    main: dict[str, Any] = {"role": role}
    if msg.get("name"):
        main["name"] = msg["name"]
    if len(content) > len(texts) or (len(texts) > 1 and role in ("user", "system")):
        main["content"] = content  # media, or several text parts kept apart
    elif texts:
        main["content"] = "".join(texts)
    elif not tool_calls:
        main["content"] = ""
    if tool_calls:
        main["tool_calls"] = tool_calls
    return out + [main]


def openai_messages(messages: Sequence[dict[str, Any]],
                    system: Sequence[dict[str, Any]] = ()) -> list[dict[str, Any]]:
    """GenAI messages (and system instruction parts) as OpenAI chat messages."""
    ids = _CallIds()
    out: list[dict[str, Any]] = []
    for msg in messages:
        out += _message(msg, ids)
    texts = [p.get("content") or "" for p in system if p.get("type") == "text"]
    if texts and not (out and out[0]["role"] in ("system", "developer")):
        out.insert(0, {"role": "system", "content": "\n".join(texts)})
    return out


def openai_tools(definitions: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Tool definitions as OpenAI ``tools`` entries."""
    out = []
    for d in definitions:
        if isinstance(d.get("function"), dict):
            out.append({"type": d.get("type") or "function", "function": d["function"]})
            continue
        function = {k: d[k] for k in ("name", "description", "parameters")
                    if d.get(k) is not None}
        out.append({"type": "function", "function": function})
    return out


def _llm_calls(spans: list[dict[str, Any]]) -> list[dict[str, Any]]:
    calls = []
    for s in spans:
        d = s["detail"]
        if s["kind"] == "llm" and d.get("operation") != "embeddings" and \
                (d.get("input_messages") or d.get("output_messages")):
            calls.append(s)
    return sorted(calls, key=lambda s: (s["start_time_ns"], s["span_id"]))


def _example(span: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]],
                                            list[dict[str, Any]]]:
    d = span["detail"]
    inputs = openai_messages(d.get("input_messages") or [], d.get("system_instructions") or [])
    outputs = openai_messages(d.get("output_messages") or [])
    return inputs, outputs, openai_tools(d.get("tool_definitions") or [])


def _run_of(span: dict[str, Any], by_id: dict[str, dict[str, Any]]) -> str:
    """The agent invocation a model call belongs to: its nearest agent-kind ancestor."""
    seen: set[str] = set()
    parent = span.get("parent_span_id")
    while parent and parent in by_id and parent not in seen:
        seen.add(parent)
        if by_id[parent]["kind"] == "agent":
            return parent
        parent = by_id[parent].get("parent_span_id")
    return "agent:" + str((span.get("agent") or {}).get("name"))


def chat_examples(spans: list[dict[str, Any]], per: str = "llm") -> Iterator[dict[str, Any]]:
    """Training examples of one trace's spans (schema v1 dicts)."""
    calls = _llm_calls(spans)
    if per == "llm":
        for span in calls:
            inputs, outputs, tools = _example(span)
            yield _shape(inputs + outputs, tools)
        return
    by_id = {s["span_id"]: s for s in spans}
    runs: dict[str, list[dict[str, Any]]] = {}
    for span in calls:
        runs.setdefault(_run_of(span, by_id), []).append(span)
    for run in runs.values():
        conversation: list[dict[str, Any]] | None = None
        tools: list[dict[str, Any]] = []
        for span in run:
            inputs, outputs, span_tools = _example(span)
            if conversation is not None and inputs[:len(conversation)] != conversation:
                yield _shape(conversation, tools)  # a new conversation starts here
                tools = []
            conversation = inputs + outputs
            tools += [t for t in span_tools if t not in tools]
        if conversation is not None:
            yield _shape(conversation, tools)


def _shape(messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> dict[str, Any]:
    return {"messages": messages, "tools": tools} if tools else {"messages": messages}


def _redactor(redact: str | Sequence[str] | None) -> Redactor | None:
    if redact is None or redact == "" or redact == []:
        return None
    redactor = Redactor.build(redact if isinstance(redact, str) else list(redact))
    if not redactor:
        raise ConfigError("redact: name detectors (email, phone, card, api_key, iban) or all")
    return redactor


def export_chat_jsonl(vault: Any, path: str | Path, per: str = "llm",
                      redact: str | Sequence[str] | None = None, *,
                      filter: str | None = None,  # noqa: A002
                      trace_ids: Sequence[str] | None = None, start: str | int | None = None,
                      end: str | int | None = None, project: str | None = None) -> int:
    """Write chat-format training examples of the matching traces; returns how many.

    ``per="llm"``: one example per model call (its whole input, then its output);
    ``per="run"``: one per agent invocation (its conversation up to its last call).
    ``redact`` (``"all"`` or detector names) replaces sensitive values by
    ``[REDACTED:<rule>]`` in every string of every example.
    """
    if per not in PER:
        raise ConfigError(f"per must be one of {', '.join(PER)}, not {per!r}")
    redactor = _redactor(redact)
    keys = select_traces(vault, filter=filter, trace_ids=trace_ids, start=start, end=end,
                         project=project)
    target = Path(path)
    tmp = target.with_name(target.name + ".tmp")
    count = 0
    with open(tmp, "wb") as out:
        for trace_project, trace_id in keys:
            spans = vault.store.get_trace(trace_project, trace_id)["spans"]
            for example in chat_examples(spans, per):
                if redactor is not None:
                    example = redactor.value(example, "example", {})
                out.write(orjson.dumps(example) + b"\n")
                count += 1
    tmp.replace(target)
    return count
