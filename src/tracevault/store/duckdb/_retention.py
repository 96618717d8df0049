"""Retention in the DuckDB store: policies, legal holds and ledgered purges.

A purge is a commit of its own. In one transaction it records the digest of every row it
removes (``purged_rows``, keyed by the commit that wrote the row), removes the traces'
spans, events, summaries and the content blobs no remaining row references, writes a
``purges`` row (policy, cutoff, counts, trace ids, archive) and chains a ledger entry
over both. ``verify`` counts the recorded digests in place of the removed rows, so the
ledger still checks and every gap is explained by the purge that made it.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from ..._exceptions import InputError, NotFound, StoreError
from ._writer import DuckDBWriter, chain_hash, ledger_content_hash, transaction

__all__ = ["ACTIONS", "PlannedPurge", "add_hold", "plan_purges", "purge", "release_hold",
           "remove_policy", "retention_state", "set_policy"]

ACTIONS = ("keep", "delete", "archive")
"""``keep``: never purge younger traces in scope; ``delete``; ``archive`` then delete."""
DAY_NS = 86_400 * 10**9

# Every way a span or event row references a content blob: hash columns, hash lists and
# the hashes inside ``lifted`` descriptors (hex).
_SPAN_REFS = """
SELECT unnest(coalesce(input_refs, []) || coalesce(output_refs, []) || coalesce(system_refs, [])
              || coalesce(tools_refs, []) || coalesce(docs_refs, [])
              || list_filter([resource_ref, tool_args_ref, tool_result_ref, memory_values_ref,
                              msg_content_ref, detail_input_ref, detail_output_ref],
                             x -> x IS NOT NULL)) AS h FROM spans {where}
UNION ALL
SELECT unhex(unnest(regexp_extract_all(lifted::VARCHAR, '[0-9a-f]{{32}}'))) FROM spans
    {where_lifted}
UNION ALL
SELECT unnest(list_filter(coalesce(refs, []) || [resource_ref], x -> x IS NOT NULL))
    FROM events {where}
"""


def _now() -> int:
    return time.time_ns()


def _scope_text(row: dict[str, Any]) -> str:
    parts = [f"{k} {row[k]}" for k in ("project", "service", "agent") if row.get(k)]
    return ", ".join(parts) or "all traces"


def set_policy(con: duckdb.DuckDBPyConnection, name: str, *, keep_days: int,
               action: str = "delete", project: str | None = None,
               service: str | None = None, agent: str | None = None,
               archive_dir: str | None = None) -> dict[str, Any]:
    """Create or replace a retention policy."""
    if not name or not name.strip():
        raise InputError("a retention policy needs a name")
    if action not in ACTIONS:
        raise InputError(f"unknown retention action {action!r}: use one of {', '.join(ACTIONS)}")
    if keep_days < 0:
        raise InputError("keep_days must be 0 or more")
    if action == "archive" and not archive_dir:
        raise InputError("an archive policy needs an archive directory")
    _replace(con, "retention_policies", [
        name, project, service, agent, keep_days, action,
        str(Path(archive_dir).resolve()) if archive_dir else None, _now()])
    return _policies(con, name)[0]


def _replace(con: duckdb.DuckDBPyConnection, table: str, row: list[Any]) -> None:
    """Insert ``row``, replacing the row of the same name (no upsert: DuckLake has no keys)."""
    with transaction(con):
        con.execute(f"DELETE FROM {table} WHERE name = ?", [row[0]])
        con.execute(f"INSERT INTO {table} VALUES ({', '.join('?' * len(row))})", row)


def remove_policy(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Delete a retention policy (purges it made stay in the ledger)."""
    if not con.execute("DELETE FROM retention_policies WHERE name = ? RETURNING name",
                       [name]).fetchall():
        raise InputError(f"no retention policy named {name!r}")


