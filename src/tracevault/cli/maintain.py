"""``tracevault maintain``: compact a store and drop what no snapshot needs."""

from __future__ import annotations

import click

from ._common import emit_json, json_option, open_vault, store_option

__all__ = ["maintain_command"]


@click.command("maintain")
@click.option("--keep-snapshots-days", type=click.IntRange(min=0), default=7,
              show_default=True, help="DuckLake: keep snapshots (time travel) this many days.")
@store_option
@json_option
def maintain_command(keep_snapshots_days: int, store: str | None, as_json: bool) -> None:
    """Compact the store: merge DuckLake files, expire snapshots, delete unused files."""
    with open_vault(store, read_only=False) as vault:
        target = vault.store
        if not hasattr(target, "maintain"):
            raise click.UsageError("a running server holds this store: stop it, then maintain")
        out = target.maintain(keep_snapshots_days)
    if as_json:
        emit_json(out)
    else:
        click.echo(", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in out.items()))
