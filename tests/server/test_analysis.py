"""REST analysis endpoints: filter, SQL, groups, incident timelines, memory state."""

from __future__ import annotations

import shutil

import pytest

import tracevault
from tests.conftest import RunningServer

pytestmark = pytest.mark.slow


@pytest.fixture
def demo_client(demo_store, store_path, make_client):
    shutil.copy(demo_store[0], store_path)
    bad = next(r for r in demo_store[1] if r.variant == "bad_research")
    return make_client(), bad


def test_filter_parameter(demo_client) -> None:
    client, bad = demo_client
    r = client.get("/api/traces", params={"filter": "trace.status = error"})
    assert r.status_code == 200
    assert [t["trace_id"] for t in r.json()["traces"]] == [bad.trace_id]
    r = client.get("/api/spans", params={"filter": 'kind = tool and tool ~ "write_*" and '
                                                   'service = "demo-coder"'})
    assert r.status_code == 200 and len(r.json()["spans"]) == 3
    r = client.get("/api/traces", params={"filter": "kind = = tool"})
    assert r.status_code == 400
    assert r.json() == {"error": "FilterSyntaxError", "column": 8,
                        "message": "column 8: expected a value, found '='"}


def test_sql_endpoint(demo_client) -> None:
    client, bad = demo_client
    r = client.post("/api/sql", json={"sql": "SELECT agent, count(*) AS n FROM tool_calls "
                                             "WHERE trace_id = '" + bad.trace_id + "' "
                                             "GROUP BY agent ORDER BY agent"})
    assert r.status_code == 200, r.text
    assert r.json() == {"columns": ["agent", "n"],
                        "rows": [{"agent": "coder", "n": 4}, {"agent": "planner", "n": 2},
                                 {"agent": "researcher", "n": 1}]}
    r = client.post("/api/sql", json={"sql": "DROP TABLE spans"})
    assert r.status_code == 400 and "DROP statements are refused" in r.json()["message"]
    r = client.post("/api/sql", json={"sql": ""})
    assert r.status_code == 400 and "sql" in r.json()["message"]


def test_sql_is_refused_with_api_keys(store_path, make_client) -> None:
    client = make_client(api_keys="ka=alpha")
    r = client.post("/api/sql", json={"sql": "SELECT 1"},
                    headers={"Authorization": "Bearer ka"})
    assert r.status_code == 401 and "without API keys" in r.json()["message"]


def test_group_incident_memory_endpoints(demo_client) -> None:
    client, bad = demo_client
    r = client.get(f"/api/groups/{bad.trace_id}")
    assert r.json() == {"trace_ids": [bad.trace_id]}
    joined = client.get(f"/api/groups/{bad.trace_id}", params={"timeline": "true"}).json()
    assert {"sender": "planner", "receiver": "coder", "count": 1} in joined["messages"]
    assert any(e["agent"] == "researcher" and "version 1" in e["title"]
               for e in joined["timeline"])
    r = client.get(f"/api/groups/{bad.trace_id}/incident", params={"format": "html"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "version 2 (current)" in r.text
    r = client.get(f"/api/groups/{bad.trace_id}/incident",
                   params={"flag": ["run_*"], "full": "true"})
    flagged = [e for e in r.json()["entries"] if e["flagged"]]
    assert {e["title"].split("(")[0] for e in flagged} == {"run_tests"}
    r = client.get(f"/api/groups/{bad.trace_id}/memory", params={"at": "planner:0"})
    assert r.json()["stores"]["shared"]["notes/schema"].startswith("Use config schema "
                                                                   "version 1")
    assert client.get(f"/api/groups/{bad.trace_id}/memory",
                      params={"at": "nobody:3"}).status_code == 400
    assert client.get(f"/api/groups/{'0' * 32}/incident").status_code == 404
    assert client.get(f"/api/groups/{bad.trace_id}/incident",
                      params={"format": "pdf"}).status_code == 400


def test_python_api_through_a_real_server(demo_store, store_path) -> None:
    shutil.copy(demo_store[0], store_path)
    bad = next(r for r in demo_store[1] if r.variant == "bad_research")
    server = RunningServer(store_path, grpc=False)
    try:
        with tracevault.open(server.url) as vault:
            assert [t.trace_id for t in vault.traces(filter="trace.status = error")] == [
                bad.trace_id]
            incident = vault.incident(bad.trace_id)
            assert any(e.agent == "researcher" and "version 1" in e.title
                       for e in incident.entries)
            assert vault.memory(bad.trace_id).stores["shared"][
                "status/coder"].startswith("Tests fail")
            assert vault.sql("SELECT count(*) AS n FROM traces").column("n").to_pylist() == [3]
            with pytest.raises(tracevault.QueryError, match="column 6"):
                vault.traces(filter="kind tool")
            with pytest.raises(tracevault.QueryError, match="refused"):
                vault.sql("DELETE FROM spans")
    finally:
        server.stop()
