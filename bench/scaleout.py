"""Scale-out benchmark: OTLP ingest into 1, 2 and 3 nodes on one DuckLake, and trace fetch.

Each node is a real ``tracevault serve`` on a DuckLake whose catalog is a private
PostgreSQL cluster (``tracevault.testing.PostgresCluster``) and whose data files are in a
temporary directory. Clients send OTLP/HTTP protobuf batches round robin over the nodes.
Printed: spans/s acknowledged with 1, 2 and 3 nodes beside one embedded-store server, and
the median time to fetch a trace from the lake beside the embedded file, as ratios.

    python bench/scaleout.py [--spans 20000] [--clients 6]
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from tracevault.query import TraceQuery
from tracevault.store import DuckDBStore, DuckLakeStore
from tracevault.testing import PostgresCluster, ServerProcess, workload_requests

PB = {"Content-Type": "application/x-protobuf"}


def _send(urls: list[str], bodies: list[bytes], clients: int) -> float:
    """Post every body (round robin over ``urls``) until acknowledged; return seconds."""
    def post(i: int) -> None:
        with httpx.Client(timeout=60) as client:
            for k in range(i, len(bodies), clients):
                url = urls[k % len(urls)] + "/v1/traces"
                while client.post(url, content=bodies[k], headers=PB).status_code != 200:
                    time.sleep(0.05)

    t0 = time.perf_counter()
    with cf.ThreadPoolExecutor(clients) as pool:
        list(pool.map(post, range(clients)))
    return time.perf_counter() - t0


def _ingest(stores: list[str], bodies: list[bytes], clients: int, work: Path) -> float:
    """Seconds to ingest ``bodies`` through one server per store URL."""
    servers = [ServerProcess(s, grpc=False, log_dir=work,
                             env={"TRACEVAULT_NODE_ID": f"bench-{i}"})
               for i, s in enumerate(stores)]
    try:
        return _send([s.url for s in servers], bodies, clients)
    finally:
        for s in servers:
            s.stop()


def _fetch_ms(store: DuckDBStore, n: int = 30) -> float:
    """Median milliseconds of ``get_trace`` over ``n`` traces."""
    traces = [t["trace_id"] for t in store.list_traces(TraceQuery(limit=n))]
    times = []
    for trace_id in traces:
        t0 = time.perf_counter()
        store.get_trace(None, trace_id)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main() -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=20_000)
    parser.add_argument("--clients", type=int, default=6)
    args = parser.parse_args()
    bodies = [b for b, _ in workload_requests(args.spans, batch_size=512, seed=7)]
    pg = PostgresCluster()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            embedded = work / "embedded.duckdb"
            base = _ingest([str(embedded)], bodies, args.clients, work)
            print(f"embedded file, 1 node: {args.spans / base:8.0f} spans/s")
            lake_url = ""
            for nodes in (1, 2, 3):
                url = pg.lake_url(work / f"lake{nodes}")
                DuckLakeStore(url).close()
                took = _ingest([url] * nodes, bodies, args.clients, work)
                print(f"DuckLake, {nodes} node(s):  {args.spans / took:8.0f} spans/s "
                      f"(x{base / took:.2f} of embedded)")
                lake_url = url
            file_store = DuckDBStore(embedded, read_only=True)
            lake_store = DuckLakeStore(lake_url, read_only=True)
            file_ms, lake_ms = _fetch_ms(file_store), _fetch_ms(lake_store)
            file_store.close()
            lake_store.close()
            print(f"trace fetch: embedded {file_ms:.1f} ms, DuckLake {lake_ms:.1f} ms "
                  f"(x{lake_ms / file_ms:.1f})")
    finally:
        pg.stop()


if __name__ == "__main__":
    main()
