"""Where rows live in a DuckLake: commit numbers by trace and by blob key, in PostgreSQL.

DuckLake prunes data files by the per-file min/max statistics in its catalog. Commits
write their own files, so a ``seq IN (...)`` filter reads only the files of those commits.
This index, two plain tables in the catalog database, answers "which commits hold trace
T" and "which commits stored blob key K" with one B-tree lookup each, so a trace fetch
and the writer's deduplication touch only those files however large the lake grows.

Rows are written before the commit they describe, outside its transaction: a commit
that then fails leaves rows naming a commit without data, which readers skip. The index
is therefore a superset of the data, never missing an entry.

``tv_purge_epoch`` counts retention purges; nodes compare it at each commit and drop
their caches when another node purged (see ``LakeWriter``). Purges themselves take turns
under ``purge_lock``, a PostgreSQL advisory lock held by a session of its own, so a node
that dies while purging releases it with its connection.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import duckdb
import pyarrow as pa

from ..._exceptions import StoreError

__all__ = ["CATALOG", "LakeIndex", "pg_literal", "purge_lock"]

CATALOG = "__ducklake_metadata_lake"
"""The name DuckDB gives the PostgreSQL catalog database of the lake attached as ``lake``."""

_EPOCH = "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM tv_purge_epoch"
_DDL = (
    "CREATE TABLE IF NOT EXISTS tv_trace_index (project text NOT NULL, "
    "trace_id text NOT NULL, seq bigint NOT NULL); "
    "CREATE INDEX IF NOT EXISTS tv_trace_index_id ON tv_trace_index (trace_id); "
    "CREATE TABLE IF NOT EXISTS tv_blob_index (hkey bigint NOT NULL, seq bigint NOT NULL); "
    "CREATE INDEX IF NOT EXISTS tv_blob_index_key ON tv_blob_index (hkey); "
    "CREATE SEQUENCE IF NOT EXISTS tv_purge_epoch"
)


_PURGE_LOCK = 0x7472616365  # the advisory lock key of purges (per catalog database)
PURGE_LOCK_WAIT_S = 900
"""How long a purge waits for another node's purge before giving up."""


@contextmanager
def purge_lock(dsn: str, wait_s: float = PURGE_LOCK_WAIT_S) -> Iterator[None]:
    """Hold the lake's purge lock while the body runs; wait for another node's purge first.

    The lock is a PostgreSQL session advisory lock on a connection of its own: it is
    released when the body ends and also when the process dies (its session ends).
    """
    try:
        import psycopg
    except ImportError:
        raise StoreError("purging a lake needs psycopg: install tracevault[ducklake]") from None
    try:
        conn = psycopg.connect(dsn, autocommit=True, connect_timeout=30)
    except psycopg.Error as exc:
        raise StoreError(f"cannot reach the lake catalog database: {exc}".strip()) from None
    with conn:
        try:
            conn.execute(f"SET lock_timeout = '{int(wait_s * 1000)}ms'")
            conn.execute("SELECT pg_advisory_lock(%s)", [_PURGE_LOCK])
        except psycopg.errors.LockNotAvailable:
            raise StoreError(f"another node has been purging for over {wait_s:.0f} s; "
                             "run retention again later") from None
        yield


def pg_literal(value: str) -> str:
    """``value`` as a PostgreSQL literal, quoted for embedding in a DuckDB string too."""
    return "''" + value.replace("'", "''''") + "''"


