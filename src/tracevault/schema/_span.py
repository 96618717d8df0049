"""Schema v1: spans, their typed details per kind, traces and scores."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ._parts import Message, Part, ToolDefinition

__all__ = [
    "SCHEMA_VERSION",
    "SPAN_KINDS",
    "AgentDetail",
    "AgentRef",
    "Budget",
    "Detail",
    "Document",
    "Event",
    "GuardrailDetail",
    "HarnessState",
    "Link",
    "LLMDetail",
    "MemoryDetail",
    "MessageDetail",
    "OtherDetail",
    "Resource",
    "RetrievalDetail",
    "Scope",
    "Score",
    "Span",
    "SpanKind",
    "Status",
    "StepDetail",
    "ToolDetail",
    "TraceSummary",
    "Usage",
]

SCHEMA_VERSION = 1
"""The schema version this tracevault writes. Every stored record carries its version."""

SpanKind = Literal[
    "agent", "llm", "tool", "memory", "message", "retrieval", "step", "guardrail", "other"
]
SPAN_KINDS: tuple[str, ...] = (
    "agent", "llm", "tool", "memory", "message", "retrieval", "step", "guardrail", "other"
)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)


class Usage(_Model):
    """Token counts of one model call."""

    input_tokens: int | None = None
    """Tokens in the prompt, including cached ones."""
    output_tokens: int | None = None
    """Tokens generated, including reasoning tokens."""
    cache_read_tokens: int | None = None
    """Prompt tokens served from the provider's cache."""
    cache_write_tokens: int | None = None
    """Prompt tokens written to the provider's cache."""
    reasoning_tokens: int | None = None
    """Output tokens spent on reasoning."""
    total_tokens: int | None = None
    """Total as reported, or input + output."""


class LLMDetail(_Model):
    """A model call (chat, completion, embeddings) with its full input context."""

    kind: Literal["llm"] = "llm"
    """Discriminator: always ``llm``."""
    operation: str | None = None
    """``chat``, ``text_completion``, ``embeddings``, ``generate_content``..."""
    provider: str | None = None
    """``openai``, ``anthropic``, ``mistral_ai``..."""
    request_model: str | None = None
    """The model asked for."""
    response_model: str | None = None
    """The model that answered."""
    response_id: str | None = None
    """The provider's response id."""
    parameters: dict[str, Any] = Field(default_factory=dict)
    """Request parameters: temperature, max_tokens, top_p, stop, seed, ..."""
    system_instructions: list[Part] = Field(default_factory=list)
    """System instructions given apart from the messages."""
    input_messages: list[Message] = Field(default_factory=list)
    """Every message the model saw, in order."""
    output_messages: list[Message] = Field(default_factory=list)
    """What the model answered."""
    tool_definitions: list[ToolDefinition] = Field(default_factory=list)
    """Tools offered to the model."""
    finish_reasons: list[str] = Field(default_factory=list)
    """Why generation stopped, per choice."""
    usage: Usage = Field(default_factory=Usage)
    """Token counts."""
    cost_usd: float | None = None
    """Cost in US dollars, when the producer reported it."""


class ToolDetail(_Model):
    """A tool execution."""

    kind: Literal["tool"] = "tool"
    """Discriminator: always ``tool``."""
    name: str | None = None
    """The tool's name."""
    call_id: str | None = None
    """The tool call id linking it to the model's request."""
    type: str | None = None
    """``function``, ``extension``, ``datastore``..."""
    description: str | None = None
    """The tool's description."""
    arguments: Any = None
    """Arguments (JSON value, or the raw string)."""
    result: Any = None
    """Result (JSON value, or the raw string)."""
    error: str | None = None
    """Error message when the call failed."""
    blocked: bool = False
    """True when a policy hook blocked the call before it ran."""


class MemoryDetail(_Model):
    """A read, write, search or delete on an agent memory store."""

    kind: Literal["memory"] = "memory"
    """Discriminator: always ``memory``."""
    operation: str | None = None
    """``read``, ``write``, ``search``, ``delete``..."""
    store: str | None = None
    """The memory store's id or name."""
    keys: list[str] = Field(default_factory=list)
    """The keys touched."""
    values: Any = None
    """Values read or written (a JSON value; for several keys an object keyed by key)."""
    query: str | None = None
    """The search query, for searches."""


class MessageDetail(_Model):
    """A message sent or received between agents."""

    kind: Literal["message"] = "message"
    """Discriminator: always ``message``."""
    direction: str | None = None
    """``send`` or ``receive``."""
    sender: str | None = None
    """Sending agent."""
    receiver: str | None = None
    """Receiving agent."""
    channel: str | None = None
    """Channel, topic or queue."""
    message_id: str | None = None
    """Id of the message, to pair send and receive."""
    content: Any = None
    """The message content."""


