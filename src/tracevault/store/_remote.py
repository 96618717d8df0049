"""Reading a store through a running tracevault server's REST API.

DuckDB lets one process write a file. While ``tracevault serve`` holds a store, the CLI
and ``tracevault.open(path)`` read it through the server instead (the server announces
itself in ``<store>.server.json``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import httpx
import orjson
import pyarrow as pa

from .._exceptions import AuthError, NotFound, QueryError, StoreError
from ..query._filters import SpanQuery, TraceQuery

__all__ = ["RemoteStore", "announce_path", "read_announcement"]


def announce_path(store_path: str) -> Path:
    """Where a server holding ``store_path`` announces its URL."""
    return Path(store_path + ".server.json")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_announcement(store_path: str) -> str | None:
    """The URL of the live server holding ``store_path``, if any."""
    p = announce_path(store_path)
    try:
        info = orjson.loads(p.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    if not isinstance(info, dict) or not _alive(int(info.get("pid", 0))):
        return None
    return str(info.get("url")) if info.get("url") else None


def _query_params(q: TraceQuery | SpanQuery) -> dict[str, Any]:
    params: dict[str, Any] = {}
    spans = q.spans if isinstance(q, TraceQuery) else q
    for name in ("service", "agent", "model", "status", "session", "start", "end"):
        value = getattr(q, name, None)
        if value is not None:
            params[name] = value
    for name in ("kind", "tool", "text", "name", "trace_id"):
        value = getattr(spans, name, None)
        if value is not None:
            params[name] = value
    if q.filter:
        params["filter"] = q.filter
    if q.project is not None:
        params["project"] = q.project
    if q.limit is not None:
        params["limit"] = q.limit
    params["offset"] = q.offset
    return params


class RemoteStore:
    """A read-only store client over the REST API of a tracevault server."""

    def __init__(self, url: str, api_key: str | None = None, timeout: float = 60.0) -> None:
        self.url = url.rstrip("/")
        key = api_key or os.environ.get("TRACEVAULT_API_KEY")
        self.api_key = key
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._client = httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            r = self._client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise StoreError(f"cannot reach tracevault server at {self.url}: {exc}") from None
        return self._check(r)

    def _get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self._request("GET", path, params=params)

    def _check(self, r: httpx.Response) -> Any:
        if r.status_code < 400:
            return r.json() if r.headers.get("content-type", "").startswith(
                "application/json") else r.content
        try:
            message = r.json().get("message", r.text)
        except ValueError:
            message = r.text
        if r.status_code == 404:
            raise NotFound(message)
        if r.status_code in (401, 403):
            raise AuthError(message)
        if r.status_code == 400:
            raise QueryError(message)
        raise StoreError(f"server answered {r.status_code}: {message}")

    def write(self, drafts: Any, logs: Any = ()) -> Any:
        """Writes go through OTLP or ``import_bytes``; drafts cannot be sent."""
        raise StoreError("a remote store is written through OTLP, not directly")

    def import_bytes(self, data: bytes, project: str | None = None) -> dict[str, Any]:
        """Send a trace file's bytes to the server's import endpoint."""
        return self._request("POST", "/api/import", content=data,
                             params={"project": project} if project else None,
                             headers={"Content-Type": "application/octet-stream"})

    def list_traces(self, query: TraceQuery) -> list[dict[str, Any]]:
        """Trace summaries matching ``query``."""
        return self._get("/api/traces", _query_params(query))["traces"]

    def count_traces(self, query: TraceQuery) -> int:
        """Number of traces matching ``query``."""
        return int(self._get("/api/traces", _query_params(query))["total"])

    def get_trace(self, project: str | None, trace_id: str) -> dict[str, Any]:
        """A whole trace with content."""
        return self._get(f"/api/traces/{trace_id}",
                         {"project": project} if project else None)

    def trace_outline(self, project: str | None, trace_id: str) -> dict[str, Any]:
        """A trace's spans without content."""
        return self._get(f"/api/traces/{trace_id}/outline",
                         {"project": project} if project else None)

    def get_span(self, project: str | None, trace_id: str, span_id: str,
                 original: bool = False) -> dict[str, Any]:
        """One span with content."""
        params: dict[str, Any] = {"original": str(original).lower()}
        if project:
            params["project"] = project
        return self._get(f"/api/traces/{trace_id}/spans/{span_id}", params)

    def spans_table(self, query: SpanQuery) -> pa.Table:
        """Matching spans as an Arrow table (fetched as Arrow IPC)."""
        params = _query_params(query)
        params["format"] = "arrow"
        data = self._get("/api/spans", params)
        return pa.ipc.open_stream(data).read_all()

    def load_blobs(self, hashes: Iterable[bytes]) -> dict[bytes, str]:
        """Blob texts by hash."""
        out = {}
        for h in hashes:
            try:
                out[h] = self._get(f"/api/blobs/{h.hex()}")["data"]
            except NotFound:
                continue
        return out

    def sql(self, statement: str, limit: int | None = None) -> pa.Table:
        """Run a read-only SELECT on the server (refused there when it has API keys)."""
        data = self._request("POST", "/api/sql", params={"format": "arrow"},
                             json={"sql": statement, "limit": limit})
        return pa.ipc.open_stream(data).read_all()

    def trace_group(self, project: str | None, group_id: str,
                    max_traces: int = 200) -> list[str]:
        """Trace ids joined with ``group_id``."""
        params: dict[str, Any] = {"max_traces": max_traces}
        if project:
            params["project"] = project
        return list(self._get(f"/api/groups/{group_id}", params)["trace_ids"])

    def verify(self) -> dict[str, Any]:
        """The server's verification report."""
        return self._get("/api/verify")

    def ledger_entry(self, node: str, seq: int) -> str | None:
        """The chain hash of one commit, or None."""
        return self._get("/api/ledger", {"node": node, "seq": seq}).get("chain_hash")

    def ledger_head(self) -> dict[str, Any] | None:
        """The latest commit."""
        return self._get("/api/ledger").get("head")

    def store_id(self) -> str:
        """The store's id."""
        return str(self._get("/api/ledger")["store_id"])

    def stats(self) -> dict[str, Any]:
        """Row counts reported by the server."""
        return self._get("/api/stats")

    # -- scores ---------------------------------------------------------------------------
    def write_scores(self, scores: list[dict[str, Any]]) -> int:
        """Store scores on the server."""
        return int(self._request("POST", "/api/scores", json={"scores": scores})["written"])

    def scores(self, *, project: str | None = None, trace_ids: list[str] | None = None,
               name: str | None = None, run_id: str | None = None,
               source: str | None = None, limit: int = 10_000) -> list[dict[str, Any]]:
        """Stored scores, oldest first."""
        params = {k: v for k, v in (("project", project), ("trace_id", trace_ids),
                                    ("name", name), ("run_id", run_id), ("source", source),
                                    ("limit", limit)) if v is not None}
        return list(self._get("/api/scores", params)["scores"])

    # -- datasets -------------------------------------------------------------------------
    def datasets(self) -> list[dict[str, Any]]:
        """Every dataset version."""
        return list(self._get("/api/datasets")["datasets"])

    def dataset_items(self, name: str, version: int | None = None) -> tuple[
            dict[str, Any], list[dict[str, Any]]]:
        """A dataset version and its items."""
        data = self._get(f"/api/datasets/{name}", {"version": version} if version else None)
        return data["dataset"], data["items"]

    def save_dataset(self, name: str, items: list[dict[str, Any]], source: dict[str, Any],
                     description: str | None = None) -> int:
        """Store a new dataset version on the server; returns its number."""
        data = self._request("POST", f"/api/datasets/{name}", json={
            "items": items, "source": source, "description": description})
        return int(data["dataset"]["version"])

    # -- retention and the access log (admin) ---------------------------------------------
    def retention_state(self) -> dict[str, Any]:
        """Policies, holds and purges."""
        return self._get("/api/retention")

    def set_retention_policy(self, name: str, **spec: Any) -> dict[str, Any]:
        """Create or replace a retention policy on the server."""
        return self._request("PUT", f"/api/retention/policies/{name}", json=spec)

    def remove_retention_policy(self, name: str) -> None:
        """Remove a retention policy."""
        self._request("DELETE", f"/api/retention/policies/{name}")

    def add_legal_hold(self, name: str, **spec: Any) -> dict[str, Any]:
        """Place a legal hold."""
        return self._request("PUT", f"/api/retention/holds/{name}", json=spec)

    def release_legal_hold(self, name: str) -> None:
        """Release a legal hold."""
        self._request("DELETE", f"/api/retention/holds/{name}")

    def apply_retention(self, *, dry_run: bool = False, now_ns: int | None = None,
                        policy: str | None = None) -> list[dict[str, Any]]:
        """Apply retention on the server (``now_ns`` is the server's clock)."""
        if now_ns is not None:
            raise StoreError("a server applies retention at its own time")
        return self._request("POST", "/api/retention/apply",
                             json={"dry_run": dry_run, "policy": policy})["policies"]

    def access_log(self, start: str | int | None = None, end: str | int | None = None,
                   principal: str | None = None, project: str | None = None,
                   limit: int = 1000) -> list[dict[str, Any]]:
        """Access log entries, newest first."""
        params = {k: v for k, v in (("from", start), ("to", end), ("principal", principal),
                                    ("limit", limit)) if v is not None}
        rows = self._get("/api/audit", params)["entries"]
        return [r for r in rows if project is None or r.get("project") == project]

    def access_summary(self, start: str | int | None = None,
                       end: str | int | None = None) -> dict[str, Any]:
        """Reads and changes per principal in a period."""
        by: dict[str, dict[str, Any]] = {}
        for r in self.access_log(start, end, limit=100_000):
            row = by.setdefault(r["principal"], {"who": r["principal"], "reads": 0,
                                                 "changes": 0, "last_ns": r["time_ns"]})
            row["reads" if r["action"].startswith("read") else "changes"] += 1
            row["last_ns"] = max(row["last_ns"], r["time_ns"])
        rows = sorted(by.values(), key=lambda r: r["who"])
        return {"by_principal": rows, "total": sum(r["reads"] + r["changes"] for r in rows)}

    def close(self) -> None:
        """Close the HTTP client."""
        self._client.close()
