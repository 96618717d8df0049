"""Built-in evaluators that compare a run with what was expected: trajectory, final answer."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Any

from .._exceptions import InputError
from ._convert import to_openai_messages
from ._score import Score, evaluator
from ._spans import final_answer_text, tool_calls
from ._trajectory import (
    Reference,
    check_modes,
    match_trajectory,
    parse_reference,
    restrict,
)

__all__ = ["VALIDATORS", "final_answer", "trajectory_match"]

SOURCES = ("llm", "tools")
ANSWER_MODES = ("exact", "contains", "regex", "json_fields")


def _root_attribute(spans: Sequence[Any], key: str) -> Any:
    ids = {s.span_id for s in spans}
    for span in sorted(spans, key=lambda s: s.start_time_ns):
        if span.parent_span_id is None or span.parent_span_id not in ids:
            if key in span.attributes:
                return span.attributes[key]
    return None


def _check_trajectory(args: dict[str, Any]) -> None:
    check_modes(args.get("mode", "strict"), args.get("tool_args", "exact"),
                args.get("tool_args_overrides"))
    if args.get("source", "llm") not in SOURCES:
        raise InputError(f"unknown source {args['source']!r}; use llm or tools")
    if args.get("reference") is None and not args.get("reference_attribute"):
        raise InputError("trajectory_match needs a reference or a reference_attribute")
    if args.get("reference") is not None:
        parse_reference(args["reference"])
    tools = args.get("tools")
    if tools is not None and not (isinstance(tools, list)
                                  and all(isinstance(t, str) for t in tools)):
        raise InputError("tools must be a list of tool names")


@evaluator("trajectory_match")
def trajectory_match(spans: Sequence[Any], reference: Any = None, mode: str = "strict",
                     tool_args: str = "exact", tool_args_overrides: dict[str, Any] | None = None,
                     agent: str | None = None, source: str = "llm",
                     tools: list[str] | None = None, skip_failed: bool = False,
                     reference_attribute: str | None = None,
                     score_name: str | None = None) -> Score | None:
    """Whether the run's tool-call trajectory matches the reference (agentevals semantics).

    The trajectory is the tool calls the model requested in its responses, in order
    (``source="llm"``), or the executed tool spans (``source="tools"``).
    """
    _check_trajectory({"reference": reference, "mode": mode, "tool_args": tool_args,
                       "tool_args_overrides": tool_args_overrides, "source": source,
                       "tools": tools, "reference_attribute": reference_attribute})
    raw = reference if reference is not None else _root_attribute(spans, reference_attribute
                                                                   or "")
    if raw is None:
        return None
    if isinstance(raw, dict) and "$lifted" in raw:
        raise InputError(f"attribute {reference_attribute} is stored apart: pass spans with "
                         "original attributes (run_evals does)")
    ref = parse_reference(raw)
    if ref.shape == "messages" and source == "llm" and tools is None and not skip_failed:
        out = parse_reference(to_openai_messages(spans, agent))
        if out.shape != "messages":  # nothing recorded: an empty message list
            out = Reference("messages", [], [])
    else:
        calls = [c for c in tool_calls(spans, agent, source)
                 if not (skip_failed and c.failed)]
        turns: dict[int, list[tuple[str, Any]]] = {}
        for call in calls:
            turns.setdefault(call.turn, []).append((call.name, call.arguments))
        out = Reference("turns", list(turns.values()))
    out, ref = restrict(out, tools), restrict(ref, tools)
    result = match_trajectory(out, ref, mode, tool_args, tool_args_overrides)
    explanation = result.reason or (f"{len(out.calls)} call(s) match the reference's "
                                    f"{len(ref.calls)} ({mode}, arguments {tool_args})")
    return Score(score_name or "trajectory_match", value=1.0 if result.matched else 0.0,
                 passed=result.matched, label="match" if result.matched else "mismatch",
                 explanation=explanation,
                 metadata={"mode": mode, "tool_args": tool_args, "calls": len(out.calls),
                           "reference_calls": len(ref.calls)})


def _nested(value: Any, path: str) -> tuple[bool, Any]:
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return False, None
    return True, value


def _json_of(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        start, end = text.find("{"), text.rfind("}")
        if 0 <= start < end:
            try:
                return json.loads(text[start:end + 1])
            except ValueError:
                return None
    return None


def _check_answer(args: dict[str, Any]) -> None:
    mode, expected = args.get("mode", "exact"), args.get("expected")
    if mode not in ANSWER_MODES:
        raise InputError(f"unknown final_answer mode {mode!r}; use {', '.join(ANSWER_MODES)}")
    if mode == "json_fields":
        if not isinstance(expected, dict) or not expected:
            raise InputError("final_answer json_fields needs expected as {field: value}")
    elif mode == "contains" and isinstance(expected, list):
        if not expected or not all(isinstance(e, str) for e in expected):
            raise InputError("final_answer contains needs a text or a list of texts")
    elif not isinstance(expected, str):
        raise InputError(f"final_answer {mode} needs expected as a text")
    if mode == "regex":
        try:
            re.compile(expected)
        except re.error as exc:
            raise InputError(f"final_answer regex {expected!r}: {exc}") from None


@evaluator("final_answer")
def final_answer(spans: Sequence[Any], expected: Any, mode: str = "exact",
                 ignore_case: bool = False, agent: str | None = None,
                 score_name: str | None = None) -> Score:
    """Whether the final answer is the expected one (exact, contains, regex, JSON fields)."""
    _check_answer({"expected": expected, "mode": mode})
    label = score_name or "final_answer"
    answer = final_answer_text(spans, agent)
    if answer is None:
        return Score(label, value=0.0, passed=False, explanation="the run has no final answer")
    fold: Callable[[str], str] = str.casefold if ignore_case else str
    if mode == "json_fields":
        data = _json_of(answer)
        wrong = []
        for path, want in expected.items():
            found, got = _nested(data, path)
            if not found or got != want:
                wrong.append(f"{path}={json.dumps(got) if found else 'missing'}")
        value = 1 - len(wrong) / len(expected)
        why = (f"fields differ: {', '.join(wrong)}" if wrong
               else f"all {len(expected)} field(s) as expected")
        return Score(label, value=value, passed=not wrong, explanation=why,
                     metadata={"answer": answer[:500]})
    if mode == "exact":
        ok = fold(answer.strip()) == fold(expected.strip())
        value = 1.0 if ok else 0.0
    elif mode == "contains":
        wanted = expected if isinstance(expected, list) else [expected]
        hits = [w for w in wanted if fold(w) in fold(answer)]
        value, ok = len(hits) / len(wanted), len(hits) == len(wanted)
    else:
        ok = re.search(expected, answer, re.IGNORECASE if ignore_case else 0) is not None
        value = 1.0 if ok else 0.0
    why = (f"the answer {'matches' if ok else 'does not match'} ({mode}): "
           f"{answer[:200]!r}")
    return Score(label, value=value, passed=ok, explanation=why,
                 metadata={"answer": answer[:500]})


VALIDATORS: dict[str, Callable[[dict[str, Any]], None]] = {
    "trajectory_match": _check_trajectory,
    "final_answer": _check_answer,
}
"""Argument checks run before an eval run touches any trace."""
