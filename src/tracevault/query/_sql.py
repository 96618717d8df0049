"""Read-only SQL over the store's documented tables and views.

A statement runs only if DuckDB parses it as exactly one ``SELECT`` that reads the
store's own tables and views (or CTEs defined in it) and calls no table function outside
a small allowlist: no writes, no file access (``read_csv``, ``'file.parquet'``), no
``ATTACH``, no settings, no environment. Everything else is refused with a message.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import duckdb

from .._exceptions import QueryError
from ..store._tables import TABLES
from ..store.duckdb._migrations import VIEWS

__all__ = ["SQL_TABLES", "check_read_only"]

SQL_TABLES = frozenset({*TABLES, *VIEWS, "tv_meta"})
"""What a statement may read: the store's tables and views."""
_local = threading.local()
_TABLE_FUNCTIONS = frozenset({"unnest", "range", "generate_series", "json_each",
                              "json_tree", "duckdb_tables", "duckdb_views", "duckdb_columns"})
_FUNCTIONS_REFUSED = frozenset({"getenv", "current_setting", "read_text", "read_blob",
                                "glob", "sniff_csv", "query", "query_table"})


def _walk(node: Any, out: list[tuple[str, str]], ctes: set[str]) -> None:
    if isinstance(node, dict):
        kind = node.get("type")
        if isinstance(node.get("cte_map"), dict):
            for entry in node["cte_map"].get("map") or []:
                if isinstance(entry, dict) and entry.get("key"):
                    ctes.add(str(entry["key"]).lower())
        if kind == "TABLE_FUNCTION":
            out.append(("table function", str(node["function"]["function_name"]).lower()))
        elif kind == "BASE_TABLE":
            out.append(("table", str(node.get("table_name", "")).lower()))
        if node.get("class") == "FUNCTION":
            out.append(("function", str(node.get("function_name", "")).lower()))
        for value in node.values():
            _walk(value, out, ctes)
    elif isinstance(node, list):
        for value in node:
            _walk(value, out, ctes)


def check_read_only(sql: str) -> None:
    """Raise ``QueryError`` unless ``sql`` is one SELECT over the store's own data."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise QueryError(f"cannot parse SQL: {exc}") from None
    if len(statements) != 1:
        raise QueryError(f"read-only: one statement at a time, got {len(statements)}")
    kind = str(statements[0].type).rsplit(".", 1)[-1]
    if kind != "SELECT":
        raise QueryError(f"read-only: {kind} statements are refused (only SELECT runs)")
    con = getattr(_local, "con", None)
    if con is None:
        con = _local.con = duckdb.connect(":memory:")
    tree = json.loads(con.execute("SELECT json_serialize_sql(?)", [sql]).fetchone()[0])
    if tree.get("error"):
        first = sql.strip().split(None, 1)[0].upper() if sql.strip() else "empty"
        raise QueryError(f"read-only: {first} statements are refused (only plain SELECT runs)")
    refs: list[tuple[str, str]] = []
    ctes: set[str] = set()
    _walk(tree, refs, ctes)
    for what, name in refs:
        if what == "table" and name not in SQL_TABLES and name not in ctes:
            raise QueryError(f"read-only: {name!r} is not a table of the store "
                             f"(tables: {', '.join(sorted(SQL_TABLES))})")
        if what == "table function" and name not in _TABLE_FUNCTIONS:
            raise QueryError(f"read-only: table function {name}() is refused")
        if what == "function" and name in _FUNCTIONS_REFUSED:
            raise QueryError(f"read-only: function {name}() is refused")
