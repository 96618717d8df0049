"""Datasets curated from real traces: items, sampling, de-duplication, JSONL exchange.

An item is what an agent was asked and what it did: ``input`` (the run's task),
``expected_output`` (its final answer), ``expected_trajectory`` (its tool calls, in
order, as ``{"name", "arguments"}``) and ``metadata`` (the source trace, its status,
agents and models). Datasets are stored in numbered versions that never change; adding
or removing items makes a new version.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import orjson

from .._exceptions import DecodeError, InputError

__all__ = ["SAMPLERS", "dedupe", "item_from_trace", "read_items_jsonl", "sample",
           "write_items_jsonl"]

SAMPLERS = ("recent", "random", "failures-first", "stratified")
"""How a dataset picks ``n`` items among the traces a filter matches."""

_WORD = re.compile(r"\w+")


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else orjson.dumps(value).decode()


def item_from_trace(summary: Any, spans: Sequence[Any]) -> dict[str, Any]:
    """The dataset item of one trace (its summary and spans)."""
    ordered = sorted(spans, key=lambda s: (s.start_time_ns, s.span_id))
    roots = [s for s in ordered if s.parent_span_id is None]
    root = roots[0] if roots else None
    given = getattr(root.detail, "input", None) if root else None
    answer = getattr(root.detail, "output", None) if root else None
    llms = [s for s in ordered if s.kind == "llm"]
    if given is None and llms:
        users = [m for m in llms[0].detail.input_messages if m.role == "user"]
        given = "\n".join(p.content for p in (users[0].parts if users else [])
                          if p.type == "text") or None
    if answer is None and llms:
        texts = [p.content for m in llms[-1].detail.output_messages for p in m.parts
                 if p.type == "text"]
        answer = "\n".join(texts) or None
    trajectory = [{"name": s.detail.name, "arguments": s.detail.arguments}
                  for s in ordered if s.kind == "tool" and s.detail.name]
    key = f"{summary.project}/{summary.trace_id}".encode()
    return {
        "id": hashlib.sha256(key).hexdigest()[:16],
        "project": summary.project,
        "trace_id": summary.trace_id,
        "input": given,
        "expected_output": answer,
        "expected_trajectory": trajectory,
        "metadata": {"source_trace_id": summary.trace_id, "status": summary.status,
                     "root_name": summary.root_name, "agents": summary.agents,
                     "models": summary.models, "service": summary.service_name,
                     "start_time_ns": summary.start_time_ns},
    }


def _words(value: Any) -> frozenset[str]:
    return frozenset(w.lower() for w in _WORD.findall(_text(value)))


def dedupe(items: Sequence[dict[str, Any]], threshold: float = 0.9) -> list[dict[str, Any]]:
    """Drop items whose input is near-identical to an earlier one's.

    Near-identical: the same words (case and punctuation ignored) or a word-set Jaccard
    similarity of at least ``threshold`` (1.0 keeps all but exact word-set repeats).
    """
    if not 0 < threshold <= 1:
        raise InputError("the de-duplication threshold is a number in (0, 1]")
    kept: list[dict[str, Any]] = []
    seen: list[frozenset[str]] = []
    exact: set[frozenset[str]] = set()
    for item in items:
        words = _words(item.get("input"))
        if words in exact:
            continue
        if threshold < 1 and any(len(words & w) / max(1, len(words | w)) >= threshold
                                 for w in seen):
            continue
        exact.add(words)
        seen.append(words)
        kept.append(item)
    return kept


def _stratum(item: dict[str, Any], field: str) -> str:
    value = item["metadata"].get(field, item.get(field))
    if isinstance(value, list):
        return ",".join(sorted(map(str, value)))
    return str(value)


def sample(items: Sequence[dict[str, Any]], n: int | None, how: str = "recent",
           seed: int = 0, by: str | None = None) -> list[dict[str, Any]]:
    """Pick up to ``n`` items (all when ``n`` is None) with one of ``SAMPLERS``.

    ``stratified`` draws from each value of the metadata field ``by`` (status, agents,
    models, service, root_name...) in proportion to its size, at least one each while
    ``n`` allows.
    """
    if how not in SAMPLERS:
        raise InputError(f"unknown sampling {how!r}: use one of {', '.join(SAMPLERS)}")
    if n is not None and n < 1:
        raise InputError("a dataset needs at least one item")
    newest = sorted(items, key=lambda i: -int(i["metadata"].get("start_time_ns") or 0))
    n = len(newest) if n is None else min(n, len(newest))
    rng = random.Random(seed)
    if how == "recent":
        return newest[:n]
    if how == "random":
        return rng.sample(newest, n)
    if how == "failures-first":
        return sorted(newest, key=lambda i: i["metadata"].get("status") != "error")[:n]
    if not by:
        raise InputError("stratified sampling needs a field to stratify by (--by)")
    strata: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in newest:
        strata[_stratum(item, by)].append(item)
    order = sorted(strata, key=lambda k: -len(strata[k]))
    quota = {k: max(1, round(n * len(strata[k]) / len(newest))) for k in order}
    while sum(quota.values()) > n:  # trim the largest strata first, never below one
        k = max((k for k in order if quota[k] > 1), key=lambda k: quota[k], default=None)
        if k is None:
            quota[order[-1]] = 0
            order.pop()
            continue
        quota[k] -= 1
    picked = [x for k in order for x in rng.sample(strata[k], min(quota[k], len(strata[k])))]
    chosen = {id(x) for x in picked}
    rest = [x for x in newest if id(x) not in chosen]
    return picked + rng.sample(rest, min(n - len(picked), len(rest)))


def write_items_jsonl(items: Iterable[dict[str, Any]], path: str | Path,
                      labels: dict[str, list[dict[str, Any]]] | None = None,
                      dataset: dict[str, Any] | None = None) -> int:
    """Write items as JSON lines (labels by trace id, dataset name/version in metadata)."""
    n = 0
    with open(path, "wb") as out:
        for item in items:
            meta = dict(item.get("metadata") or {})
            if dataset:
                meta.update({"dataset": dataset["name"], "version": dataset["version"]})
            line = {"id": item["id"], "input": item.get("input"),
                    "expected_output": item.get("expected_output"),
                    "expected_trajectory": item.get("expected_trajectory") or [],
                    "metadata": meta,
                    "labels": (labels or {}).get(item.get("trace_id") or "", [])}
            out.write(orjson.dumps(line) + b"\n")
            n += 1
    return n


def read_items_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """Items from a JSON-lines file written by ``write_items_jsonl`` (or by hand).

    Each line needs ``input``; ``id`` defaults to a hash of the line's content.
    """
    items = []
    try:
        lines = Path(path).read_bytes().splitlines()
    except OSError as exc:
        raise DecodeError(f"cannot read {path}: {exc.strerror or exc}") from None
    for number, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        try:
            line = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise DecodeError(f"{path} line {number}: not JSON ({exc})") from None
        if not isinstance(line, dict) or "input" not in line:
            raise DecodeError(f"{path} line {number}: an item is an object with an 'input'")
        meta = line.get("metadata") or {}
        items.append({
            "id": str(line.get("id") or hashlib.sha256(raw).hexdigest()[:16]),
            "project": None, "trace_id": None,
            "input": line["input"], "expected_output": line.get("expected_output"),
            "expected_trajectory": line.get("expected_trajectory") or [],
            "metadata": {**meta, "labels": line.get("labels") or []},
        })
    return items
