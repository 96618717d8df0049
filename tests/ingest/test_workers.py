"""Ingest worker processes lift exactly what in-process ingest lifts."""

import pytest

from tracevault import DecodeError
from tracevault.ingest import prepare_spans
from tracevault.ingest._workers import Job, WorkerPool
from tracevault.ingest.otlp import decode_traces_protobuf
from tracevault.query import TraceQuery
from tracevault.store import DuckDBStore
from tracevault.testing import workload_requests


@pytest.fixture(scope="module")
def pool():
    p = WorkerPool(2)
    yield p
    p.close()


def test_worker_rows_equal_in_process_rows(pool, tmp_path) -> None:
    bodies = [b for b, _ in workload_requests(400, batch_size=100, seed=5)]
    local = DuckDBStore(tmp_path / "local.duckdb")
    remote = DuckDBStore(tmp_path / "workers.duckdb")
    for body in bodies:
        local.write(prepare_spans(decode_traces_protobuf(body)[0])[0])
        result = pool.submit(Job("traces", "protobuf", body)).result(30)
        assert result.error is None and result.spans == 100
        remote.commit(remote.assemble([result.batch]))
    a = local.list_traces(TraceQuery(limit=100))
    b = remote.list_traces(TraceQuery(limit=100))
    assert a == b
    for t in a:
        assert local.get_trace(None, t["trace_id"]) == remote.get_trace(None, t["trace_id"])
    local.close()
    remote.close()


def test_decode_errors_come_back_as_errors(pool) -> None:
    result = pool.submit(Job("traces", "json", b"{broken")).result(30)
    assert isinstance(result.error, DecodeError)


def test_reset_bumps_the_epoch(pool) -> None:
    before = pool.epoch
    pool.reset()
    body, _ = next(iter(workload_requests(10, batch_size=10)))
    assert pool.submit(Job("traces", "protobuf", body)).result(30).epoch == before + 1
