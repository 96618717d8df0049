import base64
import json

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import (
    AnyValue,
    ArrayValue,
    KeyValue,
    KeyValueList,
)
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from tracevault import DecodeError
from tracevault.ingest.otlp import (
    decode_logs_json,
    decode_traces_json,
    decode_traces_protobuf,
)

TID = bytes.fromhex("5b8efff798038103d269b633813fc60c")
SID = bytes.fromhex("eee19b7ec3c1b174")


def _request(**span_fields: object) -> ExportTraceServiceRequest:
    fields = {"trace_id": TID, "span_id": SID, "name": "s", "start_time_unix_nano": 1,
              "end_time_unix_nano": 2}
    fields.update(span_fields)
    return ExportTraceServiceRequest(resource_spans=[ResourceSpans(
        scope_spans=[ScopeSpans(spans=[Span(**fields)])])])


def test_protobuf_attribute_types_become_python_values() -> None:
    attrs = [
        KeyValue(key="s", value=AnyValue(string_value="x")),
        KeyValue(key="i", value=AnyValue(int_value=-7)),
        KeyValue(key="d", value=AnyValue(double_value=0.5)),
        KeyValue(key="b", value=AnyValue(bool_value=True)),
        KeyValue(key="a", value=AnyValue(array_value=ArrayValue(values=[
            AnyValue(string_value="p"), AnyValue(int_value=2)]))),
        KeyValue(key="m", value=AnyValue(kvlist_value=KeyValueList(values=[
            KeyValue(key="k", value=AnyValue(string_value="v"))]))),
        KeyValue(key="y", value=AnyValue(bytes_value=b"\x00\xff")),
    ]
    spans, rejected = decode_traces_protobuf(_request(attributes=attrs,
                                                      kind=Span.SPAN_KIND_CLIENT)
                                             .SerializeToString())
    assert not rejected
    assert spans[0].attributes == {"s": "x", "i": -7, "d": 0.5, "b": True, "a": ["p", 2],
                                   "m": {"k": "v"}, "y": {"$bytes": "AP8="}}
    assert spans[0].otel_kind == "client"
    assert spans[0].trace_id == TID.hex() and spans[0].span_id == SID.hex()


@pytest.mark.parametrize("bad_id, field", [(b"\x00" * 16, "trace_id"), (b"\x01" * 5, "trace_id"),
                                           (b"\x00" * 8, "span_id")])
def test_protobuf_invalid_ids_are_rejected_with_a_reason(bad_id: bytes, field: str) -> None:
    spans, rejected = decode_traces_protobuf(_request(**{field: bad_id}).SerializeToString())
    assert not spans and len(rejected) == 1
    assert field.split("_")[0] in rejected[0].reason


def test_malformed_protobuf_raises_decode_error() -> None:
    with pytest.raises(DecodeError, match="ExportTraceServiceRequest"):
        decode_traces_protobuf(b"\xff\xff\xff\xff not protobuf")


def _json_span(**fields: object) -> dict:
    span = {"traceId": TID.hex(), "spanId": SID.hex(), "name": "s", "kind": 1,
            "startTimeUnixNano": "1", "endTimeUnixNano": "2",
            "attributes": [{"key": "n", "value": {"intValue": "42"}}]}
    span.update(fields)
    return {"resourceSpans": [{"resource": {"attributes": []},
                               "scopeSpans": [{"scope": {"name": "x"}, "spans": [span]}]}]}


def test_json_follows_otlp_http_encoding() -> None:
    spans, _ = decode_traces_json(json.dumps(_json_span()).encode())
    assert spans[0].trace_id == TID.hex() and spans[0].attributes == {"n": 42}
    assert spans[0].otel_kind == "internal"


def test_json_accepts_base64_ids_and_enum_names() -> None:
    body = _json_span(traceId=base64.b64encode(TID).decode(),
                      spanId=base64.b64encode(SID).decode(), kind="SPAN_KIND_SERVER",
                      status={"code": "STATUS_CODE_ERROR", "message": "boom"})
    spans, _ = decode_traces_json(body)
    assert spans[0].trace_id == TID.hex() and spans[0].span_id == SID.hex()
    assert spans[0].otel_kind == "server"
    assert spans[0].status_code == "error" and spans[0].status_message == "boom"


def test_json_accepts_snake_case_field_names() -> None:
    body = {"resource_spans": [{"scope_spans": [{"spans": [{
        "trace_id": TID.hex(), "span_id": SID.hex(), "name": "s",
        "start_time_unix_nano": 5, "end_time_unix_nano": 9}]}]}]}
    spans, _ = decode_traces_json(body)
    assert spans[0].start_ns == 5 and spans[0].end_ns == 9


@pytest.mark.parametrize("attr, message", [
    ({"key": "x", "value": {"intValue": "forty"}}, "expected an integer"),
    ({"key": "x", "value": {"stringValue": 5}}, "stringValue must be a string"),
    ({"key": "x", "value": {"boolValue": "yes"}}, "boolValue must be true or false"),
    ({"key": "x", "value": {"mysteryValue": 1}}, "unknown AnyValue field"),
    ({"value": {"intValue": 1}}, "string key"),
])
def test_json_wrong_attribute_types_name_the_problem(attr: dict, message: str) -> None:
    with pytest.raises(DecodeError, match=message):
        decode_traces_json(_json_span(attributes=[attr]))


def test_json_invalid_id_encoding_is_a_decode_error() -> None:
    with pytest.raises(DecodeError, match="neither hex nor base64"):
        decode_traces_json(_json_span(traceId="not-an-id!"))


def test_json_zero_trace_id_is_rejected_not_fatal() -> None:
    spans, rejected = decode_traces_json(_json_span(traceId="0" * 32))
    assert not spans and "all zeros" in rejected[0].reason


def test_malformed_json_raises_decode_error() -> None:
    with pytest.raises(DecodeError, match="not valid JSON"):
        decode_traces_json(b'{"resourceSpans": [')


def test_json_logs_keep_event_name_body_and_span_context() -> None:
    body = {"resourceLogs": [{"scopeLogs": [{"logRecords": [{
        "timeUnixNano": "7", "traceId": TID.hex(), "spanId": SID.hex(),
        "eventName": "gen_ai.user.message",
        "body": {"kvlistValue": {"values": [{"key": "content",
                                             "value": {"stringValue": "hi"}}]}}}]}]}]}
    logs, rejected = decode_logs_json(body)
    assert rejected == 0
    assert logs[0].event_name == "gen_ai.user.message" and logs[0].body == {"content": "hi"}
    assert logs[0].span_id == SID.hex()
