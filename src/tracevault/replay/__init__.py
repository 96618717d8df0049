"""Deterministic replay of recorded traces against other models, and trace diffs.

- **Step replay** (``vault.replay(id, model)``): every recorded model call's exact input
  context, sent to another model; which decisions would have differed, and the first.
- **Trajectory replay** (``mode="trajectory"``): the agent's loop re-run from its
  recorded start with another model, tool calls answered from the recording.
- **Cassette** (``Cassette``): your own harness re-run with model responses and tool
  results served from a recording, for deterministic regression tests.
- **Diff** (``vault.diff(a, b)``): two traces aligned step by step.
"""

from ._cassette import Cassette, CassetteMiss
from ._compare import COMPARISONS, MATCHERS
from ._convert import Decision, openai_request
from ._diff import StepDiff, ToolDiff, TraceDiff, content_of, diff_spans, render_diff
from ._models import CallableModel, OpenAIModel, ReplayModel, resolve_model
from ._record import REPLAY_LINK, ReplayLog
from ._step import StepReplay, StepResult, replay_steps
from ._trajectory import RecordedToolError, ToolUse, TrajectoryReplay, replay_trajectory

__all__ = [
    "COMPARISONS",
    "CallableModel",
    "Cassette",
    "CassetteMiss",
    "Decision",
    "MATCHERS",
    "OpenAIModel",
    "REPLAY_LINK",
    "RecordedToolError",
    "ReplayLog",
    "ReplayModel",
    "StepDiff",
    "StepReplay",
    "StepResult",
    "ToolDiff",
    "ToolUse",
    "TraceDiff",
    "TrajectoryReplay",
    "content_of",
    "diff_spans",
    "openai_request",
    "render_diff",
    "replay_steps",
    "replay_trajectory",
    "resolve_model",
]
