"""Group commit into DuckDB: dedup, lift, insert, chain the ledger, commit."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa

from ..._exceptions import StoreError
from ...ingest._draft import SpanDraft
from ...ingest._raw import RawLog
from .._batch import LiftedBatch, lift_batch
from .._blobindex import BlobIndex, TraceIndex
from .._lift import Lifter, TraceCache

__all__ = ["CommitResult", "DuckDBWriter", "PreparedBatch", "ledger_content_hash",
           "transaction"]


@dataclass
class CommitResult:
    """What one group commit wrote."""

    seq: int | None
    spans: int
    duplicates: int
    events: int
    blobs: int


_TRACE_PARTS_SQL = """
INSERT INTO trace_parts
SELECT
    project, trace_id, ? AS seq, count(*)::INTEGER, min(start_ns), max(end_ns),
    any_value(span_id) FILTER (WHERE parent_span_id IS NULL),
    any_value(name) FILTER (WHERE parent_span_id IS NULL),
    any_value(service_name) FILTER (WHERE parent_span_id IS NULL),
    any_value(status) FILTER (WHERE parent_span_id IS NULL),
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
FROM batch_rows
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

# What a commit's content hash covers, per table: an expression giving one digest per row.
# Span and event rows carry their own SHA-256 (``row_hash``, computed at ingest and
# re-checked by ``verify``); blobs are content addressed; drift rows are hashed here.
# trace_parts is derived from spans, and ``verify`` recomputes it instead.
_LEDGER_DIGESTS = {
    "spans": "hex(row_hash)",
    "events": "hex(row_hash)",
    "blobs": "hex(hash)",
    "drift": "md5(json_array(project, seq, source, key, issue, count)::VARCHAR)",
    "purges": "md5(json_array(seq, purged_ns, policy, spec, cutoff_ns, traces, spans, events, "
              "blobs, archive, archive_sha256, trace_ids)::VARCHAR)",
    "purged_rows": "md5(json_array(seq, of_seq, table_name, digest)::VARCHAR)",
    "scores": "hex(row_hash)",
}
_PURGEABLE = ("spans", "events", "blobs", "scores")
# Parts only some commits have: left out when empty, so older content hashes stay the same.
_OPTIONAL = ("purges", "purged_rows", "scores")


def ledger_content_hash(con: duckdb.DuckDBPyConnection, seq: int) -> str:
    """SHA-256 over the row digests of every row a commit wrote, in digest order.

    Rows a retention purge removed later still count, through the digests the purge
    recorded (``purged_rows``, itself covered by the purge's own commit).
    """
    parts = []
    for name, digest in _LEDGER_DIGESTS.items():
        purged = (f" UNION ALL SELECT digest FROM purged_rows WHERE of_seq = ? AND "
                  f"table_name = '{name}'") if name in _PURGEABLE else ""
        row = con.execute(
            f"SELECT coalesce(sha256(string_agg(h, '' ORDER BY h)), '') FROM "
            f"(SELECT {digest} AS h FROM {name} WHERE seq = ?{purged})",
            [seq, seq] if purged else [seq]
        ).fetchone()
        if name not in _OPTIONAL or row[0]:
            parts.append(f"{name}:{row[0]}")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """``BEGIN`` ... ``COMMIT``; ``ROLLBACK`` (and re-raise) when the body fails."""
    con.execute("BEGIN")
    try:
        yield
    except BaseException:
        try:
            con.execute("ROLLBACK")
        except duckdb.Error:
            pass
        raise
    con.execute("COMMIT")


def chain_hash(prev: str, content: str, node: str, seq: int) -> str:
    """The ledger hash of a commit, chained to the previous one."""
    return hashlib.sha256(f"{prev}|{content}|{node}|{seq}".encode()).hexdigest()


