"""REST API for analyses: read-only SQL, trace groups, incident timelines, memory state."""

from __future__ import annotations

from typing import Annotated, Any

import pyarrow as pa
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from .._exceptions import AuthError
from ..analysis import DEFAULT_FLAGS, render_incident
from ..query._api import Vault
from ._api import _arrow, _json, _scope
from ._state import audit, state

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["analysis"])
_MEDIA = {"json": "application/json", "md": "text/markdown; charset=utf-8",
          "html": "text/html; charset=utf-8", "text": "text/plain; charset=utf-8"}


class SqlRequest(BaseModel):
    """A read-only SQL statement."""

    sql: str = Field(min_length=1, max_length=100_000)
    limit: int | None = Field(default=10_000, ge=1, le=1_000_000)


def _vault(request: Request) -> Vault:
    return Vault(state(request).store)


@router.post("/sql", summary="Run one read-only SELECT over the documented views")
async def run_sql(request: Request, body: SqlRequest,
                  format: Annotated[str, Query(pattern="^(json|arrow)$")] = "json") -> Response:
    """Rows of a ``SELECT`` over ``spans``, ``traces``, ``messages``, ``tool_calls``...

    Statements that write, read files or reach outside the store are refused with 400.
    Refused outright (401) when the server has API keys: SQL is not confined to a project.
    """
    st = state(request)
    if st.auth.project(request) is not None:
        raise AuthError("SQL needs a server without API keys (it cannot be confined "
                        "to one project); use the filter language instead")
    table: pa.Table = await run_in_threadpool(st.store.sql, body.sql, body.limit)
    await run_in_threadpool(audit, request, "read.sql", body.sql[:500])
    if format == "arrow":
        return _arrow(table)
    return _json({"columns": table.column_names, "rows": table.to_pylist()})


@router.get("/groups/{group_id}", summary="The traces joined with a trace or session")
async def get_group(request: Request, group_id: str, project: str | None = None,
                    timeline: Annotated[bool, Query(description="Include the joined "
                                                               "timeline")] = False,
                    max_traces: Annotated[int, Query(ge=1, le=1000)] = 200) -> Response:
    """``{"trace_ids": [...]}``: traces joined through links, context and sessions.

    With ``timeline=true`` also the summaries, message pairs and the ordered timeline.
    """
    scope = _scope(request, project)
    if not timeline:
        ids = await run_in_threadpool(state(request).store.trace_group, scope, group_id,
                                      max_traces)
        return _json({"trace_ids": ids})
    group = await run_in_threadpool(_vault(request).group, group_id, scope, max_traces)
    await run_in_threadpool(audit, request, "read.group", group_id, scope)
    return _json(group.to_dict())


@router.get("/groups/{group_id}/incident", summary="Incident timeline of a trace or group")
async def get_incident(
        request: Request, group_id: str, project: str | None = None,
        format: Annotated[str, Query(pattern="^(json|md|html|text)$")] = "json",
        full: Annotated[bool, Query(description="Full context of every decision")] = False,
        flag: Annotated[list[str] | None, Query(description="Tool-name patterns to flag "
                                                            "(replace the defaults)")] = None,
        joined: Annotated[bool, Query(description="Join the trace's group")] = True,
) -> Response:
    """The ordered story of a run as JSON, Markdown, self-contained HTML or text."""
    scope = _scope(request, project)
    incident = await run_in_threadpool(
        lambda: _vault(request).incident(group_id, scope, full=full,
                                         flags=flag or DEFAULT_FLAGS, joined=joined))
    await run_in_threadpool(audit, request, "read.incident", group_id, scope)
    return Response(render_incident(incident, format), media_type=_MEDIA[format])


@router.get("/groups/{group_id}/memory", summary="Memory state at a step or time")
async def get_memory(request: Request, group_id: str, project: str | None = None,
                     at: Annotated[str | None, Query(description="AGENT:STEP, span id, "
                                                                 "time, or end")] = None,
                     store: str | None = None) -> Response:
    """``{"at_ns", "stores": {store: {key: value}}, "operations", "history"}``."""
    scope = _scope(request, project)
    result: Any = await run_in_threadpool(
        lambda: _vault(request).memory(group_id, at, project=scope, store=store))
    await run_in_threadpool(audit, request, "read.memory", group_id, scope)
    return _json(result.to_dict())


@router.get("/diff", summary="What differs between two traces")
async def get_diff(request: Request, a: str, b: str, project: str | None = None,
                   compare: Annotated[str, Query(pattern="^(normalized|exact|tools)$")]
                   = "normalized") -> Response:
    """Model calls and tool calls of ``a`` and ``b`` aligned per agent (see replay.md)."""
    scope = _scope(request, project)
    diff = await run_in_threadpool(lambda: _vault(request).diff(a.lower(), b.lower(), scope,
                                                                compare=compare))
    await run_in_threadpool(audit, request, "read.diff", f"{a.lower()} {b.lower()}", scope)
    return _json(diff.to_dict())
