"""Wire-neutral span and log records: what every input format decodes into."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["RawEvent", "RawLink", "RawLog", "RawSpan", "Rejection", "check_ids"]

OTEL_KINDS = ("unspecified", "internal", "server", "client", "producer", "consumer")
STATUS_CODES = ("unset", "ok", "error")


@dataclass(slots=True)
class RawEvent:
    """A span event as sent."""

    time_ns: int
    name: str
    attributes: dict[str, Any]


@dataclass(slots=True)
class RawLink:
    """A span link as sent."""

    trace_id: str
    span_id: str
    attributes: dict[str, Any]
    trace_state: str = ""


@dataclass(slots=True)
class RawSpan:
    """A span decoded from any wire format; ids are lowercase hex."""

    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    otel_kind: str
    start_ns: int
    end_ns: int
    status_code: str
    status_message: str | None
    attributes: dict[str, Any]
    resource: dict[str, Any]
    scope_name: str | None = None
    scope_version: str | None = None
    events: list[RawEvent] = field(default_factory=list)
    links: list[RawLink] = field(default_factory=list)
    flags: int = 0
    trace_state: str = ""
    project: str | None = None


@dataclass(slots=True)
class RawLog:
    """A log record decoded from OTLP; attached to its span by (trace_id, span_id)."""

    trace_id: str | None
    span_id: str | None
    time_ns: int
    event_name: str | None
    severity: str | None
    body: Any
    attributes: dict[str, Any]
    resource: dict[str, Any]
    scope_name: str | None = None
    project: str | None = None


@dataclass(slots=True)
class Rejection:
    """A span that could not be accepted, and why."""

    trace_id: str | None
    span_id: str | None
    reason: str


_HEX = frozenset("0123456789abcdef")


def check_ids(trace_id: str, span_id: str, parent: str | None) -> str | None:
    """Return why the ids are invalid, or None when they are fine."""
    if len(trace_id) != 32 or not _HEX.issuperset(trace_id):
        return f"trace_id {trace_id!r} is not 16 bytes"
    if trace_id == "0" * 32:
        return "trace_id is all zeros"
    if len(span_id) != 16 or not _HEX.issuperset(span_id):
        return f"span_id {span_id!r} is not 8 bytes"
    if span_id == "0" * 16:
        return "span_id is all zeros"
    if parent is not None and (len(parent) != 16 or not _HEX.issuperset(parent)):
        return f"parent_span_id {parent!r} is not 8 bytes"
    return None
