"""Who&When failure-attribution records (multi-agent runs labelled with their failure).

A record holds the run's ``history`` (one item per agent turn: ``content``, ``role``,
``name``) and the labels: the agent responsible (``mistake_agent``), the decisive step
(``mistake_step``, a 0-based index into ``history``, sent as a string) and why
(``mistake_reason``), plus ``question``, ``ground_truth``, ``question_ID``, ``level``,
``is_correct`` and the agents' ``system_prompt``. Two shapes exist: CaptainAgent runs
name the acting agent in ``name`` (``role`` is the chat role), Magentic-One runs leave
``name`` out and put the agent in ``role``, with the turn's nature in parentheses
(``Orchestrator (thought)``, ``Orchestrator (-> WebSurfer)``). The agent of an item is
its ``name`` when that is present and not a bare chat role, else its ``role`` without
the parenthesis.

Each record becomes a trace: a root ``agent`` span (``invoke_workflow``) carrying the
labels as ``tracevault.whowhen.*`` attributes, and one ``step`` span per history item
with ``tracevault.step.index`` = the item's index, ``gen_ai.agent.name`` = its agent and
the content as output. An item addressed to another agent (``X (-> Y)``) also gets a
``message`` span from X to Y under its step span.

Records carry no timestamps: item i of the record at position p in the file occupies
second i after ``2024-01-01T00:00:00Z + p hours``. Ids hash the question id and history.
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

__all__ = ["history_actor", "is_whowhen", "whowhen_spans"]

_LABELS = ("mistake_agent", "mistake_step", "mistake_reason")
_CHAT_ROLES = frozenset({"user", "assistant", "system", "tool", "function", "human"})
_ROLE = re.compile(r"^(?P<agent>[^(]*?)\s*(?:\((?P<note>[^)]*)\))?\s*$")
_RESOURCE = {"service.name": "who-and-when", "tracevault.harness.name": "who-and-when"}
_PREFIX = "tracevault.whowhen."


def _is_record(d: Any) -> bool:
    return isinstance(d, dict) and isinstance(d.get("history"), list) \
        and any(k in d for k in _LABELS) \
        and all(isinstance(h, dict) and "content" in h for h in d["history"])


def is_whowhen(doc: Any) -> bool:
    """Whether ``doc`` is a Who&When record or a list of them."""
    if isinstance(doc, list):
        return bool(doc) and all(_is_record(d) for d in doc)
    return _is_record(doc)


def history_actor(item: dict[str, Any]) -> tuple[str, str | None]:
    """The agent acting in a history item, and the agent it addresses when stated."""
    name = item.get("name")
    role = str(item.get("role") or "").strip()
    if isinstance(name, str) and name.strip() and \
            (name.strip().lower() not in _CHAT_ROLES or not role):
        return name.strip(), None
    match = _ROLE.match(role)
    if match is None or not match["agent"]:
        return role or "unknown", None
    note = (match["note"] or "").strip()
    receiver = note[2:].strip() if note.startswith("->") else None
    return match["agent"], receiver or None


def _step_number(raw: Any) -> int | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    text = str(raw).strip() if raw is not None else ""
    return int(text) if text.lstrip("-").isdigit() else None


def _labels(record: dict[str, Any], name: str | None) -> dict[str, Any]:
    step = _step_number(record.get("mistake_step"))
    attrs: dict[str, Any] = {
        "mistake_agent": record.get("mistake_agent"), "mistake_step": step,
        "mistake_reason": record.get("mistake_reason"), "question": record.get("question"),
        "ground_truth": value(record.get("ground_truth")), "file": file_label(name),
        "question_id": record.get("question_ID"), "level": value(record.get("level")),
        "is_correct": record.get("is_correct"),
    }
    if step is None and record.get("mistake_step") is not None:
        attrs["mistake_step_text"] = str(record["mistake_step"])
    if isinstance(record.get("system_prompt"), (dict, list)):
        attrs["system_prompt"] = dumps(record["system_prompt"])
    for key, v in record.items():
        if key not in ("history", "system_prompt", "question_ID", "mistake_step"):
            attrs.setdefault(key, value(v))
    return {_PREFIX + k: v for k, v in attrs.items() if v is not None}


def whowhen_spans(doc: Any, name: str | None = None) -> list[RawSpan]:
    """Convert Who&When records into raw spans, one trace per record."""
    spans: list[RawSpan] = []
    for position, record in enumerate(doc if isinstance(doc, list) else [doc]):
        spans += _record_spans(record, position, name)
    return spans


def _record_spans(record: dict[str, Any], position: int, name: str | None) -> list[RawSpan]:
    history = record["history"]
    qid = record.get("question_ID")
    trace_id = hex_id(16, "who-and-when", qid, content_hash(history))
    out = SpanSet(trace_id, _RESOURCE, "tracevault.import.whowhen")
    base = run_base_ns(position)
    root = out.span_id("root")
    for i, item in enumerate(history):
        agent, receiver = history_actor(item)
        start = base + i * SECOND_NS
        content = value(item.get("content"))
        step = out.add(("step", i), f"step {i} {agent}", root, start, start + 900 * MILLI_NS, {
            "tracevault.span.kind": "step", "tracevault.step.index": i,
            "gen_ai.agent.name": agent, "tracevault.output": content,
            _PREFIX + "role": value(item.get("role")), _PREFIX + "name": value(item.get("name")),
        })
        if receiver:
            out.add(("message", i), f"{agent} -> {receiver}", step, start + MILLI_NS,
                    start + 900 * MILLI_NS, {
                        "tracevault.span.kind": "message",
                        "tracevault.message.direction": "send",
                        "tracevault.message.sender": agent,
                        "tracevault.message.receiver": receiver,
                        "tracevault.message.content": content})
    last = value(history[-1].get("content")) if history else None
    attrs = {"gen_ai.operation.name": "invoke_workflow",
             "tracevault.input": value(record.get("question")), "tracevault.output": last,
             **_labels(record, name)}
    out.add(("root",), f"who-and-when {qid or trace_id}", None, base,
            base + max(len(history), 1) * SECOND_NS, attrs)
    return out.spans
