"""OTLP/gRPC receiver: TraceService/Export and LogsService/Export on their own port."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2, logs_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

from .._exceptions import InputError, Overloaded, TraceVaultError
from ..ingest._prepare import prepare_logs, prepare_spans
from ..ingest.otlp import decode_logs_request, decode_traces_request
from ._auth import key_from_headers
from ._errors import status_of
from ._otlp import rejection_message
from ._state import ServerState

__all__ = ["start_grpc_server"]


def _peer_host(peer: str) -> str | None:
    # "ipv4:127.0.0.1:5555", "ipv6:[::1]:5555", "unix:..."
    kind, _, rest = peer.partition(":")
    if kind == "ipv4":
        return rest.rsplit(":", 1)[0]
    if kind == "ipv6":
        return rest.rsplit(":", 1)[0].strip("[]")
    return None


async def _call(st: ServerState, context: grpc.aio.ServicerContext, work: Any) -> Any:
    try:
        metadata = {k.lower(): v for k, v in (context.invocation_metadata() or ())}
        project = st.auth.project_for_key(key_from_headers(metadata),
                                          _peer_host(context.peer()))
        return await work(project)
    except TraceVaultError as exc:
        _, code = status_of(exc)
        if isinstance(exc, Overloaded):
            context.set_trailing_metadata((("retry-after", str(round(exc.retry_after))),))
        await context.abort(grpc.StatusCode(_CODES[code]), str(exc))


_CODES = {c.value[0]: c.value for c in grpc.StatusCode}


class _TraceService(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self, st: ServerState) -> None:
        self.st = st

    async def Export(self, request: Any, context: grpc.aio.ServicerContext) -> Any:  # noqa: N802
        """Accept spans; answer once durable."""
        st = self.st

        async def work(project: str | None) -> Any:
            def decode() -> Any:
                spans, rejected = decode_traces_request(request)
                drafts, too_large = prepare_spans(
                    spans, default_project=st.settings.default_project,
                    forced_project=project, max_value_bytes=st.settings.max_value_bytes)
                return drafts, rejected + too_large

            drafts, rejected = await asyncio.to_thread(decode)
            if rejected and not drafts:
                raise InputError(rejection_message(rejected))
            if drafts:
                await asyncio.wrap_future(st.pipeline.submit(drafts))
            partial = trace_service_pb2.ExportTracePartialSuccess(
                rejected_spans=len(rejected), error_message=rejection_message(rejected)
            ) if rejected else None
            return trace_service_pb2.ExportTraceServiceResponse(partial_success=partial)

        return await _call(st, context, work)


class _LogsService(logs_service_pb2_grpc.LogsServiceServicer):
    def __init__(self, st: ServerState) -> None:
        self.st = st

    async def Export(self, request: Any, context: grpc.aio.ServicerContext) -> Any:  # noqa: N802
        """Accept log records; attach GenAI events to their spans."""
        st = self.st

        async def work(project: str | None) -> Any:
            logs, rejected = await asyncio.to_thread(decode_logs_request, request)
            prepared = prepare_logs(logs, default_project=st.settings.default_project,
                                    forced_project=project)
            if prepared:
                await asyncio.wrap_future(st.pipeline.submit([], prepared))
            partial = logs_service_pb2.ExportLogsPartialSuccess(
                rejected_log_records=rejected,
                error_message=f"{rejected} log record(s) with invalid ids",
            ) if rejected else None
            return logs_service_pb2.ExportLogsServiceResponse(partial_success=partial)

        return await _call(st, context, work)


async def start_grpc_server(st: ServerState, host: str, port: int) -> grpc.aio.Server:
    """Start the gRPC receiver in the running event loop."""
    limit = st.settings.max_body_bytes
    server = grpc.aio.server(options=[("grpc.max_receive_message_length", limit),
                                      ("grpc.max_send_message_length", 16 << 20)])
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(_TraceService(st), server)
    logs_service_pb2_grpc.add_LogsServiceServicer_to_server(_LogsService(st), server)
    bound = server.add_insecure_port(f"{host}:{port}")
    if bound == 0:
        raise OSError(f"cannot bind gRPC port {host}:{port}")
    await server.start()
    server.bound_port = bound  # type: ignore[attr-defined]
    return server
