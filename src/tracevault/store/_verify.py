"""Recompute the integrity ledger of a store and report every discrepancy.

Checks, in order of cost:

1. the chain of each node: sequence numbers contiguous (on a single-node store, node
   ``local``) or rising and never shared with another node (on a DuckLake, where nodes
   take numbers from one counter), each ``prev_hash`` the previous ``chain_hash``, each
   ``chain_hash`` recomputed from its ``content_hash``;
2. each commit's ``content_hash`` recomputed from the row digests stored under its
   ``seq`` (a removed or added row changes it), and its row counts;
3. rows whose ``seq`` has no ledger entry (added outside any commit);
4. every span, event and score row's ``row_hash`` recomputed from its values (a changed
   value);
5. every blob's data against its content hash;
6. the trace summaries (``trace_parts``) recomputed from the spans they summarise.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import duckdb

from ._batch import row_hash
from ._tables import TABLES

__all__ = ["Problem", "VerifyReport", "verify_connection"]


@dataclass
class Problem:
    """One discrepancy between the store and its ledger."""

    kind: str
    """``altered``, ``missing``, ``inserted`` or ``chain``."""
    table: str
    seq: int | None
    detail: str
    record: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        where = f"commit {self.seq}" if self.seq is not None else "no commit"
        ids = " ".join(f"{k}={v}" for k, v in self.record.items() if v is not None)
        return f"{self.kind}: {self.table} ({where}) {ids} - {self.detail}".replace("  ", " ")


@dataclass
class VerifyReport:
    """What ``verify`` found."""

    commits: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    head: dict[str, Any] | None = None
    purges: list[dict[str, Any]] = field(default_factory=list)
    """Retention purges: rows they removed count through their recorded digests."""

    @property
    def ok(self) -> bool:
        """True when nothing is wrong."""
        return not self.problems

    def first(self) -> Problem | None:
        """The earliest problem (lowest commit number)."""
        if not self.problems:
            return None
        return min(self.problems, key=lambda p: (p.seq is None, p.seq or 0))

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {"ok": self.ok, "commits": self.commits, "rows": self.rows,
                "head": self.head, "purges": self.purges, "problems": [
                    {"kind": p.kind, "table": p.table, "seq": p.seq, "detail": p.detail,
                     "record": p.record} for p in self.problems]}


def _chain(prev: str, content: str, node: str, seq: int) -> str:
    return hashlib.sha256(f"{prev}|{content}|{node}|{seq}".encode()).hexdigest()


def _batches(con: duckdb.DuckDBPyConnection, sql: str) -> Iterator[list[tuple[Any, ...]]]:
    cur = con.execute(sql)
    while True:
        rows = cur.fetchmany(10_000)
        if not rows:
            return
        yield rows


def verify_connection(con: duckdb.DuckDBPyConnection) -> VerifyReport:
    """Verify the store behind a DuckDB connection."""
    from .duckdb._writer import ledger_content_hash

    report = VerifyReport()
    ledger = con.execute(
        "SELECT node, seq, spans, events, blobs, content_hash, prev_hash, chain_hash "
        "FROM ledger ORDER BY node, seq").fetchall()
    report.commits = len(ledger)
    counted = {(t, s): n for t, s, n in con.execute(
        "SELECT 'spans', seq, count(*) FROM spans GROUP BY seq UNION ALL "
        "SELECT 'events', seq, count(*) FROM events GROUP BY seq UNION ALL "
        "SELECT 'blobs', seq, count(*) FROM blobs GROUP BY seq").fetchall()}
    purged = {(t, s): n for t, s, n in con.execute(
        "SELECT table_name, of_seq, count(*) FROM purged_rows GROUP BY ALL").fetchall()}
    report.purges = _purges(con, report)
    prev_by_node: dict[str, tuple[int, str]] = {}
    known_seqs = set()
    for node, seq, n_spans, n_events, n_blobs, content, prev, chain in ledger:
        if seq in known_seqs:
            report.problems.append(Problem("chain", "ledger", seq,
                                           "sequence number used by two commits"))
        known_seqs.add(seq)
        last_seq, last_hash = prev_by_node.get(node, (0, ""))
        if prev != last_hash:
            report.problems.append(Problem("chain", "ledger", seq,
                                           "prev_hash does not match the previous commit"))
        if seq != last_seq + 1 and node == "local":
            report.problems.append(Problem("missing", "ledger", seq,
                                           f"commits {last_seq + 1}..{seq - 1} are missing"))
        if _chain(prev, content, node, seq) != chain:
            report.problems.append(Problem("chain", "ledger", seq,
                                           "chain_hash does not match its content"))
        prev_by_node[node] = (seq, chain)
        for table, expected in (("spans", n_spans), ("events", n_events), ("blobs", n_blobs)):
            found = counted.get((table, seq), 0) + purged.get((table, seq), 0)
            if found < expected:
                report.problems.append(Problem("missing", table, seq,
                                               f"{expected - found} row(s) missing "
                                               f"(ledger: {expected}, stored: {found})"))
            elif found > expected:
                report.problems.append(Problem("inserted", table, seq,
                                               f"{found - expected} row(s) added "
                                               f"(ledger: {expected}, stored: {found})"))
        if ledger_content_hash(con, seq) != content:
            report.problems.append(Problem("altered", "ledger", seq,
                                           "the rows of this commit differ from what was "
                                           "committed"))
    if ledger:
        node, seq, *_, chain = ledger[-1]
        report.head = {"node": node, "seq": seq, "chain_hash": chain}
    for (table, seq), n in sorted(counted.items(), key=lambda x: x[0][1]):
        if seq not in known_seqs:
            report.problems.append(Problem("inserted", table, seq,
                                           f"{n} row(s) with no ledger entry"))
    _check_row_hashes(con, report)
    _check_blobs(con, report)
    _check_trace_parts(con, report)
    report.rows = {t: sum(n for (tt, _), n in counted.items() if tt == t)
                   for t in ("spans", "events", "blobs")}
    return report


def _purges(con: duckdb.DuckDBPyConnection, report: VerifyReport) -> list[dict[str, Any]]:
    """The purges in the ledger; each must account for exactly the digests it recorded."""
    rows = con.execute(
        "SELECT p.seq, p.policy, p.purged_ns, p.cutoff_ns, p.traces, p.spans, p.events, "
        "p.blobs, p.archive, p.archive_sha256, count(r.digest) FILTER (WHERE r.table_name = "
        "'spans'), count(r.digest) FILTER (WHERE r.table_name = 'events'), count(r.digest) "
        "FILTER (WHERE r.table_name = 'blobs') FROM purges p LEFT JOIN purged_rows r "
        "USING (seq) GROUP BY ALL ORDER BY p.seq").fetchall()
    out = []
    for seq, policy, when, cutoff, traces, spans, events, blobs, archive, sha, *recorded in rows:
        if [spans, events, blobs] != recorded:
            report.problems.append(Problem("altered", "purges", seq,
                                           "the purge's counts differ from the row digests "
                                           "it recorded"))
        out.append({"seq": seq, "policy": policy, "purged_ns": when, "cutoff_ns": cutoff,
                    "traces": traces, "spans": spans, "events": events, "blobs": blobs,
                    "archive": archive, "archive_sha256": sha})
    return out


def _check_row_hashes(con: duckdb.DuckDBPyConnection, report: VerifyReport) -> None:
    for table in ("spans", "events", "scores"):
        names = [c for c, _, _ in TABLES[table]]
        ids = ("trace_id", "span_id")
        id_pos = [names.index(i) for i in ids]
        for rows in _batches(con, f"SELECT {', '.join(names)} FROM {table}"):
            for row in rows:
                stored = row[-2]
                if stored is None or row_hash(row[:-2]) != bytes(stored):
                    report.problems.append(Problem(
                        "altered", table, row[-1], "values differ from their row_hash",
                        {i: row[p] for i, p in zip(ids, id_pos, strict=True)}))


def _check_blobs(con: duckdb.DuckDBPyConnection, report: VerifyReport) -> None:
    for rows in _batches(con, "SELECT hash, data, seq FROM blobs"):
        for h, data, seq in rows:
            if hashlib.blake2b(data.encode(), digest_size=16).digest() != bytes(h):
                report.problems.append(Problem("altered", "blobs", seq,
                                               "data differs from its content hash",
                                               {"hash": bytes(h).hex()}))


_PARTS = """
SELECT project, trace_id, seq, count(*)::INTEGER AS span_count, min(start_ns), max(end_ns),
       count(*) FILTER (WHERE status = 'error')::INTEGER,
       count(*) FILTER (WHERE kind = 'llm')::INTEGER,
       count(*) FILTER (WHERE kind = 'tool')::INTEGER,
       sum(tokens_total)::BIGINT
FROM spans GROUP BY project, trace_id, seq
"""
_STORED_PARTS = """
SELECT project, trace_id, seq, span_count, start_ns, end_ns, error_count, llm_count,
       tool_count, tokens_total
FROM trace_parts WHERE span_count > 0
"""


def _check_trace_parts(con: duckdb.DuckDBPyConnection, report: VerifyReport) -> None:
    for kind, sql in (("altered", f"({_STORED_PARTS}) EXCEPT ({_PARTS})"),
                      ("missing", f"({_PARTS}) EXCEPT ({_STORED_PARTS})")):
        for project, trace_id, seq, *_ in con.execute(sql).fetchall():
            report.problems.append(Problem(
                kind, "trace_parts", seq,
                "trace summary does not match the stored spans" if kind == "altered"
                else "spans of this trace have no matching summary",
                {"project": project, "trace_id": trace_id}))
