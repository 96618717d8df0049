"""Structured trace and span filters, compiled to parameterised SQL over the store views."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

import orjson

from .._exceptions import QueryError

__all__ = ["SpanQuery", "TraceQuery", "parse_time"]

_REL = re.compile(r"^-(\d+(?:\.\d+)?)\s*(s|m|h|d|w)$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_time(value: str | int | float | None) -> int | None:
    """Parse a time bound: Unix ns (int), ISO 8601, or relative like ``-3d`` / ``-15m``."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        return int(value)
    text = value.strip()
    m = _REL.match(text)
    if m:
        return time.time_ns() - int(float(m.group(1)) * _UNIT[m.group(2)] * 1e9)
    if text.lstrip("-").isdigit():
        return int(text)
    from datetime import datetime, timezone

    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise QueryError(
            f"cannot read time {value!r}: use ISO 8601, Unix ns or a relative time like -3d"
        ) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return int(dt.timestamp() * 1e9)


def escape_like(text: str) -> str:
    """Escape LIKE wildcards so user text matches literally."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def text_patterns(text: str) -> list[str]:
    """ILIKE patterns for free text: as typed, and as it appears inside stored JSON."""
    escaped = orjson.dumps(text).decode()[1:-1]
    patterns = [f"%{escape_like(text)}%"]
    if escaped != text:
        patterns.append(f"%{escape_like(escaped)}%")
    return patterns


@dataclass
class SpanQuery:
    """Filters on spans. Every field is optional; set fields are combined with AND."""

    project: str | None = None
    trace_id: str | None = None
    kind: str | None = None
    name: str | None = None
    agent: str | None = None
    tool: str | None = None
    model: str | None = None
    status: str | None = None
    service: str | None = None
    session: str | None = None
    text: str | None = None
    start: str | int | None = None
    end: str | int | None = None
    filter: str | None = None
    """A filter-language expression (docs/query.md)."""
    limit: int | None = 1000
    offset: int = 0

    def where(self, alias: str = "s") -> tuple[list[str], list[Any]]:
        """SQL conditions (on table alias ``alias``) and their parameters."""
        conds: list[str] = []
        params: list[Any] = []
        a = alias
        if self.filter:
            from ._compile import compile_filter

            c = compile_filter(self.filter)
            if c.uses_traces:
                conds.append(f"({a}.project, {a}.trace_id, {a}.span_id) IN (SELECT s.project, "
                             "s.trace_id, s.span_id FROM spans s JOIN traces t "
                             f"USING (project, trace_id) WHERE {c.sql})")
            else:
                conds.append(c.sql if a == "s" else
                             f"({a}.project, {a}.trace_id, {a}.span_id) IN (SELECT s.project, "
                             f"s.trace_id, s.span_id FROM spans s WHERE {c.sql})")
            params += c.params

        def eq(column: str, value: Any) -> None:
            if value is not None:
                conds.append(f"{a}.{column} = ?")
                params.append(value)

        eq("project", self.project)
        eq("trace_id", self.trace_id)
        eq("kind", self.kind)
        eq("name", self.name)
        eq("tool_name", self.tool)
        eq("status", self.status)
        eq("service_name", self.service)
        eq("session_id", self.session)
        eq("agent_name", self.agent)
        if self.model is not None:
            conds.append(f"(coalesce({a}.llm_response_model, '') = ? "
                         f"OR coalesce({a}.llm_request_model, '') = ?)")
            params += [self.model, self.model]
        lo, hi = parse_time(self.start), parse_time(self.end)
        if lo is not None:
            conds.append(f"{a}.start_ns >= ?")
            params.append(lo)
        if hi is not None:
            conds.append(f"{a}.start_ns <= ?")
            params.append(hi)
        if self.text:
            pats = text_patterns(self.text)
            like = " OR ".join("data ILIKE ? ESCAPE '\\'" for _ in pats)
            direct = " OR ".join(
                f"{a}.name ILIKE ? ESCAPE '\\' OR {a}.attributes ILIKE ? ESCAPE '\\' "
                f"OR {a}.status_message ILIKE ? ESCAPE '\\'" for _ in pats
            )
            conds.append(
                f"({direct} OR ({a}.project, {a}.trace_id, {a}.span_id) IN ("
                f"SELECT project, trace_id, span_id FROM span_refs WHERE hash IN "
                f"(SELECT hash FROM blobs WHERE {like})))"
            )
            for p in pats:
                params += [p, p, p]
            params += pats
        return conds, params


@dataclass
class TraceQuery:
    """Filters on traces. Span-level fields match traces holding at least one such span."""

    project: str | None = None
    service: str | None = None
    agent: str | None = None
    model: str | None = None
    status: str | None = None
    session: str | None = None
    start: str | int | None = None
    end: str | int | None = None
    spans: SpanQuery = field(default_factory=SpanQuery)
    """Span conditions (kind, tool, name, text...) a trace must contain a match for."""
    filter: str | None = None
    """A filter-language expression; a trace matches when one of its spans does."""
    limit: int = 50
    offset: int = 0

    def where(self) -> tuple[list[str], list[Any]]:
        """SQL conditions on the ``traces`` view (alias ``t``) and their parameters."""
        conds: list[str] = []
        params: list[Any] = []
        if self.filter:
            from ._compile import compile_filter

            c = compile_filter(self.filter)
            if not c.uses_spans:
                conds.append(c.sql)
            elif c.uses_traces:
                conds.append("(t.project, t.trace_id) IN (SELECT s.project, s.trace_id FROM "
                             f"spans s JOIN traces t USING (project, trace_id) WHERE {c.sql})")
            else:
                conds.append("(t.project, t.trace_id) IN (SELECT s.project, s.trace_id FROM "
                             f"spans s WHERE {c.sql})")
            params += c.params
        if self.project is not None:
            conds.append("t.project = ?")
            params.append(self.project)
        if self.service is not None:
            conds.append("t.service_name = ?")
            params.append(self.service)
        if self.status is not None:
            conds.append("t.status = ?")
            params.append(self.status)
        for column, value in (("agents", self.agent), ("models", self.model),
                              ("session_ids", self.session)):
            if value is not None:
                conds.append(f"list_contains(t.{column}, ?)")
                params.append(value)
        lo, hi = parse_time(self.start), parse_time(self.end)
        if lo is not None:
            conds.append("t.start_ns >= ?")
            params.append(lo)
        if hi is not None:
            conds.append("t.start_ns <= ?")
            params.append(hi)
        span_conds, span_params = self.spans.where("s")
        if span_conds:
            if self.project is not None:
                span_conds.insert(0, "s.project = ?")
                span_params.insert(0, self.project)
            conds.append(
                "(t.project, t.trace_id) IN (SELECT s.project, s.trace_id FROM spans s WHERE "
                + " AND ".join(span_conds) + ")"
            )
            params += span_params
        return conds, params
