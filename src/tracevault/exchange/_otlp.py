"""OTLP/JSON export: each trace as an ``ExportTraceServiceRequest`` document."""

from __future__ import annotations

import gzip
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

from ..ingest._raw import OTEL_KINDS, STATUS_CODES, RawEvent, RawLog, RawSpan
from ._records import iter_traces, select_traces

__all__ = ["any_value", "export_otlp_json", "logs_document", "traces_document"]


def any_value(value: Any) -> dict[str, Any]:
    """A Python attribute value as an OTLP JSON ``AnyValue`` (the decoder's inverse)."""
    if value is None:
        return {}
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        if math.isnan(value):
            return {"doubleValue": "NaN"}
        if math.isinf(value):
            return {"doubleValue": "Infinity" if value > 0 else "-Infinity"}
        return {"doubleValue": value}
    if isinstance(value, str):
        return {"stringValue": value}
    if isinstance(value, (list, tuple)):
        return {"arrayValue": {"values": [any_value(v) for v in value]}}
    if isinstance(value, dict):
        if len(value) == 1 and isinstance(value.get("$bytes"), str):
            return {"bytesValue": value["$bytes"]}  # how the decoder keeps bytes values
        return {"kvlistValue": {"values": key_values(value)}}
    return {"stringValue": str(value)}


def key_values(attrs: dict[str, Any]) -> list[dict[str, Any]]:
    """An attribute map as a list of OTLP JSON ``KeyValue`` objects."""
    return [{"key": k, "value": any_value(v)} for k, v in attrs.items()]


def _key(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def _span(s: RawSpan) -> dict[str, Any]:
    out: dict[str, Any] = {"traceId": s.trace_id, "spanId": s.span_id}
    if s.parent_span_id:
        out["parentSpanId"] = s.parent_span_id
    if s.trace_state:
        out["traceState"] = s.trace_state
    if s.flags:
        out["flags"] = s.flags
    status: dict[str, Any] = {"code": STATUS_CODES.index(s.status_code)
                              if s.status_code in STATUS_CODES else 0}
    if s.status_message:
        status["message"] = s.status_message
    out.update({
        "name": s.name,
        "kind": OTEL_KINDS.index(s.otel_kind) if s.otel_kind in OTEL_KINDS else 0,
        "startTimeUnixNano": str(s.start_ns),
        "endTimeUnixNano": str(s.end_ns),
        "attributes": key_values(s.attributes),
        "events": [{"timeUnixNano": str(e.time_ns), "name": e.name,
                    "attributes": key_values(e.attributes)} for e in s.events],
        "links": [{"traceId": ln.trace_id, "spanId": ln.span_id,
                   **({"traceState": ln.trace_state} if ln.trace_state else {}),
                   "attributes": key_values(ln.attributes)} for ln in s.links],
        "status": status,
    })
    return out


def traces_document(spans: Sequence[RawSpan]) -> dict[str, Any]:
    """An ``ExportTraceServiceRequest``: spans grouped by resource, then by scope."""
    resources: dict[bytes, tuple[dict[str, Any], dict[bytes, list[dict[str, Any]]]]] = {}
    scopes: dict[tuple[bytes, bytes], dict[str, Any]] = {}
    for s in spans:
        rkey = _key(s.resource)
        resource, by_scope = resources.setdefault(rkey, (s.resource, {}))
        scope = {k: v for k, v in (("name", s.scope_name), ("version", s.scope_version)) if v}
        skey = _key(scope)
        scopes[(rkey, skey)] = scope
        by_scope.setdefault(skey, []).append(_span(s))
    return {"resourceSpans": [
        {"resource": {"attributes": key_values(resource)},
         "scopeSpans": [{"scope": scopes[(rkey, skey)], "spans": items}
                        for skey, items in by_scope.items()]}
        for rkey, (resource, by_scope) in resources.items()]}


def logs_document(logs: Sequence[RawLog]) -> dict[str, Any]:
    """An ``ExportLogsServiceRequest`` of log records, grouped by resource."""
    resources: dict[bytes, tuple[dict[str, Any], list[dict[str, Any]]]] = {}
    for log in logs:
        record: dict[str, Any] = {"timeUnixNano": str(log.time_ns)}
        if log.trace_id and log.span_id:
            record.update(traceId=log.trace_id, spanId=log.span_id)
        if log.event_name:
            record["eventName"] = log.event_name
        if log.severity:
            record["severityText"] = log.severity
        if log.body is not None:
            record["body"] = any_value(log.body)
        record["attributes"] = key_values(log.attributes)
        resources.setdefault(_key(log.resource), (log.resource, []))[1].append(record)
    return {"resourceLogs": [
        {"resource": {"attributes": key_values(resource)},
         "scopeLogs": [{"scope": {}, "logRecords": records}]}
        for resource, records in resources.values()]}


def evaluation_event(score: Any) -> RawEvent:
    """A score as an OTel GenAI ``gen_ai.evaluation.result`` span event."""
    attrs: dict[str, Any] = {"gen_ai.evaluation.name": score.name}
    for key, value in (("gen_ai.evaluation.score.value", score.value),
                       ("gen_ai.evaluation.score.label", score.label
                        or (None if score.passed is None else
                            "pass" if score.passed else "fail")),
                       ("gen_ai.evaluation.explanation", score.explanation),
                       ("tracevault.score.id", score.score_id),
                       ("tracevault.score.source", score.source),
                       ("tracevault.score.run_id", score.run_id),
                       ("tracevault.score.evaluator",
                        orjson.dumps(score.evaluator).decode() if score.evaluator else None)):
        if value is not None:
            attrs[key] = value
    return RawEvent(score.created_ns, "gen_ai.evaluation.result", attrs)


def _with_evaluations(spans: Sequence[RawSpan], scores: Sequence[Any]) -> None:
    by_id = {s.span_id: s for s in spans}
    root = next((s for s in spans if not s.parent_span_id), spans[0] if spans else None)
    for score in scores:
        target = by_id.get(score.span_id or "", root)
        if target is not None:
            target.events.append(evaluation_event(score))


def export_otlp_json(vault: Any, path: str | Path, *, filter: str | None = None,  # noqa: A002
                     trace_ids: Sequence[str] | None = None, start: str | int | None = None,
                     end: str | int | None = None, project: str | None = None,
                     evaluations: bool = True) -> int:
    """Write matching traces as OTLP/JSON lines (one document per trace); returns traces.

    Spans carry their exact original attributes, resource, scope, events and links;
    log records attached to a trace follow it as an ``ExportLogsServiceRequest`` line.
    With ``evaluations``, each stored score of a trace is added as a
    ``gen_ai.evaluation.result`` event on the span it judged (else the root span).
    A path ending in ``.gz`` is gzip-compressed. ``tracevault import`` reads the file.
    """
    keys = select_traces(vault, filter=filter, trace_ids=trace_ids, start=start, end=end,
                         project=project)
    target = Path(path)
    tmp = target.with_name(target.name + ".tmp")
    opener: Any = gzip.open if target.name.endswith(".gz") else open
    with opener(tmp, "wb") as out:
        for rec in iter_traces(vault.store, keys):
            if rec.spans and evaluations and hasattr(vault.store, "scores"):
                _with_evaluations(rec.spans, vault.scores(rec.trace_id, project=rec.project))
            if rec.spans:
                out.write(orjson.dumps(traces_document(rec.spans)) + b"\n")
            if rec.logs:
                out.write(orjson.dumps(logs_document(rec.logs)) + b"\n")
    tmp.replace(target)
    return len(keys)
