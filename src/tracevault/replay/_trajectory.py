"""Trajectory replay: re-run an agent's loop from its recorded start with another model.

The loop starts from the context of the agent's first recorded model call (system
prompt, task, tool definitions, parameters) and runs the new model. A tool call the new
model makes is answered from the recording when the same agent made the same call
(same tool, arguments matched by the chosen matcher), in order, with exactly the content
the original harness sent back to the model; a failed call that the harness retried is
retried the same way. A call never recorded goes to a live tool function when one is
given for that tool (it may take a ``memory`` argument: the memory as the recording had
it at that step), and otherwise stops the replay with the divergence.
"""

from __future__ import annotations

import builtins
import inspect
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .._exceptions import QueryError
from ..analysis import memory_state, span_agents
from ..schema import Span
from ._compare import comparison, matcher
from ._convert import Decision, decision_of_completion, decision_of_span, openai_messages
from ._convert import openai_request as _request
from ._models import ReplayModel
from ._record import ReplayLog
from ._step import StepResult, llm_steps

__all__ = ["RecordedToolError", "ToolUse", "TrajectoryReplay", "recorded_error",
           "replay_trajectory"]


class RecordedToolError(Exception):
    """A tool error replayed from a recording (its class name is the recorded type)."""


def recorded_error(error_type: str | None, message: str | None) -> BaseException:
    """An exception like the recorded one: the builtin of that name, else a stand-in."""
    name = error_type or "RecordedToolError"
    cls = getattr(builtins, name, None)
    if not (isinstance(cls, type) and issubclass(cls, Exception)):
        cls = type(name, (RecordedToolError,), {})
    return cls(message or name)


@dataclass
class _Recorded:
    span: Span
    used: bool = False

    @property
    def name(self) -> str:
        return self.span.detail.name or ""

    @property
    def failed(self) -> bool:
        return self.span.status.code == "error"


@dataclass
class ToolUse:
    """A tool call of the replay and where its answer came from."""

    step: int
    name: str
    arguments: Any
    source: str
    """``recorded``, ``live`` or ``unrecorded`` (the replay stopped there)."""
    result: Any = None
    error: str | None = None
    attempts: int = 1

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return dict(self.__dict__)


@dataclass
class TrajectoryReplay:
    """The trajectory-replay report."""

    trace_id: str
    agent: str
    model: str
    matcher: str
    status: str = "running"
    """``completed`` (the model answered), ``diverged`` (an unrecorded tool call and no
    live tool), ``max_steps`` or ``model_error``."""
    steps: list[StepResult] = field(default_factory=list)
    tools: list[ToolUse] = field(default_factory=list)
    divergence: str | None = None
    answer: str | None = None
    replay_trace_id: str | None = None

    @property
    def live_calls(self) -> int:
        """Tool calls answered by live functions."""
        return sum(t.source == "live" for t in self.tools)

    @property
    def first_divergence(self) -> int | None:
        """The first step whose decision differs from the original's."""
        return next((s.index for s in self.steps if not s.same), None)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {"mode": "trajectory", "trace_id": self.trace_id, "agent": self.agent,
                "model": self.model, "matcher": self.matcher, "status": self.status,
                "divergence": self.divergence, "answer": self.answer,
                "first_divergence": self.first_divergence, "live_calls": self.live_calls,
                "replay_trace_id": self.replay_trace_id,
                "steps": [s.to_dict() for s in self.steps],
                "tools": [t.to_dict() for t in self.tools]}