class LakeIndex:
    """The trace and blob locators of one lake, reached through a DuckDB connection."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def _query(self, sql: str) -> list[tuple]:
        return self.con.execute(f"SELECT * FROM postgres_query('{CATALOG}', '{sql}')").fetchall()

    def create(self) -> None:
        """Create the index tables when missing (idempotent, safe from many nodes)."""
        self.con.execute(f"CALL postgres_execute('{CATALOG}', '{_DDL}')")

    def is_empty(self) -> bool:
        """Whether no trace row was ever indexed."""
        return not self._query("SELECT 1 FROM tv_trace_index LIMIT 1")

    def backfill(self) -> None:
        """Index every stored trace and blob (for lakes written before the index existed)."""
        self.con.execute(f"INSERT INTO {CATALOG}.public.tv_trace_index "
                         "SELECT DISTINCT project, trace_id, seq FROM lake.trace_parts")
        self.con.execute(f"INSERT INTO {CATALOG}.public.tv_blob_index "
                         "SELECT DISTINCT hkey, seq FROM lake.blobs")

    def record(self, seq: int, tables: dict[str, pa.Table]) -> None:
        """Index the traces and blobs a commit is about to write."""
        traces: set[tuple[str, str]] = set()
        for name in ("spans", "events"):
            table = tables.get(name)
            if table is not None and table.num_rows:
                pairs = zip(table.column("project").to_pylist(),
                            table.column("trace_id").to_pylist(), strict=True)
                traces.update((p, t) for p, t in pairs if t is not None)
        if traces:
            self._insert("tv_trace_index", {
                "project": [p for p, _ in traces], "trace_id": [t for _, t in traces],
                "seq": pa.array([seq] * len(traces), pa.int64())})
        blobs = tables.get("blobs")
        if blobs is not None and blobs.num_rows:
            self._insert("tv_blob_index", {
                "hkey": blobs.column("hkey"),
                "seq": pa.array([seq] * blobs.num_rows, pa.int64())})

    def _insert(self, table: str, columns: dict[str, Any]) -> None:
        self.con.register("tv_index_rows", pa.table(columns))
        try:
            self.con.execute(f"INSERT INTO {CATALOG}.public.{table} SELECT * FROM tv_index_rows")
        finally:
            self.con.unregister("tv_index_rows")

    def trace_seqs(self, keys: Iterable[tuple[str | None, str]]
                   ) -> dict[tuple[str, str], list[int]]:
        """The commits holding each trace (``project`` None: any project), ascending."""
        keys = list(keys)
        if not keys:
            return {}
        ids = ", ".join(sorted({pg_literal(t) for _, t in keys}))
        wanted = {(p, t) for p, t in keys}
        out: dict[tuple[str, str], set[int]] = {}
        for project, trace_id, seq in self._query(
                f"SELECT project, trace_id, seq FROM tv_trace_index WHERE trace_id IN ({ids})"):
            if (project, trace_id) in wanted or (None, trace_id) in wanted:
                out.setdefault((project, trace_id), set()).add(int(seq))
        return {k: sorted(v) for k, v in out.items()}

    def blob_seqs(self, keys: Sequence[int]) -> list[int]:
        """The commits that stored blobs with these 8-byte keys."""
        if not keys:
            return []
        listed = ", ".join(str(int(k)) for k in sorted(set(keys)))
        return sorted({int(r[0]) for r in self._query(
            f"SELECT DISTINCT seq FROM tv_blob_index WHERE hkey IN ({listed})")})

    def forget_traces(self, traces: Sequence[tuple[str, str]]) -> None:
        """Drop the entries of purged traces."""
        for start in range(0, len(traces), 1000):
            chunk = traces[start:start + 1000]
            pairs = ", ".join(f"({pg_literal(p)}, {pg_literal(t)})" for p, t in chunk)
            self.con.execute(f"CALL postgres_execute('{CATALOG}', 'DELETE FROM tv_trace_index "
                             f"WHERE (project, trace_id) IN ({pairs})')")

    def next_commit(self) -> tuple[int, int]:
        """A new commit number and the current purge epoch, in one round trip."""
        row = self._query(f"SELECT nextval(''tv_commit_seq''), ({_EPOCH})")[0]
        return int(row[0]), int(row[1])

    def epoch(self) -> int:
        """The purge epoch: how many purges were announced."""
        return int(self._query(_EPOCH)[0][0])

    def bump_epoch(self) -> int:
        """Announce a purge to every node; returns the new epoch."""
        return int(self._query("SELECT nextval(''tv_purge_epoch'')")[0][0])
