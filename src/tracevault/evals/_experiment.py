"""Experiments: run an agent function over a dataset, record each run, score it.

Each item's ``input`` goes to the function inside a recorded agent run, so the run is a
new trace in the same store (with the dataset, version, item and experiment ids as
attributes). The evaluators then score every new trace; an argument written
``"$expected_output"``, ``"$expected_trajectory"`` or ``"$input"`` is replaced by that
field of the item, so references come from the dataset.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._exceptions import ConfigError, InputError, NotFound
from ._score import Score, get_evaluator

__all__ = ["ExperimentResult", "load_function", "run_experiment"]

_FIELDS = {"$input": "input", "$expected_output": "expected_output",
           "$expected_trajectory": "expected_trajectory"}


def load_function(spec: str) -> Callable[..., Any]:
    """``package.module:function`` or ``path/to/file.py:function``."""
    target, sep, name = spec.rpartition(":")
    if not sep or not target or not name:
        raise InputError(f"agent {spec!r}: expected module:function or file.py:function")
    try:
        if target.endswith(".py"):
            path = Path(target).resolve()
            if not path.is_file():
                raise InputError(f"agent {spec!r}: no file {target}")
            mod_spec = importlib.util.spec_from_file_location(path.stem, path)
            module = importlib.util.module_from_spec(mod_spec)  # type: ignore[arg-type]
            sys.modules.setdefault(path.stem, module)
            mod_spec.loader.exec_module(module)  # type: ignore[union-attr]
        else:
            module = importlib.import_module(target)
    except InputError:
        raise
    except Exception as exc:  # the user's module failed to import: say so in one line
        raise ConfigError(f"agent {spec!r}: cannot load {target}: "
                          f"{type(exc).__name__}: {exc}") from None
    fn = getattr(module, name, None)
    if not callable(fn):
        raise InputError(f"agent {spec!r}: {target} has no function {name!r}")
    return fn  # type: ignore[no-any-return]


def _resolve(value: Any, item: dict[str, Any]) -> Any:
    if isinstance(value, str) and value in _FIELDS:
        return item.get(_FIELDS[value])
    if isinstance(value, dict):
        return {k: _resolve(v, item) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, item) for v in value]
    return value


@dataclass
class ExperimentResult:
    """What an experiment did."""

    run_id: str
    dataset: str
    version: int
    traces: list[tuple[str, str]] = field(default_factory=list)
    """``(item id, new trace id)`` in item order."""
    errors: dict[str, str] = field(default_factory=dict)
    """Item id → the error the agent raised."""
    scores: list[Score] = field(default_factory=list)

    def summary(self) -> list[dict[str, Any]]:
        """Per score name: count, mean value, pass rate."""
        out = []
        for name in sorted({s.name for s in self.scores}):
            group = [s for s in self.scores if s.name == name]
            values = [s.value for s in group if s.value is not None]
            passes = [s.passed for s in group if s.passed is not None]
            out.append({"name": name, "n": len(group),
                        "mean": sum(values) / len(values) if values else None,
                        "pass_rate": sum(passes) / len(passes) if passes else None})
        return out


def _exporter_for(vault: Any) -> dict[str, Any]:
    from ..sdk._exporter import StoreSpanExporter
    from ..store import RemoteStore

    if isinstance(vault.store, RemoteStore):
        return {"endpoint": vault.store.url, "api_key": vault.store.api_key}
    return {"exporter": StoreSpanExporter.for_store(vault.store)}


def run_experiment(vault: Any, dataset: str, agent: Callable[[Any], Any], *,
                   version: int | None = None,
                   evaluators: Sequence[tuple[str, dict[str, Any]]] = (),
                   run_id: str | None = None, agent_name: str = "agent",
                   progress: bool = False) -> ExperimentResult:
    """Run ``agent(input)`` on every item, record each run, score it; see the module."""
    from .. import sdk
    from ..sdk import Recorder

    info, items = vault.store.dataset_items(dataset, version)
    for name, args in evaluators:  # fail on bad specs before running anything
        get_evaluator(name, **_resolve(args, items[0] if items else {}))
    result = ExperimentResult(run_id or f"exp-{uuid.uuid4().hex[:12]}", dataset,
                              info["version"])
    sdk.configure(service_name=f"experiment {dataset}", batch=False, set_global=False,
                  **_exporter_for(vault))
    try:
        _run_items(items, agent, agent_name, result, progress, Recorder)
    finally:
        sdk.shutdown()
    for item_id, trace_id in result.traces:
        item = next(i for i in items if i["id"] == item_id)
        spans = _spans(vault, trace_id)
        for name, args in evaluators:
            scored = get_evaluator(name, **_resolve(args, item))(spans) or []
            for s in scored if isinstance(scored, list) else [scored]:
                s.trace_id, s.run_id = trace_id, result.run_id
                s.project = spans[0].project if spans else s.project
                s.metadata = {**s.metadata, "dataset": dataset, "version": info["version"],
                              "item_id": item_id}
                result.scores.append(s)
    vault.add_scores(result.scores)
    return result


def _spans(vault: Any, trace_id: str) -> list[Any]:
    deadline = time.monotonic() + 30  # through a server, the last spans may be in flight
    while True:
        try:
            return list(vault.trace(trace_id).spans)
        except NotFound:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _run_items(items: list[dict[str, Any]], agent: Callable[[Any], Any], agent_name: str,
               result: ExperimentResult, progress: bool, recorder_type: Any) -> None:
    from rich.progress import Progress

    with Progress(disable=not progress, transient=True) as bar:
        task = bar.add_task(f"running {len(items)} item(s)", total=len(items))
        for item in items:
            recorder = recorder_type(agent_name)
            trace_id = ""
            try:
                with recorder.run(f"invoke_agent {agent_name}", input=item["input"]) as span:
                    trace_id = format(span.get_span_context().trace_id, "032x")
                    span.set_attributes({
                        "tracevault.dataset.name": result.dataset,
                        "tracevault.dataset.version": result.version,
                        "tracevault.dataset.item_id": item["id"],
                        "tracevault.experiment.id": result.run_id,
                        "tracevault.dataset.source_trace_id": item.get("trace_id") or ""})
                    output = agent(item["input"])
                    span.set_attribute("tracevault.output", output if isinstance(output, str)
                                       else json.dumps(output, default=str))
            except Exception as exc:  # the agent failed on this item: recorded, go on
                result.errors[item["id"]] = f"{type(exc).__name__}: {exc}"
            result.traces.append((item["id"], trace_id))
            bar.advance(task)
