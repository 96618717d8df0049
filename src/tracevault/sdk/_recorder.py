"""``Recorder``: wrap each action of an agent loop, run hooks, record a complete span.

One recorder per agent. Each method performs the action through the caller's function
and records it with the attributes documented in docs/schema.md (OpenTelemetry GenAI
names where they exist, ``tracevault.*`` otherwise)::

    rec = Recorder("coder", hooks=[MyPolicy()])
    with rec.run(input=task):
        with rec.step(index=0, goal="fix the bug", budget=Budget(tokens=9000)):
            reply = rec.model_call(client.chat.completions.create, model="gpt-4o",
                                   messages=messages, tools=tools)
            result = rec.tool_call("run_tests", run_tests, {"path": "tests/"})
"""

from __future__ import annotations

import itertools
import json
import os
import threading
from collections.abc import Callable, Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer

from ..ingest.conventions._messages import any_message, tool_definition
from ._config import get_tracer
from ._hooks import ActionBlocked, AgentMessage, Budget, MemoryOp, ModelCall, Step, ToolCall
from ._propagation import continue_trace, inject

__all__ = ["Recorder"]



def _json(value: Any) -> Any:
    """An attribute value: strings and numbers as they are, anything else as JSON."""
    if isinstance(value, (str, bool, int, float)):
        return value
    return json.dumps(value, default=str)


