"""Reading records of older schema versions: upcasters from version N to N+1.

Every stored record carries ``schema_version``. A reader upcasts a record step by step
to ``SCHEMA_VERSION`` before validating it, so old stores stay readable forever.
Golden files of each version under ``tests/schema/golden/`` keep this promise tested.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._exceptions import SchemaVersionError
from ._span import SCHEMA_VERSION

__all__ = ["UPCASTERS", "upcast"]

Record = dict[str, Any]

UPCASTERS: dict[int, Callable[[Record], Record]] = {}
"""``UPCASTERS[n]`` turns a version-``n`` record into a version ``n + 1`` record."""


def upcast(record: Record) -> Record:
    """Bring a record of any known version to the current schema version."""
    version = int(record.get("schema_version", 1))
    if version > SCHEMA_VERSION:
        raise SchemaVersionError(
            f"record has schema_version {version}; this tracevault reads up to {SCHEMA_VERSION}"
        )
    while version < SCHEMA_VERSION:
        record = UPCASTERS[version](record)
        version += 1
        record["schema_version"] = version
    return record
