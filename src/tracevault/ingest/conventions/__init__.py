"""Convention mapping: OpenTelemetry GenAI, OpenInference, OpenLLMetry, Vercel AI SDK."""

from ._normalize import detect_convention, normalize_span

__all__ = ["detect_convention", "normalize_span"]
