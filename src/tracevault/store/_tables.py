"""The physical tables of a tracevault store, shared by every backend.

Columns are declared once here; DDL, Arrow batch schemas and docs/schema.md derive from
these lists. Changing a table means adding a migration in ``duckdb/_migrations.py``.
"""

from __future__ import annotations

import pyarrow as pa

__all__ = ["ARROW_TYPES", "BLOB_COLUMNS", "DRIFT_COLUMNS", "EVENT_COLUMNS", "LEDGER_COLUMNS",
           "ROW_TEMPLATES", "SPAN_COLUMNS", "TABLES", "TRACE_PART_COLUMNS", "arrow_schema"]

Columns = tuple[tuple[str, str, str], ...]

SPAN_COLUMNS: Columns = (
    ("project", "VARCHAR", "Project the span belongs to."),
    ("trace_id", "VARCHAR", "Trace id, 32 lowercase hex digits."),
    ("span_id", "VARCHAR", "Span id, 16 lowercase hex digits."),
    ("parent_span_id", "VARCHAR", "Parent span id; NULL for roots."),
    ("name", "VARCHAR", "Span name as sent."),
    ("kind", "VARCHAR", "agent, llm, tool, memory, message, retrieval, step, guardrail, other."),
    ("operation", "VARCHAR", "gen_ai.operation.name or the producer's equivalent."),
    ("otel_kind", "VARCHAR", "OpenTelemetry span kind."),
    ("start_ns", "BIGINT", "Start, Unix ns."),
    ("end_ns", "BIGINT", "End, Unix ns."),
    ("duration_ns", "BIGINT", "end_ns - start_ns."),
    ("status", "VARCHAR", "unset, ok or error."),
    ("status_message", "VARCHAR", "Status description."),
    ("error_type", "VARCHAR", "error.type or the exception event's type."),
    ("service_name", "VARCHAR", "Resource service.name."),
    ("service_version", "VARCHAR", "Resource service.version."),
    ("harness_name", "VARCHAR", "tracevault.harness.name, else the instrumentation scope."),
    ("harness_version", "VARCHAR", "Its version."),
    ("scope_name", "VARCHAR", "Instrumentation scope name."),
    ("scope_version", "VARCHAR", "Instrumentation scope version."),
    ("resource_ref", "BLOB", "Blob hash of the resource attributes."),
    ("agent_id", "VARCHAR", "Agent id."),
    ("agent_name", "VARCHAR", "Agent name as sent on this span."),
    ("agent_version", "VARCHAR", "Agent version."),
    ("agent_description", "VARCHAR", "Agent description."),
    ("session_id", "VARCHAR", "Conversation / session id."),
    ("convention", "VARCHAR", "genai, openinference, openllmetry, vercel, tracevault, otel."),
    ("schema_version", "USMALLINT", "Schema version of the record."),
    ("llm_provider", "VARCHAR", "Model provider."),
    ("llm_request_model", "VARCHAR", "Model requested."),
    ("llm_response_model", "VARCHAR", "Model that answered."),
    ("llm_response_id", "VARCHAR", "Provider response id."),
    ("llm_params", "JSON", "Request parameters."),
    ("llm_finish_reasons", "VARCHAR[]", "Finish reasons."),
    ("tokens_input", "BIGINT", "Input tokens."),
    ("tokens_output", "BIGINT", "Output tokens."),
    ("tokens_total", "BIGINT", "Total tokens."),
    ("tokens_cache_read", "BIGINT", "Input tokens read from cache."),
    ("tokens_cache_write", "BIGINT", "Input tokens written to cache."),
    ("tokens_reasoning", "BIGINT", "Reasoning tokens."),
    ("cost_usd", "DOUBLE", "Reported cost in USD."),
    ("input_base", "VARCHAR", "Span whose input list this one extends."),
    ("input_base_len", "INTEGER", "Items taken from the base span's input."),
    ("input_refs", "BLOB[]", "Hashes of the input messages after the base prefix."),
    ("input_count", "INTEGER", "Number of input messages."),
    ("output_refs", "BLOB[]", "Hashes of the output messages."),
    ("system_refs", "BLOB[]", "Hashes of the system instruction parts."),
    ("tools_base", "VARCHAR", "Span whose tool list this one extends."),
    ("tools_base_len", "INTEGER", "Tool definitions taken from the base span."),
    ("tools_refs", "BLOB[]", "Hashes of tool definitions after the base prefix."),
    ("tools_count", "INTEGER", "Number of tool definitions."),
    ("docs_refs", "BLOB[]", "Hashes of retrieved documents."),
    ("tool_name", "VARCHAR", "Tool name."),
    ("tool_call_id", "VARCHAR", "Tool call id."),
    ("tool_type", "VARCHAR", "Tool type."),
    ("tool_description", "VARCHAR", "Tool description."),
    ("tool_args_ref", "BLOB", "Blob hash of the tool arguments."),
    ("tool_result_ref", "BLOB", "Blob hash of the tool result."),
    ("tool_error", "VARCHAR", "Tool error message."),
    ("tool_blocked", "BOOLEAN", "True when a policy hook blocked the call."),
    ("memory_operation", "VARCHAR", "read, write, search, delete..."),
    ("memory_store", "VARCHAR", "Memory store id."),
    ("memory_keys", "VARCHAR[]", "Keys touched."),
    ("memory_query", "VARCHAR", "Search query."),
    ("memory_values_ref", "BLOB", "Blob hash of values read or written."),
    ("msg_direction", "VARCHAR", "send or receive."),
    ("msg_sender", "VARCHAR", "Sending agent."),
    ("msg_receiver", "VARCHAR", "Receiving agent."),
    ("msg_channel", "VARCHAR", "Channel or topic."),
    ("msg_id", "VARCHAR", "Message id."),
    ("msg_content_ref", "BLOB", "Blob hash of the message content."),
    ("retrieval_query", "VARCHAR", "Retrieval query."),
    ("retrieval_source", "VARCHAR", "Data source id."),
    ("guardrail_name", "VARCHAR", "Guardrail name."),
    ("guardrail_decision", "VARCHAR", "Guardrail decision."),
    ("detail_input_ref", "BLOB", "Blob hash of the input of agent/step/other spans."),
    ("detail_output_ref", "BLOB", "Blob hash of their output."),
    ("step_index", "INTEGER", "Harness loop iteration."),
    ("step_goal", "VARCHAR", "Current goal."),
    ("retry_count", "INTEGER", "Retries of this step."),
    ("budget_tokens", "BIGINT", "Tokens remaining."),
    ("budget_cost_usd", "DOUBLE", "Money remaining (USD)."),
    ("budget_steps", "INTEGER", "Steps remaining."),
    ("budget_time_s", "DOUBLE", "Seconds remaining."),
    ("attributes", "JSON", "Original attributes that were not lifted into blobs."),
    ("lifted", "JSON", "How to rebuild each lifted attribute exactly."),
    ("links", "JSON", "Span links."),
    ("event_count", "INTEGER", "Span events sent with the span."),
    ("flags", "INTEGER", "OTLP span flags."),
    ("trace_state", "VARCHAR", "W3C trace state."),
    ("row_hash", "BLOB", "SHA-256 of the row's other columns (see docs/operations.md)."),
    ("seq", "BIGINT", "Commit sequence number (ledger)."),
)

