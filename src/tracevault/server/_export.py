"""REST export: a trace bundle or OTLP JSON lines of the traces matching a filter."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, Response, StreamingResponse
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from .._exceptions import InputError
from ..exchange._bundle import write_bundle
from ..exchange._otlp import logs_document, traces_document
from ..exchange._records import iter_traces, select_traces
from ..query._api import Vault
from ._api import _scope
from ._state import audit, state

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["export"])

_FORMATS = ("bundle", "otlp-json")


@router.get("/export", summary="Export traces as a bundle or OTLP JSON")
async def export(request: Request,
                 format: Annotated[str, Query(description="bundle or otlp-json")] = "bundle",  # noqa: A002
                 filter: Annotated[str | None, Query(description="Filter language")] = None,  # noqa: A002
                 start: Annotated[str | None, Query(alias="from")] = None,
                 end: Annotated[str | None, Query(alias="to")] = None,
                 project: str | None = None,
                 trace_id: Annotated[list[str] | None, Query()] = None,
                 scores: bool = True) -> Response:
    """Streams the matching traces: a bundle file or OTLP JSON lines (docs/exchange.md)."""
    if format not in _FORMATS:
        raise InputError(f"format must be one of {', '.join(_FORMATS)}, not {format!r}")
    st = state(request)
    scope = _scope(request, project)
    vault = Vault(st.store)
    keys = await run_in_threadpool(lambda: select_traces(
        vault, filter=filter, trace_ids=trace_id, start=start, end=end, project=scope))
    audit(request, f"read.export.{format}", f"{len(keys)} traces", scope)
    if format == "otlp-json":
        return StreamingResponse(_otlp_lines(st.store, keys),
                                 media_type="application/x-ndjson")
    work = Path(tempfile.mkdtemp(prefix="tracevault-export-"))
    path = work / "traces.tvbundle"
    selection = {k: v for k, v in (("filter", filter), ("start", start), ("end", end),
                                   ("project", scope)) if v}
    await run_in_threadpool(lambda: write_bundle(st.store, path, keys, scores=scores,
                                                 selection=selection))
    return FileResponse(path, media_type="application/zip", filename="traces.tvbundle",
                        background=BackgroundTask(shutil.rmtree, work, True))


def _otlp_lines(store: object, keys: list[tuple[str, str]]) -> Iterator[bytes]:
    for rec in iter_traces(store, keys):
        if rec.spans:
            yield orjson.dumps(traces_document(rec.spans)) + b"\n"
        if rec.logs:
            yield orjson.dumps(logs_document(rec.logs)) + b"\n"
