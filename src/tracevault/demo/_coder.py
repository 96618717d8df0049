"""The coder agent's process: reads one message envelope on stdin, answers on stdout.

The envelope's ``traceparent`` makes everything recorded here part of the planner's
trace, although this is another process.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from openai import OpenAI

from .. import sdk
from ._agents import Agent, Tool
from ._team import CODER_PROMPT, make_dump
from ._world import World


def main() -> None:
    """Handle one task from the planner."""
    config = json.loads(sys.stdin.read())
    sdk.configure(store=config["store"], shared_store=True, service_name="demo-coder",
                  project=config.get("project"))
    world = World(Path(config["root"]), fresh=False)
    client = OpenAI(base_url=config["model_url"], api_key="demo")
    string = {"type": "string"}
    coder = Agent("coder", CODER_PROMPT, {
        "read_file": Tool(world.read_file, "Read a repository file.",
                          {"type": "object", "properties": {"path": string}}),
        "write_file": Tool(world.write_file, "Write a repository file.",
                           {"type": "object", "properties": {"path": string,
                                                             "content": string}}),
        "run_tests": Tool(world.run_tests, "Run the test suite.",
                          {"type": "object", "properties": {}}),
    }, client, config["model"], world.memory, config["session_id"],
        make_dump(Path(config["dump"]), config["run"]))
    envelope = config["envelope"]
    with coder.rec.receive_message(envelope) as task:
        with coder.rec.run(input=task) as span:
            notes = coder.recall("notes/schema")
            answer = coder.loop(f"{task}\n\nResearcher's notes: {notes}")
            coder.remember("status/coder", answer)
            span.set_attribute("tracevault.output", answer)
        reply = coder.rec.send_message("planner", answer, channel="team")
    sdk.shutdown()
    print(json.dumps(reply))


if __name__ == "__main__":
    main()
