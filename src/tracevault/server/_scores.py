"""REST API for scores: write them (evaluators, human labels) and read them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from .._exceptions import AuthError, InputError
from ._api import _json, _scope
from ._state import state

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["scores"])


class ScoresIn(BaseModel):
    """Scores to store (the fields of ``tracevault.evals.Score``)."""

    scores: list[dict[str, Any]] = Field(min_length=1, max_length=100_000)


@router.post("/scores", summary="Store scores of traces or spans")
async def post_scores(request: Request, body: ScoresIn) -> Response:
    """Stores the scores durably (one ledger commit) and answers ``{"written": n}``.

    A score whose ``score_id`` is stored already is skipped. With an API key, scores go
    to the key's project. Human scores without an ``author`` get the caller's identity.
    """
    from ..evals import Score

    st = state(request)
    granted = st.auth.project(request)
    rows = []
    for i, raw in enumerate(body.scores):
        item = dict(raw)
        if granted is not None:
            if item.get("project") not in (None, granted):
                raise AuthError(f"score {i}: project {item['project']!r} is not writable "
                                "with this API key")
            item["project"] = granted
        try:
            score = Score.from_dict(item)
        except (TypeError, ValueError) as exc:
            raise InputError(f"score {i}: {exc}") from None
        if score.source == "human" and not score.author:
            score.author = st.auth.principal(request)
        rows.append(score.to_dict())
    written = await run_in_threadpool(
        st.pipeline.exclusive, lambda: st.store.write_scores(rows), False)
    return _json({"written": written})


@router.get("/scores", summary="Stored scores")
async def get_scores(request: Request,
                     trace_id: Annotated[list[str] | None, Query()] = None,
                     name: str | None = None, run_id: str | None = None,
                     source: str | None = None, project: str | None = None,
                     limit: Annotated[int, Query(ge=1, le=100_000)] = 10_000) -> Response:
    """``{"scores": [...]}`` oldest first; ``trace_id`` may repeat."""
    scope = _scope(request, project)
    rows = await run_in_threadpool(lambda: state(request).store.scores(
        project=scope, trace_ids=[t.lower() for t in trace_id] if trace_id else None,
        name=name, run_id=run_id, source=source, limit=limit))
    return _json({"scores": rows})
