"""From recorded model calls to OpenAI chat requests, and from answers to decisions.

A recorded LLM span holds its input in canonical form (``Message`` with parts). A replay
sends the same context to another model as an OpenAI chat-completions request: system
instructions and messages, tool definitions and the sampling parameters.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..ingest.conventions._messages import any_message, maybe_json
from ..schema import Span

__all__ = ["Decision", "decision_of_completion", "decision_of_span", "openai_messages",
           "openai_request", "openai_tools"]

# Request parameters an OpenAI-compatible endpoint understands.
_PARAMETERS = ("temperature", "top_p", "max_tokens", "max_completion_tokens", "stop", "seed",
               "presence_penalty", "frequency_penalty", "n", "response_format",
               "tool_choice", "parallel_tool_calls", "logit_bias", "reasoning_effort")


def _dump(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _content_item(part: Any) -> dict[str, Any] | None:
    if part.type == "text":
        return {"type": "text", "text": part.content}
    if part.type == "uri" and (part.modality or "image") == "image":
        return {"type": "image_url", "image_url": {"url": part.uri}}
    if part.type == "blob" and (part.modality or "image") == "image":
        mime = part.mime_type or "image/png"
        return {"type": "image_url", "image_url": {"url": f"data:{mime};base64,{part.content}"}}
    return None


def _message(message: Any) -> list[dict[str, Any]]:
    """One canonical message as OpenAI chat messages (a tool turn may answer several calls)."""
    role = message.role
    responses = [p for p in message.parts if p.type == "tool_call_response"]
    if responses:
        return [{"role": "tool", "tool_call_id": p.id or "", "content": _dump(p.response)}
                for p in responses]
    items = [i for i in (_content_item(p) for p in message.parts) if i is not None]
    out: dict[str, Any] = {"role": role}
    if items and all(i["type"] == "text" for i in items):
        out["content"] = "".join(i["text"] for i in items)
    elif items:
        out["content"] = items
    else:
        out["content"] = None if role == "assistant" else ""
    calls = [p for p in message.parts if p.type == "tool_call"]
    if calls:
        out["tool_calls"] = [{"id": p.id or f"call_{i}", "type": "function",
                              "function": {"name": p.name, "arguments": _dump(p.arguments)}}
                             for i, p in enumerate(calls)]
    if message.name:
        out["name"] = message.name
    return [out]


def openai_messages(span: Span) -> list[dict[str, Any]]:
    """The recorded input of an LLM span as OpenAI chat messages."""
    d = span.detail
    out: list[dict[str, Any]] = []
    system = [p.content for p in d.system_instructions if p.type == "text"]
    if system:
        out.append({"role": "system", "content": "\n".join(system)})
    for message in d.input_messages:
        out.extend(_message(message))
    return out


def openai_tools(span: Span) -> list[dict[str, Any]]:
    """The recorded tool definitions as OpenAI ``tools``."""
    tools = []
    for t in span.detail.tool_definitions:
        fn: dict[str, Any] = {"name": t.name}
        if t.description is not None:
            fn["description"] = t.description
        if t.parameters is not None:
            fn["parameters"] = maybe_json(t.parameters)
        tools.append({"type": "function", "function": fn})
    return tools


def openai_request(span: Span, model: str) -> dict[str, Any]:
    """The chat-completions request reproducing a recorded model call for ``model``."""
    request: dict[str, Any] = {"model": model, "messages": openai_messages(span)}
    tools = openai_tools(span)
    if tools:
        request["tools"] = tools
    for key, value in span.detail.parameters.items():
        if key in _PARAMETERS:
            request[key] = maybe_json(value) if key in ("stop", "response_format") else value
    return request


@dataclass
class Decision:
    """What a model decided at one step: tool calls, or a text answer."""

    tool_calls: list[tuple[str, Any]] = field(default_factory=list)
    """``(name, arguments)`` in order; arguments parsed from JSON when possible."""
    text: str = ""
    call_ids: list[str | None] = field(default_factory=list)

    @property
    def kind(self) -> str:
        """``tool_calls`` or ``answer``."""
        return "tool_calls" if self.tool_calls else "answer"

    def summary(self, width: int = 120) -> str:
        """One line."""
        from .._text import short

        if self.tool_calls:
            return "; ".join(f"{n}({short(a, width)})" for n, a in self.tool_calls)
        return short(self.text, width) or "(empty)"

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {"kind": self.kind, "text": self.text,
                "tool_calls": [{"name": n, "arguments": a} for n, a in self.tool_calls]}


def _decision(message: dict[str, Any] | None) -> Decision:
    if not message:
        return Decision()
    canonical = any_message(message)
    d = Decision()
    for p in canonical["parts"]:
        if p["type"] == "tool_call":
            d.tool_calls.append((p["name"], p.get("arguments")))
            d.call_ids.append(p.get("id"))
        elif p["type"] == "text":
            d.text += p["content"]
    return d


def decision_of_span(span: Span) -> Decision:
    """The decision a recorded LLM span made (its last output message)."""
    outputs = span.detail.output_messages
    return _decision(outputs[-1].model_dump(exclude_none=True) if outputs else None)


def decision_of_completion(completion: dict[str, Any]) -> Decision:
    """The decision in an OpenAI chat completion (first choice)."""
    choices = completion.get("choices") or [{}]
    return _decision(choices[0].get("message"))
