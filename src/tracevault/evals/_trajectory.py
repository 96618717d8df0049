"""Trajectory matching: a trace's tool calls against a reference, as agentevals defines it.

The four modes and the argument modes follow ``agentevals``'
``create_trajectory_match_evaluator`` (``trajectory_match_mode``,
``tool_args_match_mode``, ``tool_args_match_overrides``), including its greedy pairing
and the direction in which each mode compares arguments. See docs/evals.md.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .._exceptions import InputError
from ._spans import value_text

__all__ = ["ARG_MODES", "MODES", "Reference", "TrajectoryResult", "match_trajectory",
           "parse_reference", "restrict"]

MODES = ("strict", "unordered", "subset", "superset")
ARG_MODES = ("exact", "ignore", "subset", "superset")
_ROLES = {"human": "user", "ai": "assistant"}

Pair = tuple[str, Any]
"""A call as (name, arguments)."""
Matcher = Callable[[Any, Any], bool]


@dataclass
class Reference:
    """A trajectory in one of three shapes: messages, turns, or a flat call list."""

    shape: str
    """``messages`` (OpenAI chat messages), ``turns`` (lists of parallel calls) or ``calls``."""
    turns: list[list[Pair]]
    """The calls grouped by model response (one call per turn for ``calls``)."""
    roles: list[tuple[str, list[Pair] | None]] | None = None
    """For ``messages``: each message's role and its tool calls (None: no tool calls)."""

    @property
    def calls(self) -> list[Pair]:
        """Every call, in order."""
        return [c for turn in self.turns for c in turn]


@dataclass
class TrajectoryResult:
    """The verdict and, when it failed, the first reason."""

    matched: bool
    reason: str | None = None


def _arguments(raw: Any) -> Any:
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return {} if raw is None else raw


def _call(item: Any) -> Pair:
    if not isinstance(item, dict):
        raise InputError(f"a reference call must be an object, not {item!r}")
    if isinstance(item.get("function"), dict):
        fn = item["function"]
        return str(fn.get("name")), _arguments(fn.get("arguments"))
    if "name" not in item:
        raise InputError(f"a reference call needs a name: {value_text(item)[:120]}")
    for key in ("arguments", "args", "kwargs", "input"):
        if key in item:
            return str(item["name"]), _arguments(item[key])
    return str(item["name"]), {}


