"""Policy results in the incident timeline: violating spans marked, flow paths listed.

Results come from stored ``policy.<rule>`` scores (online checks or ``policy check
--store-scores``). For each rule the latest evaluation counts: a later passing result
replaces an earlier violation.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .._exceptions import TraceVaultError
from ._incident import Incident
from ._policy_check import SCORE_PREFIX

__all__ = ["current_policy_results", "mark_policy"]


def _get(score: Any, name: str) -> Any:
    return score.get(name) if isinstance(score, dict) else getattr(score, name, None)


def current_policy_results(scores: Iterable[Any]) -> dict[str, list[Any]]:
    """Per rule, the scores of its latest evaluation (``Score`` objects or dicts)."""
    by_rule: dict[str, list[Any]] = {}
    for s in scores:
        name = str(_get(s, "name") or "")
        if name.startswith(SCORE_PREFIX):
            by_rule.setdefault(name[len(SCORE_PREFIX):], []).append(s)
    out = {}
    for rule, items in by_rule.items():
        last = max(items, key=lambda s: (_get(s, "created_ns") or 0, _get(s, "score_id") or ""))
        run = _get(last, "run_id")
        if run is None:
            out[rule] = [last]
        else:
            out[rule] = [s for s in items if _get(s, "run_id") == run]
    return out


def mark_policy(incident: Incident, scores: Iterable[Any]) -> Incident:
    """Mark the entries of violating spans and list the violations (with their paths)."""
    entries: dict[str, list[Any]] = {}
    for e in incident.entries:
        entries.setdefault(e.span_id, []).append(e)
    for rule, items in sorted(current_policy_results(scores).items()):
        for s in items:
            if _get(s, "passed") is not False:
                continue
            meta = _get(s, "metadata") or {}
            path = list(meta.get("path") or [])
            finding = {"rule": rule, "kind": meta.get("kind"),
                       "message": _get(s, "explanation"), "agents": meta.get("agents") or [],
                       "span_id": _get(s, "span_id"), "trace_id": _get(s, "trace_id"),
                       "source": _get(s, "source"), "created_ns": _get(s, "created_ns"),
                       "path": path}
            incident.policy.append(finding)
            marks = [(_get(s, "span_id"), "violation")]
            marks += [(p.get("span_id"), "path") for p in path
                      if p.get("span_id") != _get(s, "span_id")]
            for span_id, role in marks:
                for e in entries.get(span_id or "", []):
                    e.details.setdefault("policy", []).append(
                        {"rule": rule, "kind": meta.get("kind"), "role": role,
                         "message": _get(s, "explanation")})
    return incident


def attach_stored_policy(incident: Incident, vault: Any, project: str | None = None) -> Incident:
    """``mark_policy`` with the policy scores stored for the incident's traces."""
    if not incident.trace_ids:
        return incident
    try:
        scores = vault.scores(incident.trace_ids, project=project, limit=100_000)
    except (TraceVaultError, AttributeError):
        return incident  # a store without scores: nothing to show
    return mark_policy(incident, [s for s in scores
                                  if str(_get(s, "name") or "").startswith(SCORE_PREFIX)])
