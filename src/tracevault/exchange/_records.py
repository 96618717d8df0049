"""Reading traces out of a store: which traces, and each span as the producer sent it."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import orjson

from .._exceptions import InputError, TraceVaultError
from ..ingest._raw import RawEvent, RawLink, RawLog, RawSpan, check_ids
from ..store._assemble import deref

__all__ = ["TraceRecords", "iter_traces", "log_from_dict", "log_to_dict", "read_trace",
           "select_traces", "span_from_dict", "span_to_dict"]

_PAGE = 500


@dataclass
class TraceRecords:
    """One trace as read from a store.

    ``trace`` is the canonical form (``get_trace``: summary and schema v1 spans); ``spans``
    and ``logs`` are the records as the producer sent them, ready for ingest again.
    ``spans`` are in the order they were committed and ``commits`` numbers, per span, the
    commit (0, 1, ...) among this trace's commits that stored it: ingesting them again
    in the same groups reproduces the trace summary's sums bit for bit.
    """

    project: str
    trace_id: str
    trace: dict[str, Any]
    spans: list[RawSpan]
    logs: list[RawLog]
    commits: list[int]


def select_traces(vault: Any, *, filter: str | None = None,  # noqa: A002
                  trace_ids: Sequence[str] | None = None, start: str | int | None = None,
                  end: str | int | None = None,
                  project: str | None = None) -> list[tuple[str, str]]:
    """``(project, trace_id)`` of the traces to export, oldest first.

    Without ``trace_ids``, every trace matching the filter language expression and the
    start / end / project bounds; with them, those traces (that also match, when a
    filter or bound is given).
    """
    found: dict[tuple[str, str], int] = {}
    bounded = any(v not in (None, "") for v in (filter, start, end))
    if trace_ids is None or bounded:
        offset = 0
        while True:
            page = vault.traces(filter=filter or None, start=start, end=end, project=project,
                                limit=_PAGE, offset=offset)
            for t in page:
                found[(t.project, t.trace_id)] = t.start_time_ns
            if len(page) < _PAGE:
                break
            offset += _PAGE
    if trace_ids is not None:
        wanted: dict[tuple[str, str], int] = {}
        for tid in trace_ids:
            summary = vault.store.trace_outline(project, tid.strip().lower())["summary"]
            key = (summary["project"], summary["trace_id"])
            if not bounded or key in found:
                wanted[key] = summary["start_time_ns"]
        found = wanted
    return [k for k, _ in sorted(found.items(), key=lambda kv: (kv[1], kv[0]))]


def read_trace(store: Any, project: str | None, trace_id: str) -> TraceRecords:
    """A trace with its canonical spans and the spans and log records as sent.

    Reads a local store directly, a remote one over its REST API (span order, flags,
    trace state and log records through read-only SQL when the server allows it).
    """
    if hasattr(store, "assembler_for") and hasattr(store, "cursor"):
        row = store.trace_summary(project, trace_id)
        summary, asm = store.assembler_for(row)
        spans = asm.spans()
        src: _Source = _Local(store, asm, store.commit_filter(row))
    else:
        trace = store.get_trace(project, trace_id)
        summary, spans = trace["summary"], trace["spans"]
        src = _Remote(store, summary["project"], trace_id)
    project = summary["project"]
    by_id = {s["span_id"]: s for s in spans}
    order = src.rows("SELECT span_id, seq, flags, trace_state FROM spans WHERE {where} "
                     "ORDER BY seq, rowid", project, trace_id)
    if order is None or {r["span_id"] for r in order} != set(by_id):
        order = [{"span_id": s["span_id"], "seq": 0, "flags": 0, "trace_state": None}
                 for s in spans]
    commit_of = {seq: i for i, seq in enumerate(sorted({r["seq"] for r in order}))}
    raw = [_raw_span(by_id[r["span_id"]], src.original(r["span_id"]), r["flags"] or 0,
                     r["trace_state"] or "") for r in order]
    commits = [commit_of[r["seq"]] for r in order]
    events = src.rows("SELECT span_id, time_ns, name, severity, attributes, body, resource_ref "
                      "FROM events WHERE {where} AND source = 'log' ORDER BY seq, rowid",
                      project, trace_id)
    if events is None:
        logs = [RawLog(trace_id, s["span_id"], e["time_ns"] or 0, e["name"], None, e["body"],
                       e["attributes"] or {}, s["resource"]["attributes"], project=project)
                for s in spans for e in s["events"] if e["source"] == "log"]
    else:
        logs = [RawLog(trace_id, e["span_id"], e["time_ns"] or 0, e["name"], e["severity"],
                       src.deref(orjson.loads(e["body"])) if e["body"] else None,
                       src.deref(orjson.loads(e["attributes"])) if e["attributes"] else {},
                       src.blob(e["resource_ref"]) or {}, project=project) for e in events]
    return TraceRecords(project, trace_id, {"summary": summary, "spans": spans}, raw, logs,
                        commits)


class _Source(ABC):
    """Where the stored rows of one trace come from."""

    @abstractmethod
    def rows(self, sql: str, project: str, trace_id: str) -> list[dict[str, Any]] | None:
        """Rows of ``sql`` (with ``{where}`` selecting the trace), or None if refused."""

    @abstractmethod
    def original(self, span_id: str) -> dict[str, Any]:
        """A span's attributes exactly as sent."""

    @abstractmethod
    def blob(self, h: bytes | None) -> Any:
        """A stored content value by hash."""

    def deref(self, value: Any) -> Any:
        """Replace ``{"$ref": hash}`` placeholders by the stored values."""
        return deref(value, self.blob)


