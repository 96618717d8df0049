"""Lifting: span drafts -> span rows plus content-addressed blobs, storing history once.

Each message, tool definition, payload and large value becomes a blob addressed by its
hash. An LLM span's input list is stored as a *reference list*: the span whose input
shares the longest prefix with it (``base``), how many items of that prefix to take
(``base_len``) and the hashes of the items after it. Step k of a run therefore stores
only what step k added, so a run's storage grows with its steps, not their square.

Original attributes stay reproducible byte for byte: attributes whose content was
lifted get a *descriptor* in the ``lifted`` column telling the reader how to rebuild
them (from the canonical items with a JSON variant, from raw item blobs, or from a
string delta against the same attribute of an earlier span in the trace).

The caches here only save work and space; correctness never depends on them. They are
owned by the single writer thread and cleared whenever a commit fails.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any

import orjson

from ..ingest._draft import Source, SpanDraft
from ..ingest.conventions._messages import any_message, is_canonical_message
from ._codec import (
    blob_hash,
    common_prefix,
    common_suffix,
    detect_variant,
    dump,
    variant_tail_ok,
)
from ._tables import ROW_TEMPLATES

__all__ = ["LARGE_VALUE", "Lifter", "TraceCache"]

LARGE_VALUE = 1024
"""Attribute values at least this long (in characters of JSON) are stored as blobs."""
_EVENT_VALUE = 128
"""Event attribute and log body values at least this long are stored as blobs."""
_RECENT_LISTS = 4
_DELTA_MIN = 512
_DELTA_CHANNELS = ("input", "tools")


class _TraceState:
    __slots__ = ("jsons", "lists", "size", "span_ids", "strings")

    def __init__(self) -> None:
        self.span_ids: set[str] = set()
        self.lists: dict[str, list[tuple[str, list[bytes]]]] = {}
        self.jsons: dict[str, tuple[str, str, str, list[bytes], list[bytes]]] = {}
        self.strings: dict[str, tuple[str, str]] = {}
        self.size = 0


class TraceCache:
    """Per-trace state (seen span ids, recent reference lists and strings), LRU by bytes."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._states: OrderedDict[tuple[str, str], _TraceState] = OrderedDict()
        self._bytes = 0

    def get(self, key: tuple[str, str]) -> _TraceState | None:
        """The state of a trace, marking it recently used."""
        state = self._states.get(key)
        if state is not None:
            self._states.move_to_end(key)
        return state

    def create(self, key: tuple[str, str], span_ids: set[str] | None = None) -> _TraceState:
        """Start tracking a trace (with the span ids already stored, if known)."""
        state = _TraceState()
        if span_ids:
            state.span_ids = span_ids
            state.size = 48 * len(span_ids)
            self._bytes += state.size
        self._states[key] = state
        return state

    def grow(self, state: _TraceState, nbytes: int) -> None:
        """Account for memory a trace state gained, evicting old traces beyond the budget."""
        state.size += nbytes
        self._bytes += nbytes
        while self._bytes > self.max_bytes and len(self._states) > 1:
            _, old = self._states.popitem(last=False)
            self._bytes -= old.size

    def clear(self) -> None:
        """Forget everything (after a failed commit)."""
        self._states.clear()
        self._bytes = 0

    def __contains__(self, key: tuple[str, str]) -> bool:
        return key in self._states


def _reflist(base: str | None, base_len: int, refs: list[bytes]) -> dict[str, Any]:
    out: dict[str, Any] = {"r": [r.hex() for r in refs]}
    if base is not None:
        out["b"] = base
        out["n"] = base_len
    return out


