"""Convention mapping tables: attribute names of each producer -> schema v1 fields.

These are data, not code paths. Each table is tested against real producer output in
``tests/ingest/conventions``. To support a new producer, add rows here.
Sources: OpenTelemetry GenAI semantic conventions (current and pre-1.37 forms),
OpenInference, OpenLLMetry (Traceloop), Vercel AI SDK and tracevault's own namespace.
"""

from __future__ import annotations

__all__ = [
    "DEPRECATED",
    "FIELD_TYPES",
    "KIND_ATTRIBUTES",
    "MAPPED_NAMESPACES",
    "MEMORY_OPERATIONS",
    "PARAMETERS",
    "SCALAR_FIELDS",
]

# --- span kind -------------------------------------------------------------------------
# (attribute, {value: kind}) in priority order; the first attribute present decides.
KIND_ATTRIBUTES: tuple[tuple[str, dict[str, str]], ...] = (
    ("tracevault.span.kind", {k: k for k in (
        "agent", "llm", "tool", "memory", "message", "retrieval", "step", "guardrail", "other")}),
    ("gen_ai.operation.name", {
        "chat": "llm", "text_completion": "llm", "generate_content": "llm",
        "embeddings": "llm", "completion": "llm", "call_llm": "llm", "responses": "llm",
        "execute_tool": "tool",
        "invoke_agent": "agent", "create_agent": "agent", "invoke_workflow": "agent",
        "retrieval": "retrieval", "retrieve": "retrieval", "rerank": "retrieval",
        "search_memory": "memory", "update_memory": "memory", "delete_memory": "memory",
        "create_memory_store": "memory", "delete_memory_store": "memory",
        "memory": "memory",
    }),
    ("openinference.span.kind", {
        "LLM": "llm", "EMBEDDING": "llm", "TOOL": "tool", "AGENT": "agent",
        "RETRIEVER": "retrieval", "RERANKER": "retrieval", "GUARDRAIL": "guardrail",
        "CHAIN": "other", "EVALUATOR": "other", "PROMPT": "other", "UNKNOWN": "other",
    }),
    ("traceloop.span.kind", {
        "workflow": "agent", "agent": "agent", "task": "step", "tool": "tool",
    }),
    ("llm.request.type", {
        "chat": "llm", "completion": "llm", "embedding": "llm", "rerank": "retrieval",
    }),
    ("ai.operationId", {
        "ai.generateText.doGenerate": "llm", "ai.streamText.doStream": "llm",
        "ai.generateObject.doGenerate": "llm", "ai.streamObject.doStream": "llm",
        "ai.embed.doEmbed": "llm", "ai.embedMany.doEmbed": "llm", "ai.toolCall": "tool",
        "ai.generateText": "other", "ai.streamText": "other", "ai.generateObject": "other",
        "ai.streamObject": "other", "ai.embed": "other", "ai.embedMany": "other",
    }),
    ("langfuse.observation.type", {
        "GENERATION": "llm", "EMBEDDING": "llm", "TOOL": "tool", "AGENT": "agent",
        "RETRIEVER": "retrieval", "GUARDRAIL": "guardrail", "CHAIN": "other",
        "EVALUATOR": "other", "SPAN": "other", "EVENT": "other",
    }),
)

# gen_ai.operation.name values that name a memory operation -> canonical operation.
MEMORY_OPERATIONS = {
    "search_memory": "search", "update_memory": "write", "delete_memory": "delete",
    "create_memory_store": "create_store", "delete_memory_store": "delete_store",
}

