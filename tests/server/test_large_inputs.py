"""Large values and large traces ingest and read back whole, within documented limits."""

import json
import time

import pytest
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from tracevault._workload import _kv
from tracevault.testing import encode_request

PB = {"Content-Type": "application/x-protobuf"}
TID = bytes.fromhex("6e0c63257de34c92bf9efcd03927272e")


def _span(i: int, parent: int | None = None, **attrs: object) -> Span:
    return Span(trace_id=TID, span_id=(i + 1).to_bytes(8, "big"),
                parent_span_id=(parent + 1).to_bytes(8, "big") if parent is not None else b"",
                name=f"span {i}", start_time_unix_nano=1_000 + i, end_time_unix_nano=2_000 + i,
                attributes=[_kv(k, v) for k, v in attrs.items()])


@pytest.mark.slow
def test_multi_megabyte_values_round_trip(make_client) -> None:
    client = make_client()
    result = "r" * (5 << 20)
    history = [{"role": "user", "parts": [{"type": "text", "content": "x" * (3 << 20)}]}]
    body = encode_request([
        _span(0, **{"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "dump",
                    "gen_ai.tool.call.result": result}),
        _span(1, **{"gen_ai.operation.name": "chat",
                    "gen_ai.input.messages": json.dumps(history)}),
    ])
    assert client.post("/v1/traces", content=body, headers=PB).status_code == 200
    trace = client.get(f"/api/traces/{TID.hex()}").json()
    by_name = {s["name"]: s for s in trace["spans"]}
    assert by_name["span 0"]["detail"]["result"] == result
    assert by_name["span 1"]["detail"]["input_messages"] == history


def test_values_beyond_the_limit_are_rejected_clearly(make_client) -> None:
    client = make_client(max_value_bytes="1MB")
    body = encode_request([_span(0, big="z" * (2 << 20)), _span(1, small="ok")])
    r = client.post("/v1/traces", content=body, headers=PB)
    assert r.status_code == 200
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceResponse,
    )

    partial = ExportTraceServiceResponse.FromString(r.content).partial_success
    assert partial.rejected_spans == 1 and "'big'" in partial.error_message
    assert client.get(f"/api/traces/{TID.hex()}").json()["summary"]["span_count"] == 1


def test_bodies_beyond_the_limit_are_413(make_client) -> None:
    client = make_client(max_body_bytes="2MB")
    body = encode_request([_span(0, big="z" * (3 << 20))])
    r = client.post("/v1/traces", content=body, headers=PB)
    assert r.status_code == 413


@pytest.mark.slow
def test_a_trace_of_10000_spans(make_client) -> None:
    client = make_client()
    n = 10_000
    spans = [_span(0, **{"gen_ai.operation.name": "invoke_agent"})]
    spans += [_span(i, parent=(i - 1) // 10, **{"gen_ai.operation.name": "execute_tool",
                                                "gen_ai.tool.name": f"t{i % 7}",
                                                "gen_ai.tool.call.arguments": f'{{"i": {i}}}'})
              for i in range(1, n)]
    for start in range(0, n, 2000):
        body = encode_request(spans[start:start + 2000])
        assert client.post("/v1/traces", content=body, headers=PB).status_code == 200
    t0 = time.perf_counter()
    trace = client.get(f"/api/traces/{TID.hex()}").json()
    elapsed = time.perf_counter() - t0
    assert trace["summary"]["span_count"] == n and len(trace["spans"]) == n
    assert trace["summary"]["root_name"] == "span 0"
    args = {s["span_id"]: s["detail"]["arguments"] for s in trace["spans"] if s["kind"] == "tool"}
    assert len(args) == n - 1 and args[(500 + 1).to_bytes(8, "big").hex()] == {"i": 500}
    print(f"10,000-span trace fetched in {elapsed:.2f}s")
