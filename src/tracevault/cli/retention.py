"""``tracevault retention`` (policies, legal holds, purges) and ``tracevault audit``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from ._common import emit_json, json_option, open_vault, store_option
from ._render import print_table as _table
from ._render import timestamp

__all__ = ["audit_command", "retention_group"]


def _change(store: str | None, call: Callable[[Any], Any], done: str) -> None:
    with open_vault(store, read_only=False) as vault:
        call(vault.store)
    click.echo(done)


@click.group("retention")
def retention_group() -> None:
    """Retention policies, legal holds and ledgered purges (docs/compliance.md)."""


@retention_group.command("set")
@click.argument("name")
@click.option("--keep-days", type=click.IntRange(0), required=True,
              help="Days a trace is kept after it ended.")
@click.option("--action", type=click.Choice(["delete", "archive", "keep"]), default="delete",
              show_default=True, help="delete, archive to a bundle then delete, or keep "
                                      "(protect younger traces from other policies).")
@click.option("--project", default=None, help="Only traces of this project.")
@click.option("--service", default=None, help="Only traces whose root service is this.")
@click.option("--agent", default=None, help="Only traces this agent took part in.")
@click.option("--archive-dir", default=None, metavar="DIR",
              help="Where archive bundles go (required with --action archive).")
@store_option
@json_option
def set_command(name: str, keep_days: int, action: str, project: str | None,
                service: str | None, agent: str | None, archive_dir: str | None,
                store: str | None, as_json: bool) -> None:
    """Create or replace the retention policy NAME."""
    with open_vault(store, read_only=False) as vault:
        policy = vault.store.set_retention_policy(
            name, keep_days=keep_days, action=action, project=project, service=service,
            agent=agent, archive_dir=archive_dir)
    if as_json:
        emit_json(policy)
    else:
        what = (f"kept at least {keep_days} day(s)" if action == "keep"
                else f"{'archived and ' if action == 'archive' else ''}deleted "
                     f"{keep_days} day(s) after ending")
        click.echo(f"policy {name}: {policy['scope']}, {what}")


@retention_group.command("rm")
@click.argument("name")
@store_option
def rm_command(name: str, store: str | None) -> None:
    """Remove the retention policy NAME (its purges stay in the ledger)."""
    _change(store, lambda s: s.remove_retention_policy(name), f"removed policy {name}")


@retention_group.command("hold")
@click.argument("name")
@click.option("--reason", required=True, help="Why (case, request): shown in reports.")
@click.option("--trace", "trace_ids", multiple=True, metavar="TRACE_ID",
              help="A trace to hold (repeatable).")
@click.option("--filter", "filter_", default=None, metavar="EXPR",
              help="Hold every trace matching this filter (docs/query.md).")
@click.option("--project", default=None, help="Hold within (or all of) this project.")
@store_option
def hold_command(name: str, reason: str, trace_ids: tuple[str, ...], filter_: str | None,
                 project: str | None, store: str | None) -> None:
    """Place the legal hold NAME: the traces it selects are never purged."""
    _change(store, lambda s: s.add_legal_hold(
        name, reason=reason, trace_ids=list(trace_ids) or None, filter=filter_,
        project=project), f"hold {name} placed")


@retention_group.command("release")
@click.argument("name")
@store_option
def release_command(name: str, store: str | None) -> None:
    """Release the legal hold NAME."""
    _change(store, lambda s: s.release_legal_hold(name), f"hold {name} released")


@retention_group.command("ls")
@store_option
@json_option
def ls_command(store: str | None, as_json: bool) -> None:
    """List policies, legal holds and past purges."""
    with open_vault(store) as vault:
        state = vault.store.retention_state()
    if as_json:
        emit_json(state)
        return
    _table(["policy", "scope", "keep days", "action", "archive"],
           [[p["name"], p["scope"], p["keep_days"], p["action"], p["archive_dir"]]
            for p in state["policies"]], "Policies")
    _table(["hold", "traces", "filter", "project", "reason", "since"],
           [[h["name"], len(h["trace_ids"]), h["filter"], h["project"], h["reason"],
             timestamp(h["created_ns"])] for h in state["holds"]], "Legal holds")
    _table(["commit", "policy", "when", "traces", "spans", "blobs", "archive"],
           [[p["seq"], p["policy"], timestamp(p["purged_ns"]), p["traces"], p["spans"],
             p["blobs"], p["archive"]] for p in state["purges"]], "Purges")


@retention_group.command("apply")
@click.option("--dry-run", is_flag=True, help="Show what would be purged; change nothing.")
@click.option("--policy", default=None, help="Apply only this policy.")
@store_option
@json_option
def apply_command(dry_run: bool, policy: str | None, store: str | None,
                  as_json: bool) -> None:
    """Purge what the policies let go; each purge is recorded in the ledger."""
    with open_vault(store, read_only=dry_run) as vault:
        results = vault.store.apply_retention(dry_run=dry_run, policy=policy)
    if as_json:
        emit_json(results)
        return
    verb = "would purge" if dry_run else "purged"
    for r in results:
        line = (f"{r['policy']} ({r['action']}, {r['scope']}): {verb} {r['traces']} "
                f"trace(s) that ended before {timestamp(r['cutoff_ns'])}; {r['held']} held, "
                f"{r['kept']} kept by keep policies")
        done = r.get("purge")
        if done:
            line += (f"; commit {done['seq']}: {done['spans']} spans, {done['events']} "
                     f"events, {done['blobs']} blobs"
                     + (f"; archive {done['archive']}" if done.get("archive") else ""))
        click.echo(line)
        if dry_run:
            for trace_id in r["trace_ids"]:
                click.echo(f"  {trace_id}")
    if not results:
        click.echo("no delete or archive policy is set")


@click.command("audit")
@click.option("--from", "start", default=None, help="From (ISO, ns or -30d).")
@click.option("--to", "end", default=None, help="Until (ISO, ns or -1d).")
@click.option("--principal", default=None, help="Only this principal.")
@click.option("--limit", default=1000, show_default=True, type=click.IntRange(1, 1_000_000))
@store_option
@json_option
def audit_command(start: str | None, end: str | None, principal: str | None, limit: int,
                  store: str | None, as_json: bool) -> None:
    """The access log: who read which trace content (or changed retention), when."""
    with open_vault(store) as vault:
        rows = vault.store.access_log(start, end, principal, limit=limit)
    if as_json:
        emit_json(rows)
        return
    _table(["time (UTC)", "principal", "action", "target", "project", "via"],
           [[timestamp(r["time_ns"]), r["principal"], r["action"], r["target"],
             r["project"], r["via"]] for r in rows], f"{len(rows)} access(es)")
