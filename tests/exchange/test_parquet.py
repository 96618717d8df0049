"""Parquet export: one row per span with the documented columns."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq

import tracevault
from tracevault.exchange import PARQUET_COLUMNS, export_parquet

ROOT = Path(__file__).resolve().parents[2]


def test_one_row_per_span_with_the_documented_columns(demo_store, tmp_path) -> None:
    out = tmp_path / "spans.parquet"
    with tracevault.open(str(demo_store[0]), read_only=True) as vault:
        assert export_parquet(vault, out) == 129
        spans = {s["span_id"]: (s, vault.store.get_span(None, s["trace_id"], s["span_id"],
                                                       original=True))
                 for t in vault.traces(limit=100)
                 for s in vault.store.get_trace(t.project, t.trace_id)["spans"]}
    table = pq.read_table(out)
    assert table.num_rows == len(spans) == 129
    assert table.schema.names == [name for name, _, _ in PARQUET_COLUMNS]
    doc = (ROOT / "docs" / "exchange.md").read_text()
    for name, _, _ in PARQUET_COLUMNS:
        assert f"| `{name}` |" in doc, f"column {name} is not documented"
    rows = table.to_pylist()
    assert len({r["span_id"] for r in rows}) == 129
    for row in rows:
        span, original = spans[row["span_id"]]
        assert row["kind"] == span["kind"] and row["name"] == span["name"]
        assert row["start_time_ns"] == span["start_time_ns"]
        assert row["start_time"].value == span["start_time_ns"]
        assert json.loads(row["detail"]) == span["detail"]
        assert json.loads(row["events"]) == span["events"]
        assert json.loads(row["attributes"]) == original["attributes"]
        assert json.loads(row["resource_attributes"]) == span["resource"]["attributes"]
        if span["kind"] == "llm":
            usage = span["detail"]["usage"]
            assert (row["input_tokens"], row["output_tokens"], row["request_model"]) == \
                (usage["input_tokens"], usage["output_tokens"],
                 span["detail"]["request_model"])
        if span["kind"] == "tool":
            assert row["tool_name"] == span["detail"]["name"]
        assert row["agent_name"] == (span["agent"] or {}).get("name")


def test_filters_apply_and_an_empty_export_has_the_schema(demo_store, tmp_path) -> None:
    with tracevault.open(str(demo_store[0]), read_only=True) as vault:
        ok = vault.traces(filter="trace.status = ok")
        assert export_parquet(vault, tmp_path / "ok.parquet", filter="trace.status = ok") == \
            sum(t.span_count for t in ok)
        assert export_parquet(vault, tmp_path / "none.parquet", project="nope") == 0
    assert {r["trace_id"] for r in pq.read_table(tmp_path / "ok.parquet").to_pylist()} == \
        {t.trace_id for t in ok}
    empty = pq.read_table(tmp_path / "none.parquet")
    assert empty.num_rows == 0 and len(empty.schema) == len(PARQUET_COLUMNS)
