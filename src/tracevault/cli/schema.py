"""``tracevault schema``: the canonical schema as JSON Schema."""

from __future__ import annotations

from pathlib import Path

import click
import orjson

__all__ = ["schema_group"]


@click.group("schema")
def schema_group() -> None:
    """The canonical trace schema."""


@schema_group.command("export")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file instead of stdout.")
def export_command(output: Path | None) -> None:
    """Write the JSON Schema of schema v1 (Span, TraceSummary, Score)."""
    from ..schema import json_schema

    data = orjson.dumps(json_schema(), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
    if output is None:
        click.echo(data.decode())
    else:
        output.write_bytes(data + b"\n")
        click.echo(f"wrote {output}")
