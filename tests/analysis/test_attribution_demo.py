"""Failure attribution from trace signals alone on the demo's runs (no model)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

import tracevault
from tracevault._exceptions import ConfigError
from tracevault.analysis import (
    DEFAULT_STRATEGY,
    Attribution,
    RunView,
    attribute,
    attribute_trace,
    attribution_score,
    register_strategy,
    strategies,
)
from tracevault.analysis._attribution_run import _REGISTRY
from tracevault.analysis._attribution_signals import contradiction

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(demo_store):
    store, runs = demo_store
    bad = next(r.trace_id for r in runs if r.variant == "bad_research")
    good = [r.trace_id for r in runs if r.variant == "good"]
    return store, bad, good


@pytest.fixture
def writable(demo, tmp_path):
    store, bad, good = demo
    path = tmp_path / "demo-copy.duckdb"
    shutil.copy(store, path)
    return path, bad, good


def _decision(vault, trace_id, agent, text):
    """The model call of ``agent`` whose output contains ``text``, and its step span."""
    trace = vault.trace(trace_id)
    by_id = {s.span_id: s for s in trace.spans}
    for s in trace.spans:
        out = " ".join(p.content for m in s.detail.output_messages for p in m.parts
                       if p.type == "text") if s.kind == "llm" else ""
        if s.kind == "llm" and text in out and s.agent and s.agent.name == agent:
            return s, by_id[s.parent_span_id]
    raise AssertionError("decision not found")


def test_trace_signals_name_the_researcher_at_step_1(demo) -> None:
    store, bad, _ = demo
    with tracevault.open(str(store), read_only=True) as vault:
        decision, step = _decision(vault, bad, "researcher", "Use config schema version 1")
        search = next(s for s in vault.trace(bad).spans
                      if s.kind == "tool" and s.detail.name == "search_docs")
        result = attribute_trace(vault, bad, store=False)
    assert step.harness.step_index == 1
    assert result.verdict == "attributed" and result.strategy == "first_error"
    assert (result.agent, result.step_index, result.step) == ("researcher", 1, "researcher:1")
    assert result.span_id == decision.span_id and result.trace_id == bad
    assert result.evidence[0] == decision.span_id and search.span_id in result.evidence
    assert "version 1" in result.reason and "retired" in result.reason
    assert result.confidence == 0.8
    assert result.details["args"]["strategy"] == DEFAULT_STRATEGY
    assert result.details["tried"] == {"policy": "no signal"}


def test_each_signal_on_the_failing_run(demo) -> None:
    store, bad, good = demo
    with tracevault.open(str(store), read_only=True) as vault:
        decision, _ = _decision(vault, bad, "researcher", "Use config schema version 1")
        first = attribute_trace(vault, bad, store=False, strategy="first_error")
        auto = attribute_trace(vault, bad, store=False, strategy="divergence")
        given = attribute_trace(vault, bad, store=False, strategy="divergence",
                                reference=good[1])
        loops = attribute_trace(vault, bad, store=False, strategy="loops")
        policy = attribute_trace(vault, bad, store=False, strategy="policy")
    assert (first.agent, first.step_index, first.span_id) == ("researcher", 1, decision.span_id)
    # the automatic reference is the successful run of the same task nearest in time
    assert auto.details["reference"] in good and auto.span_id == decision.span_id
    assert (auto.agent, auto.step) == ("researcher", "researcher:1")
    assert "same context" in auto.reason and auto.confidence == 0.8
    assert given.details["reference"] == good[1] and given.span_id == decision.span_id
    # the coder's test run timed out and was retried: the loop signal points there
    assert (loops.agent, loops.step_index, loops.strategy) == ("coder", 2, "loops")
    assert "retried step 2" in loops.reason
    assert policy.verdict == "unattributed" and policy.agent is None
    assert "no strategy found the cause" in policy.reason


def test_good_runs_have_no_failure(demo) -> None:
    store, _, good = demo
    with tracevault.open(str(store), read_only=True) as vault:
        for trace_id in good:
            for strategy in (DEFAULT_STRATEGY, "loops"):
                result = attribute_trace(vault, trace_id, store=False, strategy=strategy)
                assert result.verdict == "no_failure" and result.agent is None
                assert result.reason.startswith("no failure:")
        # asked anyway, the recovered timeout is no failure and nothing else signals
        forced = attribute_trace(vault, good[0], store=False, strategy="first_error",
                                 assume_failed=True)
    assert forced.verdict == "unattributed"


def test_vote_and_composition(demo) -> None:
    store, bad, _ = demo
    with tracevault.open(str(store), read_only=True) as vault:
        voted = attribute_trace(vault, bad, store=False, combine="vote",
                                strategy="loops+first_error+divergence")
        first = attribute_trace(vault, bad, store=False, strategy=["loops", "first_error"])
    assert voted.strategy == "vote(loops+first_error+divergence)"
    assert (voted.agent, voted.step_index) == ("researcher", 1)
    assert voted.details["votes"] == {"coder:2": ["loops"],
                                      "researcher:1": ["first_error", "divergence"]}
    assert voted.confidence == round((0.8 + 0.8) / 3, 3)
    assert (first.agent, first.strategy) == ("coder", "loops")


def test_custom_strategy_and_unknown_names(demo) -> None:
    store, bad, _ = demo

    @register_strategy("blame_root")
    def blame_root(run: RunView) -> Attribution | None:
        return run.attribution(run.root, "the root", [], "blame_root", 0.1)

    try:
        assert "blame_root" in strategies()
        with tracevault.open(str(store), read_only=True) as vault:
            spans = vault.trace(bad).spans
        result = attribute(spans, strategy="policy+blame_root")
    finally:
        _REGISTRY.pop("blame_root")
    assert (result.agent, result.strategy, result.step) == ("planner", "blame_root", None)
    with pytest.raises(ConfigError, match="unknown attribution strategy 'nope'"):
        attribute(spans, strategy="first_error+nope")
    with pytest.raises(ConfigError, match="needs a model"):
        attribute(spans, strategy="all_at_once")
    with pytest.raises(ConfigError, match="combine"):
        attribute(spans, combine="majority")


def test_answer_is_stored_as_a_score(writable) -> None:
    path, bad, good = writable
    with tracevault.open(str(path)) as vault:
        result = attribute_trace(vault, bad)
        attribute_trace(vault, good[0])  # no failure: nothing stored
        scores = vault.scores(name="attribution")
    assert len(scores) == 1
    (score,) = scores
    assert score.score_id == result.details["score_id"]
    assert (score.label, score.value, score.source) == ("researcher", 1.0, "attribution")
    assert score.trace_id == bad and score.span_id == result.span_id
    assert score.explanation == result.reason
    assert score.evaluator["name"] == "first_error"
    assert score.evaluator["args"]["strategy"] == DEFAULT_STRATEGY
    assert score.metadata["step"] == "researcher:1"
    assert score.metadata["evidence"] == result.evidence
    with pytest.raises(ConfigError, match="nothing to store"):
        attribution_score(Attribution(None, None, None, None, "x", verdict="no_failure"))


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tracevault", *args], capture_output=True,
                          text=True)


def test_cli_explain(writable) -> None:
    path, bad, good = writable
    proc = _cli("attribution", bad, "--store", str(path), "--no-store")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "researcher at step 1 (researcher:1): first_error, confidence 0.8"
    assert "stored as score" not in proc.stdout
    proc = _cli("attribution", "explain", bad, "--store", str(path), "--json",
                "--strategy", "divergence", "--reference", good[0])
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert (data["agent"], data["step_index"], data["strategy"]) == ("researcher", 1,
                                                                    "divergence")
    assert data["details"]["reference"] == good[0] and data["details"]["score_id"]
    with tracevault.open(str(path), read_only=True) as vault:
        assert [s.score_id for s in vault.scores(name="attribution")] == \
            [data["details"]["score_id"]]
    proc = _cli("attribution", good[0], "--store", str(path))
    assert proc.returncode == 0 and proc.stdout.startswith("no failure:")
    for args, message in ((["0" * 32], "not found"),
                          ([bad, "--strategy", "nope"], "unknown attribution strategy"),
                          ([bad, "--strategy", "step_by_step"], "needs a model")):
        proc = _cli("attribution", *args, "--store", str(path), "--no-store")
        assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
        assert message in proc.stderr


def test_contradiction_rules() -> None:
    doc = ("Config schema version 2 (current): fields name and retries. Version 1 is "
           "retired: it had no retries field.")
    assert "retired" in contradiction("Use config schema version 1.", doc)
    assert contradiction("Use config schema version 2.", doc) is None
    assert contradiction("Use version 2, not version 1.", doc) is None
    assert "as current" in contradiction("Use version 3.", doc)
    assert contradiction("The answer is 42.", doc) is None
    assert contradiction("Listen on port 8000.", "The service listens on port 8080.") is None
