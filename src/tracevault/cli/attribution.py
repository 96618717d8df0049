"""``tracevault attribution``: who failed a run, at which step, why; and its benchmark."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from ..analysis import DEFAULT_STRATEGY, Attribution
from ..config import default_store_path
from ._common import emit_json, json_option, open_vault, store_option
from ._render import short

__all__ = ["attribution_group"]


class _ExplainByDefault(click.Group):
    """A group whose first argument, when not a subcommand, goes to ``explain``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Insert ``explain`` before a trace id or an option."""
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = ["explain", *args]
        return super().parse_args(ctx, args)


def _model_options(f: Any) -> Any:
    for option in reversed([
        click.option("--strategy", "strategy", default=DEFAULT_STRATEGY, show_default=True,
                     metavar="S[+S...]",
                     help="Strategies joined with + (first answer wins; --vote to vote)."),
        click.option("--vote", is_flag=True,
                     help="Run every strategy; the agent and step named most often win."),
        click.option("--model", default=None, metavar="URL_OR_NAME",
                     help="For all_at_once, step_by_step, binary_search: an OpenAI-"
                          "compatible base URL or a model name at OPENAI_BASE_URL."),
        click.option("--model-name", default=None,
                     help="The model to ask at that URL (default: the first it lists)."),
        click.option("--api-key-env", default="OPENAI_API_KEY", show_default=True,
                     help="Environment variable holding the model's API key."),
    ]):
        f = option(f)
    return f


@click.group("attribution", cls=_ExplainByDefault)
def attribution_group() -> None:
    """Name the agent and step that failed a run, and why (docs/attribution.md).

    `tracevault attribution TRACE_ID` is `tracevault attribution explain TRACE_ID`.
    """


def _print(result: Attribution) -> None:
    if result.verdict == "no_failure":
        click.echo(result.reason)
        return
    if result.verdict != "attributed":
        click.echo(f"unattributed: {result.reason}")
        return
    click.echo(f"{result.agent} at step {result.step_index} ({result.step}): "
               f"{result.strategy}, confidence {result.confidence:g}")
    click.echo(f"  span      {result.span_id} in trace {result.trace_id}")
    click.echo(f"  reason    {short(result.reason, 600)}")
    click.echo(f"  evidence  {', '.join(result.evidence)}")
    reference = result.details.get("reference")
    if reference:
        click.echo(f"  reference {reference}")
    if result.details.get("score_id"):
        click.echo(f"stored as score {result.details['score_id']}")


@attribution_group.command("explain")
@click.argument("trace_id", metavar="TRACE_OR_GROUP_ID")
@_model_options
@click.option("--reference", default=None, metavar="TRACE_ID",
              help="A successful run of the same task for divergence (default: the nearest "
                   "successful trace with the same root name and input).")
@click.option("--single", is_flag=True, help="Only this trace, not its whole group.")
@click.option("--assume-failed", is_flag=True,
              help="Attribute even when the run is not recorded as failed.")
@click.option("--no-store", is_flag=True, help="Do not store the answer as a score.")
@click.option("--project", default=None, help="Project of the trace.")
@store_option
@json_option
def explain_command(trace_id: str, strategy: str, vote: bool, model: str | None,
                    model_name: str | None, api_key_env: str, reference: str | None,
                    single: bool, assume_failed: bool, no_store: bool, project: str | None,
                    store: str | None, as_json: bool) -> None:
    """Attribute the failure of a trace (with its group) to an agent and a step."""
    from ..analysis import attribute_trace

    path = store or default_store_path()
    if "://" not in path and path != ":memory:" and not os.path.exists(path):
        raise click.UsageError(f"no store at {path} (ingest something first, or pass --store)")
    with open_vault(store, read_only=no_store) as vault:
        result = attribute_trace(vault, trace_id, joined=not single, store=not no_store,
                                 project=project, reference=reference, strategy=strategy,
                                 combine="vote" if vote else "first", model=model,
                                 model_name=model_name, api_key_env=api_key_env,
                                 assume_failed=assume_failed)
    if as_json:
        emit_json(result.to_dict())
    else:
        _print(result)


@attribution_group.command("bench")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--strategy", "strategy", required=True, metavar="S[+S...]",
              help="Strategies joined with + (first answer wins; --vote to vote).")
@click.option("--vote", is_flag=True,
              help="Run every strategy; the agent and step named most often win.")
@click.option("--model", default=None, metavar="URL_OR_NAME",
              help="For the model-based strategies: a base URL or a model name.")
@click.option("--model-name", default=None, help="The model to ask at that URL.")
@click.option("--api-key-env", default="OPENAI_API_KEY", show_default=True,
              help="Environment variable holding the model's API key.")
@click.option("--limit", default=None, type=click.IntRange(1),
              help="Only the first N records (in file-number order).")
@click.option("--seed", default=0, show_default=True, type=int,
              help="Seed of the random baseline.")
@click.option("--no-ground-truth", is_flag=True,
              help="Do not show the model the correct final answer.")
@click.option("--store", "store", default=None, metavar="PATH",
              help="Import into this store and keep the answers there as scores "
                   "(default: a temporary store).")
@json_option
def bench_command(directory: Path, strategy: str, vote: bool, model: str | None,
                  model_name: str | None, api_key_env: str, limit: int | None, seed: int,
                  no_ground_truth: bool, store: str | None, as_json: bool) -> None:
    """Score a strategy on Who&When records by exact match, beside trivial baselines."""
    from ..analysis import run_bench

    result = run_bench(directory, strategy, store=store, limit=limit, seed=seed,
                       combine="vote" if vote else "first", model=model,
                       model_name=model_name, api_key_env=api_key_env,
                       ground_truth=not no_ground_truth)
    if as_json:
        emit_json(result.to_dict())
    else:
        click.echo(result.render(), nl=False)
