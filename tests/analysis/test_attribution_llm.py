"""Model-based strategies against the fake model: prompts, call order, malformed answers."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

import tracevault
from tests.analysis._attribution_data import AGENTS, answer, record
from tracevault._exceptions import QueryError
from tracevault.analysis import AttributionModel, MalformedAnswer, attribute, parse_answer
from tracevault.testing import FakeModel


@pytest.fixture
def spans(tmp_path: Path):
    path = tmp_path / "1.json"
    path.write_text(json.dumps(record()))
    with tracevault.open(str(tmp_path / "s.duckdb")) as vault:
        vault.import_file(path)
        (summary,) = vault.traces()
        yield vault.trace(summary.trace_id).spans


def prompts(model: FakeModel) -> list[str]:
    return [r["messages"][-1]["content"] for r in model.requests]


def test_parse_answer_is_strict() -> None:
    assert parse_answer(answer("A", 3), 0, 9) == ("A", 3, "because")
    assert parse_answer("```json\n" + answer("A", 3) + "\n```", 0, 9)[1] == 3
    assert parse_answer(answer(None, None), 2, 2, allow_none=True) == (None, None, "because")
    bad = ["step 3 by A", answer("A", "3"), answer("A", 3.0), answer("A", True),
           answer("", 3), answer("A", 12), answer(None, None),
           json.dumps({"agent": "A", "step": 3}),
           json.dumps({"agent": "A", "step": 3, "reason": "r", "confidence": 1}),
           json.dumps([answer("A", 3)]), "Sure! " + answer("A", 3)]
    for text in bad:
        with pytest.raises(MalformedAnswer):
            parse_answer(text, 0, 9)


def test_all_at_once_shows_every_step(spans) -> None:
    with FakeModel({"default": answer("Coder_Expert", 5, "wrong product")}) as model:
        result = attribute(spans, strategy="all_at_once", model=model.base_url)
    (request,) = model.requests
    text = request["messages"][1]["content"]
    assert request["messages"][0]["role"] == "system" and request["temperature"] == 0
    assert text.startswith("The task: What is 6 times 7?\nThe correct answer: 42\n")
    assert "Step 0 (Planner_Expert):\nturn 0 of Planner_Expert" in text
    assert "Step 9 (Planner_Expert):\nturn 9 of Planner_Expert" in text
    assert '"step": <step number from 0 to 9>' in text
    assert (result.agent, result.step_index, result.step) == ("Coder_Expert", 5,
                                                              "Coder_Expert:5")
    assert result.reason == "wrong product" and result.strategy == "all_at_once"
    assert result.details["model"] == "fake-model" and result.details["model_calls"] == 1
    step5 = next(s for s in spans if s.harness and s.harness.step_index == 5)
    assert result.span_id == step5.span_id and result.evidence == [step5.span_id]
    with FakeModel({"default": answer("Coder_Expert", 5)}) as model:
        attribute(spans, strategy="all_at_once", model=model.base_url,
                  options={"ground_truth": False})
    assert "The correct answer" not in prompts(model)[0]


def test_step_by_step_stops_at_the_first_blamed_step(spans) -> None:
    script = {"rules": [{"when": {"contains": "Look at step 4 (Computer_terminal)"},
                         "respond": answer("Computer_terminal", 4, "ran the wrong code")}],
              "default": answer(None, None, "fine")}
    with FakeModel(script) as model:
        result = attribute(spans, strategy="step_by_step", model=model.base_url)
    asked = prompts(model)
    assert len(asked) == 5
    for i, text in enumerate(asked):
        assert f"Look at step {i} ({AGENTS[i % 3]}) only." in text
        assert f"Step {i} (" in text and f"Step {i + 1} (" not in text  # the run up to it
    assert (result.agent, result.step_index, result.reason) == ("Computer_terminal", 4,
                                                                "ran the wrong code")
    assert result.details["model_calls"] == 5
    with FakeModel({"default": answer(None, None, "fine")}) as model:
        nothing = attribute(spans, strategy="step_by_step", model=model.base_url)
    assert len(model.requests) == 10 and nothing.verdict == "unattributed"
    assert "no strategy found the cause" in nothing.reason


@pytest.mark.parametrize("target, ranges", [
    (6, [(0, 9, 4), (5, 9, 7), (5, 7, 6), (5, 6, 5)]),
    (0, [(0, 9, 4), (0, 4, 2), (0, 2, 1), (0, 1, 0)]),
    (9, [(0, 9, 4), (5, 9, 7), (8, 9, 8)]),
])
def test_binary_search_narrows_by_halves(spans, target, ranges) -> None:
    with FakeModel({"default": answer(AGENTS[target % 3], target)}) as model:
        result = attribute(spans, strategy="binary_search", model=model.base_url)
    asked = prompts(model)
    assert len(asked) == len(ranges)
    for text, (lo, hi, mid) in zip(asked, ranges, strict=True):
        assert f"The decisive mistake is in steps {lo} to {hi}. Is it in steps {lo} to " \
               f"{mid} or in steps {mid + 1} to {hi}?" in text
        assert f"Step {hi} (" in text and f"Step {hi + 1} (" not in text
    assert (result.agent, result.step_index) == (AGENTS[target % 3], target)
    assert result.details["ranges"] == [[lo, hi] for lo, hi, _ in ranges]


def test_malformed_answers(spans) -> None:
    script = {"responses": ["The Coder_Expert at step 5.", answer("Coder_Expert", 5)]}
    with FakeModel(script) as model:
        result = attribute(spans, strategy="all_at_once", model=model.base_url)
    assert len(model.requests) == 2 and result.step_index == 5
    retry = model.requests[1]["messages"]
    assert retry[-2] == {"role": "assistant", "content": "The Coder_Expert at step 5."}
    assert retry[-1]["content"].startswith("That answer cannot be used: not JSON")
    assert result.details["notes"] == [
        "malformed answer (attempt 1): not JSON: 'The Coder_Expert at step 5.'"]
    with FakeModel({"default": answer("Coder_Expert", 42)}) as model:
        result = attribute(spans, strategy="all_at_once", model=model.base_url)
    assert len(model.requests) == 2 and result.verdict == "unattributed"
    assert "outside 0..9" in result.details["tried"]["all_at_once"]["notes"][1]
    with FakeModel({"default": "no idea"}) as model:
        result = attribute(spans, strategy="binary_search+all_at_once", model=model.base_url)
    assert len(model.requests) == 4 and result.verdict == "unattributed"
    # step by step: a malformed answer at one step counts as "not this step"
    script = {"rules": [{"when": {"contains": "Look at step 0 "}, "respond": "hmm"},
                        {"when": {"contains": "Look at step 1 "},
                         "respond": answer("Computer_terminal", 1)}]}
    with FakeModel(script) as model:
        result = attribute(spans, strategy="step_by_step", model=model.base_url)
    assert len(model.requests) == 3 and result.step_index == 1
    assert len(result.details["notes"]) == 2


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_endpoint_errors_are_query_errors(spans) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    with pytest.raises(QueryError, match="cannot list the models"):
        AttributionModel(url)
    with pytest.raises(QueryError, match=f"attribution: cannot reach {url}"):
        attribute(spans, strategy="all_at_once", model=url, model_name="m")
    broken = {"default": {"tool_calls": [{"arguments": {}}]}}  # the server fails: HTTP 400
    with FakeModel(broken) as model, pytest.raises(QueryError, match="answered HTTP 400"):
        attribute(spans, strategy="step_by_step", model=model.base_url)


@pytest.mark.slow
def test_model_steps_map_to_agent_steps_in_a_recorded_run(demo_store) -> None:
    store, runs = demo_store
    bad = next(r.trace_id for r in runs if r.variant == "bad_research")
    with tracevault.open(str(store), read_only=True) as vault:
        spans = vault.trace(bad).spans
    with FakeModel({"default": answer("researcher", 2, "ignored the docs")}) as model:
        result = attribute(spans, strategy="all_at_once", model=model.base_url)
    text = prompts(model)[0]
    assert "It ended with: Failed: the tests still fail" in text
    order = ["Step 0 (planner)", "Step 1 (researcher)", "Step 2 (researcher)",
             "Step 3 (planner)", "Step 4 (coder)", "Step 9 (planner)"]
    assert [text.index(x) for x in order] == sorted(text.index(x) for x in order)
    assert "decided: Use config schema version 1" in text.split("Step 2 (researcher):")[1]
    assert (result.agent, result.step, result.step_index) == ("researcher", "researcher:1", 1)
    decision = next(s for s in spans if s.span_id == result.span_id)
    assert decision.kind == "llm" and result.evidence[1] != result.span_id
