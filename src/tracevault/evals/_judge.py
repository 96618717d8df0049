"""``llm_judge``: a model grades the run against a rubric through a chat-completions API."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Sequence
from typing import Any

from .._exceptions import InputError, QueryError
from .._llm import chat
from ._score import Score, evaluator
from ._spans import final_answer_text, llm_calls, message_text, tool_calls, value_text

__all__ = ["JUDGE_SYSTEM", "VALIDATORS", "llm_judge", "render_run"]

JUDGE_SYSTEM = (
    "You grade the run of an AI agent against a rubric. Read the run, apply the rubric, and "
    'answer with one JSON object only: {"score": <number from 0 to 1>, "reasoning": '
    '"<one short paragraph>"}. 1 means the rubric is fully met, 0 not at all.')


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + f"... [{len(text) - limit} more]"


def render_run(spans: Sequence[Any], agent: str | None = None, max_chars: int = 20_000) -> str:
    """The run as text for a judge: the task, each tool call with its result, the answer."""
    llms = llm_calls(spans, agent)
    task = ""
    if llms:
        users = [message_text(m) for m in llms[0].detail.input_messages if m.role == "user"]
        task = users[-1] if users else ""
    lines = [f"Task: {_short(task, 2000)}" if task else "Task: (not recorded)", "",
             "Tool calls, in order:"]
    calls = tool_calls(spans, agent)
    for i, call in enumerate(calls, 1):
        who = f"[{call.agent}] " if call.agent else ""
        lines.append(f"{i}. {who}{call.name}({_short(value_text(call.arguments), 500)})")
        for run in call.runs:
            outcome = (f"ERROR: {run.detail.error}" if run.detail.error
                       else _short(value_text(run.detail.result), 800))
            lines.append(f"   -> {outcome}")
    if not calls:
        lines.append("(none)")
    lines += ["", f"Final answer: {final_answer_text(spans, agent) or '(none)'}"]
    return _short("\n".join(lines), max_chars)


def _verdict(text: str) -> tuple[float, str]:
    match = re.search(r"\{.*\}", text, re.DOTALL)
    try:
        data = json.loads(match.group(0) if match else text)
        score = float(data["score"])
    except (ValueError, TypeError, KeyError):
        raise QueryError(f"llm_judge: the judge did not answer with a JSON verdict "
                         f"{{\"score\", \"reasoning\"}}: {text[:200]!r}") from None
    if not 0 <= score <= 1:
        raise QueryError(f"llm_judge: the judge's score {score} is outside 0..1")
    return score, str(data.get("reasoning") or "")


def _check(args: dict[str, Any]) -> None:
    for key in ("rubric", "model"):
        if not isinstance(args.get(key), str) or not args[key].strip():
            raise InputError(f"llm_judge needs {key} as a non-empty text")
    threshold = args.get("threshold", 0.5)
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) \
            or not 0 <= threshold <= 1:
        raise InputError("llm_judge threshold must be a number from 0 to 1")


def _complete(model: str, messages: list[dict[str, Any]], base_url: str | None,
              api_key_env: str, timeout_s: float) -> Any:
    import openai

    key = os.environ.get(api_key_env)
    if not key:
        if base_url is None:
            raise InputError(f"llm_judge needs an API key in ${api_key_env} (or a base_url)")
        key = "unused"
    where = base_url or "the OpenAI API"
    with openai.OpenAI(base_url=base_url, api_key=key, timeout=timeout_s,
                       max_retries=1) as client:
        return chat(client, model, messages, who="llm_judge", where=where)


@evaluator("llm_judge")
def llm_judge(spans: Sequence[Any], rubric: str, model: str, base_url: str | None = None,
              api_key_env: str = "OPENAI_API_KEY", threshold: float = 0.5,
              agent: str | None = None, max_chars: int = 20_000, timeout_s: float = 60.0,
              score_name: str | None = None) -> Score:
    """A judge model scores the run (task, tool calls, final answer) against a rubric."""
    _check({"rubric": rubric, "model": model, "threshold": threshold})
    messages = [{"role": "system", "content": JUDGE_SYSTEM},
                {"role": "user", "content": f"Rubric:\n{rubric}\n\nThe run:\n"
                                            f"{render_run(spans, agent, max_chars)}"}]
    response = _complete(model, messages, base_url, api_key_env, timeout_s)
    choices = getattr(response, "choices", None) or []
    text = (choices[0].message.content or "") if choices else ""
    score, reasoning = _verdict(text)
    usage = getattr(response, "usage", None)
    return Score(score_name or "llm_judge", value=score, passed=score >= threshold,
                 explanation=reasoning,
                 metadata={"judge_model": getattr(response, "model", None) or model,
                           "requested_model": model, "rubric": rubric, "base_url": base_url,
                           "threshold": threshold,
                           "tokens": getattr(usage, "total_tokens", None)})


VALIDATORS: dict[str, Callable[[dict[str, Any]], None]] = {"llm_judge": _check}
"""Argument checks run before an eval run touches any trace."""
