"""Shared fixtures: shared real-producer data, stores, in-process apps, real servers."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

SHARED = Path(os.environ.get("TRACEVAULT_SHARED_DATA",
                             Path(__file__).resolve().parents[2] / "shared" / "data"))


def shared(*parts: str) -> Path:
    """A file under ../shared/data, skipping the test only where that folder is absent."""
    path = SHARED.joinpath(*parts)
    if not SHARED.is_dir():
        pytest.skip("shared real-producer data (../shared/data) is not present")
    assert path.exists(), f"missing shared fixture {path}"
    return path


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Never touch the user's ~/.tracevault store from tests.
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("TRACEVAULT_STORE", raising=False)
    monkeypatch.delenv("TRACEVAULT_API_KEYS", raising=False)
    monkeypatch.delenv("TRACEVAULT_API_KEY", raising=False)


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "store.duckdb"


@pytest.fixture
def store(store_path: Path) -> Iterator[object]:
    from tracevault.store import DuckDBStore

    s = DuckDBStore(store_path)
    yield s
    s.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RunningServer:
    """``tracevault serve`` as a real subprocess."""

    def __init__(self, store: Path, *args: str, env: dict[str, str] | None = None,
                 grpc: bool = True) -> None:
        self.store = store
        self.port = free_port()
        self.grpc_port = free_port() if grpc else 0
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = store.parent / f"server-{self.port}.log"
        full_env = dict(os.environ, **(env or {}))
        self._log_file = self.log.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tracevault", "serve", "--store", str(store),
             "--port", str(self.port), "--grpc-port", str(self.grpc_port), *args],
            env=full_env, stdout=self._log_file, stderr=subprocess.STDOUT,
        )
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()}")
            try:
                if httpx.get(self.url + "/api/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not start: {self.log.read_text()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log_file.close()


@pytest.fixture
def server(store_path: Path) -> Iterator[RunningServer]:
    srv = RunningServer(store_path)
    yield srv
    srv.stop()


@pytest.fixture
def app_client(store_path: Path) -> Iterator[object]:
    """The ASGI app in-process (lifespan running), ingesting in-process."""
    from fastapi.testclient import TestClient

    from tracevault.config import Settings
    from tracevault.server import create_app

    settings = Settings.load(store=str(store_path), grpc_port=0, ingest_workers=0)
    with TestClient(create_app(settings)) as client:
        yield client


def load_json(path: Path) -> object:
    import gzip

    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return json.loads(data)
