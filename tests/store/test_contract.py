"""The TraceStore contract, run against every backend (a backend is what passes this)."""

from __future__ import annotations

import pytest

from tracevault.ingest import prepare_spans
from tracevault.ingest.otlp import decode_traces_protobuf
from tracevault.query import SpanQuery, TraceQuery
from tracevault.store import DuckDBStore, DuckLakeStore, RemoteStore, TraceStore
from tracevault.testing import workload_requests


def _write(store) -> int:
    n = 0
    for body, _ in workload_requests(200, batch_size=100, seed=3):
        drafts, _ = prepare_spans(decode_traces_protobuf(body)[0])
        store.write(drafts)
        n += len(drafts)
    return n


@pytest.fixture(params=["duckdb", "ducklake", "remote", "remote-ducklake"])
def backend(request, tmp_path):
    if request.param in ("duckdb", "ducklake"):
        if request.param == "duckdb":
            store = DuckDBStore(tmp_path / "s.duckdb")
        else:
            store = DuckLakeStore(request.getfixturevalue("lake_url"))
        n = _write(store)
        yield store, n
        store.close()
        return
    from tests.conftest import RunningServer

    path = tmp_path / "s.duckdb"
    if request.param == "remote-ducklake":
        path = request.getfixturevalue("lake_url")
        seed = DuckLakeStore(path)
    else:
        seed = DuckDBStore(path)
    n = _write(seed)
    seed.close()
    server = RunningServer(path, grpc=False)
    try:
        store = RemoteStore(server.url)
        yield store, n
        store.close()
    finally:
        server.stop()


def test_conforms_to_the_protocol(backend) -> None:
    store, _ = backend
    assert isinstance(store, TraceStore)


def test_list_count_get(backend) -> None:
    store, n = backend
    traces = store.list_traces(TraceQuery(limit=1000))
    assert sum(t["span_count"] for t in traces) == n
    assert store.count_traces(TraceQuery()) == len(traces)
    starts = [t["start_time_ns"] for t in traces]
    assert starts == sorted(starts, reverse=True)
    full = store.get_trace(None, traces[0]["trace_id"])
    assert len(full["spans"]) == traces[0]["span_count"]
    llm = next(s for s in full["spans"] if s["kind"] == "llm")
    assert llm["detail"]["input_messages"]
    span = store.get_span(None, traces[0]["trace_id"], llm["span_id"], original=True)
    assert span["attributes"]["gen_ai.input.messages"].startswith("[{")


def test_filters(backend) -> None:
    store, _ = backend
    assert store.count_traces(TraceQuery(agent="coder")) > 0
    assert store.count_traces(TraceQuery(agent="nobody")) == 0
    assert store.count_traces(TraceQuery(spans=SpanQuery(tool="search_web"))) > 0
    assert store.count_traces(TraceQuery(status="error")) == 0
    assert store.count_traces(TraceQuery(model="gpt-4o-2024-08-06")) > 0


def test_spans_table_and_blobs(backend) -> None:
    store, n = backend
    table = store.spans_table(SpanQuery(kind="tool", limit=None))
    assert 0 < table.num_rows < n
    assert set(table.column("kind").to_pylist()) == {"tool"}
    h = table.column("tool_args_ref").to_pylist()[0]
    assert store.load_blobs([h])[h].startswith('"')


def test_stats(backend) -> None:
    store, n = backend
    assert store.stats()["spans"] == n
