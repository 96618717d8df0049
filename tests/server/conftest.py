from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest
from fastapi.testclient import TestClient

from tracevault.config import Settings
from tracevault.server import create_app


@pytest.fixture
def make_client(store_path) -> Iterator[Callable[..., TestClient]]:
    """In-process app (lifespan running) with settings overrides."""
    with ExitStack() as stack:
        def make(**overrides: object) -> TestClient:
            overrides.setdefault("grpc_port", 0)
            overrides.setdefault("ingest_workers", 0)
            settings = Settings.load(store=str(store_path), **overrides)
            return stack.enter_context(TestClient(create_app(settings)))
        yield make
