"""Bundles through a running server: the CLI reads and writes the store over REST."""

from __future__ import annotations

import json

import pytest

import tracevault
from tests.conftest import RunningServer

from .conftest import add_demo_scores, scores_of, traces_of
from .test_cli import _tv


@pytest.mark.slow
def test_bundles_move_through_running_servers(demo, tmp_path) -> None:
    path, runs = demo
    add_demo_scores(path, runs)
    expected, expected_scores = traces_of(path), scores_of(path)
    bundle = tmp_path / "b.tvbundle"
    with RunningServer(path, grpc=False):
        done = _tv("export", "--store", str(path), "--format", "bundle", "-o", str(bundle))
        assert done.returncode == 0, done.stderr
    target = tmp_path / "target.duckdb"
    with RunningServer(target, grpc=False):
        for stored in (129, 0):  # the second import finds everything stored
            loaded = _tv("bundle", "import", str(bundle), "--store", str(target), "--json")
            assert loaded.returncode == 0, loaded.stderr
            report = json.loads(loaded.stdout)
            assert (report["stored_spans"], report["mismatched"]) == (stored, [])
    assert traces_of(target) == expected
    flags = "SELECT span_id, flags, trace_state FROM spans ORDER BY span_id"
    with tracevault.open(str(path), read_only=True) as a, \
            tracevault.open(str(target), read_only=True) as b:
        assert a.sql(flags).to_pylist() == b.sql(flags).to_pylist()
    assert scores_of(target) == expected_scores
    assert _tv("verify", "--store", str(target)).returncode == 0