def _as_dict(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(exclude_none=True)
    return value


def output_messages(response: Any) -> tuple[list[dict[str, Any]], list[str], dict[str, Any]]:
    """GenAI output messages, finish reasons and usage of an OpenAI-style response."""
    data = _as_dict(response)
    if not isinstance(data, dict):
        return [any_message({"role": "assistant", "content": data})], [], {}
    messages, reasons = [], []
    for choice in data.get("choices") or []:
        reason = choice.get("finish_reason")
        messages.append(any_message({"message": choice.get("message") or {},
                                     "finish_reason": reason}))
        if reason:
            reasons.append(reason)
    return messages, reasons, data


_cassettes: dict[tuple[str, int], Any] = {}
_cassettes_lock = threading.Lock()


def environment_hooks(agent: str) -> list[Any]:
    """Hooks the environment asks for: a cassette named by ``TRACEVAULT_CASSETTE``."""
    path = os.environ.get("TRACEVAULT_CASSETTE")
    if not path:
        return []
    key = (path, os.stat(path).st_mtime_ns)
    with _cassettes_lock:
        cassette = _cassettes.get(key)
        if cassette is None:
            from ..replay import Cassette

            cassette = _cassettes[key] = Cassette.load(path)
    return [cassette.hook(agent)]


class Recorder:
    """Record one agent's work: runs, steps, model calls, tools, memory, messages."""

    def __init__(self, agent: str, *, agent_id: str | None = None,
                 version: str | None = None, hooks: list[Any] | tuple[Any, ...] = (),
                 session_id: str | None = None,
                 cost: Callable[[str, dict[str, Any]], float | None] | None = None,
                 tracer: Tracer | None = None) -> None:
        """``cost(model, usage)`` prices a model call in USD (recorded when given).

        Spans go to ``tracer`` when given, else to the configured provider. When
        ``TRACEVAULT_CASSETTE`` names a cassette file, its hook serves recorded tool
        results after ``hooks`` (see ``tracevault.replay``).
        """
        self.agent = agent
        self.cost = cost
        self.agent_id = agent_id
        self.version = version
        self.hooks = [*hooks, *environment_hooks(agent)]
        self.session_id = session_id
        self.tracer = tracer or get_tracer("tracevault.sdk")
        self._message_ids = itertools.count(1)  # message ids: agent-1, agent-2, ...

    # -- plumbing ------------------------------------------------------------------------
    def _common(self) -> dict[str, Any]:
        attrs: dict[str, Any] = {"gen_ai.agent.name": self.agent}
        if self.agent_id:
            attrs["gen_ai.agent.id"] = self.agent_id
        if self.version:
            attrs["gen_ai.agent.version"] = self.version
        if self.session_id:
            attrs["gen_ai.conversation.id"] = self.session_id
        return attrs

    def _before(self, name: str, action: Any) -> None:
        for hook in self.hooks:
            method = getattr(hook, f"before_{name}", None)
            if method is not None:
                method(action)
            if action.blocked:
                return

    def _after(self, name: str, action: Any) -> None:
        for hook in reversed(self.hooks):
            method = getattr(hook, f"after_{name}", None)
            if method is not None:
                method(action)

    @staticmethod
    def _fail(span: Span, exc: BaseException) -> None:
        span.record_exception(exc)
        span.set_status(Status(StatusCode.ERROR, str(exc) or type(exc).__name__))
        span.set_attribute("error.type", type(exc).__name__)

    # -- agent runs and loop steps -------------------------------------------------------------
    @contextmanager
    def run(self, name: str | None = None, *, input: Any = None,
            description: str | None = None) -> Iterator[Span]:
        """The agent's invocation (``invoke_agent``); everything inside is its children.

        ``span.set_attribute("tracevault.output", ...)`` records what the run produced.
        """
        attrs = {**self._common(), "gen_ai.operation.name": "invoke_agent"}
        if description:
            attrs["gen_ai.agent.description"] = description
        if input is not None:
            attrs["tracevault.input"] = _json(input)
        with self.tracer.start_as_current_span(name or f"invoke_agent {self.agent}",
                                               attributes=attrs,
                                               record_exception=False,
                                               set_status_on_exception=False) as span:
            try:
                yield span
            except BaseException as exc:
                self._fail(span, exc)
                raise

    @contextmanager
    def step(self, index: int | None = None, *, goal: str | None = None,
             budget: Budget | None = None, retry_count: int = 0) -> Iterator[Step]:
        """One loop iteration, recording the harness state: goal, budget, retries."""
        step = Step(index=index, goal=goal, budget=budget or Budget(), retry_count=retry_count)
        self._before("step", step)
        attrs = {**self._common(), "tracevault.span.kind": "step",
                 "tracevault.step.retry_count": step.retry_count}
        for key, value in (("tracevault.step.index", step.index),
                           ("tracevault.step.goal", step.goal),
                           ("tracevault.budget.tokens_remaining", step.budget.tokens),
                           ("tracevault.budget.cost_remaining_usd", step.budget.cost_usd),
                           ("tracevault.budget.steps_remaining", step.budget.steps),
                           ("tracevault.budget.time_remaining_s", step.budget.time_s)):
            if value is not None:
                attrs[key] = value
        name = f"step {step.index}" if step.index is not None else "step"
        with self.tracer.start_as_current_span(name, attributes=attrs,
                                               record_exception=False,
                                               set_status_on_exception=False) as span:
            if step.blocked:
                span.set_status(Status(StatusCode.ERROR, f"blocked: {step.blocked}"))
                raise ActionBlocked("step", name, step.blocked)
            try:
                yield step
            except BaseException as exc:
                step.error = exc
                self._fail(span, exc)
                raise
            finally:
                self._after("step", step)

    # -- model calls ---------------------------------------------------------------------
    def _model_attrs(self, call: ModelCall) -> dict[str, Any]:
        attrs = {**self._common(), "gen_ai.operation.name": "chat",
                 "gen_ai.provider.name": call.provider, "gen_ai.request.model": call.model,
                 "gen_ai.input.messages": json.dumps([any_message(m) for m in call.messages])}
        if call.tools:
            attrs["gen_ai.tool.definitions"] = json.dumps(
                [tool_definition(t) for t in call.tools])
        for key, value in call.params.items():
            if isinstance(value, (str, int, float, bool)) and key != "stream":
                name = "max_tokens" if key == "max_completion_tokens" else key
                attrs[f"gen_ai.request.{name}"] = value
        return attrs

    @staticmethod
    def _model_kwargs(call: ModelCall) -> dict[str, Any]:
        kwargs = dict(call.params, model=call.model, messages=call.messages)
        if call.tools:
            kwargs["tools"] = call.tools
        return kwargs

    def model_call(self, fn: Callable[..., Any], *, model: str,
                   messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None,
                   provider: str = "openai", **params: Any) -> Any:
        """Call a chat model through ``fn(model=, messages=, tools=, **params)``.

        Records every input message, the tool definitions, parameters, output, finish
        reasons and usage.
        """
        call = ModelCall(model=model, messages=messages, tools=tools, params=dict(params),
                         provider=provider)
        self._before("model", call)
        with self.tracer.start_as_current_span(f"chat {call.model}", kind=SpanKind.CLIENT,
                                               attributes=self._model_attrs(call),
                                               record_exception=False,
                                               set_status_on_exception=False) as span:
            if call.blocked:
                span.set_status(Status(StatusCode.ERROR, f"blocked: {call.blocked}"))
                raise ActionBlocked("model", call.model, call.blocked)
            try:
                call.result = fn(**self._model_kwargs(call))
            except BaseException as exc:
                call.error = exc
                self._fail(span, exc)
                self._after("model", call)
                raise
            self._record_output(span, call.result)
            self._record_cost(span, call)
            self._after("model", call)
            return call.result

    def _record_cost(self, span: Span, call: ModelCall) -> None:
        if self.cost is None:
            return
        data = _as_dict(call.result)
        usage = data.get("usage") if isinstance(data, dict) else None
        price = self.cost(call.model, usage or {})
        if price is not None:
            span.set_attribute("tracevault.cost_usd", float(price))

    def model_call_stream(self, fn: Callable[..., Any], *, model: str,
                          messages: list[dict[str, Any]],
                          tools: list[dict[str, Any]] | None = None, provider: str = "openai",
                          merge: Callable[[list[Any]], Any], **params: Any) -> Any:
        """Like ``model_call``, for a streamed call: returns the stream.

        Chunks pass through; the span ends, with the output merged by ``merge(chunks)``,
        when the stream has been read to its end.
        """
        call = ModelCall(model=model, messages=messages, tools=tools, params=dict(params),
                         provider=provider)
        self._before("model", call)
        span = self.tracer.start_span(f"chat {call.model}", kind=SpanKind.CLIENT,
                                      attributes=self._model_attrs(call))
        if call.blocked:
            span.set_status(Status(StatusCode.ERROR, f"blocked: {call.blocked}"))
            span.end()
            raise ActionBlocked("model", call.model, call.blocked)
        try:
            stream = fn(**self._model_kwargs(call))
        except BaseException as exc:
            self._fail(span, exc)
            span.end()
            raise

        def chunks() -> Iterator[Any]:
            seen: list[Any] = []
            try:
                for chunk in stream:
                    seen.append(chunk)
                    yield chunk
                call.result = merge(seen)
                self._record_output(span, call.result)
                self._record_cost(span, call)
            except BaseException as exc:
                call.error = exc
                self._fail(span, exc)
                raise
            finally:
                self._after("model", call)
                span.end()

        return chunks()

    @staticmethod
    def _record_output(span: Span, response: Any) -> None:
        outputs, reasons, data = output_messages(response)
        span.set_attribute("gen_ai.output.messages", json.dumps(outputs))
        if reasons:
            span.set_attribute("gen_ai.response.finish_reasons", reasons)
        for key, attr in (("model", "gen_ai.response.model"), ("id", "gen_ai.response.id")):
            if isinstance(data.get(key), str):
                span.set_attribute(attr, data[key])
        usage = data.get("usage") or {}
        for key, attr in (("prompt_tokens", "gen_ai.usage.input_tokens"),
                          ("completion_tokens", "gen_ai.usage.output_tokens"),
                          ("total_tokens", "gen_ai.usage.total_tokens")):
            if isinstance(usage.get(key), int):
                span.set_attribute(attr, usage[key])
        cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens")
        if isinstance(cached, int):
            span.set_attribute("gen_ai.usage.cache_read.input_tokens", cached)
        reasoning = (usage.get("completion_tokens_details") or {}).get("reasoning_tokens")
        if isinstance(reasoning, int):
            span.set_attribute("gen_ai.usage.reasoning.output_tokens", reasoning)

    # -- tools ---------------------------------------------------------------------------
    def tool_call(self, name: str, fn: Callable[..., Any], arguments: dict[str, Any],
                  *, call_id: str | None = None, description: str | None = None) -> Any:
        """Run a tool as ``fn(**arguments)``, recording arguments and result or error."""
        call = ToolCall(name=name, arguments=dict(arguments), call_id=call_id,
                        description=description)
        self._before("tool", call)
        attrs = {**self._common(), "gen_ai.operation.name": "execute_tool",
                 "gen_ai.tool.name": call.name, "gen_ai.tool.type": "function",
                 "gen_ai.tool.call.arguments": _json(
                     call.recorded_arguments if call.recorded_arguments is not None
                     else call.arguments)}
        if call.call_id:
            attrs["gen_ai.tool.call.id"] = call.call_id
        if call.description:
            attrs["gen_ai.tool.description"] = call.description
        with self.tracer.start_as_current_span(f"execute_tool {call.name}", attributes=attrs,
                                               record_exception=False,
                                               set_status_on_exception=False) as span:
            if call.blocked:
                span.set_attribute("tracevault.tool.blocked", True)
                span.set_status(Status(StatusCode.ERROR, f"blocked: {call.blocked}"))
                raise ActionBlocked("tool", call.name, call.blocked)
            try:
                if call.served and call.error is not None:
                    raise call.error
                if not call.served:
                    call.result = fn(**call.arguments)
            except BaseException as exc:
                call.error = exc
                self._fail(span, exc)
                self._after("tool", call)
                raise
            span.set_attribute("gen_ai.tool.call.result", _json(call.result))
            self._after("tool", call)
            return call.result

    # -- memory --------------------------------------------------------------------------
    def memory(self, operation: str, store: str, keys: list[str], fn: Callable[..., Any],
               *, values: Any = None, query: str | None = None) -> Any:
        """Run a memory operation through ``fn()``; records store, keys and values.

        For reads and searches the values recorded are what ``fn`` returned; for writes,
        ``values`` (typically ``{key: value}``).
        """
        op = MemoryOp(operation=operation, store=store, keys=list(keys), values=values,
                      query=query)
        self._before("memory", op)
        attrs = {**self._common(), "tracevault.span.kind": "memory",
                 "tracevault.memory.operation": op.operation,
                 "tracevault.memory.store": op.store, "tracevault.memory.keys": op.keys}
        if op.query is not None:
            attrs["tracevault.memory.query"] = op.query
        if op.values is not None:
            attrs["tracevault.memory.values"] = _json(op.values)
        with self.tracer.start_as_current_span(f"memory {op.operation} {op.store}",
                                               attributes=attrs,
                                               record_exception=False,
                                               set_status_on_exception=False) as span:
            if op.blocked:
                span.set_status(Status(StatusCode.ERROR, f"blocked: {op.blocked}"))
                raise ActionBlocked("memory", op.operation, op.blocked)
            try:
                if op.served and op.error is not None:
                    raise op.error
                if not op.served:
                    op.result = fn()
            except BaseException as exc:
                op.error = exc
                self._fail(span, exc)
                self._after("memory", op)
                raise
            if op.operation in ("read", "search", "list") and op.values is None:
                span.set_attribute("tracevault.memory.values", _json(op.result))
            self._after("memory", op)
            return op.result

    # -- messages between agents ----------------------------------------------------------------
    def send_message(self, to: str, content: Any, *, channel: str | None = None,
                     carrier: MutableMapping[str, Any] | None = None) -> dict[str, Any]:
        """Record a message to another agent; returns an envelope carrying ``traceparent``.

        Deliver the envelope any way you like (queue, HTTP, pipe); the receiver calls
        ``receive_message(envelope)`` to continue the causal chain.
        """
        msg = AgentMessage(sender=self.agent, receiver=to, content=content, channel=channel,
                           message_id=f"{self.agent}-{next(self._message_ids)}")
        self._before("message", msg)
        attrs = {**self._common(), "tracevault.span.kind": "message",
                 "tracevault.message.direction": "send", "tracevault.message.sender": self.agent,
                 "tracevault.message.receiver": to,
                 "tracevault.message.id": msg.message_id,
                 "tracevault.message.content": _json(msg.content)}
        if channel:
            attrs["tracevault.message.channel"] = channel
        with self.tracer.start_as_current_span(f"send_message {to}", kind=SpanKind.PRODUCER,
                                               attributes=attrs) as span:
            if msg.blocked:
                span.set_status(Status(StatusCode.ERROR, f"blocked: {msg.blocked}"))
                raise ActionBlocked("message", to, msg.blocked)
            envelope = inject(dict(carrier or {}))
            envelope.update(sender=self.agent, receiver=to, channel=channel,
                            message_id=msg.message_id, content=msg.content)
            msg.result = envelope
            self._after("message", msg)
            return envelope

    @contextmanager
    def receive_message(self, envelope: dict[str, Any], *, link: bool = False) -> Iterator[Any]:
        """Handle a message from another agent, continuing the sender's causal chain.

        By default the handling becomes a child of the sender's ``send_message`` span
        (request/response between agents); ``link=True`` starts a new trace linked to it
        (work picked up later, on the receiver's own schedule). Yields the content.
        """
        sender = str(envelope.get("sender", "unknown"))
        msg = AgentMessage(sender=sender, receiver=self.agent, content=envelope.get("content"),
                           channel=envelope.get("channel"),
                           message_id=envelope.get("message_id"), direction="receive")
        self._before("message", msg)
        with continue_trace(envelope, link=link, name=f"handle {sender} -> {self.agent}"):
            attrs = {**self._common(), "tracevault.span.kind": "message",
                     "tracevault.message.direction": "receive",
                     "tracevault.message.sender": sender,
                     "tracevault.message.receiver": self.agent,
                     "tracevault.message.content": _json(msg.content)}
            for key, value in (("tracevault.message.id", msg.message_id),
                               ("tracevault.message.channel", msg.channel)):
                if value:
                    attrs[key] = value
            with self.tracer.start_as_current_span(f"receive_message {sender}",
                                                   kind=SpanKind.CONSUMER, attributes=attrs,
                                                   record_exception=False,
                                               set_status_on_exception=False) as span:
                if msg.blocked:
                    span.set_status(Status(StatusCode.ERROR, f"blocked: {msg.blocked}"))
                    raise ActionBlocked("message", sender, msg.blocked)
                try:
                    yield msg.content
                except BaseException as exc:
                    self._fail(span, exc)
                    raise
                finally:
                    self._after("message", msg)
