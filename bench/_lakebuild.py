"""Fill any tracevault store with bench/query.py's synthetic workload, in large commits.

The requests are the ones ``query.build`` ingests (``make_chunk``: OTLP protobuf bodies of
512 spans, 4 services, 9 agents, 5 models, starts over 30 days), lifted by an ingest worker
process as ``tracevault serve`` does, then committed straight through the store's write
API (``assemble`` + ``commit``, no server and no pipeline thread) ``commit_spans`` at a time,
so a DuckLake gets one set of Parquet files per ~16k spans rather than per 4k.
Given the same ``spans``, ``seed`` and ``end_ns`` every store gets the same bytes.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from query import CHUNK_SPANS, make_chunk, measure  # noqa: E402
from tracevault.ingest._workers import Job, WorkerPool, WorkerResult  # noqa: E402

__all__ = ["COMMIT_SPANS", "chunk_tasks", "fill", "measure"]

COMMIT_SPANS = 16_384
IN_FLIGHT = 64  # requests handed to the worker ahead of the commits (32k spans)


def chunk_tasks(spans: int, seed: int, end_ns: int) -> list[tuple[int, int, int, int, int]]:
    """``make_chunk`` tasks exactly as ``query.build`` makes them, for a fixed end time."""
    n_chunks = max(1, round(spans / CHUNK_SPANS))
    return [(i, n_chunks, spans // n_chunks, seed, end_ns) for i in range(n_chunks)]


def fill(store: Any, spans: int, seed: int, end_ns: int, commit_spans: int = COMMIT_SPANS,
         progress: Callable[[int, float], None] | None = None) -> tuple[int, int]:
    """Write the workload into ``store``; returns ``(spans committed, commits)``."""
    t0 = time.perf_counter()
    workers = WorkerPool(max(1, (os.cpu_count() or 2) - 1))
    lifting: deque[Future[WorkerResult]] = deque()
    group: list[Any] = []
    state = {"pending": 0, "spans": 0, "commits": 0}

    def flush() -> None:
        if group:
            result = store.commit(store.assemble(group))
            state["spans"] += result.spans
            state["commits"] += 1
            group.clear()
            state["pending"] = 0
            if progress is not None:
                progress(state["spans"], time.perf_counter() - t0)

    def drain(limit: int) -> None:
        while len(lifting) > limit:
            lifted = lifting.popleft().result()
            if lifted.error is not None:
                raise lifted.error
            group.append(lifted.batch)
            state["pending"] += lifted.spans
            if state["pending"] >= commit_spans:
                flush()

    try:
        with multiprocessing.Pool(1) as pool:
            for requests in pool.imap(make_chunk, chunk_tasks(spans, seed, end_ns)):
                for i, body in enumerate(requests):
                    lifting.append(workers.submit(Job("traces", "protobuf", body, affinity=i)))
                    drain(IN_FLIGHT)
            drain(0)
            flush()
    finally:
        workers.close()
    return state["spans"], state["commits"]
