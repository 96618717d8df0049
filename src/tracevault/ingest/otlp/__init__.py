"""OTLP decoding (protobuf and JSON, traces and logs)."""

from ._json import decode_logs_json, decode_traces_json
from ._protobuf import (
    decode_logs_protobuf,
    decode_logs_request,
    decode_traces_protobuf,
    decode_traces_request,
)

__all__ = ["decode_logs_json", "decode_logs_protobuf", "decode_logs_request",
           "decode_traces_json", "decode_traces_protobuf", "decode_traces_request"]
