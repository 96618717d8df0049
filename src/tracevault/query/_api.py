"""The Python API: ``tracevault.open(...)`` returns a ``Vault``."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

from .._exceptions import ConfigError, NotFound
from ..analysis import (
    DEFAULT_FLAGS,
    Incident,
    MemoryState,
    TraceGroup,
    build_incident,
    memory_state,
)
from ..config import default_store_path
from ..ingest._prepare import prepare_logs, prepare_spans
from ..ingest.files import read_trace_bytes
from ..schema import Span, TraceSummary
from ..store import open_store
from ..store._remote import RemoteStore
from ._filters import SpanQuery, TraceQuery

__all__ = ["ImportReport", "Trace", "Vault", "open"]


class Trace:
    """A whole trace: its summary and its spans as a tree."""

    def __init__(self, summary: TraceSummary, spans: list[Span]) -> None:
        self.summary = summary
        self.spans = spans
        self._by_id = {s.span_id: s for s in spans}
        self._children: dict[str | None, list[Span]] = {}
        for s in spans:
            parent = s.parent_span_id if s.parent_span_id in self._by_id else None
            self._children.setdefault(parent, []).append(s)
        for children in self._children.values():
            children.sort(key=lambda s: (s.start_time_ns, s.span_id))

    @property
    def trace_id(self) -> str:
        """The trace id."""
        return self.summary.trace_id

    def span(self, span_id: str) -> Span:
        """A span of this trace by id."""
        try:
            return self._by_id[span_id]
        except KeyError:
            raise NotFound(f"span {span_id} not in trace {self.trace_id}") from None

    def roots(self) -> list[Span]:
        """Spans without a parent in this trace (normally one)."""
        return list(self._children.get(None, []))

    def children(self, span_id: str) -> list[Span]:
        """Direct children of a span, by start time."""
        return list(self._children.get(span_id, []))

    def walk(self) -> Iterator[tuple[int, Span]]:
        """Depth-first ``(depth, span)`` over the tree, children by start time."""
        stack = [(0, s) for s in reversed(self.roots())]
        while stack:
            depth, span = stack.pop()
            yield depth, span
            stack.extend((depth + 1, c) for c in reversed(self.children(span.span_id)))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able form (the REST API's shape)."""
        return {"summary": self.summary.model_dump(),
                "spans": [s.model_dump() for s in self.spans]}


class ImportReport(dict):  # type: ignore[type-arg]
    """What an import stored: ``format``, ``spans``, ``logs``, ``rejected``, ``message``."""


