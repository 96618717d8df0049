"""Trace bundles: exact round trips, idempotent imports, refusal of altered bundles."""

from __future__ import annotations

import zipfile
from pathlib import Path

import orjson
import pytest

import tracevault
from tests.conftest import shared
from tracevault._exceptions import InputError
from tracevault.compliance import generate_key
from tracevault.exchange import export_bundle, import_bundle, open_bundle, write_bundle

from .conftest import add_demo_scores, scores_of, stats_of, traces_of

MEMBERS = {"manifest.json", "traces.jsonl.zst", "spans.jsonl.zst", "logs.jsonl.zst",
           "scores.jsonl.zst"}


def _empty_store(path: Path) -> Path:
    tracevault.open(str(path)).close()
    return path


def _import(store: Path, bundle: Path, public_key: str | None = None):
    with tracevault.open(str(store)) as vault:
        return import_bundle(vault, bundle, public_key=public_key)


def _verified(store: Path) -> bool:
    with tracevault.open(str(store), read_only=True) as vault:
        return vault.store.verify().ok


def test_demo_round_trip_reproduces_every_trace_and_score(demo, tmp_path) -> None:
    path, runs = demo
    scores = add_demo_scores(path, runs)
    bundle = tmp_path / "demo.tvbundle"
    with tracevault.open(str(path), read_only=True) as vault:
        info = export_bundle(vault, bundle)
        head = vault.store.ledger_head()
    assert info.counts == {"traces": 3, "spans": 129, "logs": 0, "scores": len(scores)}
    assert info.manifest["source"] == {"store_id": head["store_id"], "ledger_head": head}
    assert set(zipfile.ZipFile(bundle).namelist()) == MEMBERS
    assert not info.signed

    target = tmp_path / "target.duckdb"
    result = _import(target, bundle)
    assert (result.stored_spans, result.duplicate_spans, result.stored_scores) == (129, 0, 6)
    assert result.mismatched == []
    assert traces_of(target) == traces_of(path)
    assert scores_of(target) == scores_of(path)
    assert len(scores_of(target)) == len(scores)
    with tracevault.open(str(target), read_only=True) as vault, \
            tracevault.open(str(path), read_only=True) as original:
        for run in runs:
            assert vault.trace(run.trace_id).to_dict() == original.trace(run.trace_id).to_dict()
    assert _verified(target)

    before = stats_of(target)
    again = _import(target, bundle)  # the same bundle again: nothing new
    assert (again.stored_spans, again.duplicate_spans, again.stored_scores) == (0, 129, 0)
    after = stats_of(target)
    assert {k: after[k] for k in ("spans", "events", "blobs", "traces", "scores")} == \
        {k: before[k] for k in ("spans", "events", "blobs", "traces", "scores")}
    assert _verified(target)


@pytest.mark.shared_data
@pytest.mark.parametrize("parts", [
    ("agent_prism_otlp_openinference", "test_data_2.json"),
    ("agent_prism_otlp_openinference", "langfuse-1.json"),
    ("any_agent_genai_traces", "OPENAI_trace.json"),
    ("any_agent_genai_traces", "LLAMA_INDEX_trace.json"),
    ("openinference_fixtures", "vercel_v6_spans", "all-spans.json"),
])
def test_real_traces_round_trip_exactly(parts, tmp_path) -> None:
    source = tmp_path / "source.duckdb"
    with tracevault.open(str(source)) as vault:
        assert vault.import_file(shared(*parts))["spans"] > 0
        export_bundle(vault, tmp_path / "b.tvbundle")
        originals = {s["span_id"]: vault.store.get_span(None, s["trace_id"], s["span_id"],
                                                        original=True)
                     for t in vault.traces(limit=100)
                     for s in vault.store.get_trace(t.project, t.trace_id)["spans"]}
    target = tmp_path / "target.duckdb"
    assert _import(target, tmp_path / "b.tvbundle").mismatched == []
    assert traces_of(target) == traces_of(source)
    with tracevault.open(str(target), read_only=True) as vault:
        for span_id, span in originals.items():
            assert vault.store.get_span(None, span["trace_id"], span_id, original=True) == span
    assert _verified(target)


