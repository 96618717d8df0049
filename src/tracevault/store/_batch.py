"""Batches of lifted rows as Arrow tables: built by a lifter, moved between processes.

A ``LiftedBatch`` holds what one commit writes: span, event, blob and drift rows (the
``seq`` column left 0 until the committer assigns the commit number). Ingest workers
send batches to the writing process as Arrow IPC, which costs little more than a copy.
"""

from __future__ import annotations

import hashlib
import struct
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
import pyarrow as pa

from ..ingest._draft import SpanDraft
from ..ingest._raw import RawLog
from ..schema import SCHEMA_VERSION
from ._codec import dump
from ._lift import Lifter
from ._tables import ROW_TEMPLATES, TABLES, arrow_schema

__all__ = ["LiftedBatch", "batch_from_ipc", "batch_to_ipc", "lift_batch", "rows_to_table"]

SCHEMAS = {name: arrow_schema(cols) for name, cols in TABLES.items()}
_EVENT_TEMPLATE = ROW_TEMPLATES["events"]
_BATCH_TABLES = ("spans", "events", "blobs", "drift")


def _hexify(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(f"cannot hash a {type(value).__name__}")


def row_hash(values: Sequence[Any]) -> bytes:
    """SHA-256 of a row's column values (all but ``row_hash`` and ``seq``), in table order.

    The encoding is a JSON array (bytes as hex); ``verify`` recomputes it from the stored
    values, so any change to a stored row shows.
    """
    return hashlib.sha256(orjson.dumps(list(values), default=_hexify)).digest()


def _with_row_hashes(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        values = list(row.values())[:-2]  # row_hash and seq are the last two columns
        row["row_hash"] = row_hash(values)


def rows_to_table(rows: list[dict[str, Any]], name: str) -> pa.Table:
    """Rows (dicts with every column, in table order) -> an Arrow table."""
    schema = SCHEMAS[name]
    template = ROW_TEMPLATES[name]
    if any(len(r) != len(template) for r in rows):
        rows = [{c: r.get(c) for c in template} for r in rows]
    columns = list(zip(*(r.values() for r in rows), strict=True)) if rows else [()] * len(schema)
    n = len(rows)
    arrays = []
    for col, f in zip(columns, schema, strict=True):
        if col.count(None) == n:  # most typed columns are empty for most kinds
            arrays.append(pa.nulls(n, type=f.type))
        elif f.name == "data" and name == "blobs":
            # Blob texts arrive UTF-8 encoded already (they were hashed as bytes).
            arrays.append(pa.array(col, type=pa.binary()).view(pa.string()))
        else:
            arrays.append(pa.array(col, type=f.type))
    return pa.table(arrays, schema=schema)


@dataclass
class LiftedBatch:
    """Rows for one commit, as Arrow tables keyed by table name."""

    tables: dict[str, pa.Table] = field(default_factory=dict)
    has_logs: bool = False

    def table(self, name: str) -> pa.Table:
        """A table of the batch (empty when the batch has no such rows)."""
        return self.tables.get(name) or SCHEMAS[name].empty_table()

    def span_keys(self) -> list[tuple[str, str, str]]:
        """(project, trace_id, span_id) of every span row, in row order."""
        t = self.table("spans")
        return list(zip(t.column("project").to_pylist(), t.column("trace_id").to_pylist(),
                        t.column("span_id").to_pylist(), strict=True))

    def blob_hashes(self) -> list[bytes]:
        """Hashes of the blob rows, in row order."""
        return self.table("blobs").column("hash").to_pylist()

    def with_seq(self, seq: int) -> LiftedBatch:
        """The same rows stamped with commit number ``seq``."""
        out = {}
        for name, t in self.tables.items():
            i = t.schema.get_field_index("seq")
            out[name] = t.set_column(i, "seq", pa.array([seq] * t.num_rows, pa.int64()))
        return LiftedBatch(out, self.has_logs)

    def filtered(self, keep_spans: Sequence[bool] | None,
                 keep_blobs: Sequence[bool] | None) -> LiftedBatch:
        """Drop span rows (and their events) and blob rows not marked to keep."""
        out = dict(self.tables)
        if keep_spans is not None and not all(keep_spans):
            spans = self.table("spans")
            dropped = {k for k, keep in zip(self.span_keys(), keep_spans, strict=True)
                       if not keep}
            out["spans"] = spans.filter(pa.array(keep_spans, pa.bool_()))
            if "events" in out:
                ev = out["events"]
                keys = zip(ev.column("project").to_pylist(), ev.column("trace_id").to_pylist(),
                           ev.column("span_id").to_pylist(), strict=True)
                out["events"] = ev.filter(pa.array([k not in dropped for k in keys],
                                                   pa.bool_()))
        if keep_blobs is not None and "blobs" in out:
            out["blobs"] = out["blobs"].filter(pa.array(keep_blobs, pa.bool_()))
        return LiftedBatch({k: v for k, v in out.items() if v.num_rows}, self.has_logs)

    @staticmethod
    def concat(batches: Sequence[LiftedBatch]) -> LiftedBatch:
        """One batch holding the rows of several."""
        out: dict[str, pa.Table] = {}
        for name in _BATCH_TABLES:
            parts = [b.tables[name] for b in batches if name in b.tables]
            if parts:
                out[name] = pa.concat_tables(parts)
        return LiftedBatch(out, any(b.has_logs for b in batches))

    def dedupe_blobs(self) -> LiftedBatch:
        """Keep the first row of each blob hash."""
        blobs = self.tables.get("blobs")
        if blobs is None:
            return self
        seen: set[bytes] = set()
        keep = []
        for h in blobs.column("hash").to_pylist():
            keep.append(h not in seen)
            seen.add(h)
        if all(keep):
            return self
        return self.filtered(None, keep)

    def counts(self) -> tuple[int, int, int]:
        """Rows of spans, events and blobs."""
        return tuple(self.tables[n].num_rows if n in self.tables else 0  # type: ignore[return-value]
                     for n in ("spans", "events", "blobs"))


def lift_batch(lifter: Lifter, drafts: Sequence[SpanDraft],
               logs: Sequence[tuple[str, RawLog]], seq: int,
               new_blobs: Callable[[list[bytes]], list[bytes]]) -> LiftedBatch:
    """Lift spans and logs into rows; ``new_blobs`` picks the blob hashes to write."""
    lifter.begin_batch()
    rows = []
    events: list[dict[str, Any]] = []
    drift: Counter[tuple[str, str, str, str]] = Counter()
    for d in drafts:
        row = lifter.lift(d, seq)
        row["schema_version"] = SCHEMA_VERSION
        rows.append(row)
        for ev in d.events:
            refs: list[bytes] = []
            attrs = {k: lifter.event_value(v, refs) for k, v in ev.attributes.items()}
            events.append({
                "project": d.project, "trace_id": d.trace_id, "span_id": d.span_id,
                "time_ns": ev.time_ns, "name": ev.name, "source": "span",
                "attributes": dump(attrs), "refs": refs or None,
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
            "severity": log.severity, "attributes": dump(attrs),
            "body": dump(body) if body is not None else None, "refs": refs or None,
            "resource_ref": lifter.put(log.resource), "seq": seq,
        })
    blob_rows = []
    for h in new_blobs(list(lifter.blobs)):
        data = lifter.blobs[h]
        blob_rows.append({"hash": h, "hkey": int.from_bytes(h[:8], "big", signed=True),
                          "size": len(data), "data": data, "seq": seq})
    tables: dict[str, pa.Table] = {}
    if rows:
        _with_row_hashes(rows)
        tables["spans"] = rows_to_table(rows, "spans")
    if events:
        events = [{**_EVENT_TEMPLATE, **e} for e in events]
        _with_row_hashes(events)
        tables["events"] = rows_to_table(events, "events")
    if blob_rows:
        tables["blobs"] = rows_to_table(blob_rows, "blobs")
    if drift:
        tables["drift"] = rows_to_table(
            [{"project": p, "seq": seq, "source": s, "key": k, "issue": i, "count": n}
             for (p, s, k, i), n in drift.items()], "drift")
    return LiftedBatch(tables, bool(logs))


_ALIGN = 64


def batch_to_ipc(batch: LiftedBatch) -> bytes:
    """Serialise a batch: per table, a name, a length and an Arrow IPC stream.

    Streams start at 64-byte offsets so the reader can map them without copying.
    """
    out = bytearray(b"\x01" if batch.has_logs else b"\x00")
    for name, table in batch.tables.items():
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        data = sink.getvalue()
        encoded = name.encode()
        out += struct.pack("<BQ", len(encoded), data.size) + encoded
        out += b"\x00" * (-len(out) % _ALIGN)
        out += data.to_pybytes()
    return bytes(out)


def batch_from_ipc(data: bytes) -> LiftedBatch:
    """The inverse of ``batch_to_ipc``."""
    # One copy into 64-byte aligned memory; the tables then reference it in place.
    buf = pa.allocate_buffer(len(data))
    memoryview(buf).cast("B")[:] = memoryview(data).cast("B")
    has_logs = data[0] == 1
    pos = 1
    tables = {}
    while pos < len(data):
        name_len, size = struct.unpack_from("<BQ", data, pos)
        pos += 9
        name = data[pos:pos + name_len].decode()
        pos += name_len + (-(pos + name_len) % _ALIGN)
        tables[name] = pa.ipc.open_stream(buf.slice(pos, size)).read_all()
        pos += size
    return LiftedBatch(tables, has_logs)
