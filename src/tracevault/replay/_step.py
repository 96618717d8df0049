"""Step replay (counterfactual): each recorded model call, sent as it was to another model.

For every LLM span of a trace, in time order, the exact recorded input context (system
instructions, every message, tool definitions, parameters) goes to the other model. Its
answer is recorded next to the original and the two decisions are compared; the report
names every step that differs and the first one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..analysis import span_agents
from ..schema import Span
from ._compare import comparison
from ._convert import Decision, decision_of_completion, decision_of_span, openai_request
from ._models import ReplayModel
from ._record import ReplayLog

__all__ = ["StepReplay", "StepResult", "llm_steps", "replay_steps"]


@dataclass
class StepResult:
    """One model call: what the original model decided and what the other one did."""

    index: int
    span_id: str
    agent: str | None
    original_model: str | None
    original: Decision
    replayed: Decision
    same: bool
    original_tokens: int | None = None
    replayed_tokens: int | None = None
    error: str | None = None
    """Why the other model gave no answer (the step then counts as different)."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {"index": self.index, "span_id": self.span_id, "agent": self.agent,
                "original_model": self.original_model, "same": self.same,
                "original": self.original.to_dict(), "replayed": self.replayed.to_dict(),
                "original_tokens": self.original_tokens,
                "replayed_tokens": self.replayed_tokens, "error": self.error}


@dataclass
class StepReplay:
    """The step-replay report of one trace against one model."""

    trace_id: str
    model: str
    comparison: str
    steps: list[StepResult] = field(default_factory=list)
    replay_trace_id: str | None = None
    """The trace recording the replay (None when not recorded)."""

    @property
    def differing(self) -> list[int]:
        """Indexes of the steps whose decisions differ."""
        return [s.index for s in self.steps if not s.same]

    @property
    def first_divergence(self) -> int | None:
        """The first step that differs, or None when every decision is the same."""
        return self.differing[0] if self.differing else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {"mode": "step", "trace_id": self.trace_id, "model": self.model,
                "comparison": self.comparison, "replay_trace_id": self.replay_trace_id,
                "first_divergence": self.first_divergence, "differing": self.differing,
                "steps": [s.to_dict() for s in self.steps]}


def llm_steps(spans: list[Span]) -> list[Span]:
    """The chat model calls of a trace, in time order (calls with an input context)."""
    return sorted((s for s in spans if s.kind == "llm" and s.detail.input_messages),
                  key=lambda s: (s.start_time_ns, s.span_id))


def replay_steps(spans: list[Span], model: ReplayModel, log: ReplayLog, trace_id: str,
                 compare: str | Callable[[Decision, Decision], bool] = "normalized"
                 ) -> StepReplay:
    """Send each recorded model call's context to ``model`` and compare the decisions."""
    from ..sdk import Recorder

    same = comparison(compare)
    agents = span_agents(spans)
    report = StepReplay(trace_id, model.name, compare if isinstance(compare, str)
                        else getattr(compare, "__name__", "custom"))
    roots = [s for s in spans if s.parent_span_id is None] or spans
    with log.root(trace_id, roots[0].span_id, "step", model.name):
        for index, span in enumerate(llm_steps(spans)):
            agent = agents.get(span.span_id)
            request = openai_request(span, model.name)
            original = decision_of_span(span)
            result = StepResult(index, span.span_id, agent,
                                span.detail.response_model or span.detail.request_model,
                                original, Decision(), False,
                                original_tokens=span.detail.usage.total_tokens)
            attrs = {"tracevault.replay.step": index,
                     "tracevault.replay.original_span_id": span.span_id}
            with log.tracer.start_as_current_span(f"replay step {index}",
                                                  attributes=attrs) as step_span:
                rec = Recorder(agent or "replay", tracer=log.tracer)
                params = {k: v for k, v in request.items()
                          if k not in ("model", "messages", "tools")}
                try:
                    completion = rec.model_call(lambda **kw: model.complete(kw),
                                                model=model.name,
                                                messages=request["messages"],
                                                tools=request.get("tools"), **params)
                except Exception as exc:  # noqa: BLE001 - reported per step
                    result.error = f"{type(exc).__name__}: {exc}"
                else:
                    result.replayed = decision_of_completion(completion)
                    result.replayed_tokens = (completion.get("usage") or {}).get(
                        "total_tokens")
                    result.same = same(original, result.replayed)
                step_span.set_attribute("tracevault.replay.same", result.same)
            report.steps.append(result)
    report.replay_trace_id = log.trace_id
    return report
