"""Ingest: decoding wire formats and files, convention mapping, the group-commit pipeline."""

from ._draft import SpanDraft
from ._pipeline import IngestPipeline
from ._prepare import PROJECT_ATTRIBUTE, prepare_logs, prepare_spans
from ._raw import RawEvent, RawLink, RawLog, RawSpan, Rejection
from .files import FileContents, read_trace_bytes, read_trace_file

__all__ = [
    "FileContents",
    "IngestPipeline",
    "PROJECT_ATTRIBUTE",
    "RawEvent",
    "RawLink",
    "RawLog",
    "RawSpan",
    "Rejection",
    "SpanDraft",
    "prepare_logs",
    "prepare_spans",
    "read_trace_bytes",
    "read_trace_file",
]
