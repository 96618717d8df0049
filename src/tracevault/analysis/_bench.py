"""The Who&When benchmark: attribution accuracy by exact match, beside trivial baselines.

Each record of a directory is imported as a trace, the strategy attributes its failure,
and the answer's agent and step index are compared with the labels (``mistake_agent``,
``mistake_step``) by exact equality: ``Verification_Expert`` does not match
``Verification_Expert_2`` and step ``12`` does not match step ``1``. Baselines are
measured on the same records in the same run.
"""

from __future__ import annotations

import random
import re
import tempfile
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .._exceptions import InputError
from ..ingest.files import read_trace_bytes
from ._attribution import MODEL_STRATEGIES, attribute, attribution_score, parse_strategy
from ._attribution_llm import AttributionModel
from ._attribution_run import RunView

__all__ = ["BASELINES", "BenchCase", "BenchResult", "exact_match", "run_bench"]

BASELINES = ("random", "most_frequent_agent", "step_0", "step_1", "last_step")
"""Seeded random agent and step; the agent acting most often (at its first step); the
agent of a fixed step (the first, the second, the last)."""
_PREFIX = "tracevault.whowhen."


def exact_match(predicted: Any, label: Any) -> bool:
    """Whether a prediction equals its label exactly (as text; no substring, no trimming)."""
    if predicted is None or label is None or isinstance(predicted, bool) \
            or isinstance(label, bool):
        return False
    return str(predicted) == str(label)


@dataclass
class BenchCase:
    """One record: its labels, the strategy's answer and each baseline's guess."""

    file: str
    trace_id: str
    label_agent: str | None
    label_step: int | None
    agent: str | None
    step: int | None
    verdict: str
    strategy: str
    baselines: dict[str, tuple[str | None, int | None]] = field(default_factory=dict)

    def hits(self, name: str | None = None) -> tuple[bool, bool]:
        """``(agent right, step right)`` for the strategy, or a baseline by name."""
        agent, step = (self.agent, self.step) if name is None else self.baselines[name]
        return exact_match(agent, self.label_agent), exact_match(step, self.label_step)


