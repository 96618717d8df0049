"""``tracevault serve``: run the OTLP receivers and the REST API."""

from __future__ import annotations

import logging

import click

from ..config import Settings

__all__ = ["serve_command"]


@click.command("serve")
@click.option("--host", default=None, help="Interface to bind (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="HTTP port (default 4318).")
@click.option("--grpc-port", type=int, default=None,
              help="OTLP/gRPC port (default 4317; 0 disables).")
@click.option("--store", default=None, envvar="TRACEVAULT_STORE", metavar="PATH",
              help="DuckDB store file (default ~/.tracevault/tracevault.duckdb) or a "
                   "ducklake:postgres://... URL.")
@click.option("--api-keys", default=None, metavar="KEY=PROJECT,...",
              help="Require API keys; each key reads and writes only its project.")
@click.option("--redact", default=None, metavar="DETECTORS",
              help="Redact at ingest: email,phone,card,api_key,iban or all.")
@click.option("--redact-rules", default=None, metavar="FILE",
              help="JSON file of custom redaction rules.")
def serve_command(host: str | None, port: int | None, grpc_port: int | None,
                  store: str | None, api_keys: str | None, redact: str | None,
                  redact_rules: str | None) -> None:
    """Serve OTLP/HTTP, OTLP/gRPC and the REST API on the embedded store."""
    import uvicorn

    from ..server import create_app

    settings = Settings.load(host=host, port=port, grpc_port=grpc_port, store=store,
                             api_keys=api_keys, redact=redact, redact_rules=redact_rules)
    logging.basicConfig(level=settings.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    display = "localhost" if settings.host in ("127.0.0.1", "::1") else settings.host
    url = f"http://{display}:{settings.port}"
    # Local clients reach the server at its bind address (0.0.0.0 means every interface).
    local = "127.0.0.1" if settings.host in ("0.0.0.0", "localhost") else settings.host
    local = f"[{local}]" if ":" in local else local
    app = create_app(settings, announce_url=f"http://{local}:{settings.port}")
    click.echo(f"tracevault serving store {settings.store_path}")
    click.echo(f"  OTLP/HTTP + REST: {url}  (OpenAPI: {url}/docs)")
    if settings.grpc_port:
        click.echo(f"  OTLP/gRPC:        {settings.host}:{settings.grpc_port}")
    if settings.redact or settings.redact_rules:
        click.echo(f"  redacting at ingest: {settings.redact or ''} "
                   f"{settings.redact_rules or ''}".rstrip())
    if not settings.api_keys and settings.host not in ("127.0.0.1", "localhost", "::1"):
        click.echo("  warning: no API keys configured; only localhost clients are accepted",
                   err=True)
    uvicorn.run(app, host=settings.host, port=settings.port,
                log_level=settings.log_level.lower(), access_log=False)
