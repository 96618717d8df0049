"""REST API for datasets: list, read, store versions, label items."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from .._exceptions import AuthError
from ._api import _json
from ._state import ServerState, state

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["datasets"])


class DatasetIn(BaseModel):
    """A dataset version to store."""

    items: list[dict[str, Any]] = Field(min_length=1)
    source: dict[str, Any] = Field(default_factory=dict)
    description: str | None = None


class LabelIn(BaseModel):
    """A label for one item."""

    label: str | None = None
    value: float | None = None
    comment: str | None = None
    score_name: str = "label"


def _datasets(request: Request) -> ServerState:
    st = state(request)
    if st.auth.project(request) is not None:  # items copy trace content across projects
        raise AuthError("datasets need an admin API key (project '*') or a server "
                        "without API keys")
    return st


@router.get("/datasets", summary="Every dataset version")
async def list_datasets(request: Request) -> Response:
    """``{"datasets": [...]}``: name, version, created_ns, description, source, items."""
    st = _datasets(request)
    return _json({"datasets": await run_in_threadpool(st.store.datasets)})


@router.get("/datasets/{name}", summary="A dataset version and its items")
async def get_dataset(request: Request, name: str,
                      version: Annotated[int | None, Query(ge=1)] = None) -> Response:
    """``{"dataset": {...}, "items": [...]}``; the latest version by default."""
    st = _datasets(request)
    info, items = await run_in_threadpool(st.store.dataset_items, name, version)
    return _json({"dataset": info, "items": items})


@router.post("/datasets/{name}", summary="Store a new version of a dataset")
async def post_dataset(request: Request, name: str, body: DatasetIn) -> Response:
    """Stores the items as the next version; answers its ``{"dataset": {...}}``."""
    st = _datasets(request)
    version = await run_in_threadpool(st.store.save_dataset, name, body.items, body.source,
                                      body.description)
    info, _ = await run_in_threadpool(st.store.dataset_items, name, version)
    return _json({"dataset": info})


@router.post("/datasets/{name}/items/{item_id}/label", summary="Label a dataset item")
async def label(request: Request, name: str, item_id: str, body: LabelIn) -> Response:
    """A human score on the item's source trace, by the caller; answers the score."""
    from ..evals._curate import label_score

    st = _datasets(request)
    score = await run_in_threadpool(lambda: label_score(
        st.store, name, item_id, label=body.label, value=body.value, comment=body.comment,
        author=st.auth.principal(request), score_name=body.score_name))
    await run_in_threadpool(st.pipeline.exclusive,
                            lambda: st.store.write_scores([score.to_dict()]), False)
    return _json(score.to_dict())
