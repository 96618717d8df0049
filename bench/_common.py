"""Shared helpers for the benchmarks: a server subprocess, free ports, peak memory."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def peak_rss_mb(pid: int) -> float:
    """Peak resident memory (VmHWM) of a live process, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child_pids(pid: int) -> list[int]:
    """Direct children of a process (the server's ingest workers)."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry.name))
    return out


class Server:
    """``tracevault serve`` in a subprocess on a fresh store."""

    def __init__(self, store: Path, extra_env: dict[str, str] | None = None) -> None:
        self.store = store
        self.port = free_port()
        env = dict(os.environ, **(extra_env or {}))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tracevault", "serve", "--store", str(store),
             "--port", str(self.port), "--grpc-port", "0"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                if httpx.get(self.url + "/api/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("server did not start")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def store_bytes(path: Path) -> int:
    total = 0
    for p in (path, Path(str(path) + ".wal")):
        if p.exists():
            total += p.stat().st_size
    return total
