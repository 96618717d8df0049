"""A span after convention mapping and before content addressing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ._raw import RawEvent, RawLink

__all__ = ["LIST_CHANNELS", "PAYLOAD_CHANNELS", "Source", "SpanDraft"]

LIST_CHANNELS = ("input", "output", "system", "tools", "documents")
"""Channels holding ordered lists of content items (messages, parts, tools, documents)."""

PAYLOAD_CHANNELS = (
    "tool.args", "tool.result", "memory.values", "message.content", "detail.input",
    "detail.output",
)
"""Channels holding one payload value."""


@dataclass(slots=True)
class Source:
    """Where a content channel's value comes from, left unparsed until the store lifts it.

    Forms:
      ``json``  a JSON string attribute holding a list (``key``, ``raw`` = the string)
      ``items`` a structured (OTLP array) list attribute (``raw`` = the list)
      ``flat``  a flattened family ``prefix.N.*`` (``raw`` = list of per-element dicts)
      ``text``  scalar attributes stored verbatim (``keys``/``raw`` tuples); ``derive``
                maps their values to the channel's canonical value
      ``value`` a value computed here, not tied to one attribute (``raw`` = the value)
    """

    form: str
    key: str
    raw: Any
    convert: Callable[[Any], Any] | None = None
    derive: Callable[..., Any] | None = None
    keys: tuple[str, ...] = ()


@dataclass(slots=True)
class SpanDraft:
    """Everything the store needs to write one span."""

    project: str
    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    kind: str
    otel_kind: str
    start_ns: int
    end_ns: int
    status: str
    status_message: str | None
    convention: str
    resource: dict[str, Any]
    scope_name: str | None
    scope_version: str | None
    attributes: dict[str, Any]
    """Original attributes not lifted into content."""
    fields: dict[str, Any] = field(default_factory=dict)
    """Typed scalar fields by column name (``llm_provider``, ``tool_name``, ...)."""
    params: dict[str, Any] = field(default_factory=dict)
    """LLM request parameters."""
    sources: dict[str, list[Source]] = field(default_factory=dict)
    """Content channels and where their values come from."""
    events: list[RawEvent] = field(default_factory=list)
    links: list[RawLink] = field(default_factory=list)
    flags: int = 0
    trace_state: str = ""
    drift: list[tuple[str, str]] = field(default_factory=list)
    """(attribute key, issue) pairs: ``unknown``, ``deprecated`` or ``type``."""
