"""Scale-out: three servers on one DuckLake take OTLP at once; one is SIGKILLed mid-run."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tracevault.query import TraceQuery
from tracevault.store import DuckLakeStore, RemoteStore
from tracevault.testing import PostgresCluster, ServerProcess

pytestmark = pytest.mark.slow


def _spans(node: int, traces: int, per_trace: int) -> list[ReadableSpan]:
    """Agent-like spans made by the real OTel SDK: ``traces`` traces of ``per_trace`` spans."""
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": f"agents-{node}"}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("scaleout-test")
    for t in range(traces):
        with tracer.start_as_current_span(f"invoke_agent planner-{node}-{t}") as root:
            root.set_attribute("gen_ai.operation.name", "invoke_agent")
            root.set_attribute("gen_ai.agent.name", f"planner-{node}")
            for k in range(per_trace - 1):
                with tracer.start_as_current_span(f"execute_tool search {k}") as span:
                    span.set_attribute("gen_ai.operation.name", "execute_tool")
                    span.set_attribute("gen_ai.tool.name", "search")
                    span.set_attribute("gen_ai.tool.call.arguments", f'{{"q": "{t}-{k}"}}')
    provider.shutdown()
    return list(memory.get_finished_spans())


class Sender(threading.Thread):
    """Exports spans to one node in batches with the OTLP/gRPC exporter, recording acks."""

    def __init__(self, server: ServerProcess, spans: list[ReadableSpan]) -> None:
        super().__init__()
        self.exporter = OTLPSpanExporter(endpoint=f"127.0.0.1:{server.grpc_port}",
                                         insecure=True, timeout=5)
        self.spans = spans
        self.acked: set[tuple[str, str]] = set()
        self.failed = 0

    def run(self) -> None:
        for i in range(0, len(self.spans), 25):
            batch = self.spans[i:i + 25]
            if self.exporter.export(batch) is not SpanExportResult.SUCCESS:
                self.failed += 1
                break  # the node is gone: what it did not acknowledge is not owed
            self.acked |= {(f"{s.context.trace_id:032x}", f"{s.context.span_id:016x}")
                           for s in batch}
        self.exporter.shutdown()


def test_three_nodes_one_killed_every_acked_span_on_every_survivor(
        postgres: PostgresCluster, tmp_path: Path) -> None:
    url = postgres.lake_url(tmp_path / "lake")
    DuckLakeStore(url).close()  # create the tables once, before the nodes race to
    servers = [ServerProcess(url, env={"TRACEVAULT_NODE_ID": f"node-{i}"}, log_dir=tmp_path)
               for i in range(3)]
    try:
        senders = [Sender(srv, _spans(i, 40, 12)) for i, srv in enumerate(servers)]
        for s in senders:
            s.start()
        deadline = time.time() + 60
        while len(senders[2].acked) < 120 and time.time() < deadline:
            time.sleep(0.01)
        assert senders[2].acked, "node-2 acknowledged nothing before the kill"
        servers[2].proc.send_signal(signal.SIGKILL)
        servers[2].proc.wait()
        for s in senders:
            s.join()
        print(f"acknowledged per node: {[len(s.acked) for s in senders]}")
        assert len(senders[2].acked) < len(senders[2].spans), "node-2 finished before the kill"
        assert len(senders[0].acked) == len(senders[0].spans) == 480
        assert len(senders[1].acked) == 480
        acked = senders[0].acked | senders[1].acked | senders[2].acked
        by_trace: dict[str, set[str]] = {}
        for trace_id, span_id in acked:
            by_trace.setdefault(trace_id, set()).add(span_id)
        for srv in servers[:2]:
            remote = RemoteStore(srv.url)
            for trace_id, span_ids in by_trace.items():
                stored = {s["span_id"] for s in remote.get_trace(None, trace_id)["spans"]}
                assert span_ids <= stored, f"{srv.url} lacks acknowledged spans of {trace_id}"
            remote.close()
        done = subprocess.run([sys.executable, "-m", "tracevault", "verify", "--store", url],
                              capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
        lake = DuckLakeStore(url, read_only=True)
        nodes = dict(lake.cursor().execute(
            "SELECT node, count(*) FROM ledger GROUP BY node").fetchall())
        seqs = lake.cursor().execute("SELECT seq FROM ledger").fetchall()
        spans = lake.cursor().execute(
            "SELECT count(*), count(DISTINCT (trace_id, span_id)) FROM spans").fetchone()
        lake.close()
        assert {"node-0", "node-1", "node-2"} <= set(nodes)
        assert len(seqs) == len(set(seqs)), "two commits share a sequence number"
        assert spans[0] == spans[1] >= len(acked)
    finally:
        for srv in servers:
            srv.stop()


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tracevault", *args], capture_output=True,
                          text=True, timeout=120, check=False)


def test_a_purge_from_elsewhere_reaches_a_serving_node(postgres: PostgresCluster,
                                                      tmp_path: Path) -> None:
    url = postgres.lake_url(tmp_path / "lake")
    DuckLakeStore(url).close()
    spans = _spans(0, 6, 5)
    servers = [ServerProcess(url, env={"TRACEVAULT_NODE_ID": f"node-{i}"}, log_dir=tmp_path)
               for i in range(2)]
    try:
        first = Sender(servers[0], spans)
        first.run()
        assert len(first.acked) == 30
        reader = RemoteStore(servers[1].url)
        try:
            _purge_and_resend(url, servers[0], spans, first, reader)
        finally:
            reader.close()
        done = _cli("verify", "--store", url)
        assert done.returncode == 0, done.stdout + done.stderr
    finally:
        for srv in servers:
            srv.stop()


def _purge_and_resend(url: str, node: ServerProcess, spans: list[ReadableSpan],
                      first: Sender, reader: RemoteStore) -> None:
    before = {t: reader.get_trace(None, t) for t in {t for t, _ in first.acked}}
    # Another process (any machine reaching the lake) purges everything.
    for args in (("retention", "set", "all", "--keep-days", "0"), ("retention", "apply")):
        done = _cli(*args, "--store", url)
        assert done.returncode == 0, done.stderr
    assert reader.list_traces(TraceQuery()) == []
    # The node knew every span and blob; sent again, they are stored again, whole.
    again = Sender(node, spans)
    again.run()
    assert again.acked == first.acked and not again.failed
    assert {t: reader.get_trace(None, t) for t in before} == before
