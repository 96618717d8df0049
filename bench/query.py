"""Query benchmark: whole-trace fetches and filtered trace pages on a store of 1M spans.

Builds a store from the synthetic agent workload (short messages; 4 services, 9 agents,
5 models, failing tool calls, starts over the last 30 days, runs of 1 s to minutes),
ingested as ``tracevault serve`` does it: OTLP protobuf requests of 512 spans lifted by
an ingest worker process and group-committed. Then times ``vault.trace(id)`` on random
traces and ``vault.traces(filter=..., limit=50)`` for realistic filters: median and p95
beside the targets, and ratios to baselines timed in the same run on the same file, so
noisy machines give comparable figures:

* trace fetch: ``SELECT * FROM spans WHERE trace_id = ?`` on the same ids;
* trace pages: the newest 50 trace ids grouped straight from ``spans``.

    python bench/query.py [--spans 1000000] [--store PATH] [--repeat 20] [--explain]

``--store PATH`` reuses a store (building it there first when missing); without it the
store is built in a temporary directory (about 5 minutes for 1M spans on 2 cores).
Relative filters (``start > -7d``) count from now, so they match less as a kept store
ages. ``--explain`` prints EXPLAIN ANALYZE of each page query missing its target.
"""

from __future__ import annotations

import argparse
import itertools
import math
import multiprocessing
import os
import random
import statistics
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import duckdb
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

sys.path.insert(0, str(Path(__file__).parent))
from _common import store_bytes  # noqa: E402

import tracevault  # noqa: E402
from tracevault.ingest._pipeline import IngestPipeline  # noqa: E402
from tracevault.ingest._workers import Job, WorkerPool  # noqa: E402
from tracevault.query._filters import TraceQuery  # noqa: E402
from tracevault.store import DuckDBStore  # noqa: E402
from tracevault.testing import Prose, RunSpec, agent_run, encode_request  # noqa: E402

SERVICES = {"support-bot": ("triage", "responder", "escalator"),
            "code-assistant": ("planner", "coder", "reviewer"),
            "research-pipeline": ("researcher", "summarizer"), "billing-agent": ("biller",)}
SERVICE_WEIGHTS = (40, 30, 20, 10)
MODELS = (("gpt-4o", "openai"), ("gpt-4o-mini", "openai"), ("claude-sonnet-4", "anthropic"),
          ("gemini-2.5-pro", "gcp.gemini"), ("llama-3.1-70b", "meta"))
MODEL_WEIGHTS = (35, 25, 20, 12, 8)
ERRORS = ("PermissionError: permission denied", "TimeoutError: tool timed out after 30s",
          "ValueError: invalid arguments", "ConnectionError: connection reset by peer")
RARE_WORD = "quarantined"  # put into 1 tool result in 2000: a selective free-text search
DAYS = 30
CHUNK_SPANS = 32_768  # about as many spans per task of the generator processes
REQUEST_SPANS = 512  # spans per OTLP request
COMMIT_REQUESTS = 8  # requests per group commit (4096 spans)
FETCH_TARGET_MS, PAGE_TARGET_MS = 50.0, 200.0
QUERIES: tuple[tuple[str, str | None], ...] = (
    ("first page, no filter", None),
    ("failed write tools", 'kind = tool and tool ~ "write_*" and status = error'),
    ("agent, last 7 days", 'agent = "reviewer" and start > -7d'),
    ("model and tokens", 'model = "claude-sonnet-4" and tokens > 3000'),
    ("long traces", "trace.duration > 2m"),
    ("service, failed traces", 'service = "billing-agent" and trace.status = error'),
    ("free text, rare word", f'"{RARE_WORD}"'),
    ("free text, error message", '"permission denied"'),
)


class _Prose(Prose):
    """``Prose`` with cumulative weights computed once (same text, much faster)."""

    def __init__(self, seed: int) -> None:
        super().__init__(seed)
        self.cum = list(itertools.accumulate(self.weights))

    def text(self, n_words: int) -> str:
        words = self.rng.choices(self.words, cum_weights=self.cum, k=n_words)
        out: list[str] = []
        for i, w in enumerate(words):
            out.append(w.capitalize() if i == 0 or out[-1].endswith(".") else w)
            if i % 14 == 13:
                out[-1] += "."
        return " ".join(out) + "."


def _set(span: Span, key: str, value: str | int) -> None:
    kv = next((kv for kv in span.attributes if kv.key == key), None) or \
        span.attributes.add(key=key)
    kv.value.CopyFrom(AnyValue(int_value=value) if isinstance(value, int)
                      else AnyValue(string_value=value))


