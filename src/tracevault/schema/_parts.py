"""Message content: parts, messages and tool definitions (OpenTelemetry GenAI form)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag

__all__ = [
    "BlobPart",
    "FilePart",
    "Message",
    "OtherPart",
    "Part",
    "ReasoningPart",
    "TextPart",
    "ToolCallPart",
    "ToolCallResponsePart",
    "ToolDefinition",
    "UriPart",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)


class TextPart(_Model):
    """Plain text."""

    type: Literal["text"] = "text"
    """Discriminator: always ``text``."""
    content: str
    """The text."""


class ReasoningPart(_Model):
    """Reasoning or thinking text the model produced."""

    type: Literal["reasoning"] = "reasoning"
    """Discriminator: always ``reasoning``."""
    content: str
    """The reasoning text."""


class ToolCallPart(_Model):
    """A request from the model to call a tool."""

    type: Literal["tool_call"] = "tool_call"
    """Discriminator: always ``tool_call``."""
    id: str | None = None
    """The tool call id the model assigned."""
    name: str
    """The tool's name."""
    arguments: Any = None
    """The arguments: a JSON value, or the raw string when it was not valid JSON."""


class ToolCallResponsePart(_Model):
    """The result of a tool call, sent back to the model."""

    type: Literal["tool_call_response"] = "tool_call_response"
    """Discriminator: always ``tool_call_response``."""
    id: str | None = None
    """The id of the tool call this answers."""
    response: Any = None
    """The tool's result."""


class BlobPart(_Model):
    """Inline binary data (image, audio...), base64 encoded."""

    type: Literal["blob"] = "blob"
    """Discriminator: always ``blob``."""
    modality: str | None = None
    """``image``, ``audio``, ``video``..."""
    mime_type: str | None = None
    """The MIME type when known."""
    content: str
    """Base64 data."""


class UriPart(_Model):
    """Content referenced by URI."""

    type: Literal["uri"] = "uri"
    """Discriminator: always ``uri``."""
    modality: str | None = None
    """``image``, ``audio``, ``video``..."""
    mime_type: str | None = None
    """The MIME type when known."""
    uri: str
    """Where the content is."""


class FilePart(_Model):
    """Content referenced by a provider file id."""

    type: Literal["file"] = "file"
    """Discriminator: always ``file``."""
    modality: str | None = None
    """``image``, ``audio``, ``video``..."""
    mime_type: str | None = None
    """The MIME type when known."""
    file_id: str
    """The provider's file id."""


_KNOWN_PARTS = ("text", "reasoning", "tool_call", "tool_call_response", "blob", "uri", "file")


class OtherPart(BaseModel):
    """A part type tracevault does not model; all fields are kept."""

    model_config = ConfigDict(
        extra="allow", use_attribute_docstrings=True,
        json_schema_extra={"not": {"properties": {"type": {"enum": list(_KNOWN_PARTS)}}}},
    )
    type: str
    """The producer's part type."""


def _part_tag(value: Any) -> str:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return kind if kind in _KNOWN_PARTS else "other"


Part = Annotated[
    Annotated[TextPart, Tag("text")]
    | Annotated[ReasoningPart, Tag("reasoning")]
    | Annotated[ToolCallPart, Tag("tool_call")]
    | Annotated[ToolCallResponsePart, Tag("tool_call_response")]
    | Annotated[BlobPart, Tag("blob")]
    | Annotated[UriPart, Tag("uri")]
    | Annotated[FilePart, Tag("file")]
    | Annotated[OtherPart, Tag("other")],
    Discriminator(_part_tag),
]
"""One piece of a message, discriminated by ``type``."""


class Message(_Model):
    """One chat message: a role and its ordered parts (``gen_ai.input.messages`` form)."""

    role: str
    """``system``, ``user``, ``assistant``, ``tool`` or a producer-specific role."""
    name: str | None = None
    """Participant name, when the producer gave one."""
    parts: list[Part] = Field(default_factory=list)
    """The content, in order."""
    finish_reason: str | None = None
    """Why generation stopped (output messages only)."""


class ToolDefinition(BaseModel):
    """A tool offered to the model (``gen_ai.tool.definitions`` form)."""

    model_config = ConfigDict(extra="allow", use_attribute_docstrings=True)
    type: str = "function"
    """Tool type; ``function`` for function tools."""
    name: str
    """The tool's name."""
    description: str | None = None
    """What the tool does, as told to the model."""
    parameters: Any = None
    """JSON Schema of the arguments."""
