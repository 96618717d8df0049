"""Scores, the ``Evaluator`` protocol and the evaluator registry.

A score says how a trace (or one span of it) fared on one criterion. Every score keeps
the spec of the evaluator that produced it (name and arguments), so it can be produced
again. Scores are stored append-only in the store's ``scores`` table, each write a ledger
commit, and travel with traces in bundles.
"""

from __future__ import annotations

import inspect
import time
import uuid
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from importlib.metadata import entry_points
from typing import Any, Protocol, runtime_checkable

from .._exceptions import InputError

__all__ = ["SOURCES", "Evaluator", "Score", "evaluator", "get_evaluator", "registered"]

SOURCES = ("eval", "human", "online", "attribution")
"""Where a score comes from: an evaluator run, a person, a check at ingest, attribution."""


@dataclass
class Score:
    """One judgement of a trace or span on one criterion."""

    name: str
    """What was judged (``trajectory_match``, ``helpfulness``...)."""
    value: float | None = None
    """Numeric result; 0..1 for pass rates and judgements, else in the evaluator's unit."""
    label: str | None = None
    """Categorical result (``pass``, ``fail``, ``correct``...)."""
    passed: bool | None = None
    """Whether the trace passed, when the criterion has a threshold."""
    explanation: str | None = None
    """Why, in words (an LLM judge's reasoning, the first mismatch...)."""
    trace_id: str = ""
    span_id: str | None = None
    """The span judged, when the score is about one span rather than the whole trace."""
    project: str = "default"
    source: str = "eval"
    """One of ``SOURCES``."""
    evaluator: dict[str, Any] = field(default_factory=dict)
    """``{"name", "args"}`` of the evaluator that produced it (empty for human labels)."""
    run_id: str | None = None
    """The eval run, dataset experiment or labelling session it belongs to."""
    author: str | None = None
    """Who gave a human score."""
    metadata: dict[str, Any] = field(default_factory=dict)
    """Anything else the evaluator reports (counts, per-step details)."""
    created_ns: int = field(default_factory=time.time_ns)
    score_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def __post_init__(self) -> None:
        if not self.name:
            raise InputError("a score needs a name")
        if self.source not in SOURCES:
            raise InputError(f"unknown score source {self.source!r}: use one of "
                             f"{', '.join(SOURCES)}")
        if self.value is None and self.label is None and self.passed is None:
            raise InputError(f"score {self.name!r} has no value, label or passed")
        if self.value is not None:
            self.value = float(self.value)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (the stored columns)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Score:
        """The inverse of ``to_dict`` (unknown keys are refused)."""
        names = {f for f in cls.__dataclass_fields__}
        unknown = set(data) - names
        if unknown:
            raise InputError(f"unknown score field(s): {', '.join(sorted(unknown))}")
        return cls(**{k: v for k, v in data.items() if v is not None})


@runtime_checkable
class Evaluator(Protocol):
    """Judges one trace (its spans, in start order) and returns scores.

    ``spans`` are ``tracevault.schema.Span`` objects of one trace, or of a trace group
    when the evaluator is run on groups. The scores it returns need no ``trace_id``,
    ``project`` or ``evaluator``: the runner fills them in.
    """

    name: str

    def __call__(self, spans: Sequence[Any]) -> Score | list[Score] | None:
        """Score the spans."""
        ...


_REGISTRY: dict[str, Callable[..., Evaluator]] = {}


@dataclass
class _Bound:
    """An evaluator made by a registered factory with its arguments."""

    name: str
    fn: Callable[..., Any]
    args: dict[str, Any]

    def __call__(self, spans: Sequence[Any]) -> Score | list[Score] | None:
        result = self.fn(spans, **self.args)
        items = [] if result is None else result if isinstance(result, list) else [result]
        for s in items:
            s.evaluator = s.evaluator or {"name": self.name, "args": self.args}
        return items

    @property
    def spec(self) -> dict[str, Any]:
        """``{"name", "args"}``: enough to make this evaluator again."""
        return {"name": self.name, "args": self.args}


def evaluator(name: str | None = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a function ``fn(spans, **args) -> Score | list[Score] | None``.

    ``get_evaluator(name, **args)`` then makes it with those arguments, and every score it
    returns records ``{"name", "args"}``. Built-in evaluators register the same way.
    """

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        key = name or fn.__name__
        _REGISTRY[key] = lambda **args: _Bound(key, fn, _checked(fn, key, args))
        return fn

    return register


def _checked(fn: Callable[..., Any], name: str, args: dict[str, Any]) -> dict[str, Any]:
    params = list(inspect.signature(fn).parameters.values())[1:]
    known = {p.name for p in params}
    if not any(p.kind is p.VAR_KEYWORD for p in params):
        unknown = set(args) - known
        if unknown:
            raise InputError(f"evaluator {name!r} has no argument(s) "
                             f"{', '.join(sorted(unknown))}; it takes: "
                             f"{', '.join(sorted(known)) or 'none'}")
    missing = [p.name for p in params if p.default is p.empty
               and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL) and p.name not in args]
    if missing:
        raise InputError(f"evaluator {name!r} needs argument(s) {', '.join(missing)}")
    return dict(args)


def _load_plugins() -> None:
    for ep in entry_points(group="tracevault.evaluators"):
        if ep.name in _REGISTRY:
            continue
        try:
            ep.load()
        except Exception as exc:  # a broken plugin must not take tracevault down
            warnings.warn(f"evaluator plugin {ep.name!r} failed to load: {exc}",
                          RuntimeWarning, stacklevel=3)


def registered() -> list[str]:
    """Names of every registered evaluator (built-in and plugins)."""
    _load_plugins()
    return sorted(_REGISTRY)


def get_evaluator(name: str, **args: Any) -> Any:
    """The registered evaluator ``name`` made with ``args``."""
    _load_plugins()
    if name not in _REGISTRY:
        raise InputError(f"unknown evaluator {name!r}; known: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name](**args)
