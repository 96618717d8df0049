"""REST API: traces, spans, blobs, import, stats. Thin: every route calls the store."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import orjson
import pyarrow as pa
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from .._exceptions import AuthError, InputError, NotFound
from ..ingest._prepare import prepare_logs, prepare_spans
from ..ingest.files import read_trace_bytes
from ..query._filters import SpanQuery, TraceQuery
from ..schema import Span, TraceSummary
from ._ingest import rejection_message
from ._otlp import read_body
from ._state import ServerState, audit, state

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["api"])


class TraceList(BaseModel):
    """A page of trace summaries."""

    traces: list[TraceSummary]
    total: int
    limit: int
    offset: int


class TraceOut(BaseModel):
    """A whole trace."""

    summary: TraceSummary
    spans: list[Span]


class ImportResult(BaseModel):
    """What an import stored."""

    format: str
    spans: int
    logs: int
    rejected: int
    message: str | None = None


def _json(data: Any) -> Response:
    return Response(orjson.dumps(data, default=_default), media_type="application/json")


def _arrow(table: pa.Table) -> Response:
    """An Arrow IPC stream response."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return Response(sink.getvalue().to_pybytes(),
                    media_type="application/vnd.apache.arrow.stream")


def _default(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _scope(request: Request, project: str | None) -> str | None:
    """The project a request reads: its key's project, else the ``project`` parameter."""
    granted = state(request).auth.project(request)
    if granted is not None:
        if project is not None and project != granted:
            raise NotFound(f"project {project!r} is not visible with this API key")
        return granted
    return project


class Filters:
    """Query parameters shared by the list endpoints."""

    def __init__(
        self,
        project: Annotated[str | None, Query(description="Project (default: all visible)")]
        = None,
        service: Annotated[str | None, Query(description="service.name")] = None,
        agent: Annotated[str | None, Query(description="Agent name")] = None,
        model: Annotated[str | None, Query(description="Model (request or response)")] = None,
        status: Annotated[str | None, Query(description="ok or error")] = None,
        session: Annotated[str | None, Query(description="Session / conversation id")] = None,
        kind: Annotated[str | None, Query(description="Span kind")] = None,
        tool: Annotated[str | None, Query(description="Tool name")] = None,
        name: Annotated[str | None, Query(description="Span name")] = None,
        text: Annotated[str | None, Query(description="Free text in names and payloads")]
        = None,
        start: Annotated[str | None, Query(description="Start after (ISO, ns, or -3d)")]
        = None,
        end: Annotated[str | None, Query(description="Start before (ISO, ns, or -1h)")]
        = None,
        filter: Annotated[str | None, Query(  # noqa: A002
            description="Filter-language expression (docs/query.md)")] = None,
        limit: Annotated[int, Query(ge=1, le=10_000)] = 50,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> None:
        self.__dict__.update(locals())
        del self.__dict__["self"]


@router.get("/traces", response_model=TraceList, summary="List traces, newest first")
def list_traces(request: Request, f: Annotated[Filters, Depends()]) -> Response:
    """Trace summaries.

    Span-level filters (kind, tool, name, text) match traces holding such a span.
    """
    project = _scope(request, f.project)
    spans = SpanQuery(kind=f.kind, tool=f.tool, name=f.name, text=f.text, limit=None)
    query = TraceQuery(project=project, service=f.service, agent=f.agent, model=f.model,
                       status=f.status, session=f.session, start=f.start, end=f.end,
                       spans=spans, filter=f.filter, limit=f.limit, offset=f.offset)
    store = state(request).store
    return _json({"traces": store.list_traces(query), "total": store.count_traces(query),
                  "limit": f.limit, "offset": f.offset})


@router.get("/traces/{trace_id}", response_model=TraceOut,
            summary="A whole trace with every span's full content")
def get_trace(request: Request, trace_id: str, project: str | None = None) -> Response:
    """The trace summary and all spans, in start order. Logged in the access log."""
    trace = state(request).store.get_trace(_scope(request, project), trace_id.lower())
    audit(request, "read.trace", trace_id.lower(), trace["summary"]["project"])
    return _json(trace)


@router.get("/traces/{trace_id}/outline", summary="A trace's span tree without content")
def get_outline(request: Request, trace_id: str, project: str | None = None) -> Response:
    """The summary and every span without its content: what a tree or waterfall needs.

    Per span: ids, name, kind, times, status, agent, model, tool, sender and receiver,
    tokens, cost and links.
    """
    return _json(state(request).store.trace_outline(_scope(request, project),
                                                    trace_id.lower()))


@router.get("/traces/{trace_id}/spans/{span_id}", response_model=Span,
            summary="One span with full content")
def get_span(request: Request, trace_id: str, span_id: str, project: str | None = None,
             original: Annotated[bool, Query(description="Rebuild the exact original "
                                                        "attributes")] = False) -> Response:
    """One span; with ``original=true`` its attributes are exactly as the producer sent."""
    span = state(request).store.get_span(_scope(request, project), trace_id.lower(),
                                         span_id.lower(), original=original)
    audit(request, "read.span", f"{trace_id.lower()}/{span_id.lower()}", span.get("project"))
    return _json(span)


@router.get("/spans", summary="Span rows matching filters (JSON or Arrow IPC)")
def list_spans(request: Request, f: Annotated[Filters, Depends()],
               trace_id: str | None = None,
               format: Annotated[str, Query(pattern="^(json|arrow)$")] = "json") -> Response:
    """Stored span rows (typed columns; content as blob hashes).

    ``format=arrow`` returns an Arrow IPC stream for notebooks.
    """
    query = SpanQuery(project=_scope(request, f.project), trace_id=trace_id, kind=f.kind,
                      name=f.name, agent=f.agent, tool=f.tool, model=f.model,
                      status=f.status, service=f.service, session=f.session, text=f.text,
                      start=f.start, end=f.end, filter=f.filter, limit=f.limit,
                      offset=f.offset)
    table = state(request).store.spans_table(query)
    if format == "arrow":
        return _arrow(table)
    return _json({"spans": table.to_pylist(), "limit": f.limit, "offset": f.offset})


@router.get("/blobs/{blob_hash}", summary="One content blob by hash")
def get_blob(request: Request, blob_hash: str) -> Response:
    """A stored content blob (JSON text) by its 32-hex-digit hash."""
    state(request).auth.project(request)
    try:
        h = bytes.fromhex(blob_hash)
    except ValueError:
        raise InputError(f"{blob_hash!r} is not a hex hash") from None
    if len(h) != 16:
        raise InputError("a blob hash has 32 hex digits")
    found = state(request).store.load_blobs([h])
    if h not in found:
        raise NotFound(f"blob {blob_hash} not found")
    audit(request, "read.blob", blob_hash.lower())
    return _json({"hash": blob_hash, "data": found[h]})


@router.post("/import", response_model=ImportResult,
             summary="Import a trace file (OTLP JSON, SDK span JSON, Langfuse export)")
async def import_file(request: Request, project: str | None = None) -> Response:
    """Store the traces of a file sent as the request body; answers once durable."""
    st: ServerState = state(request)
    granted = st.auth.project(request)
    body = await read_body(request, st.settings.max_body_bytes)

    def parse() -> tuple[Any, Any, Any, Any]:
        contents = read_trace_bytes(body, "request body")
        forced = granted or project
        drafts, too_large = prepare_spans(
            contents.spans, default_project=st.settings.default_project,
            forced_project=forced, max_value_bytes=st.settings.max_value_bytes)
        logs = prepare_logs(contents.logs, default_project=st.settings.default_project,
                            forced_project=forced)
        return contents, drafts, logs, contents.rejected + too_large

    contents, drafts, logs, rejected = await run_in_threadpool(parse)
    if drafts or logs:
        await asyncio.wrap_future(st.pipeline.submit(drafts, logs))
    return _json({"format": contents.format, "spans": len(drafts), "logs": len(logs),
                  "rejected": len(rejected),
                  "message": rejection_message(rejected) if rejected else None})


@router.get("/stats", summary="Row counts and store size")
async def stats(request: Request) -> Response:
    """Counts of spans, traces, events, blobs and ledger entries."""
    state(request).auth.project(request)
    st = state(request)
    data = await run_in_threadpool(st.store.stats)
    data["queued_spans"] = st.pipeline.queued_spans
    return _json(data)


@router.get("/verify", summary="Verify the integrity ledger")
async def verify(request: Request) -> Response:
    """Recompute the ledger and every row digest; lists every discrepancy."""
    st = state(request)
    if st.auth.project(request) is not None:
        raise AuthError("verifying the whole store needs a server without API keys")
    report = await run_in_threadpool(st.store.verify)
    return _json(report.to_dict())


@router.get("/ledger", summary="Ledger head, or one commit's chain hash")
async def ledger(request: Request, node: str | None = None,
                 seq: int | None = None) -> Response:
    """``{"store_id", "head"}``; with ``node`` and ``seq``, that commit's ``chain_hash``."""
    st = state(request)
    st.auth.project(request)
    out: dict[str, Any] = {"store_id": await run_in_threadpool(st.store.store_id),
                           "head": await run_in_threadpool(st.store.ledger_head)}
    if node is not None and seq is not None:
        out["chain_hash"] = await run_in_threadpool(st.store.ledger_entry, node, seq)
    return _json(out)


@router.get("/health", summary="Liveness (no authentication)")
async def health() -> dict[str, str]:
    """Answers ``{"status": "ok"}`` while the server runs."""
    return {"status": "ok"}

