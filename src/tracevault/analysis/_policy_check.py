"""Checking policy rules over the joined timeline of a trace group, and scoring the result.

``check_policies(vault, id, rules)`` loads the group (all agents, all processes) and
returns the violations; ``evaluate_policies(spans, rules)`` does the same for spans in
hand. ``policy_scores`` turns a result into scores: one failing ``policy.<rule>`` score
per violation, one passing score per rule that held.
"""

from __future__ import annotations

import bisect
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .._exceptions import InputError
from ..schema import Span
from ._policy import (
    BudgetRule,
    FlowRule,
    PermissionRule,
    Policy,
    Rule,
    SequenceRule,
    as_policy,
)
from ._policy_flow import check_flow
from ._policy_view import GroupView, Violation, glob_any

__all__ = ["check_policies", "evaluate_policies", "policy_scores"]

SCORE_PREFIX = "policy."
"""Score names are ``policy.<rule name>``."""


def _target_text(rule: SequenceRule, which: str) -> str:
    items = [f"{m.target[0]} {m.target[1]}" + (f" by {m.agent}" if m.agent else "")
             + (" by a person" if m.human else "") for m in getattr(rule, which)]
    return " or ".join(items)


def _sequence(rule: SequenceRule, view: GroupView) -> list[Violation]:
    order = {s.span_id: i for i, s in enumerate(view.spans)}
    before = [i for i, s in enumerate(view.spans)
              if any(view.matches(m, s) for m in rule.preceded_by)]
    forbidden = [i for i, s in enumerate(view.spans)
                 if any(view.matches(m, s) for m in rule.not_preceded_by)]
    out: list[Violation] = []
    previous: int | None = None
    for call in view.calls():
        agent = view.agent(call)
        if not glob_any(call.detail.name, rule.tool) or not glob_any(agent, rule.agents):
            continue
        at = order[call.span_id]
        who = agent or "?"
        if rule.preceded_by:
            k = bisect.bisect_left(before, at) - 1
            approved = k >= 0 and (not rule.fresh or previous is None or before[k] > previous)
            if not approved:
                since = " since its previous call" if rule.fresh and k >= 0 else ""
                out.append(Violation(
                    rule.name, rule.kind, f"{who} called {call.detail.name} with no earlier "
                    f"{_target_text(rule, 'preceded_by')}{since}", [who], call.span_id,
                    call.trace_id, [view.step(call)]))
        if rule.not_preceded_by and forbidden and forbidden[0] < at:
            first = view.spans[forbidden[0]]
            step = view.step(first)
            out.append(Violation(
                rule.name, rule.kind, f"{who} called {call.detail.name} after {step.action}"
                f" ({step.agent or '?'})", list(dict.fromkeys([step.agent or "?", who])),
                call.span_id, call.trace_id, [step, view.step(call)]))
        previous = at
    return out


def _permission(rule: PermissionRule, view: GroupView) -> list[Violation]:
    out = []
    for call in view.calls():
        agent = view.agent(call)
        if not glob_any(agent, rule.agents):
            continue
        name = call.detail.name
        denied = next((p for p in rule.deny if glob_any(name, [p])), None)
        if denied is not None:
            why = f"denied by {denied!r}"
        elif rule.allow is not None and not glob_any(name, rule.allow):
            why = "not in its allow list"
        else:
            continue
        out.append(Violation(rule.name, rule.kind, f"{agent or '?'} may not call {name} ({why})",
                             [agent or "?"], call.span_id, call.trace_id, [view.step(call)]))
    return out


def _amount(limit: str, span: Span) -> float:
    d = span.detail
    if span.kind == "llm":
        if limit == "tokens":
            u = d.usage
            return float(u.total_tokens if u.total_tokens is not None
                         else (u.input_tokens or 0) + (u.output_tokens or 0))
        if limit == "cost_usd":
            return float(d.cost_usd or 0.0)
        return 1.0 if limit == "model_calls" else 0.0
    if span.kind == "tool":
        return 1.0 if limit == "tool_calls" and not d.blocked else 0.0
    if limit == "steps" and span.kind not in ("memory", "message") and span.harness is not None \
            and span.harness.step_index is not None:
        return 1.0
    return 0.0


def _fmt(limit: str, value: float) -> str:
    if limit == "cost_usd":
        return f"${value:.6g}"
    if limit == "duration_s":
        return f"{value:.3f}s"
    return f"{int(value)} {limit.replace('_', ' ')}"


