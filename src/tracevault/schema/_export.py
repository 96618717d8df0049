"""JSON Schema export of the canonical model."""

from __future__ import annotations

from typing import Any

from ._span import SCHEMA_VERSION, Score, Span, TraceSummary

__all__ = ["json_schema"]


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of schema v1: spans, trace summaries and scores."""
    defs: dict[str, Any] = {}
    roots = {}
    for model in (Span, TraceSummary, Score):
        schema = model.model_json_schema(ref_template="#/$defs/{model}")
        defs.update(schema.pop("$defs", {}))
        defs[model.__name__] = schema
        roots[model.__name__] = {"$ref": f"#/$defs/{model.__name__}"}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://tracevault.dev/schema/v{SCHEMA_VERSION}.json",
        "title": f"tracevault schema v{SCHEMA_VERSION}",
        "description": "Canonical records stored by tracevault: Span, TraceSummary, Score.",
        "oneOf": list(roots.values()),
        "$defs": defs,
    }
