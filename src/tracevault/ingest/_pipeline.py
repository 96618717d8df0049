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
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from .._exceptions import Overloaded, StoreError
from ._draft import SpanDraft
from ._raw import RawLog

T = TypeVar("T")

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
    batch: Any = None
    """Rows lifted by an ingest worker (worker mode)."""
    job: Any = None
    """The worker job that made ``batch``, to redo it after a reset."""
    epoch: int = 0
    rows: int = 0

    @property
    def size(self) -> int:
        return self.rows if self.batch is not None else len(self.drafts) + len(self.logs)


class IngestPipeline:
    """Group-commit writer in front of a store.

    With a store that splits writing into ``prepare`` and ``commit`` (the DuckDB store),
    two threads overlap them: while batch N commits (DuckDB, no GIL), batch N+1 is lifted
    (Python). Any failure bumps an epoch; batches prepared in an older epoch are prepared
    again, and a failing group is retried request by request so one bad request cannot
    fail its neighbours.
    """

    def __init__(self, store: Writable, *, batch_max_spans: int = 4096,
                 batch_max_wait_ms: float = 10.0, queue_max_spans: int = 50_000,
                 queue_max_bytes: int = 256 << 20, workers: Any = None) -> None:
        self.store = store
        self.workers = workers
        self.batch_max_spans = batch_max_spans
        self.batch_max_wait = batch_max_wait_ms / 1000
        self.queue_max_spans = queue_max_spans
        self.queue_max_bytes = queue_max_bytes
        self._inflight_bytes = 0
        self._rate = 0.0
        self._last_commit = time.monotonic()
        self._queue: queue.Queue[_Item | None] = queue.Queue()
        self._prepared: queue.Queue[tuple[int, list[_Item], Any] | None] = queue.Queue(2)
        self._queued = 0
        self._count_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._commit_lock = threading.Lock()  # held while a batch commits; before _state_lock
        self._start_lock = threading.Lock()
        self._epoch = 0
        self._threads: list[threading.Thread] = []
        self._two_stage = all(hasattr(store, m) for m in ("prepare", "commit", "reset"))
        self.commits = 0
        self.committed_spans = 0

    @property
    def queued_spans(self) -> int:
        """Spans accepted but not yet committed."""
        return self._queued

    def start(self) -> None:
        """Start the writer thread(s) (once, however many threads ask)."""
        with self._start_lock:
            if not self._threads:
                self._start()

    def _start(self) -> None:
        if self.workers is not None:
            targets = [self._batch_loop]
        elif self._two_stage:
            targets = [self._prepare_loop, self._commit_loop]
        else:
            targets = [self._run]
        for target in targets:
            t = threading.Thread(target=target, name=f"tracevault-{target.__name__[1:]}",
                                 daemon=True)
            t.start()
            self._threads.append(t)

    def stop(self) -> None:
        """Commit what is queued, then stop the writer thread(s)."""
        if self._threads:
            self._queue.put(None)
            for t in self._threads:
                t.join()
            self._threads = []

    def _overloaded(self, what: str) -> Overloaded:
        # Suggest waiting about as long as the queue takes to drain at the recent rate.
        wait = self._queued / max(self._rate, 1000.0)
        return Overloaded(f"ingest is overloaded ({what}); retry later",
                          retry_after=min(30.0, max(1.0, wait)))

    @contextmanager
    def admit(self, nbytes: int) -> Iterator[None]:
        """Hold ``nbytes`` of request bodies while a request is processed.

        Raises ``Overloaded`` when the bodies in flight or the spans waiting for commit
        exceed their limits: memory stays bounded under any load.
        """
        with self._count_lock:
            if self._queued >= self.queue_max_spans:
                raise self._overloaded(f"{self._queued} spans waiting for commit")
            if self._inflight_bytes and self._inflight_bytes + nbytes > self.queue_max_bytes:
                raise self._overloaded(f"{self._inflight_bytes >> 20} MB of requests in "
                                       "flight")
            self._inflight_bytes += nbytes
        try:
            yield
        finally:
            with self._count_lock:
                self._inflight_bytes -= nbytes

    def submit_result(self, result: Any, job: Any) -> Future[Any]:
        """Queue rows an ingest worker lifted; the future resolves once they are durable."""
        item = _Item([], [], batch=result.batch, job=job, epoch=result.epoch,
                     rows=result.spans + result.logs)
        return self._enqueue(item)

    def submit(self, drafts: list[SpanDraft],
               logs: list[tuple[str, RawLog]] | None = None) -> Future[Any]:
        """Queue spans and logs; the future resolves once they are durable."""
        return self._enqueue(_Item(drafts, logs or []))

    def _enqueue(self, item: _Item) -> Future[Any]:
        if item.size == 0:
            item.future.set_result(None)
            return item.future
        with self._count_lock:
            if self._queued > 0 and self._queued + item.size > self.queue_max_spans:
                raise self._overloaded(f"{self._queued} spans waiting for commit")
            self._queued += item.size
        if not self._threads:
            self.start()
        self._queue.put(item)
        return item.future

    # -- batching ----------------------------------------------------------------------------
    def _take(self) -> tuple[list[_Item], bool]:
        first = self._queue.get()
        if first is None:
            return self._drain(), True
        items = [first]
        total = first.size
        deadline = time.monotonic() + self.batch_max_wait
        while total < self.batch_max_spans:
            timeout = deadline - time.monotonic()
            try:
                item = self._queue.get(timeout=timeout) if timeout > 0 else \
                    self._queue.get_nowait()
            except queue.Empty:
                break
            if item is None:
                return items + self._drain(), True
            items.append(item)
            total += item.size
        return items, False

    def _drain(self) -> list[_Item]:
        rest = []
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return rest
            if item is not None:
                rest.append(item)

    # -- single stage (stores with only ``write``) -----------------------------------------------
    def _run(self) -> None:
        while True:
            items, stop = self._take()
            if items:
                with self._commit_lock:
                    self._write_isolated(items)
            if stop:
                return

    # -- two stages ----------------------------------------------------------------------------
    def _prepare_loop(self) -> None:
        while True:
            items, stop = self._take()
            if items:
                drafts = [d for item in items for d in item.drafts]
                logs = [lg for item in items for lg in item.logs]
                with self._state_lock:
                    epoch = self._epoch
                    try:
                        prepared: Any = self.store.prepare(drafts, logs)  # type: ignore[attr-defined]
                    except Exception as exc:
                        self._epoch += 1
                        prepared = exc
                self._prepared.put((epoch, items, prepared))
            if stop:
                self._prepared.put(None)
                return

    def _commit_loop(self) -> None:
        while True:
            entry = self._prepared.get()
            if entry is None:
                return
            with self._commit_lock:
                self._commit_prepared(*entry)

    def _commit_prepared(self, epoch: int, items: list[_Item], prepared: Any) -> None:
        if isinstance(prepared, Exception) or epoch != self._epoch:
            with self._state_lock:
                self._reset()
                self._write_isolated(items)
            return
        try:
            result = self.store.commit(prepared)  # type: ignore[attr-defined]
        except Exception:
            with self._state_lock:
                self._reset()
                self._write_isolated(items)
            return
        self._resolve(items, result)

    def exclusive(self, fn: Callable[[], T], reset: bool = True) -> T:
        """Run ``fn`` (a purge, a score commit) while no batch is committing or preparing.

        With ``reset``, batches prepared before it and the workers' caches are made again
        afterwards: they may rest on rows ``fn`` removed. Without, batches already
        prepared commit after it as they are (the store renumbers them).
        """
        with self._commit_lock, self._state_lock:
            try:
                return fn()
            finally:
                if reset and self.workers is not None:
                    self._reset_all()
                elif reset and self._two_stage:
                    self._reset()

    def _reset(self) -> None:
        self._epoch += 1
        self.store.reset()  # type: ignore[attr-defined]

    # -- worker mode ---------------------------------------------------------------------------
    def _batch_loop(self) -> None:
        while True:
            items, stop = self._take()
            if items:
                with self._commit_lock:
                    self._commit_batches(items)
            if stop:
                return

    def _refresh(self, items: list[_Item]) -> list[_Item]:
        """Redo items whose rows were lifted before the last reset; returns those still ok."""
        futures = [(item, self.workers.submit(item.job)) for item in items]
        ok = []
        for item, future in futures:
            try:
                result = future.result()
            except Exception as exc:
                self._fail([item], exc)
                continue
            if result.error is not None:
                self._fail([item], result.error)
                continue
            item.batch, item.epoch = result.batch, result.epoch
            ok.append(item)
        return ok

    def _commit_batches(self, items: list[_Item]) -> None:
        # Requests lifted in this process (file imports) commit on their own.
        local = [i for i in items if i.batch is None]
        if local:
            self._write_isolated(local)
            items = [i for i in items if i.batch is not None]
            if not items:
                return
        stale = [i for i in items if i.epoch != self.workers.epoch]
        if stale:
            self._refresh(stale)
        items = [i for i in items if not i.future.done()]
        if not items:
            return
        try:
            prepared = self.store.assemble([i.batch for i in items])  # type: ignore[attr-defined]
            self._resolve(items, self.store.commit(prepared))  # type: ignore[attr-defined]
            return
        except Exception as exc:
            log.warning("group commit failed (%s); retrying request by request", exc)
        # Start over from clean caches, then commit request by request so that only a
        # request that fails on its own is answered with an error.
        self._reset_all()
        for item in items:
            if item.epoch != self.workers.epoch and not self._refresh([item]):
                continue
            try:
                prepared = self.store.assemble([item.batch])  # type: ignore[attr-defined]
                self._resolve([item], self.store.commit(prepared))  # type: ignore[attr-defined]
            except Exception as exc:
                self._reset_all()
                self._fail([item], exc)

    def _reset_all(self) -> None:
        self.store.reset()  # type: ignore[attr-defined]
        self.workers.reset()

    # -- outcomes ------------------------------------------------------------------------------
    def _write_isolated(self, items: list[_Item]) -> None:
        """Write items together; if that fails, one by one so only bad requests fail."""
        try:
            self._resolve(items, self._write(items))
            return
        except Exception as exc:
            if len(items) == 1:
                self._fail(items, exc)
                return
        for item in items:
            try:
                self._resolve([item], self._write([item]))
            except Exception as exc:
                self._fail([item], exc)

    def _write(self, items: list[_Item]) -> Any:
        drafts = [d for item in items for d in item.drafts]
        logs = [lg for item in items for lg in item.logs]
        return self.store.write(drafts, logs)

    def _resolve(self, items: list[_Item], result: Any) -> None:
        self.commits += 1
        n = sum(item.size for item in items)
        self.committed_spans += n
        now = time.monotonic()
        elapsed = max(now - self._last_commit, 1e-3)
        self._last_commit = now
        self._rate = 0.8 * self._rate + 0.2 * (n / elapsed)  # spans/s, smoothed
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
        with self._count_lock:
            self._queued -= sum(item.size for item in items)
