"""OTLP/gRPC receiver: TraceService/Export and LogsService/Export on their own port."""

from __future__ import annotations

from typing import Any

import grpc
from google.protobuf import duration_pb2
from google.rpc import error_details_pb2
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2, logs_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

from .._exceptions import Overloaded, TraceVaultError
from ._auth import key_from_headers
from ._errors import status_of
from ._ingest import ingest_otlp, rejection_message
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
            # The OTel gRPC exporters read the back-off from google.rpc.RetryInfo.
            delay = duration_pb2.Duration(seconds=int(exc.retry_after),
                                          nanos=int(exc.retry_after % 1 * 1e9))
            context.set_trailing_metadata((
                ("google.rpc.retryinfo-bin",
                 error_details_pb2.RetryInfo(retry_delay=delay).SerializeToString()),
                ("retry-after", str(round(exc.retry_after))),
            ))
        await context.abort(grpc.StatusCode(_CODES[code]), str(exc))


_CODES = {c.value[0]: c.value for c in grpc.StatusCode}


class _TraceService(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self, st: ServerState) -> None:
        self.st = st

    async def Export(self, request: Any, context: grpc.aio.ServicerContext) -> Any:  # noqa: N802
        """Accept spans; answer once durable."""
        async def work(project: str | None) -> Any:
            rejected = await ingest_otlp(self.st, "traces", "protobuf",
                                         request.SerializeToString(), project,
                                         hash(context.peer()))
            partial = trace_service_pb2.ExportTracePartialSuccess(
                rejected_spans=len(rejected), error_message=rejection_message(rejected)
            ) if rejected else None
            return trace_service_pb2.ExportTraceServiceResponse(partial_success=partial)

        return await _call(self.st, context, work)


class _LogsService(logs_service_pb2_grpc.LogsServiceServicer):
    def __init__(self, st: ServerState) -> None:
        self.st = st

    async def Export(self, request: Any, context: grpc.aio.ServicerContext) -> Any:  # noqa: N802
        """Accept log records; attach GenAI events to their spans."""
        async def work(project: str | None) -> Any:
            rejected = await ingest_otlp(self.st, "logs", "protobuf",
                                         request.SerializeToString(), project,
                                         hash(context.peer()))
            partial = logs_service_pb2.ExportLogsPartialSuccess(
                rejected_log_records=len(rejected), error_message=rejection_message(rejected)
            ) if rejected else None
            return logs_service_pb2.ExportLogsServiceResponse(partial_success=partial)

        return await _call(self.st, context, work)


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
