"""A small tool-using agent loop, recorded with the tracevault SDK.

Each step: ask the model (with every earlier message), run the tools it asks for, feed
the results back. A tool that times out is retried in a new attempt of the same step
(``retry_count`` goes up). Memory reads and writes, messages between agents and the
budget left are recorded on the way. This is the loop the demo's three agents share.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..sdk import Budget, Recorder

__all__ = ["Agent", "BudgetTracker", "Tool"]

PRICE_PER_TOKEN_USD = 0.5 / 1_000_000


def price(model: str, usage: dict[str, Any]) -> float:
    """What a model call costs in the demo's price list (USD)."""
    return usage.get("total_tokens", 0) * PRICE_PER_TOKEN_USD


@dataclass
class Tool:
    """A function the model may call."""

    fn: Callable[..., Any]
    description: str
    parameters: dict[str, Any]

    def schema(self, name: str) -> dict[str, Any]:
        """The OpenAI tool definition."""
        return {"type": "function", "function": {"name": name, "description": self.description,
                                                 "parameters": self.parameters}}


class BudgetTracker:
    """Tokens, money and steps left for one agent."""

    def __init__(self, tokens: int, cost_usd: float, steps: int) -> None:
        self.budget = Budget(tokens=tokens, cost_usd=cost_usd, steps=steps)

    def snapshot(self) -> Budget:
        """The budget left now."""
        b = self.budget
        return Budget(tokens=b.tokens, cost_usd=round(b.cost_usd or 0.0, 8), steps=b.steps)

    def spend(self, tokens: int, steps: int = 0) -> None:
        """Take tokens (and their price) and steps off the budget."""
        b = self.budget
        b.tokens = (b.tokens or 0) - tokens
        b.cost_usd = (b.cost_usd or 0.0) - tokens * PRICE_PER_TOKEN_USD
        b.steps = (b.steps or 0) - steps


class Agent:
    """One agent: a system prompt, tools, a model client and a recorder."""

    def __init__(self, name: str, system: str, tools: dict[str, Tool], client: Any, model: str,
                 memory: Any, session_id: str, dump: Callable[[dict[str, Any]], None],
                 hooks: list[Any] | None = None) -> None:
        self.name = name
        self.system = system
        self.tools = tools
        self.client = client
        self.model = model
        self.memory = memory
        self.dump = dump
        self.rec = Recorder(name, session_id=session_id, hooks=hooks or [], cost=price)
        self.budget = BudgetTracker(tokens=20_000, cost_usd=0.01, steps=8)

    # memory, recorded ------------------------------------------------------------------
    def remember(self, key: str, value: Any) -> None:
        """Write one key to shared memory."""
        self.rec.memory("write", "shared", [key], lambda: self.memory.write(key, value),
                        values={key: value})

    def recall(self, key: str) -> Any:
        """Read one key from shared memory."""
        return self.rec.memory("read", "shared", [key], lambda: self.memory.read(key))

    def _dump(self, step: int, retry: int) -> None:
        self.dump({"agent": self.name, "step": step, "retry": retry, "time_ns": time.time_ns(),
                   "state": self.memory.state()})

    # the loop --------------------------------------------------------------------------
    def loop(self, task: str, max_steps: int = 6) -> str:
        """Work on ``task`` until the model answers without tool calls."""
        messages: list[dict[str, Any]] = [{"role": "system", "content": self.system},
                                          {"role": "user", "content": task}]
        schemas = [tool.schema(name) for name, tool in self.tools.items()]
        pending: list[Any] = []  # tool calls to retry after a timeout
        step = retry = 0
        while step < max_steps:
            with self.rec.step(step, goal=task, budget=self.budget.snapshot(),
                               retry_count=retry):
                if not pending:
                    reply = self.rec.model_call(self.client.chat.completions.create,
                                                model=self.model, messages=messages,
                                                tools=schemas or None, temperature=0)
                    self.budget.spend(reply.usage.total_tokens if reply.usage else 0, steps=1)
                    message = reply.choices[0].message
                    messages.append(message.model_dump(exclude_none=True))
                    if not message.tool_calls:
                        self._dump(step, retry)
                        return message.content or ""
                    pending = list(message.tool_calls)
                failed = False
                while pending:
                    call = pending[0]
                    try:
                        result = self._run_tool(call)
                    except TimeoutError:
                        failed = True
                        break
                    messages.append({"role": "tool", "tool_call_id": call.id,
                                     "content": result if isinstance(result, str)
                                     else json.dumps(result)})
                    pending.pop(0)
            self._dump(step, retry)
            if failed:
                retry += 1
            else:
                step, retry = step + 1, 0
        return "Out of steps."

    def _run_tool(self, call: Any) -> Any:
        name = call.function.name
        args = json.loads(call.function.arguments or "{}")
        tool = self.tools[name]
        return self.rec.tool_call(name, tool.fn, args, call_id=call.id,
                                  description=tool.description)
