"""Diff of two traces (an original and its replay, or two runs of a harness).

Model calls are aligned per agent in order (the k-th call of the coder in one trace with
the k-th call of the coder in the other), and so are tool calls. For each pair the diff
says whether the decision changed, whether the input context changed, whether tool
arguments or results changed, and the token and cost deltas. ``equal_content`` compares
everything but ids and times.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .._text import short
from ..analysis import span_agents
from ..schema import Span
from ._compare import comparison, normalize
from ._convert import Decision, decision_of_span
from ._step import llm_steps

__all__ = ["StepDiff", "ToolDiff", "TraceDiff", "content_of", "diff_spans", "render_diff"]


def content_of(spans: list[Span]) -> list[dict[str, Any]]:
    """Every span's content without ids and times, in time order (for equality)."""
    agents = span_agents(spans)
    out = []
    for s in sorted(spans, key=lambda s: (s.start_time_ns, s.end_time_ns, s.name)):
        out.append({"kind": s.kind, "name": s.name, "agent": agents.get(s.span_id),
                    "service": s.resource.service_name,
                    "status": [s.status.code, s.status.message, s.status.error_type],
                    "detail": s.detail.model_dump(mode="json"),
                    "harness": s.harness.model_dump(mode="json") if s.harness else None,
                    "events": [e.name for e in s.events]})
    return out


@dataclass
class StepDiff:
    """The k-th model call of one agent in both traces."""

    agent: str | None
    index: int
    a: Decision | None
    b: Decision | None
    same: bool
    context_changed: bool
    a_span: str | None = None
    b_span: str | None = None
    a_tokens: int = 0
    b_tokens: int = 0
    a_cost: float = 0.0
    b_cost: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        out = dict(self.__dict__)
        out["a"] = self.a.to_dict() if self.a else None
        out["b"] = self.b.to_dict() if self.b else None
        return out


@dataclass
class ToolDiff:
    """The k-th tool call of one agent in both traces."""

    agent: str | None
    index: int
    a_name: str | None
    b_name: str | None
    a_arguments: Any
    b_arguments: Any
    a_result: Any
    b_result: Any

    @property
    def arguments_changed(self) -> bool:
        """Different tool, or different arguments."""
        return self.a_name != self.b_name or normalize(self.a_arguments) != normalize(
            self.b_arguments)

    @property
    def result_changed(self) -> bool:
        """A different result (or error)."""
        return normalize(self.a_result) != normalize(self.b_result)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {**self.__dict__, "arguments_changed": self.arguments_changed,
                "result_changed": self.result_changed}


@dataclass
class TraceDiff:
    """What differs between trace ``a`` and trace ``b``."""

    a: str
    b: str
    steps: list[StepDiff] = field(default_factory=list)
    tools: list[ToolDiff] = field(default_factory=list)
    tokens: tuple[int, int] = (0, 0)
    cost_usd: tuple[float, float] = (0.0, 0.0)
    equal_content: bool = False

    @property
    def changed_steps(self) -> list[StepDiff]:
        """Model calls whose decision or context changed."""
        return [s for s in self.steps if not s.same or s.context_changed]

    @property
    def changed_tools(self) -> list[ToolDiff]:
        """Tool calls whose arguments or results changed."""
        return [t for t in self.tools if t.arguments_changed or t.result_changed]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {"a": self.a, "b": self.b, "equal_content": self.equal_content,
                "tokens": {"a": self.tokens[0], "b": self.tokens[1],
                           "delta": self.tokens[1] - self.tokens[0]},
                "cost_usd": {"a": self.cost_usd[0], "b": self.cost_usd[1],
                             "delta": self.cost_usd[1] - self.cost_usd[0]},
                "steps": [s.to_dict() for s in self.steps],
                "tools": [t.to_dict() for t in self.tools]}


def _per_agent(spans: list[Span], agents: dict[str, str | None]) -> dict[Any, list[Span]]:
    out: dict[Any, list[Span]] = {}
    for s in spans:
        out.setdefault(agents.get(s.span_id), []).append(s)
    return out


def _pairs(a: dict[Any, list[Span]], b: dict[Any, list[Span]], a0: int, b0: int) -> list[
        tuple[Any, int, Span | None, Span | None]]:
    """Aligned pairs, ordered by time since each trace's start."""
    out = []
    for agent in dict.fromkeys([*a, *b]):
        xs, ys = a.get(agent, []), b.get(agent, [])
        for i in range(max(len(xs), len(ys))):
            out.append((agent, i, xs[i] if i < len(xs) else None,
                        ys[i] if i < len(ys) else None))
    out.sort(key=lambda p: p[2].start_time_ns - a0 if p[2] is not None
             else p[3].start_time_ns - b0)  # type: ignore[union-attr]
    return out


