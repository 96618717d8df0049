"""Querying traces: structured filters and the Python API."""

from ._api import ImportReport, Trace, Vault, open
from ._filters import SpanQuery, TraceQuery, parse_time

__all__ = ["ImportReport", "SpanQuery", "Trace", "TraceQuery", "Vault", "open", "parse_time"]
