"""Comparing decisions and matching tool calls, each configurable by name or callable."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from .._exceptions import ConfigError
from ..ingest.conventions._messages import maybe_json
from ._convert import Decision

__all__ = ["COMPARISONS", "MATCHERS", "comparison", "matcher", "normalize"]


def normalize(value: Any) -> Any:
    """A JSON value with JSON strings parsed, text trimmed and numbers unified."""
    value = maybe_json(value)
    if isinstance(value, dict):
        return {str(k): normalize(v) for k, v in sorted(value.items())}
    if isinstance(value, (list, tuple)):
        return [normalize(v) for v in value]
    if isinstance(value, str):
        return " ".join(value.split())
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _text(text: str) -> str:
    return " ".join(text.split()).casefold()


def _exact(a: Decision, b: Decision) -> bool:
    dump = orjson.dumps
    return a.text == b.text and [(n, dump(maybe_json(x))) for n, x in a.tool_calls] == \
        [(n, dump(maybe_json(x))) for n, x in b.tool_calls]


def _normalized(a: Decision, b: Decision) -> bool:
    if a.tool_calls or b.tool_calls:
        return [(n, normalize(x)) for n, x in a.tool_calls] == \
            [(n, normalize(x)) for n, x in b.tool_calls]
    return _text(a.text) == _text(b.text)


def _tools(a: Decision, b: Decision) -> bool:
    return [n for n, _ in a.tool_calls] == [n for n, _ in b.tool_calls]


COMPARISONS: dict[str, Callable[[Decision, Decision], bool]] = {
    "exact": _exact, "normalized": _normalized, "tools": _tools}
"""How two decisions are judged the same: ``exact`` (text and arguments byte-equal as
JSON), ``normalized`` (default: tool names and arguments equal after normalising JSON,
answers equal ignoring case and whitespace), ``tools`` (same tools called, in order;
any two answers are the same)."""


def comparison(spec: str | Callable[[Decision, Decision], bool]) -> Callable[
        [Decision, Decision], bool]:
    """A comparison by name, or the callable itself."""
    if callable(spec):
        return spec
    if spec not in COMPARISONS:
        raise ConfigError(f"unknown comparison {spec!r} (choose from "
                          f"{', '.join(COMPARISONS)}, or pass a callable)")
    return COMPARISONS[spec]


MATCHERS: dict[str, Callable[[str, Any, Any], bool]] = {
    "exact": lambda name, rec, new: orjson.dumps(maybe_json(rec)) == orjson.dumps(
        maybe_json(new)),
    "normalized": lambda name, rec, new: normalize(rec) == normalize(new),
}
"""How a new tool call finds a recorded one (same tool name in both): ``exact``
arguments, or ``normalized`` (default: key order, whitespace and 1 vs 1.0 ignored)."""


def matcher(spec: str | Callable[[str, Any, Any], bool]) -> Callable[[str, Any, Any], bool]:
    """A tool-call matcher by name, or ``fn(tool, recorded_args, new_args) -> bool``."""
    if callable(spec):
        return spec
    if spec not in MATCHERS:
        raise ConfigError(f"unknown matcher {spec!r} (choose from {', '.join(MATCHERS)}, "
                          "or pass a callable)")
    return MATCHERS[spec]
