"""Trace bundles: one portable, verifiable file holding traces, their content and scores.

A bundle is a zip archive of zstd-compressed JSON-lines members and a manifest naming
each member's SHA-256 (see docs/exchange.md). ``write_bundle`` takes a store and a list
of ``(project, trace_id)``, so retention archives use it too.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, BinaryIO

import orjson
import zstandard
from cryptography.hazmat.primitives import serialization

from .._exceptions import InputError
from .._version import __version__
from ..schema import SCHEMA_VERSION
from ._records import iter_traces, log_to_dict, select_traces, span_to_dict

__all__ = ["BundleInfo", "export_bundle", "write_bundle"]

FORMAT = "tracevault-bundle"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SIGNATURE = "signature.json"
TRACES, SPANS, LOGS, SCORES = ("traces.jsonl.zst", "spans.jsonl.zst", "logs.jsonl.zst",
                               "scores.jsonl.zst")
MEMBERS = (TRACES, SPANS, LOGS, SCORES)
_CHUNK = 1 << 20
_SCORES_PAGE = 100_000  # the most a server answers at once


@dataclass
class BundleInfo:
    """What a bundle holds (and, after an import, what was stored from it)."""

    path: str
    sha256: str
    """SHA-256 of the whole bundle file."""
    manifest: dict[str, Any]
    signed: bool = False
    public_key: str | None = None
    """Hex Ed25519 public key of the signature, when signed."""
    stored_spans: int | None = None
    """Import only: spans written (the rest were already in the store)."""
    duplicate_spans: int | None = None
    stored_logs: int | None = None
    stored_scores: int | None = None
    mismatched: list[str] = field(default_factory=list)
    """Import only: traces whose stored form differs from the bundled one afterwards
    (redaction at ingest, or the trace held other spans already)."""

    @property
    def counts(self) -> dict[str, int]:
        """``traces``, ``spans``, ``logs`` and ``scores`` in the bundle."""
        return dict(self.manifest.get("counts") or {})

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        out = {"path": self.path, "sha256": self.sha256, "signed": self.signed,
               "public_key": self.public_key, "counts": self.counts,
               "source": self.manifest.get("source"), "created": self.manifest.get("created")}
        if self.stored_spans is not None:
            out.update(stored_spans=self.stored_spans, duplicate_spans=self.duplicate_spans,
                       stored_logs=self.stored_logs, stored_scores=self.stored_scores,
                       mismatched=self.mismatched)
        return out


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def signed_message(manifest_sha256: str) -> bytes:
    """The exact bytes an Ed25519 bundle signature covers."""
    return f"{FORMAT}|{manifest_sha256}".encode()


class _MemberWriter:
    """One JSON-lines member, zstd-compressed into a temporary file."""

    def __init__(self, directory: Path, name: str) -> None:
        self.name = name
        self.path = directory / name
        self._file: BinaryIO = open(self.path, "wb")
        self._zstd = zstandard.ZstdCompressor(level=9).stream_writer(self._file, closefd=False)
        self.records = 0

    def write(self, record: Any) -> None:
        self._zstd.write(orjson.dumps(record) + b"\n")
        self.records += 1

    def close(self) -> dict[str, Any]:
        self._zstd.flush(zstandard.FLUSH_FRAME)
        self._zstd.close()
        self._file.close()
        return {"sha256": file_sha256(self.path), "bytes": self.path.stat().st_size,
                "records": self.records, "encoding": "jsonl+zstd"}


def _read_scores(store: Any, traces: Sequence[tuple[str, str]]) -> Iterator[dict[str, Any]]:
    by_project: dict[str, list[str]] = {}
    for project, trace_id in traces:
        by_project.setdefault(project, []).append(trace_id)
    for project, ids in by_project.items():
        for i in range(0, len(ids), 500):
            yield from _scores_of(store, project, ids[i:i + 500])


def _scores_of(store: Any, project: str, ids: list[str]) -> list[dict[str, Any]]:
    """Every score of the traces; halves the request when a page may be cut short."""
    rows = store.scores(project=project, trace_ids=ids, limit=_SCORES_PAGE)
    if len(rows) < _SCORES_PAGE:
        return list(rows)
    if len(ids) == 1:
        raise InputError(f"trace {ids[0]} has more than {_SCORES_PAGE} scores; "
                         "export it from the store file directly")
    half = len(ids) // 2
    return _scores_of(store, project, ids[:half]) + _scores_of(store, project, ids[half:])


def _private_key(path: str | Path) -> Any:
    from ..compliance._signing import _load_private

    return _load_private(path)


def write_bundle(store: Any, path: str | Path, traces: Sequence[tuple[str, str]], *,
                 scores: bool = True, sign_key: str | Path | None = None,
                 selection: dict[str, Any] | None = None) -> BundleInfo:
    """Write the traces ``[(project, trace_id), ...]`` of ``store`` to a bundle at ``path``.

    ``sign_key`` (an Ed25519 private key PEM) signs the manifest digest; ``selection``
    is recorded in the manifest as what was asked for (a filter, a retention policy...).
    The file appears complete or not at all.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    key = _private_key(sign_key) if sign_key is not None else None
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        writers = {name: _MemberWriter(work, name) for name in MEMBERS}
        for rec in iter_traces(store, traces):
            writers[TRACES].write(rec.trace)
            for span, commit in zip(rec.spans, rec.commits, strict=True):
                writers[SPANS].write({**span_to_dict(span), "commit": commit})
            for log in rec.logs:
                writers[LOGS].write(log_to_dict(log))
        if scores and hasattr(store, "scores"):
            for score in _read_scores(store, traces):
                writers[SCORES].write(score)
        members = {name: w.close() for name, w in writers.items()}
        now = time.time_ns()
        manifest = {
            "format": FORMAT, "format_version": FORMAT_VERSION,
            "schema_version": SCHEMA_VERSION, "tracevault_version": __version__,
            "created_ns": now,
            "created": datetime.fromtimestamp(now / 1e9, tz=timezone.utc)
            .isoformat(timespec="seconds"),
            "source": {"store_id": store.store_id(), "ledger_head": store.ledger_head()},
            "selection": selection or {},
            "counts": {"traces": members[TRACES]["records"],
                       "spans": members[SPANS]["records"], "logs": members[LOGS]["records"],
                       "scores": members[SCORES]["records"]},
            "members": members,
        }
        manifest_bytes = orjson.dumps(manifest, option=orjson.OPT_INDENT_2
                                      | orjson.OPT_SORT_KEYS)
        signature = None
        if key is not None:
            digest = hashlib.sha256(manifest_bytes).hexdigest()
            public = key.public_key().public_bytes(serialization.Encoding.Raw,
                                                   serialization.PublicFormat.Raw).hex()
            signature = {"algorithm": "ed25519", "public_key": public,
                         "manifest_sha256": digest,
                         "signature": key.sign(signed_message(digest)).hex()}
        tmp = work / "bundle.zip"
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
            zf.writestr(MANIFEST, manifest_bytes, zipfile.ZIP_DEFLATED)
            for name in MEMBERS:
                zf.write(work / name, name)
            if signature is not None:
                zf.writestr(SIGNATURE, orjson.dumps(signature, option=orjson.OPT_INDENT_2))
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        tmp.replace(target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return BundleInfo(str(target), file_sha256(target), manifest, signature is not None,
                      signature["public_key"] if signature else None)


def export_bundle(vault: Any, path: str | Path, filter: str | None = None,  # noqa: A002
                  trace_ids: Sequence[str] | None = None, start: str | int | None = None,
                  end: str | int | None = None, project: str | None = None,
                  scores: bool = True, sign_key: str | Path | None = None) -> BundleInfo:
    """Write the matching traces (filter language, time bounds, project) with their scores."""
    keys = select_traces(vault, filter=filter, trace_ids=trace_ids, start=start, end=end,
                         project=project)
    selection = {k: v for k, v in (("filter", filter), ("start", start), ("end", end),
                                   ("project", project)) if v not in (None, "")}
    if trace_ids is not None:
        selection["trace_ids"] = len(trace_ids)
    return write_bundle(vault.store, path, keys, scores=scores, sign_key=sign_key,
                        selection=selection)