class Document(BaseModel):
    """A retrieved document."""

    model_config = ConfigDict(extra="allow", use_attribute_docstrings=True)
    id: str | None = None
    """Document id."""
    content: Any = None
    """Document content."""
    score: float | None = None
    """Relevance score."""
    metadata: Any = None
    """Document metadata."""


class RetrievalDetail(_Model):
    """A retrieval from a vector store, search index or data source."""

    kind: Literal["retrieval"] = "retrieval"
    """Discriminator: always ``retrieval``."""
    query: Any = None
    """The query."""
    data_source: str | None = None
    """The data source id."""
    documents: list[Document] = Field(default_factory=list)
    """Documents returned, in rank order."""


class AgentDetail(_Model):
    """An agent invocation (``invoke_agent``) or creation."""

    kind: Literal["agent"] = "agent"
    """Discriminator: always ``agent``."""
    operation: str | None = None
    """``invoke_agent`` or ``create_agent``."""
    description: str | None = None
    """The agent's description."""
    input: Any = None
    """What the agent was asked, when recorded."""
    output: Any = None
    """What the agent answered, when recorded."""


class StepDetail(_Model):
    """One iteration of the harness loop."""

    kind: Literal["step"] = "step"
    """Discriminator: always ``step``."""
    input: Any = None
    """Step input, when recorded."""
    output: Any = None
    """Step output, when recorded."""


class GuardrailDetail(_Model):
    """A guardrail or policy check."""

    kind: Literal["guardrail"] = "guardrail"
    """Discriminator: always ``guardrail``."""
    name: str | None = None
    """The guardrail's name."""
    decision: str | None = None
    """``allow``, ``block``, ``redact``..."""
    input: Any = None
    """What was checked."""
    output: Any = None
    """The guardrail's verdict or rewritten content."""


class OtherDetail(_Model):
    """A span of no agent-specific kind (chains, HTTP calls, ...)."""

    kind: Literal["other"] = "other"
    """Discriminator: always ``other``."""
    input: Any = None
    """Input value, when recorded (``input.value``)."""
    output: Any = None
    """Output value, when recorded (``output.value``)."""


Detail = Annotated[
    LLMDetail | ToolDetail | MemoryDetail | MessageDetail | RetrievalDetail | AgentDetail
    | StepDetail | GuardrailDetail | OtherDetail,
    Field(discriminator="kind"),
]
"""The typed part of a span, discriminated by ``kind``."""


class Budget(_Model):
    """What an agent has left to spend."""

    tokens: int | None = None
    """Tokens remaining."""
    cost_usd: float | None = None
    """Money remaining, in US dollars."""
    steps: int | None = None
    """Loop iterations remaining."""
    time_s: float | None = None
    """Wall-clock seconds remaining."""


class HarnessState(_Model):
    """Harness state at a step (``tracevault.harness.*`` attributes)."""

    goal: str | None = None
    """The current goal."""
    step_index: int | None = None
    """Index of the loop iteration, from 0."""
    retry_count: int | None = None
    """How many times this step was retried."""
    budget: Budget = Field(default_factory=Budget)
    """Budget remaining."""


class Status(_Model):
    """Span outcome."""

    code: Literal["unset", "ok", "error"] = "unset"
    """OpenTelemetry status code."""
    message: str | None = None
    """Status description."""
    error_type: str | None = None
    """Error class (``error.type`` or the exception event's type)."""


class Resource(_Model):
    """Where the span came from."""

    service_name: str | None = None
    """``service.name``."""
    service_version: str | None = None
    """``service.version``."""
    harness_name: str | None = None
    """The agent harness or framework (``tracevault.harness.name`` or telemetry SDK)."""
    harness_version: str | None = None
    """Its version."""
    attributes: dict[str, Any] = Field(default_factory=dict)
    """All resource attributes as sent."""


class Scope(_Model):
    """The instrumentation scope that emitted the span."""

    name: str | None = None
    """Scope (instrumentation library) name."""
    version: str | None = None
    """Scope version."""


class AgentRef(_Model):
    """The agent a span belongs to."""

    id: str | None = None
    """Agent id."""
    name: str | None = None
    """Agent name."""
    version: str | None = None
    """Agent version."""


class Link(_Model):
    """A causal link to another span, possibly in another trace."""

    trace_id: str
    """Linked trace id (32 hex digits)."""
    span_id: str
    """Linked span id (16 hex digits)."""
    attributes: dict[str, Any] = Field(default_factory=dict)
    """Link attributes as sent."""
    trace_state: str | None = None
    """W3C trace state of the linked span, when sent."""


