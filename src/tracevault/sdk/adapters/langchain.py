"""LangChain and LangGraph: a callback handler recording chains, model calls and tools.

    from tracevault.sdk.adapters.langchain import TracevaultCallbackHandler
    graph.invoke(inputs, config={"callbacks": [TracevaultCallbackHandler(agent="coder")]})

The outermost chain becomes the agent run; LangGraph nodes become loop steps
(``tracevault.step.index`` from ``langgraph_step``); chat model calls keep every input
message, the tools offered, the output and token usage; tool runs keep input and output.
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from opentelemetry.trace import SpanKind

from ._spans import SpanTable, genai_messages, json_attr

__all__ = ["TracevaultCallbackHandler", "message_dict"]

_ROLES = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool",
          "function": "tool", "chat": "user"}


def message_dict(message: Any) -> dict[str, Any]:
    """A LangChain message as an OpenAI-style chat message dict."""
    out: dict[str, Any] = {"role": _ROLES.get(getattr(message, "type", ""), "user"),
                           "content": getattr(message, "content", str(message))}
    calls = getattr(message, "tool_calls", None)
    if calls:
        out["tool_calls"] = [{"id": c.get("id"), "type": "function",
                              "function": {"name": c.get("name"),
                                           "arguments": json.dumps(c.get("args", {}))}}
                             for c in calls]
    if getattr(message, "tool_call_id", None):
        out["tool_call_id"] = message.tool_call_id
    name = getattr(message, "name", None)
    if name:
        out["name"] = name
    return out


class TracevaultCallbackHandler(BaseCallbackHandler):
    """Records LangChain / LangGraph runs as tracevault spans."""

    def __init__(self, agent: str | None = None) -> None:
        self.agent = agent
        self.table = SpanTable("tracevault.adapters.langchain")

    def _common(self) -> dict[str, Any]:
        return {"gen_ai.agent.name": self.agent} if self.agent else {}

    # chains and graph nodes --------------------------------------------------------------
    def on_chain_start(self, serialized: dict[str, Any] | None, inputs: Any, *, run_id: UUID,
                       parent_run_id: UUID | None = None,
                       metadata: dict[str, Any] | None = None, **kwargs: Any) -> None:
        """A chain, runnable or graph node starts."""
        metadata = metadata or {}
        name = kwargs.get("name") or (serialized or {}).get("name") or "chain"
        attrs = {**self._common(), "tracevault.input": json_attr(inputs)}
        if parent_run_id is None:
            attrs.update({"gen_ai.operation.name": "invoke_agent"})
            name = f"invoke_agent {self.agent or name}"
        elif "langgraph_node" in metadata and metadata.get("langgraph_node") == name:
            attrs.update({"tracevault.span.kind": "step",
                          "tracevault.step.index": int(metadata.get("langgraph_step", 0))})
        self.table.start(run_id, parent_run_id, name, attrs)

    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
        """A chain ends."""
        self.table.end(run_id, {"tracevault.output": json_attr(outputs)})

    def on_chain_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        """A chain fails."""
        self.table.end(run_id, error=error)

    # chat models -----------------------------------------------------------------------
    def on_chat_model_start(self, serialized: dict[str, Any] | None,
                            messages: list[list[Any]], *, run_id: UUID,
                            parent_run_id: UUID | None = None,
                            invocation_params: dict[str, Any] | None = None,
                            **kwargs: Any) -> None:
        """A chat model call starts: record every input message and the tools offered."""
        params = invocation_params or {}
        model = params.get("model") or params.get("model_name") or "model"
        attrs = {**self._common(), "gen_ai.operation.name": "chat",
                 "gen_ai.provider.name": params.get("_type", "langchain"),
                 "gen_ai.request.model": model,
                 "gen_ai.input.messages": genai_messages(
                     [message_dict(m) for m in (messages[0] if messages else [])])}
        if params.get("tools"):
            attrs["gen_ai.tool.definitions"] = json.dumps(params["tools"], default=str)
        for key in ("temperature", "max_tokens", "top_p", "seed"):
            if isinstance(params.get(key), (int, float)):
                attrs[f"gen_ai.request.{key}"] = params[key]
        self.table.start(run_id, parent_run_id, f"chat {model}", attrs, SpanKind.CLIENT)

    def on_llm_end(self, response: Any, *, run_id: UUID, **kwargs: Any) -> None:
        """A model call ends: output, finish reason and token usage."""
        gen = response.generations[0][0] if response.generations and \
            response.generations[0] else None
        attrs: dict[str, Any] = {}
        message = getattr(gen, "message", None)
        if message is not None:
            out = message_dict(message)
            reason = (gen.generation_info or {}).get("finish_reason")
            attrs["gen_ai.output.messages"] = genai_messages(
                [{"message": out, "finish_reason": reason}])
            if reason:
                attrs["gen_ai.response.finish_reasons"] = [reason]
            usage = getattr(message, "usage_metadata", None) or {}
            attrs["gen_ai.usage.input_tokens"] = usage.get("input_tokens")
            attrs["gen_ai.usage.output_tokens"] = usage.get("output_tokens")
            meta = getattr(message, "response_metadata", None) or {}
            attrs["gen_ai.response.model"] = meta.get("model_name")
        elif gen is not None:
            attrs["gen_ai.output.messages"] = genai_messages(
                [{"role": "assistant", "content": gen.text}])
        self.table.end(run_id, attrs)

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        """A model call fails."""
        self.table.end(run_id, error=error)

    # tools -----------------------------------------------------------------------------
    def on_tool_start(self, serialized: dict[str, Any] | None, input_str: str, *,
                      run_id: UUID, parent_run_id: UUID | None = None,
                      inputs: dict[str, Any] | None = None, **kwargs: Any) -> None:
        """A tool starts: name and arguments."""
        name = (serialized or {}).get("name") or kwargs.get("name") or "tool"
        attrs = {**self._common(), "gen_ai.operation.name": "execute_tool",
                 "gen_ai.tool.name": name,
                 "gen_ai.tool.call.arguments": json_attr(inputs if inputs is not None
                                                         else input_str)}
        if kwargs.get("tool_call_id"):
            attrs["gen_ai.tool.call.id"] = kwargs["tool_call_id"]
        self.table.start(run_id, parent_run_id, f"execute_tool {name}", attrs)

    def on_tool_end(self, output: Any, *, run_id: UUID, **kwargs: Any) -> None:
        """A tool ends: its result."""
        content = getattr(output, "content", output)
        self.table.end(run_id, {"gen_ai.tool.call.result": json_attr(content)})

    def on_tool_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        """A tool fails."""
        self.table.end(run_id, error=error)
