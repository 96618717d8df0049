"""The filter grammar: what parses, and where mistakes are reported."""

from __future__ import annotations

import pytest

from tracevault import FilterSyntaxError
from tracevault.query._compile import compile_filter
from tracevault.query._lang import parse_filter


def test_precedence_not_and_or() -> None:
    node = parse_filter('kind = tool or kind = llm and not status = error')
    assert node.op == "or"
    assert node.args[1].op == "and" and node.args[1].args[1].op == "not"
    grouped = parse_filter('(kind = tool or kind = llm) and status = error')
    assert grouped.op == "and" and grouped.args[0].op == "or"


def test_values() -> None:
    assert parse_filter("duration > 1.5s").args[2][:2] == ("duration", "1.5s")
    assert parse_filter("start > -3d").args[2][:2] == ("reltime", "-3d")
    assert parse_filter("start > 2026-01-02T03:04:05Z").args[2][:2] == (
        "date", "2026-01-02T03:04:05Z")
    assert parse_filter("tokens >= 10").args[2][:2] == ("number", 10)
    assert parse_filter("cost < 0.25").args[2][:2] == ("number", 0.25)
    assert parse_filter(r'name = "say \"hi\""').args[2][1] == 'say "hi"'
    assert parse_filter("tool in (a, 'b', \"c\")").args[1][2][1] == "c"
    assert parse_filter("tool not in (a)").args[2] is True
    assert parse_filter("error.type exists").op == "exists"
    assert parse_filter('"free text"').op == "text"
    assert parse_filter('attr["my key"] = 1').args[0] == 'attr["my key"]'


@pytest.mark.parametrize(("expr", "column", "problem"), [
    ("kind = ", 8, "expected a value"),
    ("kind tool", 6, "expected an operator"),
    ("kind = tool and", 16, "expression ends too early"),
    ("kind = tool or or", 16, "expected a field"),
    ("(kind = tool", 13, "expected ')'"),
    ("kind = tool)", 12, "expected 'and', 'or' or the end"),
    ("kind = tool & status = error", 13, "unexpected character '&'"),
    ("tool in (a b)", 12, "expected ',' or ')'"),
    ("tool in a", 9, "expected '('"),
    ("tool not = a", 10, "expected 'in' after 'not'"),
    ("", 1, "empty filter"),
    ('kind = "unclosed', 8, "unexpected character"),
])
def test_syntax_errors_name_the_column(expr: str, column: int, problem: str) -> None:
    with pytest.raises(FilterSyntaxError) as info:
        parse_filter(expr)
    assert info.value.column == column, str(info.value)
    assert problem in str(info.value)
    assert str(info.value).startswith(f"column {column}: ")
    assert "\n" not in str(info.value)
    assert info.value.pointer().splitlines()[1] == " " * (column - 1) + "^"


@pytest.mark.parametrize(("expr", "column", "problem"), [
    ("colour = red", 1, "unknown field 'colour'"),
    ("kind = tool and nope > 3", 17, "unknown field 'nope'"),
    ("tokens > many", 10, "expected a number"),
    ("duration > soon", 12, "expected a duration"),
    ("start > yesterday", 9, "cannot read time"),
    ("error = maybe", 9, "expected true or false"),
    ("trace.agent < x", 1, "is a list"),
    ("text > x", 1, "text takes = or ~"),
    ("kind < null", 8, "null compares with = or != only"),
])
def test_semantic_errors_name_the_column(expr: str, column: int, problem: str) -> None:
    with pytest.raises(FilterSyntaxError) as info:
        compile_filter(expr)
    assert info.value.column == column, str(info.value)
    assert problem in str(info.value)


def test_values_become_parameters_never_sql_text() -> None:
    evil = "x' OR 1=1; DROP TABLE spans; --"
    compiled = compile_filter(f'tool = "{evil}" or name ~ "{evil}*" or attr.k = "{evil}" '
                              f'or "{evil}"')
    assert "DROP" not in compiled.sql and "1=1" not in compiled.sql
    assert evil in compiled.params
    assert compiled.sql.count("?") == len(compiled.params)
