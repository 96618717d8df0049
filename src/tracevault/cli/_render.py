"""Human-readable rendering of traces and spans for the terminal."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from .._text import message_text, short

__all__ = ["duration", "key_content", "print_table", "short", "timestamp"]


def duration(ns: int | None) -> str:
    """``1.23s``, ``45ms``, ``870µs``."""
    if ns is None:
        return "-"
    if ns >= 1_000_000_000:
        return f"{ns / 1e9:.2f}s"
    if ns >= 1_000_000:
        return f"{ns / 1e6:.0f}ms"
    return f"{ns / 1e3:.0f}µs"


def timestamp(ns: int | None) -> str:
    """UTC time of a Unix-ns timestamp."""
    if not ns:
        return "-"
    return datetime.fromtimestamp(ns / 1e9, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def _message_text(message: Any) -> str:
    if not isinstance(message, dict):
        return short(message)
    return f"{message.get('role')}: " + message_text(message, 60)


def key_content(span: Any, width: int = 100) -> str:
    """The most telling content of a span in one line."""
    d = span.detail
    kind = span.kind
    if kind == "llm":
        model = d.response_model or d.request_model or "?"
        out = d.output_messages[-1].model_dump() if d.output_messages else None
        tokens = d.usage.total_tokens
        text = f"{model} in={len(d.input_messages)} msgs"
        if tokens is not None:
            text += f" tokens={tokens}"
        if out is not None:
            text += " | " + _message_text(out)
        return short(text, width)
    if kind == "tool":
        text = f"{d.name}({short(d.arguments, 50)})"
        if d.blocked:
            return short(text + " BLOCKED", width)
        if d.error:
            return short(text + f" ✗ {d.error}", width)
        return short(text + f" → {short(d.result, 60)}", width)
    if kind == "memory":
        return short(f"{d.operation} {d.store or ''} keys={d.keys}", width)
    if kind == "message":
        return short(f"{d.sender} → {d.receiver}: {short(d.content, 60)}", width)
    if kind == "retrieval":
        return short(f"{short(d.query, 50)} → {len(d.documents)} docs", width)
    if span.harness is not None:
        h = span.harness
        return short(f"step={h.step_index} goal={h.goal or ''} retries={h.retry_count}", width)
    inp = getattr(d, "input", None)
    return short(inp, width) if inp is not None else ""


def print_table(columns: list[str], rows: list[list[Any]], title: str | None = None,
                width: int = 160) -> None:
    """A plain table on stdout (rich, no borders); None shows as ``-``."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(box=None, header_style="bold", title=title, title_justify="left")
    for c in columns:
        table.add_column(c)
    for row in rows:
        table.add_row(*(escape("-" if v is None else str(v)) for v in row))
    Console(width=width).print(table)
