"""The embedded backend: one DuckDB file."""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pyarrow as pa

from ..._exceptions import NotFound, QueryError, StoreBusy, StoreError
from ...ingest._draft import SpanDraft
from ...ingest._raw import RawLog
from ...query._filters import SpanQuery, TraceQuery
from .._assemble import Assembler
from .._blobindex import BlobCache
from .._tables import SPAN_COLUMNS
from . import _datasets, _retention, _scores
from ._migrations import TRACES_SELECT, migrate
from ._writer import CommitResult, DuckDBWriter

__all__ = ["DuckDBStore"]

_TRACE_COLUMNS = (
    "project", "trace_id", "root_span_id", "root_name", "service_name", "agents",
    "session_ids", "models", "start_ns", "end_ns", "duration_ns", "status", "span_count",
    "error_count", "llm_count", "tool_count", "input_tokens", "output_tokens",
    "total_tokens", "cost_usd",
)
_OUTLINE = (
    "span_id, parent_span_id, name, kind, start_ns AS start_time_ns, end_ns AS end_time_ns, "
    "status, status_message, error_type, agent_name AS agent, service_name AS service, "
    "coalesce(llm_response_model, llm_request_model) AS model, tool_name AS tool, "
    "tool_blocked, msg_sender AS sender, msg_receiver AS receiver, memory_operation, "
    "memory_keys, step_index, retry_count, tokens_total AS tokens, cost_usd, links"
)
_SPAN_SELECT = ", ".join(c for c, _, _ in SPAN_COLUMNS)
_SPAN_EXPORT = ", ".join(f"s.{c}" for c, _, _ in SPAN_COLUMNS if c != "seq")
_LOCK_PID = re.compile(r"PID (\d+)")


def summary_dict(row: dict[str, Any]) -> dict[str, Any]:
    """A ``traces`` view row in TraceSummary form."""
    return {
        "schema_version": 1, "project": row["project"], "trace_id": row["trace_id"],
        "root_span_id": row["root_span_id"], "root_name": row["root_name"],
        "service_name": row["service_name"], "agents": list(row["agents"] or ()),
        "session_ids": list(row["session_ids"] or ()), "models": list(row["models"] or ()),
        "start_time_ns": row["start_ns"], "end_time_ns": row["end_ns"],
        "duration_ns": row["duration_ns"], "status": row["status"],
        "span_count": row["span_count"], "error_count": row["error_count"],
        "llm_count": row["llm_count"], "tool_count": row["tool_count"],
        "input_tokens": row["input_tokens"], "output_tokens": row["output_tokens"],
        "total_tokens": row["total_tokens"], "cost_usd": row["cost_usd"],
    }