def _run(rng: random.Random, prose: _Prose, start_ns: int) -> tuple[str, list[Span]]:
    """One agent run, varied: service, agent, model, tokens, failures, duration."""
    service = rng.choices(list(SERVICES), weights=SERVICE_WEIGHTS)[0]
    model, provider = rng.choices(MODELS, weights=MODEL_WEIGHTS)[0]
    spec = RunSpec(trace_id=rng.getrandbits(128).to_bytes(16, "big"), steps=rng.randint(1, 30),
                   start_ns=start_ns, agent=rng.choice(SERVICES[service]))
    spans = agent_run(spec, prose, rng, words_per_message=6)
    stretch = rng.lognormvariate(-1.0, 1.2)  # median run ~7 s, a few percent over 2 min
    error_rate = 0.08 if service == "billing-agent" else 0.02
    failed = False
    for span in spans:
        span.start_time_unix_nano, span.end_time_unix_nano = (
            start_ns + int((t - start_ns) * stretch)
            for t in (span.start_time_unix_nano, span.end_time_unix_nano))
        if span.name.startswith("chat"):
            span.name = f"chat {model}"
            _set(span, "gen_ai.request.model", model)
            _set(span, "gen_ai.response.model", model)
            _set(span, "gen_ai.provider.name", provider)
            _set(span, "gen_ai.usage.input_tokens", int(rng.lognormvariate(7.0, 1.0)))
            _set(span, "gen_ai.usage.output_tokens", rng.randint(20, 1500))
        elif span.name.startswith("execute_tool"):
            if rng.random() < 0.0005:
                _set(span, "gen_ai.tool.call.result", f"{prose.text(4)} {RARE_WORD} "
                                                      f"{prose.text(3)}")
            if rng.random() < error_rate:
                failed = True
                message = rng.choice(ERRORS)
                span.status.CopyFrom(Status(code=Status.STATUS_CODE_ERROR, message=message))
                _set(span, "error.type", message.split(":")[0])
        elif failed and rng.random() < 0.5:  # the root: half the runs do not recover
            span.status.CopyFrom(Status(code=Status.STATUS_CODE_ERROR, message="run failed"))
    return service, spans


def _request(spans: list[tuple[str, Span]]) -> bytes:
    """One OTLP request with a resource per service (concatenated messages merge)."""
    by_service: dict[str, list[Span]] = {}
    for service, span in spans:
        by_service.setdefault(service, []).append(span)
    return b"".join(encode_request(group, service) for service, group in by_service.items())


def make_chunk(task: tuple[int, int, int, int, int]) -> list[bytes]:
    """OTLP requests of one slice of the timeline: 16 concurrent runs, interleaved."""
    index, n_chunks, quota, seed, end_ns = task
    rng = random.Random(seed * 1_000_003 + index)
    prose = _Prose(seed)
    prose.rng = random.Random(seed * 7_919 + index)
    window = DAYS * 86_400 * 10**9 // n_chunks
    lo = end_ns - DAYS * 86_400 * 10**9 + index * window
    active: list[tuple[str, list[Span]]] = []
    pending: list[tuple[str, Span]] = []
    out: list[bytes] = []
    made = 0
    while made < quota or active:
        while made < quota and len(active) < 16:
            start = lo + window * made // quota + rng.randrange(window // 64)
            service, spans = _run(rng, prose, start)
            active.append((service, spans))
            made += len(spans)
        service, run = active[rng.randrange(len(active))]
        take = rng.randint(1, 4)
        pending += [(service, s) for s in run[:take]]
        del run[:take]
        active = [a for a in active if a[1]]
        if len(pending) >= REQUEST_SPANS:
            out.append(_request(pending[:REQUEST_SPANS]))
            pending = pending[REQUEST_SPANS:]
    if pending:
        out.append(_request(pending))
    return out


