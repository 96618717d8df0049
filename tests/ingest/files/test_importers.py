"""Run records of other tools (tau-bench, Who&When, Inspect AI, SWE-agent) import as traces."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import tracevault
from tests.conftest import load_json, shared
from tracevault._exceptions import DecodeError
from tracevault.ingest.files._common import SECOND_NS, SYNTHETIC_EPOCH_NS
from tracevault.ingest.files._sdk import _ns

pytestmark = pytest.mark.shared_data

TAU = ("tau_bench_trajectories", "gpt-4o-airline.json.gz")
WW = "who_and_when"


@pytest.fixture
def vault(tmp_path: Path):
    v = tracevault.open(str(tmp_path / "s.duckdb"))
    yield v
    v.close()


def _count(vault: Any, where: str = "true") -> int:
    return vault.sql(f"select count(*) from spans where {where}").column(0)[0].as_py()


def _traces(vault: Any) -> list[Any]:
    return [vault.trace(t.trace_id) for t in vault.traces(limit=1000)]


def _root(trace: Any) -> Any:
    (root,) = trace.roots()
    return root


def _attrs(vault: Any, trace: Any) -> dict[str, Any]:
    """The root span's attributes exactly as imported (large values are not lifted)."""
    root = _root(trace)
    return vault.span(root.trace_id, root.span_id, original=True).attributes


def _original(vault: Any, span: Any, key: str) -> Any:
    return json.loads(vault.span(span.trace_id, span.span_id, original=True).attributes[key])


def _texts(message: Any) -> str:
    return "".join(p.content for p in message.parts if p.type == "text")


# --- tau-bench ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tau(tmp_path_factory):
    """The tau-bench file imported once: (vault, runs by (task, trial), traces likewise)."""
    vault = tracevault.open(str(tmp_path_factory.mktemp("tau") / "s.duckdb"))
    report = vault.import_file(shared(*TAU))
    assert report["format"] == "taubench" and report["rejected"] == 0
    runs = {(r["task_id"], r["trial"]): r for r in load_json(shared(*TAU))}
    traces = {}
    for trace in _traces(vault):
        attrs = _attrs(vault, trace)
        traces[(attrs["tracevault.taubench.task_id"], attrs["tracevault.taubench.trial"])] = trace
    yield vault, runs, traces
    vault.close()


def test_taubench_every_run_is_a_trace_with_its_labels(tau) -> None:
    vault, runs, traces = tau
    assert len(runs) == len(traces) == 200
    for key, run in runs.items():
        attrs = _attrs(vault, traces[key])
        assert attrs["tracevault.taubench.reward"] == run["reward"]
        assert attrs["tracevault.taubench.user_id"] == run["info"]["task"]["user_id"]
        assert json.loads(attrs["tracevault.taubench.actions"]) == run["info"]["task"]["actions"]
    assert sum(_root(t).attributes["tracevault.taubench.reward"] == 1.0
               for t in traces.values()) == 84
    first = traces[(0, 0)]
    assert first.summary.models == ["gpt-4o"]  # from tau-bench's <model>-<domain> file name
    assert _root(first).attributes["tracevault.taubench.domain"] == "airline"


def test_taubench_llm_spans_hold_the_transcript_before_each_assistant_message(tau) -> None:
    vault, runs, traces = tau
    traj, trace = runs[(0, 0)]["traj"], traces[(0, 0)]
    llm = sorted((s for s in trace.spans if s.kind == "llm"), key=lambda s: s.start_time_ns)
    at = [k for k, m in enumerate(traj) if m["role"] == "assistant"]
    assert len(llm) == len(at)
    for span, k in zip(llm, at, strict=True):
        assert _original(vault, span, "gen_ai.input.messages") == traj[:k]
        assert [m.role for m in span.detail.input_messages] == [m["role"] for m in traj[:k]]
        (out,) = span.detail.output_messages
        calls = [p for p in out.parts if p.type == "tool_call"]
        assert [c.name for c in calls] == [c["function"]["name"]
                                           for c in traj[k].get("tool_calls") or []]
        assert _texts(out) == (traj[k]["content"] or "")  # content: null -> no text part
    sixth = llm[5].detail.input_messages
    assert _texts(sixth[1]) == traj[1]["content"]
    assert sixth[7].parts[0].type == "tool_call_response"
    assert sixth[7].parts[0].response == traj[7]["content"]
    steps = sorted((s for s in trace.spans if s.kind == "step"), key=lambda s: s.start_time_ns)
    assert [s.harness.step_index for s in steps] == list(range(len(at)))


