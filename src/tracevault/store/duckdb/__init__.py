"""The embedded DuckDB backend."""

from ._store import DuckDBStore

__all__ = ["DuckDBStore"]
