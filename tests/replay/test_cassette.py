"""The cassette: the demo harness re-run on a recorded trace, and the diff of a change."""

from __future__ import annotations

import pytest

import tracevault
from tracevault.demo import rerun_team
from tracevault.demo._team import TASK
from tracevault.replay import Cassette, CassetteMiss, content_of, diff_spans
from tracevault.testing import FakeModel

pytestmark = pytest.mark.slow


def test_rerun_of_the_demo_harness_equals_the_recording(vault, good, tmp_path) -> None:
    cassette = vault.cassette(good.trace_id)
    store = str(tmp_path / "rerun.duckdb")
    with cassette.install(tmp_path / "cassette.json") as base_url:
        run = rerun_team(store, tmp_path / "work", base_url, "demo-model-good")
    assert cassette.misses == [] and run.ok
    original = vault.trace(good.trace_id)
    with tracevault.open(store, read_only=True) as other:
        rerun = other.trace(run.trace_id)
    assert rerun.trace_id != original.trace_id
    assert content_of(rerun.spans) == content_of(original.spans)
    # the coder ran in its own process, served from the same cassette
    assert {s.resource.service_name for s in rerun.spans} == {"demo-team", "demo-coder"}


def test_a_changed_harness_shows_in_the_diff(vault, good, tmp_path) -> None:
    cassette = vault.cassette(good.trace_id)
    store = str(tmp_path / "rerun.duckdb")
    with cassette.install(tmp_path / "cassette.json") as base_url:
        run = rerun_team(store, tmp_path / "work", base_url, "demo-model-good",
                         task=TASK + " Keep the change small.")
    assert cassette.misses and all("was not recorded" in m for m in cassette.misses)
    with tracevault.open(store, read_only=True) as other:
        rerun = other.trace(run.trace_id)
    diff = diff_spans(good.trace_id, vault.trace(good.trace_id).spans, rerun.trace_id,
                      rerun.spans)
    assert not diff.equal_content
    changed = {(s.agent, s.index) for s in diff.changed_steps}
    assert changed == {("planner", 0), ("planner", 1), ("planner", 2)}
    assert all(s.same for s in diff.steps)  # same decisions, served from the recording
    assert diff.changed_tools == []


def test_strict_cassette_refuses_unrecorded_calls(vault, good, tmp_path) -> None:
    cassette = Cassette.from_spans(vault.trace(good.trace_id).spans, strict=True)
    with pytest.raises(CassetteMiss):
        cassette.respond({"messages": [{"role": "user", "content": "never seen"}]})
    loaded = Cassette.load(cassette.save(tmp_path / "c.json"))
    assert loaded.strict and len(loaded.calls) == len(cassette.calls)
    with loaded.install(tmp_path / "c2.json") as base_url:
        from openai import BadRequestError, OpenAI

        client = OpenAI(base_url=base_url, api_key="x", max_retries=0)
        with pytest.raises(BadRequestError, match="not recorded"):
            client.chat.completions.create(model="m", messages=[
                {"role": "user", "content": "never seen"}])


def test_diff_of_two_different_runs(vault, demo_copy) -> None:
    runs = demo_copy[1]
    good, bad = runs[0], runs[1]
    diff = vault.diff(good.trace_id, bad.trace_id)
    assert not diff.equal_content
    researcher = [s for s in diff.steps if s.agent == "researcher"]
    assert [s.same for s in researcher] == [True, False]
    write = next(t for t in diff.tools if t.a_name == "write_file")
    assert write.arguments_changed and "SCHEMA_VERSION = 1" in write.b_arguments["content"]
    tests = [t for t in diff.tools if t.a_name == "run_tests"][-1]
    assert tests.result_changed and "2 failed" in tests.b_result
    assert diff.tokens[0] > 0 and diff.cost_usd[0] > 0
    same = vault.diff(good.trace_id, runs[2].trace_id)
    assert same.changed_steps == [] and same.changed_tools == []
    with FakeModel({"model": "unused"}):
        assert vault.diff(good.trace_id, good.trace_id).equal_content
