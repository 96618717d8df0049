"""What the policy checkers share: the group's spans in time order, actors, matching."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import orjson

from ..schema import Span
from ._incident import span_agents
from ._policy import Match

__all__ = ["READS", "GroupView", "PathStep", "Violation", "as_text", "glob_any", "leaves",
           "normalise"]

READS = frozenset({"read", "get", "search", "list", "query", "load", "fetch", "recall"})
"""Memory operations that read (their values are what was read)."""
_HUMAN_ATTRS = ("tracevault.human.approver", "tracevault.human.reviewer")
_STRIP = re.compile(r"[\W_]+")


def glob_any(value: str | None, patterns: Iterable[str]) -> bool:
    """Whether ``value`` matches one of the globs (case-insensitive; None is "")."""
    text = (value or "").lower()
    return any(fnmatch.fnmatchcase(text, p.lower()) for p in patterns)


def normalise(text: str) -> str:
    """Letters and digits only, lower case: what content matching compares."""
    return _STRIP.sub("", text.lower())


def leaves(value: Any, depth: int = 0) -> Iterator[str]:
    """The strings and numbers inside a recorded value (JSON text is looked into)."""
    if depth > 20 or value is None or isinstance(value, bool):
        return
    if isinstance(value, str):
        text = value.strip()
        if text[:1] in ("{", "["):
            try:
                parsed = orjson.loads(text)
            except orjson.JSONDecodeError:
                parsed = None
            if isinstance(parsed, (dict, list)):
                yield from leaves(parsed, depth + 1)
                return
        yield value
    elif isinstance(value, (int, float)):
        yield str(value)
    elif isinstance(value, dict):
        for v in value.values():
            yield from leaves(v, depth + 1)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from leaves(v, depth + 1)
    else:
        yield str(value)


def as_text(value: Any) -> str:
    """A recorded value as text (JSON for structures)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS).decode()


@dataclass
class PathStep:
    """One span on a violation's path, with the agent that acted."""

    span_id: str
    trace_id: str
    agent: str | None
    action: str
    """What happened, e.g. ``memory read customers: customer/card``."""
    time_ns: int


@dataclass
class Violation:
    """A rule broken by a run: where, by whom, and the path that led there."""

    rule: str
    kind: str
    message: str
    agents: list[str]
    span_id: str | None
    """The violating span (the call, or the span where a limit was crossed)."""
    trace_id: str | None
    path: list[PathStep] = field(default_factory=list)
    """The spans involved, in order (for flows: read → messages → external call)."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return asdict(self)


class GroupView:
    """The spans of a group in time order with each span's acting agent."""

    def __init__(self, spans: Iterable[Span], humans: Sequence[str]) -> None:
        self.spans = sorted(spans, key=lambda s: (s.start_time_ns, s.span_id))
        self.agents = span_agents(self.spans)
        self.humans = tuple(humans)
        self.trace_ids = sorted({s.trace_id for s in self.spans})
        self._texts: dict[tuple[str, str], str] = {}

    def agent(self, span: Span) -> str | None:
        """The agent acting in ``span``."""
        return self.agents.get(span.span_id)

    def actor(self, span: Span) -> str | None:
        """Who acted: a message's sender, else the span's agent."""
        if span.kind == "message" and span.detail.sender:
            return str(span.detail.sender)
        return self.agent(span)

    def is_human(self, span: Span) -> bool:
        """Whether a person acted (by agent name, or the human attributes)."""
        if any(span.attributes.get(k) for k in _HUMAN_ATTRS):
            return True
        if span.kind == "message" and \
                span.attributes.get("tracevault.message.sender_type") == "human":
            return True
        return glob_any(self.actor(span), self.humans) if self.actor(span) else False

    def calls(self) -> list[Span]:
        """Tool calls that ran (blocked calls did not)."""
        return [s for s in self.spans if s.kind == "tool" and not s.detail.blocked]

    def text(self, span: Span, part: str) -> str:
        """Normalised text of a span's ``content``, ``arguments``, ``values`` or ``result``.

        Each string inside the value is normalised on its own; ``|`` separates them.
        """
        key = (span.span_id, part)
        if key not in self._texts:
            self._texts[key] = "|".join(
                normalise(v) for v in leaves(getattr(span.detail, part, None)))
        return self._texts[key]

    def matches(self, m: Match, span: Span) -> bool:
        """Whether ``span`` is what matcher ``m`` describes."""
        target, pattern = m.target
        d = span.detail
        if target == "tool":
            ok = span.kind == "tool" and not d.blocked and glob_any(d.name, [pattern])
        elif target == "guardrail":
            ok = span.kind == "guardrail" and glob_any(d.name or span.name, [pattern]) \
                and (m.decision is None or glob_any(d.decision, [m.decision]))
        elif target == "message":
            ok = span.kind == "message" and glob_any(as_text(d.content), [pattern]) \
                and (m.to is None or glob_any(d.receiver, [m.to]))
        else:
            ok = glob_any(span.name, [pattern])
        if not ok:
            return False
        if m.agent is not None and not glob_any(self.actor(span), [m.agent]):
            return False
        return not m.human or self.is_human(span)

    def step(self, span: Span) -> PathStep:
        """The span as a step of a path."""
        return PathStep(span.span_id, span.trace_id, self.actor(span), describe(span),
                        span.start_time_ns)


def describe(span: Span) -> str:
    """A short account of what a span did."""
    d = span.detail
    if span.kind == "tool":
        return f"tool {d.name}"
    if span.kind == "memory":
        return f"memory {d.operation} {d.store or ''}: {', '.join(d.keys)}".replace("  ", " ")
    if span.kind == "message":
        verb = "received" if d.direction == "receive" else "message"
        return f"{verb} {d.sender or '?'} → {d.receiver or '?'}"
    if span.kind == "llm":
        return f"model call {d.response_model or d.request_model or ''}".rstrip()
    if span.kind == "guardrail":
        return f"guardrail {d.name or span.name}: {d.decision or '-'}"
    return span.name