def parse_reference(value: Any) -> Reference:
    """Read a reference: OpenAI messages, a list of turns, or ``[{"name", "arguments"}]``."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise InputError("the reference is not valid JSON") from None
    if isinstance(value, dict) and "messages" in value:
        value = value["messages"]
    if not isinstance(value, list):
        raise InputError("the reference must be a list of calls, turns or messages")
    if value and all(isinstance(m, dict) and "role" in m for m in value):
        roles: list[tuple[str, list[Pair] | None]] = []
        for m in value:
            calls = [_call(c) for c in m.get("tool_calls") or []]
            roles.append((_ROLES.get(m["role"], m["role"]), calls or None))
        return Reference("messages", [c for _, c in roles if c], roles)
    if value and all(isinstance(t, list) for t in value):
        return Reference("turns", [[_call(c) for c in turn] for turn in value if turn])
    return Reference("calls", [[_call(c)] for c in value])


def restrict(trajectory: Reference, tools: Sequence[str] | None) -> Reference:
    """Only the calls of ``tools`` (message roles are dropped: turns remain)."""
    if tools is None:
        return trajectory
    keep = set(tools)
    turns = [[c for c in turn if c[0] in keep] for turn in trajectory.turns]
    shape = "turns" if trajectory.shape == "messages" else trajectory.shape
    return Reference(shape, [t for t in turns if t])


def _subset(a: Any, b: Any) -> bool:
    if not isinstance(a, dict) or not isinstance(b, dict):
        return bool(a == b)
    return all(k in b and b[k] == v for k, v in a.items())


def _nested(value: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
        if value is None:
            return None
    return value


_BY_MODE: dict[str, Matcher] = {
    "exact": lambda a, b: bool(a == b),
    "ignore": lambda a, b: True,
    "subset": _subset,
    "superset": lambda a, b: _subset(b, a),
}


def check_modes(mode: str, tool_args: str, overrides: dict[str, Any] | None) -> None:
    """Refuse unknown modes and malformed overrides."""
    if mode not in MODES:
        raise InputError(f"unknown trajectory mode {mode!r}; use {', '.join(MODES)}")
    if tool_args not in ARG_MODES:
        raise InputError(f"unknown tool_args mode {tool_args!r}; use {', '.join(ARG_MODES)}")
    if overrides is not None and not isinstance(overrides, dict):
        raise InputError("tool_args_overrides must map tool names to a mode or a key list")
    for name, override in (overrides or {}).items():
        ok = (override in ARG_MODES if isinstance(override, str) else callable(override)
              or (isinstance(override, list) and all(isinstance(k, str) for k in override)))
        if not ok:
            raise InputError(f"tool_args_overrides[{name!r}] must be one of "
                             f"{', '.join(ARG_MODES)}, a list of argument keys or a callable")


def matcher_for(name: str, tool_args: str, overrides: dict[str, Any] | None) -> Matcher:
    """How the arguments of a call to ``name`` are compared (output args, reference args)."""
    override = (overrides or {}).get(name)
    if not override:  # an empty override falls back to the default mode, as in agentevals
        return _BY_MODE[tool_args]
    if isinstance(override, str):
        return _BY_MODE[override]
    if isinstance(override, list):
        keys = list(override)
        return lambda a, b: all(_nested(a, k) == _nested(b, k) for k in keys)
    return override  # type: ignore[no-any-return]


def _show(call: Pair) -> str:
    return f"{call[0]}({value_text(call[1])[:160]})"


def _covers(have: Sequence[Pair], want: Sequence[Pair], tool_args: str,
            overrides: dict[str, Any] | None) -> Pair | None:
    """The first call of ``want`` that no distinct call of ``have`` matches (None: all do).

    Pairing is greedy: each wanted call takes the first unused call with the same name
    whose arguments match ``matcher(have_args, want_args)``.
    """
    used: set[int] = set()
    for name, args in want:
        match = matcher_for(name, tool_args, overrides)
        found = next((i for i, (n, a) in enumerate(have)
                      if i not in used and n == name and match(a, args)), None)
        if found is None:
            return name, args
        used.add(found)
    return None


def _same_group(out: Sequence[Pair], ref: Sequence[Pair], tool_args: str,
                overrides: dict[str, Any] | None) -> Pair | None:
    """Greedy pairing of one response's calls with the reference's (order free)."""
    seen = [False] * len(ref)
    for name, args in out:
        match = matcher_for(name, tool_args, overrides)
        found = next((i for i, (n, a) in enumerate(ref)
                      if not seen[i] and n == name and match(args, a)), None)
        if found is None:
            return name, args
        seen[found] = True
    return None


def _strict_messages(out: Reference, ref: Reference, tool_args: str,
                     overrides: dict[str, Any] | None) -> TrajectoryResult:
    a, b = out.roles or [], ref.roles or []
    if len(a) != len(b):
        return TrajectoryResult(False, f"{len(a)} messages, the reference has {len(b)}")
    for i, ((role_a, calls_a), (role_b, calls_b)) in enumerate(zip(a, b, strict=True)):
        if role_a != role_b:
            return TrajectoryResult(False, f"message {i}: role {role_a}, expected {role_b}")
        if (calls_a is None) != (calls_b is None):
            return TrajectoryResult(False, f"message {i}: tool calls "
                                    f"{'present' if calls_a else 'absent'}, expected "
                                    f"{'present' if calls_b else 'absent'}")
        if calls_a is not None and calls_b is not None:
            if len(calls_a) != len(calls_b):
                return TrajectoryResult(False, f"message {i}: {len(calls_a)} tool calls, "
                                        f"expected {len(calls_b)}")
            bad = _same_group(calls_a, calls_b, tool_args, overrides)
            if bad is not None:
                return TrajectoryResult(False, f"message {i}: {_show(bad)} not expected")
    return TrajectoryResult(True)


def _strict_turns(out: Reference, ref: Reference, tool_args: str,
                  overrides: dict[str, Any] | None) -> TrajectoryResult:
    if ref.shape in ("turns", "messages"):
        if len(out.turns) != len(ref.turns):
            return TrajectoryResult(False, f"{len(out.turns)} tool-calling turns, the "
                                    f"reference has {len(ref.turns)}")
        for i, (turn_a, turn_b) in enumerate(zip(out.turns, ref.turns, strict=True)):
            bad = (_same_group(turn_a, turn_b, tool_args, overrides)
                   if len(turn_a) == len(turn_b) else turn_a[0])
            if bad is not None:
                return TrajectoryResult(False, f"turn {i}: {_show(bad)} not expected "
                                        f"({len(turn_a)} calls, expected {len(turn_b)})")
        return TrajectoryResult(True)
    expected, at = ref.calls, 0
    for turn in out.turns:
        chunk = expected[at:at + len(turn)]
        if len(chunk) < len(turn):
            return TrajectoryResult(False, f"call {at + len(chunk)}: {_show(turn[len(chunk)])}"
                                    " is beyond the reference")
        bad = _same_group(turn, chunk, tool_args, overrides)
        if bad is not None:
            return TrajectoryResult(False, f"call {at}: {_show(bad)}, expected "
                                    f"{', '.join(_show(c) for c in chunk)}")
        at += len(turn)
    if at < len(expected):
        return TrajectoryResult(False, f"missing {len(expected) - at} call(s) from "
                                f"{_show(expected[at])} on")
    return TrajectoryResult(True)


def match_trajectory(output: Reference, reference: Reference, mode: str = "strict",
                     tool_args: str = "exact",
                     overrides: dict[str, Any] | None = None) -> TrajectoryResult:
    """Compare an output trajectory with a reference (agentevals semantics)."""
    check_modes(mode, tool_args, overrides)
    if mode == "strict":
        if output.shape == "messages" and reference.shape == "messages":
            return _strict_messages(output, reference, tool_args, overrides)
        return _strict_turns(output, reference, tool_args, overrides)
    out, ref = output.calls, reference.calls
    if mode in ("superset", "unordered"):
        missing = _covers(out, ref, tool_args, overrides)
        if missing is not None:
            return TrajectoryResult(False, f"the trace lacks {_show(missing)}")
    if mode in ("subset", "unordered"):
        extra = _covers(ref, out, tool_args, overrides)
        if extra is not None:
            return TrajectoryResult(False, f"{_show(extra)} is not in the reference")
    return TrajectoryResult(True)
