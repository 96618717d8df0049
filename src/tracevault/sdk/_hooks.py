"""Hooks around every step of an agent loop: observe, change, or block an action.

A hook is any object with some of these methods (``Hook`` has them all as no-ops)::

    before_step(step)        after_step(step)
    before_model(call)       after_model(call)
    before_tool(call)        after_tool(call)
    before_memory(op)        after_memory(op)
    before_message(msg)      after_message(msg)

``before_*`` hooks run in order before the action and may change it (the arguments a
tool receives, the messages a model sees), redact what is *recorded* (``redact``), or
stop it (``block(reason)``): a blocked action does not run, is recorded as blocked, and
raises ``ActionBlocked``. ``after_*`` hooks see the result (``call.result`` /
``call.error``) and run in reverse order. The same hook object can therefore enforce a
policy and shape the trace record. A ``before_tool`` / ``before_memory`` hook may also
``serve(result)`` (or ``serve(error=exc)``) the action instead of running it: that is how
a recorded trace replays tool results into a harness (``tracevault.replay.Cassette``).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ActionBlocked", "AgentMessage", "Budget", "Hook", "MemoryOp", "ModelCall", "Step",
           "ToolCall"]


class ActionBlocked(Exception):
    """A hook blocked an action; it did not run."""

    def __init__(self, kind: str, name: str, reason: str) -> None:
        super().__init__(f"{kind} {name!r} blocked: {reason}")
        self.kind = kind
        self.name = name
        self.reason = reason


@dataclass
class Budget:
    """What an agent has left to spend."""

    tokens: int | None = None
    cost_usd: float | None = None
    steps: int | None = None
    time_s: float | None = None


@dataclass
class _Action:
    blocked: str | None = field(default=None, init=False)
    result: Any = field(default=None, init=False)
    error: BaseException | None = field(default=None, init=False)
    served: bool = field(default=False, init=False)

    def block(self, reason: str) -> None:
        """Stop the action; it is recorded as blocked and raises ``ActionBlocked``."""
        self.blocked = reason

    def serve(self, result: Any = None, error: BaseException | None = None) -> None:
        """Answer a tool call or memory operation without running it (replays)."""
        self.served = True
        self.result = result
        self.error = error


@dataclass
class Step(_Action):
    """One iteration of the harness loop."""

    index: int | None = None
    goal: str | None = None
    budget: Budget = field(default_factory=Budget)
    retry_count: int = 0


@dataclass
class ModelCall(_Action):
    """A model call about to be made."""

    model: str = ""
    messages: list[dict[str, Any]] = field(default_factory=list)
    tools: list[dict[str, Any]] | None = None
    params: dict[str, Any] = field(default_factory=dict)
    provider: str = "openai"


@dataclass
class ToolCall(_Action):
    """A tool call about to run."""

    name: str = ""
    arguments: dict[str, Any] = field(default_factory=dict)
    call_id: str | None = None
    description: str | None = None
    recorded_arguments: dict[str, Any] | None = None
    """What the trace records; ``None`` means the arguments themselves."""

    def redact(self, key: str, replacement: Any = "[REDACTED]") -> None:
        """Record ``replacement`` instead of argument ``key`` (the tool still gets it)."""
        if self.recorded_arguments is None:
            self.recorded_arguments = copy.deepcopy(self.arguments)
        if key in self.recorded_arguments:
            self.recorded_arguments[key] = replacement


@dataclass
class MemoryOp(_Action):
    """A memory read, write, search or delete."""

    operation: str = "read"
    store: str = "memory"
    keys: list[str] = field(default_factory=list)
    values: Any = None
    query: str | None = None


@dataclass
class AgentMessage(_Action):
    """A message between agents."""

    sender: str = ""
    receiver: str = ""
    content: Any = None
    channel: str | None = None
    message_id: str | None = None
    direction: str = "send"


class Hook:
    """Base class with every hook method as a no-op; override the ones you need."""

    def before_step(self, step: Step) -> None:
        """Before a loop iteration."""

    def after_step(self, step: Step) -> None:
        """After a loop iteration."""

    def before_model(self, call: ModelCall) -> None:
        """Before a model call."""

    def after_model(self, call: ModelCall) -> None:
        """After a model call (``call.result`` is the response)."""

    def before_tool(self, call: ToolCall) -> None:
        """Before a tool call."""

    def after_tool(self, call: ToolCall) -> None:
        """After a tool call (``call.result`` or ``call.error``)."""

    def before_memory(self, op: MemoryOp) -> None:
        """Before a memory operation."""

    def after_memory(self, op: MemoryOp) -> None:
        """After a memory operation."""

    def before_message(self, msg: AgentMessage) -> None:
        """Before sending or handling a message."""

    def after_message(self, msg: AgentMessage) -> None:
        """After sending or handling a message."""
