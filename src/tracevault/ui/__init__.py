"""The web UI: a static single-page app served by ``tracevault serve`` at ``/``.

Plain HTML, CSS and JavaScript modules in ``static/`` (no build step, nothing fetched from
other hosts). The pages read the REST API; a strict Content-Security-Policy keeps every
request on the server's own origin. See docs/ui.md.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles

__all__ = ["CSP", "STATIC", "mount_ui"]

STATIC = Path(__file__).parent / "static"
"""Where the UI's files are."""

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")
"""Content-Security-Policy of the UI page: nothing but the server itself."""


def mount_ui(app: FastAPI) -> None:
    """Serve the UI at ``/`` and its files under ``/ui/``."""

    @app.get("/", include_in_schema=False)
    async def index(request: Request) -> Response:
        from ..server._state import state

        auth = state(request).auth
        if not auth.enabled:
            auth.project(request)  # without API keys: localhost only
        return FileResponse(STATIC / "index.html", media_type="text/html", headers={
            "Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer", "Cache-Control": "no-cache"})

    app.mount("/ui", StaticFiles(directory=STATIC), name="ui")
