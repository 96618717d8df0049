"""The reviewer report: a self-contained record of what agents did, for non-engineers.

``build_report`` gathers, for the traces a filter and period select: the systems and
model versions involved, each run's story in plain language, the risk-relevant events,
the integrity status of the record, the retention and redaction applied, content
access, and how the record meets the logging duties of the EU AI Act (Art. 12, with the
retention duty of Art. 19). ``render_report_html`` / ``render_report_pdf`` write it.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .._exceptions import TraceVaultError
from .._text import short
from ..analysis import DEFAULT_FLAGS, Entry, build_incident
from ..schema import Span, TraceSummary

__all__ = ["ReviewReport", "RunRecord", "build_report", "plain_sentence"]


@dataclass
class RunRecord:
    """One run (trace) as the report tells it."""

    summary: TraceSummary
    input: str
    output: str
    entries: list[Entry]
    sentences: list[tuple[str, str, str]]
    """``(time, who, what happened)`` in plain language, in order."""
    risks: list[tuple[str, str]]
    """``(category, description)``: policy decisions, destructive actions, failures."""
    people: list[str]
    """Persons named as approvers or reviewers in the record."""


@dataclass
class ReviewReport:
    """Everything the report shows."""

    scope: dict[str, Any]
    generated_ns: int
    runs: list[RunRecord]
    total_runs: int
    systems: dict[str, list[str]]
    integrity: dict[str, Any]
    redactions: dict[str, int]
    retention: dict[str, Any] = field(default_factory=dict)
    access: dict[str, Any] = field(default_factory=dict)

    @property
    def risk_count(self) -> int:
        """Risk-relevant events across runs."""
        return sum(len(r.risks) for r in self.runs)


def _when(ns: int) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(ns / 1e9, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def plain_sentence(e: Entry) -> str:
    """An incident entry as a sentence for a reader who does not read code."""
    d = e.details
    if e.kind == "decision":
        model = d.get("model") or "the model"
        what = e.title.replace("decided: ", "decided to call ", 1).replace(
            "answered: ", "answered: ", 1)
        return f"Asked {model}, which {what}"
    if e.kind == "tool":
        name = e.title.split("(", 1)[0]
        args = short(d.get("arguments"), 160)
        if d.get("blocked"):
            return f"Tried to use the tool {name} with {args}; a policy blocked it."
        if e.error:
            return f"Used the tool {name} with {args}; it failed: " \
                   f"{short(e.error, 200).rstrip('.')}."
        effect = " This action changes data or the outside world." if e.flagged else ""
        result = short(d.get("result"), 200).rstrip(".")
        return f"Used the tool {name} with {args}; it returned {result}." + effect
    if e.kind == "memory":
        keys = ", ".join(d.get("keys") or []) or "(no keys)"
        return f"Changed its memory ({d.get('store') or 'memory'}): {keys}."
    if e.kind == "message":
        text = e.title.split(": ", 1)[1] if ": " in e.title else ""
        return f"Sent a message to {d.get('receiver')}: \u201c{text}\u201d"
    if e.kind in ("step", "retry"):
        return ("Retried " if e.kind == "retry" else "Started ") + e.title
    return f"Error: {e.title}"


def _risks(entries: list[Entry], spans: list[Span]) -> list[tuple[str, str]]:
    out = []
    for s in spans:
        if s.kind == "guardrail":
            out.append(("policy decision", f"{s.detail.name or s.name}: "
                                           f"{s.detail.decision or 'decision recorded'}"))
    for e in entries:
        if e.kind == "tool" and e.details.get("blocked"):
            out.append(("policy violation", f"{e.agent}: blocked {short(e.title, 160)}"))
        elif e.kind == "tool" and e.flagged:
            out.append(("destructive or external action", f"{e.agent}: {short(e.title, 160)}"))
        if e.error:
            out.append(("failure", f"{e.agent or '?'}: {short(e.error, 200)}"))
    return out


def _people(spans: list[Span]) -> list[str]:
    keys = ("tracevault.human.approver", "tracevault.human.reviewer", "enduser.id", "user.id")
    found = {str(s.attributes[k]) for s in spans for k in keys if s.attributes.get(k)}
    found |= {s.detail.sender for s in spans if s.kind == "message"
              and (s.attributes.get("tracevault.message.sender_type") == "human")}
    return sorted(p for p in found if p and p != "None")


def _run(summary: TraceSummary, spans: list[Span], flags: Sequence[str]) -> RunRecord:
    incident = build_incident(spans, flags=flags)
    roots = [s for s in spans if s.parent_span_id is None]
    root = roots[0] if roots else None
    first_llm = next((s for s in sorted(spans, key=lambda s: s.start_time_ns)
                      if s.kind == "llm" and s.detail.input_messages), None)
    given = getattr(root.detail, "input", None) if root else None
    if given is None and first_llm is not None:
        users = [m for m in first_llm.detail.input_messages if m.role == "user"]
        given = " ".join(p.content for p in (users[0].parts if users else [])
                         if p.type == "text")
    result = getattr(root.detail, "output", None) if root else None
    start = summary.start_time_ns
    sentences = [(f"+{(e.time_ns - start) / 1e9:.3f}s", f"{e.agent or '?'}"
                  + (f" ({e.service})" if e.service else ""), plain_sentence(e))
                 for e in incident.entries]
    return RunRecord(summary, short(given, 600), short(result, 600), incident.entries,
                     sentences, _risks(incident.entries, spans), _people(spans))


def _optional(store: Any, method: str, *args: Any) -> dict[str, Any]:
    """A store section the report shows when the store offers it and lets us read it."""
    if not hasattr(store, method):
        return {}
    try:
        return dict(getattr(store, method)(*args))
    except TraceVaultError as exc:  # e.g. a project API key may not read store-wide state
        return {"error": str(exc)}


def build_report(vault: Any, *, filter: str | None = None,  # noqa: A002
                 start: str | int | None = None, end: str | int | None = None,
                 project: str | None = None, max_runs: int = 200,
                 head: dict[str, Any] | None = None, public_key: str | None = None,
                 flags: Sequence[str] = DEFAULT_FLAGS) -> ReviewReport:
    """Gather the report for the traces matching ``filter`` that started in the period."""
    from ..query import TraceQuery
    from ._verify import verify

    summaries = vault.traces(filter=filter, start=start, end=end, project=project,
                             limit=max_runs)
    total = vault.store.count_traces(TraceQuery(filter=filter, start=start, end=end,
                                                project=project))
    runs, systems = [], {k: Counter() for k in ("services", "harnesses", "agents", "models",
                                                "providers", "projects")}
    redactions: Counter[str] = Counter()
    for summary in sorted(summaries, key=lambda s: s.start_time_ns):
        spans = vault.trace(summary.trace_id, project=summary.project).spans
        runs.append(_run(summary, spans, flags))
        systems["projects"][summary.project] += 1
        for s in spans:
            r = s.resource
            if r.service_name:
                systems["services"][r.service_name + (f" {r.service_version}"
                                                      if r.service_version else "")] += 1
            if r.harness_name:
                systems["harnesses"][f"{r.harness_name} {r.harness_version or ''}".strip()] += 1
            if s.agent and s.agent.name:
                systems["agents"][s.agent.name + (f" {s.agent.version}"
                                                  if s.agent.version else "")] += 1
            if s.kind == "llm":
                d = s.detail
                for m in {d.request_model, d.response_model} - {None}:
                    systems["models"][m] += 1
                if d.provider:
                    systems["providers"][d.provider] += 1
            for item in json.loads(s.attributes.get("tracevault.redactions") or "[]"):
                redactions[item.get("rule", "?")] += int(item.get("count", 1))
    checked = verify(vault.store, head, public_key)
    integrity = {"ok": checked.ok, "commits": checked.commits, "rows": checked.rows,
                 "head": checked.head, "signed": head is not None,
                 "problems": [str(p) for p in checked.problems[:20]],
                 "problem_count": len(checked.problems)}
    retention = _optional(vault.store, "retention_state")
    access = _optional(vault.store, "access_summary", start, end)
    return ReviewReport(
        scope={"filter": filter, "from": start, "to": end, "project": project,
               "store": getattr(vault.store, "url", "")},
        generated_ns=time.time_ns(), runs=runs, total_runs=total,
        systems={k: sorted(v) for k, v in systems.items()}, integrity=integrity,
        redactions=dict(redactions), retention=retention, access=access)
