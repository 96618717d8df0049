"""Built-in evaluators that measure a run: tool errors, loops, steps, budget, latency, cost."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from .._exceptions import InputError
from ._score import Score, evaluator
from ._spans import agent_of, llm_calls, ordered, run_failed, tool_calls, tool_runs

__all__ = ["VALIDATORS", "budget", "cost", "latency", "step_limit", "tool_error_rate",
           "tool_loops"]


def _limit(args: dict[str, Any], *keys: str) -> None:
    for key in keys:
        value = args.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                  or value < 0):
            raise InputError(f"{key} must be a non-negative number, not {value!r}")


def _within(value: float, limit: float | None) -> bool | None:
    return None if limit is None else value <= limit


@evaluator("tool_error_rate")
def tool_error_rate(spans: Sequence[Any], max_rate: float | None = None,
                    agent: str | None = None, score_name: str | None = None) -> Score:
    """Share of tool executions that failed, errored or were blocked."""
    _limit({"max_rate": max_rate}, "max_rate")
    runs = tool_runs(spans, agent)
    failed = [r for r in runs if run_failed(r)]
    rate = len(failed) / len(runs) if runs else 0.0
    why = (f"{len(failed)} of {len(runs)} tool call(s) failed"
           + (": " + "; ".join(f"{r.detail.name} ({r.detail.error or r.status.message or 'error'})"
                               for r in failed[:5]) if failed else ""))
    return Score(score_name or "tool_error_rate", value=rate, passed=_within(rate, max_rate),
                 explanation=why, metadata={"tool_calls": len(runs), "failed": len(failed)})


def _key(name: str, arguments: Any) -> str:
    return f"{name}({json.dumps(arguments, sort_keys=True, default=str)})"


def _longest_repeat(seq: list[str], max_cycle: int) -> tuple[int, list[str]]:
    best, block = (1 if seq else 0), seq[:1]
    for size in range(1, max_cycle + 1):
        for start in range(len(seq) - size + 1):
            pattern, reps = seq[start:start + size], 1
            while seq[start + reps * size:start + (reps + 1) * size] == pattern:
                reps += 1
            if reps > best:
                best, block = reps, pattern
    return best, block


def _check_loops(args: dict[str, Any]) -> None:
    threshold, max_cycle = args.get("threshold", 3), args.get("max_cycle", 3)
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 2:
        raise InputError("tool_loops threshold must be an integer >= 2")
    if isinstance(max_cycle, bool) or not isinstance(max_cycle, int) or max_cycle < 1:
        raise InputError("tool_loops max_cycle must be an integer >= 1")
    if args.get("source", "tools") not in ("tools", "llm"):
        raise InputError(f"unknown source {args['source']!r}; use tools or llm")


@evaluator("tool_loops")
def tool_loops(spans: Sequence[Any], threshold: int = 3, max_cycle: int = 3,
               source: str = "tools", agent: str | None = None,
               score_name: str | None = None) -> Score:
    """Most consecutive repeats of one identical tool call, or of a cycle of calls."""
    _check_loops({"threshold": threshold, "max_cycle": max_cycle, "source": source})
    per_agent: dict[str | None, list[str]] = {}
    for call in tool_calls(spans, agent, source):
        per_agent.setdefault(call.agent, []).append(_key(call.name, call.arguments))
    best, block, who = 0, [], None
    for actor, seq in per_agent.items():
        reps, pattern = _longest_repeat(seq, max_cycle)
        if reps > best:
            best, block, who = reps, pattern, actor
    shown = " → ".join(p[:80] for p in block)
    why = (f"{shown} ×{best} in a row" + (f" ({who})" if who else "")) if best > 1 \
        else "no repeated tool calls"
    return Score(score_name or "tool_loops", value=float(best), passed=best < threshold,
                 explanation=why, metadata={"repeats": best, "cycle": block, "agent": who})


def _steps(spans: Sequence[Any]) -> dict[str | None, int]:
    """Steps per agent: first attempts of ``step`` spans, else model calls."""
    steps: dict[str | None, int] = {}
    marked = [s for s in spans if s.kind == "step"]
    for span in marked or llm_calls(spans):
        if marked and span.harness is not None and span.harness.retry_count:
            continue
        steps[agent_of(span)] = steps.get(agent_of(span), 0) + 1
    return steps


def _allowances(spans: Sequence[Any]) -> dict[str | None, dict[str, Any]]:
    """Each agent's budget at its first recorded step, and whether it ever went negative."""
    found: dict[str | None, dict[str, Any]] = {}
    for span in ordered(spans):
        if span.harness is None:
            continue
        b = span.harness.budget
        entry = found.setdefault(agent_of(span), {"tokens": b.tokens, "cost_usd": b.cost_usd,
                                                  "steps": b.steps, "overdrawn": False})
        if any(v is not None and v < 0 for v in (b.tokens, b.cost_usd, b.steps)):
            entry["overdrawn"] = True
    return found


def _mine(spans: Sequence[Any], agent: str | None) -> list[Any]:
    return [s for s in spans if agent is None or agent_of(s) == agent]


