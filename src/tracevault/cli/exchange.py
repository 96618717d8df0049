"""``tracevault export`` and ``tracevault bundle``: move traces to other stores and tools."""

from __future__ import annotations

from pathlib import Path

import click

from ._common import emit_json, json_option, open_vault, store_option

__all__ = ["bundle_group", "export_command"]

FORMATS = ("bundle", "otlp-json", "parquet", "chat-jsonl")


@click.command("export")
@click.option("--format", "fmt", type=click.Choice(FORMATS), required=True,
              help="bundle (portable, verifiable), otlp-json, parquet or chat-jsonl.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="File to write.")
@click.option("--filter", "filter_", default=None, metavar="EXPR",
              help="Only traces matching this filter (docs/query.md).")
@click.option("--from", "start", default=None, help="Started after (ISO, ns or -7d).")
@click.option("--to", "end", default=None, help="Started before (ISO, ns or -1d).")
@click.option("--project", default=None, help="Only this project.")
@click.option("--trace", "trace_ids", multiple=True, metavar="TRACE_ID",
              help="Only this trace (repeatable).")
@click.option("--per", type=click.Choice(["llm", "run"]), default="llm", show_default=True,
              help="chat-jsonl: one example per model call or per agent run.")
@click.option("--redact", default=None, metavar="DETECTORS",
              help="chat-jsonl: redact 'all' or detectors (email,phone,card,api_key,iban).")
@click.option("--sign-key", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="bundle: sign the manifest with this Ed25519 key (PEM).")
@click.option("--no-scores", is_flag=True, help="bundle: leave the scores out.")
@store_option
@json_option
def export_command(fmt: str, output: Path, filter_: str | None, start: str | None,
                   end: str | None, project: str | None, trace_ids: tuple[str, ...],
                   per: str, redact: str | None, sign_key: Path | None, no_scores: bool,
                   store: str | None, as_json: bool) -> None:
    """Write matching traces as a bundle, OTLP JSON, Parquet or chat training data."""
    from .. import exchange

    if fmt != "chat-jsonl" and redact:
        raise click.UsageError("--redact applies to --format chat-jsonl only")
    if fmt != "bundle" and (sign_key or no_scores):
        raise click.UsageError("--sign-key and --no-scores apply to --format bundle only")
    select = {"filter": filter_, "start": start, "end": end, "project": project,
              "trace_ids": list(trace_ids) or None}
    with open_vault(store) as vault:
        if fmt == "bundle":
            info = exchange.export_bundle(vault, output, scores=not no_scores,
                                          sign_key=sign_key, **select)
            result = info.to_dict()
            c = info.counts
            line = (f"{output}: bundle of {c['traces']} traces ({c['spans']} spans, "
                    f"{c['logs']} log records, {c['scores']} scores)"
                    + (f", signed by {info.public_key}" if info.signed else "")
                    + f"; sha256 {info.sha256}")
        elif fmt == "otlp-json":
            n = exchange.export_otlp_json(vault, output, **select)
            result, line = {"traces": n}, f"{output}: {n} traces as OTLP JSON lines"
        elif fmt == "parquet":
            n = exchange.export_parquet(vault, output, **select)
            result, line = {"spans": n}, f"{output}: {n} spans as Parquet rows"
        else:
            n = exchange.export_chat_jsonl(vault, output, per=per, redact=redact, **select)
            result = {"examples": n}
            unit = "model call" if per == "llm" else "agent run"
            line = f"{output}: {n} chat examples (one per {unit})"
    if as_json:
        emit_json({"format": fmt, "path": str(output), **result})
    else:
        click.echo(line)


@click.group("bundle")
def bundle_group() -> None:
    """Check and import trace bundles written by `tracevault export --format bundle`."""


_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@bundle_group.command("import")
@click.argument("file", type=_FILE)
@click.option("--public-key", default=None, metavar="HEX",
              help="Require a valid signature by this Ed25519 public key.")
@store_option
@json_option
def import_command(file: Path, public_key: str | None, store: str | None,
                   as_json: bool) -> None:
    """Verify a bundle completely, then store its traces and scores."""
    from ..exchange import import_bundle

    with open_vault(store, read_only=False) as vault:
        info = import_bundle(vault, file, public_key=public_key)
    if as_json:
        emit_json(info.to_dict())
        return
    c = info.counts
    signed = f"signed by {info.public_key}" if info.signed else "unsigned"
    click.echo(f"{file}: verified ({signed}); {info.stored_spans} of {c['spans']} spans "
               f"stored ({info.duplicate_spans} already present), {info.stored_logs} log "
               f"records, {info.stored_scores} of {c['scores']} scores")
    if info.mismatched:
        click.echo(f"  {len(info.mismatched)} trace(s) read back differently (redaction at "
                   f"ingest, or spans already stored): {', '.join(info.mismatched[:5])}")


@bundle_group.command("verify")
@click.argument("file", type=_FILE)
@click.option("--public-key", default=None, metavar="HEX",
              help="Require a valid signature by this Ed25519 public key.")
@json_option
def verify_command(file: Path, public_key: str | None, as_json: bool) -> None:
    """Check a bundle's digests, signature and records without importing it."""
    from ..exchange import open_bundle

    with open_bundle(file, public_key) as bundle:
        bundle.check()
        info = bundle.info()
    if as_json:
        emit_json({**info.to_dict(), "manifest": info.manifest})
        return
    c = info.counts
    head = (info.manifest.get("source") or {}).get("ledger_head") or {}
    click.echo(f"ok: {c['traces']} traces, {c['spans']} spans, {c['logs']} log records, "
               f"{c['scores']} scores; from store {head.get('store_id')} at commit "
               f"{head.get('seq')}; "
               + (f"signed by {info.public_key}" if info.signed else "unsigned"))
