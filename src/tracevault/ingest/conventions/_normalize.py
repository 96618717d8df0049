"""Raw span -> SpanDraft: detect the convention and kind, map scalars, locate content."""

from __future__ import annotations

from typing import Any

import orjson

from .._draft import Source, SpanDraft
from .._raw import RawSpan
from ._content import CONTENT_RULES, FLAT_PREFIXES, KNOWN_KEYS, KNOWN_PREFIXES, PAYLOAD_RULES
from ._tables import (
    DEPRECATED,
    FIELD_TYPES,
    KIND_ATTRIBUTES,
    MAPPED_NAMESPACES,
    MEMORY_OPERATIONS,
    PARAMETERS,
    SCALAR_FIELDS,
)

__all__ = ["detect_convention", "normalize_span"]

_TABLE_KEYS = frozenset(
    [k for keys in SCALAR_FIELDS.values() for k in keys]
    + list(PARAMETERS)
    + [a for a, _ in KIND_ATTRIBUTES]
    + [k for r in CONTENT_RULES if r[1] != "flat" for k in r[2]]
    + [k for _, keys, _ in PAYLOAD_RULES for k in keys]
) | KNOWN_KEYS

# attribute key -> [(column, priority)], so a span costs O(its attributes), not O(tables).
_KEY_FIELDS: dict[str, list[tuple[str, int]]] = {}
for _column, _keys in SCALAR_FIELDS.items():
    for _prio, _key in enumerate(_keys):
        _KEY_FIELDS.setdefault(_key, []).append((_column, _prio))
# attribute key or flat prefix -> indexes of the content rules it can fill
_RULES_BY_KEY: dict[str, list[int]] = {}
for _i, _rule in enumerate(CONTENT_RULES):
    for _key in _rule[2]:
        _RULES_BY_KEY.setdefault(_key, []).append(_i)
_PAYLOADS_BY_KEY: dict[str, list[int]] = {}
for _i, (_, _keys, _) in enumerate(PAYLOAD_RULES):
    for _key in _keys:
        _PAYLOADS_BY_KEY.setdefault(_key, []).append(_i)
_CONTENT_KEYS = frozenset(_RULES_BY_KEY) | frozenset(_PAYLOADS_BY_KEY)

_NAME_PREFIX_KINDS = (
    ("chat ", "llm"), ("text_completion ", "llm"), ("embeddings ", "llm"),
    ("generate_content ", "llm"), ("execute_tool ", "tool"), ("invoke_agent ", "agent"),
    ("create_agent ", "agent"),
)
# Without an explicit kind, the tracevault.* part a span carries names it.
_NAMESPACE_KINDS = (
    ("tracevault.memory.", "memory"), ("tracevault.message.", "message"),
    ("tracevault.retrieval.", "retrieval"), ("tracevault.guardrail.", "guardrail"),
    ("tracevault.tool.", "tool"), ("tracevault.step.", "step"),
)


def detect_convention(attrs: dict[str, Any], has_tracevault: bool | None = None,
                      has_genai: bool | None = None) -> str:
    """Name the convention a span's attributes follow."""
    if has_tracevault is None:
        has_tracevault = any(k.startswith("tracevault.") for k in attrs)
    if has_tracevault:
        return "tracevault"
    if "openinference.span.kind" in attrs or "llm.input_messages.0.message.role" in attrs:
        return "openinference"
    if "traceloop.span.kind" in attrs or "gen_ai.prompt.0.role" in attrs \
            or "llm.request.type" in attrs:
        return "openllmetry"
    if "ai.operationId" in attrs:
        return "vercel"
    if has_genai is None:
        has_genai = any(k.startswith("gen_ai.") for k in attrs)
    return "genai" if has_genai else "otel"


def _kind(attrs: dict[str, Any], name: str) -> str:
    for attr, table in KIND_ATTRIBUTES:
        value = attrs.get(attr)
        if value is not None and value in table:
            return table[value]
    for prefix, kind in _NAME_PREFIX_KINDS:
        if name.startswith(prefix):
            return kind
    for prefix, kind in _NAMESPACE_KINDS:
        if any(k.startswith(prefix) for k in attrs):
            return kind
    return "other"