@evaluator("step_limit")
def step_limit(spans: Sequence[Any], max_steps: int | None = None, agent: str | None = None,
               score_name: str | None = None) -> Score:
    """Loop steps taken, against ``max_steps`` or else each agent's recorded step budget."""
    _limit({"max_steps": max_steps}, "max_steps")
    mine = _mine(spans, agent)
    steps = _steps(mine)
    total = sum(steps.values())
    if max_steps is not None:
        ok: bool | None = total <= max_steps
        why = f"{total} step(s) of at most {max_steps}"
    else:
        allowed = {a: v["steps"] for a, v in _allowances(mine).items() if v["steps"] is not None}
        over = [f"{a}: {steps.get(a, 0)} of {n}" for a, n in allowed.items()
                if steps.get(a, 0) > n]
        ok = (not over) if allowed else None
        why = (f"over the step budget: {'; '.join(over)}" if over else
               f"{total} step(s), within each agent's step budget" if allowed else
               f"{total} step(s); no limit given and no step budget recorded")
    return Score(score_name or "step_limit", value=float(total), passed=ok, explanation=why,
                 metadata={"steps": {str(k): v for k, v in steps.items()}})


def _usage(spans: Sequence[Any]) -> dict[str, float]:
    tokens = cost = 0.0
    for s in spans:
        if s.kind == "llm":
            u = s.detail.usage
            tokens += u.total_tokens or (u.input_tokens or 0) + (u.output_tokens or 0)
            cost += s.detail.cost_usd or 0.0
    return {"tokens": tokens, "cost_usd": cost}


@evaluator("budget")
def budget(spans: Sequence[Any], max_tokens: int | None = None, max_cost: float | None = None,
           max_steps: int | None = None, agent: str | None = None,
           score_name: str | None = None) -> Score:
    """Highest share of a budget used (tokens, cost, steps): given limits, else harness budget."""
    _limit({"max_tokens": max_tokens, "max_cost": max_cost, "max_steps": max_steps},
           "max_tokens", "max_cost", "max_steps")
    mine = _mine(spans, agent)
    limits: dict[str | None, dict[str, Any]]
    if (max_tokens, max_cost, max_steps) != (None, None, None):
        limits = {agent: {"tokens": max_tokens, "cost_usd": max_cost, "steps": max_steps,
                          "overdrawn": False}}
        groups = {agent: mine}
    else:
        limits = _allowances(mine)
        groups = {a: [s for s in mine if agent_of(s) == a] for a in limits}
    shares: list[tuple[float, str]] = []
    overdrawn = [str(a) for a, lim in limits.items() if lim["overdrawn"]]
    for who, group in groups.items():
        used = {**_usage(group), "steps": float(sum(_steps(group).values()))}
        for dim, used_value in used.items():
            cap = limits[who][dim]
            if cap is not None:
                share = used_value / cap if cap else (0.0 if not used_value else float("inf"))
                shares.append((share, f"{who + ' ' if who else ''}{dim} {used_value:g} of "
                                      f"{cap:g}"))
    if not shares:
        return Score(score_name or "budget", label="unknown",
                     explanation="no limits given and no harness budget recorded")
    top = max(shares)
    ok = top[0] <= 1 and not overdrawn
    why = f"highest: {top[1]} ({top[0]:.0%})" + (
        f"; budget went negative for {', '.join(overdrawn)}" if overdrawn else "")
    return Score(score_name or "budget", value=top[0], passed=ok, explanation=why,
                 metadata={"shares": {d: round(share, 6) for share, d in shares}})


@evaluator("latency")
def latency(spans: Sequence[Any], max_s: float | None = None, span_kind: str | None = None,
            agent: str | None = None, score_name: str | None = None) -> Score | None:
    """Seconds the run took (or its slowest span of ``span_kind``), against ``max_s``."""
    _limit({"max_s": max_s}, "max_s")
    mine = _mine(spans, agent)
    if span_kind is not None:
        mine = [s for s in mine if s.kind == span_kind]
        if not mine:
            return None
        slow = max(mine, key=lambda s: s.duration_ns)
        value, what = slow.duration_ns / 1e9, f"slowest {span_kind} span {slow.name}"
    elif mine:
        value = (max(s.end_time_ns for s in mine) - min(s.start_time_ns for s in mine)) / 1e9
        what = "the run"
    else:
        return None
    why = f"{what} took {value:.3f}s" + (f" (limit {max_s:g}s)" if max_s is not None else "")
    return Score(score_name or "latency", value=value, passed=_within(value, max_s),
                 explanation=why)


@evaluator("cost")
def cost(spans: Sequence[Any], max_usd: float | None = None, agent: str | None = None,
         score_name: str | None = None) -> Score:
    """Money the run's model calls cost (USD, as recorded), against ``max_usd``."""
    _limit({"max_usd": max_usd}, "max_usd")
    llms = llm_calls(spans, agent)
    priced = [s for s in llms if s.detail.cost_usd is not None]
    if llms and not priced:
        return Score(score_name or "cost", label="unpriced",
                     explanation=f"none of {len(llms)} model call(s) recorded a cost")
    total = sum(s.detail.cost_usd or 0.0 for s in priced)
    why = f"${total:.6f} over {len(priced)} priced model call(s)" + (
        f" (limit ${max_usd:g})" if max_usd is not None else "")
    return Score(score_name or "cost", value=total, passed=_within(total, max_usd),
                 explanation=why, metadata={"model_calls": len(llms), "priced": len(priced)})


VALIDATORS: dict[str, Callable[[dict[str, Any]], None]] = {
    "tool_error_rate": lambda a: _limit(a, "max_rate"),
    "tool_loops": _check_loops,
    "step_limit": lambda a: _limit(a, "max_steps"),
    "budget": lambda a: _limit(a, "max_tokens", "max_cost", "max_steps"),
    "latency": lambda a: _limit(a, "max_s"),
    "cost": lambda a: _limit(a, "max_usd"),
}
"""Argument checks run before an eval run touches any trace."""
