"""A scripted model behind a real OpenAI-compatible HTTP server (no model access needed).

``FakeModel`` serves ``POST /v1/chat/completions`` (plain and streamed, with tool calls)
and ``GET /v1/models`` on a loopback port, answering from a script: responses in order,
and/or rules matched against the request's last message. Two scripts act as two models.
Every request is kept in ``requests`` so tests can compare what the model saw.

Script (a dict, or a JSON file holding one)::

    {"model": "fake-planner",
     "rules": [{"when": {"contains": "weather"},
                "respond": {"tool_calls": [{"name": "get_weather",
                                            "arguments": {"city": "Paris"}}]}},
               {"when": {"last_role": "tool"}, "respond": "It is sunny."}],
     "responses": ["first answer", "second answer"],
     "default": "I do not know."}

A response is a string (assistant text) or ``{"content", "tool_calls", "finish_reason",
"usage"}``. Rule conditions (all must hold): ``contains`` (text of the last message),
``any_contains`` (text of any message), ``last_role``, ``system_contains``, ``tool``
(name of the last tool result), ``model``
(requested model), ``turn`` (number of assistant messages so far). Rules are tried first,
then ``responses`` in order, then ``default``.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

__all__ = ["FakeModel", "make_completion"]


def _text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, list):
        return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return "" if content is None else str(content)


def _tokens(text: str) -> int:
    return max(1, len(text) // 4)


def make_completion(answer: Any, model: str, request: dict[str, Any],
                    ids: Iterator[int]) -> dict[str, Any]:
    """A ``chat.completion`` for a scripted answer.

    The answer is text or ``{"content", "tool_calls", "finish_reason", "usage", "id",
    "model"}``; a tool call may carry its ``id``.
    """
    if not isinstance(answer, dict):
        answer = {"content": None if answer is None else str(answer)}
    message: dict[str, Any] = {"role": "assistant", "content": answer.get("content")}
    calls = []
    for i, call in enumerate(answer.get("tool_calls") or []):
        args = call.get("arguments", {})
        calls.append({"id": call.get("id") or f"call_{next(ids)}_{i}", "type": "function",
                      "function": {"name": call["name"],
                                   "arguments": args if isinstance(args, str)
                                   else json.dumps(args)}})
    if calls:
        message["tool_calls"] = calls
    prompt = sum(_tokens(_text(m)) for m in request.get("messages") or [])
    completion_tokens = _tokens((message["content"] or "") + json.dumps(calls))
    usage = {"prompt_tokens": prompt, "completion_tokens": completion_tokens,
             "total_tokens": prompt + completion_tokens, **(answer.get("usage") or {})}
    return {
        "id": answer.get("id") or f"chatcmpl-fake-{next(ids)}", "object": "chat.completion",
        "created": int(time.time()), "model": answer.get("model") or model,
        "choices": [{"index": 0, "message": message, "logprobs": None,
                     "finish_reason": answer.get("finish_reason")
                     or ("tool_calls" if calls else "stop")}],
        "usage": usage,
    }


class _Script:
    def __init__(self, script: dict[str, Any]) -> None:
        self.model = str(script.get("model", "fake-model"))
        self.rules = list(script.get("rules") or [])
        self.responses = list(script.get("responses") or [])
        self.default = script.get("default", "OK.")
        self._next = 0
        self._lock = threading.Lock()

    def _matches(self, when: dict[str, Any], request: dict[str, Any]) -> bool:
        messages = request.get("messages") or []
        last = messages[-1] if messages else {}
        checks = {
            "contains": lambda v: str(v).lower() in _text(last).lower(),
            "any_contains": lambda v: any(str(v).lower() in _text(m).lower()
                                          for m in messages),
            "last_role": lambda v: last.get("role") == v,
            "system_contains": lambda v: any(str(v).lower() in _text(m).lower()
                                             for m in messages if m.get("role") == "system"),
            "tool": lambda v: last.get("role") == "tool" and last.get("name") == v,
            "model": lambda v: request.get("model") == v,
            "turn": lambda v: sum(m.get("role") == "assistant" for m in messages) == v,
        }
        return all(checks[k](v) if k in checks else False for k, v in when.items())

    def respond(self, request: dict[str, Any]) -> Any:
        for rule in self.rules:
            if self._matches(rule.get("when") or {}, request):
                return rule.get("respond")
        with self._lock:
            if self._next < len(self.responses):
                self._next += 1
                return self.responses[self._next - 1]
        return self.default


class FakeModel:
    """A scripted OpenAI-compatible chat-completions server on a loopback port."""

    def __init__(self, script: dict[str, Any] | str | Path, *, host: str = "127.0.0.1",
                 port: int = 0) -> None:
        if isinstance(script, (str, Path)):
            script = json.loads(Path(script).read_text())
        self.script = _Script(script)
        self.requests: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        model = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def _send(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802
                if self.path.rstrip("/").endswith("/models"):
                    self._send(200, {"object": "list", "data": [
                        {"id": model.script.model, "object": "model", "owned_by": "fake"}]})
                else:
                    self._send(404, {"error": {"message": f"no route {self.path}"}})

            def do_POST(self) -> None:  # noqa: N802
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._send(404, {"error": {"message": f"no route {self.path}"}})
                    return
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    request = json.loads(self.rfile.read(length) or b"{}")
                except json.JSONDecodeError as exc:
                    self._send(400, {"error": {"message": f"invalid JSON: {exc}"}})
                    return
                model.requests.append(request)
                try:
                    completion = model.complete(request)
                except Exception as exc:  # noqa: BLE001 - answered as the API does
                    self._send(400, {"error": {"message": str(exc),
                                               "type": type(exc).__name__}})
                    return
                if request.get("stream"):
                    self._stream(completion)
                else:
                    self._send(200, completion)

            def _stream(self, completion: dict[str, Any]) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for chunk in model.chunks(completion):
                    data = f"data: {json.dumps(chunk)}\n\n".encode()
                    self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                done = b"data: [DONE]\n\n"
                self.wfile.write(f"{len(done):x}\r\n".encode() + done + b"\r\n0\r\n\r\n")

        class Server(ThreadingHTTPServer):
            daemon_threads = True

        self._server = Server((host, port), Handler)
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible base URL (``http://127.0.0.1:PORT/v1``)."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    @property
    def model(self) -> str:
        """The model name this script answers as."""
        return self.script.model

    def start(self) -> FakeModel:
        """Serve in a background thread."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                            name="tracevault-fake-model")
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeModel:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def complete(self, request: dict[str, Any]) -> dict[str, Any]:
        """The chat completion answering ``request``."""
        return make_completion(self.script.respond(request), self.script.model, request,
                               self._ids)

    @staticmethod
    def chunks(completion: dict[str, Any]) -> list[dict[str, Any]]:
        """The same completion as streamed ``chat.completion.chunk`` events."""
        choice = completion["choices"][0]
        message = choice["message"]
        base = {"id": completion["id"], "object": "chat.completion.chunk",
                "created": completion["created"], "model": completion["model"]}
        out = [{**base, "choices": [{"index": 0, "delta": {"role": "assistant"},
                                     "finish_reason": None}]}]
        text = message.get("content") or ""
        for start in range(0, len(text), 16):
            out.append({**base, "choices": [{"index": 0, "delta": {
                "content": text[start:start + 16]}, "finish_reason": None}]})
        for i, call in enumerate(message.get("tool_calls") or []):
            out.append({**base, "choices": [{"index": 0, "delta": {"tool_calls": [{
                "index": i, "id": call["id"], "type": "function",
                "function": {"name": call["function"]["name"],
                             "arguments": call["function"]["arguments"]}}]},
                "finish_reason": None}]})
        out.append({**base, "choices": [{"index": 0, "delta": {},
                                         "finish_reason": choice["finish_reason"]}],
                    "usage": completion["usage"]})
        return out
