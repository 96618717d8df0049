"""The ASGI application: OTLP receivers, REST API and the gRPC side server."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from fastapi import FastAPI

from .._version import __version__
from ..config import Settings
from ..ingest._pipeline import IngestPipeline
from ..ingest._workers import WorkerPool
from ..store import DuckDBStore, DuckLakeStore, announce_path
from ..ui import mount_ui
from ._analysis import router as analysis_router
from ._api import router as api_router
from ._auth import Auth
from ._compliance import router as compliance_router
from ._datasets import router as datasets_router
from ._errors import install_error_handlers
from ._export import router as export_router
from ._grpc import start_grpc_server
from ._online import OnlinePolicy
from ._otlp import router as otlp_router
from ._scores import router as scores_router
from ._state import ServerState

__all__ = ["create_app"]

log = logging.getLogger("tracevault.server")


def _configure_redaction(settings: Settings) -> None:
    """Redact at ingest as configured, here and in the ingest workers (by environment)."""
    from ..ingest._redact import Redactor, load_rules, set_redactor

    for name in ("redact", "redact_rules", "redact_key"):
        value = getattr(settings, name)
        if value:
            os.environ[f"TRACEVAULT_{name.upper()}"] = value
        else:
            os.environ.pop(f"TRACEVAULT_{name.upper()}", None)
    rules = load_rules(settings.redact_rules) if settings.redact_rules else None
    set_redactor(Redactor.build(settings.redact, rules, settings.redact_key or None))


async def _retention_loop(st: ServerState, every: float) -> None:
    """Apply the retention policies every ``every`` seconds, between commits."""
    from starlette.concurrency import run_in_threadpool

    while True:
        await asyncio.sleep(every)
        try:
            done = await run_in_threadpool(st.pipeline.exclusive, st.store.apply_retention)
            purged = [d["purge"] for d in done if "purge" in d]
            if purged:
                await run_in_threadpool(st.store.log_access, "scheduler", "retention.apply",
                                        "all policies", None, "server")
            for p in purged:
                log.info("retention: policy %s purged %d trace(s) in commit %d",
                         p["policy"], p["traces"], p["seq"])
        except Exception as exc:  # keep serving; try again next time
            log.warning("retention failed: %s", exc)


def create_app(settings: Settings | None = None, store: Any = None,
               announce_url: str | None = None) -> FastAPI:
    """Build the app. Without ``store`` it opens ``settings.store_path`` at startup."""
    settings = settings or Settings.load()
    online = OnlinePolicy.from_settings(settings)  # a bad rule file fails here, in one line

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Ingest allocates millions of short-lived, acyclic objects; the default cyclic GC
        # thresholds make the collector run constantly (measured: ~25% of ingest CPU).
        gc.set_threshold(200_000, 50, 100)
        # Threads hand the GIL over more often: the writer's many short DuckDB calls
        # otherwise wait up to 5 ms each to get it back (measured: +15% ingest).
        sys.setswitchinterval(0.0005)
        _configure_redaction(settings)
        owned = store is None
        backend = DuckLakeStore if settings.store_path.startswith("ducklake:") else DuckDBStore
        st_store = store if store is not None else backend(
            settings.store_path, memory_limit=settings.memory_limit,
            node_id=settings.node_id, cache_mb=settings.content_cache_mb,
            threads=settings.duckdb_threads)
        workers = WorkerPool(int(settings.ingest_workers), settings.content_cache_mb << 20) \
            if settings.ingest_workers else None
        pipeline = IngestPipeline(st_store, batch_max_spans=settings.batch_max_spans,
                                  batch_max_wait_ms=settings.batch_max_wait_ms,
                                  queue_max_spans=settings.queue_max_spans,
                                  queue_max_bytes=settings.queue_max_bytes, workers=workers)
        pipeline.start()
        st = ServerState(settings, st_store, pipeline, Auth(settings.api_keys), workers)
        app.state.tv = st
        grpc_server = None
        announced = None
        retention: asyncio.Task[None] | None = None
        policy = asyncio.create_task(online.run(st)) if online is not None else None
        try:
            if settings.grpc_port:
                grpc_server = await start_grpc_server(st, settings.host, settings.grpc_port)
                log.info("OTLP/gRPC listening on %s:%s", settings.host,
                         grpc_server.bound_port)
            if settings.retention_every and hasattr(st_store, "apply_retention"):
                retention = asyncio.create_task(_retention_loop(st, settings.retention_every))
            if announce_url and owned and backend is DuckDBStore:
                announced = announce_path(settings.store_path)
                announced.write_bytes(orjson.dumps({"url": announce_url, "pid": os.getpid()}))
            yield
        finally:
            if retention is not None:
                retention.cancel()
            if policy is not None:
                policy.cancel()
                await asyncio.gather(policy, return_exceptions=True)  # let a check finish
            if grpc_server is not None:
                await grpc_server.stop(grace=2)
            pipeline.stop()
            if workers is not None:
                workers.close()
            if announced is not None:
                announced.unlink(missing_ok=True)
            if owned:
                st_store.close()

    app = FastAPI(
        title="tracevault",
        version=__version__,
        description="Trace store for AI agents: OTLP in, queryable traces out.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.include_router(otlp_router)
    app.include_router(api_router)
    app.include_router(analysis_router)
    app.include_router(compliance_router)
    app.include_router(scores_router)
    app.include_router(datasets_router)
    app.include_router(export_router)
    mount_ui(app)
    return app
