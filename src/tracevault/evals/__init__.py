"""Evals on traces: scores, evaluators, eval runs, datasets, experiments, converters."""

from . import _checks, _judge, _metrics  # noqa: F401  (registers the built-in evaluators)
from ._convert import to_inspect_log, to_openai_messages
from ._curate import (
    create_dataset,
    export_dataset,
    import_dataset,
    label_item,
    labels_of,
    remove_items,
)
from ._experiment import ExperimentResult, load_function, run_experiment
from ._runner import (
    EvalRun,
    EvaluatorSummary,
    RunComparison,
    ScoreDelta,
    TraceChange,
    compare_runs,
    parse_evaluator_spec,
    run_evals,
)
from ._score import SOURCES, Evaluator, Score, evaluator, get_evaluator, registered
from ._spans import tool_calls
from ._trajectory import match_trajectory, parse_reference

__all__ = [
    "EvalRun",
    "Evaluator",
    "EvaluatorSummary",
    "ExperimentResult",
    "RunComparison",
    "SOURCES",
    "Score",
    "ScoreDelta",
    "TraceChange",
    "compare_runs",
    "create_dataset",
    "evaluator",
    "export_dataset",
    "get_evaluator",
    "import_dataset",
    "label_item",
    "labels_of",
    "load_function",
    "match_trajectory",
    "parse_evaluator_spec",
    "parse_reference",
    "registered",
    "remove_items",
    "run_evals",
    "run_experiment",
    "to_inspect_log",
    "to_openai_messages",
    "tool_calls",
]