def _context(span: Span | None) -> Any:
    if span is None:
        return None
    return normalize([m.model_dump(mode="json") for m in span.detail.input_messages])


def _tool_spans(spans: list[Span]) -> list[Span]:
    return sorted((s for s in spans if s.kind == "tool"), key=lambda s: s.start_time_ns)


def diff_spans(a_id: str, a: list[Span], b_id: str, b: list[Span],
               compare: Any = "normalized") -> TraceDiff:
    """Diff two traces given as span lists."""
    same = comparison(compare)
    agents = {**span_agents(a), **span_agents(b)}
    out = TraceDiff(a_id, b_id)
    a_llm, b_llm = _per_agent(llm_steps(a), agents), _per_agent(llm_steps(b), agents)
    a0 = min((s.start_time_ns for s in a), default=0)
    b0 = min((s.start_time_ns for s in b), default=0)
    for agent, i, x, y in _pairs(a_llm, b_llm, a0, b0):
        dx = decision_of_span(x) if x else None
        dy = decision_of_span(y) if y else None
        out.steps.append(StepDiff(
            agent, i, dx, dy, dx is not None and dy is not None and same(dx, dy),
            _context(x) != _context(y), x.span_id if x else None, y.span_id if y else None,
            (x.detail.usage.total_tokens or 0) if x else 0,
            (y.detail.usage.total_tokens or 0) if y else 0,
            (x.detail.cost_usd or 0.0) if x else 0.0, (y.detail.cost_usd or 0.0) if y else 0.0))
    for agent, i, x, y in _pairs(_per_agent(_tool_spans(a), agents),
                                 _per_agent(_tool_spans(b), agents), a0, b0):
        out.tools.append(ToolDiff(
            agent, i, x.detail.name if x else None, y.detail.name if y else None,
            x.detail.arguments if x else None, y.detail.arguments if y else None,
            (x.detail.error or x.detail.result) if x else None,
            (y.detail.error or y.detail.result) if y else None))
    out.tokens = (sum(s.a_tokens for s in out.steps), sum(s.b_tokens for s in out.steps))
    out.cost_usd = (sum(s.a_cost for s in out.steps), sum(s.b_cost for s in out.steps))
    out.equal_content = content_of(a) == content_of(b)
    return out


def render_diff(d: TraceDiff, width: int = 100) -> str:
    """The diff as text for the terminal."""
    lines = [f"diff {d.a} -> {d.b}: "
             + ("equal in content" if d.equal_content else
                f"{len(d.changed_steps)} model call(s) and {len(d.changed_tools)} tool "
                "call(s) changed"),
             f"tokens {d.tokens[0]} -> {d.tokens[1]} ({d.tokens[1] - d.tokens[0]:+d}), "
             f"cost ${d.cost_usd[0]:.6f} -> ${d.cost_usd[1]:.6f} "
             f"({d.cost_usd[1] - d.cost_usd[0]:+.6f})", "", "model calls:"]
    for s in d.steps:
        mark = "=" if s.same and not s.context_changed else "≠"
        ctx = " (context changed)" if s.context_changed else ""
        lines.append(f"  {mark} {s.agent or '?'}#{s.index}{ctx}")
        if not s.same or s.a is None or s.b is None:
            lines.append(f"      a: {s.a.summary(width) if s.a else '(no call)'}")
            lines.append(f"      b: {s.b.summary(width) if s.b else '(no call)'}")
    lines += ["", "tool calls:"]
    for t in d.tools:
        mark = "≠" if t.arguments_changed or t.result_changed else "="
        lines.append(f"  {mark} {t.agent or '?'}#{t.index} {t.a_name or '-'}"
                     + (f" -> {t.b_name}" if t.b_name != t.a_name else ""))
        if t.arguments_changed:
            lines.append(f"      arguments: {short(t.a_arguments, width)} -> "
                         f"{short(t.b_arguments, width)}")
        if t.result_changed:
            lines.append(f"      result: {short(t.a_result, width)} -> "
                         f"{short(t.b_result, width)}")
    return "\n".join(lines) + "\n"
