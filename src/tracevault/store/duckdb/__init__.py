"""The DuckDB backends: an embedded file, or a DuckLake shared by many nodes."""

from ._lake import DuckLakeStore
from ._store import DuckDBStore

__all__ = ["DuckDBStore", "DuckLakeStore"]
