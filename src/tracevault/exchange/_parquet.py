"""Parquet export: one row per span, typed columns plus the content as JSON text."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from ._records import iter_traces, select_traces

__all__ = ["PARQUET_COLUMNS", "export_parquet"]

_TS = pa.timestamp("ns", tz="UTC")

PARQUET_COLUMNS: tuple[tuple[str, pa.DataType, str], ...] = (
    ("project", pa.string(), "Project."),
    ("trace_id", pa.string(), "Trace id (32 hex digits)."),
    ("span_id", pa.string(), "Span id (16 hex digits)."),
    ("parent_span_id", pa.string(), "Parent span id; null for roots."),
    ("name", pa.string(), "Span name."),
    ("kind", pa.string(), "agent, llm, tool, memory, message, retrieval, step, guardrail, "
                          "other."),
    ("otel_kind", pa.string(), "OpenTelemetry span kind."),
    ("start_time", _TS, "Start (UTC, ns precision)."),
    ("start_time_ns", pa.int64(), "Start, Unix ns."),
    ("end_time_ns", pa.int64(), "End, Unix ns."),
    ("duration_ns", pa.int64(), "End minus start."),
    ("status", pa.string(), "unset, ok or error."),
    ("status_message", pa.string(), "Status description."),
    ("error_type", pa.string(), "Error class."),
    ("service_name", pa.string(), "service.name."),
    ("service_version", pa.string(), "service.version."),
    ("harness_name", pa.string(), "Agent harness or framework."),
    ("harness_version", pa.string(), "Its version."),
    ("scope_name", pa.string(), "Instrumentation scope."),
    ("scope_version", pa.string(), "Its version."),
    ("agent_id", pa.string(), "Agent id (own or nearest ancestor's)."),
    ("agent_name", pa.string(), "Agent name."),
    ("agent_version", pa.string(), "Agent version."),
    ("session_id", pa.string(), "Session / conversation id."),
    ("convention", pa.string(), "Convention the producer followed."),
    ("schema_version", pa.int32(), "Schema version of the record."),
    ("operation", pa.string(), "Operation of llm, agent and memory spans."),
    ("provider", pa.string(), "Model provider (llm spans)."),
    ("request_model", pa.string(), "Model asked for."),
    ("response_model", pa.string(), "Model that answered."),
    ("input_tokens", pa.int64(), "Input tokens."),
    ("output_tokens", pa.int64(), "Output tokens."),
    ("total_tokens", pa.int64(), "Total tokens."),
    ("cost_usd", pa.float64(), "Reported cost in USD."),
    ("tool_name", pa.string(), "Tool name (tool spans)."),
    ("tool_call_id", pa.string(), "Tool call id (tool spans)."),
    ("detail", pa.string(), "JSON: the typed content (schema v1 ``detail``)."),
    ("attributes", pa.string(), "JSON: every attribute exactly as sent."),
    ("resource_attributes", pa.string(), "JSON: the resource attributes."),
    ("events", pa.string(), "JSON: span events and attached log records."),
    ("links", pa.string(), "JSON: span links."),
    ("harness", pa.string(), "JSON: harness state, or null."),
)
"""The columns of ``export_parquet``: name, Arrow type, description."""

SCHEMA = pa.schema([(name, kind) for name, kind, _ in PARQUET_COLUMNS])
_ROWS_PER_GROUP = 20_000


def _json(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def _row(span: dict[str, Any], attributes: dict[str, Any]) -> dict[str, Any]:
    d = span["detail"]
    usage = d.get("usage") or {}
    agent = span.get("agent") or {}
    resource = span["resource"]
    return {
        "project": span["project"], "trace_id": span["trace_id"], "span_id": span["span_id"],
        "parent_span_id": span["parent_span_id"], "name": span["name"], "kind": span["kind"],
        "otel_kind": span["otel_kind"], "start_time": span["start_time_ns"],
        "start_time_ns": span["start_time_ns"], "end_time_ns": span["end_time_ns"],
        "duration_ns": span["duration_ns"], "status": span["status"]["code"],
        "status_message": span["status"]["message"],
        "error_type": span["status"]["error_type"],
        "service_name": resource["service_name"], "service_version": resource["service_version"],
        "harness_name": resource["harness_name"], "harness_version": resource["harness_version"],
        "scope_name": span["scope"]["name"], "scope_version": span["scope"]["version"],
        "agent_id": agent.get("id"), "agent_name": agent.get("name"),
        "agent_version": agent.get("version"), "session_id": span["session_id"],
        "convention": span["convention"], "schema_version": span["schema_version"],
        "operation": d.get("operation"), "provider": d.get("provider"),
        "request_model": d.get("request_model"), "response_model": d.get("response_model"),
        "input_tokens": usage.get("input_tokens"), "output_tokens": usage.get("output_tokens"),
        "total_tokens": usage.get("total_tokens"), "cost_usd": d.get("cost_usd"),
        "tool_name": d.get("name") if span["kind"] == "tool" else None,
        "tool_call_id": d.get("call_id") if span["kind"] == "tool" else None,
        "detail": _json(d), "attributes": _json(attributes),
        "resource_attributes": _json(resource["attributes"]), "events": _json(span["events"]),
        "links": _json(span["links"]), "harness": _json(span.get("harness")),
    }


def export_parquet(vault: Any, path: str | Path, *, filter: str | None = None,  # noqa: A002
                   trace_ids: Sequence[str] | None = None, start: str | int | None = None,
                   end: str | int | None = None, project: str | None = None) -> int:
    """Write one Parquet row per span of the matching traces (``PARQUET_COLUMNS``).

    Returns the number of rows. The file is zstd-compressed; spans of a trace are
    contiguous, in start order.
    """
    keys = select_traces(vault, filter=filter, trace_ids=trace_ids, start=start, end=end,
                         project=project)
    target = Path(path)
    tmp = target.with_name(target.name + ".tmp")
    rows: list[dict[str, Any]] = []
    total = 0
    with pq.ParquetWriter(tmp, SCHEMA, compression="zstd") as writer:
        for rec in iter_traces(vault.store, keys):
            originals = {s.span_id: s.attributes for s in rec.spans}
            rows += [_row(s, originals.get(s["span_id"], s["attributes"]))
                     for s in rec.trace["spans"]]
            if len(rows) >= _ROWS_PER_GROUP:
                writer.write_table(pa.Table.from_pylist(rows, schema=SCHEMA))
                total += len(rows)
                rows = []
        if rows or not total:
            writer.write_table(pa.Table.from_pylist(rows, schema=SCHEMA))
            total += len(rows)
    tmp.replace(target)
    return total