def _records(cursor: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


class DuckDBStore:
    """A tracevault store in one DuckDB file (or ``:memory:``)."""

    _writer_class: type[DuckDBWriter] = DuckDBWriter
    _blob_grace_ns = 0
    """How long blobs a purge left unreferenced wait for a later purge (0: removed at once)."""

    def __init__(self, path: str | os.PathLike[str], *, read_only: bool = False,
                 memory_limit: str = "1GB", node_id: str = "local",
                 cache_mb: int = 64, threads: int | None = None) -> None:
        self.path = str(path)
        self.read_only = read_only
        self.node_id = node_id
        self._cache_bytes = cache_mb << 20
        config: dict[str, Any] = {
            "memory_limit": memory_limit,
            "storage_compatibility_version": "v1.5.0",
            # Fewer, larger checkpoints: faster ingest and better compressed files.
            "checkpoint_threshold": "256MB",
        }
        if threads:
            config["threads"] = threads
        self._con = self._connect(config)
        self._migrate()
        wal = Path(self.path + ".wal")
        if not read_only and wal.exists() and wal.stat().st_size > 16 << 20:
            # Left by a crash: fold it into the file now, so the next start is fast.
            self._con.execute("CHECKPOINT")
        self._writer: DuckDBWriter | None = None
        self._write_lock = threading.Lock()
        self._blob_cache = BlobCache(32 << 20)

    def _connect(self, config: dict[str, Any]) -> duckdb.DuckDBPyConnection:
        """Open the database file; busy and broken files raise store errors."""
        if self.path != ":memory:" and not self.read_only:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            return duckdb.connect(self.path, read_only=self.read_only, config=config)
        except duckdb.IOException as exc:
            text = str(exc)
            if "lock" in text.lower():
                m = _LOCK_PID.search(text)
                raise StoreBusy(
                    f"store {self.path} is held by another process"
                    + (f" (PID {m.group(1)})" if m else "")
                ) from None
            raise StoreError(f"cannot open store {self.path}: {exc}") from None
        except duckdb.Error as exc:
            raise StoreError(f"cannot open store {self.path}: {exc}") from None

    def _checkpoint(self) -> None:
        """Fold the write-ahead log into the file."""
        self._con.execute("CHECKPOINT")

    def _migrate(self) -> None:
        """Bring the store's tables to the current version."""
        migrate(self._con, read_only=self.read_only)

    @property
    def url(self) -> str:
        """The store URL (``duckdb:PATH``)."""
        return f"duckdb:{self.path}"

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A new connection to the database, for one thread's use."""
        return self._con.cursor()

    def close(self) -> None:
        """Checkpoint and close the file."""
        with self._write_lock:
            try:
                if not self.read_only:
                    self._checkpoint()
            except duckdb.Error:
                pass
            self._con.close()

    def __enter__(self) -> DuckDBStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing -------------------------------------------------------------------------
    def _get_writer(self) -> DuckDBWriter:
        if self.read_only:
            raise StoreError("store was opened read-only")
        if self._writer is None:
            self._writer = self._writer_class(self.cursor(), self.node_id,
                                              self._cache_bytes, read_con=self.cursor())
        return self._writer

    def write(self, drafts: Sequence[SpanDraft],
              logs: Sequence[tuple[str, RawLog]] = ()) -> CommitResult:
        """Commit spans (deduplicated by trace and span id) and log records durably."""
        with self._write_lock:
            return self._get_writer().write(list(drafts), logs)

    def prepare(self, drafts: Sequence[SpanDraft],
                logs: Sequence[tuple[str, RawLog]] = ()) -> Any:
        """First half of ``write`` (see ``DuckDBWriter``); for the ingest pipeline."""
        return self._get_writer().prepare(list(drafts), logs)

    def assemble(self, batches: Sequence[Any]) -> Any:
        """Stage rows lifted by ingest workers (``LiftedBatch``) for ``commit``."""
        return self._get_writer().assemble(batches)

    def commit(self, prepared: Any) -> CommitResult:
        """Second half of ``write``; batches commit in the order they were prepared."""
        return self._get_writer().commit(prepared)

    def reset(self) -> None:
        """Discard prepared, uncommitted batches (after a failure)."""
        self._get_writer().reset()

    # -- reading -------------------------------------------------------------------------
    def _traces_from(self, query: TraceQuery) -> tuple[str, list[Any]]:
        """``FROM`` the trace summaries (narrowed to candidates) ``WHERE`` the query holds."""
        candidates, cand_params = query.candidates()
        conds, params = query.where(narrowed=candidates is not None)
        source, source_params = "traces", []
        if candidates is not None:
            where = f"\nWHERE (project, trace_id) IN ({candidates})"
            source, source_params = f"({TRACES_SELECT.format(where=where)})", cand_params
        sql = f" FROM {source} t"
        if conds:
            sql += " WHERE " + " AND ".join(conds)
        return sql, source_params + params

    def list_traces(self, query: TraceQuery) -> list[dict[str, Any]]:
        """Trace summaries matching ``query``, newest first."""
        source, params = self._traces_from(query)
        sql = f"SELECT {', '.join(_TRACE_COLUMNS)}{source} " \
              "ORDER BY t.start_ns DESC, t.trace_id LIMIT ? OFFSET ?"
        cur = self._execute(sql, params + [query.limit, query.offset])
        return [summary_dict(r) for r in _records(cur)]

    def count_traces(self, query: TraceQuery) -> int:
        """How many traces match ``query`` (ignoring limit and offset)."""
        source, params = self._traces_from(query)
        return int(self._execute(f"SELECT count(*){source}", params).fetchone()[0])

    def trace_summary(self, project: str | None, trace_id: str) -> dict[str, Any]:
        """The summary row of one trace."""
        sql = f"SELECT {', '.join(_TRACE_COLUMNS)}, first_seq, last_seq FROM traces t " \
              "WHERE t.trace_id = ?"
        params: list[Any] = [trace_id]
        if project is not None:
            sql += " AND t.project = ?"
            params.append(project)
        rows = _records(self._execute(sql, params))
        if not rows:
            raise NotFound(f"trace {trace_id} not found")
        return rows[0]

    def commit_filter(self, summary: dict[str, Any]) -> tuple[str, list[Any]]:
        """SQL (over a table's ``seq``) selecting the commits that hold a trace.

        ``summary`` is a row from ``trace_summary``. The file store reads the trace's
        commit range; a lake lists the exact commits, so only their files are read.
        """
        seqs = summary.get("seqs")
        if seqs:
            return f"seq IN ({', '.join(str(int(s)) for s in seqs)})", []
        return "seq BETWEEN ? AND ?", [summary["first_seq"], summary["last_seq"]]

    def span_filter(self, summary: dict[str, Any]) -> tuple[str, list[Any]]:
        """SQL selecting the span rows' commits (and, in a lake, day partitions) of a trace."""
        return self.commit_filter(summary)

    def trace_assembler(self, project: str | None,
                        trace_id: str) -> tuple[dict[str, Any], Assembler]:
        """The summary of a trace and an assembler over its stored rows."""
        return self.assembler_for(self.trace_summary(project, trace_id))

    def assembler_for(self, summary: dict[str, Any]) -> tuple[dict[str, Any], Assembler]:
        """``trace_assembler`` for a row ``trace_summary`` returned."""
        trace_id = summary["trace_id"]
        cur = self.cursor()
        commits, params = self.commit_filter(summary)
        where, where_params = self.span_filter(summary)
        project = summary["project"]
        rows = _records(cur.execute(
            f"SELECT {_SPAN_SELECT} FROM spans WHERE project = ? AND trace_id = ? AND {where} "
            "ORDER BY start_ns, span_id", [project, trace_id, *where_params]))
        events: list[dict[str, Any]] = []
        # A summary that counts log records (a lake's) lets a trace without any skip a read.
        if summary.get("log_parts") != 0 or any(r["event_count"] for r in rows):
            events = _records(cur.execute(
                "SELECT span_id, time_ns, name, source, severity, attributes, body, refs, seq "
                f"FROM events WHERE project = ? AND trace_id = ? AND {commits}",
                [project, trace_id, *params]))
        return summary_dict(summary), Assembler(
            rows, events, lambda hashes: self.load_blobs(hashes, commits=(commits, params)))

    def get_trace(self, project: str | None, trace_id: str) -> dict[str, Any]:
        """A whole trace: its summary and every span with full content."""
        summary, asm = self.trace_assembler(project, trace_id)
        return {"summary": summary, "spans": asm.spans()}

    def get_span(self, project: str | None, trace_id: str, span_id: str,
                 original: bool = False) -> dict[str, Any]:
        """One span with full content (``original=True`` adds exact original attributes)."""
        _, asm = self.trace_assembler(project, trace_id)
        if span_id not in asm.rows:
            raise NotFound(f"span {span_id} not found in trace {trace_id}")
        asm.prefetch([span_id])
        span = asm.span(span_id)
        if original:
            span["attributes"] = asm.original_attributes(span_id)
        return span

    def trace_outline(self, project: str | None, trace_id: str) -> dict[str, Any]:
        """A trace's summary and its spans without content (for trees and timelines).

        Each span: ids, name, kind, times, status, own agent, service, model, tool,
        message sender and receiver, tokens, cost and links (fields without a value are
        left out); no blob is read.
        """
        summary = self.trace_summary(project, trace_id)
        commits, params = self.span_filter(summary)
        cur = self._execute(
            f"SELECT {_OUTLINE} FROM spans WHERE project = ? AND trace_id = ? AND {commits} "
            "ORDER BY start_ns, span_id", [summary["project"], trace_id, *params])
        spans = []
        for row in _records(cur):
            row["links"] = orjson.loads(row["links"]) if row["links"] else []
            spans.append({k: v for k, v in row.items() if v is not None})  # absent: null
        return {"summary": summary_dict(summary), "spans": spans}

    def load_blobs(self, hashes: Iterable[bytes],
                   commits: tuple[str, list[Any]] | None = None) -> dict[bytes, str]:
        """Blob texts by hash (missing hashes are absent from the result).

        ``commits`` (from ``commit_filter``), the commits of the trace being read, are
        searched first: blobs are stored by the commit that first sent them, and reading
        those commits skips the rest of the table. Hashes stored earlier (shared with
        older traces) are looked up after, in the commits ``blob_commits`` names.
        """
        found, missing = self._blob_cache.get_many(bytes(h) for h in hashes)
        if missing and commits is not None:
            self._load_into(found, missing, commits)
            missing = [h for h in missing if h not in found]
        if missing:
            self._load_into(found, missing, self.blob_commits(missing))
        return found

    def blob_commits(self, hashes: list[bytes]) -> tuple[str, list[Any]] | None:
        """SQL selecting the commits that may hold these blobs; None: search them all."""
        return None

    def _load_into(self, found: dict[bytes, str], hashes: list[bytes],
                   commits: tuple[str, list[Any]] | None) -> None:
        from .._codec import hkey

        keys = sorted({hkey(h) for h in hashes})
        wanted = set(hashes)
        sql = "SELECT hash, data FROM blobs WHERE hkey IN (SELECT unnest(?::BIGINT[]))"
        params: list[Any] = [keys]
        if commits is not None:
            sql += f" AND {commits[0]}"
            params += commits[1]
        loaded: dict[bytes, str] = {}
        for h, data in self.cursor().execute(sql, params).fetchall():
            if bytes(h) in wanted:
                loaded[bytes(h)] = data
        self._blob_cache.put_many(loaded)
        found.update(loaded)

    def spans_table(self, query: SpanQuery) -> pa.Table:
        """Matching span rows as an Arrow table (scalar columns; content as blob hashes)."""
        conds, params = query.where("s")
        sql = f"SELECT {_SPAN_EXPORT} FROM spans s"
        if conds:
            sql += " WHERE " + " AND ".join(conds)
        sql += " ORDER BY s.start_ns, s.span_id"
        if query.limit is not None:
            sql += " LIMIT ? OFFSET ?"
            params = params + [query.limit, query.offset]
        result = self._execute(sql, params).arrow()
        return result.read_all() if hasattr(result, "read_all") else result

    def verify(self) -> Any:
        """Recompute the integrity ledger (see ``tracevault.compliance.verify``)."""
        from .._verify import verify_connection

        with self._write_lock:  # a consistent view: no commit in between
            return verify_connection(self.cursor())

    def ledger_entry(self, node: str, seq: int) -> str | None:
        """The chain hash of one commit, or None."""
        row = self.cursor().execute("SELECT chain_hash FROM ledger WHERE node = ? AND seq = ?",
                                    [node, seq]).fetchone()
        return row[0] if row else None

    def ledger_head(self) -> dict[str, Any] | None:
        """The latest commit: ``{store_id, node, seq, chain_hash}``."""
        row = self.cursor().execute(
            "SELECT node, seq, chain_hash FROM ledger ORDER BY seq DESC LIMIT 1").fetchone()
        if row is None:
            return None
        return {"store_id": self.store_id(), "node": row[0], "seq": row[1],
                "chain_hash": row[2]}

    def store_id(self) -> str:
        """The store's random id, fixed at creation."""
        return str(self.cursor().execute(
            "SELECT value FROM tv_meta WHERE key = 'store_id'").fetchone()[0])

    def sql(self, statement: str, limit: int | None = None,
            timeout: float = 60.0) -> pa.Table:
        """Run one read-only SELECT over the store's views, stopped after ``timeout`` s."""
        from ...query._sql import check_read_only

        check_read_only(statement)
        if limit is not None:
            statement = f"SELECT * FROM ({statement}) LIMIT {int(limit)}"
        cur = self.cursor()
        timer = threading.Timer(timeout, cur.interrupt)
        timer.start()
        try:
            result = cur.execute(statement).arrow()
        except duckdb.InterruptException:
            raise QueryError(f"SQL interrupted after {timeout:g}s") from None
        except duckdb.Error as exc:
            raise QueryError(f"SQL failed: {str(exc).splitlines()[0]}") from None
        finally:
            timer.cancel()
        return result.read_all() if hasattr(result, "read_all") else result

    def trace_group(self, project: str | None, group_id: str,
                    max_traces: int = 200) -> list[str]:
        """Trace ids joined with ``group_id`` through links and sessions."""
        from ...analysis import group_trace_ids

        return group_trace_ids(self, project, group_id, max_traces)

    # -- scores ---------------------------------------------------------------------------
    def write_scores(self, scores: Sequence[dict[str, Any]]) -> int:
        """Store scores durably in one ledger commit; returns how many were new.

        Scores whose id is already stored are skipped; each must name a stored trace.
        Inside a server, run it through ``IngestPipeline.exclusive(..., reset=False)``.
        """
        table = _scores.score_table(scores)
        with self._write_lock:
            writer = self._get_writer()
            table = _scores.new_scores(writer.read_con, table)
            if table.num_rows:
                writer.commit_rows("scores", table)
        return int(table.num_rows)

    def scores(self, **conditions: Any) -> list[dict[str, Any]]:
        """Stored scores, oldest first.

        Conditions: ``project``, ``trace_ids``, ``name``, ``run_id``, ``source``, ``limit``.
        """
        return _scores.select_scores(self.cursor(), **conditions)

    # -- datasets ---------------------------------------------------------------------------
    def save_dataset(self, name: str, items: Sequence[dict[str, Any]],
                     source: dict[str, Any], description: str | None = None) -> int:
        """Store items as the next version of a dataset; returns the version number."""
        return _datasets.save_dataset(self._write_cursor(), name, items, source, description)

    def datasets(self) -> list[dict[str, Any]]:
        """Every dataset version (name, version, created_ns, description, source, items)."""
        return _datasets.list_datasets(self.cursor())

    def dataset_items(self, name: str, version: int | None = None) -> tuple[
            dict[str, Any], list[dict[str, Any]]]:
        """A dataset version (default: the latest) and its items."""
        return _datasets.dataset_items(self.cursor(), name, version)

    # -- retention and the access log ------------------------------------------------------
    def retention_state(self) -> dict[str, Any]:
        """Retention policies, legal holds and the purges made (see docs/compliance.md)."""
        return _retention.retention_state(self.cursor())

    def set_retention_policy(self, name: str, **spec: Any) -> dict[str, Any]:
        """Create or replace a policy: ``keep_days``, ``action``, scope, ``archive_dir``."""
        return _retention.set_policy(self._write_cursor(), name, **spec)

    def remove_retention_policy(self, name: str) -> None:
        """Delete a retention policy."""
        _retention.remove_policy(self._write_cursor(), name)

    def add_legal_hold(self, name: str, **spec: Any) -> dict[str, Any]:
        """Hold traces (``trace_ids``, ``filter``, ``project``) against purges."""
        return _retention.add_hold(self._write_cursor(), name, **spec)

    def release_legal_hold(self, name: str) -> None:
        """Lift a legal hold."""
        _retention.release_hold(self._write_cursor(), name)

    def apply_retention(self, *, dry_run: bool = False, now_ns: int | None = None,
                        policy: str | None = None) -> list[dict[str, Any]]:
        """Purge what the policies let go (each purge a ledger commit); or only plan it.

        Inside a server, run it through ``IngestPipeline.exclusive`` so that no batch is
        between prepare and commit.
        """
        if dry_run:
            return [p.to_dict() for p in
                    _retention.plan_purges(self, self.cursor(), now_ns, policy)]
        with self._write_lock:
            writer = self._get_writer()
            out = []
            purged: list[tuple[str, str]] = []
            try:
                for plan in _retention.plan_purges(self, writer.con, now_ns, policy):
                    done = plan.to_dict()
                    if plan.traces:
                        done["purge"] = _retention.purge(self, writer, plan,
                                                          self._blob_grace_ns)
                        purged += plan.traces
                    out.append(done)
            finally:  # also when a later purge failed: the earlier ones are committed
                if purged:
                    # Caches may know removed blobs and traces: start them afresh.
                    self._writer = None
                    self._blob_cache.clear()
                    self._after_purges(purged)
        return out

    def _after_purges(self, traces: list[tuple[str, str]]) -> None:
        """Make purged rows leave the storage too (the file store: a checkpoint)."""
        self._checkpoint()

    def log_access(self, principal: str, action: str, target: str | None = None,
                   project: str | None = None, via: str = "api") -> None:
        """Record a read of trace content (or a retention change) in the access log."""
        self._write_cursor().execute("INSERT INTO access_log VALUES (?, ?, ?, ?, ?, ?)",
                                     [time.time_ns(), principal, project, action, target, via])

    def access_log(self, start: str | int | None = None, end: str | int | None = None,
                   principal: str | None = None, project: str | None = None,
                   limit: int = 1000) -> list[dict[str, Any]]:
        """Access log entries in a period, newest first."""
        conds, params = self._access_where(start, end, principal, project)
        sql = "SELECT * FROM access_log" + (" WHERE " + " AND ".join(conds) if conds else "")
        return _records(self._execute(sql + " ORDER BY time_ns DESC LIMIT ?",
                                      params + [limit]))

    def access_summary(self, start: str | int | None = None,
                       end: str | int | None = None) -> dict[str, Any]:
        """Reads per principal in a period, for the reviewer report."""
        conds, params = self._access_where(start, end, None, None)
        where = " WHERE " + " AND ".join(conds) if conds else ""
        rows = _records(self._execute(
            "SELECT principal AS who, count(*) FILTER (WHERE action LIKE 'read%') AS reads, "
            "count(*) FILTER (WHERE action NOT LIKE 'read%') AS changes, "
            f"max(time_ns) AS last_ns FROM access_log{where} GROUP BY ALL ORDER BY who",
            params))
        return {"by_principal": rows, "total": sum(r["reads"] + r["changes"] for r in rows)}

    @staticmethod
    def _access_where(start: str | int | None, end: str | int | None, principal: str | None,
                      project: str | None) -> tuple[list[str], list[Any]]:
        from ...query._filters import parse_time

        conds: list[str] = []
        params: list[Any] = []
        for op, value in ((">=", parse_time(start)), ("<", parse_time(end)),
                          ("principal =", principal), ("project =", project)):
            if value is not None:
                conds.append(f"{'time_ns ' if op in ('>=', '<') else ''}{op} ?")
                params.append(value)
        return conds, params

    def _write_cursor(self) -> duckdb.DuckDBPyConnection:
        if self.read_only:
            raise StoreError("store was opened read-only")
        return self.cursor()

    def stats(self) -> dict[str, Any]:
        """Row counts and file size."""
        cur = self.cursor()
        out: dict[str, Any] = {}
        for table in ("spans", "events", "blobs", "ledger"):
            out[table] = int(cur.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
        out["traces"] = int(cur.execute("SELECT count(*) FROM traces").fetchone()[0])
        out["bytes"] = self._bytes()
        return out

    def maintain(self, keep_snapshots_days: int = 7) -> dict[str, Any]:
        """Fold the write-ahead log into the file (freed pages are reused by later writes)."""
        with self._write_lock:
            self._checkpoint()
        return {"checkpointed": True, "bytes": self._bytes()}

    def _bytes(self) -> int:
        """Bytes on disk."""
        return os.path.getsize(self.path) if self.path != ":memory:" else 0

    def _execute(self, sql: str, params: list[Any]) -> duckdb.DuckDBPyConnection:
        try:
            return self.cursor().execute(sql, params)
        except duckdb.Error as exc:
            raise QueryError(str(exc)) from None
