"""Shortening values to one line, shared by the terminal renderers and the analyses."""

from __future__ import annotations

from typing import Any

import orjson

__all__ = ["message_text", "short"]


def short(value: Any, width: int = 80) -> str:
    """One line of at most ``width`` characters (JSON for non-strings)."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else orjson.dumps(value).decode()
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def message_text(message: Any, width: int = 200) -> str:
    """A canonical message (model or dict) as text: its parts, tool calls as ``→ f(args)``."""
    parts = message.get("parts") if isinstance(message, dict) else getattr(message, "parts", None)
    bits = []
    for part in parts or ():
        get = part.get if isinstance(part, dict) else lambda k, p=part: getattr(p, k, None)
        kind = get("type")
        if kind == "text":
            bits.append(get("content") or "")
        elif kind == "tool_call":
            bits.append(f"→ {get('name')}({short(get('arguments'), width)})")
        elif kind == "tool_call_response":
            bits.append(f"← {short(get('response'), width)}")
        else:
            bits.append(f"[{kind}]")
    return " ".join(bits)
