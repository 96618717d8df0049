"""Model-based strategies (all at once, step by step, binary search) over a chat API.

The prompt shows the run as numbered steps (positions 0, 1, 2... in the order the run
took them), each with its agent and what it did. The model answers with one JSON object
``{"agent": ..., "step": ..., "reason": ...}`` and nothing else (a single fenced code
block around it is accepted); any other answer is malformed and asked again once.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

from .._exceptions import ConfigError, QueryError
from .._text import short
from ._attribution_run import Attribution, RunStep, RunView, register_strategy

__all__ = ["SYSTEM_PROMPT", "AttributionModel", "MalformedAnswer", "parse_answer"]

SYSTEM_PROMPT = (
    "You find the cause of a failed run of a multi-agent system. The run is a list of "
    "numbered steps, each naming the agent that acted. The decisive mistake is the step "
    "where an agent did something wrong that led to the failure; when several steps went "
    "wrong, it is the earliest. Answer with one JSON object only, no other text.")
_FENCE = re.compile(r"^```(?:json)?\s*\n(.*)\n```$", re.S)
_KEYS = {"agent", "step", "reason"}


class MalformedAnswer(ValueError):
    """A model answer that is not the JSON object asked for."""


def parse_answer(text: str, lo: int, hi: int, allow_none: bool = False
                 ) -> tuple[str | None, int | None, str]:
    """``(agent, step, reason)`` from a model answer; ``MalformedAnswer`` otherwise.

    The answer must be exactly a JSON object with the keys ``agent`` (text), ``step`` (an
    integer from ``lo`` to ``hi``) and ``reason`` (text); with ``allow_none``, ``agent``
    and ``step`` may both be null.
    """
    body = text.strip()
    fenced = _FENCE.match(body)
    if fenced:
        body = fenced.group(1).strip()
    try:
        data = json.loads(body)
    except ValueError:
        raise MalformedAnswer(f"not JSON: {short(text, 120)!r}") from None
    if not isinstance(data, dict) or set(data) != _KEYS:
        raise MalformedAnswer(f"not an object with exactly agent, step and reason: "
                              f"{short(text, 120)!r}")
    agent, step, reason = data["agent"], data["step"], data["reason"]
    if not isinstance(reason, str):
        raise MalformedAnswer("reason is not text")
    if allow_none and agent is None and step is None:
        return None, None, reason
    if not isinstance(agent, str) or not agent.strip():
        raise MalformedAnswer(f"agent is not a name: {agent!r}")
    if isinstance(step, bool) or not isinstance(step, int):
        raise MalformedAnswer(f"step is not an integer: {step!r}")
    if not lo <= step <= hi:
        raise MalformedAnswer(f"step {step} is outside {lo}..{hi}")
    return agent, step, reason


class AttributionModel:
    """An OpenAI-compatible chat endpoint the model-based strategies ask.

    ``model`` is a base URL (``http://127.0.0.1:8000/v1``; ``model_name`` picks the model,
    default the first listed) or a model name at ``OPENAI_BASE_URL``. The key is read
    from the environment variable ``api_key_env`` (``unused`` for local servers).
    """

    def __init__(self, model: str, *, model_name: str | None = None,
                 api_key_env: str = "OPENAI_API_KEY", timeout_s: float = 120.0,
                 retries: int = 1) -> None:
        import openai

        url = model if model.startswith(("http://", "https://")) else None
        base_url = url or os.environ.get("OPENAI_BASE_URL")
        key = os.environ.get(api_key_env)
        if not key and base_url is None:
            raise ConfigError(f"model {model!r} needs an API key in ${api_key_env}, or give "
                              "a base URL such as http://127.0.0.1:8000/v1")
        self.where = base_url or "the OpenAI API"
        self.client = openai.OpenAI(base_url=base_url, api_key=key or "unused",
                                    timeout=timeout_s, max_retries=0)
        self.retries = retries
        self.calls = 0
        self.name = model_name or (None if url else model) or self._first_listed()

    def _first_listed(self) -> str:
        from .._llm import first_model

        try:
            return first_model(self.client, self.where)
        except QueryError as exc:
            raise QueryError(f"attribution: {exc}") from None

    def ask(self, messages: list[dict[str, Any]]) -> str:
        """One chat completion at temperature 0; its text."""
        from .._llm import chat

        self.calls += 1
        response = chat(self.client, self.name, messages, who="attribution", where=self.where)
        choices = response.choices or []
        return (choices[0].message.content or "") if choices else ""

    def answer(self, prompt: str, lo: int, hi: int, allow_none: bool, notes: list[str]
               ) -> tuple[str | None, int | None, str] | None:
        """Ask, parse strictly, ask again on a malformed answer; None if still malformed."""
        messages: list[dict[str, Any]] = [{"role": "system", "content": SYSTEM_PROMPT},
                                          {"role": "user", "content": prompt}]
        for attempt in range(self.retries + 1):
            text = self.ask(messages)
            try:
                return parse_answer(text, lo, hi, allow_none)
            except MalformedAnswer as exc:
                notes.append(f"malformed answer (attempt {attempt + 1}): {exc}")
                messages += [{"role": "assistant", "content": text},
                             {"role": "user", "content": f"That answer cannot be used: {exc}. "
                              "Answer with the JSON object only."}]
        return None


def _clip(value: Any, limit: int) -> str:
    """Text kept as written (newlines too), cut at ``limit`` characters."""
    text = value if isinstance(value, str) else short(value, 1_000_000)
    text = text.strip()
    return text if len(text) <= limit else f"{text[:limit]}… [{len(text) - limit} more]"


def _step_text(run: RunView, step: RunStep, limit: int) -> str:
    span = run.by_id[step.span_id]
    own = getattr(span.detail, "output", None) if span.kind == "step" else None
    if own is not None:
        return _clip(own, limit)
    bits = []
    for s in [span, *run.descendants(span)]:
        if run.step_of(s) is not step:
            continue
        d = s.detail
        if s.kind == "llm":
            bits.append(f"decided: {_clip(run.output_text(s), 2000)}")
        elif s.kind == "tool":
            outcome = ("BLOCKED" if d.blocked else f"failed: {d.error or s.status.message}"
                       if s.status.code == "error" else f"-> {_clip(d.result, 1000)}")
            bits.append(f"called {d.name}({short(d.arguments, 400)}) {outcome}")
        elif s.kind == "message" and d.direction != "receive":
            bits.append(f"sent to {d.receiver}: {_clip(d.content, 1000)}")
        elif s.kind == "memory" and d.values is not None:
            bits.append(f"memory {d.operation} {d.store}: {short(d.values, 400)}")
    return _clip("\n".join(bits) or "(nothing recorded)", limit)


def _render(run: RunView, upto: int) -> str:
    limit = int(run.options.get("max_step_chars", 4000))
    root = run.root
    task = getattr(root.detail, "input", None) or root.attributes.get("tracevault.input")
    lines = [f"The task: {_clip(task, 4000) if task else '(not recorded)'}"]
    truth = root.attributes.get("tracevault.whowhen.ground_truth")
    if truth is not None and run.options.get("ground_truth", True):
        lines.append(f"The correct answer: {_clip(truth, 500)}")
    ended = f" It ended with: {_clip(root.status.message, 500)}" \
        if root.status.code == "error" and root.status.message else ""
    lines += [f"The run failed.{ended}", ""]
    for step in run.steps[:upto + 1]:
        lines.append(f"Step {step.position} ({step.agent or 'unknown agent'}):")
        lines.append(_step_text(run, step, limit))
        lines.append("")
    return "\n".join(lines)


def _model(run: RunView, name: str) -> AttributionModel:
    if run.model is None:
        raise ConfigError(f"strategy {name} needs a model: give model= (--model URL_OR_NAME)")
    return run.model  # type: ignore[no-any-return]


def _blame(run: RunView, agent: str, position: int, reason: str, strategy: str,
           model: AttributionModel, notes: list[str], **details: Any) -> Attribution:
    step = run.steps[position]
    span = run.by_id[step.span_id]
    decisive = run.decision_for(span) if span.kind in ("step", "agent") else span
    if decisive is None or run.step_of(decisive) is not step:
        decisive = span
    evidence = list(dict.fromkeys([decisive.span_id, span.span_id]))
    return Attribution(agent=agent, step=f"{agent}:{step.step_index}" + (
        f":{step.retry}" if step.retry else ""), step_index=step.step_index,
        span_id=decisive.span_id, reason=reason, evidence=evidence, strategy=strategy,
        confidence=0.5, trace_id=decisive.trace_id,
        details={"model": model.name, "position": position, "notes": notes,
                 "step_agent": step.agent, **details})


def _nothing(strategy: str, run: RunView, reason: str, model: AttributionModel,
             notes: list[str], calls: int) -> Attribution:
    return Attribution(None, None, None, None, reason, strategy=strategy,
                       trace_id=run.trace_id, verdict="unattributed",
                       details={"model": model.name, "notes": notes, "model_calls": calls})


@register_strategy("all_at_once")
def all_at_once(run: RunView) -> Attribution | None:
    """The model reads the whole run once and names the agent and the step."""
    model = _model(run, "all_at_once")
    if not run.steps:
        return None
    notes: list[str] = []
    before = model.calls
    last = len(run.steps) - 1
    prompt = (_render(run, last) + "Which agent made the decisive mistake, and at which "
              'step? Answer {"agent": "<the agent\'s name as written above>", "step": '
              f'<step number from 0 to {last}>, "reason": "<one sentence>"}}.')
    answer = model.answer(prompt, 0, last, False, notes)
    if answer is None:
        return _nothing("all_at_once", run, "the model gave no usable answer", model, notes,
                        model.calls - before)
    agent, position, reason = answer
    assert agent is not None and position is not None
    return _blame(run, agent, position, reason, "all_at_once", model, notes,
                  model_calls=model.calls - before)


@register_strategy("step_by_step")
def step_by_step(run: RunView) -> Attribution | None:
    """The model judges the steps in order, each seeing the run up to it; stops at a yes."""
    model = _model(run, "step_by_step")
    notes: list[str] = []
    before = model.calls
    for step in run.steps:
        i = step.position
        agent = step.agent or "unknown agent"
        prompt = (_render(run, i) + f"Look at step {i} ({agent}) only. Is it the decisive "
                  f'mistake? If it is, answer {{"agent": "{agent}", "step": {i}, "reason": '
                  '"<why>"}. If it is not, answer {"agent": null, "step": null, "reason": '
                  '"<why not>"}.')
        answer = model.answer(prompt, i, i, True, notes)
        if answer is None or answer[1] is None:
            continue
        return _blame(run, answer[0] or agent, i, answer[2], "step_by_step", model, notes,
                      model_calls=model.calls - before)
    return _nothing("step_by_step", run, "the model blamed no step", model, notes,
                    model.calls - before)


@register_strategy("binary_search")
def binary_search(run: RunView) -> Attribution | None:
    """The model halves the range holding the mistake until one step is left."""
    model = _model(run, "binary_search")
    if not run.steps:
        return None
    notes: list[str] = []
    before = model.calls
    lo, hi = 0, len(run.steps) - 1
    reason = "the only step of the run"
    ranges = []
    while lo < hi:
        mid = (lo + hi) // 2
        ranges.append([lo, hi])
        prompt = (_render(run, hi) + f"The decisive mistake is in steps {lo} to {hi}. Is it "
                  f"in steps {lo} to {mid} or in steps {mid + 1} to {hi}? Answer "
                  '{"agent": "<agent of that step>", "step": <the step from '
                  f'{lo} to {hi} you believe is the mistake>, "reason": "<one sentence>"}}; '
                  "the half holding that step is searched next.")
        answer = model.answer(prompt, lo, hi, False, notes)
        if answer is None:
            return _nothing("binary_search", run, f"the model gave no usable answer for "
                            f"steps {lo} to {hi}", model, notes, model.calls - before)
        reason = answer[2]
        assert answer[1] is not None
        lo, hi = (lo, mid) if answer[1] <= mid else (mid + 1, hi)
    agent = run.steps[lo].agent or "unknown agent"
    return _blame(run, agent, lo, reason, "binary_search", model, notes,
                  model_calls=model.calls - before, ranges=ranges)
