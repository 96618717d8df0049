"""``tracevault report``: the reviewer report of a period, as HTML or PDF."""

from __future__ import annotations

from pathlib import Path

import click

from ._common import open_vault, store_option

__all__ = ["report_command"]


@click.command("report")
@click.option("--filter", "filter_", default=None, metavar="EXPR",
              help="Which runs (filter language, docs/query.md); default: all.")
@click.option("--from", "start", default=None, help="Runs started from (ISO, ns or -30d).")
@click.option("--to", "end", default=None, help="Runs started until (ISO, ns or -1d).")
@click.option("--project", default=None, help="Only this project.")
@click.option("--format", "fmt", type=click.Choice(["html", "pdf"]), default="html",
              show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              required=True, help="File to write.")
@click.option("--max-runs", default=200, show_default=True, type=click.IntRange(1, 10_000),
              help="Most runs told in full (the scope still counts them all).")
@click.option("--signed-head", type=click.Path(exists=True, dir_okay=False), default=None,
              help="A signed ledger head (tracevault ledger sign) to check and report.")
@click.option("--public-key", default=None, help="Expected signer public key (hex).")
@store_option
def report_command(filter_: str | None, start: str | None, end: str | None,
                   project: str | None, fmt: str, output: Path, max_runs: int,
                   signed_head: str | None, public_key: str | None,
                   store: str | None) -> None:
    """Write a self-contained report for a compliance reviewer.

    Scope and period, systems and model versions, each run's timeline in plain language,
    risk-relevant events, integrity status, retention and redaction applied, content
    access, and the EU AI Act Art. 12 record-keeping duties it covers.
    """
    from ..compliance import build_report, load_head, render_report_html, render_report_pdf

    head = load_head(signed_head) if signed_head else None
    with open_vault(store) as vault:
        report = build_report(vault, filter=filter_, start=start, end=end, project=project,
                              max_runs=max_runs, head=head, public_key=public_key)
    if fmt == "pdf":
        render_report_pdf(report, output)
    else:
        output.write_text(render_report_html(report), encoding="utf-8")
    click.echo(f"wrote {output}: {len(report.runs)} run(s) of {report.total_runs} in scope, "
               f"{report.risk_count} risk-relevant event(s), integrity "
               f"{'verified' if report.integrity['ok'] else 'NOT verified'}", err=True)
