"""Datasets in the DuckDB store: immutable, numbered versions of curated items."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

import duckdb

from ..._exceptions import InputError, NotFound
from ._writer import transaction

__all__ = ["dataset_items", "list_datasets", "save_dataset"]

_ITEM_JSON = ("input", "expected_output", "expected_trajectory", "metadata")


def save_dataset(con: duckdb.DuckDBPyConnection, name: str, items: Sequence[dict[str, Any]],
                 source: dict[str, Any], description: str | None = None) -> int:
    """Store ``items`` as the next version of dataset ``name``; returns the version."""
    if not name or not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise InputError(f"bad dataset name {name!r}: use letters, digits, '-', '_', '.'")
    ids = [i["id"] for i in items]
    if len(set(ids)) != len(ids):
        raise InputError("two items of the dataset have the same id")
    with transaction(con):
        version = int(con.execute("SELECT coalesce(max(version), 0) + 1 FROM datasets "
                                  "WHERE name = ?", [name]).fetchone()[0])
        con.execute("INSERT INTO datasets VALUES (?, ?, ?, ?, ?, ?)",
                    [name, version, time.time_ns(), description, json.dumps(source),
                     len(items)])
        if items:
            con.executemany(
                "INSERT INTO dataset_items VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [[name, version, pos, item["id"], item.get("project"), item.get("trace_id"),
                  *(json.dumps(item.get(k)) for k in _ITEM_JSON)]
                 for pos, item in enumerate(items)])
    return version


def list_datasets(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Every dataset version: name, version, created_ns, description, source, items."""
    cur = con.execute("SELECT * FROM datasets ORDER BY name, version")
    names = [d[0] for d in cur.description]
    rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    for r in rows:
        r["source"] = json.loads(r["source"])
    return rows


def dataset_items(con: duckdb.DuckDBPyConnection, name: str,
                  version: int | None = None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A dataset version (the latest without ``version``) and its items in order."""
    versions = [d for d in list_datasets(con) if d["name"] == name]
    if not versions:
        raise NotFound(f"no dataset named {name!r}")
    if version is None:
        info = versions[-1]
    else:
        found = [d for d in versions if d["version"] == version]
        if not found:
            raise NotFound(f"dataset {name!r} has no version {version} (it has "
                           f"{', '.join(str(d['version']) for d in versions)})")
        info = found[0]
    cur = con.execute(
        "SELECT item_id, project, trace_id, input, expected_output, expected_trajectory, "
        "metadata FROM dataset_items WHERE dataset = ? AND version = ? ORDER BY position",
        [name, info["version"]])
    items = []
    for item_id, project, trace_id, *values in cur.fetchall():
        item: dict[str, Any] = {"id": item_id, "project": project, "trace_id": trace_id}
        item.update({k: json.loads(v) if v is not None else None
                     for k, v in zip(_ITEM_JSON, values, strict=True)})
        items.append(item)
    return info, items
