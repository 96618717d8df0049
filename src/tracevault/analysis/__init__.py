"""Answers about runs: trace groups, incident timelines and memory state at any step.

These work on spans from any store (local file or server) through ``tracevault.open``:
``vault.group(id)``, ``vault.incident(id)`` and ``vault.memory(id, at=...)``.
"""

from ._groups import TraceGroup, group_trace_ids
from ._incident import DEFAULT_FLAGS, Entry, Incident, build_incident, span_agents
from ._memory import MemoryState, memory_state, resolve_point
from ._report import FORMATS, render_incident

__all__ = [
    "DEFAULT_FLAGS",
    "Entry",
    "FORMATS",
    "Incident",
    "MemoryState",
    "TraceGroup",
    "build_incident",
    "group_trace_ids",
    "memory_state",
    "render_incident",
    "resolve_point",
    "span_agents",
]
