"""Scores: append-only, ledgered, filterable, purged with their traces, written by REST."""

import shutil
import threading

import httpx
import pytest

import tracevault
from tests.conftest import RunningServer
from tracevault._exceptions import InputError
from tracevault.evals import Score
from tracevault.testing import workload_requests

PB = {"Content-Type": "application/x-protobuf"}


@pytest.fixture
def demo(tmp_path, demo_store):
    path = tmp_path / "demo.duckdb"
    shutil.copy(demo_store[0], path)
    return path, {r.variant: r.trace_id for r in demo_store[1]}


def test_scores_are_stored_once_in_the_ledger_and_checked_by_verify(demo) -> None:
    path, runs = demo
    with tracevault.open(str(path)) as vault:
        bad = runs["bad_research"]
        judged = Score("helpfulness", value=0.25, trace_id=bad, source="human", author="ana",
                       explanation="used the retired schema")
        head = vault.store.ledger_head()["seq"]
        assert vault.add_scores([judged, Score("tests_pass", passed=False, trace_id=bad)]) == 2
        assert vault.store.ledger_head()["seq"] == head + 1  # one commit for the write
        assert vault.add_scores([judged]) == 0  # the same score id again: nothing new
        got = vault.scores(bad)
        assert [(s.name, s.value, s.passed, s.author) for s in got] == [
            ("helpfulness", 0.25, None, "ana"), ("tests_pass", None, False, None)]
        assert got[0] == judged
        assert vault.scores(runs["good"]) == []
        with pytest.raises(InputError, match="not in project 'default'"):
            vault.add_scores([Score("x", value=1, trace_id="0" * 32)])
        with pytest.raises(InputError, match="no value, label or passed"):
            Score("x", trace_id=bad)
        assert vault.store.verify().ok
        vault.store.cursor().execute("UPDATE scores SET value = 0.9 WHERE name = 'helpfulness'")
        problems = vault.store.verify().problems
        assert [(p.kind, p.table) for p in problems] == [("altered", "scores")]


def test_the_filter_language_selects_traces_by_score(demo) -> None:
    path, runs = demo
    with tracevault.open(str(path)) as vault:
        vault.add_scores([Score("quality", value=v, trace_id=runs[k])
                          for k, v in (("good", 0.9), ("bad_research", 0.2))])
        vault.add_scores([Score("tests_pass", passed=k == "good", trace_id=runs[k])
                          for k in ("good", "bad_research")])
        vault.add_scores([Score("quality", value=0.95, trace_id=runs["bad_research"],
                                run_id="second")])  # the latest score of a name counts

        def ids(expr: str) -> set[str]:
            return {t.trace_id for t in vault.traces(filter=expr, limit=100)}

        assert ids("score.quality > 0.5") == {runs["good"], runs["bad_research"]}
        assert ids("score.quality >= 0.95") == {runs["bad_research"]}
        assert ids("score.tests_pass < 0.5") == {runs["bad_research"]}
        assert ids("score.tests_pass.passed = true") == {runs["good"]}
        assert ids("score.quality exists") == {runs["good"], runs["bad_research"]}
        every = {t.trace_id for t in vault.traces(limit=100)}
        assert len(every) == 3
        assert ids("not score.quality exists") == every - {runs["good"], runs["bad_research"]}
        with pytest.raises(tracevault.FilterSyntaxError, match="column 1: unknown field"):
            ids("score.quality.mean > 1")


def test_a_purge_removes_the_scores_of_purged_traces(demo) -> None:
    path, runs = demo
    with tracevault.open(str(path)) as vault:
        every = [t.trace_id for t in vault.traces(limit=100)]
        vault.add_scores([Score("quality", value=0.5, trace_id=t) for t in every])
        vault.store.set_retention_policy("researcher", keep_days=0, agent="researcher")
        vault.store.add_legal_hold("keep-good", reason="reference run",
                                   trace_ids=[runs["good"]])
        vault.store.apply_retention()
        assert [s.trace_id for s in vault.scores()] == [runs["good"]]
        assert vault.store.verify().ok


def test_scores_commit_between_ingest_batches_of_a_running_server(tmp_path, demo) -> None:
    """Score writes renumber the batches staged around them; nothing is lost."""
    path, runs = demo
    streams = [[b for b, _ in workload_requests(1500, batch_size=50, seed=i)] for i in range(3)]
    expected = 0
    with RunningServer(path, env={"TRACEVAULT_INGEST_WORKERS": "1"}, grpc=False) as srv:
        def send(bodies: list[bytes]) -> None:
            with httpx.Client(base_url=srv.url, timeout=60) as c:
                for body in bodies:
                    assert c.post("/v1/traces", content=body, headers=PB).status_code == 200

        threads = [threading.Thread(target=send, args=(s,)) for s in streams]
        for t in threads:
            t.start()
        with httpx.Client(base_url=srv.url, timeout=60) as c:
            for i in range(40):
                r = c.post("/api/scores", json={"scores": [
                    {"name": "n", "value": i, "trace_id": runs["good"]}]})
                assert r.status_code == 200 and r.json() == {"written": 1}
                expected += 1
            for t in threads:
                t.join()
            verified = c.get("/api/verify").json()
            assert verified["ok"], verified["problems"][:3]
            stats = c.get("/api/stats").json()
            assert len(c.get("/api/scores", params={"name": "n"}).json()["scores"]) == expected
    with tracevault.open(str(path), read_only=True) as vault:
        assert vault.store.stats()["spans"] == stats["spans"]
        assert sorted(s.value for s in vault.scores(name="n")) == list(range(expected))
