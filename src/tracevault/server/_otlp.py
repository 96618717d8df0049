"""OTLP/HTTP receiver: ``POST /v1/traces`` and ``POST /v1/logs``."""

from __future__ import annotations

import zlib
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsPartialSuccess,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTracePartialSuccess,
    ExportTraceServiceResponse,
)

from .._exceptions import DecodeError, PayloadTooLarge, UnsupportedMediaType
from ._ingest import ingest_otlp, rejection_message
from ._state import ServerState, state

__all__ = ["read_body", "router"]

router = APIRouter(tags=["otlp"])

_OTLP_DOC = {
    "requestBody": {"content": {
        "application/x-protobuf": {"schema": {"type": "string", "format": "binary"}},
        "application/json": {"schema": {"type": "object"}},
    }, "required": True},
}


def _media(request: Request) -> str:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "application/x-protobuf":
        return "protobuf"
    if ctype == "application/json":
        return "json"
    raise UnsupportedMediaType(
        f"content type {ctype or '(none)'!r} is not supported: send application/x-protobuf "
        "or application/json"
    )


async def read_body(request: Request, limit: int) -> bytes:
    """Read a body (gzip or identity) and enforce the size limit before and after inflating."""
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > limit:
        raise PayloadTooLarge(f"body of {length} bytes exceeds the limit of {limit} bytes")
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"body exceeds the limit of {limit} bytes")
        chunks.append(chunk)
    body = b"".join(chunks)
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding not in ("gzip", "deflate"):
        raise UnsupportedMediaType(f"content encoding {encoding!r} is not supported (use gzip)")
    inflater = zlib.decompressobj(wbits=31 if encoding == "gzip" else 15)
    try:
        out = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise DecodeError(f"body is not valid {encoding} data: {exc}") from None
    if len(out) > limit or inflater.unconsumed_tail:
        raise PayloadTooLarge(f"decompressed body exceeds the limit of {limit} bytes")
    return out


def _respond(media: str, response: Any, as_json: dict[str, Any]) -> Response:
    if media == "protobuf":
        return Response(response.SerializeToString(), media_type="application/x-protobuf")
    return Response(orjson.dumps(as_json), media_type="application/json")


def _affinity(request: Request) -> int:
    # One exporter keeps one connection: its traces stay with one ingest worker.
    client = request.client
    return hash((client.host, client.port)) if client else 0


async def _export(request: Request, kind: str) -> tuple[str, list[Any]]:
    """Authenticate, read and ingest an OTLP body; returns its media type and rejections."""
    st: ServerState = state(request)
    project = st.auth.project(request)
    media = _media(request)
    body = await read_body(request, st.settings.max_body_bytes)
    return media, await ingest_otlp(st, kind, media, body, project, _affinity(request))


@router.post("/v1/traces", openapi_extra=_OTLP_DOC,
             summary="OTLP/HTTP trace export (protobuf or JSON, optionally gzip)")
async def export_traces(request: Request) -> Response:
    """Accept spans; answer after they are durable, with rejected spans in partial_success."""
    media, rejected = await _export(request, "traces")
    partial = ExportTracePartialSuccess(
        rejected_spans=len(rejected), error_message=rejection_message(rejected)
    ) if rejected else None
    as_json: dict[str, Any] = {}
    if partial is not None:
        as_json["partialSuccess"] = {"rejectedSpans": str(len(rejected)),
                                     "errorMessage": partial.error_message}
    return _respond(media, ExportTraceServiceResponse(partial_success=partial), as_json)


@router.post("/v1/logs", openapi_extra=_OTLP_DOC,
             summary="OTLP/HTTP log export; GenAI events are attached to their spans")
async def export_logs(request: Request) -> Response:
    """Accept log records; those carrying a span context are attached to that span."""
    media, rejected = await _export(request, "logs")
    message = rejection_message(rejected) if rejected else ""
    partial = ExportLogsPartialSuccess(rejected_log_records=len(rejected),
                                       error_message=message) if rejected else None
    as_json: dict[str, Any] = {}
    if rejected:
        as_json["partialSuccess"] = {"rejectedLogRecords": str(len(rejected)),
                                     "errorMessage": message}
    return _respond(media, ExportLogsServiceResponse(partial_success=partial), as_json)
