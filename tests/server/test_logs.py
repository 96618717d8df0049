"""GenAI content sent as OTLP log records is attached to its span."""

import json

TID = "0af7651916cd43dd8448eb211c80319c"
SID = "b7ad6b7169203331"
JS = {"Content-Type": "application/json"}


def _kv(d: dict) -> list[dict]:
    out = []
    for k, v in d.items():
        if isinstance(v, dict):
            out.append({"key": k, "value": {"kvlistValue": {"values": _kv(v)}}})
        else:
            out.append({"key": k, "value": {"stringValue": str(v)}})
    return out


def _log(event: str, body: dict | None = None, attributes: dict | None = None,
         t: int = 1) -> dict:
    rec = {"timeUnixNano": str(t), "traceId": TID, "spanId": SID, "eventName": event,
           "attributes": _kv(attributes or {})}
    if body is not None:
        rec["body"] = {"kvlistValue": {"values": _kv(body)}}
    return rec


def _post_logs(client, *records: dict):
    body = {"resourceLogs": [{"scopeLogs": [{"logRecords": list(records)}]}]}
    return client.post("/v1/logs", content=json.dumps(body), headers=JS)


def _post_span(client) -> None:
    body = {"resourceSpans": [{"scopeSpans": [{"spans": [{
        "traceId": TID, "spanId": SID, "name": "chat gpt-4o", "startTimeUnixNano": "1",
        "endTimeUnixNano": "9", "attributes": _kv({"gen_ai.operation.name": "chat",
                                                   "gen_ai.request.model": "gpt-4o"})}]}]}]}
    assert client.post("/v1/traces", content=json.dumps(body), headers=JS).status_code == 200


def test_legacy_per_message_events_become_the_span_messages(make_client) -> None:
    client = make_client()
    r = _post_logs(client,
                   _log("gen_ai.system.message", {"content": "Be brief."}, t=1),
                   _log("gen_ai.user.message", {"content": "Weather in Paris?"}, t=2),
                   _log("gen_ai.choice", {"index": "0", "finish_reason": "stop",
                                          "message": {"content": "Rainy."}}, t=3))
    assert r.status_code == 200 and r.json() == {}
    _post_span(client)  # the span may arrive after its logs
    span = client.get(f"/api/traces/{TID}/spans/{SID}").json()
    d = span["detail"]
    assert [m["role"] for m in d["input_messages"]] == ["system", "user"]
    assert d["input_messages"][1]["parts"][0]["content"] == "Weather in Paris?"
    assert d["output_messages"][0]["parts"][0]["content"] == "Rainy."
    assert d["output_messages"][0]["finish_reason"] == "stop"
    assert [e["source"] for e in span["events"]] == ["log", "log", "log"]


def test_inference_operation_details_event(make_client) -> None:
    client = make_client()
    _post_span(client)
    messages = json.dumps([{"role": "user", "parts": [{"type": "text", "content": "hi"}]}])
    answer = json.dumps([{"role": "assistant", "parts": [{"type": "text", "content": "yo"}]}])
    _post_logs(client, _log("gen_ai.client.inference.operation.details",
                            attributes={"gen_ai.input.messages": messages,
                                        "gen_ai.output.messages": answer}))
    d = client.get(f"/api/traces/{TID}/spans/{SID}").json()["detail"]
    assert d["input_messages"][0]["parts"][0]["content"] == "hi"
    assert d["output_messages"][0]["parts"][0]["content"] == "yo"


def test_logs_with_invalid_ids_are_rejected(make_client) -> None:
    client = make_client()
    bad = {**_log("x"), "spanId": ""}
    r = _post_logs(client, bad)
    assert r.status_code == 400 and "rejected" in r.json()["message"]
