"""Synthetic agent runs as OTLP protobuf: the shape of data tracevault is built for.

A run is an ``invoke_agent`` root with steps; each step is a model call whose input holds
every earlier message (system prompt, user task, assistant turns, tool results) and a
tool call. Text is drawn from a Zipf-distributed vocabulary so it compresses like prose.
Used by the benchmarks and the tests; exposed through ``tracevault.testing``.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

__all__ = ["Prose", "RunSpec", "agent_run", "encode_request", "workload_requests"]

_TOOLS = ("search_web", "read_file", "write_file", "run_tests", "query_db", "fetch_url")


class Prose:
    """Deterministic pseudo-English text."""

    def __init__(self, seed: int = 0, vocabulary: int = 3000) -> None:
        rng = random.Random(seed)
        letters = "etaoinshrdlucmfwypvbgkqjxz"
        words = set()
        while len(words) < vocabulary:
            n = max(2, min(12, int(rng.expovariate(1 / 5)) + 2))
            words.add("".join(rng.choice(letters[: 10 + n]) for _ in range(n)))
        self.words = sorted(words, key=lambda w: (len(w), w))
        self.weights = [1 / (i + 1) for i in range(len(self.words))]
        self.rng = random.Random(seed + 1)

    def text(self, n_words: int) -> str:
        """``n_words`` words with sentence punctuation."""
        words = self.rng.choices(self.words, weights=self.weights, k=n_words)
        out = []
        for i, w in enumerate(words):
            out.append(w.capitalize() if i == 0 or out[-1].endswith(".") else w)
            if i % 14 == 13:
                out[-1] += "."
        return " ".join(out) + "."


def _kv(key: str, value: object) -> KeyValue:
    if isinstance(value, bool):
        return KeyValue(key=key, value=AnyValue(bool_value=value))
    if isinstance(value, int):
        return KeyValue(key=key, value=AnyValue(int_value=value))
    if isinstance(value, float):
        return KeyValue(key=key, value=AnyValue(double_value=value))
    return KeyValue(key=key, value=AnyValue(string_value=str(value)))


@dataclass
class RunSpec:
    """One synthetic run."""

    trace_id: bytes
    steps: int
    start_ns: int
    agent: str = "coder"
    spans: list[Span] = field(default_factory=list)


def agent_run(spec: RunSpec, prose: Prose, rng: random.Random,
              words_per_message: int = 230) -> list[Span]:
    """The spans of one run, in the order they end (children before parents)."""
    span_ids = iter(rng.getrandbits(64).to_bytes(8, "big") for _ in range(4 * spec.steps + 4))
    root_id = next(span_ids)
    t = spec.start_ns
    history: list[dict[str, object]] = [
        {"role": "system", "parts": [{"type": "text", "content": prose.text(120)}]},
        {"role": "user", "parts": [{"type": "text", "content": prose.text(60)}]},
    ]
    tools = [{"type": "function", "name": name, "description": prose.text(12),
              "parameters": {"type": "object", "properties": {"arg": {"type": "string"}}}}
             for name in _TOOLS]
    tools_json = json.dumps(tools)
    spans: list[Span] = []
    common = [_kv("gen_ai.agent.name", spec.agent)]
    for step in range(spec.steps):
        llm_id, tool_id = next(span_ids), next(span_ids)
        tool = _TOOLS[rng.randrange(len(_TOOLS))]
        call_id = f"call_{step}_{rng.getrandbits(32):08x}"
        args = {"arg": prose.text(8)}
        output = {"role": "assistant", "parts": [
            {"type": "text", "content": prose.text(words_per_message // 2)},
            {"type": "tool_call", "id": call_id, "name": tool, "arguments": args},
        ], "finish_reason": "tool_call"}
        in_tokens = sum(len(json.dumps(m)) for m in history) // 4
        llm_end = t + 900_000_000
        spans.append(Span(
            trace_id=spec.trace_id, span_id=llm_id, parent_span_id=root_id,
            name="chat gpt-4o", kind=Span.SPAN_KIND_CLIENT, start_time_unix_nano=t,
            end_time_unix_nano=llm_end, status=Status(code=Status.STATUS_CODE_OK),
            attributes=common + [
                _kv("gen_ai.operation.name", "chat"), _kv("gen_ai.provider.name", "openai"),
                _kv("gen_ai.request.model", "gpt-4o"),
                _kv("gen_ai.response.model", "gpt-4o-2024-08-06"),
                _kv("gen_ai.request.temperature", 0.2),
                _kv("gen_ai.input.messages", json.dumps(history)),
                _kv("gen_ai.output.messages", json.dumps([output])),
                _kv("gen_ai.tool.definitions", tools_json),
                _kv("gen_ai.usage.input_tokens", in_tokens),
                _kv("gen_ai.usage.output_tokens", 90),
            ],
        ))
        result = prose.text(words_per_message)
        tool_end = llm_end + 300_000_000
        spans.append(Span(
            trace_id=spec.trace_id, span_id=tool_id, parent_span_id=root_id,
            name=f"execute_tool {tool}", kind=Span.SPAN_KIND_INTERNAL,
            start_time_unix_nano=llm_end, end_time_unix_nano=tool_end,
            status=Status(code=Status.STATUS_CODE_OK),
            attributes=common + [
                _kv("gen_ai.operation.name", "execute_tool"), _kv("gen_ai.tool.name", tool),
                _kv("gen_ai.tool.call.id", call_id),
                _kv("gen_ai.tool.call.arguments", json.dumps(args)),
                _kv("gen_ai.tool.call.result", result),
            ],
        ))
        history.append(output)
        history.append({"role": "tool", "parts": [
            {"type": "tool_call_response", "id": call_id, "response": result}]})
        t = tool_end
    spans.append(Span(
        trace_id=spec.trace_id, span_id=root_id, name=f"invoke_agent {spec.agent}",
        kind=Span.SPAN_KIND_INTERNAL, start_time_unix_nano=spec.start_ns,
        end_time_unix_nano=t, status=Status(code=Status.STATUS_CODE_OK),
        attributes=common + [_kv("gen_ai.operation.name", "invoke_agent")],
    ))
    return spans


def encode_request(spans: list[Span], service: str = "bench-agent",
                   project: str | None = None) -> bytes:
    """One ``ExportTraceServiceRequest`` holding ``spans``."""
    attrs = [_kv("service.name", service)]
    if project:
        attrs.append(_kv("tracevault.project", project))
    req = ExportTraceServiceRequest(resource_spans=[ResourceSpans(
        resource=Resource(attributes=attrs),
        scope_spans=[ScopeSpans(scope=InstrumentationScope(name="tracevault.bench"),
                                spans=spans)],
    )])
    return req.SerializeToString()


def workload_requests(total_spans: int, batch_size: int = 512, concurrency: int = 16,
                      seed: int = 0, start_ns: int = 1_750_000_000_000_000_000,
                      min_steps: int = 10, max_steps: int = 30,
                      words_per_message: int = 230) -> Iterator[tuple[bytes, int]]:
    """Encoded requests of ``batch_size`` spans from ``concurrency`` interleaved runs.

    Yields ``(body, n_spans)``. Runs have ``min_steps``..``max_steps`` steps (2 spans per
    step plus the root: 21-61 spans), as concurrent agents produce them.
    """
    rng = random.Random(seed)
    prose = Prose(seed)
    active: list[list[Span]] = []
    produced = 0
    run_index = 0
    batch: list[Span] = []
    while produced < total_spans:
        while len(active) < concurrency:
            spec = RunSpec(trace_id=rng.getrandbits(128).to_bytes(16, "big"),
                           steps=rng.randint(min_steps, max_steps),
                           start_ns=start_ns + run_index * 1_000_000_000,
                           agent=("planner", "researcher", "coder")[run_index % 3])
            active.append(agent_run(spec, prose, rng, words_per_message))
            run_index += 1
        run = active[rng.randrange(len(active))]
        take = min(len(run), rng.randint(1, 4), total_spans - produced)
        batch.extend(run[:take])
        del run[:take]
        active = [r for r in active if r]
        produced += take
        if len(batch) >= batch_size:
            yield encode_request(batch[:batch_size]), batch_size
            batch = batch[batch_size:]
    if batch:
        yield encode_request(batch), len(batch)
