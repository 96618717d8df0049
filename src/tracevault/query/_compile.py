"""Compile filter expressions to parameterised SQL over ``spans s`` joined with ``traces t``.

Values never enter the SQL text: every literal becomes a ``?`` parameter, so a filter
cannot inject SQL. Fields are a table (``FIELDS``); the reference is docs/query.md.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

from .._exceptions import FilterSyntaxError, QueryError
from ._filters import escape_like, parse_time, text_condition
from ._lang import Node, parse_filter

__all__ = ["FIELDS", "Compiled", "compile_filter"]


@dataclass(frozen=True)
class Field:
    """How a filter field maps to SQL."""

    sql: str
    kind: str  # str, num, time, duration, bool, list
    help: str
    trace: bool = False


FIELDS: dict[str, Field] = {
    # spans
    "kind": Field("s.kind", "str", "span kind: agent, llm, tool, memory, message, ..."),
    "name": Field("s.name", "str", "span name"),
    "operation": Field("s.operation", "str", "gen_ai.operation.name or equivalent"),
    "agent": Field("s.agent_name", "agent",
                   "agent acting: named on the span or on its nearest ancestor"),
    "agent.own": Field("s.agent_name", "str", "agent named on the span itself"),
    "tool": Field("s.tool_name", "str", "tool name (tool spans)"),
    "tool.name": Field("s.tool_name", "str", "tool name (tool spans)"),
    "tool.blocked": Field("coalesce(s.tool_blocked, false)", "bool", "blocked by a hook"),
    "model": Field("coalesce(s.llm_response_model, s.llm_request_model)", "str",
                   "model that answered (else the one requested)"),
    "model.request": Field("s.llm_request_model", "str", "model requested"),
    "provider": Field("s.llm_provider", "str", "model provider"),
    "status": Field("s.status", "str", "ok, error or unset"),
    "error": Field("(s.status = 'error')", "bool", "true for failed spans"),
    "error.type": Field("s.error_type", "str", "error class"),
    "duration": Field("s.duration_ns", "duration", "span duration (2s, 150ms; numbers: s)"),
    "start": Field("s.start_ns", "time", "span start (-3d, ISO 8601, Unix ns)"),
    "end": Field("s.end_ns", "time", "span end"),
    "tokens": Field("s.tokens_total", "num", "total tokens of a model call"),
    "tokens.input": Field("s.tokens_input", "num", "input tokens"),
    "tokens.output": Field("s.tokens_output", "num", "output tokens"),
    "tokens.cache_read": Field("s.tokens_cache_read", "num", "cached input tokens"),
    "tokens.reasoning": Field("s.tokens_reasoning", "num", "reasoning tokens"),
    "cost": Field("s.cost_usd", "num", "cost of a model call, USD"),
    "service": Field("s.service_name", "str", "service.name"),
    "session": Field("s.session_id", "str", "session / conversation id"),
    "project": Field("s.project", "str", "project"),
    "trace_id": Field("s.trace_id", "str", "trace id"),
    "span_id": Field("s.span_id", "str", "span id"),
    "parent_id": Field("s.parent_span_id", "str", "parent span id"),
    "convention": Field("s.convention", "str", "producer convention"),
    "harness": Field("s.harness_name", "str", "harness / instrumentation"),
    "memory.op": Field("s.memory_operation", "str", "memory operation"),
    "memory.store": Field("s.memory_store", "str", "memory store"),
    "memory.key": Field("s.memory_keys", "list", "a memory key touched"),
    "sender": Field("s.msg_sender", "str", "message sender"),
    "receiver": Field("s.msg_receiver", "str", "message receiver"),
    "channel": Field("s.msg_channel", "str", "message channel"),
    "step": Field("s.step_index", "num", "harness step index"),
    "goal": Field("s.step_goal", "str", "harness goal"),
    "retries": Field("s.retry_count", "num", "retries of the step"),
    "budget.tokens": Field("s.budget_tokens", "num", "tokens left"),
    "budget.cost": Field("s.budget_cost_usd", "num", "money left, USD"),
    "budget.steps": Field("s.budget_steps", "num", "steps left"),
    # traces
    "trace.name": Field("t.root_name", "str", "root span name", True),
    "trace.status": Field("t.status", "str", "trace status", True),
    "trace.duration": Field("t.duration_ns", "duration", "trace duration", True),
    "trace.start": Field("t.start_ns", "time", "trace start", True),
    "trace.tokens": Field("t.total_tokens", "num", "sum of tokens", True),
    "trace.cost": Field("t.cost_usd", "num", "sum of cost, USD", True),
    "trace.spans": Field("t.span_count", "num", "number of spans", True),
    "trace.errors": Field("t.error_count", "num", "number of failed spans", True),
    "trace.agent": Field("t.agents", "list", "an agent involved", True),
    "trace.model": Field("t.models", "list", "a model called", True),
    "trace.session": Field("t.session_ids", "list", "a session of the trace", True),
    "trace.service": Field("t.service_name", "str", "service of the root span", True),
}
ALIASES = {"tool_name": "tool", "agent.name": "agent", "error_type": "error.type",
           "trace": "trace_id", "span": "span_id", "retry_count": "retries",
           "message.sender": "sender", "message.receiver": "receiver",
           "message.channel": "channel", "memory.operation": "memory.op",
           "step.index": "step", "step.goal": "goal"}
_ATTR = re.compile(r"^(?:attr|attributes)(?:\.(?P<dot>.+)|\[(?P<q>'[^']*'|\"[^\"]*\")\])$")
_SCORE = re.compile(r"^scores?\.(?P<name>[A-Za-z0-9_\-]+)(?:\.(?P<part>value|label|passed))?$")
_SCORE_PARTS = {"value": "num", "label": "str", "passed": "bool"}
_DURATION = {"ns": 1, "us": 1_000, "µs": 1_000, "ms": 1_000_000, "s": 1_000_000_000,
             "m": 60_000_000_000, "h": 3_600_000_000_000}
_REL = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_SQL_OPS = {"=": "=", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


@dataclass
class Compiled:
    """SQL for a filter: a boolean expression over ``s`` (spans) and ``t`` (traces)."""

    sql: str
    params: list[Any]
    uses_spans: bool
    uses_traces: bool


def _glob(value: str) -> str:
    return escape_like(value).replace("*", "%").replace("?", "_")


class _Compiler:
    def __init__(self, text: str) -> None:
        self.text = text
        self.params: list[Any] = []
        self.uses_spans = False
        self.uses_traces = False

    def error(self, col: int, message: str) -> FilterSyntaxError:
        return FilterSyntaxError(self.text, col, message)

    def field(self, name: str, col: int) -> Field:
        m = _ATTR.match(name)
        if m:
            key = m.group("dot") or m.group("q")[1:-1]
            self.params.append(f'$."{key}"')
            self.uses_spans = True
            return Field("json_extract_string(s.attributes, ?)", "attr", "attribute")
        m = _SCORE.match(name)
        if m:  # the trace's latest score of that name
            part = m.group("part") or "value"
            column = f"sc.{part}" if m.group("part") else \
                "coalesce(sc.value, CAST(sc.passed AS DOUBLE))"  # passed: 1.0, failed: 0.0
            self.params.append(m.group("name"))
            self.uses_spans = True
            return Field(f"(SELECT arg_max({column}, sc.created_ns) FROM scores sc WHERE "
                         "sc.project = s.project AND sc.trace_id = s.trace_id AND sc.name = ?)",
                         _SCORE_PARTS[part], "score")
        canonical = ALIASES.get(name.lower(), name.lower())
        f = FIELDS.get(canonical)
        if f is None:
            raise self.error(col, f"unknown field {name!r} (see docs/query.md for the list)")
        if f.trace:
            self.uses_traces = True
        else:
            self.uses_spans = True
        return f

    def value(self, f: Field, value: tuple[str, Any, int]) -> Any:
        kind, raw, col = value
        try:
            if f.kind == "time":
                if kind == "reltime":
                    sign = -1 if raw.startswith("-") else 1
                    amount = float(raw[1:-1]) * _REL[raw[-1]]
                    return time.time_ns() + sign * int(amount * 1e9)
                return parse_time(raw)
            if f.kind == "duration":
                if kind == "duration":
                    unit = re.match(r"[\d.]+(\D+)$", raw).group(1)  # type: ignore[union-attr]
                    return int(float(raw[: -len(unit)]) * _DURATION[unit])
                if kind == "number":
                    return int(raw * 1e9)
                raise QueryError("expected a duration like 2s or 150ms")
            if f.kind in ("num", "attr_num"):
                if kind != "number":
                    raise QueryError(f"expected a number, found {raw!r}")
                return raw
            if f.kind == "bool":
                if str(raw).lower() not in ("true", "false"):
                    raise QueryError(f"expected true or false, found {raw!r}")
                return str(raw).lower() == "true"
        except QueryError as exc:
            raise self.error(col, str(exc)) from None
        return str(raw) if kind != "number" else raw

    def compile(self, node: Node) -> str:
        if node.op in ("cmp", "in", "exists") and \
                ALIASES.get(node.args[0].lower(), node.args[0].lower()) == "agent":
            return self.inherited_agent(node)
        if node.op in ("and", "or"):
            return f"({self.compile(node.args[0])} {node.op.upper()} {self.compile(node.args[1])})"
        if node.op == "not":
            return f"(NOT coalesce({self.compile(node.args[0])}, false))"
        if node.op == "text":
            return self.text_search(node.args[0])
        if node.op == "exists":
            f = self.field(node.args[0], node.col)
            return f"({f.sql} IS NOT NULL)"
        if node.op == "in":
            name, values, negate = node.args
            f = self.field(name, node.col)
            if f.kind == "list":
                parts = []
                for v in values:
                    self.params.append(self.value(f, v))
                    parts.append(f"list_contains({f.sql}, ?)")
                sql = "(" + " OR ".join(parts) + ")"
            else:
                self.params.extend(self.value(f, v) for v in values)
                sql = f"({f.sql} IN ({', '.join('?' * len(values))}))"
            return f"(NOT coalesce({sql}, false))" if negate else sql
        name, op, value = node.args
        if name.lower() == "text":
            if op not in ("=", "~"):
                raise self.error(node.col, "text takes = or ~ (it searches payloads)")
            return self.text_search(str(value[1]))
        f = self.field(name, node.col)
        if value[0] == "word" and str(value[1]).lower() == "null":
            if op not in ("=", "!="):
                raise self.error(value[2], "null compares with = or != only")
            return f"({f.sql} IS {'NOT ' if op == '!=' else ''}NULL)"
        if f.kind == "list":
            if op in ("~", "!~"):
                self.params.append(_glob(str(value[1])))
                sql = f"(len(list_filter({f.sql}, x -> x ILIKE ? ESCAPE '\\')) > 0)"
            elif op in ("=", "!="):
                self.params.append(self.value(f, value))
                sql = f"list_contains({f.sql}, ?)"
            else:
                raise self.error(node.col, f"{name} is a list: use =, !=, ~, !~ or in")
            return f"(NOT coalesce({sql}, false))" if op.startswith("!") else sql
        if op in ("~", "!~"):
            self.params.append(_glob(str(value[1])))
            sql = f"(CAST({f.sql} AS VARCHAR) ILIKE ? ESCAPE '\\')"
            return f"(NOT coalesce({sql}, false))" if op == "!~" else sql
        if f.kind == "attr":
            if value[0] == "number":
                self.params.append(value[1])
                return f"(TRY_CAST({f.sql} AS DOUBLE) {_SQL_OPS[op]} ?)"
            self.params.append(str(value[1]))
            return f"({f.sql} {_SQL_OPS[op]} ?)"
        if f.kind in ("str",) and op not in ("=", "!="):
            self.params.append(str(value[1]))
            return f"({f.sql} {_SQL_OPS[op]} ?)"
        self.params.append(self.value(f, value))
        return f"({f.sql} {_SQL_OPS[op]} ?)"

    def inherited_agent(self, node: Node) -> str:
        """``agent`` conditions: spans naming a matching agent, and their descendants.

        Descendants that name no agent themselves (tool and model calls made inside an
        agent's span) act for it.
        """
        negate = False
        if node.op == "cmp":
            name, op, value = node.args
            if op in ("!=", "!~"):
                negate, op = True, op[1:] if op == "!~" else "="
            inner = Node("cmp", ("agent.own", op, value), node.col)
        elif node.op == "in":
            negate = node.args[2]
            inner = Node("in", ("agent.own", node.args[1], False), node.col)
        else:
            inner = Node("exists", ("agent.own",), node.col)
        if negate:
            exists = self.inherited_agent(Node("exists", ("agent.own",), node.col))
            return f"({exists} AND NOT {self.inherited_agent(inner)})"
        return ("((s.project, s.trace_id, s.span_id) IN (WITH RECURSIVE acting(project, "
                "trace_id, span_id) AS (SELECT s.project, s.trace_id, s.span_id FROM spans s "
                f"WHERE {self.compile(inner)} UNION SELECT c.project, c.trace_id, c.span_id "
                "FROM spans c JOIN acting a ON c.project = a.project AND c.trace_id = "
                "a.trace_id AND c.parent_span_id = a.span_id WHERE c.agent_name IS NULL) "
                "SELECT project, trace_id, span_id FROM acting))")

    def text_search(self, text: str) -> str:
        self.uses_spans = True
        sql, params = text_condition(text)
        self.params += params
        return sql


def compile_filter(text: str) -> Compiled:
    """Parse and compile a filter expression."""
    node = parse_filter(text)
    c = _Compiler(text)
    sql = c.compile(node)
    return Compiled(sql, c.params, c.uses_spans, c.uses_traces)