_LOGGED = {
    "resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "bot"}}]},
        "scopeSpans": [{"scope": {"name": "my.instr", "version": "2"}, "spans": [{
            "traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174",
            "name": "chat gpt-4o", "kind": 3, "flags": 257, "traceState": "k=v",
            "startTimeUnixNano": "1700000000000000000", "endTimeUnixNano": "1700000001000000000",
            "attributes": [{"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
                           {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o"}},
                           {"key": "raw", "value": {"bytesValue": "AAEC"}}],
            "events": [{"timeUnixNano": "1700000000500000000", "name": "note",
                        "attributes": [{"key": "n", "value": {"intValue": "1"}}]}],
            "links": [{"traceId": "0af7651916cd43dd8448eb211c80319c",
                       "spanId": "b7ad6b7169203331", "traceState": "a=b"}],
            "status": {"code": 2, "message": "boom"}}]}]}],
    "resourceLogs": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "logs"}}]},
        "scopeLogs": [{"scope": {}, "logRecords": [
            {"timeUnixNano": "1700000000100000000", "eventName": "gen_ai.user.message",
             "severityText": "INFO", "traceId": "5b8efff798038103d269b633813fc60c",
             "spanId": "eee19b7ec3c1b174", "body": {"kvlistValue": {"values": [
                 {"key": "content", "value": {"stringValue": "hi there"}}]}},
             "attributes": [{"key": "gen_ai.system", "value": {"stringValue": "openai"}}]},
            {"timeUnixNano": "1700000000900000000", "eventName": "gen_ai.choice",
             "severityText": "INFO", "traceId": "5b8efff798038103d269b633813fc60c",
             "spanId": "eee19b7ec3c1b174", "body": {"kvlistValue": {"values": [
                 {"key": "message", "value": {"kvlistValue": {"values": [
                     {"key": "content", "value": {"stringValue": "hello"}}]}}}]}}}]}]}],
}

_EVENTS_SQL = "SELECT source, name, severity, time_ns FROM events ORDER BY time_ns"


def test_log_records_flags_and_trace_state_travel_once(tmp_path) -> None:
    source = tmp_path / "source.duckdb"
    (tmp_path / "logged.json").write_bytes(orjson.dumps(_LOGGED))
    with tracevault.open(str(source)) as vault:
        assert vault.import_file(tmp_path / "logged.json")["logs"] == 2
        info = export_bundle(vault, tmp_path / "b.tvbundle")
        events = vault.sql(_EVENTS_SQL).to_pylist()
        spans = vault.sql("SELECT flags, trace_state FROM spans").to_pylist()
    assert info.counts["logs"] == 2
    target = tmp_path / "target.duckdb"
    assert _import(target, tmp_path / "b.tvbundle").stored_logs == 2
    assert _import(target, tmp_path / "b.tvbundle").stored_logs == 0  # not twice
    assert traces_of(target) == traces_of(source)
    with tracevault.open(str(target), read_only=True) as vault:
        assert vault.sql(_EVENTS_SQL).to_pylist() == events
        assert vault.sql("SELECT flags, trace_state FROM spans").to_pylist() == spans
        log_resources = vault.sql("SELECT DISTINCT b.data FROM events e JOIN blobs b ON "
                                  "b.hash = e.resource_ref WHERE e.source = 'log'").to_pylist()
    assert [orjson.loads(r["data"]) for r in log_resources] == [{"service.name": "logs"}]
    assert events[0]["severity"] == "INFO" and len(events) == 3
    assert _verified(target)


