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
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import duckdb

from ..._exceptions import ConfigError, StoreError
from ._migrations import migrate
from ._store import DuckDBStore
from ._writer import CommitResult, DuckDBWriter, PreparedBatch

__all__ = ["DuckLakeStore", "load_extensions", "parse_lake_url"]

_EXTENSIONS = (("postgres_scanner", "duckdb_extension_postgres_scanner"),
               ("ducklake", "duckdb_extension_ducklake"))
_COLUMN_KEY = re.compile(r"\s+PRIMARY KEY(?=\s*[,)])")
_TABLE_KEY = re.compile(r",\s*PRIMARY KEY\s*\([^)]*\)")
_UPSERT_META = re.compile(r"INSERT OR REPLACE INTO tv_meta VALUES \('(\w+)', \?\)")
_DATA_PATH = re.compile(r"(?:^|\s)data_path=(\S+)")
_CATALOG = "__ducklake_metadata_lake"
_NEXTVAL = ("SELECT * FROM postgres_query('" + _CATALOG + "', "
            "'SELECT nextval(''tv_commit_seq'')')")
_RETRIES = 8


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


class LakeWriter(DuckDBWriter):
    """Group commit into a DuckLake shared by nodes: global commit numbers, retried commits.

    Each commit takes its number from the PostgreSQL sequence ``tv_commit_seq`` in the
    catalog database when it commits, so numbers never collide across nodes and rise
    within each node's chain; a node's chain may skip the numbers other nodes took.
    """

    def allocate_seq(self) -> int:
        """A number no other node will use, above every number this node used before."""
        return int(self.con.execute(_NEXTVAL).fetchone()[0])

    def commit(self, prepared: PreparedBatch | CommitResult) -> CommitResult:
        """Number the batch from the shared sequence, then commit it as the file store does."""
        if isinstance(prepared, CommitResult):
            return prepared
        seq = self.allocate_seq()
        prepared.seq, prepared.batch = seq, prepared.batch.with_seq(seq)
        prepared.foreign = self.foreign
        self.committed_seq = seq - 1
        return super().commit(prepared)

    def _commit(self, prepared: PreparedBatch) -> str:
        """Commit, retrying when another node's concurrent commit conflicts."""
        for attempt in range(_RETRIES):
            try:
                return super()._commit(prepared)
            except duckdb.TransactionException as exc:
                if attempt == _RETRIES - 1 or "conflict" not in str(exc).lower():
                    raise
                time.sleep(0.02 * 2 ** attempt)
        raise AssertionError("unreachable")


class DuckLakeStore(DuckDBStore):
    """A tracevault store in a DuckLake (PostgreSQL catalog, shared data files).

    Each node keeps its own ledger chain under its ``node_id``; the default ``local`` becomes
    ``HOST-PID`` so that nodes never share a chain (set ``TRACEVAULT_NODE_ID`` to keep one
    chain per node across restarts).
    """

    _writer_class = LakeWriter

    def __init__(self, url: str, *, read_only: bool = False, node_id: str = "local",
                 **options: Any) -> None:
        self.lake_url = url
        self._dsn, self._data_path = parse_lake_url(url)
        if node_id == "local":
            node_id = f"{socket.gethostname()}-{os.getpid()}"
        super().__init__(url, read_only=read_only, node_id=node_id, **options)

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
        opts = "DATA_PATH ?" + (", READ_ONLY" if self.read_only else "")
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
                break
            except duckdb.TransactionException:  # another node migrated at the same time
                if attempt == _RETRIES - 1:
                    raise
                time.sleep(0.05 * 2 ** attempt)
        if not self.read_only:
            top = int(self._con.execute("SELECT coalesce(max(seq), 0) FROM ledger").fetchone()[0])
            self._con.execute(
                f"CALL postgres_execute('{_CATALOG}', 'CREATE SEQUENCE IF NOT EXISTS "
                f"tv_commit_seq; SELECT setval(''tv_commit_seq'', greatest({top}, (SELECT "
                "last_value FROM tv_commit_seq)))')")
