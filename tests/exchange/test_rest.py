"""REST export: bundles and OTLP JSON lines streamed by the server."""

from __future__ import annotations

from fastapi.testclient import TestClient

import tracevault
from tracevault.config import Settings
from tracevault.exchange import import_bundle
from tracevault.server import create_app

from .conftest import add_demo_scores, scores_of, traces_of


def test_export_route_streams_bundles_and_otlp_json(demo, tmp_path) -> None:
    path, runs = demo
    add_demo_scores(path, runs)
    expected_traces, expected_scores = traces_of(path), scores_of(path)
    settings = Settings.load(store=str(path), grpc_port=0, ingest_workers=0)
    with TestClient(create_app(settings)) as client:
        bundle = client.get("/api/export", params={"format": "bundle"})
        otlp = client.get("/api/export", params={"format": "otlp-json",
                                                 "filter": "trace.status = error"})
        wrong = client.get("/api/export", params={"format": "csv"})
        audit = client.get("/api/audit").json()
    assert bundle.status_code == 200, bundle.text
    assert bundle.headers["content-type"] == "application/zip"
    (tmp_path / "b.tvbundle").write_bytes(bundle.content)
    with tracevault.open(str(tmp_path / "target.duckdb")) as vault:
        info = import_bundle(vault, tmp_path / "b.tvbundle")
    assert info.counts == {"traces": 3, "spans": 129, "logs": 0, "scores": 6}
    assert traces_of(tmp_path / "target.duckdb") == expected_traces
    assert scores_of(tmp_path / "target.duckdb") == expected_scores

    assert otlp.status_code == 200
    (tmp_path / "o.jsonl").write_bytes(otlp.content)
    with tracevault.open(str(tmp_path / "o.duckdb")) as vault:
        vault.import_file(tmp_path / "o.jsonl")
    failed = {r.trace_id for r in runs if not r.ok}
    copied = traces_of(tmp_path / "o.duckdb")
    assert set(copied) == failed
    assert all(copied[t]["spans"] == expected_traces[t]["spans"] for t in failed)
    assert wrong.status_code == 400 and "format must be one of" in wrong.text
    actions = [e["action"] for e in audit["entries"]]
    assert "read.export.bundle" in actions and "read.export.otlp-json" in actions