def test_taubench_tool_calls_pair_with_their_own_result_despite_reused_ids(tau) -> None:
    _, runs, traces = tau
    reused = "call_MS60qsjtf94tP7pv3hJP8qVK"
    trace = next(t for key, t in traces.items() if reused in json.dumps(runs[key]["traj"]))
    tools = {s.detail.name: s.detail for s in trace.spans
             if s.kind == "tool" and s.detail.call_id == reused}
    assert set(tools) == {"send_certificate", "calculate"}
    assert tools["send_certificate"].arguments == {"user_id": "noah_muller_9847", "amount": 50}
    assert tools["send_certificate"].result.startswith("Certificate certificate_3221322 added")
    assert tools["calculate"].arguments == {"expression": "(158 + 161) * 3 + 3 * 30"}
    assert tools["calculate"].result == "1047.0"


def test_taubench_tool_errors_and_counts(tau) -> None:
    vault, runs, _ = tau
    results = [m["content"] for r in runs.values() for m in r["traj"] if m["role"] == "tool"]
    assert _count(vault, "kind = 'tool'") == len(results) == 1164
    failed = [r for r in results if r.startswith("Error:")]
    assert _count(vault, "kind = 'tool' and status = 'error'") == len(failed) == 73
    assert _count(vault, "kind = 'message'") == sum(
        m["role"] == "user" for r in runs.values() for m in r["traj"])


def test_taubench_synthetic_clock_is_fixed_and_strictly_increasing(tau) -> None:
    _, runs, traces = tau
    order = [(r["task_id"], r["trial"]) for r in load_json(shared(*TAU))]
    for position, key in enumerate(order[:20]):
        trace = traces[key]
        root = _root(trace)
        assert root.start_time_ns == SYNTHETIC_EPOCH_NS + position * 3600 * SECOND_NS
        leaves = [s for s in trace.spans if s.kind in ("llm", "tool", "message")]
        starts = sorted(s.start_time_ns for s in leaves)
        assert len(set(starts)) == len(starts)  # strictly increasing, no ties
        assert all(root.start_time_ns < s.start_time_ns and s.end_time_ns <= root.end_time_ns
                   for s in leaves)
        assert root.end_time_ns == root.start_time_ns + len(runs[key]["traj"]) * SECOND_NS


# --- Who&When ------------------------------------------------------------------------------


def test_whowhen_every_file_is_a_trace_with_step_indexes_and_labels(vault) -> None:
    files = sorted(shared(WW, "algorithm_generated").glob("*.json"))
    assert len(files) == 126
    for path in files:
        assert vault.import_file(path)["format"] == "who-and-when"
    traces = {_attrs(vault, t)["tracevault.whowhen.file"]: t for t in _traces(vault)}
    assert len(traces) == 126
    for path in files:
        record, trace = load_json(path), traces[path.name]
        attrs = _attrs(vault, trace)
        assert attrs["tracevault.whowhen.mistake_step"] == int(record["mistake_step"])
        for key in ("mistake_agent", "mistake_reason", "question", "ground_truth"):
            assert attrs[f"tracevault.whowhen.{key}"] == record[key]
        steps = sorted((s for s in trace.spans if s.kind == "step"),
                       key=lambda s: s.harness.step_index)
        assert [s.harness.step_index for s in steps] == list(range(len(record["history"])))
        assert [s.agent.name for s in steps] == [h["name"] for h in record["history"]]
        assert [s.detail.output for s in steps] == [h["content"] for h in record["history"]]
    first = traces["1.json"]
    step0 = next(s for s in first.spans if s.kind == "step" and s.harness.step_index == 0)
    assert step0.agent.name == _attrs(vault, first)["tracevault.whowhen.mistake_agent"]


MAGENTIC = {
    "question": "How many studio albums were published by Mercedes Sosa between 2000 and 2009?",
    "question_ID": "synthetic-m1", "level": 1, "ground_truth": "3", "is_correct": False,
    "mistake_agent": "WebSurfer", "mistake_step": "3",
    "mistake_reason": "The search result was read from the wrong page.",
    "history": [
        {"content": "How many studio albums ...?", "role": "human"},
        {"content": "Plan: search the discography.", "role": "Orchestrator (thought)"},
        {"content": "Search Wikipedia for the discography.", "role": "Orchestrator (-> WebSurfer)",
         "name": None},
        {"content": "I typed 'Mercedes Sosa discography' ...", "role": "WebSurfer", "name": ""},
        {"content": "Answer: 2", "role": "Orchestrator (final answer)", "name": "assistant"},
    ],
}


