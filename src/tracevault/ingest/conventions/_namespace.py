"""The ``tracevault.*`` attribute namespace: what no OpenTelemetry convention covers yet.

Harness state, memory operations and agent-to-agent messages have no stable GenAI
convention. Producers (tracevault's SDK, or any OTel code) set these attributes; the
mapping tables read them. This list is the reference rendered into docs/schema.md.
"""

from __future__ import annotations

__all__ = ["TRACEVAULT_ATTRIBUTES"]

# (attribute, type, where, meaning)
TRACEVAULT_ATTRIBUTES: tuple[tuple[str, str, str, str], ...] = (
    ("tracevault.project", "string", "resource",
     "Project the spans belong to (ignored when the server uses API keys: the key decides)."),
    ("tracevault.harness.name", "string", "resource",
     "Agent harness or framework producing the spans."),
    ("tracevault.harness.version", "string", "resource", "Its version."),
    ("tracevault.span.kind", "string", "span",
     "Overrides kind detection: agent, llm, tool, memory, message, retrieval, step, "
     "guardrail, other."),
    ("tracevault.operation", "string", "span",
     "Operation name when gen_ai.operation.name does not apply."),
    ("tracevault.agent.id", "string", "span", "Agent id (else gen_ai.agent.id)."),
    ("tracevault.agent.name", "string", "span", "Agent name (else gen_ai.agent.name)."),
    ("tracevault.agent.version", "string", "span", "Agent version."),
    ("tracevault.session.id", "string", "span",
     "Session joining traces (else gen_ai.conversation.id, session.id)."),
    ("tracevault.input", "any", "span", "Input of an agent, step or other span."),
    ("tracevault.output", "any", "span", "Output of an agent, step or other span."),
    ("tracevault.cost_usd", "double", "span", "Cost of a model call in US dollars."),
    ("tracevault.step.index", "int", "span", "Index of the harness loop iteration, from 0."),
    ("tracevault.step.goal", "string", "span", "The goal the harness pursues at this step."),
    ("tracevault.step.retry_count", "int", "span", "Retries of this step so far."),
    ("tracevault.budget.tokens_remaining", "int", "span", "Token budget left."),
    ("tracevault.budget.cost_remaining_usd", "double", "span", "Money budget left (USD)."),
    ("tracevault.budget.steps_remaining", "int", "span", "Step budget left."),
    ("tracevault.budget.time_remaining_s", "double", "span", "Time budget left (seconds)."),
    ("tracevault.memory.operation", "string", "span",
     "read, write, search, delete, list (memory spans)."),
    ("tracevault.memory.store", "string", "span", "Memory store id."),
    ("tracevault.memory.keys", "string[]", "span", "Keys read or written."),
    ("tracevault.memory.values", "string (JSON)", "span",
     "Values read or written: a JSON object keyed by key, or one value."),
    ("tracevault.memory.query", "string", "span", "Search query of a memory search."),
    ("tracevault.message.direction", "string", "span", "send or receive."),
    ("tracevault.message.sender", "string", "span", "Sending agent."),
    ("tracevault.message.receiver", "string", "span", "Receiving agent."),
    ("tracevault.message.channel", "string", "span", "Channel, topic or queue."),
    ("tracevault.message.id", "string", "span", "Message id pairing send and receive."),
    ("tracevault.message.content", "string (JSON)", "span", "The message content."),
    ("tracevault.retrieval.query", "string", "span", "Retrieval query."),
    ("tracevault.retrieval.source", "string", "span", "Data source of a retrieval."),
    ("tracevault.tool.blocked", "boolean", "span",
     "True when a policy hook blocked a tool call before it ran."),
    ("tracevault.guardrail.name", "string", "span", "Guardrail name."),
    ("tracevault.guardrail.decision", "string", "span", "allow, block, redact..."),
    ("tracevault.redactions", "string (JSON)", "span, log",
     "Set by ingest when redaction replaced values: [{rule, path, count}], never the values."),
    ("tracevault.replay.of_trace", "string", "span",
     "On a replay's root span: the trace it replays."),
    ("tracevault.replay.mode", "string", "span", "On a replay's root span: step or trajectory."),
    ("tracevault.replay.model", "string", "span", "On a replay's root span: the model used."),
    ("tracevault.replay.step", "int", "span",
     "On a step replay's step span: the index of the replayed model call."),
    ("tracevault.replay.original_span_id", "string", "span",
     "On a step replay's step span: the model call it replays."),
    ("tracevault.replay.same", "boolean", "span",
     "On a step replay's step span: whether the decision was the same."),
    ("tracevault.link.type", "string", "link",
     "replay_of on the link from a replay to the trace it replays (such links do not join "
     "trace groups)."),
)
