"""Recorded-model cassette: re-run your own harness against a recorded trace.

``Cassette.from_spans(trace.spans)`` holds every model response and tool result of a
recorded run. ``cassette.install()`` serves them back:

- model responses over a real OpenAI-compatible HTTP server (point your ``openai``
  client's ``base_url`` at it): a request gets the recorded response of the recorded
  call with the same input messages, in recorded order;
- tool results through an SDK hook on every ``Recorder`` (``Recorder.tool_call``,
  ``@traced_tool`` code paths that use a Recorder), in this process and in child
  processes, which find the cassette through ``TRACEVAULT_CASSETTE``: a call gets the
  recorded result (or raises the recorded error) of the same agent's same call. A tool
  whose recorded span has children (it ran a sub-agent, or nested tools) runs for real,
  so the work inside it is re-run and served in turn.

When nothing changed in the harness, the re-run's trace equals the recording in content.
When something did, the request or call finds no exact match: it is listed in
``misses`` and answered by the next unused recording of that agent (model calls) or run
for real (tool calls; ``strict=True`` raises ``CassetteMiss`` instead), so the re-run
goes on and ``tracevault diff`` shows what the change did.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .._exceptions import TraceVaultError
from .._fakemodel import FakeModel
from ..analysis import span_agents
from ..ingest.conventions._messages import any_message
from ..schema import Span
from ._compare import matcher, normalize
from ._step import llm_steps
from ._trajectory import recorded_error

__all__ = ["Cassette", "CassetteMiss"]


class CassetteMiss(TraceVaultError):
    """A strict cassette has no recording for a call."""


def _completion(span: Span) -> dict[str, Any]:
    d = span.detail
    out = d.output_messages[-1] if d.output_messages else None
    text = "".join(p.content for p in (out.parts if out else []) if p.type == "text")
    message: dict[str, Any] = {"role": "assistant", "content": text or None}
    calls = [p for p in (out.parts if out else []) if p.type == "tool_call"]
    if calls:
        message["tool_calls"] = [
            {"id": p.id, "type": "function", "function": {
                "name": p.name, "arguments": p.arguments if isinstance(p.arguments, str)
                else json.dumps(p.arguments)}} for p in calls]
    u = d.usage
    usage = {k: v for k, v in (("prompt_tokens", u.input_tokens),
                               ("completion_tokens", u.output_tokens),
                               ("total_tokens", u.total_tokens)) if v is not None}
    reason = (out.finish_reason if out else None) or (d.finish_reasons or [None])[0]
    return {"id": d.response_id or f"chatcmpl-{span.span_id}", "object": "chat.completion",
            "created": span.start_time_ns // 10**9,
            "model": d.response_model or d.request_model or "recorded",
            "choices": [{"index": 0, "message": message, "logprobs": None,
                         "finish_reason": reason or ("tool_calls" if calls else "stop")}],
            "usage": usage}


def _key(messages: list[Any]) -> str:
    return json.dumps(normalize([any_message(m) for m in messages]), sort_keys=True)


class _Server(FakeModel):
    def __init__(self, cassette: Cassette) -> None:
        super().__init__({"model": "cassette"})
        self.cassette = cassette

    def complete(self, request: dict[str, Any]) -> dict[str, Any]:
        return self.cassette.respond(request)


class _Hook:
    def __init__(self, cassette: Cassette, agent: str) -> None:
        self.cassette = cassette
        self.agent = agent

    def before_tool(self, call: Any) -> None:
        self.cassette.serve_tool(self.agent, call)


class Cassette:
    """A recorded run's model responses and tool results, to serve back to a harness."""

    def __init__(self, calls: list[dict[str, Any]], tools: list[dict[str, Any]],
                 *, match: str = "normalized", strict: bool = False) -> None:
        self.calls = calls
        """``{"agent", "key", "system", "completion"}`` per model call, in order."""
        self.tools = tools
        """``{"agent", "name", "leaf", "arguments", "result", "error_type", "error"}``
        per tool call, in order."""
        self.match = match
        self.strict = strict
        self.misses: list[str] = []
        self._served_calls: set[int] = set()
        self._served_tools: set[int] = set()
        self._lock = threading.Lock()

    @classmethod
    def from_spans(cls, spans: list[Span], **options: Any) -> Cassette:
        """The cassette of a recorded trace (or trace group)."""
        agents = span_agents(spans)
        calls = []
        for span in llm_steps(spans):
            messages = [m.model_dump(exclude_none=True) for m in span.detail.input_messages]
            system = next((m for m in messages if m["role"] in ("system", "developer")), None)
            calls.append({"agent": agents.get(span.span_id), "key": _key(messages),
                          "system": _key([system]) if system else None,
                          "completion": _completion(span)})
        parents = {s.parent_span_id for s in spans}
        tools = [{"agent": agents.get(s.span_id), "name": s.detail.name,
                  "leaf": s.span_id not in parents,
                  "arguments": s.detail.arguments, "result": s.detail.result,
                  "error_type": s.status.error_type if s.status.code == "error" else None,
                  "error": (s.detail.error or s.status.message)
                  if s.status.code == "error" else None}
                 for s in sorted(spans, key=lambda s: (s.start_time_ns, s.span_id))
                 if s.kind == "tool" and not s.detail.blocked]
        return cls(calls, tools, **options)

    def save(self, path: str | Path) -> Path:
        """Write the cassette as JSON (for child processes, or to keep with a test)."""
        path = Path(path)
        path.write_text(json.dumps({"calls": self.calls, "tools": self.tools,
                                    "match": self.match, "strict": self.strict}))
        return path

    @classmethod
    def load(cls, path: str | Path) -> Cassette:
        """Read a saved cassette."""
        data = json.loads(Path(path).read_text())
        return cls(data["calls"], data["tools"], match=data.get("match", "normalized"),
                   strict=bool(data.get("strict")))

    # -- serving ---------------------------------------------------------------------------
    def respond(self, request: dict[str, Any]) -> dict[str, Any]:
        """The recorded completion for a chat-completions request."""
        messages = request.get("messages") or []
        key = _key(messages)
        with self._lock:
            found = next((i for i, c in enumerate(self.calls)
                          if i not in self._served_calls and c["key"] == key), None)
            if found is None:
                system = next((m for m in messages if m.get("role") in ("system",
                                                                        "developer")), None)
                skey = _key([system]) if system else None
                self.misses.append(f"model call with {len(messages)} messages (system "
                                   f"{'known' if skey else 'absent'}) was not recorded")
                if self.strict:
                    raise CassetteMiss(self.misses[-1])
                found = next((i for i, c in enumerate(self.calls)
                              if i not in self._served_calls and c["system"] == skey), None)
                if found is None:
                    raise CassetteMiss("no recorded model response left for this request")
            self._served_calls.add(found)
            return dict(self.calls[found]["completion"])

    def serve_tool(self, agent: str, call: Any) -> None:
        """Serve a tool call from the recording (a ``before_tool`` hook)."""
        same = matcher(self.match)
        with self._lock:
            for i, t in enumerate(self.tools):
                if i in self._served_tools or t["agent"] != agent or t["name"] != call.name \
                        or not same(call.name, t["arguments"], call.arguments):
                    continue
                self._served_tools.add(i)
                if not t.get("leaf", True):
                    return  # it did recorded work inside (a sub-agent): run it for real
                if t["error_type"] is not None or t["error"] is not None:
                    call.serve(error=recorded_error(t["error_type"], t["error"]))
                else:
                    call.serve(t["result"])
                return
            self.misses.append(f"{agent}: {call.name}({json.dumps(call.arguments)}) was not "
                               "recorded")
            if self.strict:
                raise CassetteMiss(self.misses[-1])

    def hook(self, agent: str) -> _Hook:
        """The SDK hook serving ``agent``'s tool calls."""
        return _Hook(self, agent)

    @contextmanager
    def install(self, path: str | Path) -> Iterator[str]:
        """Serve the cassette; yields the model server's base URL.

        While active, every ``Recorder`` (in this process and its children) serves
        recorded tool results. ``path`` is where the cassette file is written for them.
        """
        saved = self.save(path)
        previous = os.environ.get("TRACEVAULT_CASSETTE")
        os.environ["TRACEVAULT_CASSETTE"] = str(saved)
        try:
            with _Server(self) as server:
                yield server.base_url
        finally:
            if previous is None:
                os.environ.pop("TRACEVAULT_CASSETTE", None)
            else:
                os.environ["TRACEVAULT_CASSETTE"] = previous