def test_write_bundle_takes_a_store_and_trace_keys(demo, tmp_path) -> None:
    path, runs = demo
    with tracevault.open(str(path), read_only=True) as vault:
        info = write_bundle(vault.store, tmp_path / "archive.tvbundle",
                            [("default", runs[1].trace_id)], selection={"policy": "p1"})
    assert info.counts["traces"] == 1 and info.manifest["selection"] == {"policy": "p1"}
    target = tmp_path / "target.duckdb"
    _import(target, tmp_path / "archive.tvbundle")
    assert traces_of(target) == {runs[1].trace_id: traces_of(path)[runs[1].trace_id]}


def test_filters_select_what_is_exported(demo, tmp_path) -> None:
    path, runs = demo
    with tracevault.open(str(path), read_only=True) as vault:
        bad = export_bundle(vault, tmp_path / "bad.tvbundle", filter="trace.status = error")
        one = export_bundle(vault, tmp_path / "one.tvbundle", trace_ids=[runs[0].trace_id])
        none = export_bundle(vault, tmp_path / "none.tvbundle", project="elsewhere")
        late = export_bundle(vault, tmp_path / "late.tvbundle", start="2999-01-01")
    failed = [r.trace_id for r in runs if not r.ok]
    assert bad.counts["traces"] == len(failed) >= 1
    assert one.counts["traces"] == 1 and none.counts["traces"] == 0
    assert late.counts["traces"] == 0
    target = tmp_path / "target.duckdb"
    _import(target, tmp_path / "bad.tvbundle")
    assert sorted(traces_of(target)) == sorted(failed)


# -- altered bundles -----------------------------------------------------------------------
def _rewrite(src: Path, dst: Path, changes: dict[str, bytes]) -> None:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for name in zin.namelist():
            zout.writestr(name, changes.get(name, zin.read(name)))


def _flip(data: bytes) -> bytes:
    i = len(data) // 2
    return data[:i] + bytes([data[i] ^ 0x01]) + data[i + 1:]


@pytest.fixture
def exported(demo, tmp_path):
    path, runs = demo
    add_demo_scores(path, runs)
    key = tmp_path / "key.pem"
    public = generate_key(key)
    with tracevault.open(str(path), read_only=True) as vault:
        export_bundle(vault, tmp_path / "plain.tvbundle")
        export_bundle(vault, tmp_path / "signed.tvbundle", sign_key=key)
    target = _empty_store(tmp_path / "target.duckdb")
    return tmp_path, public, target, stats_of(target)


def _refused(target: Path, bundle: Path, before: dict, match: str,
             public_key: str | None = None) -> None:
    with pytest.raises(InputError, match=match):
        _import(target, bundle, public_key)
    assert stats_of(target) == before


@pytest.mark.parametrize("member", ["spans.jsonl.zst", "scores.jsonl.zst",
                                    "traces.jsonl.zst"])
def test_a_changed_byte_in_a_member_is_refused(exported, member) -> None:
    tmp, public, target, before = exported
    for name in ("plain", "signed"):
        src = tmp / f"{name}.tvbundle"
        bad = tmp / f"{name}-bad.tvbundle"
        _rewrite(src, bad, {member: _flip(zipfile.ZipFile(src).read(member))})
        _refused(target, bad, before, f"member {member} was altered")


