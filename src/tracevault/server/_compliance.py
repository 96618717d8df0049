"""REST API for compliance: retention policies, legal holds, purges, the access log.

Every route here acts on the whole store, so it needs a server without API keys
(localhost) or an admin key (one mapped to project ``*``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from .._exceptions import AuthError, ConfigError
from ._api import _json
from ._state import ServerState, state

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["compliance"])


class PolicyIn(BaseModel):
    """A retention policy."""

    keep_days: int = Field(ge=0, description="Days a trace is kept after it ended.")
    action: str = Field("delete", pattern="^(keep|delete|archive)$",
                        description="keep (protect younger traces), delete, or archive "
                                    "to a bundle then delete.")
    project: str | None = None
    service: str | None = None
    agent: str | None = None
    archive_dir: str | None = Field(None, description="Directory for archive bundles "
                                                      "(on the server).")


class HoldIn(BaseModel):
    """A legal hold."""

    reason: str = Field(min_length=1)
    project: str | None = None
    trace_ids: list[str] | None = None
    filter: str | None = Field(None, description="Filter-language expression.")


class ApplyIn(BaseModel):
    """How to apply retention."""

    dry_run: bool = False
    policy: str | None = Field(None, description="Only this policy.")


def _admin(request: Request) -> ServerState:
    st = state(request)
    if st.auth.project(request) is not None:
        raise AuthError("this needs an admin API key (project '*') or a server without "
                        "API keys")
    if not hasattr(st.store, "retention_state"):
        raise ConfigError("this store does not support retention")
    return st


async def _change(request: Request, action: str, name: str,
                  call: Callable[[Any], Any]) -> Any:
    """Run a retention change on the store and log who made it."""
    st = _admin(request)
    out = await run_in_threadpool(call, st.store)
    await run_in_threadpool(st.store.log_access, st.auth.principal(request), action, name,
                            None, "api")
    return out


@router.get("/retention", summary="Retention policies, legal holds and purges")
async def get_retention(request: Request) -> Response:
    """Everything retention: ``{"policies", "holds", "purges"}`` (purges newest first)."""
    st = _admin(request)
    return _json(await run_in_threadpool(st.store.retention_state))


@router.put("/retention/policies/{name}", summary="Create or replace a retention policy")
async def put_policy(request: Request, name: str, body: PolicyIn) -> Response:
    """Stores the policy; nothing is purged until retention is applied."""
    return _json(await _change(request, "retention.set", name, lambda store: (
        store.set_retention_policy(name, **body.model_dump()))))


@router.delete("/retention/policies/{name}", summary="Remove a retention policy")
async def delete_policy(request: Request, name: str) -> Response:
    """Removes the policy (its past purges stay in the ledger)."""
    await _change(request, "retention.remove", name,
                  lambda store: store.remove_retention_policy(name))
    return _json({"removed": name})


@router.put("/retention/holds/{name}", summary="Place a legal hold")
async def put_hold(request: Request, name: str, body: HoldIn) -> Response:
    """Traces the hold names (ids) or selects (filter, project) are never purged."""
    return _json(await _change(request, "hold.place", name, lambda store: (
        store.add_legal_hold(name, **body.model_dump()))))


@router.delete("/retention/holds/{name}", summary="Release a legal hold")
async def delete_hold(request: Request, name: str) -> Response:
    """Lifts the hold; its traces fall under the retention policies again."""
    await _change(request, "hold.release", name,
                  lambda store: store.release_legal_hold(name))
    return _json({"released": name})


@router.post("/retention/apply", summary="Apply retention (or show what would go)")
async def apply_retention(request: Request, body: ApplyIn) -> Response:
    """One entry per delete/archive policy: traces selected, held, kept.

    Also the purge made (a ledger commit) unless ``dry_run``. Ingest pauses only while
    rows are removed.
    """
    st = _admin(request)
    if body.dry_run:
        out = await run_in_threadpool(lambda: st.store.apply_retention(
            dry_run=True, policy=body.policy))
    else:
        out = await _change(request, "retention.apply", body.policy or "all policies",
                            lambda store: st.pipeline.exclusive(
                                lambda: store.apply_retention(policy=body.policy)))
    return _json({"dry_run": body.dry_run, "policies": out})


@router.get("/audit", summary="The access log: who read which trace content, when")
async def get_audit(request: Request,
                    start: Annotated[str | None, Query(alias="from")] = None,
                    end: Annotated[str | None, Query(alias="to")] = None,
                    principal: str | None = None,
                    limit: Annotated[int, Query(ge=1, le=100_000)] = 1000) -> Response:
    """Entries newest first.

    Each has ``time_ns``, ``principal``, ``project``, ``action``, ``target`` and ``via``
    (api or ui).
    """
    st = _admin(request)
    rows = await run_in_threadpool(lambda: st.store.access_log(start, end, principal,
                                                               limit=limit))
    return _json({"entries": rows})
