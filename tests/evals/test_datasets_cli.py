"""Datasets from the CLI, end to end: made from a filter, labelled, exported, imported
into another store, and an experiment over it with a real agent function."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

import tracevault
from tests.conftest import shared
from tracevault.testing import FakeModel

pytestmark = pytest.mark.slow

AGENT = textwrap.dedent('''
    """An agent answering with one model call, and an evaluator for it."""
    import os

    import openai

    from tracevault.evals import Score, evaluator
    from tracevault.sdk.openai import instrument_openai


    def answer(question):
        client = instrument_openai(openai.OpenAI(base_url=os.environ["AGENT_MODEL_URL"],
                                                 api_key="unused"), agent="answerer")
        reply = client.chat.completions.create(
            model="answerer", messages=[{"role": "user", "content": question}])
        return reply.choices[0].message.content


    @evaluator("same_answer")
    def same_answer(spans, expected=None):
        root = next(s for s in spans if s.parent_span_id is None)
        return Score("same_answer", passed=root.detail.output == expected,
                     value=float(root.detail.output == expected))
''')


def _cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    r = subprocess.run([sys.executable, "-m", "tracevault", *args], capture_output=True,
                       text=True, timeout=300, env={**os.environ, **(env or {})})
    return r


def test_dataset_from_filter_exported_reimported_and_run(tmp_path, demo_store) -> None:
    source = tmp_path / "source.duckdb"
    shutil.copy(demo_store[0], source)
    with tracevault.open(str(source)) as vault:
        for folder, name in (("any_agent_genai_traces", "OPENAI_trace.json"),
                             ("agent_prism_otlp_openinference", "langfuse-1.json"),
                             ("agent_prism_otlp_openinference", "test_data_2.json")):
            vault.import_file(shared(folder, name))
    a = ("--store", str(source))

    r = _cli("dataset", "create", "support", "--filter", "kind = llm", "--sampling",
             "failures-first", "-n", "3", *a)
    assert r.returncode == 0, r.stderr
    # the demo's three runs ask the same question: de-duplicated to one item
    assert "version 1: 3 item(s) from 6 matching trace(s)" in r.stdout
    shown = json.loads(_cli("dataset", "show", "support", "--json", *a).stdout)
    items = shown["items"]
    assert items[0]["metadata"]["status"] == "error"  # failures first
    assert len({i["input"] for i in items}) == 3
    demo_item = next(i for i in items if i["metadata"]["root_name"] == "invoke_agent planner")
    assert [t["name"] for t in demo_item["expected_trajectory"]][:2] == ["delegate",
                                                                         "search_docs"]

    r = _cli("dataset", "label", "support", "--item", items[0]["id"], "--label", "bad",
             "--comment", "used a retired schema", "--author", "ana", *a)
    assert r.returncode == 0, r.stderr
    assert _cli("dataset", "add", "support", "--filter", "kind = llm", *a).stdout.startswith(
        "dataset support version 2: 4 item(s)")  # the one distinct input not sampled
    out = tmp_path / "support.jsonl"
    assert _cli("dataset", "export", "support", "--version", "1", "-o", str(out),
                *a).returncode == 0
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [x["id"] for x in lines] == [i["id"] for i in items]
    assert lines[0]["labels"][0]["label"] == "bad" and lines[0]["labels"][0]["author"] == "ana"
    assert lines[0]["metadata"]["source_trace_id"] == items[0]["trace_id"]

    target = tmp_path / "target.duckdb"
    b = ("--store", str(target))
    r = _cli("dataset", "import", str(out), "--name", "support", *b)
    assert r.returncode == 0 and "version 1: 3 item(s)" in r.stdout, r.stderr

    agent = tmp_path / "agent.py"
    agent.write_text(AGENT)
    rules = [{"when": {"contains": lines[1]["input"][:40]},
              "respond": lines[1]["expected_output"]}]
    with FakeModel({"model": "answerer", "rules": rules, "default": "no idea"}) as model:
        r = _cli("dataset", "run", "support", "--agent", f"{agent}:answer", "--evaluator",
                 'same_answer:{"expected": "$expected_output"}', "--run-id", "exp-1",
                 "--json", *b, env={"AGENT_MODEL_URL": model.base_url})
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert result["errors"] == {} and len(result["traces"]) == 3
    assert result["summary"] == [{"name": "same_answer", "n": 3, "mean": 1 / 3,
                                  "pass_rate": 1 / 3}]
    with tracevault.open(str(target), read_only=True) as vault:
        runs = vault.traces(filter='attr["tracevault.experiment.id"] = "exp-1"', limit=10)
        assert len(runs) == 3 and all(t.llm_count == 1 for t in runs)
        passed = vault.traces(filter="score.same_answer = 1", limit=10)
        assert len(passed) == 1
        llm = next(s for s in vault.trace(passed[0].trace_id).spans if s.kind == "llm")
        assert llm.detail.input_messages[0].parts[0].content == lines[1]["input"]
        assert vault.store.verify().ok


def test_dataset_errors_exit_2_with_one_line(tmp_path) -> None:
    s = ("--store", str(tmp_path / "s.duckdb"))
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"input": "a"}\nnot json\n')
    for args, message in (
        (("dataset", "create", "x", "--filter", "kind = = llm"), "column 8"),
        (("dataset", "create", "x", "--filter", "kind = llm"), "no trace matches"),
        (("dataset", "show", "nope"), "no dataset named 'nope'"),
        (("dataset", "import", str(bad), "--name", "x"), "line 2: not JSON"),
        (("dataset", "create", "x", "--sampling", "stratified"), "no trace matches"),
        (("dataset", "run", "x", "--agent", "nowhere"), "expected module:function"),
        (("dataset", "run", "x", "--agent", "json:dumps", "--evaluator", "nope:{"),
         "are not valid JSON"),
    ):
        r = _cli(*args, *s)
        assert r.returncode == 2 and r.stderr.count("\n") == 1, (args, r.stderr)
        assert message in r.stderr, (args, r.stderr)
