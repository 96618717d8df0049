"""A small store of hand-made traces whose every field a filter can reach is known."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import tracevault

NOW = time.time_ns()
HOUR = 3600 * 10**9
DAY = 24 * HOUR


def _value(v: Any) -> dict[str, Any]:
    if isinstance(v, bool):
        return {"boolValue": v}
    if isinstance(v, int):
        return {"intValue": str(v)}
    if isinstance(v, float):
        return {"doubleValue": v}
    if isinstance(v, list):
        return {"arrayValue": {"values": [_value(x) for x in v]}}
    return {"stringValue": v if isinstance(v, str) else json.dumps(v)}


def span(trace: int, n: int, name: str, start: int, dur_s: float, parent: int | None = None,
         error: str | None = None, **attrs: Any) -> dict[str, Any]:
    """An OTLP JSON span: trace number, span number, start (ns), duration (s)."""
    out: dict[str, Any] = {
        "traceId": f"{trace:032x}", "spanId": f"{trace:08x}{n:08x}", "name": name,
        "kind": 1, "startTimeUnixNano": str(start),
        "endTimeUnixNano": str(start + int(dur_s * 1e9)),
        "attributes": [{"key": k.replace("__", "."), "value": _value(v)}
                       for k, v in attrs.items()],
        "status": {"code": 2, "message": error} if error else {"code": 1}}
    if parent is not None:
        out["parentSpanId"] = f"{trace:08x}{parent:08x}"
    return out


def otlp(service: str, spans: list[dict[str, Any]]) -> dict[str, Any]:
    return {"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name",
                                     "value": {"stringValue": service}}]},
        "scopeSpans": [{"scope": {"name": "tests"}, "spans": spans}]}]}


def msgs(text: str) -> str:
    return json.dumps([{"role": "user", "parts": [{"type": "text", "content": text}]}])


def dataset() -> list[dict[str, Any]]:
    t1, t2, t3 = NOW - HOUR, NOW - 10 * DAY, NOW - 2 * DAY
    return [
        otlp("svc-a", [
            span(1, 1, "invoke_agent coder", t1, 10, gen_ai__operation__name="invoke_agent",
                 gen_ai__agent__name="coder"),
            span(1, 2, "chat gpt-4o", t1 + 1, 1.5, 1, gen_ai__operation__name="chat",
                 gen_ai__request__model="gpt-4o", gen_ai__usage__input_tokens=100,
                 gen_ai__usage__output_tokens=20, tracevault__cost_usd=0.002,
                 gen_ai__input__messages=msgs("please tidy the quick zebra folder")),
            span(1, 3, "execute_tool delete_file", t1 + 2, 3, 1, error="permission denied",
                 gen_ai__operation__name="execute_tool", gen_ai__tool__name="delete_file",
                 gen_ai__tool__call__arguments='{"path": "/srv/data"}',
                 error__type="PermissionError", gen_ai__agent__name="coder"),
            span(1, 4, "memory write", t1 + 3, 0.01, 1, tracevault__memory__operation="write",
                 tracevault__memory__store="notes", tracevault__memory__keys=["k1"]),
        ]),
        otlp("svc-b", [
            span(2, 1, "invoke_agent researcher", t2, 60, gen_ai__operation__name="invoke_agent",
                 gen_ai__agent__name="researcher", app__user="alice", app__score=7),
            span(2, 2, "chat claude-3", t2 + 1, 20, 1, gen_ai__operation__name="chat",
                 gen_ai__request__model="claude-3", gen_ai__usage__input_tokens=4000,
                 gen_ai__usage__output_tokens=1000, tracevault__cost_usd=0.5),
            span(2, 3, "execute_tool search_web", t2 + 2, 0.2, 1,
                 gen_ai__operation__name="execute_tool", gen_ai__tool__name="search_web",
                 gen_ai__tool__call__arguments='{"q": "horses"}',
                 gen_ai__tool__call__result='"a unicorn is not a horse"'),
        ]),
        otlp("svc-a", [
            span(3, 1, "invoke_agent coder", t3, 5, gen_ai__operation__name="invoke_agent",
                 gen_ai__agent__name="coder", session__id="sess-1"),
            span(3, 2, "execute_tool delete_dir", t3 + 1, 0.5, 1,
                 gen_ai__operation__name="execute_tool", gen_ai__tool__name="delete_dir",
                 gen_ai__tool__call__arguments='{"path": "/tmp/x"}'),
            span(3, 3, "send", t3 + 2, 0.01, 1, tracevault__message__sender="planner",
                 tracevault__message__receiver="coder", tracevault__message__content="go"),
            span(3, 4, "step", t3 + 3, 1, 1, tracevault__step__index=2,
                 tracevault__step__retry_count=1, tracevault__budget__tokens_remaining=500),
        ]),
    ]


@pytest.fixture(scope="module")
def vault(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tracevault.Vault]:
    root: Path = tmp_path_factory.mktemp("filters")
    store = root / "s.duckdb"
    with tracevault.open(str(store)) as v:
        for i, doc in enumerate(dataset()):
            path = root / f"t{i}.json"
            path.write_text(json.dumps(doc))
            report = v.import_file(path)
            assert report["spans"] == len(doc["resourceSpans"][0]["scopeSpans"][0]["spans"])
        yield v


def ids(vault: tracevault.Vault, expr: str) -> list[int]:
    """Trace numbers matching ``expr``, ascending."""
    return sorted(int(t.trace_id, 16) for t in vault.traces(filter=expr, limit=100))
