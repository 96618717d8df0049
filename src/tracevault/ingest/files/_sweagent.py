"""SWE-agent trajectories (``.traj`` files).

A trajectory holds ``trajectory`` (one step per action: ``thought``, ``action``,
``observation``, ``response``, ``state``, optional ``execution_time`` and ``query``),
``history`` (the chat messages of the run, with ``thought``/``action``, OpenAI
``tool_calls`` and ``tool_call_ids`` in function-calling runs) and ``info``
(``exit_status``, ``submission``, ``model_stats``). One file becomes one trace:

- root ``agent`` span: the run, with ``tracevault.sweagent.*`` attributes (instance id,
  exit status, submission, model stats, model, environment);
- per trajectory step, a ``step`` span (``tracevault.step.index``) holding an ``llm``
  span and a ``tool`` span. The model's input is the step's ``query`` when recorded, else
  the history before the assistant message that issued the step's action; its output is
  that message. The tool span is the action (its function call's name and arguments in
  function-calling runs, else the command's first word and the command line) with the
  observation as result.

Trajectories carry durations (``execution_time``) but no timestamps: steps are laid out
from ``2024-01-01T00:00:00Z``, one second for each model call, then the action's
execution time (one second when not recorded). Ids hash the instance id and steps.
"""

from __future__ import annotations

from typing import Any

import orjson

from .._raw import RawSpan
from ..conventions._messages import any_message
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

__all__ = ["is_sweagent", "sweagent_spans"]

_PREFIX = "tracevault.sweagent."
_RESOURCE = {"service.name": "swe-agent", "tracevault.harness.name": "swe-agent"}


def is_sweagent(doc: Any) -> bool:
    """Whether ``doc`` is a SWE-agent trajectory."""
    return isinstance(doc, dict) and isinstance(doc.get("trajectory"), list) \
        and ("history" in doc or "info" in doc) \
        and all(isinstance(s, dict) and ("action" in s or "observation" in s)
                for s in doc["trajectory"])


def _message(m: dict[str, Any]) -> dict[str, Any]:
    """A history message in the GenAI ``parts`` form."""
    ids = m.get("tool_call_ids")
    if m.get("role") == "tool" and isinstance(ids, list) and ids:
        content = m.get("content")
        if isinstance(content, list):
            content = "".join(str(c.get("text", "")) if isinstance(c, dict) else str(c)
                              for c in content)
        return {"role": "tool", "parts": [{"type": "tool_call_response", "id": i,
                                           "response": content} for i in ids]}
    return any_message({k: m[k] for k in ("role", "content", "tool_calls", "tool_call_id",
                                          "name") if k in m})


def _config(doc: dict[str, Any]) -> dict[str, Any]:
    config = doc.get("replay_config")
    if isinstance(config, str) and config.startswith("{"):
        try:
            config = orjson.loads(config)
        except orjson.JSONDecodeError:
            config = None
    return config if isinstance(config, dict) else {}


def _aligned(history: list[dict[str, Any]], steps: list[dict[str, Any]]) -> list[int | None]:
    """For each step, the index of the assistant message in history that issued it."""
    out: list[int | None] = []
    start = 0
    for step in steps:
        hit = None
        for i in range(start, len(history)):
            m = history[i]
            if m.get("role") == "assistant" and not m.get("is_demo") and (
                    (m.get("action") is not None and m.get("action") == step.get("action"))
                    or (m.get("content") is not None and m.get("content") == step.get("response"))):
                hit = i
                break
        out.append(hit)
        if hit is not None:
            start = hit + 1
    return out


def _labels(doc: dict[str, Any], instance: str | None, model: str | None,
            name: str | None) -> dict[str, Any]:
    info = doc.get("info") if isinstance(doc.get("info"), dict) else {}
    attrs: dict[str, Any] = {
        "instance_id": instance, "environment": value(doc.get("environment")),
        "model": model, "file": file_label(name), "exit_status": info.get("exit_status"),
        "submission": info.get("submission"),
    }
    stats = info.get("model_stats") if isinstance(info.get("model_stats"), dict) else {}
    for key, v in stats.items():
        attrs[f"model_stats.{key}"] = value(v)
    for key, v in info.items():
        if key not in ("model_stats", "submission", "exit_status") \
                and not key.startswith("edited_files"):
            attrs.setdefault(key, value(v))
    return {_PREFIX + k: v for k, v in attrs.items() if v is not None}


