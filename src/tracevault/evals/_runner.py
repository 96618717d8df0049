"""Eval runs: score every matching trace, store the scores, summarise and compare runs."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

from .._exceptions import InputError, QueryError, TraceVaultError
from ._checks import VALIDATORS as _CHECKS
from ._judge import VALIDATORS as _JUDGE
from ._metrics import VALIDATORS as _METRICS
from ._score import Score, get_evaluator

__all__ = ["EvalRun", "EvaluatorSummary", "RunComparison", "ScoreDelta", "TraceChange",
           "compare_runs", "parse_evaluator_spec", "resolve_evaluator", "run_evals",
           "summarize"]

_VALIDATORS = {**_CHECKS, **_METRICS, **_JUDGE}
_PAGE = 1000


@dataclass
class EvaluatorSummary:
    """How the traces fared on one score name."""

    name: str
    evaluator: dict[str, Any]
    n: int
    """Scores given."""
    mean: float | None
    """Mean of the numeric values (None when no score had one)."""
    pass_rate: float | None
    """Share of passed among the scores with a verdict (None when none had one)."""
    failures: list[str] = field(default_factory=list)
    """Trace ids that did not pass."""


@dataclass
class EvalRun:
    """The outcome of ``run_evals``: every score and a summary per score name."""

    run_id: str
    traces: int
    scores: list[Score]
    summary: list[EvaluatorSummary]
    stored: int
    """Scores written to the store."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (summary only; scores as dicts)."""
        return {"run_id": self.run_id, "traces": self.traces, "stored": self.stored,
                "summary": [asdict(s) for s in self.summary],
                "scores": [s.to_dict() for s in self.scores]}


def parse_evaluator_spec(text: str) -> tuple[str, dict[str, Any]]:
    """``NAME`` or ``NAME:{JSON object of arguments}`` as (name, arguments)."""
    name, sep, raw = text.partition(":")
    name = name.strip()
    if not name:
        raise InputError(f"no evaluator name in {text!r}")
    if not sep or not raw.strip():
        return name, {}
    try:
        args = json.loads(raw)
    except ValueError as exc:
        raise InputError(f"arguments of evaluator {name!r} are not valid JSON: {exc}") from None
    if not isinstance(args, dict):
        raise InputError(f"arguments of evaluator {name!r} must be a JSON object")
    return name, args


def resolve_evaluator(item: Any) -> Any:
    """An evaluator from a made evaluator, ``"NAME[:JSON]"``, ``{"name", "args"}`` or a pair.

    Built-in evaluators' arguments are checked here, before any trace is read.
    """
    if isinstance(item, str):
        name, args = parse_evaluator_spec(item)
    elif isinstance(item, dict) and "name" in item:
        name, args = str(item["name"]), dict(item.get("args") or {})
    elif isinstance(item, tuple) and len(item) == 2:
        name, args = str(item[0]), dict(item[1] or {})
    elif callable(item):
        spec = getattr(item, "spec", None)
        if isinstance(spec, dict) and spec.get("name") in _VALIDATORS:
            _VALIDATORS[spec["name"]](dict(spec.get("args") or {}))
        return item
    else:
        raise InputError(f"not an evaluator: {item!r}")
    made = get_evaluator(name, **args)
    if name in _VALIDATORS:
        _VALIDATORS[name](args)
    return made


def _spec(ev: Any) -> dict[str, Any]:
    spec = getattr(ev, "spec", None)
    if isinstance(spec, dict):
        return spec
    return {"name": getattr(ev, "name", type(ev).__name__), "args": {}}


def _new_run_id() -> str:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return f"eval-{stamp}-{uuid.uuid4().hex[:6]}"


def _matching(vault: Any, limit: int | None, **query: Any) -> list[Any]:
    found: list[Any] = []
    while limit is None or len(found) < limit:
        page = _PAGE if limit is None else min(_PAGE, limit - len(found))
        batch = vault.traces(limit=page, offset=len(found), **query)
        found.extend(batch)
        if len(batch) < page:
            break
    return found


def summarize(scores: Iterable[Score]) -> list[EvaluatorSummary]:
    """Per score name: count, mean value, pass rate and the traces that failed."""
    groups: dict[str, list[Score]] = {}
    for score in scores:
        groups.setdefault(score.name, []).append(score)
    out = []
    for name, items in groups.items():
        values = [s.value for s in items if s.value is not None]
        verdicts = [s.passed for s in items if s.passed is not None]
        out.append(EvaluatorSummary(
            name, items[0].evaluator, len(items),
            sum(values) / len(values) if values else None,
            sum(verdicts) / len(verdicts) if verdicts else None,
            [s.trace_id for s in items if s.passed is False]))
    return out