BLOB_COLUMNS: Columns = (
    ("hash", "BLOB", "16-byte BLAKE2b hash of data."),
    ("hkey", "BIGINT", "First 8 bytes of hash (index key)."),
    ("size", "INTEGER", "Bytes of data."),
    ("data", "VARCHAR", "The JSON text."),
    ("seq", "BIGINT", "Commit that stored it."),
)

EVENT_COLUMNS: Columns = (
    ("project", "VARCHAR", "Project."),
    ("trace_id", "VARCHAR", "Trace id (NULL for logs outside any trace)."),
    ("span_id", "VARCHAR", "Span id (NULL for logs outside any span)."),
    ("time_ns", "BIGINT", "Event time, Unix ns."),
    ("name", "VARCHAR", "Event name."),
    ("source", "VARCHAR", "span (span event) or log (OTLP log record)."),
    ("severity", "VARCHAR", "Log severity text."),
    ("attributes", "JSON", "Attributes; large values as {\"$ref\": hash}."),
    ("body", "JSON", "Log body; large values as {\"$ref\": hash}."),
    ("refs", "BLOB[]", "Blob hashes referenced by attributes and body."),
    ("resource_ref", "BLOB", "Blob hash of the resource attributes."),
    ("row_hash", "BLOB", "SHA-256 of the row's other columns."),
    ("seq", "BIGINT", "Commit sequence number."),
)

