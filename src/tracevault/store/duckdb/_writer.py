"""Group commit into DuckDB: dedup, lift, insert, chain the ledger, commit."""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from ..._exceptions import StoreError
from ...ingest._draft import SpanDraft
from ...ingest._raw import RawLog
from ...schema import SCHEMA_VERSION
from .._blobindex import BlobIndex
from .._lift import Lifter, TraceCache
from .._codec import dump as _json
from .._tables import TABLES, arrow_schema

__all__ = ["CommitResult", "DuckDBWriter", "ledger_content_hash"]

_SCHEMAS = {name: arrow_schema(cols) for name, cols in TABLES.items()}


@dataclass
class CommitResult:
    """What one group commit wrote."""

    seq: int | None
    spans: int
    duplicates: int
    events: int
    blobs: int


def _table(rows: list[dict[str, Any]], name: str) -> pa.Table:
    schema = _SCHEMAS[name]
    return pa.table(
        [pa.array([r.get(f.name) for r in rows], type=f.type) for f in schema],
        schema=schema,
    )


_TRACE_PARTS_SQL = """
INSERT INTO trace_parts
SELECT
    project, trace_id, ? AS seq, count(*)::INTEGER, min(start_ns), max(end_ns),
    any_value(span_id) FILTER (WHERE parent_span_id IS NULL),
    any_value(name) FILTER (WHERE parent_span_id IS NULL),
    any_value(service_name) FILTER (WHERE parent_span_id IS NULL),
    arg_min(name, start_ns),
    any_value(service_name),
    coalesce(list_distinct(list(agent_name) FILTER (WHERE agent_name IS NOT NULL)), []),
    coalesce(list_distinct(list(session_id) FILTER (WHERE session_id IS NOT NULL)), []),
    coalesce(list_distinct(list(coalesce(llm_response_model, llm_request_model))
             FILTER (WHERE kind = 'llm'
                     AND coalesce(llm_response_model, llm_request_model) IS NOT NULL)), []),
    count(*) FILTER (WHERE status = 'error')::INTEGER,
    count(*) FILTER (WHERE kind = 'llm')::INTEGER,
    count(*) FILTER (WHERE kind = 'tool')::INTEGER,
    sum(tokens_input)::BIGINT, sum(tokens_output)::BIGINT, sum(tokens_total)::BIGINT,
    sum(cost_usd)
FROM batch_spans
GROUP BY project, trace_id
"""

# Log records keep their trace's commit range covering them, so reads can prune by seq.
_LOG_PARTS_SQL = """
INSERT INTO trace_parts (project, trace_id, seq, span_count, start_ns, end_ns, agents,
                         sessions, models, error_count, llm_count, tool_count)
SELECT project, trace_id, ?, 0, min(time_ns), max(time_ns), [], [], [], 0, 0, 0
FROM batch_rows WHERE source = 'log' AND trace_id IS NOT NULL
GROUP BY project, trace_id
"""

_HASHED_TABLES = ("spans", "events", "blobs", "trace_parts", "drift")


def ledger_content_hash(con: duckdb.DuckDBPyConnection, seq: int) -> str:
    """SHA-256 over every row a commit wrote, independent of row order."""
    parts = []
    for name in _HASHED_TABLES:
        row = con.execute(
            f"SELECT coalesce(sha256(string_agg(h, '' ORDER BY h)), '') FROM "
            f"(SELECT md5(to_json(t)::VARCHAR) AS h FROM {name} t WHERE seq = ?)", [seq]
        ).fetchone()
        parts.append(f"{name}:{row[0]}")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def chain_hash(prev: str, content: str, node: str, seq: int) -> str:
    """The ledger hash of a commit, chained to the previous one."""
    return hashlib.sha256(f"{prev}|{content}|{node}|{seq}".encode()).hexdigest()