def test_whowhen_magentic_one_variant_names_agents_by_role(vault, tmp_path) -> None:
    path = tmp_path / "magentic.json"
    path.write_text(json.dumps(MAGENTIC))
    assert vault.import_file(path)["format"] == "who-and-when"
    (trace,) = _traces(vault)
    attrs = _attrs(vault, trace)
    assert attrs["tracevault.whowhen.mistake_step"] == 3
    assert attrs["tracevault.whowhen.file"] == "magentic.json"
    steps = sorted((s for s in trace.spans if s.kind == "step"),
                   key=lambda s: s.harness.step_index)
    assert [s.agent.name for s in steps] == ["human", "Orchestrator", "Orchestrator",
                                             "WebSurfer", "Orchestrator"]
    (message,) = [s for s in trace.spans if s.kind == "message"]
    assert (message.detail.sender, message.detail.receiver) == ("Orchestrator", "WebSurfer")
    assert message.detail.content == MAGENTIC["history"][2]["content"]
    assert message.parent_span_id == steps[2].span_id
    assert [s.start_time_ns - SYNTHETIC_EPOCH_NS for s in steps] == \
        [i * SECOND_NS for i in range(5)]


# --- Inspect AI ----------------------------------------------------------------------------


def _inspect(vault, name: str) -> tuple[Any, dict[str, Any]]:
    report = vault.import_file(shared("inspect_ai_logs", name))
    assert report["format"] == "inspect-ai" and report["rejected"] == 0
    (trace,) = _traces(vault)
    return trace, report


def test_inspect_browser_log_model_and_tool_events(vault) -> None:
    trace, _ = _inspect(vault, "2025-05-12T20-27-36-04-00_browser.json.gz")
    sample = load_json(shared("inspect_ai_logs", "2025-05-12T20-27-36-04-00_browser.json.gz")
                       )["samples"][0]
    att = sample["attachments"]
    models = [e for e in sample["events"] if e["event"] == "model"]
    llm = sorted((s for s in trace.spans if s.kind == "llm"), key=lambda s: s.start_time_ns)
    assert len(llm) == len(models) == 5
    for span, event in zip(llm, models, strict=True):
        assert span.start_time_ns == _ns(event["timestamp"])
        assert span.end_time_ns == _ns(event["completed"])
        assert len(span.detail.input_messages) == len(event["input"])
        assert span.detail.usage.input_tokens == event["output"]["usage"]["input_tokens"]
        assert len(span.detail.tool_definitions) == 8
    first = llm[0].detail.input_messages[0]
    reference = models[0]["input"][0]["content"]
    assert reference.startswith("attachment://")
    assert _texts(first) == att[reference.removeprefix("attachment://")]
    assert llm[1].detail.usage.cache_read_tokens == 1024
    assert llm[0].detail.output_messages[0].parts[0].name == "web_browser_go"
    tools = sorted((s for s in trace.spans if s.kind == "tool"), key=lambda s: s.start_time_ns)
    events = [e for e in sample["events"] if e["event"] == "tool"]
    assert [t.detail.name for t in tools] == [e["function"] for e in events]
    assert [t.detail.arguments for t in tools] == [e["arguments"] for e in events]
    assert tools[0].detail.result == events[0]["result"]
    assert tools[0].detail.call_id == "call_35FTpd6shR9efioDgeEBZ33s"
    sandbox = [s for s in trace.spans if s.parent_span_id == tools[0].span_id]
    assert [s.name for s in sandbox] == ["sandbox exec"] * 4
    root = _root(trace)
    assert root.attributes["tracevault.inspect.score.includes"] == "C"
    assert root.detail.output.startswith("The AI Security Institute (AISI)")
    scorer = next(s for s in trace.spans if s.name == "includes")
    assert [e.name for e in scorer.events] == ["inspect.score"]


def test_inspect_eval_zip_maps_like_the_json_log(vault, tmp_path) -> None:
    trace, _ = _inspect(vault, "log_read_sample.eval")
    other = tracevault.open(str(tmp_path / "other.duckdb"))
    try:
        json_trace, _ = _inspect(other, "log_read_sample.json")
    finally:
        other.close()
    assert Counter((s.kind, s.name) for s in trace.spans) == \
        Counter((s.kind, s.name) for s in json_trace.spans)
    (llm,) = [s for s in trace.spans if s.kind == "llm"]
    assert [m.role for m in llm.detail.input_messages] == ["system", "user"]
    assert _texts(llm.detail.output_messages[0]) == "Yes\n"
    assert _root(trace).attributes["tracevault.inspect.score.match"] == "C"
    assert trace.summary.trace_id != json_trace.summary.trace_id  # two different runs


def test_inspect_sample_without_events_is_rebuilt_from_messages(vault) -> None:
    trace, _ = _inspect(vault, "log_tool_call_error.json")
    messages = load_json(shared("inspect_ai_logs", "log_tool_call_error.json")
                         )["samples"][0]["messages"]
    tools = sorted((s for s in trace.spans if s.kind == "tool"), key=lambda s: s.start_time_ns)
    assert [t.detail.call_id for t in tools] == [m["tool_call_id"] for m in messages]
    assert all(t.status.code == "error" for t in tools)
    assert [t.status.error_type for t in tools] == [m["error"]["type"] for m in messages]
    assert tools[-1].status.message == "The tool output limit of 10 MiB was exceeded."
    assert trace.summary.error_count == 11


