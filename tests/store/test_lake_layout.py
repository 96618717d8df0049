"""The DuckLake layout: the trace index, sorted files, deduplication and purges across nodes."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tracevault._exceptions import NotFound, QueryError, StoreError
from tracevault.compliance import verify
from tracevault.ingest import prepare_spans
from tracevault.ingest.otlp import decode_traces_protobuf
from tracevault.query import TraceQuery
from tracevault.store import DuckLakeStore
from tracevault.store._codec import hkey
from tracevault.store.duckdb import _retention
from tracevault.store.duckdb._lakeindex import CATALOG, purge_lock
from tracevault.store.duckdb._retention import _SPAN_REFS
from tracevault.testing import workload_requests


def _drafts(seed: int, spans: int = 100, batch: int = 50) -> list[list[Any]]:
    return [prepare_spans(decode_traces_protobuf(body)[0])[0]
            for body, _ in workload_requests(spans, batch_size=batch, seed=seed)]


def _everything(store: DuckLakeStore) -> dict[str, Any]:
    return {t["trace_id"]: store.get_trace(None, t["trace_id"])
            for t in store.list_traces(TraceQuery(limit=9999))}


def _files(store: DuckLakeStore, table: str) -> list[str]:
    return [r[0] for r in store.cursor().execute(
        "SELECT data_file FROM ducklake_list_files('lake', ?)", [table]).fetchall()]


def _inlined_trace_ids(store: DuckLakeStore, table: str) -> set[str]:
    """Trace ids of the rows DuckLake keeps inlined in the catalog database for ``table``."""
    def pg(sql: str) -> list[tuple[Any, ...]]:
        return store.cursor().execute("SELECT * FROM postgres_query(?, ?)",
                                      [CATALOG, sql]).fetchall()
    out: set[str] = set()
    for (name,) in pg("SELECT i.table_name FROM ducklake_inlined_data_tables i JOIN "
                      f"ducklake_table t USING (table_id) WHERE t.table_name = '{table}'"):
        out |= {bytes(r[0]).decode() for r in pg(f"SELECT trace_id FROM {name}") if r[0]}
    return out


def test_a_trace_fetch_reads_only_the_files_of_its_commits(lake_url: str) -> None:
    store = DuckLakeStore(lake_url)
    for drafts in _drafts(31, 600, batch=25):
        store.write(drafts)
    traces = store.list_traces(TraceQuery(limit=9999))
    target = min((t["trace_id"] for t in traces),
                 key=lambda t: len(store.trace_summary(None, t)["seqs"]))
    expected = store.get_trace(None, target)
    summary = store.trace_summary(None, target)
    where = f"WHERE trace_id = '{target}'"  # every way its rows reference blobs
    refs = _SPAN_REFS.format(where=where, where_lifted=where + " AND lifted IS NOT NULL")
    hashes = [bytes(h) for h, in store.cursor().execute(
        f"SELECT DISTINCT h FROM ({refs}) WHERE h IS NOT NULL").fetchall()]
    needed = set(summary["seqs"]) | set(store.locator.blob_seqs([hkey(h) for h in hashes]))
    others = [t["trace_id"] for t in traces
              if not set(store.trace_summary(None, t["trace_id"])["seqs"]) & needed]
    moved = {}
    for table in ("spans", "events", "blobs", "trace_parts"):
        moved[table] = 0
        for path in _files(store, table):
            lo, hi = duckdb.execute("SELECT min(seq), max(seq) FROM read_parquet(?)",
                                    [path]).fetchone()
            if not any(lo <= s <= hi for s in needed):
                Path(path).rename(path + ".away")
                moved[table] += 1
    assert moved["spans"] > len(_files(store, "spans")) / 2, moved  # most are out of reach
    store.close()
    reader = DuckLakeStore(lake_url, read_only=True)
    assert reader.get_trace(None, target) == expected
    assert reader.trace_outline(None, target)["summary"] == expected["summary"]
    with pytest.raises((duckdb.Error, QueryError)):  # the other commits are really gone
        reader.get_trace(None, others[0])
    reader.close()


def test_files_are_partitioned_by_day_and_merged_sorted_by_trace(lake_url: str) -> None:
    store = DuckLakeStore(lake_url)
    for drafts in _drafts(32, 300, batch=30):
        store.write(drafts)
    before = _everything(store)
    store.maintain(keep_snapshots_days=0)
    files = _files(store, "spans")
    assert len(files) < 10
    for path in files:
        rows = duckdb.execute("SELECT trace_id, day FROM read_parquet(?)", [path]).fetchall()
        ids = [r[0] for r in rows]
        assert ids == sorted(ids)
        assert len({r[1] for r in rows}) == 1 and f"day={rows[0][1]}" in path
    for path in _files(store, "blobs"):  # blobs keep commit order, found by commit
        seqs = [r[0] for r in duckdb.execute("SELECT seq FROM read_parquet(?)",
                                             [path]).fetchall()]
        assert seqs == sorted(seqs)
    assert _everything(store) == before
    assert verify(store).ok
    store.close()


def test_a_span_resent_to_another_node_is_stored_once(lake_url: str) -> None:
    first = DuckLakeStore(lake_url, node_id="first")
    second = DuckLakeStore(lake_url, node_id="second")
    batches = _drafts(33, 200)
    for drafts in batches:
        first.write(drafts)
    stats = first.stats()
    blobs = first.cursor().execute("SELECT count(*) FROM blobs").fetchone()[0]
    for drafts in batches:  # the exporter retried against another node
        done = second.write(drafts)
        assert (done.spans, done.duplicates, done.blobs) == (0, len(drafts), 0)
    assert second.stats()["spans"] == stats["spans"] == 200
    assert second.cursor().execute("SELECT count(*) FROM blobs").fetchone()[0] == blobs
    first.close()
    second.close()


def test_a_purge_on_one_node_resets_the_others(lake_url: str) -> None:
    keeper = DuckLakeStore(lake_url, node_id="keeper")
    ingest = DuckLakeStore(lake_url, node_id="ingest")
    resent, dropped = _drafts(34, 100), _drafts(35, 60, batch=3)
    for drafts in resent + dropped:
        ingest.write(drafts)
    assert not _inlined_trace_ids(ingest, "spans")  # even 3-span commits are in files
    before = _everything(ingest)
    gone = {t["trace_id"] for t in ingest.list_traces(TraceQuery(limit=999))}
    end = max(t["summary"]["end_time_ns"] for t in before.values())
    keeper.set_retention_policy("all", keep_days=0, action="delete")
    first = keeper.apply_retention(now_ns=end + 10**12)[0]["purge"]
    assert first["traces"] == len(before) and first["blobs"] == 0  # blobs wait their turn
    assert ingest.list_traces(TraceQuery()) == []
    # The ingest node's caches knew every span and blob; after the purge it stores them again.
    for drafts in resent:
        assert ingest.write(drafts).spans == len(drafts)
    again = _everything(ingest)
    assert again == {k: v for k, v in before.items() if k in again} and again
    keeper.add_legal_hold("resent", reason="audit", trace_ids=list(again))
    for drafts in _drafts(36, 50):
        ingest.write(drafts)
    keeper._blob_grace_ns = 1  # the queued blobs are due at the next purge
    second = keeper.apply_retention(now_ns=end + 10**12)[0]["purge"]
    assert second["blobs"] > 0
    assert _everything(ingest) == again  # blobs the resent traces use were kept
    report = verify(keeper)
    assert report.ok, [str(p) for p in report.problems]
    # Purged rows are gone from the data files, not only from the current snapshot.
    data = Path(lake_url.split("data_path=")[1])
    for table in ("spans", "events"):
        files = [str(p) for p in data.rglob("*.parquet") if f"/{table}/" in str(p)]
        if files:
            ids = {r[0] for r in duckdb.execute(
                "SELECT DISTINCT trace_id FROM read_parquet(?::VARCHAR[])", [files]).fetchall()}
            assert not ids & (gone - set(again))
        assert not _inlined_trace_ids(keeper, table) & (gone - set(again))
    keeper.close()
    ingest.close()


def test_a_batch_prepared_before_another_nodes_purge_is_refused(lake_url: str) -> None:
    keeper = DuckLakeStore(lake_url, node_id="keeper")
    ingest = DuckLakeStore(lake_url, node_id="ingest")
    batches = _drafts(37, 100)
    ingest.write(batches[0])
    prepared = ingest.prepare(batches[1])
    keeper.set_retention_policy("all", keep_days=0, action="delete")
    end = max(t["end_time_ns"] for t in keeper.list_traces(TraceQuery()))
    keeper.apply_retention(now_ns=end + 10**12)
    with pytest.raises(StoreError, match="purge ran on another node"):
        ingest.commit(prepared)
    ingest.reset()
    assert ingest.write(batches[1]).spans == len(batches[1])
    assert verify(keeper).ok
    keeper.close()
    ingest.close()


def test_the_index_is_built_for_a_lake_written_without_it(lake_url: str) -> None:
    store = DuckLakeStore(lake_url)
    for drafts in _drafts(38, 100):
        store.write(drafts)
    before = _everything(store)
    store.cursor().execute(f"CALL postgres_execute('{CATALOG}', 'TRUNCATE tv_trace_index; "
                           "TRUNCATE tv_blob_index')")
    store.close()
    with pytest.raises(NotFound):
        DuckLakeStore(lake_url, read_only=True).trace_summary(None, next(iter(before)))
    store = DuckLakeStore(lake_url)  # a read-write open builds the index
    assert _everything(store) == before
    store.close()


def test_a_span_two_nodes_store_at_the_same_moment_reads_once(lake_url: str) -> None:
    first = DuckLakeStore(lake_url, node_id="first")
    second = DuckLakeStore(lake_url, node_id="second")
    drafts = _drafts(39, 50)[0]
    staged = [first.prepare(drafts), second.prepare(drafts)]  # neither sees the other yet
    for store, prepared in zip((first, second), staged, strict=True):
        assert store.commit(prepared).spans == len(drafts)
    assert first.cursor().execute("SELECT count(*) FROM spans").fetchone()[0] == 2 * len(drafts)
    for trace in _everything(first).values():
        ids = [s["span_id"] for s in trace["spans"]]
        assert len(ids) == len(set(ids))
    assert sum(len(t["spans"]) for t in _everything(second).values()) == len(drafts)
    assert verify(first).ok
    first.close()
    second.close()


def _due_for_purge(lake_url: str, seed: int, spans: int, count: int = 2
                   ) -> tuple[list[DuckLakeStore], list[dict[str, Any]], int]:
    """Nodes on one lake, traces the first wrote, and a time a delete-all policy purges them."""
    nodes = [DuckLakeStore(lake_url, node_id=f"n{i}") for i in range(count)]
    for drafts in _drafts(seed, spans):
        nodes[0].write(drafts)
    traces = nodes[0].list_traces(TraceQuery(limit=999))
    nodes[0].set_retention_policy("all", keep_days=0, action="delete")
    return nodes, traces, max(t["end_time_ns"] for t in traces) + 10**12


def test_two_nodes_purging_at_once_purge_each_trace_once(lake_url: str) -> None:
    nodes, traces, now = _due_for_purge(lake_url, 41, 200)
    outcomes: list[Any] = []

    def run(store: DuckLakeStore) -> None:
        try:
            outcomes.append(store.apply_retention(now_ns=now))
        except StoreError as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in nodes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # The purges take turns: the second plans after the first and finds nothing left.
    assert not [o for o in outcomes if isinstance(o, StoreError)], outcomes
    assert sorted(sum(p.get("purge", {}).get("traces", 0) for p in o) for o in outcomes) == [
        0, len(traces)]
    purged = sum(p["traces"] for p in nodes[1].retention_state()["purges"])
    assert purged == len(traces)
    assert nodes[1].list_traces(TraceQuery()) == []
    report = verify(nodes[1])
    assert report.ok, [str(p) for p in report.problems]
    for n in nodes:
        n.close()


def test_a_plan_another_node_purged_meanwhile_is_refused(lake_url: str) -> None:
    nodes, traces, now = _due_for_purge(lake_url, 43, 100)
    stale = _retention.plan_purges(nodes[1], nodes[1].cursor(), now)
    assert len(stale[0].traces) == len(traces)
    nodes[0].apply_retention(now_ns=now)  # purged between node 1's plan and its purge
    with pytest.raises(StoreError, match="run retention again"):
        _retention.purge(nodes[1], nodes[1]._get_writer(), stale[0], 60 * 10**9)
    assert [p["traces"] for p in nodes[1].retention_state()["purges"]] == [len(traces)]
    report = verify(nodes[1])
    assert report.ok, [str(p) for p in report.problems]
    for n in nodes:
        n.close()


def test_the_purge_lock_waits_for_a_purge_and_dies_with_its_holder(lake_url: str) -> None:
    (store,), _, now = _due_for_purge(lake_url, 44, 60, count=1)
    script = ("import sys, time; from tracevault.store.duckdb._lakeindex import purge_lock\n"
              "with purge_lock(sys.argv[1]):\n    print('held', flush=True); time.sleep(600)")
    with subprocess.Popen([sys.executable, "-c", script, store._dsn],
                          stdout=subprocess.PIPE, text=True) as holder:
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
            with pytest.raises(StoreError, match="another node has been purging"), \
                    purge_lock(store._dsn, wait_s=0.5):
                pass
            assert store.list_traces(TraceQuery())  # nothing purged while the lock is held
        finally:
            holder.kill()  # a purging node that dies releases the lock with its session
    done = store.apply_retention(now_ns=now)
    assert done[0]["purge"]["traces"] > 0
    assert store.list_traces(TraceQuery()) == []
    store.close()


def test_quotes_in_ids_and_projects_reach_postgres_as_text(lake_url: str) -> None:
    store = DuckLakeStore(lake_url)
    drafts = _drafts(42, 20)[0]
    for d in drafts:
        d.project = "o'brien; DROP TABLE tv_trace_index; --"
    store.write(drafts)
    trace_id = drafts[0].trace_id
    assert store.get_trace(drafts[0].project, trace_id)["summary"]["project"] == drafts[0].project
    for bad in ("x'y", "a''); DROP TABLE tv_trace_index; --", "\\'"):
        with pytest.raises(NotFound):
            store.get_trace(None, bad)
    store.set_retention_policy("all", keep_days=0, action="delete")
    end = max(t["end_time_ns"] for t in store.list_traces(TraceQuery()))
    assert store.apply_retention(now_ns=end + 10**12)[0]["purge"]["traces"] >= 1
    assert store.locator.trace_seqs([(None, trace_id)]) == {}
    store.close()
