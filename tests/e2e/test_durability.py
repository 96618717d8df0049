"""Nothing acknowledged is lost: SIGKILL under load, and overload with backpressure."""

from __future__ import annotations

import random
import signal
import threading
import time
from pathlib import Path

import duckdb
import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tracevault.compliance import verify
from tracevault.store import DuckDBStore
from tracevault.testing import ServerProcess, free_port, workload_requests

pytestmark = pytest.mark.slow
PB = {"Content-Type": "application/x-protobuf"}


def _span_keys(body: bytes) -> set[tuple[str, str]]:
    req = ExportTraceServiceRequest.FromString(body)
    return {(s.trace_id.hex(), s.span_id.hex()) for rs in req.resource_spans
            for ss in rs.scope_spans for s in ss.spans}


class Clients:
    """Exporters that resend a request until it is acknowledged, recording the acks."""

    def __init__(self, url: str, streams: list[list[bytes]], pause: float = 0.0) -> None:
        self.url = url
        self.pause = pause
        self.acked: set[tuple[str, str]] = set()
        self.statuses: dict[int, int] = {}
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._send, args=(s,)) for s in streams]

    def _send(self, stream: list[bytes]) -> None:
        with httpx.Client(timeout=15) as client:
            for body in stream:
                while True:
                    try:
                        r = client.post(self.url + "/v1/traces", content=body, headers=PB)
                    except httpx.HTTPError:
                        time.sleep(0.05)
                        continue
                    with self.lock:
                        self.statuses[r.status_code] = self.statuses.get(r.status_code, 0) + 1
                    if r.status_code == 200:
                        with self.lock:
                            self.acked |= _span_keys(body)
                        time.sleep(self.pause)
                        break
                    wait = float(r.headers.get("retry-after", "0.05"))
                    time.sleep(min(wait, 1.0))

    def start(self) -> None:
        for t in self.threads:
            t.start()

    def alive(self) -> bool:
        return any(t.is_alive() for t in self.threads)

    def join(self) -> None:
        for t in self.threads:
            t.join()


def _check_exactly_once(store: Path, acked: set[tuple[str, str]]) -> None:
    con = duckdb.connect(str(store), read_only=True)
    rows = con.execute("SELECT trace_id, span_id, count(*) FROM spans GROUP BY ALL").fetchall()
    con.close()
    stored = {(t, s) for t, s, _ in rows}
    assert not [r for r in rows if r[2] != 1], "a span is stored twice"
    missing = acked - stored
    assert not missing, f"{len(missing)} acknowledged spans lost"
    report = verify(DuckDBStore(store, read_only=True))
    assert report.ok, [str(p) for p in report.problems[:5]]


def test_sigkill_at_random_moments_loses_nothing(tmp_path) -> None:
    t0 = time.time()
    store = tmp_path / "store.duckdb"
    port = free_port()
    streams = [[b for b, _ in workload_requests(6000, batch_size=20, seed=i,
                                                 words_per_message=30)] for i in range(4)]
    clients = Clients(f"http://127.0.0.1:{port}", streams, pause=0.02)
    print(f"generated in {time.time() - t0:.1f}s")
    rng = random.Random(1)
    kills = 0
    server = ServerProcess(store, port=port, grpc=False)
    clients.start()
    deadline = time.time() + 45
    while kills < 21 and time.time() < deadline and clients.alive():
        time.sleep(rng.uniform(0.3, 0.8))
        server.proc.send_signal(signal.SIGKILL)
        server.proc.wait()
        kills += 1
        server.stop()
        server = ServerProcess(store, port=port, grpc=False)
    clients.join()
    server.stop()
    print(f"crash test: {kills} kills, {len(clients.acked)} spans acknowledged, "
          f"statuses {clients.statuses}")
    assert kills >= 20
    assert len(clients.acked) == 24_000
    _check_exactly_once(store, clients.acked)


def _rss_mb(pid: int) -> float:
    total = 0.0
    pids = [pid] + [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()
                    and _parent(p) == pid]
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
        except OSError:
            pass
    return total


def _parent(proc: Path) -> int:
    try:
        return int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return -1


def test_overload_answers_429_and_memory_stays_bounded(tmp_path) -> None:
    store = tmp_path / "store.duckdb"
    server = ServerProcess(store, grpc=False, env={
        "TRACEVAULT_QUEUE_MAX_BYTES": "24MB", "TRACEVAULT_QUEUE_MAX_SPANS": "3000",
        "TRACEVAULT_MEMORY_LIMIT": "256MB"})
    streams = [[b for b, _ in workload_requests(2500, batch_size=500, seed=i)]
               for i in range(16)]
    clients = Clients(server.url, streams)
    peak = 0.0
    clients.start()
    while clients.alive():
        peak = max(peak, _rss_mb(server.pid))
        time.sleep(0.05)
    clients.join()
    server.stop()
    assert clients.statuses.get(429, 0) > 0, clients.statuses
    assert set(clients.statuses) <= {200, 429}
    assert peak < 1200, f"peak memory {peak:.0f} MB"
    _check_exactly_once(store, clients.acked)
    print(f"overload: {clients.statuses}, peak RSS {peak:.0f} MB")


def test_grpc_overload_carries_retry_info(tmp_path) -> None:
    import grpc
    from google.rpc import error_details_pb2
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc

    server = ServerProcess(tmp_path / "store.duckdb", env={
        "TRACEVAULT_QUEUE_MAX_BYTES": "1KB"})
    bodies = [ExportTraceServiceRequest.FromString(b)
              for b, _ in workload_requests(4000, batch_size=500, seed=9)]
    channel = grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}")
    stub = trace_service_pb2_grpc.TraceServiceStub(channel)
    errors: list[grpc.RpcError] = []

    def send(req) -> None:
        try:
            stub.Export(req, timeout=30)
        except grpc.RpcError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(b,)) for b in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    channel.close()
    server.stop()
    assert errors and all(e.code() == grpc.StatusCode.RESOURCE_EXHAUSTED for e in errors)
    trailer = dict(errors[0].trailing_metadata())["google.rpc.retryinfo-bin"]
    info = error_details_pb2.RetryInfo.FromString(trailer)
    assert info.retry_delay.seconds >= 1
