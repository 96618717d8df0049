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


def text_condition(text: str, alias: str = "s") -> tuple[str, list[Any]]:
    """SQL (on span alias ``alias``) for spans whose payloads, name or status contain ``text``.

    Payloads are the content blobs a span references: messages, tool arguments and
    results, memory values, message contents, inputs and outputs. Case-insensitive;
    ``*`` matches any run of characters. The text is also tried as it appears inside
    JSON (escaped quotes, backslashes, control characters).
    """
    a = alias
    variants = list(dict.fromkeys([text, orjson.dumps(text).decode()[1:-1]]))
    if "*" in text:
        params = [f"%{escape_like(v).replace('*', '%')}%" for v in variants]
        match = "{col} ILIKE ? ESCAPE '\\'"
    else:
        params = [v.lower() for v in variants]
        match = "contains(lower({col}), ?)"
    blobs = " OR ".join(match.format(col="data") for _ in params)
    direct = " OR ".join(match.format(col=f"{a}.name") + " OR "
                         + match.format(col=f"{a}.status_message") for _ in params)
    sql = (f"({direct} OR ({a}.project, {a}.trace_id, {a}.span_id) IN (SELECT project, "
           f"trace_id, span_id FROM span_refs WHERE hash IN (SELECT hash FROM blobs "
           f"WHERE {blobs})))")
    return sql, [p for p in params for _ in (0, 1)] + params


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
            sql, more = text_condition(self.text, a)
            conds.append(sql)
            params += more
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

    def candidates(self) -> tuple[str | None, list[Any]]:
        """A subquery of ``(project, trace_id)`` that every match is among, or None.

        Span conditions select few traces; narrowing the trace parts to them before
        aggregating the summaries keeps filtered pages fast on large stores.
        ``where(narrowed=True)`` then leaves that condition out.
        """
        subqueries = self._span_subqueries()
        return subqueries[0] if subqueries else (None, [])

    def _span_subqueries(self) -> list[tuple[str, list[Any]]]:
        out = []
        if self.filter:
            from ._compile import compile_filter

            c = compile_filter(self.filter)
            if c.uses_spans and not c.uses_traces:
                out.append((f"SELECT s.project, s.trace_id FROM spans s WHERE {c.sql}",
                            c.params))
        span_conds, span_params = self.spans.where("s")
        if span_conds:
            if self.project is not None:
                span_conds.insert(0, "s.project = ?")
                span_params.insert(0, self.project)
            out.append(("SELECT s.project, s.trace_id FROM spans s WHERE "
                        + " AND ".join(span_conds), span_params))
        return out

    def where(self, narrowed: bool = False) -> tuple[list[str], list[Any]]:
        """SQL conditions on the ``traces`` view (alias ``t``) and their parameters.

        With ``narrowed``, the rows come from ``candidates()`` already and the condition
        it stands for is left out.
        """
        conds: list[str] = []
        params: list[Any] = []
        subqueries = self._span_subqueries()[1 if narrowed else 0:]
        for sub, sub_params in subqueries:
            conds.append(f"(t.project, t.trace_id) IN ({sub})")
            params += sub_params
        if self.filter:
            from ._compile import compile_filter

            c = compile_filter(self.filter)
            if not c.uses_spans:
                conds.append(c.sql)
                params += c.params
            elif c.uses_traces:
                conds.append("(t.project, t.trace_id) IN (SELECT s.project, s.trace_id FROM "
                             f"spans s JOIN traces t USING (project, trace_id) WHERE {c.sql})")
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
        return conds, params
