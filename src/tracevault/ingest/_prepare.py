"""Decoded records -> drafts ready for the store: project, limits, normalisation."""

from __future__ import annotations

from typing import Any

from ._draft import SpanDraft
from ._raw import RawLog, RawSpan, Rejection
from ._redact import active_redactor
from .conventions import normalize_span

__all__ = ["PROJECT_ATTRIBUTE", "prepare_logs", "prepare_spans"]

PROJECT_ATTRIBUTE = "tracevault.project"
"""Resource attribute naming the project of the spans it carries."""


def _project(resource: dict[str, Any], default: str, forced: str | None) -> str:
    if forced is not None:
        return forced
    value = resource.get(PROJECT_ATTRIBUTE)
    return str(value) if value else default


def _too_large(attrs: dict[str, Any], limit: int) -> str | None:
    for key, value in attrs.items():
        if isinstance(value, str) and len(value) > limit // 4 and len(value.encode()) > limit:
            return f"attribute {key!r} is {len(value.encode())} bytes (limit {limit})"
    return None


def prepare_spans(spans: list[RawSpan], *, default_project: str = "default",
                  forced_project: str | None = None, max_value_bytes: int = 16 << 20,
                  body_bytes: int | None = None) -> tuple[list[SpanDraft], list[Rejection]]:
    """Normalise raw spans; spans breaking a limit are rejected with a reason.

    ``body_bytes`` (the size of the request they came in) skips the per-value size
    check when no value can be that large.
    """
    drafts: list[SpanDraft] = []
    rejected: list[Rejection] = []
    check = body_bytes is None or body_bytes > max_value_bytes
    redactor = active_redactor()
    for raw in spans:
        problem = _too_large(raw.attributes, max_value_bytes) if check else None
        if problem:
            rejected.append(Rejection(raw.trace_id, raw.span_id, problem))
            continue
        if redactor is not None:
            redactor.span(raw)
        project = _project(raw.resource, default_project, raw.project or forced_project)
        drafts.append(normalize_span(raw, project))
    return drafts, rejected


def prepare_logs(logs: list[RawLog], *, default_project: str = "default",
                 forced_project: str | None = None) -> list[tuple[str, RawLog]]:
    """Attach a project to each log record (redacted first, when redaction is on)."""
    redactor = active_redactor()
    if redactor is not None:
        for log in logs:
            redactor.log(log)
    return [(_project(log.resource, default_project, log.project or forced_project), log)
            for log in logs]
