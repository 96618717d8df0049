"""Trace groups: traces joined through links and shared sessions into one causal view.

Within a trace, propagated context already connects agents, tasks and processes. Between
traces, a group follows span links (in both directions) and shared session /
conversation ids, breadth first, up to ``max_traces`` traces. A replay's link to the trace
it replays does not join them: a replay is another run. A group is named by any
of its trace ids, or by ``session:<id>`` for every trace of a session.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

import orjson

from .._exceptions import NotFound
from ..schema import Span, TraceSummary
from ._incident import DEFAULT_FLAGS, Entry, build_incident

__all__ = ["TraceGroup", "group_trace_ids"]

SESSION_PREFIX = "session:"


def _session_traces(con: Any, session: str, scope: str, extra: list[Any]) -> list[str]:
    rows = con.execute(f"SELECT trace_id FROM traces WHERE list_contains(session_ids, ?){scope} "
                       "ORDER BY start_ns, trace_id", [session, *extra]).fetchall()
    return [r[0] for r in rows]


def _joins(link: dict[str, Any]) -> bool:
    """Whether a link joins groups (a replay's link to its original does not)."""
    return (link.get("attributes") or {}).get("tracevault.link.type") != "replay_of"


def group_trace_ids(store: Any, project: str | None, group_id: str,
                    max_traces: int = 200) -> list[str]:
    """Every trace connected to ``group_id`` (trace id or ``session:<id>``), it first."""
    con = store.cursor()
    scope = "" if project is None else " AND project = ?"
    extra: list[Any] = [] if project is None else [project]
    if group_id.startswith(SESSION_PREFIX):
        found = _session_traces(con, group_id[len(SESSION_PREFIX):], scope, extra)
        if not found:
            raise NotFound(f"no traces in session {group_id[len(SESSION_PREFIX):]!r}")
    else:
        tid = group_id.lower()
        if con.execute(f"SELECT 1 FROM traces WHERE trace_id = ?{scope} LIMIT 1",
                       [tid, *extra]).fetchone() is None:
            raise NotFound(f"trace {tid} not found")
        found = [tid]
    seen = set(found)
    queue = list(found)
    while queue and len(found) < max_traces:
        tid = queue.pop(0)
        linked: set[str] = set()
        for (links,) in con.execute(
                f"SELECT links FROM spans WHERE trace_id = ? AND links IS NOT NULL{scope}",
                [tid, *extra]).fetchall():
            linked |= {ln["trace_id"] for ln in orjson.loads(links) if _joins(ln)}
        for other, links in con.execute(
                f"SELECT trace_id, links FROM spans WHERE links IS NOT NULL AND "
                f"contains(links, ?){scope}", [f'"trace_id":"{tid}"', *extra]).fetchall():
            if any(ln["trace_id"] == tid and _joins(ln) for ln in orjson.loads(links)):
                linked.add(other)
        sessions = con.execute(f"SELECT session_ids FROM traces WHERE trace_id = ?{scope}",
                               [tid, *extra]).fetchone()
        for session in (sessions[0] if sessions and sessions[0] else []):
            linked |= set(_session_traces(con, session, scope, extra))
        present = {r[0] for r in con.execute(
            f"SELECT trace_id FROM traces WHERE list_contains(?, trace_id){scope}",
            [sorted(linked - seen), *extra]).fetchall()} if linked - seen else set()
        for other in sorted(present):
            seen.add(other)
            found.append(other)
            queue.append(other)
    return found[:max_traces]


@dataclass
class TraceGroup:
    """Traces joined into one cross-agent view."""

    summaries: list[TraceSummary]
    spans: list[Span]
    """Every span of every trace of the group, in time order."""

    @property
    def trace_ids(self) -> list[str]:
        """The group's traces, the named one first."""
        return [s.trace_id for s in self.summaries]

    def timeline(self, flags: tuple[str, ...] | list[str] = DEFAULT_FLAGS) -> list[Entry]:
        """One ordered timeline with the agent that acted and the process that recorded it.

        Steps, decisions, tool calls, memory changes and messages between agents.
        """
        return build_incident(self.spans, flags=flags).entries

    def messages(self) -> list[tuple[str, str, int]]:
        """``(sender, receiver, count)`` of the messages sent between agents."""
        pairs = Counter((s.detail.sender or "?", s.detail.receiver or "?") for s in self.spans
                        if s.kind == "message" and s.detail.direction != "receive")
        return [(a, b, n) for (a, b), n in sorted(pairs.items())]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form: the summaries, the timeline and the message pairs."""
        return {"trace_ids": self.trace_ids,
                "traces": [s.model_dump() for s in self.summaries],
                "messages": [{"sender": a, "receiver": b, "count": n}
                             for a, b, n in self.messages()],
                "timeline": [asdict(e) for e in self.timeline()]}
