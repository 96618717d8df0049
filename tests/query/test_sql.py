"""Read-only SQL over the documented views: what runs and what is refused."""

from __future__ import annotations

import re

import pytest

import tracevault
from tracevault import QueryError


def test_select_over_views(vault: tracevault.Vault) -> None:
    table = vault.sql("SELECT kind, count(*) AS n FROM spans GROUP BY kind ORDER BY kind")
    assert dict(zip(table.column("kind").to_pylist(), table.column("n").to_pylist(),
                    strict=True))["tool"] == 3
    traces = vault.sql("SELECT trace_id, agents, total_tokens FROM traces "
                       "ORDER BY total_tokens DESC")
    assert traces.column("total_tokens").to_pylist() == [5000, 120, 0]
    calls = vault.sql("SELECT tool, arguments, result, status FROM tool_calls ORDER BY tool")
    assert calls.column("tool").to_pylist() == ["delete_dir", "delete_file", "search_web"]
    assert "unicorn" in calls.column("result").to_pylist()[2]
    messages = vault.sql("SELECT role, text FROM messages WHERE text ILIKE '%zebra%'")
    assert messages.to_pylist() == [{"role": "user",
                                     "text": "please tidy the quick zebra folder"}]
    cte = vault.sql("WITH t AS (SELECT trace_id FROM spans WHERE kind = 'memory') "
                    "SELECT count(*) AS n FROM t JOIN traces USING (trace_id)")
    assert cte.column("n").to_pylist() == [1]
    assert vault.sql("SELECT * FROM spans", limit=2).num_rows == 2
    assert vault.sql("SELECT 1 AS one;").column("one").to_pylist() == [1]


REFUSED = [
    ("DELETE FROM spans", "DELETE statements are refused"),
    ("UPDATE spans SET name = 'x'", "UPDATE statements are refused"),
    ("INSERT INTO tv_meta VALUES ('a', 'b')", "INSERT statements are refused"),
    ("DROP TABLE spans", "DROP statements are refused"),
    ("CREATE TABLE x AS SELECT * FROM spans", "CREATE statements are refused"),
    ("ATTACH '/tmp/other.duckdb' AS other", "ATTACH statements are refused"),
    ("COPY spans TO '/tmp/out.csv'", "COPY statements are refused"),
    ("PRAGMA database_list", "PRAGMA statements are refused"),
    ("SET threads = 1", "SET statements are refused"),
    ("INSTALL httpfs", "statements are refused"),
    ("CHECKPOINT", "statements are refused"),
    ("SELECT 1; DROP TABLE spans", "one statement at a time"),
    ("SELECT * FROM spans WHERE name = ''; DELETE FROM spans; --'", "one statement at a time"),
    ("SELECT * FROM read_csv('/etc/passwd')", "table function read_csv() is refused"),
    ("SELECT * FROM '/etc/passwd'", "is not a table of the store"),
    ("SELECT * FROM (SELECT * FROM read_parquet('x.parquet'))", "read_parquet() is refused"),
    ("SELECT getenv('HOME')", "function getenv() is refused"),
    ("SELECT * FROM duckdb_settings()", "duckdb_settings() is refused"),
    ("SELECT * FROM information_schema.tables", "is not a table of the store"),
    ("SELECT * FROM nosuch", "is not a table of the store"),
    ("SELEC 1", "cannot parse SQL"),
]


@pytest.mark.parametrize(("statement", "problem"), REFUSED)
def test_writes_and_escapes_are_refused(vault: tracevault.Vault, statement: str,
                                        problem: str) -> None:
    before = vault.store.stats()
    with pytest.raises(QueryError, match=re.escape(problem)):
        vault.sql(statement)
    assert vault.store.stats() == before
    assert vault.store.verify().ok


def test_failing_select_is_a_query_error(vault: tracevault.Vault) -> None:
    with pytest.raises(QueryError, match="SQL failed"):
        vault.sql("SELECT no_such_column FROM spans")


def test_runaway_query_is_interrupted(vault: tracevault.Vault) -> None:
    with pytest.raises(QueryError, match="interrupted"):
        vault.store.sql("SELECT count(*) FROM range(100000000000) a, range(1000) b",
                        timeout=0.5)
