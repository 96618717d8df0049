"""An OpenTelemetry span exporter that writes into a tracevault store file directly."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from typing import Any

from opentelemetry.exporter.otlp.proto.common._internal.trace_encoder import encode_spans
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from .._exceptions import StoreBusy, TraceVaultError
from ..ingest._prepare import prepare_spans
from ..ingest.otlp import decode_traces_request

__all__ = ["StoreSpanExporter"]

log = logging.getLogger("tracevault.sdk")


class StoreSpanExporter(SpanExporter):
    """Export spans into a local store: the same path as a server's ingest, no server.

    With ``shared=True`` the store is opened for each export and closed after, so several
    processes can write one file (an export waits while another holds it). When the file
    is held by a running ``tracevault serve``, spans are sent to that server instead.
    """

    def __init__(self, path: str, *, shared: bool = False, api_key: str | None = None,
                 busy_timeout: float = 60.0) -> None:
        self.path = str(path)
        self.shared = shared
        self.api_key = api_key
        self.busy_timeout = busy_timeout
        self._store: Any = None
        self._owned = True
        self._remote: SpanExporter | None = None
        self._lock = threading.Lock()  # span processors may export from several threads

    @classmethod
    def for_store(cls, store: Any) -> StoreSpanExporter:
        """Export into an open ``DuckDBStore`` (left open on shutdown)."""
        exporter = cls(str(store.path))
        exporter._store = store
        exporter._owned = False
        return exporter

    def _open(self) -> Any:
        from ..store import DuckDBStore

        deadline = time.monotonic() + self.busy_timeout
        while True:
            try:
                return DuckDBStore(self.path)
            except StoreBusy:
                from ..store._remote import read_announcement

                server = read_announcement(self.path)
                if server is not None:
                    return server
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Write the spans durably; FAILURE (logged) when that is impossible."""
        if not spans:
            return SpanExportResult.SUCCESS
        with self._lock:
            return self._export(spans)

    def _export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        try:
            request = encode_spans(spans)
            if self._remote is not None:
                return self._remote.export(spans)
            store = self._store or self._open()
            if isinstance(store, str):  # a server holds the file: export to it
                from ._config import _otlp_exporter

                self._remote = _otlp_exporter(store, self.api_key)
                return self._remote.export(spans)
            raw, _ = decode_traces_request(request)
            drafts, rejected = prepare_spans(raw)
            for r in rejected:
                log.warning("span %s/%s not stored: %s", r.trace_id, r.span_id, r.reason)
            store.write(drafts)
            if self.shared:
                store.close()
            else:
                self._store = store
            return SpanExportResult.SUCCESS
        except TraceVaultError as exc:
            log.error("tracevault export failed: %s", exc)
            return SpanExportResult.FAILURE

    def shutdown(self) -> None:
        """Close the store."""
        with self._lock:
            self._close()

    def _close(self) -> None:
        if self._store is not None and self._owned:
            self._store.close()
        self._store = None
        if self._remote is not None:
            self._remote.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Nothing is buffered here."""
        return True
