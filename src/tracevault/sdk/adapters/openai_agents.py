"""OpenAI Agents SDK: a tracing processor recording agents, model calls, tools, handoffs.

    from agents import add_trace_processor
    from tracevault.sdk.adapters.openai_agents import TracevaultProcessor
    add_trace_processor(TracevaultProcessor())

With a Chat Completions model every generation is recorded with its full input and
output; with the Responses API the SDK reports usage and the response id only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from agents.tracing import Span, Trace, TracingProcessor
from agents.tracing.span_data import (
    AgentSpanData,
    FunctionSpanData,
    GenerationSpanData,
    GuardrailSpanData,
    HandoffSpanData,
    ResponseSpanData,
    TurnSpanData,
)
from opentelemetry.trace import SpanKind

from .._config import flush
from ._spans import SpanTable, genai_messages, json_attr

__all__ = ["TracevaultProcessor"]


def _ns(iso: str | None) -> int | None:
    return int(datetime.fromisoformat(iso).timestamp() * 1e9) if iso else None


class TracevaultProcessor(TracingProcessor):
    """Records OpenAI Agents SDK traces as tracevault (OpenTelemetry GenAI) spans."""

    def __init__(self) -> None:
        self.table = SpanTable("tracevault.adapters.openai_agents")
        self._agents: dict[str, str] = {}

    def on_trace_start(self, trace: Trace) -> None:
        """Open the workflow's root span."""
        self.table.start(trace.trace_id, None, trace.name or "workflow",
                         {"tracevault.span.kind": "agent",
                          "gen_ai.operation.name": "invoke_workflow"})

    def on_trace_end(self, trace: Trace) -> None:
        """Close the root span."""
        self.table.end(trace.trace_id)

    def on_span_start(self, span: Span[Any]) -> None:
        """Open an OTel span under the parent span (or the trace's root)."""
        data = span.span_data
        attrs: dict[str, Any] = {}
        kind = SpanKind.INTERNAL
        if isinstance(data, AgentSpanData):
            name = f"invoke_agent {data.name}"
            attrs = {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": data.name}
            self._agents[span.span_id] = data.name
        elif isinstance(data, GenerationSpanData):
            name, kind = f"chat {data.model or ''}".strip(), SpanKind.CLIENT
            attrs = {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai"}
        elif isinstance(data, ResponseSpanData):
            name, kind = "responses", SpanKind.CLIENT
            attrs = {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai"}
        elif isinstance(data, FunctionSpanData):
            name = f"execute_tool {data.name}"
            attrs = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": data.name}
        elif isinstance(data, HandoffSpanData):
            name = "handoff"
            attrs = {"tracevault.span.kind": "message", "tracevault.message.direction": "send"}
        elif isinstance(data, GuardrailSpanData):
            name = f"guardrail {data.name}"
            attrs = {"tracevault.span.kind": "guardrail", "tracevault.guardrail.name": data.name}
        elif isinstance(data, TurnSpanData):
            name = f"turn {data.turn}"
            attrs = {"tracevault.span.kind": "step", "tracevault.step.index": data.turn,
                     "gen_ai.agent.name": data.agent_name}
        else:
            name = getattr(data, "name", None) or data.type
        parent = span.parent_id or span.trace_id
        agent = self._agents.get(span.parent_id or "")
        if agent and "gen_ai.agent.name" not in attrs:
            attrs["gen_ai.agent.name"] = agent
            self._agents[span.span_id] = agent
        self.table.start(span.span_id, parent, name, attrs, kind, _ns(span.started_at))

    def on_span_end(self, span: Span[Any]) -> None:
        """Record the span's content and close it."""
        data = span.span_data
        attrs: dict[str, Any] = {}
        if isinstance(data, GenerationSpanData):
            attrs["gen_ai.request.model"] = data.model
            attrs["gen_ai.input.messages"] = genai_messages(data.input)
            attrs["gen_ai.output.messages"] = genai_messages(data.output)
            for key, value in (data.model_config or {}).items():
                if isinstance(value, (str, int, float, bool)):
                    attrs[f"gen_ai.request.{key}"] = value
            usage = data.usage or {}
            attrs["gen_ai.usage.input_tokens"] = usage.get("input_tokens")
            attrs["gen_ai.usage.output_tokens"] = usage.get("output_tokens")
        elif isinstance(data, ResponseSpanData):
            if data.response is not None:
                attrs["gen_ai.response.id"] = data.response.id
                attrs["gen_ai.response.model"] = getattr(data.response, "model", None)
        elif isinstance(data, FunctionSpanData):
            attrs["gen_ai.tool.call.arguments"] = data.input
            attrs["gen_ai.tool.call.result"] = None if data.output is None \
                else json_attr(data.output)
        elif isinstance(data, HandoffSpanData):
            attrs["tracevault.message.sender"] = data.from_agent
            attrs["tracevault.message.receiver"] = data.to_agent
            attrs["tracevault.message.content"] = json_attr(
                {"handoff": data.to_agent, "from": data.from_agent})
        elif isinstance(data, GuardrailSpanData):
            attrs["tracevault.guardrail.decision"] = "block" if data.triggered else "allow"
        elif isinstance(data, AgentSpanData) and data.tools:
            attrs["tracevault.agent.tools"] = list(data.tools)
        error = None
        if span.error:
            error = f"{span.error.get('message')}: {span.error.get('data') or ''}".rstrip(": ")
        self.table.end(span.span_id, attrs, error, _ns(span.ended_at))

    def shutdown(self) -> None:
        """Flush spans to tracevault."""
        flush()

    def force_flush(self) -> None:
        """Flush spans to tracevault."""
        flush()
