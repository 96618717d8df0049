"""Policy rules: a small YAML language, the same rules as Python objects, and validation.

A rule file holds ``rules`` (and optionally ``humans``); each rule has a ``name``, a
``kind`` (``sequence``, ``flow``, ``budget`` or ``permission``) and the fields of its
kind. Every mistake is reported as one line naming the rule and the field
(``PolicyError``). docs/policies.md describes the language.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar

from .._exceptions import ConfigError

__all__ = ["DEFAULT_HUMANS", "BudgetRule", "FlowRule", "Match", "PermissionRule", "Policy",
           "PolicyError", "Rule", "SequenceRule", "load_policy", "parse_policy"]

DEFAULT_HUMANS = ("human", "human:*", "human-*", "user", "user:*", "operator", "operator:*")
"""Agent names (globs) that stand for people, for ``human: true`` matchers."""

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_LIMITS = ("tokens", "cost_usd", "steps", "tool_calls", "model_calls", "duration_s")
_TARGETS = ("tool", "guardrail", "message", "span")


Globs = str | Sequence[str]
"""One glob or several."""
Matchers = Sequence["Match | str | Mapping[str, Any]"]
"""Matchers as ``Match`` objects, tool globs or their YAML mappings."""


class PolicyError(ConfigError):
    """A rule (or rule file) that cannot be used; the message names the rule and field."""

    def __init__(self, problem: str, rule: str | None = None, field_name: str | None = None,
                 source: str | None = None) -> None:
        self.problem, self.rule, self.field, self.source = problem, rule, field_name, source
        parts = [f"{source}:" if source else "", f"rule {rule!r}:" if rule else "",
                 f"field {field_name!r}:" if field_name else "", problem]
        super().__init__(" ".join(p for p in parts if p))

    def within(self, *, rule: str | None = None, prefix: str | None = None,
               source: str | None = None) -> PolicyError:
        """The same error placed in a rule, under a parent field, or in a file."""
        name = self.field if not prefix else f"{prefix}.{self.field}" if self.field else prefix
        return PolicyError(self.problem, self.rule or rule, name, self.source or source)


def check_glob(pattern: Any, where: str) -> str:
    """``pattern`` if it is a usable glob, else a ``PolicyError`` for field ``where``."""
    if not isinstance(pattern, str) or not pattern.strip():
        raise PolicyError(f"expected a non-empty glob string, got {pattern!r}", None, where)
    i, n = 0, len(pattern)
    while i < n:
        if pattern[i] == "[":
            j = i + 1
            if j < n and pattern[j] == "!":
                j += 1
            if j < n and pattern[j] == "]":
                j += 1
            while j < n and pattern[j] != "]":
                j += 1
            if j >= n:
                raise PolicyError(f"bad glob {pattern!r}: '[' at {i + 1} is never closed",
                                  None, where)
            i = j
        i += 1
    return pattern


def _globs(value: Any, where: str, empty: bool = False) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)):
        raise PolicyError(f"expected a glob or a list of globs, got {value!r}", None, where)
    if not items and not empty:
        raise PolicyError("must name at least one glob", None, where)
    return tuple(check_glob(p, f"{where}[{i}]" if len(items) > 1 else where)
                 for i, p in enumerate(items))


def _number(value: Any, where: str, integer: bool = False, minimum: float = 0) -> Any:
    ok = isinstance(value, int) if integer else isinstance(value, (int, float))
    if not ok or isinstance(value, bool) or value < minimum:
        kind = "an integer" if integer else "a number"
        raise PolicyError(f"expected {kind} >= {minimum:g}, got {value!r}", None, where)
    return value


def _rule_name(name: Any) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise PolicyError(f"expected a name of letters, digits, '_', '.', '-', got {name!r}",
                          None, "name")
    return name


@dataclass
class Match:
    """What an approval (or a forbidden earlier event) looks like: exactly one target.

    ``tool`` (a tool call's name), ``guardrail`` (a guardrail's name), ``message`` (a
    message's content) or ``span`` (any span's name), each a glob; optionally by
    ``agent`` (the actor, or a message's sender), to ``to`` (a message's receiver), with
    ``decision`` (a guardrail's decision), or by a person (``human``).
    """

    tool: str | None = None
    guardrail: str | None = None
    message: str | None = None
    span: str | None = None
    agent: str | None = None
    to: str | None = None
    decision: str | None = None
    human: bool = False

    def __post_init__(self) -> None:
        given = [t for t in _TARGETS if getattr(self, t) is not None]
        if len(given) != 1:
            raise PolicyError(f"give exactly one of {', '.join(_TARGETS)} "
                              f"(got {', '.join(given) or 'none'})")
        for name in (*_TARGETS, "agent", "to", "decision"):
            if getattr(self, name) is not None:
                check_glob(getattr(self, name), name)
        if self.to is not None and self.message is None:
            raise PolicyError("only a message matcher has a receiver", None, "to")
        if self.decision is not None and self.guardrail is None:
            raise PolicyError("only a guardrail matcher has a decision", None, "decision")
        if not isinstance(self.human, bool):
            raise PolicyError(f"expected true or false, got {self.human!r}", None, "human")

    @property
    def target(self) -> tuple[str, str]:
        """``(kind, pattern)``: what this matcher looks for."""
        kind = next(t for t in _TARGETS if getattr(self, t) is not None)
        return kind, getattr(self, kind)

    @classmethod
    def from_value(cls, value: Any) -> Match:
        """A matcher from YAML: a glob string (a tool) or a mapping."""
        if isinstance(value, Match):
            return value
        if isinstance(value, str):
            return cls(tool=value)
        if not isinstance(value, Mapping):
            raise PolicyError(f"expected a tool glob or a mapping, got {value!r}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(value) - known)
        if unknown:
            raise PolicyError(f"unknown field(s) {', '.join(map(str, unknown))} "
                              f"(known: {', '.join(sorted(known))})")
        return cls(**value)

    def to_dict(self) -> dict[str, Any]:
        """The YAML form."""
        out = {f.name: getattr(self, f.name) for f in fields(self)
               if getattr(self, f.name) not in (None, False)}
        return out


def _matches(value: Any, where: str) -> tuple[Match, ...]:
    items = value if isinstance(value, (list, tuple)) else [value]
    out = []
    for i, item in enumerate(items):
        try:
            out.append(Match.from_value(item))
        except PolicyError as exc:
            raise exc.within(prefix=f"{where}[{i}]") from None
    return tuple(out)


class _Rule(ABC):
    """Shared behaviour of the four rule kinds."""

    kind: ClassVar[str]
    name: str
    description: str

    @abstractmethod
    def _check(self) -> None:
        """Raise ``PolicyError`` naming the field that is wrong."""

    def __post_init__(self) -> None:
        try:
            _rule_name(self.name)
            if not isinstance(self.description, str):
                raise PolicyError(f"expected text, got {self.description!r}", None,
                                  "description")
            self._check()
        except PolicyError as exc:
            raise exc.within(rule=f"{self.name}" if isinstance(self.name, str)
                             else repr(self.name)) from None

    def to_dict(self) -> dict[str, Any]:
        """The YAML form of the rule."""
        out: dict[str, Any] = {"name": self.name, "kind": self.kind}
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if f.name == "name" or value is None or value is False or value == "" \
                    or (value == () and f.name != "allow"):
                continue
            if isinstance(value, tuple):
                value = [v.to_dict() if isinstance(v, Match) else v for v in value]
            out[f.name] = value
        return out


@dataclass
class SequenceRule(_Rule):
    """A tool call must be preceded by an approval, and/or must never follow something."""

    kind: ClassVar[str] = "sequence"
    name: str
    tool: Globs
    """Globs of the guarded tool names."""
    preceded_by: Matchers = ()
    """Matchers; one of them must have happened earlier in the group."""
    not_preceded_by: Matchers = ()
    """Matchers; none of them may have happened earlier in the group."""
    agents: Globs = ("*",)
    """Globs of the agents whose calls are guarded."""
    fresh: bool = False
    """Each guarded call needs its own approval, given after the previous guarded call."""
    description: str = ""

    def _check(self) -> None:
        self.tool = _globs(self.tool, "tool")
        self.agents = _globs(self.agents, "agents")
        self.preceded_by = _matches(self.preceded_by, "preceded_by") \
            if self.preceded_by else ()
        self.not_preceded_by = _matches(self.not_preceded_by, "not_preceded_by") \
            if self.not_preceded_by else ()
        if not self.preceded_by and not self.not_preceded_by:
            raise PolicyError("give preceded_by and/or not_preceded_by", None, "preceded_by")
        if not isinstance(self.fresh, bool):
            raise PolicyError(f"expected true or false, got {self.fresh!r}", None, "fresh")


@dataclass
class FlowRule(_Rule):
    """Sensitive content (memory keys, tool results) must not reach external tools."""

    kind: ClassVar[str] = "flow"
    name: str
    sources: Mapping[str, Globs]
    """``{"memory": [key globs], "tools": [tool globs]}``: where sensitive content comes from."""
    sinks: Globs
    """Globs of the external tools it must not reach."""
    min_match: int = 16
    """Shortest run of characters (letters and digits) shared with a value that counts."""
    min_value: int = 6
    """Values shorter than this (letters and digits) are not tracked."""
    description: str = ""

    def _check(self) -> None:
        if not isinstance(self.sources, Mapping):
            raise PolicyError("expected a mapping with memory and/or tools", None, "sources")
        unknown = sorted(set(self.sources) - {"memory", "tools"})
        if unknown:
            raise PolicyError(f"unknown field(s) {', '.join(map(str, unknown))} "
                              "(known: memory, tools)", None, "sources")
        self.sources = {k: _globs(self.sources[k], f"sources.{k}", empty=True)
                        for k in ("memory", "tools") if self.sources.get(k) is not None}
        if not any(self.sources.values()):
            raise PolicyError("name memory keys and/or tools", None, "sources")
        self.sinks = _globs(self.sinks, "sinks")
        _number(self.min_match, "min_match", integer=True, minimum=4)
        _number(self.min_value, "min_value", integer=True, minimum=1)

    @property
    def memory(self) -> tuple[str, ...]:
        """Globs of the sensitive memory keys."""
        return tuple(self.sources.get("memory", ()))

    @property
    def tools(self) -> tuple[str, ...]:
        """Globs of the tools whose results are sensitive."""
        return tuple(self.sources.get("tools", ()))

    def to_dict(self) -> dict[str, Any]:
        """The YAML form of the rule."""
        out = super().to_dict()
        out["sources"] = {k: list(v) for k, v in self.sources.items()}
        return out


@dataclass
class BudgetRule(_Rule):
    """Limits on tokens, cost, steps, tool calls, model calls and duration."""

    kind: ClassVar[str] = "budget"
    name: str
    limits: Mapping[str, float]
    """Any of ``tokens``, ``cost_usd``, ``steps``, ``tool_calls``, ``model_calls``,
    ``duration_s``: the most allowed (inclusive)."""
    per: str = "agent"
    """``agent`` (each agent on its own) or ``group`` (all of them together)."""
    agents: Globs = ("*",)
    """Globs of the agents counted."""
    description: str = ""

    def _check(self) -> None:
        if not isinstance(self.limits, Mapping) or not self.limits:
            raise PolicyError(f"expected a mapping of {', '.join(_LIMITS)}", None, "limits")
        unknown = sorted(set(self.limits) - set(_LIMITS))
        if unknown:
            raise PolicyError(f"unknown limit(s) {', '.join(map(str, unknown))} "
                              f"(known: {', '.join(_LIMITS)})", None, "limits")
        self.limits = {k: _number(v, f"limits.{k}",
                                  integer=k in ("tokens", "steps", "tool_calls", "model_calls"))
                       for k, v in self.limits.items()}
        if self.per not in ("agent", "group"):
            raise PolicyError(f"expected agent or group, got {self.per!r}", None, "per")
        self.agents = _globs(self.agents, "agents")


@dataclass
class PermissionRule(_Rule):
    """Which agents may call which tools: allow and deny lists (deny wins)."""

    kind: ClassVar[str] = "permission"
    name: str
    agents: Globs = ("*",)
    """Globs of the agents the rule covers."""
    allow: Globs | None = None
    """Globs of the only tools they may call (absent: every tool not denied)."""
    deny: Globs = ()
    """Globs of tools they may never call."""
    description: str = ""

    def _check(self) -> None:
        self.agents = _globs(self.agents, "agents")
        self.allow = None if self.allow is None else _globs(self.allow, "allow", empty=True)
        self.deny = _globs(self.deny, "deny", empty=True) if self.deny else ()
        if self.allow is None and not self.deny:
            raise PolicyError("give allow and/or deny", None, "allow")


Rule = SequenceRule | FlowRule | BudgetRule | PermissionRule
"""Any rule."""

KINDS: dict[str, type[Any]] = {c.kind: c for c in (SequenceRule, FlowRule, BudgetRule,
                                                   PermissionRule)}


def rule_from_dict(data: Any, index: int = 0) -> Rule:
    """One rule from its YAML mapping."""
    if not isinstance(data, Mapping):
        raise PolicyError(f"expected a mapping, got {data!r}", f"#{index + 1}")
    name = data.get("name")
    label = name if isinstance(name, str) and name else f"#{index + 1}"
    if "name" not in data:
        raise PolicyError("required", label, "name")
    kind = data.get("kind")
    if kind not in KINDS:
        problem = "required" if kind is None else f"unknown kind {kind!r}"
        raise PolicyError(f"{problem} (one of {', '.join(KINDS)})", label, "kind")
    cls = KINDS[kind]
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known - {"kind"})
    if unknown:
        raise PolicyError(f"unknown field (known for {kind}: {', '.join(sorted(known))})",
                          label, str(unknown[0]))
    for f in fields(cls):
        if f.default is MISSING and f.default_factory is MISSING and f.name not in data:
            raise PolicyError("required", label, f.name)
    return cls(**{k: v for k, v in data.items() if k != "kind"})  # type: ignore[no-any-return]


@dataclass
class Policy:
    """A set of rules, with the agent names that stand for people."""

    rules: list[Rule] = field(default_factory=list)
    humans: tuple[str, ...] = DEFAULT_HUMANS

    def __post_init__(self) -> None:
        self.rules = list(self.rules)
        self.humans = _globs(self.humans, "humans", empty=True)
        seen: set[str] = set()
        for rule in self.rules:
            if not isinstance(rule, (SequenceRule, FlowRule, BudgetRule, PermissionRule)):
                raise PolicyError(f"not a rule: {rule!r}")
            if rule.name in seen:
                raise PolicyError("a second rule has this name", rule.name, "name")
            seen.add(rule.name)

    def rule(self, name: str) -> Rule:
        """A rule by name."""
        for r in self.rules:
            if r.name == name:
                return r
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """The YAML form of the rule file."""
        out: dict[str, Any] = {"rules": [r.to_dict() for r in self.rules]}
        if self.humans != DEFAULT_HUMANS:
            out["humans"] = list(self.humans)
        return out

    @classmethod
    def from_dict(cls, data: Any) -> Policy:
        """A policy from a parsed rule file: ``{"rules": [...], "humans": [...]}`` or a list."""
        if isinstance(data, list):
            data = {"rules": data}
        if not isinstance(data, Mapping):
            raise PolicyError("expected a mapping with 'rules' (or a list of rules)")
        unknown = sorted(set(data) - {"rules", "humans", "version"})
        if unknown:
            raise PolicyError(f"unknown top-level field {unknown[0]!r} "
                              "(known: rules, humans, version)")
        if data.get("version", 1) != 1:
            raise PolicyError(f"unsupported version {data.get('version')!r} (only 1)",
                              None, "version")
        rules = data.get("rules")
        if not isinstance(rules, list):
            raise PolicyError("expected a list of rules", None, "rules")
        return cls([rule_from_dict(r, i) for i, r in enumerate(rules)],
                   humans=data.get("humans", DEFAULT_HUMANS))


def parse_policy(text: str, source: str = "<rules>") -> Policy:
    """A policy from YAML text; errors name ``source``, the rule and the field."""
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise PolicyError(f"not valid YAML: {where}{problem}", source=source) from None
    try:
        return Policy.from_dict(data)
    except PolicyError as exc:
        raise exc.within(source=source) from None


def load_policy(path: str | Path) -> Policy:
    """A policy from a YAML rule file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"cannot read the rule file: {exc.strerror or exc}",
                          source=str(p)) from None
    return parse_policy(text, str(p))


def as_policy(rules: Policy | Iterable[Rule] | str | Path) -> Policy:
    """A ``Policy`` from a policy, rules, or the path of a rule file."""
    if isinstance(rules, Policy):
        return rules
    if isinstance(rules, (str, Path)):
        return load_policy(rules)
    return Policy(list(rules))

