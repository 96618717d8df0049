"""The scale-out backend: the DuckDB store's SQL over a DuckLake with a PostgreSQL catalog.

URL forms (``data_path`` is the shared directory or object-store prefix of the data files):
  ``ducklake:postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME?data_path=/shared/dir``
  ``ducklake:postgres:dbname=DBNAME host=HOST port=PORT user=USER data_path=/shared/dir``
"""

from __future__ import annotations

import importlib
import os
import re
import socket
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import duckdb
import pyarrow as pa

from ..._exceptions import ConfigError, NotFound, StoreError
from ...ingest._draft import SpanDraft
from ...ingest._raw import RawLog
from .._batch import LiftedBatch
from .._codec import hkey
from ._lakeindex import CATALOG, LakeIndex, purge_lock
from ._migrations import TRACES_SELECT, migrate
from ._store import _TRACE_COLUMNS, DuckDBStore, _records
from ._writer import CommitResult, DuckDBWriter, PreparedBatch

__all__ = ["DuckLakeStore", "load_extensions", "parse_lake_url"]

_EXTENSIONS = (("postgres_scanner", "duckdb_extension_postgres_scanner"),
               ("ducklake", "duckdb_extension_ducklake"))
_COLUMN_KEY = re.compile(r"\s+PRIMARY KEY(?=\s*[,)])")
_TABLE_KEY = re.compile(r",\s*PRIMARY KEY\s*\([^)]*\)")
_UPSERT_META = re.compile(r"INSERT OR REPLACE INTO tv_meta VALUES \('(\w+)', \?\)")
_DATA_PATH = re.compile(r"(?:^|\s)data_path=(\S+)")
_RETRIES = 8
# Spans and events carry a ``day`` column (UTC day of start_ns / time_ns) that partitions
# their files by day; rows are sorted within each file (on insert and when files are
# merged), so the min/max statistics of files narrow to few traces, blob keys and times.
_DAY = {"spans": "start_ns", "events": "time_ns"}
_SORTED = {"spans": "project, trace_id, start_ns", "events": "project, trace_id, time_ns",
           "trace_parts": "project, trace_id"}
# Blobs stay in commit order: they are looked up by commit (``seq``), which then narrows
# the row groups of a merged file as well as the files.
_LAYOUT_VERSION = "1"
# The trace summary, plus how many parts hold only log records (0: no events to read).
_SUMMARY_SELECT = TRACES_SELECT.replace(
    "min(seq) AS first_seq,", "min(seq) AS first_seq, "
    "count(*) FILTER (WHERE span_count = 0) AS log_parts,")
_QUEUE_TABLE = ("CREATE TABLE IF NOT EXISTS blob_purge_queue (hash BLOB NOT NULL, "
                "marked_seq BIGINT NOT NULL, marked_ns BIGINT NOT NULL)")
BLOB_GRACE_NS = 60 * 10**9
"""Blobs a purge leaves unreferenced are removed by a purge at least this much later."""


def parse_lake_url(url: str) -> tuple[str, str]:
    """``(libpq connection string, data path)`` of a ``ducklake:postgres...`` URL."""
    rest = url.removeprefix("ducklake:")
    if rest.startswith(("postgres://", "postgresql://")):
        parts = urlsplit(rest)
        query = parse_qs(parts.query)
        data_path = (query.get("data_path") or [""])[0]
        fields = {"dbname": unquote(parts.path.lstrip("/")), "host": parts.hostname or "",
                  "port": str(parts.port or ""), "user": unquote(parts.username or ""),
                  "password": unquote(parts.password or "")}
        dsn = " ".join(f"{k}={v}" for k, v in fields.items() if v)
    elif rest.startswith("postgres:"):
        dsn = rest.removeprefix("postgres:")
        m = _DATA_PATH.search(dsn)
        data_path = m.group(1) if m else ""
        dsn = _DATA_PATH.sub(" ", dsn).strip()
    else:
        raise ConfigError(f"unsupported DuckLake catalog in {url!r}; use ducklake:postgres://...")
    if not data_path:
        raise ConfigError(f"DuckLake URL {url!r} needs data_path=DIRECTORY")
    if not dsn or "dbname=" not in dsn:
        raise ConfigError(f"DuckLake URL {url!r} names no PostgreSQL database")
    return dsn, data_path


