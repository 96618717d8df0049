"""Eval runs on a copy of the demo store: scores filled in, stored, summarised, compared."""

from __future__ import annotations

import pytest

import tracevault
from tracevault._exceptions import InputError, QueryError
from tracevault.evals import Score, compare_runs, get_evaluator, run_evals
from tracevault.testing import FakeModel

from ._demo import writable_copy

pytestmark = pytest.mark.slow

DONE = 'final_answer:{"expected": "Done", "mode": "contains"}'


@pytest.fixture
def vault(demo_store, tmp_path):
    with tracevault.open(str(writable_copy(demo_store, tmp_path))) as v:
        yield v


@pytest.fixture(scope="module")
def ids(demo_store):
    return {r.variant if r.run != "run-3" else "good-again": r.trace_id for r in demo_store[1]}


def test_scores_every_trace_and_stores_them(vault, ids) -> None:
    run = run_evals(vault, ["tool_error_rate", DONE, get_evaluator("tool_loops", threshold=3)],
                    run_id="r1")
    assert (run.run_id, run.traces, run.stored, len(run.scores)) == ("r1", 3, 9, 9)
    stored = vault.scores(run_id="r1")
    assert {s.score_id for s in stored} == {s.score_id for s in run.scores}
    for s in stored:
        assert s.trace_id in ids.values() and s.project == "default"
        assert s.run_id == "r1" and s.source == "eval"
    answer = [s for s in stored if s.name == "final_answer"]
    assert answer[0].evaluator == {"name": "final_answer",
                                   "args": {"expected": "Done", "mode": "contains"}}
    summary = {s.name: s for s in run.summary}
    assert summary["final_answer"].n == 3
    assert summary["final_answer"].mean == pytest.approx(2 / 3)
    assert summary["final_answer"].pass_rate == pytest.approx(2 / 3)
    assert summary["final_answer"].failures == [ids["bad_research"]]
    assert summary["tool_error_rate"].mean == pytest.approx(1 / 7)
    assert summary["tool_error_rate"].pass_rate is None
    assert summary["tool_loops"].pass_rate == 1.0
    # the filter language reads the stored scores
    low = vault.traces(filter="score.final_answer < 0.5")
    assert [t.trace_id for t in low] == [ids["bad_research"]]


def test_python_only_arguments_are_stored_by_name(vault) -> None:
    def same_path(a, b):
        return a.get("path") == b.get("path")

    ev = get_evaluator("trajectory_match", reference=[{"name": "write_file",
                                                       "arguments": {"path": "config.py"}}],
                       tools=["write_file"], tool_args_overrides={"write_file": same_path})
    run = run_evals(vault, [ev], run_id="callable")
    assert run.summary[0].pass_rate == 1.0
    stored = vault.scores(run_id="callable")[0].evaluator
    assert stored["args"]["tool_args_overrides"]["write_file"].startswith("<function")


def test_filter_limit_and_progress(vault, ids, capsys) -> None:
    run = run_evals(vault, ["cost"], filter="trace.status = error", progress=True)
    assert run.traces == 1 and run.scores[0].trace_id == ids["bad_research"]
    assert run.run_id.startswith("eval-")
    assert "eval eval-" in capsys.readouterr().err
    assert run_evals(vault, ["cost"], limit=2).traces == 2
    assert run_evals(vault, ["cost"], filter="agent = nobody").stored == 0


def test_compare_two_runs_of_the_same_traces(vault, ids) -> None:
    run_evals(vault, [DONE, "tool_error_rate"], run_id="before")
    run_evals(vault, ['final_answer:{"expected": "^(Done|Failed)", "mode": "regex"}',
                      "step_limit"], run_id="after")
    cmp = compare_runs(vault, "before", "after")
    deltas = {d.name: d for d in cmp.scores}
    answer = deltas["final_answer"]
    assert (answer.n_a, answer.n_b) == (3, 3)
    assert answer.mean_delta == pytest.approx(1 / 3)
    assert answer.pass_rate_delta == pytest.approx(1 / 3)
    assert deltas["tool_error_rate"].n_b == 0 and deltas["tool_error_rate"].mean_delta is None
    changes = {(c.name, c.change): c for c in cmp.changes}
    fixed = changes[("final_answer", "fixed")]
    assert fixed.trace_a == fixed.trace_b == ids["bad_research"]
    assert (fixed.value_a, fixed.value_b) == (0.0, 1.0)
    assert sum(c.change == "only_a" for c in cmp.changes) == 3  # tool_error_rate
    assert sum(c.change == "only_b" for c in cmp.changes) == 3  # step_limit
    assert len(cmp.changes) == 7
    assert cmp.to_dict()["run_b"] == "after"


