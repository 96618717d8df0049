"""Mapping tracevault errors to HTTP responses, in one place."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from google.rpc import status_pb2

from .._exceptions import (
    AuthError,
    ConfigError,
    DecodeError,
    FilterSyntaxError,
    InputError,
    NotFound,
    Overloaded,
    PayloadTooLarge,
    QueryError,
    StoreError,
    TraceVaultError,
    UnsupportedMediaType,
)

__all__ = ["STATUS", "error_response", "install_error_handlers"]

log = logging.getLogger("tracevault.server")

# (HTTP status, gRPC code number) per error class; the most specific class wins.
STATUS: list[tuple[type[TraceVaultError], int, int]] = [
    (PayloadTooLarge, 413, 8),
    (UnsupportedMediaType, 415, 3),
    (DecodeError, 400, 3),
    (InputError, 400, 3),
    (QueryError, 400, 3),
    (ConfigError, 400, 3),
    (AuthError, 401, 16),
    (NotFound, 404, 5),
    (Overloaded, 429, 8),
    (StoreError, 503, 14),
    (TraceVaultError, 500, 13),
]


def status_of(exc: TraceVaultError) -> tuple[int, int]:
    """HTTP status and gRPC code for an error."""
    for cls, http, grpc_code in STATUS:
        if isinstance(exc, cls):
            return http, grpc_code
    return 500, 13


def error_response(request: Request, exc: TraceVaultError) -> Response:
    """The response for an error: google.rpc.Status on OTLP routes, JSON elsewhere."""
    http, grpc_code = status_of(exc)
    headers = {}
    if isinstance(exc, Overloaded):
        headers["Retry-After"] = str(max(1, round(exc.retry_after)))
    if isinstance(exc, AuthError):
        headers["WWW-Authenticate"] = "Bearer"
    message = str(exc)
    if request.url.path.startswith("/v1/"):
        if "protobuf" in request.headers.get("content-type", ""):
            body = status_pb2.Status(code=grpc_code, message=message).SerializeToString()
            return Response(body, status_code=http, headers=headers,
                            media_type="application/x-protobuf")
        return JSONResponse({"code": grpc_code, "message": message}, status_code=http,
                            headers=headers)
    body: dict[str, object] = {"error": type(exc).__name__, "message": message}
    if isinstance(exc, FilterSyntaxError):
        body["column"] = exc.column
    return JSONResponse(body, status_code=http, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers on an app."""

    @app.exception_handler(TraceVaultError)
    async def _tv(request: Request, exc: TraceVaultError) -> Response:
        if isinstance(exc, StoreError):
            log.error("store error on %s: %s", request.url.path, exc)
        return error_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()) if p != 'query')}: {e.get('msg')}"
            for e in exc.errors()
        )
        return JSONResponse({"error": "InputError", "message": problems}, status_code=400)