@dataclass
class PreparedBatch:
    """A batch ready to commit: rows stamped with their commit number."""

    seq: int
    batch: LiftedBatch
    new_blobs: list[bytes]
    span_keys: set[tuple[str, str, str]]
    duplicates: int
    foreign: int = 0
    """Commits made outside the batch stream (scores) before this batch was staged."""


class DuckDBWriter:
    """The single writer of a DuckDB store; owns the lifting caches and the blob index.

    Writing has two halves so a pipeline can overlap them: ``prepare`` (Python: dedup,
    lift, Arrow tables) or ``assemble`` (rows lifted by ingest workers: dedup and filter)
    and ``commit`` (DuckDB: insert, ledger, commit). Batches commit in the order they were
    prepared. After a failed commit, ``reset`` runs before the next ``prepare``; batches
    prepared before the reset are invalid.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, node: str, cache_bytes: int,
                 read_con: duckdb.DuckDBPyConnection | None = None) -> None:
        self.con = con
        self.read_con = read_con if read_con is not None else con.cursor()
        self.node = node
        self.lifter = Lifter(TraceCache(cache_bytes))
        self.index = BlobIndex()
        self.traces = TraceIndex()
        self._load_indexes()
        last = con.execute(
            "SELECT seq, chain_hash FROM ledger WHERE node = ? ORDER BY seq DESC LIMIT 1", [node]
        ).fetchone()
        top = con.execute("SELECT coalesce(max(seq), 0) FROM ledger").fetchone()[0]
        self.committed_seq = int(top)
        self.next_seq = self.committed_seq + 1
        self.prev_hash = last[1] if last else ""
        self.foreign = 0
        self._inflight_blobs: set[bytes] = set()
        self._inflight_spans: set[tuple[str, str, str]] = set()

    def _load_indexes(self) -> None:
        """Load the keys of every stored blob and trace."""
        keys = self.con.execute("SELECT hkey FROM blobs").arrow()
        keys = keys.read_all() if hasattr(keys, "read_all") else keys
        self.index.load(np.asarray(keys.column(0).to_numpy(zero_copy_only=False),
                                   dtype=np.int64) if keys.num_rows else np.empty(0, np.int64))
        self.traces.load(self.con.execute("SELECT DISTINCT project, trace_id FROM trace_parts")
                         .fetchall())

    def _index_committed(self, prepared: PreparedBatch) -> None:
        """Add a committed batch's blobs and traces to the key indexes."""
        self.index.add(prepared.new_blobs)
        self.traces.add({(p, t) for p, t, _ in prepared.span_keys})

    # -- dedup ---------------------------------------------------------------------------
    def _known_span_ids(self, keys: set[tuple[str, str]]) -> dict[tuple[str, str], set[str]]:
        """Span ids already stored (or in flight) for traces the cache does not know."""
        cold = [k for k in keys if k not in self.lifter.cache]
        found: dict[tuple[str, str], set[str]] = {k: set() for k in cold}
        if cold:
            for project, trace_id, span_id in self._stored_span_ids(cold):
                found[(project, trace_id)].add(span_id)
        for project, trace_id, span_id in self._inflight_spans:
            if (project, trace_id) in found:
                found[(project, trace_id)].add(span_id)
        return found

    def _stored_span_ids(self, traces: list[tuple[str, str]]) -> list[tuple[str, str, str]]:
        """``(project, trace_id, span_id)`` of the committed spans of these traces."""
        traces = [k for k in traces if self.traces.may_contain(*k)]
        if not traces:
            return []
        con = self.read_con
        con.register("cold_traces", pa.table({"project": [k[0] for k in traces],
                                              "trace_id": [k[1] for k in traces]}))
        try:
            ranges = con.execute(
                "SELECT p.project, p.trace_id, min(p.seq), max(p.seq) FROM trace_parts p "
                "JOIN cold_traces c USING (project, trace_id) GROUP BY ALL"
            ).fetchall()
            if not ranges:
                return []
            return con.execute(
                "SELECT s.project, s.trace_id, s.span_id FROM spans s JOIN "
                "cold_traces c USING (project, trace_id) WHERE s.seq BETWEEN ? AND ?",
                [min(r[2] for r in ranges), max(r[3] for r in ranges)],
            ).fetchall()
        finally:
            con.unregister("cold_traces")

    def _is_new(self, keys: Sequence[tuple[str, str, str]]) -> list[bool]:
        """For each span key, whether it is neither stored, in flight, nor repeated."""
        cache = self.lifter.cache
        for key, span_ids in self._known_span_ids({(p, t) for p, t, _ in keys}).items():
            cache.create(key, span_ids)
        out = []
        seen: set[tuple[str, str, str]] = set()
        for key in keys:
            state = cache.get(key[:2])
            new = key not in seen and (state is None or key[2] not in state.span_ids)
            out.append(new)
            seen.add(key)
        return out

    def _confirm(self, keys: list[int]) -> set[bytes]:
        rows = self.read_con.execute(
            "SELECT hash FROM blobs WHERE hkey IN (SELECT unnest(?::BIGINT[]))", [keys]
        ).fetchall()
        return {bytes(r[0]) for r in rows}

    def _new_blobs(self, hashes: list[bytes]) -> list[bytes]:
        return self.index.new_hashes([h for h in hashes if h not in self._inflight_blobs],
                                     self._confirm)

    # -- write -----------------------------------------------------------------------------
    def write(self, drafts: list[SpanDraft],
              logs: Sequence[tuple[str, RawLog]] = ()) -> CommitResult:
        """Prepare and commit in one go; returns what was stored."""
        return self.commit(self.prepare(drafts, logs))

    def prepare(self, drafts: list[SpanDraft],
                logs: Sequence[tuple[str, RawLog]] = ()) -> PreparedBatch | CommitResult:
        """Dedup and lift a batch into Arrow tables (no database writes)."""
        try:
            keys = [(d.project, d.trace_id, d.span_id) for d in drafts]
            unique = [d for d, new in zip(drafts, self._is_new(keys), strict=True) if new]
            if not unique and not logs:
                return CommitResult(None, 0, len(drafts), 0, 0)
            seq = self.next_seq
            batch = lift_batch(self.lifter, unique, logs, seq, self._new_blobs)
            for d in unique:  # mark them seen for dedup of later batches
                self.lifter.cache.get((d.project, d.trace_id)).span_ids.add(d.span_id)
            return self._stage(seq, batch, len(drafts) - len(unique))
        except Exception as exc:
            self.reset()
            raise StoreError(f"cannot prepare batch: {exc}") from exc

    def assemble(self, batches: Sequence[LiftedBatch]) -> PreparedBatch | CommitResult:
        """Stage rows lifted elsewhere (ingest workers): drop stored spans and blobs."""
        try:
            batch = LiftedBatch.concat(batches).dedupe_blobs()
            keys = batch.span_keys()
            keep_spans = self._is_new(keys)
            for key, new in zip(keys, keep_spans, strict=True):
                if new:
                    self.lifter.cache.get(key[:2]).span_ids.add(key[2])
            hashes = batch.blob_hashes()
            wanted = set(self._new_blobs(hashes))
            batch = batch.filtered(keep_spans, [h in wanted for h in hashes])
            if not batch.tables:
                return CommitResult(None, 0, len(keys), 0, 0)
            seq = self.next_seq
            return self._stage(seq, batch.with_seq(seq), len(keys) - sum(keep_spans))
        except Exception as exc:
            self.reset()
            raise StoreError(f"cannot stage batch: {exc}") from exc

    def _stage(self, seq: int, batch: LiftedBatch, duplicates: int) -> PreparedBatch:
        new = batch.blob_hashes()
        keys = set(batch.span_keys())
        self._inflight_blobs.update(new)
        self._inflight_spans |= keys
        self.next_seq = seq + 1
        return PreparedBatch(seq, batch, new, keys, duplicates, self.foreign)

    def commit(self, prepared: PreparedBatch | CommitResult) -> CommitResult:
        """Write a prepared batch in one transaction and chain it into the ledger."""
        if isinstance(prepared, CommitResult):
            return prepared
        shifted = prepared.seq + self.foreign - prepared.foreign
        if shifted != prepared.seq and shifted == self.committed_seq + 1:
            # Score commits took numbers after this batch was staged: renumber it.
            prepared.seq, prepared.batch = shifted, prepared.batch.with_seq(shifted)
            prepared.foreign = self.foreign
        if prepared.seq != self.committed_seq + 1:
            raise StoreError(f"batch {prepared.seq} is stale (last commit "
                             f"{self.committed_seq}); prepare it again")
        try:
            link = self._commit(prepared)
        except Exception as exc:
            self.reset()
            raise StoreError(f"commit failed: {exc}") from exc
        self.committed_seq = prepared.seq
        self.prev_hash = link
        self._index_committed(prepared)
        self._inflight_blobs.difference_update(prepared.new_blobs)
        self._inflight_spans -= prepared.span_keys
        spans, events, blobs = prepared.batch.counts()
        return CommitResult(prepared.seq, spans, prepared.duplicates, events, blobs)

    def _commit(self, prepared: PreparedBatch) -> str:
        con = self.con
        seq = prepared.seq
        with transaction(con):
            for name, table in prepared.batch.tables.items():
                con.register("batch_rows", table)
                con.execute(self._insert_sql(name))
                if name == "spans":
                    con.execute(_TRACE_PARTS_SQL, [seq])
                elif name == "events" and prepared.batch.has_logs:
                    con.execute(_LOG_PARTS_SQL, [seq])
                con.unregister("batch_rows")
            content = ledger_content_hash(con, seq)
            link = chain_hash(self.prev_hash, content, self.node, seq)
            spans, events, blobs = prepared.batch.counts()
            con.execute(
                "INSERT INTO ledger VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [self.node, seq, time.time_ns(), spans, events, blobs, content,
                 self.prev_hash, link],
            )
        return link

    def _insert_sql(self, table: str) -> str:
        """The statement that inserts a batch's rows (``batch_rows``) into ``table``."""
        return f"INSERT INTO {table} SELECT * FROM batch_rows"

    def commit_rows(self, table: str, rows: pa.Table) -> int:
        """Commit rows of a table outside the batch stream (scores), as one ledger commit.

        Batches already staged are renumbered when they commit. Returns the commit number.
        """
        seq = self.allocate_seq()
        rows = rows.set_column(rows.schema.get_field_index("seq"), "seq",
                               pa.array([seq] * rows.num_rows, pa.int64()))
        con = self.con
        with transaction(con):
            con.register("commit_rows", rows)
            try:
                con.execute(f"INSERT INTO {table} SELECT * FROM commit_rows")
            finally:
                con.unregister("commit_rows")
            content = ledger_content_hash(con, seq)
            link = chain_hash(self.prev_hash, content, self.node, seq)
            con.execute("INSERT INTO ledger VALUES (?, ?, ?, 0, 0, 0, ?, ?, ?)",
                        [self.node, seq, time.time_ns(), content, self.prev_hash, link])
        self.committed_seq = seq
        self.next_seq += 1
        self.foreign += 1
        self.prev_hash = link
        return seq

    def allocate_seq(self) -> int:
        """The number of the next commit outside the batch stream (scores, purges)."""
        return self.committed_seq + 1

    def reset(self) -> None:
        """Forget uncommitted work: caches, in-flight blobs and spans, sequence numbers."""
        self.lifter.cache.clear()
        self.index.clear_hot()
        self._inflight_blobs.clear()
        self._inflight_spans.clear()
        self.next_seq = self.committed_seq + 1
