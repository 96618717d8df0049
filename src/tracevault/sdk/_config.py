"""``configure()``: one call to send SDK spans to a tracevault server or a local store."""

from __future__ import annotations

import os
import threading
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
)

from .._version import __version__
from ..config import default_store_path

__all__ = ["configure", "flush", "get_tracer", "shutdown"]

_lock = threading.Lock()
_provider: TracerProvider | None = None


def configure(endpoint: str | None = None, *, store: str | None = None,
              service_name: str | None = None, project: str | None = None,
              api_key: str | None = None, harness: str = "tracevault.sdk",
              harness_version: str = __version__, shared_store: bool = False,
              batch: bool = True, set_global: bool = True,
              resource_attributes: dict[str, Any] | None = None,
              exporter: SpanExporter | None = None) -> TracerProvider:
    """Set up tracing for this process and return its ``TracerProvider``.

    Spans go to ``endpoint`` (a tracevault server URL, OTLP/HTTP) when given or when
    ``TRACEVAULT_ENDPOINT`` is set; otherwise straight into the local ``store`` file
    (``TRACEVAULT_STORE`` or the default store) with no server running. ``shared_store``
    lets several processes write the same local store (each export opens it briefly).
    ``batch=False`` exports every span when it ends (handy in scripts and tests).
    When the store file is held by a running ``tracevault serve``, spans go to it.
    """
    global _provider
    endpoint = endpoint or os.environ.get("TRACEVAULT_ENDPOINT")
    attrs: dict[str, Any] = {
        "service.name": service_name or os.environ.get("OTEL_SERVICE_NAME")
        or os.environ.get("TRACEVAULT_SERVICE_NAME") or "tracevault-agent",
        "tracevault.harness.name": harness,
        "tracevault.harness.version": harness_version,
    }
    project = project or os.environ.get("TRACEVAULT_PROJECT")
    if project:
        attrs["tracevault.project"] = project
    attrs.update(resource_attributes or {})
    if exporter is None:
        api_key = api_key or os.environ.get("TRACEVAULT_API_KEY")
        if endpoint:
            exporter = _otlp_exporter(endpoint, api_key)
        else:
            from ._exporter import StoreSpanExporter

            exporter = StoreSpanExporter(
                store or os.environ.get("TRACEVAULT_STORE") or default_store_path(),
                shared=shared_store, api_key=api_key)
    processor: SpanProcessor = BatchSpanProcessor(exporter) if batch \
        else SimpleSpanProcessor(exporter)
    provider = TracerProvider(resource=Resource.create(attrs))
    provider.add_span_processor(processor)
    with _lock:
        old, _provider = _provider, provider
    if old is not None:
        old.shutdown()
    if set_global and isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        trace.set_tracer_provider(provider)
    return provider


def _otlp_exporter(endpoint: str, api_key: str | None) -> SpanExporter:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    url = endpoint.rstrip("/")
    if not url.endswith("/v1/traces"):
        url += "/v1/traces"
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else None
    return OTLPSpanExporter(endpoint=url, headers=headers)


def get_tracer(name: str = "tracevault.sdk") -> trace.Tracer:
    """A tracer from the configured provider (or the global one)."""
    provider = _provider or trace.get_tracer_provider()
    return provider.get_tracer(name, __version__)


def flush(timeout_ms: int = 30_000) -> bool:
    """Export every finished span now."""
    return _provider.force_flush(timeout_ms) if _provider is not None else True


def shutdown() -> None:
    """Flush and stop the configured provider."""
    global _provider
    with _lock:
        old, _provider = _provider, None
    if old is not None:
        old.shutdown()
