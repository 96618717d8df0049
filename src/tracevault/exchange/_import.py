"""Importing a bundle: verify everything first, then ingest spans and add scores."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

from .._exceptions import NotFound
from ..ingest._prepare import prepare_logs, prepare_spans
from ..ingest._raw import RawLog, RawSpan
from ._bundle import LOGS, SCORES, SPANS, TRACES, BundleInfo
from ._otlp import logs_document, traces_document
from ._records import log_from_dict, span_from_dict
from ._verify import OpenBundle, check_records, open_bundle

__all__ = ["import_bundle"]

_BATCH_SPANS = 5000
_BATCH_SCORES = 1000


class _Loader:
    """Feeds spans to the store's ingest path, one original commit group at a time.

    A group never shares a commit with another group of the same trace, so each trace's
    summary parts are summed over the same spans as in the source store.
    """

    def __init__(self, store: Any) -> None:
        from ..store._remote import RemoteStore

        self.store = store
        self.remote = isinstance(store, RemoteStore)
        self.spans: list[RawSpan] = []
        self.logs: list[RawLog] = []
        self.traces: set[tuple[str, str]] = set()
        self.stored = self.duplicates = self.stored_logs = 0

    def add(self, key: tuple[str, str], spans: list[RawSpan], logs: list[RawLog]) -> None:
        if key in self.traces or len(self.spans) >= _BATCH_SPANS:
            self.flush()
        self.spans += spans
        self.logs += logs
        self.traces.add(key)

    def flush(self) -> None:
        if self.spans or self.logs:
            if self.remote:
                self._send()
            else:
                drafts, rejected = prepare_spans(self.spans)
                logs = prepare_logs(self.logs)
                result = self.store.write(drafts, logs)
                self.stored += result.spans
                self.duplicates += result.duplicates + len(rejected)
                self.stored_logs += len(logs)
        self.spans, self.logs, self.traces = [], [], set()

    def _send(self) -> None:
        # The server answers how many spans it read, not how many were new: count rows.
        before = self.store.stats()
        projects = sorted({s.project or "default" for s in self.spans}
                          | {g.project or "default" for g in self.logs})
        for project in projects:
            spans = [s for s in self.spans if (s.project or "default") == project]
            logs = [g for g in self.logs if (g.project or "default") == project]
            if spans:
                self.store.import_bytes(orjson.dumps(traces_document(spans)), project=project)
            if logs:
                self.store.import_bytes(orjson.dumps(logs_document(logs)), project=project)
        after = self.store.stats()
        stored = after["spans"] - before["spans"]
        self.stored += stored
        self.duplicates += len(self.spans) - stored
        self.stored_logs += len(self.logs)


def _stored_span_ids(store: Any, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str],
                                                                           set[str]]:
    out = {}
    for project, trace_id in keys:
        try:
            outline = store.trace_outline(project, trace_id)
        except NotFound:
            continue
        out[(project, trace_id)] = {s["span_id"] for s in outline["spans"]}
    return out


def _new_logs(bundle: OpenBundle, bundled: dict[tuple[str, str], int],
              stored: dict[tuple[str, str], set[str]]) -> dict[tuple[str, str], list[RawLog]]:
    """Log records to write, by trace: not those of spans the store holds already."""
    out: dict[tuple[str, str], list[RawLog]] = {}
    for _, rec in bundle.records(LOGS):
        log = log_from_dict(rec)
        key = (log.project or "", log.trace_id or "")
        if key in stored:
            continue  # the trace (with its log records) is in the store already
        if key in bundled:
            out.setdefault(key, []).append(log)
    return out


def _load_spans(bundle: OpenBundle, loader: _Loader,
                logs: dict[tuple[str, str], list[RawLog]]) -> None:
    key: tuple[str, str] | None = None
    groups: dict[int, list[RawSpan]] = {}

    def done() -> None:
        if key is None:
            return
        first = True
        for group in groups.values():
            loader.add(key, group, logs.pop(key, []) if first else [])
            first = False

    for _, rec in bundle.records(SPANS):
        commit = rec.pop("commit")
        span = span_from_dict(rec)
        span_key = (span.project or "", span.trace_id)
        if span_key != key:
            done()
            key, groups = span_key, {}
        groups.setdefault(commit, []).append(span)
    done()
    loader.flush()


def _add_scores(vault: Any, bundle: OpenBundle) -> int:
    from ..evals import Score

    stored = 0
    batch: list[Score] = []
    for _, rec in bundle.records(SCORES):
        batch.append(Score.from_dict(rec))
        if len(batch) >= _BATCH_SCORES:
            stored += vault.add_scores(batch)
            batch = []
    if batch:
        stored += vault.add_scores(batch)
    return stored


def _mismatched(store: Any, bundle: OpenBundle) -> list[str]:
    out = []
    for _, rec in bundle.records(TRACES):
        summary = rec["summary"]
        try:
            stored = store.get_trace(summary["project"], summary["trace_id"])
        except NotFound:
            stored = None
        if stored != rec:
            out.append(summary["trace_id"])
    return out


def import_bundle(vault: Any, path: str | Path, public_key: str | None = None) -> BundleInfo:
    """Verify a bundle completely, then store its traces and scores.

    Nothing is written unless every member's SHA-256, the signature (required for
    ``public_key``, checked whenever present) and every record are valid; otherwise an
    ``InputError`` says what differs. Spans go through the ingest path (deduplicated,
    redacted as the store is configured, committed to the ledger); scores keep their
    ids, so importing a bundle twice stores nothing new.
    """
    with open_bundle(path, public_key) as bundle:
        bundled = check_records(bundle)
        stored = _stored_span_ids(vault.store, list(bundled))
        logs = _new_logs(bundle, bundled, stored)
        loader = _Loader(vault.store)
        _load_spans(bundle, loader, logs)
        scores = _add_scores(vault, bundle) if bundle.manifest["counts"]["scores"] else 0
        info = bundle.info()
        info.mismatched = _mismatched(vault.store, bundle)
    info.stored_spans = loader.stored
    info.duplicate_spans = loader.duplicates
    info.stored_logs = loader.stored_logs
    info.stored_scores = scores
    return info
