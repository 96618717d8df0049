"""Shared helpers for the benchmarks: a server subprocess, free ports, peak memory."""

from __future__ import annotations

from pathlib import Path

from tracevault.testing import ServerProcess


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


class Server(ServerProcess):
    """``tracevault serve`` in a subprocess on a fresh store (no gRPC)."""

    def __init__(self, store: Path, extra_env: dict[str, str] | None = None) -> None:
        super().__init__(store, env=extra_env, grpc=False)


def store_bytes(path: Path) -> int:
    total = 0
    for p in (path, Path(str(path) + ".wal")):
        if p.exists():
            total += p.stat().st_size
    return total
