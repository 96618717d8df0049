"""Failure attribution: which agent failed a run, at which step, and why.

Strategies are registered by name and composed with ``+``: with ``combine="first"`` the
first strategy that answers wins; with ``combine="vote"`` every strategy runs and the
(agent, step) named most often wins, ties going to the earlier strategy. Answers are
stored as ``attribution`` scores.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from .._exceptions import ConfigError
from ..schema import Span
from . import _attribution_llm, _attribution_signals  # noqa: F401 - register strategies
from ._attribution_llm import AttributionModel
from ._attribution_run import Attribution, RunView, get_strategy

__all__ = ["DEFAULT_STRATEGY", "MODEL_STRATEGIES", "attribute", "attribute_trace",
           "attribution_score", "parse_strategy"]

DEFAULT_STRATEGY = "policy+first_error+divergence+loops"
"""Trace signals only, strongest first; no model is called."""
MODEL_STRATEGIES = ("all_at_once", "step_by_step", "binary_search")
"""The strategies that ask a model."""
COMBINE = ("first", "vote")


def parse_strategy(spec: str | Sequence[str]) -> list[str]:
    """Strategy names from ``"a+b"`` or a list, each checked against the registry."""
    names = spec.split("+") if isinstance(spec, str) else list(spec)
    names = [n.strip() for n in names if n and n.strip()]
    if not names:
        raise ConfigError("no attribution strategy given")
    for name in names:
        get_strategy(name)
    return list(dict.fromkeys(names))


def _vote(names: list[str], answers: list[Attribution]) -> Attribution:
    tally: dict[tuple[str | None, int | None], list[Attribution]] = {}
    for a in answers:
        tally.setdefault((a.agent, a.step_index), []).append(a)
    best = max(tally.values(), key=lambda group: (len(group),
                                                   -answers.index(group[0])))
    evidence = list(dict.fromkeys(e for a in best for e in a.evidence))
    return replace(best[0], strategy=f"vote({'+'.join(names)})", evidence=evidence,
                   confidence=round(sum(a.confidence for a in best) / len(names), 3),
                   details={**best[0].details, "votes": {
                       f"{agent}:{step}": [a.strategy for a in group]
                       for (agent, step), group in tally.items()}})


def attribute(spans: Sequence[Span], *, strategy: str | Sequence[str] = DEFAULT_STRATEGY,
              combine: str = "first", reference: Sequence[Span] | str | None = None,
              scores: Sequence[Any] = (), model: AttributionModel | str | None = None,
              model_name: str | None = None, api_key_env: str = "OPENAI_API_KEY",
              assume_failed: bool = False, vault: Any = None, project: str | None = None,
              options: dict[str, Any] | None = None) -> Attribution:
    """Attribute the failure of a run (the spans of one trace or a trace group).

    ``reference`` is a successful run's spans or trace id for ``divergence`` (else one is
    looked up in ``vault``); ``scores`` are the run's stored scores (``online`` ones feed
    ``policy``); ``model`` a base URL, a model name or an ``AttributionModel`` for the
    model-based strategies. A run that did not fail gets verdict ``no_failure`` unless
    ``assume_failed``.
    """
    names = parse_strategy(strategy)
    if combine not in COMBINE:
        raise ConfigError(f"unknown combine mode {combine!r}: use first or vote")
    needs_model = any(n in MODEL_STRATEGIES for n in names)
    if needs_model and model is None:
        raise ConfigError(f"strategy {'+'.join(names)} needs a model (--model URL_OR_NAME)")
    if isinstance(model, str):
        model = AttributionModel(model, model_name=model_name, api_key_env=api_key_env) \
            if needs_model else None
    opts = dict(options or {})
    ref_spans = None
    if isinstance(reference, str):
        opts["reference"] = reference
    elif reference is not None:
        ref_spans = list(reference)
    run = RunView(spans, scores=scores, reference=ref_spans, vault=vault, project=project,
                  model=model, options=opts)
    args = {"strategy": "+".join(names), "combine": combine,
            "model": getattr(model, "name", None),
            "reference": opts.get("reference") or (ref_spans[0].trace_id if ref_spans else None)}
    failed, why = run.failure()
    if not failed and not assume_failed:
        return Attribution(None, None, None, None, f"no failure: {why}", strategy="+".join(names),
                           trace_id=run.trace_id, verdict="no_failure", details={"args": args})
    answers: list[Attribution] = []
    tried: dict[str, Any] = {}
    for name in names:
        answer = get_strategy(name)(run)
        if answer is None or answer.verdict != "attributed":
            tried[name] = answer.details if answer is not None else "no signal"
            continue
        answer.details = {**answer.details, "args": args, "tried": tried}
        if combine == "first":
            return answer
        answers.append(answer)
    if answers:
        return _vote(names, answers)
    return Attribution(None, None, None, None,
                       f"the run failed ({why}) but no strategy found the cause "
                       f"(tried {', '.join(names)})", strategy="+".join(names),
                       trace_id=run.trace_id, verdict="unattributed",
                       details={"args": args, "tried": tried})


def attribution_score(attribution: Attribution, project: str = "default",
                      run_id: str | None = None) -> Any:
    """The ``attribution`` score recording an answer (label agent, value step index)."""
    from ..evals import Score

    if attribution.verdict != "attributed" or not attribution.agent:
        raise ConfigError(f"nothing to store: the attribution is {attribution.verdict}")
    args = attribution.details.get("args") or {}
    return Score(name="attribution", label=attribution.agent, value=attribution.step_index,
                 source="attribution", trace_id=attribution.trace_id,
                 span_id=attribution.span_id, explanation=attribution.reason,
                 project=project, run_id=run_id,
                 evaluator={"name": attribution.strategy, "args": args},
                 metadata={"step": attribution.step, "evidence": attribution.evidence,
                           "confidence": attribution.confidence})


def attribute_trace(vault: Any, trace_id: str, *, joined: bool = True, store: bool = True,
                    project: str | None = None, reference: str | None = None,
                    **kwargs: Any) -> Attribution:
    """Attribute a stored run (with its trace group unless ``joined=False``).

    Online scores of the run's traces are read for ``policy``; with ``store``, an answer
    is written as an ``attribution`` score (its id in ``details["score_id"]``). Other
    keyword arguments go to ``attribute``.
    """
    if joined or trace_id.startswith("session:"):
        group = vault.group(trace_id, project=project)
        spans, summaries = group.spans, group.summaries
    else:
        trace = vault.trace(trace_id, project=project)
        spans, summaries = trace.spans, [trace.summary]
    ids = [s.trace_id for s in summaries]
    scores = vault.scores(ids, source="online", project=project)
    run_project = project or summaries[0].project
    result = attribute(spans, vault=vault, project=run_project, scores=scores,
                       reference=reference, **kwargs)
    if store and result.verdict == "attributed" and result.agent:
        score = attribution_score(result, run_project)
        vault.add_scores([score])
        result.details["score_id"] = score.score_id
    return result
