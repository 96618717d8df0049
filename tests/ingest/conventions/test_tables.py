"""The mapping tables are consistent, and drift is reported, never absorbed."""

from tracevault.ingest import RawSpan, prepare_spans
from tracevault.ingest.conventions._content import CONTENT_RULES, PAYLOAD_RULES
from tracevault.ingest.conventions._namespace import TRACEVAULT_ATTRIBUTES
from tracevault.ingest.conventions._tables import KIND_ATTRIBUTES, SCALAR_FIELDS
from tracevault.schema import SPAN_KINDS
from tracevault.store import DuckDBStore
from tracevault.store._tables import SPAN_COLUMNS


def test_every_tracevault_attribute_the_tables_read_is_documented() -> None:
    documented = {a for a, *_ in TRACEVAULT_ATTRIBUTES}
    used = {k for keys in SCALAR_FIELDS.values() for k in keys}
    used |= {a for a, _ in KIND_ATTRIBUTES}
    used |= {k for r in CONTENT_RULES for k in r[2]} | {k for _, ks, _ in PAYLOAD_RULES
                                                        for k in ks}
    missing = {k for k in used if k.startswith("tracevault.")} - documented
    assert not missing


def test_tables_target_real_columns_and_kinds() -> None:
    columns = {c for c, _, _ in SPAN_COLUMNS}
    derived_only = {"cost_input_usd", "cost_output_usd"}  # summed into cost_usd
    assert set(SCALAR_FIELDS) - derived_only <= columns
    for _, table in KIND_ATTRIBUTES:
        assert set(table.values()) <= set(SPAN_KINDS)


def test_drift_is_counted_per_source_and_key() -> None:
    raw = RawSpan(trace_id="1" * 32, span_id="2" * 16, parent_span_id=None, name="chat",
                  otel_kind="client", start_ns=1, end_ns=2, status_code="ok",
                  status_message=None, resource={}, scope_name="acme.instrumentation",
                  attributes={"gen_ai.operation.name": "chat",
                              "gen_ai.usage.input_tokens": "many",
                              "gen_ai.system": "openai",
                              "gen_ai.brand_new_thing": 1})
    store = DuckDBStore(":memory:")
    store.write(prepare_spans([raw])[0])
    rows = store.cursor().execute(
        "SELECT source, key, issue, count FROM drift ORDER BY key").fetchall()
    assert rows == [("acme.instrumentation", "gen_ai.brand_new_thing", "unknown", 1),
                    ("acme.instrumentation", "gen_ai.system", "deprecated", 1),
                    ("acme.instrumentation", "gen_ai.usage.input_tokens", "type", 1)]
    span = store.get_span(None, "1" * 32, "2" * 16)
    assert span["detail"]["usage"]["input_tokens"] is None
    assert span["attributes"]["gen_ai.usage.input_tokens"] == "many"
