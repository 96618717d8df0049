"""Render the CLI reference (docs/cli.md) from the click commands themselves."""

from __future__ import annotations

import click

__all__ = ["render_cli"]


def _walk(cmd: click.Command, path: list[str]) -> list[tuple[list[str], click.Command]]:
    out = [(path, cmd)]
    if isinstance(cmd, click.Group):
        for name in sorted(cmd.commands):
            out += _walk(cmd.commands[name], [*path, name])
    return out


def render_cli() -> str:
    """Markdown: every command with its usage and options."""
    from . import main

    lines = []
    for path, cmd in _walk(main, ["tracevault"]):
        if isinstance(cmd, click.Group) and len(path) > 1:
            lines += [f"### `{' '.join(path)}`", "", (cmd.help or "").strip(), ""]
            continue
        if len(path) == 1:
            continue
        ctx = click.Context(cmd, info_name=" ".join(path),
                            help_option_names=main.context_settings["help_option_names"])
        lines += [f"### `{' '.join(path)}`", "", (cmd.help or "").strip(), "", "```",
                  cmd.get_usage(ctx), "```", ""]
        params = [p for p in cmd.get_params(ctx) if isinstance(p, click.Option)]
        if params:
            lines += ["| option | description |", "|---|---|"]
            for p in params:
                record = p.get_help_record(ctx)
                if record:
                    lines.append(f"| `{record[0]}` | {record[1].replace('|', '/')} |")
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"
