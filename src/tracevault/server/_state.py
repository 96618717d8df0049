"""What a running server holds: settings, store, ingest pipeline, auth."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request

from ..config import Settings
from ..ingest._pipeline import IngestPipeline
from ._auth import Auth

__all__ = ["ServerState", "audit", "state"]


@dataclass
class ServerState:
    """Shared by every route of one app."""

    settings: Settings
    store: Any
    pipeline: IngestPipeline
    auth: Auth
    workers: Any = None
    """The ingest worker pool, when ``ingest_workers`` > 0."""


def state(request: Request) -> ServerState:
    """The server state of the app handling ``request``."""
    return request.app.state.tv  # type: ignore[no-any-return]


def audit(request: Request, action: str, target: str | None = None,
          project: str | None = None) -> None:
    """Log a read of trace content (who, what, when) in the store's access log."""
    st = state(request)
    log = getattr(st.store, "log_access", None)
    if log is not None:
        log(st.auth.principal(request), action, target, project, via=_via(request))


def _via(request: Request) -> str:
    return "ui" if request.headers.get("x-tracevault-client") == "ui" else "api"
