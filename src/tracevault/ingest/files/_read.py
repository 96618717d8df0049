"""Format detection and reading of trace files."""

from __future__ import annotations

import gzip
import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from ..._exceptions import DecodeError
from .._raw import RawLog, RawSpan, Rejection
from ..otlp import decode_logs_json, decode_traces_json, decode_traces_protobuf
from ._inspect import inspect_spans, is_inspect_log
from ._langfuse import is_langfuse_export, langfuse_spans
from ._sdk import is_js_span, is_sdk_span, js_span, sdk_span
from ._sweagent import is_sweagent, sweagent_spans
from ._taubench import is_taubench, taubench_spans
from ._whowhen import is_whowhen, whowhen_spans

__all__ = ["FileContents", "parse_trace_document", "read_trace_bytes", "read_trace_file"]


@dataclass
class FileContents:
    """What a trace file held."""

    format: str
    spans: list[RawSpan] = field(default_factory=list)
    logs: list[RawLog] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)


def _add_otlp(out: FileContents, doc: dict[str, Any]) -> None:
    if "resourceSpans" in doc or "resource_spans" in doc:
        spans, rejected = decode_traces_json(doc)
        out.spans += spans
        out.rejected += rejected
    if "resourceLogs" in doc or "resource_logs" in doc:
        logs, _ = decode_logs_json(doc)
        out.logs += logs


def _is_otlp(doc: Any) -> bool:
    return isinstance(doc, dict) and any(
        k in doc for k in ("resourceSpans", "resource_spans", "resourceLogs", "resource_logs"))


SUPPORTED_FORMATS = (
    "OTLP JSON (resourceSpans), OTLP protobuf, OpenTelemetry SDK span JSON, a Langfuse trace "
    "export, tau-bench trajectories, a Who&When record, an Inspect AI eval log (.json or "
    ".eval) or a SWE-agent trajectory (.traj)"
)


def parse_trace_document(doc: Any, name: str | None = None) -> FileContents:
    """Convert an already parsed JSON document of any supported format.

    ``name`` is the file it came from, when known: some formats take details from it.
    """
    items = doc if isinstance(doc, list) else [doc]
    if items and all(_is_otlp(d) for d in items):
        out = FileContents("otlp-json")
        for d in items:
            _add_otlp(out, d)
        return out
    if is_langfuse_export(doc):
        return FileContents("langfuse", spans=langfuse_spans(doc))
    if is_taubench(doc):
        return FileContents("taubench", spans=taubench_spans(doc, name))
    if is_whowhen(doc):
        return FileContents("who-and-when", spans=whowhen_spans(doc, name))
    if is_inspect_log(doc):
        return FileContents("inspect-ai", spans=inspect_spans(doc, name))
    if is_sweagent(doc):
        return FileContents("swe-agent", spans=sweagent_spans(doc, name))
    if isinstance(doc, dict) and isinstance(doc.get("spans"), list):
        items = doc["spans"]
    if items and all(is_sdk_span(d) for d in items):
        return FileContents("otel-sdk-json", spans=[sdk_span(d) for d in items])
    if items and all(is_js_span(d) for d in items):
        return FileContents("otel-js-json", spans=[js_span(d) for d in items])
    raise DecodeError(f"unrecognised trace file: expected {SUPPORTED_FORMATS}")


def read_trace_file(path: str | Path) -> FileContents:
    """Read and decode a trace file of any supported format."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise DecodeError(f"cannot read {p}: {exc.strerror or exc}") from None
    return read_trace_bytes(data, str(p))


def _eval_log(data: bytes, name: str) -> dict[str, Any]:
    """The JSON log held by an Inspect AI ``.eval`` zip archive."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            header = next((n for n in ("header.json", "_journal/start.json") if n in names),
                          None)
            if header is None:
                raise DecodeError(f"{name}: a zip archive but not an Inspect AI .eval log "
                                  f"(no header.json); expected {SUPPORTED_FORMATS}")
            doc = orjson.loads(archive.read(header))
            if not isinstance(doc, dict):
                raise DecodeError(f"{name}: broken .eval archive: {header} is not an object")
            doc["samples"] = [orjson.loads(archive.read(n)) for n in names
                              if n.startswith("samples/") and n.endswith(".json")]
            if "reductions.json" in names:
                doc["reductions"] = orjson.loads(archive.read("reductions.json"))
    except (zipfile.BadZipFile, orjson.JSONDecodeError, OSError, EOFError) as exc:
        raise DecodeError(f"{name}: broken .eval archive: {exc}") from None
    return doc


def read_trace_bytes(data: bytes, name: str = "input") -> FileContents:
    """Decode the bytes of a trace file (gzip and Inspect's zip allowed) of any format."""
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise DecodeError(f"{name}: broken gzip data: {exc}") from None
    if data[:4] == b"PK\x03\x04":
        doc = _eval_log(data, name)
        if not is_inspect_log(doc):
            raise DecodeError(f"{name}: a zip archive but not an Inspect AI .eval log")
        return _convert(doc, name)
    try:
        doc = orjson.loads(data)
        if b'"trace_id"' in data[:65536] and b'"context"' in data[:65536]:
            # SDK span JSON may hold 128-bit integer ids, which orjson reads as floats.
            doc = json.loads(data)
    except orjson.JSONDecodeError:
        doc = None
        lines = [ln for ln in data.splitlines() if ln.strip()]
        if lines and lines[0].lstrip().startswith(b"{"):
            try:
                doc = [orjson.loads(ln) for ln in lines]
            except orjson.JSONDecodeError:
                doc = None
        if doc is None:
            try:
                spans, rejected = decode_traces_protobuf(data)
            except DecodeError:
                raise DecodeError(f"{name}: neither JSON, JSON lines nor OTLP protobuf; "
                                  f"expected {SUPPORTED_FORMATS}") from None
            return FileContents("otlp-protobuf", spans=spans, rejected=rejected)
    return _convert(doc, name)


def _convert(doc: Any, name: str) -> FileContents:
    try:
        return parse_trace_document(doc, name)
    except DecodeError as exc:
        raise DecodeError(f"{name}: {exc}") from None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise DecodeError(f"{name}: malformed {type(exc).__name__}: {exc}") from None
