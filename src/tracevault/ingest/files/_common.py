"""Helpers shared by the importers of other tools' run records.

Those records are not spans: the importers build spans from them. Ids are derived by
hashing stable fields of the record, so importing the same file twice yields the same
trace and span ids (and the store keeps one copy). Formats without timestamps get a
synthetic clock: a run starts at ``SYNTHETIC_EPOCH_NS`` plus one hour per run before it
in the same file, and its items are laid out one second apart.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

import orjson

from .._raw import RawEvent, RawSpan

__all__ = ["MILLI_NS", "SECOND_NS", "SYNTHETIC_EPOCH_NS", "SpanSet", "content_hash", "dumps",
           "file_label", "hex_id", "run_base_ns", "value"]

SYNTHETIC_EPOCH_NS = 1_704_067_200 * 1_000_000_000
"""2024-01-01T00:00:00Z: where synthetic clocks start."""
SECOND_NS = 1_000_000_000
MILLI_NS = 1_000_000
_RUN_SPACING_NS = 3600 * SECOND_NS


def hex_id(nbytes: int, *parts: Any) -> str:
    """A stable hex id of ``nbytes`` bytes from the SHA-256 of ``parts``."""
    text = "\x1f".join(str(p) for p in parts)
    digest = hashlib.sha256(text.encode()).hexdigest()[: 2 * nbytes]
    return digest if digest.strip("0") else "1".rjust(2 * nbytes, "0")


def content_hash(value: Any) -> str:
    """SHA-256 of a JSON value's canonical text (sorted keys)."""
    return hashlib.sha256(orjson.dumps(value, option=orjson.OPT_SORT_KEYS,
                                       default=str)).hexdigest()


def dumps(value: Any) -> str:
    """A JSON text attribute value."""
    return orjson.dumps(value, default=str).decode()


def value(v: Any) -> Any:
    """An attribute value: strings, numbers and booleans as they are, the rest as JSON."""
    if v is None or isinstance(v, (str, bool, int, float)):
        return v
    return dumps(v)


def run_base_ns(position: int) -> int:
    """Start of the synthetic clock of the run at ``position`` in its file."""
    return SYNTHETIC_EPOCH_NS + position * _RUN_SPACING_NS


def file_label(name: str | None) -> str | None:
    """The base name of a source file, or None when ``name`` is not a file name."""
    if not name:
        return None
    path = PurePath(name)
    return path.name if path.suffix else None


@dataclass
class SpanSet:
    """The spans of one trace being built."""

    trace_id: str
    resource: dict[str, Any]
    scope_name: str
    scope_version: str | None = None
    spans: list[RawSpan] = field(default_factory=list)

    def span_id(self, *key: Any) -> str:
        """The span id for a local key, stable within the trace."""
        return hex_id(8, self.trace_id, *key)

    def add(self, key: tuple[Any, ...], name: str, parent: str | None, start_ns: int,
            end_ns: int, attributes: dict[str, Any], *, status: str = "unset",
            message: str | None = None, events: list[RawEvent] | None = None,
            otel_kind: str = "internal") -> str:
        """Append a span (attributes whose value is None are left out); return its id."""
        span_id = self.span_id(*key)
        self.spans.append(RawSpan(
            trace_id=self.trace_id, span_id=span_id, parent_span_id=parent, name=name,
            otel_kind=otel_kind, start_ns=start_ns, end_ns=max(end_ns, start_ns),
            status_code=status, status_message=message,
            attributes={k: v for k, v in attributes.items() if v is not None},
            resource=dict(self.resource), scope_name=self.scope_name,
            scope_version=self.scope_version, events=list(events or []),
        ))
        return span_id