class _Local(_Source):
    def __init__(self, store: Any, asm: Any, commits: tuple[str, list[Any]]) -> None:
        self.store, self.asm, self.commits = store, asm, commits

    def rows(self, sql: str, project: str, trace_id: str) -> list[dict[str, Any]] | None:
        where = f"project = ? AND trace_id = ? AND {self.commits[0]}"
        cur = self.store.cursor().execute(sql.format(where=where),
                                          [project, trace_id, *self.commits[1]])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def original(self, span_id: str) -> dict[str, Any]:
        return dict(self.asm.original_attributes(span_id))

    def blob(self, h: bytes | None) -> Any:
        return self.asm.blob(h)


class _Remote(_Source):
    def __init__(self, store: Any, project: str, trace_id: str) -> None:
        self.store, self.project, self.trace_id = store, project, trace_id

    def rows(self, sql: str, project: str, trace_id: str) -> list[dict[str, Any]] | None:
        where = f"project = {_quote(project)} AND trace_id = {_quote(trace_id)}"
        try:
            return list(self.store.sql(sql.format(where=where)).to_pylist())
        except TraceVaultError:  # SQL is refused by servers with API keys
            return None

    def original(self, span_id: str) -> dict[str, Any]:
        span = self.store.get_span(self.project, self.trace_id, span_id, original=True)
        return dict(span["attributes"])

    def blob(self, h: bytes | None) -> Any:
        if h is None:
            return None
        text = self.store.load_blobs([bytes(h)]).get(bytes(h))
        return orjson.loads(text) if text is not None else None


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _raw_span(span: dict[str, Any], attributes: dict[str, Any], flags: int,
              trace_state: str) -> RawSpan:
    status = span["status"]
    return RawSpan(
        trace_id=span["trace_id"], span_id=span["span_id"],
        parent_span_id=span["parent_span_id"], name=span["name"],
        otel_kind=span["otel_kind"], start_ns=span["start_time_ns"],
        end_ns=span["end_time_ns"], status_code=status["code"],
        status_message=status["message"], attributes=attributes,
        resource=span["resource"]["attributes"], scope_name=span["scope"]["name"],
        scope_version=span["scope"]["version"],
        events=[RawEvent(e["time_ns"] or 0, e["name"], e["attributes"] or {})
                for e in span["events"] if e["source"] == "span"],
        links=[RawLink(ln["trace_id"], ln["span_id"], ln.get("attributes") or {},
                       ln.get("trace_state") or "") for ln in span["links"]],
        flags=flags, trace_state=trace_state, project=span["project"])


def iter_traces(store: Any, traces: Sequence[tuple[str, str]]) -> Iterator[TraceRecords]:
    """``read_trace`` for each ``(project, trace_id)``."""
    for project, trace_id in traces:
        yield read_trace(store, project, trace_id)


# -- plain dict forms (the bundle's span and log records) --------------------------------
_SPAN_FIELDS = frozenset(RawSpan.__dataclass_fields__)
_LOG_FIELDS = frozenset(RawLog.__dataclass_fields__)


def span_to_dict(span: RawSpan) -> dict[str, Any]:
    """A raw span as a JSON-able dict (field names of ``RawSpan``)."""
    return asdict(span)


def log_to_dict(log: RawLog) -> dict[str, Any]:
    """A raw log record as a JSON-able dict (field names of ``RawLog``)."""
    return asdict(log)


def _check(d: Any, fields: frozenset[str], what: str) -> dict[str, Any]:
    if not isinstance(d, dict):
        raise InputError(f"{what} is not an object")
    unknown = set(d) - fields
    if unknown:
        raise InputError(f"{what} has unknown field(s) {', '.join(sorted(unknown))}")
    return d


def _typed(d: dict[str, Any], what: str, **types: Any) -> None:
    for key, kind in types.items():
        if not isinstance(d.get(key), kind) or isinstance(d.get(key), bool) and kind is int:
            raise InputError(f"{what}: field {key!r} has the wrong type")


def span_from_dict(d: Any, what: str = "span") -> RawSpan:
    """The inverse of ``span_to_dict``; ``InputError`` when the record is malformed."""
    d = dict(_check(d, _SPAN_FIELDS, what))
    _typed(d, what, trace_id=str, span_id=str, name=str, otel_kind=str, start_ns=int,
           end_ns=int, status_code=str, attributes=dict, resource=dict, events=list,
           links=list, flags=int, trace_state=str, project=str)
    problem = check_ids(d["trace_id"], d["span_id"], d.get("parent_span_id"))
    if problem:
        raise InputError(f"{what}: {problem}")
    try:
        d["events"] = [RawEvent(**e) for e in d["events"]]
        d["links"] = [RawLink(**ln) for ln in d["links"]]
    except TypeError as exc:
        raise InputError(f"{what}: {exc}") from None
    for e in d["events"]:
        if not isinstance(e.attributes, dict) or not isinstance(e.time_ns, int):
            raise InputError(f"{what}: malformed event {e.name!r}")
    for ln in d["links"]:
        if not isinstance(ln.attributes, dict) or not isinstance(ln.trace_id, str):
            raise InputError(f"{what}: malformed link")
    try:
        return RawSpan(**d)
    except TypeError as exc:
        raise InputError(f"{what}: {exc}") from None


def log_from_dict(d: Any, what: str = "log record") -> RawLog:
    """The inverse of ``log_to_dict``; ``InputError`` when the record is malformed."""
    d = _check(d, _LOG_FIELDS, what)
    _typed(d, what, trace_id=str, span_id=str, time_ns=int, attributes=dict, resource=dict,
           project=str)
    try:
        return RawLog(**d)
    except TypeError as exc:
        raise InputError(f"{what}: {exc}") from None