class Vault:
    """A store opened for reading (and writing, when local)."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def __enter__(self) -> Vault:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the store."""
        self.store.close()

    @property
    def is_remote(self) -> bool:
        """True when reading through a running server."""
        return isinstance(self.store, RemoteStore)

    def traces(self, *, project: str | None = None, service: str | None = None,
               agent: str | None = None, model: str | None = None, status: str | None = None,
               session: str | None = None, kind: str | None = None, tool: str | None = None,
               name: str | None = None, text: str | None = None,
               start: str | int | None = None, end: str | int | None = None,
               filter: str | None = None,  # noqa: A002
               limit: int = 50, offset: int = 0) -> list[TraceSummary]:
        """Trace summaries, newest first. Span filters match traces holding such a span.

        ``filter`` takes the filter language (docs/query.md), e.g.
        ``kind = tool and tool ~ "delete_*" and status = error and start > -7d``.
        """
        query = TraceQuery(project=project, service=service, agent=agent, model=model,
                           status=status, session=session, start=start, end=end,
                           spans=SpanQuery(kind=kind, tool=tool, name=name, text=text,
                                           limit=None),
                           filter=filter, limit=limit, offset=offset)
        return [TraceSummary.model_validate(t) for t in self.store.list_traces(query)]

    def trace(self, trace_id: str, project: str | None = None) -> Trace:
        """A whole trace with every span's full content."""
        data = self.store.get_trace(project, trace_id.lower())
        return Trace(TraceSummary.model_validate(data["summary"]),
                     [Span.model_validate(s) for s in data["spans"]])

    def group(self, group_id: str, project: str | None = None,
              max_traces: int = 200) -> TraceGroup:
        """The traces joined with ``group_id`` as one cross-agent view.

        ``group_id`` is a trace id or ``session:<id>``; traces join through span links,
        propagated context and shared session / conversation ids.
        """
        ids = self.store.trace_group(project, group_id, max_traces)
        traces = [self.trace(tid, project=project) for tid in ids]
        spans = sorted((s for t in traces for s in t.spans),
                       key=lambda s: (s.start_time_ns, s.span_id))
        return TraceGroup([t.summary for t in traces], spans)

    def incident(self, group_id: str, project: str | None = None, *, full: bool = False,
                 flags: Sequence[str] = DEFAULT_FLAGS, joined: bool = True) -> Incident:
        """The incident timeline of a trace, with its whole group unless ``joined=False``.

        ``full`` keeps every message of each model call's context unshortened; ``flags``
        are the tool-name patterns highlighted as destructive or external-effect.
        """
        if joined or group_id.startswith("session:"):
            spans = self.group(group_id, project=project).spans
        else:
            spans = self.trace(group_id, project=project).spans
        from ..analysis._policy_incident import attach_stored_policy

        return attach_stored_policy(build_incident(spans, full=full, flags=flags), self, project)

    def memory(self, group_id: str, at: str | int | None = None, project: str | None = None,
               store: str | None = None) -> MemoryState:
        """Memory stores as they were at ``at`` (``AGENT:STEP``, a span id or a time).

        Rebuilt from the writes and deletes recorded in the trace's group.
        """
        return memory_state(self.group(group_id, project=project).spans, at, store=store)

    def sql(self, statement: str, limit: int | None = None) -> pa.Table:
        """Run one read-only ``SELECT`` over the documented views (docs/query.md)."""
        return self.store.sql(statement, limit=limit)

    def replay(self, trace_id: str, model: Any, *, mode: str = "step",
               model_name: str | None = None, compare: Any = "normalized",
               match: Any = "normalized", agent: str | None = None,
               tools: dict[str, Any] | None = None, record: bool = True,
               project: str | None = None, max_steps: int = 50) -> Any:
        """Replay a trace against ``model`` (base URL, model name, callable, ``ReplayModel``).

        ``mode="step"`` sends each recorded model call's context to the model and
        compares decisions (``compare``: ``normalized``, ``exact``, ``tools`` or a
        callable); ``mode="trajectory"`` re-runs ``agent``'s loop, answering tool calls
        from the recording (``match``: ``normalized``, ``exact`` or a callable) or from
        ``tools`` (live functions for calls never recorded). With ``record``, the replay
        is stored as a new trace linked to the original (docs/replay.md).
        """
        from ..replay import ReplayLog, replay_steps, replay_trajectory, resolve_model

        if mode not in ("step", "trajectory"):
            raise ConfigError(f"unknown replay mode {mode!r} (step or trajectory)")
        trace = self.trace(trace_id, project=project)
        replay_model = resolve_model(model, model_name)
        log = ReplayLog(self.store if record else None, trace.summary.project)
        try:
            if mode == "step":
                return replay_steps(trace.spans, replay_model, log, trace.trace_id, compare)
            return replay_trajectory(trace.spans, replay_model, log, trace.trace_id,
                                     agent=agent, match=match, compare=compare, tools=tools,
                                     max_steps=max_steps)
        finally:
            log.close()

    def diff(self, a: str, b: str, project: str | None = None,
             compare: Any = "normalized") -> Any:
        """What differs between traces ``a`` and ``b`` (a ``TraceDiff``)."""
        from ..replay import diff_spans

        ta, tb = self.trace(a, project=project), self.trace(b, project=project)
        return diff_spans(ta.trace_id, ta.spans, tb.trace_id, tb.spans, compare)

    def cassette(self, trace_id: str, project: str | None = None, **options: Any) -> Any:
        """A ``Cassette`` serving this trace's model responses and tool results."""
        from ..replay import Cassette

        return Cassette.from_spans(self.trace(trace_id, project=project).spans, **options)

    def span(self, trace_id: str, span_id: str, project: str | None = None,
             original: bool = False) -> Span:
        """One span; ``original=True`` restores its attributes exactly as sent."""
        return Span.model_validate(self.store.get_span(project, trace_id.lower(),
                                                       span_id.lower(), original=original))

    def spans(self, **filters: Any) -> pa.Table:
        """Span rows matching ``SpanQuery`` fields, as an Arrow table."""
        filters.setdefault("limit", None)
        return self.store.spans_table(SpanQuery(**filters))

    def spans_df(self, **filters: Any) -> Any:
        """Span rows as a pandas DataFrame (needs pandas)."""
        return self.spans(**filters).to_pandas()

    def add_scores(self, scores: Iterable[Any]) -> int:
        """Store scores (``Score`` objects or their dicts) durably; returns how many were new.

        One ledger commit per call; a score whose ``score_id`` is stored already is skipped,
        so writing the same scores twice is safe.
        """
        rows = [s.to_dict() if hasattr(s, "to_dict") else dict(s) for s in scores]
        return int(self.store.write_scores(rows)) if rows else 0

    def scores(self, trace_id: str | Iterable[str] | None = None, *, name: str | None = None,
               run_id: str | None = None, project: str | None = None,
               source: str | None = None, limit: int = 10_000) -> list[Any]:
        """Stored scores (``tracevault.evals.Score``), oldest first."""
        from ..evals import Score

        ids = None if trace_id is None else [trace_id] if isinstance(trace_id, str) \
            else list(trace_id)
        rows = self.store.scores(project=project, trace_ids=ids, name=name, run_id=run_id,
                                 source=source, limit=limit)
        return [Score.from_dict(r) for r in rows]

    def import_file(self, path: str | Path, project: str | None = None) -> ImportReport:
        """Store the traces of a file (OTLP JSON/protobuf, SDK span JSON, Langfuse)."""
        data = Path(path).read_bytes()
        if isinstance(self.store, RemoteStore):
            return ImportReport(self.store.import_bytes(data, project=project))
        contents = read_trace_bytes(data, str(path))
        drafts, too_large = prepare_spans(contents.spans, forced_project=project)
        logs = prepare_logs(contents.logs, forced_project=project)
        if drafts or logs:
            self.store.write(drafts, logs)
        rejected = contents.rejected + too_large
        return ImportReport(format=contents.format, spans=len(drafts), logs=len(logs),
                            rejected=len(rejected),
                            message="; ".join(r.reason for r in rejected[:5]) or None)


def open(store: str | None = None, *, read_only: bool = False,  # noqa: A001
         api_key: str | None = None) -> Vault:
    """Open a store: a DuckDB path, ``duckdb:PATH``, ``:memory:``, a DuckLake or server URL.

    Without ``store``, ``TRACEVAULT_STORE`` or the default path is used. When a running
    ``tracevault serve`` holds the file, reads go through that server.
    """
    import os

    url = store or os.environ.get("TRACEVAULT_STORE") or default_store_path()
    return Vault(open_store(url, read_only=read_only, api_key=api_key))
