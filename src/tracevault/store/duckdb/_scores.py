"""Scores in the DuckDB store: append-only rows, each write one ledger commit."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import duckdb
import orjson
import pyarrow as pa

from ..._exceptions import InputError
from .._batch import row_hash
from .._tables import ARROW_TYPES, TABLES

__all__ = ["score_table", "select_scores"]

_COLUMNS = [c for c, _, _ in TABLES["scores"]]
_JSON = ("evaluator", "metadata")


def score_table(scores: Iterable[dict[str, Any]]) -> pa.Table:
    """Score dicts (``Score.to_dict()``) as rows of the ``scores`` table, hashed."""
    rows = []
    for s in scores:
        if not s.get("trace_id"):
            raise InputError(f"score {s.get('name')!r} names no trace")
        row = {c: s.get(c) for c in _COLUMNS}
        for c in _JSON:
            row[c] = orjson.dumps(row[c] if row[c] is not None else {}).decode()
        if row["value"] is not None:
            row["value"] = float(row["value"])
        row["row_hash"] = row_hash([row[c] for c in _COLUMNS[:-2]])
        row["seq"] = 0
        rows.append(row)
    schema = pa.schema([(c, ARROW_TYPES[t]) for c, t, _ in TABLES["scores"]])
    return pa.Table.from_pylist(rows, schema=schema)


def new_scores(con: duckdb.DuckDBPyConnection, table: pa.Table) -> pa.Table:
    """The rows whose score id is not stored yet (writing a score again is a no-op).

    Every score must name a stored trace of its project.
    """
    pairs = set(zip(table.column("project").to_pylist(), table.column("trace_id").to_pylist(),
                    strict=True))
    found = set(con.execute(
        "SELECT DISTINCT project, trace_id FROM trace_parts WHERE trace_id IN "
        "(SELECT unnest(?::VARCHAR[]))", [sorted({t for _, t in pairs})]).fetchall())
    for project, trace_id in sorted(pairs - found):
        raise InputError(f"trace {trace_id} is not in project {project!r} of this store")
    ids = table.column("score_id").to_pylist()
    if len(set(ids)) != len(ids):
        raise InputError("the same score id appears twice in one write")
    known = {r[0] for r in con.execute(
        "SELECT score_id FROM scores WHERE score_id IN (SELECT unnest(?::VARCHAR[]))",
        [ids]).fetchall()}
    if not known:
        return table
    return table.filter(pa.array([i not in known for i in ids]))


def select_scores(con: duckdb.DuckDBPyConnection, *, project: str | None = None,
                  trace_ids: Sequence[str] | None = None, name: str | None = None,
                  run_id: str | None = None, source: str | None = None,
                  limit: int = 10_000) -> list[dict[str, Any]]:
    """Stored scores matching the conditions, oldest first."""
    conds, params = [], []
    for column, value in (("project", project), ("name", name), ("run_id", run_id),
                          ("source", source)):
        if value is not None:
            conds.append(f"{column} = ?")
            params.append(value)
    if trace_ids is not None:
        conds.append("trace_id IN (SELECT unnest(?::VARCHAR[]))")
        params.append(list(trace_ids))
    sql = f"SELECT {', '.join(_COLUMNS[:-2])} FROM scores"
    if conds:
        sql += " WHERE " + " AND ".join(conds)
    cur = con.execute(sql + " ORDER BY created_ns, score_id LIMIT ?", params + [limit])
    names = [d[0] for d in cur.description]
    out = []
    for values in cur.fetchall():
        row = dict(zip(names, values, strict=True))
        for c in _JSON:
            row[c] = orjson.loads(row[c]) if row[c] else {}
        out.append(row)
    return out
