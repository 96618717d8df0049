"""OTLP JSON -> raw records.

Follows the OTLP/HTTP JSON encoding (hex ids, integer enums, 64-bit integers as strings)
and also accepts what real exporters produce beside it: base64 ids (the generic protobuf
JSON mapping), enum names (``SPAN_KIND_INTERNAL``, ``STATUS_CODE_OK``) and snake_case
field names.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson

from ..._exceptions import DecodeError
from .._raw import (
    OTEL_KINDS,
    STATUS_CODES,
    RawEvent,
    RawLink,
    RawLog,
    RawSpan,
    Rejection,
    check_ids,
)

__all__ = ["decode_logs_json", "decode_traces_json", "json_any_value", "json_kv_dict", "parse_id"]

_KIND_NAMES = {f"SPAN_KIND_{k.upper()}": i for i, k in enumerate(OTEL_KINDS)}
_STATUS_NAMES = {f"STATUS_CODE_{c.upper()}": i for i, c in enumerate(STATUS_CODES)}
_HEXCHARS = frozenset("0123456789abcdefABCDEF")


def _get(d: dict[str, Any], camel: str, snake: str | None = None) -> Any:
    value = d.get(camel)
    if value is None and snake is not None:
        value = d.get(snake)
    return value


def parse_id(value: Any, nbytes: int, where: str) -> str | None:
    """Parse a hex (OTLP/HTTP) or base64 (protobuf JSON) id into lowercase hex."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise DecodeError(f"{where}: id must be a string, got {type(value).__name__}")
    if len(value) == 2 * nbytes and _HEXCHARS.issuperset(value):
        return value.lower()
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise DecodeError(f"{where}: {value!r} is neither hex nor base64") from None
    if len(raw) != nbytes:
        raise DecodeError(f"{where}: {value!r} decodes to {len(raw)} bytes, expected {nbytes}")
    return raw.hex()