def build(path: Path, spans: int, seed: int) -> None:
    """Ingest the workload as ``tracevault serve`` does: worker process, group commit."""
    n_chunks = max(1, round(spans / CHUNK_SPANS))
    now = time.time_ns()
    tasks = [(i, n_chunks, spans // n_chunks, seed, now) for i in range(n_chunks)]
    t0 = time.perf_counter()
    store = DuckDBStore(path)
    workers = WorkerPool(max(1, (os.cpu_count() or 2) - 1))
    pipeline = IngestPipeline(store, workers=workers)
    lifting: deque[tuple[Job, Future[Any]]] = deque()
    committing: deque[Future[Any]] = deque()

    def drain(limit: int) -> None:
        while len(lifting) > limit:
            job, lifted = lifting.popleft()
            result = lifted.result()
            if result.error is not None:
                raise result.error
            committing.append(pipeline.submit_result(result, job))
        while len(committing) > limit:
            committing.popleft().result()

    try:
        with multiprocessing.Pool(1) as pool:
            for requests in pool.imap(make_chunk, tasks):
                for i, body in enumerate(requests):
                    job = Job("traces", "protobuf", body, affinity=i)
                    lifting.append((job, workers.submit(job)))
                    drain(2 * COMMIT_REQUESTS)
                print(f"\r  {pipeline.committed_spans:,} spans, "
                      f"{time.perf_counter() - t0:.0f} s", end="", flush=True)
            drain(0)
    finally:
        pipeline.stop()
        workers.close()
        store.close()
    print(f"\nbuilt {path} in {time.perf_counter() - t0:.0f} s")


def median_p95(times: list[float]) -> tuple[float, float]:
    """Median and 95th percentile (nearest rank)."""
    times = sorted(times)
    return statistics.median(times), times[max(0, math.ceil(0.95 * len(times)) - 1)]


def measure(fn: Callable[[Any], object], args: list[Any]) -> tuple[float, float]:
    """Median and p95 in ms of ``fn(arg)`` over ``args`` (after one untimed call)."""
    fn(args[0])
    times = []
    for arg in args:
        t0 = time.perf_counter()
        fn(arg)
        times.append((time.perf_counter() - t0) * 1000)
    return median_p95(times)


def fetch_rows(vault: tracevault.Vault, ids: list[str]) -> list[tuple[Any, ...]]:
    """``vault.trace(id)`` over ``ids``, and the part of it spent loading blobs."""
    store = vault.store
    load = store.load_blobs
    spent: list[float] = []

    def timed_load(hashes: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        found = load(hashes, **kwargs)
        spent[-1] += (time.perf_counter() - t0) * 1000
        return found

    def fetch(trace_id: str) -> None:
        spent.append(0.0)
        vault.trace(trace_id)

    store.load_blobs = timed_load
    try:
        med, p95 = measure(fetch, ids)
    finally:
        del store.load_blobs
    return [("trace(id), random traces", f"{len(ids)} ids", med, p95, FETCH_TARGET_MS),
            ("  of which loading blobs", "", *median_p95(spent[1:]), math.nan)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--spans", type=int, default=1_000_000)
    parser.add_argument("--store", type=Path, help="store to reuse (built there if missing)")
    parser.add_argument("--repeat", type=int, default=20, help="timed runs per page query")
    parser.add_argument("--fetches", type=int, default=200, help="random traces fetched")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--explain", action="store_true",
                        help="print EXPLAIN ANALYZE of page queries missing their target")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.store or Path(tmp) / "query.duckdb"
        if not path.exists():
            print(f"building a store of {args.spans:,} spans ...", flush=True)
            build(path, args.spans, args.seed)
        with tracevault.open(str(path), read_only=True) as vault:
            run(vault, path, args)


def run(vault: tracevault.Vault, path: Path, args: argparse.Namespace) -> None:
    """Time fetches and pages on an open store and print the table."""
    stats = vault.store.stats()
    cur = vault.store.cursor()
    print(f"store: {stats['spans']:,} spans, {stats['traces']:,} traces, {stats['blobs']:,} "
          f"blobs, {store_bytes(path) / 2**20:,.0f} MiB; duckdb {duckdb.__version__}, "
          f"cpu count {os.cpu_count()}")
    ids = [r[0] for r in cur.execute("SELECT trace_id FROM traces ORDER BY 1").fetchall()]
    sample = random.Random(args.seed).sample(ids, min(args.fetches, len(ids)))
    base_fetch = measure(lambda t: cur.execute("SELECT * FROM spans WHERE trace_id = ?",
                                               [t]).fetchall(), sample)
    rows = [(*row, base_fetch[0]) for row in fetch_rows(vault, sample)]
    page_sql = ("SELECT trace_id, min(start_ns) AS s FROM spans GROUP BY trace_id "
                "ORDER BY s DESC LIMIT 50")
    base_page = measure(lambda _: cur.execute(page_sql).fetchall(), [None] * args.repeat)
    missed = []
    for label, expr in QUERIES:
        matches = vault.store.count_traces(TraceQuery(filter=expr))
        med, p95 = measure(lambda e: vault.traces(filter=e, limit=50), [expr] * args.repeat)
        rows.append((label, f"{matches:,}", med, p95, PAGE_TARGET_MS, base_page[0]))
        if med > PAGE_TARGET_MS:
            missed.append(expr)
    print(f"\n{'query':28} {'matches':>9} {'median ms':>10} {'p95 ms':>9} {'target':>7} "
          f"{'x baseline':>10}  ok")
    for label, matches, med, p95, target, base in rows:
        goal, ok = ("", "") if math.isnan(target) else \
            (f"{target:.0f}", "yes" if med < target else "NO")
        print(f"{label:28} {matches:>9} {med:10.1f} {p95:9.1f} {goal:>7} "
              f"{med / base:10.1f}  {ok}")
    print(f"\nbaselines, median / p95 ms: SELECT * FROM spans WHERE trace_id = ? "
          f"{base_fetch[0]:.1f} / {base_fetch[1]:.1f}; newest 50 trace ids grouped from "
          f"spans {base_page[0]:.1f} / {base_page[1]:.1f}\nfilters:")
    for label, expr in QUERIES:
        print(f"  {label:28} {expr or '-'}")
    for expr in missed if args.explain else []:
        source, params = vault.store._traces_from(TraceQuery(filter=expr))
        sql = f"SELECT *{source} ORDER BY t.start_ns DESC, t.trace_id LIMIT 50"
        plan = cur.execute("EXPLAIN ANALYZE " + sql, params).fetchall()[0][1]
        print(f"\n--- EXPLAIN ANALYZE of the page for {expr or '(no filter)'}\n{plan}")


if __name__ == "__main__":
    main()