def _extension_dir() -> str:
    """A private DuckDB extension directory for this user."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    return os.path.join(base, "tracevault", "duckdb-extensions")


def _packaged_file(module: str) -> str | None:
    """The ``.duckdb_extension`` file shipped in a PyPI package for this DuckDB, if any."""
    try:
        pkg = importlib.import_module(module)
    except ImportError:
        return None
    folder = Path(pkg.__file__ or "").parent / "extensions" / f"v{duckdb.__version__}"
    files = sorted(folder.glob("*.duckdb_extension"))
    return str(files[0]) if files else None


def load_extensions(con: duckdb.DuckDBPyConnection) -> None:
    """Load postgres_scanner and ducklake: installed, packaged on PyPI, or downloaded."""
    for name, module in _EXTENSIONS:
        try:
            con.execute(f"LOAD {name}")
            continue
        except duckdb.Error:
            pass
        packaged = _packaged_file(module)
        try:
            con.execute(f"INSTALL '{packaged}'" if packaged else f"INSTALL {name}")
            con.execute(f"LOAD {name}")
        except duckdb.Error as exc:
            raise StoreError(
                f"cannot load DuckDB extension {name} ({exc}); "
                "install tracevault[ducklake] or give DuckDB network access") from None


class _LakeDDL:
    """A connection whose DDL drops the keys and upserts DuckLake does not support."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con

    def execute(self, sql: str, params: Any = None) -> duckdb.DuckDBPyConnection:
        """Run ``sql``, rewritten for DuckLake."""
        sql = _TABLE_KEY.sub("", _COLUMN_KEY.sub("", sql))
        m = _UPSERT_META.fullmatch(sql.strip())
        if m:
            self._con.execute("DELETE FROM tv_meta WHERE key = ?", [m.group(1)])
            sql = "INSERT INTO tv_meta VALUES (?, ?)"
            params = [m.group(1), *params]
        return self._con.execute(sql, params) if params is not None else self._con.execute(sql)


class PurgeRaced(StoreError):
    """Another node purged after this batch was prepared; prepare it again."""


