"""The demo's world: a tiny repository, the agents' tools and a shared memory store."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

__all__ = ["Memory", "World"]

DOCS = {
    "config schema": "Config schema version 2 (current): fields name (str), retries "
                     "(int >= 0) and timeout_s (float > 0). Version 1 is retired: it had no "
                     "retries field and allowed timeout_s = 0.",
    "logging": "Use logging.getLogger(__name__); never print from library code.",
}

CONFIG_V1 = '''SCHEMA_VERSION = 1


def parse_config(raw: dict) -> dict:
    if raw.get("timeout_s", 0) < 0:
        raise ValueError("timeout_s must not be negative")
    return {"name": str(raw["name"]), "timeout_s": float(raw.get("timeout_s", 0))}
'''

CONFIG_V2 = '''SCHEMA_VERSION = 2


def parse_config(raw: dict) -> dict:
    if int(raw.get("retries", 0)) < 0:
        raise ValueError("retries must be >= 0")
    if float(raw.get("timeout_s", 1)) <= 0:
        raise ValueError("timeout_s must be > 0")
    return {"name": str(raw["name"]), "retries": int(raw.get("retries", 0)),
            "timeout_s": float(raw.get("timeout_s", 1))}
'''


class Memory:
    """A key/value memory shared by every agent, in a JSON file (works across processes)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if not path.exists():
            path.write_text("{}")

    def state(self) -> dict[str, Any]:
        """Everything in memory now."""
        return json.loads(self.path.read_text())

    def read(self, key: str) -> Any:
        """One value (None when absent)."""
        return self.state().get(key)

    def write(self, key: str, value: Any) -> None:
        """Set one value."""
        state = self.state()
        state[key] = value
        self.path.write_text(json.dumps(state, sort_keys=True))

    def delete(self, key: str) -> None:
        """Remove one key."""
        state = self.state()
        state.pop(key, None)
        self.path.write_text(json.dumps(state, sort_keys=True))


class World:
    """The repository the agents work on, and their tools."""

    def __init__(self, root: Path, fresh: bool = True) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        if fresh:
            (root / "config.py").write_text("def parse_config(raw: dict) -> dict:\n"
                                            "    return dict(raw)\n")
        self.memory = Memory(root / "memory.json")
        self._test_runs = 0

    def search_docs(self, query: str) -> str:
        """Search the project documentation."""
        for topic, text in DOCS.items():
            if any(word in query.lower() for word in topic.split()):
                return text
        return "No documentation found."

    def read_file(self, path: str) -> str:
        """Read a file of the repository."""
        return (self.root / path).read_text()

    def write_file(self, path: str, content: str) -> str:
        """Write a file of the repository."""
        (self.root / path).write_text(content)
        return f"wrote {len(content)} bytes to {path}"

    def run_tests(self) -> str:
        """Run the test suite (the first run in a session times out: a flaky CI runner)."""
        self._test_runs += 1
        if self._test_runs == 1:
            time.sleep(0.01)
            raise TimeoutError("test runner timed out after 600s")
        source = (self.root / "config.py").read_text()
        if "SCHEMA_VERSION = 2" in source:
            return "3 passed: test_parses_v2, test_rejects_negative_retries, test_timeout_positive"
        return ("2 failed, 1 passed: test_rejects_negative_retries (no retries field), "
                "test_timeout_positive (timeout_s = 0 accepted); schema v2 required")
