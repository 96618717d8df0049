"""Decorators and context managers for code with no loop abstraction."""

from __future__ import annotations

import contextvars
import functools
import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from opentelemetry.trace import Span

from ._hooks import Budget, Step
from ._recorder import Recorder

__all__ = ["agent_span", "current_agent", "step_span", "traced_tool"]

F = TypeVar("F", bound=Callable[..., Any])
_agent: contextvars.ContextVar[Recorder | None] = contextvars.ContextVar(
    "tracevault_agent", default=None)


def current_agent() -> Recorder | None:
    """The recorder of the innermost ``agent_span``, if any."""
    return _agent.get()


def _recorder(agent: str | None) -> Recorder:
    current = _agent.get()
    if agent is None and current is not None:
        return current
    return Recorder(agent or "agent")


@contextmanager
def agent_span(agent: str, name: str | None = None, *, input: Any = None,
               hooks: list[Any] | tuple[Any, ...] = (), **recorder: Any) -> Iterator[Span]:
    """Record an agent invocation; tools and steps inside are attributed to ``agent``."""
    rec = Recorder(agent, hooks=hooks, **recorder)
    token = _agent.set(rec)
    try:
        with rec.run(name, input=input) as span:
            yield span
    finally:
        _agent.reset(token)


@contextmanager
def step_span(index: int | None = None, *, goal: str | None = None,
              budget: Budget | None = None, retry_count: int = 0,
              agent: str | None = None) -> Iterator[Step]:
    """Record one loop iteration with its harness state."""
    with _recorder(agent).step(index, goal=goal, budget=budget,
                               retry_count=retry_count) as step:
        yield step


def traced_tool(fn: F | None = None, *, name: str | None = None, agent: str | None = None,
                description: str | None = None) -> Any:
    """Record every call of a function as a tool call (arguments, result or error).

    Usable bare (``@traced_tool``) or with options (``@traced_tool(name="search")``).
    Hooks of the enclosing ``agent_span`` apply.
    """
    def decorate(func: F) -> F:
        signature = inspect.signature(func)
        tool_name = name or func.__name__
        doc = description or (inspect.getdoc(func) or "").split("\n")[0] or None

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            arguments = dict(bound.arguments)
            return _recorder(agent).tool_call(tool_name, lambda **kw: func(**kw), arguments,
                                              description=doc)

        wrapper.__tracevault_tool__ = tool_name  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate(fn) if fn is not None else decorate
