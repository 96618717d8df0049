"""Scale-out benchmark: OTLP ingest into 1, 2 and 3 DuckLake nodes, and trace fetch at 1M spans.

Both parts use a DuckLake whose catalog is a private PostgreSQL cluster
(``tracevault.testing.PostgresCluster``) and whose data files are in a temporary directory;
each figure is printed beside the same figure for an embedded DuckDB file, measured in the
same run, as a ratio.

1. Ingest: real ``tracevault serve`` processes, 1, 2 and 3 nodes on one lake, beside one
   server on an embedded file. Clients send OTLP/HTTP protobuf batches of 512 spans round
   robin over the nodes; printed is spans/s acknowledged (durable).
2. Trace fetch: the synthetic agent workload of bench/query.py (``make_chunk``; same seed
   and end time, so the same bytes) is written into an embedded file and into a lake, each
   directly through the store's write API (an ingest worker lifts, commits of ~16k spans;
   see bench/_lakebuild.py). Then, on stores opened read-only in this process, median and
   p95 of ``get_trace`` (whole trace, content included) and ``trace_outline`` (no content)
   over 50 trace ids spread evenly over the 30 days, after one warm-up call. The lake is
   measured right after loading and again after ``maintain(keep_snapshots_days=0)``
   (merges small files); its Parquet file count is printed before and after.

    python bench/scaleout.py [--spans 20000] [--clients 6] [--fetch-spans 1000000]
                             [--skip-ingest | --skip-fetch]

The 1M-span part takes about 6 minutes on 2 cores (builds: ~2 min embedded, ~3 min lake;
maintain ~20 s); ``--fetch-spans 50000`` runs it in about half a minute.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from _lakebuild import fill, measure  # noqa: E402

from tracevault.store import DuckDBStore, DuckLakeStore  # noqa: E402
from tracevault.testing import PostgresCluster, ServerProcess, workload_requests  # noqa: E402

PB = {"Content-Type": "application/x-protobuf"}
SAMPLE = 50  # traces fetched per measurement
SEED = 0  # bench/query.py's default workload


# -- 1. ingest through servers ------------------------------------------------------------------
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


def ingest_part(pg: PostgresCluster, work: Path, spans: int, clients: int) -> None:
    """Spans/s through 1, 2 and 3 lake nodes beside one embedded-file server."""
    bodies = [b for b, _ in workload_requests(spans, batch_size=512, seed=7)]
    print(f"ingest, {spans:,} spans, {clients} clients, OTLP/HTTP protobuf, 512 spans a request")
    base = _ingest([str(work / "ingest.duckdb")], bodies, clients, work)
    print(f"  embedded file, 1 node: {spans / base:8.0f} spans/s", flush=True)
    for nodes in (1, 2, 3):
        url = pg.lake_url(work / f"ingest-lake{nodes}")
        DuckLakeStore(url).close()
        took = _ingest([url] * nodes, bodies, clients, work)
        print(f"  DuckLake, {nodes} node(s):  {spans / took:8.0f} spans/s "
              f"(x{base / took:.2f} of embedded)", flush=True)


# -- 2. trace fetch on 1M spans -----------------------------------------------------------------
def _build(label: str, store: Any, spans: int, end_ns: int) -> None:
    """Fill ``store`` with the workload and print how long it took."""
    def progress(done: int, seconds: float) -> None:
        print(f"\r  building {label}: {done:,} spans, {seconds:.0f} s", end="", flush=True)

    t0 = time.perf_counter()
    try:
        done, commits = fill(store, spans, SEED, end_ns, progress=progress)
    finally:
        store.close()
    took = time.perf_counter() - t0
    print(f"\r  built {label}: {done:,} spans in {took:.0f} s ({done / took:,.0f} spans/s, "
          f"{commits} commits)", flush=True)


def _sample(store: DuckDBStore, n: int) -> list[str]:
    """``n`` trace ids evenly spaced in start time over the whole store."""
    ids = [r[0] for r in store.cursor().execute(
        "SELECT trace_id FROM traces ORDER BY start_ns, trace_id").fetchall()]
    return [ids[int((k + 0.5) * len(ids) / n)] for k in range(min(n, len(ids)))]


def _timings(opener: Callable[[], DuckDBStore], ids: list[str]) -> dict[str, tuple[float, float]]:
    """Median and p95 ms of ``get_trace`` and ``trace_outline`` on a fresh read-only handle."""
    store = opener()
    try:
        return {"trace fetch": measure(lambda t: store.get_trace(None, t), ids),
                "trace outline": measure(lambda t: store.trace_outline(None, t), ids)}
    finally:
        store.close()


def _parquet_files(data: Path) -> int:
    return sum(1 for _ in data.rglob("*.parquet"))


def _describe(label: str, store: DuckDBStore) -> None:
    stats = store.stats()
    print(f"  {label}: {stats['spans']:,} spans, {stats['traces']:,} traces, "
          f"{stats['blobs']:,} blobs, {stats['bytes'] / 2**20:,.0f} MiB")
    store.close()


def _report(spans: int, stage: str, base: dict[str, tuple[float, float]],
            lake: dict[str, tuple[float, float]]) -> None:
    for what, (lake_med, lake_p95) in lake.items():
        med, p95 = base[what]
        print(f"{what}, {spans:,} spans, {stage}: embedded median {med:.1f} ms p95 "
              f"{p95:.1f} ms | DuckLake median {lake_med:.1f} ms p95 {lake_p95:.1f} ms "
              f"(x{lake_med / med:.1f})", flush=True)


def fetch_part(pg: PostgresCluster, work: Path, spans: int) -> None:
    """Build an embedded file and a lake of ``spans`` spans; time trace fetches on both."""
    end_ns = time.time_ns()
    path, data = work / "fetch.duckdb", work / "fetch-lake"
    url = pg.lake_url(data)
    print(f"\ntrace fetch: bench/query.py workload, {spans:,} spans, seed {SEED}")
    _build("embedded file", DuckDBStore(path), spans, end_ns)
    _build("DuckLake", DuckLakeStore(url), spans, end_ns)

    def embedded() -> DuckDBStore:
        return DuckDBStore(path, read_only=True)

    def lake() -> DuckDBStore:
        return DuckLakeStore(url, read_only=True)

    _describe("embedded file", embedded())
    _describe("DuckLake", lake())
    store = embedded()
    ids = _sample(store, SAMPLE)
    store.close()
    print(f"  {len(ids)} traces, evenly spaced in start time; median and p95 after 1 warm-up")
    _report(spans, "after loading", _timings(embedded, ids), _timings(lake, ids))
    before = _parquet_files(data)
    t0 = time.perf_counter()
    writable = DuckLakeStore(url)
    try:
        done = writable.maintain(keep_snapshots_days=0)
    finally:
        writable.close()
    print(f"  maintain(keep_snapshots_days=0) in {time.perf_counter() - t0:.0f} s: Parquet "
          f"files {before:,} -> {_parquet_files(data):,}, {done['snapshots_expired']:,} "
          f"snapshots expired, {done['files_deleted']:,} files deleted", flush=True)
    _report(spans, "after maintain", _timings(embedded, ids), _timings(lake, ids))


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=20_000, help="spans for the ingest part")
    parser.add_argument("--clients", type=int, default=6, help="HTTP clients for ingest")
    parser.add_argument("--fetch-spans", type=int, default=1_000_000,
                        help="spans in the stores of the fetch part")
    parser.add_argument("--skip-ingest", action="store_true", help="only the fetch part")
    parser.add_argument("--skip-fetch", action="store_true", help="only the ingest part")
    args = parser.parse_args()
    t0 = time.perf_counter()
    pg = PostgresCluster()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            if not args.skip_ingest:
                ingest_part(pg, Path(tmp), args.spans, args.clients)
            if not args.skip_fetch:
                fetch_part(pg, Path(tmp), args.fetch_spans)
    finally:
        pg.stop()
    print(f"\nwall time {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
