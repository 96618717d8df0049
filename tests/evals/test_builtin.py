"""Each built-in evaluator on the demo's recorded runs, with values worked out by hand.

The demo (see tracevault.demo): per run, 9 model calls (planner 3, researcher 2, coder
4), 7 tool executions (delegate ×2, search_docs, read_file, write_file, run_tests ×2:
the first run_tests times out and is retried), each agent starting with a budget of
20 000 tokens, $0.01 and 8 steps. Good runs use 1070 tokens (planner 312, researcher
168, coder 590), the bad_research run 1047; every token costs $0.0000005.
"""

from __future__ import annotations

import pytest

from tracevault._exceptions import InputError
from tracevault.evals import get_evaluator, to_openai_messages, tool_calls
from tracevault.schema import Span

from ._demo import TOKEN_PRICE_USD, demo_traces

pytestmark = pytest.mark.slow

GOOD_ANSWER = "Done: parse_config validates its input and the tests pass."
BAD_ANSWER = "Failed: the tests still fail after the coder's change."


@pytest.fixture(scope="module")
def runs(demo_store):
    return demo_traces(demo_store)


def one(name: str, spans, **args):
    scores = get_evaluator(name, **args)(spans)
    assert len(scores) == 1
    return scores[0]


def test_trajectory_match_against_the_good_run(runs) -> None:
    good, bad, again = runs["run-1"], runs["run-2"], runs["run-3"]
    reference = [c.as_dict() for c in tool_calls(good.spans)]
    assert [c["name"] for c in reference] == ["delegate", "search_docs", "delegate",
                                             "read_file", "write_file", "run_tests"]
    same = one("trajectory_match", again.spans, reference=reference)
    assert (same.value, same.passed, same.label) == (1.0, True, "match")
    differs = one("trajectory_match", bad.spans, reference=reference)
    assert (differs.value, differs.passed) == (0.0, False)
    assert differs.explanation.startswith("call 4: write_file(") \
        and "SCHEMA_VERSION = 1" in differs.explanation
    assert one("trajectory_match", bad.spans, reference=reference, tool_args="ignore").passed
    # only the file path matters for write_file: the bad run then matches too
    assert one("trajectory_match", bad.spans, reference=reference,
               tool_args_overrides={"write_file": ["path"]}).passed
    coder = [c for c in reference if c["name"] in ("read_file", "write_file", "run_tests")]
    assert one("trajectory_match", again.spans, reference=coder, agent="coder").passed
    assert not one("trajectory_match", again.spans, reference=coder).passed
    assert one("trajectory_match", bad.spans, reference=[{"name": "write_file"}],
               mode="superset", tool_args="ignore").passed


def test_trajectory_match_on_executed_tools(runs) -> None:
    spans = runs["run-1"].spans
    executed = [{"name": s.detail.name, "arguments": s.detail.arguments}
                for s in sorted(spans, key=lambda s: s.start_time_ns) if s.kind == "tool"]
    assert len(executed) == 7
    assert one("trajectory_match", spans, reference=executed, source="tools").passed
    # the timed-out run_tests is the one failed execution: without it, 6 calls remain
    sixth = executed[:5] + executed[6:]
    assert not one("trajectory_match", spans, reference=sixth, source="tools").passed
    assert one("trajectory_match", spans, reference=sixth, source="tools",
               skip_failed=True).passed
    only = one("trajectory_match", spans, reference=[{"name": "run_tests"}] * 2,
               source="tools", tools=["run_tests"])
    assert only.passed and only.metadata["calls"] == 2


def test_trajectory_match_with_a_message_reference(runs) -> None:
    good, bad = runs["run-1"], runs["run-2"]
    messages = to_openai_messages(good.spans)
    assert one("trajectory_match", runs["run-3"].spans, reference=messages).passed
    result = one("trajectory_match", bad.spans, reference=messages)
    assert not result.passed and result.explanation.startswith("message 9: write_file")


def test_trajectory_match_reads_a_per_trace_reference_when_recorded(runs) -> None:
    # the demo records no reference attribute: no score rather than a wrong one
    ev = get_evaluator("trajectory_match", reference_attribute="app.expected_calls")
    assert ev(runs["run-1"].spans) == []


def test_tool_error_rate(runs) -> None:
    for run in runs.values():
        score = one("tool_error_rate", run.spans)
        assert score.value == pytest.approx(1 / 7) and score.passed is None
        assert score.explanation == ("1 of 7 tool call(s) failed: run_tests (test runner "
                                     "timed out after 600s)")
    spans = runs["run-1"].spans
    assert one("tool_error_rate", spans, max_rate=0.2).passed is True
    assert one("tool_error_rate", spans, max_rate=0.1).passed is False
    assert one("tool_error_rate", spans, agent="researcher").value == 0.0
    assert one("tool_error_rate", spans, agent="coder").value == pytest.approx(1 / 4)


def test_tool_loops(runs) -> None:
    spans = runs["run-2"].spans
    score = one("tool_loops", spans)
    assert (score.value, score.passed) == (2.0, True)
    assert score.explanation == "run_tests({}) ×2 in a row (coder)"
    assert one("tool_loops", spans, threshold=2).passed is False
    # the model asked for run_tests once; the harness retried it
    assert one("tool_loops", spans, source="llm").value == 1.0


def test_step_limit(runs) -> None:
    spans = runs["run-1"].spans
    score = one("step_limit", spans)
    assert (score.value, score.passed) == (9.0, True)
    assert score.metadata["steps"] == {"planner": 3, "researcher": 2, "coder": 4}
    assert one("step_limit", spans, max_steps=8).passed is False
    assert one("step_limit", spans, agent="coder").value == 4.0
    assert one("step_limit", spans, agent="coder", max_steps=3).passed is False


