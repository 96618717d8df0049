"""Trace-signal strategies: failures, divergence from a good run, policy, loops.

None of these calls a model; each reads only what the trace recorded and returns None
when its signal is absent.
"""

from __future__ import annotations

import re
from typing import Any

from .._exceptions import NotFound
from .._text import message_text, short
from ..schema import Span
from ._attribution_run import EXEC_FAILED, Attribution, RunView, flat, register_strategy

__all__ = ["contradiction", "divergence", "first_error", "loops", "policy"]

_PAIR = re.compile(r"\b([a-z][a-z_]{2,})\s+v?(\d+(?:\.\d+)*)\b")
_STALE = re.compile(r"\b(retired|deprecated|obsolete|outdated|superseded|no longer|removed|"
                    r"legacy|discontinued|old)\b")
_CURRENT = re.compile(r"\b(current|latest|newest|recommended|required|supported|in use)\b")
_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n")
_STOP = frozenset("and the for with from are was were has have had than top about over under "
                  "only all any each page line lines step steps not but into onto per out "
                  "its his her our their this that these those".split())
_KEY_MIN, _KEY_MAX = 16, 200
_MAX_CALLS = 500


def _pairs(text: str) -> list[tuple[str, str]]:
    return [(t, v) for t, v in _PAIR.findall(text.casefold()) if t not in _STOP]


def contradiction(decision: str, source: str) -> str | None:
    """How ``decision`` contradicts ``source`` (a tool result it read), or None.

    Both name a numbered term (``version 1``, ``schema v2``, ``port 8080``). It is a
    contradiction when the decision uses a value the source marks as retired,
    deprecated, obsolete... in the same sentence, or names only values other than the
    one the source marks as current, latest, required..., and never the marked one.
    """
    said: dict[str, set[str]] = {}
    for term, value in _pairs(decision):
        said.setdefault(term, set()).add(value)
    stale: dict[str, dict[str, str]] = {}
    current: dict[str, set[str]] = {}
    for sentence in _SENTENCE.split(source.casefold()):
        old, new = _STALE.search(sentence), _CURRENT.search(sentence)
        for term, value in _pairs(sentence):
            if old:
                stale.setdefault(term, {})[value] = old.group(1)
            elif new:
                current.setdefault(term, set()).add(value)
    for term, values in said.items():
        marked = current.get(term, set())
        if values & marked:
            continue
        for value in sorted(values):
            if value in stale.get(term, {}):
                now = f" ({term} {', '.join(sorted(marked))} is current)" if marked else ""
                return f"it says {term} {value}, which the result marks " \
                       f"{stale[term][value]}{now}"
        if marked:
            return f"it says {term} {', '.join(sorted(values))} where the result marks " \
                   f"{term} {', '.join(sorted(marked))} as current"
    return None


def _input_text(span: Span) -> str:
    d = span.detail
    parts = [message_text(m, 1_000_000) for m in d.input_messages]
    parts += [p.content for p in d.system_instructions if getattr(p, "type", "") == "text"]
    return " ".join(" ".join(parts).split()).casefold()


def _key(run: RunView, span: Span) -> str | None:
    text = " ".join(run.output_text(span).split()).casefold()
    return text[:_KEY_MAX] if len(text) >= _KEY_MIN else None


def _feeders(run: RunView, origin: Span) -> list[Span]:
    """Model calls whose output reached ``origin``'s context, directly or through others.

    Only the latest ``_MAX_CALLS`` model calls up to ``origin`` are considered.
    """
    llms = [s for s in run.spans if s.kind == "llm"
            and s.start_time_ns <= origin.start_time_ns][-_MAX_CALLS:]
    keys = {s.span_id: _key(run, s) for s in llms}
    seen = {origin.span_id}
    queue = [origin]
    while queue:
        current = queue.pop()
        text = _input_text(current)
        for other in llms:
            key = keys[other.span_id]
            if other.span_id not in seen and other.start_time_ns < current.start_time_ns \
                    and key is not None and key in text:
                seen.add(other.span_id)
                queue.append(other)
    return sorted((run.by_id[i] for i in seen), key=lambda s: (s.start_time_ns, s.span_id))


