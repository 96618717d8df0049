"""The policy signal: blocked tool calls, guardrail denials, failed online checks."""

from __future__ import annotations

import json

import pytest

import tracevault
from tests.query.conftest import NOW, otlp, span
from tracevault.analysis import attribute_trace
from tracevault.evals import Score

S = 10**9


def _out(text: str) -> str:
    return json.dumps([{"role": "assistant", "parts": [{"type": "text", "content": text}]}])


def _run(trace: int, extra: list[dict]) -> list[dict]:
    """An agent ``ops`` with two steps, each with one model call; ``extra`` goes in step 0."""
    t = NOW - 3600 * S + trace * 100 * S
    return [
        span(trace, 1, "invoke_agent ops", t, 50, gen_ai__operation__name="invoke_agent",
             gen_ai__agent__name="ops"),
        span(trace, 2, "step 0", t + 1 * S, 10, 1, tracevault__span__kind="step",
             tracevault__step__index=0),
        span(trace, 3, "chat m", t + 2 * S, 1, 2, gen_ai__operation__name="chat",
             gen_ai__output__messages=_out("clean up the database")),
        *extra,
        span(trace, 5, "step 1", t + 20 * S, 10, 1, tracevault__span__kind="step",
             tracevault__step__index=1),
        span(trace, 6, "chat m", t + 21 * S, 1, 5, gen_ai__operation__name="chat",
             gen_ai__output__messages=_out("write to the customer")),
    ]


def _sid(trace: int, n: int) -> str:
    return f"{trace:08x}{n:08x}"


@pytest.fixture
def vault(tmp_path):
    t = NOW - 3600 * S
    blocked = span(1, 4, "execute_tool drop_table", t + 100 * S + 4 * S, 1, 2,
                   error="blocked: destructive tool", gen_ai__operation__name="execute_tool",
                   gen_ai__tool__name="drop_table", tracevault__tool__blocked=True)
    guard = span(3, 4, "output guard", t + 300 * S + 4 * S, 1, 2,
                 openinference__span__kind="GUARDRAIL", tracevault__guardrail__name="pii",
                 tracevault__guardrail__decision="block")
    path = tmp_path / "p.json"
    path.write_text(json.dumps(otlp("svc", _run(1, [blocked]) + _run(2, [])
                                    + _run(3, [guard]))))
    with tracevault.open(str(tmp_path / "s.duckdb")) as v:
        assert v.import_file(path)["spans"] == 17
        yield v


def test_blocked_tool_call_blames_the_decision(vault) -> None:
    result = attribute_trace(vault, f"{1:032x}", strategy="policy", store=False)
    assert (result.agent, result.step_index, result.span_id) == ("ops", 0, _sid(1, 3))
    assert result.evidence == [_sid(1, 3), _sid(1, 4)] and result.confidence == 0.9
    assert "drop_table was blocked: destructive tool" in result.reason
    first = attribute_trace(vault, f"{1:032x}", strategy="first_error", store=False)
    assert (first.step_index, first.span_id) == (0, _sid(1, 3))


def test_guardrail_denial(vault) -> None:
    result = attribute_trace(vault, f"{3:032x}", strategy="policy", store=False)
    assert (result.step, result.span_id) == ("ops:0", _sid(3, 3))
    assert result.details["violation"] == _sid(3, 4)
    assert "guardrail pii decided block" in result.reason


def test_failed_online_check_on_a_span(vault) -> None:
    trace = f"{2:032x}"
    assert attribute_trace(vault, trace, store=False).verdict == "no_failure"
    vault.add_scores([
        Score(name="tone", passed=True, source="online", trace_id=trace, span_id=_sid(2, 3)),
        Score(name="pii_leak", passed=False, source="online", trace_id=trace,
              metadata={"span_id": _sid(2, 6)}, explanation="sent an email address"),
        Score(name="judge", passed=False, source="eval", trace_id=trace, span_id=_sid(2, 3)),
    ])
    result = attribute_trace(vault, trace, store=False)
    assert (result.strategy, result.step, result.span_id) == ("policy", "ops:1", _sid(2, 6))
    assert result.confidence == 0.7
    assert "online check pii_leak failed on chat m: sent an email address" in result.reason