@dataclass
class BenchResult:
    """Accuracy of one strategy on a directory of Who&When records."""

    directory: str
    strategy: str
    combine: str
    model: str | None
    seed: int
    cases: list[BenchCase]
    skipped: list[str] = field(default_factory=list)
    """Files without labels."""

    def accuracy(self, name: str | None = None) -> dict[str, float | int | None]:
        """Accuracy over every record, answers given, and accuracy over the answered."""
        n = len(self.cases) or 1
        hits = [c.hits(name) for c in self.cases]
        answered = [h for c, h in zip(self.cases, hits, strict=True)
                    if name is not None or c.verdict == "attributed"]
        k = len(answered)
        return {"agent": round(sum(a for a, _ in hits) / n, 4),
                "step": round(sum(s for _, s in hits) / n, 4),
                "both": round(sum(a and s for a, s in hits) / n, 4),
                "answered": k,
                "agent_if_answered": round(sum(a for a, _ in answered) / k, 4) if k else None,
                "step_if_answered": round(sum(s for _, s in answered) / k, 4) if k else None}

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form: settings, accuracies, baselines and every case."""
        return {"directory": self.directory, "strategy": self.strategy,
                "combine": self.combine, "model": self.model, "seed": self.seed,
                "records": len(self.cases), "skipped": self.skipped,
                "accuracy": self.accuracy(),
                "baselines": {b: self.accuracy(b) for b in BASELINES},
                "cases": [asdict(c) for c in self.cases]}

    def render(self) -> str:
        """A table for the terminal."""
        rows = [(self.strategy, self.accuracy())] + [(f"baseline {b}", self.accuracy(b))
                                                     for b in BASELINES]
        width = max(len(r[0]) for r in rows)
        lines = [f"Who&When attribution on {len(self.cases)} record(s) of {self.directory}"
                 f" (exact match; seed {self.seed})",
                 f"{'':{width}}  agent    step     both     answered  "
                 "(agent, step when answered)"]
        for name, acc in rows:
            when = "(-)" if acc["agent_if_answered"] is None else \
                f"({acc['agent_if_answered']:.1%}, {acc['step_if_answered']:.1%})"
            lines.append(f"{name:{width}}  {acc['agent']:7.1%}  {acc['step']:7.1%}  "
                         f"{acc['both']:7.1%}  {acc['answered']:>3}/{len(self.cases):<5} {when}")
        if self.skipped:
            lines.append(f"skipped (no labels): {', '.join(self.skipped)}")
        return "\n".join(lines) + "\n"


def _files(directory: Path, limit: int | None) -> list[Path]:
    if not directory.is_dir():
        raise InputError(f"{directory} is not a directory")
    files = sorted(directory.glob("*.json"),
                   key=lambda p: (0, int(p.stem), "") if p.stem.isdigit() else (1, 0, p.stem))
    if not files:
        raise InputError(f"{directory} holds no .json Who&When records")
    return files[:limit] if limit is not None else files


def _baselines(run: RunView, rng: random.Random) -> dict[str, tuple[str | None, int | None]]:
    steps = run.steps
    if not steps:
        return {b: (None, None) for b in BASELINES}
    agents = sorted({s.agent for s in steps if s.agent})
    guess = steps[rng.randrange(len(steps))]
    counts = Counter(s.agent for s in steps)
    busiest = max(counts, key=lambda a: (counts[a], -[s.agent for s in steps].index(a)))
    first_of = next(s for s in steps if s.agent == busiest)

    def at(i: int) -> tuple[str | None, int | None]:
        step = steps[min(i, len(steps) - 1)]
        return step.agent, step.step_index

    return {"random": (rng.choice(agents) if agents else None, guess.step_index),
            "most_frequent_agent": (busiest, first_of.step_index),
            "step_0": at(0), "step_1": at(1), "last_step": at(len(steps) - 1)}


def run_bench(directory: str | Path, strategy: str, *, store: str | None = None,
              limit: int | None = None, seed: int = 0, combine: str = "first",
              model: str | None = None, model_name: str | None = None,
              api_key_env: str = "OPENAI_API_KEY", ground_truth: bool = True,
              max_step_chars: int = 4000) -> BenchResult:
    """Import the Who&When records of ``directory`` and score ``strategy`` on them.

    Records go to ``store`` (answers then stored there as scores) or a temporary store.
    ``ground_truth`` shows the model the correct final answer, as in the published
    "with ground truth" setting.
    """
    from ..query import open as tv_open

    names = parse_strategy(strategy)
    files = _files(Path(directory), limit)
    ids: dict[Path, str] = {}
    for path in files:
        contents = read_trace_bytes(path.read_bytes(), str(path))
        if contents.format != "who-and-when":
            raise InputError(f"{path.name} is not a Who&When record "
                             f"(read as {contents.format})")
        ids[path] = contents.spans[0].trace_id
    chat = None
    if any(n in MODEL_STRATEGIES for n in names):
        if model is None:
            raise InputError(f"strategy {'+'.join(names)} needs a model (--model URL)")
        chat = AttributionModel(model, model_name=model_name, api_key_env=api_key_env)
    with tempfile.TemporaryDirectory(prefix="tracevault-bench-") as tmp:
        vault = tv_open(store or str(Path(tmp) / "bench.duckdb"))
        try:
            return _score_all(vault, files, ids, names, combine, chat, seed, store is not None,
                              {"ground_truth": ground_truth, "max_step_chars": max_step_chars},
                              str(directory))
        finally:
            vault.close()


def _score_all(vault: Any, files: list[Path], ids: dict[Path, str], names: list[str],
               combine: str, chat: AttributionModel | None, seed: int, keep: bool,
               options: dict[str, Any], directory: str) -> BenchResult:
    rng = random.Random(seed)
    result = BenchResult(directory, "+".join(names), combine, chat.name if chat else None,
                         seed, [])
    scores = []
    run_id = "bench-" + re.sub(r"[^a-z0-9_+]", "", "+".join(names))
    for path in files:
        vault.import_file(path)
        trace = vault.trace(ids[path])
        root = next(s for s in trace.spans if s.parent_span_id is None)
        label_agent = root.attributes.get(_PREFIX + "mistake_agent")
        label_step = root.attributes.get(_PREFIX + "mistake_step")
        if label_agent is None and label_step is None:
            result.skipped.append(path.name)
            continue
        answer = attribute(trace.spans, strategy=names, combine=combine, model=chat,
                           assume_failed=True, vault=vault, project=trace.summary.project,
                           options=options)
        baselines = _baselines(RunView(trace.spans), rng)
        result.cases.append(BenchCase(
            path.name, trace.trace_id, label_agent,
            int(label_step) if isinstance(label_step, (int, float)) else None,
            answer.agent, answer.step_index, answer.verdict, answer.strategy, baselines))
        if keep and answer.verdict == "attributed" and answer.agent:
            scores.append(attribution_score(answer, trace.summary.project, run_id))
    if scores:
        vault.add_scores(scores)
    return result
