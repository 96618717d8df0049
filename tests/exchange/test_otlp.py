"""OTLP JSON export: importing the file reproduces the traces."""

from __future__ import annotations

import gzip

import orjson
import pytest

import tracevault
from tests.conftest import shared
from tracevault.exchange import export_otlp_json
from tracevault.exchange._otlp import any_value
from tracevault.ingest.otlp._json import json_any_value

from .conftest import traces_of
from .test_bundle import _LOGGED


def _same_traces(a: dict, b: dict) -> None:
    assert sorted(a) == sorted(b)
    for trace_id, trace in a.items():
        assert b[trace_id]["spans"] == trace["spans"]
        # One import is one commit: summed costs may differ in the last bits.
        summary = dict(b[trace_id]["summary"], cost_usd=trace["summary"]["cost_usd"])
        assert summary == trace["summary"]
        assert b[trace_id]["summary"]["cost_usd"] == pytest.approx(trace["summary"]["cost_usd"])


def test_demo_export_imports_to_the_same_traces(demo_store, tmp_path) -> None:
    with tracevault.open(str(demo_store[0]), read_only=True) as vault:
        assert export_otlp_json(vault, tmp_path / "demo.jsonl") == 3
    lines = (tmp_path / "demo.jsonl").read_bytes().splitlines()
    assert len(lines) == 3 and all("resourceSpans" in orjson.loads(x) for x in lines)
    span = orjson.loads(lines[0])["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    assert len(span["traceId"]) == 32 and len(span["spanId"]) == 16
    with tracevault.open(str(tmp_path / "copy.duckdb")) as vault:
        assert vault.import_file(tmp_path / "demo.jsonl")["spans"] == 129
    _same_traces(traces_of(demo_store[0]), traces_of(tmp_path / "copy.duckdb"))


@pytest.mark.shared_data
@pytest.mark.parametrize("parts", [
    ("agent_prism_otlp_openinference", "test_data_2.json"),
    ("any_agent_genai_traces", "OPENAI_trace.json"),
    ("any_agent_genai_traces", "SMOLAGENTS_trace.json"),
])
def test_real_traces_survive_otlp_json(parts, tmp_path) -> None:
    with tracevault.open(str(tmp_path / "source.duckdb")) as vault:
        vault.import_file(shared(*parts))
        export_otlp_json(vault, tmp_path / "out.jsonl.gz")
    assert gzip.decompress((tmp_path / "out.jsonl.gz").read_bytes()).startswith(b"{")
    with tracevault.open(str(tmp_path / "copy.duckdb")) as vault:
        vault.import_file(tmp_path / "out.jsonl.gz")
    _same_traces(traces_of(tmp_path / "source.duckdb"), traces_of(tmp_path / "copy.duckdb"))


def test_log_records_follow_their_trace(tmp_path) -> None:
    (tmp_path / "logged.json").write_bytes(orjson.dumps(_LOGGED))
    with tracevault.open(str(tmp_path / "source.duckdb")) as vault:
        vault.import_file(tmp_path / "logged.json")
        export_otlp_json(vault, tmp_path / "out.jsonl")
    docs = [orjson.loads(x) for x in (tmp_path / "out.jsonl").read_bytes().splitlines()]
    assert ["resourceSpans" in d for d in docs] == [True, False]
    records = docs[1]["resourceLogs"][0]["scopeLogs"][0]["logRecords"]
    assert [r["severityText"] for r in records] == ["INFO", "INFO"]
    with tracevault.open(str(tmp_path / "copy.duckdb")) as vault:
        assert vault.import_file(tmp_path / "out.jsonl")["logs"] == 2
    _same_traces(traces_of(tmp_path / "source.duckdb"), traces_of(tmp_path / "copy.duckdb"))


@pytest.mark.parametrize("value", [None, True, 0, -7, 2**62, 1.5, float("inf"), "", "x",
                                   [1, "a", [None]], {"k": {"n": 1.0}}, {"$bytes": "AAE="}])
def test_any_value_is_the_decoders_inverse(value) -> None:
    assert json_any_value(any_value(value), "v") == value
