"""Ingest worker processes: decode, normalise and lift OTLP bodies beside the writer.

Python runs one thread at a time per process, and turning OTLP into rows is Python work.
Workers do that work in their own processes and hand the writer finished rows as Arrow
IPC, so the writing process only deduplicates, inserts and commits.

Each worker keeps the per-trace caches that let it store only the new part of growing
message histories. Those caches may reference rows not committed yet; after a failed
commit the writer resets every worker (``reset``) and has stale results redone.
"""

from __future__ import annotations

import gc
import itertools
import logging
import socket
import struct
import subprocess
import sys
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

import orjson

from .._exceptions import DecodeError, InputError, StoreError, TraceVaultError

__all__ = ["Job", "WorkerPool", "WorkerResult"]

log = logging.getLogger("tracevault.ingest")


@dataclass
class Job:
    """One request body for a worker."""

    kind: str
    """``traces`` or ``logs``."""
    media: str
    """``protobuf`` or ``json``."""
    body: bytes
    project: str | None = None
    default_project: str = "default"
    max_value_bytes: int = 16 << 20
    affinity: int = 0
    """Requests with the same affinity go to the same worker (keeps trace caches warm)."""


@dataclass
class WorkerResult:
    """What a worker made of a job."""

    epoch: int
    spans: int = 0
    logs: int = 0
    rejected: list[tuple[str | None, str | None, str]] = field(default_factory=list)
    batch: Any = None
    error: TraceVaultError | None = None


_ERRORS: dict[str, type[TraceVaultError]] = {
    "DecodeError": DecodeError, "InputError": InputError, "StoreError": StoreError,
}


def _frame(header: dict[str, Any], payload: bytes = b"") -> bytes:
    head = orjson.dumps(header)
    return struct.pack("<I", len(head)) + head + payload


def _unframe(data: bytes) -> tuple[dict[str, Any], memoryview]:
    (n,) = struct.unpack_from("<I", data, 0)
    return orjson.loads(data[4:4 + n]), memoryview(data)[4 + n:]


def _process(job: dict[str, Any], body: memoryview, state: dict[str, Any]) -> bytes:
    from ..store._batch import batch_to_ipc, lift_batch
    from ._prepare import prepare_logs, prepare_spans
    from .otlp import (
        decode_logs_json,
        decode_logs_protobuf,
        decode_traces_json,
        decode_traces_protobuf,
    )

    data = bytes(body)
    lifter = state["lifter"]
    sent = state["sent"]
    drafts: list[Any] = []
    logs: list[Any] = []
    rejected: list[tuple[str | None, str | None, str]] = []
    if job["kind"] == "traces":
        decode = decode_traces_protobuf if job["media"] == "protobuf" else decode_traces_json
        spans, bad = decode(data)
        drafts, too_large = prepare_spans(
            spans, default_project=job["default_project"], forced_project=job["project"],
            max_value_bytes=job["max_value_bytes"], body_bytes=len(data))
        rejected = [(r.trace_id, r.span_id, r.reason) for r in bad + too_large]
    else:
        decode_logs = decode_logs_protobuf if job["media"] == "protobuf" else decode_logs_json
        raw_logs, n_bad = decode_logs(data)
        logs = prepare_logs(raw_logs, default_project=job["default_project"],
                            forced_project=job["project"])
        rejected = [(None, None, "invalid trace or span id")] * n_bad
    # Skip spans this worker already lifted (retries); the writer dedups the rest.
    unique = []
    for d in drafts:
        st = lifter.cache.get((d.project, d.trace_id))
        if st is None or d.span_id not in st.span_ids:
            unique.append(d)
    batch = lift_batch(lifter, unique, logs, 0,
                       lambda hashes: [h for h in hashes if h not in sent])
    sent.remember(batch.blob_hashes())
    header = {"id": job["id"], "epoch": state["epoch"], "spans": len(drafts),
              "logs": len(logs), "rejected": rejected}
    return _frame(header, batch_to_ipc(batch))


def _worker_main(conn: Connection, cache_bytes: int) -> None:
    """The loop of one worker process."""
    from ..store._blobindex import BlobIndex
    from ..store._lift import Lifter, TraceCache

    gc.set_threshold(200_000, 50, 100)
    state: dict[str, Any] = {"lifter": Lifter(TraceCache(cache_bytes)),
                             "sent": BlobIndex(hot_max=200_000), "epoch": 0}
    while True:
        try:
            data = conn.recv_bytes()
        except (EOFError, OSError):
            return
        header, body = _unframe(data)
        op = header.get("op")
        if op == "stop":
            return
        if op == "reset":
            state["lifter"].cache.clear()
            state["sent"].clear_hot()
            state["epoch"] = header["epoch"]
            continue
        try:
            reply = _process(header, body, state)
        except TraceVaultError as exc:
            reply = _frame({"id": header["id"], "epoch": state["epoch"],
                            "error": type(exc).__name__, "message": str(exc)})
        except Exception as exc:  # never let one bad body kill the worker
            log.exception("ingest worker failed on a request")
            state["lifter"].cache.clear()
            reply = _frame({"id": header["id"], "epoch": state["epoch"],
                            "error": "StoreError", "message": f"ingest worker error: {exc}"})
        try:
            conn.send_bytes(reply)
        except (EOFError, OSError):
            return


