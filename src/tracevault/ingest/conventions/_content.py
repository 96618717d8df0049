"""Content rules: which attributes carry messages, tools and payloads, per channel.

Each rule is ``(channel, form, keys, converter, kinds)``; the first rule whose attribute
is present fills the channel. ``form`` is ``list`` (a JSON-string or structured list,
one item per element), ``flat`` (a flattened ``prefix.N.*`` family) or ``text`` (scalar
attributes kept verbatim, with ``converter`` deriving the channel's value from them).
``kinds`` limits a rule to spans of those kinds (None: any kind).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._messages import (
    any_message,
    flat_group_message,
    maybe_json,
    part_from_chat_item,
    text_message,
    tool_definition,
)

__all__ = ["CONTENT_RULES", "FLAT_PREFIXES", "KNOWN_KEYS", "KNOWN_PREFIXES", "PAYLOAD_RULES"]


def _document(value: Any) -> dict[str, Any]:
    value = maybe_json(value)
    if isinstance(value, dict):
        doc = {k.removeprefix("document."): v for k, v in value.items()}
        if "metadata" in doc:
            doc["metadata"] = maybe_json(doc["metadata"])
        return doc
    return {"content": value}


def _completion(value: Any) -> list[dict[str, Any]]:
    value = maybe_json(value)
    if isinstance(value, list):
        return [any_message(v) for v in value]
    if isinstance(value, dict) and "text" in value:
        return [text_message("assistant", value["text"], value.get("finish_reason"))]
    if isinstance(value, dict):
        return [any_message(value)]
    return [text_message("assistant", value)]


def _vercel_output(text: Any = None, tool_calls: Any = None, obj: Any = None) -> list[Any]:
    parts: list[dict[str, Any]] = []
    if text:
        parts.append({"type": "text", "content": str(text)})
    if obj is not None:
        parts.append({"type": "text", "content": str(obj)})
    calls = maybe_json(tool_calls)
    if isinstance(calls, list):
        parts.extend(part_from_chat_item({"type": "tool-call", **c}) for c in calls
                     if isinstance(c, dict))
    return [{"role": "assistant", "parts": parts}] if parts else []


def _any_agent_output(value: Any) -> list[dict[str, Any]]:
    """any-agent's ``gen_ai.output`` on model calls: tool-call list or final text/JSON."""
    data = maybe_json(value)
    if isinstance(data, list) and data and all(isinstance(d, dict) and "tool.name" in d
                                               for d in data):
        parts = [{"type": "tool_call", "id": d.get("tool.id"), "name": str(d["tool.name"]),
                  "arguments": maybe_json(d.get("tool.args"))} for d in data]
        return [{"role": "assistant", "parts": parts}]
    return [text_message("assistant", value)]


def _messages_from_value(value: Any) -> list[dict[str, Any]]:
    data = maybe_json(value)
    if isinstance(data, dict) and isinstance(data.get("messages"), list):
        data = data["messages"]
    if isinstance(data, list) and all(isinstance(d, dict) for d in data):
        return [any_message(d) for d in data]
    return [text_message("user", value)]


def _output_from_value(value: Any) -> list[dict[str, Any]]:
    data = maybe_json(value)
    if isinstance(data, dict) and isinstance(data.get("choices"), list):
        out = []
        for choice in data["choices"]:
            if isinstance(choice, dict):
                msg = any_message({"message": choice.get("message") or {},
                                   "finish_reason": choice.get("finish_reason")})
                out.append(msg)
        return out
    if isinstance(data, dict) and "text" in data:
        return [text_message("assistant", data["text"], data.get("finish_reason"))]
    return [text_message("assistant", value)]


def _system(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) and "type" in value else part_from_chat_item(value)


Rule = tuple[str, str, tuple[str, ...], Callable[..., Any], frozenset[str] | None]
_LLM = frozenset({"llm"})

