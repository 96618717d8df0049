"""The HTTP server: OTLP/HTTP and OTLP/gRPC receivers and the REST API."""

from ._app import create_app

__all__ = ["create_app"]
