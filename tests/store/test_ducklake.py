"""The DuckLake backend: URL forms, offline extensions, nodes sharing one lake, the ledger."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import duckdb
import pytest

from tracevault._exceptions import ConfigError
from tracevault.compliance import verify
from tracevault.ingest import prepare_spans
from tracevault.ingest.otlp import decode_traces_protobuf
from tracevault.query import TraceQuery
from tracevault.store import DuckDBStore, DuckLakeStore, open_store
from tracevault.store.duckdb._lake import load_extensions, parse_lake_url
from tracevault.testing import PostgresCluster, workload_requests


def _drafts(seed: int, spans: int = 100) -> list[list[object]]:
    return [prepare_spans(decode_traces_protobuf(body)[0])[0]
            for body, _ in workload_requests(spans, batch_size=50, seed=seed)]


def test_url_forms() -> None:
    dsn, data = parse_lake_url("ducklake:postgres://ann:s%40cret@db.local:5433/traces"
                               "?data_path=/mnt/lake")
    assert dsn == "dbname=traces host=db.local port=5433 user=ann password=s@cret"
    assert data == "/mnt/lake"
    dsn, data = parse_lake_url("ducklake:postgres:dbname=traces host=db data_path=s3://b/x")
    assert (dsn, data) == ("dbname=traces host=db", "s3://b/x")
    for bad in ("ducklake:postgres://db/traces", "ducklake:sqlite:x.db?data_path=/d",
                "ducklake:postgres:host=db data_path=/d"):
        with pytest.raises(ConfigError):
            parse_lake_url(bad)


def test_extensions_load_from_the_packages_into_a_private_directory(tmp_path: Path) -> None:
    con = duckdb.connect(config={"extension_directory": str(tmp_path / "ext"),
                                 "autoinstall_known_extensions": False})
    load_extensions(con)
    loaded = {name for name, in con.execute(
        "SELECT extension_name FROM duckdb_extensions() WHERE loaded").fetchall()}
    assert {"ducklake", "postgres_scanner"} <= loaded
    assert list((tmp_path / "ext").rglob("ducklake.duckdb_extension"))


def test_open_store_reopen_and_stats(lake_url: str) -> None:
    store = open_store(lake_url)
    assert isinstance(store, DuckLakeStore) and store.url == lake_url
    for drafts in _drafts(1):
        store.write(drafts)
    stats = store.stats()
    store.close()
    again = open_store(lake_url, read_only=True)
    assert again.stats()["spans"] == stats["spans"] == 100
    assert stats["bytes"] > 0
    assert verify(again).ok
    again.close()


def test_nodes_write_concurrently_with_unique_numbers_and_chains(lake_url: str) -> None:
    DuckLakeStore(lake_url).close()
    nodes = [DuckLakeStore(lake_url, node_id=f"n{i}") for i in range(3)]
    batches = [_drafts(10 + i, 300) for i in range(3)]
    errors: list[BaseException] = []

    def run(store: DuckLakeStore, work: list[list[object]]) -> None:
        try:
            for drafts in work:
                store.write(drafts)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=pair) for pair in zip(nodes, batches,
                                                                         strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    for store in nodes:
        assert store.stats()["spans"] == 900
        assert store.count_traces(TraceQuery()) == len(store.list_traces(TraceQuery(limit=999)))
    ledger = nodes[0].cursor().execute("SELECT node, seq FROM ledger").fetchall()
    assert {n for n, _ in ledger} == {"n0", "n1", "n2"}
    assert len({s for _, s in ledger}) == len(ledger) == 18
    report = verify(nodes[1])
    assert report.ok, [str(p) for p in report.problems]
    for store in nodes:
        store.close()


def test_verify_reports_a_shared_number_and_an_altered_row(lake_url: str) -> None:
    a = DuckLakeStore(lake_url, node_id="a")
    b = DuckLakeStore(lake_url, node_id="b")
    a.write(_drafts(2)[0])
    b.write(_drafts(3)[0])
    seq = a.cursor().execute("SELECT seq FROM ledger WHERE node = 'a'").fetchone()[0]
    a.cursor().execute("INSERT INTO ledger SELECT 'c', seq, committed_ns, 0, 0, 0, content_hash, "
                       "'', chain_hash FROM ledger WHERE seq = ?", [seq])
    problems = [str(p) for p in verify(b).problems]
    assert any("used by two commits" in p for p in problems), problems
    assert not any("differ" in p for p in problems)
    b.cursor().execute("UPDATE spans SET name = 'forged' WHERE seq = ?", [seq])
    assert any("differ" in str(p) for p in verify(b).problems)
    a.close()
    b.close()


def test_cli_reads_a_lake_and_rejects_a_bad_url(lake_url: str) -> None:
    store = DuckLakeStore(lake_url)
    store.write(_drafts(4)[0])
    store.close()
    done = subprocess.run([sys.executable, "-m", "tracevault", "verify", "--store", lake_url],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    bad = subprocess.run([sys.executable, "-m", "tracevault", "verify", "--store",
                          "ducklake:postgres://db/x"], capture_output=True, text=True,
                         check=False)
    assert bad.returncode == 2
    assert bad.stderr.strip().count("\n") == 0 and "data_path" in bad.stderr


def test_cluster_helper_makes_separate_databases(postgres: PostgresCluster) -> None:
    assert postgres.create_database() != postgres.create_database()


def test_embedded_store_moves_into_a_lake_through_a_bundle(lake_url: str,
                                                           tmp_path: Path) -> None:
    embedded = DuckDBStore(tmp_path / "e.duckdb")
    for drafts in _drafts(5):
        embedded.write(drafts)
    traces = {t["trace_id"] for t in embedded.list_traces(TraceQuery(limit=999))}
    embedded.close()
    cli = [sys.executable, "-m", "tracevault"]
    bundle = tmp_path / "all.tvbundle"
    for args in (["export", "--store", str(tmp_path / "e.duckdb"), "--format", "bundle",
                  "-o", str(bundle)], ["import", "--store", lake_url, str(bundle)]):
        done = subprocess.run([*cli, *args], capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
    lake = DuckLakeStore(lake_url, read_only=True)
    assert lake.stats()["spans"] == 100
    assert {t["trace_id"] for t in lake.list_traces(TraceQuery(limit=999))} == traces
    assert verify(lake).ok
    lake.close()


def test_scores_retention_and_purge_on_a_lake(lake_url: str) -> None:
    store = DuckLakeStore(lake_url, node_id="keeper")
    for drafts in _drafts(6):
        store.write(drafts)
    traces = store.list_traces(TraceQuery(limit=999))
    store.write_scores([{"project": traces[0]["project"], "trace_id": traces[0]["trace_id"],
                         "name": "ok", "value": 1.0}])
    assert [s["name"] for s in store.scores()] == ["ok"]
    store.set_retention_policy("short", keep_days=1, action="delete")
    store.set_retention_policy("short", keep_days=0, action="delete")
    assert [p["keep_days"] for p in store.retention_state()["policies"]] == [0]
    store.add_legal_hold("case", reason="audit", trace_ids=[traces[1]["trace_id"]])
    out = store.apply_retention(now_ns=max(t["end_time_ns"] for t in traces) + 10**12)
    assert out[0]["purge"]["traces"] == len(traces) - 1
    assert [t["trace_id"] for t in store.list_traces(TraceQuery())] == [traces[1]["trace_id"]]
    report = verify(store)
    assert report.ok, [str(p) for p in report.problems]
    store.close()


def test_maintain_merges_files_and_expires_snapshots(lake_url: str, tmp_path: Path) -> None:
    store = DuckLakeStore(lake_url)
    for drafts in _drafts(7, 400):
        store.write(drafts)
    files = store.cursor().execute("SELECT count(*) FROM ducklake_list_files('lake', 'spans')"
                                   ).fetchone()[0]
    store.close()
    cli = [sys.executable, "-m", "tracevault", "maintain", "--store", lake_url]
    bad = subprocess.run([*cli, "--keep-snapshots-days", "-1"], capture_output=True,
                         text=True, check=False)
    assert bad.returncode == 2 and bad.stderr.strip().count("\n") == 0
    done = subprocess.run([*cli, "--keep-snapshots-days", "0", "--json"], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["snapshots_expired"] > 0 and out["files_deleted"] > 0
    again = DuckLakeStore(lake_url, read_only=True)
    merged = again.cursor().execute("SELECT count(*) FROM ducklake_list_files('lake', 'spans')"
                                    ).fetchone()[0]
    assert merged < files == 8
    assert again.stats()["spans"] == 400 and verify(again).ok
    again.close()
    embedded = tmp_path / "e.duckdb"
    DuckDBStore(embedded).close()
    done = subprocess.run([sys.executable, "-m", "tracevault", "maintain", "--store",
                           str(embedded)], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and "checkpointed: True" in done.stdout, done.stderr
