"""llm_judge against the scripted model server, through the real openai client."""

from __future__ import annotations

import json
import socket

import pytest

from tracevault._exceptions import InputError, QueryError
from tracevault.evals import get_evaluator
from tracevault.evals._judge import JUDGE_SYSTEM
from tracevault.testing import FakeModel

from ._demo import demo_traces

pytestmark = pytest.mark.slow

RUBRIC = "Did the team make the tests pass with the current config schema (version 2)?"


@pytest.fixture(scope="module")
def runs(demo_store):
    return demo_traces(demo_store)


def judge(fm: FakeModel, **extra):
    return get_evaluator("llm_judge", rubric=RUBRIC, model="judge-1", base_url=fm.base_url,
                         **extra)


def test_verdict_becomes_a_score_with_the_judge_and_rubric(runs) -> None:
    script = {"model": "fake-judge", "rules": [
        {"when": {"system_contains": "You grade the run", "any_contains": "SCHEMA_VERSION = 2"},
         "respond": json.dumps({"score": 0.9, "reasoning": "Version 2 written, tests pass."})},
        {"when": {"system_contains": "You grade the run"},
         "respond": 'Verdict:\n```json\n{"score": 0.1, "reasoning": "Wrote version 1."}\n```'},
    ]}
    with FakeModel(script) as fm:
        good = judge(fm)(runs["run-1"].spans)[0]
        bad = judge(fm, threshold=0.05)(runs["run-2"].spans)[0]
        request = fm.requests[0]
    assert (good.name, good.value, good.passed) == ("llm_judge", 0.9, True)
    assert good.explanation == "Version 2 written, tests pass."
    assert good.metadata["judge_model"] == "fake-judge"
    assert good.metadata["requested_model"] == "judge-1"
    assert good.metadata["rubric"] == RUBRIC and good.metadata["base_url"] == fm.base_url
    assert good.metadata["tokens"] > 0
    assert (bad.value, bad.passed, bad.explanation) == (0.1, True, "Wrote version 1.")
    # what the judge saw: the rubric, then the run as text
    assert request["model"] == "judge-1" and request["temperature"] == 0
    system, user = request["messages"]
    assert system == {"role": "system", "content": JUDGE_SYSTEM}
    text = user["content"]
    assert text.startswith(f"Rubric:\n{RUBRIC}\n\nThe run:\nTask: Add input validation")
    assert "4. [coder] read_file" in text and "   -> ERROR: test runner timed out" in text
    assert text.endswith("Final answer: Done: parse_config validates its input and the "
                         "tests pass.")


def test_below_the_threshold_fails(runs) -> None:
    with FakeModel({"default": '{"score": 0.4, "reasoning": "partly"}'}) as fm:
        score = judge(fm, threshold=0.5, score_name="schema_judge")(runs["run-1"].spans)[0]
    assert (score.name, score.value, score.passed) == ("schema_judge", 0.4, False)


def test_endpoint_error_is_a_query_error(runs) -> None:
    # a reply the server cannot build: it answers HTTP 400 as the API does
    with FakeModel({"default": {"tool_calls": [{"arguments": {}}]}}) as fm:
        with pytest.raises(QueryError, match=r"llm_judge: http://127\.0\.0\.1:\d+/v1 "
                                             r"answered HTTP 400"):
            judge(fm)(runs["run-1"].spans)


def test_unreachable_endpoint_is_a_query_error(runs) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ev = get_evaluator("llm_judge", rubric=RUBRIC, model="m", timeout_s=5,
                       base_url=f"http://127.0.0.1:{port}/v1")
    with pytest.raises(QueryError, match="cannot reach"):
        ev(runs["run-1"].spans)


@pytest.mark.parametrize("reply, message", [
    ("The run looks fine to me.", "did not answer with a JSON verdict"),
    ('{"score": 7, "reasoning": "great"}', "outside 0..1"),
    ('{"reasoning": "no score"}', "did not answer with a JSON verdict"),
])
def test_unusable_verdicts_are_query_errors(runs, reply, message) -> None:
    with FakeModel({"default": reply}) as fm, pytest.raises(QueryError, match=message):
        judge(fm)(runs["run-1"].spans)


def test_configuration_errors(runs, monkeypatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(InputError, match=r"needs an API key in \$OPENAI_API_KEY"):
        get_evaluator("llm_judge", rubric=RUBRIC, model="m")(runs["run-1"].spans)
    with pytest.raises(InputError, match="rubric"):
        get_evaluator("llm_judge", rubric=" ", model="m")(runs["run-1"].spans)
    with pytest.raises(InputError, match="threshold"):
        get_evaluator("llm_judge", rubric=RUBRIC, model="m", threshold=2)(runs["run-1"].spans)


def test_api_key_is_read_from_the_named_variable(runs, monkeypatch) -> None:
    monkeypatch.setenv("JUDGE_KEY", "sk-test-123")
    with FakeModel({"default": '{"score": 1, "reasoning": "ok"}'}) as fm:
        score = judge(fm, api_key_env="JUDGE_KEY")(runs["run-1"].spans)[0]
    assert score.value == 1.0