CONTENT_RULES: tuple[Rule, ...] = (
    ("input", "list", ("gen_ai.input.messages",), any_message, None),
    ("input", "flat", ("llm.input_messages.",), flat_group_message, None),
    ("input", "flat", ("gen_ai.prompt.",), flat_group_message, None),
    ("input", "list", ("gen_ai.prompt",), any_message, None),
    ("input", "list", ("ai.prompt.messages",), any_message, None),
    ("input", "text", ("input.value",), _messages_from_value, _LLM),
    ("input", "text", ("langfuse.observation.input",), _messages_from_value, _LLM),
    ("output", "list", ("gen_ai.output.messages",), any_message, None),
    ("output", "flat", ("llm.output_messages.",), flat_group_message, None),
    ("output", "flat", ("gen_ai.completion.",), flat_group_message, None),
    ("output", "text", ("gen_ai.completion",), _completion, None),
    ("output", "text", ("ai.response.text", "ai.response.toolCalls", "ai.response.object"),
     _vercel_output, None),
    ("output", "text", ("gen_ai.output",), _any_agent_output, _LLM),
    ("output", "text", ("output.value",), _output_from_value, _LLM),
    ("output", "text", ("langfuse.observation.output",), _output_from_value, _LLM),
    ("system", "list", ("gen_ai.system_instructions",), _system, None),
    ("tools", "list", ("gen_ai.tool.definitions",), tool_definition, None),
    ("tools", "flat", ("llm.tools.",), tool_definition, None),
    ("tools", "flat", ("llm.request.functions.",), tool_definition, None),
    ("tools", "list", ("ai.prompt.tools",), tool_definition, None),
    ("documents", "list", ("gen_ai.retrieval.documents",), _document, None),
    ("documents", "flat", ("retrieval.documents.",), _document, None),
)

_TOOL = frozenset({"tool"})
_NOT_LLM_TOOL = frozenset({"agent", "step", "guardrail", "other", "retrieval", "memory",
                           "message"})

# Payload channels: (channel, candidate keys in priority order, kinds).
PAYLOAD_RULES: tuple[tuple[str, tuple[str, ...], frozenset[str] | None], ...] = (
    ("tool.args", ("gen_ai.tool.call.arguments", "gen_ai.tool.args", "ai.toolCall.args",
                   "ai.toolCall.input", "traceloop.entity.input", "input.value",
                   "langfuse.observation.input"), _TOOL),
    ("tool.result", ("gen_ai.tool.call.result", "ai.toolCall.result", "ai.toolCall.output",
                     "gen_ai.output", "traceloop.entity.output", "output.value",
                     "langfuse.observation.output"), _TOOL),
    ("memory.values", ("tracevault.memory.values", "gen_ai.memory.content"), None),
    ("message.content", ("tracevault.message.content",), None),
    ("detail.input", ("tracevault.input", "input.value", "traceloop.entity.input",
                      "langfuse.observation.input"), _NOT_LLM_TOOL),
    ("detail.output", ("tracevault.output", "output.value", "traceloop.entity.output",
                       "gen_ai.output", "langfuse.observation.output"), _NOT_LLM_TOOL),
)

FLAT_PREFIXES = tuple(r[2][0] for r in CONTENT_RULES if r[1] == "flat")

# Keys inside mapped namespaces that are understood but need no column.
KNOWN_KEYS = frozenset({
    "llm.invocation_parameters", "input.mime_type", "output.mime_type",
    "openinference.span.kind", "traceloop.span.kind", "traceloop.entity.name",
    "traceloop.workflow.name", "llm.request.type", "tracevault.span.kind",
    "tracevault.project", "tracevault.harness.name", "tracevault.harness.version",
    "ai.operationId", "ai.model.id", "ai.model.provider", "ai.prompt", "ai.schema",
    "ai.value", "ai.values", "ai.embedding", "ai.embeddings", "ai.toolCall.name",
    "ai.toolCall.id", "tool.parameters", "tool.json_schema", "llm.system",
    "gen_ai.output.type", "gen_ai.token.type", "gen_ai.agent.description",
    "tracevault.input", "tracevault.output", "langfuse.observation.level",
    "langfuse.observation.prompt.name", "langfuse.observation.prompt.version",
    "langfuse.observation.model_parameters", "langfuse.trace.name", "langfuse.user.id",
    "langfuse.observation.completion_start_time", "langfuse.environment",
})
KNOWN_PREFIXES = (
    "llm.prompt_template.", "ai.telemetry.", "ai.settings.", "ai.request.", "ai.response.",
    "ai.usage.", "ai.stream.", "traceloop.association.properties.", "gen_ai.request.",
    "llm.token_count.", "llm.cost.", "langfuse.observation.usage_details.",
    "langfuse.observation.cost_details.",
    # labels and metadata kept by the importers of other tools' records (docs/conventions.md)
    "tracevault.taubench.", "tracevault.whowhen.", "tracevault.inspect.",
    "tracevault.sweagent.", "tracevault.import.", "tracevault.dataset.",
    "tracevault.experiment.",
)
