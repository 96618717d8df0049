"""Importers for trace files written by other tools.

``read_trace_file(path)`` detects the format: OTLP JSON (one request, an array of
requests, or JSON lines; ids hex or base64), OTLP protobuf, OpenTelemetry SDK span JSON
(Python and JavaScript) and Langfuse trace exports. Files may be gzip-compressed.

Run records of other tools become traces too: tau-bench trajectories, Who&When
failure-attribution records, Inspect AI eval logs (``.json`` and ``.eval`` zip) and
SWE-agent trajectories (``.traj``); see docs/conventions.md for their mapping.
"""

from ._read import FileContents, parse_trace_document, read_trace_bytes, read_trace_file

__all__ = ["FileContents", "parse_trace_document", "read_trace_bytes", "read_trace_file"]
