"""Answers about runs: trace groups, incident timelines and memory state at any step.

These work on spans from any store (local file or server) through ``tracevault.open``:
``vault.group(id)``, ``vault.incident(id)`` and ``vault.memory(id, at=...)``.
``attribute_trace(vault, id)`` names the agent and step that failed a run.
"""

from ._attribution import (
    DEFAULT_STRATEGY,
    MODEL_STRATEGIES,
    attribute,
    attribute_trace,
    attribution_score,
    parse_strategy,
)
from ._attribution_llm import AttributionModel, MalformedAnswer, parse_answer
from ._attribution_run import Attribution, RunStep, RunView, register_strategy, strategies
from ._bench import BASELINES, BenchCase, BenchResult, exact_match, run_bench
from ._groups import TraceGroup, group_trace_ids
from ._incident import DEFAULT_FLAGS, Entry, Incident, build_incident, span_agents
from ._memory import MemoryState, memory_state, resolve_point
from ._policy import (
    BudgetRule,
    FlowRule,
    Match,
    PermissionRule,
    Policy,
    PolicyError,
    Rule,
    SequenceRule,
    load_policy,
    parse_policy,
)
from ._policy_check import check_policies, evaluate_policies, policy_scores
from ._policy_incident import mark_policy
from ._policy_view import PathStep, Violation
from ._report import FORMATS, render_incident

__all__ = [
    "Attribution",
    "AttributionModel",
    "BASELINES",
    "BenchCase",
    "BenchResult",
    "BudgetRule",
    "DEFAULT_FLAGS",
    "DEFAULT_STRATEGY",
    "Entry",
    "FORMATS",
    "FlowRule",
    "Incident",
    "MODEL_STRATEGIES",
    "MalformedAnswer",
    "Match",
    "MemoryState",
    "PathStep",
    "PermissionRule",
    "Policy",
    "PolicyError",
    "Rule",
    "RunStep",
    "RunView",
    "SequenceRule",
    "TraceGroup",
    "Violation",
    "attribute",
    "attribute_trace",
    "attribution_score",
    "build_incident",
    "check_policies",
    "evaluate_policies",
    "exact_match",
    "group_trace_ids",
    "load_policy",
    "mark_policy",
    "memory_state",
    "parse_answer",
    "parse_policy",
    "parse_strategy",
    "policy_scores",
    "register_strategy",
    "render_incident",
    "resolve_point",
    "run_bench",
    "span_agents",
    "strategies",
]
