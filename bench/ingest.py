"""Ingest benchmark: OTLP/HTTP protobuf into a real ``tracevault serve``.

Workload: agent runs of 21-61 spans, each model call's input holding every earlier
message (~12 KB of payload per span), 16 runs interleaved, batches of 512 spans.
Prints spans/s acknowledged (= durable: an acknowledgement means committed), spans/s
durable and queryable (until the REST API serves every trace), bytes on disk per span
and peak server memory, beside a baseline measured in the same run: the same spans
decoded and group-committed into DuckDB with their attributes stored as sent.

    python bench/ingest.py [--spans 60000] [--clients 8] [--phoenix [--phoenix-spans 4000]]

With ``--phoenix`` the same workload also goes to Arize Phoenix (installed on first use
into bench/.phoenix-venv) and the ratios tracevault / Phoenix are printed. Phoenix gets
fewer spans (``--phoenix-spans``) because it ingests about 200 spans/s; ratios compare
rates and per-span sizes, which do not depend on the count.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import os
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import httpx
import orjson
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).parent))
from _common import Server, child_pids, peak_rss_mb, store_bytes  # noqa: E402

from tracevault.ingest.otlp import decode_traces_protobuf  # noqa: E402
from tracevault.testing import workload_requests  # noqa: E402


def run_tracevault(streams: list[list[tuple[bytes, int]]],
                   workdir: Path) -> dict[str, float]:
    store = workdir / "tracevault.duckdb"
    server = Server(store)
    total = sum(n for stream in streams for _, n in stream)
    try:
        def send(stream: list[tuple[bytes, int]]) -> None:
            with httpx.Client(timeout=120) as client:
                for body, _ in stream:
                    r = client.post(server.url + "/v1/traces", content=body,
                                    headers={"Content-Type": "application/x-protobuf"})
                    r.raise_for_status()
        t0 = time.perf_counter()
        with cf.ThreadPoolExecutor(len(streams)) as pool:
            list(pool.map(send, streams))
        acked = time.perf_counter() - t0
        stats = httpx.get(server.url + "/api/stats", timeout=60).json()
        page = httpx.get(server.url + "/api/traces", params={"limit": 50}, timeout=60)
        page.raise_for_status()
        queryable = time.perf_counter() - t0
        if stats["spans"] != total:
            raise RuntimeError(f"stored {stats['spans']} spans, sent {total}")
        peak = peak_rss_mb(server.proc.pid) + sum(
            peak_rss_mb(pid) for pid in child_pids(server.proc.pid))
    finally:
        server.stop()
    return {"spans_per_s_acked": total / acked, "spans_per_s_queryable": total / queryable,
            "bytes_per_span": store_bytes(store) / total, "peak_mb": peak}


def run_baseline(requests: list[tuple[bytes, int]], workdir: Path) -> dict[str, float]:
    """Decode and group-commit spans with attributes as sent (no content addressing)."""
    path = workdir / "baseline.duckdb"
    con = duckdb.connect(str(path), config={"memory_limit": "1GB"})
    con.execute("CREATE TABLE spans (trace_id VARCHAR, span_id VARCHAR, parent VARCHAR, "
                "name VARCHAR, start_ns BIGINT, end_ns BIGINT, status VARCHAR, "
                "attributes JSON)")
    total = sum(n for _, n in requests)
    t0 = time.perf_counter()
    batch: list[tuple[object, ...]] = []
    for i, (body, _) in enumerate(requests):
        spans, _ = decode_traces_protobuf(body)
        batch += [(s.trace_id, s.span_id, s.parent_span_id, s.name, s.start_ns, s.end_ns,
                   s.status_code, orjson.dumps(s.attributes).decode()) for s in spans]
        if len(batch) >= 4096 or i == len(requests) - 1:
            cols = list(zip(*batch, strict=True))
            names = ["trace_id", "span_id", "parent", "name", "start_ns", "end_ns", "status",
                     "attributes"]
            con.register("batch", pa.table({n: list(c) for n, c in zip(names, cols,
                                                                         strict=True)}))
            con.execute("BEGIN")
            con.execute("INSERT INTO spans SELECT * FROM batch")
            con.execute("COMMIT")
            con.unregister("batch")
            batch = []
    elapsed = time.perf_counter() - t0
    con.execute("CHECKPOINT")
    con.close()
    return {"spans_per_s_acked": total / elapsed, "spans_per_s_queryable": total / elapsed,
            "bytes_per_span": store_bytes(path) / total, "peak_mb": float("nan")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--spans", type=int, default=60_000)
    parser.add_argument("--clients", type=int, default=8,
                        help="concurrent exporters, each sending its own agents' traces")
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--phoenix", action="store_true",
                        help="also run Arize Phoenix on the same workload and print ratios")
    parser.add_argument("--phoenix-spans", type=int, default=4000)
    args = parser.parse_args()
    print(f"generating {args.spans} spans ...", flush=True)
    streams = [list(workload_requests(args.spans // args.clients, batch_size=args.batch,
                                      seed=i)) for i in range(args.clients)]
    requests = [r for stream in streams for r in stream]
    n_spans = sum(n for _, n in requests)
    wire = sum(len(b) for b, _ in requests) / n_spans
    print(f"workload: {n_spans} spans in {len(requests)} requests from {args.clients} "
          f"exporters, {wire:,.0f} wire bytes per span")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        tv = run_tracevault(streams, work)
        base = run_baseline(requests, work)
    phx = None
    if args.phoenix:
        from _phoenix import run_phoenix

        share = max(1, args.phoenix_spans // args.clients // args.batch)
        print(f"phoenix: {share * args.batch * args.clients} spans of the same workload ...",
              flush=True)
        phx = run_phoenix([stream[:share] for stream in streams])
    rows = [("spans/s acknowledged (durable)", "spans_per_s_acked", True),
            ("spans/s durable and queryable", "spans_per_s_queryable", True),
            ("bytes on disk per span", "bytes_per_span", False),
            ("peak server memory (MiB)", "peak_mb", False)]
    print(f"\n{'metric':34} {'tracevault':>12} {'baseline':>12} {'ratio':>8}")
    for label, key, _ in rows:
        a, b = tv[key], base[key]
        ratio = a / b if b == b and b else float("nan")
        print(f"{label:34} {a:12,.0f} {b:12,.0f} {ratio:8.2f}")
    print(f"\nbaseline: same spans decoded in-process and group-committed (4096/commit) "
          f"into DuckDB with attributes as sent; cpu count {os.cpu_count()}")
    if phx is not None:
        print(f"\n{'vs Arize Phoenix 20.26 (SQLite)':34} {'tracevault':>12} {'phoenix':>12} "
              f"{'ratio':>8}")
        for label, key, higher_better in rows:
            a, b = tv[key], phx[key]
            ratio = a / b if higher_better else b / a
            how = "x faster" if higher_better else "x smaller"
            print(f"{label:34} {a:12,.0f} {b:12,.0f} {ratio:8.1f} {how}")
        print("(Phoenix acknowledges before writing: its 'acknowledged' rate is not durable)")


if __name__ == "__main__":
    main()
