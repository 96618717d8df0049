"""``tracevault verify`` and ``tracevault ledger``: integrity of the record."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import orjson

from ._common import emit_json, json_option, open_vault, store_option

__all__ = ["ledger_group", "verify_command"]


@click.command("verify")
@click.option("--head", "head_file", type=click.Path(exists=True, dir_okay=False,
                                                     path_type=Path),
              help="A signed ledger head (from `tracevault ledger sign`) to check against.")
@click.option("--public-key", default=None, metavar="HEX",
              help="Require the head to be signed by this Ed25519 public key.")
@store_option
@json_option
def verify_command(head_file: Path | None, public_key: str | None, store: str | None,
                   as_json: bool) -> None:
    """Recompute the integrity ledger; exit 1 when anything was altered, removed or added."""
    from ..compliance import load_head, verify

    head = load_head(head_file) if head_file else None
    with open_vault(store) as vault:
        report = verify(vault.store, head, public_key)
    if as_json:
        emit_json(report.to_dict())
    else:
        rows = ", ".join(f"{n} {t}" for t, n in report.rows.items())
        if report.ok:
            tip = report.head or {}
            click.echo(f"ok: {report.commits} commits ({rows}) verified; head seq "
                       f"{tip.get('seq')} chain {str(tip.get('chain_hash'))[:16]}…"
                       + (" matches the signed head" if head else ""))
        else:
            first = report.first()
            click.echo(f"FAILED: {len(report.problems)} problem(s); first: {first}")
            for problem in report.problems[:50]:
                click.echo(f"  {problem}")
        for p in report.purges:
            click.echo(f"  purge in commit {p['seq']} by policy {p['policy']!r}: removed "
                       f"{p['traces']} trace(s) ({p['spans']} spans, {p['events']} events, "
                       f"{p['blobs']} blobs) that ended before {_iso(p['cutoff_ns'])}; "
                       "their row digests stay in the ledger")
    if not report.ok:
        sys.exit(1)


def _iso(ns: int) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(ns / 1e9, tz=timezone.utc).isoformat(timespec="seconds")


@click.group("ledger")
def ledger_group() -> None:
    """Sign the ledger head so others can check the record later."""


@ledger_group.command("keygen")
@click.argument("key_file", type=click.Path(dir_okay=False, path_type=Path))
def keygen_command(key_file: Path) -> None:
    """Write a new Ed25519 private key to KEY_FILE and print its public key."""
    from ..compliance import generate_key

    if key_file.exists():
        raise click.UsageError(f"{key_file} exists; refusing to overwrite a key")
    click.echo(f"public key: {generate_key(key_file)}")


@ledger_group.command("sign")
@click.option("--key", "key_file", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Ed25519 private key (PEM).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the signed head here instead of stdout.")
@store_option
def sign_command(key_file: Path, output: Path | None, store: str | None) -> None:
    """Sign the current ledger head (store id, last commit, chain hash)."""
    from ..compliance import sign_head

    with open_vault(store) as vault:
        head = vault.store.ledger_head()
    if head is None:
        raise click.UsageError("the store has no commits to sign")
    signed = orjson.dumps(sign_head(head, key_file), option=orjson.OPT_INDENT_2)
    if output:
        output.write_bytes(signed + b"\n")
        click.echo(f"signed commit {head['seq']} -> {output}")
    else:
        click.echo(signed.decode())