def test_compare_two_versions_paired_by_task(vault, ids) -> None:
    # two "versions" of the team run the same task: bad_research, then a good run
    run_evals(vault, [DONE], filter=f'trace_id = "{ids["bad_research"]}"', run_id="v1")
    run_evals(vault, [DONE], filter=f'trace_id = "{ids["good"]}"', run_id="v2")
    by_trace = compare_runs(vault, "v1", "v2", pair_by="trace")
    assert sorted(c.change for c in by_trace.changes) == ["only_a", "only_b"]
    cmp = compare_runs(vault, "v1", "v2", pair_by="input")
    assert len(cmp.changes) == 1
    change = cmp.changes[0]
    assert change.change == "fixed" and change.key.startswith("Add input validation")
    assert (change.trace_a, change.trace_b) == (ids["bad_research"], ids["good"])


def test_compare_experiments_paired_by_dataset_item(vault, ids) -> None:
    def score(run: str, trace: str, item: str, passed: bool) -> Score:
        return Score("answer", value=float(passed), passed=passed, trace_id=trace, run_id=run,
                     metadata={"item_id": item})

    assert vault.add_scores([score("e1", ids["bad_research"], "i1", False),
                             score("e1", ids["good"], "i2", True),
                             score("e2", ids["good-again"], "i1", True),
                             score("e2", ids["good"], "i2", True)]) == 4
    cmp = compare_runs(vault, "e1", "e2")  # auto: every score names its item
    assert cmp.pair_by == "item"
    assert [(c.key, c.change, c.trace_a, c.trace_b) for c in cmp.changes] == [
        ("i1", "fixed", ids["bad_research"], ids["good-again"])]
    assert len(compare_runs(vault, "e1", "e2", pair_by="trace").changes) == 2


def test_compare_refuses_unknown_runs_and_pairings(vault) -> None:
    run_evals(vault, ["cost"], run_id="only")
    with pytest.raises(InputError, match="no scores recorded for eval run 'missing'"):
        compare_runs(vault, "only", "missing")
    with pytest.raises(InputError, match="pair_by"):
        compare_runs(vault, "only", "only", pair_by="model")


class Explodes:
    """A plain evaluator object that fails on the bad_research run."""

    name = "explodes"

    def __init__(self, bad: str) -> None:
        self.bad = bad

    def __call__(self, spans):
        if spans[0].trace_id == self.bad:
            raise ValueError("cannot read this one")
        return Score("explodes", value=1.0)


def test_an_evaluator_error_stops_the_run_and_keeps_earlier_scores(vault, ids) -> None:
    order = [t.trace_id for t in vault.traces()]
    with pytest.raises(QueryError, match=f"evaluator explodes failed on trace "
                                         f"{ids['bad_research']}: ValueError: cannot read"):
        run_evals(vault, [Explodes(ids["bad_research"])], run_id="boom")
    kept = vault.scores(run_id="boom")
    assert [s.trace_id for s in kept] == order[:order.index(ids["bad_research"])]
    assert kept[0].evaluator == {"name": "explodes", "args": {}}


def test_judge_endpoint_failure_in_a_run_is_one_clear_error(vault) -> None:
    with FakeModel({"default": {"tool_calls": [{"arguments": {}}]}}) as fm:
        judge = {"name": "llm_judge", "args": {"rubric": "ok?", "model": "m",
                                               "base_url": fm.base_url}}
        with pytest.raises(QueryError, match=r"evaluator llm_judge on trace [0-9a-f]{32}: "
                                             r"llm_judge: .* answered HTTP 400"):
            run_evals(vault, [judge], run_id="judge")
    assert vault.scores(run_id="judge") == []


def test_bad_specs_are_refused_before_any_trace_is_read(vault) -> None:
    for spec, message in ((["nope"], "unknown evaluator 'nope'"),
                          (['final_answer:{"mode": "exact"}'], "needs argument"),
                          (["final_answer:[1]"], "must be a JSON object"),
                          (['cost:{"max_usd": "cheap"}'], "max_usd"),
                          ([], "no evaluators"),
                          ([42], "not an evaluator")):
        with pytest.raises(InputError, match=message):
            run_evals(vault, spec, run_id="never")
    assert vault.scores(run_id="never") == []
