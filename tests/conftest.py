"""Shared fixtures: shared real-producer data, stores, in-process apps, real servers."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tracevault.testing import PostgresCluster, ServerProcess

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


class RunningServer(ServerProcess):
    """``tracevault serve`` as a real subprocess (see ``tracevault.testing``)."""


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


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[object]]:
    """The multi-agent demo recorded once per session: (store path, runs). Read only."""
    from tracevault.demo import run_demo

    root = tmp_path_factory.mktemp("demo")
    store = root / "demo.duckdb"
    runs = run_demo(str(store), root / "work")
    return store, runs


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    """A private PostgreSQL cluster for DuckLake catalogs (fails clearly when not installed)."""
    cluster = PostgresCluster()
    yield cluster
    cluster.stop()


@pytest.fixture
def lake_url(postgres: PostgresCluster, tmp_path: Path) -> str:
    """A ``ducklake:postgres://`` URL on a fresh catalog database and data directory."""
    return postgres.lake_url(tmp_path / "lake-data")
