"""``tracevault traces``: list traces and show one as a tree."""

from __future__ import annotations

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..analysis import TraceGroup
from ._common import emit_json, json_option, open_vault, store_option
from ._render import duration, key_content, short, timestamp

__all__ = ["traces_group"]


@click.group("traces")
def traces_group() -> None:
    """Find and read traces."""


@traces_group.command("ls")
@click.option("--filter", "filter_", default=None, metavar="EXPR",
              help='Filter language, e.g. \'kind = tool and status = error and start > -7d\'.')
@click.option("--project", default=None, help="Only this project.")
@click.option("--service", default=None, help="service.name of the trace.")
@click.option("--agent", default=None, help="Agent involved.")
@click.option("--model", default=None, help="Model called.")
@click.option("--status", type=click.Choice(["ok", "error"]), default=None)
@click.option("--kind", default=None, help="Holding a span of this kind.")
@click.option("--tool", default=None, help="Holding a call of this tool.")
@click.option("--text", default=None, help="Free text in names and payloads.")
@click.option("--since", "start", default=None, help="Started after (ISO, ns, or -3d).")
@click.option("--until", "end", default=None, help="Started before (ISO, ns, or -1h).")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--offset", default=0, type=click.IntRange(0))
@store_option
@json_option
def ls_command(store: str | None, as_json: bool, filter_: str | None,
               **filters: object) -> None:
    """List traces, newest first."""
    with open_vault(store) as vault:
        traces = vault.traces(filter=filter_, **filters)  # type: ignore[arg-type]
    if as_json:
        emit_json([t.model_dump() for t in traces])
        return
    table = Table(box=None, header_style="bold")
    for col in ("trace_id", "start (UTC)", "root", "agents", "spans", "duration", "status",
                "tokens", "cost $", "errors"):
        table.add_column(col, no_wrap=col in ("trace_id", "start (UTC)"))
    for t in traces:
        cells = (t.trace_id, timestamp(t.start_time_ns), short(t.root_name, 40),
                 short(",".join(t.agents), 30), str(t.span_count), duration(t.duration_ns),
                 t.status, str(t.total_tokens), f"{t.cost_usd:.4f}", str(t.error_count))
        table.add_row(*(escape(c) for c in cells))  # names like "[agent]" are not markup
    Console(width=200).print(table)
    if not traces:
        click.echo("no traces match")


@traces_group.command("show")
@click.argument("trace_id")
@click.option("--project", default=None, help="Project of the trace.")
@click.option("--full", is_flag=True, help="Do not shorten content.")
@click.option("--joined", is_flag=True,
              help="Join the traces linked to this one (links, context, session) into one "
                   "timeline with each step's agent and the messages between agents.")
@store_option
@json_option
def show_command(trace_id: str, project: str | None, full: bool, joined: bool,
                 store: str | None, as_json: bool) -> None:
    """Show a trace as an indented tree: kind, name, duration, status, key content."""
    if joined:
        with open_vault(store) as vault:
            group = vault.group(trace_id, project=project)
        if as_json:
            emit_json(group.to_dict())
        else:
            _show_joined(group, 10_000 if full else 160)
        return
    with open_vault(store) as vault:
        trace = vault.trace(trace_id, project=project)
    if as_json:
        emit_json(trace.to_dict())
        return
    s = trace.summary
    click.echo(f"trace {s.trace_id}  {timestamp(s.start_time_ns)}  {duration(s.duration_ns)}  "
               f"{s.status}  spans={s.span_count} tokens={s.total_tokens} "
               f"cost=${s.cost_usd:.4f}")
    width = 10_000 if full else 100
    for depth, span in trace.walk():
        status = {"error": " ✗", "ok": ""}.get(span.status.code, "")
        agent = f" @{span.agent.name}" if span.agent and span.agent.name else ""
        line = (f"{'  ' * depth}[{span.kind}] {span.name}{agent} "
                f"({duration(span.duration_ns)}){status}")
        content = key_content(span, width)
        click.echo(line + (f"  {content}" if content else ""))
        if span.status.code == "error" and span.status.message \
                and span.status.message not in content:
            click.echo(f"{'  ' * depth}    error: {short(span.status.message, width)}")


def _show_joined(group: TraceGroup, width: int) -> None:
    click.echo(f"group of {len(group.summaries)} trace(s)")
    for s in group.summaries:
        click.echo(f"  {s.trace_id}  {timestamp(s.start_time_ns)}  {s.status:<5}  "
                   f"{s.root_name or '-'}  agents={','.join(s.agents) or '-'}")
    pairs = group.messages()
    if pairs:
        click.echo("messages: " + "; ".join(f"{a} → {b} ×{n}" for a, b, n in pairs))
    start = group.spans[0].start_time_ns if group.spans else 0
    for e in group.timeline():
        where = f"{e.agent or '?'}" + (f" @{e.service}" if e.service else "")
        flag = " ⚠" if e.flagged else ""
        err = " ✗" if e.error else ""
        click.echo(f"+{(e.time_ns - start) / 1e9:8.3f}s  {where:<28} [{e.kind}] "
                   f"{short(e.title, width)}{flag}{err}")
