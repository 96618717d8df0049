"""The demo's recorded runs, read for eval tests (the session store is never written)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tracevault

TOKEN_PRICE_USD = 0.5 / 1_000_000
"""The demo's price list: every token costs this much."""


@dataclass
class DemoTrace:
    run: str
    variant: str
    trace_id: str
    summary: Any
    spans: list[Any]


def demo_traces(demo_store: tuple[Path, list[Any]]) -> dict[str, DemoTrace]:
    """``run-1`` (good), ``run-2`` (bad_research), ``run-3`` (good), read only."""
    store, runs = demo_store
    out = {}
    with tracevault.open(str(store), read_only=True) as vault:
        for r in runs:
            trace = vault.trace(r.trace_id)
            out[r.run] = DemoTrace(r.run, r.variant, r.trace_id, trace.summary, trace.spans)
    return out


def writable_copy(demo_store: tuple[Path, list[Any]], tmp_path: Path) -> Path:
    """A copy of the demo store that tests may write to."""
    target = tmp_path / "demo-copy.duckdb"
    shutil.copyfile(demo_store[0], target)
    return target
