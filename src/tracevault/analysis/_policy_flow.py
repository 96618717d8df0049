"""Information flow: sensitive content must not reach external tools, in any agent.

A value read from a sensitive memory key (or returned by a sensitive tool) is tracked
through the group in time order. An agent knows it once it read it, received a message
carrying it, or read a memory key another agent wrote it to. A call of an external tool
whose arguments carry it breaks the rule; the path is the read, each hop, and the call.

"Carrying" is decided on content: the value, or a run of at least ``min_match`` of its
letters and digits, appears in the message content, memory value or tool arguments
(case, spaces and punctuation are ignored). Only hops that start after the previous hop
ended count.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..schema import Span
from ._policy import FlowRule
from ._policy_view import READS, GroupView, Violation, glob_any, leaves, normalise

__all__ = ["check_flow"]

Path = tuple[Span, ...]


@dataclass
class _Taint:
    """One sensitive value and who learned it, when, and how."""

    value: str
    source: Span
    origin: str
    known: dict[str, tuple[int, Path, bool]] = field(default_factory=dict)
    """agent → (learned at, path, whether some hop went unrecorded)."""
    memory: dict[tuple[str, str], tuple[int, Path, bool]] = field(default_factory=dict)

    def knows(self, agent: str, at_ns: int) -> tuple[Path, bool] | None:
        entry = self.known.get(agent)
        if entry is None or entry[0] > at_ns:
            return None
        return entry[1], entry[2]

    def path_of(self, agent: str, span: Span) -> tuple[Path, bool] | None:
        """How ``agent`` came to hold the value before ``span`` (or an unrecorded path)."""
        known = self.knows(agent, span.start_time_ns)
        if known is not None:
            return known
        if span.start_time_ns < self.source.end_time_ns:
            return None  # before it was read: not caused by it
        return (self.source,), True

    def learn(self, agent: str, at_ns: int, path: Path, gap: bool) -> None:
        if agent not in self.known or self.known[agent][0] > at_ns:
            self.known[agent] = (at_ns, path, gap)


class _Tracker:
    """The taints of one flow rule, indexed for matching against texts."""

    def __init__(self, rule: FlowRule, view: GroupView) -> None:
        self.rule = rule
        self.view = view
        self.k = rule.min_match
        self.taints: list[_Taint] = []
        self.grams: dict[str, set[int]] = {}
        self.short: list[int] = []

    def add(self, span: Span, values: list[str], origin: str) -> None:
        agent = self.view.agent(span) or ""
        for raw in values:
            value = normalise(raw)
            if len(value) < self.rule.min_value:
                continue
            taint = _Taint(value, span, origin)
            taint.learn(agent, span.end_time_ns, (span,), False)
            i = len(self.taints)
            self.taints.append(taint)
            if len(value) <= self.k:
                self.short.append(i)
            else:
                for j in range(len(value) - self.k + 1):
                    self.grams.setdefault(value[j:j + self.k], set()).add(i)

    def carried(self, text: str, span: Span) -> list[_Taint]:
        """The taints (from other spans) whose value ``text`` carries."""
        found: set[int] = {i for i in self.short if self.taints[i].value in text}
        if self.grams:
            for j in range(len(text) - self.k + 1):
                hit = self.grams.get(text[j:j + self.k])
                if hit:
                    found |= hit
        return [self.taints[i] for i in sorted(found) if self.taints[i].source is not span]


def _sources(rule: FlowRule, span: Span) -> tuple[list[str], str] | None:
    d = span.detail
    if span.kind == "memory" and (d.operation or "").lower() in READS and rule.memory:
        keys = [k for k in d.keys if glob_any(k, rule.memory)]
        if not keys:
            return None
        values = d.values
        if isinstance(values, dict) and len(d.keys) > 1 and set(values) <= set(d.keys):
            values = [values[k] for k in keys if k in values]
        return list(leaves(values)), f"content of memory key {', '.join(keys)}"
    if span.kind == "tool" and rule.tools and not d.blocked and not d.error \
            and span.status.code != "error" and glob_any(d.name, rule.tools):
        return list(leaves(d.result)), f"the result of tool {d.name}"
    return None


def _paired_sends(view: GroupView) -> set[str]:
    return {str(s.detail.message_id) for s in view.spans if s.kind == "message"
            and s.detail.direction != "receive" and s.detail.message_id}


def check_flow(rule: FlowRule, view: GroupView) -> list[Violation]:
    """The external calls that carry content from the rule's sources, with their paths."""
    tracker = _Tracker(rule, view)
    sends = _paired_sends(view)
    out: list[Violation] = []
    reported: set[tuple[str, str]] = set()
    for span in view.spans:
        d = span.detail
        agent = view.agent(span) or ""
        if tracker.taints:
            if span.kind == "message" and (d.direction != "receive"
                                           or str(d.message_id) not in sends):
                sender = str(d.sender or agent)
                for t in tracker.carried(view.text(span, "content"), span):
                    held = t.path_of(sender, span)
                    if held is not None and d.receiver:
                        t.learn(str(d.receiver), span.end_time_ns, held[0] + (span,), held[1])
            elif span.kind == "memory" and (d.operation or "").lower() not in READS:
                for t in tracker.carried(view.text(span, "values"), span):
                    held = t.path_of(agent, span)
                    if held is not None:
                        for key in d.keys:
                            t.memory[(d.store or "", key)] = (span.end_time_ns,
                                                              held[0] + (span,), held[1])
            elif span.kind == "memory":
                for t in tracker.carried(view.text(span, "values"), span):
                    stored = [t.memory[(d.store or "", k)] for k in d.keys
                              if (d.store or "", k) in t.memory]
                    stored = [m for m in stored if m[0] <= span.start_time_ns]
                    if stored:
                        t.learn(agent, span.end_time_ns, stored[0][1] + (span,), stored[0][2])
                    elif span.start_time_ns >= t.source.end_time_ns:
                        t.learn(agent, span.end_time_ns, (t.source, span), True)
            elif span.kind == "tool" and not d.blocked and glob_any(d.name, rule.sinks):
                for t in tracker.carried(view.text(span, "arguments"), span):
                    held = t.path_of(agent, span)
                    key = (span.span_id, t.source.span_id)
                    if held is None or key in reported:
                        continue
                    reported.add(key)
                    out.append(_violation(rule, view, t, held[0] + (span,), held[1]))
        found = _sources(rule, span)
        if found is not None:
            tracker.add(span, *found)
    return out


def _violation(rule: FlowRule, view: GroupView, taint: _Taint, path: Path,
               gap: bool) -> Violation:
    sink = path[-1]
    reader = view.agent(taint.source) or "?"
    caller = view.agent(sink) or "?"
    hops = [view.step(s).action for s in path[1:-1]]
    message = (f"{taint.origin}, read by {reader}, reached external tool "
               f"{sink.detail.name} called by {caller}")
    if hops:
        message += " via " + "; ".join(hops)
    if gap:
        message += " (part of the way went through no recorded message or memory)"
    agents = list(dict.fromkeys(a for a in (view.actor(s) for s in path) if a))
    return Violation(rule.name, rule.kind, message, agents, sink.span_id, sink.trace_id,
                     [view.step(s) for s in path])