def _tool_results(run: RunView, decision: Span) -> list[tuple[str, Span | None]]:
    """Tool results in a model call's context, with the tool span that produced each."""
    agent = run.agents.get(decision.span_id)
    tools = [s for s in run.spans if s.kind == "tool" and s.end_time_ns
             <= decision.start_time_ns and run.agents.get(s.span_id) == agent]
    out = []
    for message in decision.detail.input_messages:
        for part in message.parts:
            if part.type != "tool_call_response":
                continue
            response = getattr(part, "response", None)
            source = next((t for t in reversed(tools) if getattr(part, "id", None)
                           and t.detail.call_id == getattr(part, "id", None)), None)
            source = source or next((t for t in reversed(tools)
                                     if flat(t.detail.result) == flat(response)), None)
            out.append((short(response, 1_000_000), source))
    return out


def _failure_words(run: RunView, span: Span) -> str:
    if span.status.code == "error" or run.is_blocked(span):
        return f"{span.name} failed: {short(span.status.message or span.detail.kind, 160)}"
    return f"{span.name} reported: {short(run.output_text(span), 160)}"


@register_strategy("first_error")
def first_error(run: RunView) -> Attribution | None:
    """The earliest unrecovered failure, traced back to the decision that caused it.

    From the failure, the model call behind it (a tool call's requester, an agent's last
    call); then every earlier model call whose output reached that call's context; the
    earliest of those that contradicts a tool result it had read is blamed. Without one,
    the decision behind the failure is. In transcripts without model calls, a step
    whose output reports a failed execution is blamed on the previous step of another
    agent (the one whose output was run).
    """
    failing = run.failing_spans()
    if not failing:
        return None
    failure = failing[0]
    what = _failure_words(run, failure)
    origin = run.decision_for(failure)
    if origin is None:
        step = run.step_of(failure)
        blamed = failure
        if step is not None and failure.status.code != "error" \
                and EXEC_FAILED.search(run.output_text(failure)):
            previous = run.previous_step(step)
            if previous is not None:
                blamed = run.by_id[previous.span_id]
                what = f"what {previous.agent} wrote at step {previous.step_index} was run " \
                       f"and failed ({short(run.output_text(failure), 120)})"
        return run.attribution(blamed, what, [failure.span_id], "first_error", 0.5,
                               failure=failure.span_id)
    for decision in _feeders(run, origin):
        said = run.output_text(decision)
        for text, source in _tool_results(run, decision):
            why = contradiction(said, text)
            if why is None:
                continue
            tool = source.detail.name if source is not None else "tool"
            reason = (f"{run.agents.get(decision.span_id) or 'the agent'} decided "
                      f"{short(said, 140)!r} although the {tool} result it had read says "
                      f"{short(text, 160)!r}: {why}; the failure follows from it ({what})")
            evidence = [decision.span_id] + ([source.span_id] if source else []) \
                + [origin.span_id, failure.span_id]
            return run.attribution(decision, reason, evidence, "first_error", 0.8,
                                   failure=failure.span_id, contradicted_by=source.span_id
                                   if source else None)
    return run.attribution(origin, f"the decision behind the first failure: {what}",
                           [failure.span_id], "first_error", 0.5, failure=failure.span_id)


def _reference(run: RunView) -> tuple[str | None, list[Span] | None]:
    if run.reference is not None:
        ref = run.reference
        return (ref[0].trace_id if ref else None), ref
    given = run.options.get("reference")
    if run.vault is None:
        return None, None
    if given:
        return given, run.vault.trace(given, project=run.project).spans
    root = run.root
    escaped = root.name.replace("\\", "\\\\").replace('"', '\\"')
    wanted = flat(getattr(root.detail, "input", None))
    mine = {s.trace_id for s in run.spans}
    best: tuple[int, str, list[Span]] | None = None
    for summary in run.vault.traces(filter=f'trace.name = "{escaped}" and trace.status = ok',
                                    project=run.project, limit=50):
        if summary.trace_id in mine:
            continue
        try:
            spans = run.vault.trace(summary.trace_id, project=summary.project).spans
        except NotFound:
            continue
        roots = [s for s in spans if s.parent_span_id is None]
        if not roots or roots[0].name != root.name \
                or flat(getattr(roots[0].detail, "input", None)) != wanted:
            continue
        gap = abs(summary.start_time_ns - root.start_time_ns)
        if best is None or gap < best[0]:
            best = (gap, summary.trace_id, spans)
    return (best[1], best[2]) if best else (None, None)