def add_hold(con: duckdb.DuckDBPyConnection, name: str, *, reason: str,
             project: str | None = None, trace_ids: list[str] | None = None,
             filter: str | None = None) -> dict[str, Any]:  # noqa: A002
    """Place a legal hold: the traces it names or selects are never purged."""
    if not name or not name.strip():
        raise InputError("a legal hold needs a name")
    if not reason or not reason.strip():
        raise InputError("a legal hold needs a reason")
    if not trace_ids and not filter and not project:
        raise InputError("a legal hold needs trace ids, a filter or a project")
    if filter:
        from ...query._lang import parse_filter

        parse_filter(filter)  # a FilterSyntaxError names the column
    ids = [t.strip().lower() for t in trace_ids or [] if t.strip()]
    _replace(con, "legal_holds", [name, project, ids or None, filter, reason, _now()])
    return _holds(con, name)[0]


def release_hold(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Lift a legal hold."""
    if not con.execute("DELETE FROM legal_holds WHERE name = ? RETURNING name",
                       [name]).fetchall():
        raise InputError(f"no legal hold named {name!r}")


def _rows(cur: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def _policies(con: duckdb.DuckDBPyConnection, name: str | None = None) -> list[dict[str, Any]]:
    sql = "SELECT * FROM retention_policies" + (" WHERE name = ?" if name else "")
    rows = _rows(con.execute(sql + " ORDER BY name", [name] if name else []))
    for r in rows:
        r["scope"] = _scope_text(r)
    return rows


def _holds(con: duckdb.DuckDBPyConnection, name: str | None = None) -> list[dict[str, Any]]:
    sql = "SELECT * FROM legal_holds" + (" WHERE name = ?" if name else "")
    rows = _rows(con.execute(sql + " ORDER BY name", [name] if name else []))
    for r in rows:
        r["trace_ids"] = list(r["trace_ids"] or [])
    return rows


def retention_state(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Policies, holds and the purges made so far (newest first)."""
    purges = _rows(con.execute(
        "SELECT p.*, l.chain_hash FROM purges p LEFT JOIN ledger l USING (seq) "
        "ORDER BY seq DESC"))
    for p in purges:
        p["spec"] = json.loads(p["spec"])
        p["trace_ids"] = list(p["trace_ids"])
    return {"policies": _policies(con), "holds": _holds(con), "purges": purges}


@dataclass
class PlannedPurge:
    """What one policy would remove now."""

    policy: dict[str, Any]
    cutoff_ns: int
    traces: list[tuple[str, str]] = field(default_factory=list)
    held: list[tuple[str, str]] = field(default_factory=list)
    """Traces the policy selects that a legal hold keeps."""
    kept: list[tuple[str, str]] = field(default_factory=list)
    """Traces a ``keep`` policy keeps (younger than its period)."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {"policy": self.policy["name"], "action": self.policy["action"],
                "scope": _scope_text(self.policy), "cutoff_ns": self.cutoff_ns,
                "traces": len(self.traces), "held": len(self.held), "kept": len(self.kept),
                "trace_ids": [t for _, t in self.traces]}


def _scope_sql(p: dict[str, Any]) -> tuple[list[str], list[Any]]:
    conds, params = [], []
    if p.get("project"):
        conds.append("t.project = ?")
        params.append(p["project"])
    if p.get("service"):
        conds.append("t.service_name = ?")
        params.append(p["service"])
    if p.get("agent"):
        conds.append("list_contains(t.agents, ?)")
        params.append(p["agent"])
    return conds, params


def _held(store: Any, con: duckdb.DuckDBPyConnection) -> set[tuple[str, str]]:
    from ...query._filters import TraceQuery

    held: set[tuple[str, str]] = set()
    for h in _holds(con):
        if h["filter"] or not h["trace_ids"]:
            source, params = store._traces_from(TraceQuery(filter=h["filter"],
                                                           project=h["project"]))
            held |= set(con.execute(f"SELECT t.project, t.trace_id{source}", params).fetchall())
        if h["trace_ids"]:
            sql = "SELECT project, trace_id FROM traces WHERE list_contains(?, trace_id)"
            params = [h["trace_ids"]]
            if h["project"]:
                sql += " AND project = ?"
                params.append(h["project"])
            held |= set(con.execute(sql, params).fetchall())
    return held


def plan_purges(store: Any, con: duckdb.DuckDBPyConnection, now_ns: int | None = None,
                only: str | None = None) -> list[PlannedPurge]:
    """What each delete/archive policy would remove at ``now_ns``, after holds and keeps."""
    now_ns = _now() if now_ns is None else now_ns
    policies = _policies(con)
    if only is not None and not any(p["name"] == only for p in policies):
        raise InputError(f"no retention policy named {only!r}")
    held = _held(store, con)
    keeps = [p for p in policies if p["action"] == "keep"]
    taken: set[tuple[str, str]] = set()
    out = []
    for p in policies:
        if p["action"] == "keep" or (only is not None and p["name"] != only):
            continue
        cutoff = now_ns - p["keep_days"] * DAY_NS
        conds, params = _scope_sql(p)
        conds.append("t.end_ns < ?")
        params.append(cutoff)
        where = " AND ".join(conds)
        rows = con.execute(f"SELECT t.project, t.trace_id FROM traces t WHERE {where} "
                           "ORDER BY t.start_ns, t.trace_id", params).fetchall()
        protected: set[tuple[str, str]] = set()
        for k in keeps:  # a keep policy protects the traces in its scope younger than it
            kconds, kparams = _scope_sql(k)
            kconds.append("t.end_ns >= ?")
            kparams.append(now_ns - k["keep_days"] * DAY_NS)
            protected |= set(con.execute(
                f"SELECT t.project, t.trace_id FROM traces t WHERE {where} AND "
                + " AND ".join(kconds), params + kparams).fetchall())
        plan = PlannedPurge(p, cutoff)
        for key in rows:
            if key in taken:
                continue
            if key in held:
                plan.held.append(key)
            elif key in protected:
                plan.kept.append(key)
            else:
                plan.traces.append(key)
                taken.add(key)
        out.append(plan)
    return out


def _archive(store: Any, plan: PlannedPurge, seq: int) -> tuple[str, str]:
    """Write the traces to a trace bundle (docs/exchange.md); returns path and SHA-256."""
    from ...exchange import write_bundle

    path = Path(plan.policy["archive_dir"]) / f"{plan.policy['name']}-{seq:08d}.tvbundle"
    info = write_bundle(store, path, plan.traces, selection={
        "retention_policy": plan.policy["name"], "cutoff_ns": plan.cutoff_ns,
        "purge_commit": seq})
    return info.path, info.sha256


def _queue_blobs(con: duckdb.DuckDBPyConnection, seq: int, orphaned: str, in_set: str,
                 grace_ns: int) -> str:
    """Queue the blobs ``orphaned`` selects; return SQL selecting the queued ones now due."""
    now = _now()
    con.execute("INSERT INTO blob_purge_queue SELECT DISTINCT hash, ?, ? FROM blobs "
                f"WHERE {orphaned}", [seq, now])
    con.execute("CREATE OR REPLACE TEMP TABLE purge_due AS SELECT DISTINCT hash AS h "
                "FROM blob_purge_queue WHERE marked_seq < ? AND marked_ns <= ?",
                [seq, now - grace_ns])
    con.execute("CREATE OR REPLACE TEMP TABLE purge_due_keep AS SELECT DISTINCT h FROM ("
                + _SPAN_REFS.format(where=f"WHERE NOT {in_set}",
                                    where_lifted=f"WHERE lifted IS NOT NULL AND NOT {in_set}")
                + ") WHERE h IN (SELECT h FROM purge_due)")
    # Due blobs leave the queue: removed now, or referenced again and so kept.
    con.execute("DELETE FROM blob_purge_queue WHERE hash IN (SELECT h FROM purge_due)")
    return "hash IN (SELECT h FROM purge_due EXCEPT SELECT h FROM purge_due_keep)"


def _raced() -> StoreError:
    return StoreError("another node purged some of these traces at the same moment; "
                      "run retention again")


def purge(store: Any, writer: DuckDBWriter, plan: PlannedPurge,
          blob_grace_ns: int = 0) -> dict[str, Any]:
    """Remove a planned purge's traces in one ledgered commit; returns the purge row.

    With ``blob_grace_ns`` (stores shared by several writers), blobs the purge leaves
    unreferenced are queued instead; a later purge removes those queued at least that
    long before and still unreferenced, so a writer that took such a blob for stored a
    moment before the purge never commits a reference to a removed blob.
    """
    con = writer.con
    seq = writer.allocate_seq()
    archive = digest = None
    if plan.policy["action"] == "archive" and plan.traces:
        try:
            archive, digest = _archive(store, plan, seq)
        except NotFound:  # another writer purged a planned trace since the plan was made
            raise _raced() from None
    keys = pa.table({"project": [p for p, _ in plan.traces],
                     "trace_id": [t for _, t in plan.traces]})
    in_set = "(project, trace_id) IN (SELECT project, trace_id FROM purge_set)"
    con.register("purge_set", keys)
    try:
        with transaction(con):
            # The plan was read before this transaction: a writer sharing the store may
            # have purged some of its traces since. Purge only a plan that still holds.
            present = con.execute("SELECT count(*) FROM (SELECT DISTINCT project, trace_id "
                                  f"FROM trace_parts WHERE {in_set})").fetchone()
            if not present or present[0] != len(plan.traces):
                raise _raced()
            for table in ("spans", "events", "scores"):
                con.execute(f"INSERT INTO purged_rows SELECT ?, seq, '{table}', hex(row_hash) "
                            f"FROM {table} WHERE {in_set}", [seq])
            con.execute("CREATE OR REPLACE TEMP TABLE purge_refs AS SELECT DISTINCT h FROM ("
                        + _SPAN_REFS.format(where=f"WHERE {in_set}",
                                            where_lifted=f"WHERE lifted IS NOT NULL AND {in_set}")
                        + ") WHERE h IS NOT NULL")
            con.execute("CREATE OR REPLACE TEMP TABLE purge_keep AS SELECT DISTINCT h FROM ("
                        + _SPAN_REFS.format(where=f"WHERE NOT {in_set}",
                                            where_lifted=f"WHERE lifted IS NOT NULL AND NOT "
                                                         f"{in_set}")
                        + ") WHERE h IN (SELECT h FROM purge_refs)")
            doomed = "hash IN (SELECT h FROM purge_refs EXCEPT SELECT h FROM purge_keep)"
            if blob_grace_ns:
                doomed = _queue_blobs(con, seq, doomed, in_set, blob_grace_ns)
            con.execute("INSERT INTO purged_rows SELECT ?, seq, 'blobs', hex(hash) FROM blobs "
                        f"WHERE {doomed}", [seq])
            counts = dict(con.execute("SELECT table_name, count(*) FROM purged_rows WHERE seq = ? "
                                      "GROUP BY ALL", [seq]).fetchall())
            con.execute(f"DELETE FROM blobs WHERE {doomed}")
            for table in ("spans", "events", "scores", "trace_parts"):
                con.execute(f"DELETE FROM {table} WHERE {in_set}")
            spec = {k: plan.policy.get(k) for k in ("name", "project", "service", "agent",
                                                     "keep_days", "action")}
            row = [seq, _now(), plan.policy["name"], json.dumps(spec), plan.cutoff_ns,
                   len(plan.traces), counts.get("spans", 0), counts.get("events", 0),
                   counts.get("blobs", 0), archive, digest, [t for _, t in plan.traces]]
            con.execute("INSERT INTO purges VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
            content = ledger_content_hash(con, seq)
            link = chain_hash(writer.prev_hash, content, writer.node, seq)
            con.execute("INSERT INTO ledger VALUES (?, ?, ?, 0, 0, 0, ?, ?, ?)",
                        [writer.node, seq, row[1], content, writer.prev_hash, link])
    finally:
        con.unregister("purge_set")
        for temp in ("purge_refs", "purge_keep", "purge_due", "purge_due_keep"):
            try:
                con.execute(f"DROP TABLE IF EXISTS {temp}")
            except duckdb.Error:
                pass
    writer.committed_seq = writer.next_seq = seq
    writer.prev_hash = link
    names = ("seq", "purged_ns", "policy", "spec", "cutoff_ns", "traces", "spans", "events",
             "blobs", "archive", "archive_sha256", "trace_ids")
    out = dict(zip(names, row, strict=True))
    out["spec"], out["chain_hash"] = spec, link
    return out
