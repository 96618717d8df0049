"""The exception tree of tracevault.

Every error that tracevault raises on purpose derives from ``TraceVaultError``::

    TraceVaultError
    ├── ConfigError            a setting or argument has an unusable value
    ├── InputError             data sent to tracevault cannot be accepted
    │   ├── DecodeError        a body is not valid protobuf / JSON / file format
    │   ├── PayloadTooLarge    a body or value exceeds a documented limit
    │   └── UnsupportedMediaType  a content type tracevault does not speak
    ├── AuthError              missing or unknown API key
    ├── NotFound               a trace, span or blob that does not exist
    ├── QueryError             a filter or SQL statement that cannot run
    │   └── FilterSyntaxError  a filter expression with a mistake at a column
    ├── StoreError             the store cannot be opened or written
    │   ├── StoreBusy          another process holds the store for writing
    │   └── SchemaVersionError the store was written by a newer tracevault
    └── Overloaded             ingest queue is full; retry later

The HTTP server maps these to status codes in one place (``server/_errors.py``) and
the CLI maps them to exit code 2 with a one-line message.
"""

from __future__ import annotations

__all__ = [
    "AuthError",
    "ConfigError",
    "DecodeError",
    "FilterSyntaxError",
    "InputError",
    "NotFound",
    "Overloaded",
    "PayloadTooLarge",
    "QueryError",
    "SchemaVersionError",
    "StoreBusy",
    "StoreError",
    "TraceVaultError",
    "UnsupportedMediaType",
]


class TraceVaultError(Exception):
    """Base class of every error tracevault raises on purpose."""


class ConfigError(TraceVaultError):
    """A setting or argument has an unusable value."""


class InputError(TraceVaultError):
    """Data sent to tracevault cannot be accepted."""


class DecodeError(InputError):
    """A body is not valid protobuf, JSON or a known file format."""


class PayloadTooLarge(InputError):
    """A body or a single value exceeds a documented size limit."""


class UnsupportedMediaType(InputError):
    """A request used a content type tracevault does not accept."""


class AuthError(TraceVaultError):
    """A request had no API key or an unknown one."""


class NotFound(TraceVaultError):
    """A trace, span or blob that does not exist (in the caller's project)."""


class QueryError(TraceVaultError):
    """A filter expression or SQL statement that cannot run."""


class FilterSyntaxError(QueryError):
    """A filter expression with a mistake; ``column`` (1-based) says where."""

    def __init__(self, expression: str, column: int, problem: str) -> None:
        super().__init__(f"column {column}: {problem}")
        self.expression = expression
        self.column = column
        self.problem = problem

    def pointer(self) -> str:
        """The expression with a caret under the column (two lines)."""
        return f"{self.expression}\n{' ' * (self.column - 1)}^"


class StoreError(TraceVaultError):
    """The store cannot be opened, read or written."""


class StoreBusy(StoreError):
    """Another process holds the store file for writing."""


class SchemaVersionError(StoreError):
    """The store was written by a newer tracevault than this one."""


class Overloaded(TraceVaultError):
    """The ingest queue is full; the caller should retry after ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after