# --- scalar fields ---------------------------------------------------------------------
# column -> attribute names, preferred first. The first one present wins.
SCALAR_FIELDS: dict[str, tuple[str, ...]] = {
    "operation": ("gen_ai.operation.name", "tracevault.operation", "ai.operationId"),
    "error_type": ("error.type", "exception.type"),
    "agent_id": ("tracevault.agent.id", "gen_ai.agent.id"),
    "agent_name": ("tracevault.agent.name", "gen_ai.agent.name", "agent.name"),
    "agent_version": ("tracevault.agent.version", "gen_ai.agent.version"),
    "agent_description": ("gen_ai.agent.description",),
    "session_id": ("tracevault.session.id", "gen_ai.conversation.id", "session.id",
                   "langfuse.session.id", "ai.telemetry.metadata.sessionId"),
    "llm_provider": ("gen_ai.provider.name", "gen_ai.system", "llm.provider", "llm.system",
                     "ai.model.provider"),
    # OpenInference's llm.model_name is the answering model; the requested one is in
    # llm.invocation_parameters and is read from there (see _normalize._params).
    "llm_request_model": ("gen_ai.request.model", "ai.model.id",
                          "langfuse.observation.model.name"),
    "llm_response_model": ("gen_ai.response.model", "ai.response.model", "llm.model_name",
                           "llm.response.model", "langfuse.observation.model.name"),
    "llm_response_id": ("gen_ai.response.id", "ai.response.id"),
    "llm_finish_reasons": ("gen_ai.response.finish_reasons", "ai.response.finishReason",
                           "llm.response.finish_reason"),
    "tokens_input": ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens",
                     "llm.token_count.prompt", "llm.usage.prompt_tokens",
                     "ai.usage.inputTokens", "ai.usage.promptTokens", "ai.usage.tokens",
                     "langfuse.observation.usage_details.input"),
    "tokens_output": ("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens",
                      "llm.token_count.completion", "llm.usage.completion_tokens",
                      "ai.usage.outputTokens", "ai.usage.completionTokens",
                      "langfuse.observation.usage_details.output"),
    "tokens_total": ("gen_ai.usage.total_tokens", "llm.token_count.total",
                     "llm.usage.total_tokens", "ai.usage.totalTokens",
                     "langfuse.observation.usage_details.total"),
    "tokens_cache_read": ("gen_ai.usage.cache_read.input_tokens",
                          "gen_ai.usage.cache_read_input_tokens",
                          "llm.token_count.prompt_details.cache_read",
                          "ai.usage.cachedInputTokens",
                          "langfuse.observation.usage_details.input_cached_tokens"),
    "tokens_cache_write": ("gen_ai.usage.cache_creation.input_tokens",
                           "gen_ai.usage.cache_creation_input_tokens",
                           "llm.token_count.prompt_details.cache_write"),
    "tokens_reasoning": ("gen_ai.usage.reasoning.output_tokens",
                         "llm.token_count.completion_details.reasoning",
                         "ai.usage.reasoningTokens",
                         "langfuse.observation.usage_details.output_reasoning_tokens"),
    "cost_usd": ("tracevault.cost_usd", "gen_ai.usage.cost", "llm.cost.total",
                 "langfuse.observation.cost_details.total"),
    "cost_input_usd": ("gen_ai.usage.input_cost", "llm.cost.prompt"),
    "cost_output_usd": ("gen_ai.usage.output_cost", "llm.cost.completion"),
    "tool_name": ("gen_ai.tool.name", "tool.name", "ai.toolCall.name"),
    "tool_call_id": ("gen_ai.tool.call.id", "tool_call.id", "ai.toolCall.id"),
    "tool_type": ("gen_ai.tool.type",),
    "tool_description": ("gen_ai.tool.description", "tool.description"),
    "tool_blocked": ("tracevault.tool.blocked",),
    "memory_operation": ("tracevault.memory.operation", "gen_ai.memory.operation"),
    "memory_store": ("tracevault.memory.store", "gen_ai.memory.store.id",
                     "gen_ai.memory.store.name"),
    "memory_keys": ("tracevault.memory.keys", "gen_ai.memory.keys", "gen_ai.memory.id"),
    "memory_query": ("tracevault.memory.query", "gen_ai.memory.query"),
    "msg_direction": ("tracevault.message.direction",),
    "msg_sender": ("tracevault.message.sender",),
    "msg_receiver": ("tracevault.message.receiver",),
    "msg_channel": ("tracevault.message.channel",),
    "msg_id": ("tracevault.message.id",),
    "retrieval_query": ("gen_ai.retrieval.query.text", "tracevault.retrieval.query"),
    "retrieval_source": ("gen_ai.data_source.id", "tracevault.retrieval.source",
                         "db.collection.name"),
    "guardrail_name": ("tracevault.guardrail.name",),
    "guardrail_decision": ("tracevault.guardrail.decision",),
    "step_index": ("tracevault.step.index",),
    "step_goal": ("tracevault.step.goal",),
    "retry_count": ("tracevault.step.retry_count",),
    "budget_tokens": ("tracevault.budget.tokens_remaining",),
    "budget_cost_usd": ("tracevault.budget.cost_remaining_usd",),
    "budget_steps": ("tracevault.budget.steps_remaining",),
    "budget_time_s": ("tracevault.budget.time_remaining_s",),
}

# column -> Python type the value must have ("list" = list of strings).
FIELD_TYPES: dict[str, str] = {
    "tokens_input": "int", "tokens_output": "int", "tokens_total": "int",
    "tokens_cache_read": "int", "tokens_cache_write": "int", "tokens_reasoning": "int",
    "cost_usd": "float", "cost_input_usd": "float", "cost_output_usd": "float",
    "tool_blocked": "bool", "memory_keys": "list", "llm_finish_reasons": "list",
    "step_index": "int", "retry_count": "int", "budget_tokens": "int",
    "budget_cost_usd": "float", "budget_steps": "int", "budget_time_s": "float",
}

# --- LLM request parameters ---------------------------------------------------------------
PARAMETERS: dict[str, str] = {
    "gen_ai.request.temperature": "temperature",
    "gen_ai.request.top_p": "top_p",
    "gen_ai.request.top_k": "top_k",
    "gen_ai.request.max_tokens": "max_tokens",
    "gen_ai.request.stop_sequences": "stop",
    "gen_ai.request.seed": "seed",
    "gen_ai.request.frequency_penalty": "frequency_penalty",
    "gen_ai.request.presence_penalty": "presence_penalty",
    "gen_ai.request.choice.count": "n",
    "gen_ai.request.encoding_formats": "encoding_formats",
    "gen_ai.output.type": "output_type",
    "llm.temperature": "temperature",
    "llm.top_p": "top_p",
    "llm.request.max_tokens": "max_tokens",
    "ai.settings.maxRetries": "max_retries",
    "ai.settings.temperature": "temperature",
    "ai.settings.maxOutputTokens": "max_tokens",
    "ai.prompt.toolChoice": "tool_choice",
}

# Attribute namespaces tracevault maps; an unmapped key inside them is reported as drift.
MAPPED_NAMESPACES = (
    "gen_ai.", "tracevault.", "openinference.", "llm.", "tool.", "tool_call.", "retrieval.",
    "embedding.", "traceloop.", "ai.", "langfuse.",
)

# Keys still understood but superseded in the conventions; reported as ``deprecated``.
DEPRECATED = frozenset({
    "gen_ai.system", "gen_ai.usage.prompt_tokens", "gen_ai.usage.completion_tokens",
    "gen_ai.prompt", "gen_ai.completion", "llm.usage.prompt_tokens",
    "llm.usage.completion_tokens", "llm.usage.total_tokens",
})
