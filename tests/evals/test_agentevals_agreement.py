"""The real agentevals evaluators agree with ours on the demo's converted runs.

For every demo run, every trajectory mode and argument mode, with the whole team and with
the coder alone, agentevals' ``create_trajectory_match_evaluator`` judges
``to_openai_messages(run)`` against ``to_openai_messages(other run)``; our
``trajectory_match`` judges the run's spans against the same reference.
"""

from __future__ import annotations

import itertools

import pytest
from agentevals.trajectory.match import create_trajectory_match_evaluator

from tracevault.evals import get_evaluator, to_openai_messages, tool_calls

from ._demo import demo_traces

pytestmark = pytest.mark.slow

MODES = ("strict", "unordered", "subset", "superset")
ARG_MODES = ("exact", "ignore", "subset", "superset")
AGENTS = (None, "coder")


@pytest.fixture(scope="module")
def runs(demo_store):
    return demo_traces(demo_store)


@pytest.mark.parametrize("mode", MODES)
def test_same_verdicts_as_agentevals(runs, mode) -> None:
    verdicts = []
    for agent, tool_args, (a, b) in itertools.product(
            AGENTS, ARG_MODES, itertools.product(sorted(runs), repeat=2)):
        outputs = to_openai_messages(runs[a].spans, agent=agent)
        reference = to_openai_messages(runs[b].spans, agent=agent)
        theirs = create_trajectory_match_evaluator(
            trajectory_match_mode=mode, tool_args_match_mode=tool_args)(
            outputs=outputs, reference_outputs=reference)["score"]
        ours = get_evaluator("trajectory_match", reference=reference, mode=mode,
                             tool_args=tool_args, agent=agent)(runs[a].spans)[0]
        assert ours.passed is theirs, (agent, tool_args, a, b, ours.explanation)
        if mode != "strict":  # the same verdict from a plain call list
            calls = [c.as_dict() for c in tool_calls(runs[b].spans, agent)]
            flat = get_evaluator("trajectory_match", reference=calls, mode=mode,
                                 tool_args=tool_args, agent=agent)(runs[a].spans)[0]
            assert flat.passed is theirs
        verdicts.append((runs[a].variant == runs[b].variant, tool_args, theirs))
    # not vacuous: good vs bad_research differs in write_file's content only
    assert all(v for same, _, v in verdicts if same)
    assert {v for same, args, v in verdicts if not same and args == "exact"} == {False}
    assert {v for same, args, v in verdicts if not same and args == "ignore"} == {True}


def test_agentevals_reads_the_converted_run(runs) -> None:
    messages = to_openai_messages(runs["run-2"].spans, agent="coder")
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "tool",
                                             "assistant", "tool", "assistant", "tool",
                                             "assistant"]
    theirs = create_trajectory_match_evaluator(trajectory_match_mode="strict")(
        outputs=messages, reference_outputs=to_openai_messages(runs["run-1"].spans,
                                                               agent="coder"))
    assert theirs["score"] is False
