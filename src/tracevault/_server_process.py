"""``tracevault serve`` in a subprocess: for tests, benchmarks and users' own test suites."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

__all__ = ["ServerProcess", "free_port"]


def free_port() -> int:
    """A TCP port free on the loopback interface right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    """Start ``tracevault serve`` on a store and wait until it answers.

    Output goes to ``<store dir>/server-<port>.log`` (``log_dir`` for a DuckLake URL). Use
    as a context manager, or call ``stop()`` (SIGINT, so the server checkpoints and exits cleanly).
    """

    def __init__(self, store: str | os.PathLike[str], *args: str,
                 env: dict[str, str] | None = None, grpc: bool = True,
                 port: int | None = None, timeout: float = 30.0,
                 log_dir: str | os.PathLike[str] | None = None) -> None:
        is_url = str(store).startswith("ducklake:")
        self.store: Path | str = str(store) if is_url else Path(store)
        self.port = port or free_port()
        self.grpc_port = free_port() if grpc else 0
        self.url = f"http://127.0.0.1:{self.port}"
        folder = Path(log_dir) if log_dir is not None else (
            Path(tempfile.gettempdir()) if is_url else Path(store).parent)
        self.log = folder / f"server-{self.port}.log"
        self._log_file = self.log.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tracevault", "serve", "--store", str(self.store),
             "--port", str(self.port), "--grpc-port", str(self.grpc_port), *args],
            env=dict(os.environ, **(env or {})), stdout=self._log_file,
            stderr=subprocess.STDOUT,
        )
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                self._log_file.close()
                raise RuntimeError(f"server exited: {self.log.read_text()}")
            try:
                if httpx.get(self.url + "/api/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not start: {self.log.read_text()}")

    @property
    def pid(self) -> int:
        """The server's process id."""
        return self.proc.pid

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the server gracefully (SIGINT), killing it after ``timeout``."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if not self._log_file.closed:
            self._log_file.close()

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