def _coerce(value: Any, kind: str | None) -> tuple[bool, Any]:
    """Coerce a mapped attribute to its column type; (False, None) when it cannot be."""
    if kind is None:
        if isinstance(value, (str, int, float, bool)):
            return True, str(value) if not isinstance(value, str) else value
        return False, None
    if kind == "int":
        if isinstance(value, bool):
            return False, None
        if isinstance(value, int):
            return True, value
        if isinstance(value, float) and value.is_integer():
            return True, int(value)
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return True, int(value)
        return False, None
    if kind == "float":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return True, float(value)
        try:
            return True, float(value)
        except (TypeError, ValueError):
            return False, None
    if kind == "bool":
        if isinstance(value, bool):
            return True, value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return True, value.lower() == "true"
        return False, None
    if kind == "list":
        if isinstance(value, list):
            return True, [v if isinstance(v, str) else orjson.dumps(v).decode() for v in value]
        if isinstance(value, str):
            parsed = value
            if value.startswith("["):
                try:
                    parsed = orjson.loads(value)
                except orjson.JSONDecodeError:
                    parsed = value
            if isinstance(parsed, list):
                return True, [str(v) for v in parsed]
            return True, [value]
        return False, None
    return False, None


def _flat_families(attrs: dict[str, Any]) -> dict[str, dict[int, dict[str, Any]]]:
    families: dict[str, dict[int, dict[str, Any]]] = {}
    for key, value in attrs.items():
        if not key.startswith(FLAT_PREFIXES):
            continue
        for prefix in FLAT_PREFIXES:
            if key.startswith(prefix):
                index, _, rest = key[len(prefix):].partition(".")
                if index.isdigit() and rest:
                    families.setdefault(prefix, {}).setdefault(int(index), {})[rest] = value
                break
    return families


def normalize_span(raw: RawSpan, project: str) -> SpanDraft:
    """Map a raw span's attributes onto schema v1 fields and content sources."""
    attrs = raw.attributes
    kind = _kind(attrs, raw.name)
    draft = SpanDraft(
        project=project, trace_id=raw.trace_id, span_id=raw.span_id,
        parent_span_id=raw.parent_span_id, name=raw.name, kind=kind,
        otel_kind=raw.otel_kind, start_ns=raw.start_ns,
        end_ns=max(raw.end_ns, raw.start_ns), status=raw.status_code,
        status_message=raw.status_message, convention="otel",
        resource=raw.resource, scope_name=raw.scope_name, scope_version=raw.scope_version,
        attributes=attrs, events=raw.events, links=raw.links, flags=raw.flags,
        trace_state=raw.trace_state,
    )
    fields = draft.fields
    chosen: dict[str, int] = {}
    present: list[str] = []
    has_genai = has_tracevault = False
    for key, value in attrs.items():
        targets = _KEY_FIELDS.get(key)
        if targets is not None and value is not None:
            for column, prio in targets:
                if chosen.get(column, 99) <= prio:
                    continue
                ok, coerced = _coerce(value, FIELD_TYPES.get(column))
                if ok:
                    fields[column] = coerced
                    chosen[column] = prio
                else:
                    draft.drift.append((key, "type"))
        if key in _CONTENT_KEYS:
            present.append(key)
        elif key.startswith(FLAT_PREFIXES):
            for prefix in FLAT_PREFIXES:
                if key.startswith(prefix):
                    present.append(prefix)
                    break
        if key.startswith(MAPPED_NAMESPACES):
            if key.startswith("gen_ai."):
                has_genai = True
            elif key.startswith("tracevault."):
                has_tracevault = True
            if key in DEPRECATED:
                draft.drift.append((key, "deprecated"))
            elif key not in _TABLE_KEYS and not key.startswith(FLAT_PREFIXES) \
                    and not key.startswith(KNOWN_PREFIXES):
                draft.drift.append((key, "unknown"))
    draft.convention = detect_convention(attrs, has_tracevault, has_genai)
    _derived_fields(draft, kind)
    _params(draft)
    if present:
        consumed = _content(draft, kind, present)
        if consumed:
            draft.attributes = {k: v for k, v in attrs.items() if k not in consumed}
    return draft