def _budget(rule: BudgetRule, view: GroupView) -> list[Violation]:
    scopes: dict[str, list[Span]] = {}
    for s in view.spans:
        agent = view.agent(s)
        if glob_any(agent, rule.agents):
            scopes.setdefault("group" if rule.per == "group" else agent or "?", []).append(s)
    out = []
    for scope, spans in scopes.items():
        agents = sorted({view.agent(s) or "?" for s in spans}) if rule.per == "group" \
            else [scope]
        who = "the group" if rule.per == "group" else scope
        for limit, most in rule.limits.items():
            crossed: Span | None = None
            if limit == "duration_s":
                start = min(s.start_time_ns for s in spans)
                used = (max(s.end_time_ns for s in spans) - start) / 1e9
                if used > most:
                    crossed = min((s for s in spans if (s.end_time_ns - start) / 1e9 > most),
                                  key=lambda s: (s.end_time_ns, s.span_id))
            else:
                used = 0.0
                for s in spans:
                    used += _amount(limit, s)
                    if crossed is None and used > most + 1e-12:
                        crossed = s
            if crossed is not None:
                out.append(Violation(
                    rule.name, rule.kind, f"{who} used {_fmt(limit, used)}, over the limit "
                    f"of {_fmt(limit, most)}", agents, crossed.span_id, crossed.trace_id,
                    [view.step(crossed)]))
    return out


_CHECKS: dict[type[Any], Any] = {SequenceRule: _sequence, PermissionRule: _permission,
                                 BudgetRule: _budget, FlowRule: check_flow}


def evaluate_policies(spans: Iterable[Span], rules: Policy | Iterable[Rule] | str | Path
                      ) -> list[Violation]:
    """The violations of ``rules`` in ``spans`` (one trace or a whole group), rule by rule."""
    policy = as_policy(rules)
    view = GroupView(spans, policy.humans)
    out: list[Violation] = []
    for rule in policy.rules:
        found = _CHECKS[type(rule)](rule, view)
        out += sorted(found, key=lambda v: v.path[-1].time_ns if v.path else 0)
    return out


def check_policies(vault: Any, group_or_trace_id: str,
                   rules: Policy | Iterable[Rule] | str | Path, *,
                   project: str | None = None, joined: bool = True) -> list[Violation]:
    """The violations of ``rules`` in a trace's group (or the trace alone, ``joined=False``)."""
    if joined or group_or_trace_id.startswith("session:"):
        spans = vault.group(group_or_trace_id, project=project).spans
    else:
        spans = vault.trace(group_or_trace_id, project=project).spans
    return evaluate_policies(spans, rules)


def policy_scores(violations: Sequence[Violation], rules: Policy | Iterable[Rule] | str | Path,
                  trace_ids: Sequence[str], *, project: str = "default", source: str = "eval",
                  run_id: str | None = None) -> list[Any]:
    """Scores of one evaluation: a failing score per violation, a passing one per rule held.

    Scores name ``policy.<rule>``; a violation's score sits on the violating span, with
    ``metadata["path"]``; passing scores sit on the first of ``trace_ids`` (the group).
    All scores of one evaluation share ``run_id``: the latest evaluation counts.
    """
    from ..evals import Score

    policy = as_policy(rules)
    run_id = run_id or f"policy-{uuid.uuid4().hex[:16]}"
    group = list(trace_ids)
    if not group:
        raise InputError("policy scores need the trace ids of the group checked")
    out = []
    for rule in policy.rules:
        found = [v for v in violations if v.rule == rule.name]
        common = {"name": SCORE_PREFIX + rule.name, "project": project, "source": source,
                  "run_id": run_id, "evaluator": {"name": "policy", "args": rule.to_dict()}}
        for v in found:
            out.append(Score(passed=False, value=0.0, label="violation", explanation=v.message,
                             trace_id=v.trace_id or group[0], span_id=v.span_id,
                             metadata={"kind": rule.kind, "agents": v.agents, "group": group,
                                       "path": [asdict(p) for p in v.path]}, **common))
        if not found:
            out.append(Score(passed=True, value=1.0, label="pass", trace_id=group[0],
                             explanation=f"{rule.kind} rule {rule.name} held",
                             metadata={"kind": rule.kind, "group": group, "path": []},
                             **common))
    return out
