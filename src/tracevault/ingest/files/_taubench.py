"""tau-bench run records (``historical_trajectories/<model>-<domain>.json``).

A file is a list of runs ``{task_id, trial, reward, info, traj}``; ``traj`` is the OpenAI
chat transcript of the run (system policy, user turns from the simulated user,
assistant turns with ``tool_calls``, ``role: tool`` results). Each run becomes a trace:

- root ``agent`` span (``invoke_agent``): the run, with the labels as
  ``tracevault.taubench.*`` attributes (reward, task id, trial, ground-truth actions...);
- per assistant message, a ``step`` span holding an ``llm`` span whose input is exactly
  the transcript before that message and whose output is that message, and one ``tool``
  span per tool call with its arguments and the result from the ``role: tool`` message
  that answers it (matched by id among the results that follow the call, then by
  position: tool-call ids may be reused within a run). A result starting with
  ``Error:`` (how tau-bench reports a failed tool call) marks the tool span as failed;
- per user message, a ``message`` span from ``user`` to the agent.

Records carry no timestamps: message k of the run at position p in the file occupies
second k after ``2024-01-01T00:00:00Z + p hours``. Ids hash task id, trial and the
transcript.
"""

from __future__ import annotations

import re
from typing import Any

from .._raw import RawSpan
from ._common import (
    MILLI_NS,
    SECOND_NS,
    SpanSet,
    content_hash,
    dumps,
    file_label,
    hex_id,
    run_base_ns,
    value,
)

__all__ = ["is_taubench", "taubench_spans"]

_FILE = re.compile(r"^(?P<model>.+)-(?P<domain>airline|retail)\.json(?:\.gz)?$")
_RESOURCE = {"service.name": "tau-bench", "tracevault.harness.name": "tau-bench"}
_PREFIX = "tracevault.taubench."


def _is_run(d: Any) -> bool:
    return isinstance(d, dict) and isinstance(d.get("traj"), list) and "task_id" in d


def is_taubench(doc: Any) -> bool:
    """Whether ``doc`` is a tau-bench run or a list of runs."""
    if isinstance(doc, list):
        return bool(doc) and all(_is_run(d) for d in doc)
    return _is_run(doc)


def _hint(name: str | None) -> tuple[str | None, str | None]:
    """Model and domain from tau-bench's file naming, when the file follows it."""
    match = _FILE.match(file_label(name) or "")
    return (match["model"], match["domain"]) if match else (None, None)


def taubench_spans(doc: Any, name: str | None = None) -> list[RawSpan]:
    """Convert tau-bench runs into raw spans, one trace per run."""
    model, domain = _hint(name)
    spans: list[RawSpan] = []
    for position, run in enumerate(doc if isinstance(doc, list) else [doc]):
        spans += _run_spans(run, position, model, domain)
    return spans


def _match(calls: list[Any], answers: list[dict[str, Any]]) -> list[int | None]:
    """For each tool call, the index of the answer that holds its result."""
    used: set[int] = set()
    out: list[int | None] = []
    for call in calls:
        cid = call.get("id") if isinstance(call, dict) else None
        hit = next((i for i, a in enumerate(answers)
                    if i not in used and cid is not None and a.get("tool_call_id") == cid), None)
        out.append(hit)
        if hit is not None:
            used.add(hit)
    free = [i for i in range(len(answers)) if i not in used]
    for c, hit in enumerate(out):
        if hit is None and free:
            out[c] = free.pop(0)
    return out


def _tool_attrs(call: dict[str, Any], answer: dict[str, Any] | None) -> dict[str, Any]:
    fn = call.get("function") if isinstance(call.get("function"), dict) else call
    attrs: dict[str, Any] = {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": str(fn.get("name") or (answer or {}).get("name") or ""),
        "gen_ai.tool.type": call.get("type") or "function",
        "gen_ai.tool.call.id": call.get("id"),
        "gen_ai.tool.call.arguments": value(fn.get("arguments")),
    }
    if answer is not None:
        attrs["gen_ai.tool.call.result"] = value(answer.get("content"))
    return attrs


def _failed(attrs: dict[str, Any]) -> str | None:
    result = attrs.get("gen_ai.tool.call.result")
    return result if isinstance(result, str) and result.startswith("Error:") else None


