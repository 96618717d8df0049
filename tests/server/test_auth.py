"""API keys per project: every request needs one and sees only its project."""

import pytest

from tracevault import AuthError
from tracevault.server._auth import Auth
from tracevault.testing import workload_requests

PB = {"Content-Type": "application/x-protobuf"}


def _headers(key: str) -> dict:
    return {**PB, "Authorization": f"Bearer {key}"}


@pytest.fixture
def client(make_client):
    return make_client(api_keys="ka=alpha,kb=beta")


def test_requests_need_a_known_key(client) -> None:
    body, _ = next(iter(workload_requests(20, batch_size=20)))
    r = client.post("/v1/traces", content=body, headers=PB)
    assert r.status_code == 401 and "missing API key" in r.content.decode(errors="replace")
    assert client.post("/v1/traces", content=body, headers=_headers("nope")).status_code == 401
    assert client.get("/api/traces").status_code == 401
    assert client.get("/api/health").status_code == 200


def test_each_key_reads_and_writes_only_its_project(client) -> None:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    from tracevault.testing import encode_request

    body, _ = next(iter(workload_requests(40, batch_size=40)))
    spans = list(ExportTraceServiceRequest.FromString(body).resource_spans[0]
                 .scope_spans[0].spans)
    # The resource claims project beta; key ka decides: alpha.
    r = client.post("/v1/traces", content=encode_request(spans, project="beta"),
                    headers=_headers("ka"))
    assert r.status_code == 200
    alpha = client.get("/api/traces", headers={"X-API-Key": "ka"}).json()
    assert alpha["total"] > 0 and {t["project"] for t in alpha["traces"]} == {"alpha"}
    assert client.get("/api/traces", headers={"X-API-Key": "kb"}).json()["total"] == 0
    tid = alpha["traces"][0]["trace_id"]
    assert client.get(f"/api/traces/{tid}", headers={"X-API-Key": "kb"}).status_code == 404
    r = client.get("/api/traces", params={"project": "alpha"}, headers={"X-API-Key": "kb"})
    assert r.status_code == 404


def test_without_keys_only_localhost_is_served() -> None:
    auth = Auth({})
    assert auth.project_for_key(None, "127.0.0.1") is None
    assert auth.project_for_key(None, "::1") is None
    with pytest.raises(AuthError, match="localhost only"):
        auth.project_for_key(None, "203.0.113.9")
