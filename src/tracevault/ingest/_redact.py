"""Redaction at ingest: sensitive values are replaced before anything is stored.

Rules are built-in detectors (``email``, ``phone``, ``card``, ``api_key``, ``iban``),
custom regular expressions, and attribute rules (every value of the attributes whose
key matches a glob). They apply to every string a span carries: attribute values
(including the JSON text of messages, tool arguments and results), event attributes,
log bodies and attributes, and the status message. A replaced value becomes
``[REDACTED:<rule>]``, or with a key ``[REDACTED:<rule>:<12 hex>]`` (HMAC-SHA256 of the
value), so that equal values stay correlatable without being readable. The span records
which rules fired where, never the value: ``tracevault.redactions`` =
``[{"rule": "email", "path": "gen_ai.input.messages", "count": 2}, ...]``.
"""

from __future__ import annotations

import fnmatch
import hashlib
import hmac
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._exceptions import ConfigError
from ._raw import RawLog, RawSpan

__all__ = ["DETECTORS", "Redactor", "Rule", "active_redactor", "set_redactor"]


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _card(match: str) -> bool:
    digits = re.sub(r"[ -]", "", match)
    return 13 <= len(digits) <= 19 and _luhn(digits)


def _iban(match: str) -> bool:
    text = match.replace(" ", "").upper()
    if not 15 <= len(text) <= 34:
        return False
    moved = text[4:] + text[:4]
    number = "".join(str(int(c, 36)) for c in moved)
    return int(number) % 97 == 1


_NOT_PHONE = re.compile(r"\d{4}-\d{2}-\d{2}|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}"
                        r"|\d{1,3}(?:\.\d{1,3}){3}")  # dates and IPv4 addresses


def _phone(match: str) -> bool:
    digits = re.sub(r"\D", "", match)
    return 8 <= len(digits) <= 15 and not _NOT_PHONE.fullmatch(match)


DETECTORS: dict[str, tuple[str, Callable[[str], bool] | None]] = {
    "email": (r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
              r"(?![\w-])", None),
    "phone": (r"(?<![\w+])(?:\+\d{8,15}|(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}"
              r"(?:[ .-]\d{2,4}){1,4})(?![\w])", _phone),
    "card": (r"(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w-])", _card),
    "api_key": (r"(?<![\w-])(?:sk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}|AKIA[0-9A-Z]{16}"
                r"|gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,}"
                r"|xox[abpors]-[A-Za-z0-9-]{10,}|AIza[0-9A-Za-z_-]{35}"
                r"|glpat-[A-Za-z0-9_-]{20,}|sk_live_[A-Za-z0-9]{20,})(?![\w-])", None),
    "iban": (r"(?<![\w])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?(?![\w])", _iban),
}
"""Built-in detectors: a pattern and a check that must hold (Luhn for cards, mod-97 for
IBANs, 8-15 digits for phone numbers)."""

# Detectors run most specific first, so an IBAN is not half-taken for a phone number.
_ORDER = ("api_key", "email", "iban", "card", "phone")


@dataclass
class Rule:
    """One redaction rule: a pattern over text, or whole values of matching attributes."""

    name: str
    pattern: re.Pattern[str] | None = None
    check: Callable[[str], bool] | None = None
    attribute: str | None = None
    """Glob over attribute keys (``user.*``): every value of those attributes is replaced."""


