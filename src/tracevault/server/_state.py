"""What a running server holds: settings, store, ingest pipeline, auth."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request

from ..config import Settings
from ..ingest._pipeline import IngestPipeline
from ._auth import Auth

__all__ = ["ServerState", "state"]


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