@register_strategy("divergence")
def divergence(run: RunView) -> Attribution | None:
    """The first model call deciding otherwise than a successful run of the same task.

    The reference is given (``reference=``) or the nearest successful trace with the same
    root name and input. Model calls are aligned as in ``tracevault diff``.
    """
    from ..replay import diff_spans

    ref_id, ref_spans = _reference(run)
    if not ref_spans or ref_id is None:
        return None
    diff = diff_spans(ref_id, ref_spans, run.trace_id, run.spans)
    for step in diff.steps:
        if step.same or step.b_span is None or step.b_span not in run.by_id:
            continue
        span = run.by_id[step.b_span]
        now = step.b.summary(140) if step.b is not None else "(no call)"
        was = step.a.summary(140) if step.a is not None else "(no call)"
        context = ("with a different context (something upstream changed)"
                   if step.context_changed else "with the same context")
        reason = (f"first divergence from successful run {ref_id}: "
                  f"{run.agents.get(span.span_id) or 'the agent'}'s model call "
                  f"#{step.index} decided {now!r} where the reference decided {was!r}, "
                  f"{context}")
        failing = [s.span_id for s in run.failing_spans()[:1]]
        return run.attribution(span, reason, failing, "divergence",
                               0.5 if step.context_changed else 0.8, reference=ref_id,
                               reference_span=step.a_span)
    return None


@register_strategy("policy")
def policy(run: RunView) -> Attribution | None:
    """The first blocked tool call, guardrail denial or failed online check on a span."""
    events: list[tuple[int, Span, str, float]] = []
    for s in run.spans:
        if run.is_blocked(s):
            what = (f"guardrail {s.detail.name or s.name} decided {s.detail.decision}"
                    if s.kind == "guardrail" else
                    f"{s.detail.name or s.name} was blocked: "
                    f"{(s.status.message or 'by policy').removeprefix('blocked: ')}")
            events.append((s.start_time_ns, s, what, 0.9))
    for score in run.failed_scores():
        sid = score.span_id or (score.metadata or {}).get("span_id")
        if sid in run.by_id:
            span = run.by_id[sid]
            what = f"online check {score.name} failed on {span.name}"
            if score.explanation:
                what += f": {short(score.explanation, 160)}"
            events.append((span.start_time_ns, span, what, 0.7))
    if not events:
        return None
    _, span, what, confidence = min(events, key=lambda e: (e[0], e[1].span_id))
    blamed = run.decision_for(span) or span
    return run.attribution(blamed, what, [span.span_id], "policy", confidence,
                           violation=span.span_id)


@register_strategy("loops")
def loops(run: RunView) -> Attribution | None:
    """Where the run started going round: a retried step, or a repeated identical action.

    An agent's tool call identical (name and arguments) to one it made before, a step
    recorded with ``retry_count > 0``, or (in transcripts) a step output identical to an
    earlier one of the same agent. The earliest such repeat is blamed.
    """
    signals: list[tuple[int, Span, Span, str]] = []
    seen: dict[tuple[Any, ...], Span] = {}
    for s in run.spans:
        agent = run.agents.get(s.span_id)
        if s.kind == "tool":
            key: tuple[Any, ...] = ("tool", agent, s.detail.name, flat(s.detail.arguments))
            what = f"{agent} repeated {s.detail.name}({short(s.detail.arguments, 80)})"
        elif s.kind == "step" and not run.children.get(s.span_id):
            text = " ".join(run.output_text(s).split())
            if len(text) < 20:
                continue
            key = ("output", agent, text)
            what = f"{agent} repeated its own output {short(text, 80)!r}"
        else:
            continue
        if key in seen:
            signals.append((s.start_time_ns, s, seen[key], what))
        else:
            seen[key] = s
    previous: dict[tuple[Any, ...], Span] = {}
    for st in run.steps:
        span = run.by_id[st.span_id]
        if st.retry and (st.agent, st.step_index) in previous:
            signals.append((span.start_time_ns, span, previous[(st.agent, st.step_index)],
                            f"{st.agent} retried step {st.step_index} (retry {st.retry})"))
        previous[(st.agent, st.step_index)] = span
    if not signals:
        return None
    _, span, first, what = min(signals, key=lambda x: (x[0], x[1].span_id))
    blamed = run.decision_for(span) or span
    return run.attribution(blamed, f"the run went round: {what}",
                           [span.span_id, first.span_id], "loops", 0.4,
                           repeat_of=first.span_id)
