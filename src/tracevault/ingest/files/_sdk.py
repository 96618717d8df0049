"""Span JSON written by OpenTelemetry SDKs (not OTLP wire JSON).

Python ``ReadableSpan.to_json()`` / ConsoleSpanExporter output (hex ``0x`` ids, ISO
times, ``SpanKind.INTERNAL``), the variant with integer ids and ns times that any-agent
writes, and JavaScript ``ReadableSpan`` objects (``spanContext``, ``[sec, ns]`` times)
as captured from the Vercel AI SDK.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from ..._exceptions import DecodeError
from .._raw import OTEL_KINDS, RawEvent, RawLink, RawSpan

__all__ = ["is_js_span", "is_sdk_span", "js_span", "sdk_span"]

_STATUS = {"unset": "unset", "ok": "ok", "error": "error", "0": "unset", "1": "ok",
           "2": "error"}


def _hex(value: Any, nbytes: int) -> str | None:
    if value is None or value == "" or value == 0:
        return None
    if isinstance(value, int):
        return f"{value:0{2 * nbytes}x}"
    text = str(value).lower().removeprefix("0x")
    if len(text) <= 2 * nbytes and all(c in "0123456789abcdef" for c in text):
        return text.rjust(2 * nbytes, "0")
    raise DecodeError(f"id {value!r} is not a hex or integer id")


def _ns(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, list) and len(value) == 2:
        return int(value[0]) * 1_000_000_000 + int(value[1])
    text = str(value)
    if text.isdigit():
        return int(text)
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return int(dt.timestamp()) * 1_000_000_000 + dt.microsecond * 1000


def _kind(value: Any) -> str:
    text = str(value or "internal").lower().removeprefix("spankind.")
    if text.isdigit():
        # JavaScript SpanKind enum: INTERNAL=0, SERVER, CLIENT, PRODUCER, CONSUMER.
        index = int(text) + 1
        return OTEL_KINDS[index] if index < len(OTEL_KINDS) else "internal"
    return text if text in OTEL_KINDS else "internal"


def is_sdk_span(d: Any) -> bool:
    """Whether ``d`` looks like a Python SDK span JSON object."""
    return isinstance(d, dict) and isinstance(d.get("context"), dict) and "name" in d


def sdk_span(d: dict[str, Any]) -> RawSpan:
    """Convert one Python SDK span JSON object."""
    ctx = d["context"]
    parent = d.get("parent") if isinstance(d.get("parent"), dict) else None
    parent_id = _hex(parent.get("span_id"), 8) if parent else _hex(d.get("parent_id"), 8)
    status = d.get("status") or {}
    code = str(status.get("status_code", "unset")).lower().removeprefix("statuscode.")
    resource = d.get("resource") or {}
    return RawSpan(
        trace_id=_hex(ctx.get("trace_id"), 16) or "",
        span_id=_hex(ctx.get("span_id"), 8) or "",
        parent_span_id=parent_id,
        name=str(d.get("name", "")),
        otel_kind=_kind(d.get("kind")),
        start_ns=_ns(d.get("start_time")),
        end_ns=_ns(d.get("end_time")),
        status_code=_STATUS.get(code, "unset"),
        status_message=status.get("description"),
        attributes=dict(d.get("attributes") or {}),
        resource=dict(resource.get("attributes") or {}),
        events=[RawEvent(_ns(e.get("timestamp")), str(e.get("name", "")),
                         dict(e.get("attributes") or {})) for e in d.get("events") or []],
        links=[RawLink(_hex(ln["context"]["trace_id"], 16) or "",
                       _hex(ln["context"]["span_id"], 8) or "",
                       dict(ln.get("attributes") or {}))
               for ln in d.get("links") or [] if isinstance(ln.get("context"), dict)],
    )


def is_js_span(d: Any) -> bool:
    """Whether ``d`` looks like a JavaScript ReadableSpan object."""
    return isinstance(d, dict) and isinstance(d.get("spanContext"), dict)


def js_span(d: dict[str, Any]) -> RawSpan:
    """Convert one JavaScript ReadableSpan object."""
    ctx = d["spanContext"]
    parent = d.get("parentSpanContext") or {}
    parent_id = d.get("parentSpanId") or (parent.get("spanId") if isinstance(parent, dict)
                                          else None)
    status = d.get("status") or {}
    return RawSpan(
        trace_id=_hex(ctx.get("traceId"), 16) or "",
        span_id=_hex(ctx.get("spanId"), 8) or "",
        parent_span_id=_hex(parent_id, 8),
        name=str(d.get("name", "")),
        otel_kind=_kind(d.get("kind", 0)),
        start_ns=_ns(d.get("startTime")),
        end_ns=_ns(d.get("endTime")),
        status_code=_STATUS.get(str(status.get("code", 0)), "unset"),
        status_message=status.get("message"),
        attributes=dict(d.get("attributes") or {}),
        resource=dict((d.get("resource") or {}).get("attributes") or {}),
        events=[RawEvent(_ns(e.get("time")), str(e.get("name", "")),
                         dict(e.get("attributes") or {})) for e in d.get("events") or []],
    )
