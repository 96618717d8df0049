"""Redaction at ingest: detectors, custom rules, keyed hashing, nothing left in the file."""

from __future__ import annotations

import json

import pytest

import tracevault
from tests.conftest import RunningServer
from tracevault import ConfigError
from tracevault.ingest._redact import Redactor

SECRETS = {
    "email": ["jane.doe+billing@example-corp.co.uk", "ops@tracevault-test.io"],
    "phone": ["+44 20 7946 0958", "(555) 123-4567", "+14155552671"],
    "card": ["4111 1111 1111 1111", "5500-0000-0000-0004", "378282246310005"],
    "api_key": ["sk-proj-Zx81QmWv0aTtY3bLkP9sRfGh2JdE", "AKIAIOSFODNN7EXAMPLE",
                "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB"],
    "iban": ["DE89 3704 0044 0532 0130 00", "GB82WEST12345698765432",
             "FR1420041010050500013M02606"],
}
KEEP = ["version 2.0.1", "2026-11-25", "10:30", "order 12345", "192.168.10.20",
        "4111111111111112", "DE00 3704 0044 0532 0130 00", "25/11/2026", "sk-short"]


@pytest.mark.parametrize("rule", sorted(SECRETS))
def test_each_detector(rule: str) -> None:
    redactor = Redactor.build(rule)
    for secret in SECRETS[rule]:
        found: dict = {}
        text = f"Please use {secret} for this."
        assert redactor.text(text, "p", found) == f"Please use [REDACTED:{rule}] for this."
        assert found == {(rule, "p"): 1}


def test_lookalikes_are_kept() -> None:
    redactor = Redactor.build("all")
    for text in KEEP:
        assert redactor.text(f"see {text} here", "p", {}) == f"see {text} here", text


def test_json_payloads_stay_valid_and_keyed_tokens_correlate() -> None:
    redactor = Redactor.build("email,card", key="k1")
    payload = json.dumps({"to": "ops@tracevault-test.io", "cc": ["ops@tracevault-test.io"],
                          "card": "4111 1111 1111 1111", "note": "say \"hi\""})
    found: dict = {}
    out = json.loads(redactor.text(payload, "gen_ai.tool.call.arguments", found))
    assert out["to"] == out["cc"][0] and out["to"].startswith("[REDACTED:email:")
    assert out["card"].startswith("[REDACTED:card:") and out["note"] == 'say "hi"'
    other = Redactor.build("email", key="k2").text("ops@tracevault-test.io", "p", {})
    assert other != out["to"]  # a different key gives different tokens
    assert found == {("email", "gen_ai.tool.call.arguments"): 2,
                     ("card", "gen_ai.tool.call.arguments"): 1}


def test_custom_rules_and_bad_configuration() -> None:
    redactor = Redactor.build("", [{"name": "ticket", "pattern": r"TICKET-\d+"},
                                   {"name": "user", "attribute": "app.user.*"}])
    found: dict = {}
    attrs = redactor.attributes({"app.user.id": 42, "app.user.name": "Jane",
                                 "note": "see TICKET-991"}, found)
    assert attrs == {"app.user.id": "[REDACTED:user]", "app.user.name": "[REDACTED:user]",
                     "note": "see [REDACTED:ticket]"}
    with pytest.raises(ConfigError, match="unknown redaction detector 'ssn'"):
        Redactor.build("ssn")
    with pytest.raises(ConfigError, match="bad pattern"):
        Redactor.build("", [{"name": "x", "pattern": "("}])
    with pytest.raises(ConfigError, match="give a pattern or an attribute"):
        Redactor.build("", [{"name": "x"}])


@pytest.mark.slow
def test_nothing_sensitive_reaches_the_store_file(tmp_path) -> None:
    from tracevault import sdk

    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps([{"name": "ticket", "pattern": r"TICKET-\d{4}"},
                                 {"name": "user", "attribute": "app.user.email"}]))
    store = tmp_path / "s.duckdb"
    server = RunningServer(store, "--redact", "all", "--redact-rules", str(rules), grpc=False,
                           env={"TRACEVAULT_INGEST_WORKERS": "1"})
    secrets = [s for values in SECRETS.values() for s in values] + ["TICKET-4242",
                                                                   "vip.user@client.example"]
    marker = "MARKER-visible-7d1e"
    try:
        sdk.configure(endpoint=server.url, service_name="redact-test", batch=False)
        rec = sdk.Recorder("support")
        with rec.run(input=f"{marker} customer {SECRETS['email'][0]}") as root:
            root.set_attribute("app.user.email", "vip.user@client.example")
            rec.model_call(
                lambda **kw: {"choices": [{"message": {
                    "role": "assistant", "content": f"Refund to {SECRETS['iban'][0]}, "
                                                    f"card {SECRETS['card'][0]}"}}]},
                model="m", messages=[
                    {"role": "system", "content": f"Key: {SECRETS['api_key'][0]}"},
                    {"role": "user", "content": f"{marker} I am {SECRETS['email'][1]}, "
                                                f"call {SECRETS['phone'][0]} re TICKET-4242"}])
            rec.tool_call("crm_lookup", lambda **kw: {
                "phones": SECRETS["phone"][1:], "cards": SECRETS["card"][1:],
                "ibans": SECRETS["iban"][1:], "keys": SECRETS["api_key"][1:]},
                {"query": f"{marker} {SECRETS['email'][0]}"})
        sdk.flush()
        trace_id = format(root.get_span_context().trace_id, "032x")
        with tracevault.open(server.url) as vault:
            trace = vault.trace(trace_id)
    finally:
        sdk.shutdown()
        server.stop()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("s.duckdb*") if p.is_file())
    assert marker.encode() in raw  # the scan does see stored text
    for secret in secrets:
        assert secret.encode() not in raw, secret
        assert secret.replace(" ", "").encode() not in raw, secret
    assert b"[REDACTED:iban]" in raw and b"[REDACTED:ticket]" in raw
    tool = next(s for s in trace.spans if s.kind == "tool")
    assert tool.detail.result["cards"] == ["[REDACTED:card]", "[REDACTED:card]"]
    recorded = {(r["rule"], r["path"]) for s in trace.spans
                for r in json.loads(s.attributes.get("tracevault.redactions", "[]"))}
    assert {("email", "gen_ai.tool.call.arguments"), ("phone", "gen_ai.tool.call.result"),
            ("api_key", "gen_ai.input.messages"), ("ticket", "gen_ai.input.messages"),
            ("iban", "gen_ai.output.messages"), ("user", "app.user.email")} <= recorded
