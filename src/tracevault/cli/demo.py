"""``tracevault demo``: record the scripted multi-agent demo into a store."""

from __future__ import annotations

import click

from ..config import default_store_path
from ._common import emit_json, json_option, store_option

__all__ = ["demo_command"]


@click.command("demo")
@click.option("--workdir", type=click.Path(file_okay=False), default=None,
              help="Keep the agents' repository and memory dumps here (default: a temp dir).")
@click.option("--project", default=None, help="Record into this project.")
@click.option("--scenario", type=click.Choice(["team", "leak"]), default="team",
              show_default=True, help="team: the coding team; leak: a secret crossing two "
                                      "agents (docs/policies.md).")
@store_option
@json_option
def demo_command(workdir: str | None, project: str | None, scenario: str, store: str | None,
                 as_json: bool) -> None:
    """Run a scripted planner/researcher/coder team (no network) and record its runs."""
    from ..demo import run_demo

    path = store or default_store_path()
    if scenario == "leak":
        from ..demo._leak import show_leak

        return show_leak(path, workdir, project, as_json)
    runs = run_demo(path, workdir, project=project)
    if as_json:
        emit_json([{"run": r.run, "variant": r.variant, "trace_id": r.trace_id, "ok": r.ok,
                    "answer": r.answer, "memory_dump": str(r.memory_dump)} for r in runs])
        return
    for r in runs:
        status = "succeeded" if r.ok else "FAILED"
        click.echo(f"{r.run} ({r.variant}) {status}: trace {r.trace_id}\n    {r.answer}")
    flag = "" if store is None else f" --store {path}"
    bad = next((r for r in runs if not r.ok), runs[0])
    click.echo(f"\nRecorded into {path}. Look at them with:\n"
               f"  tracevault traces ls{flag}\n"
               f"  tracevault traces show {bad.trace_id}{flag}\n"
               f"  tracevault serve{flag}   # then GET http://localhost:4318/api/traces")
