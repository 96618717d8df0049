"""Traces in the shapes other eval tools read: OpenAI chat messages and Inspect AI logs."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from typing import Any

from .._version import __version__
from ._spans import (
    agent_of,
    final_answer_text,
    llm_calls,
    message_text,
    tool_calls,
    value_text,
)

__all__ = ["to_inspect_log", "to_openai_messages"]


def _arguments_json(arguments: Any) -> str:
    return arguments if isinstance(arguments, str) else json.dumps(
        {} if arguments is None else arguments, ensure_ascii=False)


def _openai_call(call_id: str | None, name: str, arguments: Any) -> dict[str, Any]:
    return {"id": call_id or "", "type": "function",
            "function": {"name": name, "arguments": _arguments_json(arguments)}}


def _openai(message: Any) -> list[dict[str, Any]]:
    """One recorded message as OpenAI chat messages (tool results become ``tool`` ones)."""
    text = message_text(message)
    responses = [p for p in message.parts if p.type == "tool_call_response"]
    if responses:
        out = [{"role": "tool", "tool_call_id": p.id or "", "content": value_text(p.response)}
               for p in responses]
        return ([{"role": message.role, "content": text}] if text and message.role != "tool"
                else []) + out
    calls = [p for p in message.parts if p.type == "tool_call"]
    result: dict[str, Any] = {"role": message.role, "content": text or (None if calls else "")}
    if message.name:
        result["name"] = message.name
    if calls:
        result["tool_calls"] = [_openai_call(p.id, p.name, p.arguments) for p in calls]
    return [result]


def _result_seen(llms: Sequence[Any], call_id: str, after_ns: int) -> tuple[int, str] | None:
    for span in llms:
        if span.start_time_ns < after_ns:
            continue
        for message in span.detail.input_messages:
            for part in message.parts:
                if part.type == "tool_call_response" and part.id == call_id:
                    return span.start_time_ns, value_text(part.response)
    return None


def to_openai_messages(spans: Sequence[Any], agent: str | None = None) -> list[dict[str, Any]]:
    """The run as an OpenAI chat message list (what agentevals and openevals take).

    The first model call's full input (system instructions and messages), then, in time
    order, every assistant message that requested tools and every tool result (with its
    ``tool_call_id``; a retried call gives its last execution's result), then the final
    answer. ``agent`` keeps one agent's model calls and final answer only.
    """
    llms = llm_calls(spans, agent)
    head: list[dict[str, Any]] = []
    events: list[tuple[int, int, dict[str, Any]]] = []
    if llms:
        first = llms[0].detail
        system = "\n".join(p.content for p in first.system_instructions
                           if p.type == "text" and p.content)
        if system:
            head.append({"role": "system", "content": system})
        for message in first.input_messages:
            head.extend(_openai(message))
    for span in llms:
        for message in span.detail.output_messages:
            if any(p.type == "tool_call" for p in message.parts):
                for m in _openai(message):
                    events.append((span.end_time_ns, len(events), m))
    for call in tool_calls(spans, agent):
        if call.runs:
            last = call.runs[-1]
            content = last.detail.error if last.detail.error else value_text(last.detail.result)
            seen: tuple[int, str] | None = (last.end_time_ns, content)
        else:
            seen = _result_seen(llms, call.id, call.time_ns) if call.id else None
        if seen is not None:
            events.append((seen[0], len(events),
                           {"role": "tool", "tool_call_id": call.id or "", "content": seen[1]}))
    events.sort(key=lambda e: (e[0], e[1]))
    messages = head + [m for _, _, m in events]
    final = final_answer_text(spans, agent)
    if final is not None:
        messages.append({"role": "assistant", "content": final})
    return messages


# Inspect AI ---------------------------------------------------------------------------

def _iso(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, tz=timezone.utc).isoformat()


def _inspect_message(message: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {"role": message["role"] if message["role"] in
                           ("system", "user", "assistant", "tool") else "user",
                           "content": message.get("content") or ""}
    if message.get("tool_calls"):
        calls = []
        for c in message["tool_calls"]:
            try:
                args = json.loads(c["function"]["arguments"] or "{}")
            except ValueError:
                args = {"raw": c["function"]["arguments"]}
            calls.append({"id": c["id"], "function": c["function"]["name"], "type": "function",
                          "arguments": args if isinstance(args, dict) else {"value": args}})
            names[c["id"]] = c["function"]["name"]
        out["tool_calls"] = calls
    if message["role"] == "tool":
        out["tool_call_id"] = message.get("tool_call_id")
        out["function"] = names.get(message.get("tool_call_id") or "")
    return out


def _usage(span: Any) -> dict[str, int]:
    u = span.detail.usage
    i, o = u.input_tokens or 0, u.output_tokens or 0
    return {"input_tokens": i, "output_tokens": o, "total_tokens": u.total_tokens or i + o}


def _tool_info(definition: Any) -> dict[str, Any]:
    params = definition.parameters if isinstance(definition.parameters, dict) else {}
    props = params.get("properties") if isinstance(params.get("properties"), dict) else {}
    return {"name": definition.name, "description": definition.description or definition.name,
            "parameters": {"type": "object",
                           "properties": {k: {"type": v.get("type"),
                                              "description": v.get("description")}
                                          for k, v in props.items() if isinstance(v, dict)},
                           "required": list(params.get("required") or [])}}


def _model_event(span: Any) -> dict[str, Any]:
    d = span.detail
    names: dict[str, str] = {}
    inputs = [_inspect_message(m, names) for msg in d.input_messages for m in _openai(msg)]
    outputs = [_inspect_message(m, names) for msg in d.output_messages for m in _openai(msg)]
    model = d.response_model or d.request_model or "unknown"
    choices = [{"message": m, "stop_reason": "tool_calls" if m.get("tool_calls") else "stop"}
               for m in outputs if m["role"] == "assistant"]
    return {"event": "model", "timestamp": _iso(span.start_time_ns), "model": model,
            "input": inputs, "tools": [_tool_info(t) for t in d.tool_definitions],
            "tool_choice": "auto", "config": {}, "working_time": span.duration_ns / 1e9,
            "output": {"model": model, "choices": choices, "usage": _usage(span)},
            "metadata": {"span_id": span.span_id, "agent": agent_of(span)}}


def _score_value(score: Any) -> Any:
    if score.value is not None:
        return score.value
    return score.passed if score.passed is not None else score.label


def _sample(trace: Any, scores: list[Any]) -> dict[str, Any]:
    spans, summary = trace.spans, trace.summary
    messages = to_openai_messages(spans)
    names: dict[str, str] = {}
    chat = [_inspect_message(m, names) for m in messages]
    first_user = next((m["content"] for m in chat if m["role"] == "user"), "")
    answer = final_answer_text(spans) or ""
    llms = llm_calls(spans)
    model = llms[-1].detail.response_model if llms else None
    usage: dict[str, dict[str, int]] = {}
    for span in llms:
        name = span.detail.response_model or span.detail.request_model or "unknown"
        total = usage.setdefault(name, {"input_tokens": 0, "output_tokens": 0,
                                        "total_tokens": 0})
        for key, value in _usage(span).items():
            total[key] += value
    return {
        "id": summary.trace_id, "epoch": 1, "input": first_user or answer, "target": "",
        "messages": chat,
        "output": {"model": model or "unknown", "choices": [
            {"message": {"role": "assistant", "content": answer}, "stop_reason": "stop"}]},
        "scores": {s.name: {"value": _score_value(s), "explanation": s.explanation,
                            "metadata": {"evaluator": s.evaluator, "run_id": s.run_id}}
                   for s in scores},
        "metadata": {"trace_id": summary.trace_id, "project": summary.project,
                     "status": summary.status, "agents": summary.agents},
        "events": [_model_event(s) for s in llms],
        "model_usage": usage,
        "total_time": summary.duration_ns / 1e9,
    }


def to_inspect_log(traces: Iterable[Any], scores: Iterable[Any] = (),
                   task: str = "tracevault") -> dict[str, Any]:
    """An Inspect AI eval log (``version 2``) of traces and their scores.

    Each trace is a sample: its messages (``to_openai_messages``), one model event per
    model call, the final answer as output, and the ``Score`` objects given for it.
    """
    traces = list(traces)
    by_trace: dict[str, list[Any]] = {}
    for score in scores:
        by_trace.setdefault(score.trace_id, []).append(score)
    samples = [_sample(t, by_trace.get(t.summary.trace_id, [])) for t in traces]
    models = sorted({m for t in traces for m in t.summary.models}) or ["unknown"]
    starts = [t.summary.start_time_ns for t in traces] or [0]
    ends = [t.summary.end_time_ns for t in traces] or [0]
    names = sorted({name for s in samples for name in s["scores"]})
    results = []
    for name in names:
        values = [v["value"] for s in samples if name in s["scores"]
                  for v in [s["scores"][name]] if isinstance(v["value"], (int, float))]
        mean = sum(values) / len(values) if values else 0.0
        results.append({"name": name, "scorer": name, "params": {},
                        "metrics": {"mean": {"name": "mean", "value": mean, "params": {}}}})
    usage: dict[str, dict[str, int]] = {}
    for s in samples:
        for model, u in s["model_usage"].items():
            total = usage.setdefault(model, dict.fromkeys(u, 0))
            for key, value in u.items():
                total[key] += value
    return {
        "version": 2, "status": "success",
        "eval": {"run_id": uuid.uuid4().hex, "created": _iso(min(starts)), "task": task,
                 "task_id": task, "task_version": 0,
                 "dataset": {"name": task, "samples": len(samples),
                             "sample_ids": [s["id"] for s in samples], "shuffled": False},
                 "model": models[0], "config": {}, "packages": {"tracevault": __version__},
                 "metadata": {"models": models}},
        "plan": {"name": "plan", "steps": []},
        "results": {"total_samples": len(samples), "completed_samples": len(samples),
                    "scores": results},
        "stats": {"started_at": _iso(min(starts)), "completed_at": _iso(max(ends)),
                  "model_usage": usage},
        "samples": samples,
    }
