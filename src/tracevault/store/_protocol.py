"""The contract every store backend fulfils."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol, runtime_checkable

import pyarrow as pa

from ..ingest._draft import SpanDraft
from ..ingest._raw import RawLog
from ..query._filters import SpanQuery, TraceQuery

__all__ = ["TraceStore"]


@runtime_checkable
class TraceStore(Protocol):
    """A durable, append-only trace store. ``tests/store/test_contract.py`` defines it."""

    url: str

    def write(self, drafts: Sequence[SpanDraft],
              logs: Sequence[tuple[str, RawLog]] = ()) -> Any:
        """Commit spans (deduplicated by project, trace and span id) and log records."""
        ...

    def list_traces(self, query: TraceQuery) -> list[dict[str, Any]]:
        """Trace summaries matching ``query``, newest first."""
        ...

    def count_traces(self, query: TraceQuery) -> int:
        """Number of traces matching ``query``."""
        ...

    def get_trace(self, project: str | None, trace_id: str) -> dict[str, Any]:
        """``{"summary": ..., "spans": [...]}`` with full content; NotFound if absent."""
        ...

    def get_span(self, project: str | None, trace_id: str, span_id: str,
                 original: bool = False) -> dict[str, Any]:
        """One span with full content; ``original`` restores the exact attributes."""
        ...

    def spans_table(self, query: SpanQuery) -> pa.Table:
        """Matching span rows as an Arrow table."""
        ...

    def load_blobs(self, hashes: Iterable[bytes]) -> dict[bytes, str]:
        """Blob JSON texts by hash."""
        ...

    def sql(self, statement: str, limit: int | None = None) -> pa.Table:
        """Rows of one read-only SELECT; QueryError when refused or failing."""
        ...

    def trace_group(self, project: str | None, group_id: str,
                    max_traces: int = 200) -> list[str]:
        """Trace ids joined with ``group_id`` (trace id or ``session:<id>``)."""
        ...

    def stats(self) -> dict[str, Any]:
        """Row counts and size."""
        ...

    def close(self) -> None:
        """Release the store."""
        ...
