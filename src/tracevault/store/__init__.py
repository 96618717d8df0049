"""Stores: the ``TraceStore`` protocol and ``open_store(url)``.

URL forms:
  ``PATH`` or ``duckdb:PATH``   an embedded DuckDB file (created when missing)
  ``:memory:``                  an in-memory DuckDB store (tests, experiments)
  ``http(s)://HOST:PORT``       a running tracevault server, read through its REST API
  ``ducklake:postgres://USER@HOST:PORT/DB?data_path=DIR``
                                a DuckLake shared by many nodes: catalog in PostgreSQL, data
                                files under DIR (also ``ducklake:postgres:dbname=DB host=H
                                port=P user=U data_path=DIR``); see docs/operations.md
Other schemes are looked up among ``tracevault.stores`` entry points; a plugin that fails
to load is reported as a warning, not an error.
"""

from __future__ import annotations

import warnings
from importlib.metadata import entry_points
from typing import Any

from .._exceptions import ConfigError, StoreBusy
from ._protocol import TraceStore
from ._remote import RemoteStore, announce_path
from ._remote import read_announcement as _read_announcement
from .duckdb import DuckDBStore, DuckLakeStore

__all__ = ["DuckDBStore", "DuckLakeStore", "RemoteStore", "TraceStore", "announce_path",
           "open_store"]


def _plugin(scheme: str) -> Any:
    for ep in entry_points(group="tracevault.stores"):
        if ep.name == scheme:
            try:
                return ep.load()
            except Exception as exc:  # a broken plugin must not take tracevault down
                warnings.warn(f"store plugin {ep.name!r} failed to load: {exc}",
                              RuntimeWarning, stacklevel=3)
                return None
    return None


def open_store(url: str, *, read_only: bool = False, via_server: bool = True,
               **options: Any) -> Any:
    """Open a store by URL. See the module docstring for the URL forms.

    When a DuckDB file is held by a running ``tracevault serve`` and ``via_server`` is
    true, a ``RemoteStore`` reading through that server is returned instead.
    """
    if url.startswith(("http://", "https://")):
        return RemoteStore(url, api_key=options.get("api_key"))
    scheme, sep, rest = url.partition(":")
    duck_opts = {k: v for k, v in options.items()
                 if k in ("memory_limit", "node_id", "cache_mb", "threads")}
    if scheme == "ducklake":
        return DuckLakeStore(url, read_only=read_only, **duck_opts)
    if sep and len(scheme) > 1 and scheme not in ("duckdb",) and not url.startswith(":memory"):
        factory = _plugin(scheme)
        if factory is None:
            raise ConfigError(f"no store backend for URL scheme {scheme!r}")
        return factory(url, read_only=read_only, **options)
    path = rest if scheme == "duckdb" and sep else url
    try:
        return DuckDBStore(path, read_only=read_only, **duck_opts)
    except StoreBusy:
        server = _read_announcement(path) if via_server else None
        if server is None:
            raise
        return RemoteStore(server, api_key=options.get("api_key"))