class DuckDBWriter:
    """The single writer of a DuckDB store; owns the lifting caches and the blob index."""

    def __init__(self, con: duckdb.DuckDBPyConnection, node: str, cache_bytes: int) -> None:
        self.con = con
        self.node = node
        self.lifter = Lifter(TraceCache(cache_bytes))
        self.index = BlobIndex()
        keys = con.execute("SELECT hkey FROM blobs").arrow()
        keys = keys.read_all() if hasattr(keys, "read_all") else keys
        self.index.load(np.asarray(keys.column(0).to_numpy(zero_copy_only=False),
                                   dtype=np.int64) if keys.num_rows else np.empty(0, np.int64))
        last = con.execute(
            "SELECT seq, chain_hash FROM ledger WHERE node = ? ORDER BY seq DESC LIMIT 1", [node]
        ).fetchone()
        top = con.execute("SELECT coalesce(max(seq), 0) FROM ledger").fetchone()[0]
        self.seq = int(top)
        self.prev_hash = last[1] if last else ""

    # -- dedup ---------------------------------------------------------------------------
    def _known_span_ids(self, keys: set[tuple[str, str]]) -> dict[tuple[str, str], set[str]]:
        """Span ids already stored for traces the cache does not know."""
        cold = [k for k in keys if k not in self.lifter.cache]
        found: dict[tuple[str, str], set[str]] = {k: set() for k in cold}
        if not cold:
            return found
        ids = pa.table({"project": [k[0] for k in cold], "trace_id": [k[1] for k in cold]})
        con = self.con
        con.register("cold_traces", ids)
        try:
            ranges = con.execute(
                "SELECT p.project, p.trace_id, min(p.seq), max(p.seq) FROM trace_parts p "
                "JOIN cold_traces c USING (project, trace_id) GROUP BY ALL"
            ).fetchall()
            if ranges:
                lo = min(r[2] for r in ranges)
                hi = max(r[3] for r in ranges)
                rows = con.execute(
                    "SELECT s.project, s.trace_id, s.span_id FROM spans s "
                    "JOIN cold_traces c USING (project, trace_id) WHERE s.seq BETWEEN ? AND ?",
                    [lo, hi],
                ).fetchall()
                for project, trace_id, span_id in rows:
                    found[(project, trace_id)].add(span_id)
        finally:
            con.unregister("cold_traces")
        return found

    def _dedup(self, drafts: list[SpanDraft]) -> list[SpanDraft]:
        keys = {(d.project, d.trace_id) for d in drafts}
        for key, span_ids in self._known_span_ids(keys).items():
            self.lifter.cache.create(key, span_ids)
        unique: list[SpanDraft] = []
        seen: set[tuple[str, str, str]] = set()
        for d in drafts:
            ident = (d.project, d.trace_id, d.span_id)
            if ident in seen:
                continue
            seen.add(ident)
            state = self.lifter.cache.get((d.project, d.trace_id))
            if state is not None and d.span_id in state.span_ids:
                continue
            unique.append(d)
        return unique

    def _confirm(self, keys: list[int]) -> set[bytes]:
        rows = self.con.execute(
            "SELECT hash FROM blobs WHERE hkey IN (SELECT unnest(?::BIGINT[]))", [keys]
        ).fetchall()
        return {bytes(r[0]) for r in rows}

    # -- commit --------------------------------------------------------------------------
    def write(self, drafts: list[SpanDraft],
              logs: list[tuple[str, RawLog]] = ()) -> CommitResult:  # type: ignore[assignment]
        """Write spans and log records in one transaction; returns what was stored."""
        try:
            return self._write(drafts, list(logs))
        except StoreError:
            raise
        except Exception as exc:
            self.lifter.cache.clear()
            self.index.clear_hot()
            raise StoreError(f"commit failed: {exc}") from exc

    def _write(self, drafts: list[SpanDraft], logs: list[tuple[str, RawLog]]) -> CommitResult:
        unique = self._dedup(drafts)
        duplicates = len(drafts) - len(unique)
        if not unique and not logs:
            return CommitResult(None, 0, duplicates, 0, 0)
        seq = self.seq + 1
        lifter = self.lifter
        lifter.begin_batch()
        rows = []
        events: list[dict[str, Any]] = []
        drift: Counter[tuple[str, str, str, str]] = Counter()
        for d in unique:
            row = lifter.lift(d, seq)
            row["schema_version"] = SCHEMA_VERSION
            rows.append(row)
            for ev in d.events:
                refs: list[bytes] = []
                attrs = {k: lifter.event_value(v, refs) for k, v in ev.attributes.items()}
                events.append({
                    "project": d.project, "trace_id": d.trace_id, "span_id": d.span_id,
                    "time_ns": ev.time_ns, "name": ev.name, "source": "span",
                    "attributes": _json(attrs), "refs": refs or None,
                    "resource_ref": row["resource_ref"], "seq": seq,
                })
            source = d.scope_name or d.convention
            for key, issue in d.drift:
                drift[(d.project, source, key, issue)] += 1
        for project, log in logs:
            refs = []
            attrs = {k: lifter.event_value(v, refs) for k, v in log.attributes.items()}
            body = lifter.event_value(log.body, refs)
            events.append({
                "project": project, "trace_id": log.trace_id, "span_id": log.span_id,
                "time_ns": log.time_ns, "name": log.event_name or "log", "source": "log",
                "severity": log.severity, "attributes": _json(attrs),
                "body": _json(body) if body is not None else None, "refs": refs or None,
                "resource_ref": lifter.put(log.resource), "seq": seq,
            })
        new = self.index.new_hashes(lifter.blobs, self._confirm)
        blob_rows = []
        for h in new:
            data = lifter.blobs[h]
            blob_rows.append({"hash": h, "hkey": int.from_bytes(h[:8], "big", signed=True),
                              "size": len(data.encode()), "data": data, "seq": seq})
        con = self.con
        spans_tbl = _table(rows, "spans")
        con.execute("BEGIN")
        try:
            con.register("batch_spans", spans_tbl)
            con.execute("INSERT INTO spans SELECT * FROM batch_spans")
            con.execute(_TRACE_PARTS_SQL, [seq])
            con.unregister("batch_spans")
            for name, data in (("events", events), ("blobs", blob_rows)):
                if data:
                    con.register("batch_rows", _table(data, name))
                    con.execute(f"INSERT INTO {name} SELECT * FROM batch_rows")
                    if name == "events" and logs:
                        con.execute(_LOG_PARTS_SQL, [seq])
                    con.unregister("batch_rows")
            if drift:
                con.register("batch_rows", _table(
                    [{"project": p, "seq": seq, "source": s, "key": k, "issue": i, "count": n}
                     for (p, s, k, i), n in drift.items()], "drift"))
                con.execute("INSERT INTO drift SELECT * FROM batch_rows")
                con.unregister("batch_rows")
            content = ledger_content_hash(con, seq)
            link = chain_hash(self.prev_hash, content, self.node, seq)
            con.execute(
                "INSERT INTO ledger VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [self.node, seq, time.time_ns(), len(rows), len(events), len(blob_rows),
                 content, self.prev_hash, link],
            )
            con.execute("COMMIT")
        except Exception:
            try:
                con.execute("ROLLBACK")
            except duckdb.Error:
                pass
            raise
        self.seq = seq
        self.prev_hash = link
        self.index.add(new)
        return CommitResult(seq, len(rows), duplicates, len(events), len(blob_rows))


