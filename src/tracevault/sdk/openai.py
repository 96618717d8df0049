"""Record every chat completion of a plain ``openai`` client (sync, streamed too)."""

from __future__ import annotations

from typing import Any

from ._recorder import Recorder

__all__ = ["instrument_openai", "merge_chunks"]


def merge_chunks(chunks: list[Any]) -> dict[str, Any]:
    """A streamed completion folded back into one ``chat.completion``."""
    content: list[str] = []
    calls: dict[int, dict[str, Any]] = {}
    finish = None
    usage = None
    model = rid = None
    for chunk in chunks:
        data = chunk.model_dump() if hasattr(chunk, "model_dump") else chunk
        model = data.get("model") or model
        rid = data.get("id") or rid
        usage = data.get("usage") or usage
        for choice in data.get("choices") or []:
            delta = choice.get("delta") or {}
            if delta.get("content"):
                content.append(delta["content"])
            for tc in delta.get("tool_calls") or []:
                slot = calls.setdefault(tc.get("index", 0), {
                    "id": None, "type": "function", "function": {"name": "", "arguments": ""}})
                slot["id"] = tc.get("id") or slot["id"]
                fn = tc.get("function") or {}
                slot["function"]["name"] += fn.get("name") or ""
                slot["function"]["arguments"] += fn.get("arguments") or ""
            finish = choice.get("finish_reason") or finish
    message: dict[str, Any] = {"role": "assistant", "content": "".join(content) or None}
    if calls:
        message["tool_calls"] = [calls[i] for i in sorted(calls)]
    return {"id": rid, "model": model, "usage": usage,
            "choices": [{"index": 0, "message": message, "finish_reason": finish}]}


def instrument_openai(client: Any, agent: str = "agent", *, hooks: Any = (),
                      recorder: Recorder | None = None) -> Any:
    """Make ``client.chat.completions.create`` record each call; returns the client.

    Streamed calls (``stream=True``) are recorded once the stream has been read.
    """
    rec = recorder or Recorder(agent, hooks=hooks)
    completions = client.chat.completions
    original = completions.create

    def create(*, model: str, messages: list[Any], tools: Any = None, **params: Any) -> Any:
        msgs = [m.model_dump(exclude_none=True) if hasattr(m, "model_dump") else m
                for m in messages]
        if params.get("stream"):
            return rec.model_call_stream(original, model=model, messages=msgs, tools=tools,
                                         merge=merge_chunks, **params)
        return rec.model_call(original, model=model, messages=msgs, tools=tools, **params)

    completions.create = create
    return client
