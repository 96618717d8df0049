"""``tracevault replay`` and ``tracevault diff``."""

from __future__ import annotations

import sys

import click

from ..replay import COMPARISONS, MATCHERS, render_diff
from ._common import emit_json, json_option, open_vault, store_option
from ._render import short

__all__ = ["diff_command", "replay_command"]


@click.command("replay")
@click.argument("trace_id")
@click.option("--model", "model", required=True, metavar="URL_OR_NAME",
              help="OpenAI-compatible base URL (http://127.0.0.1:8000/v1) or a model name "
                   "at OPENAI_BASE_URL.")
@click.option("--model-name", default=None,
              help="The model to ask at that URL (default: the first it lists).")
@click.option("--mode", type=click.Choice(["step", "trajectory"]), default="step",
              show_default=True)
@click.option("--agent", default=None,
              help="Trajectory: the agent whose loop is re-run (default: the first to call "
                   "a model).")
@click.option("--compare", type=click.Choice(sorted(COMPARISONS)), default="normalized",
              show_default=True, help="How decisions are judged the same.")
@click.option("--match", type=click.Choice(sorted(MATCHERS)), default="normalized",
              show_default=True, help="Trajectory: how tool calls find recorded ones.")
@click.option("--max-steps", default=50, show_default=True, type=click.IntRange(1))
@click.option("--no-record", is_flag=True, help="Do not store the replay as a trace.")
@click.option("--check", is_flag=True,
              help="Exit 1 when a decision differs or the trajectory does not complete.")
@click.option("--project", default=None, help="Project of the trace.")
@store_option
@json_option
def replay_command(trace_id: str, model: str, model_name: str | None, mode: str,
                   agent: str | None, compare: str, match: str, max_steps: int,
                   no_record: bool, check: bool, project: str | None, store: str | None,
                   as_json: bool) -> None:
    """Replay a recorded trace against another model.

    step: every recorded model call's exact context is sent to the model; prints which
    decisions differ and the first. trajectory: the agent's loop is re-run, its tool calls
    answered from the recording; it stops at a call that was never recorded.
    """
    with open_vault(store, read_only=no_record) as vault:
        report = vault.replay(trace_id, model, mode=mode, model_name=model_name,
                              compare=compare, match=match, agent=agent,
                              record=not no_record, project=project, max_steps=max_steps)
    if as_json:
        emit_json(report.to_dict())
    else:
        _print(report)
    if check and (report.first_divergence is not None
                  or getattr(report, "status", "completed") != "completed"):
        sys.exit(1)


def _print(report: object) -> None:
    data = report.to_dict()  # type: ignore[attr-defined]
    head = f"{data['mode']} replay of {data['trace_id']} with {data['model']}"
    if data["mode"] == "trajectory":
        head += f" (agent {data['agent']}): {data['status']}"
    click.echo(head)
    for s in data["steps"]:
        mark = "=" if s["same"] else "≠"
        original = _decision(s["original"])
        click.echo(f"  {mark} step {s['index']:<3} {s['agent'] or '?':<12} {original}")
        if not s["same"]:
            click.echo(f"      {'replayed:':>16} {s['error'] or _decision(s['replayed'])}")
    for t in data.get("tools", []):
        click.echo(f"  tool {t['name']}({short(t['arguments'], 60)}): {t['source']}"
                   + (f" ×{t['attempts']}" if t["attempts"] > 1 else ""))
    first = data["first_divergence"]
    click.echo("no decision differs" if first is None else f"first divergence: step {first}")
    if data.get("divergence"):
        click.echo(f"stopped: {data['divergence']}")
    if data.get("answer") is not None:
        click.echo(f"answer: {short(data['answer'], 200)}")
    if data["replay_trace_id"]:
        click.echo(f"recorded as trace {data['replay_trace_id']}")


def _decision(d: dict[str, object]) -> str:
    calls = d["tool_calls"]
    if calls:
        return "; ".join(f"{c['name']}({short(c['arguments'], 60)})"  # type: ignore[index]
                         for c in calls)  # type: ignore[union-attr]
    return short(d["text"], 100) or "(empty)"


@click.command("diff")
@click.argument("a")
@click.argument("b")
@click.option("--compare", type=click.Choice(sorted(COMPARISONS)), default="normalized",
              show_default=True, help="How decisions are judged the same.")
@click.option("--project", default=None, help="Project of the traces.")
@click.option("--check", is_flag=True, help="Exit 1 when the traces differ in content.")
@store_option
@json_option
def diff_command(a: str, b: str, compare: str, project: str | None, check: bool,
                 store: str | None, as_json: bool) -> None:
    """Compare two traces: aligned model calls and tool calls, token and cost deltas."""
    with open_vault(store) as vault:
        diff = vault.diff(a, b, project=project, compare=compare)
    if as_json:
        emit_json(diff.to_dict())
    else:
        click.echo(render_diff(diff), nl=False)
    if check and not diff.equal_content:
        sys.exit(1)
