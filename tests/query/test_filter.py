"""Every filter feature against a real store of hand-made traces (see conftest)."""

from __future__ import annotations

import pytest

import tracevault
from tracevault import QueryError

from .conftest import ids

# trace 1: coder, recent, gpt-4o, delete_file failing with PermissionError, memory write
# trace 2: researcher, 10 days old, claude-3 (5000 tokens, $0.5), search_web, attributes
# trace 3: coder, 2 days old, session sess-1, delete_dir, a message and a retried step
CASES = [
    # the example of the filter language's documentation
    ('kind = tool and tool.name ~ "delete_*" and status = error and agent = "coder" '
     'and start > -7d', [1]),
    # kinds and names
    ("kind = tool", [1, 2, 3]), ("kind = memory", [1]), ("kind = message", [3]),
    ("kind = step", [3]), ("kind = llm", [1, 2]), ("kind in (memory, message)", [1, 3]),
    ('name = "chat claude-3"', [2]), ('name ~ "execute_tool *"', [1, 2, 3]),
    ('name !~ "*agent*" and kind = agent', []),
    # agents (own or inherited from the enclosing agent span) and tools
    ('agent = "coder"', [1, 3]), ("agent = researcher", [2]), ('agent != "coder"', [2]),
    ('agent ~ "res*"', [2]), ("kind = tool and agent = coder", [1, 3]),
    ("kind = tool and agent in (coder, nobody)", [1, 3]),
    ("kind = tool and agent not in (coder)", [2]), ("agent.own = coder and kind = tool", [1]),
    ("trace.agent = researcher", [2]), ('tool = "search_web"', [2]),
    ('tool ~ "delete_*"', [1, 3]), ("tool.name in (delete_dir, search_web)", [2, 3]),
    # models, status, errors
    ('model = "gpt-4o"', [1]), ('model ~ "claude*"', [2]), ("trace.model = claude-3", [2]),
    ("status = error", [1]), ("error = true", [1]), ("error.type = PermissionError", [1]),
    ("error.type exists", [1]), ("trace.errors > 0", [1]), ("trace.status = ok", [1, 2, 3]),
    # durations, tokens and cost
    ("duration > 10s", [2]), ("duration >= 3s and kind = tool", [1]),
    ("duration < 20ms and kind = memory", [1]), ("trace.duration >= 1m", [2]),
    ("trace.duration < 6", [3]), ("tokens > 1000", [2]), ("tokens.input = 100", [1]),
    ("tokens.output >= 1000", [2]), ("cost > 0.1", [2]), ("trace.cost < 0.01", [1, 3]),
    ("trace.tokens > 0", [1, 2]), ("trace.spans = 3", [2]),
    # time ranges: relative and absolute
    ("start > -7d", [1, 3]), ("start < -5d", [2]), ("start > -3h", [1]),
    ("trace.start > -1w", [1, 3]), ("start > 2000-01-01 and start < 2100-01-01", [1, 2, 3]),
    # memory, messages, harness state, sessions, services
    ("memory.op = write and memory.store = notes", [1]), ("memory.key = k1", [1]),
    ("sender = planner and receiver = coder", [3]), ("step = 2 and retries = 1", [3]),
    ("budget.tokens < 1000", [3]), ('session = "sess-1"', [3]), ("trace.session = sess-1", [3]),
    ('service = "svc-b"', [2]), ('service in ("svc-a")', [1, 3]),
    # any attribute by name
    ('attr.app.user = "alice"', [2]), ('attr["app.score"] > 5', [2]),
    ('attr["app.score"] < 5', []), ("attr.app.user exists", [2]), ('attr.app.user ~ "ali*"', [2]),
    # free text inside payloads: messages, tool arguments and results
    ('"zebra"', [1]), ('"unicorn"', [2]), ('text ~ "horses"', [2]), ('"/srv/data"', [1]),
    ('"ZEBRA"', [1]), ('"no such words anywhere"', []), ('"tidy * zebra"', [1]),
    ('"permission denied"', [1]), ('text ~ "execute_tool search*"', [2]),
    # boolean structure
    ("kind = memory or kind = message", [1, 3]), ("not kind = llm and kind = tool", [1, 2, 3]),
    ("(tool ~ 'delete_*' or tool = search_web) and start > -5d", [1, 3]),
    ("not (agent = coder)", [2]), ("session = null and kind = agent", [1, 2]),
    ("session != null", [3]),
]


@pytest.mark.parametrize(("expr", "expected"), CASES)
def test_filter(vault: tracevault.Vault, expr: str, expected: list[int]) -> None:
    assert ids(vault, expr) == expected


def test_span_level_filter(vault: tracevault.Vault) -> None:
    table = vault.spans(filter="kind = tool and agent = coder")
    assert sorted(table.column("tool_name").to_pylist()) == ["delete_dir", "delete_file"]
    assert vault.spans(filter="kind = tool and trace.agent = researcher").num_rows == 1


def test_filter_combines_with_structured_filters(vault: tracevault.Vault) -> None:
    assert [int(t.trace_id, 16) for t in vault.traces(filter="kind = tool",
                                                       service="svc-b")] == [2]


def test_bad_filter_is_a_query_error(vault: tracevault.Vault) -> None:
    with pytest.raises(QueryError, match="column 6"):
        vault.traces(filter="kind tool")


INJECTIONS = [
    "x' OR '1'='1",
    "'; DROP TABLE spans; --",
    "%' UNION SELECT * FROM blobs --",
    'coder") OR 1=1 --',
    "\\' OR 1=1 --",
]


@pytest.mark.parametrize("evil", INJECTIONS)
def test_injection_through_filter_values(vault: tracevault.Vault, evil: str) -> None:
    before = vault.store.stats()
    quoted = '"' + evil.replace("\\", "\\\\").replace('"', '\\"') + '"'
    for expr in (f"agent = {quoted}", f"tool ~ {quoted}", f"attr.app.user = {quoted}",
                 quoted, f"tool in ({quoted}, x)", f"trace.agent = {quoted}"):
        assert ids(vault, expr) == [], expr
    assert vault.store.stats() == before
    assert ids(vault, "kind = tool") == [1, 2, 3]
    assert vault.store.verify().ok