def sweagent_spans(doc: dict[str, Any], name: str | None = None) -> list[RawSpan]:
    """Convert a SWE-agent trajectory into the raw spans of one trace."""
    config = _config(doc)
    agent_cfg = config.get("agent") if isinstance(config.get("agent"), dict) else {}
    model_cfg = agent_cfg.get("model") if isinstance(agent_cfg.get("model"), dict) else {}
    problem = config.get("problem_statement") \
        if isinstance(config.get("problem_statement"), dict) else {}
    label = file_label(name)
    instance = problem.get("id") or agent_cfg.get("name") or \
        (label.split(".")[0] if label else None)
    model = model_cfg.get("name") if isinstance(model_cfg.get("name"), str) else None
    steps = [s for s in doc["trajectory"] if isinstance(s, dict)]
    history = [m for m in doc.get("history") or [] if isinstance(m, dict)]
    trace_id = hex_id(16, "swe-agent", instance, content_hash(steps))
    out = SpanSet(trace_id, _RESOURCE, "tracevault.import.sweagent")
    root = out.span_id("root")
    base = clock = run_base_ns(0)
    params = {f"gen_ai.request.{k}": model_cfg[k] for k in ("temperature", "top_p")
              if isinstance(model_cfg.get(k), (int, float))}
    for i, (step, at) in enumerate(zip(steps, _aligned(history, steps), strict=True)):
        issued = history[at] if at is not None else \
            {"role": "assistant", "content": step.get("response")}
        query = step.get("query")
        inputs = query if isinstance(query, list) else history[:at] if at is not None else None
        parent = out.span_id("step", i)
        llm = {"gen_ai.operation.name": "chat", "gen_ai.request.model": model, **params,
               "gen_ai.input.messages": dumps([_message(m) for m in inputs
                                               if isinstance(m, dict)])
               if inputs is not None else None,
               "gen_ai.output.messages": dumps([_message(issued)]),
               _PREFIX + "thought": value(step.get("thought"))}
        out.add(("llm", i), f"chat {model}" if model else "chat", parent, clock + MILLI_NS,
                clock + SECOND_NS, llm, otel_kind="client")
        calls = [c for c in issued.get("tool_calls") or [] if isinstance(c, dict)]
        fn = calls[0].get("function") if calls and isinstance(calls[0].get("function"),
                                                              dict) else {}
        action = str(step.get("action") or "")
        took = step.get("execution_time")
        duration = int(took * SECOND_NS) if isinstance(took, (int, float)) else SECOND_NS
        tool = {"gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": fn.get("name") or (action.split() or [""])[0],
                "gen_ai.tool.type": "function",
                "gen_ai.tool.call.id": calls[0].get("id") if calls else None,
                "gen_ai.tool.call.arguments": value(fn.get("arguments")) if fn else action,
                "gen_ai.tool.call.result": value(step.get("observation")),
                _PREFIX + "action": action}
        out.add(("tool", i), f"execute_tool {tool['gen_ai.tool.name']}", parent,
                clock + SECOND_NS, clock + SECOND_NS + duration, tool)
        out.add(("step", i), f"step {i}", root, clock, clock + SECOND_NS + duration, {
            "tracevault.span.kind": "step", "tracevault.step.index": i,
            _PREFIX + "state": value(step.get("state"))})
        clock += SECOND_NS + duration + MILLI_NS
    agents = [m["agent"] for m in history if isinstance(m.get("agent"), str)]
    task = problem.get("text") or next(
        (m.get("content") for m in history if m.get("role") == "user" and not m.get("is_demo")),
        None)
    attrs = {"gen_ai.operation.name": "invoke_agent",
             "gen_ai.agent.name": agents[0] if agents else "swe-agent",
             "tracevault.input": value(task),
             **_labels(doc, instance, model, name)}
    attrs["tracevault.output"] = attrs.get(_PREFIX + "submission")
    out.add(("root",), f"swe-agent {instance or 'run'}", None, base, max(clock, base + 1),
            attrs)
    return out.spans