def _jsonable(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec as stored: values JSON cannot hold (a matcher function) become their repr."""
    return dict(json.loads(json.dumps(spec, default=repr)))


def _evaluate(ev: Any, spans: Sequence[Any], summary: Any, run_id: str) -> list[Score]:
    spec = _spec(ev)
    try:
        result = ev(spans)
    except TraceVaultError as exc:
        cls = InputError if isinstance(exc, InputError) else QueryError
        raise cls(f"evaluator {spec['name']} on trace {summary.trace_id}: {exc}") from None
    except Exception as exc:  # an evaluator's own bug: name it, do not lose the run
        raise QueryError(f"evaluator {spec['name']} failed on trace {summary.trace_id}: "
                         f"{type(exc).__name__}: {exc}") from exc
    items = [] if result is None else result if isinstance(result, list) else [result]
    for s in items:
        if not isinstance(s, Score):
            raise QueryError(f"evaluator {spec['name']} returned {type(s).__name__}, "
                             "not a Score")
        s.trace_id, s.project, s.run_id = summary.trace_id, summary.project, run_id
        s.evaluator = _jsonable(s.evaluator or spec)
    return items


def _with_root_originals(vault: Any, summary: Any, spans: list[Any]) -> list[Any]:
    """Root spans with every attribute as sent (labels and references often live there)."""
    ids = {s.span_id for s in spans}
    out = []
    for span in spans:
        if (span.parent_span_id is None or span.parent_span_id not in ids) and any(
                isinstance(v, dict) and "$lifted" in v for v in span.attributes.values()):
            span = vault.span(summary.trace_id, span.span_id, project=summary.project,
                              original=True)
        out.append(span)
    return out


def run_evals(vault: Any, evaluators: Sequence[Any], filter: str | None = None,  # noqa: A002
              start: str | int | None = None, end: str | int | None = None,
              project: str | None = None, run_id: str | None = None, limit: int | None = None,
              progress: bool | None = None) -> EvalRun:
    """Score every trace matching the filter with each evaluator and store the scores.

    ``evaluators`` are made evaluators, ``"NAME[:JSON_ARGS]"`` texts or ``{"name",
    "args"}``. Every score gets the trace id, project, ``run_id`` (generated when not
    given) and evaluator spec, and all are stored with one ``vault.add_scores`` call.
    An evaluator error stops the run: the scores made so far are stored, then the error
    is raised naming the evaluator and the trace.
    """
    made = [resolve_evaluator(e) for e in evaluators]
    if not made:
        raise InputError("no evaluators given")
    run_id = run_id or _new_run_id()
    found = _matching(vault, limit, filter=filter, start=start, end=end, project=project)
    scores: list[Score] = []
    bar = _Bar(len(found), f"eval {run_id}") if progress else None
    try:
        for summary in found:
            trace = vault.trace(summary.trace_id, project=summary.project)
            spans = _with_root_originals(vault, summary, trace.spans)
            for ev in made:
                scores.extend(_evaluate(ev, spans, summary, run_id))
            if bar:
                bar.advance()
    except TraceVaultError:
        if scores:
            vault.add_scores(scores)
        raise
    finally:
        if bar:
            bar.close()
    stored = vault.add_scores(scores) if scores else 0
    return EvalRun(run_id, len(found), scores, summarize(scores), stored)


class _Bar:
    """A rich progress bar on stderr."""

    def __init__(self, total: int, label: str) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        self.progress = Progress("{task.description}", BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), console=Console(stderr=True))
        self.task = self.progress.add_task(label, total=total)
        self.progress.start()

    def advance(self) -> None:
        self.progress.advance(self.task)

    def close(self) -> None:
        self.progress.stop()


# Comparing runs -----------------------------------------------------------------------

@dataclass
class ScoreDelta:
    """One score name in two runs: means, pass rates and their differences (b - a)."""

    name: str
    n_a: int
    n_b: int
    mean_a: float | None
    mean_b: float | None
    mean_delta: float | None
    pass_rate_a: float | None
    pass_rate_b: float | None
    pass_rate_delta: float | None


@dataclass
class TraceChange:
    """A trace (or paired case) whose score differs between the runs."""

    key: str
    name: str
    change: str
    """``regressed`` (passed, then not), ``fixed``, ``changed`` (value only), ``only_a``,
    ``only_b``."""
    trace_a: str | None
    trace_b: str | None
    value_a: float | None
    value_b: float | None
    passed_a: bool | None
    passed_b: bool | None


@dataclass
class RunComparison:
    """What changed from eval run ``run_a`` to ``run_b``."""

    run_a: str
    run_b: str
    pair_by: str
    scores: list[ScoreDelta]
    changes: list[TraceChange]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return asdict(self)


def _diff(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else b - a


def _pair_key(vault: Any, score: Score, pair_by: str, cache: dict[str, str]) -> str:
    if pair_by == "trace":
        return score.trace_id
    if pair_by == "item":
        return str(score.metadata.get("item_id") or score.trace_id)
    if score.trace_id not in cache:
        from ._spans import llm_calls, message_text, root_agent_span, value_text

        spans = vault.trace(score.trace_id, project=score.project).spans
        if pair_by.startswith("attr:"):
            key = pair_by[5:]
            roots = [s for s in spans if s.parent_span_id is None]
            cache[score.trace_id] = value_text(roots[0].attributes.get(key)) if roots else ""
        else:
            root = root_agent_span(spans)
            text = value_text(root.detail.input) if root is not None else ""
            llms = llm_calls(spans)
            if not text and llms:
                users = [message_text(m) for m in llms[0].detail.input_messages
                         if m.role == "user"]
                text = users[0] if users else ""
            cache[score.trace_id] = text
    return cache[score.trace_id]


def compare_runs(vault: Any, run_a: str, run_b: str, pair_by: str = "auto") -> RunComparison:
    """Per score name mean and pass-rate deltas, and the traces whose scores changed.

    ``pair_by`` says which traces are the same case: ``trace`` (the same trace scored
    twice, e.g. two evaluator versions), ``item`` (the same dataset item: experiments),
    ``input`` (the same task text: two models or agent versions on the same tasks) or
    ``attr:NAME`` (a root span attribute); ``auto`` is ``item`` when every score names
    its dataset item, else ``trace``.
    """
    if pair_by not in ("auto", "trace", "item", "input") and not pair_by.startswith("attr:"):
        raise InputError(f"unknown pair_by {pair_by!r}; use auto, trace, item, input or "
                         "attr:NAME")
    runs = []
    for run_id in (run_a, run_b):
        scores = vault.scores(run_id=run_id, limit=1_000_000)
        if not scores:
            raise InputError(f"no scores recorded for eval run {run_id!r}")
        runs.append(sorted(scores, key=lambda s: s.created_ns))
    if pair_by == "auto":
        items = all(s.metadata.get("item_id") for scores in runs for s in scores)
        pair_by = "item" if items else "trace"
    by_name = {s.name: s for s in summarize(runs[0])}
    other = {s.name: s for s in summarize(runs[1])}
    deltas = []
    for name in sorted(set(by_name) | set(other)):
        a, b = by_name.get(name), other.get(name)
        deltas.append(ScoreDelta(
            name, a.n if a else 0, b.n if b else 0, a.mean if a else None,
            b.mean if b else None, _diff(a.mean if a else None, b.mean if b else None),
            a.pass_rate if a else None, b.pass_rate if b else None,
            _diff(a.pass_rate if a else None, b.pass_rate if b else None)))
    cache: dict[str, str] = {}
    latest: list[dict[tuple[str, str], Score]] = [{}, {}]
    for side, scores in enumerate(runs):
        for s in scores:  # the latest score of a (case, name) wins
            latest[side][(_pair_key(vault, s, pair_by, cache), s.name)] = s
    changes = []
    for key in sorted(set(latest[0]) | set(latest[1])):
        a, b = latest[0].get(key), latest[1].get(key)
        if a is None or b is None:
            change = "only_b" if a is None else "only_a"
        elif a.passed is True and b.passed is False:
            change = "regressed"
        elif a.passed is False and b.passed is True:
            change = "fixed"
        elif a.value != b.value or a.label != b.label:
            change = "changed"
        else:
            continue
        changes.append(TraceChange(
            key[0], key[1], change, a.trace_id if a else None, b.trace_id if b else None,
            a.value if a else None, b.value if b else None,
            a.passed if a else None, b.passed if b else None))
    return RunComparison(run_a, run_b, pair_by, deltas, changes)