def test_budget(runs) -> None:
    good, bad = runs["run-1"].spans, runs["run-2"].spans
    score = one("budget", good)  # from the recorded harness budget
    assert (score.value, score.passed) == (0.5, True)
    assert score.explanation == "highest: coder steps 4 of 8 (50%)"
    assert score.metadata["shares"]["planner tokens 312 of 20000"] == pytest.approx(312 / 20000)
    over = one("budget", good, max_tokens=1000)
    assert (over.value, over.passed) == (pytest.approx(1.07), False)
    assert one("budget", bad, max_tokens=1000).value == pytest.approx(1.047)
    cost = one("budget", good, max_cost=0.001)
    assert cost.value == pytest.approx(1070 * TOKEN_PRICE_USD / 0.001) and cost.passed
    assert one("budget", good, agent="researcher").value == pytest.approx(2 / 8)


def test_latency(runs) -> None:
    run = runs["run-1"]
    score = one("latency", run.spans)
    assert score.value == pytest.approx(run.summary.duration_ns / 1e9)
    assert one("latency", run.spans, max_s=60).passed is True
    assert one("latency", run.spans, max_s=0.001).passed is False
    tools = one("latency", run.spans, span_kind="tool")
    slowest = max((s for s in run.spans if s.kind == "tool"), key=lambda s: s.duration_ns)
    assert slowest.detail.name == "delegate"  # the coder's whole job
    assert tools.value == pytest.approx(slowest.duration_ns / 1e9)
    assert get_evaluator("latency", span_kind="retrieval")(run.spans) == []


def test_cost(runs) -> None:
    good, bad = runs["run-1"], runs["run-2"]
    score = one("cost", good.spans)
    assert score.value == pytest.approx(1070 * TOKEN_PRICE_USD)
    assert score.metadata == {"model_calls": 9, "priced": 9}
    assert one("cost", bad.spans).value == pytest.approx(1047 * TOKEN_PRICE_USD)
    assert one("cost", good.spans, max_usd=0.0005).passed is False
    assert one("cost", good.spans, agent="coder").value == pytest.approx(590 * TOKEN_PRICE_USD)


def test_final_answer_modes(runs) -> None:
    good, bad = runs["run-1"].spans, runs["run-2"].spans
    assert one("final_answer", good, expected=GOOD_ANSWER).passed
    assert one("final_answer", good, expected=f"  {GOOD_ANSWER}\n").passed  # trimmed
    assert not one("final_answer", bad, expected=GOOD_ANSWER).passed
    assert not one("final_answer", good, expected=GOOD_ANSWER.upper()).passed
    assert one("final_answer", good, expected=GOOD_ANSWER.upper(), ignore_case=True).passed
    assert one("final_answer", bad, expected=BAD_ANSWER).passed
    contains = one("final_answer", good, expected=["Done", "tests pass", "retries"],
                   mode="contains")
    assert (contains.value, contains.passed) == (pytest.approx(2 / 3), False)
    assert one("final_answer", good, expected=r"^Done: .* pass\.$", mode="regex").passed
    assert not one("final_answer", bad, expected=r"^Done", mode="regex").passed
    # an agent's own answer: the coder's report
    assert one("final_answer", good, expected="Tests pass: 3 passed.", agent="coder").passed
    assert one("final_answer", bad, expected="Tests fail: 2 failed, 1 passed.",
               agent="coder").passed


def _llm_span(text: str) -> Span:
    return Span.model_validate({
        "trace_id": "a" * 32, "span_id": "b" * 16, "name": "chat", "kind": "llm",
        "start_time_ns": 1, "end_time_ns": 2, "duration_ns": 1,
        "detail": {"kind": "llm", "output_messages": [
            {"role": "assistant", "parts": [{"type": "text", "content": text}]}]}})


def test_final_answer_json_fields_and_fallback_to_the_last_model_output() -> None:
    spans = [_llm_span('Here it is: {"status": "refunded", "order": {"id": 42, "items": [7]}}')]
    ok = one("final_answer", spans, expected={"status": "refunded", "order.id": 42,
                                              "order.items.0": 7}, mode="json_fields")
    assert (ok.value, ok.passed) == (1.0, True)
    half = one("final_answer", spans, expected={"status": "refunded", "order.id": 43},
               mode="json_fields")
    assert (half.value, half.passed) == (0.5, False)
    assert half.explanation == "fields differ: order.id=42"
    missing = one("final_answer", spans, expected={"reason": "x"}, mode="json_fields")
    assert missing.explanation == "fields differ: reason=missing"
    nothing = one("final_answer", [], expected="x")
    assert (nothing.value, nothing.passed) == (0.0, False)


@pytest.mark.parametrize("name, args, message", [
    ("final_answer", {"expected": "x", "mode": "fuzzy"}, "unknown final_answer mode"),
    ("final_answer", {"expected": "(", "mode": "regex"}, "regex"),
    ("final_answer", {"expected": "x", "mode": "json_fields"}, "json_fields needs"),
    ("trajectory_match", {}, "needs a reference"),
    ("trajectory_match", {"reference": [], "source": "logs"}, "unknown source"),
    ("tool_loops", {"threshold": 1}, "threshold"),
    ("cost", {"max_usd": -1}, "non-negative"),
])
def test_bad_arguments_fail_before_scoring(name, args, message, runs) -> None:
    from tracevault.evals._runner import resolve_evaluator

    with pytest.raises(InputError, match=message):
        resolve_evaluator({"name": name, "args": args})
    with pytest.raises(InputError, match=message):
        get_evaluator(name, **args)(runs["run-1"].spans)
