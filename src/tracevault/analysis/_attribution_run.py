"""A run as failure attribution sees it: ordered steps, decisions, failures, a registry.

A *step* is one loop iteration recorded as a ``step`` span: the acting agent's
``harness.step_index`` (``tracevault.step.index``), plus its retry count. Imported
Who&When records have one step span per history item, so there the step index is the
0-based history index. A run recorded without step spans gets one step per model call:
the agent's k-th call (from 0). Each step has a *position* in the run (0, 1, 2... in
start-time order, over all agents): the numbering the model-based strategies show.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from .._exceptions import ConfigError
from .._text import message_text, short
from ..schema import Span
from ._incident import span_agents

__all__ = ["Attribution", "RunStep", "RunView", "register_strategy", "strategies"]

_WIDE = 1_000_000
EXEC_FAILED = re.compile(r"exitcode:\s*[1-9]\d*|Traceback \(most recent call last\)")
"""Execution-failure markers read in the output of spans whose status is unset."""
_BLOCKING = {"block", "blocked", "deny", "denied", "reject", "rejected", "refuse", "refused"}


def flat(value: Any) -> str:
    """A value as one lower-case line of text (JSON for non-strings)."""
    return short(value, _WIDE).casefold()


@dataclass
class Attribution:
    """Who failed a run, at which step, why, and the spans that show it."""

    agent: str | None
    """The agent responsible (None when the run did not fail or nothing was found)."""
    step: str | None
    """The decisive step as ``AGENT:STEP_INDEX`` (``:RETRY`` added for a retry)."""
    step_index: int | None
    """The agent's ``harness.step_index``; for Who&When records the history index."""
    span_id: str | None
    """The decisive span: the model call that decided, else the step span."""
    reason: str
    evidence: list[str] = field(default_factory=list)
    """Span ids that show it, the decisive span first."""
    strategy: str = ""
    """The strategy that answered (``vote(a+b)`` for a vote)."""
    confidence: float = 0.0
    """0..1: how strongly the signals support the answer."""
    trace_id: str = ""
    """The trace holding ``span_id`` (the run's first trace when unattributed)."""
    verdict: str = "attributed"
    """``attributed``, ``no_failure`` (the run did not fail) or ``unattributed``."""
    details: dict[str, Any] = field(default_factory=dict)
    """Strategy specifics: the reference run, model calls, notes, strategies tried."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return asdict(self)


@dataclass
class RunStep:
    """One step of the run, in the order the run took them."""

    position: int
    agent: str | None
    step_index: int
    retry: int
    span_id: str
    """The step span (the model call when the run has no step spans)."""
    trace_id: str
    start_ns: int

    @property
    def label(self) -> str:
        """``AGENT:STEP_INDEX`` (``:RETRY`` when a retry)."""
        text = f"{self.agent or '?'}:{self.step_index}"
        return f"{text}:{self.retry}" if self.retry else text


class RunView:
    """The spans of a run (one trace or a group) with what the strategies ask of them."""

    def __init__(self, spans: Sequence[Span], *, scores: Sequence[Any] = (),
                 reference: Sequence[Span] | None = None, vault: Any = None,
                 project: str | None = None, model: Any = None,
                 options: dict[str, Any] | None = None) -> None:
        self.spans = sorted(spans, key=lambda s: (s.start_time_ns, s.span_id))
        if not self.spans:
            raise ConfigError("attribution needs at least one span")
        self.by_id = {s.span_id: s for s in self.spans}
        self.agents = span_agents(self.spans)
        self.children: dict[str, list[Span]] = {}
        for s in self.spans:
            if s.parent_span_id in self.by_id:
                self.children.setdefault(s.parent_span_id or "", []).append(s)
        self.roots = [s for s in self.spans if s.parent_span_id not in self.by_id]
        self.scores = list(scores)
        self.reference = list(reference) if reference is not None else None
        self.vault = vault
        self.project = project
        self.model = model
        self.options = dict(options or {})
        self.steps = self._steps()
        self._owner: dict[str, RunStep | None] = {}
        self._failure: tuple[bool, str] | None = None

    # -- steps -----------------------------------------------------------------------------
    def _steps(self) -> list[RunStep]:
        marked = [s for s in self.spans if s.harness is not None
                  and s.harness.step_index is not None]
        steps: list[RunStep] = []
        if marked:
            for s in marked:
                h = s.harness
                assert h is not None and h.step_index is not None
                steps.append(RunStep(len(steps), self.agents.get(s.span_id), h.step_index,
                                     h.retry_count or 0, s.span_id, s.trace_id,
                                     s.start_time_ns))
            return steps
        calls: dict[str | None, int] = {}
        for s in self.spans:
            if s.kind == "llm":
                agent = self.agents.get(s.span_id)
                calls[agent] = calls.get(agent, -1) + 1
                steps.append(RunStep(len(steps), agent, calls[agent], 0, s.span_id,
                                     s.trace_id, s.start_time_ns))
        return steps

    @property
    def trace_id(self) -> str:
        """The run's first trace."""
        return self.roots[0].trace_id if self.roots else self.spans[0].trace_id

    @property
    def root(self) -> Span:
        """The first root span."""
        return self.roots[0] if self.roots else self.spans[0]

    def step_of(self, span: Span) -> RunStep | None:
        """The step a span belongs to: itself or its nearest ancestor that is a step."""
        if span.span_id in self._owner:
            return self._owner[span.span_id]
        by_span = {st.span_id: st for st in self.steps}
        chain: list[str] = []
        current: Span | None = span
        found: RunStep | None = None
        while current is not None:
            if current.span_id in self._owner:
                found = self._owner[current.span_id]
                break
            chain.append(current.span_id)
            if current.span_id in by_span:
                found = by_span[current.span_id]
                break
            current = self.by_id.get(current.parent_span_id or "")
        for sid in chain:
            self._owner[sid] = found
        return found

    def descendants(self, span: Span) -> list[Span]:
        """Every span under ``span``, in start order."""
        out: list[Span] = []
        stack = list(self.children.get(span.span_id, []))
        while stack:
            s = stack.pop()
            out.append(s)
            stack.extend(self.children.get(s.span_id, []))
        return sorted(out, key=lambda s: (s.start_time_ns, s.span_id))

    # -- decisions -------------------------------------------------------------------------
    def decision_for(self, span: Span) -> Span | None:
        """The model call that led to ``span`` (a tool call's requester, a step's last call).

        For an agent or step span, its own last model call; for a tool call, the call that
        requested it (by call id); otherwise the acting agent's latest earlier model call.
        None when the run recorded no model calls (transcripts such as Who&When).
        """
        if span.kind == "llm":
            return span
        agent = self.agents.get(span.span_id)
        if span.kind == "tool" and span.detail.call_id:
            for s in self.spans:
                if s.kind == "llm" and s.start_time_ns <= span.start_time_ns and any(
                        p.type == "tool_call" and getattr(p, "id", None) == span.detail.call_id
                        for m in s.detail.output_messages for p in m.parts):
                    return s
        if span.kind in ("agent", "step"):
            own = [s for s in self.descendants(span)
                   if s.kind == "llm" and self.agents.get(s.span_id) == agent]
            if own:
                return own[-1]
        earlier = [s for s in self.spans if s.kind == "llm" and s.start_time_ns
                   <= span.start_time_ns and self.agents.get(s.span_id) == agent]
        return earlier[-1] if earlier else None

    def previous_step(self, step: RunStep) -> RunStep | None:
        """The latest earlier step of another agent (whose output this step acted on)."""
        for other in reversed(self.steps[:step.position]):
            if other.agent != step.agent:
                return other
        return None

    # -- failure -----------------------------------------------------------------------------
    def output_text(self, span: Span) -> str:
        """What a span produced, as text (model output, tool result, message, output)."""
        d = span.detail
        if span.kind == "llm":
            return " ".join(message_text(m, _WIDE) for m in d.output_messages)
        if span.kind == "tool":
            return short(d.error if d.error else d.result, _WIDE)
        if span.kind == "message":
            return short(d.content, _WIDE)
        if span.kind == "memory":
            return short(d.values, _WIDE)
        return short(getattr(d, "output", None), _WIDE)

    def is_blocked(self, span: Span) -> bool:
        """A tool call blocked by a policy hook, a blocked step, or a blocking guardrail."""
        if span.kind == "tool" and span.detail.blocked:
            return True
        if span.kind == "guardrail":
            return (span.detail.decision or "").strip().lower() in _BLOCKING
        return span.status.code == "error" and (span.status.message or "").startswith("blocked:")

    def _recovered(self, span: Span) -> bool:
        if span.span_id in {r.span_id for r in self.roots}:
            return False
        agent = self.agents.get(span.span_id)
        args = flat(span.detail.arguments) if span.kind == "tool" else None
        return any(s.start_time_ns >= span.end_time_ns and s.status.code != "error"
                   and s.name == span.name and s.kind == span.kind
                   and self.agents.get(s.span_id) == agent
                   and (args is None or flat(s.detail.arguments) == args)
                   for s in self.spans)

    def failing_spans(self) -> list[Span]:
        """Spans that failed and were not recovered, by the time they failed.

        Failed: error status, blocked, or (status unset) an output reporting a failed
        execution (``EXEC_FAILED``). Recovered: a later span of the same agent, name, kind
        (and tool arguments) succeeded, as a retry does.
        """
        out = []
        for s in self.spans:
            if s.status.code == "error" or self.is_blocked(s):
                if self.is_blocked(s) or not self._recovered(s):
                    out.append(s)
            elif s.status.code == "unset" and s.kind in ("step", "tool", "other") \
                    and EXEC_FAILED.search(self.output_text(s)):
                out.append(s)
        return sorted(out, key=lambda s: (s.end_time_ns, s.start_time_ns))

    def failed_scores(self) -> list[Any]:
        """Stored ``online`` scores of the run that did not pass."""
        return [sc for sc in self.scores if getattr(sc, "source", None) == "online"
                and getattr(sc, "passed", None) is False]

    def failure(self) -> tuple[bool, str]:
        """Whether the run failed, and why in words."""
        if self._failure is None:
            self._failure = self._find_failure()
        return self._failure

    def _find_failure(self) -> tuple[bool, str]:
        errors = [r for r in self.roots if r.status.code == "error"]
        if errors:
            return True, f"{errors[0].name} ended in error: {errors[0].status.message or ''}"
        failing = self.failing_spans()
        if failing:
            return True, f"{failing[0].name} failed and was not recovered"
        if self.failed_scores():
            return True, f"online check {self.failed_scores()[0].name} did not pass"
        correct = self.root.attributes.get("tracevault.whowhen.is_correct")
        if correct is False or str(correct).lower() == "false":
            return True, "the record marks the run's answer as wrong"
        return False, "the run's root succeeded and every error was recovered"

    # -- answers ------------------------------------------------------------------------------
    def attribution(self, span: Span, reason: str, evidence: Sequence[str], strategy: str,
                    confidence: float, **details: Any) -> Attribution:
        """An answer blaming ``span``: its acting agent and the step it belongs to."""
        step = self.step_of(span)
        agent = self.agents.get(span.span_id) or (step.agent if step else None)
        ids = list(dict.fromkeys([span.span_id, *evidence]))
        return Attribution(agent=agent, step=step.label if step else None,
                           step_index=step.step_index if step else None,
                           span_id=span.span_id, reason=reason, evidence=ids,
                           strategy=strategy, confidence=round(confidence, 3),
                           trace_id=span.trace_id, details=dict(details))


Strategy = Callable[[RunView], Attribution | None]
_REGISTRY: dict[str, Strategy] = {}


def register_strategy(name: str) -> Callable[[Strategy], Strategy]:
    """Register ``fn(run: RunView) -> Attribution | None`` as a strategy named ``name``."""
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise ConfigError(f"strategy name {name!r}: use lower-case letters, digits and _")

    def register(fn: Strategy) -> Strategy:
        _REGISTRY[name] = fn
        return fn

    return register


def strategies() -> list[str]:
    """Names of the registered strategies."""
    return sorted(_REGISTRY)


def get_strategy(name: str) -> Strategy:
    """The strategy registered as ``name``."""
    if name not in _REGISTRY:
        raise ConfigError(f"unknown attribution strategy {name!r}; known: "
                          f"{', '.join(strategies())}")
    return _REGISTRY[name]
