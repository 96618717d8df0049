"""Langfuse trace exports (public API ``{"trace": ..., "observations": [...]}``).

Each observation becomes a span. Its original OpenTelemetry attributes (kept by Langfuse
in ``metadata.attributes``) are restored, and Langfuse's own fields are added under the
``langfuse.*`` attribute names Langfuse uses on its OpenTelemetry endpoint.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

from .._raw import RawSpan
from ._sdk import _ns

__all__ = ["is_langfuse_export", "langfuse_spans"]

_HEX = frozenset("0123456789abcdef")


def is_langfuse_export(d: Any) -> bool:
    """Whether ``d`` is a Langfuse trace export."""
    return isinstance(d, dict) and isinstance(d.get("trace"), dict) \
        and isinstance(d.get("observations"), list)


def _id(value: Any, nbytes: int) -> str:
    text = str(value).lower()
    if len(text) == 2 * nbytes and _HEX.issuperset(text):
        return text
    # Non-OTel Langfuse ids (UUIDs, custom strings) map to stable hex ids.
    return hashlib.sha256(text.encode()).hexdigest()[: 2 * nbytes]


def _json(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return None
    return value if isinstance(value, dict) else None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else orjson.dumps(value).decode()


def langfuse_spans(doc: dict[str, Any]) -> list[RawSpan]:
    """Convert a Langfuse export into raw spans."""
    trace = doc["trace"]
    trace_id = _id(trace["id"], 16)
    trace_meta = _json(trace.get("metadata")) or {}
    spans = []
    for o in doc["observations"]:
        meta = _json(o.get("metadata")) or {}
        attrs: dict[str, Any] = dict(meta.get("attributes") or {})
        attrs["langfuse.observation.type"] = o.get("type")
        for key, field in (("input", "input"), ("output", "output")):
            value = _text(o.get(field))
            if value is not None:
                attrs[f"langfuse.observation.{key}"] = value
        if o.get("model"):
            attrs["langfuse.observation.model.name"] = o["model"]
        for name, value in (o.get("usageDetails") or {}).items():
            attrs[f"langfuse.observation.usage_details.{name}"] = value
        for name, value in (o.get("costDetails") or {}).items():
            attrs[f"langfuse.observation.cost_details.{name}"] = value
        if o.get("modelParameters"):
            attrs["langfuse.observation.model_parameters"] = _text(o["modelParameters"])
        if o.get("level"):
            attrs["langfuse.observation.level"] = o["level"]
        if o.get("promptName"):
            attrs["langfuse.observation.prompt.name"] = o["promptName"]
            attrs["langfuse.observation.prompt.version"] = o.get("promptVersion")
        if trace.get("sessionId"):
            attrs["langfuse.session.id"] = trace["sessionId"]
        if trace.get("userId"):
            attrs["langfuse.user.id"] = trace["userId"]
        if trace.get("name"):
            attrs["langfuse.trace.name"] = trace["name"]
        attrs = {k: v for k, v in attrs.items() if v is not None}
        scope = meta.get("scope") or trace_meta.get("scope") or {}
        resource = meta.get("resourceAttributes") or trace_meta.get("resourceAttributes") or {}
        parent = o.get("parentObservationId")
        level = o.get("level")
        spans.append(RawSpan(
            trace_id=trace_id,
            span_id=_id(o["id"], 8),
            parent_span_id=_id(parent, 8) if parent else None,
            name=str(o.get("name") or o.get("type") or ""),
            otel_kind="internal",
            start_ns=_ns(o.get("startTime")),
            end_ns=_ns(o.get("endTime") or o.get("startTime")),
            status_code="error" if level == "ERROR" else "unset",
            status_message=o.get("statusMessage"),
            attributes=attrs,
            resource=dict(resource),
            scope_name=scope.get("name"),
            scope_version=scope.get("version"),
        ))
    return spans
