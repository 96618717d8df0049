"""Run the scripted multi-agent demo and record every run into a store."""

from __future__ import annotations

import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

from openai import OpenAI

from .. import sdk
from .._fakemodel import FakeModel
from ._scripts import script
from ._team import TASK, Team, make_dump
from ._world import World

__all__ = ["DemoRun", "rerun_team", "run_demo"]

VARIANTS = ("good", "bad_research", "good")


@dataclass
class DemoRun:
    """One recorded run."""

    run: str
    variant: str
    trace_id: str
    answer: str
    ok: bool
    memory_dump: Path
    """JSON lines: each agent's view of shared memory after each of its steps."""
    model_requests: list[dict]
    """Every request the scripted model received, in order."""


def run_demo(store: str, workdir: str | Path | None = None,
             variants: tuple[str, ...] = VARIANTS, project: str | None = None) -> list[DemoRun]:
    """Run the team once per variant, recording into ``store`` (no server, no network)."""
    root = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="tracevault-demo-"))
    sdk.configure(store=store, shared_store=True, service_name="demo-team", project=project)
    runs = []
    batch = uuid.uuid4().hex[:6]  # sessions of separate demo invocations never join
    try:
        for i, variant in enumerate(variants, 1):
            with FakeModel(script(variant)) as model:
                run = _run_team(store, root, f"run-{i}", model.base_url, model.model,
                                project, TASK, f"demo-{batch}-run-{i}")
                runs.append(DemoRun(run.run, variant, run.trace_id, run.answer, run.ok,
                                    run.memory_dump, list(model.requests)))
    finally:
        sdk.shutdown()
    return runs


def _run_team(store: str, root: Path, run: str, model_url: str, model: str,
              project: str | None, task: str, session: str) -> DemoRun:
    world = World(root / run)
    dump = root / run / "memory-steps.jsonl"
    client = OpenAI(base_url=model_url, api_key="demo")
    coder_config = {"store": store, "root": str(world.root), "project": project,
                    "model_url": model_url, "model": model, "session_id": session,
                    "dump": str(dump), "run": run}
    team = Team(world, client, model, session, coder_config, make_dump(dump, run), task)
    trace_id, answer, ok = team.run()
    sdk.flush()
    return DemoRun(run, "", trace_id, answer, ok, dump, [])


def rerun_team(store: str, workdir: str | Path, model_url: str, model: str, *,
               run: str = "run-1", project: str | None = None, task: str = TASK) -> DemoRun:
    """Run the team once against any OpenAI-compatible model (a cassette, another model).

    ``run`` names the run as in ``run_demo``; its session is ``demo-<random>-<run>``.
    """
    sdk.configure(store=store, shared_store=True, service_name="demo-team", project=project)
    try:
        return _run_team(store, Path(workdir), run, model_url, model, project, task,
                         f"demo-{uuid.uuid4().hex[:6]}-{run}")
    finally:
        sdk.shutdown()
