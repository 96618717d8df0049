"""The demo team: a planner and a researcher in this process, a coder in another.

The planner delegates by message; the researcher answers from the documentation; the
coder, a separate process reached over a pipe, continues the planner's trace from the
``traceparent`` in the message it receives. Read this file as an example of recording a
multi-agent system with tracevault's SDK.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from opentelemetry import trace

from ._agents import Agent, Tool
from ._world import World

__all__ = ["CODER_PROMPT", "PLANNER_PROMPT", "RESEARCHER_PROMPT", "TASK", "Team", "make_dump"]

TASK = "Add input validation to parse_config in config.py and make the tests pass."
PLANNER_PROMPT = ("You are the planner. Split the task, delegate to the researcher and the "
                  "coder with the delegate tool, then report the outcome.")
RESEARCHER_PROMPT = ("You are the researcher. Answer questions from the project "
                     "documentation; search it with search_docs.")
CODER_PROMPT = ("You are the coder. Edit the repository with read_file and write_file and "
                "check your work with run_tests.")

_STRING = {"type": "string"}


def make_dump(path: Path, run: str) -> Any:
    """A callback appending each agent's memory state after each step to a JSON-lines file."""
    def dump(record: dict[str, Any]) -> None:
        ctx = trace.get_current_span().get_span_context()
        record = {"run": run, "trace_id": format(ctx.trace_id, "032x"), **record}
        with path.open("a") as f:
            f.write(json.dumps(record) + "\n")
    return dump


class Team:
    """The agents of one run and the wiring between them."""

    def __init__(self, world: World, client: Any, model: str, session_id: str,
                 coder_config: dict[str, Any], dump: Any, task: str = TASK) -> None:
        self.world = world
        self.task = task
        self.coder_config = coder_config
        self.planner = Agent("planner", PLANNER_PROMPT, {
            "delegate": Tool(self.delegate, "Ask another agent (researcher or coder).",
                             {"type": "object", "properties": {"agent": _STRING,
                                                               "message": _STRING},
                              "required": ["agent", "message"]}),
        }, client, model, world.memory, session_id, dump)
        self.researcher = Agent("researcher", RESEARCHER_PROMPT, {
            "search_docs": Tool(world.search_docs, "Search the project documentation.",
                                {"type": "object", "properties": {"query": _STRING},
                                 "required": ["query"]}),
        }, client, model, world.memory, session_id, dump)

    def delegate(self, agent: str, message: str) -> str:
        """The planner's tool: send a message, wait for the answer."""
        envelope = self.planner.rec.send_message(agent, message, channel="team")
        if agent == "researcher":
            reply = self.research(envelope)
        else:
            reply = self.code_elsewhere(envelope)
        with self.planner.rec.receive_message(reply) as content:
            return str(content)

    def research(self, envelope: dict[str, Any]) -> dict[str, Any]:
        """The researcher handles a question (in this process)."""
        r = self.researcher
        with r.rec.receive_message(envelope) as question:
            with r.rec.run(input=question) as span:
                r.recall("notes/schema")
                answer = r.loop(question)
                r.remember("notes/schema", answer)
                span.set_attribute("tracevault.output", answer)
            return r.rec.send_message("planner", answer, channel="team")

    def code_elsewhere(self, envelope: dict[str, Any]) -> dict[str, Any]:
        """The coder runs in its own process; the envelope carries the trace context."""
        payload = json.dumps({**self.coder_config, "envelope": envelope})
        proc = subprocess.run([sys.executable, "-m", "tracevault.demo._coder"],
                              input=payload, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"coder process failed: {proc.stderr.strip()[-500:]}")
        return json.loads(proc.stdout.strip().splitlines()[-1])

    def run(self) -> tuple[str, str, bool]:
        """The planner's run: returns (trace id, final answer, success)."""
        p = self.planner
        with p.rec.run(input=self.task) as root:
            p.remember("task/goal", self.task)
            answer = p.loop(self.task)
            p.remember("task/status", answer)
            root.set_attribute("tracevault.output", answer)
            ok = answer.startswith("Done")
            root.set_status(trace.Status(trace.StatusCode.OK if ok else trace.StatusCode.ERROR,
                                         None if ok else answer))
            trace_id = format(root.get_span_context().trace_id, "032x")
        return trace_id, answer, ok
