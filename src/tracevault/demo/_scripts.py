"""What the scripted models answer: one script per run, keyed on each agent's prompt.

``good`` is a run where every agent decides well. In ``bad_research`` the researcher
reads the documentation (schema version 2) and still reports version 1: a bad decision
by one agent that makes the coder's tests fail two agents later.
"""

from __future__ import annotations

from typing import Any

from ._world import CONFIG_V1, CONFIG_V2

PLANNER = "You are the planner"
RESEARCHER = "You are the researcher"
CODER = "You are the coder"


def _call(name: str, **arguments: Any) -> dict[str, Any]:
    return {"tool_calls": [{"name": name, "arguments": arguments}]}


def script(variant: str) -> dict[str, Any]:
    """The model script for a demo run (``good`` or ``bad_research``)."""
    research_answer = (
        "Use config schema version 2: name, retries (int >= 0), timeout_s (float > 0)."
        if variant == "good" else
        "Use config schema version 1: name and timeout_s (may be 0); no retries field.")
    rules = [
        # planner: ask the researcher, then the coder, then report
        {"when": {"system_contains": PLANNER, "turn": 0},
         "respond": _call("delegate", agent="researcher",
                          message="Which config schema must parse_config accept?")},
        {"when": {"system_contains": PLANNER, "turn": 1},
         "respond": _call("delegate", agent="coder",
                          message="Add input validation to parse_config in config.py "
                                  "following the researcher's notes; make the tests pass.")},
        {"when": {"system_contains": PLANNER, "contains": "Tests pass"},
         "respond": "Done: parse_config validates its input and the tests pass."},
        {"when": {"system_contains": PLANNER},
         "respond": "Failed: the tests still fail after the coder's change."},
        # researcher: search, then answer
        {"when": {"system_contains": RESEARCHER, "turn": 0},
         "respond": _call("search_docs", query="config schema version")},
        {"when": {"system_contains": RESEARCHER}, "respond": research_answer},
        # coder: read, write (the version the notes name), test, report
        {"when": {"system_contains": CODER, "turn": 0},
         "respond": _call("read_file", path="config.py")},
        {"when": {"system_contains": CODER, "turn": 1, "any_contains": "schema version 2"},
         "respond": _call("write_file", path="config.py", content=CONFIG_V2)},
        {"when": {"system_contains": CODER, "turn": 1},
         "respond": _call("write_file", path="config.py", content=CONFIG_V1)},
        {"when": {"system_contains": CODER, "turn": 2},
         "respond": _call("run_tests")},
        {"when": {"system_contains": CODER, "contains": "3 passed"},
         "respond": "Tests pass: 3 passed."},
        {"when": {"system_contains": CODER}, "respond": "Tests fail: 2 failed, 1 passed."},
    ]
    return {"model": f"demo-model-{variant}", "rules": rules, "default": "I am not sure."}
