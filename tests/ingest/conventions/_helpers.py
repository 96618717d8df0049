"""Turn plain attribute dicts into stored, reassembled spans (the full ingest path)."""

from __future__ import annotations

import itertools
from typing import Any

from tracevault.ingest import RawSpan, prepare_spans
from tracevault.schema import Span
from tracevault.store import DuckDBStore

_ids = itertools.count(1)


def roundtrip(attrs: dict[str, Any], name: str = "span", **fields: Any) -> Span:
    """Store one span with ``attrs`` and read it back as a schema v1 ``Span``."""
    store = DuckDBStore(":memory:")
    n = next(_ids)
    raw = RawSpan(trace_id=f"{n:032x}", span_id=f"{n:016x}", parent_span_id=None, name=name,
                  otel_kind="internal", start_ns=1, end_ns=2, status_code="unset",
                  status_message=None, attributes=dict(attrs), resource={}, **fields)
    drafts, rejected = prepare_spans([raw])
    assert not rejected
    store.write(drafts)
    span = Span.model_validate(store.get_span(None, raw.trace_id, raw.span_id,
                                              original=True))
    store.close()
    return span
