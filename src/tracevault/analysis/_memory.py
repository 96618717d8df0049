"""Memory state at any point of a run, rebuilt from the recorded writes and deletes.

A memory span records an operation (``write``, ``delete``, ``clear``...), the store,
the keys touched and the values written (``tracevault.memory.*``, docs/schema.md).
Replaying the successful writes and deletes that ended before a point gives the
key/value view each store had at that point.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .._exceptions import QueryError
from ..query._filters import parse_time
from ..schema import Span
from ._incident import span_agents

__all__ = ["MemoryState", "memory_state", "resolve_point"]

_WRITES = {"write", "update", "upsert", "set", "put", "add", "insert", "store", "save"}
_DELETES = {"delete", "remove", "del", "forget", "evict"}
_CLEARS = {"clear", "reset", "delete_store", "truncate"}
_POINT = re.compile(r"(?:(?P<agent>.+?):)?(?P<step>\d+)(?::(?P<retry>\d+))?")


@dataclass
class MemoryState:
    """The memory stores as they were at ``at_ns``."""

    at_ns: int
    stores: dict[str, dict[str, Any]]
    """``{store: {key: value}}``."""
    operations: int
    """How many recorded writes/deletes were replayed."""
    history: list[dict[str, Any]] = field(default_factory=list)
    """The replayed operations in order: time, agent, store, operation, keys."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {"at_ns": self.at_ns, "stores": self.stores, "operations": self.operations,
                "history": self.history}


def _steps(spans: Sequence[Span]) -> list[tuple[str | None, Span]]:
    agents = span_agents(spans)
    return [(agents.get(s.span_id), s) for s in spans
            if s.harness is not None and s.harness.step_index is not None]


def resolve_point(spans: Sequence[Span], at: str | int | None) -> int:
    """The cut-off time (Unix ns) for ``at``.

    ``AGENT:STEP`` is the end of that agent's step (its last attempt; ``AGENT:STEP:RETRY``
    picks one attempt); a bare ``STEP`` works when one agent has such a step. Also a
    span id (its end), a time (ISO 8601, ``-5m``, Unix ns) or None / ``end`` for the end
    of the run.
    """
    if at is None or str(at) == "end":
        return max((s.end_time_ns for s in spans), default=0)
    text = str(at).strip()
    m = _POINT.fullmatch(text)
    if m and (m["agent"] is not None or int(m["step"]) < 1_000_000):
        step = int(m["step"])
        found = [(a, s) for a, s in _steps(spans) if s.harness and s.harness.step_index == step
                 and (m["agent"] is None or a == m["agent"])
                 and (m["retry"] is None or s.harness.retry_count == int(m["retry"]))]
        if not found:
            where = f" of agent {m['agent']!r}" if m["agent"] else ""
            raise QueryError(f"no step {text}{where} in this run")
        agents = sorted({a or "?" for a, _ in found})
        if len(agents) > 1:
            raise QueryError(f"step {step} is ambiguous: name the agent "
                             f"({', '.join(f'{a}:{step}' for a in agents)})")
        return max(s.end_time_ns for _, s in found)
    by_id = {s.span_id: s for s in spans}
    if text.lower() in by_id:
        return by_id[text.lower()].end_time_ns
    try:
        point = parse_time(text)
    except QueryError:
        point = None
    if point is None:
        raise QueryError(f"cannot read the point {text!r}: use AGENT:STEP, a span id or a time")
    return point


def memory_state(spans: Sequence[Span], at: str | int | None = None,
                 store: str | None = None) -> MemoryState:
    """The key/value view of every memory store (or just ``store``) at ``at``."""
    cutoff = resolve_point(spans, at)
    agents = span_agents(spans)
    stores: dict[str, dict[str, Any]] = {}
    history: list[dict[str, Any]] = []
    ops = sorted((s for s in spans if s.kind == "memory" and s.end_time_ns <= cutoff
                  and s.status.code != "error"), key=lambda s: (s.end_time_ns, s.span_id))
    for span in ops:
        d = span.detail
        name = d.store or "memory"
        op = (d.operation or "").lower()
        if (store is not None and name != store) or op not in _WRITES | _DELETES | _CLEARS:
            continue
        current = stores.setdefault(name, {})
        if op in _WRITES:
            if isinstance(d.values, dict) and (not d.keys or set(d.keys) <= set(d.values)):
                current.update(d.values)
            elif len(d.keys) == 1:
                current[d.keys[0]] = d.values
            else:
                continue
        elif op in _DELETES:
            for key in d.keys:
                current.pop(key, None)
        else:
            current.clear()
        history.append({"time_ns": span.end_time_ns, "agent": agents.get(span.span_id),
                        "store": name, "operation": op, "keys": list(d.keys),
                        "span_id": span.span_id, "trace_id": span.trace_id})
    return MemoryState(cutoff, stores, len(history), history)
