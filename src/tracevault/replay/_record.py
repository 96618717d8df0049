"""Recording a replay as a new trace in the store it came from, linked to the original."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter
from opentelemetry.trace import Link, SpanContext, TraceFlags, Tracer

from .._exceptions import ConfigError
from .._version import __version__

__all__ = ["REPLAY_LINK", "ReplayLog"]

REPLAY_LINK = {"tracevault.link.type": "replay_of"}
"""Attributes of the link from a replay's root span to the original trace's root span.
Trace groups do not follow these links: a replay is another run, not part of the group."""


def _exporter(store: Any) -> SpanExporter:
    from ..sdk._config import _otlp_exporter
    from ..sdk._exporter import StoreSpanExporter
    from ..store._remote import RemoteStore

    if isinstance(store, RemoteStore):
        return _otlp_exporter(store.url, store.api_key)
    if getattr(store, "read_only", False):
        raise ConfigError("the store is open read-only: open it writable to record the "
                          "replay (or do not record it)")
    return StoreSpanExporter.for_store(store)


class ReplayLog:
    """Where a replay's spans go: the original's store and project, service ``replay``."""

    def __init__(self, store: Any | None, project: str,
                 service: str = "tracevault-replay") -> None:
        """``store=None`` records nothing (the replay still runs and reports)."""
        self.provider = TracerProvider(resource=Resource.create({
            "service.name": service, "tracevault.project": project,
            "tracevault.harness.name": "tracevault.replay",
            "tracevault.harness.version": __version__}))
        if store is not None:
            self.provider.add_span_processor(SimpleSpanProcessor(_exporter(store)))
        self.recording = store is not None
        self.tracer: Tracer = self.provider.get_tracer("tracevault.replay", __version__)
        self.trace_id: str | None = None

    @contextmanager
    def root(self, original_trace: str, original_span: str, mode: str,
             model: str) -> Iterator[Any]:
        """The replay's root span, linked to the original root span."""
        ctx = SpanContext(int(original_trace, 16), int(original_span, 16), is_remote=True,
                          trace_flags=TraceFlags(TraceFlags.SAMPLED))
        attrs = {"tracevault.span.kind": "agent", "gen_ai.operation.name": "invoke_agent",
                 "gen_ai.agent.name": "replay", "tracevault.replay.of_trace": original_trace,
                 "tracevault.replay.mode": mode, "tracevault.replay.model": model}
        with self.tracer.start_as_current_span(
                f"replay {mode} {original_trace[:8]}", attributes=attrs,
                links=[Link(ctx, REPLAY_LINK)]) as span:
            if self.recording:
                self.trace_id = f"{span.get_span_context().trace_id:032x}"
            yield span

    def close(self) -> None:
        """Flush every span into the store."""
        self.provider.force_flush()
        self.provider.shutdown()
