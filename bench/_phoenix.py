"""Arize Phoenix, run beside tracevault on the same machine and workload.

Phoenix is an optional benchmark dependency, installed into its own virtual environment
(``bench/.phoenix-venv``) the first time it is needed, so its dependencies never mix
with tracevault's. Phoenix acknowledges OTLP before writing, so "durable and queryable"
is measured as the time until its SQLite database holds every span.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from _common import child_pids, peak_rss_mb

from tracevault.testing import free_port

VENV = Path(__file__).parent / ".phoenix-venv"
PHOENIX = "arize-phoenix==20.26.*"


def phoenix_python() -> Path:
    """The venv interpreter with Phoenix installed (installing it when missing)."""
    python = VENV / "bin" / "python"
    if not (VENV / "bin" / "phoenix").exists():
        print(f"installing {PHOENIX} into {VENV} (once) ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", PHOENIX], check=True)
    return python


def run_phoenix(streams: list[list[tuple[bytes, int]]]) -> dict[str, float]:
    """Send the streams to a fresh Phoenix; returns the same metrics as tracevault's run."""
    python = phoenix_python()
    total = sum(n for stream in streams for _, n in stream)
    with tempfile.TemporaryDirectory() as work:
        port = free_port()
        env = dict(os.environ, PHOENIX_WORKING_DIR=work, PHOENIX_PORT=str(port),
                   PHOENIX_GRPC_PORT=str(free_port()))
        log = open(Path(work) / "phoenix.log", "wb")  # noqa: SIM115
        proc = subprocess.Popen([str(python), "-m", "phoenix.server.main", "serve"], env=env,
                                stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.time() + 120
            while True:
                try:
                    if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.time() > deadline or proc.poll() is not None:
                    raise RuntimeError("Phoenix did not start")
                time.sleep(0.5)
            db = Path(work) / "phoenix.db"

            def send(stream: list[tuple[bytes, int]]) -> None:
                with httpx.Client(timeout=300) as client:
                    for body, _ in stream:
                        client.post(url + "/v1/traces", content=body,
                                    headers={"Content-Type": "application/x-protobuf"}
                                    ).raise_for_status()

            t0 = time.perf_counter()
            with cf.ThreadPoolExecutor(len(streams)) as pool:
                list(pool.map(send, streams))
            acked = time.perf_counter() - t0
            while True:
                with sqlite3.connect(db) as con:
                    stored = con.execute("SELECT count(*) FROM spans").fetchone()[0]
                if stored >= total:
                    break
                if time.perf_counter() - t0 > 1800:
                    raise RuntimeError(f"Phoenix stored {stored} of {total} spans in 30 min")
                time.sleep(0.2)
            durable = time.perf_counter() - t0
            peak = peak_rss_mb(proc.pid) + sum(peak_rss_mb(p) for p in child_pids(proc.pid))
            size = sum(p.stat().st_size for p in Path(work).glob("phoenix.db*"))
        finally:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.close()
    return {"spans_per_s_acked": total / acked, "spans_per_s_queryable": total / durable,
            "bytes_per_span": size / total, "peak_mb": peak}