TRACE_PART_COLUMNS: Columns = (
    ("project", "VARCHAR", "Project."),
    ("trace_id", "VARCHAR", "Trace id."),
    ("seq", "BIGINT", "Commit that added these spans."),
    ("span_count", "INTEGER", "Spans added."),
    ("start_ns", "BIGINT", "Earliest start among them."),
    ("end_ns", "BIGINT", "Latest end among them."),
    ("root_span_id", "VARCHAR", "Root span, when among them."),
    ("root_name", "VARCHAR", "Root span name."),
    ("root_service", "VARCHAR", "Root span's service."),
    ("root_status", "VARCHAR", "Root span's status."),
    ("first_name", "VARCHAR", "Name of the earliest span among them."),
    ("any_service", "VARCHAR", "Some span's service."),
    ("agents", "VARCHAR[]", "Agents named."),
    ("sessions", "VARCHAR[]", "Sessions named."),
    ("models", "VARCHAR[]", "Models called."),
    ("error_count", "INTEGER", "Spans with error status."),
    ("llm_count", "INTEGER", "LLM spans."),
    ("tool_count", "INTEGER", "Tool spans."),
    ("tokens_input", "BIGINT", "Input tokens."),
    ("tokens_output", "BIGINT", "Output tokens."),
    ("tokens_total", "BIGINT", "Total tokens."),
    ("cost_usd", "DOUBLE", "Reported cost."),
)

LEDGER_COLUMNS: Columns = (
    ("node", "VARCHAR", "Node that committed."),
    ("seq", "BIGINT", "Commit sequence number."),
    ("committed_ns", "BIGINT", "Commit time, Unix ns."),
    ("spans", "INTEGER", "Spans in the commit."),
    ("events", "INTEGER", "Events and log records in the commit."),
    ("blobs", "INTEGER", "New blobs in the commit."),
    ("content_hash", "VARCHAR", "SHA-256 over the commit's rows."),
    ("prev_hash", "VARCHAR", "chain_hash of the previous commit."),
    ("chain_hash", "VARCHAR", "SHA-256 of prev_hash and content_hash."),
)

DRIFT_COLUMNS: Columns = (
    ("project", "VARCHAR", "Project."),
    ("seq", "BIGINT", "Commit."),
    ("source", "VARCHAR", "Instrumentation scope (or convention) that sent the key."),
    ("key", "VARCHAR", "Attribute key."),
    ("issue", "VARCHAR", "unknown, deprecated or type."),
    ("count", "INTEGER", "Occurrences in the commit."),
)

SCORE_COLUMNS: Columns = (
    ("score_id", "VARCHAR", "Score id (unique; writing a known id again is a no-op)."),
    ("project", "VARCHAR", "Project of the trace judged."),
    ("trace_id", "VARCHAR", "Trace judged."),
    ("span_id", "VARCHAR", "Span judged (NULL: the whole trace)."),
    ("name", "VARCHAR", "Criterion (trajectory_match, helpfulness...)."),
    ("value", "DOUBLE", "Numeric result."),
    ("label", "VARCHAR", "Categorical result."),
    ("passed", "BOOLEAN", "Whether it passed."),
    ("explanation", "VARCHAR", "Why, in words."),
    ("source", "VARCHAR", "eval, human, online or attribution."),
    ("evaluator", "JSON", "Evaluator spec: {name, args}."),
    ("run_id", "VARCHAR", "Eval run, experiment or labelling session."),
    ("author", "VARCHAR", "Who gave a human score."),
    ("metadata", "JSON", "Further details the evaluator reported."),
    ("created_ns", "BIGINT", "When the score was made, Unix ns."),
    ("row_hash", "BLOB", "SHA-256 of the row's other columns."),
    ("seq", "BIGINT", "Commit that stored it."),
)

TABLES: dict[str, Columns] = {
    "spans": SPAN_COLUMNS,
    "blobs": BLOB_COLUMNS,
    "events": EVENT_COLUMNS,
    "trace_parts": TRACE_PART_COLUMNS,
    "ledger": LEDGER_COLUMNS,
    "drift": DRIFT_COLUMNS,
    "scores": SCORE_COLUMNS,
}

ROW_TEMPLATES: dict[str, dict[str, None]] = {
    name: dict.fromkeys(col for col, _, _ in cols) for name, cols in TABLES.items()
}
"""Per table, a dict of every column (None) in table order; ``copy()`` makes a row."""

ARROW_TYPES: dict[str, pa.DataType] = {
    "VARCHAR": pa.string(),
    "JSON": pa.string(),
    "BIGINT": pa.int64(),
    "INTEGER": pa.int32(),
    "USMALLINT": pa.uint16(),
    "DOUBLE": pa.float64(),
    "BOOLEAN": pa.bool_(),
    "BLOB": pa.binary(),
    "BLOB[]": pa.list_(pa.binary()),
    "VARCHAR[]": pa.list_(pa.string()),
}


def arrow_schema(columns: Columns) -> pa.Schema:
    """The Arrow schema of a batch for a table."""
    return pa.schema([(name, ARROW_TYPES[sql]) for name, sql, _ in columns])
