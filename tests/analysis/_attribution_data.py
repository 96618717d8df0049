"""Who&When records and model answers for the attribution tests."""

from __future__ import annotations

import json

AGENTS = ("Planner_Expert", "Computer_terminal", "Coder_Expert")


def record(n: int = 10, **labels: object) -> dict:
    """A Who&When record (CaptainAgent shape) of ``n`` turns."""
    history = [{"name": AGENTS[i % 3], "role": "user" if i % 3 == 1 else "assistant",
                "content": f"turn {i} of {AGENTS[i % 3]}"} for i in range(n)]
    return {"is_correct": False, "question": "What is 6 times 7?", "question_ID": "q-7",
            "level": "1", "ground_truth": "42", "history": history,
            "mistake_agent": "Coder_Expert", "mistake_step": "5",
            "mistake_reason": "multiplied wrongly", **labels}


def answer(agent: object, step: object, reason: str = "because") -> str:
    """A model answer in the strict JSON form."""
    return json.dumps({"agent": agent, "step": step, "reason": reason})
