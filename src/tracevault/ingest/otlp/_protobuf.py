"""OTLP protobuf -> raw records. Only this folder knows the OTLP message layout."""

from __future__ import annotations

import base64
from typing import Any

from google.protobuf.message import DecodeError as _PbDecodeError
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

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

__all__ = ["any_value", "decode_logs_protobuf", "decode_logs_request", "decode_traces_protobuf",
           "decode_traces_request", "kv_dict"]


def any_value(v: Any) -> Any:
    """Convert an OTLP ``AnyValue`` message to a Python value."""
    which = v.WhichOneof("value")
    if which == "string_value":
        return v.string_value
    if which == "int_value":
        return v.int_value
    if which == "double_value":
        return v.double_value
    if which == "bool_value":
        return v.bool_value
    if which == "array_value":
        return [any_value(x) for x in v.array_value.values]
    if which == "kvlist_value":
        return {kv.key: any_value(kv.value) for kv in v.kvlist_value.values}
    if which == "bytes_value":
        # Bytes have no JSON form; keep them recognisable and lossless.
        return {"$bytes": base64.b64encode(v.bytes_value).decode()}
    return None


def kv_dict(kvs: Any) -> dict[str, Any]:
    """Convert repeated ``KeyValue`` to a dict (last key wins, as in the SDKs)."""
    out: dict[str, Any] = {}
    for kv in kvs:
        v = kv.value
        # Inlined for the common scalar types: this runs for every attribute.
        which = v.WhichOneof("value")
        if which == "string_value":
            out[kv.key] = v.string_value
        elif which == "int_value":
            out[kv.key] = v.int_value
        else:
            out[kv.key] = any_value(v)
    return out


def _parse(cls: Any, body: bytes) -> Any:
    try:
        return cls.FromString(body)
    except (_PbDecodeError, ValueError, RuntimeError) as exc:
        raise DecodeError(f"body is not a valid {cls.__name__} protobuf: {exc}") from None


def decode_traces_protobuf(body: bytes) -> tuple[list[RawSpan], list[Rejection]]:
    """Decode an ``ExportTraceServiceRequest`` body."""
    return decode_traces_request(_parse(ExportTraceServiceRequest, body))


def decode_traces_request(request: Any) -> tuple[list[RawSpan], list[Rejection]]:
    """Convert a parsed ``ExportTraceServiceRequest`` (e.g. from gRPC)."""
    spans: list[RawSpan] = []
    rejected: list[Rejection] = []
    for rs in request.resource_spans:
        resource = kv_dict(rs.resource.attributes)
        for ss in rs.scope_spans:
            scope_name = ss.scope.name or None
            scope_version = ss.scope.version or None
            for s in ss.spans:
                trace_id = s.trace_id.hex()
                span_id = s.span_id.hex()
                parent = s.parent_span_id.hex() or None
                problem = check_ids(trace_id, span_id, parent)
                if problem:
                    rejected.append(Rejection(trace_id or None, span_id or None, problem))
                    continue
                kind = s.kind
                code = s.status.code
                spans.append(RawSpan(
                    trace_id=trace_id,
                    span_id=span_id,
                    parent_span_id=parent,
                    name=s.name,
                    otel_kind=OTEL_KINDS[kind] if 0 <= kind < 6 else "unspecified",
                    start_ns=s.start_time_unix_nano,
                    end_ns=s.end_time_unix_nano,
                    status_code=STATUS_CODES[code] if 0 <= code < 3 else "unset",
                    status_message=s.status.message or None,
                    attributes=kv_dict(s.attributes),
                    resource=resource,
                    scope_name=scope_name,
                    scope_version=scope_version,
                    events=[
                        RawEvent(e.time_unix_nano, e.name, kv_dict(e.attributes))
                        for e in s.events
                    ],
                    links=[
                        RawLink(ln.trace_id.hex(), ln.span_id.hex(), kv_dict(ln.attributes),
                                ln.trace_state)
                        for ln in s.links
                    ],
                    flags=s.flags,
                    trace_state=s.trace_state,
                ))
    return spans, rejected



def decode_logs_protobuf(body: bytes) -> tuple[list[RawLog], int]:
    """Decode an ``ExportLogsServiceRequest``; returns logs and the count rejected."""
    return decode_logs_request(_parse(ExportLogsServiceRequest, body))


def decode_logs_request(request: Any) -> tuple[list[RawLog], int]:
    """Convert a parsed ``ExportLogsServiceRequest`` (e.g. from gRPC)."""
    logs: list[RawLog] = []
    rejected = 0
    for rl in request.resource_logs:
        resource = kv_dict(rl.resource.attributes)
        for sl in rl.scope_logs:
            scope_name = sl.scope.name or None
            for r in sl.log_records:
                attrs = kv_dict(r.attributes)
                trace_id = r.trace_id.hex() or None
                span_id = r.span_id.hex() or None
                if (trace_id is None) != (span_id is None) or (
                    trace_id and check_ids(trace_id, span_id or "", None)
                ):
                    rejected += 1
                    continue
                logs.append(RawLog(
                    trace_id=trace_id,
                    span_id=span_id,
                    time_ns=r.time_unix_nano or r.observed_time_unix_nano,
                    event_name=r.event_name or attrs.get("event.name"),
                    severity=r.severity_text or None,
                    body=any_value(r.body) if r.HasField("body") else None,
                    attributes=attrs,
                    resource=resource,
                    scope_name=scope_name,
                ))
    return logs, rejected
