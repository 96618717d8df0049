"""Reading what evaluators need out of a trace's spans: calls, tool runs, the final answer."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Call", "agent_of", "final_answer_text", "llm_calls", "message_text", "ordered",
           "run_failed", "tool_calls", "tool_runs", "value_text"]


@dataclass
class Call:
    """One tool call: its name and arguments, and where it was recorded."""

    name: str
    arguments: Any = None
    id: str | None = None
    agent: str | None = None
    time_ns: int = 0
    turn: int = 0
    """Index of the model response that requested it (calls of one response share it)."""
    failed: bool | None = None
    """Whether its execution failed (None when no execution was recorded)."""
    runs: list[Any] = field(default_factory=list)
    """The tool spans that executed it, in start order."""

    def as_dict(self) -> dict[str, Any]:
        """``{"name", "arguments"}``."""
        return {"name": self.name, "arguments": self.arguments}


def ordered(spans: Sequence[Any]) -> list[Any]:
    """Spans by start time (then span id)."""
    return sorted(spans, key=lambda s: (s.start_time_ns, s.span_id))


def agent_of(span: Any) -> str | None:
    """The name of the agent acting in a span."""
    return span.agent.name if span.agent is not None else None


def value_text(value: Any) -> str:
    """A JSON value as text (strings as they are)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def message_text(message: Any) -> str:
    """The text parts of a message, joined by newlines."""
    return "\n".join(p.content for p in message.parts if p.type == "text" and p.content)


def llm_calls(spans: Sequence[Any], agent: str | None = None) -> list[Any]:
    """Model-call spans in start order, of one agent when ``agent`` is given."""
    return [s for s in ordered(spans) if s.kind == "llm"
            and (agent is None or agent_of(s) == agent)]


def tool_runs(spans: Sequence[Any], agent: str | None = None) -> list[Any]:
    """Tool spans in start order, of one agent when ``agent`` is given."""
    return [s for s in ordered(spans) if s.kind == "tool"
            and (agent is None or agent_of(s) == agent)]


def run_failed(span: Any) -> bool:
    """True when a tool span failed, errored or was blocked."""
    d = span.detail
    return span.status.code == "error" or bool(d.error) or bool(d.blocked)


def tool_calls(spans: Sequence[Any], agent: str | None = None,
               source: str = "llm") -> list[Call]:
    """The ordered tool calls of a trace.

    ``source="llm"``: the calls the model requested in its responses (one turn per
    response), each paired with the tool spans that executed it; ``source="tools"``:
    the tool spans themselves (one turn per execution, retries included).
    """
    if source == "tools":
        return [Call(s.detail.name or s.name, s.detail.arguments, s.detail.call_id, agent_of(s),
                     s.start_time_ns, i, run_failed(s), [s])
                for i, s in enumerate(tool_runs(spans, agent))]
    calls: list[Call] = []
    for turn, span in enumerate(llm_calls(spans, agent)):
        for message in span.detail.output_messages:
            for part in message.parts:
                if part.type == "tool_call":
                    calls.append(Call(part.name, part.arguments, part.id, agent_of(span),
                                      span.end_time_ns, turn))
    _pair_runs(calls, tool_runs(spans))
    return calls


def _pair_runs(calls: list[Call], runs: list[Any]) -> None:
    """Attach to each call the tool spans that ran it (by call id, then by time).

    A call id may be reused within a run; the executions of a request are those that
    started after it and before the next request with the same id.
    """
    by_id: dict[str, list[Any]] = {}
    for run in runs:
        if run.detail.call_id:
            by_id.setdefault(run.detail.call_id, []).append(run)
    requests: dict[str, list[Call]] = {}
    for call in calls:
        if call.id:
            requests.setdefault(call.id, []).append(call)
    for call_id, same in requests.items():
        spans = by_id.get(call_id, [])
        for k, call in enumerate(same):
            until = same[k + 1].time_ns if k + 1 < len(same) else None
            mine = [s for s in spans if (k == 0 or s.start_time_ns >= call.time_ns)
                    and (until is None or s.start_time_ns < until)]
            call.runs = mine
            call.failed = all(run_failed(s) for s in mine) if mine else None


def root_agent_span(spans: Sequence[Any], agent: str | None = None) -> Any | None:
    """The outermost agent span (of ``agent``: its last invocation), if any."""
    agents = [s for s in ordered(spans) if s.kind == "agent"]
    if agent is not None:
        mine = [s for s in agents if agent_of(s) == agent]
        return mine[-1] if mine else None
    ids = {s.span_id: s for s in spans}
    for span in agents:
        parent, nested = ids.get(span.parent_span_id or ""), False
        while parent is not None:
            if parent.kind == "agent":
                nested = True
                break
            parent = ids.get(parent.parent_span_id or "")
        if not nested:
            return span
    return None


def final_answer_text(spans: Sequence[Any], agent: str | None = None) -> str | None:
    """The root agent's output, else the last model output text (None when neither)."""
    root = root_agent_span(spans, agent)
    if root is not None and root.detail.output is not None:
        return value_text(root.detail.output)
    for span in reversed(sorted(llm_calls(spans, agent), key=lambda s: s.end_time_ns)):
        texts = [message_text(m) for m in span.detail.output_messages]
        text = "\n".join(t for t in texts if t)
        if text:
            return text
    return None