class LakeWriter(DuckDBWriter):
    """Group commit into a DuckLake shared by nodes: global commit numbers, retried commits.

    Each commit takes its number from the PostgreSQL sequence ``tv_commit_seq`` in the
    catalog database when it commits, so numbers never collide across nodes and rise
    within each node's chain; a node's chain may skip the numbers other nodes took.
    Deduplication asks the lake index, so spans and blobs another node committed count
    as stored. When another node purged (the purge epoch moved), the caches are dropped
    and the batch is refused; the client sends it again and it is prepared afresh.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, node: str, cache_bytes: int,
                 read_con: duckdb.DuckDBPyConnection | None = None) -> None:
        self.locator = LakeIndex(con)
        super().__init__(con, node, cache_bytes, read_con)
        self.epoch = self.locator.epoch()

    def _load_indexes(self) -> None:
        """Nothing to load: the lake index in PostgreSQL knows every node's rows."""

    def _index_committed(self, prepared: PreparedBatch) -> None:
        """Only the hot set: the key indexes are not used on a lake."""
        self.index.remember(prepared.new_blobs)

    def allocate_seq(self) -> int:
        """A number no other node will use, above every number this node used before."""
        return self.locator.next_commit()[0]

    def commit(self, prepared: PreparedBatch | CommitResult) -> CommitResult:
        """Number the batch from the shared sequence, then commit it as the file store does."""
        if isinstance(prepared, CommitResult):
            return prepared
        seq, epoch = self.locator.next_commit()
        if epoch != self.epoch:
            self.epoch = epoch
            self.reset()
            raise PurgeRaced("a retention purge ran on another node since this batch was "
                             "prepared; send it again")
        prepared.seq, prepared.batch = seq, prepared.batch.with_seq(seq)
        prepared.foreign = self.foreign
        self.committed_seq = seq - 1
        return super().commit(prepared)

    def _purged_since(self) -> bool:
        """Whether another node purged since this writer last looked (caches then reset)."""
        epoch = self.locator.epoch()
        if epoch == self.epoch:
            return False
        self.epoch = epoch
        self.reset()
        return True

    def prepare(self, drafts: list[SpanDraft],
                logs: Sequence[tuple[str, RawLog]] = ()) -> PreparedBatch | CommitResult:
        """Dedup and lift a batch, with caches dropped first if another node purged."""
        self._purged_since()
        return super().prepare(drafts, logs)

    def assemble(self, batches: Sequence[LiftedBatch]) -> PreparedBatch | CommitResult:
        """Stage rows lifted by ingest workers; refused if another node purged since."""
        if self._purged_since():  # the workers' caches are stale too: lift again
            raise PurgeRaced("a retention purge ran on another node; lift the batch again")
        return super().assemble(batches)

    def write(self, drafts: list[SpanDraft],
              logs: Sequence[tuple[str, RawLog]] = ()) -> CommitResult:
        """Prepare and commit; prepared again once if another node purged meanwhile."""
        try:
            return super().write(drafts, logs)
        except PurgeRaced:
            return super().write(drafts, logs)

    def _commit(self, prepared: PreparedBatch) -> str:
        """Index the rows, then commit, retrying when another node's commit conflicts."""
        self.locator.record(prepared.seq, prepared.batch.tables)
        for attempt in range(_RETRIES):
            try:
                return super()._commit(prepared)
            except duckdb.TransactionException as exc:
                if attempt == _RETRIES - 1 or "conflict" not in str(exc).lower():
                    raise
                time.sleep(0.02 * 2 ** attempt)
        raise AssertionError("unreachable")

    def _insert_sql(self, table: str) -> str:
        """Spans and events get their ``day`` partition column as they are inserted."""
        if table in _DAY:
            return (f"INSERT INTO {table} SELECT *, make_timestamp_ns({_DAY[table]})::DATE "
                    "FROM batch_rows")
        return super()._insert_sql(table)

    def _stored_span_ids(self, traces: list[tuple[str, str]]) -> list[tuple[str, str, str]]:
        """Committed spans of these traces, read from the commits the index names."""
        found = self.locator.trace_seqs(traces)
        seqs = sorted({s for v in found.values() for s in v})
        if not seqs:
            return []
        con = self.read_con
        con.register("cold_traces", pa.table({"project": [k[0] for k in found],
                                              "trace_id": [k[1] for k in found]}))
        try:
            return con.execute(
                "SELECT s.project, s.trace_id, s.span_id FROM spans s JOIN cold_traces c "
                f"USING (project, trace_id) WHERE s.seq IN ({', '.join(map(str, seqs))})"
            ).fetchall()
        finally:
            con.unregister("cold_traces")

    def _new_blobs(self, hashes: list[bytes]) -> list[bytes]:
        """The blobs no node has stored yet (the index, then the rows, decide)."""
        candidates = [h for h in dict.fromkeys(hashes)
                      if h not in self._inflight_blobs and h not in self.index]
        keys = [hkey(h) for h in candidates]
        seqs = self.locator.blob_seqs(keys)
        stored: set[bytes] = set()
        if seqs:
            rows = self.read_con.execute(
                "SELECT hash FROM blobs WHERE hkey IN (SELECT unnest(?::BIGINT[])) AND seq "
                f"IN ({', '.join(map(str, seqs))})", [keys]).fetchall()
            stored = {bytes(r[0]) for r in rows}
            self.index.remember(stored)
        return [h for h in candidates if h not in stored]