class Event(_Model):
    """A span event or a log record attached to the span."""

    time_ns: int | None = None
    """Event time, Unix nanoseconds."""
    name: str
    """Event name (``exception``, ``gen_ai.choice``, ...)."""
    source: Literal["span", "log"] = "span"
    """Whether it came inside the span or as an OTLP log record."""
    attributes: dict[str, Any] = Field(default_factory=dict)
    """Event attributes as sent."""
    body: Any = None
    """Log record body (log records only)."""


class Span(_Model):
    """One unit of agent work, normalised into schema v1."""

    schema_version: int = SCHEMA_VERSION
    """Schema version of this record."""
    project: str = "default"
    """Project the span belongs to."""
    trace_id: str
    """Trace id, 32 lowercase hex digits."""
    span_id: str
    """Span id, 16 lowercase hex digits."""
    parent_span_id: str | None = None
    """Parent span id, or None for a root span."""
    name: str
    """Span name as sent."""
    kind: SpanKind = "other"
    """What the span is; decides the ``detail`` type."""
    otel_kind: str = "internal"
    """OpenTelemetry span kind (internal, server, client, producer, consumer)."""
    start_time_ns: int
    """Start, Unix nanoseconds."""
    end_time_ns: int
    """End, Unix nanoseconds."""
    duration_ns: int
    """End minus start."""
    status: Status = Field(default_factory=Status)
    """Outcome."""
    resource: Resource = Field(default_factory=Resource)
    """The producing service and harness, with all resource attributes."""
    scope: Scope = Field(default_factory=Scope)
    """Instrumentation scope."""
    agent: AgentRef | None = None
    """The agent this span belongs to: its own agent attributes, else the nearest
    ancestor's in the trace."""
    session_id: str | None = None
    """Conversation or session id joining traces (``gen_ai.conversation.id``, ``session.id``)."""
    convention: str = "otel"
    """Convention the producer used: genai, openinference, openllmetry, vercel, tracevault, otel."""
    detail: Detail = Field(default_factory=OtherDetail)
    """Typed content for the span's kind."""
    harness: HarnessState | None = None
    """Harness state, when the span carries it."""
    links: list[Link] = Field(default_factory=list)
    """Causal links."""
    events: list[Event] = Field(default_factory=list)
    """Span events and attached log records, in time order."""
    attributes: dict[str, Any] = Field(default_factory=dict)
    """Original attributes. Those whose content moved into ``detail`` or blobs (messages,
    large values) appear as ``{"$lifted": channel}`` markers; request the span with
    ``original=true`` to get every attribute exactly as sent."""


class TraceSummary(_Model):
    """The summary row of one trace, maintained at ingest."""

    schema_version: int = SCHEMA_VERSION
    """Schema version of this record."""
    project: str
    """Project."""
    trace_id: str
    """Trace id."""
    root_span_id: str | None = None
    """Root span, once it arrived."""
    root_name: str | None = None
    """Root span name."""
    service_name: str | None = None
    """Service of the root span (or any span)."""
    agents: list[str] = Field(default_factory=list)
    """Agents involved."""
    session_ids: list[str] = Field(default_factory=list)
    """Sessions / conversations the trace belongs to."""
    models: list[str] = Field(default_factory=list)
    """Models called."""
    start_time_ns: int
    """Earliest span start."""
    end_time_ns: int
    """Latest span end."""
    duration_ns: int
    """End minus start."""
    status: Literal["ok", "error", "unset"]
    """``error`` when any span failed."""
    span_count: int
    """Spans stored."""
    error_count: int
    """Spans with error status."""
    llm_count: int
    """Model calls."""
    tool_count: int
    """Tool calls."""
    input_tokens: int
    """Sum of input tokens."""
    output_tokens: int
    """Sum of output tokens."""
    total_tokens: int
    """Sum of total tokens."""
    cost_usd: float
    """Sum of reported cost."""


class Score(_Model):
    """An append-only evaluation result or human label on a trace or span."""

    schema_version: int = SCHEMA_VERSION
    """Schema version of this record."""
    project: str = "default"
    """Project."""
    trace_id: str
    """The trace scored."""
    span_id: str | None = None
    """The span scored, or None for the whole trace."""
    name: str
    """Score name."""
    value: float | None = None
    """Numeric value."""
    label: str | None = None
    """Categorical label."""
    explanation: str | None = None
    """Why."""
    evaluator: dict[str, Any] = Field(default_factory=dict)
    """Evaluator spec (name, arguments, version) so the score can be re-created."""
    time_ns: int = 0
    """When the score was recorded."""
