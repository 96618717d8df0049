"""Causal ids across threads, asyncio tasks, processes and agent-to-agent messages.

OpenTelemetry keeps the current span in a ``contextvars`` context: asyncio tasks inherit
it by themselves. Threads and processes do not, and messages between agents cross
processes and hosts; these helpers carry the W3C ``traceparent`` across.

Child or link: a receiver that works *on behalf of* the sender's span, while it waits
(a request/response call, a sub-agent invoked for this step) continues the sender's
trace as a child (``continue_trace(carrier)``). A receiver that picks work up on its own
schedule (a queue consumer, a long-lived agent that serves many senders, anything that
outlives the sender's span) starts its own trace with a link to the sender
(``continue_trace(carrier, link=True)``); tracevault joins linked traces into one
causal graph.
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable, Iterator, MutableMapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.propagate import extract as _extract
from opentelemetry.propagate import inject as _inject
from opentelemetry.trace import Link, Span

from ._config import get_tracer

__all__ = ["ContextThreadPoolExecutor", "continue_trace", "extract", "inject",
           "run_with_carrier", "wrap"]

T = TypeVar("T")


def inject(carrier: MutableMapping[str, Any] | None = None) -> dict[str, Any]:
    """Write the current span's ``traceparent`` (and ``tracestate``) into ``carrier``.

    Works for message dicts and HTTP header dicts alike; returns the carrier.
    """
    out: dict[str, Any] = carrier if carrier is not None else {}  # type: ignore[assignment]
    _inject(out)
    return out


def extract(carrier: MutableMapping[str, Any]) -> otel_context.Context:
    """The context a carrier describes."""
    return _extract(carrier)


@contextmanager
def continue_trace(carrier: MutableMapping[str, Any], *, link: bool = False,
                   name: str = "receive") -> Iterator[Span | None]:
    """Continue the sender's trace here (as a child), or start one linked to it.

    As a child, no span is created: spans started inside become children of the
    sender's span. With ``link=True`` a new root span ``name`` is started, linked to it.
    """
    ctx = extract(carrier)
    if not link:
        token = otel_context.attach(ctx)
        try:
            yield None
        finally:
            otel_context.detach(token)
        return
    remote = trace.get_current_span(ctx).get_span_context()
    links = [Link(remote, {"tracevault.link.type": "message"})] if remote.is_valid else []
    with get_tracer().start_as_current_span(name, context=otel_context.Context(),
                                            links=links) as span:
        yield span


def wrap(fn: Callable[..., T]) -> Callable[..., T]:
    """Bind ``fn`` to the current context, for running it in another thread."""
    ctx = contextvars.copy_context()

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> T:
        return ctx.run(fn, *args, **kwargs)

    return run


class ContextThreadPoolExecutor(ThreadPoolExecutor):
    """A thread pool whose tasks run in the submitting thread's trace context."""

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        return super().submit(wrap(fn), *args, **kwargs)


def run_with_carrier(carrier: dict[str, Any], fn: Callable[..., T], *args: Any,
                     **kwargs: Any) -> T:
    """Run ``fn`` in the trace described by ``carrier``: the target for process pools.

    ``pool.submit(run_with_carrier, inject(), fn, *args)`` makes ``fn``'s spans in the
    worker process children of the current span (configure the SDK in the worker, for
    example with ``ProcessPoolExecutor(initializer=tracevault.sdk.configure)``).
    """
    with continue_trace(carrier):
        try:
            return fn(*args, **kwargs)
        finally:
            from ._config import flush

            flush()