@dataclass
class Redactor:
    """Applies rules to raw spans and logs before they are normalised and stored."""

    rules: list[Rule] = field(default_factory=list)
    key: bytes | None = None

    @classmethod
    def build(cls, detectors: str | list[str] = "", rules: list[dict[str, Any]] | None = None,
              key: str | None = None) -> Redactor:
        """Detectors by name (``all`` for every one), custom rules, keyed hashing."""
        names = [d.strip() for d in detectors.split(",")] if isinstance(detectors, str) \
            else list(detectors)
        names = [n for n in names if n]
        if "all" in names:
            names = list(_ORDER)
        out = cls(key=key.encode() if key else None)
        for name in sorted(names, key=lambda n: _ORDER.index(n) if n in _ORDER else 99):
            if name not in DETECTORS:
                raise ConfigError(f"unknown redaction detector {name!r} "
                                  f"(choose from {', '.join(_ORDER)}, or all)")
            pattern, check = DETECTORS[name]
            out.rules.append(Rule(name, re.compile(pattern), check))
        for i, spec in enumerate(rules or []):
            out.rules.append(_custom_rule(spec, i))
        return out

    @classmethod
    def from_env(cls, env: Any = None) -> Redactor | None:
        """From ``TRACEVAULT_REDACT``, ``TRACEVAULT_REDACT_RULES``, ``TRACEVAULT_REDACT_KEY``."""
        env = os.environ if env is None else env
        detectors = env.get("TRACEVAULT_REDACT", "")
        rules_path = env.get("TRACEVAULT_REDACT_RULES", "")
        if not detectors.strip() and not rules_path.strip():
            return None
        return cls.build(detectors, load_rules(rules_path) if rules_path else None,
                         env.get("TRACEVAULT_REDACT_KEY") or None)

    def __bool__(self) -> bool:
        return bool(self.rules)

    def _replacement(self, rule: str, value: str) -> str:
        if self.key is None:
            return f"[REDACTED:{rule}]"
        digest = hmac.new(self.key, value.encode(), hashlib.sha256).hexdigest()[:12]
        return f"[REDACTED:{rule}:{digest}]"

    def text(self, text: str, path: str, found: dict[tuple[str, str], int]) -> str:
        """Redact patterns in one string; counts go to ``found[(rule, path)]``."""
        for rule in self.rules:
            if rule.pattern is None:
                continue

            def sub(m: re.Match[str], rule: Rule = rule) -> str:
                value = m.group(0)
                if rule.check is not None and not rule.check(value):
                    return value
                found[(rule.name, path)] = found.get((rule.name, path), 0) + 1
                return self._replacement(rule.name, value)

            text = rule.pattern.sub(sub, text)
        return text

    def value(self, value: Any, path: str, found: dict[tuple[str, str], int]) -> Any:
        """Redact every string inside a value (lists and maps included)."""
        if isinstance(value, str):
            return self.text(value, path, found)
        if isinstance(value, list):
            return [self.value(v, path, found) for v in value]
        if isinstance(value, dict):
            return {k: self.value(v, path, found) for k, v in value.items()}
        return value

    def attributes(self, attrs: dict[str, Any], found: dict[tuple[str, str], int],
                   prefix: str = "") -> dict[str, Any]:
        """Redact a flat attribute map (whole values for attribute rules)."""
        out = {}
        for key, value in attrs.items():
            path = prefix + key
            whole = next((r for r in self.rules if r.attribute is not None
                          and fnmatch.fnmatchcase(key, r.attribute)), None)
            if whole is not None and value is not None:
                found[(whole.name, path)] = found.get((whole.name, path), 0) + 1
                out[key] = self._replacement(whole.name, json.dumps(value, default=str)
                                             if not isinstance(value, str) else value)
            else:
                out[key] = self.value(value, path, found)
        return out

    def span(self, raw: RawSpan) -> None:
        """Redact a raw span in place and record what was redacted on it."""
        found: dict[tuple[str, str], int] = {}
        raw.attributes = self.attributes(raw.attributes, found)
        if raw.status_message:
            raw.status_message = self.text(raw.status_message, "status.message", found)
        for i, event in enumerate(raw.events):
            event.attributes = self.attributes(event.attributes, found,
                                               f"events[{i}].{event.name}.")
        raw.resource = self.attributes(raw.resource, found, "resource.")
        if found:
            raw.attributes["tracevault.redactions"] = json.dumps(
                [{"rule": r, "path": p, "count": n} for (r, p), n in found.items()])

    def log(self, record: RawLog) -> None:
        """Redact a raw log record in place."""
        found: dict[tuple[str, str], int] = {}
        record.body = self.value(record.body, "body", found)
        record.attributes = self.attributes(record.attributes, found)
        record.resource = self.attributes(record.resource, found, "resource.")
        if found:
            record.attributes["tracevault.redactions"] = json.dumps(
                [{"rule": r, "path": p, "count": n} for (r, p), n in found.items()])


def _custom_rule(spec: dict[str, Any], i: int) -> Rule:
    if not isinstance(spec, dict):
        raise ConfigError(f"redaction rule {i}: expected an object, got {spec!r}")
    name = str(spec.get("name") or f"rule{i}")
    if "pattern" in spec:
        try:
            return Rule(name, re.compile(str(spec["pattern"])))
        except re.error as exc:
            raise ConfigError(f"redaction rule {name!r}: bad pattern: {exc}") from None
    if "attribute" in spec:
        return Rule(name, attribute=str(spec["attribute"]))
    raise ConfigError(f"redaction rule {name!r}: give a pattern or an attribute")


def load_rules(path: str | Path) -> list[dict[str, Any]]:
    """Custom rules from a JSON file: ``[{"name", "pattern" | "attribute"}, ...]``."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read redaction rules {path}: {exc}") from None
    if not isinstance(data, list):
        raise ConfigError(f"redaction rules {path}: expected a JSON list of rules")
    return data


_UNSET: Any = object()
_active: Any = _UNSET


def set_redactor(redactor: Redactor | None) -> None:
    """Use ``redactor`` for every ingest in this process (None: none)."""
    global _active
    _active = redactor if redactor else None


def active_redactor() -> Redactor | None:
    """The process's redactor: the one set, else the environment's (read once)."""
    global _active
    if _active is _UNSET:
        _active = Redactor.from_env()
    return _active
