"""``tracevault eval`` (run evaluators, list them, compare runs) and ``tracevault scores``."""

from __future__ import annotations

import inspect
import os
from typing import Any

import click

from ..config import default_store_path
from ._common import emit_json, json_option, open_vault, store_option
from ._render import print_table, short, timestamp

__all__ = ["eval_group", "scores_group"]


def _table(columns: list[str], rows: list[list[Any]], title: str | None = None) -> None:
    print_table(columns, rows, title, width=200)


def _num(value: float | None, percent: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value:.1%}" if percent else f"{value:.4g}"


def _delta(value: float | None, percent: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value:+.1%}" if percent else f"{value:+.4g}"


def _writable(store: str | None) -> Any:
    path = store or default_store_path()
    if "://" not in path and path != ":memory:" and not os.path.exists(path):
        raise click.UsageError(f"no store at {path} (ingest something first, or pass --store)")
    return open_vault(store, read_only=False)


@click.group("eval", invoke_without_command=True)
@click.option("--filter", "filter_", default=None, metavar="EXPR",
              help="Which traces (filter language, docs/query.md); default: all.")
@click.option("--evaluator", "-e", "evaluators", multiple=True, metavar="NAME[:JSON_ARGS]",
              help='An evaluator, e.g. -e tool_error_rate -e \'final_answer:{"expected": '
                   '"Done", "mode": "contains"}\'. Repeatable.')
@click.option("--run-id", default=None, help="Name of this eval run (default: generated).")
@click.option("--from", "start", default=None, help="Traces started from (ISO, ns or -7d).")
@click.option("--to", "end", default=None, help="Traces started until (ISO, ns or -1d).")
@click.option("--project", default=None, help="Only this project.")
@click.option("--limit", default=None, type=click.IntRange(1), help="At most this many traces.")
@store_option
@json_option
@click.pass_context
def eval_group(ctx: click.Context, filter_: str | None, evaluators: tuple[str, ...],
               run_id: str | None, start: str | None, end: str | None, project: str | None,
               limit: int | None, store: str | None, as_json: bool) -> None:
    """Score traces with evaluators and store the scores as one eval run (docs/evals.md)."""
    if ctx.invoked_subcommand is not None:
        return
    from ..evals import run_evals
    from ..evals._runner import resolve_evaluator

    if not evaluators:
        raise click.UsageError("give at least one --evaluator NAME[:JSON_ARGS] "
                               "(tracevault eval ls lists them)")
    made = [resolve_evaluator(e) for e in evaluators]  # bad names and arguments fail here
    with _writable(store) as vault:
        run = run_evals(vault, made, filter=filter_, start=start, end=end, project=project,
                        run_id=run_id, limit=limit, progress=not as_json)
    if as_json:
        data = run.to_dict()
        data.pop("scores")
        emit_json(data)
        return
    rows = [[s.name, s.n, _num(s.mean), _num(s.pass_rate, True), len(s.failures),
             short(" ".join(s.failures[:3]) + (" ..." if len(s.failures) > 3 else ""), 110)]
            for s in run.summary]
    _table(["score", "n", "mean", "pass rate", "failed", "failed traces"], rows,
           f"eval run {run.run_id}: {run.traces} trace(s), {run.stored} score(s) stored")
    if not run.traces:
        click.echo("no traces match")


def _describe(name: str) -> tuple[str, str]:
    from ..evals import _checks, _judge, _metrics

    fn = next((getattr(m, name) for m in (_checks, _metrics, _judge) if hasattr(m, name)), None)
    if fn is None or not callable(fn):
        return "(plugin)", ""
    params = list(inspect.signature(fn).parameters.values())[1:]
    args = ", ".join(p.name if p.default is p.empty else f"{p.name}={p.default!r}"
                     for p in params)
    return (inspect.getdoc(fn) or "").splitlines()[0], args


@eval_group.command("ls")
@json_option
def ls_command(as_json: bool) -> None:
    """List the evaluators (built-in and plugins) with their arguments."""
    from ..evals import registered

    rows = [[name, *_describe(name)] for name in registered()]
    if as_json:
        emit_json([{"name": n, "description": d, "arguments": a} for n, d, a in rows])
        return
    _table(["evaluator", "what", "arguments"], rows)


@eval_group.command("compare")
@click.argument("run_a")
@click.argument("run_b")
@click.option("--pair-by", default="auto", show_default=True,
              metavar="auto|trace|item|input|attr:NAME",
              help="Which traces are the same case: the same trace, the same dataset item, "
                   "the same task text, or the same root span attribute (auto: item when "
                   "the scores name dataset items, else trace).")
@click.option("--max-changes", default=50, show_default=True, type=click.IntRange(0),
              help="Most changed traces listed (the JSON output has them all).")
@store_option
@json_option
def compare_command(run_a: str, run_b: str, pair_by: str, max_changes: int,
                    store: str | None, as_json: bool) -> None:
    """Compare two eval runs: per score mean and pass-rate deltas, then changed traces."""
    from ..evals import compare_runs

    with open_vault(store) as vault:
        cmp = compare_runs(vault, run_a, run_b, pair_by=pair_by)
    if as_json:
        emit_json(cmp.to_dict())
        return
    _table(["score", "n a", "n b", "mean a", "mean b", "Δ mean", "pass a", "pass b", "Δ pass"],
           [[d.name, d.n_a, d.n_b, _num(d.mean_a), _num(d.mean_b), _delta(d.mean_delta),
             _num(d.pass_rate_a, True), _num(d.pass_rate_b, True),
             _delta(d.pass_rate_delta, True)] for d in cmp.scores],
           f"{run_a} → {run_b}")
    if cmp.changes:
        _table(["change", "score", "case", "a", "b", "trace a", "trace b"],
               [[c.change, c.name, short(c.key, 40), _num(c.value_a), _num(c.value_b),
                 c.trace_a, c.trace_b] for c in cmp.changes[:max_changes]],
               f"{len(cmp.changes)} change(s)")
    else:
        click.echo("no trace changed")


@click.group("scores")
def scores_group() -> None:
    """Read stored scores (eval runs, human labels, online checks)."""


@scores_group.command("ls")
@click.option("--trace", "trace_id", default=None, help="Only scores of this trace.")
@click.option("--name", default=None, help="Only scores with this name.")
@click.option("--run-id", default=None, help="Only scores of this eval run.")
@click.option("--project", default=None, help="Only this project.")
@click.option("--source", default=None, help="eval, human, online or attribution.")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 1_000_000))
@store_option
@json_option
def scores_ls_command(trace_id: str | None, name: str | None, run_id: str | None,
                      project: str | None, source: str | None, limit: int,
                      store: str | None, as_json: bool) -> None:
    """List scores, newest first."""
    with open_vault(store) as vault:
        scores = vault.scores(trace_id=trace_id.lower() if trace_id else None, name=name,
                              run_id=run_id, project=project, source=source, limit=limit)
    scores = sorted(scores, key=lambda s: s.created_ns, reverse=True)
    if as_json:
        emit_json([s.to_dict() for s in scores])
        return
    _table(["time (UTC)", "trace_id", "score", "value", "label", "passed", "run", "source",
            "explanation"],
           [[timestamp(s.created_ns), s.trace_id, s.name, _num(s.value), s.label, s.passed,
             s.run_id, s.source, short(s.explanation or "", 60)] for s in scores])
    if not scores:
        click.echo("no scores match")
