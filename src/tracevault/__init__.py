"""tracevault: a durable, append-only, queryable trace store for AI agents."""

from ._exceptions import (
    AuthError,
    ConfigError,
    DecodeError,
    FilterSyntaxError,
    InputError,
    NotFound,
    Overloaded,
    PayloadTooLarge,
    QueryError,
    SchemaVersionError,
    StoreBusy,
    StoreError,
    TraceVaultError,
    UnsupportedMediaType,
)
from ._version import __version__
from .query import Trace, Vault, open

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
    "Trace",
    "TraceVaultError",
    "UnsupportedMediaType",
    "Vault",
    "__version__",
    "open",
]
