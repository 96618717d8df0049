"""Trace groups: links (both directions) and shared sessions join traces."""

from __future__ import annotations

import json

import pytest

import tracevault
from tests.query.conftest import HOUR, NOW, otlp, span
from tracevault import NotFound


def _link(trace: int, n: int) -> dict[str, str]:
    return {"traceId": f"{trace:032x}", "spanId": f"{trace:08x}{n:08x}"}


@pytest.fixture(scope="module")
def vault(tmp_path_factory):
    root = tmp_path_factory.mktemp("groups")
    t = NOW - HOUR
    # 1: planner in session s1 sends to the worker; 2: worker trace linking back to 1;
    # 3: a later turn of session s1; 4: a worker trace linked *from* 3; 5: unrelated
    a = span(1, 1, "invoke_agent planner", t, 5, gen_ai__agent__name="planner",
             session__id="s1")
    send = span(1, 2, "send", t + 1, 0.1, 1, tracevault__message__sender="planner",
                tracevault__message__receiver="worker", tracevault__message__content="do it")
    b = span(2, 1, "invoke_agent worker", t + 2 * 10**9, 1, gen_ai__agent__name="worker")
    b["links"] = [_link(1, 2)]
    c = span(3, 1, "invoke_agent planner", t + 3 * 10**9, 1, gen_ai__agent__name="planner",
             session__id="s1")
    c["links"] = [_link(4, 1)]
    d = span(4, 1, "invoke_agent helper", t + 4 * 10**9, 1, gen_ai__agent__name="helper")
    e = span(5, 1, "invoke_agent loner", t, 1, gen_ai__agent__name="loner")
    path = root / "g.json"
    path.write_text(json.dumps(otlp("svc", [a, send, b, c, d, e])))
    with tracevault.open(str(root / "s.duckdb")) as v:
        assert v.import_file(path)["spans"] == 6
        yield v


def _n(ids: list[str]) -> list[int]:
    return [int(x, 16) for x in ids]


def test_links_and_sessions_join_traces(vault) -> None:
    assert _n(vault.group(f"{1:032x}").trace_ids) == [1, 2, 3, 4]
    assert _n(vault.group(f"{2:032x}").trace_ids) == [2, 1, 3, 4]
    assert _n(vault.group(f"{4:032x}").trace_ids) == [4, 3, 1, 2]
    assert _n(vault.group(f"{5:032x}").trace_ids) == [5]
    assert _n(vault.group("session:s1").trace_ids) == [1, 3, 2, 4]
    assert _n(vault.group(f"{1:032x}", max_traces=2).trace_ids) == [1, 2]


def test_joined_timeline_orders_all_agents(vault) -> None:
    group = vault.group(f"{2:032x}")
    assert group.messages() == [("planner", "worker", 1)]
    steps = [(e.agent, e.kind) for e in group.timeline()]
    assert steps == [("planner", "message")]
    agents = [s.agent.name for s in group.spans if s.kind == "agent"]
    assert agents == ["planner", "worker", "planner", "helper"]
    incident = vault.incident("session:s1")
    assert incident.agents == ["helper", "planner", "worker"]
    assert vault.incident(f"{1:032x}", joined=False).trace_ids == [f"{1:032x}"]


def test_unknown_group(vault) -> None:
    with pytest.raises(NotFound):
        vault.group("f" * 32)
    with pytest.raises(NotFound):
        vault.group("session:nope")
