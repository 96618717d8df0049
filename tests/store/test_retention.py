"""Retention: policies, legal holds and purges that the ledger accounts for."""

import hashlib
import json
import shutil
from pathlib import Path

import httpx
import pytest

import tracevault
from tests.conftest import RunningServer, shared
from tracevault._exceptions import InputError, NotFound
from tracevault.query._filters import TraceQuery
from tracevault.store import DuckDBStore

OLD_FILES = ("AGNO_trace.json", "GOOGLE_trace.json", "LANGCHAIN_trace.json",
             "OPENAI_trace.json", "SMOLAGENTS_trace.json")


@pytest.fixture
def mixed(tmp_path, demo_store):
    """The demo's runs (today) and traces recorded by other tools in 2025."""
    path = tmp_path / "mixed.duckdb"
    shutil.copy(demo_store[0], path)
    with tracevault.open(str(path)) as vault:
        for name in OLD_FILES:
            vault.import_file(shared("any_agent_genai_traces", name))
    return path


def _all(store: DuckDBStore) -> dict[str, dict]:
    return {t["trace_id"]: store.get_trace(None, t["trace_id"])
            for t in store.list_traces(TraceQuery(limit=10_000))}


def _old(traces: dict[str, dict]) -> list[str]:
    year = 365 * 86_400 * 10**9
    newest = max(t["summary"]["end_time_ns"] for t in traces.values())
    return sorted(k for k, t in traces.items()
                  if t["summary"]["end_time_ns"] < newest - year // 2)


def test_purge_removes_old_traces_keeps_held_ones_and_verify_explains_it(mixed) -> None:
    store = DuckDBStore(mixed)
    before = _all(store)
    old = _old(before)
    assert len(old) == len(OLD_FILES)
    held_by_id = old[0]
    held_by_filter = old[1]
    stats = store.stats()
    store.set_retention_policy("six-months", keep_days=183)
    store.add_legal_hold("case-17", reason="customer complaint 17", trace_ids=[held_by_id])
    store.add_legal_hold("weather", reason="regulator request",
                         filter=f'trace_id = "{held_by_filter}" and kind = llm')

    plan = store.apply_retention(dry_run=True)
    assert store.stats() == stats  # a dry run changes nothing
    doomed = set(old) - {held_by_id, held_by_filter}
    assert set(plan[0]["trace_ids"]) == doomed and plan[0]["held"] == 2

    done = store.apply_retention()[0]["purge"]
    after = _all(store)
    assert set(after) == set(before) - doomed
    for trace_id, trace in after.items():  # everything left reads exactly as before
        assert trace == before[trace_id]
    for trace_id in doomed:
        with pytest.raises(NotFound):
            store.get_trace(None, trace_id)
    removed_spans = sum(before[t]["summary"]["span_count"] for t in doomed)
    assert done["spans"] == removed_spans
    assert store.stats()["spans"] == stats["spans"] - removed_spans
    assert store.stats()["blobs"] == stats["blobs"] - done["blobs"] and done["blobs"] > 0

    report = store.verify()
    assert report.ok, report.problems
    assert report.purges == [{k: done[k] for k in (
        "seq", "policy", "purged_ns", "cutoff_ns", "traces", "spans", "events", "blobs",
        "archive", "archive_sha256")}]
    state = store.retention_state()
    assert state["purges"][0]["trace_ids"] == sorted(doomed, key=done["trace_ids"].index)
    assert state["purges"][0]["chain_hash"] == store.ledger_head()["chain_hash"]

    # The purge explains only what it removed: tampering around it is still found.
    con = store.cursor()
    con.execute("DELETE FROM purged_rows WHERE rowid IN (SELECT min(rowid) FROM purged_rows)")
    assert {p.table for p in store.verify().problems} >= {"ledger", "purges"}
    store.close()


def test_tampering_with_remaining_rows_is_still_detected_after_a_purge(mixed) -> None:
    store = DuckDBStore(mixed)
    store.set_retention_policy("old", keep_days=183)
    store.apply_retention()
    assert store.verify().ok
    store.cursor().execute("DELETE FROM spans WHERE rowid IN (SELECT min(rowid) FROM spans)")
    problems = store.verify().problems
    assert any(p.kind == "missing" and p.table == "spans" for p in problems)
    store.close()


def test_keep_policies_and_scopes_protect_traces(mixed) -> None:
    store = DuckDBStore(mixed)
    store.set_retention_policy("all", keep_days=183)
    store.set_retention_policy("agents-5y", keep_days=5 * 365, action="keep",
                               agent="any_agent")
    plan = store.apply_retention(dry_run=True)[0]
    assert plan["traces"] == 0 and plan["kept"] == len(OLD_FILES)
    store.remove_retention_policy("agents-5y")
    store.set_retention_policy("all", keep_days=183, project="elsewhere")
    assert store.apply_retention(dry_run=True)[0]["traces"] == 0
    store.set_retention_policy("all", keep_days=0, project="default", agent="researcher")
    plan = store.apply_retention(dry_run=True)[0]
    assert plan["traces"] == 3  # the demo's three runs, all with a researcher
    store.close()


def test_archive_writes_a_bundle_with_every_purged_trace(mixed, tmp_path) -> None:
    from tracevault.exchange import import_bundle

    store = DuckDBStore(mixed)
    before = _all(store)
    store.set_retention_policy("archive", keep_days=183, action="archive",
                               archive_dir=str(tmp_path / "archive"))
    done = store.apply_retention()[0]["purge"]
    data = Path(done["archive"]).read_bytes()
    assert hashlib.sha256(data).hexdigest() == done["archive_sha256"]
    assert store.verify().ok
    store.close()
    # The archive is a trace bundle: it restores every purged trace exactly.
    with tracevault.open(str(tmp_path / "restored.duckdb")) as vault:
        info = import_bundle(vault, done["archive"])
        assert info.manifest["selection"]["retention_policy"] == "archive"
        restored = _all(vault.store)
    assert sorted(restored) == sorted(done["trace_ids"])
    for trace_id, trace in restored.items():
        assert trace == before[trace_id]


def test_bad_policies_and_holds_are_refused(store) -> None:
    with pytest.raises(InputError, match="unknown retention action"):
        store.set_retention_policy("x", keep_days=3, action="shred")
    with pytest.raises(InputError, match="archive directory"):
        store.set_retention_policy("x", keep_days=3, action="archive")
    with pytest.raises(InputError, match="needs a reason"):
        store.add_legal_hold("h", reason=" ", trace_ids=["ab"])
    with pytest.raises(InputError, match="trace ids, a filter or a project"):
        store.add_legal_hold("h", reason="r")
    with pytest.raises(tracevault.FilterSyntaxError):
        store.add_legal_hold("h", reason="r", filter="kind = = llm")
    with pytest.raises(InputError, match="no legal hold named"):
        store.release_legal_hold("nope")
    with pytest.raises(InputError, match="no retention policy named"):
        store.apply_retention(policy="nope")


def test_a_running_server_purges_between_commits_and_keeps_ingesting(mixed) -> None:
    """Through the server (with ingest workers): the same traces sent again after the
    purge are stored whole again, although their blobs were removed and the workers
    had sent them before."""
    store = DuckDBStore(mixed)
    before = _all(store)
    store.close()
    old = _old(before)
    with (RunningServer(mixed, env={"TRACEVAULT_INGEST_WORKERS": "2"}, grpc=False) as srv,
          httpx.Client(base_url=srv.url, timeout=60) as client):
        files = [shared("any_agent_genai_traces", n).read_bytes() for n in OLD_FILES]
        for body in files:  # warms the workers' caches: they have sent these blobs
            assert client.post("/api/import", content=body).status_code == 200
        r = client.put("/api/retention/policies/old", json={"keep_days": 183})
        assert r.status_code == 200, r.text
        r = client.post("/api/retention/apply", json={"dry_run": False})
        assert r.status_code == 200, r.text
        assert sorted(r.json()["policies"][0]["trace_ids"]) == old
        assert client.get(f"/api/traces/{old[0]}").status_code == 404
        for body in files:
            assert client.post("/api/import", content=body).status_code == 200
        for trace_id in old:
            assert client.get(f"/api/traces/{trace_id}").json() == json.loads(
                json.dumps(before[trace_id]))
        verified = client.get("/api/verify").json()
        assert verified["ok"], verified["problems"][:3]
        assert len(verified["purges"]) == 1
        log = client.get("/api/audit").json()["entries"]
        actions = [e["action"] for e in log]
        assert actions.count("read.trace") == len(old) and "retention.apply" in actions
        assert {e["principal"] for e in log} == {"local 127.0.0.1"}
