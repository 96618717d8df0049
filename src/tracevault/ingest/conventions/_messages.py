"""Converters from every message format producers use to the canonical message dict.

The canonical form is the OpenTelemetry GenAI message (``gen_ai.input.messages``):
``{"role", "name"?, "parts": [...], "finish_reason"?}`` with parts ``text``,
``reasoning``, ``tool_call``, ``tool_call_response``, ``blob``, ``uri``, ``file``.
Every converter is a pure function of one message; unknown shapes are kept, never dropped.
"""

from __future__ import annotations

from typing import Any

import orjson

__all__ = [
    "any_message",
    "canonical_message",
    "is_canonical_message",
    "flat_group_message",
    "legacy_event_message",
    "maybe_json",
    "part_from_chat_item",
    "text_message",
    "tool_definition",
]


def maybe_json(value: Any) -> Any:
    """Parse a JSON string when it holds an object or array; otherwise return it unchanged."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value


def _msg(role: Any, parts: list[dict[str, Any]], name: Any = None,
         finish_reason: Any = None) -> dict[str, Any]:
    out: dict[str, Any] = {"role": str(role) if role is not None else "unknown"}
    if name is not None:
        out["name"] = str(name)
    out["parts"] = parts
    if finish_reason is not None:
        out["finish_reason"] = str(finish_reason)
    return out


def text_message(role: str, text: Any, finish_reason: Any = None) -> dict[str, Any]:
    """A message of one text part."""
    parts = [] if text is None else [{"type": "text", "content": _text(text)}]
    return _msg(role, parts, finish_reason=finish_reason)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


def _tool_call(id_: Any, name: Any, arguments: Any) -> dict[str, Any]:
    return {"type": "tool_call", "id": None if id_ is None else str(id_),
            "name": "" if name is None else str(name), "arguments": maybe_json(arguments)}


def part_from_chat_item(item: Any) -> dict[str, Any]:
    """Convert one content item of OpenAI chat, Anthropic or Vercel AI SDK form to a part."""
    if isinstance(item, str):
        return {"type": "text", "content": item}
    if not isinstance(item, dict):
        return {"type": "text", "content": _text(item)}
    kind = item.get("type")
    if kind in ("text", "input_text", "output_text") and "text" in item:
        return {"type": "text", "content": _text(item["text"])}
    if kind == "text" and "content" in item:
        return {"type": "text", "content": _text(item["content"])}
    if kind in ("reasoning", "thinking"):
        return {"type": "reasoning",
                "content": _text(item.get("text", item.get("thinking", item.get("content", ""))))}
    if kind in ("tool-call", "tool_use", "tool_call"):
        return _tool_call(item.get("toolCallId", item.get("id")),
                          item.get("toolName", item.get("name")),
                          item.get("input", item.get("args", item.get("arguments"))))
    if kind in ("tool-result", "tool_result", "tool_call_response"):
        return {"type": "tool_call_response",
                "id": item.get("toolCallId", item.get("tool_use_id", item.get("id"))),
                "response": item.get("output", item.get("result",
                                     item.get("content", item.get("response"))))}
    if kind == "image_url":
        url = item.get("image_url")
        url = url.get("url") if isinstance(url, dict) else url
        return {"type": "uri", "modality": "image", "uri": str(url)}
    if kind in ("blob", "uri", "file"):
        return dict(item)
    return dict(item) if "type" in item else {"type": "unknown", "value": item}


def _chat_message(d: dict[str, Any]) -> dict[str, Any]:
    """OpenAI chat / Vercel / Anthropic style: content string or list, tool_calls."""
    parts: list[dict[str, Any]] = []
    content = d.get("content")
    if isinstance(content, list):
        parts.extend(part_from_chat_item(item) for item in content)
    elif content is not None and content != "":
        if d.get("role") == "tool":
            parts.append({"type": "tool_call_response", "id": d.get("tool_call_id"),
                          "response": content})
        else:
            parts.append({"type": "text", "content": _text(content)})
    for call in d.get("tool_calls") or []:
        if isinstance(call, dict):
            fn = call.get("function") if isinstance(call.get("function"), dict) else call
            parts.append(_tool_call(call.get("id"), fn.get("name"), fn.get("arguments")))
    if d.get("role") == "tool" and not parts and d.get("tool_call_id") is not None:
        parts.append({"type": "tool_call_response", "id": d.get("tool_call_id"),
                      "response": content})
    return _msg(d.get("role"), parts, d.get("name"), d.get("finish_reason"))


def canonical_message(d: dict[str, Any]) -> dict[str, Any]:
    """Normalise a message already in GenAI ``parts`` form (fills defaults, keeps extras)."""
    parts = []
    for p in d.get("parts") or []:
        parts.append(p if isinstance(p, dict) and "type" in p else part_from_chat_item(p))
    return _msg(d.get("role"), parts, d.get("name"), d.get("finish_reason"))


_CANONICAL_ORDER = ("role", "name", "parts", "finish_reason")


def is_canonical_message(value: Any) -> bool:
    """Whether ``any_message(value)`` would return ``value`` unchanged (same JSON text).

    A cheap check that lets ingest skip converting messages already in GenAI form.
    """
    if type(value) is not dict or not isinstance(value.get("role"), str):
        return False
    order = [k for k in _CANONICAL_ORDER if k in value]
    if list(value) != order or not isinstance(value.get("parts"), list):
        return False
    for key in ("name", "finish_reason"):
        if key in value and not isinstance(value[key], str):
            return False
    return all(type(p) is dict and "type" in p for p in value["parts"])


def any_message(value: Any) -> dict[str, Any]:
    """Convert a message of any known JSON form to the canonical form."""
    if isinstance(value, dict):
        if "parts" in value:
            return canonical_message(value)
        if "message" in value and isinstance(value["message"], dict) and "role" not in value:
            inner = _chat_message(value["message"])  # a gen_ai.choice body
            if value.get("finish_reason") is not None:
                inner["finish_reason"] = str(value["finish_reason"])
            if inner["role"] == "unknown":
                inner["role"] = "assistant"
            return inner
        return _chat_message(value)
    return text_message("unknown", value)


def _flat_tool_calls(group: dict[str, Any], prefix: str) -> list[dict[str, Any]]:
    calls: dict[int, dict[str, Any]] = {}
    for key, value in group.items():
        if not key.startswith(prefix):
            continue
        index, _, rest = key[len(prefix):].partition(".")
        if index.isdigit():
            calls.setdefault(int(index), {})[rest] = value
    out = []
    for _, c in sorted(calls.items()):
        out.append(_tool_call(
            c.get("tool_call.id", c.get("id")),
            c.get("tool_call.function.name", c.get("name")),
            c.get("tool_call.function.arguments", c.get("arguments")),
        ))
    return out


def flat_group_message(group: dict[str, Any]) -> dict[str, Any]:
    """Convert one flattened message (OpenInference ``message.*`` or OpenLLMetry keys)."""
    if any(k.startswith("message.") for k in group):
        g = {k[len("message."):]: v for k, v in group.items() if k.startswith("message.")}
        tool_prefix = "tool_calls."
        contents: dict[int, dict[str, Any]] = {}
        for key, value in g.items():
            if key.startswith("contents."):
                index, _, rest = key[len("contents."):].partition(".")
                if index.isdigit():
                    contents.setdefault(int(index), {})[rest.removeprefix("message_content.")] \
                        = value
    else:
        g = group
        tool_prefix = "tool_calls."
        contents = {}
    role = g.get("role")
    parts: list[dict[str, Any]] = []
    if contents:
        for _, c in sorted(contents.items()):
            if c.get("type") == "image" or "image.image.url" in c:
                parts.append({"type": "uri", "modality": "image",
                              "uri": str(c.get("image.image.url", ""))})
            else:
                parts.append({"type": "text", "content": _text(c.get("text", ""))})
    content = g.get("content")
    if content is not None and content != "":
        if role == "tool":
            parts.append({"type": "tool_call_response", "id": g.get("tool_call_id"),
                          "response": content})
        else:
            parts.append({"type": "text", "content": _text(content)})
    parts.extend(_flat_tool_calls(g, tool_prefix))
    return _msg(role, parts, g.get("name"), g.get("finish_reason"))


def tool_definition(value: Any) -> dict[str, Any]:
    """Convert a tool definition to ``{type, name, description, parameters}``.

    Accepts GenAI, OpenAI ``{"type": "function", "function": ...}``, OpenInference
    ``json_schema`` and flattened OpenLLMetry forms.
    """
    value = maybe_json(value)
    if isinstance(value, dict) and set(value) <= {"tool.json_schema"}:
        value = maybe_json(value.get("tool.json_schema"))
    if not isinstance(value, dict):
        return {"type": "function", "name": _text(value)}
    fn = value.get("function") if isinstance(value.get("function"), dict) else value
    out: dict[str, Any] = {"type": str(value.get("type") or "function"),
                           "name": str(fn.get("name", ""))}
    if fn.get("description") is not None:
        out["description"] = str(fn["description"])
    params = fn.get("parameters", fn.get("input_schema", fn.get("inputSchema")))
    if params is not None:
        out["parameters"] = maybe_json(params)
    return out


_LEGACY_ROLES = {
    "gen_ai.system.message": "system",
    "gen_ai.user.message": "user",
    "gen_ai.assistant.message": "assistant",
    "gen_ai.tool.message": "tool",
}


def legacy_event_message(name: str, payload: Any) -> tuple[str, dict[str, Any]] | None:
    """Convert a pre-1.37 GenAI content event to ``(channel, message)``.

    ``gen_ai.{system,user,assistant,tool}.message`` become input messages and
    ``gen_ai.choice`` an output message. Returns None for other events.
    """
    payload = maybe_json(payload)
    if name in _LEGACY_ROLES:
        body = dict(payload) if isinstance(payload, dict) else {"content": payload}
        body.setdefault("role", _LEGACY_ROLES[name])
        if name == "gen_ai.tool.message" and "tool_call_id" not in body and "id" in body:
            body["tool_call_id"] = body["id"]
        return "input", _chat_message(body)
    if name == "gen_ai.choice":
        body = payload if isinstance(payload, dict) else {"message": {"content": payload}}
        message = body.get("message") if isinstance(body.get("message"), dict) else body
        msg = _chat_message(message)
        if msg["role"] == "unknown":
            msg["role"] = "assistant"
        if body.get("finish_reason") is not None:
            msg["finish_reason"] = str(body["finish_reason"])
        return "output", msg
    return None
