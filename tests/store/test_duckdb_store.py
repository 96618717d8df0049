import duckdb
import numpy as np
import pytest

from tracevault import NotFound, SchemaVersionError, StoreBusy
from tracevault.ingest import prepare_spans
from tracevault.ingest.otlp import decode_traces_protobuf
from tracevault.store import DuckDBStore, open_store
from tracevault.store._blobindex import BlobCache, BlobIndex
from tracevault.store._codec import hkey
from tracevault.testing import workload_requests


def _drafts(n: int = 300, seed: int = 0):
    out = []
    for body, _ in workload_requests(n, batch_size=100, seed=seed):
        out += prepare_spans(decode_traces_protobuf(body)[0])[0]
    return out


def test_retried_spans_are_stored_once(tmp_path) -> None:
    path = tmp_path / "s.duckdb"
    drafts = _drafts()
    store = DuckDBStore(path)
    first = store.write(drafts)
    again = store.write(drafts)
    assert first.spans == len(drafts) and again.spans == 0
    assert again.duplicates == len(drafts) and again.seq is None
    store.close()
    store = DuckDBStore(path)  # after a restart the cache is cold: the store still knows
    assert store.write(drafts[:50]).duplicates == 50
    assert store.stats()["spans"] == len(drafts)
    store.close()


def test_every_commit_is_chained_in_the_ledger(tmp_path) -> None:
    store = DuckDBStore(tmp_path / "s.duckdb")
    drafts = _drafts()
    for i in range(0, len(drafts), 100):
        store.write(drafts[i:i + 100])
    rows = store.cursor().execute(
        "SELECT seq, spans, prev_hash, chain_hash FROM ledger ORDER BY seq").fetchall()
    assert [r[0] for r in rows] == [1, 2, 3]
    assert sum(r[1] for r in rows) == len(drafts)
    assert rows[0][2] == "" and all(rows[i][2] == rows[i - 1][3] for i in range(1, 3))
    store.close()


def test_trace_summaries_are_maintained_at_ingest(store) -> None:
    drafts = _drafts()
    store.write(drafts)
    from tracevault.query import TraceQuery

    traces = store.list_traces(TraceQuery(limit=1000))
    assert sum(t["span_count"] for t in traces) == len(drafts)
    t = traces[0]
    assert t["root_name"].startswith("invoke_agent") or t["root_span_id"] is None
    assert t["llm_count"] > 0 and t["tool_count"] > 0 and t["total_tokens"] > 0
    assert t["models"] == ["gpt-4o-2024-08-06"]


def test_missing_trace_is_not_found(store) -> None:
    with pytest.raises(NotFound):
        store.get_trace(None, "0" * 31 + "1")


def test_a_second_writer_process_is_refused_clearly(tmp_path) -> None:
    import subprocess
    import sys

    path = tmp_path / "s.duckdb"
    store = DuckDBStore(path)
    code = ("import sys\nfrom tracevault.store import DuckDBStore\n"
            "from tracevault import StoreBusy\ntry:\n"
            f"    DuckDBStore({str(path)!r})\nexcept StoreBusy as e:\n"
            "    print('busy:', e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "busy:" in out.stdout and "held by another process" in out.stdout
    store.close()
    _ = StoreBusy


def test_newer_store_versions_are_refused(tmp_path) -> None:
    path = tmp_path / "s.duckdb"
    DuckDBStore(path).close()
    con = duckdb.connect(str(path))
    con.execute("UPDATE tv_meta SET value = '999' WHERE key = 'store_version'")
    con.close()
    with pytest.raises(SchemaVersionError, match="999"):
        DuckDBStore(path)


def test_open_store_url_forms(tmp_path) -> None:
    for url in (str(tmp_path / "a.duckdb"), f"duckdb:{tmp_path / 'b.duckdb'}", ":memory:"):
        s = open_store(url)
        assert isinstance(s, DuckDBStore)
        s.close()


def test_blob_cache_keeps_its_budget_and_forgets_everything_on_clear() -> None:
    cache = BlobCache(max_bytes=64)
    cache.put_many({bytes([i]) * 16: "x" * 4 for i in range(20)})  # 80 bytes: oldest go
    found, missing = cache.get_many(bytes([i]) * 16 for i in range(20))
    assert len(found) == 16 and missing == [bytes([i]) * 16 for i in range(4)]
    cache.put_many({b"big" * 6: "y" * 5})  # over 1/16 of the budget: never cached
    assert cache.get_many([b"big" * 6])[1] == [b"big" * 6]
    cache.clear()
    assert cache.get_many([bytes([19]) * 16]) == ({}, [bytes([19]) * 16])


def test_blob_index_never_drops_a_blob_on_a_key_collision() -> None:
    index = BlobIndex(hot_max=10)
    stored = bytes(range(16))
    colliding = stored[:8] + bytes(8)  # same 8-byte key, different hash
    index.load(np.array([hkey(stored)], dtype=np.int64))
    asked = []

    def confirm(keys):
        asked.append(keys)
        return {stored}

    assert index.new_hashes([stored, colliding], confirm) == [colliding]
    assert asked == [[hkey(stored), hkey(colliding)]]
    assert index.new_hashes([stored], confirm) == []  # now hot: no lookup
    assert len(asked) == 1