class Lifter:
    """Turns drafts into rows and new blobs. One instance per writer; not thread-safe."""

    def __init__(self, cache: TraceCache) -> None:
        self.cache = cache
        self.blobs: dict[bytes, bytes] = {}
        """New blobs of the current batch: hash -> UTF-8 JSON text."""
        self._resource_refs: dict[int, tuple[Any, ...]] = {}

    def begin_batch(self) -> None:
        """Start collecting the blobs of a new batch."""
        self.blobs = {}
        self._resource_refs = {}

    def put(self, value: Any) -> bytes:
        """Store a JSON value as a blob (once per batch) and return its hash."""
        text = dump(value)
        return self.put_text(text)

    def put_text(self, text: str) -> bytes:
        """Store already serialised JSON text as a blob and return its hash."""
        data = text.encode()
        h = blob_hash(data)
        if h not in self.blobs:
            self.blobs[h] = data
        return h

    # -- spans ---------------------------------------------------------------------------
    def state(self, project: str, trace_id: str) -> _TraceState:
        """The cache state of a trace, created when missing."""
        key = (project, trace_id)
        return self.cache.get(key) or self.cache.create(key)

    def lift(self, d: SpanDraft, seq: int) -> dict[str, Any]:
        """Lift one span into a row (a dict of column values)."""
        st = self.state(d.project, d.trace_id)
        row = _SPAN_TEMPLATE.copy()
        for column, value in d.fields.items():
            if column in row:
                row[column] = value
        lifted: dict[str, Any] = {}
        grown = 0
        for channel, sources in d.sources.items():
            for src in sources:
                grown += self._source(st, d.span_id, channel, src, row, lifted)
        attrs = d.attributes
        residual: dict[str, Any] = {}
        for key, value in attrs.items():
            if isinstance(value, str):
                if len(value) >= LARGE_VALUE:
                    lifted[key] = self._large_string(st, d.span_id, key, value)
                    grown += len(value)
                    continue
            elif isinstance(value, (list, dict)):
                text = dump(value)
                if len(text) >= LARGE_VALUE:
                    lifted[key] = {"t": self.put_text(text).hex()}
                    continue
            residual[key] = value
        st.span_ids.add(d.span_id)
        self.cache.grow(st, grown + 64)
        res = d.resource
        cached = self._resource_refs.get(id(res))
        if cached is None or cached[0] is not res:
            cached = (res, self.put(res), _str(res.get("service.name")),
                      _str(res.get("service.version")),
                      _str(res.get("tracevault.harness.name")),
                      _str(res.get("tracevault.harness.version")))
            self._resource_refs[id(res)] = cached
        row.update(
            project=d.project, trace_id=d.trace_id, span_id=d.span_id,
            parent_span_id=d.parent_span_id, name=d.name, kind=d.kind,
            otel_kind=d.otel_kind, start_ns=d.start_ns, end_ns=d.end_ns,
            duration_ns=d.end_ns - d.start_ns, status=d.status,
            status_message=d.status_message, convention=d.convention,
            service_name=cached[2], service_version=cached[3],
            harness_name=cached[4] or d.scope_name,
            harness_version=cached[5] or d.scope_version,
            scope_name=d.scope_name, scope_version=d.scope_version,
            resource_ref=cached[1],
            llm_params=dump(d.params) if d.params else None,
            attributes=dump(residual) if residual else None,
            lifted=dump(lifted) if lifted else None,
            links=dump([{"trace_id": ln.trace_id, "span_id": ln.span_id,
                         "attributes": ln.attributes, "trace_state": ln.trace_state or None}
                        for ln in d.links]) if d.links else None,
            event_count=len(d.events), flags=d.flags, trace_state=d.trace_state or None,
            seq=seq,
        )
        return row

    def _source(self, st: _TraceState, span_id: str, channel: str, src: Source,
                row: dict[str, Any], lifted: dict[str, Any]) -> int:
        """Lift one content source into ``row`` and ``lifted``; returns bytes cached."""
        if src.form == "text":
            values = src.raw
            refs = {}
            for key, value in zip(src.keys, values, strict=True):
                if value is not None:
                    h = self.put(value)
                    refs[key] = h
                    lifted[key] = {"t": h.hex()}
            if src.derive is None:
                row[_PAYLOAD_COLUMNS[channel]] = refs[src.key]
                return 0
            try:
                canonical = src.derive(*values)
            except Exception:  # a converter bug must not lose the span: raw is kept
                canonical = []
            self._set_list(st, span_id, channel, [self.put(c) for c in canonical], row)
            return 0
        if src.form == "json":
            return self._json_list(st, span_id, channel, src, row, lifted)
        items = src.raw
        raw_hashes, canon_hashes = self._items(items, src.convert)
        self._set_list(st, span_id, channel, canon_hashes, row)
        desc: dict[str, Any] = {"c": channel}
        if src.form == "flat":
            desc["f"] = 1
            desc["raw"] = self._reflist(st, span_id, "raw:" + src.key, raw_hashes)
            indexes = [int(i) for i in src.keys]
            if indexes != list(range(len(indexes))):
                desc["i"] = indexes  # producers may skip indexes; keep them exact
        elif raw_hashes != canon_hashes:
            desc["raw"] = self._reflist(st, span_id, "raw:" + src.key, raw_hashes)
        lifted[src.key] = desc
        return 16 * len(raw_hashes)

    def _items(self, items: list[Any], convert: Any) -> tuple[list[bytes], list[bytes]]:
        raw_hashes: list[bytes] = []
        canon_hashes: list[bytes] = []
        identity = _IDENTITY.get(convert)
        for item in items:
            text = dump(item)
            rh = self.put_text(text)
            if identity is not None and identity(item):
                raw_hashes.append(rh)
                canon_hashes.append(rh)
                continue
            try:
                canon = convert(item) if convert is not None else item
            except Exception:  # keep the raw item as its own canonical form
                canon = item
            ctext = dump(canon)
            raw_hashes.append(rh)
            canon_hashes.append(rh if ctext == text else self.put_text(ctext))
        return raw_hashes, canon_hashes

    def _json_list(self, st: _TraceState, span_id: str, channel: str, src: Source,
                   row: dict[str, Any], lifted: dict[str, Any]) -> int:
        text: str = src.raw
        prev = st.jsons.get(src.key)
        raw_hashes = canon_hashes = None
        variant = None
        if prev is not None:
            _, ptext, pvariant, praw, pcanon = prev
            if text == ptext:
                raw_hashes, canon_hashes, variant = list(praw), list(pcanon), pvariant
            elif len(ptext) > 2 and len(text) > len(ptext) and text.startswith(ptext[:-1]):
                tail = text[len(ptext) - 1:]
                sep = ", " if pvariant.startswith("py") else ","
                if tail.startswith(sep):
                    try:
                        new_items = orjson.loads("[" + tail[len(sep):])
                    except orjson.JSONDecodeError:
                        new_items = None
                    if isinstance(new_items, list) and variant_tail_ok(tail, new_items,
                                                                      pvariant):
                        nraw, ncanon = self._items(new_items, src.convert)
                        raw_hashes, canon_hashes = praw + nraw, pcanon + ncanon
                        variant = pvariant
        if raw_hashes is None:
            try:
                items = orjson.loads(text)
            except orjson.JSONDecodeError:
                items = None
            if not isinstance(items, list):
                # Not a JSON list: keep it verbatim and derive what we can.
                lifted[src.key] = self._large_string(st, span_id, src.key, text)
                self._set_list(st, span_id, channel, [self.put(src.convert(text))], row)
                return len(text)
            variant = detect_variant(text, items, prev[2] if prev is not None else None)
            raw_hashes, canon_hashes = self._items(items, src.convert)
        self._set_list(st, span_id, channel, canon_hashes, row)
        if variant is None:
            lifted[src.key] = self._large_string(st, span_id, src.key, text)
            return len(text)
        desc: dict[str, Any] = {"c": channel, "v": variant}
        if raw_hashes != canon_hashes:
            desc["raw"] = self._reflist(st, span_id, "raw:" + src.key, raw_hashes)
        lifted[src.key] = desc
        st.jsons[src.key] = (span_id, text, variant, raw_hashes, canon_hashes)
        return len(text) + 32 * len(raw_hashes)

    def _reflist(self, st: _TraceState, span_id: str, channel: str,
                 refs: list[bytes]) -> dict[str, Any]:
        base, base_len, new = self._delta(st, span_id, channel, refs)
        return _reflist(base, base_len, new)

    def _delta(self, st: _TraceState, span_id: str, channel: str,
               refs: list[bytes]) -> tuple[str | None, int, list[bytes]]:
        """Pick the recent list sharing the longest prefix with ``refs``."""
        recent = st.lists.setdefault(channel, [])
        best_span, best_len = None, 0
        for other_span, other in recent:
            n = min(len(other), len(refs))
            if other[:n] == refs[:n]:  # the usual case: history only grew
                k = n
            else:
                k = 0
                while k < n and other[k] == refs[k]:
                    k += 1
            if k > best_len:
                best_span, best_len = other_span, k
        recent.append((span_id, refs))
        if len(recent) > _RECENT_LISTS:
            del recent[0]
        if best_span is None or best_len < 1:
            return None, 0, refs
        return best_span, best_len, refs[best_len:]

    def _set_list(self, st: _TraceState, span_id: str, channel: str, refs: list[bytes],
                  row: dict[str, Any]) -> None:
        if channel in _DELTA_CHANNELS:
            base, base_len, new = self._delta(st, span_id, channel, refs)
            row[channel + "_base"] = base
            row[channel + "_base_len"] = base_len if base is not None else None
            row[channel + "_refs"] = new
            row[channel + "_count"] = len(refs)
        else:
            row[_LIST_COLUMNS[channel]] = refs

    def _large_string(self, st: _TraceState, span_id: str, key: str,
                      value: str) -> dict[str, Any]:
        prev = st.strings.get(key)
        st.strings[key] = (span_id, value)
        if prev is not None and len(value) >= _DELTA_MIN:
            base_span, base = prev
            p = common_prefix(base, value)
            x = common_suffix(base, value, min(len(base), len(value)) - p)
            if p + x >= len(value) // 2:
                middle = value[p:len(value) - x]
                return {"d": self.put(middle).hex(), "b": base_span, "p": p, "x": x}
        return {"t": self.put(value).hex()}

    # -- events and logs -------------------------------------------------------------------
    def event_value(self, value: Any, refs: list[bytes]) -> Any:
        """Replace a large event attribute / log body value by a blob reference."""
        if isinstance(value, str):
            if len(value) < _EVENT_VALUE:
                return value
            h = self.put(value)
        elif isinstance(value, (dict, list)):
            text = dump(value)
            if len(text) < _EVENT_VALUE:
                return value
            h = self.put_text(text)
        else:
            return value
        refs.append(h)
        return {"$ref": h.hex()}


_SPAN_TEMPLATE = ROW_TEMPLATES["spans"]
# Converters with a cheap test for "this item is already canonical".
_IDENTITY = {any_message: is_canonical_message}

_PAYLOAD_COLUMNS = {
    "tool.args": "tool_args_ref", "tool.result": "tool_result_ref",
    "memory.values": "memory_values_ref", "message.content": "msg_content_ref",
    "detail.input": "detail_input_ref", "detail.output": "detail_output_ref",
}
_LIST_COLUMNS = {"output": "output_refs", "system": "system_refs", "documents": "docs_refs"}


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def now_ns() -> int:
    """Wall-clock time in Unix nanoseconds."""
    return time.time_ns()