def _content(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


class _Loop:
    def __init__(self, spans: list[Span], agent: str | None, model: ReplayModel,
                 log: ReplayLog, match: Any, compare: Any,
                 tools: Mapping[str, Callable[..., Any]]) -> None:
        agents = span_agents(spans)
        calls = llm_steps(spans)
        if not calls:
            raise QueryError("the trace has no model call to replay")
        self.agent = agent or agents.get(calls[0].span_id) or "agent"
        self.calls = [s for s in calls if (agents.get(s.span_id) or "agent") == self.agent]
        if not self.calls:
            raise QueryError(f"agent {self.agent!r} made no model call in this trace")
        self.spans = spans
        self.recorded = [_Recorded(s) for s in sorted(spans, key=lambda s: s.start_time_ns)
                         if s.kind == "tool" and (agents.get(s.span_id) or "agent")
                         == self.agent and not s.detail.blocked]
        self.sent: dict[str, Any] = {}  # what the harness sent back for each call id
        for s in self.calls:
            for m in s.detail.input_messages:
                for p in m.parts:
                    if p.type == "tool_call_response" and p.id:
                        self.sent.setdefault(p.id, p.response)
        self.model, self.log, self.tools = model, log, tools
        self.match, self.compare = matcher(match), comparison(compare)
        from ..sdk import Recorder

        self.rec = Recorder(self.agent, tracer=log.tracer)

    def find(self, name: str, arguments: Any) -> list[_Recorded]:
        """The recorded attempts answering this call: retried failures, then the last."""
        for i, r in enumerate(self.recorded):
            if r.used or r.name != name or not self.match(name, r.span.detail.arguments,
                                                          arguments):
                continue
            attempts = [r]
            for later in self.recorded[i + 1:]:
                if not attempts[-1].failed or later.used:
                    break
                if later.name == name and self.match(name, later.span.detail.arguments,
                                                     arguments):
                    attempts.append(later)
                else:
                    break
            return attempts
        return []

    def serve(self, step: int, call_id: str, name: str, arguments: Any,
              report: TrajectoryReplay) -> Any:
        attempts = self.find(name, arguments)
        if attempts:
            for a in attempts:
                a.used = True
                d = a.span.detail
                error = recorded_error(a.span.status.error_type, d.error or
                                       a.span.status.message) if a.failed else None
                try:
                    self.rec.tool_call(name, _answer(error, d.result),
                                       arguments if isinstance(arguments, dict) else {},
                                       call_id=call_id)
                except Exception:  # noqa: BLE001, S110 - a recorded failure, replayed
                    pass
            last = attempts[-1]
            d = last.span.detail
            report.tools.append(ToolUse(step, name, arguments, "recorded", d.result,
                                        d.error if last.failed else None, len(attempts)))
            if d.call_id and d.call_id in self.sent:
                return self.sent[d.call_id]
            return f"error: {d.error or last.span.status.message}" if last.failed \
                else d.result
        fn = self.tools.get(name)
        if fn is None:
            report.tools.append(ToolUse(step, name, arguments, "unrecorded"))
            report.status = "diverged"
            report.divergence = (f"step {step}: {name}({json.dumps(arguments)}) was never "
                                 "recorded and no live tool was given for it")
            return None
        kwargs = dict(arguments) if isinstance(arguments, dict) else {}
        if "memory" in inspect.signature(fn).parameters:
            at = self.calls[min(step, len(self.calls) - 1)].end_time_ns
            kwargs["memory"] = memory_state(self.spans, at=at)
        use = ToolUse(step, name, arguments, "live")
        report.tools.append(use)
        try:
            use.result = self.rec.tool_call(name, lambda **kw: fn(**kwargs), kwargs,
                                            call_id=call_id)
        except Exception as exc:  # noqa: BLE001 - the model sees the error, as a harness would
            use.error = f"{type(exc).__name__}: {exc}"
            return f"error: {use.error}"
        return use.result


def _answer(error: BaseException | None, result: Any) -> Callable[..., Any]:
    """A tool function giving the recorded answer, whatever its arguments."""
    def tool(**_: Any) -> Any:
        if error is not None:
            raise error
        return result
    return tool


def replay_trajectory(spans: list[Span], model: ReplayModel, log: ReplayLog, trace_id: str,
                      *, agent: str | None = None, match: Any = "normalized",
                      compare: Any = "normalized",
                      tools: Mapping[str, Callable[..., Any]] | None = None,
                      max_steps: int = 50) -> TrajectoryReplay:
    """Re-run ``agent``'s loop (default: the first agent to call a model) with ``model``."""
    loop = _Loop(spans, agent, model, log, match, compare, tools or {})
    report = TrajectoryReplay(trace_id, loop.agent, model.name,
                              match if isinstance(match, str) else "custom")
    first = loop.calls[0]
    base = _request(first, model.name)
    messages = openai_messages(first)
    roots = [s for s in spans if s.parent_span_id is None] or spans
    with log.root(trace_id, roots[0].span_id, "trajectory", model.name):
        for step in range(max_steps):
            params = {k: v for k, v in base.items() if k not in ("model", "messages", "tools")}
            try:
                completion = loop.rec.model_call(lambda **kw: model.complete(kw),
                                                 model=model.name, messages=list(messages),
                                                 tools=base.get("tools"), **params)
            except Exception as exc:  # noqa: BLE001 - reported
                report.status = "model_error"
                report.divergence = f"step {step}: {type(exc).__name__}: {exc}"
                break
            decision = decision_of_completion(completion)
            original = decision_of_span(loop.calls[step]) if step < len(loop.calls) \
                else Decision()
            report.steps.append(StepResult(
                step, loop.calls[step].span_id if step < len(loop.calls) else "",
                loop.agent, None, original, decision,
                step < len(loop.calls) and loop.compare(original, decision),
                replayed_tokens=(completion.get("usage") or {}).get("total_tokens")))
            message = dict((completion.get("choices") or [{}])[0].get("message") or {})
            messages.append({k: v for k, v in message.items()
                             if k in ("role", "content", "tool_calls", "name")})
            if not decision.tool_calls:
                report.status, report.answer = "completed", decision.text
                break
            for (name, arguments), call_id in zip(decision.tool_calls, decision.call_ids,
                                                  strict=True):
                content = loop.serve(step, call_id or "", name, arguments, report)
                if report.status == "diverged":
                    break
                messages.append({"role": "tool", "tool_call_id": call_id or "",
                                 "content": _content(content)})
            if report.status == "diverged":
                break
        else:
            report.status = "max_steps"
    report.replay_trace_id = log.trace_id
    return report