def _int(value: Any, where: str) -> int:
    if isinstance(value, bool):
        raise DecodeError(f"{where}: expected an integer, got a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            pass
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise DecodeError(f"{where}: expected an integer, got {value!r}")


def _enum(value: Any, names: dict[str, int], where: str) -> int:
    if value is None:
        return 0
    if isinstance(value, str) and value in names:
        return names[value]
    return _int(value, where)


def json_any_value(v: Any, where: str) -> Any:
    """Convert an OTLP JSON ``AnyValue`` object to a Python value."""
    if not isinstance(v, dict):
        raise DecodeError(f"{where}: AnyValue must be an object, got {type(v).__name__}")
    if not v:
        return None
    if len(v) != 1:
        raise DecodeError(f"{where}: AnyValue must have exactly one field, got {sorted(v)}")
    (key, inner), = v.items()
    if key in ("stringValue", "string_value"):
        if not isinstance(inner, str):
            raise DecodeError(f"{where}: stringValue must be a string, got {inner!r}")
        return inner
    if key in ("intValue", "int_value"):
        return _int(inner, where)
    if key in ("doubleValue", "double_value"):
        if isinstance(inner, (int, float)) and not isinstance(inner, bool):
            return float(inner)
        if inner in ("NaN", "Infinity", "-Infinity"):
            return float(inner)
        raise DecodeError(f"{where}: doubleValue must be a number, got {inner!r}")
    if key in ("boolValue", "bool_value"):
        if not isinstance(inner, bool):
            raise DecodeError(f"{where}: boolValue must be true or false, got {inner!r}")
        return inner
    if key in ("arrayValue", "array_value"):
        values = (inner or {}).get("values") or [] if isinstance(inner, dict) else None
        if not isinstance(values, list):
            raise DecodeError(f"{where}: arrayValue must be {{\"values\": [...]}}")
        return [json_any_value(x, f"{where}[{i}]") for i, x in enumerate(values)]
    if key in ("kvlistValue", "kvlist_value"):
        values = (inner or {}).get("values") or [] if isinstance(inner, dict) else None
        if not isinstance(values, list):
            raise DecodeError(f"{where}: kvlistValue must be {{\"values\": [...]}}")
        return json_kv_dict(values, where)
    if key in ("bytesValue", "bytes_value"):
        if not isinstance(inner, str):
            raise DecodeError(f"{where}: bytesValue must be a base64 string")
        return {"$bytes": inner}
    raise DecodeError(f"{where}: unknown AnyValue field {key!r}")


def json_kv_dict(kvs: Any, where: str) -> dict[str, Any]:
    """Convert a JSON list of ``KeyValue`` objects to a dict."""
    if kvs is None:
        return {}
    if not isinstance(kvs, list):
        raise DecodeError(f"{where}: attributes must be a list of {{key, value}} objects")
    out: dict[str, Any] = {}
    for i, kv in enumerate(kvs):
        if not isinstance(kv, dict) or not isinstance(kv.get("key"), str):
            raise DecodeError(f"{where}[{i}]: attribute must be an object with a string key")
        out[kv["key"]] = json_any_value(kv.get("value") or {}, f"{where}.{kv['key']}")
    return out


def _load(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise DecodeError(f"body is not valid JSON: {exc}") from None


def _list(d: dict[str, Any], camel: str, snake: str, where: str) -> list[Any]:
    value = _get(d, camel, snake)
    if value is None:
        return []
    if not isinstance(value, list):
        raise DecodeError(f"{where}.{camel} must be a list")
    return value


def _obj(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise DecodeError(f"{where} must be an object")
    return value


def decode_traces_json(body: bytes | Any) -> tuple[list[RawSpan], list[Rejection]]:
    """Decode an ``ExportTraceServiceRequest`` in JSON (bytes, or an already parsed dict)."""
    doc = _load(body) if isinstance(body, (bytes, bytearray, memoryview, str)) else body
    if not isinstance(doc, dict):
        raise DecodeError("body must be a JSON object with resourceSpans")
    spans: list[RawSpan] = []
    rejected: list[Rejection] = []
    for ri, rs in enumerate(_list(doc, "resourceSpans", "resource_spans", "body")):
        rwhere = f"resourceSpans[{ri}]"
        rs = _obj(rs, rwhere)
        resource = json_kv_dict(
            _obj(rs.get("resource"), f"{rwhere}.resource").get("attributes"),
            f"{rwhere}.resource.attributes",
        )
        for si, ss in enumerate(_list(rs, "scopeSpans", "scope_spans", rwhere)):
            swhere = f"{rwhere}.scopeSpans[{si}]"
            ss = _obj(ss, swhere)
            scope = _obj(ss.get("scope"), f"{swhere}.scope")
            for pi, s in enumerate(_list(ss, "spans", "spans", swhere)):
                where = f"{swhere}.spans[{pi}]"
                s = _obj(s, where)
                try:
                    span = _span(s, where, resource, scope)
                except _SpanRejected as exc:
                    rejected.append(exc.rejection)
                    continue
                spans.append(span)
    return spans, rejected


class _SpanRejected(Exception):
    def __init__(self, rejection: Rejection) -> None:
        self.rejection = rejection


def _span(s: dict[str, Any], where: str, resource: dict[str, Any],
          scope: dict[str, Any]) -> RawSpan:
    trace_id = parse_id(_get(s, "traceId", "trace_id"), 16, f"{where}.traceId")
    span_id = parse_id(_get(s, "spanId", "span_id"), 8, f"{where}.spanId")
    parent = parse_id(_get(s, "parentSpanId", "parent_span_id"), 8, f"{where}.parentSpanId")
    problem = check_ids(trace_id or "", span_id or "", parent)
    if problem:
        raise _SpanRejected(Rejection(trace_id, span_id, problem))
    status = _obj(s.get("status"), f"{where}.status")
    kind = _enum(s.get("kind"), _KIND_NAMES, f"{where}.kind")
    code = _enum(status.get("code"), _STATUS_NAMES, f"{where}.status.code")
    name = s.get("name", "")
    if not isinstance(name, str):
        raise DecodeError(f"{where}.name must be a string")
    events = []
    for ei, e in enumerate(_list(s, "events", "events", where)):
        e = _obj(e, f"{where}.events[{ei}]")
        events.append(RawEvent(
            _int(_get(e, "timeUnixNano", "time_unix_nano") or 0, f"{where}.events[{ei}].time"),
            str(e.get("name", "")),
            json_kv_dict(e.get("attributes"), f"{where}.events[{ei}].attributes"),
        ))
    links = []
    for li, ln in enumerate(_list(s, "links", "links", where)):
        ln = _obj(ln, f"{where}.links[{li}]")
        lt = parse_id(_get(ln, "traceId", "trace_id"), 16, f"{where}.links[{li}].traceId")
        ls = parse_id(_get(ln, "spanId", "span_id"), 8, f"{where}.links[{li}].spanId")
        if lt and ls:
            links.append(RawLink(lt, ls, json_kv_dict(ln.get("attributes"),
                                                      f"{where}.links[{li}].attributes"),
                                 str(_get(ln, "traceState", "trace_state") or "")))
    return RawSpan(
        trace_id=trace_id or "",
        span_id=span_id or "",
        parent_span_id=parent,
        name=name,
        otel_kind=OTEL_KINDS[kind] if 0 <= kind < 6 else "unspecified",
        start_ns=_int(_get(s, "startTimeUnixNano", "start_time_unix_nano") or 0,
                      f"{where}.startTimeUnixNano"),
        end_ns=_int(_get(s, "endTimeUnixNano", "end_time_unix_nano") or 0,
                    f"{where}.endTimeUnixNano"),
        status_code=STATUS_CODES[code] if 0 <= code < 3 else "unset",
        status_message=status.get("message") or None,
        attributes=json_kv_dict(s.get("attributes"), f"{where}.attributes"),
        resource=resource,
        scope_name=scope.get("name") or None,
        scope_version=scope.get("version") or None,
        events=events,
        links=links,
        flags=_int(s.get("flags") or 0, f"{where}.flags"),
        trace_state=str(_get(s, "traceState", "trace_state") or ""),
    )


def decode_logs_json(body: bytes | Any) -> tuple[list[RawLog], int]:
    """Decode an ``ExportLogsServiceRequest`` in JSON; returns logs and the count rejected."""
    doc = _load(body) if isinstance(body, (bytes, bytearray, memoryview, str)) else body
    if not isinstance(doc, dict):
        raise DecodeError("body must be a JSON object with resourceLogs")
    logs: list[RawLog] = []
    rejected = 0
    for ri, rl in enumerate(_list(doc, "resourceLogs", "resource_logs", "body")):
        rwhere = f"resourceLogs[{ri}]"
        rl = _obj(rl, rwhere)
        resource = json_kv_dict(_obj(rl.get("resource"), rwhere).get("attributes"),
                                f"{rwhere}.resource.attributes")
        for si, sl in enumerate(_list(rl, "scopeLogs", "scope_logs", rwhere)):
            swhere = f"{rwhere}.scopeLogs[{si}]"
            sl = _obj(sl, swhere)
            scope = _obj(sl.get("scope"), f"{swhere}.scope")
            for li, r in enumerate(_list(sl, "logRecords", "log_records", swhere)):
                where = f"{swhere}.logRecords[{li}]"
                r = _obj(r, where)
                attrs = json_kv_dict(r.get("attributes"), f"{where}.attributes")
                try:
                    trace_id = parse_id(_get(r, "traceId", "trace_id"), 16, f"{where}.traceId")
                    span_id = parse_id(_get(r, "spanId", "span_id"), 8, f"{where}.spanId")
                except DecodeError:
                    rejected += 1
                    continue
                if (trace_id is None) != (span_id is None):
                    rejected += 1
                    continue
                body_value = r.get("body")
                logs.append(RawLog(
                    trace_id=trace_id,
                    span_id=span_id,
                    time_ns=_int(_get(r, "timeUnixNano", "time_unix_nano")
                                 or _get(r, "observedTimeUnixNano", "observed_time_unix_nano")
                                 or 0, f"{where}.timeUnixNano"),
                    event_name=_get(r, "eventName", "event_name") or attrs.get("event.name"),
                    severity=_get(r, "severityText", "severity_text") or None,
                    body=json_any_value(body_value, f"{where}.body") if body_value else None,
                    attributes=attrs,
                    resource=resource,
                    scope_name=scope.get("name") or None,
                ))
    return logs, rejected