def test_a_changed_manifest_is_refused(exported) -> None:
    tmp, public, target, before = exported
    manifest = orjson.loads(zipfile.ZipFile(tmp / "plain.tvbundle").read("manifest.json"))
    manifest["members"]["spans.jsonl.zst"]["sha256"] = "0" * 64
    _rewrite(tmp / "plain.tvbundle", tmp / "m1.tvbundle",
             {"manifest.json": orjson.dumps(manifest)})
    _refused(target, tmp / "m1.tvbundle", before, "member spans.jsonl.zst was altered")

    manifest = orjson.loads(zipfile.ZipFile(tmp / "plain.tvbundle").read("manifest.json"))
    manifest["counts"]["spans"] = 128
    _rewrite(tmp / "plain.tvbundle", tmp / "m2.tvbundle",
             {"manifest.json": orjson.dumps(manifest)})
    _refused(target, tmp / "m2.tvbundle", before, "counts 128 spans")

    signed = zipfile.ZipFile(tmp / "signed.tvbundle").read("manifest.json")
    _rewrite(tmp / "signed.tvbundle", tmp / "m3.tvbundle",
             {"manifest.json": signed.replace(b'"store_id": "', b'"store_id": "x')})
    _refused(target, tmp / "m3.tvbundle", before, "manifest was altered after signing")
    _refused(target, tmp / "m3.tvbundle", before, "manifest was altered after signing",
             public)


def test_signatures_are_checked(exported) -> None:
    tmp, public, target, before = exported
    other = generate_key(tmp / "other.pem")
    _refused(target, tmp / "signed.tvbundle", before, "signed with key", other)
    _refused(target, tmp / "plain.tvbundle", before, "not signed", public)
    sig = orjson.loads(zipfile.ZipFile(tmp / "signed.tvbundle").read("signature.json"))
    sig["signature"] = _flip(bytes.fromhex(sig["signature"])).hex()
    _rewrite(tmp / "signed.tvbundle", tmp / "s1.tvbundle",
             {"signature.json": orjson.dumps(sig)})
    _refused(target, tmp / "s1.tvbundle", before, "signature is not valid", public)
    _refused(target, tmp / "s1.tvbundle", before, "signature is not valid")

    info = _import(target, tmp / "signed.tvbundle", public)
    assert info.signed and info.public_key == public and info.stored_spans == 129


def test_extra_missing_or_unreadable_members_are_refused(exported) -> None:
    tmp, public, target, before = exported
    src = tmp / "plain.tvbundle"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(tmp / "x.tvbundle", "w") as zout:
        for name in zin.namelist():
            zout.writestr(name, zin.read(name))
        zout.writestr("extra.json", b"{}")
    _refused(target, tmp / "x.tvbundle", before, "extra.json is not listed")
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(tmp / "y.tvbundle", "w") as zout:
        for name in zin.namelist():
            if name != "logs.jsonl.zst":
                zout.writestr(name, zin.read(name))
    _refused(target, tmp / "y.tvbundle", before, "logs.jsonl.zst listed in the manifest is "
                                                  "missing")
    (tmp / "z.tvbundle").write_bytes(b"not a zip")
    _refused(target, tmp / "z.tvbundle", before, "is not a tracevault bundle")


def test_open_bundle_checks_without_writing(exported) -> None:
    tmp, public, target, before = exported
    with open_bundle(tmp / "signed.tvbundle", public) as bundle:
        per_trace = bundle.check()
        info = bundle.info()
    assert sum(per_trace.values()) == 129 and info.signed
    assert stats_of(target) == before


def test_import_applies_the_stores_redaction(tmp_path, monkeypatch) -> None:
    from tracevault.ingest._redact import Redactor

    from .test_chat import SECRET_MAIL, _planted

    with _planted(tmp_path) as vault:
        export_bundle(vault, tmp_path / "planted.tvbundle")
    monkeypatch.setattr("tracevault.ingest._redact._active", Redactor.build("email"))
    target = tmp_path / "target.duckdb"
    info = _import(target, tmp_path / "planted.tvbundle")
    assert info.stored_spans == 1 and info.mismatched == ["1" * 32]
    with tracevault.open(str(target), read_only=True) as vault:
        span = vault.trace("1" * 32).spans[0]
        text = orjson.dumps(span.model_dump()).decode()
    assert SECRET_MAIL not in text and "[REDACTED:email]" in text
    assert "tracevault.redactions" in span.attributes
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("target.duckdb*"))
    assert SECRET_MAIL.encode() not in raw
    assert _verified(target)
