"""Group commit: durability before acknowledgement, backpressure, poison isolation."""

from __future__ import annotations

import threading
from concurrent.futures import wait

import pytest

from tracevault import Overloaded, StoreError
from tracevault.ingest import IngestPipeline, prepare_spans
from tracevault.ingest._workers import Job, WorkerPool
from tracevault.ingest.otlp import decode_traces_protobuf
from tracevault.store import DuckDBStore
from tracevault.testing import workload_requests

POISON = "poison"


def _requests(n: int = 600, per: int = 60, seed: int = 0) -> list[bytes]:
    return [b for b, _ in workload_requests(n, batch_size=per, seed=seed)]


class PoisonStore:
    """A DuckDB store whose commits fail when a batch holds a span named ``poison``."""

    def __init__(self, path) -> None:
        self.inner = DuckDBStore(path)
        self.commits = 0

    def _check(self, names) -> None:
        if POISON in names:
            raise StoreError("poisoned batch")

    def write(self, drafts, logs=()):
        self._check({d.name for d in drafts})
        return self.inner.write(drafts, logs)

    def prepare(self, drafts, logs=()):
        prepared = self.inner.prepare(drafts, logs)
        prepared.poisoned = any(d.name == POISON for d in drafts)
        return prepared

    def assemble(self, batches):
        prepared = self.inner.assemble(batches)
        names = set()
        for b in batches:
            if "spans" in b.tables:
                names |= set(b.tables["spans"].column("name").to_pylist())
        prepared.poisoned = POISON in names
        return prepared

    def commit(self, prepared):
        if getattr(prepared, "poisoned", False):
            self.inner.reset()
            raise StoreError("poisoned batch")
        self.commits += 1
        return self.inner.commit(prepared)

    def reset(self):
        self.inner.reset()


def _drafts(body: bytes):
    return prepare_spans(decode_traces_protobuf(body)[0])[0]


def test_requests_are_merged_into_group_commits(tmp_path) -> None:
    store = DuckDBStore(tmp_path / "s.duckdb")
    pipeline = IngestPipeline(store, batch_max_wait_ms=50)
    barrier = threading.Barrier(6)
    futures = []

    def send(body: bytes) -> None:
        drafts = _drafts(body)
        barrier.wait()
        futures.append(pipeline.submit(drafts))

    threads = [threading.Thread(target=send, args=(b,)) for b in _requests()[:6]]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wait(futures)
    assert all(f.exception() is None for f in futures)
    pipeline.stop()
    assert pipeline.commits < 6  # merged
    assert store.stats()["spans"] == 360
    store.close()


def test_a_full_queue_answers_overloaded(tmp_path) -> None:
    store = DuckDBStore(tmp_path / "s.duckdb")
    gate = threading.Event()
    original = store.commit

    def slow_commit(prepared):
        gate.wait(10)
        return original(prepared)

    store.commit = slow_commit
    pipeline = IngestPipeline(store, queue_max_spans=100)
    bodies = _requests()
    first = pipeline.submit(_drafts(bodies[0]))
    with pytest.raises(Overloaded) as info:
        for body in bodies[1:]:
            pipeline.submit(_drafts(body))
    assert info.value.retry_after > 0
    gate.set()
    first.result(10)
    pipeline.stop()
    store.close()


@pytest.mark.parametrize("mode", ["in-process", "workers"])
def test_a_poisoned_request_fails_alone(tmp_path, mode: str) -> None:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    bodies = _requests()
    req = ExportTraceServiceRequest.FromString(bodies[3])
    req.resource_spans[0].scope_spans[0].spans[0].name = POISON
    bodies[3] = req.SerializeToString()
    store = PoisonStore(tmp_path / "s.duckdb")
    workers = WorkerPool(1) if mode == "workers" else None
    pipeline = IngestPipeline(store, batch_max_wait_ms=100, workers=workers)
    try:
        futures = []
        for body in bodies:
            if workers is None:
                futures.append(pipeline.submit(_drafts(body)))
            else:
                job = Job("traces", "protobuf", body)
                result = workers.submit(job).result(30)
                futures.append(pipeline.submit_result(result, job))
        wait(futures, timeout=60)
        failed = [i for i, f in enumerate(futures) if f.exception() is not None]
        assert failed == [3]
        pipeline.stop()
        stored = store.inner.stats()["spans"]
        assert stored == sum(len(_drafts(b)) for i, b in enumerate(bodies) if i != 3)
        # whatever was stored reads back whole (no dangling delta bases after resets)
        from tracevault.query import TraceQuery

        for t in store.inner.list_traces(TraceQuery(limit=1000)):
            for span in store.inner.get_trace(None, t["trace_id"])["spans"]:
                if span["kind"] == "llm":
                    assert span["detail"]["input_messages"]
    finally:
        pipeline.stop()
        if workers is not None:
            workers.close()
        store.inner.close()
