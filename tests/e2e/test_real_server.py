"""A real ``tracevault serve`` fed by the real OpenTelemetry SDK exporters."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
    OTLPSpanExporter as GrpcExporter,
)
from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
    OTLPSpanExporter as HttpExporter,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Status, StatusCode

import tracevault
from tests.conftest import RunningServer

pytestmark = pytest.mark.slow


def _agent_run(provider: TracerProvider, agent: str, question: str) -> str:
    tracer = provider.get_tracer("e2e-harness", "1.0")
    history = [{"role": "user", "parts": [{"type": "text", "content": question}]}]
    with tracer.start_as_current_span(f"invoke_agent {agent}", attributes={
            "gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": agent}) as root:
        for step in range(3):
            out = {"role": "assistant", "parts": [
                {"type": "tool_call", "id": f"c{step}", "name": "lookup",
                 "arguments": {"q": question}}]}
            with tracer.start_as_current_span("chat gpt-4o", attributes={
                    "gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o",
                    "gen_ai.input.messages": json.dumps(history),
                    "gen_ai.output.messages": json.dumps([out]),
                    "gen_ai.usage.input_tokens": 10 * (step + 1),
                    "gen_ai.usage.output_tokens": 5,
                    "tracevault.step.index": step}):
                pass
            with tracer.start_as_current_span("execute_tool lookup", attributes={
                    "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "lookup",
                    "gen_ai.tool.call.id": f"c{step}",
                    "gen_ai.tool.call.arguments": json.dumps({"q": question})}) as tool:
                if step == 2:
                    tool.set_status(Status(StatusCode.ERROR, "lookup timed out"))
                    tool.add_event("exception", {"exception.type": "TimeoutError",
                                                 "exception.message": "lookup timed out"})
                else:
                    tool.set_attribute("gen_ai.tool.call.result", f"answer {step}")
            history += [out, {"role": "tool", "parts": [
                {"type": "tool_call_response", "id": f"c{step}", "response": f"answer {step}"}]}]
        return format(root.get_span_context().trace_id, "032x")


def _provider(exporter) -> TracerProvider:
    provider = TracerProvider(resource=Resource.create({"service.name": "e2e-agent"}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


@pytest.fixture
def live(tmp_path):
    srv = RunningServer(tmp_path / "store.duckdb")
    yield srv
    srv.stop()


def test_http_and_grpc_exporters_then_rest_cli_and_python_api(live) -> None:
    http_provider = _provider(HttpExporter(endpoint=f"{live.url}/v1/traces"))
    grpc_provider = _provider(GrpcExporter(endpoint=f"127.0.0.1:{live.grpc_port}",
                                           insecure=True))
    via_http = _agent_run(http_provider, "planner", "capital of France?")
    via_grpc = _agent_run(grpc_provider, "coder", "sort a list")
    assert http_provider.force_flush(10_000) and grpc_provider.force_flush(10_000)
    http_provider.shutdown()
    grpc_provider.shutdown()

    # REST
    listing = httpx.get(f"{live.url}/api/traces").json()
    assert {t["trace_id"] for t in listing["traces"]} == {via_http, via_grpc}
    trace = httpx.get(f"{live.url}/api/traces/{via_http}").json()
    assert trace["summary"]["span_count"] == 7 and trace["summary"]["error_count"] == 1
    assert trace["summary"]["agents"] == ["planner"]
    last_llm = [s for s in trace["spans"] if s["kind"] == "llm"][-1]
    assert len(last_llm["detail"]["input_messages"]) == 5
    assert last_llm["harness"]["step_index"] == 2
    failed = next(s for s in trace["spans"] if s["status"]["code"] == "error")
    assert failed["detail"]["error"] == "lookup timed out"
    assert failed["status"]["error_type"] == "TimeoutError"

    # CLI while the server holds the store: it reads through the server
    cli = subprocess.run([sys.executable, "-m", "tracevault", "traces", "ls", "--json",
                          "--store", str(live.store), "--agent", "coder"],
                         capture_output=True, text=True)
    assert cli.returncode == 0, cli.stderr
    assert [t["trace_id"] for t in json.loads(cli.stdout)] == [via_grpc]
    show = subprocess.run([sys.executable, "-m", "tracevault", "traces", "show", via_grpc,
                           "--store", str(live.store)], capture_output=True, text=True)
    assert show.returncode == 0 and "[tool] execute_tool lookup" in show.stdout

    # Python API on the same path
    with tracevault.open(str(live.store)) as vault:
        assert vault.is_remote
        t = vault.trace(via_grpc)
        assert [d for d, _ in t.walk()][:2] == [0, 1]
        assert t.roots()[0].agent.name == "coder"
        df = vault.spans_df(trace_id=via_grpc)
        assert len(df) == 7 and set(df["kind"]) == {"agent", "llm", "tool"}


def test_data_survives_a_restart(live) -> None:
    provider = _provider(HttpExporter(endpoint=f"{live.url}/v1/traces"))
    tid = _agent_run(provider, "planner", "persist me")
    provider.shutdown()
    live.stop()
    with tracevault.open(str(live.store), read_only=True) as vault:
        assert not vault.is_remote
        assert vault.trace(tid).summary.span_count == 7


def test_import_and_grpc_logs_through_a_running_server(live) -> None:
    import grpc
    from opentelemetry.proto.collector.logs.v1 import logs_service_pb2, logs_service_pb2_grpc
    from opentelemetry.proto.collector.trace.v1 import (
        trace_service_pb2,
        trace_service_pb2_grpc,
    )
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue, KeyValueList
    from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs
    from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

    from tests.conftest import shared

    # the CLI imports through the server while it holds the store
    path = shared("any_agent_genai_traces", "OPENAI_trace.json")
    proc = subprocess.run([sys.executable, "-m", "tracevault", "import", "--store",
                           str(live.store), str(path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "6 spans" in proc.stdout

    tid, sid = bytes.fromhex("ab" * 16), bytes.fromhex("cd" * 8)
    channel = grpc.insecure_channel(f"127.0.0.1:{live.grpc_port}")
    spans = trace_service_pb2_grpc.TraceServiceStub(channel)
    logs = logs_service_pb2_grpc.LogsServiceStub(channel)
    spans.Export(trace_service_pb2.ExportTraceServiceRequest(resource_spans=[ResourceSpans(
        scope_spans=[ScopeSpans(spans=[Span(
            trace_id=tid, span_id=sid, name="chat", start_time_unix_nano=1,
            end_time_unix_nano=2, attributes=[KeyValue(key="gen_ai.operation.name",
                                                       value=AnyValue(string_value="chat"))])])])]))
    body = AnyValue(kvlist_value=KeyValueList(values=[
        KeyValue(key="content", value=AnyValue(string_value="hello over gRPC"))]))
    logs.Export(logs_service_pb2.ExportLogsServiceRequest(resource_logs=[ResourceLogs(
        scope_logs=[ScopeLogs(log_records=[LogRecord(
            time_unix_nano=1, trace_id=tid, span_id=sid, event_name="gen_ai.user.message",
            body=body)])])]))
    span = httpx.get(f"{live.url}/api/traces/{tid.hex()}/spans/{sid.hex()}").json()
    assert span["detail"]["input_messages"][0]["parts"][0]["content"] == "hello over gRPC"

    with pytest.raises(grpc.RpcError) as info:
        spans.Export(trace_service_pb2.ExportTraceServiceRequest(resource_spans=[ResourceSpans(
            scope_spans=[ScopeSpans(spans=[Span(trace_id=bytes(16), span_id=sid,
                                                name="bad")])])]))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "all zeros" in info.value.details()
    channel.close()
