"""OTLP/HTTP receiver: formats, compression, errors. The server keeps serving after each."""

import gzip
import json

import pytest
from google.rpc import status_pb2
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceResponse,
)

from tracevault.testing import encode_request, workload_requests

PB = {"Content-Type": "application/x-protobuf"}
JS = {"Content-Type": "application/json"}
TID = "5b8efff798038103d269b633813fc60c"


def _json_body(*spans: dict) -> bytes:
    return json.dumps({"resourceSpans": [{"resource": {"attributes": [
        {"key": "service.name", "value": {"stringValue": "svc"}}]},
        "scopeSpans": [{"spans": list(spans)}]}]}).encode()


def _span(span_id: str = "eee19b7ec3c1b174", trace_id: str = TID, **extra: object) -> dict:
    return {"traceId": trace_id, "spanId": span_id, "name": "op", "startTimeUnixNano": "1",
            "endTimeUnixNano": "2", **extra}


def _still_serving(client) -> None:
    assert client.get("/api/health").json() == {"status": "ok"}
    r = client.post("/v1/traces", content=_json_body(_span("00000000000000aa")), headers=JS)
    assert r.status_code == 200


@pytest.fixture
def client(make_client):
    return make_client()


def test_protobuf_export_is_acknowledged_in_protobuf(client) -> None:
    body, n = next(iter(workload_requests(50, batch_size=50)))
    r = client.post("/v1/traces", content=body, headers=PB)
    assert r.status_code == 200 and r.headers["content-type"] == "application/x-protobuf"
    resp = ExportTraceServiceResponse.FromString(r.content)
    assert not resp.HasField("partial_success")
    assert client.get("/api/stats").json()["spans"] == n


def test_json_and_gzip(client) -> None:
    body = gzip.compress(_json_body(_span()))
    r = client.post("/v1/traces", content=body, headers={**JS, "Content-Encoding": "gzip"})
    assert r.status_code == 200 and r.json() == {}
    assert client.get(f"/api/traces/{TID}").json()["summary"]["service_name"] == "svc"


def test_some_bad_spans_are_reported_in_partial_success(client) -> None:
    r = client.post("/v1/traces", content=_json_body(_span(), _span(span_id="0" * 16)),
                    headers=JS)
    assert r.status_code == 200
    partial = r.json()["partialSuccess"]
    assert partial["rejectedSpans"] == "1" and "all zeros" in partial["errorMessage"]


def test_malformed_protobuf_is_400_with_a_status_body(client) -> None:
    r = client.post("/v1/traces", content=b"\x0a\xff\xff not protobuf", headers=PB)
    assert r.status_code == 400
    status = status_pb2.Status.FromString(r.content)
    assert "protobuf" in status.message
    _still_serving(client)


def test_malformed_json_is_400(client) -> None:
    r = client.post("/v1/traces", content=b'{"resourceSpans": [', headers=JS)
    assert r.status_code == 400 and "not valid JSON" in r.json()["message"]
    _still_serving(client)


def test_invalid_ids_are_400(client) -> None:
    r = client.post("/v1/traces", content=_json_body(_span(trace_id="0" * 32)), headers=JS)
    assert r.status_code == 400 and "all zeros" in r.json()["message"]
    r = client.post("/v1/traces", content=_json_body(_span(span_id="xyz")), headers=JS)
    assert r.status_code == 400 and "spanId" in r.json()["message"]
    _still_serving(client)


def test_wrong_attribute_types_are_400_naming_the_attribute(client) -> None:
    span = _span(attributes=[{"key": "gen_ai.usage.input_tokens",
                              "value": {"intValue": "many"}}])
    r = client.post("/v1/traces", content=_json_body(span), headers=JS)
    assert r.status_code == 400
    assert "gen_ai.usage.input_tokens" in r.json()["message"]
    _still_serving(client)


def test_oversize_bodies_are_413(make_client) -> None:
    client = make_client(max_body_bytes=10_000)
    big = _json_body(_span(attributes=[{"key": "x", "value": {"stringValue": "y" * 20_000}}]))
    r = client.post("/v1/traces", content=big, headers=JS)
    assert r.status_code == 413 and "10000" in r.json()["message"]
    # a small gzip body that inflates past the limit is caught too
    r = client.post("/v1/traces", content=gzip.compress(big),
                    headers={**JS, "Content-Encoding": "gzip"})
    assert r.status_code == 413
    _still_serving(client)


def test_oversize_values_are_rejected_per_span(make_client) -> None:
    client = make_client(max_value_bytes=1000)
    ok = _span()
    big = _span(span_id="00000000000000bb",
                attributes=[{"key": "x", "value": {"stringValue": "y" * 5000}}])
    r = client.post("/v1/traces", content=_json_body(ok, big), headers=JS)
    assert r.status_code == 200
    assert "limit 1000" in r.json()["partialSuccess"]["errorMessage"]


@pytest.mark.parametrize("ctype", ["text/plain", "", "application/xml"])
def test_wrong_content_type_is_415(client, ctype: str) -> None:
    r = client.post("/v1/traces", content=b"{}", headers={"Content-Type": ctype})
    assert r.status_code == 415 and "application/x-protobuf" in r.json()["message"]
    _still_serving(client)


def test_unknown_encoding_is_415(client) -> None:
    r = client.post("/v1/traces", content=b"{}", headers={**JS, "Content-Encoding": "br"})
    assert r.status_code == 415


def test_broken_gzip_is_400(client) -> None:
    r = client.post("/v1/traces", content=b"not gzip",
                    headers={**JS, "Content-Encoding": "gzip"})
    assert r.status_code == 400


def test_project_comes_from_the_resource(client) -> None:
    body = encode_request([], project="alpha")
    assert client.post("/v1/traces", content=body, headers=PB).status_code == 200
    body, _ = next(iter(workload_requests(30, batch_size=30)))
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )
    req = ExportTraceServiceRequest.FromString(body)
    spans = list(req.resource_spans[0].scope_spans[0].spans)
    client.post("/v1/traces", content=encode_request(spans, project="alpha"), headers=PB)
    traces = client.get("/api/traces", params={"project": "alpha"}).json()["traces"]
    assert traces and {t["project"] for t in traces} == {"alpha"}
    assert client.get("/api/traces", params={"project": "default"}).json()["total"] == 0
