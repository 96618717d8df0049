"""``tracevault sql``, ``tracevault incident`` and ``tracevault memory``."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import orjson

from ..analysis import DEFAULT_FLAGS, FORMATS, render_incident
from ._common import emit_json, json_option, open_vault, store_option
from ._render import short, timestamp

__all__ = ["incident_command", "memory_command", "sql_command"]


@click.command("sql")
@click.argument("statement")
@click.option("--limit", default=1000, show_default=True, type=click.IntRange(1),
              help="At most this many rows.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]),
              default="table", show_default=True)
@store_option
def sql_command(statement: str, limit: int, fmt: str, store: str | None) -> None:
    """Run one read-only SELECT over the views (spans, traces, messages, tool_calls...).

    Statements that write, read files or leave the store are refused (exit code 2).
    """
    with open_vault(store) as vault:
        table = vault.sql(statement, limit=limit)
    if fmt == "json":
        emit_json(table.to_pylist())
        return
    if fmt == "csv":
        import pyarrow.csv as pacsv

        pacsv.write_csv(table, sys.stdout.buffer)
        return
    rows = [[_cell(v) for v in row.values()] for row in table.to_pylist()]
    head = table.column_names
    widths = [min(60, max([len(h)] + [len(r[i]) for r in rows])) for i, h in enumerate(head)]
    click.echo("  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)))
    for r in rows:
        click.echo("  ".join(short(c, w).ljust(w) for c, w in zip(r, widths, strict=True)))
    click.echo(f"({len(rows)} row{'s' if len(rows) != 1 else ''})", err=True)


def _cell(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, (list, dict)):
        return orjson.dumps(value, default=str).decode()
    return str(value)


@click.command("incident")
@click.argument("group_id", metavar="TRACE_OR_GROUP_ID")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text",
              show_default=True, help="text prints; md, html and json can be written too.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the report to this file instead of standard output.")
@click.option("--full", is_flag=True, help="Show each decision's whole context, unshortened.")
@click.option("--flag", "flags", multiple=True, metavar="PATTERN",
              help="Tool-name pattern to flag as destructive/external (repeatable; "
                   "replaces the defaults).")
@click.option("--single", is_flag=True, help="Only this trace, not its whole group.")
@click.option("--project", default=None, help="Project of the trace.")
@store_option
def incident_command(group_id: str, fmt: str, output: Path | None, full: bool,
                     flags: tuple[str, ...], single: bool, project: str | None,
                     store: str | None) -> None:
    """The ordered story of a run, from decisions to errors, risky tool calls flagged.

    Every model decision with the context it saw, tool calls with arguments and results,
    memory changes, messages between agents, errors, retries and budget over time.
    TRACE_OR_GROUP_ID is a trace id (its linked traces and session join in) or
    session:ID.
    """
    with open_vault(store) as vault:
        incident = vault.incident(group_id, project=project, full=full,
                                  flags=list(flags) or DEFAULT_FLAGS, joined=not single)
    text = render_incident(incident, fmt)
    if output is not None:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output} ({len(incident.entries)} entries)", err=True)
        return
    click.echo(text, nl=False)


@click.command("memory")
@click.argument("group_id", metavar="TRACE_ID")
@click.option("--at", default=None, metavar="POINT",
              help="AGENT:STEP (or AGENT:STEP:RETRY, or STEP), a span id, or a time "
                   "(ISO 8601, Unix ns). Default: the end of the run.")
@click.option("--memory-store", "memory_store", default=None, help="Only this memory store.")
@click.option("--history", is_flag=True, help="Also list the writes and deletes replayed.")
@click.option("--project", default=None, help="Project of the trace.")
@store_option
@json_option
def memory_command(group_id: str, at: str | None, memory_store: str | None, history: bool,
                   project: str | None, store: str | None, as_json: bool) -> None:
    """Memory contents as they were at a step or time, rebuilt from recorded writes."""
    with open_vault(store) as vault:
        state = vault.memory(group_id, at, project=project, store=memory_store)
    if as_json:
        emit_json(state.to_dict())
        return
    click.echo(f"memory at {timestamp(state.at_ns)} "
               f"({state.operations} write/delete operations replayed)")
    if not state.stores:
        click.echo("  (empty)")
    for name, values in sorted(state.stores.items()):
        click.echo(f"[{name}]")
        for key, value in sorted(values.items()):
            click.echo(f"  {key} = {short(value, 200)}")
    if history:
        click.echo("history:")
        for h in state.history:
            click.echo(f"  {timestamp(h['time_ns'])} {h['agent'] or '?'} {h['operation']} "
                       f"{h['store']} {', '.join(h['keys'])}")
