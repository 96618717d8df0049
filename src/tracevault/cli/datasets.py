"""``tracevault dataset``: datasets curated from traces, labelling, experiments."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ._common import emit_json, json_option, open_vault, store_option
from ._render import print_table as _table
from ._render import timestamp

__all__ = ["dataset_group"]


def _short(value: Any, width: int = 70) -> str:
    from .._text import short

    return short(value, width)


@click.group("dataset")
def dataset_group() -> None:
    """Datasets curated from real traces (docs/evals.md#datasets)."""


def _selection(f: Any) -> Any:
    for option in reversed([
        click.option("--filter", "filter_", default=None, metavar="EXPR",
                     help="Which traces (filter language)."),
        click.option("--from", "start", default=None, help="Traces started from."),
        click.option("--to", "end", default=None, help="Traces started until."),
        click.option("--project", default=None, help="Only this project."),
        click.option("-n", "n", type=click.IntRange(1), default=None,
                     help="How many items (default: every match)."),
        click.option("--sampling", type=click.Choice(["recent", "random", "failures-first",
                                                      "stratified"]),
                     default="recent", show_default=True, help="How items are picked."),
        click.option("--by", default=None, metavar="FIELD",
                     help="Field to stratify by: status, agents, models, service, root_name."),
        click.option("--seed", type=int, default=0, show_default=True,
                     help="Random seed (random, stratified)."),
        click.option("--dedup", type=click.FloatRange(0, 1, min_open=True), default=0.9,
                     show_default=True, help="Drop items whose input is this similar "
                                             "(word-set Jaccard) to an earlier one."),
        click.option("--no-dedup", is_flag=True, help="Keep near-identical inputs."),
        click.option("--description", default=None, help="What the dataset is for."),
    ]):
        f = option(f)
    return f


def _make(store: str | None, name: str, extend: bool, **opts: Any) -> None:
    from ..evals._curate import create_dataset

    dedup = None if opts.pop("no_dedup") else opts.pop("dedup")
    opts.pop("dedup", None)
    with open_vault(store, read_only=False) as vault:
        info = create_dataset(vault, name, filter=opts.pop("filter_"), dedup=dedup,
                              extend=extend, **opts)
    click.echo(f"dataset {name} version {info['version']}: {info['items']} item(s) from "
               f"{info['source']['matched']} matching trace(s)")


@dataset_group.command("create")
@click.argument("name")
@_selection
@store_option
def create_command(name: str, store: str | None, **opts: Any) -> None:
    """Make dataset NAME (a new version) from the traces a filter matches."""
    _make(store, name, False, **opts)


@dataset_group.command("add")
@click.argument("name")
@_selection
@store_option
def add_command(name: str, store: str | None, **opts: Any) -> None:
    """A new version of NAME: its items plus those the filter adds."""
    _make(store, name, True, **opts)


@dataset_group.command("rm")
@click.argument("name")
@click.argument("item_ids", nargs=-1, required=True)
@store_option
def rm_command(name: str, item_ids: tuple[str, ...], store: str | None) -> None:
    """A new version of NAME without ITEM_IDS."""
    from ..evals._curate import remove_items

    with open_vault(store, read_only=False) as vault:
        info = remove_items(vault, name, list(item_ids))
    click.echo(f"dataset {name} version {info['version']}: {info['items']} item(s)")


@dataset_group.command("ls")
@store_option
@json_option
def ls_command(store: str | None, as_json: bool) -> None:
    """Every dataset and version."""
    with open_vault(store) as vault:
        rows = vault.store.datasets()
    if as_json:
        emit_json(rows)
        return
    _table(["dataset", "version", "items", "created (UTC)", "from", "description"],
           [[d["name"], d["version"], d["items"], timestamp(d["created_ns"]),
             d["source"].get("filter") or d["source"].get("imported") or "-",
             d["description"]] for d in rows])


@dataset_group.command("show")
@click.argument("name")
@click.option("--version", type=int, default=None, help="Default: the latest.")
@store_option
@json_option
def show_command(name: str, version: int | None, store: str | None, as_json: bool) -> None:
    """The items of a dataset version."""
    with open_vault(store) as vault:
        info, items = vault.store.dataset_items(name, version)
    if as_json:
        emit_json({"dataset": info, "items": items})
        return
    _table(["item", "source trace", "input", "expected output", "tools"],
           [[i["id"], i.get("trace_id"), _short(i.get("input")),
             _short(i.get("expected_output")), len(i.get("expected_trajectory") or [])]
            for i in items], f"{name} version {info['version']}: {len(items)} item(s)")


@dataset_group.command("export")
@click.argument("name")
@click.option("--version", type=int, default=None, help="Default: the latest.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              required=True, help="JSON-lines file to write.")
@store_option
def export_command(name: str, version: int | None, output: Path, store: str | None) -> None:
    """Write a dataset version as JSON lines (items with their labels)."""
    from ..evals._curate import export_dataset

    with open_vault(store) as vault:
        info = export_dataset(vault, name, output, version)
    click.echo(f"wrote {output}: {info['items']} item(s) of {name} version {info['version']}")


@dataset_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--name", required=True, help="Dataset to add the items to (a new version).")
@click.option("--description", default=None)
@store_option
def import_command(path: Path, name: str, description: str | None, store: str | None) -> None:
    """Store the items of a JSON-lines file as a new version of a dataset."""
    from ..evals._curate import import_dataset

    with open_vault(store, read_only=False) as vault:
        info = import_dataset(vault, path, name, description)
    click.echo(f"dataset {name} version {info['version']}: {info['items']} item(s)")


@dataset_group.command("label")
@click.argument("name")
@click.option("--item", "item_id", default=None, help="Label this item (no prompt).")
@click.option("--label", default=None, help="The label (good, bad, ...).")
@click.option("--value", type=float, default=None, help="A numeric label (0..1).")
@click.option("--comment", default=None, help="Why.")
@click.option("--score-name", default="label", show_default=True,
              help="Name of the human score.")
@click.option("--author", default=None, help="Who labels (default: the login name).")
@store_option
def label_command(name: str, item_id: str | None, label: str | None, value: float | None,
                  comment: str | None, score_name: str, author: str | None,
                  store: str | None) -> None:
    """Label items: one with --item, else every unlabelled item, prompting."""
    from ..evals._curate import label_item, labels_of

    with open_vault(store, read_only=False) as vault:
        if item_id is not None:
            if label is None and value is None:
                raise click.UsageError("give --label or --value with --item")
            label_item(vault, name, item_id, label=label, value=value, comment=comment,
                       author=author, score_name=score_name)
            click.echo(f"labelled {item_id}")
            return
        _, items = vault.store.dataset_items(name)
        done = labels_of(vault, name, items)
        todo = [i for i in items if i.get("trace_id") and i["trace_id"] not in done]
        click.echo(f"{len(todo)} unlabelled item(s); answer a label, a number in 0..1, "
                   "s to skip or q to stop")
        for item in todo:
            click.echo(f"\n[{item['id']}] input: {_short(item.get('input'), 400)}\n"
                       f"output: {_short(item.get('expected_output'), 400)}\n"
                       f"tools: {', '.join(t['name'] for t in item['expected_trajectory'])}")
            answer = click.prompt("label", default="s").strip()
            if answer == "q":
                break
            if answer == "s":
                continue
            note = click.prompt("comment", default="", show_default=False) or None
            try:
                number = float(answer)
            except ValueError:
                number = None
            label_item(vault, name, item["id"], label=None if number is not None else answer,
                       value=number, comment=note, author=author, score_name=score_name)


@dataset_group.command("run")
@click.argument("name")
@click.option("--agent", "agent_spec", required=True, metavar="MODULE:FUNCTION",
              help="The agent function: module:function or path/file.py:function.")
@click.option("--evaluator", "evaluators", multiple=True, metavar="NAME[:JSON]",
              help="Score each run; \"$expected_output\" etc. in the JSON come from the item.")
@click.option("--version", type=int, default=None, help="Default: the latest.")
@click.option("--run-id", default=None, help="Experiment id (default: generated).")
@click.option("--agent-name", default="agent", show_default=True)
@store_option
@json_option
def run_command(name: str, agent_spec: str, evaluators: tuple[str, ...], version: int | None,
                run_id: str | None, agent_name: str, store: str | None,
                as_json: bool) -> None:
    """Run an agent function over a dataset: new traces, scored (an experiment)."""
    from ..evals._experiment import load_function, run_experiment
    from ..evals._runner import parse_evaluator_spec

    specs = [parse_evaluator_spec(e) for e in evaluators]
    agent = load_function(agent_spec)
    with open_vault(store, read_only=False) as vault:
        result = run_experiment(vault, name, agent, version=version, evaluators=specs,
                                run_id=run_id, agent_name=agent_name,
                                progress=not as_json)
    if as_json:
        emit_json({"run_id": result.run_id, "dataset": name, "version": result.version,
                   "traces": [{"item": i, "trace_id": t} for i, t in result.traces],
                   "errors": result.errors, "summary": result.summary()})
        return
    click.echo(f"experiment {result.run_id}: {len(result.traces)} run(s) of {name} version "
               f"{result.version}, {len(result.errors)} failed")
    _table(["score", "n", "mean", "pass rate"],
           [[s["name"], s["n"], "-" if s["mean"] is None else f"{s['mean']:.3f}",
             "-" if s["pass_rate"] is None else f"{s['pass_rate']:.0%}"]
            for s in result.summary()])
