"""The Who&When benchmark on the shared subset: exact-match scoring beside baselines."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

import tracevault
from tests.analysis._attribution_data import answer, record
from tests.conftest import shared
from tracevault._exceptions import InputError
from tracevault.analysis import BASELINES, exact_match, run_bench
from tracevault.testing import FakeModel

pytestmark = pytest.mark.shared_data


@pytest.fixture(scope="module")
def subset() -> Path:
    return shared("who_and_when", "algorithm_generated")


@pytest.fixture(scope="module")
def labels(subset: Path) -> list[dict]:
    """The labels read straight from the files (independently of the importer)."""
    out = []
    for path in subset.glob("*.json"):
        data = json.loads(path.read_text())
        out.append({"agent": data["mistake_agent"], "step": data["mistake_step"],
                    "agents": [h.get("name") for h in data["history"]]})
    return out


def test_exact_match_is_not_substring() -> None:
    assert exact_match("Verification_Expert", "Verification_Expert")
    assert exact_match(1, 1) and exact_match(1, "1")
    assert not exact_match("Verification_Expert_2", "Verification_Expert")
    assert not exact_match("verification_expert", "Verification_Expert")
    assert not exact_match(" Verification_Expert", "Verification_Expert")
    assert not exact_match(12, 1) and not exact_match("12", "1") and not exact_match("1", 12)
    assert not exact_match(None, None) and not exact_match(True, 1)


def test_trace_signals_on_the_shared_subset(subset: Path, labels: list[dict]) -> None:
    result = run_bench(subset, "first_error")
    n = len(labels)
    assert n == 126 and len(result.cases) == n and not result.skipped
    acc = result.accuracy()
    # the numbers recorded in docs/attribution.md
    assert (acc["agent"], acc["step"], acc["answered"]) == (round(45 / n, 4),
                                                            round(32 / n, 4), 71)
    assert (acc["agent_if_answered"], acc["step_if_answered"]) == (round(45 / 71, 4),
                                                                   round(32 / 71, 4))
    # baselines, checked against the labels read straight from the files
    step1 = sum(lab["step"] == "1" for lab in labels)
    last = sum(lab["step"] == str(len(lab["agents"]) - 1) for lab in labels)
    assert result.accuracy("step_1")["step"] == round(step1 / n, 4) == round(34 / n, 4)
    assert result.accuracy("last_step")["step"] == round(last / n, 4)
    first_agent = sum(lab["agent"] == lab["agents"][0] for lab in labels)
    assert result.accuracy("step_0")["agent"] == round(first_agent / n, 4)
    busiest = sum(lab["agent"] == max(Counter(lab["agents"]).items(),
                                      key=lambda kv: (kv[1], -lab["agents"].index(kv[0])))[0]
                  for lab in labels)
    assert result.accuracy("most_frequent_agent")["agent"] == round(busiest / n, 4)
    rand = result.accuracy("random")
    assert 0.1 < rand["agent"] < 0.5 and 0.03 < rand["step"] < 0.3
    assert rand == run_bench(subset, "loops", limit=None).accuracy("random")  # seeded
    assert run_bench(subset, "loops", seed=1).accuracy("random") != rand
    chain = run_bench(subset, "policy+first_error+divergence+loops").accuracy()
    assert chain["answered"] == 84 and chain["step"] == acc["step"]


def test_model_strategies_on_the_shared_subset(subset: Path, labels: list[dict]) -> None:
    n = len(labels)
    fixed = answer("Verification_Expert", 1, "a fixed guess")
    with FakeModel({"model": "fixed-guess", "default": fixed}) as model:
        once = run_bench(subset, "all_at_once", model=model.base_url)
        assert len(model.requests) == n
        before = len(model.requests)
        stepwise = run_bench(subset, "step_by_step", model=model.base_url, limit=20)
        # step 0: the answer (step 1) is out of range, asked twice; step 1: blamed
        assert len(model.requests) - before == 3 * 20
        search = run_bench(subset, "binary_search", model=model.base_url, limit=60)
    verification = sum(lab["agent"] == "Verification_Expert" for lab in labels)
    step1 = sum(lab["step"] == "1" for lab in labels)
    assert once.model == "fixed-guess" and once.accuracy()["answered"] == n
    assert once.accuracy()["agent"] == round(verification / n, 4)
    assert once.accuracy()["step"] == round(step1 / n, 4)
    assert all(c.step == 1 for c in stepwise.cases)
    assert stepwise.accuracy()["answered"] == 20
    # the fixed answer always lies in the lower half until steps 0..1: binary search ends
    # at step 1 with that step's agent, exactly the step_1 baseline
    step1_baseline = search.accuracy("step_1")
    assert {k: search.accuracy()[k] for k in ("agent", "step", "both")} == \
        {k: step1_baseline[k] for k in ("agent", "step", "both")}


def test_exact_scoring_in_the_harness(tmp_path: Path) -> None:
    captain = record(13, question="What is 6 times 7?", mistake_agent="Coder_Expert",
                     mistake_step="1")
    magentic = {"is_correct": False, "question": "Find the page title.",
                "question_ID": "q-m1", "ground_truth": "Home",
                "history": [{"role": "human", "content": "Find the page title."},
                            {"role": "Orchestrator (thought)", "content": "plan: browse"},
                            {"role": "Orchestrator (-> WebSurfer)", "content": "open the site"},
                            {"role": "WebSurfer", "content": "the title is About"}],
                "mistake_agent": "WebSurfer", "mistake_step": "3",
                "mistake_reason": "read the wrong page"}
    (tmp_path / "1.json").write_text(json.dumps(captain))
    (tmp_path / "2.json").write_text(json.dumps(magentic))
    script = {"rules": [{"when": {"contains": "6 times 7"},
                         "respond": answer("Coder_Expert_2", 12)},
                        {"when": {"contains": "page title"}, "respond": answer("WebSurfer", 3)}]}
    with FakeModel(script) as model:
        result = run_bench(tmp_path, "all_at_once", model=model.base_url)
    first, second = result.cases
    assert (first.agent, first.step, first.label_agent, first.label_step) == (
        "Coder_Expert_2", 12, "Coder_Expert", 1)
    # substring scoring would count the first answer; exact equality does not
    assert first.label_agent in first.agent and str(first.label_step) in str(first.step)
    assert first.hits() == (False, False) and second.hits() == (True, True)
    assert result.accuracy() == {"agent": 0.5, "step": 0.5, "both": 0.5, "answered": 2,
                                 "agent_if_answered": 0.5, "step_if_answered": 0.5}
    assert second.baselines["last_step"] == ("WebSurfer", 3)
    assert second.baselines["step_1"] == ("Orchestrator", 1)
    assert set(result.to_dict()["baselines"]) == set(BASELINES)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tracevault", "attribution", *args],
                          capture_output=True, text=True)


def test_cli_bench(subset: Path, tmp_path: Path) -> None:
    proc = _cli("bench", str(subset), "--strategy", "first_error", "--limit", "12")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("Who&When attribution on 12 record(s)")
    assert [ln.split()[0:2] for ln in lines[3:]] == [["baseline", b] for b in BASELINES]
    with FakeModel({"default": answer("Verification_Expert", 1)}) as model:
        proc = _cli("bench", str(subset), "--strategy", "all_at_once", "--model",
                    model.base_url, "--limit", "5", "--json", "--store",
                    str(tmp_path / "bench.duckdb"))
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["records"] == 5 and data["model"] == "fake-model"
    assert data["accuracy"]["answered"] == 5 and set(data["baselines"]) == set(BASELINES)
    with tracevault.open(str(tmp_path / "bench.duckdb"), read_only=True) as vault:
        stored = vault.scores(name="attribution")
    assert len(stored) == 5 and {s.label for s in stored} == {"Verification_Expert"}
    assert {s.run_id for s in stored} == {"bench-all_at_once"}
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "x.json").write_text(json.dumps({"resourceSpans": []}))
    for args, message in ((["bench", str(tmp_path / "other"), "--strategy", "first_error"],
                           "x.json is not a Who&When record"),
                          (["bench", str(subset), "--strategy", "all_at_once"],
                           "needs a model"),
                          (["bench", str(tmp_path / "nope"), "--strategy", "loops"],
                           "is not a directory")):
        proc = _cli(*args)
        assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
        assert message in proc.stderr
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="holds no .json"):
        run_bench(tmp_path / "empty", "loops")
