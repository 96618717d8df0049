"""Shared by adapters: turning a framework's start/end callbacks into OTel spans."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from ...ingest.conventions._messages import any_message
from .._config import get_tracer

__all__ = ["SpanTable", "genai_messages", "json_attr"]


def json_attr(value: Any) -> str:
    """A value as an attribute string (JSON unless it is a string already)."""
    return value if isinstance(value, str) else json.dumps(value, default=str)


def genai_messages(messages: Any) -> str:
    """Chat messages of any known form as a ``gen_ai.*.messages`` JSON string."""
    return json.dumps([any_message(m) for m in messages or []], default=str)


class SpanTable:
    """Open OTel spans keyed by the framework's run/span ids, parented by its parent ids."""

    def __init__(self, scope: str) -> None:
        self.tracer = get_tracer(scope)
        self._spans: dict[Any, Span] = {}
        self._lock = threading.Lock()

    def start(self, key: Any, parent: Any, name: str, attributes: dict[str, Any],
              kind: SpanKind = SpanKind.INTERNAL, start_ns: int | None = None) -> Span:
        with self._lock:
            parent_span = self._spans.get(parent)
        ctx = trace.set_span_in_context(parent_span) if parent_span is not None else None
        span = self.tracer.start_span(name, context=ctx, kind=kind, attributes=attributes,
                                      start_time=start_ns or time.time_ns())
        with self._lock:
            self._spans[key] = span
        return span

    def get(self, key: Any) -> Span | None:
        with self._lock:
            return self._spans.get(key)

    def end(self, key: Any, attributes: dict[str, Any] | None = None,
            error: BaseException | str | None = None, end_ns: int | None = None) -> None:
        with self._lock:
            span = self._spans.pop(key, None)
        if span is None:
            return
        if attributes:
            span.set_attributes({k: v for k, v in attributes.items() if v is not None})
        if error is not None:
            message = str(error) or type(error).__name__
            if isinstance(error, BaseException):
                span.record_exception(error)
                span.set_attribute("error.type", type(error).__name__)
            span.set_status(Status(StatusCode.ERROR, message))
        span.end(end_time=end_ns or time.time_ns())
