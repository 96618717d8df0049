"""Rows + blobs -> schema v1 span dicts, with full content reconstructed.

Backend-agnostic: a backend supplies the span rows and event rows of one trace and a
function that loads blobs by hash. Reference lists and string deltas are resolved here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import orjson

from ..ingest.conventions._messages import any_message, legacy_event_message, maybe_json
from ._codec import regen_list

__all__ = ["Assembler"]

BlobLoader = Callable[[Iterable[bytes]], dict[bytes, str]]

_PAYLOADS = ("tool_args_ref", "tool_result_ref", "memory_values_ref", "msg_content_ref",
             "detail_input_ref", "detail_output_ref", "resource_ref")


def _loads(text: str | None) -> Any:
    return orjson.loads(text) if text else None



def deref(value: Any, blob: Callable[[bytes], Any]) -> Any:
    """``value`` with every ``{"$ref": hash}`` placeholder replaced by ``blob(hash)``."""
    if isinstance(value, dict):
        if len(value) == 1 and "$ref" in value:
            return blob(bytes.fromhex(value["$ref"]))
        return {k: deref(v, blob) for k, v in value.items()}
    return value

class Assembler:
    """Reconstructs the spans of one trace from stored rows."""

    def __init__(self, rows: list[dict[str, Any]], events: list[dict[str, Any]],
                 load: BlobLoader) -> None:
        # A span stored twice (sent to two nodes of a lake at the same moment) reads once:
        # its first row, with the span events of that row's commit.
        self.rows: dict[str, dict[str, Any]] = {}
        for r in rows:
            self.rows.setdefault(r["span_id"], r)
        self.order = list(self.rows)
        self.events: dict[str, list[dict[str, Any]]] = {}
        for e in events:
            row = self.rows.get(e["span_id"])
            if e.get("source") == "span" and row is not None and "seq" in e \
                    and e["seq"] != row.get("seq"):
                continue
            self.events.setdefault(e["span_id"], []).append(e)
        self._load = load
        self._blobs: dict[bytes, Any] = {}
        self._lists: dict[tuple[str, str], list[bytes]] = {}
        self._lifted: dict[str, dict[str, Any]] = {}

    # -- blobs ---------------------------------------------------------------------------
    def prefetch(self, span_ids: Iterable[str] | None = None) -> None:
        """Load every blob the given spans' canonical content needs, in one round trip."""
        needed: set[bytes] = set()
        for sid in span_ids if span_ids is not None else self.order:
            r = self.rows[sid]
            for ch in ("input", "tools"):
                if r.get(ch + "_refs") is not None or r.get(ch + "_base"):
                    needed.update(self.reflist(sid, ch))
            for col in ("output_refs", "system_refs", "docs_refs"):
                needed.update(r.get(col) or ())
            for col in _PAYLOADS:
                if r.get(col):
                    needed.add(r[col])
            for e in self.events.get(sid, ()):
                needed.update(e.get("refs") or ())
        self._fetch(needed)

    def _fetch(self, hashes: Iterable[bytes]) -> None:
        missing = [bytes(h) for h in hashes if bytes(h) not in self._blobs]
        if missing:
            for h, text in self._load(missing).items():
                self._blobs[bytes(h)] = orjson.loads(text)

    def blob(self, h: bytes | None) -> Any:
        """The JSON value of a blob."""
        if h is None:
            return None
        h = bytes(h)
        if h not in self._blobs:
            self._fetch([h])
        return self._blobs.get(h)

    # -- reference lists -------------------------------------------------------------------
    def reflist(self, span_id: str, channel: str) -> list[bytes]:
        """The full hash list of a canonical channel (``input``/``tools``) of a span."""
        def step(sid: str) -> tuple[str | None, int, list[bytes]]:
            r = self.rows.get(sid)
            if r is None:
                return None, 0, []
            refs = [bytes(h) for h in r.get(channel + "_refs") or ()]
            return r.get(channel + "_base"), r.get(channel + "_base_len") or 0, refs
        return self._resolve((span_id, channel), step)

    def _raw_reflist(self, span_id: str, key: str) -> list[bytes]:
        def step(sid: str) -> tuple[str | None, int, list[bytes]]:
            desc = (self.lifted(sid).get(key) or {}).get("raw") or {}
            refs = [bytes.fromhex(h) for h in desc.get("r", ())]
            return desc.get("b"), desc.get("n", 0), refs
        return self._resolve((span_id, "raw:" + key), step)

    def _resolve(self, start: tuple[str, str],
                 step: Callable[[str], tuple[str | None, int, list[bytes]]]) -> list[bytes]:
        # Iterative: a long run chains thousands of spans through their bases.
        chain: list[tuple[tuple[str, str], int, list[bytes]]] = []
        key: tuple[str, str] | None = start
        seen: set[tuple[str, str]] = set()
        while key is not None and key not in self._lists and key not in seen:
            seen.add(key)
            base, base_len, refs = step(key[0])
            chain.append((key, base_len, refs))
            key = (base, key[1]) if base else None
        result = self._lists.get(key, []) if key is not None else []
        for k, base_len, refs in reversed(chain):
            result = result[:base_len] + refs if base_len else list(refs)
            self._lists[k] = result
        return self._lists[start]

    def lifted(self, span_id: str) -> dict[str, Any]:
        """The lifted-attribute descriptors of a span."""
        if span_id not in self._lifted:
            r = self.rows.get(span_id) or {}
            self._lifted[span_id] = _loads(r.get("lifted")) or {}
        return self._lifted[span_id]

    # -- spans ---------------------------------------------------------------------------
    def spans(self) -> list[dict[str, Any]]:
        """Every span of the trace, in stored order, as schema v1 dicts."""
        self.prefetch()
        return [self.span(sid) for sid in self.order]

    def agent_of(self, span_id: str) -> dict[str, Any] | None:
        """The span's agent: its own, else the nearest ancestor's within the trace."""
        seen: set[str] = set()
        sid: str | None = span_id
        while sid is not None and sid in self.rows and sid not in seen:
            seen.add(sid)
            r = self.rows[sid]
            if r.get("agent_id") or r.get("agent_name") or r.get("agent_version"):
                return {"id": r.get("agent_id"), "name": r.get("agent_name"),
                        "version": r.get("agent_version")}
            sid = r.get("parent_span_id")
        return None

    def span(self, span_id: str) -> dict[str, Any]:
        """One span as a schema v1 dict."""
        r = self.rows[span_id]
        events = [self._event(e) for e in sorted(self.events.get(span_id, ()),
                                                 key=lambda e: e["time_ns"] or 0)]
        attributes = _loads(r.get("attributes")) or {}
        for key, desc in self.lifted(span_id).items():
            attributes[key] = {"$lifted": desc.get("c", "value")}
        agent = self.agent_of(span_id)
        harness = None
        if any(r.get(c) is not None for c in ("step_index", "step_goal", "retry_count",
                                               "budget_tokens", "budget_cost_usd",
                                               "budget_steps", "budget_time_s")):
            harness = {
                "goal": r.get("step_goal"), "step_index": r.get("step_index"),
                "retry_count": r.get("retry_count"),
                "budget": {"tokens": r.get("budget_tokens"),
                           "cost_usd": r.get("budget_cost_usd"),
                           "steps": r.get("budget_steps"), "time_s": r.get("budget_time_s")},
            }
        return {
            "schema_version": r.get("schema_version") or 1,
            "project": r["project"],
            "trace_id": r["trace_id"],
            "span_id": span_id,
            "parent_span_id": r.get("parent_span_id"),
            "name": r["name"],
            "kind": r["kind"],
            "otel_kind": r.get("otel_kind") or "internal",
            "start_time_ns": r["start_ns"],
            "end_time_ns": r["end_ns"],
            "duration_ns": r["duration_ns"],
            "status": {"code": r.get("status") or "unset", "message": r.get("status_message"),
                       "error_type": r.get("error_type")},
            "resource": {
                "service_name": r.get("service_name"),
                "service_version": r.get("service_version"),
                "harness_name": r.get("harness_name"),
                "harness_version": r.get("harness_version"),
                "attributes": self.blob(r.get("resource_ref")) or {},
            },
            "scope": {"name": r.get("scope_name"), "version": r.get("scope_version")},
            "agent": agent,
            "session_id": r.get("session_id"),
            "convention": r.get("convention") or "otel",
            "detail": self._detail(span_id, r, events),
            "harness": harness,
            "links": _loads(r.get("links")) or [],
            "events": events,
            "attributes": attributes,
        }

    def _payload(self, r: dict[str, Any], column: str) -> Any:
        return maybe_json(self.blob(r.get(column)))

    def _detail(self, span_id: str, r: dict[str, Any],
                events: list[dict[str, Any]]) -> dict[str, Any]:
        kind = r["kind"]
        if kind == "llm":
            inputs = [self.blob(h) for h in self.reflist(span_id, "input")]
            outputs = [self.blob(h) for h in r.get("output_refs") or ()]
            if not inputs or not outputs:
                ev_in, ev_out = _messages_from_events(events)
                inputs = inputs or ev_in
                outputs = outputs or ev_out
            finish = list(r.get("llm_finish_reasons") or ())
            return {
                "kind": "llm", "operation": r.get("operation"),
                "provider": r.get("llm_provider"), "request_model": r.get("llm_request_model"),
                "response_model": r.get("llm_response_model"),
                "response_id": r.get("llm_response_id"),
                "parameters": _loads(r.get("llm_params")) or {},
                "system_instructions": [self.blob(h) for h in r.get("system_refs") or ()],
                "input_messages": inputs,
                "output_messages": outputs,
                "tool_definitions": [self.blob(h) for h in self.reflist(span_id, "tools")],
                "finish_reasons": finish,
                "usage": {
                    "input_tokens": r.get("tokens_input"),
                    "output_tokens": r.get("tokens_output"),
                    "cache_read_tokens": r.get("tokens_cache_read"),
                    "cache_write_tokens": r.get("tokens_cache_write"),
                    "reasoning_tokens": r.get("tokens_reasoning"),
                    "total_tokens": r.get("tokens_total"),
                },
                "cost_usd": r.get("cost_usd"),
            }
        if kind == "tool":
            return {"kind": "tool", "name": r.get("tool_name"), "call_id": r.get("tool_call_id"),
                    "type": r.get("tool_type"), "description": r.get("tool_description"),
                    "arguments": self._payload(r, "tool_args_ref"),
                    "result": self._payload(r, "tool_result_ref"),
                    "error": r.get("tool_error"), "blocked": bool(r.get("tool_blocked"))}
        if kind == "memory":
            return {"kind": "memory", "operation": r.get("memory_operation"),
                    "store": r.get("memory_store"), "keys": list(r.get("memory_keys") or ()),
                    "values": self._payload(r, "memory_values_ref"),
                    "query": r.get("memory_query")}
        if kind == "message":
            return {"kind": "message", "direction": r.get("msg_direction"),
                    "sender": r.get("msg_sender"), "receiver": r.get("msg_receiver"),
                    "channel": r.get("msg_channel"), "message_id": r.get("msg_id"),
                    "content": self._payload(r, "msg_content_ref")}
        if kind == "retrieval":
            query = r.get("retrieval_query")
            return {"kind": "retrieval",
                    "query": query if query is not None else self._payload(r, "detail_input_ref"),
                    "data_source": r.get("retrieval_source"),
                    "documents": [self.blob(h) for h in r.get("docs_refs") or ()]}
        inp = self._payload(r, "detail_input_ref")
        out = self._payload(r, "detail_output_ref")
        # Agent and chain spans may carry message lists (gen_ai.input.messages on
        # invoke_agent, ai.response.text on Vercel's outer spans): show them as input/output.
        if inp is None and (r.get("input_refs") is not None or r.get("input_base")):
            inp = [self.blob(h) for h in self.reflist(span_id, "input")] or None
        if out is None and r.get("output_refs"):
            out = [self.blob(h) for h in r["output_refs"]]
        if kind == "agent":
            return {"kind": "agent", "operation": r.get("operation"),
                    "description": r.get("agent_description"), "input": inp, "output": out}
        if kind == "guardrail":
            return {"kind": "guardrail", "name": r.get("guardrail_name"),
                    "decision": r.get("guardrail_decision"), "input": inp, "output": out}
        return {"kind": kind if kind == "step" else "other", "input": inp, "output": out}

    def _event(self, e: dict[str, Any]) -> dict[str, Any]:
        return {"time_ns": e.get("time_ns"), "name": e.get("name") or "",
                "source": e.get("source") or "span",
                "attributes": self._deref(_loads(e.get("attributes")) or {}),
                "body": self._deref(_loads(e.get("body")))}

    def _deref(self, value: Any) -> Any:
        return deref(value, self.blob)

    # -- original attributes ---------------------------------------------------------------
    def original_attributes(self, span_id: str) -> dict[str, Any]:
        """The span's attributes exactly as the producer sent them."""
        r = self.rows[span_id]
        attrs = _loads(r.get("attributes")) or {}
        for key, desc in self.lifted(span_id).items():
            if "f" in desc:
                raw = [self.blob(h) for h in self._raw_reflist(span_id, key)]
                indexes = desc.get("i") or range(len(raw))
                for i, group in zip(indexes, raw, strict=True):
                    for sub, value in group.items():
                        attrs[f"{key}{i}.{sub}"] = value
            else:
                attrs[key] = self.original_value(span_id, key)
        return attrs

    def original_value(self, span_id: str, key: str) -> Any:
        """One lifted attribute rebuilt exactly."""
        desc = self.lifted(span_id)[key]
        if "t" in desc:
            return self.blob(bytes.fromhex(desc["t"]))
        if "d" in desc:
            base = self.original_value(desc["b"], key)
            middle = self.blob(bytes.fromhex(desc["d"]))
            return base[:desc["p"]] + middle + base[len(base) - desc["x"]:]
        channel = desc["c"]
        if "raw" in desc:
            hashes = self._raw_reflist(span_id, key)
        elif channel in ("input", "tools"):
            hashes = self.reflist(span_id, channel)
        else:
            column = {"output": "output_refs", "system": "system_refs",
                      "documents": "docs_refs"}[channel]
            hashes = [bytes(h) for h in self.rows[span_id].get(column) or ()]
        self._fetch(hashes)
        items = [self.blob(h) for h in hashes]
        if "v" in desc:
            return regen_list(items, desc["v"])
        return items


def _messages_from_events(events: list[dict[str, Any]]) -> tuple[list[Any], list[Any]]:
    """Input and output messages carried by GenAI content events or log records."""
    inputs: list[Any] = []
    outputs: list[Any] = []
    for e in events:
        name = e["name"]
        payload = e["body"] if e["source"] == "log" else e["attributes"]
        if name == "gen_ai.client.inference.operation.details":
            attrs = e["attributes"] or {}
            for key, target in (("gen_ai.input.messages", inputs),
                                ("gen_ai.output.messages", outputs)):
                value = maybe_json(attrs.get(key))
                if isinstance(value, list):
                    target.extend(any_message(m) for m in value)
            continue
        if name in ("gen_ai.content.prompt", "gen_ai.content.completion"):
            attrs = e["attributes"] or {}
            value = maybe_json(attrs.get("gen_ai.prompt", attrs.get("gen_ai.completion")))
            target = inputs if name.endswith("prompt") else outputs
            if isinstance(value, list):
                target.extend(any_message(m) for m in value)
            continue
        converted = legacy_event_message(name, payload)
        if converted is not None:
            (inputs if converted[0] == "input" else outputs).append(converted[1])
    return inputs, outputs
