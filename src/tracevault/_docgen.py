"""Reference sections of the docs, generated from the code so they never drift.

``python -m tracevault._docgen`` rewrites the generated parts of docs/schema.md,
docs/configuration.md, docs/cli.md and docs/query.md; ``tests/test_docs.py`` fails when
they are out of date.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

from .config import SETTINGS
from .ingest.conventions._namespace import TRACEVAULT_ATTRIBUTES
from .schema import json_schema
from .store._tables import TABLES

__all__ = ["render_configuration", "render_filter_fields", "render_schema", "update_docs"]

_MODELS = (
    "Span", "Status", "Resource", "Scope", "AgentRef", "Link", "Event", "HarnessState",
    "Budget", "LLMDetail", "Usage", "ToolDetail", "MemoryDetail", "MessageDetail",
    "RetrievalDetail", "Document", "AgentDetail", "StepDetail", "GuardrailDetail",
    "OtherDetail", "Message", "TextPart", "ReasoningPart", "ToolCallPart",
    "ToolCallResponsePart", "BlobPart", "UriPart", "FilePart", "OtherPart", "ToolDefinition",
    "TraceSummary", "Score",
)


def _type(prop: dict[str, Any]) -> str:
    if "$ref" in prop:
        return prop["$ref"].rsplit("/", 1)[-1]
    if "anyOf" in prop:
        return " or ".join(_type(p) for p in prop["anyOf"] if p.get("type") != "null") \
            + (" or null" if any(p.get("type") == "null" for p in prop["anyOf"]) else "")
    if "oneOf" in prop:
        return " or ".join(_type(p) for p in prop["oneOf"])
    if prop.get("type") == "array":
        return f"list of {_type(prop.get('items', {}))}" if prop.get("items") else "list"
    if "const" in prop:
        return f'"{prop["const"]}"'
    if "enum" in prop:
        return " | ".join(f'"{v}"' for v in prop["enum"])
    if prop.get("type") == "object":
        return "object"
    return str(prop.get("type", "any"))


def render_schema() -> str:
    """Markdown reference of the canonical models, the store tables and the namespace."""
    defs = json_schema()["$defs"]
    out = ["### Canonical records", ""]
    for name in _MODELS:
        model = defs[name]
        out += [f"#### {name}", "", model.get("description", "").strip(), "",
                "| field | type | description |", "|---|---|---|"]
        for field, prop in model.get("properties", {}).items():
            desc = (prop.get("description") or "").replace("\n", " ").replace("|", "\\|")
            out.append(f"| `{field}` | {_type(prop).replace('|', chr(92) + '|')} | {desc} |")
        out.append("")
    out += ["### Store tables", "",
            "Readable with `tracevault sql` and the Python API; one row per record.", ""]
    for table, columns in TABLES.items():
        out += [f"#### `{table}`", "", "| column | type | description |", "|---|---|---|"]
        out += [f"| `{c}` | {t} | {d} |" for c, t, d in columns]
        out.append("")
    out += ["### The `tracevault.*` attribute namespace", "",
            "| attribute | type | on | meaning |", "|---|---|---|---|"]
    out += [f"| `{a}` | {t} | {w} | {m} |" for a, t, w, m in TRACEVAULT_ATTRIBUTES]
    return "\n".join(out).rstrip() + "\n"


def render_filter_fields() -> str:
    """Markdown table of every filter-language field."""
    from .query._compile import ALIASES, FIELDS

    kinds = {"str": "text", "num": "number", "time": "time", "duration": "duration",
             "bool": "true/false", "list": "list (matches an element)", "agent": "text"}
    aliases: dict[str, list[str]] = {}
    for alias, name in ALIASES.items():
        aliases.setdefault(name, []).append(f"`{alias}`")
    out = ["| field | type | meaning | also |", "|---|---|---|---|"]
    for name, f in FIELDS.items():
        out.append(f"| `{name}` | {kinds[f.kind]} | {f.help} | "
                   f"{', '.join(aliases.get(name, []))} |")
    out.append("| `score.NAME` | number | the trace's latest score NAME: its value, or 1 / 0 "
               "for passed / failed | `score.NAME.value`, `.label`, `.passed` |")
    out.append("| `attr.NAME`, `attr[\"NAME\"]` | text or number | any original attribute "
               "by its name | `attributes.NAME` |")
    out.append("| `text` | text | free-text search in payloads (`text ~ \"...\"`, or a bare "
               "quoted string) | |")
    return "\n".join(out) + "\n"


def render_configuration() -> str:
    """Markdown table of every setting."""
    out = ["| setting | environment variable | default | description |", "|---|---|---|---|"]
    for s in SETTINGS:
        default = "(see description)" if s.default is None else f"`{s.default}`"
        out.append(f"| `{s.name}` | `{s.env}` | {default} | {s.help} |")
    return "\n".join(out) + "\n"


_MARK = re.compile(r"(<!-- generated:start -->\n)(.*?)(<!-- generated:end -->)", re.S)


def update_docs(root: Path) -> list[Path]:
    """Rewrite the generated sections; returns the files that changed."""
    changed = []
    from .cli._docs import render_cli

    for name, render in (("schema.md", render_schema),
                         ("configuration.md", render_configuration),
                         ("cli.md", render_cli),
                         ("query.md", render_filter_fields)):
        path = root / "docs" / name
        text = path.read_text()
        body = render()
        new = _MARK.sub(lambda m, body=body: m.group(1) + body + m.group(3), text)
        if new != text:
            path.write_text(new)
            changed.append(path)
    return changed


if __name__ == "__main__":
    for path in update_docs(Path(sys.argv[1] if len(sys.argv) > 1 else ".")):
        print(f"updated {path}")