def _labels(run: dict[str, Any], model: str | None, domain: str | None) -> dict[str, Any]:
    info = run.get("info") if isinstance(run.get("info"), dict) else {}
    task = info.get("task") if isinstance(info.get("task"), dict) else {}
    reward_info = info.get("reward_info") if isinstance(info.get("reward_info"), dict) else {}
    details = reward_info.get("info") if isinstance(reward_info.get("info"), dict) else {}
    attrs: dict[str, Any] = {
        "task_id": run.get("task_id"), "trial": run.get("trial"),
        "reward": float(run["reward"]) if isinstance(run.get("reward"), (int, float)) else None,
        "domain": domain, "model": model,
        "user_id": task.get("user_id"), "instruction": task.get("instruction"),
        "actions": dumps(task["actions"]) if "actions" in task else None,
        "outputs": dumps(task["outputs"]) if "outputs" in task else None,
        "source": info.get("source"), "user_cost": info.get("user_cost"),
        "reward_info": dumps(reward_info) if reward_info else None,
    }
    for key, v in details.items():
        attrs.setdefault(key, value(v))
    for key, v in run.items():
        if key not in ("traj", "info"):
            attrs.setdefault(key, value(v))
    return {_PREFIX + k: v for k, v in attrs.items() if v is not None}


def _text(message: dict[str, Any]) -> Any:
    content = message.get("content")
    return value(content) if content not in (None, "") else None


def _run_spans(run: dict[str, Any], position: int, model: str | None,
               domain: str | None) -> list[RawSpan]:
    traj = [m for m in run["traj"] if isinstance(m, dict)]
    trace_id = hex_id(16, "taubench", run.get("task_id"), run.get("trial"), content_hash(traj))
    out = SpanSet(trace_id, _RESOURCE, "tracevault.import.taubench")
    base = run_base_ns(position)
    agent = f"tau-bench {domain} agent" if domain else "tau-bench agent"
    root = out.span_id("root")
    end = base + max(len(traj), 1) * SECOND_NS

    def slot(k: int, offset_ms: int = 1) -> int:
        return base + k * SECOND_NS + offset_ms * MILLI_NS

    def tool(key: tuple[Any, ...], parent: str, k: int, attrs: dict[str, Any]) -> int:
        error = _failed(attrs)
        out.add(key, f"execute_tool {attrs['gen_ai.tool.name']}", parent, slot(k),
                slot(k, 900), attrs, status="error" if error else "unset", message=error)
        return slot(k, 900)

    step = k = 0
    while k < len(traj):
        m = traj[k]
        role = m.get("role")
        if role == "assistant":
            answers = []
            j = k + 1
            while j < len(traj) and traj[j].get("role") == "tool":
                answers.append(j)
                j += 1
            parent = out.span_id("step", k)
            llm = {"gen_ai.operation.name": "chat", "gen_ai.request.model": model,
                   "gen_ai.input.messages": dumps(traj[:k]),
                   "gen_ai.output.messages": dumps([m])}
            out.add(("llm", k), f"chat {model}" if model else "chat", parent, slot(k),
                    slot(k, 900), llm, otel_kind="client")
            step_end = slot(k, 900)
            calls = [c for c in m.get("tool_calls") or [] if isinstance(c, dict)]
            matched = _match(calls, [traj[a] for a in answers])
            for c, (call, hit) in enumerate(zip(calls, matched, strict=True)):
                answer = traj[answers[hit]] if hit is not None else None
                at = answers[hit] if hit is not None else k
                step_end = max(step_end, tool(("tool", k, c), parent, at,
                                              _tool_attrs(call, answer)))
            for a in sorted(set(range(len(answers))) - {h for h in matched if h is not None}):
                stray = traj[answers[a]]
                attrs = _tool_attrs({"id": stray.get("tool_call_id")}, stray)
                step_end = max(step_end, tool(("tool", answers[a]), parent, answers[a], attrs))
            out.add(("step", k), f"step {step}", root, slot(k, 0), step_end,
                    {"tracevault.span.kind": "step", "tracevault.step.index": step})
            step += 1
            k = j
            continue
        if role == "user":
            out.add(("user", k), "user message", root, slot(k), slot(k, 900), {
                "tracevault.span.kind": "message", "tracevault.message.direction": "send",
                "tracevault.message.sender": "user", "tracevault.message.receiver": agent,
                "tracevault.message.content": _text(m)})
        elif role == "tool":
            tool(("tool", k), root, k, _tool_attrs({"id": m.get("tool_call_id")}, m))
        k += 1
    users = [m for m in traj if m.get("role") == "user"]
    replies = [m for m in traj if m.get("role") == "assistant" and _text(m) is not None]
    attrs = {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": agent,
             "tracevault.input": _text(users[0]) if users else None,
             "tracevault.output": _text(replies[-1]) if replies else None,
             **_labels(run, model, domain)}
    name = f"tau-bench {domain or 'run'} task {run.get('task_id')} trial {run.get('trial')}"
    out.add(("root",), name, None, base, end, attrs)
    return out.spans
