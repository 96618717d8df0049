"""The ingest pipeline: bounded queue -> group commit -> acknowledgement.

Requests are decoded and normalised by the caller's thread, then queued for the single
writer thread, which merges whatever is waiting into one transaction (group commit).
A request's future resolves only after the transaction that holds its spans committed,
so an acknowledgement always means "durable". When more spans wait than the queue
allows, ``submit`` raises ``Overloaded`` and the server answers 429 / RESOURCE_EXHAUSTED.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Protocol

from .._exceptions import Overloaded, StoreError
from ._draft import SpanDraft
from ._raw import RawLog

__all__ = ["IngestPipeline", "Writable"]

log = logging.getLogger("tracevault.ingest")


class Writable(Protocol):
    """What the pipeline needs from a store."""

    def write(self, drafts: Sequence[SpanDraft],
              logs: Sequence[tuple[str, RawLog]] = ()) -> Any:
        """Commit spans and logs durably."""
        ...


@dataclass
class _Item:
    drafts: list[SpanDraft]
    logs: list[tuple[str, RawLog]]
    future: Future[Any] = field(default_factory=Future)

    @property
    def size(self) -> int:
        return len(self.drafts) + len(self.logs)


class IngestPipeline:
    """Group-commit writer in front of a store."""

    def __init__(self, store: Writable, *, batch_max_spans: int = 4096,
                 batch_max_wait_ms: float = 10.0, queue_max_spans: int = 50_000) -> None:
        self.store = store
        self.batch_max_spans = batch_max_spans
        self.batch_max_wait = batch_max_wait_ms / 1000
        self.queue_max_spans = queue_max_spans
        self._queue: queue.Queue[_Item | None] = queue.Queue()
        self._queued = 0
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.commits = 0
        self.committed_spans = 0

    @property
    def queued_spans(self) -> int:
        """Spans waiting for commit."""
        return self._queued

    def start(self) -> None:
        """Start the writer thread."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="tracevault-writer",
                                            daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Commit what is queued, then stop the writer thread."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None

    def submit(self, drafts: list[SpanDraft],
               logs: list[tuple[str, RawLog]] | None = None) -> Future[Any]:
        """Queue spans and logs; the future resolves once they are durable."""
        item = _Item(drafts, logs or [])
        if item.size == 0:
            item.future.set_result(None)
            return item.future
        with self._lock:
            if self._queued > 0 and self._queued + item.size > self.queue_max_spans:
                # Estimate: the queue drains at the rate of recent commits.
                raise Overloaded(
                    f"ingest queue is full ({self._queued} spans waiting); retry later",
                    retry_after=1.0,
                )
            self._queued += item.size
        if self._thread is None:
            self.start()
        self._queue.put(item)
        return item.future

    def _take(self) -> tuple[list[_Item], bool]:
        first = self._queue.get()
        if first is None:
            return [], True
        items = [first]
        total = first.size
        deadline = time.monotonic() + self.batch_max_wait
        stop = False
        while total < self.batch_max_spans:
            timeout = deadline - time.monotonic()
            try:
                item = self._queue.get(timeout=timeout) if timeout > 0 else \
                    self._queue.get_nowait()
            except queue.Empty:
                break
            if item is None:
                stop = True
                break
            items.append(item)
            total += item.size
        return items, stop

    def _run(self) -> None:
        while True:
            items, stop = self._take()
            if items:
                self._commit(items)
            if stop:
                # Drain what arrived before the stop request.
                rest = []
                while True:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if item is not None:
                        rest.append(item)
                if rest:
                    self._commit(rest)
                return

    def _commit(self, items: list[_Item]) -> None:
        try:
            self._write(items)
        except Exception as exc:  # a poison request must not fail its neighbours
            if len(items) > 1:
                for item in items:
                    try:
                        self._write([item])
                    except Exception as inner:
                        self._fail([item], inner)
            else:
                self._fail(items, exc)

    def _write(self, items: list[_Item]) -> None:
        drafts = [d for item in items for d in item.drafts]
        logs = [lg for item in items for lg in item.logs]
        result = self.store.write(drafts, logs)
        self.commits += 1
        self.committed_spans += len(drafts)
        self._release(items)
        for item in items:
            item.future.set_result(result)

    def _fail(self, items: list[_Item], exc: Exception) -> None:
        log.error("commit failed: %s", exc)
        self._release(items)
        err = exc if isinstance(exc, StoreError) else StoreError(f"commit failed: {exc}")
        for item in items:
            if not item.future.done():
                item.future.set_exception(err)

    def _release(self, items: list[_Item]) -> None:
        with self._lock:
            self._queued -= sum(item.size for item in items)
