"""A scripted multi-agent demo that records rich traces with no model access.

A planner, a researcher and a coder (the coder in another process) fix a function
together: messages between agents, tools (one times out and is retried), shared memory
and a budget. Run it with ``tracevault demo``; read ``_team.py`` and ``_agents.py`` as an
example of instrumenting an agent system. ``run_leak`` records the policy scenario where a
secret crosses two agents (docs/policies.md).
"""

from ._leak import run_leak
from ._run import DemoRun, rerun_team, run_demo
from ._scripts import script

__all__ = ["DemoRun", "rerun_team", "run_demo", "run_leak", "script"]
