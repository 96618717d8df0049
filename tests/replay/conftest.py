"""A writable copy of the demo store for each test (replays are recorded into it)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

import tracevault


@pytest.fixture
def demo_copy(demo_store, tmp_path: Path) -> tuple[Path, list]:
    path = tmp_path / "demo.duckdb"
    shutil.copy(demo_store[0], path)
    return path, demo_store[1]


@pytest.fixture
def vault(demo_copy) -> Iterator[tracevault.Vault]:
    with tracevault.open(str(demo_copy[0])) as v:
        yield v


@pytest.fixture
def good(demo_copy):
    return next(r for r in demo_copy[1] if r.variant == "good")