class DuckLakeStore(DuckDBStore):
    """A tracevault store in a DuckLake (PostgreSQL catalog, shared data files).

    Each node keeps its own ledger chain under its ``node_id``; the default ``local`` becomes
    ``HOST-PID`` so that nodes never share a chain (set ``TRACEVAULT_NODE_ID`` to keep one
    chain per node across restarts).
    """

    _writer_class = LakeWriter
    _blob_grace_ns = BLOB_GRACE_NS

    def __init__(self, url: str, *, read_only: bool = False, node_id: str = "local",
                 **options: Any) -> None:
        self.lake_url = url
        self._dsn, self._data_path = parse_lake_url(url)
        if node_id == "local":
            node_id = f"{socket.gethostname()}-{os.getpid()}"
        super().__init__(url, read_only=read_only, node_id=node_id, **options)

    @property
    def locator(self) -> LakeIndex:
        """The lake's trace and blob index (in the catalog database)."""
        return LakeIndex(self.cursor())

    @property
    def url(self) -> str:
        """The store URL (``ducklake:postgres...``)."""
        return self.lake_url

    def _connect(self, config: dict[str, Any]) -> duckdb.DuckDBPyConnection:
        """An in-memory DuckDB with the lake attached as ``lake`` and in use."""
        Path(_extension_dir()).mkdir(parents=True, exist_ok=True)
        config = {**config, "extension_directory": _extension_dir()}
        config.pop("storage_compatibility_version", None)
        con = duckdb.connect(":memory:", config=config)
        load_extensions(con)
        if not self._data_path.startswith(("s3://", "gs://", "az://", "abfss://", "r2://")):
            Path(self._data_path).mkdir(parents=True, exist_ok=True)
        opts = "DATA_PATH ?, DATA_INLINING_ROW_LIMIT 0" + (", READ_ONLY" if self.read_only else "")
        try:
            con.execute(f"ATTACH 'ducklake:postgres:{self._dsn}' AS lake ("
                        + opts.replace("?", "'" + self._data_path.replace("'", "''") + "'")
                        + ")")
        except duckdb.Error as exc:
            con.close()
            raise StoreError(f"cannot open DuckLake store: {exc}") from None
        con.execute("USE lake")
        return con

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A new connection to the lake, for one thread's use."""
        cur = self._con.cursor()
        cur.execute("USE lake")
        return cur

    def _checkpoint(self) -> None:
        """Nothing to fold: every DuckLake commit is already in the catalog and data files."""

    def _bytes(self) -> int:
        """Bytes of the lake's live data files."""
        total = 0
        cur = self.cursor()
        for table in ("spans", "events", "blobs", "trace_parts", "ledger"):
            row = cur.execute("SELECT coalesce(sum(data_file_size_bytes), 0) "
                              "FROM ducklake_list_files('lake', ?)", [table]).fetchone()
            total += int(row[0])
        return total

    def maintain(self, keep_snapshots_days: int = 7) -> dict[str, Any]:
        """Merge small data files, expire old snapshots, delete files no snapshot needs."""
        if self.read_only:
            raise StoreError("store was opened read-only")
        if keep_snapshots_days < 0:
            raise ConfigError("keep_snapshots_days must be 0 or more")
        cur = self.cursor()
        before = cur.execute("SELECT count(*) FROM ducklake_snapshots('lake')").fetchone()[0]
        with self._write_lock:
            cur.execute("CALL ducklake_flush_inlined_data('lake')")
            cur.execute("CALL ducklake_merge_adjacent_files('lake')")
            cur.execute("CALL ducklake_expire_snapshots('lake', older_than => now() - "
                        f"INTERVAL {int(keep_snapshots_days)} DAY)")
            removed = cur.execute("CALL ducklake_cleanup_old_files('lake', cleanup_all => true)"
                                  ).fetchall()
        after = cur.execute("SELECT count(*) FROM ducklake_snapshots('lake')").fetchone()[0]
        return {"snapshots_expired": int(before) - int(after), "files_deleted": len(removed),
                "bytes": self._bytes()}

    def _migrate(self) -> None:
        """Bring the lake's tables to the current version (DuckLake has no keys)."""
        for attempt in range(_RETRIES):
            try:
                migrate(_LakeDDL(self._con), read_only=self.read_only)  # type: ignore[arg-type]
                if not self.read_only:
                    self._lay_out()
                break
            except duckdb.TransactionException:  # another node migrated at the same time
                if attempt == _RETRIES - 1:
                    raise
                time.sleep(0.05 * 2 ** attempt)
        if not self.read_only:
            top = int(self._con.execute("SELECT coalesce(max(seq), 0) FROM ledger").fetchone()[0])
            self._con.execute(
                f"CALL postgres_execute('{CATALOG}', 'CREATE SEQUENCE IF NOT EXISTS "
                f"tv_commit_seq; SELECT setval(''tv_commit_seq'', greatest({top}, (SELECT "
                "last_value FROM tv_commit_seq)))')")
            index = LakeIndex(self._con)
            index.create()
            if index.is_empty() and self._con.execute(
                    "SELECT count(*) FROM (SELECT 1 FROM trace_parts LIMIT 1)").fetchone()[0]:
                index.backfill()

    def _lay_out(self) -> None:
        """Day partitions, the sort order of files and the blob purge queue, once per lake."""
        con = self._con
        row = con.execute("SELECT value FROM tv_meta WHERE key = 'lake_layout'").fetchone()
        if row and row[0] == _LAYOUT_VERSION:
            return
        # Every commit goes to Parquet files (as ATTACH asks too): rows inlined in the
        # catalog are read back from PostgreSQL by every query, which costs more than the
        # small files that maintain merges later.
        con.execute("CALL lake.set_option('data_inlining_row_limit', 0)")
        con.execute("BEGIN")
        try:
            for table in _DAY:
                con.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS day DATE")
                con.execute(f"ALTER TABLE {table} SET PARTITIONED BY (day)")
                con.execute(f"UPDATE {table} SET day = make_timestamp_ns({_DAY[table]})::DATE "
                            "WHERE day IS NULL")  # rows of a lake laid out before
            for table, keys in _SORTED.items():
                con.execute(f"ALTER TABLE {table} SET SORTED BY ({keys})")
            con.execute(_QUEUE_TABLE)
            con.execute("DELETE FROM tv_meta WHERE key = 'lake_layout'")
            con.execute("INSERT INTO tv_meta VALUES ('lake_layout', ?)", [_LAYOUT_VERSION])
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise

    # -- reads through the index -----------------------------------------------------------
    def trace_summary(self, project: str | None, trace_id: str) -> dict[str, Any]:
        """The summary row of one trace, read from the commits the index names."""
        found = self.locator.trace_seqs([(project, trace_id)])
        for (proj, _), seqs in sorted(found.items()):
            where = (" WHERE project = ? AND trace_id = ? AND seq IN ("
                     + ", ".join(map(str, seqs)) + ")")
            rows = _records(self._execute(
                f"SELECT {', '.join(_TRACE_COLUMNS)}, first_seq, last_seq, log_parts FROM ("
                + _SUMMARY_SELECT.format(where=where) + ") t", [proj, trace_id]))
            if rows:
                rows[0]["seqs"] = seqs
                return rows[0]
        raise NotFound(f"trace {trace_id} not found")

    def span_filter(self, summary: dict[str, Any]) -> tuple[str, list[Any]]:
        """The trace's commits and the day partitions its spans can be in."""
        commits, params = self.commit_filter(summary)
        return (f"{commits} AND day BETWEEN make_timestamp_ns(?)::DATE "
                "AND make_timestamp_ns(?)::DATE",
                [*params, summary["start_ns"], summary["end_ns"]])

    def blob_commits(self, hashes: list[bytes]) -> tuple[str, list[Any]] | None:
        """The commits the index says stored these blobs (None: search every commit)."""
        seqs = self.locator.blob_seqs([hkey(h) for h in hashes])
        return (f"seq IN ({', '.join(map(str, seqs))})", []) if seqs else None

    # -- retention ---------------------------------------------------------------------------
    def apply_retention(self, *, dry_run: bool = False, now_ns: int | None = None,
                        policy: str | None = None) -> list[dict[str, Any]]:
        """Purge as the file store does, one node at a time.

        A node about to plan its purges while another purges waits for it (the purge
        lock), so it plans on what is left and each trace is purged once.
        """
        if dry_run:
            return super().apply_retention(dry_run=True, now_ns=now_ns, policy=policy)
        try:
            with purge_lock(self._dsn):
                return super().apply_retention(now_ns=now_ns, policy=policy)
        except duckdb.TransactionException as exc:
            self._writer = None
            raise StoreError("another node purged or changed the same rows at the same "
                             f"moment; run retention again ({exc})") from None

    def _after_purges(self, traces: list[tuple[str, str]]) -> None:
        """Tell the other nodes, then remove the purged rows from the data files.

        Rows inlined in the catalog are flushed to files, files holding deleted rows are
        rewritten, every snapshot older than now expires and the files no snapshot needs
        are deleted, so purged rows cannot be read back through time travel, from the
        catalog database or from the data directory.
        """
        index = self.locator
        index.bump_epoch()
        index.forget_traces(traces)
        cur = self.cursor()  # the caller holds the write lock
        cur.execute("CALL ducklake_flush_inlined_data('lake')")
        cur.execute("CALL ducklake_rewrite_data_files('lake', delete_threshold => 0)")
        cur.execute("CALL ducklake_expire_snapshots('lake', older_than => now())")
        cur.execute("CALL ducklake_cleanup_old_files('lake', cleanup_all => true)")
