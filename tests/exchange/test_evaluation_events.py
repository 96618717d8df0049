"""Scores leave with their traces as OTel ``gen_ai.evaluation.result`` events."""

import json
import shutil

import tracevault
from tracevault.evals import Score
from tracevault.exchange import export_otlp_json


def test_scores_become_evaluation_events_in_otlp_json(tmp_path, demo_store) -> None:
    path = tmp_path / "s.duckdb"
    shutil.copy(demo_store[0], path)
    bad = next(r.trace_id for r in demo_store[1] if r.variant == "bad_research")
    with tracevault.open(str(path)) as vault:
        trace = vault.trace(bad)
        llm = next(s for s in trace.spans if s.kind == "llm")
        vault.add_scores([
            Score("helpfulness", value=0.25, trace_id=bad, explanation="retired schema",
                  evaluator={"name": "llm_judge", "args": {"rubric": "r"}}),
            Score("json_valid", passed=True, trace_id=bad, span_id=llm.span_id)])
        out = tmp_path / "out.jsonl"
        assert export_otlp_json(vault, out, trace_ids=[bad]) == 1
        plain = tmp_path / "plain.jsonl"
        export_otlp_json(vault, plain, trace_ids=[bad], evaluations=False)
    doc = json.loads(out.read_text().splitlines()[0])
    spans = [s for rs in doc["resourceSpans"] for ss in rs["scopeSpans"] for s in ss["spans"]]
    events = {s["spanId"]: [e for e in s.get("events", [])
                            if e["name"] == "gen_ai.evaluation.result"] for s in spans}
    root = next(s for s in spans if not s.get("parentSpanId"))

    def attrs(event):
        return {a["key"]: next(iter(a["value"].values())) for a in event["attributes"]}

    (judged,) = events[root["spanId"]]
    assert attrs(judged)["gen_ai.evaluation.name"] == "helpfulness"
    assert attrs(judged)["gen_ai.evaluation.score.value"] == 0.25
    assert attrs(judged)["gen_ai.evaluation.explanation"] == "retired schema"
    assert json.loads(attrs(judged)["tracevault.score.evaluator"])["name"] == "llm_judge"
    (checked,) = events[llm.span_id]
    assert attrs(checked)["gen_ai.evaluation.score.label"] == "pass"
    assert "gen_ai.evaluation.result" not in plain.read_text()
