"""An OTLP/JSON agent trace of exactly 10,000 spans: one agent, 1,999 steps of five spans."""

from __future__ import annotations

import json
import random

STEPS = 1_999


def _attrs(**values: object) -> list[dict]:
    out = []
    for key, value in values.items():
        if isinstance(value, int):
            out.append({"key": key.replace("__", "."), "value": {"intValue": str(value)}})
        else:
            out.append({"key": key.replace("__", "."), "value": {"stringValue": str(value)}})
    return out


def big_trace(trace_id: str, start_ns: int) -> dict:
    rnd = random.Random(7)
    ids = iter(f"{i:016x}" for i in range(1, 1_000_000))
    spans: list[dict] = []

    def span(name: str, parent: str | None, t0: int, t1: int, **attrs: object) -> str:
        span_id = next(ids)
        spans.append({"traceId": trace_id, "spanId": span_id, "parentSpanId": parent or "",
                      "name": name, "kind": 1, "startTimeUnixNano": str(t0),
                      "endTimeUnixNano": str(t1), "attributes": _attrs(**attrs)})
        return span_id

    step_ns = 50_000_000
    root = span("invoke_agent worker", None, start_ns, start_ns + (STEPS + 1) * step_ns,
                gen_ai__operation__name="invoke_agent", gen_ai__agent__name="worker")
    for extra in range(4):
        span(f"execute_tool setup_{extra}", root, start_ns, start_ns + 1_000_000,
             gen_ai__operation__name="execute_tool", gen_ai__tool__name=f"setup_{extra}")
    for i in range(STEPS):
        t = start_ns + (i + 1) * step_ns
        step = span(f"step {i}", root, t, t + step_ns - 1_000, tracevault__span__kind="step",
                    tracevault__step__index=i)
        messages = [{"role": "user", "parts": [{"type": "text", "content": f"task part {i}"}]}]
        span("chat worker-model", step, t + 1_000, t + 20_000_000,
             gen_ai__operation__name="chat", gen_ai__request__model="worker-model",
             gen_ai__input__messages=json.dumps(messages),
             gen_ai__usage__input_tokens=rnd.randint(50, 500),
             gen_ai__usage__output_tokens=rnd.randint(5, 50))
        span("execute_tool search", step, t + 20_000_000, t + 30_000_000,
             gen_ai__operation__name="execute_tool", gen_ai__tool__name="search",
             gen_ai__tool__call__arguments=json.dumps({"q": f"item {i}"}))
        span("memory write notes", step, t + 30_000_000, t + 31_000_000,
             tracevault__span__kind="memory", tracevault__memory__operation="write",
             tracevault__memory__store="notes")
        span("guardrail check", step, t + 31_000_000, t + 32_000_000,
             tracevault__span__kind="guardrail", tracevault__guardrail__name="check",
             tracevault__guardrail__decision="allow")
    assert len(spans) == 10_000
    return {"resourceSpans": [{"resource": {"attributes": _attrs(service__name="big-run")},
                               "scopeSpans": [{"scope": {"name": "bench"}, "spans": spans}]}]}
