"""Converters: the demo as OpenAI chat messages, and as an Inspect AI log inspect_ai reads."""

from __future__ import annotations

import json

import pytest
from inspect_ai.log import read_eval_log

import tracevault
from tracevault.evals import run_evals, to_inspect_log, to_openai_messages

from ._demo import demo_traces, writable_copy

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def runs(demo_store):
    return demo_traces(demo_store)


def test_openai_messages_of_the_whole_team(runs) -> None:
    messages = to_openai_messages(runs["run-1"].spans)
    assert [m["role"] for m in messages] == [
        "system", "user",
        "assistant",                # planner → delegate(researcher)
        "assistant", "tool",        # researcher: search_docs and its result
        "tool",                     # the researcher's answer, as delegate's result
        "assistant",                # planner → delegate(coder)
        "assistant", "tool", "assistant", "tool", "assistant", "tool",  # coder
        "tool",                     # the coder's report, as delegate's result
        "assistant"]                # the planner's final answer
    assert messages[0]["content"].startswith("You are the planner")
    assert messages[1]["content"] == ("Add input validation to parse_config in config.py and "
                                      "make the tests pass.")
    calls = {m["tool_calls"][0]["id"]: m["tool_calls"][0]["function"]
             for m in messages if m.get("tool_calls")}
    assert [f["name"] for f in calls.values()] == ["delegate", "search_docs", "delegate",
                                                  "read_file", "write_file", "run_tests"]
    assert json.loads(calls[messages[2]["tool_calls"][0]["id"]]["arguments"])["agent"] \
        == "researcher"
    results = {m["tool_call_id"]: m["content"] for m in messages if m["role"] == "tool"}
    assert set(results) == set(calls)  # every call answered, by id
    run_tests = next(i for i, f in calls.items() if f["name"] == "run_tests")
    assert results[run_tests].startswith("3 passed")  # the retry's result, not the timeout
    assert messages[-1] == {"role": "assistant", "content": "Done: parse_config validates "
                                                            "its input and the tests pass."}


def test_openai_messages_of_one_agent(runs) -> None:
    messages = to_openai_messages(runs["run-2"].spans, agent="researcher")
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "tool", "assistant"]
    assert messages[1]["content"] == "Which config schema must parse_config accept?"
    assert messages[3]["content"].startswith("Config schema version 2 (current)")
    assert messages[-1]["content"].startswith("Use config schema version 1")
    assert to_openai_messages(runs["run-2"].spans, agent="nobody") == []


def test_inspect_log_loads_in_inspect_ai(runs, demo_store, tmp_path) -> None:
    with tracevault.open(str(writable_copy(demo_store, tmp_path))) as vault:
        run = run_evals(vault, ['final_answer:{"expected": "Done", "mode": "contains"}',
                                "tool_error_rate"], run_id="inspect")
        traces = [vault.trace(r.trace_id) for r in runs.values()]
        log = to_inspect_log(traces, vault.scores(run_id="inspect"), task="demo-team")
    path = tmp_path / "demo.json"
    path.write_text(json.dumps(log))
    loaded = read_eval_log(str(path))
    assert loaded.status == "success" and loaded.eval.task == "demo-team"
    assert loaded.eval.model == "demo-model-bad_research"  # first of the models, sorted
    assert len(loaded.samples) == 3
    bad = next(s for s in loaded.samples if s.id == runs["run-2"].trace_id)
    assert [m.role for m in bad.messages] == [m["role"] for m in
                                              to_openai_messages(runs["run-2"].spans)]
    assert bad.messages[2].tool_calls[0].function == "delegate"
    assert bad.messages[2].tool_calls[0].arguments["agent"] == "researcher"
    assert bad.output.completion == "Failed: the tests still fail after the coder's change."
    models = [e for e in bad.events if e.event == "model"]
    assert len(models) == 9 and models[0].model == "demo-model-bad_research"
    assert models[0].output.usage.total_tokens == 94
    assert models[0].tools[0].name == "delegate"
    assert bad.scores["final_answer"].value == 0.0
    assert bad.scores["tool_error_rate"].value == pytest.approx(1 / 7)
    metrics = {s.name: s.metrics["mean"].value for s in loaded.results.scores}
    assert metrics["final_answer"] == pytest.approx(2 / 3)
    assert sum(u.total_tokens for u in loaded.stats.model_usage.values()) == 1070 * 2 + 1047
    assert run.stored == 6
