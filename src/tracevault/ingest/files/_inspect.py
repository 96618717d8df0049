"""Inspect AI eval logs (``.json`` logs, and ``.eval`` zip logs read by ``_read``).

A log holds the ``eval`` (task, model, ids), ``results`` and ``samples``; each sample has
an ``events`` stream and the final ``messages``. Each sample becomes a trace:

- root ``agent`` span: the sample, named after the task, with the eval ids, sample id,
  epoch, target, scores (``tracevault.inspect.scores`` as JSON and
  ``tracevault.inspect.score.<scorer>`` per scorer), metadata and timings as
  ``tracevault.inspect.*`` attributes; a sample error makes it failed;
- ``span_begin``/``span_end`` pairs become spans under their ``parent_id`` (``solver``
  spans are ``step`` spans, ``agent`` spans ``agent`` spans, the rest ``other``);
- ``model`` events become ``llm`` spans: input messages, output choices, tool
  definitions, generation config, usage; ``tool`` events become ``tool`` spans with
  arguments, result and error, merged with the ``tool`` span Inspect opens for the call
  (so the sandbox calls it made are its children); ``sandbox`` events become ``other``
  spans; nested ``events`` of older logs become children;
- every other event (``score``, ``state``, ``store``, ``info``, ``error``...) is kept as
  a span event ``inspect.<event>`` on the span it happened in.

``attachment://`` references are replaced by the sample's attachments. Timestamps are
the events' ``timestamp`` and ``completed``. A sample without events is rebuilt from its
messages (one ``llm`` span per assistant message, one ``tool`` span per tool message) on
a synthetic clock starting at the log's start time, one second per message.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from .._raw import RawEvent, RawSpan
from ._common import MILLI_NS, SECOND_NS, SpanSet, dumps, file_label, hex_id, run_base_ns, value
from ._sdk import _ns

__all__ = ["inspect_spans", "is_inspect_log"]

_PREFIX = "tracevault.inspect."
_ATTACHMENT = "attachment://"
_CONFIG = {"temperature": "temperature", "max_tokens": "max_tokens", "top_p": "top_p",
           "top_k": "top_k", "seed": "seed", "stop_seqs": "stop_sequences",
           "frequency_penalty": "frequency_penalty", "presence_penalty": "presence_penalty",
           "num_choices": "choice.count"}
_COMMON = ("event", "span_id", "timestamp", "working_start", "uuid", "pending")


def is_inspect_log(doc: Any) -> bool:
    """Whether ``doc`` is an Inspect AI eval log."""
    return isinstance(doc, dict) and isinstance(doc.get("eval"), dict) \
        and any(k in doc["eval"] for k in ("task", "eval_id", "run_id")) \
        and isinstance(doc.get("samples", []), list)


def _resolve(v: Any, attachments: dict[str, Any]) -> Any:
    if isinstance(v, str):
        if v.startswith(_ATTACHMENT):
            return attachments.get(v[len(_ATTACHMENT):], v)
        return v
    if isinstance(v, list):
        return [_resolve(x, attachments) for x in v]
    if isinstance(v, dict):
        return {k: _resolve(x, attachments) for k, x in v.items()}
    return v


def _media(kind: str, data: Any, fmt: Any) -> dict[str, Any]:
    text = str(data or "")
    if text.startswith("data:") and ";base64," in text:
        mime, _, payload = text[5:].partition(";base64,")
        return {"type": "blob", "modality": kind, "mime_type": mime, "content": payload}
    part = {"type": "uri", "modality": kind, "uri": text}
    return {**part, "mime_type": f"{kind}/{fmt}"} if fmt else part


def _part(item: Any) -> dict[str, Any]:
    if not isinstance(item, dict):
        return {"type": "text", "content": str(item)}
    kind = item.get("type")
    if kind == "text":
        return {"type": "text", "content": str(item.get("text", ""))}
    if kind == "reasoning":
        return {"type": "reasoning", "content": str(item.get("reasoning", ""))}
    if kind in ("image", "audio", "video"):
        return _media(kind, item.get(kind), item.get("format"))
    return dict(item) if kind else {"type": "unknown", "value": item}


def _content_value(content: Any) -> Any:
    """Tool output: text as text, other content as a list of parts."""
    if isinstance(content, list):
        parts = [_part(c) for c in content]
        if all(p["type"] == "text" for p in parts):
            return "".join(p["content"] for p in parts)
        return parts
    return content


def _message(m: dict[str, Any], finish: Any = None) -> dict[str, Any]:
    """An Inspect chat message in the GenAI ``parts`` form."""
    role = str(m.get("role") or "unknown")
    content = m.get("content")
    parts: list[dict[str, Any]] = []
    if role == "tool":
        parts.append({"type": "tool_call_response", "id": m.get("tool_call_id"),
                      "response": _content_value(content)})
    elif isinstance(content, list):
        parts += [_part(c) for c in content]
    elif content not in (None, ""):
        parts.append({"type": "text", "content": str(content)})
    for call in m.get("tool_calls") or []:
        if isinstance(call, dict):
            parts.append({"type": "tool_call", "id": call.get("id"),
                          "name": str(call.get("function") or ""),
                          "arguments": call.get("arguments")})
    out: dict[str, Any] = {"role": role, "parts": parts}
    if finish is not None:
        out["finish_reason"] = str(finish)
    return out


def _tool_definition(t: dict[str, Any]) -> dict[str, Any]:
    out = {"type": "function", "name": str(t.get("name", "")),
           "description": t.get("description"), "parameters": t.get("parameters")}
    return {k: v for k, v in out.items() if v is not None}


def _model_attrs(e: dict[str, Any]) -> dict[str, Any]:
    model = str(e.get("model") or "")
    provider, _, short = model.partition("/") if "/" in model else ("", "", model)
    output = e.get("output") if isinstance(e.get("output"), dict) else {}
    choices = [c for c in output.get("choices") or [] if isinstance(c, dict)]
    usage = output.get("usage") if isinstance(output.get("usage"), dict) else {}
    call = e.get("call") if isinstance(e.get("call"), dict) else {}
    response = call.get("response") if isinstance(call.get("response"), dict) else {}
    reasons = [str(c["stop_reason"]) for c in choices if c.get("stop_reason")]
    attrs: dict[str, Any] = {
        "gen_ai.operation.name": "chat", "gen_ai.provider.name": provider or None,
        "gen_ai.request.model": short or None, "gen_ai.response.model": output.get("model"),
        "gen_ai.response.id": response.get("id") if isinstance(response.get("id"), str)
        else None,
        "gen_ai.input.messages": dumps([_message(m) for m in e.get("input") or []
                                        if isinstance(m, dict)]),
        "gen_ai.output.messages": dumps([_message(c["message"], c.get("stop_reason"))
                                         for c in choices if isinstance(c.get("message"), dict)]),
        "gen_ai.response.finish_reasons": reasons or None,
        "gen_ai.usage.input_tokens": usage.get("input_tokens"),
        "gen_ai.usage.output_tokens": usage.get("output_tokens"),
        "gen_ai.usage.total_tokens": usage.get("total_tokens"),
        "gen_ai.usage.cache_read.input_tokens": usage.get("input_tokens_cache_read"),
        "gen_ai.usage.cache_creation.input_tokens": usage.get("input_tokens_cache_write"),
        "gen_ai.usage.reasoning.output_tokens": usage.get("reasoning_tokens"),
        _PREFIX + "tool_choice": value(e.get("tool_choice")),
    }
    tools = [t for t in e.get("tools") or [] if isinstance(t, dict)]
    if tools:
        attrs["gen_ai.tool.definitions"] = dumps([_tool_definition(t) for t in tools])
    config = e.get("config") if isinstance(e.get("config"), dict) else {}
    for key, name in _CONFIG.items():
        if config.get(key) is not None:
            attrs[f"gen_ai.request.{name}"] = config[key]
    return attrs


def _tool_attrs(e: dict[str, Any]) -> dict[str, Any]:
    error = e.get("error") if isinstance(e.get("error"), dict) else None
    return {"gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": str(e.get("function") or ""),
            "gen_ai.tool.call.id": e.get("id") or e.get("tool_call_id"),
            "gen_ai.tool.type": e.get("type") if isinstance(e.get("type"), str) else "function",
            "gen_ai.tool.call.arguments": value(e.get("arguments")),
            "gen_ai.tool.call.result": value(_content_value(e.get("result", e.get("content")))),
            "error.type": error.get("type") if error else None}


def _other_attrs(e: dict[str, Any]) -> dict[str, Any]:
    """A sandbox call (command, output, exit code) or a subtask (input, result)."""
    if e.get("event") == "sandbox":
        return {"tracevault.span.kind": "other", "tracevault.operation": e.get("action"),
                "tracevault.input": value(e.get("cmd")),
                "tracevault.output": value(e.get("output")),
                _PREFIX + "sandbox.input": value(e.get("input")),
                _PREFIX + "sandbox.result": value(e.get("result"))}
    return {"tracevault.span.kind": "other", "tracevault.operation": e.get("name"),
            "tracevault.input": value(e.get("input")), "tracevault.output": value(e.get("result"))}


def _error(e: dict[str, Any]) -> str | None:
    error = e.get("error")
    if isinstance(error, dict):
        return str(error.get("message") or error.get("type") or "error")
    return str(error) if error else None


class _Sample:
    """Builds the spans of one sample."""

    def __init__(self, out: SpanSet, root: str, attachments: dict[str, Any]) -> None:
        self.out, self.root, self.attachments = out, root, attachments
        self.ids: dict[str, str] = {}
        self.events: dict[str, list[RawEvent]] = defaultdict(list)
        self.times: list[int] = []
        self.solvers = 0
        self.merged: dict[int, str] = {}
        self.unclosed: set[str] = set()

    def _at(self, e: dict[str, Any], key: str = "timestamp") -> int:
        t = _ns(e.get(key)) if e.get(key) else 0
        if t:
            self.times.append(t)
        return t

    def _end(self, e: dict[str, Any], start: int) -> int:
        end = self._at(e, "completed")
        if not end and isinstance(e.get("working_time"), (int, float)):
            end = start + int(e["working_time"] * SECOND_NS)
        return max(end, start)

    def _parent(self, e: dict[str, Any], default: str) -> str:
        return self.ids.get(str(e.get("span_id")), default)

    def run(self, events: list[Any]) -> None:
        begins = [e for e in events if isinstance(e, dict) and e.get("event") == "span_begin"]
        ends = {str(e.get("id")): e for e in events
                if isinstance(e, dict) and e.get("event") == "span_end"}
        # A tool call's event and the "tool" span Inspect opens for it become one span.
        tool_spans: dict[tuple[str, str], list[str]] = defaultdict(list)
        for b in begins:
            sid = str(b.get("id"))
            self.ids[sid] = self.out.span_id("span", sid)
            if b.get("type") == "tool":
                tool_spans[(str(b.get("parent_id")), str(b.get("name")))].append(sid)
        for n, e in enumerate(events):
            if isinstance(e, dict) and e.get("event") == "tool":
                queue = tool_spans.get((str(e.get("span_id")), str(e.get("function"))))
                if queue:
                    self.merged[n] = queue.pop(0)
        merged_spans = set(self.merged.values())
        for b in begins:
            if str(b.get("id")) not in merged_spans:
                self._span(b, ends.get(str(b.get("id"))))
        self._events(events, self.root, ())

    def _span(self, b: dict[str, Any], end: dict[str, Any] | None) -> None:
        sid, kind, name = str(b.get("id")), str(b.get("type") or ""), str(b.get("name") or "")
        start = self._at(b)
        attrs: dict[str, Any] = {_PREFIX + "span_type": kind or None}
        if kind == "solver":
            attrs.update({"tracevault.span.kind": "step", "tracevault.step.index": self.solvers})
            self.solvers += 1
        elif kind == "agent":
            attrs.update({"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": name})
        elif kind == "tool":
            attrs.update({"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": name})
        else:
            attrs["tracevault.span.kind"] = "other"
        finish = self._at(end) if end else 0
        parent = self.ids.get(str(b.get("parent_id")), self.root)
        span_id = self.out.add(("span", sid), name or kind, parent, start, finish or start, attrs)
        if not finish:
            self.unclosed.add(span_id)

    def _events(self, events: list[Any], default: str, path: tuple[int, ...]) -> None:
        for n, e in enumerate(events):
            if not isinstance(e, dict):
                continue
            kind = e.get("event")
            if kind in ("span_begin", "span_end"):
                continue
            parent = self._parent(e, default)
            e = _resolve(e, self.attachments)
            start = self._at(e)
            if kind == "model":
                error = _error(e)
                self.out.add(("event", *path, n), f"chat {e.get('model')}",
                             parent, start, self._end(e, start), _model_attrs(e),
                             status="error" if error else "unset", message=error,
                             otel_kind="client")
            elif kind == "tool":
                key = ("span", self.merged[n]) if not path and n in self.merged \
                    else ("event", *path, n)
                error = _error(e)
                sid = self.out.add(key, f"execute_tool {e.get('function')}", parent, start,
                                   self._end(e, start), _tool_attrs(e),
                                   status="error" if error else "unset", message=error)
                if isinstance(e.get("events"), list):
                    self._events(e["events"], sid, (*path, n))
            elif kind in ("sandbox", "subtask"):
                sid = self.out.add(("event", *path, n),
                                   f"{kind} {e.get('action') or e.get('name') or ''}".strip(),
                                   parent, start, self._end(e, start), _other_attrs(e))
                if isinstance(e.get("events"), list):
                    self._events(e["events"], sid, (*path, n))
            else:
                body = {k: v for k, v in e.items() if k not in _COMMON}
                self.events[parent].append(RawEvent(start, f"inspect.{kind}",
                                                    {_PREFIX + "event": dumps(body)}))

    def finish(self) -> None:
        for span in self.out.spans:
            span.events = self.events.get(span.span_id, [])
            if span.span_id in self.unclosed and self.times:
                span.end_ns = max(span.start_ns, max(self.times))


def _messages(b: _Sample, sample: dict[str, Any], model: str, start: int) -> None:
    """A sample without events, rebuilt from its messages."""
    messages = [m for m in _resolve(sample.get("messages") or [], b.attachments)
                if isinstance(m, dict)]
    calls = {c.get("id"): c for m in messages for c in m.get("tool_calls") or []
             if isinstance(c, dict)}
    for k, m in enumerate(messages):
        at = start + k * SECOND_NS
        b.times += [at, at + 900 * MILLI_NS]
        if m.get("role") == "assistant":
            b.out.add(("message", k), f"chat {model}", b.root, at, at + 900 * MILLI_NS,
                      _model_attrs({"model": model, "input": messages[:k], "output": {
                          "model": m.get("model"), "choices": [{"message": m}]}}),
                      otel_kind="client")
        elif m.get("role") == "tool":
            call = calls.get(m.get("tool_call_id")) or {}
            error = _error(m)
            b.out.add(("message", k), f"execute_tool {m.get('function')}", b.root, at,
                      at + 900 * MILLI_NS,
                      _tool_attrs({**m, "id": m.get("tool_call_id"), "type": None,
                                   "arguments": call.get("arguments")}),
                      status="error" if error else "unset", message=error)


def _labels(doc: dict[str, Any], sample: dict[str, Any], name: str | None) -> dict[str, Any]:
    ev = doc["eval"]
    dataset = ev.get("dataset") if isinstance(ev.get("dataset"), dict) else {}
    scores = sample.get("scores") if isinstance(sample.get("scores"), dict) else {}
    attrs: dict[str, Any] = {
        "eval_id": ev.get("eval_id"), "run_id": ev.get("run_id"), "task": ev.get("task"),
        "task_id": ev.get("task_id"), "task_version": value(ev.get("task_version")),
        "model": ev.get("model"), "created": ev.get("created"), "dataset": dataset.get("name"),
        "status": doc.get("status"), "file": file_label(name),
        "sample_id": value(sample.get("id")), "epoch": sample.get("epoch"),
        "uuid": sample.get("uuid"), "target": value(sample.get("target")),
        "scores": dumps(scores) if scores else None,
        "metadata": dumps(sample["metadata"]) if sample.get("metadata") else None,
        "total_time": sample.get("total_time"), "working_time": sample.get("working_time"),
        "limit": value(sample.get("limit")), "error": _error(sample),
    }
    for scorer, score in scores.items():
        v = score.get("value") if isinstance(score, dict) else score
        attrs[f"score.{scorer}"] = value(v)
        if isinstance(score, dict) and score.get("answer") is not None:
            attrs[f"score.{scorer}.answer"] = value(score["answer"])
    return {_PREFIX + k: v for k, v in attrs.items() if v is not None}


def _output_text(sample: dict[str, Any], attachments: dict[str, Any]) -> Any:
    output = sample.get("output") if isinstance(sample.get("output"), dict) else {}
    for choice in output.get("choices") or []:
        message = choice.get("message") if isinstance(choice, dict) else None
        if isinstance(message, dict):
            return value(_content_value(_resolve(message.get("content"), attachments)))
    return None


def inspect_spans(doc: dict[str, Any], name: str | None = None) -> list[RawSpan]:
    """Convert an Inspect AI eval log into raw spans, one trace per sample."""
    ev = doc["eval"]
    packages = ev.get("packages") if isinstance(ev.get("packages"), dict) else {}
    resource = {"service.name": "inspect-ai", "tracevault.harness.name": "inspect_ai",
                "tracevault.harness.version": packages.get("inspect_ai")}
    resource = {k: v for k, v in resource.items() if v is not None}
    stats = doc.get("stats") if isinstance(doc.get("stats"), dict) else {}
    spans: list[RawSpan] = []
    for position, sample in enumerate(doc.get("samples") or []):
        if not isinstance(sample, dict):
            continue
        trace_id = hex_id(16, "inspect-ai", ev.get("eval_id") or ev.get("run_id"),
                          ev.get("task"), sample.get("id"), sample.get("epoch"),
                          sample.get("uuid"))
        out = SpanSet(trace_id, resource, "tracevault.import.inspect")
        attachments = sample.get("attachments") or {}
        b = _Sample(out, out.span_id("root"), attachments)
        events = sample.get("events") if isinstance(sample.get("events"), list) else []
        if events:
            b.run(events)
        else:
            started = stats.get("started_at") or ev.get("created")
            start = _ns(started) if started else run_base_ns(position)
            _messages(b, sample, str(ev.get("model") or ""), start)
        b.finish()
        start = min(b.times, default=run_base_ns(position))
        task = ev.get("task") or "sample"
        error = _error(sample)
        out.add(("root",), f"{task} sample {sample.get('id')} epoch {sample.get('epoch', 1)}",
                None, start, max(b.times, default=start), {
                    "gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": task,
                    "tracevault.input": value(_resolve(sample.get("input"), attachments)),
                    "tracevault.output": _output_text(sample, attachments),
                    **_labels(doc, sample, name)},
                status="error" if error else "unset", message=error)
        spans += out.spans
    return spans
