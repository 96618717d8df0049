"""One path from a request body to durable rows, shared by OTLP/HTTP, OTLP/gRPC, import."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.concurrency import run_in_threadpool

from .._exceptions import InputError
from ..ingest._prepare import prepare_logs, prepare_spans
from ..ingest._raw import Rejection
from ..ingest._workers import Job
from ..ingest.otlp import (
    decode_logs_json,
    decode_logs_protobuf,
    decode_traces_json,
    decode_traces_protobuf,
)
from ._state import ServerState

__all__ = ["ingest_otlp", "rejection_message"]


def rejection_message(rejected: list[Rejection]) -> str:
    """One message summarising rejected spans (first few reasons)."""
    shown = "; ".join(
        f"{r.trace_id or '?'}/{r.span_id or '?'}: {r.reason}" for r in rejected[:5]
    )
    more = f" (and {len(rejected) - 5} more)" if len(rejected) > 5 else ""
    return f"{len(rejected)} record(s) rejected: {shown}{more}"


def _decode(st: ServerState, kind: str, media: str, body: bytes,
            project: str | None) -> tuple[list[Any], list[Any], list[Rejection]]:
    settings = st.settings
    if kind == "traces":
        spans, bad = (decode_traces_protobuf if media == "protobuf"
                      else decode_traces_json)(body)
        drafts, too_large = prepare_spans(
            spans, default_project=settings.default_project, forced_project=project,
            max_value_bytes=settings.max_value_bytes, body_bytes=len(body))
        return drafts, [], bad + too_large
    raw_logs, n_bad = (decode_logs_protobuf if media == "protobuf" else decode_logs_json)(body)
    logs = prepare_logs(raw_logs, default_project=settings.default_project,
                        forced_project=project)
    return [], logs, [Rejection(None, None, "invalid trace or span id")] * n_bad


async def ingest_otlp(st: ServerState, kind: str, media: str, body: bytes,
                      project: str | None, affinity: int = 0) -> list[Rejection]:
    """Decode, normalise and durably store an OTLP body; returns the rejected records.

    Raises ``InputError`` when nothing in the body could be accepted.
    """
    with st.pipeline.admit(len(body)):
        if st.workers is not None:
            job = Job(kind, media, body, project, st.settings.default_project,
                      st.settings.max_value_bytes, affinity)
            result = await asyncio.wrap_future(st.workers.submit(job))
            if result.error is not None:
                raise result.error
            rejected = [Rejection(*r) for r in result.rejected]
            accepted = result.spans + result.logs
            if rejected and not accepted:
                raise InputError(rejection_message(rejected))
            if accepted:
                await asyncio.wrap_future(st.pipeline.submit_result(result, job))
            return rejected
        drafts, logs, rejected = await run_in_threadpool(_decode, st, kind, media, body,
                                                         project)
        if rejected and not drafts and not logs:
            raise InputError(rejection_message(rejected))
        if drafts or logs:
            await asyncio.wrap_future(st.pipeline.submit(drafts, logs))
        return rejected