class _Worker:
    def __init__(self, cache_bytes: int, pool: WorkerPool) -> None:
        # A plain subprocess over a socket pair: unlike multiprocessing's spawn, it does
        # not re-import the parent's __main__ (which may be the CLI or a user script).
        parent, child = socket.socketpair()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tracevault.ingest._workers", str(child.fileno()),
             str(cache_bytes)],
            pass_fds=(child.fileno(),), stdin=subprocess.DEVNULL,
        )
        child.close()
        self.conn = Connection(parent.detach())
        self.send_lock = threading.Lock()
        self.pool = pool
        self.thread = threading.Thread(target=self._receive, daemon=True,
                                       name="tracevault-worker-receiver")
        self.thread.start()

    def send(self, frame: bytes) -> None:
        with self.send_lock:
            self.conn.send_bytes(frame)

    def _receive(self) -> None:
        from ..store._batch import batch_from_ipc

        while True:
            try:
                data = self.conn.recv_bytes()
            except (EOFError, OSError):
                self.pool._worker_died(self)
                return
            header, payload = _unframe(data)
            entry = self.pool._pending.pop(header["id"], None)
            if entry is None:
                continue
            future = entry[0]
            if "error" in header:
                err = _ERRORS.get(header["error"], StoreError)(header["message"])
                future.set_result(WorkerResult(header["epoch"], error=err))
                continue
            future.set_result(WorkerResult(
                header["epoch"], spans=header["spans"], logs=header["logs"],
                rejected=[tuple(r) for r in header["rejected"]],
                batch=batch_from_ipc(bytes(payload)),
            ))


class WorkerPool:
    """A fixed set of ingest worker processes."""

    def __init__(self, n: int, cache_bytes: int = 64 << 20) -> None:
        self._cache_bytes = cache_bytes
        self._pending: dict[int, tuple[Future[WorkerResult], _Worker]] = {}
        self._ids = itertools.count(1)
        self.epoch = 0
        self.closed = False
        self.workers = [_Worker(cache_bytes, self) for _ in range(n)]

    def submit(self, job: Job) -> Future[WorkerResult]:
        """Send a job to a worker; the future resolves with its result."""
        future: Future[WorkerResult] = Future()
        if self.closed:
            future.set_exception(StoreError("ingest workers are shut down"))
            return future
        job_id = next(self._ids)
        worker = self.workers[job.affinity % len(self.workers)]
        self._pending[job_id] = (future, worker)
        header = {"id": job_id, "kind": job.kind, "media": job.media, "project": job.project,
                  "default_project": job.default_project,
                  "max_value_bytes": job.max_value_bytes}
        try:
            worker.send(_frame(header, job.body))
        except (OSError, ValueError) as exc:
            if self._pending.pop(job_id, None) is not None:
                future.set_exception(StoreError(f"ingest worker unavailable: {exc}"))
        return future

    def reset(self) -> int:
        """Make every worker forget its caches; returns the new epoch."""
        self.epoch += 1
        for worker in self.workers:
            try:
                worker.send(_frame({"op": "reset", "epoch": self.epoch}))
            except (OSError, ValueError):
                pass
        return self.epoch

    def _worker_died(self, worker: _Worker) -> None:
        if self.closed:
            return
        log.error("an ingest worker exited; restarting it and failing its pending requests")
        for job_id, (future, owner) in list(self._pending.items()):
            if owner is worker and not future.done():
                self._pending.pop(job_id, None)
                future.set_exception(StoreError("ingest worker exited; retry the request"))
        try:
            index = self.workers.index(worker)
        except ValueError:
            return
        self.workers[index] = _Worker(self._cache_bytes, self)
        # The new worker starts with empty caches: others may hold bases it cannot see,
        # which is fine; but this one's in-flight rows are gone, so everyone starts over.
        self.reset()

    def close(self) -> None:
        """Stop the workers."""
        self.closed = True
        for worker in self.workers:
            try:
                worker.send(_frame({"op": "stop"}))
            except (OSError, ValueError):
                pass
        for worker in self.workers:
            try:
                worker.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait()
            worker.conn.close()


if __name__ == "__main__":
    _worker_main(Connection(int(sys.argv[1])), int(sys.argv[2]))
