"""Versioned schema migrations of the DuckDB store.

``MIGRATIONS[n]`` brings a store from version ``n - 1`` to ``n``. A store remembers its
version in ``tv_meta``; opening a store runs the missing migrations in one transaction.
A store newer than this tracevault is refused, never modified.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import duckdb

from ..._exceptions import SchemaVersionError
from .._tables import TABLES

__all__ = ["MIGRATIONS", "STORE_VERSION", "TRACES_SELECT", "VIEWS", "migrate"]

TRACES_SELECT = """
SELECT
    project,
    trace_id,
    any_value(root_span_id) AS root_span_id,
    coalesce(any_value(root_name), arg_min(first_name, start_ns)) AS root_name,
    coalesce(any_value(root_service), any_value(any_service)) AS service_name,
    list_sort(list_distinct(flatten(list(agents)))) AS agents,
    list_sort(list_distinct(flatten(list(sessions)))) AS session_ids,
    list_sort(list_distinct(flatten(list(models)))) AS models,
    min(start_ns) AS start_ns,
    max(end_ns) AS end_ns,
    max(end_ns) - min(start_ns) AS duration_ns,
    -- The root span's own status decides when it set one; otherwise any failed span
    -- makes the trace an error (a retried tool error under an OK root does not).
    CASE WHEN any_value(root_status) FILTER (WHERE root_status IN ('ok', 'error'))
              IS NOT NULL
         THEN any_value(root_status) FILTER (WHERE root_status IN ('ok', 'error'))
         WHEN sum(error_count) > 0 THEN 'error' ELSE 'ok' END AS status,
    sum(span_count)::BIGINT AS span_count,
    sum(error_count)::BIGINT AS error_count,
    sum(llm_count)::BIGINT AS llm_count,
    sum(tool_count)::BIGINT AS tool_count,
    coalesce(sum(tokens_input), 0)::BIGINT AS input_tokens,
    coalesce(sum(tokens_output), 0)::BIGINT AS output_tokens,
    coalesce(sum(tokens_total), 0)::BIGINT AS total_tokens,
    coalesce(sum(cost_usd), 0.0) AS cost_usd,
    min(seq) AS first_seq,
    max(seq) AS last_seq
FROM trace_parts{where}
GROUP BY project, trace_id
HAVING sum(span_count) > 0
"""
"""The ``traces`` view's query; ``where`` may narrow the parts before aggregating."""

TRACES_VIEW = "CREATE OR REPLACE VIEW traces AS" + TRACES_SELECT.format(where="")

SPAN_REFS_VIEW = """
CREATE OR REPLACE VIEW span_refs AS
SELECT project, trace_id, span_id, 'input' AS role, unnest(input_refs) AS hash
    FROM spans WHERE input_refs IS NOT NULL
UNION ALL SELECT project, trace_id, span_id, 'output', unnest(output_refs)
    FROM spans WHERE output_refs IS NOT NULL
UNION ALL SELECT project, trace_id, span_id, 'system', unnest(system_refs)
    FROM spans WHERE system_refs IS NOT NULL
UNION ALL SELECT project, trace_id, span_id, 'tools', unnest(tools_refs)
    FROM spans WHERE tools_refs IS NOT NULL
UNION ALL SELECT project, trace_id, span_id, 'documents', unnest(docs_refs)
    FROM spans WHERE docs_refs IS NOT NULL
UNION ALL SELECT project, trace_id, span_id, 'tool.args', tool_args_ref
    FROM spans WHERE tool_args_ref IS NOT NULL
UNION ALL SELECT project, trace_id, span_id, 'tool.result', tool_result_ref
    FROM spans WHERE tool_result_ref IS NOT NULL
UNION ALL SELECT project, trace_id, span_id, 'memory.values', memory_values_ref
    FROM spans WHERE memory_values_ref IS NOT NULL
UNION ALL SELECT project, trace_id, span_id, 'message.content', msg_content_ref
    FROM spans WHERE msg_content_ref IS NOT NULL
UNION ALL SELECT project, trace_id, span_id, 'detail.input', detail_input_ref
    FROM spans WHERE detail_input_ref IS NOT NULL
UNION ALL SELECT project, trace_id, span_id, 'detail.output', detail_output_ref
    FROM spans WHERE detail_output_ref IS NOT NULL
UNION ALL SELECT project, trace_id, span_id, 'event', unnest(refs)
    FROM events WHERE refs IS NOT NULL AND span_id IS NOT NULL
"""


def _create_table(con: duckdb.DuckDBPyConnection, name: str) -> None:
    cols = ", ".join(f"{col} {sql}" for col, sql, _ in TABLES[name])
    con.execute(f"CREATE TABLE {name} ({cols})")


def _v1(con: duckdb.DuckDBPyConnection) -> None:
    for name in ("spans", "blobs", "events", "trace_parts", "ledger", "drift"):
        _create_table(con, name)
    con.execute(TRACES_VIEW)
    con.execute(SPAN_REFS_VIEW)
    con.execute("INSERT INTO tv_meta VALUES ('store_id', ?)", [uuid.uuid4().hex])


MESSAGES_VIEW = """
CREATE OR REPLACE VIEW messages AS
SELECT r.project, r.trace_id, r.span_id, r.role AS direction,
       json_extract_string(b.data, '$.role') AS role,
       json_extract_string(b.data, '$.parts[0].content') AS text,
       b.data AS message, r.hash
FROM span_refs r
JOIN (SELECT DISTINCT ON (hash) hash, data FROM blobs) b USING (hash)
WHERE r.role IN ('input', 'output', 'system')
"""

