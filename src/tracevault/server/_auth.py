"""API keys per project, and the localhost-only rule when no keys are configured."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress

from fastapi import Request

from .._exceptions import AuthError

__all__ = ["ADMIN", "Auth", "key_from_headers"]

ADMIN = "*"
"""The project of an admin API key."""


def key_from_headers(headers: dict[str, str] | object) -> str | None:
    """The API key of a request: ``Authorization: Bearer KEY`` or ``X-API-Key: KEY``."""
    get = headers.get  # type: ignore[attr-defined]
    auth = get("authorization") or ""
    if auth.lower().startswith("bearer "):
        return auth[7:].strip() or None
    return (get("x-api-key") or "").strip() or None


def _loopback(host: str | None) -> bool:
    if host is None:
        return True  # in-process (ASGI transport, tests)
    if host in ("localhost", "testclient"):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


class Auth:
    """Resolves the project a request may read and write."""

    def __init__(self, keys: dict[str, str]) -> None:
        self.keys = dict(keys)

    @property
    def enabled(self) -> bool:
        """Whether API keys are configured."""
        return bool(self.keys)

    def project_for_key(self, key: str | None, client_host: str | None) -> str | None:
        """The project a key grants; None means "every project".

        Every project: no keys configured (localhost only), or an admin key (project
        ``*``), which may also verify, run SQL, manage retention and read the access log.
        """
        if not self.keys:
            if not _loopback(client_host):
                raise AuthError("this server has no API keys configured and accepts "
                                "requests from localhost only")
            return None
        if not key:
            raise AuthError("missing API key: send 'Authorization: Bearer KEY'")
        for known, project in self.keys.items():
            if hmac.compare_digest(known.encode(), key.encode()):
                return None if project == ADMIN else project
        raise AuthError("unknown API key")

    def principal(self, request: Request) -> str:
        """Who a request comes from, for the access log.

        The key's project and a short fingerprint of the key (never the key), or the
        client address on a server without keys.
        """
        key = key_from_headers(request.headers)
        if self.keys and key:
            project = self.keys.get(key, "?")
            name = "admin" if project == ADMIN else project
            return f"key {name} #{hashlib.sha256(key.encode()).hexdigest()[:8]}"
        return f"local {request.client.host if request.client else 'in-process'}"

    def project(self, request: Request) -> str | None:
        """The project scope of an HTTP request."""
        client = request.client.host if request.client else None
        return self.project_for_key(key_from_headers(request.headers), client)