def _derived_fields(draft: SpanDraft, kind: str) -> None:
    fields = draft.fields
    op = fields.get("operation")
    if kind == "memory" and "memory_operation" not in fields and op in MEMORY_OPERATIONS:
        fields["memory_operation"] = MEMORY_OPERATIONS[op]
    if "cost_usd" not in fields and ("cost_input_usd" in fields or "cost_output_usd" in fields):
        fields["cost_usd"] = fields.get("cost_input_usd", 0.0) + fields.get("cost_output_usd", 0.0)
    if "tokens_total" not in fields and ("tokens_input" in fields or "tokens_output" in fields):
        fields["tokens_total"] = fields.get("tokens_input", 0) + fields.get("tokens_output", 0)
    if "error_type" not in fields:
        for event in draft.events:
            if event.name == "exception" and event.attributes.get("exception.type"):
                fields["error_type"] = str(event.attributes["exception.type"])
                break
    if kind == "tool" and draft.status == "error":
        message = draft.status_message
        if not message:
            for event in draft.events:
                if event.name == "exception":
                    message = str(event.attributes.get("exception.message") or "") or None
                    break
        fields["tool_error"] = message or fields.get("error_type") or "error"
    if kind == "tool" and "tool_name" not in fields and draft.name.startswith("execute_tool "):
        fields["tool_name"] = draft.name[len("execute_tool "):]


def _params(draft: SpanDraft) -> None:
    attrs = draft.attributes
    invocation = attrs.get("llm.invocation_parameters")
    if isinstance(invocation, str) and invocation.startswith("{"):
        try:
            parsed = orjson.loads(invocation)
        except orjson.JSONDecodeError:
            draft.drift.append(("llm.invocation_parameters", "type"))
        else:
            if isinstance(parsed, dict):
                draft.params.update(parsed)
                if "llm_request_model" not in draft.fields and isinstance(parsed.get("model"), str):
                    draft.fields["llm_request_model"] = parsed["model"]
    for key in attrs:
        name = PARAMETERS.get(key)
        if name is not None:
            draft.params[name] = attrs[key]
    if "llm_request_model" not in draft.fields and isinstance(attrs.get("llm.model_name"), str):
        draft.fields["llm_request_model"] = attrs["llm.model_name"]


def _content(draft: SpanDraft, kind: str, present: list[str]) -> set[str]:
    attrs = draft.attributes
    families = _flat_families(attrs) if any(p in FLAT_PREFIXES for p in present) else {}
    consumed: set[str] = set()
    sources = draft.sources
    rules = sorted({i for key in present for i in _RULES_BY_KEY.get(key, ())})
    for index in rules:
        channel, form, keys, convert, kinds = CONTENT_RULES[index]
        if channel in sources or (kinds is not None and kind not in kinds):
            continue
        if form == "flat":
            family = families.get(keys[0])
            if not family:
                continue
            indexes = sorted(family)
            groups = [family[i] for i in indexes]
            sources[channel] = [Source("flat", keys[0], groups, convert=convert,
                                       keys=tuple(str(i) for i in indexes))]
            consumed.update(k for k in attrs if k.startswith(keys[0]))
        elif form == "list":
            value = attrs.get(keys[0])
            if value is None:
                continue
            if isinstance(value, str):
                sources[channel] = [Source("json", keys[0], value, convert=convert)]
            elif isinstance(value, list):
                sources[channel] = [Source("items", keys[0], value, convert=convert)]
            else:
                draft.drift.append((keys[0], "type"))
                continue
            consumed.add(keys[0])
        else:  # text
            present_keys = tuple(k for k in keys if attrs.get(k) is not None)
            if not present_keys:
                continue
            values = tuple(attrs.get(k) for k in keys)
            sources[channel] = [Source("text", keys[0], values, derive=convert, keys=keys)]
            consumed.update(present_keys)
    payloads = sorted({i for key in present for i in _PAYLOADS_BY_KEY.get(key, ())})
    for index in payloads:
        channel, keys, kinds = PAYLOAD_RULES[index]
        if kinds is not None and kind not in kinds:
            continue
        for key in keys:
            if key in consumed:
                continue
            value = attrs.get(key)
            if value is not None:
                sources[channel] = [Source("text", key, (value,), keys=(key,))]
                consumed.add(key)
                break
    return consumed