TOOL_CALLS_VIEW = """
CREATE OR REPLACE VIEW tool_calls AS
SELECT s.project, s.trace_id, s.span_id, s.agent_name AS agent, s.tool_name AS tool,
       s.tool_call_id AS call_id, s.start_ns, s.duration_ns, s.status, s.tool_error AS error,
       coalesce(s.tool_blocked, false) AS blocked, a.data AS arguments, r.data AS result
FROM spans s
LEFT JOIN (SELECT DISTINCT ON (hash) hash, data FROM blobs) a ON a.hash = s.tool_args_ref
LEFT JOIN (SELECT DISTINCT ON (hash) hash, data FROM blobs) r ON r.hash = s.tool_result_ref
WHERE s.kind = 'tool'
"""


def _v2(con: duckdb.DuckDBPyConnection) -> None:
    """SQL convenience views: one row per stored message, one per tool call."""
    con.execute(MESSAGES_VIEW)
    con.execute(TOOL_CALLS_VIEW)


RETENTION_TABLES = """
CREATE TABLE retention_policies (name VARCHAR PRIMARY KEY, project VARCHAR, service VARCHAR,
    agent VARCHAR, keep_days INTEGER NOT NULL, action VARCHAR NOT NULL, archive_dir VARCHAR,
    created_ns BIGINT NOT NULL);
CREATE TABLE legal_holds (name VARCHAR PRIMARY KEY, project VARCHAR, trace_ids VARCHAR[],
    filter VARCHAR, reason VARCHAR NOT NULL, created_ns BIGINT NOT NULL);
CREATE TABLE purges (seq BIGINT NOT NULL, purged_ns BIGINT NOT NULL, policy VARCHAR NOT NULL,
    spec JSON NOT NULL, cutoff_ns BIGINT NOT NULL, traces INTEGER NOT NULL,
    spans INTEGER NOT NULL, events INTEGER NOT NULL, blobs INTEGER NOT NULL,
    archive VARCHAR, archive_sha256 VARCHAR, trace_ids VARCHAR[] NOT NULL);
CREATE TABLE purged_rows (seq BIGINT NOT NULL, of_seq BIGINT NOT NULL,
    table_name VARCHAR NOT NULL, digest VARCHAR NOT NULL);
CREATE TABLE access_log (time_ns BIGINT NOT NULL, principal VARCHAR NOT NULL,
    project VARCHAR, action VARCHAR NOT NULL, target VARCHAR, via VARCHAR NOT NULL);
"""


def _v3(con: duckdb.DuckDBPyConnection) -> None:
    """Retention policies, legal holds, ledgered purges; the content access log."""
    for statement in RETENTION_TABLES.split(";"):
        if statement.strip():
            con.execute(statement)


DATASET_TABLES = """
CREATE TABLE datasets (name VARCHAR NOT NULL, version INTEGER NOT NULL,
    created_ns BIGINT NOT NULL, description VARCHAR, source JSON NOT NULL,
    items INTEGER NOT NULL, PRIMARY KEY (name, version));
CREATE TABLE dataset_items (dataset VARCHAR NOT NULL, version INTEGER NOT NULL,
    position INTEGER NOT NULL, item_id VARCHAR NOT NULL, project VARCHAR, trace_id VARCHAR,
    input JSON, expected_output JSON, expected_trajectory JSON, metadata JSON NOT NULL);
"""


def _v4(con: duckdb.DuckDBPyConnection) -> None:
    """Scores of traces and spans; datasets curated from traces, in versions."""
    _create_table(con, "scores")
    for statement in DATASET_TABLES.split(";"):
        if statement.strip():
            con.execute(statement)


VIEWS = ("traces", "span_refs", "messages", "tool_calls")
"""Views over the tables, documented in docs/query.md."""

MIGRATIONS: dict[int, Callable[[duckdb.DuckDBPyConnection], None]] = {
    1: _v1, 2: _v2, 3: _v3, 4: _v4}
STORE_VERSION = max(MIGRATIONS)


def migrate(con: duckdb.DuckDBPyConnection, read_only: bool = False) -> int:
    """Bring the store to ``STORE_VERSION``; return the version found before."""
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'tv_meta'"
    ).fetchone()[0]
    version = 0
    if exists:
        row = con.execute("SELECT value FROM tv_meta WHERE key = 'store_version'").fetchone()
        version = int(row[0]) if row else 0
    if version > STORE_VERSION:
        raise SchemaVersionError(
            f"store has version {version}; this tracevault knows up to {STORE_VERSION}. "
            "Upgrade tracevault to open it."
        )
    if version == STORE_VERSION or read_only:
        if version < STORE_VERSION and read_only:
            raise SchemaVersionError(
                f"store has version {version} and needs migrating; open it once read-write"
            )
        return version
    con.execute("BEGIN")
    try:
        if not exists:
            con.execute("CREATE TABLE tv_meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
        for target in range(version + 1, STORE_VERSION + 1):
            MIGRATIONS[target](con)
        con.execute("INSERT OR REPLACE INTO tv_meta VALUES ('store_version', ?)",
                    [str(STORE_VERSION)])
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return version
