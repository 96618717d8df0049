"""REST API over stored traces."""

import pyarrow as pa
import pytest

from tracevault.testing import workload_requests

PB = {"Content-Type": "application/x-protobuf"}


@pytest.fixture
def client(make_client):
    c = make_client()
    for body, _ in workload_requests(300, batch_size=100, seed=1):
        assert c.post("/v1/traces", content=body, headers=PB).status_code == 200
    return c


def test_list_traces_with_filters_and_paging(client) -> None:
    page = client.get("/api/traces", params={"limit": 2}).json()
    assert len(page["traces"]) == 2 and page["total"] > 2
    nxt = client.get("/api/traces", params={"limit": 2, "offset": 2}).json()["traces"]
    assert {t["trace_id"] for t in nxt}.isdisjoint(t["trace_id"] for t in page["traces"])
    coder = client.get("/api/traces", params={"agent": "coder"}).json()["traces"]
    assert coder and all("coder" in t["agents"] for t in coder)
    assert client.get("/api/traces", params={"tool": "no_such_tool"}).json()["total"] == 0
    assert client.get("/api/traces", params={"kind": "tool"}).json()["total"] == page["total"]


def test_text_search_finds_payloads(client) -> None:
    trace = client.get("/api/traces", params={"limit": 1}).json()["traces"][0]
    full = client.get(f"/api/traces/{trace['trace_id']}").json()
    tool = next(s for s in full["spans"] if s["kind"] == "tool")
    needle = " ".join(tool["detail"]["result"].split()[3:6])
    found = client.get("/api/traces", params={"text": needle}).json()["traces"]
    assert trace["trace_id"] in {t["trace_id"] for t in found}
    assert client.get("/api/traces", params={"text": "zzqqxx-not-there"}).json()["total"] == 0


def test_time_filters(client) -> None:
    assert client.get("/api/traces", params={"start": "-1d"}).json()["total"] == 0
    assert client.get("/api/traces", params={"start": "2020-01-01"}).json()["total"] > 0
    r = client.get("/api/traces", params={"start": "yesterday-ish"})
    assert r.status_code == 400 and "ISO 8601" in r.json()["message"]


def test_get_trace_and_span(client) -> None:
    trace = client.get("/api/traces", params={"limit": 1}).json()["traces"][0]
    full = client.get(f"/api/traces/{trace['trace_id']}").json()
    assert full["summary"]["trace_id"] == trace["trace_id"]
    assert len(full["spans"]) == trace["span_count"]
    llm = [s for s in full["spans"] if s["kind"] == "llm"][-1]
    one = client.get(f"/api/traces/{trace['trace_id']}/spans/{llm['span_id']}").json()
    assert one["detail"]["input_messages"] == llm["detail"]["input_messages"]
    original = client.get(f"/api/traces/{trace['trace_id']}/spans/{llm['span_id']}",
                          params={"original": "true"}).json()
    assert original["attributes"]["gen_ai.input.messages"].startswith('[{"role": "system"')
    assert client.get("/api/traces/" + "1" * 32).status_code == 404


def test_spans_as_json_and_arrow(client) -> None:
    rows = client.get("/api/spans", params={"kind": "llm", "limit": 5}).json()["spans"]
    assert len(rows) == 5 and all(r["kind"] == "llm" for r in rows)
    r = client.get("/api/spans", params={"kind": "tool", "format": "arrow", "limit": 7})
    table = pa.ipc.open_stream(r.content).read_all()
    assert table.num_rows == 7 and "tool_name" in table.column_names


def test_blobs(client) -> None:
    row = client.get("/api/spans", params={"kind": "tool", "limit": 1}).json()["spans"][0]
    blob = client.get(f"/api/blobs/{row['tool_args_ref']}").json()
    assert blob["data"].startswith('"')
    assert client.get("/api/blobs/zz").status_code == 400
    assert client.get("/api/blobs/" + "0" * 32).status_code == 404


def test_import_endpoint(client, tmp_path) -> None:
    from tests.conftest import shared

    data = shared("any_agent_genai_traces", "OPENAI_trace.json").read_bytes()
    r = client.post("/api/import", content=data, params={"project": "imported"})
    assert r.status_code == 200 and r.json()["spans"] == 6
    assert client.get("/api/traces", params={"project": "imported"}).json()["total"] == 1
    bad = client.post("/api/import", content=b'{"hello": 1}')
    assert bad.status_code == 400 and "unrecognised" in bad.json()["message"]


def test_bad_query_parameters_are_400(client) -> None:
    r = client.get("/api/traces", params={"limit": 0})
    assert r.status_code == 400 and "limit" in r.json()["message"]


def test_openapi_lists_every_route(client) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for route in ("/v1/traces", "/v1/logs", "/api/traces", "/api/traces/{trace_id}",
                  "/api/traces/{trace_id}/spans/{span_id}", "/api/spans",
                  "/api/blobs/{blob_hash}", "/api/import", "/api/stats", "/api/health"):
        assert route in paths


def test_outline_has_every_span_without_content(client) -> None:
    trace = client.get("/api/traces", params={"limit": 1}).json()["traces"][0]
    full = client.get(f"/api/traces/{trace['trace_id']}").json()
    outline = client.get(f"/api/traces/{trace['trace_id']}/outline").json()
    assert outline["summary"] == full["summary"]
    assert [s["span_id"] for s in outline["spans"]] == [s["span_id"] for s in full["spans"]]
    by_id = {s["span_id"]: s for s in full["spans"]}
    for s in outline["spans"]:
        f = by_id[s["span_id"]]
        assert (s["name"], s["kind"], s.get("parent_span_id"), s["start_time_ns"]) == (
            f["name"], f["kind"], f["parent_span_id"], f["start_time_ns"])
        assert None not in s.values() and "detail" not in s
        if s["kind"] == "tool":
            assert s["tool"] == f["detail"]["name"]
    assert client.get("/api/traces/" + "1" * 32 + "/outline").status_code == 404


def test_diff_of_two_traces(client) -> None:
    a, b = (t["trace_id"] for t in client.get("/api/traces", params={"limit": 2}).json()
            ["traces"])
    d = client.get("/api/diff", params={"a": a, "b": b}).json()
    assert (d["a"], d["b"]) == (a, b) and d["steps"] and not d["equal_content"]
    same = client.get("/api/diff", params={"a": a, "b": a}).json()
    assert same["equal_content"]
    assert client.get("/api/diff", params={"a": a, "b": b, "compare": "fuzzy"}
                      ).status_code == 400
    assert client.get("/api/diff", params={"a": a, "b": "2" * 32}).status_code == 404
