"""Incident timelines: the ordered story of a run, across agents and processes.

Every model decision with the context it saw, every tool call with its arguments and
result, memory changes, messages between agents, steps with the budget left, retries
and errors, in time order. Tool calls whose names match destructive or external-effect
patterns are flagged.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from .._text import message_text, short
from ..schema import Span

__all__ = ["DEFAULT_FLAGS", "Entry", "Incident", "build_incident", "span_agents"]

DEFAULT_FLAGS = ("delete*", "drop*", "remove*", "rm", "rm_*", "truncate*", "write*",
                 "overwrite*", "send*", "post*", "email*", "publish*", "deploy*", "transfer*",
                 "pay*", "purchase*", "exec*", "shell*", "kill*", "*_delete", "*_write")
"""Tool-name patterns flagged as destructive or with external effects (``fnmatch``,
case-insensitive). Replace them with ``flags=`` / ``--flag``."""

_SUMMARY_WIDTH = 240
_FULL_WIDTH = 1_000_000
_READS = {"read", "get", "search", "list", "query", "load"}


@dataclass
class Entry:
    """One event of the story."""

    time_ns: int
    kind: str
    """step, retry, decision, tool, memory, message or error."""
    agent: str | None
    """The agent that acted (the span's own, else its nearest ancestor's)."""
    title: str
    trace_id: str
    span_id: str
    service: str | None = None
    """``service.name`` of the process that recorded it."""
    flagged: bool = False
    """A tool call matching a destructive / external-effect pattern."""
    error: str | None = None
    context: list[str] = field(default_factory=list)
    """For decisions: the messages the model saw (summarised unless ``full``)."""
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class Incident:
    """A run's story: one trace or a whole trace group."""

    trace_ids: list[str]
    status: str
    agents: list[str]
    services: list[str]
    span_count: int
    start_ns: int
    end_ns: int
    entries: list[Entry]
    budget: dict[str, list[dict[str, Any]]]
    """Per agent, the budget left at each step, in time order."""
    flags: list[str] = field(default_factory=list)
    full: bool = False
    policy: list[dict[str, Any]] = field(default_factory=list)
    """Policy violations stored for these traces (rule, message, path); their spans'
    entries carry ``details["policy"]``."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return asdict(self)

    @property
    def flagged(self) -> list[Entry]:
        """The flagged tool calls."""
        return [e for e in self.entries if e.flagged]

    @property
    def errors(self) -> list[Entry]:
        """Entries that failed."""
        return [e for e in self.entries if e.error]


def span_agents(spans: Iterable[Span]) -> dict[str, str | None]:
    """Each span's acting agent: its own ``agent.name`` or its nearest ancestor's."""
    by_id = {s.span_id: s for s in spans}
    out: dict[str, str | None] = {}

    def agent_of(span: Span) -> str | None:
        chain = []
        current: Span | None = span
        found: str | None = None
        while current is not None and current.span_id not in out:
            chain.append(current.span_id)
            if current.agent is not None and current.agent.name:
                found = current.agent.name
                break
            current = by_id.get(current.parent_span_id or "")
        else:
            if current is not None:
                found = out[current.span_id]
        for sid in chain:
            out[sid] = found
        return found

    for span in by_id.values():
        agent_of(span)
    return out


def _context(messages: Sequence[Any], full: bool) -> list[str]:
    width = _FULL_WIDTH if full else _SUMMARY_WIDTH
    lines = [f"{m.role}: {short(message_text(m, width), width)}" for m in messages]
    if full or len(lines) <= 4:
        return lines
    first = 1 if messages[0].role in ("system", "developer") else 0
    hidden = len(lines) - first - 3
    return lines[:first] + [f"… {hidden} earlier messages (full context: --full)"] + lines[-3:]


def _decision(span: Span, full: bool) -> tuple[str, list[str], dict[str, Any]]:
    d = span.detail
    out = d.output_messages[-1] if d.output_messages else None
    calls = [p for p in (out.parts if out else []) if p.type == "tool_call"]
    if calls:
        title = "decided: " + "; ".join(f"{c.name}({short(c.arguments, 120)})" for c in calls)
    else:
        text = message_text(out) if out else ""
        title = f"answered: {short(text, _FULL_WIDTH if full else 200) or '(nothing)'}"
    details: dict[str, Any] = {"model": d.response_model or d.request_model,
                               "input_messages": len(d.input_messages),
                               "tokens": d.usage.total_tokens, "cost_usd": d.cost_usd}
    if d.finish_reasons:
        details["finish_reasons"] = d.finish_reasons
    return title, _context(d.input_messages, full), details


def _tool(span: Span, width: int, flags: Sequence[str]) -> tuple[str, bool, dict[str, Any]]:
    d = span.detail
    args = short(d.arguments, width)
    if d.blocked:
        title = f"{d.name}({args}) BLOCKED: {span.status.message or ''}".rstrip(": ")
    elif span.status.code == "error" or d.error:
        title = f"{d.name}({args}) failed: {short(d.error or span.status.message, width)}"
    else:
        title = f"{d.name}({args}) → {short(d.result, width)}"
    name = (d.name or "").lower()
    flagged = any(fnmatch.fnmatchcase(name, p.lower()) for p in flags)
    return title, flagged, {"arguments": d.arguments, "result": d.result,
                            "call_id": d.call_id, "blocked": d.blocked}


def _step(span: Span, agent: str | None,
          budget: dict[str, list[dict[str, Any]]]) -> tuple[str, str, dict[str, Any]]:
    h = span.harness
    assert h is not None
    b = h.budget
    point = {"time_ns": span.start_time_ns, "step": h.step_index, "retry": h.retry_count,
             "tokens": b.tokens, "cost_usd": b.cost_usd, "steps": b.steps,
             "time_s": b.time_s}
    budget.setdefault(agent or "?", []).append(point)
    left = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                     for k, v in (("tokens", b.tokens), ("cost_usd", b.cost_usd),
                                  ("steps", b.steps), ("time_s", b.time_s)) if v is not None)
    title = f"step {h.step_index}" if h.step_index is not None else span.name
    kind = "step"
    if h.retry_count:
        title += f" (retry {h.retry_count})"
        kind = "retry"
    if h.goal:
        title += f": {short(h.goal, 120)}"
    if left:
        title += f"  [budget left: {left}]"
    return kind, title, point


def build_incident(spans: Iterable[Span], *, full: bool = False,
                   flags: Sequence[str] = DEFAULT_FLAGS) -> Incident:
    """The story of the given spans (one trace or a whole group), in time order."""
    spans = sorted(spans, key=lambda s: (s.start_time_ns, s.span_id))
    agents = span_agents(spans)
    entries: list[Entry] = []
    budget: dict[str, list[dict[str, Any]]] = {}
    width = _FULL_WIDTH if full else 160
    for span in spans:
        agent = agents.get(span.span_id)
        d = span.detail
        kind, title, flagged = "", "", False
        context: list[str] = []
        details: dict[str, Any] = {}
        if span.kind == "llm":
            kind = "decision"
            title, context, details = _decision(span, full)
        elif span.kind == "tool":
            kind = "tool"
            title, flagged, details = _tool(span, width, flags)
        elif span.kind == "memory" and (d.operation or "").lower() not in _READS:
            kind = "memory"
            shown = d.values if d.values is not None else d.keys
            title = f"memory {d.operation} {d.store or ''}: {short(shown, width)}"
            details = {"store": d.store, "keys": d.keys, "values": d.values}
        elif span.kind == "message" and d.direction != "receive":
            kind = "message"
            title = f"{d.sender} → {d.receiver}: {short(d.content, width)}"
            details = {"sender": d.sender, "receiver": d.receiver, "channel": d.channel}
        elif span.harness is not None and span.harness.step_index is not None:
            kind, title, details = _step(span, agent, budget)
        elif span.status.code == "error":
            kind = "error"
            title = f"{span.name} failed: {span.status.message or span.status.error_type}"
        if not kind:
            continue
        error = None
        if span.status.code == "error":
            error = span.status.message or span.status.error_type or "error"
        when = span.end_time_ns if kind == "error" else span.start_time_ns
        entries.append(Entry(when, kind, agent, title, span.trace_id,
                             span.span_id, span.resource.service_name, flagged, error,
                             context, details))
    entries.sort(key=lambda e: e.time_ns)  # stable: ties keep span start order
    roots = [s for s in spans if s.parent_span_id is None]
    status = "error" if any(s.status.code == "error" for s in roots or spans) else "ok"
    return Incident(
        trace_ids=sorted({s.trace_id for s in spans}),
        status=status,
        agents=sorted({a for a in agents.values() if a}),
        services=sorted({s.resource.service_name for s in spans if s.resource.service_name}),
        span_count=len(spans),
        start_ns=min((s.start_time_ns for s in spans), default=0),
        end_ns=max((s.end_time_ns for s in spans), default=0),
        entries=entries, budget=budget, flags=list(flags), full=full)
