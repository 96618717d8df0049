"""Run the scripted multi-agent demo and record every run into a store."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from openai import OpenAI

from .. import sdk
from .._fakemodel import FakeModel
from ._scripts import script
from ._team import Team, make_dump
from ._world import World

__all__ = ["DemoRun", "run_demo"]

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
    try:
        for i, variant in enumerate(variants, 1):
            run = f"run-{i}"
            world = World(root / run)
            dump = root / run / "memory-steps.jsonl"
            with FakeModel(script(variant)) as model:
                client = OpenAI(base_url=model.base_url, api_key="demo")
                coder_config = {"store": store, "root": str(world.root), "project": project,
                                "model_url": model.base_url, "model": model.model,
                                "session_id": f"demo-{run}", "dump": str(dump), "run": run}
                team = Team(world, client, model.model, f"demo-{run}", coder_config,
                            make_dump(dump, run))
                trace_id, answer, ok = team.run()
                sdk.flush()
                runs.append(DemoRun(run, variant, trace_id, answer, ok, dump,
                                    list(model.requests)))
    finally:
        sdk.shutdown()
    return runs