# --- SWE-agent -----------------------------------------------------------------------------


def _swe(vault, name: str) -> tuple[Any, dict[str, Any], list[Any]]:
    assert vault.import_file(shared("swe_agent_trajectories", name))["format"] == "swe-agent"
    (trace,) = _traces(vault)
    steps = sorted((s for s in trace.spans if s.kind == "step"),
                   key=lambda s: s.harness.step_index)
    return trace, load_json(shared("swe_agent_trajectories", name)), steps


def _child(trace: Any, step: Any, kind: str) -> Any:
    (span,) = [s for s in trace.spans if s.parent_span_id == step.span_id and s.kind == kind]
    return span


def test_sweagent_function_calling_trajectory(vault) -> None:
    trace, doc, steps = _swe(vault, "marshmallow-code__marshmallow-1867.function_calling_replace"
                                    ".traj")
    history = doc["history"]
    issued = [i for i, m in enumerate(history) if m["role"] == "assistant"]
    assert len(steps) == len(doc["trajectory"]) == len(issued) == 11
    for step, src, at in zip(steps, doc["trajectory"], issued, strict=True):
        llm, tool = _child(trace, step, "llm"), _child(trace, step, "tool")
        assert [m.role for m in llm.detail.input_messages] == [m["role"] for m in history[:at]]
        assert _texts(llm.detail.input_messages[1]) == history[1]["content"]
        (call,) = history[at]["tool_calls"]
        assert tool.detail.name == call["function"]["name"]
        assert tool.detail.call_id == call["id"]
        assert tool.detail.arguments == json.loads(call["function"]["arguments"])
        assert tool.detail.result == src["observation"]
        assert tool.duration_ns == int(src["execution_time"] * SECOND_NS)
    later = _child(trace, steps[1], "llm").detail.input_messages[-1]
    assert later.parts[0].type == "tool_call_response"
    assert later.parts[0].id == history[2]["tool_calls"][0]["id"]
    attrs = _attrs(vault, trace)
    assert attrs["tracevault.sweagent.exit_status"] == "submitted"
    assert attrs["tracevault.sweagent.instance_id"] == "marshmallow-code__marshmallow-1867"
    assert trace.summary.models == ["gpt-4o"]


def test_sweagent_command_trajectory(vault) -> None:
    trace, doc, steps = _swe(vault, "pydicom__pydicom-1458.traj")
    assert len(steps) == len(doc["trajectory"]) == 12
    for step, src in zip(steps, doc["trajectory"], strict=True):
        tool, llm = _child(trace, step, "tool"), _child(trace, step, "llm")
        assert tool.detail.name == src["action"].split()[0]
        assert tool.detail.arguments == src["action"]
        assert _texts(llm.detail.output_messages[0]) == src["response"]
    assert _child(trace, steps[-1], "tool").detail.result == doc["info"]["submission"]
    assert _root(trace).detail.output == doc["info"]["submission"]


# --- every format: deduplication, errors ---------------------------------------------------


@pytest.mark.parametrize("parts", [
    TAU, (WW, "algorithm_generated", "7.json"),
    ("inspect_ai_logs", "2025-05-12T20-27-36-04-00_browser.json.gz"),
    ("inspect_ai_logs", "log_read_sample.eval"),
    ("swe_agent_trajectories", "pydicom__pydicom-1458.traj"),
])
def test_reimport_adds_no_span(vault, parts) -> None:
    first = vault.import_file(shared(*parts))
    stored = _count(vault)
    ids = {t.trace_id for t in vault.traces(limit=1000)}
    assert stored == first["spans"] > 0
    vault.import_file(shared(*parts))
    assert _count(vault) == stored
    assert {t.trace_id for t in vault.traces(limit=1000)} == ids


@pytest.mark.parametrize("content, message", [
    (b'{"x": 1}', "unrecognised trace file"),
    (b'{"history": [{"role": "user"}], "mistake_step": "1"}', "unrecognised trace file"),
    (b"PK\x03\x04 not really a zip", "broken .eval archive"),
    (b"\x00\x01\x02 binary", "neither JSON"),
])
def test_unknown_files_are_decode_errors(vault, tmp_path, content, message) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(DecodeError) as caught:
        vault.import_file(path)
    text = str(caught.value)
    assert message in text and str(path) in text
    if message != "broken .eval archive":
        for name in ("tau-bench", "Who&When", "Inspect AI", "SWE-agent", "Langfuse"):
            assert name in text
    assert _count(vault) == 0


def test_zip_without_an_eval_header_is_rejected(vault, tmp_path) -> None:
    import zipfile

    path = tmp_path / "other.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(DecodeError, match="not an Inspect AI .eval log"):
        vault.import_file(path)
