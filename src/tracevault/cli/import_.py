"""``tracevault import``: store trace files written by other tools."""

from __future__ import annotations

from pathlib import Path

import click

from ._common import emit_json, json_option, open_vault, store_option

__all__ = ["import_command"]


@click.command("import")
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--project", default=None, help="Store into this project.")
@store_option
@json_option
def import_command(files: tuple[Path, ...], project: str | None, store: str | None,
                   as_json: bool) -> None:
    """Import trace files of other tools, or tracevault bundles.

    OTLP JSON/protobuf, OpenTelemetry SDK span JSON, Langfuse exports, Inspect AI logs,
    SWE-agent trajectories, tau-bench runs, Who&When logs; a bundle is verified first
    (as ``tracevault bundle import``, without a required signer).
    """
    from ..exchange import import_bundle, is_bundle

    reports = []
    with open_vault(store, read_only=False) as vault:
        for path in files:
            if is_bundle(path):
                if project is not None:
                    raise click.UsageError("--project does not apply to bundles (they keep "
                                           "their projects)")
                info = import_bundle(vault, path).to_dict()
                report = {"format": "tracevault-bundle", "spans": info["stored_spans"],
                          "logs": info["stored_logs"], "scores": info["stored_scores"],
                          "rejected": 0, "message": None}
            else:
                report = dict(vault.import_file(path, project=project))
            report["file"] = str(path)
            reports.append(report)
            if not as_json:
                line = f"{path}: {report['spans']} spans ({report['format']})"
                if report.get("logs"):
                    line += f", {report['logs']} log records"
                if report.get("rejected"):
                    line += f", {report['rejected']} rejected: {report.get('message')}"
                click.echo(line)
    if as_json:
        emit_json(reports)
