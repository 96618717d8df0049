"""Shared helpers for the exchange tests: writable demo copies, stores, comparisons."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

import tracevault
from tracevault.evals import Score


@pytest.fixture
def demo(tmp_path: Path, demo_store: tuple[Path, list[Any]]) -> tuple[Path, list[Any]]:
    """A writable copy of the demo store, and its runs."""
    path = tmp_path / "demo.duckdb"
    shutil.copy(demo_store[0], path)
    return path, demo_store[1]


def add_demo_scores(path: Path, runs: list[Any]) -> list[Score]:
    """A trace-level and a span-level score per demo run; returns them."""
    scores = []
    with tracevault.open(str(path)) as vault:
        for run in runs:
            trace = vault.trace(run.trace_id)
            llm = next(s for s in trace.spans if s.kind == "llm")
            scores += [
                Score("tests_pass", passed=run.ok, trace_id=run.trace_id,
                      evaluator={"name": "tests_pass", "args": {}}, metadata={"n": 3}),
                Score("helpfulness", value=0.5, label="ok", trace_id=run.trace_id,
                      span_id=llm.span_id, source="human", author="ana",
                      explanation="checked by hand", run_id="labels-1"),
            ]
        assert vault.add_scores(scores) == len(scores)
    return scores


def traces_of(path: Path) -> dict[str, dict[str, Any]]:
    """Every trace of a store as ``get_trace`` returns it, by trace id."""
    with tracevault.open(str(path), read_only=True) as vault:
        return {t.trace_id: vault.store.get_trace(t.project, t.trace_id)
                for t in vault.traces(limit=10_000)}


def scores_of(path: Path) -> dict[str, dict[str, Any]]:
    """Every score of a store by score id."""
    with tracevault.open(str(path), read_only=True) as vault:
        return {s.score_id: s.to_dict() for s in vault.scores(limit=100_000)}


def stats_of(path: Path) -> dict[str, Any]:
    """Row counts of a store (without the file size, which a checkpoint may change)."""
    with tracevault.open(str(path), read_only=True) as vault:
        stats = vault.store.stats()
        stats["scores"] = len(vault.scores(limit=100_000))
    stats.pop("bytes")
    return stats
