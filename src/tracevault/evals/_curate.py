"""Making, labelling, exporting and importing datasets in a store."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Any

from .._exceptions import InputError, NotFound
from ._dataset import dedupe, item_from_trace, read_items_jsonl, sample, write_items_jsonl
from ._score import Score

__all__ = ["create_dataset", "export_dataset", "import_dataset", "label_item",
           "label_score", "labels_of", "remove_items"]

MAX_CANDIDATES = 10_000
"""A dataset draws from at most this many of the newest matching traces."""


def _store(vault: Any) -> Any:
    if not hasattr(vault.store, "save_dataset"):
        raise InputError("this store does not keep datasets")
    return vault.store


def create_dataset(vault: Any, name: str, *, filter: str | None = None,  # noqa: A002
                   start: str | int | None = None, end: str | int | None = None,
                   project: str | None = None, n: int | None = None,
                   sampling: str = "recent", by: str | None = None, seed: int = 0,
                   dedup: float | None = 0.9, description: str | None = None,
                   extend: bool = False) -> dict[str, Any]:
    """Make a dataset version from the traces a filter matches; returns its info.

    With ``extend``, the new version holds the latest version's items plus the new ones.
    """
    store = _store(vault)
    summaries = vault.traces(filter=filter, start=start, end=end, project=project,
                             limit=MAX_CANDIDATES)
    if not summaries:
        raise InputError("no trace matches: the dataset would be empty")
    candidates = [item_from_trace(s, vault.trace(s.trace_id, project=s.project).spans)
                  for s in summaries]
    base: list[dict[str, Any]] = []
    extends = None
    if extend:
        try:
            latest, base = store.dataset_items(name)
            extends = latest["version"]
        except NotFound:
            base = []
        known = {i["id"] for i in base}
        candidates = [c for c in candidates if c["id"] not in known]
    if dedup:  # representatives: failures when failures come first, else the newest
        candidates.sort(key=lambda i: -int(i["metadata"].get("start_time_ns") or 0))
        if sampling == "failures-first":
            candidates.sort(key=lambda i: i["metadata"].get("status") != "error")
        candidates = dedupe(base + candidates, dedup)[len(base):]
    items = base + sample(candidates, n, sampling, seed, by) if candidates else base
    source = {"filter": filter, "from": start, "to": end, "project": project, "n": n,
              "sampling": sampling, "by": by, "seed": seed, "dedup": dedup,
              "extends": extends, "matched": len(summaries)}
    version = store.save_dataset(name, items, source, description)
    return store.dataset_items(name, version)[0]


def remove_items(vault: Any, name: str, item_ids: list[str]) -> dict[str, Any]:
    """A new version of the dataset without the given items."""
    store = _store(vault)
    info, items = store.dataset_items(name)
    unknown = set(item_ids) - {i["id"] for i in items}
    if unknown:
        raise InputError(f"dataset {name!r} has no item(s) {', '.join(sorted(unknown))}")
    kept = [i for i in items if i["id"] not in set(item_ids)]
    version = store.save_dataset(name, kept, {"removed": sorted(item_ids),
                                              "extends": info["version"]},
                                 info.get("description"))
    return store.dataset_items(name, version)[0]


def labels_of(vault: Any, name: str, items: list[dict[str, Any]]) -> dict[str, list[dict]]:
    """Human labels given to the items' source traces while labelling this dataset."""
    ids = [i["trace_id"] for i in items if i.get("trace_id")]
    out: dict[str, list[dict[str, Any]]] = {}
    if not ids:
        return out
    for s in vault.scores(ids, source="human", run_id=f"dataset:{name}"):
        out.setdefault(s.trace_id, []).append(
            {"name": s.name, "label": s.label, "value": s.value, "author": s.author,
             "explanation": s.explanation, "created_ns": s.created_ns})
    return out


def label_item(vault: Any, name: str, item_id: str, *, label: str | None = None,
               value: float | None = None, comment: str | None = None,
               author: str | None = None, score_name: str = "label") -> Score:
    """Label one item: a human score on its source trace (run ``dataset:NAME``)."""
    score = label_score(_store(vault), name, item_id, label=label, value=value,
                        comment=comment, author=author, score_name=score_name)
    vault.add_scores([score])
    return score


def label_score(store: Any, name: str, item_id: str, *, label: str | None = None,
                value: float | None = None, comment: str | None = None,
                author: str | None = None, score_name: str = "label") -> Score:
    """The human score labelling one item (not stored yet)."""
    _, items = store.dataset_items(name)
    item = next((i for i in items if i["id"] == item_id), None)
    if item is None:
        raise NotFound(f"dataset {name!r} has no item {item_id!r}")
    if not item.get("trace_id"):
        raise InputError(f"item {item_id} came from a file, not from a trace of this store: "
                         "it cannot be labelled here")
    return Score(score_name, value=value, label=label, explanation=comment,
                 trace_id=item["trace_id"], project=item.get("project") or "default",
                 source="human", author=author or getpass.getuser(),
                 run_id=f"dataset:{name}", metadata={"item_id": item_id})


def export_dataset(vault: Any, name: str, path: str | Path,
                   version: int | None = None) -> dict[str, Any]:
    """Write a dataset version as JSON lines (with its labels); returns its info."""
    info, items = _store(vault).dataset_items(name, version)
    write_items_jsonl(items, path, labels_of(vault, name, items), info)
    return info


def import_dataset(vault: Any, path: str | Path, name: str,
                   description: str | None = None) -> dict[str, Any]:
    """Store the items of a JSON-lines file as the next version of dataset ``name``."""
    items = read_items_jsonl(path)
    if not items:
        raise InputError(f"{path} holds no items")
    store = _store(vault)
    version = store.save_dataset(name, items, {"imported": str(path)}, description)
    return store.dataset_items(name, version)[0]
